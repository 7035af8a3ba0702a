"""A family's update policy, from `dcv-IMAGENAME` and recorded at build or
pull time: what `dockervisor update` may take from the registry unattended.

    {"update": {"cooldown": "24h", "allow": "patch"}}

`cooldown`: a new digest is taken only once dockervisor has known it this
long (its first sighting by `check` or `update` on this state directory; a
registry does not say when a tag was pushed). `allow`, for a reference
whose tag is a version (`app:1.4.2`, `app:v2.1`): "patch" may move to a
newer tag of the same major.minor, "minor" of the same major, "any" to the
newest; only tags of the same shape count (1.4.2 follows 1.4.3, never the
moving 1.4 or a pre-release 1.4.3-rc1). Without `allow` the reference's
own tag is followed as it moves. Pure: commands/updates.py applies it.
"""

from __future__ import annotations

import re

KEYS = ("cooldown", "allow")
ALLOW = ("patch", "minor", "any")
_MOST_COOLDOWN = 90 * 24 * 3600
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
# v1, 1.4, 1.4.2, v1.4.2: a version tag; anything after it (-rc1, -alpine), or a
# number with a leading zero (01.4, which semver forbids), is not one.
_NUMBER = "(0|[1-9][0-9]{0,8})"
_VERSION = re.compile(rf"(v?){_NUMBER}(?:\.{_NUMBER})?(?:\.{_NUMBER})?")


class UpdatePolicy:
    __slots__ = ("cooldown", "allow")

    def __init__(self, cooldown: int = 0, allow: str | None = None) -> None:
        self.cooldown = cooldown  # seconds; 0: a new digest is taken at once
        self.allow = allow  # None: follow the reference's own tag

    def to_dict(self) -> dict[str, object]:
        return {"cooldown": self.cooldown, "allow": self.allow}

    @classmethod
    def from_dict(cls, data: object) -> UpdatePolicy:
        """Read back what to_dict wrote, or the "update" object of an
        overrides file; ValueError names the key."""
        if not isinstance(data, dict) or set(data) - set(KEYS) or not data:
            raise ValueError(f"update must be an object with one or both of the keys {', '.join(KEYS)}")
        policy = cls()
        if data.get("cooldown") is not None:
            policy.cooldown = cooldown(data["cooldown"])
        allow = data.get("allow")
        if allow is not None and allow not in ALLOW:
            raise ValueError(f"update: allow: must be one of {', '.join(ALLOW)}, not {allow!r}"[:200])
        policy.allow = allow
        return policy

    def describe(self) -> list[str]:
        said = [f"update: takes a new digest once known for {self.cooldown}s"] if self.cooldown else []
        if self.allow:
            said.append(f"update: follows newer version tags ({self.allow} releases)")
        return said

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UpdatePolicy) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"UpdatePolicy({self.to_dict()})"


def cooldown(value: object) -> int:
    """Whole seconds, or "90s", "30m", "24h", "7d": 0 to 90 days."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    match = re.fullmatch(r"([0-9]{1,8})([smhd]?)", value) if isinstance(value, str) else None
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]] if match else -1
    if not 0 <= seconds <= _MOST_COOLDOWN:
        raise ValueError(f'update: cooldown: {str(value)[:40]!r} is not a duration such as "24h" or "7d" '
                         "(at most 90 days)")  # fmt: skip
    return seconds


def version(tag: str) -> tuple[str, tuple[int, ...]] | None:
    """("v" or "", the numbers) of a version tag, or None: "1.4.2" -> ("", (1, 4, 2))."""
    match = _VERSION.fullmatch(tag)
    if not match:
        return None
    return match[1], tuple(int(part) for part in match.groups()[1:] if part is not None)


def follow(tag: str, tags: list[str], allow: str) -> tuple[str, list[str]]:
    """The tag an update takes under `allow`, and the newer ones it holds back:
    the newest tag of the same shape as `tag` within the range `allow` opens
    (`tag` itself if none is newer). ValueError when `tag` is no version."""
    current = version(tag)
    if current is None:
        raise ValueError(f"the tag {tag!r} is no version (such as 1.4 or v2.1.0), which \"allow\" needs")
    prefix, numbers = current
    fixed = {"patch": 2, "minor": 1, "any": 0}[allow]  # how many leading numbers must stay
    chosen, chosen_tag = numbers, tag
    held: dict[str, tuple[int, ...]] = {}
    for other in tags:
        seen = version(other)
        if seen is None or seen[0] != prefix or len(seen[1]) != len(numbers) or seen[1] <= numbers:
            continue
        if seen[1][:fixed] != numbers[:fixed]:
            held[other] = seen[1]
        elif seen[1] > chosen:
            chosen, chosen_tag = seen[1], other
    return chosen_tag, sorted(held, key=lambda t: (held[t], t), reverse=True)
