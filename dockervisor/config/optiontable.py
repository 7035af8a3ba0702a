"""What one run option is: the `Option` declaration every key of the
overrides file that changes how the container runs is made of, and small
builders of its parts. The declarations are in runoptions.py (the first
keys) and processoptions.py (the rest of docker run's); this module lets
both declare without importing each other.
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class Option:
    """One overrides key, declared once: `parse` checks a value (raising
    Invalid), `flags(image, value)` gives its `docker run` flags (none when
    unset), `describe(value)` the lines `build` and `config` print,
    `settings(image, value)` what `config --json` shows, `fingerprint`
    whether a change of it makes `start new --if-changed` start a new
    container, `unset` what stands for "not set", `example` a valid value."""

    __slots__ = ("key", "attribute", "parse", "flags", "describe", "settings", "fingerprint", "unset", "example")

    def __init__(
        self,
        key: str,
        parse: Callable[[object], object],
        flags: Callable[[str, Any], list[str]],
        describe: Callable[[Any], list[str]],
        example: object,
        attribute: str | None = None,
        unset: Callable[[], object] | None = None,
        settings: Callable[[str, Any], dict[str, object]] | None = None,
        fingerprint: bool = True,
    ) -> None:
        self.key = key
        self.attribute = attribute or key
        self.parse = parse
        self.flags = flags
        self.describe = describe
        self.example = example
        self.unset = unset
        self.settings = settings or (lambda image, value: {self.attribute: value})
        self.fingerprint = fingerprint


def flag(name: str) -> Callable[[str, Any], list[str]]:
    """`--name VALUE` when the value is set."""
    return lambda image, value: [name, value] if value is not None else []


def line(text: str) -> Callable[[Any], list[str]]:
    return lambda value: [text.format(value)] if value else []
