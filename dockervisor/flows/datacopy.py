"""Copying a family's data out of a container into an archive, and back into its volumes.

Out: `docker cp CONTAINER:/mount/point -` for each mount point, which docker
writes straight into the archive file (see archive.py), volume content
included, from a running, paused or stopped container. A running container
is paused meanwhile, so the copy is consistent like after a power cut, and
unpaused on every path, a signal included.

In: a helper container mounts each volume or host directory and makes its
content exactly the archive's (`rm -rf`, then `tar -x` of the stream that
dockervisor checks and hands it): `DOCKERVISOR_HELPER_IMAGE` if set, else the
family's own image if it has /bin/sh and tar. Nothing is ever pulled.
"""

from __future__ import annotations

import os
import re
import time

from dockervisor.core import signals
from dockervisor.store import archive
from dockervisor.engine import argv as docker_argv
from dockervisor.store import paths
from dockervisor.store.archive import ArchivedMount, Manifest
from dockervisor.core.errors import DockervisorError
from dockervisor.engine.executor import CHANGE_TIMEOUT
from dockervisor.engine.said import docker_said, first_line
from dockervisor.config.names import is_volume_name
from dockervisor.config.runconfig import RunConfig, is_host_path, is_mount_point

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from typing import TextIO

    from dockervisor.flows.context import Context

HELPER_ENV = "DOCKERVISOR_HELPER_IMAGE"
# A local image reference: name[:tag] or name@digest, possibly with a registry host.
_IMAGE_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@-]{0,254}")


def mounted(document: dict) -> dict[str, ArchivedMount]:
    """What an inspected container mounts, by mount point: volumes and host
    directories whose names dockervisor could have given."""
    found = {}
    for mount in document.get("Mounts") or []:
        if not isinstance(mount, dict):
            continue
        kind, target = mount.get("Type"), mount.get("Destination")
        source = mount.get("Name") if kind == "volume" else mount.get("Source")
        if not (isinstance(target, str) and is_mount_point(target) and isinstance(source, str)):
            continue
        if (kind == "volume" and is_volume_name(source)) or (kind == "bind" and is_host_path(source)):
            found[target] = ArchivedMount(target, kind, source)
    return found


def mounts_to_copy(name: str, document: dict, config: RunConfig, strict: bool) -> list[ArchivedMount]:
    """The mount points of the run configuration, as `name` mounts them. One
    it does not mount (it was created before the configuration changed) is
    refused if `strict`, else left out."""
    have = mounted(document)
    missing = [mount.target for mount in config.mounts if mount.target not in have]
    if missing and strict:
        raise DockervisorError(
            f"{name} does not mount {', '.join(missing)}, which the family's run configuration "
            "does (it was created before that changed), so it cannot give a copy of all of them"
        )
    return [have[mount.target] for mount in config.mounts if mount.target in have]


def is_running(document: dict) -> bool:
    return (document.get("State") or {}).get("Status") == "running"


def write_archive(ctx: Context, destination: str, manifest: Manifest, pause: bool) -> int:
    """Write the archive of `manifest.container`'s mount points to
    `destination` (replaced whole, or left as it was), pausing the container
    meanwhile if `pause`; its size. A dry run prints the docker commands only."""
    name = manifest.container
    if ctx.dry_run:
        for argv in _pause_around(name, pause, [docker_argv.copy_from(name, m.target) for m in manifest.mounts]):
            ctx.docker.change(argv)
        return 0
    directory = os.path.dirname(destination)
    temporary = partial_path(destination)
    with paths.reported("write", destination):
        _remove_if_there(temporary)  # left by a run that was killed
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    progress = Progress(ctx.stderr, f"copying the data of {name}", fd)
    try:
        try:
            (_paused_copy if pause else _copy)(ctx, fd, temporary, manifest, progress)
            with paths.reported("write", destination):
                os.fsync(fd)
                size = os.fstat(fd).st_size
        finally:
            progress.end()
            os.close(fd)
        with paths.reported("write", destination):
            os.replace(temporary, destination)
            _sync_directory(directory)
    except BaseException:
        _remove_quietly(temporary)
        raise
    return size


