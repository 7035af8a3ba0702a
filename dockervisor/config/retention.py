"""What a prune removes and what it keeps: pure decisions, no I/O.

The commands gather what the engine says (containers newest first, image
documents, the image references every container on the engine uses) and the
family's marks; this module decides. Kamal's history is the list of what not to
do: the running container and the rollback targets (`last`, `stable`) are
excluded before anything is counted, an image is removed only once no
container at all uses it, and an image carrying a tag is never removed by a
prune, whoever tagged it.
"""

from __future__ import annotations

from dockervisor.config.names import names_image  # pure: what a `ps` reference names

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from collections.abc import Iterable

DEFAULT_KEEP = 5
KEEP_ALL = "all"
RECORDED = "recorded"  # a prune without --keep: each family's own, recorded at build
# States in which a container holds nothing live and `docker rm` (without -f)
# removes it. Anything else (running, restarting, paused, removing) is left be.
STOPPED_STATES = ("created", "exited", "dead")


def parse_keep(value: object, minimum: int = 1) -> int | None:
    """A retention count: a whole number >= minimum (a JSON integer, or ASCII
    digits), or "all" (None: keep everything). ValueError says what is wrong."""
    if value == KEEP_ALL:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
        return value
    raise ValueError(f'must be a whole number from {minimum} up, or "{KEEP_ALL}"')


def keep_to_json(keep: int | None) -> int | str:
    return KEEP_ALL if keep is None else keep


class ContainerPlan:
    """`remove`: names, newest first; `kept`: name -> why it stays."""

    __slots__ = ("remove", "kept")

    def __init__(self) -> None:
        self.remove: list[str] = []
        self.kept: dict[str, str] = {}


def plan_containers(
    members: Iterable[tuple[str, str]],
    last: str | None,
    stable: str | None,
    keep: int | None,
    previous: str | None = None,
) -> ContainerPlan:
    """Which of a family's containers a prune removes.

    `members` are (name, state) pairs, newest first, as `docker ps` lists them.
    Kept: every container that is not stopped, `last`, `stable`, `previous`
    (after a start new, the container that ran before it: the way back, which
    newer ones that never came up must not push out), and the `keep` newest
    of the other stopped ones (None: all of them)."""
    plan = ContainerPlan()
    stopped_kept = 0
    for name, state in members:
        if state not in STOPPED_STATES:
            plan.kept[name] = state
        elif name == last:
            plan.kept[name] = "last"
        elif name == stable:
            plan.kept[name] = "stable"
        elif name == previous:
            plan.kept[name] = "ran before the start"
        elif keep is None or stopped_kept < keep:
            stopped_kept += 1
            plan.kept[name] = "newest"
        else:
            plan.remove.append(name)
    return plan


class ImagePlan:
    """`remove`: references for one `docker rmi` (image IDs, or the family's tag
    where the image keeps other tags); `kept`: image ID -> why it stays."""

    __slots__ = ("remove", "kept")

    def __init__(self) -> None:
        self.remove: list[str] = []
        self.kept: dict[str, str] = {}


def plan_images(
    candidates: Iterable[dict], users: Iterable[tuple[str, str]], own_tag: str | None = None
) -> ImagePlan:
    """Which candidate images (inspect documents) to remove.

    `users` are (container name, image reference) for every container that
    stays, of any family or none. An image in use stays. A prune passes no
    `own_tag`, so any tagged image stays; `forget` passes the family's tag
    (`app:latest`), which then goes too, alone if the image has other tags,
    even when containers use the image: untagging removes nothing they need.
    (Only a tag that is the image's last one and in use stays: docker would
    delete the image with it.)"""
    plan = ImagePlan()
    users = list(users)
    seen: set[str] = set()
    for document in candidates:
        image_id = str(document["Id"])
        if image_id in seen:
            continue
        seen.add(image_id)
        user = next((name for name, ref in users if names_image(ref, document)), None)
        tags = list(document.get("RepoTags") or [])
        other_tags = [t for t in tags if t != own_tag]
        if user is not None and other_tags and own_tag in tags:
            plan.remove.append(str(own_tag))  # untag ours; the image stays for its users
            plan.kept[image_id] = f"used by container {user}"
        elif user is not None:
            plan.kept[image_id] = f"used by container {user}"
        elif other_tags and own_tag in tags:
            plan.remove.append(str(own_tag))  # untag ours; the image stays for the others
            plan.kept[image_id] = f"also tagged {', '.join(other_tags)}"
        elif other_tags:
            plan.kept[image_id] = f"tagged {', '.join(other_tags)}"
        else:
            plan.remove.append(image_id)
    return plan


def unique_sizes(
    removed: Iterable[dict], staying: Iterable[dict], known_prefixes: dict[tuple[str, ...], int]
) -> dict[str, int]:
    """About how much disk removing each of these images frees, by image ID.

    An image's Size counts every layer, including the ones it shares with its
    base and its siblings, which stay. Layers are stored per chain, so what an
    image frees is the part of its layer list past the longest prefix it shares
    with an image that stays (or one already counted): its Size less that
    prefix's cumulative size. Those come from `known_prefixes` (layer list ->
    cumulative bytes) and from each document's own Size; where the exact
    prefix is unknown, the longest shorter known one is used, which can only
    count too much, never too little."""
    known = dict(known_prefixes)
    chains = []
    for document in staying:
        chain = layers(document)
        known.setdefault(chain, int(document.get("Size") or 0))
        chains.append(chain)
    sizes = {}
    for document in sorted(removed, key=lambda d: str(d.get("Created", ""))):
        chain, size = layers(document), int(document.get("Size") or 0)
        shared = max((_common_length(chain, other) for other in chains), default=0)
        prefix_size = next((known[chain[:n]] for n in range(shared, 0, -1) if chain[:n] in known), 0)
        sizes[str(document["Id"])] = max(0, size - prefix_size)
        known.setdefault(chain, size)
        chains.append(chain)
    return sizes


def cumulative_sizes(chain: tuple[str, ...], history_sizes: list[int]) -> dict[tuple[str, ...], int]:
    """Cumulative size of each layer prefix of an image, from `docker history`
    sizes (newest first, one per build step). Steps that made no layer report
    0; when the steps that did are not one per layer, nothing is claimed."""
    sizes = [s for s in reversed(history_sizes) if s > 0]
    if len(sizes) != len(chain):
        return {}
    prefixes, running = {}, 0
    for count, size in enumerate(sizes, start=1):
        running += size
        prefixes[chain[:count]] = running
    return prefixes


def layers(document: dict) -> tuple[str, ...]:
    """An image's layer list (diff IDs, base first): a prefix shared is a layer shared."""
    return tuple((document.get("RootFS") or {}).get("Layers") or ())


def _common_length(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    length = 0
    for x, y in zip(a, b):
        if x != y:
            break
        length += 1
    return length


def human_size(size: float) -> str:
    """Bytes as docker prints them (`docker images`, `docker system df`): 1.99MB."""
    units = ("B", "kB", "MB", "GB", "TB", "PB")
    index = 0
    while size >= 1000 and index < len(units) - 1:
        size /= 1000
        index += 1
    return f"{size:.3g}{units[index]}"
