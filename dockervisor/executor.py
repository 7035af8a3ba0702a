"""The only module that starts a process.

Commands hand it argv lists built by `docker_argv`. Queries always run, since
even a dry run must look at what exists; changes are printed instead of run
under `--dry-run`. A failing docker command becomes a DockerCommandFailed
carrying docker's own message, unless the caller opts out for that one call.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

from dockervisor.errors import DockerCommandFailed, DockervisorError

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from typing import TextIO

_DAEMON_DOWN_HINT = (
    " (is the Docker engine running, and may this user use it? "
    "Try `docker info`.)"
)


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
    ) -> None:
        self.dry_run = dry_run
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.debug = bool(os.environ.get("DOCKERVISOR_DEBUG"))

    def query(self, argv: list[str], check: bool = True) -> Result:
        """Run a command that changes nothing, capturing its output."""
        return self._run([argv], check)[0]

    def query_all(self, argvs: list[list[str]], check: bool = True) -> list[Result]:
        """Run independent queries side by side: each docker client costs tens of
        milliseconds to start, and the engine answers them in parallel."""
        return self._run(argvs, check)

    def change(self, argv: list[str], check: bool = True) -> Result:
        """Run a command that changes something; under --dry-run only print it."""
        if self.dry_run:
            print(shlex.join(argv), file=self.stdout, flush=True)
            return Result(argv, 0, "", "")
        return self._run([argv], check)[0]

    def stream(self, argv: list[str]) -> None:
        """Run a long command (a build) with its output going straight to the user."""
        if self.dry_run:
            print(shlex.join(argv), file=self.stdout, flush=True)
            return
        self._trace(argv)
        returncode = self._spawn(argv, stdout=None).wait()
        if returncode != 0:
            raise DockerCommandFailed(
                shlex.join(argv), returncode, f"exit status {returncode} (its output is above)"
            )

    def _run(self, argvs: list[list[str]], check: bool) -> list[Result]:
        """Start every command, then collect each one's output and status."""
        running: list[tuple[list[str], subprocess.Popen]] = []
        try:
            for argv in argvs:
                self._trace(argv)
                running.append((argv, self._spawn(argv, stdout=subprocess.PIPE)))
        except DockervisorError:
            for _, process in running:  # leave no orphan behind
                process.kill()
                process.communicate()
            raise
        results = []
        for argv, process in running:
            stdout, stderr = process.communicate()
            results.append(Result(argv, process.returncode, stdout, stderr))
        for result in results:
            if check and not result.ok:
                raise command_failed(result)
        return results

    def _spawn(self, argv: list[str], stdout: int | None) -> subprocess.Popen:
        """Start one process: no shell, no stdin; stdout captured unless it streams."""
        try:
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=subprocess.PIPE if stdout is not None else None,
                text=True,
                errors="replace",
            )
        except OSError as error:
            raise _not_runnable(argv, error) from None

    def _trace(self, argv: list[str]) -> None:
        if self.debug:
            print(f"dockervisor: running {shlex.join(argv)}", file=self.stderr, flush=True)


def command_failed(result: Result) -> DockerCommandFailed:
    stderr = result.stderr
    if "Cannot connect to the Docker daemon" in stderr or "permission denied" in stderr:
        stderr = stderr.rstrip() + _DAEMON_DOWN_HINT
    return DockerCommandFailed(shlex.join(result.argv), result.returncode, stderr)


def _not_runnable(argv: list[str], error: OSError) -> DockervisorError:
    if isinstance(error, FileNotFoundError):
        return DockervisorError(
            f"the {argv[0]!r} command was not found on PATH; install Docker first"
        )
    return DockervisorError(f"cannot run {argv[0]!r}: {error.strerror}")
