"""The archive of a family's data: one plain tar file, written and read as a stream.

Its members, in this order (`tar -tvf FILE` lists them all):

    dockervisor/manifest.json   what the archive holds: family, container,
                                image ID, mount points, time, version
    dockervisor/mount-0         an empty marker, then docker's own tar of the
    data/ data/...              first mount point, as `docker cp C:/data -` gives it
    dockervisor/mount-1         and so on, one marker per mount point

The manifest and the markers carry a pax `comment` ("dockervisor manifest",
"dockervisor mount N"), which no member `docker cp` writes has, so they are
told apart from the data whatever the mount points are called. docker writes
each mount point's tar straight into the file, never through our memory;
its end-of-archive blocks are cut so that the whole file is one tar.

Every member of a mount point is checked before any of it reaches a volume,
and again as it is streamed: a name under the mount point's own directory,
neither absolute nor with `..`; no member below a symbolic link; symbolic
links relative and staying inside the mount point; hard links to names of
the same mount point; no device files.
"""

from __future__ import annotations

import json
import os
import struct
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager

from dockervisor import __version__
from dockervisor.store import paths
from dockervisor.core.errors import DockervisorError
from dockervisor.config.names import is_container_name, is_image_name, is_volume_name
from dockervisor.config.runconfig import brief, is_host_path, is_mount_point
from dockervisor.store.members import ArchivedMount, MountMembers  # ArchivedMount: archive.ArchivedMount too

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from typing import BinaryIO

FORMAT = 1
MANIFEST_NAME = "dockervisor/manifest.json"
MANIFEST_COMMENT = "dockervisor manifest"
MARKER_COMMENT = "dockervisor mount "
KINDS = ("backup", "snapshot")
MOUNT_TYPES = ("volume", "bind")
BLOCK = tarfile.BLOCKSIZE
END_OF_ARCHIVE = bytes(2 * BLOCK)
# Bytes read or written at a time while streaming data.
CHUNK = 1024 * 1024
_MANIFEST_MAX = 1024 * 1024
# What may follow the last member: end-of-archive blocks, padded to a tar record at most.
_TRAILER_MAX = 64 * 1024


class Manifest:
    __slots__ = ("family", "container", "image_id", "mounts", "time", "version", "kind")

    def __init__(
        self,
        family: str,
        container: str,
        image_id: str | None,
        mounts: list[ArchivedMount],
        time: str,
        kind: str = "backup",
        version: str = __version__,
    ) -> None:
        self.family = family
        self.container = container
        self.image_id = image_id
        self.mounts = mounts
        self.time = time
        self.kind = kind
        self.version = version

    def to_dict(self) -> dict[str, object]:
        return {
            "format": FORMAT,
            "kind": self.kind,
            "family": self.family,
            "container": self.container,
            "image_id": self.image_id,
            "mounts": [mount.to_dict() for mount in self.mounts],
            "time": self.time,
            "dockervisor": self.version,
        }

    @classmethod
    def from_dict(cls, document: object) -> Manifest:
        """Read back what to_dict wrote; ValueError says what is wrong."""
        if not isinstance(document, dict):
            raise ValueError("the manifest is not a JSON object")
        if document.get("format") != FORMAT:
            raise ValueError(f"unknown format {brief(document.get('format'))} (this dockervisor reads {FORMAT})")
        family, container = document.get("family"), document.get("container")
        image_id, time, version = document.get("image_id"), document.get("time"), document.get("dockervisor")
        kind, raw_mounts = document.get("kind"), document.get("mounts")
        if not (isinstance(family, str) and is_image_name(family)):
            raise ValueError(f"family {brief(family)} is not an image name")
        if not (isinstance(container, str) and is_container_name(container)):
            raise ValueError(f"container {brief(container)} is not a container name")
        if image_id is not None and not isinstance(image_id, str):
            raise ValueError("image_id must be a string or null")
        if not isinstance(time, str) or not isinstance(version, str) or kind not in KINDS:
            raise ValueError("time, dockervisor and kind must be strings")
        if not isinstance(raw_mounts, list) or not raw_mounts:
            raise ValueError("mounts must be a list of mount points")
        mounts = [_mount_from_dict(raw) for raw in raw_mounts]
        targets = [mount.target for mount in mounts]
        if len(set(targets)) != len(targets):
            raise ValueError("a mount point is listed twice")
        return cls(family, container, image_id, mounts, time, kind, version)


