"""`dockervisor stop IMAGENAME`: cron runs it blindly, so nothing running is fine."""

from __future__ import annotations

from dockervisor.engine import argv as docker_argv, query
from dockervisor.flows.context import Context
from dockervisor.core.errors import EXIT_OK
from dockervisor.commands.swarmguard import is_a_service


def stop(ctx: Context, family: str) -> int:
    with ctx.family_change(family, "stop") as entry:
        if is_a_service(family):
            from dockervisor.flows import servicestarts
            from dockervisor.store import state

            servicestarts.require_manager(ctx, family)
            return servicestarts.stop(ctx, state.load(family), entry)
        containers = query.family_containers(ctx.docker, family)
        running = query.active_names(containers)
        if not running:
            ctx.info(f"nothing of {family!r} is running")
            entry.outcome, entry.running = "no-op", None
            return EXIT_OK
        entry.container = entry.previous = ", ".join(running)
        ctx.docker.change(docker_argv.stop(running))
        entry.running = None
        ctx.done(f"would stop {entry.container}", f"stopped {entry.container}")
    return EXIT_OK

