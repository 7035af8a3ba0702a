"""A family's snapshots: archives of its data that dockervisor takes itself.

Taken at `start new --snapshot` (or with `"snapshot": true` in dcv-IMAGENAME)
after the old container has stopped, and by `restore` and `start ...
--with-data` before they replace the data, so that each of them can be
undone. Each is linked to the container that wrote the data (its manifest's
container): `start CONTAINER --with-data` restores the newest one linked to
CONTAINER.

They live in `$DOCKERVISOR_HOME/snapshots/IMAGENAME/`, one archive each
(`STAMP-CONTAINER.tar`, 0600; see archive.py for the format). Each new one
prunes the rest to `snapshots_keep` (default 3), newest first, never removing
the newest one linked to the stable container, nor one a command is about to
restore.
"""

from __future__ import annotations

import os
import stat
import time

from dockervisor.flows import datacopy
from dockervisor.store import archive
from dockervisor.store import paths
from dockervisor.store.archive import Manifest
from dockervisor.config.datapolicy import DEFAULT_SNAPSHOTS_KEEP
from dockervisor.core.errors import DockervisorError
from dockervisor.core.timefmt import iso_utc

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.flows.context import Context
    from dockervisor.store.state import FamilyState

SUFFIX = ".tar"


class Snapshot:
    __slots__ = ("path", "manifest", "size")

    def __init__(self, path: str, manifest: Manifest, size: int) -> None:
        self.path = path
        self.manifest = manifest
        self.size = size

    @property
    def container(self) -> str:
        return self.manifest.container

    def to_dict(self, stable: str | None) -> dict[str, object]:
        return {
            "time": self.manifest.time,
            "container": self.container,
            "size": self.size,
            "path": self.path,
            "mounts": [mount.target for mount in self.manifest.mounts],
            "image_id": self.manifest.image_id,
            "stable": self.container == stable,
        }


def existing(family: str) -> tuple[list[Snapshot], dict[str, str]]:
    """The family's snapshots, newest first, and for each file that is not
    one (damaged, another family's, a link), why. Creates nothing."""
    top, directory = os.path.dirname(paths.snapshots_dir(family)), paths.snapshots_dir(family)
    if not (paths.existing_private_dir(top) and paths.existing_private_dir(directory)):
        return [], {}
    with paths.reported("list", directory):
        names = os.listdir(directory)
    found, damaged = [], {}
    # The names begin with the time they were taken, to the microsecond.
    for name in sorted((n for n in names if n.endswith(SUFFIX) and not n.startswith(".")), reverse=True):
        path = os.path.join(directory, name)
        try:
            found.append(_read(family, path))
        except DockervisorError as error:
            damaged[path] = error.message
    return found, damaged


def _read(family: str, path: str) -> Snapshot:
    with paths.reported("read", path):
        info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        raise DockervisorError(f"{path} is not a regular file; dockervisor leaves it alone")
    manifest = archive.read_manifest_and_end(path)
    if manifest.family != family:
        raise DockervisorError(f"{path} is a snapshot of {manifest.family!r}, not of {family!r}")
    return Snapshot(path, manifest, info.st_size)


def linked(family: str, container: str) -> Snapshot | None:
    """The newest snapshot of the data `container` wrote."""
    return next((s for s in existing(family)[0] if s.container == container), None)


def take(
    ctx: Context,
    family: FamilyState,
    container: str,
    document: dict,
    protect: tuple[str, ...] = (),
) -> Snapshot | None:
    """Copy the family's mount points, as `container` mounts them, into a new
    snapshot linked to it; then prune. None if it mounts none of them (or on
    a dry run, which only prints the docker commands)."""
    assert family.run_config is not None
    mounts = datacopy.mounts_to_copy(container, document, family.run_config, strict=False)
    if not mounts:
        ctx.info(f"no snapshot taken: {container} mounts none of the family's mount points")
        return None
    now = time.time()
    manifest = Manifest(family.image, container, document.get("Image"), mounts, iso_utc(now), "snapshot")
    directory = paths.snapshots_dir(family.image)
    if not ctx.dry_run:
        paths.ensure_private_dir(os.path.dirname(directory))
        paths.ensure_private_dir(directory)
    path = _new_path(directory, container, now)
    # What is copied has stopped (a dry run did not stop it: it does not pause it either).
    pause = datacopy.is_running(document) and not ctx.dry_run
    size = datacopy.write_archive(ctx, path, manifest, pause)
    if ctx.dry_run:
        return None
    ctx.info(f"took a snapshot of the data of {container}: {path} ({datacopy.size_text(size)})")
    snapshot = Snapshot(path, manifest, size)
    try:  # the snapshot is taken: retention must not stop the change it is for
        prune(ctx, family, protect=(path, *protect))
    except DockervisorError as error:
        ctx.info(f"warning: the older snapshots were not pruned: {error.message}")
    return snapshot


def _new_path(directory: str, container: str, now: float) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
    path = os.path.join(directory, f"{stamp}-{container}{SUFFIX}")
    counter = 1
    while os.path.lexists(path):
        counter += 1
        path = os.path.join(directory, f"{stamp}-{container}-{counter}{SUFFIX}")
    return path


def prune(ctx: Context, family: FamilyState, protect: tuple[str, ...] = ()) -> list[Snapshot]:
    """Remove snapshots beyond the newest `snapshots_keep`, except the newest
    one linked to the stable container and those in `protect`; the removed."""
    keep = family.data.keep if family.data else DEFAULT_SNAPSHOTS_KEEP
    found, damaged = existing(family.image)
    for message in damaged.values():  # never removed: what it holds is for a person to judge
        ctx.info(f"warning: skipped a damaged snapshot: {message}")
    stables = [s for s in found if s.container == family.stable]
    removed = []
    for snapshot in found[keep:]:
        if snapshot.path in protect or (stables and snapshot is stables[0]):
            continue
        try:
            with paths.reported("remove", snapshot.path):
                os.unlink(snapshot.path)
        except DockervisorError as error:
            ctx.info(f"warning: {error.message}")
            continue
        removed.append(snapshot)
        ctx.info(
            f"removed the snapshot {os.path.basename(snapshot.path)} of {snapshot.container} "
            f"(keeping {keep}, snapshots_keep)"
        )
    return removed
