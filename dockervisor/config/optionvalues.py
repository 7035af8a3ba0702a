"""How each run option's value is checked (the options themselves are
declared in runoptions.py): one function a key, taking the value as JSON
gives it, returning it normalised or raising Invalid, which never quotes more
of a value than `brief` allows.
"""

from __future__ import annotations

import re

from dockervisor.config.mounts import brief, normal_address
from dockervisor.config.names import is_container_name, is_env_value

DEFAULT_LOG = {"driver": "json-file", "max-size": "10m", "max-file": "3"}
# Docker's own labels for family membership and the like: never the user's.
RESERVED_LABEL_PREFIX = "dockervisor."

# Patterns, compiled on first use (re caches them), not at import: every command
# imports this module. Numbers are ASCII digits only: [0-9], never \d.
_MEMORY = r"([0-9]{1,19})([bkmgBKMG]?)"
_MEMORY_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_MEMORY_MIN = 6 * 1024**2  # docker refuses less
_CPUS = r"([0-9]{1,4})(?:\.([0-9]{1,9}))?"
_CPUS_MIN_NANO = 10_000_000  # 0.01, docker's least
_USER_PART = r"[A-Za-z_][A-Za-z0-9_.-]{0,31}|[0-9]{1,10}"
_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*"
_HOSTNAME_MAX = 64  # the kernel's HOST_NAME_MAX
_LABEL_KEY = r"[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,253}[A-Za-z0-9])?"
_LOG_DRIVER = r"[a-z0-9][a-z0-9_.-]*(?:/[a-z0-9][a-z0-9_.-]*)*(?::[A-Za-z0-9_.-]+)?"
_LOG_OPTION = r"[a-z0-9][a-z0-9_.-]*"
_LOG_SIZE = r"([0-9]{1,12})[kmgKMG]?"
_LOG_FILES = r"[0-9]{1,6}"
_HOST_GATEWAY = "host-gateway"
# Docker's own networks: no aliases there, or no network at all.
_PREDEFINED_NETWORKS = ("bridge", "host", "none", "default")



