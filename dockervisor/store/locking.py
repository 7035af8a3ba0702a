"""One exclusive lock per family, held across read-modify-write and docker calls.

A second run (cron next to a person at the terminal) waits for the lock rather
than failing at once, and says who it is waiting for.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dockervisor.store import paths
from dockervisor.core.errors import DockervisorError

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from typing import TextIO

DEFAULT_TIMEOUT_SECONDS = 300.0
_POLL_SECONDS = 0.1


def lock_timeout() -> float:
    configured = os.environ.get("DOCKERVISOR_LOCK_TIMEOUT")
    if not configured:
        return DEFAULT_TIMEOUT_SECONDS
    value = parse_seconds(configured)
    if value is None:
        raise DockervisorError(
            "DOCKERVISOR_LOCK_TIMEOUT must be a number of seconds in ASCII digits "
            f"(such as 300 or 2.5), not {configured!r}"
        )
    return value


def parse_seconds(text: str) -> float | None:
    """`300`, `2.5`: ASCII digits and one point only. float() would also take
    `nan` (wait for ever), `inf`, `1e9` and other scripts' digits."""
    whole, _, fraction = text.partition(".")
    digits = whole + fraction
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    return float(text)


@contextmanager
def family_lock(
    family: str,
    holder: str,
    stderr: TextIO = sys.stderr,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[int]:
    """Hold the family's lock; `holder` describes this run to anyone waiting,
    and `on_wait` runs once if the lock is busy, before waiting for it.

    Yields the locked descriptor: docker children that change the family
    inherit it, so the lock outlives dockervisor if it is killed (kill -9)
    while such a child still runs."""
    path = paths.family_lock_file(family)
    timeout = lock_timeout()
    paths.ensure_private_dir(os.path.dirname(path))
    with paths.reported("lock", path):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        _acquire(fd, family, path, timeout, stderr, on_wait)
        # On a full disk this fails, before docker is asked to change anything.
        with paths.reported("lock", path):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}, since {_now()}: {holder}\n".encode(), 0)
        try:
            yield fd
        finally:
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass  # only the holder's description stays; the lock goes with the close
    finally:
        os.close(fd)  # closing releases the flock


def _acquire(
    fd: int,
    family: str,
    path: str,
    timeout: float,
    stderr: TextIO,
    on_wait: Callable[[], None] | None,
) -> None:
    def take() -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        except OSError as error:
            raise paths.path_error("lock", path, error) from None

    wait_for(
        take, f"the lock on {family!r}", f"the lock on {family!r} ({path})", lambda: _holder(fd),
        "set DOCKERVISOR_LOCK_TIMEOUT to wait longer", timeout, stderr, on_wait, _POLL_SECONDS,
    )  # fmt: skip


def wait_for(
    take: Callable[[], bool],
    what: str,
    what_in_full: str,
    holder: Callable[[], str],
    hint: str,
    timeout: float,
    stderr: TextIO,
    on_wait: Callable[[], None] | None,
    poll: float,
) -> None:
    """Try `take` until it succeeds; once it fails, run `on_wait` and say who
    holds `what`; after `timeout` seconds give up, naming the holder again."""
    deadline = time.monotonic() + timeout
    announced = False
    while not take():
        if not announced:
            if on_wait is not None:
                on_wait()
            print(f"dockervisor: waiting for {what}, held by {holder()}", file=stderr, flush=True)
            announced = True
        if time.monotonic() >= deadline:
            raise DockervisorError(
                f"gave up after {timeout:g}s waiting for {what_in_full}, held by {holder()}; {hint}"
            )
        time.sleep(poll)


def _holder(fd: int) -> str:
    """What the holder wrote, read through our own descriptor: no second open."""
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    from dockervisor.core.output import printable  # another run wrote it: it may not drive our terminal

    return printable(text) or "another dockervisor run"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
