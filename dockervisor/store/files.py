"""Reads and durable, user-only writes of dockervisor's own files.

Every OS error here (a full disk, a read-only file system, a link where a file
should be) reaches the user as one line naming the path, and a failed write
leaves no temporary or partial file behind.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dockervisor.core.errors import PathError
from dockervisor.store.paths import ensure_private_dir, existing_private_dir, is_a_link, reported

_PRIVATE = 0o600


def exists_private(path: str) -> bool:
    """Whether one of our files is there; a link in its place is refused."""
    if not existing_private_dir(os.path.dirname(path)):
        return False
    with reported("read", path):
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return False
    if stat.S_ISLNK(info.st_mode):
        raise PathError("read", path, is_a_link("it"))
    return True


def read_private(path: str) -> bytes | None:
    """The content of one of our files, None if there is none; never through a link."""
    if not existing_private_dir(os.path.dirname(path)):
        return None
    with reported("read", path):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        with os.fdopen(fd, "rb") as handle:
            return handle.read()


def write_atomically(path: str, data: bytes) -> None:
    """Replace `path` with `data`: readers see the old file or the new one, never half."""
    directory = ensure_private_dir(os.path.dirname(path))
    # Callers hold the family lock, so the pid keeps concurrent processes apart
    # and a leftover from a crash is simply truncated.
    temporary = f"{path}.{os.getpid()}.tmp"
    with reported("write", path):
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, _PRIVATE)
        with _removed_on_failure(temporary):
            _write_and_close(fd, data, sync=True)
            os.replace(temporary, path)
        _fsync_directory(directory)


def create_once(path: str, data: bytes) -> bool:
    """Make `path` hold `data` whole, unless it exists: whether this call made
    it. Two runs making it at once agree on one (a link never replaces)."""
    directory = ensure_private_dir(os.path.dirname(path))
    temporary = f"{path}.{os.getpid()}.tmp"
    with reported("write", path):
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, _PRIVATE)
        try:
            _write_and_close(fd, data, sync=True)
            os.link(temporary, path)
        except FileExistsError:
            return False
        finally:
            os.unlink(temporary)
        _fsync_directory(directory)
    return True


def append_durably(path: str, data: bytes) -> None:
    """Append `data` in one write and flush it to disk before returning.

    A failed append is cut off again: a torn line would swallow the next one."""
    ensure_private_dir(os.path.dirname(path))
    with reported("write", path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, _PRIVATE)
        try:
            end = os.lseek(fd, 0, os.SEEK_END)
            try:
                _write_all(fd, data)
                os.fsync(fd)
            except BaseException:
                _quietly(os.ftruncate, fd, end)
                raise
        finally:
            os.close(fd)


def replace_durably(source: str, destination: str) -> None:
    """Rename `source` over `destination` in one step and flush the rename to disk."""
    os.replace(source, destination)
    _fsync_directory(os.path.dirname(destination))


def create_private(path: str, data: bytes) -> None:
    """Write a new user-only file; refuses to follow or reuse an existing path."""
    ensure_private_dir(os.path.dirname(path))
    with reported("write", path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, _PRIVATE)
        with _removed_on_failure(path):  # it may hold secrets: never leave half of it
            _write_and_close(fd, data, sync=False)


@contextmanager
def _removed_on_failure(path: str) -> Iterator[None]:
    """Remove the file this run just created if what follows fails or is interrupted."""
    try:
        yield
    except BaseException:
        _quietly(os.unlink, path)
        raise


def _quietly(clean_up: Callable[..., object], *args: object) -> None:
    """A clean-up after a failure: its own error would hide the one that matters."""
    try:
        clean_up(*args)
    except OSError:
        pass


def _write_and_close(fd: int, data: bytes, sync: bool) -> None:
    try:
        _write_all(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_directory(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