def _mount_from_dict(raw: object) -> ArchivedMount:
    if not isinstance(raw, dict):
        raise ValueError("a mount is not a JSON object")
    target, kind, source = raw.get("target"), raw.get("type"), raw.get("source")
    if not (isinstance(target, str) and is_mount_point(target)):
        raise ValueError(f"{brief(target)} is not a usable mount point")
    if kind not in MOUNT_TYPES or not isinstance(source, str):
        raise ValueError(f"the mount at {target} has no valid type and source")
    valid = is_volume_name(source) if kind == "volume" else is_host_path(source)
    if not valid:
        raise ValueError(f"the mount at {target} has an invalid source {brief(source)}")
    return ArchivedMount(target, kind, source)


# Writing -------------------------------------------------------------------


def header(name: str, size: int = 0, comment: str | None = None, mtime: float = 0) -> bytes:
    """The header block(s) of one of our own members: the manifest or a marker."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(mtime)
    if comment is not None:
        info.pax_headers = {"comment": comment}
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def manifest_member(manifest: Manifest, mtime: float) -> bytes:
    data = (json.dumps(manifest.to_dict(), indent=2) + "\n").encode()
    return header(MANIFEST_NAME, len(data), MANIFEST_COMMENT, mtime) + data + _padding(len(data))


def marker_member(index: int, mtime: float) -> bytes:
    return header(f"dockervisor/mount-{index}", 0, f"{MARKER_COMMENT}{index}", mtime)


def _padding(size: int) -> bytes:
    return bytes(-size % BLOCK)


def end_of_segment(path: str, start: int, mount: ArchivedMount) -> int:
    """Check the tar docker wrote from `start` for `mount`, member by member,
    and return where its end-of-archive blocks begin (cut there, the next
    part follows). Raises DockervisorError naming what is wrong."""
    with _opened(path) as handle:
        handle.seek(start)
        tar = _reader(handle, path)
        checker = MountMembers(mount)
        for member in _members(tar, path):
            checker.check(member)
        checker.finish()
        end = tar.offset
        _check_trailer(handle, end, path, f"the copy of {mount.target}")
        return end


# Reading -------------------------------------------------------------------


def read_manifest(path: str) -> Manifest:
    """The manifest alone: the first member, read without going further."""
    with _opened(path) as handle:
        tar = _reader(handle, path)
        return _manifest_of(tar, next(_members(tar, path), None), path)


def read_manifest_and_end(path: str) -> Manifest:
    """The manifest, and a look at the end: every archive dockervisor writes
    ends with the end-of-archive blocks, on a block boundary, so a file cut
    short is seen without reading it all (check reads it all)."""
    manifest = read_manifest(path)
    with _opened(path) as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - len(END_OF_ARCHIVE)))
        if size % BLOCK or handle.read().strip(b"\0"):
            raise _damaged(path, "it is cut short (it does not end as a whole archive does)")
    return manifest


def check(path: str) -> Manifest:
    """Read the whole archive (headers only: data is skipped over) and check
    every member; the manifest, or a DockervisorError naming what is wrong."""
    with _opened(path) as handle:
        tar = _reader(handle, path)
        members = _members(tar, path)
        manifest = _manifest_of(tar, next(members, None), path)
        checker: MountMembers | None = None
        index = 0
        for member in members:
            if index < len(manifest.mounts) and _is_marker(member, index):
                if checker is not None:
                    checker.finish()
                checker = MountMembers(manifest.mounts[index])
                index += 1
            elif checker is None or _comment(member).startswith("dockervisor"):
                raise _damaged(path, f"{brief(member.name)} is not where it belongs")
            else:
                checker.check(member)
        if checker is not None:
            checker.finish()
        if index != len(manifest.mounts):
            raise _damaged(path, f"it holds {index} of the {len(manifest.mounts)} mount points its manifest lists")
        _check_trailer(handle, tar.offset, path, "the archive")
    return manifest


def mount_stream(path: str, index: int) -> Iterator[bytes]:
    """The tar of mount point `index` as a helper's `tar -x` in the mount
    point takes it: names relative to it (its own directory is `.`), owners
    by number. Checked again as it goes; read and yielded a chunk at a time."""
    with _opened(path) as handle:
        tar = _reader(handle, path)
        members = _members(tar, path)
        manifest = _manifest_of(tar, next(members, None), path)
        mount = manifest.mounts[index]
        for member in members:
            if _is_marker(member, index):
                break
        else:
            raise _damaged(path, f"the mount point {mount.target} is missing")
        checker = MountMembers(mount)
        for member in members:
            if _comment(member).startswith(MARKER_COMMENT):
                break
            relative = checker.check(member)
            yield _helper_header(member, relative, checker)
            if member.isreg() and member.size:
                yield from _data(handle, member, path)
        checker.finish()
    yield END_OF_ARCHIVE


def _helper_header(member: tarfile.TarInfo, relative: str, checker: MountMembers) -> bytes:
    """A fresh header: the original's name and pax records stay behind."""
    info = tarfile.TarInfo(relative)
    info.type = member.type
    info.mode, info.uid, info.gid, info.mtime = member.mode, member.uid, member.gid, member.mtime
    info.size = member.size if member.isreg() else 0
    if member.issym():
        info.linkname = member.linkname
    elif member.islnk():
        info.linkname = checker.relative(member.linkname)
    # uname and gname stay empty: a helper image's user names mean nothing
    # for the volume, so tar sets the owners by number.
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _data(handle: BinaryIO, member: tarfile.TarInfo, path: str) -> Iterator[bytes]:
    handle.seek(member.offset_data)
    left = member.size
    while left:
        chunk = handle.read(min(CHUNK, left))
        if not chunk:
            raise _damaged(path, f"{brief(member.name)} is cut short")
        left -= len(chunk)
        yield chunk
    yield _padding(member.size)


