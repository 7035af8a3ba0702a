"""Several engines without an engine: which engine a name means, where its
state lives, the command lines, adopting the state from before, and how the
answers of several engines become one."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import pytest

from dockervisor.flows import fleet
from dockervisor.engine import argv as docker_argv, contexts
from dockervisor.flows import enginelock as engine_lock
from dockervisor.store import paths, state
from dockervisor.flows import adoption
from dockervisor.cli import split_global_options
from dockervisor.core.errors import DockervisorError
from dockervisor.engine.executor import Executor, Result


@pytest.fixture
def docker_config(tmp_path: Path) -> Path:
    """A docker configuration directory with two contexts, web1 current."""
    config = tmp_path / "docker"
    for name, host in (("web1", "ssh://deploy@web1"), ("web2", "tcp://10.0.0.2:2376")):
        meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
        meta.mkdir(parents=True)
        (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": {"docker": {"Host": host}}}))
    (config / "config.json").write_text(json.dumps({"currentContext": "web1"}))
    return config


def test_engines_are_resolved_in_dockers_order(docker_config: Path) -> None:
    config = {"DOCKER_CONFIG": str(docker_config)}
    assert contexts.default_engine(config).endpoint == "ssh://deploy@web1"  # the current context
    assert contexts.default_engine({**config, "DOCKER_CONTEXT": "web2"}).endpoint == "tcp://10.0.0.2:2376"
    with_host = {**config, "DOCKER_CONTEXT": "web2", "DOCKER_HOST": "unix:///other.sock"}
    assert contexts.default_engine(with_host).endpoint == "unix:///other.sock"
    named = contexts.resolve(["web2", "default"], with_host)
    assert [(e.name, e.endpoint, e.flags) for e in named] == [
        ("web2", "tcp://10.0.0.2:2376", ("--context", "web2")),
        ("default", "unix:///other.sock", ("--context", "default")),
    ]
    # Without --context, docker is told nothing: it resolves the same way itself.
    assert contexts.default_engine(config).flags == ()
    assert contexts.default_engine({"DOCKER_CONFIG": str(docker_config / "none")}).endpoint == (
        "unix:///var/run/docker.sock"
    )


def test_unknown_invalid_and_repeated_contexts_are_refused(docker_config: Path) -> None:
    config = {"DOCKER_CONFIG": str(docker_config)}
    with pytest.raises(DockervisorError, match="no docker context named 'web3'"):
        contexts.resolve(["web3"], config)
    for bad in ("-x", "a", "../etc", "web 1", "wéb"):
        with pytest.raises(DockervisorError) as raised:
            contexts.split_names([bad])
        assert raised.value.exit_code == 2
    assert contexts.split_names(["web1,web2", "web1"]) == ["web1", "web2"]
    alias = docker_config / "contexts" / "meta" / hashlib.sha256(b"again").hexdigest()
    alias.mkdir()
    (alias / "meta.json").write_text(json.dumps({"Endpoints": {"docker": {"Host": "ssh://deploy@web1"}}}))
    with pytest.raises(DockervisorError, match="the same engine"):
        contexts.resolve(["web1", "again"], config)


def test_state_keys_are_safe_distinct_names() -> None:
    keys = {contexts.key_for(e) for e in ("unix:///var/run/docker.sock", "ssh://web1", "ssh://deploy@web1",
                                           "ssh://../../x", "tcp://[::1]:2376")}  # fmt: skip
    assert len(keys) == 5
    for key in keys:
        assert "/" not in key and key not in (".", "..") and key[0] not in ".-"
    assert contexts.key_for("unix:///var/run/docker.sock").startswith("unix-var-run-docker.sock-")


def test_state_paths_follow_the_engine_of_the_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    with paths.engine_state("web1-0a0b0c0d"):
        state.save(state.FamilyState("app", last="dcv_app_20260101000000"))
        assert paths.family_lock_file("app") == str(tmp_path / "home/engines/web1-0a0b0c0d/locks/app.lock")
    assert (tmp_path / "home/engines/web1-0a0b0c0d/families/app.json").exists()
    assert not state.family_exists("app")  # outside: the layout from before
    for directory in ("home", "home/engines", "home/engines/web1-0a0b0c0d"):
        assert (tmp_path / directory).stat().st_mode & 0o777 == 0o700


def test_a_group_writable_engines_directory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    (tmp_path / "home/engines").mkdir(parents=True, mode=0o700)
    os.chmod(tmp_path / "home/engines", 0o775)
    with paths.engine_state("k"), pytest.raises(DockervisorError, match="writable by its group"):
        state.save(state.FamilyState("app"))


def test_every_command_line_names_the_engine_right_after_docker() -> None:
    out = io.StringIO()
    executor = Executor(dry_run=True, stdout=out, engine_flags=("--context", "web1"))
    executor.change(docker_argv.stop(["dcv_app_1"]))
    executor.stream(docker_argv.build("app", "/src"))
    assert out.getvalue().splitlines() == [
        "docker --context web1 stop dcv_app_1",
        "docker --context web1 build -t app:latest --label dockervisor.built=app /src",
    ]
    assert Executor().full(["docker", "ps"]) == ["docker", "ps"]


def test_the_engines_lock_is_a_named_container_that_says_who_holds_it() -> None:
    assert docker_argv.create_lock("app", "alice@laptop pid 1: dockervisor stop app", "2026-01-01T00:00:00Z",
                                   "0123") == [  # fmt: skip
        "docker", "container", "create", "--name", "dockervisor-lock-app",
        "--label", "dockervisor.lock=app",
        "--label", "dockervisor.lock.holder=alice@laptop pid 1: dockervisor stop app",
        "--label", "dockervisor.lock.since=2026-01-01T00:00:00Z",
        "--label", "dockervisor.lock.owner=0123",
        "--network", "none", "--pull", "never", "dockervisor-lock:1", "lock",
    ]  # fmt: skip
    assert docker_argv.remove_lock("abc123") == ["docker", "container", "rm", "--force", "abc123"]


def test_context_options_come_before_the_verb() -> None:
    assert split_global_options(["--context", "a", "--context=b,c", "status", "--json"]) == (
        ["a", "b,c"], ["status", "--json"])  # fmt: skip
    assert split_global_options(["--version"]) == ([], ["--version"])


def test_round_one_state_moves_to_the_default_engine_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("DOCKERVISOR_HOME", str(home))
    state.save(state.FamilyState("app", last="dcv_app_20260101000000"))  # no engine: round 1's layout
    (home / "history").mkdir(mode=0o700)
    (home / "history" / "app.jsonl").write_text("{}\n")
    engine = contexts.Engine("default", "unix:///var/run/docker.sock", named=False)
    # The engine's directory already has one family of its own: both are kept.
    with paths.engine_state(engine.key):
        state.save(state.FamilyState("other"))
    assert adoption.needed()
    said = io.StringIO()
    adoption.adopt(engine, said)
    assert "now kept per engine" in said.getvalue()
    assert not adoption.needed() and not (home / "families").exists()
    with paths.engine_state(engine.key):
        assert state.load("app").last == "dcv_app_20260101000000" and state.family_exists("other")
        assert Path(paths.family_history_file("app")).read_text() == "{}\n"


def test_a_conflicting_file_stays_where_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    engine = contexts.Engine("default", "unix:///var/run/docker.sock", named=False)
    state.save(state.FamilyState("app", last="dcv_app_20260101000000"))
    with paths.engine_state(engine.key):
        state.save(state.FamilyState("app", last="dcv_app_20270101000000"))
    said = io.StringIO()
    adoption.adopt(engine, said)
    assert "already had" in said.getvalue()
    assert (tmp_path / "home" / "families" / "app.json").exists()
    with paths.engine_state(engine.key):
        assert state.load("app").last == "dcv_app_20270101000000"


def run_of(name: str, code: int, document: dict | None = None, error: str | None = None) -> fleet.Run:
    run = fleet.Run(contexts.Engine(name, f"ssh://{name}", named=True))
    run.code, run.error = code, error
    if document is not None:
        run.collected.append(("json", document))
    return run


def test_several_documents_become_one_that_says_whose_each_row_is(capsys: pytest.CaptureFixture) -> None:
    fleet._show_json([
        run_of("web1", 0, {"ok": True, "families": [{"image": "app", "last": "a"}]}),
        run_of("web2", 5, {"ok": False, "families": [{"image": "app", "last": "b"}]}),
        run_of("web3", 1, error="`docker ps` failed: Cannot connect to the Docker daemon"),
    ])  # fmt: skip
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is False
    assert document["families"] == [
        {"engine": "web1", "image": "app", "last": "a"}, {"engine": "web2", "image": "app", "last": "b"}]  # fmt: skip
    assert [(e["engine"], e["ok"], e["error"] is None) for e in document["engines"]] == [
        ("web1", True, True), ("web2", False, True), ("web3", False, False)]  # fmt: skip


def test_exit_codes_of_several_engines() -> None:
    assert fleet.combined_code([0, 0]) == 0
    assert fleet.combined_code([0, 5]) == 5
    assert fleet.combined_code([5, 1, 0]) == 1


def test_lines_from_threads_say_which_engine_and_stay_whole() -> None:
    out = io.StringIO()
    stream = fleet.Prefixed(out, "web1")
    print("dockervisor: stopped dcv_app_1", file=stream, flush=True)
    stream.write("  | a log ")
    stream.write("line\n")
    assert out.getvalue() == "dockervisor: web1: stopped dcv_app_1\nweb1:   | a log line\n"


class FakeDocker:
    """An engine that answers the lock's commands from a dict of containers."""

    def __init__(self, locks: dict[str, dict] | None = None, image: bool = True) -> None:
        self.locks = locks or {}
        self.image = image
        self.calls: list[list[str]] = []

    def change(self, argv: list[str], check: bool = True, timeout: float = 0, pass_fds: tuple = ()) -> Result:
        self.calls.append(argv)
        if argv[1:3] == ["image", "import"]:
            self.image = True
            return Result(argv, 0, "sha256:0", "")
        if argv[1:3] == ["container", "create"]:
            name = argv[argv.index("--name") + 1]
            if not self.image:
                return Result(argv, 1, "", "Error response from daemon: No such image: dockervisor-lock:1")
            if name in self.locks:
                return Result(argv, 1, "", f'Error response from daemon: Conflict. The container name "/{name}" is already in use')
            labels = {argv[i + 1].split("=", 1)[0]: argv[i + 1].split("=", 1)[1]
                      for i, word in enumerate(argv) if word == "--label"}  # fmt: skip
            self.locks[name] = {"Id": f"id-{len(self.calls)}", "Config": {"Labels": labels}}
            return Result(argv, 0, self.locks[name]["Id"] + "\n", "")
        if argv[1:3] == ["container", "rm"]:
            for name, document in list(self.locks.items()):
                if document["Id"] == argv[-1]:
                    del self.locks[name]
            return Result(argv, 0, "", "")
        raise AssertionError(f"unexpected {argv}")

    def query(self, argv: list[str], check: bool = True, timeout: float = 0) -> Result:
        self.calls.append(argv)
        found = [self.locks[name] for name in argv[3:] if name in self.locks]
        return Result(argv, 0 if found else 1, json.dumps(found), "" if found else "Error: No such container")


