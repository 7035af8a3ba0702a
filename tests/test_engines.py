"""Several engines: state per engine, rolling starts, an engine that does not
answer, the engine's own lock, and adopting the state from before.

tests/run starts a second dockerd (DOCKERVISOR_TEST_ENGINE2) and an sshd of
its own through which the default engine is reached over ssh
(DOCKERVISOR_TEST_SSH_HOST, with DOCKERVISOR_TEST_SSH_PATH first on PATH);
see tests/engines.sh. The docker contexts made here have names of their own
and are removed afterwards. Families here publish no port: the two engines
share the host's ports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import CLI, IN_CI, REPO, Project, docker, new_family, state_dir, wait_for

# In CI (support.IN_CI: any truthy CI) a skipped test here fails the run (see conftest.py).
pytestmark = pytest.mark.never_skipped_in_ci
ENGINE2 = os.environ.get("DOCKERVISOR_TEST_ENGINE2", "")
SSH_HOST = os.environ.get("DOCKERVISOR_TEST_SSH_HOST", "")
SSH_PATH = os.environ.get("DOCKERVISOR_TEST_SSH_PATH", "")
ENGINES_DIR = os.environ.get("DOCKERVISOR_TEST_ENGINES_DIR", "")
FAST = ("--settle", "1", "--wait", "20")
BROKEN = "echo broken; exit 3"


def docker2(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return docker("--host", ENGINE2, *args, check=check)


@pytest.fixture(scope="module")
def engine2(engine: None, base_image: str) -> Iterator[str]:
    """The second engine, with the tests' base image carried over (no registry)."""
    if not ENGINE2:
        message = "no second engine (tests/run starts one, see tests/engines.sh)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    saved = subprocess.run(["docker", "save", base_image], capture_output=True, check=True).stdout
    subprocess.run(["docker", "--host", ENGINE2, "load", "-q"], input=saved, capture_output=True, check=True)
    yield ENGINE2
    docker2("rmi", "-f", base_image, check=False)


@pytest.fixture(scope="module")
def contexts(engine2: str) -> Iterator[dict[str, str]]:
    """Docker contexts with unique names: `one` (the default engine), `two`
    (the second), `ssh` (the default engine over ssh, when there is an sshd)."""
    tag = uuid.uuid4().hex[:8]
    hosts = {"one": "unix:///var/run/docker.sock", "two": engine2}
    if SSH_HOST:
        hosts["ssh"] = SSH_HOST
    made = {}
    try:
        for role, host in hosts.items():
            name = f"dcvt-{tag}-{role}"
            docker("context", "create", name, "--docker", f"host={host}")
            made[role] = name
        yield made
    finally:
        if made:
            docker("context", "rm", "--force", *made.values(), check=False)


@pytest.fixture
def fleet_cli(cli: CLI) -> CLI:
    """The CLI with the run's ssh first on PATH, for the ssh context."""
    if SSH_PATH:
        cli.env["PATH"] = f"{SSH_PATH}:{cli.env['PATH']}"
    return cli


@pytest.fixture
def app(fleet_cli: CLI, base_image: str, engine2: str, families: list[str], tmp_path: Path) -> Iterator[Project]:
    """A family with no published port, removed from both engines afterwards."""
    family = new_family("fleet")
    families.append(family)
    project = Project(fleet_cli, base_image, family, tmp_path / "src" / family)
    project.write(expose=(), cmd="sleep 600")
    yield project
    remove_family_on_engine2(family)


def remove_family_on_engine2(family: str) -> None:
    found = docker2("ps", "-aq", "--filter", f"label=dockervisor.image={family}", check=False).stdout.split()
    if found:
        docker2("rm", "-f", "-v", *found, check=False)
    docker2("rmi", "-f", f"{family}:latest", check=False)
    docker2("rm", "-f", f"dockervisor-lock-{family}", check=False)


def running_on(host: str, family: str) -> list[str]:
    out = docker("--host", host, "ps", "--filter", f"label=dockervisor.image={family}", "--format", "{{.Names}}")
    return sorted(out.stdout.split())


def engine_state(cli: CLI, contexts: dict[str, str], role: str, family: str) -> dict:
    directory = state_dir(cli.home, cli.env, contexts[role])
    return json.loads((directory / "families" / f"{family}.json").read_text())


