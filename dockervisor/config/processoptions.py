"""The rest of docker run's options a single-container service needs: its
entry point, restart policy, stop, working directory, limits, capabilities,
devices, temporary file systems, DNS and kernel settings. Names and value
forms follow the Compose specification, so a Compose service's keys can be
copied into dcv-IMAGENAME:

    {
      "entrypoint":   ["/init", "--verbose"],          (or "/init --verbose"; [] clears it)
      "restart":      "on-failure:5",                  (unless-stopped, always, on-failure[:N], no)
      "read_only":    true,
      "tmpfs":        ["/run:size=64m", "/tmp"],
      "cap_drop":     ["ALL"],  "cap_add": ["NET_BIND_SERVICE"],
      "devices":      ["/dev/ttyUSB0:/dev/ttyUSB0:rw"],
      "stop_signal":  "SIGQUIT",  "stop_timeout": "30s",
      "working_dir":  "/srv/app",
      "ulimits":      {"nofile": {"soft": 1024, "hard": 4096}, "nproc": 512},
      "dns":          ["10.0.0.2"],  "dns_search": ["corp.example"],
      "sysctls":      {"net.core.somaxconn": 1024},
      "security_opt": ["no-new-privileges:true"],
      "shm_size":     "256m",  "pids_limit": 200,  "group_add": ["audio", "1001"],
      "gpus":         "all",  "ipc": "shareable",
      "pid":          "host",  "privileged": true,  "privileged_ok": true
    }

`privileged`, `"pid": "host"` and `"ipc": "host"` hand the container the
host: each is refused unless `"privileged_ok": true` stands beside it.

Each checker takes the value as JSON gives it and returns it normalised, or
raises Invalid naming what is wrong (never more of the value than `brief`).
Keys Compose has that dockervisor does not carry are refused by name
(UNSUPPORTED), never ignored.
"""

from __future__ import annotations

import re

from dockervisor.config.mounts import brief, is_absolute_path, normal_address
from dockervisor.config.optiontable import Option, flag, line
from dockervisor.config.hostaccess import (
    a_list,
    capabilities,
    devices,
    gpus,
    ipc,
    pid,
    security_opt,
    strings,
    sysctls,
)
from dockervisor.config.optionvalues import Invalid
from dockervisor.config.optionvalues import init as true_or_false

# Compose keys of a service that dockervisor refuses with this reason.
UNSUPPORTED = {
    "network_mode": "use \"network\" (user-defined networks)",
    "container_name": "dockervisor names the family's containers itself",
    "image": "the family's image is what `build` or `pull` records",
    "build": "run `dockervisor build IMAGENAME PATH`",
    "deploy": "Swarm deployment settings are not supported",
    "depends_on": "one family is one service",
    "links": "use a shared \"network\": families reach each other by name",
    "stop_grace_period": "write it as \"stop_timeout\" (seconds, or \"30s\")",
}
_SIGNAL = r"SIG[A-Z][A-Z0-9+-]{1,10}|[A-Z][A-Z0-9]{1,10}|[0-9]{1,2}"
_SIZE = r"([0-9]{1,15})([bkmgBKMG]?)"
_ULIMITS = ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss",
            "rtprio", "rttime", "sigpending", "stack")  # fmt: skip
_TMPFS_FLAGS = ("rw", "ro", "exec", "noexec", "suid", "nosuid", "dev", "nodev")
_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}


def entrypoint(value: object) -> list[str]:
    """A list (the program, then its first arguments), a string split into
    words as Compose does, or [] to clear the image's ENTRYPOINT."""
    if isinstance(value, str):
        import shlex

        try:
            value = shlex.split(value)
        except ValueError as error:
            raise Invalid(f"the string cannot be split into words ({error})") from None
        if not value:
            raise Invalid('the value must be a program such as "/init", a list, or [] to clear it')
    if not isinstance(value, list):
        raise Invalid('the value must be a list such as ["/init", "--verbose"], a string, or []')
    for index, word in enumerate(value):
        if not isinstance(word, str) or "\0" in word or (index == 0 and not word):
            raise Invalid("each word must be a string without NUL, the program not empty", f"[{index}]")
    return list(value)


def _entrypoint_flags(family: str, words: list[str] | None) -> list[str]:
    """The program; its other words go after the image (engine/argv.py)."""
    if words is None:
        return []
    return ["--entrypoint", words[0] if words else ""]


def _entrypoint_lines(words: list[str] | None) -> list[str]:
    import shlex

    if words is None:
        return []
    return [f"runs entry point {shlex.join(words)}" if words else "clears the image's entry point"]


def restart(value: object) -> str:
    text = value if isinstance(value, str) else ""
    policy, _, count = text.partition(":")
    if policy in ("no", "always", "unless-stopped") and not count:
        return text
    if policy == "on-failure" and (not count or re.fullmatch(r"[1-9][0-9]{0,5}", count)):
        return text
    raise Invalid(f"{brief(value)} is not a restart policy: unless-stopped, always, on-failure[:N] or no")