def _manifest_of(tar: tarfile.TarFile, member: tarfile.TarInfo | None, path: str) -> Manifest:
    if member is None or _comment(member) != MANIFEST_COMMENT or not member.isreg():
        raise DockervisorError(f"{path} is not a dockervisor archive (it does not begin with its manifest)")
    if member.size > _MANIFEST_MAX:
        raise _damaged(path, "its manifest is too large")
    handle = tar.extractfile(member)
    raw = handle.read() if handle is not None else b""
    try:
        return Manifest.from_dict(json.loads(raw.decode("utf-8")))
    except RecursionError:
        raise _damaged(path, "its manifest is nested too deeply") from None
    except ValueError as error:  # includes JSONDecodeError and UnicodeDecodeError
        raise _damaged(path, f"its manifest is wrong: {error}") from None


def _is_marker(member: tarfile.TarInfo, index: int) -> bool:
    return _comment(member) == f"{MARKER_COMMENT}{index}"


def _comment(member: tarfile.TarInfo) -> str:
    return str(member.pax_headers.get("comment", ""))


def _members(tar: tarfile.TarFile, path: str) -> Iterator[tarfile.TarInfo]:
    while True:
        try:
            member = tar.next()
        except tarfile.TarError as error:
            raise _damaged(path, str(error)) from None
        if member is None:
            return
        tar.members.clear()  # tarfile keeps every header it reads; a volume may hold millions of files
        yield member


def _check_trailer(handle: BinaryIO, end: int, path: str, what: str) -> None:
    """After the last member: only end-of-archive blocks. Anything else is a
    header tarfile could not read (it stops quietly there), or a cut file."""
    handle.seek(end)
    trailer = handle.read(_TRAILER_MAX + 1)
    if len(trailer) > _TRAILER_MAX or trailer.strip(b"\0"):
        raise _damaged(path, f"{what} has something tar cannot read at byte {end}")
    if len(trailer) < len(END_OF_ARCHIVE):
        raise _damaged(path, f"{what} is cut short")


def _reader(handle: BinaryIO, path: str) -> tarfile.TarFile:
    try:
        return tarfile.open(fileobj=handle, mode="r:")
    except tarfile.TarError as error:
        raise DockervisorError(f"{path} is not a dockervisor archive ({error})") from None


# What tarfile and the bytes of a damaged file can raise besides TarError:
# a cut header (EOFError), a bad number field (struct.error, ValueError,
# OverflowError), a name that is not UTF-8 (UnicodeError, a ValueError).
_READ_ERRORS = (tarfile.TarError, EOFError, struct.error, ValueError, OverflowError)


@contextmanager
def _opened(path: str) -> Iterator[BinaryIO]:
    """The archive, opened for reading; OS errors as one line, and whatever
    a damaged file makes tarfile raise as a DockervisorError naming it."""
    with paths.reported("read", path):
        handle = open(path, "rb")  # noqa: SIM115 (closed below)
    with handle, paths.reported("read", path):
        try:
            yield handle
        except _READ_ERRORS as error:
            raise _damaged(path, str(error) or type(error).__name__) from None
        except DockervisorError as error:  # a member refused: which archive holds it
            if path in error.message:
                raise
            raise DockervisorError(f"{path}: {error.message}") from None


def _damaged(path: str, reason: str) -> DockervisorError:
    return DockervisorError(f"the archive {path} is damaged: {reason}")
