"""The journal of a data change: what a run is about to do to a family's data,
written before it does it, so that the next run can repair what a kill -9
left half done (see datarecovery.py for the repair, and its docstring for the
crash points).

One small JSON file per run of a family, `journal/IMAGE.PID.json` under the
engine's state directory, written atomically and user-only (0600) like the
state, under the family lock. It says:

- `running`: the container that ran before the change (stopped by it), to
  start again;
- `pause`: a container the run pauses while it copies its data;
- `partial`: the archive file the run is writing;
- `before`: the snapshot of the data before the change, set only once that
  snapshot is whole on disk;
- `restore`: set just before a restore begins writing into volumes: the
  archive and where each of its mount points goes;
- `killed`: set by a repair that failed: the run is known dead, and the
  journal open until a repair succeeds, whatever the history says since.

A journal is closed (the run ended, whatever the outcome) when the run's own
history entry follows it, when the run removed it on its way out, or when the
run is still alive (it let the lock go, so its change is over; the run is
known by its pid and, where /proc tells, its start time, so that a pid given
to a later process does not pass for it). Only a journal whose run died
before any of that is repaired.
"""

from __future__ import annotations

import json
import os
import re

from dockervisor.store import paths
from dockervisor.core.errors import DockervisorError
from dockervisor.store.files import read_private, write_atomically
from dockervisor.config.names import is_container_name, is_image_name

FORMAT = 1
_NAME = re.compile(r"(?P<image>.+)\.(?P<pid>[0-9]{1,10})\.json")
_KEYS = ("running", "pause", "partial", "before")


def journal_dir() -> str:
    return os.path.join(paths.state_root(), "journal")


def journal_file(family: str, pid: int) -> str:
    return os.path.join(journal_dir(), f"{family}.{pid}.json")


class Journal:
    """What one run of `action` is doing to the data of `family`."""

    __slots__ = ("image", "action", "command", "pid", "started", "history", "running", "pause", "partial",
                 "before", "restore", "killed", "path")  # fmt: skip

    def __init__(self, family: str, action: str, command: str, pid: int | None = None) -> None:
        self.image = family
        self.action = action
        self.command = command
        self.pid = os.getpid() if pid is None else pid
        self.started = process_start(self.pid) if pid is None else None  # tells a reused pid apart
        self.history = history_mark(family)
        self.running: str | None = None
        self.pause: str | None = None
        self.partial: str | None = None
        self.before: str | None = None
        # {"archive": PATH, "into": [[index, target, type, source], ...]}
        self.restore: dict | None = None
        # Set by a repair that failed: its run is known dead, open until repaired.
        self.killed = False
        self.path = journal_file(family, self.pid)

    def to_dict(self) -> dict[str, object]:
        return {
            "format": FORMAT,
            "image": self.image,
            "action": self.action,
            "command": self.command,
            "pid": self.pid,
            "started": self.started,
            "history": list(self.history),
            **{key: getattr(self, key) for key in _KEYS},
            "restore": self.restore,
            "killed": self.killed,
        }

    def write(self) -> None:
        """Replace the run's journal with what it says now; durable before the next change."""
        write_atomically(self.path, (json.dumps(self.to_dict(), indent=1) + "\n").encode())

    def remove(self) -> None:
        with paths.reported("remove", self.path):
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    @classmethod
    def from_dict(cls, family: str, document: object, path: str) -> Journal:
        """Read back what to_dict wrote; ValueError says what is wrong."""
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError("it is not a dockervisor journal of a known format")
        if document.get("image") != family:
            raise ValueError(f"it is the journal of {document.get('image')!r}, not of {family!r}")
        action, command, pid = document.get("action"), document.get("command"), document.get("pid")
        mark = document.get("history")
        if not (isinstance(action, str) and isinstance(command, str)):
            raise ValueError("action and command must be strings")
        if not (isinstance(pid, int) and not isinstance(pid, bool) and pid > 0):
            raise ValueError("pid must be a process ID")
        if not (isinstance(mark, list) and len(mark) == 2 and all(isinstance(n, int) for n in mark)):
            raise ValueError("history must be [inode, size]")
        journal = cls(family, action, command, pid)
        journal.history, journal.path = (mark[0], mark[1]), path
        started = document.get("started")
        if started is not None and not (isinstance(started, int) and not isinstance(started, bool)):
            raise ValueError("started must be a number or null")
        journal.started = started
        for key in ("running", "pause"):
            value = document.get(key)
            if value is not None and not (isinstance(value, str) and is_container_name(value)):
                raise ValueError(f"{key} must be a container name or null")
            setattr(journal, key, value)
        for key in ("partial", "before"):
            value = document.get(key)
            if value is not None and not (isinstance(value, str) and os.path.isabs(value) and "\0" not in value):
                raise ValueError(f"{key} must be an absolute path or null")
            setattr(journal, key, value)
        journal.restore = _restore_from(document.get("restore"))
        killed = document.get("killed", False)
        if not isinstance(killed, bool):
            raise ValueError("killed must be true or false")
        journal.killed = killed
        return journal


