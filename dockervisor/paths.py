"""Every location dockervisor uses; `DOCKERVISOR_HOME` moves them all."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager

from dockervisor.errors import PathError


def home() -> str:
    configured = os.environ.get("DOCKERVISOR_HOME")
    if configured:
        return os.path.abspath(configured)
    return os.path.join(os.path.expanduser("~"), ".dockervisor")


def families_dir() -> str:
    return os.path.join(home(), "families")


def family_state_file(image: str) -> str:
    return os.path.join(families_dir(), f"{image}.json")


def family_lock_file(image: str) -> str:
    return os.path.join(home(), "locks", f"{image}.lock")


def family_history_file(image: str) -> str:
    return os.path.join(home(), "history", f"{image}.jsonl")


def scratch_dir() -> str:
    """Short-lived files such as generated env files; user-only like the rest."""
    return os.path.join(home(), "tmp")


def ensure_private_dir(path: str) -> str:
    """Create `path` and its missing parents as 0700 directories."""
    if not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent and parent != path:
            ensure_private_dir(parent)
        with reported("create the directory", path):
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass
    return path


@contextmanager
def reported(doing: str, path: str) -> Iterator[None]:
    """Turn an OSError on one of our own paths into one line for the user:
    `cannot DOING PATH: REASON`, with no traceback."""
    try:
        yield
    except OSError as error:
        raise path_error(doing, path, error) from None


def path_error(doing: str, path: str, error: OSError) -> PathError:
    if error.errno == errno.ELOOP:  # what O_NOFOLLOW says of a link
        link = "it" if error.filename in (None, path) else error.filename
        reason = f"{link} is a symbolic link, and dockervisor follows none in its state directory"
    else:
        reason = error.strerror or str(error)
    return PathError(doing, path, reason)
