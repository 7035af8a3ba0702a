"""Which containers of a family a state directory may act on.

A container is a member of family X for this state directory when its name
(`dcv_X_...`), its family label and its owner label all agree: the owner is
this directory's ID (store/identity.py), or the container was adopted here
(`dockervisor adopt X`), or it has no owner label at all (made before owners
were labelled) and this directory knows the family. Anything else that looks
like a member is shown by `status --all` and `list --all`, but never stopped,
removed, pruned, marked or recorded.
"""

from __future__ import annotations

from dockervisor.config.names import CONTAINER_PREFIX

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from collections.abc import Collection

    from dockervisor.engine.query import ContainerSummary


def is_member(
    container: ContainerSummary, family: str, owner: str, known: bool, adopted: Collection[str]
) -> bool:
    if container.family != family or not container.name.startswith(f"{CONTAINER_PREFIX}{family}_"):
        return False
    if container.owner == owner or container.id in adopted:
        return True
    return not container.owner and known


def members(
    containers: list[ContainerSummary], family: str, owner: str, known: bool, adopted: Collection[str]
) -> list[ContainerSummary]:
    return [c for c in containers if is_member(c, family, owner, known, adopted)]


def strangers(containers: list[ContainerSummary], mine: list[ContainerSummary]) -> list[ContainerSummary]:
    """What claims a family but is not this directory's to act on."""
    ids = {c.id for c in mine}
    return [c for c in containers if c.id not in ids]