def stop_signal(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(_SIGNAL, value):
        raise Invalid(f'{brief(value)} is not a signal such as "SIGQUIT" or "15"')
    return value


# dockervisor waits up to two minutes for a `docker stop` (engine/executor.py
# CHANGE_TIMEOUT): a stop time up to this leaves docker's own kill inside it.
MOST_STOP_SECONDS = 100


def stop_timeout(value: object) -> int:
    """Seconds: a number, "30s" or "1m" (--from-compose turns Compose's
    "1m30s" into seconds); at most MOST_STOP_SECONDS."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    match = re.fullmatch(r"([0-9]{1,5})([sm]?)", value) if isinstance(value, str) else None
    seconds = int(match[1]) * _DURATION_UNITS[match[2]] if match else -1
    if not 0 <= seconds <= MOST_STOP_SECONDS:
        raise Invalid(f'{brief(value)} is not a stop time such as "30s" (at most {MOST_STOP_SECONDS}s, which '
                      "dockervisor's own wait for a stop leaves room for)")  # fmt: skip
    return seconds


def working_dir(value: object) -> str:
    if not isinstance(value, str) or not is_absolute_path(value) or any(c in value for c in "\n\0"):
        raise Invalid(f'{brief(value)} is not an absolute directory such as "/srv/app"')
    return value


read_only = true_or_false


def tmpfs(value: object) -> list[str]:
    """PATH[:OPTIONS], OPTIONS size=64m, mode=1777, uid=, gid= and the mount flags."""
    specs = [value] if isinstance(value, str) else strings(value, '["/run:size=64m"]')
    for index, spec in enumerate(specs):
        where = f"[{index}]" if isinstance(value, list) else ""
        path, _, options = spec.partition(":")
        if not is_absolute_path(path) or "," in path:
            raise Invalid(f"{brief(spec)} does not start with an absolute path", where)
        for option in options.split(",") if options else []:
            name, equals, setting = option.partition("=")
            valid = (name in _TMPFS_FLAGS and not equals) or (
                (name == "size" and re.fullmatch(_SIZE, setting))
                or (name == "mode" and re.fullmatch(r"[0-7]{3,4}", setting))
                or (name in ("uid", "gid") and re.fullmatch(r"[0-9]{1,10}", setting))
            )
            if not valid:
                raise Invalid(f"{brief(option)} is not a tmpfs option (size=, mode=, uid=, gid=, rw, ro, noexec...)",
                              where)  # fmt: skip
    return specs


def ulimits(value: object) -> dict[str, object]:
    """{"nofile": 1024} or {"nofile": {"soft": 1024, "hard": 4096}}, kept in
    that form (a state file read back is checked the same way)."""
    if not isinstance(value, dict) or not value:
        raise Invalid('the value must be an object such as {"nofile": {"soft": 1024, "hard": 4096}}')
    for name, limit in value.items():
        where = f"[{name!r}]"
        if name not in _ULIMITS:
            raise Invalid(f"{brief(name)} is not a limit ({', '.join(_ULIMITS)})", where)
        if isinstance(limit, dict) and set(limit) == {"soft", "hard"}:
            soft, hard = _limit(limit["soft"], where), _limit(limit["hard"], where)
            if hard != -1 and (soft == -1 or soft > hard):
                raise Invalid("soft is above hard", where)
        elif isinstance(limit, dict):
            raise Invalid("a limit object has soft and hard", where)
        else:
            _limit(limit, where)
    return dict(value)


def _ulimit_flags(family: str, limits: dict[str, object]) -> list[str]:
    """`--ulimit nofile=1024:4096` (soft:hard), `--ulimit nproc=512` (both)."""
    flags = []
    for name, limit in limits.items():
        setting = f"{limit['soft']}:{limit['hard']}" if isinstance(limit, dict) else str(limit)
        flags += ["--ulimit", f"{name}={setting}"]
    return flags


def _limit(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not -1 <= value < 2**63:
        raise Invalid(f"{brief(value)} is not a whole number (-1: unlimited)", where)
    return value


def dns(value: object) -> list[str]:
    servers = [value] if isinstance(value, str) else strings(value, '["10.0.0.2"]')
    normalised = []
    for index, server in enumerate(servers):
        address = normal_address(server)
        if address is None:
            raise Invalid(f"{brief(server)} is not an IP address", f"[{index}]" if isinstance(value, list) else "")
        normalised.append(address)
    return normalised


def dns_search(value: object) -> list[str]:
    domains = [value] if isinstance(value, str) else strings(value, '["corp.example"]')
    for index, domain in enumerate(domains):
        if len(domain) > 253 or not re.fullmatch(_DOMAIN, domain):
            raise Invalid(f"{brief(domain)} is not a domain name", f"[{index}]" if isinstance(value, list) else "")
    return domains


def shm_size(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not re.fullmatch(_SIZE, value) or int(re.fullmatch(_SIZE, value)[1]) == 0:
        raise Invalid(f'{brief(value)} is not a size such as "256m" (ASCII digits, then b, k, m or g)')
    return value


def pids_limit(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not (value == -1 or 0 < value < 2**31):
        raise Invalid(f"{brief(value)} is not a number of processes from 1 (-1: unlimited)")
    return value


def group_add(value: object) -> list[str]:
    groups = [str(g) if isinstance(g, int) and not isinstance(g, bool) else g for g in a_list(value, '["audio"]')]
    for index, group in enumerate(groups):
        if not isinstance(group, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}|[0-9]{1,10}", group):
            raise Invalid(f"{brief(group)} is not a group name or number", f"[{index}]")
    return groups


def _each(name: str) -> object:
    """`--name ITEM` for each item of a list."""
    return lambda family, items: [word for item in items for word in (name, item)]


def _pairs(name: str) -> object:
    """`--name KEY=VALUE` for each pair of an object."""
    return lambda family, pairs: [word for key, item in pairs.items() for word in (name, f"{key}={item}")]


def _listed(text: str) -> object:
    return lambda items: [text.format(", ".join(items))] if items else []


def _number(name: str) -> object:
    return lambda family, value: [name, str(value)] if value is not None else []


# In the overrides file's documented order (they follow runoptions.OPTIONS').
OPTIONS = (
    Option("entrypoint", entrypoint, _entrypoint_flags, _entrypoint_lines, example=["/bin/sh", "-c"]),
    # Not a flag of its own: engine/argv.py puts it where the default goes.
    Option("restart", restart, lambda family, policy: [], line("restarts {} (docker's restart policy)"),
           example="on-failure:5", settings=lambda family, policy: {"restart": policy or "unless-stopped"}),  # fmt: skip
    Option("read_only", read_only, lambda family, on: ["--read-only"] if on else [],
           line("runs with a read-only root file system"), unset=bool, example=True),  # fmt: skip
    Option("tmpfs", tmpfs, _each("--tmpfs"), _listed("mounts a tmpfs at {}"), unset=list, example=["/run:size=64m"]),
    Option("cap_add", capabilities, _each("--cap-add"), _listed("adds capabilities {}"), unset=list,
           example=["NET_BIND_SERVICE"]),  # fmt: skip
    Option("cap_drop", capabilities, _each("--cap-drop"), _listed("drops capabilities {}"), unset=list,
           example=["ALL"]),  # fmt: skip
    Option("devices", devices, _each("--device"), _listed("gets devices {}"), unset=list, example=["/dev/null:/dev/x"]),
    Option("security_opt", security_opt, _each("--security-opt"), _listed("security options {}"), unset=list,
           example=["no-new-privileges:true"]),  # fmt: skip
    Option("stop_signal", stop_signal, flag("--stop-signal"), line("is stopped with {}"), example="SIGQUIT"),
    Option("stop_timeout", stop_timeout, _number("--stop-timeout"),
           lambda seconds: [] if seconds is None else [f"is given {seconds}s to stop before it is killed"],
           example=30),  # fmt: skip
    Option("working_dir", working_dir, flag("--workdir"), line("works in {}"), example="/srv/app"),
    Option("ulimits", ulimits, _ulimit_flags, lambda limits: [f"limits {w}" for w in _ulimit_flags("", limits)[1::2]],
           unset=dict, example={"nofile": {"soft": 1024, "hard": 4096}}),  # fmt: skip
    Option("shm_size", shm_size, flag("--shm-size"), line("has {} of /dev/shm"), example="256m"),
    Option("pids_limit", pids_limit, _number("--pids-limit"),
           lambda limit: [] if limit is None else [f"runs at most {limit} processes"], example=200),  # fmt: skip
    Option("group_add", group_add, _each("--group-add"), _listed("also in groups {}"), unset=list, example=["audio"]),
    Option("dns", dns, _each("--dns"), _listed("resolves names with {}"), unset=list, example=["10.0.0.2"]),
    Option("dns_search", dns_search, _each("--dns-search"), _listed("searches domains {}"), unset=list,
           example=["corp.example"]),  # fmt: skip
    Option("sysctls", sysctls, _pairs("--sysctl"), lambda s: [f"sets {k}={v}" for k, v in s.items()], unset=dict,
           example={"net.core.somaxconn": 1024}),  # fmt: skip
    Option("gpus", gpus, flag("--gpus"), line("gets GPUs: {}"), example="all"),
    Option("ipc", ipc, flag("--ipc"), line("IPC mode {}"), example="shareable"),
    Option("pid", pid, flag("--pid"), line("shares the host's PID namespace"), example="host"),
    Option("privileged", true_or_false, lambda family, on: ["--privileged"] if on else [],
           line("runs privileged: every device and capability of the host"), unset=bool, example=True),  # fmt: skip
    # The admin's word that the keys above may hand the container the host.
    Option("privileged_ok", true_or_false, lambda family, on: [], line("may share the host (privileged_ok)"),
           unset=bool, example=True, fingerprint=False),  # fmt: skip
)
KEYS = tuple(option.key for option in OPTIONS)
