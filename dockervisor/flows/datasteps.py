"""What a start does to the family's data, between stopping the container
that ran and starting its target; and how the data goes back if the target
does not come up (see switch.Switch, which calls `before_start` and
`put_back`).

- `start new --snapshot`: a snapshot of the data the old container left,
  put back if the new one does not come up.
- `start stable|last|CONTAINER --with-data`, `restore`: a snapshot of the
  current data, then the data of the target's snapshot (or of the archive)
  restored; if the target does not come up, the snapshot is put back before
  the container that ran comes back.

Each step writes a journal (store/journal.py) before it changes the data,
and the snapshot before into it once that is whole: a kill -9 mid-way is
repaired by the family's next command (datarecovery.py).
"""

from __future__ import annotations

from dockervisor.flows import datacopy
from dockervisor.flows import datarecovery
from dockervisor.store import archive
from dockervisor.engine import query
from dockervisor.flows import snapshots
from dockervisor.store.archive import ArchivedMount, Manifest
from dockervisor.core.errors import DockervisorError

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.flows.context import Context
    from dockervisor.engine.query import ContainerSummary
    from dockervisor.store.history import Entry
    from dockervisor.store.journal import Journal
    from dockervisor.store.state import FamilyState


class Restore:
    """An archive checked against the family, and where each mount point goes."""

    __slots__ = ("path", "manifest", "into", "what")

    def __init__(self, path: str, manifest: Manifest, into: list[tuple[int, ArchivedMount]], what: str) -> None:
        self.path = path
        self.manifest = manifest
        self.into = into
        self.what = what  # "the archive FILE", "the snapshot FILE"


class DataStep:
    """A snapshot of the current data, then (with `restore`) other data in its place."""

    def __init__(
        self,
        family: FamilyState,
        containers: list[ContainerSummary],
        entry: Entry,
        helper: str,
        target: str | None = None,
        restore: Restore | None = None,
        comes_back: bool = False,
    ) -> None:
        self.family = family
        self.existing = {c.name for c in containers}
        self.entry = entry
        self.helper = helper
        self.target = target
        self.restore = restore
        self.taken: snapshots.Snapshot | None = None
        self.restoring = False
        self.journal: Journal | None = None  # what a kill -9 leaves for the next run to repair
        # A restore of what runs: on failure that same container comes back.
        self.comes_back = comes_back

    def begin(self, ctx: Context, containers: list[ContainerSummary]) -> DataStep:
        """The journal, before the start changes anything (it stops what runs
        first): naming what runs, as the Switch will come back to it."""
        self.journal = datarecovery.begin(ctx, self.family.image, self.entry.action)
        if self.journal is not None:
            active = [c.name for c in containers if c.active]
            self.journal.running = self.family.last if self.family.last in active else next(iter(active), None)
            self.journal.write()
        return self

    def before_start(self, ctx: Context, previous: str | None) -> None:
        """Snapshot the data `previous` (or else `last`, or the target) wrote,
        then restore, if this step restores."""
        if self.journal is None:
            self.journal = datarecovery.begin(ctx, self.family.image, self.entry.action)
        self._journal(running=previous)  # before the first change to the data
        source = next(
            (name for name in (previous, self.family.last, self.target) if name and name in self.existing), None
        )
        if source is None:
            ctx.info(f"no container of {self.family.image!r} to copy the current data from: no snapshot taken")
        else:
            document = query.inspect_container(ctx.docker, source)
            if document is None:
                raise DockervisorError(f"{source} no longer exists, so its data cannot be copied")
            protect = (self.restore.path,) if self.restore else ()
            self.taken = snapshots.take(ctx, self.family, source, document, protect)
        if self.taken is not None:
            self.entry.message = f"the data of {source} before is the snapshot {self.taken.path}"
            self._journal(before=self.taken.path)  # whole on disk: from here on, the way back
        if self.restore is not None:
            self._journal(restore={
                "archive": self.restore.path,
                "into": [[index, m.target, m.type, m.source] for index, m in self.restore.into],
            })  # fmt: skip
            self.restoring = True
            datacopy.restore(ctx, self.restore.path, self.family.image, self.helper, self.restore.into)
            before = f"; {self.entry.message}" if self.entry.message else ""
            self.entry.message = f"data from {self.restore.what}{before}"

    def _journal(self, **changes: object) -> None:
        if self.journal is not None:
            for key, value in changes.items():
                setattr(self.journal, key, value)
            self.journal.write()

    def put_back(self, ctx: Context, fate: str) -> str:
        """Put the data back as it was before the start, if it may have
        changed; returns what to say of the failed target (`fate`) and of the
        data. Raises DockervisorError if the data cannot be put back."""
        if self.restore is None and self.taken is None:
            return fate  # a first start: there was no data to keep
        if self.restore is not None and not self.restoring:
            data = "the data is unchanged"
        elif self.taken is None:
            raise DockervisorError(
                f"the data was replaced with {self.restore.what if self.restore else 'other data'} "
                "and no snapshot of the data before could be taken, so it cannot be put back"
            )
        else:
            data = self._restore_taken(ctx, self.taken)
        return data if self.comes_back else f"{fate}; {data}"

    def _restore_taken(self, ctx: Context, taken: snapshots.Snapshot) -> str:
        ctx.info(f"putting the data back from the snapshot {taken.path}")
        into = list(enumerate(taken.manifest.mounts))  # where each mount point was copied from
        try:
            datacopy.restore(ctx, taken.path, self.family.image, self.helper, into)
        except DockervisorError as error:
            raise DockervisorError(
                f"the data could not be put back ({error.message}); the snapshot {taken.path} "
                f"holds it: `dockervisor restore {self.family.image} {taken.path}`"
            ) from None
        return f"the data is back as it was (snapshot {taken.path})"


