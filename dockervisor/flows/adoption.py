"""State from before engines had state of their own, adopted once.

Until there were several engines, families, history and locks lived at the
top of DOCKERVISOR_HOME, for whichever engine docker talked to: the engine
that DOCKER_HOST, DOCKER_CONTEXT or docker's current context named, which is
the default engine now. The first command that finds them there moves them
into that engine's directory, `engines/KEY/`, by renaming: nothing is copied,
nothing is lost. Two runs doing so at once both succeed; a file the engine's
directory already holds under the same name is left where it was, and said.
"""

from __future__ import annotations

import errno
import os

from dockervisor.core.errors import DockervisorError
from dockervisor.store import paths

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from typing import TextIO

    from dockervisor.engine.contexts import Engine

ROUND_ONE = ("families", "history", "locks")


def needed() -> bool:
    """One lstat each: cheap enough for every run."""
    top = paths.home()
    return any(os.path.lexists(os.path.join(top, name)) for name in ROUND_ONE)


def adopt_round_one(names: list[str], engines: list[Engine], stderr: TextIO) -> None:
    """State from before engines had their own belongs to the default engine:
    the one named when none is (`engines[0]`), else the one docker would use."""
    if not needed():
        return
    if not names:
        adopt(engines[0], stderr)
        return
    from dockervisor.engine.contexts import default_engine

    try:
        default = default_engine()
    except DockervisorError:
        return  # the default cannot be known now; a later command adopts
    adopt(default, stderr)


def adopt(engine: Engine, stderr: TextIO) -> None:
    top = paths.home()
    present = [name for name in ROUND_ONE if os.path.lexists(os.path.join(top, name))]
    # Only trusted directories are moved: a link or a foreign one is refused, said as always.
    present = [name for name in present if paths.existing_private_dir(os.path.join(top, name))]
    if not present:
        return
    target = paths.ensure_private_dir(paths.engine_dir(engine.key))
    kept: list[str] = []
    for name in present:
        source, destination = os.path.join(top, name), os.path.join(target, name)
        with paths.reported("move", source):
            try:
                os.rename(source, destination)  # onto nothing, or onto an empty directory
            except FileNotFoundError:
                continue  # another run moved it first
            except OSError as error:
                if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                kept += _merge(source, destination)
    print(
        f"dockervisor: the state in {top} is now kept per engine; what was there belongs to "
        f"{engine.name} ({engine.endpoint}) and moved to {target}",
        file=stderr,
        flush=True,
    )
    if kept:
        print(
            f"dockervisor: warning: {engine.name} already had {', '.join(kept)}; the older "
            "files stay where they were",
            file=stderr,
            flush=True,
        )


def _merge(source: str, destination: str) -> list[str]:
    """Move each file that `destination` lacks; a hard link never replaces one."""
    kept = []
    for name in sorted(os.listdir(source)):
        old, new = os.path.join(source, name), os.path.join(destination, name)
        try:
            os.link(old, new, follow_symlinks=False)
        except FileExistsError:
            kept.append(old)
            continue
        except FileNotFoundError:
            continue
        os.unlink(old)
    try:
        os.rmdir(source)
    except OSError:
        pass  # what was kept is still in it
    return kept
