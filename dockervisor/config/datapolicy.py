"""A family's data policy, from `dcv-IMAGENAME` and recorded at build time:
whether every `start new` takes a snapshot, and how many snapshots to keep.

    {"snapshot": true, "snapshots_keep": 5}
"""

from __future__ import annotations

KEYS = ("snapshot", "snapshots_keep")
DEFAULT_SNAPSHOTS_KEEP = 3
_MOST_KEPT = 1000


class DataPolicy:
    __slots__ = ("snapshot", "keep")

    def __init__(self, snapshot: bool = False, keep: int = DEFAULT_SNAPSHOTS_KEEP) -> None:
        self.snapshot = snapshot
        self.keep = keep

    def to_dict(self) -> dict[str, object]:
        return {"snapshot": self.snapshot, "snapshots_keep": self.keep}

    @classmethod
    def from_dict(cls, data: object) -> DataPolicy:
        """Read back what to_dict wrote; ValueError says what is wrong."""
        if not isinstance(data, dict) or set(data) - set(KEYS):
            raise ValueError(f"data must be an object with the keys {', '.join(KEYS)}")
        policy = cls()
        for key, value in data.items():
            problem = problem_with(key, value)
            if problem:
                raise ValueError(f"data: {key}: {problem}")
            setattr(policy, "snapshot" if key == "snapshot" else "keep", value)
        return policy

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataPolicy) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"DataPolicy({self.to_dict()})"


def problem_with(key: str, value: object) -> str | None:
    """What is wrong with the value of one key, or None."""
    if key == "snapshot":
        return None if isinstance(value, bool) else "the value must be true or false"
    valid = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MOST_KEPT
    return None if valid else f"the value must be a whole number from 1 to {_MOST_KEPT}"
