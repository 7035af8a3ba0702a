"""Published ports and mounts, and the checks they are held to.

Both the overrides file (at build time) and a state file read back (at every
later command) build these, so the rules live here, below both: overrides.py
and runconfig.py each import this module and neither imports the other.
"""

from __future__ import annotations

import posixpath

from dockervisor.errors import DockervisorError

PROTOCOLS = ("tcp", "udp", "sctp")


class PortMapping:
    """Host port -> container port, as `docker run -p HOST:CONTAINER/PROTOCOL`."""

    __slots__ = ("host", "container", "protocol")

    def __init__(self, host: int, container: int, protocol: str = "tcp") -> None:
        self.host = host
        self.container = container
        self.protocol = protocol

    def flag_value(self) -> str:
        return f"{self.host}:{self.container}/{self.protocol}"

    def to_dict(self) -> dict[str, object]:
        return {"host": self.host, "container": self.container, "protocol": self.protocol}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PortMapping) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"PortMapping({self.flag_value()})"


class Mount:
    """A named volume or a host directory mounted at `target`."""

    __slots__ = ("source", "target")

    def __init__(self, source: str, target: str) -> None:
        self.source = source
        self.target = target

    @property
    def is_host_directory(self) -> bool:
        return self.source.startswith("/")

    def flag_value(self) -> str:
        return f"{self.source}:{self.target}"

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source, "target": self.target}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mount) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Mount({self.flag_value()})"


def is_port_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def is_absolute_path(path: str) -> bool:
    """Absolute and normalized, as build records every path, and free of NUL,
    which no command line can carry."""
    return path.startswith("/") and posixpath.normpath(path) == path and "\0" not in path


def is_host_path(path: str) -> bool:
    """A path docker's -v syntax can carry: no ':' or ',' (nor a newline)."""
    return is_absolute_path(path) and not any(character in path for character in ":,\n")


def is_mount_point(target: str) -> bool:
    return target != "/" and is_host_path(target)


def brief(value: object) -> str:
    """A value read from a file, for a one-line message: quoted, and cut if long."""
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def check_mount_point(target: str, where: str) -> None:
    """Docker's -v syntax cannot carry ':' or ',' and needs an absolute path."""
    if not is_mount_point(target):
        raise DockervisorError(
            f"{where}: {target!r} is not a usable mount point (absolute, normalized, "
            "not '/', without ':' or ',')"
        )
