"""The order of the docker calls of start, stop, stable and prune, with no
engine: tests/docker_double.py answers from a table and logs each call. The
real-engine tests check what the engine ends up with; these check what
dockervisor asks of it, and in which order (a stop after the new container's
run, a mark before its check, a lock released before the last change would
all pass many real-engine tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from docker_double import DockerDouble, inspect_document, ps_line
from support import REPO

HOST = "unix:///var/run/docker.sock"
LOCK = [("container create --name dockervisor-lock-app *", {"stdout": "lockid\n"}),
        ("container rm --force lockid", {})]  # fmt: skip
IMAGE = ("image inspect app:latest", {"stdout": json.dumps([{"Id": "sha256:1", "Config": {"Labels": {}}}]) + "\n"})


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def family(home: Path, last: str | None = None, stable: str | None = None) -> None:
    """The family's state as `dockervisor build` leaves it (then starts and marks)."""
    code = (
        "import sys\n"
        "from dockervisor.engine.contexts import key_for\n"
        "from dockervisor.store import paths, state\n"
        "from dockervisor.config.runconfig import RunConfig\n"
        "with paths.engine_state(key_for(sys.argv[1])):\n"
        "    state.save(state.FamilyState('app', last=sys.argv[2] or None, stable=sys.argv[3] or None,\n"
        "                                 run_config=RunConfig([], [])))\n"
    )
    subprocess.run([sys.executable, "-c", code, HOST, last or "", stable or ""], check=True, cwd=REPO,
                   env=environment(home, {}))  # fmt: skip


def environment(home: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER", "DOCKERVISOR"))}
    env.update(DOCKERVISOR_HOME=str(home), DOCKER_HOST=HOST, DOCKER_CONFIG=str(home.parent / "docker-config"),
               PYTHONPATH=str(REPO), NO_COLOR="1", **extra)  # fmt: skip
    return env


def run(home: Path, double: DockerDouble, *args: str, expect: int = 0, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "dockervisor", *args], cwd=REPO, capture_output=True, text=True,
                          env=environment(home, {**double.env, **(env or {})}), stdin=subprocess.DEVNULL,
                          timeout=60)  # fmt: skip
    assert done.returncode == expect, (done.returncode, done.stderr, double.calls())
    return done


def containers(*rows: tuple[str, str]) -> dict:
    """`docker ps` of the family, newest first: (name, state) each."""
    return {"stdout": "".join(ps_line(name, state, "app") for name, state in rows)}


def inspected(*rows: tuple[str, str]) -> dict:
    documents = [json.loads(inspect_document(name, "app", state))[0] for name, state in rows]
    for document in documents:
        document["SizeRw"] = 0
    return {"stdout": json.dumps(documents) + "\n"}


# Eight containers, newest first: one running, seven stopped; the default retention keeps five stopped ones.
CROWD = [("dcv_app_8", "running"), *((f"dcv_app_{n}", "exited") for n in range(7, 0, -1))]
BEYOND = ("dcv_app_2", "dcv_app_1")
ENGINE = [
    IMAGE,
    ("ps *", containers(*CROWD)),
    ("stop *", {}), ("start *", {}), ("run *", {"stdout": "newid\n"}), ("rm *", {}),
    ("container inspect --size *", inspected(*((n, "exited") for n in BEYOND))),
    *((f"container inspect {name}", {"stdout": inspect_document(name, "app", state)}) for name, state in CROWD),
    ("image ls *", {"stdout": ""}), ("history *", {"stdout": "0\n"}),
]  # fmt: skip


def called(double: DockerDouble) -> list[str]:
    """Each call as `verb [names...]`: the words that say what it did to which container."""
    shown = []
    for argv in double.calls():
        words = [w for w in argv if not w.startswith("-") and "{" not in w and "=" not in w]
        named = [w for w in words[1:] if w.startswith(("dcv_", "id-")) or w in ("inspect", "ls")]
        shown.append(" ".join(words[:1] + named))
    return shown