def partial_path(destination: str) -> str:
    """Where this run writes the archive `destination` until it is whole:
    `.NAME.PID.partial` beside it (swept by the next run once PID is gone)."""
    directory, base = os.path.split(destination)
    return os.path.join(directory, f".{base}.{os.getpid()}.partial")


def _pause_around(name: str, pause: bool, argvs: list[list[str]]) -> list[list[str]]:
    return [docker_argv.pause(name), *argvs, docker_argv.unpause(name)] if pause else argvs


def _paused_copy(ctx: Context, fd: int, temporary: str, manifest: Manifest, progress: Progress) -> None:
    """Pause, copy, unpause. A signal is only noted until the container is
    unpaused; one during the copy stops it (see Executor.copy_out)."""
    name = manifest.container
    with signals.deferred(f"stopping the copy and unpausing {name} first", resume=False):
        paused = False
        try:
            ctx.docker.change(docker_argv.pause(name))
            paused = True
            ctx.info(f"paused {name} while its data is copied")
            _copy(ctx, fd, temporary, manifest, progress)
        finally:
            if paused:
                progress.end()
                _unpause(ctx, name)


def _unpause(ctx: Context, name: str) -> None:
    try:
        ctx.docker.change(docker_argv.unpause(name))
    except DockervisorError as error:
        raise DockervisorError(
            f"{name} is still PAUSED: {error.message}; run `docker unpause {name}`"
        ) from None
    ctx.info(f"unpaused {name}")


