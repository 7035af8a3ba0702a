"""A family as a Swarm service, the pure half: its policy in dcv-IMAGENAME,
the service command lines by exact lists, and what UpdateStatus and the
tasks say an update came to."""

from __future__ import annotations

import pytest

from dockervisor.config.mounts import Mount, PortMapping
from dockervisor.config.runconfig import RunConfig
from dockervisor.config.swarmpolicy import SwarmPolicy, refuse_unpinned_volumes
from dockervisor.engine import services

DIGEST = "sha256:" + "c" * 64
IMAGE = f"127.0.0.1:5000/app@{DIGEST}"


def policy(**given: object) -> SwarmPolicy:
    return SwarmPolicy.from_dict(given)


# The policy -------------------------------------------------------------------


def test_the_defaults_and_a_round_trip() -> None:
    default = policy()
    assert (default.replicas, default.mode, default.monitor, default.publish_mode) == (1, "replicated", 15, "ingress")
    assert default.order(has_volumes=False) == "start-first" and default.order(has_volumes=True) == "stop-first"
    full = policy(replicas=3, update_order="start-first", update_parallelism=2, monitor="30s",
                  constraints=["node.hostname==web1"], placement_preferences=["spread=node.labels.zone"],
                  registry="registry.example.com:5000", publish_mode="host")  # fmt: skip
    assert SwarmPolicy.from_dict(full.to_dict()) == full
    assert full.order(has_volumes=True) == "start-first"  # said so: kept


def test_a_global_service_reads_back_as_it_was_written() -> None:
    glob = policy(mode="global", registry="127.0.0.1:5000")
    assert "replicas" not in glob.to_dict()
    assert SwarmPolicy.from_dict(glob.to_dict()) == glob


def test_a_scale_after_a_stop_is_part_of_the_one_update() -> None:
    argv = services.update_image("app", IMAGE, policy(), has_volumes=False, replicas=3)
    assert argv[argv.index("--image") + 2 : argv.index("--image") + 4] == ["--replicas", "3"]


