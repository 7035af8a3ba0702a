"""A family as a Swarm service: the pure builders of its docker command
lines, and the reading of what swarm reports about an update.

The service is named `dcv_IMAGENAME`, labelled as the family's (and with the
state directory that made it); its image is always pinned by digest,
REPOSITORY@sha256:..., so that every node runs exactly the content that was
pushed, whatever the tag names by then. An update fails into swarm's own
rollback (`--update-failure-action rollback`), and dockervisor reads
`UpdateStatus` and the tasks itself: `docker service update --detach=false`
exits 0 after a rollback (docker/cli#6752).
"""

from __future__ import annotations

from dockervisor.engine.argv import CONFIG_LABEL, DOCKER, FAMILY_LABEL, OWNER_LABEL

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.config.runconfig import RunConfig
    from dockervisor.config.swarmpolicy import SwarmPolicy

# What an update came to, read from UpdateStatus and the tasks.
DONE, ROLLED_BACK, DEGRADED, UNDER_WAY = "ok", "rolled-back", "degraded", "under-way"
# UpdateStatus.State -> what it means here (docker's api/types/swarm/service.go).
_STATES = {
    "completed": DONE,
    "rollback_completed": ROLLED_BACK,
    "paused": DEGRADED,  # the failure action "pause", or a failure swarm stopped on
    "rollback_paused": DEGRADED,  # the rollback itself failed
    "updating": UNDER_WAY,
    "rollback_started": UNDER_WAY,
}


def service_name(family: str) -> str:
    return f"dcv_{family}"


def _update_flags(policy: SwarmPolicy, has_volumes: bool) -> list[str]:
    order = policy.order(has_volumes)
    return [
        "--update-order", order, "--update-parallelism", str(policy.update_parallelism),
        "--update-monitor", f"{policy.monitor}s", "--update-failure-action", "rollback",
        "--rollback-order", order, "--rollback-monitor", f"{policy.monitor}s",
    ]  # fmt: skip


def create(family: str, image: str, config: RunConfig, policy: SwarmPolicy, env_args: list[str],
           config_digest: str, owner: str | None) -> list[str]:  # fmt: skip
    """`docker service create` of the family, waiting until it converges."""
    has_volumes = any(not m.is_host_directory for m in config.mounts)
    argv = [
        DOCKER, "service", "create", "--detach=false", "--quiet", "--with-registry-auth",
        "--name", service_name(family),
        # Not on the task containers: they are swarm's, never a container verb's to stop or remove.
        "--label", f"{FAMILY_LABEL}={family}",
        *(["--label", f"{OWNER_LABEL}={owner}"] if owner else []),
        "--label", f"{CONFIG_LABEL}={config_digest}",
    ]  # fmt: skip
    if policy.mode == "global":
        argv += ["--mode", "global"]
    else:
        argv += ["--replicas", str(policy.replicas)]
    argv += _update_flags(policy, has_volumes)
    for constraint in policy.constraints:
        argv += ["--constraint", constraint]
    for preference in policy.placement_preferences:
        argv += ["--placement-pref", preference]
    for port in config.ports:
        argv += ["--publish", f"published={port.host},target={port.container},protocol={port.protocol},"
                              f"mode={policy.publish_mode}"]  # fmt: skip
    for mount in config.mounts:
        kind = "bind" if mount.is_host_directory else "volume"
        argv += ["--mount", f"type={kind},source={mount.source},target={mount.target}"
                            + (",readonly" if mount.read_only else "")]  # fmt: skip
    return argv + env_args + [image, *config.options.command]


def update_image(family: str, image: str, policy: SwarmPolicy, has_volumes: bool,
                 replicas: int | None = None) -> list[str]:  # fmt: skip
    """Move the service to `image` (REPOSITORY@DIGEST), swarm rolling back a
    failure; `replicas`: scaled in the same change (after a stop)."""
    scale = ["--replicas", str(replicas)] if replicas is not None else []
    return [DOCKER, "service", "update", "--detach=false", "--quiet", "--with-registry-auth",
            "--image", image, *scale, *_update_flags(policy, has_volumes), service_name(family)]  # fmt: skip


def tag_for_push(family: str, pushed: str) -> list[str]:
    """The family's newly built image under the registry's name, REGISTRY/IMAGENAME:STAMP."""
    from dockervisor.engine.argv import tag

    return [DOCKER, "tag", tag(family), pushed]


def push(pushed: str) -> list[str]:
    return [DOCKER, "push", pushed]


def scale(family: str, replicas: int) -> list[str]:
    return [DOCKER, "service", "scale", "--detach=false", f"{service_name(family)}={replicas}"]


def swarm_info() -> list[str]:
    """What the engine says of its swarm: LocalNodeState, ControlAvailable..."""
    return [DOCKER, "info", "--format", "{{json .Swarm}}"]


def inspect(family: str) -> list[str]:
    return [DOCKER, "service", "inspect", service_name(family)]


def tasks(family: str) -> list[str]:
    """Every task of the service, one JSON object per line, IDs and images whole."""
    return [DOCKER, "service", "ps", "--no-trunc", "--format", "{{json .}}", service_name(family)]


def remove(family: str) -> list[str]:
    return [DOCKER, "service", "rm", service_name(family)]


class Reading:
    """What an update came to: `outcome` (DONE, ROLLED_BACK, DEGRADED,
    UNDER_WAY), swarm's message, the failing tasks' errors with their node,
    and per node what runs."""

    __slots__ = ("outcome", "message", "failures", "nodes")

    def __init__(self, outcome: str, message: str, failures: list[str], nodes: dict[str, list[str]]) -> None:
        self.outcome = outcome
        self.message = message
        self.failures = failures
        self.nodes = nodes


def read_update(service: dict, task_lines: list[dict], digest: str, replicas: int | None) -> Reading:
    """`service`: its `docker service inspect` document; `task_lines`: `docker
    service ps --format '{{json .}}'` objects; `digest`: what the update was
    to; `replicas`: how many tasks must run (None: global, one per node).

    Exit 0 is only for DONE: UpdateStatus "completed" (or no UpdateStatus, a
    first create) and every wanted task running the new digest."""
    status = service.get("UpdateStatus") or {}
    state = str(status.get("State") or "")
    message = str(status.get("Message") or "")
    current = [t for t in task_lines if str(t.get("DesiredState", "")).lower() == "running"]
    nodes: dict[str, list[str]] = {}
    for task in current:
        nodes.setdefault(str(task.get("Node") or "?"), []).append(f"{task.get('Name')}: {task.get('CurrentState')}")
    failures = [
        f"{t.get('Name')} on {t.get('Node') or '?'}: {t.get('Error')}" for t in task_lines if t.get("Error")
    ][:5]
    outcome = _STATES.get(state, DONE if not state else DEGRADED)
    if outcome == DONE:
        running_new = [t for t in current if _runs(t, digest)]
        wanted = replicas if replicas is not None else len(current)
        if len(running_new) < max(wanted, 1) or len(running_new) != len(current):
            outcome = DEGRADED
            message = message or f"{len(running_new)} of {wanted} tasks run the new image"
    return Reading(outcome, message, failures, nodes)


def _runs(task: dict, digest: str) -> bool:
    return str(task.get("CurrentState", "")).startswith("Running") and str(task.get("Image", "")).endswith(digest)
