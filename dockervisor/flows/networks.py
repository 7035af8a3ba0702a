"""The user-defined networks a family's containers join, by the family's name.

`start new` creates a network that does not exist yet (and never removes one:
other families, or containers of yours, may use it). `docker run` joins one
network; a container of several is created, connected to the others, and
only then started (see `joining`), so it never runs without one of them.
"""

from __future__ import annotations

import json

from dockervisor.engine import argv as docker_argv, query
from dockervisor.engine.executor import command_failed
from dockervisor.flows.switch import NewContainer

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.flows.context import Context
    from dockervisor.config.runoptions import RunOptions


def ensure_networks(ctx: Context, names: list[str]) -> None:
    """Create those of `names` the engine does not have; one query when all exist.
    Under --dry-run the creation is only printed."""
    if not names:
        return
    existing = _existing(ctx, names)
    for name in (name for name in names if name not in existing):
        result = ctx.docker.change(docker_argv.create_network(name), check=False)
        # Another family's start may have created it meanwhile: that is as good.
        if not result.ok and name not in _existing(ctx, [name]):
            raise command_failed(result)
        ctx.done(f"would create network {name}", f"created network {name}")


def _existing(ctx: Context, names: list[str]) -> set[str]:
    """The networks of `names` that exist, by exact name."""
    output = ctx.docker.query(docker_argv.list_networks(names)).stdout
    found = set()
    for line in output.splitlines():
        if not line.strip():
            continue
        try:
            name = json.loads(line)
        except ValueError:
            raise query.unreadable("docker network ls", line) from None
        if not isinstance(name, str):
            raise query.unreadable("docker network ls", line)
        found.add(name)
    return found & set(names)


def joining(new: NewContainer, name: str, family: str, options: RunOptions) -> NewContainer:
    """`new` as it must be for the container's networks: unchanged for one
    network or none; for more, `docker create` and then, in `then`, a
    `docker network connect` for each other network and a `docker start`,
    which switch runs after `argv`: a failure among them is a failed start
    like any other, and the created container, never started, is removed by
    the rollback."""
    follow_ups = docker_argv.join_other_networks(name, family, options)
    if not follow_ups:
        return new
    return NewContainer(
        docker_argv.as_create(new.argv), docker_argv.as_create(new.shown), new.pass_fds, follow_ups
    )
