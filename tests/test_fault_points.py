"""Issue 18: every docker call of a changing command may fail, one at a time.

Crash-point enumeration, as file-system testers do it: a `docker` shim first
on PATH counts the calls of one dockervisor run and fails the Nth (exit 1,
"injected failure", without running the real one). Each command runs once
with no failure to count its calls, then once for every N. After every run:
no traceback, an exit code the README lists, at most one container of the
family running and `last` naming it, a history entry whenever anything the
engine shows changed, and the family's data equal to the content before or
the content after, never a mix.

The shim counts under a lock of its own (queries run side by side), logs each
call, and runs the real docker by its absolute path for every other call.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from support import REAL_DOCKER, docker, running_names, wait_for

FAST = ("--settle", "0.2")
SLEEP = "exec sleep 100000"
V2 = f"echo v2 > /data/by-v2; {SLEEP}"
# The exit codes the README lists for these commands (no signal is sent).
LISTED = {0, 1, 3, 4}

SHIM = f"""#!{sys.executable}
import fcntl, os, sys
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "count"), "a+") as counter:
    fcntl.flock(counter, fcntl.LOCK_EX)
    counter.seek(0)
    number = int(counter.read() or 0) + 1
    counter.seek(0)
    counter.truncate()
    counter.write(str(number))
with open(os.path.join(here, "fail-at")) as armed:
    fail_at = int(armed.read() or 0)
with open(os.path.join(here, "log"), "a") as log:
    log.write(f"{{number}} {{' '.join(sys.argv[1:3])}}\\n")
if number == fail_at:
    sys.stderr.write("Error response from daemon: injected failure\\n")
    sys.exit(1)
os.execv({REAL_DOCKER!r}, [{REAL_DOCKER!r}, *sys.argv[1:]])
"""


class Shim:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "docker").write_text(SHIM)
        (directory / "docker").chmod(0o755)
        self.dir = directory
        self.env = {"PATH": f"{directory}:{os.environ['PATH']}"}
        self.arm(0)

    def arm(self, fail_at: int) -> None:
        (self.dir / "count").write_text("0")
        (self.dir / "fail-at").write_text(str(fail_at))
        (self.dir / "log").write_text("")

    @property
    def calls(self) -> int:
        return int((self.dir / "count").read_text() or 0)

    def log(self) -> str:
        return (self.dir / "log").read_text()


class Observed:
    """What the engine and the state say of a family at one moment."""

    def __init__(self, cli, family: str, base: str) -> None:  # type: ignore[no-untyped-def]
        self.running = running_names(family)
        state = cli.state(family)
        self.last, self.stable = state.get("last"), state.get("stable")
        self.history = len(cli.history(family))
        self.data = data_of(family, base)

    def engine_view(self) -> tuple:
        return (self.running, self.last, self.stable, self.data)


def data_of(family: str, base: str) -> dict[str, str]:
    """The files of the family's /data volume and their contents."""
    listing = docker(
        "run", "--rm", "-v", f"{family}_data:/d:ro", base, "sh", "-c",
        "cd /d && for f in $(ls -A); do printf '%s=%s;' \"$f\" \"$(cat \"$f\" 2>/dev/null)\"; done",
    ).stdout  # fmt: skip
    return dict(item.split("=", 1) for item in listing.strip().split(";") if item)


def restarted_data(before: dict[str, str], running: list[str]) -> dict[str, str]:
    """The data before, as it is once the container that ran before has
    started again: a v2 container writes /data/by-v2 whenever it starts."""
    cmd = " ".join(docker("inspect", "--format", "{{json .Config.Cmd}}", running[0]).stdout.split())
    return {**before, "by-v2": "v2"} if "by-v2" in cmd else before


def write_token(container: str, token: str) -> None:
    """New content in the data, so that old and new can be told apart."""
    docker("exec", container, "sh", "-c", f"rm -f /data/by-v2; echo {token} > /data/token")


