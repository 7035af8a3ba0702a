"""Issue 22, pure parts: the release keys, their record in the state, the
one-off container's exact argv, when a start runs the step, and the
executor's attached run (a real child process, no docker)."""

from __future__ import annotations

import io
import json

import pytest

from dockervisor.config.mounts import Mount, PortMapping
from dockervisor.config.overrides import parse_overrides
from dockervisor.config.releasepolicy import ReleasePolicy, problem_with
from dockervisor.config.runconfig import RunConfig
from dockervisor.config.runoptions import RunOptions
from dockervisor.core.errors import DockervisorError
from dockervisor.engine import oneoffs
from dockervisor.engine.executor import Executor
from dockervisor.store import state


@pytest.mark.parametrize(
    "key, value, problem",
    [
        ("release", ["./manage.py", "migrate"], None),
        ("release", ["sh", "-c", ""], None),  # an empty argument is an argument
        ("release", "migrate", "non-empty list"),
        ("release", [], "non-empty list"),
        ("release", ["", "x"], "the first not empty"),
        ("release", ["a", 1], "[1]: each argument"),
        ("release", ["a\0b"], "[0]: each argument"),
        ("release_timeout", 90, None),
        ("release_timeout", "90s", None),
        ("release_timeout", "10m", None),
        ("release_timeout", "1h", None),
        ("release_timeout", "24h", None),
        ("release_timeout", "25h", "at most a day"),
        ("release_timeout", 0, "a duration"),
        ("release_timeout", True, "a duration"),
        ("release_timeout", "5d", "a duration"),
        ("release_timeout", "-5", "a duration"),
        ("release_timeout", 1.5, "a duration"),
        ("release_when", "before-stop", None),
        ("release_when", "after-stop", None),
        ("release_when", "after", "one of before-stop, after-stop"),
        ("release_on", "first", None),
        ("release_on", "each", None),
        ("release_on", "all", "one of first, each"),
    ],
)
def test_each_release_key_valid_and_invalid(key: str, value: object, problem: str | None) -> None:
    found = problem_with(key, value)
    assert (found is None) if problem is None else (problem in str(found)), found


def test_the_defaults_and_the_round_trip() -> None:
    policy = ReleasePolicy.from_dict({"release": ["migrate"]})
    assert policy.to_dict() == {"release": ["migrate"], "release_timeout": 600,
                                "release_when": "before-stop", "release_on": "first"}  # fmt: skip
    assert ReleasePolicy.from_dict(policy.to_dict()) == policy
    timed = ReleasePolicy.from_dict({"release": ["m"], "release_timeout": "2m", "release_on": "each"})
    assert (timed.timeout, timed.on) == (120, "each")


@pytest.mark.parametrize(
    "document, said",
    [
        ({"release_when": "after-stop"}, "dcv-app: release: the other release_ keys need a release command"),
        ({"release": ["m"], "release_on": "both"}, "dcv-app: release_on: the value must be one of first, each"),
        ({"release": "m"}, "dcv-app: release: the value must be a non-empty list"),
        ({"releases": ["m"]}, "dcv-app: releases: unknown key"),
    ],
)
def test_the_overrides_file_names_the_key_at_fault(document: dict, said: str) -> None:
    with pytest.raises(DockervisorError) as raised:
        parse_overrides(document, "/srv/dcv-app")
    assert said in raised.value.message


def test_a_release_is_recorded_with_a_schema_older_versions_refuse(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path))
    recorded = state.FamilyState("app", run_config=RunConfig([], []), release=ReleasePolicy(["migrate"], 60))
    state.save(recorded)
    path = next(tmp_path.rglob("app.json"))
    document = json.loads(path.read_text())
    assert document["schema"] == state.RELEASE_SCHEMA == 4
    assert state.load("app").release == ReleasePolicy(["migrate"], 60)
    plain = state.FamilyState("app", run_config=RunConfig([], []))
    state.save(plain)
    assert json.loads(path.read_text())["schema"] == state.SCHEMA_VERSION  # none: still readable by older ones
    document["schema"] = 2  # a release written under an older schema: not trusted
    path.write_text(json.dumps(document))
    with pytest.raises(DockervisorError, match="a release step needs 4"):
        state.load("app")
    document["schema"], document["release"] = 4, {"release": []}
    path.write_text(json.dumps(document))
    with pytest.raises(DockervisorError, match="damaged"):
        state.load("app")


