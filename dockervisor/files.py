"""Durable, user-only file writes shared by the state and the history."""

from __future__ import annotations

import os

from dockervisor.paths import ensure_private_dir

_PRIVATE = 0o600


def write_atomically(path: str, data: bytes) -> None:
    """Replace `path` with `data`: readers see the old file or the new one, never half."""
    directory = ensure_private_dir(os.path.dirname(path))
    # Callers hold the family lock, so the pid keeps concurrent processes apart
    # and a leftover from a crash is simply truncated.
    temporary = f"{path}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, _PRIVATE)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    _fsync_directory(directory)


def append_durably(path: str, data: bytes) -> None:
    """Append `data` in one write and flush it to disk before returning."""
    ensure_private_dir(os.path.dirname(path))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, _PRIVATE)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(source: str, destination: str) -> None:
    """Rename `source` over `destination` in one step and flush the rename to disk."""
    os.replace(source, destination)
    _fsync_directory(os.path.dirname(destination))


def create_private(path: str, data: bytes) -> None:
    """Write a new user-only file; refuses to follow or reuse an existing path."""
    ensure_private_dir(os.path.dirname(path))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, _PRIVATE)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_directory(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
