"""A family as a Swarm service (issue 25), against a real two-node swarm:
tests/swarm.sh starts one of the run's own for this module, and the images
reach both nodes through the run's registry. What swarm reports about a
rolled-back update reads as the rollback it is (engine/services.py), where
`docker service update` itself exits 0; the verbs keep their meaning."""

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


@pytest.fixture(scope="module")
def swarm(engine: None, base_image: str):  # type: ignore[no-untyped-def]
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
        found = swarm_env(directory)
        # The nodes build nothing from the default engine's images: the base goes to the manager.
        saved = subprocess.run(["docker", "save", base_image], capture_output=True, check=True, timeout=120).stdout
        subprocess.run(["docker", "--host", found["DOCKERVISOR_TEST_SWARM"], "load", "-q"], input=saved,
                       capture_output=True, check=True, timeout=120)  # fmt: skip
        yield found
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
        while True:  # a start-first rollback may still be stopping the last new task
            running = [t for t in tasks_of(manager, family) if t["DesiredState"] == "Running"]
            if len(running) == 2 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert len(running) == 2 and all(t["Image"] == good for t in running), running
    finally:
        on(manager, *services.remove(family)[1:], check=False)
        if made:
            docker("rmi", "-f", *made, check=False)


# The verbs on a Swarm family ------------------------------------------------------


def swarm_family(project, swarm, **extra):  # type: ignore[no-untyped-def]
    """A family whose dcv file makes it a two-replica service; (project, env for the CLI)."""
    app = project("svc")
    policy = {"replicas": 2, "registry": REGISTRY, "monitor": "3s",
              "placement_preferences": ["spread=node.labels.dcvt.node"], **extra}  # fmt: skip
    app.write(overrides={"swarm": policy}, expose=(), volumes=(), content="one", cmd="httpd -f -p 8080 -h /www")
    return app, {"DOCKER_HOST": swarm["DOCKERVISOR_TEST_SWARM"]}


