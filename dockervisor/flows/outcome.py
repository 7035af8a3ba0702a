"""The outcome document: what a change did, as one JSON object.

`--json` on a changing command prints it on stdout instead of the container
name; notifications (notify.py) send it; the history entry carries the same
fields (see store/history.py: there `container` keeps its older meaning,
what the action acted on, and `running` is this document's `container`).
docs/unattended.md is its reference; VERSION changes only when a field
changes meaning or goes away (new fields may be added).
"""

from __future__ import annotations

from dockervisor.core.timefmt import iso_utc
from dockervisor.store.history import UNKNOWN

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from collections.abc import Iterable

    from dockervisor.store.history import Entry

VERSION = 1
# release-failed: the release step of a start new failed, and what ran before runs.
OUTCOMES = ("ok", "no-op", "failed", "release-failed", "rolled-back", "rollback-failed", "interrupted")
# The worst outcome of several (engines, families) is the one furthest down.
_SEVERITY = ("no-op", "ok", "release-failed", "rolled-back", "failed", "interrupted", "rollback-failed")
# Values shorter than this are not hidden in documents: hiding "1" or "yes"
# would garble every time and number, and such a value is no secret.
_SHORTEST_HIDDEN = 4


def document(entry: Entry, secrets: Iterable[str] = ()) -> dict:
    """The outcome of one change of one family on one engine."""
    return hide(
        {
            "version": VERSION,
            "outcome": entry.outcome,
            "exit_code": entry.exit_code,
            "action": entry.action,
            "family": entry.family,
            "engine": entry.engine,
            "container": None if entry.running == UNKNOWN else entry.running,
            "previous": entry.previous,
            "target": entry.container,
            "image": {"id": entry.image_id, "digest": entry.digest},
            "reason": entry.message,
            "started_at": iso_utc(entry.started) if entry.started is not None else None,
            "seconds": entry.seconds,
            "command": entry.command,
            **({"release": entry.release} if entry.release else {}),
        },
        secrets,
    )


def without_change(action: str, family: str | None, engine: str | None, exit_code: int, reason: str | None,
                   command: str, started: float) -> dict:  # fmt: skip
    """A command that ended before it changed anything (a typo, an engine
    that does not answer, a damaged file): the same fields, nothing ran."""
    return {
        "version": VERSION,
        "outcome": "failed" if exit_code else "no-op",
        "exit_code": exit_code,
        "action": action,
        "family": family,
        "engine": engine,
        "container": None,
        "previous": None,
        "target": None,
        "image": {"id": None, "digest": None},
        "reason": reason,
        "started_at": iso_utc(started),
        "seconds": None,
        "command": command,
    }


def combined(documents: list[dict], exit_code: int, command: str) -> dict:
    """Several changes (families, engines) as one document: the worst outcome
    on top, each one in `changes`."""
    if len(documents) == 1:
        return documents[0]
    worst = max((d["outcome"] for d in documents), key=_severity, default="no-op")
    families = sorted({d["family"] for d in documents if d["family"]})
    engines = sorted({d["engine"] for d in documents if d["engine"]})
    return {
        "version": VERSION,
        "outcome": worst,
        "exit_code": exit_code,
        "action": documents[0]["action"] if documents else None,
        "family": families[0] if len(families) == 1 else None,
        "engine": engines[0] if len(engines) == 1 else None,
        "started_at": min((d["started_at"] for d in documents if d["started_at"]), default=None),
        "command": command,
        "changes": documents,
    }


def _severity(outcome: str) -> int:
    return _SEVERITY.index(outcome) if outcome in _SEVERITY else len(_SEVERITY)


def hide(value: object, secrets: Iterable[str]) -> object:
    """`value` with every secret (an environment value handed to the
    container) replaced by "[hidden]", in every string it holds."""
    hidden = sorted({s for s in secrets if len(s) >= _SHORTEST_HIDDEN}, key=len, reverse=True)
    if not hidden:
        return value

    def walk(item: object) -> object:
        if isinstance(item, str):
            for secret in hidden:
                item = item.replace(secret, "[hidden]")
            return item
        if isinstance(item, dict):
            return {key: walk(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [walk(inner) for inner in item]
        return item

    return walk(value)
