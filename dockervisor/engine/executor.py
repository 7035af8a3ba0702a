"""The only module that starts a process.

Commands hand it argv lists built by `docker_argv`. Queries always run, since
even a dry run must look at what exists; changes are printed instead of run
under `--dry-run`. A failing docker command becomes a DockerCommandFailed
carrying docker's own message, unless the caller opts out for that one call.

Every call has a time limit, so a hung engine cannot hold a run (and the
family's lock) for ever. Children run in a session of their own, so a Ctrl-C
or a hangup reaches dockervisor alone, which then decides: a query is killed,
a change is let finish (signals wait, see `signals.deferred`), so that what
docker did is known before anything is rolled back. Changes inherit the
descriptors in `inherit_fds` (the family's lock), so the lock outlives
dockervisor if it is killed while such a child runs.

An executor talks to one engine: `engine_flags` (`--context NAME`) go right
after `docker` in every command it runs or prints, so the argv builders stay
engine-agnostic and messages name the docker verb, not the flag.

Copies of a family's data (`copy_out` to a file, `copy_in` from a stream)
take as long as the data: they have no total limit, but one that moves
nothing for STALL_TIMEOUT seconds is killed, and so is one a signal
interrupts (a rollback's copy excepted: it defers signals).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time

from dockervisor.core import signals
from dockervisor.core.errors import DockerCommandFailed, DockerTimeout, DockervisorError
from dockervisor.core.output import printable
from dockervisor.engine import children
from dockervisor.engine.children import STALL_TIMEOUT
from dockervisor.engine.said import command_name, first_line

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    import collections
    from collections.abc import Callable, Iterable, Sequence
    from typing import TextIO

# Seconds a docker call may take. A `docker stop` waits up to the container's
# stop timeout (10 s unless set) before it kills; `docker run` may create
# volumes and networks first.
QUERY_TIMEOUT = 30.0
CHANGE_TIMEOUT = 120.0
# A copy of data has no total limit (it takes as long as the data); one that
# moves nothing for STALL_TIMEOUT seconds is hung (engine/children.py).
# How much of a copy's stderr is kept for its error message.
_ERRORS_KEPT = 64 * 1024

_DAEMON_DOWN_HINT = " (is the Docker engine running, and may this user use it? Try `docker info`.)"


class Result:
    __slots__ = ("argv", "returncode", "stdout", "stderr")

    def __init__(self, argv: list[str], returncode: int, stdout: str, stderr: str) -> None:
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class Executor:
    def __init__(
        self,
        dry_run: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        engine_flags: Sequence[str] = (),
    ) -> None:
        self.dry_run = dry_run
        self.engine_flags = tuple(engine_flags)
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.debug = bool(os.environ.get("DOCKERVISOR_DEBUG"))
        # Descriptors every change inherits: the family lock while it is held.
        self.inherit_fds: tuple[int, ...] = ()
        # (family, containers that say they are its) -> those this run may act on;
        # the Context sets the state directory's rule (ownership.py).
        self.members: Callable[[str, list], list] = lambda family, containers: containers

    def query(self, argv: list[str], check: bool = True, timeout: float = QUERY_TIMEOUT) -> Result:
        """Run a command that changes nothing, capturing its output."""
        return self.query_all([argv], check, timeout)[0]

    def query_all(
        self, argvs: list[list[str]], check: bool = True, timeout: float = QUERY_TIMEOUT
    ) -> list[Result]:
        """Run independent queries side by side: each docker client costs tens of
        milliseconds to start, and the engine answers them in parallel.
        An interruption kills them: they changed nothing."""
        signals.raise_pending()
        running: list[tuple[list[str], subprocess.Popen]] = []
        try:
            for argv in argvs:
                running.append((argv, self._spawn(argv, subprocess.PIPE)))
            results = [_collect(argv, process, timeout) for argv, process in running]
        except BaseException:
            for _, process in running:  # leave no orphan behind
                children.kill(process)
            raise
        if check:
            for result in results:
                if not result.ok:
                    raise command_failed(result)
        return results

    def change(
        self,
        argv: list[str],
        check: bool = True,
        timeout: float = CHANGE_TIMEOUT,
        pass_fds: Sequence[int] = (),
        shown: list[str] | None = None,
    ) -> Result:
        """Run a command that changes something; under --dry-run only print it
        (`shown` instead of `argv`, when what runs names descriptors of ours).

        A signal that arrives meanwhile waits until docker is done, so the
        caller knows what happened; it is raised at the next safe point."""
        if self.dry_run:
            self._show(shown or argv)
            return Result(argv, 0, "", "")
        signals.raise_pending()
        waiting = f"letting `{command_name(argv)}` finish first"
        with signals.deferred(waiting, resume=False):
            process = self._spawn(argv, subprocess.PIPE, (*self.inherit_fds, *pass_fds))
            try:
                result = _collect(argv, process, timeout)
            except BaseException:
                children.kill(process)
                raise
        if check and not result.ok:
            raise command_failed(result)
        return result

    def stream(self, argv: list[str], quiet: bool = False, keep_errors: bool = False) -> None:
        """Run a long command (a build) with its output going straight to the
        user's stderr (nowhere if `quiet`); stdout stays for results. No time
        limit: builds are long. An interruption stops it. With `keep_errors`,
        docker's stderr is kept for a one-line error instead (a pull shows
        progress on stdout)."""
        if self.dry_run:
            self._show(argv)
            return
        signals.raise_pending()
        process = self._spawn(argv, subprocess.DEVNULL if quiet else None, self.inherit_fds, keep_errors)
        try:
            _, errors = process.communicate()
        except BaseException:
            children.kill(process)
            raise
        if process.returncode != 0 and keep_errors:
            raise command_failed(Result(argv, process.returncode, "", errors or ""))
        if process.returncode != 0:
            raise DockerCommandFailed(command_name(argv), process.returncode, "see docker's output above")

    def copy_out(self, argv: list[str], fd: int, progress: Callable[[int], None] | None = None) -> None:
        """Run a long copy (`docker cp C:/path -`) whose output goes straight
        to the file `fd`, never through memory; `progress` is told the file's
        size while it grows.

        A copy takes as long as the data, so there is no total time limit;
        one that writes nothing for STALL_TIMEOUT seconds is killed as hung.
        A signal kills it too, even inside a deferred block (a backup's, which
        must unpause first): half a copy is worth nothing."""
        if self.dry_run:
            self._show(argv)
            return
        signals.raise_pending()
        process = self._spawn(argv, fd, self.inherit_fds, stderr=subprocess.PIPE)
        try:
            stderr = children.wait_for_copy(argv, process, lambda: os.fstat(fd).st_size, progress)
        except BaseException:
            children.kill(process)
            raise
        if process.returncode != 0:
            raise command_failed(Result(argv, process.returncode, "", stderr))

    def copy_in(self, argv: list[str], chunks: Iterable[bytes]) -> None:
        """Run a long copy fed `chunks` on its stdin (a helper container's
        `tar -x`), a chunk at a time. No total time limit; one that takes
        nothing for STALL_TIMEOUT seconds is killed as hung. A signal kills
        it, unless signals are deferred: a rollback finishes putting data back."""
        if self.dry_run:
            self._show(argv)
            return
        signals.raise_pending()
        import tempfile

        # A file, not a pipe, takes its stderr: a full pipe would stop it while we write.
        with tempfile.TemporaryFile() as errors:
            process = self._spawn(
                argv, subprocess.DEVNULL, self.inherit_fds, stdin=subprocess.PIPE, stderr=errors.fileno()
            )
            try:
                children.feed(argv, process, chunks)
                returncode = process.wait(timeout=STALL_TIMEOUT)
            except subprocess.TimeoutExpired:
                children.kill(process)
                raise DockerTimeout(command_name(argv), STALL_TIMEOUT) from None
            except BaseException:
                children.kill(process)
                raise
            if returncode != 0:
                errors.seek(0)
                said = errors.read(_ERRORS_KEPT).decode(errors="replace")
                raise command_failed(Result(argv, returncode, "", said))

    def attached(
        self, argv: list[str], timeout: float, kept: int = 20, shown: Callable[[str], str] = str
    ) -> tuple[int | None, list[str]]:
        """Run a one-off's `docker start --attach`: its output goes live to
        our stderr, a line at a time, `| ` before each, as `shown` makes it
        (hiding secrets), control sequences escaped; returns docker's exit code (None when `timeout` seconds
        passed first) and the last `kept` lines. The docker client is killed
        on a time-out or an interruption; the container is the caller's to
        remove."""
        if self.dry_run:
            self._show(argv)
            return 0, []
        import collections
        import select

        signals.raise_pending()
        tail: collections.deque[str] = collections.deque(maxlen=kept)
        process = self._spawn(argv, subprocess.PIPE, self.inherit_fds, stderr=subprocess.STDOUT, text=False)
        assert process.stdout is not None
        deadline, pending = time.monotonic() + timeout, b""
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    children.kill(process)
                    return None, list(tail)
                if not select.select([process.stdout], [], [], min(left, 1.0))[0]:
                    continue
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    self._said_line(shown(line.decode(errors="replace")), tail)
            if pending:
                self._said_line(shown(pending.decode(errors="replace")), tail)
            return process.wait(), list(tail)
        except BaseException:
            children.kill(process)
            raise

    def _said_line(self, line: str, tail: collections.deque[str]) -> None:
        tail.append(line)
        print(f"  | {printable(line)}", file=self.stderr, flush=True)

    def foreground(self, argv: list[str]) -> int:
        """Run `argv` with our stdin, stdout and stderr (a one-off the user
        talks to: `dockervisor run -it`); docker's exit code. Its own
        session: a Ctrl-C reaches dockervisor, which decides. Killed on an
        interruption; what it started is the caller's to remove."""
        if self.dry_run:
            self._show(argv)
            return 0
        signals.raise_pending()
        self.stdout.flush()
        self.stderr.flush()
        process = self._spawn(argv, self.stdout.fileno(), self.inherit_fds, stdin=0, stderr=self.stderr.fileno())
        try:
            return process.wait()
        except BaseException:
            children.kill(process)
            raise

    def hand_over(self, argv: list[str]) -> None:
        """Become `argv` (docker logs -f, docker exec -it): its live output, its
        terminal, its signals and its exit code are the user's. Returns only
        under --dry-run."""
        if self.dry_run:
            self._show(argv)
            return
        argv = self.full(argv)
        if self.debug:
            print(f"dockervisor: running {shlex.join(argv)}", file=self.stderr, flush=True)
        self.stdout.flush()
        self.stderr.flush()
        try:
            os.execvp(argv[0], argv)
        except OSError as error:
            raise _not_runnable(argv, error) from None

    def hook(self, argv: list[str], data: bytes, timeout: float) -> Result:
        """A program the admin named to hear of an outcome (never docker):
        `data` on its stdin, its output kept; killed with what it started
        after `timeout`. Not under --dry-run: nothing happened to tell of."""
        try:
            process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
        except OSError as error:
            raise DockervisorError(f"cannot run {argv[0]}: {error.strerror}") from None
        try:
            out, err = process.communicate(data, timeout=timeout)
        except subprocess.TimeoutExpired:
            children.kill(process)
            raise DockervisorError(f"{argv[0]} did not finish within {timeout:g} s") from None
        return Result(argv, process.returncode, out.decode(errors="replace"), err.decode(errors="replace"))

    def full(self, argv: list[str]) -> list[str]:
        """`argv` as it runs: the engine's flags right after `docker`."""
        return [argv[0], *self.engine_flags, *argv[1:]] if self.engine_flags else argv

    def _show(self, argv: list[str]) -> None:
        """What --dry-run prints instead of running: the command, shell-quoted to paste."""
        print(shlex.join(self.full(argv)), file=self.stdout, flush=True)

    def _spawn(
        self,
        argv: list[str],
        stdout: int | None,
        pass_fds: Sequence[int] = (),
        keep_errors: bool = False,
        stdin: int = subprocess.DEVNULL,
        stderr: int | None = None,
        text: bool = True,
    ) -> subprocess.Popen:
        """Start one process in its own session: no shell, no stdin unless
        asked; stdout captured (PIPE), discarded (DEVNULL), written to a
        descriptor, or (None) sent to our stderr; stderr captured with
        stdout or when `keep_errors`, unless `stderr` says where it goes."""
        argv = self.full(argv)
        if self.debug:
            print(f"dockervisor: running {shlex.join(argv)}", file=self.stderr, flush=True)
        captured = stdout == subprocess.PIPE
        try:
            return subprocess.Popen(
                argv,
                stdin=stdin,
                stdout=stdout if stdout is not None else self.stderr.fileno(),
                stderr=stderr if stderr is not None else (subprocess.PIPE if captured or keep_errors else None),
                text=text,
                errors="replace" if text else None,
                start_new_session=True,
                pass_fds=tuple(pass_fds),
            )
        except OSError as error:
            raise _not_runnable(argv, error) from None


def _collect(argv: list[str], process: subprocess.Popen, timeout: float) -> Result:
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        children.kill(process)
        raise DockerTimeout(command_name(argv), timeout) from None
    return Result(argv, process.returncode, stdout or "", stderr or "")


def command_failed(result: Result) -> DockerCommandFailed:
    detail = first_line(result.stderr)
    if "Cannot connect to the Docker daemon" in detail or "permission denied" in detail:
        detail += _DAEMON_DOWN_HINT
    return DockerCommandFailed(command_name(result.argv), result.returncode, detail)


def _not_runnable(argv: list[str], error: OSError) -> DockervisorError:
    if isinstance(error, FileNotFoundError):
        return DockervisorError(f"the {argv[0]!r} command was not found on PATH; install Docker first")
    return DockervisorError(f"cannot run {argv[0]!r}: {error.strerror}")
