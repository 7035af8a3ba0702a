"""The family's append-only history: one JSON object per line.

Appended under the family lock and flushed to disk, like the state. It lives
in its own file, so it survives rebuilds and new containers.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator

from dockervisor.store import paths
from dockervisor.store.files import append_durably, replace_durably
from dockervisor.core.timefmt import iso_utc

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from typing import BinaryIO

# The size at which the history starts a new file, keeping the one before as `.1`:
# about 15,000 entries of some 280 bytes, so the two files keep more than a year
# of hourly build + start new, and never more than about 8 MiB.
ROTATE_AT_BYTES = 4 * 1024 * 1024
# Bytes read at a time from the end of a history file.
READ_BLOCK = 64 * 1024

FIELDS = (
    "time", "user", "command", "action", "container", "image_id", "outcome", "message",
    # Since the outcome document (flows/outcome.py): absent from older lines, read as null.
    "family", "engine", "exit_code", "previous", "running", "digest", "started_at", "seconds", "notified",
    # Since release steps (flows/release.py): only on a start new that ran one.
    "release",
)  # fmt: skip

# `running` before anything said what runs after the change: asked of docker
# only when somebody reads it (--json, a notification).
UNKNOWN = "?"


class Entry:
    """What one state-changing command did; the command fills it in as it goes.
    `container` is what it acted on (the start's target, what it stopped),
    `previous` what ran before, `running` what runs afterwards (None: nothing;
    UNKNOWN: not said)."""

    __slots__ = (
        "action", "command", "container", "image_id", "outcome", "message",
        "family", "engine", "exit_code", "previous", "running", "digest", "started", "seconds", "notified",
        "release",
    )  # fmt: skip

    def __init__(self, action: str, command: str, family: str | None = None, engine: str | None = None) -> None:
        self.action = action
        self.command = command
        self.container: str | None = None
        self.image_id: str | None = None
        self.outcome = "ok"
        self.message: str | None = None
        self.family = family
        self.engine = engine
        self.exit_code: int | None = None
        self.previous: str | None = None
        self.running: str | None = UNKNOWN
        self.digest: str | None = None  # the repository digest of image_id, where known
        self.started: float | None = None  # epoch, when the change began
        self.seconds: float | None = None
        self.notified: list[dict] | None = None  # notifications that failed: flows/notify.py
        self.release: dict | None = None  # how the release step went: flows/release.py

    def to_dict(self, epoch: float) -> dict[str, object]:
        return {
            "time": iso_utc(epoch),
            "user": current_user(),
            "command": self.command,
            "action": self.action,
            "container": self.container,
            "image_id": self.image_id,
            "outcome": self.outcome,
            "message": self.message,
            "family": self.family,
            "engine": self.engine,
            "exit_code": self.exit_code,
            "previous": self.previous,
            **({} if self.running == UNKNOWN else {"running": self.running}),
            "digest": self.digest,
            "started_at": iso_utc(self.started) if self.started is not None else None,
            "seconds": self.seconds,
            **({"notified": self.notified} if self.notified else {}),
            **({"release": self.release} if self.release else {}),
        }


def current_user() -> str:
    """Who runs this, as getpass.getuser() says it (the login variables, then
    the password database), without the terminal modules getpass loads."""
    user = next((os.environ[name] for name in ("LOGNAME", "USER", "LNAME", "USERNAME") if os.environ.get(name)), "")
    if not user:
        try:
            import pwd

            user = pwd.getpwuid(os.getuid()).pw_name
        except (ImportError, KeyError):
            user = str(os.getuid())
    sudo_user = os.environ.get("SUDO_USER")
    return f"{sudo_user} (sudo as {user})" if sudo_user and sudo_user != user else user


def append(family: str, entry: Entry, epoch: float) -> None:
    """Add `entry` at the end; the caller holds the family lock.

    A file at ROTATE_AT_BYTES or more first becomes the previous file, which
    bounds what a family that changes often for years keeps.
    """
    line = json.dumps(entry.to_dict(epoch), sort_keys=False) + "\n"
    path = paths.family_history_file(family)
    paths.ensure_private_dir(os.path.dirname(path))
    with paths.reported("write", path):
        if _size(path) >= ROTATE_AT_BYTES:
            replace_durably(path, paths.family_previous_history_file(family))
    append_durably(path, line.encode())


def _size(path: str) -> int:
    try:
        return os.lstat(path).st_size
    except FileNotFoundError:
        return 0


def read(family: str, limit: int | None = None) -> list[dict]:
    """The newest `limit` entries (all if None), oldest first.

    The files are read from their end, so the cost follows `limit`, not the
    files' size; the previous file is read only when the current one has too
    few entries. A damaged line is skipped with a warning.
    """
    newest_first: list[dict] = []
    for path in (paths.family_history_file(family), paths.family_previous_history_file(family)):
        wanted = None if limit is None else limit - len(newest_first)
        if wanted is not None and wanted <= 0:
            break
        newest_first.extend(_newest_entries(path, wanted))
    newest_first.reverse()
    return newest_first


def _newest_entries(path: str, wanted: int | None) -> list[dict]:
    """Up to `wanted` entries from the end of `path`, newest first."""
    entries: list[dict] = []
    if not paths.existing_private_dir(os.path.dirname(path)):
        return []
    with paths.reported("read", path):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return []
        with os.fdopen(fd, "rb") as handle:
            for number, line in enumerate(_lines_from_end(handle), start=1):
                if not line.strip():
                    continue
                entry = _parse(line)
                if entry is None:
                    print(f"dockervisor: warning: {path}: line {number} from the end is damaged; skipped",
                          file=sys.stderr)  # fmt: skip
                    continue
                entries.append(entry)
                if len(entries) == wanted:
                    break
    return entries


def _parse(line: bytes) -> dict | None:
    try:
        entry = json.loads(line.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):  # RecursionError: a line nested 100000 deep
        return None
    if not isinstance(entry, dict):
        return None
    return {field: entry.get(field) for field in FIELDS}


def _lines_from_end(handle: BinaryIO) -> Iterator[bytes]:
    """The file's lines, last first, without their newlines, read in blocks from its end.

    A final line without a newline (a torn write) is a line too.
    """
    end = handle.seek(0, os.SEEK_END)
    carried: list[bytes] = []  # a line that blocks cut, its pieces as read: its end first
    seen_newline = False
    while end > 0:
        start = max(0, end - READ_BLOCK)
        handle.seek(start)
        block = handle.read(end - start)
        end = start
        pieces = block.split(b"\n")
        if len(pieces) == 1:
            carried.append(block)
            continue
        line = pieces[-1] + b"".join(reversed(carried))
        if line or seen_newline:  # nothing after the file's final newline is no line
            yield line
        seen_newline = True
        yield from reversed(pieces[1:-1])
        carried = [pieces[0]]
    if carried:
        yield b"".join(reversed(carried))