def _restore_from(raw: object) -> dict | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError("restore must be an object or null")
    archive, into = raw.get("archive"), raw.get("into")
    if not (isinstance(archive, str) and os.path.isabs(archive)):
        raise ValueError("restore.archive must be an absolute path")
    if not isinstance(into, list) or not all(
        isinstance(item, list) and len(item) == 4 and isinstance(item[0], int)
        and all(isinstance(part, str) for part in item[1:])
        for item in into
    ):  # fmt: skip
        raise ValueError("restore.into must list [index, target, type, source]")
    return {"archive": archive, "into": into}


def history_mark(family: str) -> tuple[int, int]:
    """The family's history file as it is now: (inode, size). An entry appended
    or a rotation since then changes it; only the lock holder appends."""
    try:
        info = os.lstat(paths.family_history_file(family))
    except FileNotFoundError:
        return (0, 0)
    except OSError as error:
        raise paths.path_error("read", paths.family_history_file(family), error) from None
    return (info.st_ino, info.st_size)


def found(family: str) -> tuple[list[Journal], dict[str, str]]:
    """The family's journals, and for each file that cannot be read, why.
    Creates nothing."""
    directory = journal_dir()
    if not paths.existing_private_dir(directory):
        return [], {}
    with paths.reported("list", directory):
        names = os.listdir(directory)
    journals, damaged = [], {}
    for name in sorted(names):
        match = _NAME.fullmatch(name)
        if match is None or match.group("image") != family or not is_image_name(family):
            continue
        path = os.path.join(directory, name)
        try:
            raw = read_private(path)
            if raw is None:
                continue
            journal = Journal.from_dict(family, json.loads(raw), path)
            if journal.pid != int(match.group("pid")):
                raise ValueError("its pid is not the one in its name")
            journals.append(journal)
        except RecursionError:
            damaged[path] = f"the journal {path} is damaged (nested too deeply)"
        except ValueError as error:  # includes JSONDecodeError and UnicodeDecodeError
            damaged[path] = f"the journal {path} is damaged ({error})"
        except DockervisorError as error:
            damaged[path] = error.message
    return journals, damaged


def is_alive(pid: int, started: int | None = None) -> bool:
    """Whether process `pid` still runs: not a zombie (killed, not yet waited
    for), and, if `started` is known, the same process, not a later one that
    was given its number."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process has that number now: /proc tells
    fields = _stat(pid)
    if fields is None:
        return True  # no /proc (macOS): it answered the signal
    return fields[0] != b"Z" and (started is None or _start_of(fields) in (None, started))


def process_start(pid: int) -> int | None:
    """When process `pid` started, in clock ticks since boot; None where /proc is not."""
    fields = _stat(pid)
    return None if fields is None else _start_of(fields)


def _stat(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name: state first."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[-1].split()
    except OSError:
        return None


def _start_of(fields: list[bytes]) -> int | None:
    try:
        return int(fields[19])  # field 22 of the line, starttime
    except (IndexError, ValueError):
        return None


def is_closed(journal: Journal) -> bool:
    """Whether the run's change ended: its history entry was written since,
    or it still runs (it let the lock go). Else it was killed mid-way."""
    if journal.killed:
        return False
    if history_mark(journal.image) != tuple(journal.history):
        return True
    # This run has written no journal yet: one with its pid is a dead run's.
    return journal.pid != os.getpid() and is_alive(journal.pid, journal.started)