def _copy(ctx: Context, fd: int, temporary: str, manifest: Manifest, progress: Progress) -> None:
    """The manifest, then each mount point behind its marker, docker writing
    its tar straight into `fd`; each tar is checked, and its end cut."""
    with paths.reported("write", temporary):
        _write(fd, archive.manifest_member(manifest, time.time()))
    for index, mount in enumerate(manifest.mounts):
        with paths.reported("write", temporary):
            _write(fd, archive.marker_member(index, time.time()))
            start = os.lseek(fd, 0, os.SEEK_CUR)
        ctx.docker.copy_out(docker_argv.copy_from(manifest.container, mount.target), fd, progress)
        end = archive.end_of_segment(temporary, start, mount)
        with paths.reported("write", temporary):
            os.ftruncate(fd, end)
            os.lseek(fd, end, os.SEEK_SET)
    with paths.reported("write", temporary):
        _write(fd, archive.END_OF_ARCHIVE)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _sync_directory(directory: str) -> None:
    fd = os.open(directory or ".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_if_there(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _remove_quietly(path: str) -> None:
    """A clean-up after a failure: its own error would hide the one that matters."""
    try:
        os.unlink(path)
    except OSError:
        pass


class Progress:
    """Bytes copied so far, on one line that rewrites itself, only on a
    terminal. And the file `fd` on its way to disk as it grows, so that
    little is left for the fsync at the end: the kernel is asked to start
    writing it out (without waiting, which would keep us from seeing the copy
    end) and to drop what is written from its cache, which a backup would
    otherwise fill."""

    def __init__(self, stream: TextIO, what: str, fd: int) -> None:
        self.stream = stream
        self.what = what
        self.fd = fd
        self.shown = False
        try:
            self.enabled = stream.isatty()
        except (ValueError, AttributeError):
            self.enabled = False

    def __call__(self, done: int) -> None:
        if hasattr(os, "posix_fadvise"):  # not on macOS
            os.posix_fadvise(self.fd, 0, 0, os.POSIX_FADV_DONTNEED)
        if self.enabled:
            print(f"\rdockervisor: {self.what}: {size_text(done)}\033[K", end="", file=self.stream, flush=True)
            self.shown = True

    def end(self) -> None:
        if self.shown:
            print(file=self.stream, flush=True)
            self.shown = False


def size_text(size: int) -> str:
    """`512 B`, `3.4 KiB`, `200.0 MiB`, `1.2 GiB`."""
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    value, unit = float(size), 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    return f"{size} B" if unit == 0 else f"{value:.1f} {units[unit]}"


# Restoring -------------------------------------------------------------------


def helper_image(ctx: Context, family: str) -> str:
    """The image whose /bin/sh and tar restore the family's volumes, checked
    to have both before anything changes (a dry run only names it)."""
    configured = os.environ.get(HELPER_ENV)
    if configured:
        if not _IMAGE_REFERENCE.fullmatch(configured):
            raise DockervisorError(f"{HELPER_ENV} must name a local image (such as busybox), not {configured!r}")
        candidate = configured
    else:
        candidate = docker_argv.tag(family)
    if ctx.dry_run:
        ctx.info(f"would restore data with the helper image {candidate}")
        return candidate
    result = ctx.docker.query(docker_argv.helper_probe(candidate, family), check=False, timeout=CHANGE_TIMEOUT)
    if result.ok:
        return candidate
    said = first_line(result.stderr) or f"it exited {result.returncode}"
    if docker_said(said, "No such image", "Unable to find image"):
        if configured:
            raise DockervisorError(
                f"{HELPER_ENV} names {candidate}, which is not on this machine, and dockervisor "
                f"never pulls: run `docker pull {candidate}` first"
            )
        raise DockervisorError(
            f"there is no image {candidate} to restore with: build the family again, or set "
            f"{HELPER_ENV} to a local image that has /bin/sh and tar (such as busybox)"
        )
    where = f"{HELPER_ENV}={candidate}" if configured else f"the family's image {candidate}"
    raise DockervisorError(
        f"restoring a volume needs a /bin/sh with tar in a container, and {where} has not "
        f"both ({said}); set {HELPER_ENV} to a local image that has them (such as busybox)"
    )


def restore(ctx: Context, path: str, family: str, helper: str, into: list[tuple[int, ArchivedMount]]) -> None:
    """Make the content of each volume or host directory exactly what mount
    point `index` of the archive at `path` holds."""
    for index, destination in into:
        name = f"dcv-helper_{family}_{os.getpid()}_{time.monotonic_ns()}"
        argv = docker_argv.restore_into(helper, family, destination.source, name)
        try:
            ctx.docker.copy_in(argv, archive.mount_stream(path, index))
        except BaseException:
            _remove_helper(ctx, name)
            raise
        what = f"{destination.target} ({destination.source}) from {path}"
        ctx.done(f"would restore {what}", f"restored {what}")


def _remove_helper(ctx: Context, name: str) -> None:
    """A helper whose feed failed could still be writing (docker lets its
    container run on once the client goes): gone before anything else
    touches that volume."""
    with signals.deferred(f"removing the helper container {name} first", resume=False):
        ctx.docker.change(docker_argv.remove_forced(name), check=False)


def destinations(
    family: str, manifest: Manifest, config: RunConfig, container: str | None, document: dict | None
) -> list[tuple[int, ArchivedMount]]:
    """Where each mount point of an archive goes back to: what `container`
    (which runs on it afterwards) mounts there, or else the run
    configuration's source. Mount points the family does not have, or the
    container does not mount, are refused by name."""
    family_mounts = {mount.target: mount for mount in config.mounts}
    unknown = [mount.target for mount in manifest.mounts if mount.target not in family_mounts]
    if unknown:
        known = ", ".join(sorted(family_mounts)) or "nothing"
        raise DockervisorError(
            f"the archive holds mount points that {family!r} does not have: {', '.join(unknown)} "
            f"(its run configuration mounts {known}); nothing was changed"
        )
    have = mounted(document) if document is not None else {}
    pairs = []
    for index, mount in enumerate(manifest.mounts):
        if document is None:
            ours = family_mounts[mount.target]
            have[mount.target] = ArchivedMount(
                mount.target, "bind" if ours.is_host_directory else "volume", ours.source
            )
        elif mount.target not in have:
            raise DockervisorError(
                f"{container} does not mount {mount.target} (it was created before the family's "
                "mounts changed), so the data restored there would not be its own; nothing was changed"
            )
        pairs.append((index, have[mount.target]))
    return pairs
