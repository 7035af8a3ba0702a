"""`dockervisor adopt IMAGENAME`: take over, on purpose, a family that another
state directory made on a shared engine (see ownership.py)."""

from __future__ import annotations

from dockervisor.engine import query
from dockervisor.store import state
from dockervisor.flows.context import Context
from dockervisor.core.errors import EXIT_OK, DockervisorError
from dockervisor.flows.ownership import strangers


def adopt(ctx: Context, family: str) -> int:
    with ctx.family_change(family, "adopt", creates=True) as entry:
        labelled = query.labelled_containers(ctx.docker, family)
        theirs = strangers(labelled, ctx.docker.members(family, labelled))
        if not theirs:
            if not labelled and not state.family_exists(family):
                raise state.unknown_family(family)
            entry.outcome = "no-op"
            ctx.info(f"every container of {family!r} on this engine is already this state directory's")
            return EXIT_OK
        recorded = state.load(family)
        # The state directories that made them, so that what they make later is
        # shared too; a container made by hand (no owner) by its own ID.
        found = {c.owner or c.id for c in theirs}
        recorded.adopted = sorted({*recorded.adopted, *found})
        entry.container = ", ".join(c.name for c in theirs)
        if ctx.dry_run:
            ctx.info(f"would adopt {entry.container}")
            return EXIT_OK
        try:
            state.save(recorded)
        except DockervisorError as error:
            raise DockervisorError(f"nothing was adopted: {error.message}") from None
    for container in theirs:
        print(container.name, file=ctx.stdout)
    marks = "its last and stable marks are unknown here: set them with `dockervisor stable mark`"
    ctx.info(f"adopted {len(theirs)} container(s) of {family!r}; {marks if not recorded.last else 'its marks stay'}")
    ctx.stdout.flush()
    return EXIT_OK
