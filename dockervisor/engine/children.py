"""Waiting on the processes the executor started, and ending them: a copy
watched for progress and stalls, a child fed its stdin, a child killed with
what it started. Nothing here starts a process (executor.py alone does)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from dockervisor.core import signals
from dockervisor.core.errors import DockerTimeout
from dockervisor.engine.said import command_name

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

# A copy of data has no total limit (it takes as long as the data); one that
# moves nothing for this long is hung (the executor's CHANGE_TIMEOUT). How
# often a copy's progress is looked at.
STALL_TIMEOUT = 120.0
_COPY_TICK = 0.25


def wait_for_copy(
    argv: list[str], process: subprocess.Popen, done: Callable[[], int], progress: Callable[[int], None] | None
) -> str:
    """Wait for a copy that writes to a file, telling `progress` how far it
    got; its stderr. A signal noted meanwhile ends it, deferred or not."""
    last, still_since = -1, time.monotonic()
    while True:
        try:
            return process.communicate(timeout=_COPY_TICK)[1] or ""
        except subprocess.TimeoutExpired:
            pass
        signum = signals.take_pending()
        if signum is not None:
            raise signals.Interrupted(signum)
        size, now = done(), time.monotonic()
        if size != last:
            last, still_since = size, now
            if progress is not None:
                progress(size)
        elif now - still_since > STALL_TIMEOUT:
            raise DockerTimeout(command_name(argv), STALL_TIMEOUT)


def feed(argv: list[str], process: subprocess.Popen, chunks: Iterable[bytes]) -> None:
    """Write `chunks` to the child's stdin, waiting up to STALL_TIMEOUT for
    it to take each part. A child that stops reading ends the feed: its exit
    status says why."""
    import select

    fd = process.stdin.fileno()
    os.set_blocking(fd, False)
    try:
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                if not select.select([], [fd], [], STALL_TIMEOUT)[1]:
                    raise DockerTimeout(command_name(argv), STALL_TIMEOUT)
                try:
                    view = view[os.write(fd, view) :]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    return
    finally:
        try:
            process.stdin.close()
        except BrokenPipeError:
            pass


def kill(process: subprocess.Popen) -> None:
    """Kill a child and whatever it started (ssh, for a remote engine)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        process.communicate(timeout=5)
    except (subprocess.TimeoutExpired, OSError, ValueError):
        pass
