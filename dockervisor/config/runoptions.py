"""How a family's containers run, beyond ports, mounts and environment.

    {
      "network":     "backend",              (or ["backend", "monitoring"])
      "memory":      "512m",
      "cpus":        "1.5",
      "user":        "1000:1000",
      "command":     ["--workers", "4"],
      "init":        true,
      "hostname":    "app",
      "extra_hosts": {"db.local": "10.0.0.5", "host.docker.internal": "host-gateway"},
      "labels":      {"com.example.team": "web"},
      "log":         {"driver": "json-file", "max-size": "10m", "max-file": "3"}
    }

Each key is declared once, in OPTIONS at the end: how its value is checked,
the `docker run` flags it becomes, how `build` and `config` describe it, and
whether it enters the digest that `start new --if-changed` compares. Adding
a key is one `Option` there and its rows in the unit tests (which run every
declared key through all four, and list them against docs/overrides.md).

One parser reads these keys from the overrides file at build time and from a
state file read back, so both are held to the same rules. Without a "log" key
containers get json-file with rotation (DEFAULT_LOG), so that the logs of kept
containers cannot fill the disk; `"log": null` leaves it to the engine's own
default (daemon.json).
"""

from __future__ import annotations

import re

from dockervisor.config.mounts import brief, normal_address
from dockervisor.config.names import is_container_name, is_env_value

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

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


class RunOptions:
    """The parsed options, one attribute per declared key (`networks` for
    "network"); unset ones are None, empty or false. `log` is {"driver": ...,
    OPTION: VALUE...}, or None for the engine's default driver."""

    __slots__ = ("networks", "memory", "cpus", "user", "command", "init", "hostname", "extra_hosts", "labels", "log")

    def __init__(self, **values: object) -> None:
        for option in OPTIONS:
            value = values.pop(option.attribute, None)
            setattr(self, option.attribute, option.unset() if value is None and option.unset else value)
        if values:
            raise TypeError(f"not a run option: {', '.join(values)}")

    def to_dict(self) -> dict[str, object]:
        """The options set, in the overrides file's own shape; "log" always,
        since its absence means the default rotation."""
        data = {option.key: getattr(self, option.attribute) for option in OPTIONS}
        return {key: value for key, value in data.items() if value or key == "log"}

    def fingerprint(self) -> dict[str, object]:
        """What of the options decides how a container runs (see Option.fingerprint)."""
        return {key: value for key, value in self.to_dict().items() if _BY_KEY[key].fingerprint}

    def flags(self, family: str) -> list[str]:
        """The `docker run` flags of the options that are set, in FLAG_ORDER."""
        return [word for option in _in_flag_order() for word in option.flags(family, getattr(self, option.attribute))]

    def describe(self) -> list[str]:
        """One line per option set, for `build` and `config`, in FLAG_ORDER."""
        return [line for option in _in_flag_order() for line in option.describe(getattr(self, option.attribute))]

    def settings(self, family: str) -> dict[str, object]:
        """Every option, set or not, as `config --json` shows them."""
        shown: dict[str, object] = {}
        for option in OPTIONS:
            shown.update(option.settings(family, getattr(self, option.attribute)))
        return shown


def default_options() -> RunOptions:
    """What a family gets without any option keys: log rotation, nothing else."""
    return RunOptions(log=dict(DEFAULT_LOG))


def parse_options(document: dict, fail: Callable[[str, str], Exception]) -> RunOptions:
    """Check and normalise the option keys of `document`; any other key is an
    error. `fail(KEY, reason)` makes the exception raised, so that the caller
    names its file."""
    values: dict[str, object] = {}
    for key, value in document.items():
        option = _BY_KEY.get(key)
        if option is None:
            raise fail(key, "unknown key")
        try:
            values[option.attribute] = option.parse(value)
        except Invalid as invalid:
            raise fail(key + invalid.where, invalid.message) from None
    values.setdefault("log", dict(DEFAULT_LOG))
    return RunOptions(**values)


def _network(value: object) -> list[str]:
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


def _memory(value: object) -> str:
    text = _string(value, '"512m"')
    match = re.fullmatch(_MEMORY, text)
    if match is None:
        raise Invalid(f'{brief(value)} is not a size such as "512m" (ASCII digits, then b, k, m or g)')
    if int(match[1]) * _MEMORY_UNITS[match[2].lower()] < _MEMORY_MIN:
        raise Invalid(f"{brief(value)} is less than 6m, the least docker allows")
    return text


def _cpus(value: object) -> str:
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


def _user(value: object) -> str:
    text = _string(value, '"1000:1000"')
    parts = text.split(":")
    if len(parts) > 2 or not all(re.fullmatch(_USER_PART, part) for part in parts):
        raise Invalid(f"{brief(value)} is not USER[:GROUP], each a name or a number in ASCII digits")
    if any(part.isdigit() and int(part) > 2**32 - 2 for part in parts):
        raise Invalid(f"{brief(value)} has an ID larger than 4294967294")
    return text