@pytest.fixture
def quick_locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DOCKERVISOR_LOCK_TIMEOUT", "0.2")
    monkeypatch.setattr(engine_lock, "_POLL_SECONDS", 0.05)


def hold(docker: FakeDocker, stderr: io.StringIO) -> object:
    return engine_lock.engine_lock(docker, "app", "dockervisor stop app", "web1",  # type: ignore[arg-type]
                                   "dockervisor unlock app --context web1", stderr)  # fmt: skip


def test_the_engines_lock_is_taken_and_let_go_by_its_id(quick_locks: None) -> None:
    docker, said = FakeDocker(image=False), io.StringIO()
    with hold(docker, said):
        (held,) = docker.locks.values()
        assert held["Config"]["Labels"]["dockervisor.lock.holder"].endswith(": dockervisor stop app")
    assert docker.locks == {}
    verbs = [" ".join(argv[1:3]) for argv in docker.calls]
    assert verbs == ["container create", "image import", "container create", "container rm"]
    assert docker.calls[-1][-1] == held["Id"]


def test_another_clients_lock_is_waited_for_then_named_with_the_way_to_break_it(quick_locks: None) -> None:
    other = {"Id": "theirs", "Config": {"Labels": {"dockervisor.lock.holder": "bob@ops pid 7: dockervisor start new app",
                                                   "dockervisor.lock.owner": "someone-else"}}}  # fmt: skip
    docker, said = FakeDocker({"dockervisor-lock-app": other}), io.StringIO()
    with pytest.raises(DockervisorError) as raised, hold(docker, said):
        pass
    assert "waiting for the lock on 'app' that the engine web1 holds, held by bob@ops pid 7" in said.getvalue()
    assert "`dockervisor unlock app --context web1` breaks it" in raised.value.message
    assert docker.locks == {"dockervisor-lock-app": other}  # never removed


