"""The family's append-only history: one JSON object per line.

Appended under the family lock and flushed to disk, like the state. It lives
in its own file, so it survives rebuilds and new containers.
"""

from __future__ import annotations

import getpass
import json
import os
import sys

from dockervisor import paths
from dockervisor.errors import DockervisorError
from dockervisor.files import append_durably
from dockervisor.timefmt import iso_utc

FIELDS = ("time", "user", "command", "action", "container", "image_id", "outcome", "message")


class Entry:
    """What one state-changing command did; the command fills it in as it goes."""

    __slots__ = ("action", "command", "container", "image_id", "outcome", "message")

    def __init__(self, action: str, command: str) -> None:
        self.action = action
        self.command = command
        self.container: str | None = None
        self.image_id: str | None = None
        self.outcome = "ok"
        self.message: str | None = None

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
        }


def current_user() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    sudo_user = os.environ.get("SUDO_USER")
    return f"{sudo_user} (sudo as {user})" if sudo_user and sudo_user != user else user


def append(image: str, entry: Entry, epoch: float) -> None:
    line = json.dumps(entry.to_dict(epoch), sort_keys=False) + "\n"
    append_durably(paths.family_history_file(image), line.encode())


def read(image: str, limit: int | None = None) -> list[dict]:
    """The newest `limit` entries, oldest first; a damaged line is skipped with a warning."""
    path = paths.family_history_file(image)
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.readlines()
    except FileNotFoundError:
        return []
    except OSError as error:
        raise DockervisorError(f"cannot read the history {path}: {error.strerror}") from None
    entries = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if not isinstance(entry, dict):
            print(f"dockervisor: warning: {path}:{number} is damaged; skipped", file=sys.stderr)
            continue
        entries.append({field: entry.get(field) for field in FIELDS})
    if limit is None:
        return entries
    return entries[-limit:] if limit > 0 else []
