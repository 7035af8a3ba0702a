"""The state directory's identity: who created a container, as a label.

Several admins (two HOMEs, a CI job, staging beside production) may share one
engine. Each state directory has a random ID of its own, made the first time
it is needed and kept in `$DOCKERVISOR_HOME/id` (0600); every container
dockervisor creates carries it as `dockervisor.owner`. It says nothing of
the path or the user: only whether two containers came from the same place.
"""

from __future__ import annotations

import os
import re

from dockervisor.errors import DockervisorError
from dockervisor.store import paths
from dockervisor.store.files import read_private, write_atomically

_ID = re.compile(r"[0-9a-f]{32}")
_known: dict[str, str] = {}  # home -> its ID, read once a run


def state_id() -> str:
    """This state directory's ID, made when it has none yet."""
    home = paths.home()
    if home not in _known:
        path = os.path.join(home, "id")
        raw = read_private(path)
        if raw is None:
            write_atomically(path, (os.urandom(16).hex() + "\n").encode())
            raw = read_private(path)
        text = (raw or b"").decode("ascii", "replace").strip()
        if not _ID.fullmatch(text):
            raise DockervisorError(
                f"the state directory's ID in {path} is damaged; dockervisor will not replace it, "
                "since the containers made here carry it. Restore it from a backup, or remove it "
                "and `dockervisor adopt` each family"
            )
        _known[home] = text
    return _known[home]
