"""`dockervisor prune [IMAGENAME...] [--keep N]`, and the pruning after `start new`.

For each family, under its lock: one `docker ps` of every container on the
engine and one `docker image ls` of the family's untagged images, side by side;
the decision (`retention.py`); one round of inspects, side by side, for the
images' tags and users and the sizes; then one `docker rm` and one `docker rmi`.
However many containers there are, it is the same handful of docker calls.

`forget` removes a whole family with the same pieces: `plan_removal`,
`execute` and `report_lines`.
"""

from __future__ import annotations

import shlex

from dockervisor.config import retention
from dockervisor.engine import argv as docker_argv, query
from dockervisor.store import state
from dockervisor.commands.common import recorded_keep
from dockervisor.flows.ownership import strangers
from dockervisor.store.state import require_known_family
from dockervisor.flows.context import Context
from dockervisor.engine.query import ContainerSummary
from dockervisor.core.errors import EXIT_OK, DockervisorError
from dockervisor.store.history import Entry
from dockervisor.core.output import print_json
from dockervisor.config.retention import RECORDED, human_size

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.engine.executor import Result


class Removal:
    """What is to go from one family, what went, and what it freed."""

    __slots__ = (
        "image", "containers", "images", "kept_images", "volumes", "sizes",
        "removed_containers", "removed_images", "skipped", "commands",
    )  # fmt: skip

    def __init__(self, family: str) -> None:
        self.image = family
        self.containers: list[ContainerSummary] = []  # to remove
        self.images: list[str] = []  # references for `docker rmi`
        self.kept_images: dict[str, str] = {}  # image ID -> why it stays
        self.volumes: list[str] = []  # named volumes the containers mount
        self.sizes: dict[str, int] | None = None  # container or image ID -> bytes; None: not measured
        self.removed_containers: list[ContainerSummary] = []
        self.removed_images: list[str] = []
        self.skipped: list[str] = []  # notes: what was left, and why
        self.commands: list[list[str]] = []  # the changes, as run or (dry run) as they would be

    @property
    def freed(self) -> int:
        sizes = self.sizes or {}
        removed = [c.id for c in self.removed_containers] + self.removed_images
        return sum(sizes.get(key, 0) for key in removed)

    @property
    def removed_anything(self) -> bool:
        return bool(self.removed_containers or self.removed_images)


# prune ------------------------------------------------------------------------


def prune(ctx: Context, images: list[str], keep: int | str | None, as_json: bool) -> int:
    """`keep`: stopped containers to keep per family, None for all of them, or
    RECORDED for each family's own retention (its `keep`, recorded at build)."""
    removals = [prune_family(ctx, image, keep) for image in images or _every_family(ctx)]
    if as_json:
        print_json(ctx.stdout, _document(removals, ctx.dry_run))
        return EXIT_OK
    for removal in removals:
        for note in removal.skipped:
            ctx.info(f"{removal.image}: {note}")
        lines = report_lines(removal, ctx.dry_run)
        if not lines:
            ctx.info(f"{removal.image}: nothing to prune")
        for line in lines:
            print(line, file=ctx.stdout)
        if ctx.dry_run:
            for argv in removal.commands:
                print(shlex.join(argv), file=ctx.stdout)
    ctx.stdout.flush()
    return EXIT_OK


def prune_family(ctx: Context, family: str, keep: int | str | None, previous: str | None = None) -> Removal:
    """`previous`: a container kept whatever its age (see retention.plan_containers)."""
    with ctx.family_change(family, "prune") as entry:
        recorded = state.load(family)
        everyone, dangling = query.all_containers_and_dangling(ctx.docker, family)
        labelled = [c for c in everyone if c.family == family]
        members = ctx.docker.members(family, labelled)
        require_known_family(family, members, strangers(labelled, members))
        retain = recorded_keep(recorded) if keep == RECORDED else keep
        plan = retention.plan_containers(
            [(c.name, c.state) for c in members], recorded.last, recorded.stable, retain, previous  # type: ignore[arg-type]
        )
        doomed = [c for c in members if c.name in set(plan.remove)]
        removal = plan_removal(ctx, family, doomed, everyone, dangling)
        execute(ctx, removal)
        _record(entry, removal)
    return removal


