"""State files and history: atomic, private, versioned, never silently replaced."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from dockervisor.store import history, state
from dockervisor.core.errors import DockervisorError
from dockervisor.config.runconfig import Mount, PortMapping, RunConfig


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_round_trip_with_schema_and_private_permissions(home: Path) -> None:
    config = RunConfig([PortMapping(80, 8080)], [Mount("app_data", "/data")], {"A": "b"}, None)
    state.save(state.FamilyState("app", last="c1", stable="c0", run_config=config, build={"x": "1"}))
    path = home / "families" / "app.json"
    assert json.loads(path.read_text())["schema"] == state.SCHEMA_VERSION
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "families").stat().st_mode) == 0o700
    loaded = state.load("app")
    assert (loaded.last, loaded.stable, loaded.build) == ("c1", "c0", {"x": "1"})
    assert loaded.run_config is not None and loaded.run_config.to_dict() == config.to_dict()
    assert [p.name for p in (home / "families").iterdir()] == ["app.json"]  # no temp file left


def test_missing_state_is_an_empty_family() -> None:
    family = state.load("app")
    assert (family.last, family.stable, family.run_config) == (None, None, None)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[]", b'{"schema": 1}', b'{"schema": 1, "image": "other", "build": {}}',
     b'{"schema": 1, "image": "app", "last": 5, "build": {}}', b"\xff\xfe"],
)  # fmt: skip
def test_a_damaged_state_file_is_reported_and_left_alone(home: Path, content: bytes) -> None:
    path = home / "families" / "app.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(DockervisorError) as raised:
        state.load("app")
    assert str(path) in raised.value.message and "damaged" in raised.value.message
    assert path.read_bytes() == content


VALID_CONFIG = {
    "ports": [{"host": 8080, "container": 80, "protocol": "tcp"}, {"host": 53, "container": 53, "protocol": "sctp"}],
    "mounts": [{"source": "app_data", "target": "/data"}, {"source": "/srv/site", "target": "/www"}],
    "env": {"MODE": "prod", "_X1": ""},
    "env_file": "/etc/app.env",
}


def document(**changes: object) -> dict:
    """A state document as `save` writes it, with `changes`; run_config changes
    go in as run_config__KEY."""
    config = dict(VALID_CONFIG)
    base: dict = {"schema": 1, "image": "app", "last": "dcv_app_20260101000000", "stable": None,
                  "run_config": config, "build": {"context": "/src", "overrides": None}}  # fmt: skip
    for key, value in changes.items():
        if key.startswith("run_config__"):
            config[key[len("run_config__"):]] = value
        else:
            base[key] = value
    return base


def port(host: object, container: object = 80, protocol: object = "tcp") -> list:
    return [{"host": host, "container": container, "protocol": protocol}]


def mount(source: object, target: object = "/data") -> list:
    return [{"source": source, "target": target}]


# What a hand-edit can produce, side by side: accepted, then refused with the words that say why.
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"last": None, "stable": "dcv_app_2026_2"},
        {"run_config": None},
        {"run_config__ports": port(1, 65535, "udp")},
        {"run_config__mounts": mount("/", "/host")},  # the host's root, as a build could record
        {"run_config__mounts": mount("/srv/a", "/a") + mount("/srv/a", "/b")},  # one host dir twice
        {"run_config__env": {}, "run_config__env_file": None},
        {"build": {}},
    ],
)
def test_a_valid_state_file_loads(home: Path, changes: dict) -> None:
    write_state(home, document(**changes))
    assert state.load("app").image == "app"


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"schema": 0}, "schema"),
        ({"schema": -3}, "schema"),
        ({"schema": True}, "schema"),
        ({"schema": "1"}, "schema"),
        ({"last": "../../etc"}, "last must be a container name"),
        ({"stable": "-rm"}, "stable must be a container name"),
        ({"stable": "a" * 256}, "stable must be a container name"),
        ({"last": ["x"]}, "last must be a container name"),
        ({"build": []}, "build must be an object"),
        ({"build": {"context": {"deep": {}}}}, "build must be an object of strings"),
        ({"run_config": []}, "run_config is not an object"),
        ({"run_config__ports": port(99999, 0)}, "1 to 65535"),
        ({"run_config__ports": port(0)}, "1 to 65535"),
        ({"run_config__ports": port(True)}, "1 to 65535"),
        ({"run_config__ports": port(80, 80.0)}, "1 to 65535"),
        ({"run_config__ports": port("80")}, "1 to 65535"),
        ({"run_config__ports": port(80, 80, "icmp")}, "unknown protocol"),
        ({"run_config__ports": port(80, 1) + port(80, 2)}, "host port 80/tcp is published twice"),
        ({"run_config__ports": [{"host": 80}]}, "malformed"),
        ({"run_config__ports": "80:80"}, "malformed"),
        ({"run_config__mounts": mount("data", "relative")}, "not a usable mount point"),
        ({"run_config__mounts": mount("data", "/")}, "not a usable mount point"),
        ({"run_config__mounts": mount("data", "/a/../b")}, "not a usable mount point"),
        ({"run_config__mounts": mount("data", "/a:ro")}, "not a usable mount point"),
        ({"run_config__mounts": mount("data", 5)}, "not a usable mount point"),
        ({"run_config__mounts": mount("relative/dir")}, "mount source"),
        ({"run_config__mounts": mount("./dir")}, "mount source"),
        ({"run_config__mounts": mount("/srv/../root")}, "mount source"),
        ({"run_config__mounts": mount("/srv/a,b")}, "mount source"),
        ({"run_config__mounts": mount("/srv/a:/etc")}, "mount source"),
        ({"run_config__mounts": mount("/srv/a\nb")}, "mount source"),
        ({"run_config__mounts": mount("bad name")}, "mount source"),
        ({"run_config__mounts": mount(None)}, "neither a volume name nor a usable host path"),
        ({"run_config__mounts": mount("v", "/a") + mount("w", "/a")}, "'/a' is mounted twice"),
        ({"run_config__mounts": mount("v", "/a") + mount("v", "/b")}, "'v' is mounted twice"),
        ({"run_config__env": {"1BAD": "x"}}, "not a valid environment variable name"),
        ({"run_config__env": {"A-B": "x"}}, "not a valid environment variable name"),
        ({"run_config__env": {"A": "line\nINJECTED=1"}}, "without a newline or NUL"),
        ({"run_config__env": {"A": "nul\0"}}, "without a newline or NUL"),
        ({"run_config__env": {"A": 5}}, "must be a string"),
        ({"run_config__env": ["A=1"]}, "malformed"),
        ({"run_config__env_file": "app.env"}, "env_file 'app.env' is not an absolute"),
        ({"run_config__env_file": "/etc/../root/.env"}, "not an absolute, normalized path"),
        ({"run_config__env_file": 5}, "env_file 5"),
    ],
)
def test_a_state_file_that_build_would_not_write_is_damaged(home: Path, changes: dict, words: str) -> None:
    path = write_state(home, document(**changes))
    content = path.read_bytes()
    with pytest.raises(DockervisorError) as raised:
        state.load("app")
    message = raised.value.message
    assert f"the state file {path} is damaged" in message and words in message
    assert "\n" not in message and "INJECTED" not in message
    assert path.read_bytes() == content


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_a_state_file_nested_too_deeply_is_damaged(home: Path, opening: str) -> None:
    path = home / "families" / "app.json"
    path.parent.mkdir(parents=True)
    path.write_text(opening * 100000)
    with pytest.raises(DockervisorError, match="damaged \\(nested too deeply\\)"):
        state.load("app")


def write_state(home: Path, content: dict) -> Path:
    path = home / "families" / "app.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    return path


def test_a_newer_schema_is_refused(home: Path) -> None:
    path = home / "families" / "app.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema": 99, "image": "app"}))
    with pytest.raises(DockervisorError, match="newer dockervisor"):
        state.load("app")


def test_history_appends_and_skips_a_torn_line(home: Path, capsys: pytest.CaptureFixture) -> None:
    for action in ("build", "start new"):
        entry = history.Entry(action, f"dockervisor {action} app")
        history.append("app", entry, 0.0)
    path = home / "history" / "app.jsonl"
    with open(path, "a") as handle:
        handle.write('{"time": "2026-')  # a crash mid-write
    entries = history.read("app")
    assert [e["action"] for e in entries] == ["build", "start new"]
    assert entries[0]["time"] == "1970-01-01T00:00:00Z"
    assert "damaged" in capsys.readouterr().err
    assert history.read("app", limit=1)[0]["action"] == "start new"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