def _command(value: object) -> list[str]:
    if isinstance(value, str):
        raise Invalid('the value must be a list of arguments such as ["--workers", "4"]; a string is not split')
    if not isinstance(value, list) or not value:
        raise Invalid('the value must be a non-empty list of arguments such as ["--workers", "4"]')
    for index, argument in enumerate(value):
        # Never shown: an argument may carry a secret.
        if not isinstance(argument, str) or "\0" in argument:
            raise Invalid("each argument must be a string without NUL", f"[{index}]")
    return list(value)


def _init(value: object) -> bool:
    if not isinstance(value, bool):
        raise Invalid("the value must be true or false")
    return value


def _hostname(value: object) -> str:
    text = _string(value, '"app"')
    if len(text) > _HOSTNAME_MAX or not re.fullmatch(_DNS_NAME, text):
        raise Invalid(f"{brief(value)} is not a host name (letters, digits, '-' and '.', up to 64)")
    return text


def _extra_hosts(value: object) -> dict[str, str]:
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


def _labels(value: object) -> dict[str, str]:
    for key, text in _object(value, '{"com.example.team": "web"}').items():
        where = f"[{key!r}]"
        if not re.fullmatch(_LABEL_KEY, key):
            raise Invalid("not a label key (letters, digits, '.', '_', '/' and '-')", where)
        if key.lower().startswith(RESERVED_LABEL_PREFIX):
            raise Invalid(f"labels starting with {RESERVED_LABEL_PREFIX!r} are dockervisor's own", where)
        if not is_env_value(text):
            raise Invalid("the value must be a string without a newline or NUL", where)
    return dict(value)  # type: ignore[call-overload]


def _log(value: object) -> dict[str, str] | None:
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


# The declarations ---------------------------------------------------------------


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


def _flag(name: str) -> Callable[[str, Any], list[str]]:
    """`--name VALUE` when the value is set."""
    return lambda image, value: [name, value] if value is not None else []


def _line(text: str) -> Callable[[Any], list[str]]:
    return lambda value: [text.format(value)] if value else []


def _log_flags(family: str, log: dict[str, str] | None) -> list[str]:
    if log is None:
        return []
    return ["--log-driver", log["driver"]] + [
        word for option, setting in log.items() if option != "driver" for word in ("--log-opt", f"{option}={setting}")
    ]


def _log_lines(log: dict[str, str] | None) -> list[str]:
    """Always a line: where the logs go matters."""
    if log is None:
        return ["logs with the engine's default driver"]
    settings = " ".join(f"{key}={value}" for key, value in log.items() if key != "driver")
    return [f"logs with {log['driver']}" + (f" {settings}" if settings else "")]


def _command_lines(command: list[str]) -> list[str]:
    import shlex

    return [f"passes {shlex.join(command)} after the image"] if command else []


# In the overrides file's documented order.
OPTIONS = (
    Option(
        "network", _network, attribute="networks", unset=list, example=["backend", "monitoring"],
        flags=lambda image, names: ["--network", names[0], "--network-alias", image] if names else [],
        describe=lambda names: [f"joins network {name} (alias: the family's name)" for name in names],
        settings=lambda image, names: {"networks": names, "network_alias": image if names else None},
    ),
    Option("memory", _memory, _flag("--memory"), _line("limits memory to {}"), example="512m"),
    Option("cpus", _cpus, _flag("--cpus"), _line("limits CPUs to {}"), example="1.5"),
    Option("user", _user, _flag("--user"), _line("runs as user {}"), example="1000:1000"),
    Option("command", _command, lambda image, command: [], _command_lines, unset=list, example=["--workers", "4"]),
    Option("init", _init, lambda image, on: ["--init"] if on else [], _line("runs an init process (--init)"),
           unset=bool, example=True),  # fmt: skip
    Option("hostname", _hostname, _flag("--hostname"), _line("sets hostname {}"), example="app"),
    Option(
        "extra_hosts", _extra_hosts, unset=dict, example={"db.local": "10.0.0.5"},
        flags=lambda image, hosts: [w for host, address in hosts.items() for w in ("--add-host", f"{host}:{address}")],
        describe=lambda hosts: [f"resolves {host} to {address}" for host, address in hosts.items()],
    ),
    Option(
        "labels", _labels, unset=dict, example={"com.example.team": "web"},
        flags=lambda image, labels: [w for key, value in labels.items() for w in ("--label", f"{key}={value}")],
        describe=lambda labels: [f"labels {key}={value}" for key, value in labels.items()],
    ),
    Option("log", _log, _log_flags, _log_lines, example={"driver": "json-file", "max-size": "5m"}),
)
# The order their flags go on `docker run` (the command's arguments go after
# the image instead: argv.run puts them there); a unit test checks it names
# every key.
FLAG_ORDER = ("network", "hostname", "extra_hosts", "user", "init", "memory", "cpus", "labels", "log", "command")
KEYS = tuple(option.key for option in OPTIONS)
_BY_KEY = {option.key: option for option in OPTIONS}


def _in_flag_order() -> list[Option]:
    return [_BY_KEY[key] for key in FLAG_ORDER]
