"""stdout and stderr that cannot stop a change.

cron, `| logger`, `| head` and a dropped ssh session close the reader of our
output while we run. Python ignores SIGPIPE, so the next write raises
BrokenPipeError (or OSError, for a full disk under a redirect). A command
that has asked docker to change something must still finish, or roll back,
and record what happened: for it, a write to a stream that is gone is
dropped, quietly, and so is every later one.

A command that only reads (`status`, `history`, `--help`) has nothing to
finish: its reader went away, so it stops at once, quietly, with the exit
code a shell gives a command killed by SIGPIPE (141), never a traceback.

A descriptor closed before we started (`2>&-`, `>&-`) is opened on
/dev/null first, so that nothing of ours (a lock file, a state file) takes
its number, and progress never lands on stdout because stderr is missing.
"""

from __future__ import annotations

import os
import sys

# The exit code of a read-only command whose reader went away: 128 + SIGPIPE.
EXIT_PIPE_CLOSED = 141


class ReaderGone(BrokenPipeError):
    """A read-only command's output has nowhere to go: it ends quietly, with
    141 when its reader went away, 1 when the output failed otherwise (a full
    disk under a redirect)."""

    def __init__(self, message: str, exit_code: int = EXIT_PIPE_CLOSED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Guarded:
    """A text stream whose write and flush never fail. Once the stream
    fails, it is pointed at /dev/null (so the interpreter's last flush and
    the docker children that share it are quiet too) and writes are dropped;
    `strict` makes that first failure end the command instead."""

    def __init__(self, stream: object, fd: int) -> None:
        self._stream = stream
        try:  # a test's capture may have no descriptor: then none is redirected
            self._fd: int | None = stream.fileno() if stream is not None else fd  # type: ignore[attr-defined]
        except (OSError, ValueError, AttributeError):
            self._fd = None
        self.broken = stream is None
        self.gone = False  # it failed while we ran: the reader went away
        self.strict = False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                return self._stream.write(text)  # type: ignore[attr-defined]
            except UnicodeEncodeError:  # a stream that cannot say it: escaped, not lost
                return self.write(text.encode("ascii", "backslashreplace").decode("ascii"))
            except (OSError, ValueError) as error:
                self._failed(error)
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()  # type: ignore[attr-defined]
            except (OSError, ValueError) as error:
                self._failed(error)

    def _failed(self, error: Exception) -> None:
        self.broken = self.gone = True
        if self._fd is not None:
            _to_devnull(self._fd)
        if self.strict:
            gone = isinstance(error, (BrokenPipeError, ConnectionResetError))
            raise ReaderGone(str(error), EXIT_PIPE_CLOSED if gone else 1)

    def fileno(self) -> int:
        if self._fd is None:
            raise OSError("no descriptor")
        return self._fd

    def isatty(self) -> bool:
        if self.broken:
            return False
        try:
            return bool(self._stream.isatty())  # type: ignore[attr-defined]
        except (OSError, ValueError, AttributeError):
            return False

    def __getattr__(self, name: str) -> object:  # encoding, errors, buffer...
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


def _to_devnull(fd: int) -> None:
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)


def open_missing_descriptors() -> None:
    """Give 0, 1 and 2 /dev/null if they were closed when we started."""
    for fd in (0, 1, 2):  # in order, so the lowest free number is always `fd`
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)


def guard() -> tuple[Guarded, Guarded, object]:
    """Put guarded streams in place of sys.stdout and sys.stderr; returns
    them and what puts the previous ones back."""
    open_missing_descriptors()
    previous = (sys.stdout, sys.stderr)
    out = previous[0] if isinstance(previous[0], Guarded) else Guarded(previous[0], 1)
    err = previous[1] if isinstance(previous[1], Guarded) else Guarded(previous[1], 2)
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]

    def restore() -> None:
        sys.stdout, sys.stderr = previous

    return out, err, restore
