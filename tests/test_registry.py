"""Images from a registry: the registry of the run's own that tests/run starts
(tests/registry.sh, DOCKERVISOR_TEST_REGISTRY=127.0.0.1:PORT, no TLS: the engine
treats loopback as an insecure registry). Each test pushes images under a
repository named after its own family and untags them locally afterwards.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request

import pytest

from support import REGISTRY, REPO, docker, free_port, http_get, inspect

# In CI (support.IN_CI: any truthy CI) a skipped test here fails the run (see conftest.py).
pytestmark = pytest.mark.never_skipped_in_ci
FAST = ("--settle", "1", "--wait", "20")


def push(app, registry: list[str], tag: str, content: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """What CI does: build, push REGISTRY/FAMILY:TAG, untag locally; the reference and image ID."""
    ref = f"{REGISTRY}/{app.family}:{tag}"
    registry.append(ref)
    app.write(overrides=None, content=content)
    docker("build", "-q", "-t", ref, str(app.dir))
    docker("push", "-q", ref)
    image_id = inspect(ref)["Id"]
    docker("rmi", ref)  # the engine has only what pull brings back
    return ref, image_id


def overrides(tmp_path, port: int):  # type: ignore[no-untyped-def]
    path = tmp_path / "ops" / "app.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"ports": {f"127.0.0.1:{port}": "8080"}}))
    return path


def test_pull_from_the_registry_records_the_reference_and_follows_a_moved_tag(project, cli, registry, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = project("regpull")
    ref, first = push(app, registry, "1.0", "first")
    port = free_port()
    ops = overrides(tmp_path, port)
    pulled = cli("pull", app.family, ref, "--overrides", str(ops))
    assert f"pulled {ref} as {app.family}" in pulled.err
    assert inspect(f"{app.family}:latest")["Id"] == first
    source = json.loads(cli("config", app.family, "--json").out)["source"]
    assert (source["kind"], source["reference"], source["image_id"]) == ("pull", ref, first)
    cli("start", "new", app.family, *FAST)
    assert http_get(port) == "first\n"

    _, second = push(app, registry, "1.0", "second")  # CI moves the tag
    assert second != first
    cli("pull", app.family, ref, "--overrides", str(ops))
    assert inspect(f"{app.family}:latest")["Id"] == second
    assert http_get(port) == "first\n"  # pulling changes no container
    cli("start", "new", app.family, *FAST)
    assert http_get(port) == "second\n"
    assert [e["action"] for e in cli.history(app.family)] == ["pull", "start new", "pull", "start new"]


def test_pull_of_a_tag_the_registry_lacks_fails_in_one_line_recording_nothing(project, cli, registry) -> None:  # type: ignore[no-untyped-def]
    app = project("regmissing")
    push(app, registry, "1.0", "there")
    failed = cli("pull", app.family, f"{REGISTRY}/{app.family}:9.9", expect=1)
    lines = failed.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dockervisor: error: ") and f"{app.family}:9.9" in lines[0], failed
    assert not (cli.state_dir / "families" / f"{app.family}.json").exists()
    assert not (cli.state_dir / "history" / f"{app.family}.jsonl").exists()


def test_registry_sh_gives_two_runs_two_registries_and_stop_leaves_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    if not shutil.which("docker-registry"):
        pytest.skip("no docker-registry (tests/run installs it as root with apt)")
    script = str(REPO / "tests" / "registry.sh")
    dirs = [tmp_path / "one", tmp_path / "two"]
    try:
        addresses = []
        for directory in dirs:
            started = subprocess.run([script, "start", str(directory)], capture_output=True, text=True, timeout=60)
            assert started.returncode == 0 and started.stdout == "", started  # nothing on the run's stdout
            line = (directory / "env").read_text().strip()
            assert line.startswith("export DOCKERVISOR_TEST_REGISTRY=127.0.0.1:"), line
            addresses.append(line.split("=", 1)[1])
        assert addresses[0] != addresses[1]
        for address in addresses:
            with urllib.request.urlopen(f"http://{address}/v2/", timeout=5) as answer:
                assert answer.status == 200
    finally:
        for directory in dirs:
            for _ in range(2):  # safe to repeat
                assert subprocess.run([script, "stop", str(directory)], capture_output=True, timeout=60).returncode == 0
            assert not directory.exists()
    assert subprocess.run([script, "bogus"], capture_output=True, timeout=10).returncode == 2
