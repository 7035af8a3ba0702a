"""A family's release step, from `dcv-IMAGENAME` and recorded at build time:
a command `start new` runs once in a one-off container of the new image
before the new container serves (a migration, a cache warm-up).

    {"release": ["./manage.py", "migrate"],
     "release_timeout": "10m",
     "release_when": "before-stop",
     "release_on": "first"}

`release_when`: "before-stop" (the default) runs it while the old container
still serves, and a failure changes nothing; "after-stop" runs it once the
old container has stopped (and its data is snapshotted, with "snapshot"),
and a failure brings the old container back. `release_on`: over several
engines, "first" runs it on the first engine of a rolling start only,
"each" on every engine (data per host). Pure: flows/release.py runs it.
"""

from __future__ import annotations

import re

KEYS = ("release", "release_timeout", "release_when", "release_on")
WHEN = ("before-stop", "after-stop")
ON = ("first", "each")
DEFAULT_TIMEOUT = 600  # ten minutes
_MOST_TIMEOUT = 24 * 3600
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600}


class ReleasePolicy:
    __slots__ = ("command", "timeout", "when", "on")

    def __init__(
        self, command: list[str], timeout: int = DEFAULT_TIMEOUT, when: str = WHEN[0], on: str = ON[0]
    ) -> None:
        self.command = command
        self.timeout = timeout
        self.when = when
        self.on = on

    def to_dict(self) -> dict[str, object]:
        return {"release": list(self.command), "release_timeout": self.timeout,
                "release_when": self.when, "release_on": self.on}  # fmt: skip

    @classmethod
    def from_dict(cls, data: object) -> ReleasePolicy:
        """Read back what to_dict wrote, or the keys of an overrides file;
        ValueError names the key. `release` itself is required."""
        if not isinstance(data, dict) or set(data) - set(KEYS):
            raise ValueError(f"release must be an object with the keys {', '.join(KEYS)}")
        if "release" not in data:
            raise ValueError("release: the other release_ keys need a release command")
        for key, value in data.items():
            problem = problem_with(key, value)
            if problem:
                raise ValueError(f"{key}: {problem}")
        return cls(
            list(data["release"]),
            seconds(data.get("release_timeout", DEFAULT_TIMEOUT)),
            data.get("release_when", WHEN[0]),
            data.get("release_on", ON[0]),
        )

    def describe(self) -> list[str]:
        """What `build` and `config` say of it (the command in full, as the
        `command` key's line shows its arguments)."""
        import shlex

        when = "while the old container still serves" if self.when == "before-stop" else (
            "after the old container has stopped"
        )
        where = " on every engine" if self.on == "each" else ""
        return [f"start new first runs the release step `{shlex.join(self.command)}` {when}{where}, "
                f"within {self.timeout:g}s"]  # fmt: skip

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReleasePolicy) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"ReleasePolicy({self.command[:1]}, {self.timeout}, {self.when!r}, {self.on!r})"


def problem_with(key: str, value: object) -> str | None:
    """What is wrong with the value of one key, or None. A command argument
    is never quoted back: it may carry a secret."""
    if key == "release":
        if not isinstance(value, list) or not value:
            return 'the value must be a non-empty list such as ["./manage.py", "migrate"]; a string is not split'
        for index, argument in enumerate(value):
            if not isinstance(argument, str) or "\0" in argument or (index == 0 and not argument):
                return f"[{index}]: each argument must be a string without NUL, the first not empty"
        return None
    if key == "release_timeout":
        try:
            seconds(value)
        except ValueError as error:
            return str(error)
        return None
    choices = WHEN if key == "release_when" else ON
    return None if value in choices else f"the value must be one of {', '.join(choices)}"


def seconds(value: object) -> int:
    """A time limit: whole seconds as a number, or "90s", "10m", "1h"; from
    one second to a day. ValueError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    match = re.fullmatch(r"([0-9]{1,6})([smh]?)", value) if isinstance(value, str) else None
    total = int(match[1]) * _UNIT_SECONDS[match[2]] if match else -1
    if not 0 < total <= _MOST_TIMEOUT:
        raise ValueError('the value must be a duration such as "90s", "10m" or "1h" (at most a day)')
    return total