def engine_history(cli: CLI, contexts: dict[str, str], role: str, family: str) -> list[dict]:
    directory = state_dir(cli.home, cli.env, contexts[role])
    return [json.loads(line) for line in (directory / "history" / f"{family}.jsonl").read_text().splitlines()]


def both(contexts: dict[str, str]) -> str:
    return f"{contexts['one']},{contexts['two']}"


def test_one_family_on_two_engines_keeps_separate_marks_and_history(app, fleet_cli, contexts) -> None:
    cli, one, two = fleet_cli, contexts["one"], contexts["two"]
    cli("--context", both(contexts), "build", app.family, str(app.dir), "-q")
    started = cli("--context", both(contexts), "start", "new", app.family, *FAST)
    cli("--context", one, "stable", app.family)
    cli("--context", two, "start", "new", app.family, *FAST)

    first, second = engine_state(cli, contexts, "one", app.family), engine_state(cli, contexts, "two", app.family)
    assert first["last"] == running_on("unix:///var/run/docker.sock", app.family)[0] == first["stable"]
    assert second["last"] == running_on(ENGINE2, app.family)[0] and second["stable"] is None
    assert first["last"] != second["last"]
    assert [e["action"] for e in engine_history(cli, contexts, "one", app.family)] == [
        "build", "start new", "stable mark"]  # fmt: skip
    assert [e["action"] for e in engine_history(cli, contexts, "two", app.family)] == [
        "build", "start new", "start new"]  # fmt: skip
    assert started.out.splitlines()[0].split() == ["CONTEXT", "RUNS", "OUTCOME"]

    # Every table and document over several engines says whose each row is.
    table = cli("--context", both(contexts), "status", app.family).out.splitlines()
    assert table[0].split()[:2] == ["CONTEXT", "FAMILY"]
    assert sorted(line.split()[0] for line in table[1:]) == sorted([one, two])
    document = json.loads(cli("status", app.family, "--json", "--context", one, "--context", two).out)
    assert {(f["engine"], f["last"]) for f in document["families"]} == {
        (one, first["last"]), (two, second["last"])}  # fmt: skip
    assert [e["engine"] for e in document["engines"]] == [one, two] and document["ok"] is True
    history = json.loads(cli("--context", both(contexts), "history", app.family, "--json").out)
    assert sorted({e["engine"] for e in history["entries"]}) == sorted([one, two])
    stables = json.loads(cli("--context", both(contexts), "stable", "show", app.family, "--json", expect=1).out)
    assert {e["engine"]: e["stable"] for e in stables["engines"]} == {one: first["stable"], two: None}
    # One engine named: the output of one engine, as before.
    assert cli("--context", two, "status", app.family).out.split()[0] == "FAMILY"


def test_a_rolling_start_stops_at_the_first_host_that_does_not_come_up(app, fleet_cli, contexts, tmp_path) -> None:
    cli, one, two = fleet_cli, contexts["one"], contexts["two"]
    cli("--context", both(contexts), "build", app.family, str(app.dir), "-q")
    cli("--context", both(contexts), "start", "new", app.family, *FAST)
    before_one, before_two = running_on("unix:///var/run/docker.sock", app.family), running_on(ENGINE2, app.family)

    # The release: good on host one, broken on host two.
    cli("--context", one, "build", app.family, str(app.write(expose=(), cmd="sleep 601").dir), "-q")
    broken = Project(cli, app.base, app.family, tmp_path / "broken").write(expose=(), cmd=BROKEN)
    cli("--context", two, "build", app.family, str(broken.dir), "-q")
    result = cli("--context", both(contexts), "start", "new", app.family, *FAST, expect=3)

    now_one, now_two = running_on("unix:///var/run/docker.sock", app.family), running_on(ENGINE2, app.family)
    assert now_one != before_one and len(now_one) == 1  # host one upgraded
    assert now_two == before_two  # host two rolled back
    rows = {line.split()[0]: line for line in result.out.splitlines()[1:]}
    assert now_one[0] in rows[one] and "started" in rows[one]
    assert before_two[0] in rows[two] and "rolled back" in rows[two]
    assert f"dockervisor: {two}: " in result.err and "broken" in result.err

    # The other way round, host two fails first and host one is not touched.
    result = cli("--context", f"{two},{one}", "start", "new", app.family, *FAST, expect=3)
    assert running_on("unix:///var/run/docker.sock", app.family) == now_one
    assert running_on(ENGINE2, app.family) == before_two
    assert "not touched" in {line.split()[0]: line for line in result.out.splitlines()[1:]}[one]
    assert [e["action"] for e in engine_history(cli, contexts, "one", app.family)][-1] == "start new"
    assert engine_history(cli, contexts, "one", app.family)[-1]["outcome"] == "ok"


