"""The environment of a new container, handed to docker without touching the disk.

envfile.py reads and checks the values; here they become one anonymous
in-memory file (a memfd, or a pipe where there is none), named `/dev/fd/N` on
docker's command line: nothing that can outlive the process ever holds a
value, and no message, history entry or dry-run line shows one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from dockervisor.core.errors import DockervisorError
from dockervisor.store import paths

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.flows.context import Context

_PIPE_CAPACITY = 65536


@contextmanager
def env_source(ctx: Context, env: dict[str, str]) -> Iterator[tuple[list[str], list[str], tuple[int, ...]]]:
    """(docker run words, the words a dry run shows instead, descriptors to pass).

    A dry run shows `--env KEY` for each variable: pasted, docker takes the
    value from the caller's environment; the values themselves are never shown.
    """
    if not env:
        yield [], [], ()
        return
    shown = [word for key in sorted(env) for word in ("--env", key)]
    if ctx.dry_run:
        ctx.info(f"values of {', '.join(sorted(env))} are not shown")
        yield shown, shown, ()
        return
    body = b"".join(os.fsencode(key) + b"=" + os.fsencode(value) + b"\n" for key, value in env.items())
    fd = _anonymous_file(body)
    try:
        yield ["--env-file", f"/dev/fd/{fd}"], shown, (fd,)
    finally:
        os.close(fd)


def _anonymous_file(data: bytes) -> int:
    """A readable descriptor holding `data` that no path leads to."""
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is not None:
        try:
            fd = memfd_create("dockervisor-env")
        except OSError:
            pass
        else:
            _write_all(fd, data)
            return fd
    if len(data) > _PIPE_CAPACITY:
        raise DockervisorError("the environment for docker is larger than 64 KiB")
    read_end, write_end = os.pipe()
    try:
        _write_all(write_end, data)
    finally:
        os.close(write_end)
    return read_end


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def sweep_leftovers() -> None:
    """Remove the env files that earlier versions wrote under tmp/, which a
    kill could leave behind with secrets in plain text."""
    directory = paths.scratch_dir()
    if not paths.existing_private_dir(directory):
        return
    with paths.reported("list", directory):
        names = [name for name in os.listdir(directory) if name.endswith(".env")]
    for name in names:
        path = os.path.join(directory, name)
        with paths.reported("remove the leftover env file", path):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