def after_start_new(ctx: Context, family: str, before: list[ContainerSummary], started: str) -> None:
    """The family's retention, applied once a `start new` has succeeded.

    `before` are the family's containers as the start found them, newest
    first, and `started` the one it made: the start stopped the others. Most
    starts leave nothing beyond the retention; they cost no docker call, no
    lock and no history line. A failure of the prune is reported, but the start
    it follows stands."""
    recorded = state.load(family)
    keep = recorded_keep(recorded)
    if keep is None:
        return  # "keep": "all"
    now = [(started, "running")] + [(c.name, "exited" if c.active else c.state) for c in before]
    previous = next((c.name for c in before if c.active), None)  # what the start stopped: the way back
    beyond = retention.plan_containers(now, recorded.last, recorded.stable, keep, previous).remove
    if not beyond:
        return
    if ctx.dry_run:
        ctx.info(f"then {family} is pruned to its {keep} newest stopped containers: {', '.join(beyond)} would go")
        return
    try:
        removal = prune_family(ctx, family, keep, previous)
    except DockervisorError as error:
        ctx.info(f"warning: {family} was not pruned after the start: {error.message}")
        return
    for line in [f"{family}: {note}" for note in removal.skipped] + report_lines(removal, dry_run=False):
        ctx.info(line)


def _every_family(ctx: Context) -> list[str]:
    """The families this state directory knows: never another's on a shared engine."""
    return state.known_families()


# shared with forget ---------------------------------------------------------


def plan_removal(
    ctx: Context,
    family: str,
    doomed: list[ContainerSummary],
    everyone: list[ContainerSummary],
    dangling: list[str],
    own_tag: str | None = None,
) -> Removal:
    """Which images go along with the `doomed` containers: the untagged ones no
    other container on the engine uses (and, given `own_tag`, the family's tag).
    Sizes are measured unless `own_tag` is given: they need an image that stays."""
    removal = Removal(family)
    removal.containers = doomed
    if not doomed and not dangling and own_tag is None:
        return removal
    measure = own_tag is None
    containers, images, steps = query.removal_details(
        ctx.docker, [c.id for c in doomed], [c.image for c in doomed] + dangling + [docker_argv.tag(family)],
        docker_argv.tag(family) if measure else None,
    )  # fmt: skip
    doomed_ids = {c.id for c in doomed}
    users = [(c.name, c.image) for c in everyone if c.id not in doomed_ids]
    plan = retention.plan_images(images, users, own_tag)
    removal.images, removal.kept_images = plan.remove, plan.kept
    removal.volumes = sorted(
        {
            str(m["Name"])
            for d in containers
            for m in d.get("Mounts") or []
            if m.get("Type") == "volume" and not _anonymous(str(m.get("Name", "")))
        }
    )
    if measure:
        removal.sizes = {str(d["Id"]): int(d.get("SizeRw") or 0) for d in containers}
        current = next((d for d in images if query.names_image(family, d)), None)
        known = retention.cumulative_sizes(retention.layers(current), steps) if current else {}
        going = [d for d in images if d["Id"] in plan.remove]
        staying = [d for d in images if d["Id"] not in plan.remove]
        removal.sizes.update(retention.unique_sizes(going, staying, known))
    return removal


def execute(ctx: Context, removal: Removal) -> None:
    """One `docker rm` for the containers, then one `docker rmi` for the images.
    Docker refuses a container that runs and an image in use: whatever changed
    under us since we looked is skipped with a note, not an error."""
    if removal.containers:
        result = _change(ctx, removal, docker_argv.remove_containers([c.id for c in removal.containers]))
        gone = set(result.stdout.split()) if result else {c.id for c in removal.containers}
        for container in removal.containers:
            if container.id in gone:
                removal.removed_containers.append(container)
            else:
                removal.skipped.append(f"kept container {container.name}: {_why(result, container.id)}")
    left = [c for c in removal.containers if c not in removal.removed_containers]
    images = []
    for reference in removal.images:
        user = next((c.name for c in left if query.names_image(c.image, {"Id": reference})), None)
        if user is None:
            images.append(reference)
        else:
            removal.skipped.append(f"kept image {short_reference(reference)}: container {user} still uses it")
    if not images:
        return
    result = _change(ctx, removal, docker_argv.remove_images(images))
    said = set(result.stdout.splitlines()) if result else set()
    for reference in images:
        if result is None or {f"Deleted: {reference}", f"Untagged: {reference}"} & said:
            removal.removed_images.append(reference)
        else:
            removal.skipped.append(f"kept image {short_reference(reference)}: {_why(result, reference)}")


