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

from dockervisor.config import healthcheck as health
from dockervisor.config import hostaccess, processoptions
from dockervisor.config.optiontable import Option, flag, line
from dockervisor.config.optionvalues import (  # DEFAULT_LOG and Invalid: imported from here too
    DEFAULT_LOG,
    Invalid,
    command,
    cpus,
    extra_hosts,
    hostname,
    init,
    labels,
    log,
    memory,
    network,
    user,
)

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from collections.abc import Callable


class RunOptions:
    """The parsed options, one attribute per declared key (`networks` for
    "network"); unset ones are None, empty or false. `log` is {"driver": ...,
    OPTION: VALUE...}, or None for the engine's default driver."""

    __slots__ = (
        "networks", "memory", "cpus", "user", "command", "init", "hostname", "extra_hosts", "labels", "log",
        "healthcheck", "probe", "probation", "promote", *processoptions.KEYS,
    )  # fmt: skip

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

    def flags(self, family: str, skip: tuple[str, ...] = ()) -> list[str]:
        """The `docker run` flags of the options that are set, in FLAG_ORDER;
        none of the keys in `skip` (a one-off container's, see engine/oneoffs.py)."""
        return [
            word for option in _in_flag_order() if option.key not in skip
            for word in option.flags(family, getattr(self, option.attribute))
        ]  # fmt: skip

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
    options = RunOptions(**values)
    sharing = hostaccess.needs_privileged_ok(options)
    if sharing is not None:
        raise fail(sharing, 'hands the container the host: set "privileged_ok": true beside it if that is meant')
    return options


# The declarations ---------------------------------------------------------------


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
        "network", network, attribute="networks", unset=list, example=["backend", "monitoring"],
        flags=lambda image, names: ["--network", names[0], "--network-alias", image] if names else [],
        describe=lambda names: [f"joins network {name} (alias: the family's name)" for name in names],
        settings=lambda image, names: {"networks": names, "network_alias": image if names else None},
    ),
    Option("memory", memory, flag("--memory"), line("limits memory to {}"), example="512m"),
    Option("cpus", cpus, flag("--cpus"), line("limits CPUs to {}"), example="1.5"),
    Option("user", user, flag("--user"), line("runs as user {}"), example="1000:1000"),
    Option("command", command, lambda image, command: [], _command_lines, unset=list, example=["--workers", "4"]),
    Option("init", init, lambda image, on: ["--init"] if on else [], line("runs an init process (--init)"),
           unset=bool, example=True),  # fmt: skip
    Option("hostname", hostname, flag("--hostname"), line("sets hostname {}"), example="app"),
    Option(
        "extra_hosts", extra_hosts, unset=dict, example={"db.local": "10.0.0.5"},
        flags=lambda image, hosts: [w for host, address in hosts.items() for w in ("--add-host", f"{host}:{address}")],
        describe=lambda hosts: [f"resolves {host} to {address}" for host, address in hosts.items()],
    ),
    Option(
        "labels", labels, unset=dict, example={"com.example.team": "web"},
        flags=lambda image, labels: [w for key, value in labels.items() for w in ("--label", f"{key}={value}")],
        describe=lambda labels: [f"labels {key}={value}" for key, value in labels.items()],
    ),
    Option("log", log, _log_flags, _log_lines, example={"driver": "json-file", "max-size": "5m"}),
    Option(
        "healthcheck", health.healthcheck, health.flags, health.describe,
        example={"test": ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"], "interval": "10s",
                 "timeout": "3s", "retries": 3, "start_period": "5s"},
    ),
    # Checked by dockervisor from the host while it waits: the container runs the same without it.
    Option("probe", health.probe, lambda family, url: [], line("is up once {} answers (probed by dockervisor)"),
           example="http://127.0.0.1:8080/health", fingerprint=False),  # fmt: skip
    # How `start new` watches and promotes: dockervisor's own, the container is the same.
    Option("probation", health.duration, lambda family, seconds: [],
           line("start new watches it for {}s after it is up, and rolls back if it fails"),
           example=300, fingerprint=False),  # fmt: skip
    Option("promote", health.promote, lambda family, on: [], line("start new marks it stable once it has proven itself"),
           unset=bool, example=True, fingerprint=False),  # fmt: skip
    *processoptions.OPTIONS,
)
# The order their flags go on `docker run` (the command's arguments go after
# the image instead: argv.run puts them there); a unit test checks it names
# every key.
FLAG_ORDER = (
    "network", "hostname", "extra_hosts", "dns", "dns_search", "user", "group_add", "working_dir", "entrypoint",
    "init", "memory", "cpus", "pids_limit", "shm_size", "ulimits", "read_only", "tmpfs", "devices", "cap_add",
    "cap_drop", "security_opt", "sysctls", "stop_signal", "stop_timeout", "healthcheck", "labels", "log",
    "gpus", "ipc", "pid", "privileged", "command", "restart", "privileged_ok", "probe", "probation", "promote",
)  # fmt: skip
KEYS = tuple(option.key for option in OPTIONS)
_BY_KEY = {option.key: option for option in OPTIONS}


def _in_flag_order() -> list[Option]:
    return [_BY_KEY[key] for key in FLAG_ORDER]
