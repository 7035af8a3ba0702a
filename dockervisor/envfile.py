"""Environment for a new container, handed to docker without showing the values.

Values go to docker in a user-only env file that exists only while the command
runs, never on a command line (where `ps` shows them) nor in dockervisor's own
output or history.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from dockervisor import paths
from dockervisor.errors import DockervisorError
from dockervisor.files import create_private
from dockervisor.overrides import ENV_KEY

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.context import Context
    from dockervisor.runconfig import RunConfig


def parse_env_options(pairs: list[str]) -> dict[str, str]:
    """`--env KEY=VALUE` options; error messages name the key, never the value."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not ENV_KEY.fullmatch(key):
            shown = key if ENV_KEY.fullmatch(key) else "the variable name"
            raise DockervisorError(f"--env {shown}: write it as KEY=VALUE with a valid KEY")
        if "\n" in value or "\0" in value:
            raise DockervisorError(f"--env {key}: the value cannot contain a newline or NUL")
        env[key] = value
    return env


@contextmanager
def env_files(
    ctx: Context, container: str, config: RunConfig, extra: dict[str, str]
) -> Iterator[tuple[str, ...]]:
    """The --env-file arguments for `docker run`, in increasing precedence:
    the dcv file's env_file, then its env map, then --env options."""
    files = [config.env_file] if config.env_file else []
    merged = {**config.env, **extra}
    written = None
    if merged:
        path = os.path.join(paths.scratch_dir(), f"{container}.env")
        if ctx.dry_run:
            ctx.info(
                f"a real run writes {', '.join(sorted(merged))} to {path} for docker; "
                "values are not shown"
            )
        else:
            body = "".join(f"{key}={value}\n" for key, value in merged.items())
            try:
                os.unlink(path)  # a leftover of an interrupted run of the same name
            except FileNotFoundError:
                pass
            create_private(path, body.encode())
            written = path
        files.append(path)
    try:
        yield tuple(files)
    finally:
        if written is not None:
            os.unlink(written)
