"""Every location dockervisor uses; `DOCKERVISOR_HOME` moves them all.

Families, history and locks are kept per engine, in `engines/KEY/` (see
contexts.key_for); a command runs inside `engine_state(KEY)` for the engine it
is about, also in a thread of its own. Outside one, they are at the top of the
home: the layout before there were several engines, which adoption.py moves.
"""

from __future__ import annotations

import errno
import os
import stat  # os has loaded it already
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from dockervisor.core.errors import PathError

_engine_key: ContextVar[str | None] = ContextVar("engine_key", default=None)


def home() -> str:
    configured = os.environ.get("DOCKERVISOR_HOME")
    if configured:
        return os.path.abspath(configured)
    return os.path.join(os.path.expanduser("~"), ".dockervisor")


@contextmanager
def engine_state(key: str) -> Iterator[None]:
    """Within the block (in this thread), state paths are the engine `key`'s."""
    token = _engine_key.set(key)
    try:
        yield
    finally:
        _engine_key.reset(token)


def engines_dir() -> str:
    return os.path.join(home(), "engines")


def engine_dir(key: str) -> str:
    return os.path.join(engines_dir(), key)


def state_root() -> str:
    """Where the engine the command is about keeps families, history and locks."""
    key = _engine_key.get()
    return home() if key is None else engine_dir(key)


def families_dir() -> str:
    return os.path.join(state_root(), "families")


def family_state_file(family: str) -> str:
    return os.path.join(families_dir(), f"{family}.json")


def family_lock_file(family: str) -> str:
    return os.path.join(state_root(), "locks", f"{family}.lock")


def family_history_file(family: str) -> str:
    return os.path.join(state_root(), "history", f"{family}.jsonl")


def family_previous_history_file(family: str) -> str:
    """The history before the last rotation; code that removes or lists history files needs both."""
    return family_history_file(family) + ".1"


def family_seen_file(family: str) -> str:
    """When `check` and `update` first saw each registry digest of the family (update cooldown)."""
    return os.path.join(state_root(), "seen", f"{family}.json")


def scratch_dir() -> str:
    """Where versions before memfd env files wrote them: swept, never written."""
    return os.path.join(home(), "tmp")


def ensure_private_dir(directory: str) -> str:
    """Home, or a directory in it: made 0700 when missing (home first), refused
    when it is not a directory of this user's that no one else may write to."""
    for each in _with_home(directory):
        _check_dir(each, create=True)
    return directory


def existing_private_dir(directory: str) -> bool:
    """Whether home and `directory` in it exist; refused as above if they do but are not ours."""
    return all(_check_dir(each, create=False) for each in _with_home(directory))


def _with_home(directory: str) -> tuple[str, ...]:
    """Home and every directory below it down to `directory`, each to be checked."""
    top = home()
    chain = [directory]
    parent = os.path.dirname(directory)
    while parent != top and parent.startswith(top + os.sep):
        chain.append(parent)
        parent = os.path.dirname(parent)
    if directory != top:
        chain.append(top)
    return tuple(reversed(chain))


def _check_dir(path: str, create: bool) -> bool:
    """One lstat: a real directory, owned by this user, writable by no one else."""
    with reported("use the directory", path):
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            if not create:
                return False
            info = _make_dir(path)
            if info is None:
                return True  # made by us, 0700: nothing to check
    problem = _untrusted(path, info)
    if problem:
        raise PathError("use", path, problem)
    return True


def _make_dir(path: str) -> os.stat_result | None:
    """Create `path` 0700, its missing parents too; the lstat of what another run made first."""
    parent = os.path.dirname(path)
    if parent != path and not os.path.isdir(parent):
        _make_dir(parent)
    with reported("create the directory", path):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            return os.lstat(path)
    return None


def _untrusted(path: str, info: os.stat_result) -> str | None:
    """Why dockervisor will not keep its state in the directory `path`, or None."""
    is_home = path == home()
    if stat.S_ISLNK(info.st_mode):
        target = os.path.realpath(path)
        fix = f"set DOCKERVISOR_HOME={target}" if is_home else f"put the directory {target} in its place"
        return f"{is_a_link('it')}; {fix}"
    if not stat.S_ISDIR(info.st_mode):
        return "it is not a directory" + ("; DOCKERVISOR_HOME must name one" if is_home else "")
    if info.st_uid != os.geteuid():
        return (
            f"it is owned by {_user(info.st_uid)}, not by {_user(os.geteuid())}, who runs "
            "dockervisor; anyone who can change it decides what dockervisor runs and mounts: "
            "give each user a DOCKERVISOR_HOME of their own"
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        who = {0o020: "its group", 0o002: "everyone"}.get(mode & 0o022, "its group and everyone")
        if mode & stat.S_ISVTX and is_home:  # a shared directory such as /tmp
            return f"it is a shared directory (mode {mode:04o}); set DOCKERVISOR_HOME to a directory of your own"
        return f"it is writable by {who} (mode {mode:04o}); run `chmod 700 {path}`"
    return None


def _user(uid: int) -> str:
    import pwd  # only to word this error: start-up does without it

    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


@contextmanager
def reported(doing: str, path: str) -> Iterator[None]:
    """Turn an OSError on one of our own paths into one line for the user:
    `cannot DOING PATH: REASON`, with no traceback."""
    try:
        yield
    except OSError as error:
        raise path_error(doing, path, error) from None


def path_error(doing: str, path: str, error: OSError) -> PathError:
    if error.errno == errno.ELOOP:  # what O_NOFOLLOW says of a link
        reason = is_a_link("it" if error.filename in (None, path) else error.filename)
    else:
        reason = error.strerror or str(error)
    return PathError(doing, path, reason)


def is_a_link(what: str) -> str:
    return f"{what} is a symbolic link, and dockervisor follows none in its state directory"


def backups_dir(family: str) -> str:
    """Where `dockervisor backup IMAGENAME` writes unless told otherwise:
    per engine, like the rest of a family's state."""
    return os.path.join(state_root(), "backups", family)


def snapshots_dir(family: str) -> str:
    """The family's snapshots: archives dockervisor takes itself, and prunes;
    per engine, since the same family on two engines has two sets of data."""
    return os.path.join(state_root(), "snapshots", family)