def test_a_lock_left_by_this_state_directory_is_taken_over(quick_locks: None) -> None:
    left = {"Id": "ours-before", "Config": {"Labels": {"dockervisor.lock.holder": "root@here pid 1: killed",
                                                       "dockervisor.lock.owner": engine_lock.owner_label()}}}  # fmt: skip
    docker, said = FakeDocker({"dockervisor-lock-app": left}), io.StringIO()
    with hold(docker, said):
        assert docker.locks["dockervisor-lock-app"]["Id"] != "ours-before"
    assert "left by a run of this state directory that is gone (root@here pid 1: killed)" in said.getvalue()
    assert docker.locks == {}


def test_the_owner_label_is_this_state_directorys_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built without the code's own function: stable for one state directory, different for another."""
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "a"))
    first, again = engine_lock.owner_label(), engine_lock.owner_label()
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "b"))
    other = engine_lock.owner_label()
    with paths.engine_state("k" * 16):  # another engine of the same home: another state directory
        per_engine = engine_lock.owner_label()
    assert first == again and len(first) == 32 and int(first, 16) >= 0
    assert len({first, other, per_engine}) == 3


def test_a_lock_left_by_another_state_directory_is_never_taken_over(
    quick_locks: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same machine, same user, another DOCKERVISOR_HOME: another admin's run, maybe alive."""
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "elsewhere"))
    theirs = engine_lock.owner_label()
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    left = {"Id": "theirs", "Config": {"Labels": {"dockervisor.lock.holder": "root@here pid 1: dockervisor stop app",
                                                  "dockervisor.lock.owner": theirs}}}  # fmt: skip
    docker, said = FakeDocker({"dockervisor-lock-app": left}), io.StringIO()
    with pytest.raises(DockervisorError, match="gave up"), hold(docker, said):
        pass
    assert "taking it over" not in said.getvalue()
    assert docker.locks == {"dockervisor-lock-app": left}
    assert not any(argv[1:3] == ["container", "rm"] for argv in docker.calls)