def upgrade(ctx: Context, family: FamilyState, containers: list[ContainerSummary], entry: Entry) -> DataStep:
    """`start new --snapshot`: checked, like every data step, before anything changes."""
    return DataStep(family, containers, entry, datacopy.helper_image(ctx, family.image)).begin(ctx, containers)


def with_data(
    ctx: Context, family: FamilyState, containers: list[ContainerSummary], target: str, entry: Entry
) -> DataStep:
    """`start ... --with-data`: the target's newest snapshot, checked whole
    against the family and the target; refused, changing nothing, if it has none."""
    image = family.image
    if any(c.name == target and c.active for c in containers):
        raise DockervisorError(
            f"{target} is running: --with-data would replace the data it runs on; stop it first "
            f"(`dockervisor stop {image}`), or use `dockervisor restore`"
        )
    snapshot = snapshots.linked(image, target)
    if snapshot is None:
        raise DockervisorError(
            f"{target} has no snapshot, so there is no data of its own to start it with; nothing "
            f"was changed. Snapshots are taken by `start new --snapshot` (or \"snapshot\": true in "
            f"dcv-{image}), `restore` and `--with-data`; see `dockervisor snapshots {image}`"
        )
    restore = checked(ctx, family, snapshot.path, target, f"the snapshot {snapshot.path}")
    step = DataStep(family, containers, entry, datacopy.helper_image(ctx, image), target, restore)
    return step.begin(ctx, containers)


def checked(ctx: Context, family: FamilyState, path: str, container: str | None, what: str) -> Restore:
    """An archive read whole and checked against the family and against the
    container that will run on it (None: the run configuration decides)."""
    manifest = archive.check(path)
    if manifest.family != family.image:
        raise DockervisorError(
            f"{path} is an archive of {manifest.family!r}, not of {family.image!r}; nothing was changed"
        )
    assert family.run_config is not None
    document = query.inspect_container(ctx.docker, container) if container else None
    if container and document is None:
        raise DockervisorError(f"{container} no longer exists")
    into = datacopy.destinations(family.image, manifest, family.run_config, container, document)
    return Restore(path, manifest, into, what)
