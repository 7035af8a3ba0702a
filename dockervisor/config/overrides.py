"""The optional `dcv-IMAGENAME` file beside the Dockerfile.

    {
      "ports":    {"[ADDRESS:]HOSTPORT": "CONTAINERPORT[/tcp|/udp]"},
      "volumes":  {"HOST_DIR_OR_VOLUME_NAME": "/mount/point[:ro|:rw]"},
      "env":      {"KEY": "VALUE"},
      "env_file": "path/to/file.env",
      "keep":     5,
      "snapshot": true,
      "snapshots_keep": 3,
      ...the run options: see runoptions.py
    }

Everything is checked here, at build time, so that a mistake is reported with
the file and the key at fault before anything is built or recorded.
"""

from __future__ import annotations

import json
import os

from dockervisor.config import datapolicy, notifypolicy, releasepolicy
from dockervisor.core.errors import DockervisorError
from dockervisor.config.mounts import (
    Mount,
    PortMapping,
    check_mount_point,
    is_host_path,
    split_host_binding,
    split_mount_mode,
)
from dockervisor.config.names import ENV_KEY, is_env_value, is_volume_name
from dockervisor.config.digests import digest
from dockervisor.config.retention import DEFAULT_KEEP, parse_keep
from dockervisor.config.runoptions import KEYS as OPTION_KEYS
from dockervisor.config.runoptions import RunOptions, default_options, parse_options

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    from dockervisor.config.swarmpolicy import SwarmPolicy
    from dockervisor.config.updatepolicy import UpdatePolicy

    T = TypeVar("T")

KNOWN_KEYS = (
    "ports", "volumes", "env", "env_file", "keep", *OPTION_KEYS, *datapolicy.KEYS, *notifypolicy.KEYS,
    *releasepolicy.KEYS, "update", "swarm",
)  # fmt: skip
OVERRIDE_PROTOCOLS = ("tcp", "udp")


class Overrides:
    __slots__ = (
        "path", "ports", "mounts", "env", "env_file", "keep", "options", "sha256", "data", "notifications", "release",
        "update", "swarm",
    )  # fmt: skip

    def __init__(self, path: str) -> None:
        self.path = path
        self.ports: list[PortMapping] = []
        self.mounts: list[Mount] = []
        self.env: dict[str, str] = {}
        self.env_file: str | None = None
        self.keep: int | None = DEFAULT_KEEP  # stopped containers a prune keeps; None: all
        self.options: RunOptions = default_options()
        self.sha256: str | None = None  # of the file's bytes, once read
        self.data: datapolicy.DataPolicy | None = None  # snapshot, snapshots_keep
        self.notifications: notifypolicy.NotifyPolicy | None = None  # notify, notify_on
        self.release: releasepolicy.ReleasePolicy | None = None  # release, release_timeout...
        self.update: UpdatePolicy | None = None  # update: cooldown, allow
        self.swarm: SwarmPolicy | None = None  # a Swarm service: replicas, update_order...


def overrides_file_for(dockerfile: str, family: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(dockerfile)), f"dcv-{family}")


