"""`dockervisor config`: the recorded configuration and its source, read from
the state alone; environment values never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockervisor.store import provenance
from dockervisor.store import state
from dockervisor.cli import main
from dockervisor.config.mounts import Mount, PortMapping
from dockervisor.config.runconfig import RunConfig
from dockervisor.config.runoptions import DEFAULT_LOG, RunOptions


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A family `app` built from tmp_path/src, with its dcv file as it was then."""
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    source = tmp_path / "src"
    source.mkdir()
    (source / "dcv-app").write_bytes(b"{}")
    options = RunOptions(networks=["backend"], memory="512m", cpus="1.5", log=dict(DEFAULT_LOG))
    config = RunConfig(
        [PortMapping(8080, 80, "tcp", "127.0.0.1")], [Mount(str(source), "/etc/app", True)],
        {"TOKEN": "s3cr3t-value"}, None, options,
    )  # fmt: skip
    build = {"source": "build", "context": str(source), "dockerfile": str(source / "Dockerfile"),
             "image_id": "sha256:" + "ab" * 32, "built_at": "2026-11-28T09:30:05Z",
             **provenance.record(str(source / "dcv-app"), provenance.digest(b"{}"))}  # fmt: skip
    state.save(state.FamilyState("app", run_config=config, build=build))
    return source


def test_json_shows_settings_and_source_never_env_values(recorded: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["config", "app", "--json"]) == 0
    out = capsys.readouterr().out
    assert "s3cr3t-value" not in out
    document = json.loads(out)
    assert document["env"] == ["TOKEN"]
    assert document["ports"] == [{"address": "127.0.0.1", "host": 8080, "container": 80, "protocol": "tcp"}]
    assert document["mounts"] == [{"source": str(recorded), "target": "/etc/app", "read_only": True, "type": "bind"}]
    assert (document["networks"], document["network_alias"]) == (["backend"], "app")
    assert (document["memory"], document["cpus"], document["log"]) == ("512m", "1.5", DEFAULT_LOG)
    source = document["source"]
    assert (source["kind"], source["context"], source["config_changed"]) == ("build", str(recorded), False)
    assert source["overrides_file"] == str(recorded / "dcv-app")


def test_text_says_where_it_came_from_and_what_changed(recorded: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["config", "app"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"app: built from {recorded}/Dockerfile at 2026-11-28T09:30:05Z (abababababab)"
    assert lines[1] == f"overrides: {recorded}/dcv-app (as recorded)"
    assert "  publishes host 127.0.0.1:8080 -> 80/tcp" in lines
    assert "  sets environment TOKEN" in lines
    (recorded / "dcv-app").write_bytes(b'{"memory": "1g"}')
    assert main(["config", "app"]) == 0
    out = capsys.readouterr().out
    assert f"has changed since; run `dockervisor build app {recorded}` to apply it" in out
    assert main(["config", "app", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["source"]["config_changed"] is True


def test_config_help_shows_an_example(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["config", "--help"])
    out = capsys.readouterr().out
    assert "example:" in out and "dockervisor config myapp --json" in out and "exit codes:" in out
