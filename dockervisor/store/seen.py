"""When this state directory first saw each registry digest of a family:
the clock of an update policy's cooldown (config/updatepolicy.py). A
registry does not say when a tag was pushed, so `check` and `update` note
the first sighting of every digest a family's reference names.

    {"schema": 1, "seen": {"sha256:...": 1764800000.0}, "rolled_back": {"sha256:...": 1764900000.0}}

`rolled_back`: digests an `update` started and had to roll back; they are
held back until the tag names another digest (see flows/updates.py). The
newest few of each are kept. A damaged file is reported, never replaced.
Written under the family's lock by `update`; `check` notes sightings only
(two at once may lose one, which restarts that digest's clock: never early).
"""

from __future__ import annotations

import json
import re

from dockervisor.core.errors import DockervisorError
from dockervisor.store import files, paths

SCHEMA = 1
_KEPT = 20
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _read(family: str) -> dict[str, dict[str, float]]:
    path = paths.family_seen_file(family)
    raw = files.read_private(path)
    if raw is None:
        return {"seen": {}, "rolled_back": {}}
    try:
        document = json.loads(raw)
        if document.get("schema") != SCHEMA:
            raise ValueError
        found = {key: document.get(key, {}) for key in ("seen", "rolled_back")}
        for times in found.values():
            if not isinstance(times, dict) or not all(
                _DIGEST.fullmatch(k) and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in times.items()
            ):  # fmt: skip
                raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise DockervisorError(
            f"{path} is damaged (it is not what dockervisor writes); move it aside to start the "
            f"cooldown clocks of {family} afresh"
        ) from None
    return {key: {k: float(v) for k, v in times.items()} for key, times in found.items()}


def _write(family: str, document: dict[str, dict[str, float]]) -> None:
    kept = {key: dict(sorted(times.items(), key=lambda item: item[1])[-_KEPT:]) for key, times in document.items()}
    files.write_atomically(paths.family_seen_file(family), json.dumps({"schema": SCHEMA, **kept}).encode())


def load(family: str) -> dict[str, float]:
    return _read(family)["seen"]


def first_seen(family: str, digest: str, now: float, record: bool) -> float:
    """When `digest` was first seen; noted as `now` if it never was (unless
    not to `record`, as a dry run)."""
    document = _read(family)
    if digest in document["seen"]:
        return document["seen"][digest]
    if record:
        document["seen"][digest] = now
        _write(family, document)
    return now


def rolled_back(family: str, digest: str) -> float | None:
    """When an update of `digest` was rolled back, or None."""
    return _read(family)["rolled_back"].get(digest)


def note_rolled_back(family: str, digest: str, now: float) -> None:
    document = _read(family)
    document["rolled_back"][digest] = now
    _write(family, document)
