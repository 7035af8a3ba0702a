"""Housekeeping without an engine: argv builders, the "keep" key, the run digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockervisor.engine import argv as docker_argv
from dockervisor.core.errors import DockervisorError
from dockervisor.config.fingerprint import run_digest, sha256
from dockervisor.config.overrides import load_overrides, parse_overrides
from dockervisor.config.runconfig import Mount, PortMapping, RunConfig


def test_removals_are_one_command_for_many_objects() -> None:
    assert docker_argv.remove_containers(["a", "b"]) == ["docker", "rm", "--volumes", "a", "b"]
    assert docker_argv.remove_images(["sha256:1", "app:latest"]) == ["docker", "rmi", "sha256:1", "app:latest"]
    assert docker_argv.remove_volumes(["app_data"]) == ["docker", "volume", "rm", "app_data"]


def test_queries_for_a_prune() -> None:
    assert docker_argv.list_all_containers()[:4] == ["docker", "ps", "--all", "--no-trunc"]
    assert "--filter" not in docker_argv.list_all_containers()
    assert docker_argv.list_dangling_built("app") == [
        "docker", "image", "ls", "--quiet", "--no-trunc",
        "--filter", "dangling=true", "--filter", "label=dockervisor.built=app",
    ]  # fmt: skip
    assert docker_argv.inspect_containers_with_sizes(["a"]) == ["docker", "container", "inspect", "--size", "a"]
    assert docker_argv.layer_sizes("app:latest") == [
        "docker", "history", "--human=false", "--format", "{{.Size}}", "app:latest",
    ]  # fmt: skip
    assert docker_argv.inspect_volumes(["v"]) == ["docker", "volume", "inspect", "--format", "{{.Name}}", "v"]


def test_the_config_label_goes_after_the_family_label() -> None:
    assert docker_argv.run("n", "app", RunConfig([], []), None, "abc") == [
        "docker", "run", "--detach", "--name", "n", "--label", "dockervisor.image=app",
        "--label", "dockervisor.config=abc", "--restart", "unless-stopped", "--pull", "never",
        "app:latest",
    ]  # fmt: skip


@pytest.mark.parametrize("value, expected", [(3, 3), ("all", None)])
def test_keep_in_the_overrides(tmp_path: Path, value: object, expected: object) -> None:
    assert parse_overrides({"keep": value}, str(tmp_path / "dcv-app")).keep == expected


def test_keep_defaults_to_five(tmp_path: Path) -> None:
    assert parse_overrides({}, str(tmp_path / "dcv-app")).keep == 5


@pytest.mark.parametrize("value", [0, -1, "0", "3", 2.5, True, "five", "٣", None, [], "All"])
def test_a_bad_keep_names_the_file_and_the_key(tmp_path: Path, value: object) -> None:
    path = tmp_path / "dcv-app"
    path.write_text(json.dumps({"keep": value}))
    with pytest.raises(DockervisorError) as raised:
        load_overrides(str(path))
    assert raised.value.message.startswith(f"{path}: keep: ")
    assert "whole number" in raised.value.message


def test_keep_is_recorded_and_old_state_files_load_with_the_default() -> None:
    config = RunConfig([PortMapping(80, 8080)], [Mount("app_data", "/data")], keep=None)
    assert config.to_dict()["keep"] == "all"
    assert RunConfig.from_dict(config.to_dict()).keep is None
    written_before = {key: value for key, value in config.to_dict().items() if key != "keep"}
    assert RunConfig.from_dict(written_before).keep == 5
    with pytest.raises(ValueError, match="keep"):
        RunConfig.from_dict({**config.to_dict(), "keep": 0})


def test_the_run_digest_changes_with_what_a_container_gets(tmp_path: Path) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_text("TOKEN=one\n")
    config = RunConfig([PortMapping(80, 8080)], [], {"MODE": "prod"}, str(env_file))
    digest = run_digest(config, {"A": "1"})
    assert len(digest) == 64 and "prod" not in digest
    assert run_digest(config, {"A": "1"}) == digest
    assert run_digest(config, {"A": "2"}) != digest
    assert run_digest(RunConfig([PortMapping(81, 8080)], [], {"MODE": "prod"}, str(env_file)), {"A": "1"}) != digest
    assert run_digest(RunConfig(config.ports, [], {"MODE": "dev"}, str(env_file)), {"A": "1"}) != digest
    # Retention is not how a container runs.
    assert run_digest(RunConfig(config.ports, [], {"MODE": "prod"}, str(env_file), keep=2), {"A": "1"}) == digest
    # start new merges the env_file's values into what it digests.
    assert run_digest(config, {"A": "1", "TOKEN": "two"}) != run_digest(config, {"A": "1", "TOKEN": "one"})


def test_the_cheap_sha256_is_sha256() -> None:
    import hashlib

    assert sha256(b"dockervisor").hexdigest() == hashlib.sha256(b"dockervisor").hexdigest()


@pytest.mark.parametrize(
    "states, same, current",
    [
        (["running"], True, True),
        (["running"], False, False),
        (["exited", "running"], True, True),
        (["running", "running"], True, False),  # two run: a new start puts that right
        (["restarting"], True, False),
        (["paused"], True, False),
        ([], True, False),
    ],
)
def test_if_changed_is_a_no_op_only_for_one_running_container_of_the_same_image_and_digest(
    monkeypatch: pytest.MonkeyPatch, states: list[str], same: bool, current: bool
) -> None:
    import io

    from dockervisor.commands import start
    from dockervisor.engine.query import ContainerSummary
    from dockervisor.store.history import Entry

    digest = "d" * 64
    containers = [ContainerSummary(f"id{i}", f"dcv_app_{i}", s, "", "app", "app") for i, s in enumerate(states)]
    labels = {docker_argv.CONFIG_LABEL: digest if same else "e" * 64}
    monkeypatch.setattr(start.query, "inspect_container",
                        lambda docker, ref: {"Id": ref, "Image": "sha256:1", "Config": {"Labels": labels}})  # fmt: skip
    ctx = type("Ctx", (), {"docker": None, "stdout": io.StringIO(), "info": lambda self, m: None})()
    entry = Entry("start new", "dockervisor start new app --if-changed")
    assert start.already_current(ctx, containers, "sha256:1", digest, entry) is current  # type: ignore[arg-type]
    assert (entry.outcome == "no-op") is current