def tasks_by_node(swarm, family: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """What each engine of the swarm runs of the family: the images of its task containers."""
    found = {}
    for key in ("DOCKERVISOR_TEST_SWARM", "DOCKERVISOR_TEST_SWARM_WORKER"):
        ids = on(swarm[key], "ps", "--filter", f"label=com.docker.swarm.service.name={services.service_name(family)}",
                 "--format", "{{.ID}}").stdout.split()  # fmt: skip
        found[key] = on(swarm[key], "inspect", "--format", "{{.Config.Image}}", *ids).stdout.split() if ids else []
    return found


def served(swarm, family: str) -> set[str]:  # type: ignore[no-untyped-def]
    """What the family's task containers serve, asked inside each."""
    said = set()
    for key in ("DOCKERVISOR_TEST_SWARM", "DOCKERVISOR_TEST_SWARM_WORKER"):
        names = on(swarm[key], "ps", "--filter", f"label=com.docker.swarm.service.name={services.service_name(family)}",
                   "--format", "{{.Names}}").stdout.split()  # fmt: skip
        for name in names:
            said.add(on(swarm[key], "exec", name, "wget", "-qO-", "http://127.0.0.1:8080/index.html").stdout.strip())
    return said


@pytest.fixture
def service_cleanup(swarm):  # type: ignore[no-untyped-def]
    made: list[str] = []
    yield made
    for family in made:  # its images go with the swarm's engines, at the end of the module
        on(swarm["DOCKERVISOR_TEST_SWARM"], *services.remove(family)[1:], check=False)


def test_start_new_creates_the_service_with_a_task_on_each_node_and_status_shows_them(project, cli, swarm, service_cleanup) -> None:  # type: ignore[no-untyped-def]
    app, env = swarm_family(project, swarm)
    service_cleanup.append(app.family)
    built = cli("build", app.family, str(app.dir), env=env)
    pinned = cli.state_for(env, app.family)["build"]["pinned"]
    assert pinned.startswith(f"{REGISTRY}/{app.family}@sha256:"), built
    started = cli("start", "new", app.family, "--wait", "120", env=env)
    assert started.out.strip() == services.service_name(app.family), started
    images = tasks_by_node(swarm, app.family)
    assert [len(v) for v in images.values()] == [1, 1], images
    assert all(i.endswith(pinned.partition("@")[2]) for v in images.values() for i in v), images
    assert served(swarm, app.family) == {"one"}
    report = json.loads(cli("status", app.family, "--json", env=env).out)["families"][0]
    assert report["ok"] and report["state"] == "running" and report["image_id"] == pinned, report
    assert report["service"]["replicas"] == 2 and report["service"]["running"] == 2
    assert sum(len(tasks) for tasks in report["service"]["nodes"].values()) == 2
    again = cli("start", "new", app.family, env=env)  # the same image: nothing to do
    assert cli.history_for(env, app.family)[-1]["outcome"] == "no-op", again
    typed = cli("start", "new", app.family, "--env", "LEVEL=debug", env=env, expect=1)  # never dropped unsaid
    assert "only when it is created" in typed.err, typed
    refused = cli("logs", app.family, env=env, expect=1)  # a container verb says what to use instead
    assert "runs as a Swarm service" in refused.err and "docker service logs" in refused.err, refused



def test_a_broken_image_is_rolled_back_by_swarm_and_start_exits_3(project, cli, swarm, service_cleanup) -> None:  # type: ignore[no-untyped-def]
    app, env = swarm_family(project, swarm)
    service_cleanup.append(app.family)
    cli("build", app.family, str(app.dir), env=env)
    good = cli.state_for(env, app.family)["build"]["pinned"]
    cli("start", "new", app.family, "--wait", "120", env=env)
    app.write(cmd="exit 1", expose=(), volumes=(), content="broken")
    cli("build", app.family, str(app.dir), env=env)
    failed = cli("start", "new", app.family, "--wait", "120", env=env, expect=3)
    assert "rolled" in failed.err and "back" in failed.err, failed
    entry = cli.history_for(env, app.family)[-1]
    assert entry["outcome"] == "rolled-back" and entry["exit_code"] == 3, entry
    assert all(i.endswith(good.partition("@")[2]) for v in tasks_by_node(swarm, app.family).values() for i in v)
    assert served(swarm, app.family) == {"one"}
    # The rollback's status stays on the service; a later scale back up is no rollback of its own.
    cli("stop", app.family, env=env)
    cli("start", "last", app.family, "--wait", "60", env=env)
    assert served(swarm, app.family) == {"one"}


def test_stable_then_start_stable_after_two_updates_runs_the_marked_digest(project, cli, swarm, service_cleanup) -> None:  # type: ignore[no-untyped-def]
    app, env = swarm_family(project, swarm)
    service_cleanup.append(app.family)
    cli("build", app.family, str(app.dir), env=env)
    cli("start", "new", app.family, "--wait", "120", env=env)
    marked = cli.state_for(env, app.family)["build"]["pinned"]
    cli("stable", app.family, env=env)
    for content in ("two", "three"):
        app.write(content=content, expose=(), volumes=(), cmd="httpd -f -p 8080 -h /www")
        cli("build", app.family, str(app.dir), env=env)
        cli("start", "new", app.family, "--wait", "120", env=env)
    assert served(swarm, app.family) == {"three"}
    cli("start", "stable", app.family, "--wait", "120", env=env)
    assert served(swarm, app.family) == {"one"}
    assert all(i.endswith(marked.partition("@")[2]) for v in tasks_by_node(swarm, app.family).values() for i in v)

    on(swarm["DOCKERVISOR_TEST_SWARM"], *services.scale(app.family, 3)[1:])  # scaled by hand: remembered
    cli("stop", app.family, env=env)
    assert tasks_by_node(swarm, app.family) == {k: [] for k in tasks_by_node(swarm, app.family)}
    report = json.loads(cli("status", app.family, "--json", env=env, expect=5).out)["families"][0]
    assert report["service"]["replicas"] == 0 and not report["ok"]
    before = cli.state_for(env, app.family)["service"]
    cli("start", "last", app.family, "--wait", "120", env=env)  # brings back what ran, as many
    assert served(swarm, app.family) == {"one"}
    assert sum(len(v) for v in tasks_by_node(swarm, app.family).values()) == 3
    after = cli.state_for(env, app.family)["service"]
    # the image before is kept: a stop and its start last are no move between images
    assert (after["image"], after["previous"], after["stopped_replicas"]) == (marked, before["previous"], None)


def test_a_named_volume_without_a_pinning_constraint_is_refused_at_build(project, cli, swarm) -> None:  # type: ignore[no-untyped-def]
    app = project("svcvol")
    app.write(overrides={"swarm": {"registry": REGISTRY}}, expose=())  # the Dockerfile's VOLUME /data
    env = {"DOCKER_HOST": swarm["DOCKERVISOR_TEST_SWARM"]}
    refused = cli("build", app.family, str(app.dir), env=env, expect=1)
    assert "node.hostname==NODE" in refused.err and f"{app.family}_data" in refused.err, refused
    assert "nothing was recorded" in refused.err
    app.write(overrides={"swarm": {}}, expose=())
    no_registry = cli("build", app.family, str(app.dir), env=env, expect=1)
    assert "registry" in no_registry.err, no_registry
    # What a service would not carry is refused, never dropped without a word.
    app.write(overrides={"swarm": {"registry": REGISTRY}, "user": "1000:1000", "read_only": True}, expose=(), volumes=())
    options = cli("build", app.family, str(app.dir), env=env, expect=1)
    assert "does not carry read_only, user" in options.err, options
    app.write(overrides={"swarm": {"registry": REGISTRY}, "ports": {"127.0.0.1:47999": "8080"}}, expose=(), volumes=())
    bound = cli("build", app.family, str(app.dir), env=env, expect=1)
    assert "127.0.0.1:47999 is bound to one address" in bound.err, bound
    assert not (cli.state_dir / "families" / f"{app.family}.json").exists()


def test_a_first_start_that_does_not_come_up_leaves_no_service(project, cli, swarm, service_cleanup) -> None:  # type: ignore[no-untyped-def]
    """Its tasks run for 3 s, then fail: up for a moment, never for the 5 s monitor."""
    app, env = swarm_family(project, swarm, monitor="5s")
    service_cleanup.append(app.family)
    app.write(cmd="sleep 3; exit 1", expose=(), volumes=(), content="broken")
    cli("build", app.family, str(app.dir), env=env)
    failed = cli("start", "new", app.family, "--wait", "20", env=env, expect=3)
    assert "did not come up" in failed.err and "removed" in failed.err, failed
    gone = on(swarm["DOCKERVISOR_TEST_SWARM"], *services.inspect(app.family)[1:], check=False)
    assert gone.returncode != 0  # no service left half-started
    entry = cli.history_for(env, app.family)[-1]
    assert (entry["action"], entry["outcome"], entry["exit_code"]) == ("start new", "rolled-back", 3), entry


def test_a_swarm_family_on_an_engine_that_is_no_manager_is_refused(project, cli, engine) -> None:  # type: ignore[no-untyped-def]
    """No swarm needed: the default engine is no manager, and says so in one line."""
    if not REGISTRY:
        pytest.skip("no registry: DOCKERVISOR_TEST_REGISTRY is unset (run the tests with ./tests/run)")
    app = project("svcnomgr")
    app.write(overrides={"swarm": {"registry": REGISTRY}}, expose=(), volumes=())
    built = cli("build", app.family, str(app.dir))
    pinned = cli.state(app.family)["build"]["pinned"]
    assert pinned.startswith(f"{REGISTRY}/{app.family}@sha256:"), built
    refused = cli("start", "new", app.family, expect=1)
    lines = refused.err.strip().splitlines()
    assert len(lines) == 1 and "is not a swarm manager" in lines[0], refused
    assert cli.history(app.family)[-1]["outcome"] == "failed"
    docker("rmi", "-f", f"{REGISTRY}/{app.family}", check=False)
    tags = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", f"{REGISTRY}/{app.family}").stdout.split()
    if tags:
        docker("rmi", "-f", *tags, check=False)
