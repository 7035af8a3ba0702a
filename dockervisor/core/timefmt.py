"""Docker's timestamps in, ISO 8601 and short ages out, without importing datetime."""

from __future__ import annotations

import time


def parse_docker_time(text: str) -> float | None:
    """Seconds since the epoch for `2026-11-28T15:28:03.123456789Z` or
    `2026-11-28 15:28:03 +0000 UTC`; None for docker's zero time or garbage."""
    if len(text) < 19 or text.startswith("0001-01-01"):
        return None
    try:
        fields = (
            int(text[0:4]), int(text[5:7]), int(text[8:10]),
            int(text[11:13]), int(text[14:16]), int(text[17:19]),
        )  # fmt: skip
    except ValueError:
        return None
    import calendar  # only listings parse docker times; it costs milliseconds to import

    seconds: float = calendar.timegm(fields + (0, 0, 0))
    rest = text[19:]
    if rest.startswith("."):
        digits = rest[1:].rstrip("Z").split("+")[0].split(" ")[0]
        if digits.isdigit():
            seconds += int(digits) / 10 ** len(digits)
    # `docker ps` writes its times in the client's own zone: `+0100 CET`.
    offset = rest.split(" ")[1] if rest.startswith(" ") else ""
    if len(offset) == 5 and offset[0] in "+-" and offset[1:].isdigit():
        sign = 1 if offset[0] == "+" else -1
        seconds -= sign * (int(offset[1:3]) * 3600 + int(offset[3:5]) * 60)
    return float(seconds)


def iso_utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def age(seconds: float) -> str:
    """A short, coarse duration: 45s, 12m, 3h05m, 4d02h."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"
