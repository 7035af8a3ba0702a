"""Which containers of a family a state directory may act on.

A container is a member of family X for this state directory when its name
(`dcv_X_...`), its family label and its owner label all agree: the owner is
this directory's ID (store/identity.py), or the directory that made it was
adopted here (`dockervisor adopt X`: then what it makes later is shared too),
or the container itself was (one made by hand), or it has no owner label at all, this directory knows
the family, and it was made before the directory had an ID (by a version of
dockervisor from before owners: adopted on first sight, so an upgrade loses
nothing). Anything else that looks like a member (made by hand, or by another
state directory) is shown by `status --all` and `list --all`, but never
stopped, removed, pruned, marked or recorded.
"""

from __future__ import annotations

from dockervisor.config.names import CONTAINER_PREFIX
from dockervisor.core.timefmt import parse_docker_time

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from collections.abc import Collection

    from dockervisor.engine.query import ContainerSummary
    from dockervisor.store.identity import Identity


def is_member(
    container: ContainerSummary, family: str, me: Identity | None, known: bool, adopted: Collection[str]
) -> bool:
    if container.family != family or not container.name.startswith(f"{CONTAINER_PREFIX}{family}_"):
        return False
    if (me is not None and container.owner == me.id) or container.id in adopted:
        return True
    if container.owner and container.owner in adopted:  # another directory's, adopted here
        return True
    if container.owner or not known:
        return False
    # `docker ps` gives whole seconds: one made in the second the ID was made
    # counts as older, the one second in a directory's life that is unsure.
    created = parse_docker_time(container.created)
    return me is None or (created is not None and created < me.since)


def members(
    containers: list[ContainerSummary], family: str, me: Identity | None, known: bool, adopted: Collection[str]
) -> list[ContainerSummary]:
    return [c for c in containers if is_member(c, family, me, known, adopted)]


def strangers(containers: list[ContainerSummary], mine: list[ContainerSummary]) -> list[ContainerSummary]:
    """What claims a family but is not this directory's to act on."""
    ids = {c.id for c in mine}
    return [c for c in containers if c.id not in ids]
