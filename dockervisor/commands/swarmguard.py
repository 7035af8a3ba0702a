"""Which families run as a Swarm service, asked cheaply (one read of the
state file, no parsing): what stop, and the verbs that only know
containers, ask before anything else. Nothing heavy is imported here: the
command line asks it for every verb of the list."""

from __future__ import annotations

from dockervisor.core.errors import DockervisorError


# Verbs that work on a family's containers, which a Swarm family has none of (yet).
CONTAINERS_ONLY = ("logs", "exec", "run", "backup", "restore", "snapshots", "prune", "forget", "adopt",
                   "update", "check", "pull")  # fmt: skip


def is_a_service(family: str) -> bool:
    """A Swarm family? One read of its state file, parsed only when it may be one."""
    from dockervisor.store import files, paths

    raw = files.read_private(paths.family_state_file(family))
    if raw is None or b'"swarm":' not in raw:
        return False
    from dockervisor.store import state  # the rare case: parsed, as an env key may be named swarm

    return state.load(family).swarm is not None


def refuse_services(verb: str, families: list[str]) -> None:
    """A clear error, not a container verb's "nothing runs", for a Swarm family."""
    if verb not in CONTAINERS_ONLY:
        return
    for family in families:
        if is_a_service(family):
            from dockervisor.engine.services import service_name

            raise DockervisorError(
                f"{family} runs as a Swarm service ({service_name(family)}); `dockervisor {verb}` works on "
                f"container families (for its logs: `docker service logs {service_name(family)}`)"
            )