def test_the_one_off_takes_the_setting_but_not_the_membership() -> None:
    options = RunOptions(
        networks=["backend", "monitoring"], user="1000:1000", memory="512m", labels={"traefik.enable": "true"},
        healthcheck={"test": ["CMD", "true"]}, log={"driver": "json-file", "max-size": "1m"},
    )  # fmt: skip
    config = RunConfig([PortMapping(8080, 80)], [Mount("app_data", "/data")], options=options)
    argv = oneoffs.create("dcv-release_app_1", "app", config, "sha256:abc", ["migrate", "--all"],
                          ["--env-file", "/dev/fd/5"], "owner1")  # fmt: skip
    assert argv == [
        "docker", "create", "--rm", "--name", "dcv-release_app_1",
        "--label", "dockervisor.oneoff=app", "--label", "dockervisor.owner=owner1",
        "--pull", "never", "--no-healthcheck", "--network", "backend",
        "--volume", "app_data:/data",
        "--user", "1000:1000", "--memory", "512m", "--log-driver", "json-file", "--log-opt", "max-size=1m",
        "--env-file", "/dev/fd/5", "--", "sha256:abc", "migrate", "--all",
    ]  # fmt: skip
    assert oneoffs.connect("dcv-release_app_1", options.networks) == [
        ["docker", "network", "connect", "monitoring", "dcv-release_app_1"]
    ]
    assert oneoffs.start_attached("n") == ["docker", "start", "--attach", "n"]
    assert oneoffs.start_attached("n", True) == ["docker", "start", "--attach", "--interactive", "n"]
    interactive = oneoffs.create("n", "app", RunConfig([], []), "sha256:abc", ["sh"], interactive=True, tty=True)
    assert interactive[interactive.index("--no-healthcheck") + 1 :] == ["--interactive", "--tty", "--", "sha256:abc", "sh"]


def test_a_one_off_is_never_named_as_a_member() -> None:
    from dockervisor.config.names import CONTAINER_PREFIX

    assert not oneoffs.name_for("app", "release", "20261203_ab").startswith(f"{CONTAINER_PREFIX}app_")


@pytest.mark.parametrize(
    "on, asked, runs",
    [
        ("first", "run", True),
        ("first", "skip", False),
        ("first", "ran", False),  # an engine after the first of a rolling start
        ("each", "ran", True),
        ("each", "skip", False),
    ],
)
def test_when_a_start_runs_the_release_step(on: str, asked: str, runs: bool) -> None:
    from dockervisor.commands.start import _release_step
    from dockervisor.store.history import Entry

    class Said:
        def __init__(self) -> None:
            self.lines: list[str] = []

        def info(self, line: str) -> None:
            self.lines.append(line)

    recorded = state.FamilyState("app", run_config=RunConfig([], []), release=ReleasePolicy(["m"], on=on))
    ctx = Said()
    step = _release_step(ctx, recorded, "sha256:abc", {}, Entry("start new", "x"), asked)  # type: ignore[arg-type]
    assert (step is not None) == runs
    assert bool(ctx.lines) == (not runs)  # a skipped step is said


def test_attached_shows_each_line_and_keeps_the_last_ones() -> None:
    said = io.StringIO()
    docker = Executor(stderr=said)
    code, tail = docker.attached(["sh", "-c", "echo one; printf 'two\\033]0;x\\n'; printf three; exit 3"], 30, kept=2)
    assert (code, tail) == (3, ["two\x1b]0;x", "three"])
    assert said.getvalue() == "  | one\n  | two\\x1b]0;x\n  | three\n"  # control sequences escaped


def test_attached_stops_at_its_time_limit_and_hides_what_it_is_told_to() -> None:
    said = io.StringIO()
    docker = Executor(stderr=said)
    code, tail = docker.attached(["sh", "-c", "echo token=s3cret; exec sleep 30"], 1.0,
                                 shown=lambda line: line.replace("s3cret", "[hidden]"))  # fmt: skip
    assert (code, tail) == (None, ["token=[hidden]"])
    assert "s3cret" not in said.getvalue()