def load_overrides(path: str) -> Overrides | None:
    """Parse and check the overrides file; None when there is none. Its digest
    is of the very bytes parsed, so that a later edit is noticed (provenance.py)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise DockervisorError(f"{path}: cannot read the overrides file: {error}") from None
    try:
        document = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
    except _DuplicateKey as duplicate:
        raise DockervisorError(f"{path}: key {duplicate.key!r} appears twice") from None
    except ValueError as error:
        raise DockervisorError(f"{path}: not valid JSON: {error}") from None
    except RecursionError:
        raise DockervisorError(f"{path}: not valid JSON: nested too deeply") from None
    overrides = parse_overrides(document, path)
    overrides.sha256 = digest(raw)
    return overrides


def parse_overrides(document: object, path: str) -> Overrides:
    """Check a parsed overrides document; errors name `path` and the key."""
    if not isinstance(document, dict):
        raise _error(path, None, "the file must hold a JSON object")
    for key in document:
        if key not in KNOWN_KEYS:
            raise _error(path, key, unknown_key(key))
    overrides = Overrides(path)
    base_dir = os.path.dirname(os.path.abspath(path))
    if "ports" in document:
        overrides.ports = _parse_ports(path, _object(path, "ports", document["ports"]))
    if "volumes" in document:
        volumes = _object(path, "volumes", document["volumes"])
        overrides.mounts = _parse_volumes(path, volumes, base_dir)
    if "env" in document:
        overrides.env = _parse_env(path, _object(path, "env", document["env"]))
    if "env_file" in document:
        overrides.env_file = _parse_env_file(path, document["env_file"], base_dir)
    if "keep" in document:
        overrides.keep = _parse_keep(path, document["keep"])
    overrides.options = _parse_run_options(path, document)
    overrides.data = _parse_data_policy(path, document)
    given = {key: document[key] for key in notifypolicy.KEYS if key in document}
    if given:
        try:
            overrides.notifications = notifypolicy.NotifyPolicy.from_dict(given)
        except ValueError as error:  # "notify: [1]: ...": the key leads its reason
            key, _, reason = str(error).partition(": ")
            raise _error(path, key, reason) from None
    overrides.release = _parse_release(path, document)
    if "update" in document:
        from dockervisor.config.updatepolicy import UpdatePolicy

        try:
            overrides.update = UpdatePolicy.from_dict(document["update"])
        except ValueError as error:
            raise _error(path, "update", str(error).removeprefix("update: ")) from None
    if "swarm" in document:
        from dockervisor.config.swarmpolicy import SwarmPolicy

        try:
            overrides.swarm = SwarmPolicy.from_dict(document["swarm"])
        except ValueError as error:
            raise _error(path, "swarm", str(error).removeprefix("swarm: ")) from None
    return overrides


def unknown_key(key: object) -> str:
    """Why a key is refused: a Compose key dockervisor does not carry says so,
    a typo names the closest known key."""
    from dockervisor.config.processoptions import UNSUPPORTED

    if key in UNSUPPORTED:
        return f"a Compose key dockervisor does not carry: {UNSUPPORTED[key]}"  # type: ignore[index]
    import difflib

    close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key ({hint}known keys: {', '.join(KNOWN_KEYS)})"


def _parse_release(path: str, document: dict) -> releasepolicy.ReleasePolicy | None:
    """`release` and its settings; None when the file sets none of them."""
    given = {key: document[key] for key in releasepolicy.KEYS if key in document}
    if not given:
        return None
    try:
        return releasepolicy.ReleasePolicy.from_dict(given)
    except ValueError as error:  # "release_when: ...": the key leads its reason
        key, _, reason = str(error).partition(": ")
        raise _error(path, key, reason) from None


def _parse_run_options(path: str, document: dict) -> RunOptions:
    """memory, cpus, user, command, log...: runoptions.py checks them, for a
    state file read back as well."""
    given = {key: value for key, value in document.items() if key in OPTION_KEYS}
    return parse_options(given, lambda key, reason: _error(path, key, reason))


def _parse_ports(path: str, ports: dict) -> list[PortMapping]:
    mappings = []
    for host, container in ports.items():
        where = f"ports[{host!r}]"
        address, host = _checked(path, where, split_host_binding, host)
        host_port = _port_number(path, where, host, "host port")
        if isinstance(container, int) and not isinstance(container, bool):
            container = str(container)
        if not isinstance(container, str):
            raise _error(path, where, 'the value must be "CONTAINERPORT[/tcp|/udp]"')
        number, _, protocol = container.partition("/")
        protocol = protocol or "tcp"
        if protocol not in OVERRIDE_PROTOCOLS:
            raise _error(path, where, f"unknown protocol {protocol!r} (use tcp or udp)")
        container_port = _port_number(path, where, number, "container port")
        mappings.append(PortMapping(host_port, container_port, protocol, address))
    return mappings


def _port_number(path: str, where: str, text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise _error(path, where, f"{what} {text!r} is not a number from 1 to 65535")
    return int(text)


def _parse_volumes(path: str, volumes: dict, base_dir: str) -> list[Mount]:
    mounts = []
    targets: set[str] = set()
    for source, target in volumes.items():
        where = f"volumes[{source!r}]"
        if not isinstance(target, str):
            raise _error(path, where, 'the value must be an absolute mount point such as "/data"')
        target, read_only = _checked(path, where, split_mount_mode, target)
        check_mount_point(target, where=f"{path}: {where}")
        if target in targets:
            raise _error(path, where, f"mount point {target} is given twice")
        targets.add(target)
        mounts.append(Mount(_volume_source(path, where, source, base_dir), target, read_only))
    return mounts


def _volume_source(path: str, where: str, source: str, base_dir: str) -> str:
    """A bare name is a docker volume; anything with a '/' is a host directory."""
    if "/" not in source:
        if not is_volume_name(source):
            raise _error(
                path,
                where,
                "not a valid volume name; write a host directory as ./dir or /abs/dir",
            )
        return source
    directory = os.path.normpath(os.path.join(base_dir, source))
    if not is_host_path(directory):
        raise _error(path, where, "a host directory cannot contain ':', ',', a newline or NUL")
    if not os.path.isdir(directory):
        raise _error(path, where, f"host directory {directory} does not exist")
    return directory


def _parse_env(path: str, env: dict) -> dict[str, str]:
    for key, value in env.items():
        where = f"env[{key!r}]"
        if not ENV_KEY.fullmatch(key):
            raise _error(path, where, "not a valid environment variable name")
        # Never echo the value: it may be a secret.
        if not isinstance(value, str):
            raise _error(path, where, "the value must be a string")
        if not is_env_value(value):
            raise _error(path, where, "the value cannot contain a newline or NUL")
    return dict(env)


def _parse_env_file(path: str, value: object, base_dir: str) -> str:
    if not isinstance(value, str) or not value:
        raise _error(path, "env_file", "the value must be a path to a file")
    env_file = os.path.normpath(os.path.join(base_dir, value))
    if not os.path.isfile(env_file) or not os.access(env_file, os.R_OK):
        raise _error(path, "env_file", f"{env_file} is not a readable file")
    return env_file


def _parse_keep(path: str, value: object) -> int | None:
    """As JSON types it: 3, not "3" (a string is a mistake like any other type's)."""
    if isinstance(value, str) and value != "all":
        raise _error(path, "keep", 'must be a whole number from 1 up (3, not a string such as "3"), or "all"')
    try:
        return parse_keep(value)
    except ValueError as error:
        raise _error(path, "keep", str(error)) from None


def _checked(path: str, where: str, split: Callable[[str], T], text: str) -> T:
    """`split(text)`, its ValueError turned into an error naming the file and the key."""
    try:
        return split(text)
    except ValueError as error:
        raise _error(path, where, str(error)) from None


def _object(path: str, key: str, value: object) -> dict:
    if not isinstance(value, dict):
        raise _error(path, key, "the value must be a JSON object")
    return value


def _error(path: str, key: str | None, message: str) -> DockervisorError:
    return DockervisorError(f"{path}: {key}: {message}" if key else f"{path}: {message}")


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    document: dict = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKey(key)
        document[key] = value
    return document


# The data policy (snapshots at upgrade, and how many to keep) -----------------


def _parse_data_policy(path: str, document: dict) -> datapolicy.DataPolicy | None:
    """`snapshot` and `snapshots_keep`; None when the file sets neither."""
    if not any(key in document for key in datapolicy.KEYS):
        return None
    policy = datapolicy.DataPolicy()
    for key in datapolicy.KEYS:
        if key in document:
            problem = datapolicy.problem_with(key, document[key])
            if problem:
                raise _error(path, key, problem)
    policy.snapshot = document.get("snapshot", policy.snapshot)
    policy.keep = document.get("snapshots_keep", policy.keep)
    return policy
