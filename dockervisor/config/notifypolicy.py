"""Where a family's outcomes are sent, and when: `notify` and `notify_on` in
dcv-IMAGENAME (recorded at build), `--notify TARGET` and DOCKERVISOR_NOTIFY.

    {"notify": ["https://hooks.example/dv", {"url": "https://ntfy.sh/ops", "format": "text"},
                "mailto:ops@example.com", "exec:/usr/local/bin/page-me --quiet"],
     "notify_on": "failure"}

A target is checked here, pure; flows/notify.py delivers. A URL may carry a
token (a webhook's path, a user:password), so messages and the history name
a target by `shown()` alone: the scheme and host of a URL, the program of an
`exec:`.
"""

from __future__ import annotations

KEYS = ("notify", "notify_on")
WHEN = ("failure", "always", "change")
DEFAULT_WHEN = "failure"
FORMATS = ("json", "text")
_MOST_TARGETS = 20
_LONGEST = 2048


class Target:
    """One place an outcome goes: `kind` is http, mailto or exec; `where` the
    URL, the address or the program's argv; `format` json or text (http)."""

    __slots__ = ("kind", "where", "format", "spec")

    def __init__(self, kind: str, where: str | list[str], format: str, spec: object) -> None:
        self.kind, self.where, self.format, self.spec = kind, where, format, spec

    def shown(self) -> str:
        """The target without what may be a secret: never a URL's path,
        query or user part, never an exec's arguments."""
        if self.kind == "http":
            from urllib.parse import urlsplit

            parts = urlsplit(str(self.where))
            host = parts.hostname or "?"
            host = f"[{host}]" if ":" in host else host
            return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}/..."
        if self.kind == "mailto":
            return f"mailto:{self.where}"
        return f"exec:{self.where[0]}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Target) and self.spec == other.spec

    def __repr__(self) -> str:
        return f"Target({self.shown()!r})"


def parse_target(value: object) -> Target:
    """A target as written in dcv-IMAGENAME or typed; ValueError says why not.
    The reason never quotes the value: a URL may carry a token."""
    if isinstance(value, dict):
        unknown = set(value) - {"url", "format"}
        if unknown:
            raise ValueError(f"unknown key {sorted(unknown)[0]!r} (a target object has url and format)")
        url, format = value.get("url"), value.get("format", "json")
        if format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError("url must be an http:// or https:// URL")
        return Target("http", _checked_url(url), format, dict(value))
    if not isinstance(value, str) or not value:
        raise ValueError("a target is a URL, mailto:ADDRESS, exec:COMMAND, or an object with url and format")
    if len(value) > _LONGEST or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError(f"a target must be one line of at most {_LONGEST} characters")
    if value.startswith("text:"):  # ntfy-style plain text, typed on a command line
        return Target("http", _checked_url(value[len("text:"):]), "text", value)
    if value.startswith(("http://", "https://")):
        return Target("http", _checked_url(value), "json", value)
    if value.startswith("mailto:"):
        address = value[len("mailto:"):]
        local, at, domain = address.partition("@")
        if not (local and at and domain) or "@" in domain or any(c in address for c in " ,;<>\"'"):
            raise ValueError("mailto: takes one address, as mailto:ops@example.com")
        return Target("mailto", address, "text", value)
    if value.startswith("exec:"):
        import shlex

        try:
            argv = shlex.split(value[len("exec:"):])
        except ValueError as error:
            raise ValueError(f"exec: the command cannot be split into words ({error})") from None
        if not argv:
            raise ValueError("exec: names no command")
        return Target("exec", argv, "json", value)
    raise ValueError("a target starts with http://, https://, text:, mailto: or exec:")


def _checked_url(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
        usable = usable and (parts.port is None or 0 < parts.port < 65536)  # .port raises on junk
    except ValueError:
        usable = False
    if not usable or any(c.isspace() for c in url):
        raise ValueError("not a usable http:// or https:// URL (scheme, host, port)")
    return url


class NotifyPolicy:
    """The family's own targets and when they hear from it."""

    __slots__ = ("targets", "on")

    def __init__(self, targets: list[Target] | None = None, on: str = DEFAULT_WHEN) -> None:
        self.targets = targets or []
        self.on = on

    def to_dict(self) -> dict[str, object]:
        return {"notify": [t.spec for t in self.targets], "notify_on": self.on}

    @classmethod
    def from_dict(cls, data: object) -> NotifyPolicy:
        """Read back what to_dict wrote, or the keys of an overrides file;
        ValueError names the key."""
        if not isinstance(data, dict) or set(data) - set(KEYS):
            raise ValueError(f"notify must be an object with the keys {', '.join(KEYS)}")
        for key, value in data.items():
            problem = problem_with(key, value)
            if problem:
                raise ValueError(f"{key}: {problem}")
        return cls([parse_target(v) for v in data.get("notify", [])], data.get("notify_on", DEFAULT_WHEN))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NotifyPolicy) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"NotifyPolicy({[t.shown() for t in self.targets]}, {self.on!r})"


def problem_with(key: str, value: object) -> str | None:
    """What is wrong with the value of one key, or None."""
    if key == "notify_on":
        return None if value in WHEN else f"the value must be one of {', '.join(WHEN)}"
    if not isinstance(value, list) or len(value) > _MOST_TARGETS:
        return f"the value must be a list of at most {_MOST_TARGETS} targets"
    for index, target in enumerate(value):
        try:
            parse_target(target)
        except ValueError as error:
            return f"[{index}]: {error}"
    return None


def wanted(outcome: str, on: str) -> bool:
    """Whether an outcome is sent under `on`: failure (anything but ok and
    no-op), change (anything but no-op) or always."""
    if on == "always":
        return True
    if on == "change":
        return outcome != "no-op"
    return outcome not in ("ok", "no-op")