@pytest.mark.parametrize("given, problem", [
    ({"replicas": 0}, "replicas: must be a whole number from 1"),
    ({"replicas": True}, "replicas: must be a whole number"),
    ({"update_parallelism": 0}, "update_parallelism: must be a whole number from 1"),
    ({"mode": "spread"}, "mode: must be one of replicated, global"),
    ({"mode": "global", "replicas": 2}, "one task per node"),
    ({"update_order": "first"}, "update_order: must be one of"),
    ({"monitor": "forever"}, "monitor:"),
    ({"constraints": "node.hostname==a"}, "constraints: must be a list"),
    ({"constraints": ["node.hostname=a"]}, "is not like 'node.hostname==web1'"),
    ({"constraints": ["node.hostname==a\n--privileged"]}, "is not like"),
    ({"placement_preferences": ["spread=node.id"]}, "is not like 'spread=node.labels.zone'"),
    ({"registry": "https://reg.example.com"}, "is not a registry address"),
    ({"publish_mode": "local"}, "publish_mode: must be one of ingress, host"),
    ({"replica": 2}, "swarm must be an object with the keys"),
])  # fmt: skip
def test_a_wrong_value_names_its_key(given: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        SwarmPolicy.from_dict(given)


@pytest.mark.parametrize("constraints, refused", [
    ([], True),
    (["node.role==worker"], True),  # any worker: the volume stays behind
    (["node.hostname!=web1"], True),
    (["node.hostname==web1"], False),
    (["node.id==abc123"], False),
    (["node.labels.db==yes"], False),
])  # fmt: skip
def test_named_volumes_need_a_constraint_that_pins_the_tasks(constraints: list[str], refused: bool) -> None:
    why = refuse_unpinned_volumes(policy(constraints=constraints), ["app_data"])
    assert (why is not None) == refused
    if refused:
        assert "app_data" in why and "node.hostname==NODE" in why  # type: ignore[operator]
    assert refuse_unpinned_volumes(policy(constraints=constraints), []) is None


# The command lines --------------------------------------------------------------


def config() -> RunConfig:
    return RunConfig([PortMapping(8080, 80)], [Mount("app_data", "/data"), Mount("/srv/conf", "/conf", True)])


def test_create_by_exact_list() -> None:
    argv = services.create("app", IMAGE, config(), policy(replicas=2, constraints=["node.hostname==web1"]),
                           ["--env-file", "/dev/fd/5"], "d1g", "0wner")  # fmt: skip
    assert argv == [
        "docker", "service", "create", "--detach=false", "--quiet", "--with-registry-auth",
        "--name", "dcv_app",
        "--label", "dockervisor.image=app",
        "--label", "dockervisor.owner=0wner", "--label", "dockervisor.config=d1g",
        "--replicas", "2",
        "--update-order", "stop-first", "--update-parallelism", "1", "--update-monitor", "15s",
        "--update-failure-action", "rollback", "--rollback-order", "stop-first", "--rollback-monitor", "15s",
        "--constraint", "node.hostname==web1",
        "--publish", "published=8080,target=80,protocol=tcp,mode=ingress",
        "--mount", "type=volume,source=app_data,target=/data",
        "--mount", "type=bind,source=/srv/conf,target=/conf,readonly",
        "--env-file", "/dev/fd/5",
        IMAGE,
    ]  # fmt: skip


def test_a_global_service_has_no_replica_count() -> None:
    argv = services.create("app", IMAGE, RunConfig([], []), policy(mode="global"), [], "d", None)
    assert "--mode" in argv and argv[argv.index("--mode") + 1] == "global" and "--replicas" not in argv
    assert "dockervisor.owner" not in " ".join(argv)


def test_update_scale_inspect_tasks_by_exact_lists() -> None:
    assert services.update_image("app", IMAGE, policy(monitor="30s"), has_volumes=False) == [
        "docker", "service", "update", "--detach=false", "--quiet", "--with-registry-auth", "--image", IMAGE,
        "--update-order", "start-first", "--update-parallelism", "1", "--update-monitor", "30s",
        "--update-failure-action", "rollback", "--rollback-order", "start-first", "--rollback-monitor", "30s",
        "dcv_app",
    ]  # fmt: skip
    assert services.scale("app", 0) == ["docker", "service", "scale", "--detach=false", "dcv_app=0"]
    assert services.inspect("app") == ["docker", "service", "inspect", "dcv_app"]
    assert services.tasks("app") == ["docker", "service", "ps", "--no-trunc", "--format", "{{json .}}", "dcv_app"]
    assert services.remove("app") == ["docker", "service", "rm", "dcv_app"]
    assert services.tag_for_push("app", "reg:5000/app:1") == ["docker", "tag", "app:latest", "reg:5000/app:1"]
    assert services.push("reg:5000/app:1") == ["docker", "push", "reg:5000/app:1"]
    assert services.swarm_info() == ["docker", "info", "--format", "{{json .Swarm}}"]


# What an update came to ---------------------------------------------------------


def task(name: str, node: str, state: str = "Running 5 seconds ago", desired: str = "Running",
         image: str = IMAGE, error: str = "") -> dict:  # fmt: skip
    return {"Name": name, "Node": node, "CurrentState": state, "DesiredState": desired, "Image": image,
            "Error": error}  # fmt: skip


OLD = f"127.0.0.1:5000/app@sha256:{'d' * 64}"
READINGS = [
    # UpdateStatus.State, tasks, replicas, outcome
    ("completed", [task("app.1", "n1"), task("app.2", "n2")], 2, services.DONE),
    (None, [task("app.1", "n1"), task("app.2", "n2")], 2, services.DONE),  # a first create
    ("completed", [task("app.1", "n1")], 2, services.DEGRADED),  # one replica short
    ("completed", [task("app.1", "n1"), task("app.2", "n2", image=OLD)], 2, services.DEGRADED),
    ("completed", [task("app.1", "n1", state="Starting 1 second ago"), task("app.2", "n2")], 2, services.DEGRADED),
    ("completed", [task("app.1", "n1"), task("app.2", "n2")], None, services.DONE),  # global
    ("rollback_completed", [task("app.1", "n1", image=OLD),
                            task("app.1", "n2", "Failed 3 seconds ago", "Shutdown", error="task: non-zero exit (1)")],
     2, services.ROLLED_BACK),  # fmt: skip
    ("paused", [task("app.1", "n1")], 1, services.DEGRADED),
    ("rollback_paused", [task("app.1", "n1", image=OLD)], 1, services.DEGRADED),
    ("updating", [task("app.1", "n1")], 1, services.UNDER_WAY),
    ("rollback_started", [task("app.1", "n1")], 1, services.UNDER_WAY),
    ("something_new", [task("app.1", "n1")], 1, services.DEGRADED),  # never ok by default
    ("completed", [], 0, services.DEGRADED),  # nothing runs: not a success
]


@pytest.mark.parametrize("state, tasks, replicas, outcome", READINGS)
def test_update_status_and_tasks_read_into_an_outcome(state, tasks, replicas, outcome) -> None:  # type: ignore[no-untyped-def]
    service = {"UpdateStatus": {"State": state, "Message": "update rolled back"}} if state else {}
    assert services.read_update(service, tasks, DIGEST, replicas).outcome == outcome


def test_a_rollback_names_the_failing_task_and_its_node() -> None:
    reading = services.read_update(
        {"UpdateStatus": {"State": "rollback_completed", "Message": "update rolled back due to failure"}},
        [task("app.1", "n1", image=OLD), task("app.1", "n2", "Failed", "Shutdown", error="non-zero exit (1)")],
        DIGEST, 1,
    )  # fmt: skip
    assert reading.failures == ["app.1 on n2: non-zero exit (1)"]
    assert reading.message == "update rolled back due to failure"
    assert reading.nodes == {"n1": ["app.1: Running 5 seconds ago"]}


# What is recorded ----------------------------------------------------------------


def test_a_swarm_family_is_schema_6_and_its_marks_read_back(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import json

    from dockervisor.config.swarmpolicy import ServiceMarks
    from dockervisor.store import state

    recorded = state.FamilyState("app")
    recorded.swarm = policy(replicas=2, registry="127.0.0.1:5000")
    marks = recorded.service = ServiceMarks()
    marks.image, marks.stable, marks.stopped_replicas = IMAGE, IMAGE, 2
    document = json.loads(json.dumps(recorded.to_dict()))
    assert document["schema"] == 6
    back = state._from_document("app", document)
    assert back.swarm == recorded.swarm and back.service.to_dict() == marks.to_dict()  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="Swarm service but schema 5"):
        state._from_document("app", {**document, "schema": 5})
    with pytest.raises(ValueError, match="service: image must be REPOSITORY@sha256"):
        state._from_document("app", {**document, "service": {**document["service"], "image": "app:latest"}})


def test_only_a_family_recorded_with_swarm_is_a_service(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dockervisor.commands.swarmguard import is_a_service, refuse_services
    from dockervisor.core.errors import DockervisorError
    from dockervisor.store import state

    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    service = state.FamilyState("svc")
    service.swarm = policy(registry="127.0.0.1:5000")
    state.save(service)
    odd = state.FamilyState("odd")  # an env key named swarm is no Swarm family
    odd.run_config = RunConfig([], [], env={"swarm": "yes"})
    state.save(odd)
    assert [is_a_service(f) for f in ("svc", "odd", "none")] == [True, False, False]
    with pytest.raises(DockervisorError, match="svc runs as a Swarm service"):
        refuse_services("logs", ["odd", "svc"])
    refuse_services("status", ["svc"])  # not a containers-only verb


def test_a_swarm_family_on_several_contexts_is_refused(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import argparse

    from dockervisor.cli import _refuse_several_for_services
    from dockervisor.core.errors import DockervisorError
    from dockervisor.store import paths, state

    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))

    class Engine:
        def __init__(self, name: str) -> None:
            self.name, self.key = name, f"key-{name}"

    engines = [Engine("m1"), Engine("m2")]
    with paths.engine_state("key-m2"):
        service = state.FamilyState("svc")
        service.swarm = policy(registry="127.0.0.1:5000")
        state.save(service)
    plain = argparse.Namespace(words=["new", "web"], image=None)
    _refuse_several_for_services(plain, "start", engines)  # a container family: rolled host by host
    with pytest.raises(DockervisorError, match="svc runs as a Swarm service on m2: a swarm is one engine"):
        _refuse_several_for_services(argparse.Namespace(words=["new", "svc"]), "start", engines)