# A rolling start, with a handler that stands for one engine's start -------------


def rolling(codes: dict[str, int], parallel: int, capsys: pytest.CaptureFixture) -> tuple[int, list[str], str]:
    """fleet._rolling over engines a, b, c, d whose starts exit `codes` (0 when absent); what it
    returned, the engines whose start ran, in order, and the summary table."""
    import argparse

    ran: list[str] = []

    def handler(args: argparse.Namespace) -> int:
        ran.append(args.engine.name)
        releases.append(getattr(args, "release", "run"))
        print(f"dcv_app_{args.engine.name}", file=args.streams[0])
        if codes.get(args.engine.name):
            raise DockervisorError(f"{args.engine.name} failed", codes[args.engine.name])
        return 0

    engines = [contexts.Engine(name, f"tcp://{name}:2376", True) for name in "abcd"]
    args = argparse.Namespace(handler=handler, dry_run=False, json=False)
    releases.clear()
    code = fleet._rolling(args, engines, parallel)
    return code, ran, capsys.readouterr().out


releases: list[str] = []  # what each engine's start was told of the release step, in order


def test_a_rolling_start_ends_at_the_first_host_that_fails(capsys: pytest.CaptureFixture) -> None:
    code, ran, table = rolling({"b": 3}, 1, capsys)
    assert (code, ran) == (3, ["a", "b"])
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in table.splitlines()[1:]}
    assert rows == {"a": ["dcv_app_a", "started"], "b": ["-", "failed: rolled back"],
                    "c": ["-", "not touched"], "d": ["-", "not touched"]}  # fmt: skip


def test_a_rolling_start_in_batches_ends_after_the_batch_that_failed(capsys: pytest.CaptureFixture) -> None:
    # The first host goes alone (a canary, and where a release step runs), then N at a time.
    code, ran, _ = rolling({"a": 4}, 2, capsys)
    assert (code, ran) == (4, ["a"])
    code, ran, _ = rolling({"b": 3}, 2, capsys)
    assert code == 3 and ran[0] == "a" and sorted(ran[1:]) == ["b", "c"]
    code, ran, _ = rolling({}, 2, capsys)
    assert code == 0 and ran[0] == "a" and sorted(ran) == ["a", "b", "c", "d"]
    code, ran, _ = rolling({"d": 3}, 1, capsys)
    assert (code, ran) == (3, ["a", "b", "c", "d"])


@pytest.mark.parametrize("parallel", [1, 3])
def test_a_release_step_runs_on_the_first_host_of_a_rolling_start_only(capsys: pytest.CaptureFixture, parallel: int) -> None:
    """The engines after the first are told it ran ("each" is their own family's call: start.py)."""
    code, ran, _ = rolling({}, parallel, capsys)
    assert code == 0 and ran[0] == "a"
    assert releases == ["run", "ran", "ran", "ran"]
