"""`dockervisor rm CONTAINERNAME... [--force]`: remove stopped containers of a family.

The running container is never removed. `last` and `stable` are the rollback
targets, so they go only with --force, which then clears the mark. Every name
is checked before anything is removed: a refusal removes nothing.
"""

from __future__ import annotations

from dockervisor.engine import argv as docker_argv, query
from dockervisor.store import state
from dockervisor.commands.common import family_of
from dockervisor.flows.context import Context
from dockervisor.engine.query import ContainerSummary
from dockervisor.core.errors import EXIT_OK, DockervisorError


def rm(ctx: Context, names: list[str], force: bool) -> int:
    families = _by_family(ctx, names)
    # Checked for every family before any is changed, then again under each lock.
    for image, members in families.items():
        _check(ctx, image, state.load(image), members, force)
    for image, members in families.items():
        with ctx.family_change(image, "rm") as entry:
            family = state.load(image)
            targets = _check(ctx, image, family, members, force)
            entry.container = ", ".join(members)
            ctx.docker.change(docker_argv.remove_containers([c.id for c in targets]))
            cleared = {mark: getattr(family, mark) for mark in ("last", "stable") if getattr(family, mark) in members}
            for mark in cleared:
                setattr(family, mark, None)
            if cleared:
                ctx.save(family)
        if ctx.dry_run:
            continue
        for name in members:
            print(name, file=ctx.stdout, flush=True)
        for mark, name in cleared.items():
            ctx.info(f"{name} was marked {mark}; the mark is cleared: no container of {image} is marked {mark} now")
    return EXIT_OK


def _by_family(ctx: Context, names: list[str]) -> dict[str, list[str]]:
    """Canonical names grouped by family, from one inspect of them all."""
    documents = query.inspect_containers(ctx.docker, names)
    families: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        document = next(
            (d for d in documents if query.container_name(d) == name or str(d.get("Id", "")).startswith(name)),
            None,
        )
        if document is None:
            raise DockervisorError(f"there is no container named {name!r}")
        canonical = query.container_name(document)
        members = families.setdefault(family_of(canonical, document), [])
        if canonical not in members:
            members.append(canonical)
    return families


def _check(ctx: Context, image: str, family: state.FamilyState, names: list[str], force: bool) -> list[ContainerSummary]:
    labelled = query.labelled_containers(ctx.docker, image)
    current = ctx.docker.members(image, labelled)
    by_name = {c.name: c for c in current}
    strangers = {c.name for c in labelled} - set(by_name)
    refusals = []
    for name in names:
        container = by_name.get(name)
        if name in strangers:
            refusals.append(
                f"{name} was not made by this state directory, nor adopted here; dockervisor "
                f"leaves it alone (`dockervisor adopt {image}` takes the family over)"
            )
        elif container is None:
            refusals.append(f"{name} no longer exists")
        elif container.active:
            refusals.append(f"{name} is {container.state}; stop it first with `dockervisor stop {image}`")
        elif not force and name in (family.last, family.stable):
            mark = "last" if name == family.last else "stable"
            refusals.append(
                f"{name} is marked {mark}, a rollback target of {image}; --force removes it "
                "and clears the mark"
            )
    if refusals:
        raise DockervisorError("nothing removed: " + "; ".join(refusals))
    return [by_name[name] for name in names]