def run_every_fault_point(cli, shim: Shim, family: str, base: str, argv: list[str], prepare, check) -> int:  # type: ignore[no-untyped-def]
    """Run `argv` with no failure, then failing call N for every N; `prepare()`
    sets the family up before each run, `check(before, after, result)` judges it.
    Returns how many calls the clean run made."""
    total = None
    number = 0
    while total is None or number <= total:
        prepare()
        before = Observed(cli, family, base)
        shim.arm(number)
        result = cli(*argv, env=shim.env, expect=None)
        if total is None:
            total = shim.calls
            assert result.code == 0, f"the clean run failed: {result!r}"
        after = Observed(cli, family, base)
        where = f"failing call {number} of {total} ({argv}):\n{shim.log()}\n{result!r}"
        assert result.code in LISTED, where
        assert len(after.running) <= 1, where
        if after.running:
            assert after.last == after.running[0], where
        if after.engine_view() != before.engine_view():
            assert after.history > before.history, f"a change with no history entry; {where}"
        if after.history > before.history:
            # A start's retention records its own entry after the start's; a failure
            # there is a warning (exit 0): the start's entry says how the start went.
            # Polls make the number of calls vary, so the retention's may be the Nth.
            added = cli.history(family)[before.history :]
            entry = next((e for e in reversed(added) if e["action"] != "prune" or argv[0] == "prune"), added[-1])
            expected = {0: {"ok", "no-op"}, 1: {"failed"}, 3: {"rolled-back", "failed", "release-failed"},
                        4: {"rollback-failed"}}  # fmt: skip
            assert entry["outcome"] in expected[result.code], f"{entry}; {where}"
        check(before, after, result, where)
        number += 1
    print(f"\n{argv[:2]}: {total} docker calls, each failed in turn")
    return total


@pytest.fixture
def shim(tmp_path: Path) -> Shim:
    return Shim(tmp_path / "shim")


@pytest.fixture
def app(project):  # type: ignore[no-untyped-def]
    """A family with a /data volume: v1 started, marked stable; v2 built."""
    made = project("faults")
    made.build(cmd=SLEEP, expose=(), content="v1")
    first = made.cli("start", "new", made.family, *FAST).out.strip()
    made.cli("stable", made.family)
    write_token(first, "stable-data")
    made.build(cmd=V2, expose=(), content="v2")
    made.first = first
    return made


def test_start_new_fails_at_every_call_and_one_container_runs(app, cli, shim, base_image) -> None:
    family = app.family

    def prepare() -> None:
        write_token(running_names(family)[0], os.urandom(4).hex())

    def check(before, after, result, where) -> None:  # type: ignore[no-untyped-def]
        assert len(after.running) == 1, where
        old = before.data
        new = {**old, "by-v2": "v2"}
        assert after.data in (old, new), where
        if result.code == 0:
            assert after.running != before.running and result.out.strip() == after.running[0], where
        else:
            assert after.running == before.running, where
            # stdout names what runs afterwards, after a rollback too
            assert result.code == 1 or result.out.strip() == after.running[0], where

    run_every_fault_point(cli, shim, family, base_image, ["start", "new", family, *FAST], prepare, check)


def test_start_new_on_probation_with_promotion_fails_at_every_call(app, cli, shim, base_image) -> None:
    """Issue 21: the probation's polls and the promotion are more calls that may fail."""
    family = app.family

    def check(before, after, result, where) -> None:  # type: ignore[no-untyped-def]
        assert len(after.running) == 1, where
        if result.code == 0:
            assert after.running != before.running and after.stable == after.running[0], where
        else:
            assert after.running == before.running and after.stable == before.stable, where

    argv = ["start", "new", family, "--probation", "1", "--promote", *FAST]
    run_every_fault_point(cli, shim, family, base_image, argv, lambda: None, check)


