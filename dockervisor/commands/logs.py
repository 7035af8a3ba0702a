"""`dockervisor logs IMAGENAME` and `dockervisor exec IMAGENAME CMD...`: docker's
own, for the family's running container (or, for logs, any of its containers),
without digging its name out of `status`."""

from __future__ import annotations

from dockervisor.engine import argv as docker_argv, query
from dockervisor.commands.common import the_running_one
from dockervisor.store.state import require_known_family
from dockervisor.flows.context import Context
from dockervisor.core.errors import EXIT_OK, DockervisorError
from dockervisor.config.names import container_for


def logs(
    ctx: Context,
    family: str,
    container: str | None,
    follow: bool,
    tail: int | None,
    since: str | None,
) -> int:
    containers = query.family_containers(ctx.docker, family)
    require_known_family(family, containers)
    if container is None:
        name = the_running_one(family, containers, "name one with --container")
    else:
        name = container_for(family, container)
        if name not in {c.name for c in containers}:
            raise DockervisorError(
                f"{container!r} is not a container of {family!r}; see "
                f"`dockervisor list containers {family}`"
            )
    ctx.docker.hand_over(docker_argv.logs(name, tail, follow, since))
    return EXIT_OK


def exec_in(ctx: Context, family: str, command: list[str], interactive: bool, tty: bool) -> int:
    containers = query.family_containers(ctx.docker, family)
    require_known_family(family, containers)
    name = the_running_one(family, containers, "start one first")
    ctx.docker.hand_over(docker_argv.exec_in(name, command, interactive, tty))
    return EXIT_OK
