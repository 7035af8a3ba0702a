"""The family's own health check and probe, for images without a HEALTHCHECK
(most third-party ones): checked here, pure, and declared in runoptions.py.

    "healthcheck": {"test": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1"],
                    "interval": "10s", "timeout": "3s", "retries": 3, "start_period": "5s"}
    "healthcheck": {"test": ["NONE"]}              (turns off the image's own)
    "probe": "http://127.0.0.1:8080/health"        (or "tcp://127.0.0.1:5432")
    "probation": "5m", "promote": true

`healthcheck` is Compose's key and takes Compose's forms; docker runs it in
the container (`--health-*`). `docker run` has no flag for the exec form, so
`["CMD", "prog", "arg"]` is handed over as the shell line `prog arg` (the
image needs /bin/sh, as CMD-SHELL does). `probe` is checked by dockervisor
itself from the host, during the wait and the probation: an HTTP answer
2xx or 3xx, or a TCP connection accepted, is up. `probation` keeps a `start
new` watching the container that came up for that long (any exit, restart,
unhealthy check or failed probe rolls back); `promote` marks it stable once
the window (or, without one, the settle time) has passed.
"""

from __future__ import annotations

import re

from dockervisor.config.mounts import brief
from dockervisor.config.optionvalues import Invalid

# Go's durations as docker takes them for --health-*: 1m30s, 500ms, 10s.
_DURATION = r"(?:[0-9]{1,6}(?:\.[0-9]{1,3})?(?:ns|us|ms|s|m|h))+"
_KEYS = ("test", "interval", "timeout", "retries", "start_period", "disable")
_FLAGS = {"interval": "--health-interval", "timeout": "--health-timeout", "start_period": "--health-start-period"}
_MOST_RETRIES = 1000


def healthcheck(value: object) -> dict:
    """Compose's healthcheck object, normalised: `test` becomes
    ["CMD-SHELL", LINE] or ["NONE"]; `disable: true` is ["NONE"]."""
    if not isinstance(value, dict):
        raise Invalid('the value must be an object such as {"test": ["CMD-SHELL", "wget -q -O- http://127.0.0.1/"]}')
    for key in value:
        if key not in _KEYS:
            raise Invalid(f"unknown key (known: {', '.join(_KEYS)})", f"[{key!r}]")
    disable = value.get("disable", False)
    if not isinstance(disable, bool):
        raise Invalid("the value must be true or false", "['disable']")
    checked: dict = {"test": ["NONE"]} if disable else {"test": _test(value.get("test"))}
    if checked["test"] == ["NONE"]:
        if set(value) - {"test", "disable"}:
            raise Invalid("a disabled health check takes no interval, timeout, retries or start_period")
        return checked
    for key in ("interval", "timeout", "start_period"):
        if key in value:
            text = value[key]
            if not (isinstance(text, str) and re.fullmatch(_DURATION, text)) or not _positive(text):
                raise Invalid(f'{brief(text)} is not a duration such as "10s", "1m30s" or "500ms"', f"[{key!r}]")
            checked[key] = text
    if "retries" in value:
        retries = value["retries"]
        if not (isinstance(retries, int) and not isinstance(retries, bool) and 1 <= retries <= _MOST_RETRIES):
            raise Invalid(f"the value must be a whole number from 1 to {_MOST_RETRIES}", "['retries']")
        checked["retries"] = retries
    return checked


def _test(test: object) -> list[str]:
    if isinstance(test, str):  # Compose: a string is CMD-SHELL
        test = ["CMD-SHELL", test]
    if not (isinstance(test, list) and test and all(isinstance(word, str) for word in test)):
        raise Invalid('the value must be ["CMD-SHELL", "LINE"], ["CMD", "PROG", "ARG"...], ["NONE"] or a string',
                      "['test']")  # fmt: skip
    kind, words = test[0], test[1:]
    if kind == "NONE" and not words:
        return ["NONE"]
    if kind not in ("CMD", "CMD-SHELL") or not words or (kind == "CMD-SHELL" and len(words) != 1):
        raise Invalid('the value must be ["CMD-SHELL", "LINE"], ["CMD", "PROG", "ARG"...] or ["NONE"]', "['test']")
    if any(not word or "\0" in word or "\n" in word for word in words):
        raise Invalid("each word must be a non-empty string without a newline or NUL", "['test']")
    if kind == "CMD":
        import shlex

        return ["CMD-SHELL", shlex.join(words)]
    return ["CMD-SHELL", words[0]]


def _positive(duration: str) -> bool:
    return any(digit not in "0." for digit in re.sub(r"[a-z]", "", duration))


def flags(family: str, check: dict | None) -> list[str]:
    if not check:
        return []
    if check["test"] == ["NONE"]:
        return ["--no-healthcheck"]
    argv = ["--health-cmd", check["test"][1]]
    for key, flag in _FLAGS.items():
        if key in check:
            argv += [flag, check[key]]
    if "retries" in check:
        argv += ["--health-retries", str(check["retries"])]
    return argv


def describe(check: dict | None) -> list[str]:
    if not check:
        return []
    if check["test"] == ["NONE"]:
        return ["turns off the image's HEALTHCHECK (--no-healthcheck)"]
    timing = ", ".join(f"{key.replace('_', ' ')} {check[key]}" for key in (*_FLAGS, "retries") if key in check)
    return [f"health check: {check['test'][1]}" + (f" ({timing})" if timing else "")]


def probe(value: object) -> str:
    """http://HOST:PORT/PATH or tcp://HOST:PORT, as dockervisor reaches it
    from where it runs (a published port, usually on 127.0.0.1)."""
    from urllib.parse import urlsplit

    if not isinstance(value, str) or not value.isascii() or any(c.isspace() or ord(c) < 32 for c in value):
        raise Invalid('the value must be a URL such as "http://127.0.0.1:8080/health" or "tcp://127.0.0.1:5432"')
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https", "tcp") or not parts.hostname:
        raise Invalid(f"{brief(value)} is not an http://, https:// or tcp:// URL with a host")
    if parts.scheme == "tcp" and (port is None or parts.path not in ("", "/") or parts.query):
        raise Invalid(f"{brief(value)}: a tcp:// probe is tcp://HOST:PORT")
    if port is not None and not 0 < port < 65536:
        raise Invalid(f"{brief(value)}: the port must be from 1 to 65535")
    return value


_MOST_PROBATION = 24 * 3600
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600}


def duration(value: object) -> int:
    """A probation: whole seconds as a number or "90", "90s", "5m", "1h"; at
    most a day. Also what `--probation` takes."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    match = re.fullmatch(r"([0-9]{1,6})([smh]?)", value) if isinstance(value, str) else None
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]] if match else -1
    if not 0 < seconds <= _MOST_PROBATION:
        raise Invalid(f'{brief(value)} is not a duration such as "90s", "5m" or "1h" (at most a day)')
    return seconds


def promote(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid("the value must be true or false")
    return value