def test_two_state_directories_on_one_engine_wait_for_its_lock(app, fleet_cli, contexts, tmp_path) -> None:
    """Two admins, each with a state directory of their own, one over ssh when
    there is an sshd: the second start waits until the first is done."""
    first = fleet_cli
    second = CLI(first.executable, tmp_path / "other-home")
    second.env["PATH"] = first.env["PATH"]
    way_in = contexts.get("ssh", contexts["one"])
    # Over ssh the engine's lock is taken by default; on the local socket only
    # when asked, as an admin sharing the engine with another machine must.
    first.env["DOCKERVISOR_ENGINE_LOCK"] = "on"
    if way_in == contexts["one"]:
        second.env["DOCKERVISOR_ENGINE_LOCK"] = "on"
    first("--context", contexts["one"], "build", app.family, str(app.dir), "-q")
    second("--context", way_in, "build", app.family, str(app.dir), "-q")
    # Two admins manage one family on purpose (issue 19): the second adopts the first's.
    first("--context", contexts["one"], "start", "new", app.family, *FAST)
    second("--context", way_in, "adopt", app.family)

    slow = first.popen("--context", contexts["one"], "start", "new", app.family, "--settle", "4", "--wait", "20")
    try:
        wait_for(lambda: running_on("unix:///var/run/docker.sock", app.family), 30, "the first start's container")
        waited = second("--context", way_in, "start", "new", app.family, *FAST)
    finally:
        out, err = slow.communicate(timeout=120)
    assert slow.returncode == 0, err
    started_first = out.strip()
    assert "waiting for the lock on" in waited.err and "that the engine" in waited.err
    assert "dockervisor --context" in waited.err  # who holds it: the first run's command line
    # The second ran after the first was done: it stopped the first one's container.
    assert f"stopped {started_first}" in waited.err
    assert running_on("unix:///var/run/docker.sock", app.family) == [waited.out.strip()]
    assert docker("ps", "-aq", "--filter", f"name=dockervisor-lock-{app.family}").stdout.strip() == ""


def test_unlock_breaks_a_lock_left_behind_and_names_its_holder(app, fleet_cli, contexts) -> None:
    cli, two = fleet_cli, contexts["two"]
    # A local socket: the engine's lock only when asked (the build makes its image).
    cli.env["DOCKERVISOR_ENGINE_LOCK"] = "on"
    cli("--context", two, "build", app.family, str(app.dir), "-q")
    docker2("container", "create", "--name", f"dockervisor-lock-{app.family}",
            "--label", f"dockervisor.lock={app.family}", "--label", "dockervisor.lock.holder=ghost@gone pid 1",
            "dockervisor-lock:1", "lock")  # fmt: skip
    refused = cli("--context", two, "start", "new", app.family, *FAST, expect=1,
                  env={"DOCKERVISOR_LOCK_TIMEOUT": "1"})  # fmt: skip
    assert "ghost@gone pid 1" in refused.err and f"dockervisor unlock {app.family} --context {two}" in refused.err
    assert running_on(ENGINE2, app.family) == []
    broken = cli("unlock", app.family, "--context", two)
    assert "ghost@gone pid 1" in broken.err
    cli("--context", two, "start", "new", app.family, *FAST)
    assert [e["action"] for e in engine_history(cli, contexts, "two", app.family)][-2:] == ["unlock", "start new"]


def test_the_engine_is_chosen_as_docker_chooses_it(app, fleet_cli, contexts) -> None:
    """--context, then DOCKER_HOST, then DOCKER_CONTEXT: the family runs on the
    second engine only, so only a command about that engine finds it."""
    cli, two = fleet_cli, contexts["two"]
    cli("--context", two, "build", app.family, str(app.dir), "-q")
    cli("--context", two, "start", "new", app.family, *FAST)
    assert "running" in cli("status", app.family, env={"DOCKER_CONTEXT": two}).out
    elsewhere = SSH_HOST or "unix:///var/run/docker.sock"  # the default engine, over ssh if there is one
    unknown = cli("status", app.family, env={"DOCKER_CONTEXT": two, "DOCKER_HOST": elsewhere}, expect=1)
    assert f"unknown image family {app.family!r}" in unknown.err
    assert "running" in cli("--context", two, "status", app.family, env={"DOCKER_HOST": elsewhere}).out
    assert cli("--context", two, "stop", app.family, "--dry-run").out.startswith(f"docker --context {two} stop ")


