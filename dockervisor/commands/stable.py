"""`dockervisor stable [mark] IMAGENAME` and `dockervisor stable show IMAGENAME`."""

from __future__ import annotations

from dockervisor import engine, state
from dockervisor.commands.common import active_names, require_known_family
from dockervisor.context import Context
from dockervisor.errors import EXIT_FAILED, EXIT_OK, DockervisorError
from dockervisor.output import print_json


def mark(ctx: Context, image: str) -> int:
    with ctx.family_change(image, "stable mark") as entry:
        family = state.load(image)
        containers = engine.family_containers(ctx.docker, image)
        require_known_family(image, containers)
        running = active_names(containers)
        if not running:
            raise DockervisorError(
                f"nothing of {image!r} is running, so there is nothing to mark stable; "
                "start the container you trust first"
            )
        if len(running) > 1:
            raise DockervisorError(
                f"several containers of {image!r} are running ({', '.join(running)}); "
                "start the one you trust with dockervisor, then mark it"
            )
        entry.container = family.stable = running[0]
        ctx.save(family)
    if not ctx.dry_run:
        ctx.info(f"{running[0]} is now the stable container of {image}")
    return EXIT_OK


def show(ctx: Context, image: str, as_json: bool) -> int:
    family = state.load(image)
    containers = engine.family_containers(ctx.docker, image)
    require_known_family(image, containers)
    found = {c.name: c for c in containers}.get(family.stable or "")
    if as_json:
        print_json(
            ctx.stdout,
            {
                "image": image,
                "stable": family.stable,
                "exists": found is not None,
                "state": found.state if found else None,
            },
        )
        return EXIT_OK if family.stable else EXIT_FAILED
    if family.stable is None:
        raise DockervisorError(f"no container of {image!r} is marked stable")
    print(family.stable, file=ctx.stdout)
    if found is None:
        ctx.info(f"warning: {family.stable} no longer exists")
    return EXIT_OK
