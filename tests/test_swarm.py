"""The groundwork of issue 25 (a family as a Swarm service) against a real
two-node swarm: tests/swarm.sh starts one of the run's own, and what swarm
reports about a rolled-back update reads as the rollback it is
(engine/services.py), where `docker service update` itself exits 0."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from dockervisor.config.runconfig import RunConfig
from dockervisor.config.swarmpolicy import SwarmPolicy
from dockervisor.engine import services
from support import REGISTRY, REPO, docker, new_family

pytestmark = pytest.mark.never_skipped_in_ci
SCRIPT = str(REPO / "tests" / "swarm.sh")


def on(host: str, *args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "--host", host, *args], capture_output=True, text=True, check=check,
                          timeout=timeout)  # fmt: skip


def swarm_env(directory: Path) -> dict[str, str]:
    found = {}
    for line in (directory / "env").read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        found[key] = value.strip('"')
    return found


@pytest.fixture
def swarm(engine: None, base_image: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    if os.geteuid() != 0 or not shutil.which("dockerd"):
        pytest.skip("a swarm of the run's own needs root and dockerd (tests/run runs as root in CI)")
    if not REGISTRY:
        pytest.skip("no registry: DOCKERVISOR_TEST_REGISTRY is unset (run the tests with ./tests/run)")
    import tempfile

    # Short: containerd's socket lives under the exec root, and a socket path has at most 107 bytes.
    directory = Path(tempfile.mkdtemp(prefix="dcvsw", dir="/tmp")) / "s"
    try:
        started = subprocess.run([SCRIPT, "start", str(directory)], capture_output=True, text=True, timeout=300)
        assert started.returncode == 0 and started.stdout == "", started
        yield swarm_env(directory)
    finally:
        for _ in range(2):  # safe to repeat
            assert subprocess.run([SCRIPT, "stop", str(directory)], capture_output=True, timeout=300).returncode == 0
        assert not directory.exists()
        directory.parent.rmdir()


def pushed(family: str, base: str, content: str, made: list[str], tmp_path: Path, cmd: str) -> str:
    """An image in the run's registry; its REPOSITORY@DIGEST."""
    build = tmp_path / f"build-{content}"
    build.mkdir()
    (build / "Dockerfile").write_text(f'FROM {base}\nRUN echo {content} > /index.html\nCMD ["sh", "-c", "{cmd}"]\n')
    ref = f"{REGISTRY}/{family}:{content}"
    docker("build", "-q", "-t", ref, str(build))
    docker("push", "-q", ref)
    made.append(ref)
    digest = json.loads(docker("image", "inspect", ref).stdout)[0]["RepoDigests"][0]
    made.append(digest)
    return digest


def tasks_of(host: str, family: str) -> list[dict]:
    listed = on(host, *services.tasks(family)[1:]).stdout
    return [json.loads(line) for line in listed.splitlines() if line.strip()]


def test_a_two_node_swarm_runs_a_service_on_both_and_a_failed_update_reads_as_rolled_back(swarm, base_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    manager, worker = swarm["DOCKERVISOR_TEST_SWARM"], swarm["DOCKERVISOR_TEST_SWARM_WORKER"]
    nodes = on(manager, "node", "ls", "--format", "{{json .}}").stdout.splitlines()
    assert [json.loads(n)["Status"] for n in nodes] == ["Ready", "Ready"]
    family = new_family("swarm")
    made: list[str] = []
    try:
        good = pushed(family, base_image, "good", made, tmp_path, "httpd -f -p 8080 -h /")
        policy = SwarmPolicy.from_dict({"replicas": 2, "monitor": "5s",
                                        "placement_preferences": ["spread=node.labels.dcvt.node"]})  # fmt: skip
        created = on(manager, *services.create(family, good, RunConfig([], []), policy, [], "d1g", None)[1:])
        assert created.returncode == 0, created
        service = json.loads(on(manager, *services.inspect(family)[1:]).stdout)[0]
        reading = services.read_update(service, tasks_of(manager, family), good.partition("@")[2], 2)
        assert reading.outcome == services.DONE, (reading.message, reading.nodes)
        # one task on each engine: each node runs one container of the family
        for host in (manager, worker):
            names = on(host, "ps", "--filter", f"label=com.docker.swarm.service.name={services.service_name(family)}",
                       "--format", "{{.Names}}").stdout.split()  # fmt: skip
            assert len(names) == 1, (host, names)

        broken = pushed(family, base_image, "broken", made, tmp_path, "exit 1")
        update = on(manager, *services.update_image(family, broken, policy, has_volumes=False)[1:], check=False)
        assert update.returncode == 0, update  # docker/cli#6752: docker says nothing of the rollback
        deadline = time.monotonic() + 120
        while True:  # the rollback may still be settling when the command returns
            service = json.loads(on(manager, *services.inspect(family)[1:]).stdout)[0]
            reading = services.read_update(service, tasks_of(manager, family), broken.partition("@")[2], 2)
            if reading.outcome != services.UNDER_WAY or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert reading.outcome == services.ROLLED_BACK, (service.get("UpdateStatus"), reading.failures)
        assert reading.failures and all(" on " in f for f in reading.failures)
        running = [t for t in tasks_of(manager, family) if t["DesiredState"] == "Running"]
        assert len(running) == 2 and all(t["Image"] == good for t in running), running
    finally:
        on(manager, *services.remove(family)[1:], check=False)
        if made:
            docker("rmi", "-f", *made, check=False)