class Invalid(ValueError):
    """A value refused; `where` is the part of the key at fault (`['max-size']`, `[2]`)."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where


def network(value: object) -> list[str]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise Invalid('the value must be a network name such as "backend", or a list of them')
    for index, name in enumerate(names):
        where = f"[{index}]" if isinstance(value, list) else ""
        if not (isinstance(name, str) and is_container_name(name)):
            raise Invalid(f"{brief(name)} is not a network name (letters, digits, '_', '.' and '-')", where)
        if name in _PREDEFINED_NETWORKS:
            raise Invalid(f"{name!r} is docker's own network; name a user-defined one (dockervisor creates it)", where)
        if name in names[:index]:
            raise Invalid(f"network {name!r} is given twice", where)
    return list(names)


def memory(value: object) -> str:
    text = _string(value, '"512m"')
    match = re.fullmatch(_MEMORY, text)
    if match is None:
        raise Invalid(f'{brief(value)} is not a size such as "512m" (ASCII digits, then b, k, m or g)')
    if int(match[1]) * _MEMORY_UNITS[match[2].lower()] < _MEMORY_MIN:
        raise Invalid(f"{brief(value)} is less than 6m, the least docker allows")
    return text


def cpus(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = _string(value, '"1.5"')
    match = re.fullmatch(_CPUS, text)
    if match is None:
        raise Invalid(f'{brief(value)} is not a number of CPUs such as "1.5" (ASCII digits)')
    nano = int(match[1]) * 10**9 + int((match[2] or "").ljust(9, "0"))
    if nano < _CPUS_MIN_NANO:
        raise Invalid(f"{brief(value)} is less than 0.01, the least docker allows")
    return text


def user(value: object) -> str:
    text = _string(value, '"1000:1000"')
    parts = text.split(":")
    if len(parts) > 2 or not all(re.fullmatch(_USER_PART, part) for part in parts):
        raise Invalid(f"{brief(value)} is not USER[:GROUP], each a name or a number in ASCII digits")
    if any(part.isdigit() and int(part) > 2**32 - 2 for part in parts):
        raise Invalid(f"{brief(value)} has an ID larger than 4294967294")
    return text


def command(value: object) -> list[str]:
    if isinstance(value, str):
        raise Invalid('the value must be a list of arguments such as ["--workers", "4"]; a string is not split')
    if not isinstance(value, list) or not value:
        raise Invalid('the value must be a non-empty list of arguments such as ["--workers", "4"]')
    for index, argument in enumerate(value):
        # Never shown: an argument may carry a secret.
        if not isinstance(argument, str) or "\0" in argument:
            raise Invalid("each argument must be a string without NUL", f"[{index}]")
    return list(value)


def init(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid("the value must be true or false")
    return value


def hostname(value: object) -> str:
    text = _string(value, '"app"')
    if len(text) > _HOSTNAME_MAX or not re.fullmatch(_DNS_NAME, text):
        raise Invalid(f"{brief(value)} is not a host name (letters, digits, '-' and '.', up to 64)")
    return text


def extra_hosts(value: object) -> dict[str, str]:
    hosts = {}
    for name, address in _object(value, '{"db.local": "10.0.0.5"}').items():
        where = f"[{name!r}]"
        if len(name) > 253 or not re.fullmatch(_DNS_NAME, name):
            raise Invalid("not a host name (letters, digits, '-' and '.')", where)
        normal = _HOST_GATEWAY if address == _HOST_GATEWAY else normal_address(address)
        if normal is None:
            raise Invalid(f"{brief(address)} is not an IP address or {_HOST_GATEWAY}", where)
        hosts[name] = normal
    return hosts


def labels(value: object) -> dict[str, str]:
    for key, text in _object(value, '{"com.example.team": "web"}').items():
        where = f"[{key!r}]"
        if not re.fullmatch(_LABEL_KEY, key):
            raise Invalid("not a label key (letters, digits, '.', '_', '/' and '-')", where)
        if key.lower().startswith(RESERVED_LABEL_PREFIX):
            raise Invalid(f"labels starting with {RESERVED_LABEL_PREFIX!r} are dockervisor's own", where)
        if not is_env_value(text):
            raise Invalid("the value must be a string without a newline or NUL", where)
    return dict(value)  # type: ignore[call-overload]


def log(value: object) -> dict[str, str] | None:
    if value is None:
        return None
    given = _object(value, '{"driver": "json-file", "max-size": "10m", "max-file": "3"}')
    driver = given.get("driver", "json-file")
    if not (isinstance(driver, str) and re.fullmatch(_LOG_DRIVER, driver)):
        raise Invalid(f"{brief(driver)} is not a log driver name such as \"json-file\"", "['driver']")
    log = {"driver": driver}
    for option, setting in given.items():
        if option == "driver":
            continue
        where = f"[{option!r}]"
        if driver == "none":
            raise Invalid("the none driver takes no options", where)
        if not re.fullmatch(_LOG_OPTION, option):
            raise Invalid("not a log option name such as \"max-size\"", where)
        if isinstance(setting, int) and not isinstance(setting, bool):
            setting = str(setting)
        if not is_env_value(setting):
            raise Invalid("the value must be a string without a newline or NUL", where)
        log[option] = _log_setting(option, setting, where)
    return log


def _log_setting(option: str, setting: str, where: str) -> str:
    """The rotation options docker's json-file and local drivers take, checked
    here rather than by a failed start."""
    size = re.fullmatch(_LOG_SIZE, setting)
    if option == "max-size" and not (size and int(size[1]) > 0):
        raise Invalid(f'{brief(setting)} is not a size such as "10m" (ASCII digits, then k, m or g)', where)
    if option == "max-file" and not (re.fullmatch(_LOG_FILES, setting) and int(setting) > 0):
        raise Invalid(f"{brief(setting)} is not a number of files from 1, in ASCII digits", where)
    return setting


def _string(value: object, example: str) -> str:
    if not isinstance(value, str):
        raise Invalid(f"the value must be a string such as {example}")
    return value


def _object(value: object, example: str) -> dict:
    if not isinstance(value, dict):
        raise Invalid(f"the value must be a JSON object such as {example}")
    return value