@pytest.mark.parametrize("when", ["before-stop", "after-stop"])
def test_start_new_with_a_release_step_fails_at_every_call(project, cli, shim, base_image, when) -> None:
    """Issue 22: the release's one-off container (create, start --attach, rm)
    adds calls; a failure of any ends with the old container running and the
    data as before (a release failed after the stop puts the snapshot back),
    or the new one running on the released data; never a one-off left."""
    made = project("relfaults")
    made.build(cmd=SLEEP, expose=(), content="v1")
    cli("start", "new", made.family, *FAST)
    release = ["sh", "-c", "echo released > /data/release"]
    made.write({"release": release, "release_when": when, "snapshot": True}, cmd=SLEEP, expose=(), content="v2")
    cli("build", made.family, str(made.dir))
    family = made.family

    def prepare() -> None:
        docker("exec", running_names(family)[0], "sh", "-c", f"rm -f /data/release; echo {os.urandom(4).hex()} > /data/token")

    def check(before, after, result, where) -> None:  # type: ignore[no-untyped-def]
        assert len(after.running) == 1, where
        if result.code == 0:
            assert after.running != before.running and after.data == {**before.data, "release": "released"}, where
        else:
            assert after.running == before.running, where
            # Before the stop, a release that succeeded stays done (it serves the old
            # container too); after the stop, the snapshot puts its changes back.
            released = [{**before.data, "release": "released"}] if when == "before-stop" else []
            assert after.data in [before.data, *released], where
        no_one_off_left(family, where)

    run_every_fault_point(cli, shim, family, base_image, ["start", "new", family, *FAST], prepare, check)


def test_start_new_with_a_snapshot_fails_at_every_call(app, cli, shim, base_image) -> None:
    family = app.family

    def prepare() -> None:
        write_token(running_names(family)[0], os.urandom(4).hex())

    def check(before, after, result, where) -> None:  # type: ignore[no-untyped-def]
        assert len(after.running) == 1, where
        assert after.data in (before.data, {**before.data, "by-v2": "v2"}), where
        if result.code != 0:
            assert after.running == before.running, where
            assert after.data in (before.data, restarted_data(before.data, after.running)), where

    argv = ["start", "new", family, "--snapshot", *FAST]
    run_every_fault_point(cli, shim, family, base_image, argv, prepare, check)


def test_start_stable_with_data_fails_at_every_call(app, cli, shim, base_image) -> None:
    family = app.family
    stable = app.first

    def prepare() -> None:
        if running_names(family) == [stable]:  # the last run came through: upgrade again
            write_token(stable, "stable-data")
            cli("start", "new", family, "--snapshot", *FAST)
        write_token(running_names(family)[0], os.urandom(4).hex())

    def check(before, after, result, where) -> None:  # type: ignore[no-untyped-def]
        assert len(after.running) == 1, where
        if after.running == [stable]:
            assert result.code == 0 and after.data == {"token": "stable-data"}, where
        else:
            assert result.code != 0 and after.running == before.running, where
            assert after.data in (before.data, restarted_data(before.data, after.running)), where

    argv = ["start", "stable", family, "--with-data", *FAST]
    run_every_fault_point(cli, shim, family, base_image, argv, prepare, check)


def test_restore_fails_at_every_call(app, cli, shim, base_image) -> None:
    family = app.family
    running = running_names(family)[0]
    write_token(running, "archived")
    archive = cli("backup", family).out.strip()

    def prepare() -> None:
        write_token(running_names(family)[0], os.urandom(4).hex())

    def check(before, after, result, where) -> None:  # type: ignore[no-untyped-def]
        assert after.running == before.running, where
        assert after.data in (before.data, {"token": "archived"}), where
        if result.code == 0:
            assert after.data == {"token": "archived"}, where

    run_every_fault_point(cli, shim, family, base_image, ["restore", family, archive, *FAST], prepare, check)


def test_stop_fails_at_every_call(app, cli, shim, base_image) -> None:
    family = app.family

    def prepare() -> None:
        if not running_names(family):
            cli("start", "last", family, *FAST)

    def check(before, after, result, where) -> None:  # type: ignore[no-untyped-def]
        assert after.running in ([], before.running) and after.last == before.last, where
        assert (after.running == []) == (result.code == 0), where

    run_every_fault_point(cli, shim, family, base_image, ["stop", family], prepare, check)


def test_stable_fails_at_every_call(app, cli, shim, base_image) -> None:
    family = app.family
    upgraded = cli("start", "new", family, *FAST).out.strip()

    def prepare() -> None:
        cli("stable", "mark", family, app.first, "--force")

    def check(before, after, result, where) -> None:  # type: ignore[no-untyped-def]
        assert after.running == before.running == [upgraded], where
        assert after.stable == (upgraded if result.code == 0 else app.first), where

    run_every_fault_point(cli, shim, family, base_image, ["stable", family], prepare, check)


