"""When this state directory first saw each registry digest of a family:
the clock of an update policy's cooldown (config/updatepolicy.py). A
registry does not say when a tag was pushed, so `check` and `update` note
the first sighting of every digest a family's reference names.

    {"schema": 1, "seen": {"sha256:...": 1764800000.0}}

The newest few are kept. A damaged file is reported, never replaced.
"""

from __future__ import annotations

import json
import re

from dockervisor.core.errors import DockervisorError
from dockervisor.store import files, paths

SCHEMA = 1
_KEPT = 20
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def load(family: str) -> dict[str, float]:
    path = paths.family_seen_file(family)
    raw = files.read_private(path)
    if raw is None:
        return {}
    try:
        document = json.loads(raw)
        seen = document["seen"]
        if document.get("schema") != SCHEMA or not isinstance(seen, dict):
            raise ValueError
        if not all(_DIGEST.fullmatch(k) and isinstance(v, (int, float)) and not isinstance(v, bool)
                   for k, v in seen.items()):  # fmt: skip
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise DockervisorError(
            f"{path} is damaged (it is not what dockervisor writes); move it aside to start the "
            f"cooldown clocks of {family} afresh"
        ) from None
    return {k: float(v) for k, v in seen.items()}


def first_seen(family: str, digest: str, now: float, record: bool) -> float:
    """When `digest` was first seen; noted as `now` if it never was (unless
    not to `record`, as a dry run)."""
    seen = load(family)
    if digest in seen:
        return seen[digest]
    if record:
        seen[digest] = now
        newest = dict(sorted(seen.items(), key=lambda item: item[1])[-_KEPT:])
        files.write_atomically(paths.family_seen_file(family), json.dumps({"schema": SCHEMA, "seen": newest}).encode())
    return now
