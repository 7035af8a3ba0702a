"""The one error type for what the user can fix, and the exit codes.

Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

EXIT_OK = 0
# Failed before anything changed: bad input, unknown family, docker error, lock timeout.
EXIT_FAILED = 1
# argparse's own code for a malformed command line.
EXIT_USAGE = 2
# A start did not come up; it was stopped and the container running before is back.
EXIT_ROLLED_BACK = 3
# A start did not come up and bringing the previous container back failed too.
EXIT_ROLLBACK_FAILED = 4
# `status`: a family shown is not running, or not healthy.
EXIT_NOT_RUNNING = 5

_EXIT_CODE_LINES = {
    0: "success (or nothing to do)",
    1: "failed (bad input, unknown family, docker error, lock timeout)",
    2: "usage error",
    3: "start failed: the new container was stopped, the previous one runs again",
    4: "start failed and the rollback failed too: check `dockervisor status`",
    5: "status: a family shown is not running or not healthy",
}
_INTERRUPTED_LINE = "128+N  interrupted by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP)"


def exit_codes_help(codes: tuple[int, ...] = tuple(_EXIT_CODE_LINES), interrupted: bool = True) -> str:
    """The exit codes a verb can return, for its --help."""
    lines = [f"  {code}  {_EXIT_CODE_LINES[code]}" for code in codes]
    if interrupted:
        lines.append(f"  {_INTERRUPTED_LINE}")
    return "exit codes:\n" + "\n".join(lines)


class DockervisorError(Exception):
    """A failure the user can act on; main() prints it without a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class PathError(DockervisorError):
    """An OS error on one of dockervisor's own files or directories.

    Carries what was being done, the path and the reason apart, so that a
    caller that already changed something can say what was not recorded."""

    def __init__(self, doing: str, path: str, reason: str) -> None:
        super().__init__(f"cannot {doing} {path}: {reason}")
        self.doing = doing
        self.path = path
        self.reason = reason


class DockerCommandFailed(DockervisorError):
    """A docker command exited non-zero; carries the first line docker said."""

    def __init__(self, command: str, returncode: int, stderr: str) -> None:
        detail = stderr.strip() or f"exit status {returncode}"
        super().__init__(f"`{command}` failed: {detail}")
        self.command = command
        self.returncode = returncode
        self.stderr = detail


class DockerTimeout(DockervisorError):
    """A docker command did not answer in time; it was killed."""

    def __init__(self, command: str, seconds: float) -> None:
        super().__init__(
            f"`{command}` did not answer within {seconds:g}s and was stopped; "
            "is the Docker engine hung? (try `docker info`)"
        )
        self.command = command
        self.stderr = self.message


class StartFailed(DockervisorError):
    """A start that did not come up; `outcome` is what the history records,
    `running` what of the family runs afterwards (for a fleet's summary)."""

    def __init__(self, message: str, exit_code: int, outcome: str, running: str | None = None) -> None:
        super().__init__(message, exit_code)
        self.outcome = outcome
        self.running = running
