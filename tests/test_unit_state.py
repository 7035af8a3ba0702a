"""State files and history: atomic, private, versioned, never silently replaced."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from dockervisor import history, state
from dockervisor.errors import DockervisorError
from dockervisor.runconfig import Mount, PortMapping, RunConfig


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_round_trip_with_schema_and_private_permissions(home: Path) -> None:
    config = RunConfig([PortMapping(80, 8080)], [Mount("app_data", "/data")], {"A": "b"}, None)
    state.save(state.FamilyState("app", last="c1", stable="c0", run_config=config, build={"x": 1}))
    path = home / "families" / "app.json"
    assert json.loads(path.read_text())["schema"] == state.SCHEMA_VERSION
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "families").stat().st_mode) == 0o700
    loaded = state.load("app")
    assert (loaded.last, loaded.stable, loaded.build) == ("c1", "c0", {"x": 1})
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