def test_round_one_state_is_adopted_by_the_default_engine_once(app, cli, contexts) -> None:
    app.cli("build", app.family, str(app.dir), "-q")
    app.cli("start", "new", app.family, *FAST)
    app.cli("stable", app.family)
    # Put it back where round 1 kept it: at the top of the home. (The engine's
    # directory keeps its ID, issue 19: the container carries it.)
    for name in ("families", "history", "locks"):
        shutil.move(str(cli.state_dir / name), str(cli.home / name))
    before = (cli.home / "families" / f"{app.family}.json").read_text()

    # Naming another engine adopts it for the default one all the same.
    first = cli("--context", contexts["two"], "list")
    assert "now kept per engine" in first.err and "default" in first.err
    assert not any((cli.home / name).exists() for name in ("families", "history", "locks"))
    assert (cli.state_dir / "families" / f"{app.family}.json").read_text() == before
    assert [e["action"] for e in cli.history(app.family)] == ["build", "start new", "stable mark"]
    again = cli("status", app.family)
    assert "now kept per engine" not in again.err and "running" in again.out


def test_status_over_two_engines_when_one_does_not_answer(app, fleet_cli, contexts) -> None:
    """Last: it stops the second engine, and starts it again."""
    cli, one, two = fleet_cli, contexts["one"], contexts["two"]
    cli("--context", both(contexts), "build", app.family, str(app.dir), "-q")
    cli("--context", both(contexts), "start", "new", app.family, *FAST)
    if not ENGINES_DIR:
        pytest.skip("the second engine was not started by tests/engines.sh")
    subprocess.run([str(REPO / "tests" / "engines.sh"), "stop-engine2", ENGINES_DIR], check=True)
    try:
        began = time.monotonic()
        result = cli("--context", both(contexts), "status", app.family, expect=1)
        # The engine's socket is gone, so the query fails at once; the bound is that it does not sit out
        # the query timeout (30 s, executor.QUERY_TIMEOUT): 20 s leaves a loaded machine 20 s of margin.
        assert time.monotonic() - began < 20
        lines = result.out.splitlines()
        assert lines[0].split()[:2] == ["CONTEXT", "FAMILY"] and len(lines) == 2
        assert lines[1].split()[:3] == [one, app.family, "running"]
        errors = [line for line in result.err.splitlines() if line.startswith("dockervisor: error:")]
        assert len(errors) == 1 and errors[0].startswith(f"dockervisor: error: {two}: ")
        document = json.loads(cli("--context", both(contexts), "status", app.family, "--json", expect=1).out)
        assert [f["engine"] for f in document["families"]] == [one]
        assert {e["engine"]: e["error"] is None for e in document["engines"]} == {one: True, two: False}
        assert document["ok"] is False
    finally:
        subprocess.run([str(REPO / "tests" / "engines.sh"), "start-engine2", ENGINES_DIR], check=True)
    assert docker2("info", check=False).returncode == 0


def test_a_release_runs_on_the_first_engine_of_a_rolling_start_unless_on_each(app, fleet_cli, contexts) -> None:
    """Issue 22: a migration of shared data runs once; data per host runs it on each."""
    cli = fleet_cli
    app.write({"release": ["sh", "-c", "echo migrated"]}, expose=(), cmd="sleep 600")
    cli("--context", both(contexts), "build", app.family, str(app.dir), "-q")
    first = cli("--context", both(contexts), "start", "new", app.family, *FAST, "--parallel", "2")
    assert "it ran on the first engine of this start" in first.err
    releases = {role: engine_history(cli, contexts, role, app.family)[-1].get("release") for role in ("one", "two")}
    assert releases["one"]["outcome"] == "ok" and releases["one"]["output"] == ["migrated"]
    assert releases["two"] is None
    app.write({"release": ["sh", "-c", "echo migrated"], "release_on": "each"}, expose=(), cmd="sleep 600")
    cli("--context", both(contexts), "build", app.family, str(app.dir), "-q")
    cli("--context", both(contexts), "start", "new", app.family, *FAST)
    for role in ("one", "two"):
        assert engine_history(cli, contexts, role, app.family)[-1]["release"]["outcome"] == "ok", role
