"""What of the host a container gets, checked: capabilities, devices,
security options, kernel settings, namespaces and GPUs (the keys are
declared in processoptions.py); and the list checks both modules use.
Each checker returns the value normalised or raises Invalid.
"""

from __future__ import annotations

import re

from dockervisor.config.mounts import brief, is_absolute_path
from dockervisor.config.optionvalues import Invalid

_CAPABILITY = r"(?:CAP_)?[A-Z][A-Z_]{1,30}|ALL"
_SYSCTL_KEY = r"[a-z][a-z0-9_]*(?:[./][a-z0-9_-]+)+"
WORD = r"[A-Za-z0-9_][A-Za-z0-9_.=:,/+@-]{0,255}"  # a group, a security option


def capabilities(value: object) -> list[str]:
    return matching(value, '["NET_ADMIN"]', _CAPABILITY, "a capability such as NET_ADMIN or ALL")


def matching(value: object, example: str, pattern: str, what: str) -> list[str]:
    """A list of strings, each matching `pattern`."""
    items = strings(value, example)
    for index, item in enumerate(items):
        if not re.fullmatch(pattern, item):
            raise Invalid(f"{brief(item)} is not {what}", f"[{index}]")
    return items


def devices(value: object) -> list[str]:
    """/dev/x, /dev/x:/dev/y, /dev/x:/dev/y:rwm, /dev/x:rwm."""
    specs = strings(value, '["/dev/ttyUSB0"]')
    for index, spec in enumerate(specs):
        parts = spec.split(":")
        permissions = parts.pop() if len(parts) > 1 and not parts[-1].startswith("/") else "rwm"
        paths_ok = 1 <= len(parts) <= 2 and all(is_absolute_path(p) and "," not in p for p in parts)
        if not paths_ok or not permissions or set(permissions) - set("rwm") or len(set(permissions)) != len(permissions):
            raise Invalid(f"{brief(spec)} is not HOST_DEVICE[:CONTAINER_DEVICE][:rwm] of absolute paths", f"[{index}]")
    return specs


def sysctls(value: object) -> dict[str, str]:
    """{"net.core.somaxconn": 1024} or ["net.core.somaxconn=1024"]."""
    if isinstance(value, list):
        pairs = [str(item).partition("=")[::2] if isinstance(item, str) and "=" in item else (item, None)
                 for item in value]  # fmt: skip
    elif isinstance(value, dict):
        pairs = list(value.items())
    else:
        raise Invalid('the value must be an object such as {"net.core.somaxconn": 1024}')
    settings = {}
    for key, setting in pairs:
        where = f"[{key!r}]"
        if not isinstance(key, str) or not re.fullmatch(_SYSCTL_KEY, key):
            raise Invalid(f"{brief(key)} is not a kernel setting such as net.core.somaxconn", where)
        if isinstance(setting, int) and not isinstance(setting, bool):
            setting = str(setting)
        if not isinstance(setting, str) or not setting or any(c in setting for c in "\n\0,"):
            raise Invalid("the setting must be a number or a one-line string", where)
        settings[key] = setting
    return settings


def security_opt(value: object) -> list[str]:
    return matching(value, '["no-new-privileges:true"]', WORD, "a security option such as no-new-privileges:true")


# Keys that hand the container the host (or more of it): each needs
# "privileged_ok": true beside it, so that a copied Compose file cannot slip
# one in unnoticed. parse_options (runoptions.py) checks them together.
HOST_SHARING = ("privileged", "pid", "ipc")


def pid(value: object) -> str:
    if value != "host":
        raise Invalid(f'{brief(value)} is not a PID namespace dockervisor shares: only "host"')
    return "host"


def ipc(value: object) -> str:
    if value not in ("private", "shareable", "none", "host"):
        raise Invalid(f"{brief(value)} is not an IPC mode: private, shareable, none or host")
    return str(value)


def gpus(value: object) -> str:
    """"all", or a number of GPUs (Compose's device requests, in docker run's form)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 1000:
        return str(value)
    if value == "all":
        return "all"
    raise Invalid(f'{brief(value)} is not "all" or a number of GPUs')


def needs_privileged_ok(options: object) -> str | None:
    """The first key that shares the host without "privileged_ok": true, or None."""
    if getattr(options, "privileged_ok", False):
        return None
    if getattr(options, "privileged", False):
        return "privileged"
    return next((key for key in ("pid", "ipc") if getattr(options, key, None) == "host"), None)


def a_list(value: object, example: str) -> list:
    if not isinstance(value, list) or not value:
        raise Invalid(f"the value must be a non-empty list such as {example}")
    return value


def strings(value: object, example: str) -> list[str]:
    items = a_list(value, example)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise Invalid("each item must be a string", f"[{index}]")
        if item in items[:index]:
            raise Invalid(f"{brief(item)} is given twice", f"[{index}]")
    return list(items)
