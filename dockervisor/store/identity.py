"""The state directory's identity: who created a container, as a label.

Several admins (two HOMEs, a CI job, staging beside production) may share one
engine. Each state directory has a random ID of its own, made when its first
container is about to be created and kept beside its families (0600; per
engine, in `$DOCKERVISOR_HOME/engines/KEY/id`),
with the time it was made; every container dockervisor creates from then on
carries the ID as `dockervisor.owner`. The ID says nothing of the path or the
user: only whether two containers came from the same place. The time tells
the containers of older versions (no label, made before it) from ones made
by hand since (no label, made after).
"""

from __future__ import annotations

import json
import os
import re
import time

from dockervisor.core.errors import DockervisorError
from dockervisor.store import paths
from dockervisor.store.files import create_once, read_private

_ID = re.compile(r"[0-9a-f]{32}")
_known: dict[str, Identity] = {}  # state directory -> its identity, read once a run


class Identity:
    __slots__ = ("id", "since")

    def __init__(self, id: str, since: float) -> None:
        self.id = id
        self.since = since  # containers without an owner label made before this were older versions'


def identity(create: bool = True) -> Identity | None:
    """This state directory's identity; made when it has none yet and
    `create` (only a container about to be made needs one), else None."""
    home = paths.state_root()
    if home not in _known:
        path = os.path.join(home, "id")
        raw = read_private(path)
        if raw is None:
            if not create:
                return None
            made = {"id": os.urandom(16).hex(), "since": time.time()}
            create_once(path, (json.dumps(made) + "\n").encode())  # a run beside us may have made it first
            raw = read_private(path)
        _known[home] = _parse(path, raw or b"")
    return _known[home]


def state_id(create: bool = True) -> str | None:
    found = identity(create)
    return found.id if found else None


def _parse(path: str, raw: bytes) -> Identity:
    try:
        document = json.loads(raw)
        ok = isinstance(document, dict) and isinstance(document.get("id"), str) and _ID.fullmatch(document["id"])
        since = document.get("since") if ok else None
        if ok and isinstance(since, (int, float)) and not isinstance(since, bool) and since >= 0:
            return Identity(document["id"], since)
    except ValueError:
        pass
    raise DockervisorError(
        f"the state directory's ID in {path} is damaged; dockervisor will not replace it, "
        "since the containers made here carry it. Restore it from a backup, or move it aside "
        "and `dockervisor adopt` each family"
    )