def test_prune_fails_at_every_call(app, cli, shim, base_image) -> None:
    family = app.family

    def prepare() -> None:
        cli("start", "new", family, *FAST)  # one more stopped container to prune

    def check(before, after, result, where) -> None:  # type: ignore[no-untyped-def]
        assert after.running == before.running and after.data == before.data, where
        names = {c["Names"] for c in json_lines(docker("ps", "-a", "--filter", f"label=dockervisor.image={family}",
                                                        "--format", "{{json .}}").stdout)}  # fmt: skip
        assert {after.last, after.stable} <= names, where

    run_every_fault_point(cli, shim, family, base_image, ["prune", family, "--keep", "0"], prepare, check)


def test_run_fails_at_every_call_and_leaves_no_one_off(app, cli, shim, base_image) -> None:
    """Issue 22: `dockervisor run` changes nothing of the family; whatever call
    fails, the family runs as before and no one-off container is left."""
    family = app.family

    def check(before, after, result, where) -> None:  # type: ignore[no-untyped-def]
        assert after.engine_view() == before.engine_view() and after.history == before.history, where
        assert result.code in (0, 1), where
        no_one_off_left(family, where)

    run_every_fault_point(cli, shim, family, base_image, ["run", family, "true"], lambda: None, check)


def no_one_off_left(family: str, where: str) -> None:
    """The release's or run's one-off is gone (polled: `--rm` may still be removing it)."""
    gone = lambda: not docker("ps", "-aq", "--filter", f"label=dockervisor.oneoff={family}").stdout.split()  # noqa: E731
    wait_for(gone, 30, f"no one-off container left; {where}")


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_bug_after_the_first_change_rolls_back_before_its_traceback(app, cli, monkeypatch, capsys) -> None:
    """Not a docker error: an exception of any other type (a bug) mid-start.
    The rollback runs first, then the traceback shows, exit 3, and the history
    says what happened. In-process, so that the bug can be planted."""
    import dockervisor.flows.switch
    from dockervisor.cli import main

    family, old = app.family, running_names(app.family)[0]
    real_wait = dockervisor.flows.switch.wait_until_up
    calls = []

    def wait_with_a_bug(docker, name, policy, stderr):  # type: ignore[no-untyped-def]
        calls.append(name)
        if len(calls) == 1:  # the new container's wait; the rollback's wait is real
            raise ZeroDivisionError("a planted bug")
        return real_wait(docker, name, policy, stderr)

    monkeypatch.setattr(dockervisor.flows.switch, "wait_until_up", wait_with_a_bug)
    monkeypatch.setenv("DOCKERVISOR_HOME", str(cli.home))
    code = main(["start", "new", family, *FAST])
    captured = capsys.readouterr()
    assert code == 3, captured.err
    assert "Traceback" in captured.err and "ZeroDivisionError: a planted bug" in captured.err
    assert captured.err.index("Rolled back") < captured.err.index("Traceback")
    assert captured.out.strip() == old  # stdout names what runs afterwards
    assert running_names(family) == [old] and cli.state(family)["last"] == old
    entry = cli.history(family)[-1]
    assert (entry["action"], entry["outcome"]) == ("start new", "rolled-back")
    assert "ZeroDivisionError" in entry["message"]


def test_a_full_disk_after_the_start_names_the_last_still_recorded(app, cli, monkeypatch, capsys) -> None:
    """The state cannot be written once the new container runs (a full disk):
    the message says what runs and which `last` the file still holds."""
    from dockervisor.cli import main
    from dockervisor.core.errors import PathError
    from dockervisor.store import state

    family, old = app.family, running_names(app.family)[0]

    def full(_family) -> None:  # type: ignore[no-untyped-def]
        raise PathError("write", str(cli.state_dir / "families" / f"{family}.json"), "No space left on device")

    monkeypatch.setattr(state, "save", full)
    monkeypatch.setenv("DOCKERVISOR_HOME", str(cli.home))
    code = main(["start", "new", family, *FAST])
    err = capsys.readouterr().err
    (new,) = running_names(family)
    assert code == 1 and new != old
    assert f"{new} runs, but recording it failed, so `last` still names {old!r}" in err, err
    assert cli.state(family)["last"] == old
