"""Environment for a new container: read and checked (environment.py hands
it to docker without touching the disk).

Values come from `--env KEY=VALUE`, `--env KEY` (taken from dockervisor's own
environment, so the value need never be on a command line), `--env-file FILE`
and the overrides file's `env` and `env_file`. dockervisor reads them all,
checks them, and hands docker one anonymous in-memory file (a memfd, or a pipe
where there is none), named `/dev/fd/N` on docker's command line: nothing that
can outlive the process ever holds a value, and no message, history entry or
dry-run line shows one.
"""

from __future__ import annotations

import os

from dockervisor.core.errors import EXIT_USAGE, DockervisorError
from dockervisor.config.names import ENV_KEY

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from collections.abc import Mapping


def parse_env_options(pairs: list[str], environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """`--env KEY=VALUE` and `--env KEY`; messages name the key, never the value."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not ENV_KEY.fullmatch(key):
            raise DockervisorError(
                "--env takes KEY=VALUE or KEY (letters, digits and _, not starting with a "
                "digit); the value given is not shown",
                EXIT_USAGE,
            )
        if not separator:
            if key not in environ:
                raise DockervisorError(
                    f"--env {key}: {key} is not set in dockervisor's environment", EXIT_USAGE
                )
            value = environ[key]
        env[key] = check_value(f"--env {key}", value)
    return env


def check_value(where: str, value: str) -> str:
    if "\n" in value or "\0" in value:
        raise DockervisorError(f"{where}: the value cannot contain a newline or NUL", EXIT_USAGE)
    return value


def read_env_file(path: str, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """A docker env file: `KEY=VALUE` lines, `#` comments, blank lines, and
    `KEY` alone for a variable taken from the environment (skipped if unset).
    Errors name the file, the line number and at most the key."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise DockervisorError(f"cannot read the env file {path}: {error.strerror}") from None
    env: dict[str, str] = {}
    for number, line_bytes in enumerate(raw.split(b"\n"), start=1):
        try:
            line = line_bytes.decode("utf-8").removesuffix("\r").lstrip()
        except UnicodeDecodeError:
            raise DockervisorError(f"{path}:{number}: not valid UTF-8") from None
        if number == 1:
            line = line.removeprefix("\ufeff")
        if not line or line.startswith("#"):
            continue
        key, separator, value = line.partition("=")
        if not ENV_KEY.fullmatch(key):
            raise DockervisorError(
                f"{path}:{number}: not a KEY=VALUE line with a valid variable name "
                "(the line is not shown)"
            )
        if not separator:
            if key not in environ:
                continue
            value = environ[key]
        env[key] = check_value(f"{path}:{number}: {key}", value)
    return env