def report_lines(removal: Removal, dry_run: bool) -> list[str]:
    """`app: removed 3 containers and 1 image (2.1MB)` and one line per object,
    the same under --dry-run but for the verb."""
    if not removal.removed_anything:
        return []
    sizes = removal.sizes
    containers, images = len(removal.removed_containers), len(removal.removed_images)
    header = (
        f"{removal.image}: {'would remove' if dry_run else 'removed'} "
        f"{containers} container{'s' * (containers != 1)} and {images} image{'s' * (images != 1)}"
    )
    if sizes is not None:
        header += f" ({human_size(removal.freed)})"
    rows = [("container", c.name, c.id) for c in removal.removed_containers]
    rows += [("image", short_reference(ref), ref) for ref in removal.removed_images]
    width = max(len(name) for _, name, _ in rows)
    lines = [header]
    for kind, name, key in rows:
        size = f"  {human_size(sizes.get(key, 0))}" if sizes is not None else ""
        lines.append(f"  {kind:<9}  {name:<{width}}{size}".rstrip())
    return lines


def removal_document(removal: Removal, dry_run: bool) -> dict:
    sizes = removal.sizes or {}
    document: dict = {
        "image": removal.image,
        "containers": [
            {"name": c.name, "id": c.id, "size": sizes.get(c.id)} for c in removal.removed_containers
        ],
        "images": [{"id": ref, "size": sizes.get(ref)} for ref in removal.removed_images],
        "skipped": list(removal.skipped),
        "freed": removal.freed if removal.sizes is not None else None,
    }
    if dry_run:
        document["commands"] = [shlex.join(argv) for argv in removal.commands]
    return document


def _document(removals: list[Removal], dry_run: bool) -> dict:
    return {
        "dry_run": dry_run,
        "families": [removal_document(r, dry_run) for r in removals],
        "freed": sum(r.freed for r in removals),
    }


def _record(entry: Entry, removal: Removal) -> None:
    if not removal.removed_anything:
        entry.outcome = "no-op"
    names = [c.name for c in removal.removed_containers] + [short_reference(r) for r in removal.removed_images]
    parts = [f"removed {', '.join(names) or 'nothing'}"] + removal.skipped
    if removal.sizes is not None:
        parts.append(f"freed {human_size(removal.freed)}")
    entry.message = "; ".join(parts)


def _change(ctx: Context, removal: Removal, argv: list[str]) -> Result | None:
    """Run one change; None under --dry-run, where the commands are printed
    after the list of what they would remove (or go into the JSON)."""
    removal.commands.append(argv)
    if ctx.dry_run:
        return None
    return ctx.docker.change(argv, check=False)


def _why(result: Result | None, reference: str) -> str:
    """Docker's own words about one object of a batch."""
    if result is None:
        return "unknown"
    short = short_reference(reference)
    for line in result.stderr.splitlines():
        if reference in line or short in line:
            return line.replace("Error response from daemon: ", "").strip()
    return result.stderr.strip() or f"docker did not remove it (exit status {result.returncode})"


def short_reference(reference: str) -> str:
    """An image ID as docker shows it (12 hex digits); a tag as it is."""
    return reference.split(":", 1)[1][:12] if reference.startswith("sha256:") else reference


def _anonymous(volume: str) -> bool:
    """Docker names an anonymous volume with 64 hex digits; `docker rm -v` removes it."""
    return len(volume) == 64 and all(ch in "0123456789abcdef" for ch in volume)