def test_stop_lists_then_stops_every_running_one_in_one_call(home: Path, tmp_path: Path) -> None:
    family(home, last="dcv_app_8")
    rules = [("ps *", containers(("dcv_app_3", "running"), ("dcv_app_2", "exited"), ("dcv_app_1", "restarting")))]
    double = DockerDouble(tmp_path / "double", [*rules, ("stop *", {})])
    run(home, double, "stop", "app")
    assert called(double) == ["ps", "stop dcv_app_3 dcv_app_1"]


def test_the_engines_lock_is_taken_before_the_first_call_and_let_go_after_the_last(home: Path, tmp_path: Path) -> None:
    family(home, last="dcv_app_8")
    double = DockerDouble(tmp_path / "double", [*LOCK, *ENGINE])
    run(home, double, "stop", "app", env={"DOCKERVISOR_ENGINE_LOCK": "on"})
    assert called(double) == ["container", "ps", "stop dcv_app_8", "container"]
    calls = double.calls()
    assert calls[0][:2] == ["container", "create"] and calls[-1] == ["container", "rm", "--force", "lockid"]


def test_start_last_stops_the_running_one_before_it_starts_the_last(home: Path, tmp_path: Path) -> None:
    family(home, last="dcv_app_7")
    double = DockerDouble(tmp_path / "double", ENGINE)
    run(home, double, "start", "last", "app", "--no-wait")
    assert called(double) == ["ps", "stop dcv_app_8", "start dcv_app_7"]


def test_stable_checks_the_running_container_before_it_marks_it(home: Path, tmp_path: Path) -> None:
    family(home, last="dcv_app_8")
    double = DockerDouble(tmp_path / "double", ENGINE)
    marked = run(home, double, "stable", "app")
    assert called(double) == ["ps", "container inspect dcv_app_8"]
    assert "dcv_app_8 is now the stable container" in marked.stderr


def test_stable_refuses_a_container_that_is_not_up_after_asking_once(home: Path, tmp_path: Path) -> None:
    family(home, last="dcv_app_8")
    restarting = ("container inspect dcv_app_8", {"stdout": inspect_document("dcv_app_8", "app", "restarting")})
    double = DockerDouble(tmp_path / "double", [restarting, *ENGINE])
    run(home, double, "stable", "app", expect=1)
    assert called(double) == ["ps", "container inspect dcv_app_8"]


def test_start_new_stops_the_old_before_it_runs_the_new_then_prunes_what_is_beyond_retention(
    home: Path, tmp_path: Path
) -> None:
    family(home, last="dcv_app_8")
    double = DockerDouble(tmp_path / "double", ENGINE)
    new = run(home, double, "start", "new", "app", "--no-wait").stdout.strip()
    calls = called(double)
    assert sorted(calls[:2]) == ["image inspect", "ps"]  # asked side by side, before anything changes
    assert calls[2:4] == ["stop dcv_app_8", f"run {new}"]
    assert_pruned(calls[4:])


def assert_pruned(calls: list[str]) -> None:
    """A prune: it lists first, then removes exactly the containers beyond retention, in one
    call, then the images they leave; it never stops, runs or starts anything."""
    assert sorted(calls[:2]) == ["image ls", "ps"]  # side by side
    assert [c for c in calls if c.split()[0] in ("rm", "rmi", "stop", "run", "start")] == [
        "rm " + " ".join(f"id-{name}" for name in BEYOND), "rmi"]  # fmt: skip
    assert calls[-2:] == ["rm " + " ".join(f"id-{name}" for name in BEYOND), "rmi"]


def test_prune_removes_only_what_is_beyond_retention_after_listing(home: Path, tmp_path: Path) -> None:
    family(home, last="dcv_app_8")
    double = DockerDouble(tmp_path / "double", ENGINE)
    run(home, double, "prune", "app")
    assert_pruned(called(double))
