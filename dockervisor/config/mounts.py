"""Published ports and mounts, and the checks they are held to.

Both the overrides file (at build time) and a state file read back (at every
later command) build these, so the rules live here, below both: overrides.py
and runconfig.py each import this module and neither imports the other.
"""

from __future__ import annotations

import posixpath

from dockervisor.core.errors import DockervisorError

PROTOCOLS = ("tcp", "udp", "sctp")


class PortMapping:
    """Host port -> container port, as `docker run -p [ADDRESS:]HOST:CONTAINER/PROTOCOL`;
    `address` (an IP address of the host) limits where it is reachable."""

    __slots__ = ("host", "container", "protocol", "address")

    def __init__(
        self, host: int, container: int, protocol: str = "tcp", address: str | None = None
    ) -> None:
        self.host = host
        self.container = container
        self.protocol = protocol
        self.address = address

    def host_binding(self) -> str:
        """`8080`, `127.0.0.1:8080` or `[::1]:8080`: where the host listens."""
        if self.address is None:
            return str(self.host)
        address = f"[{self.address}]" if ":" in str(self.address) else self.address
        return f"{address}:{self.host}"

    def flag_value(self) -> str:
        return f"{self.host_binding()}:{self.container}/{self.protocol}"

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"host": self.host, "container": self.container, "protocol": self.protocol}
        if self.address is not None:  # absent, not null: older records stay as they were
            data["address"] = self.address
        return data

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PortMapping) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"PortMapping({self.flag_value()})"


class Mount:
    """A named volume or a host directory mounted at `target`, read-write unless `read_only`."""

    __slots__ = ("source", "target", "read_only")

    def __init__(self, source: str, target: str, read_only: bool = False) -> None:
        self.source = source
        self.target = target
        self.read_only = read_only

    @property
    def is_host_directory(self) -> bool:
        return self.source.startswith("/")

    def flag_value(self) -> str:
        return f"{self.source}:{self.target}" + (":ro" if self.read_only else "")

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"source": self.source, "target": self.target}
        if self.read_only:  # absent when false: older records stay as they were
            data["read_only"] = True
        return data

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


# Addresses that mean "every address of the host", as no address at all does.
_ANY_ADDRESS = (None, "0.0.0.0", "::")


def shares_host_port(one: PortMapping, other: PortMapping) -> bool:
    """Whether two mappings would listen on the same host port and address."""
    if (one.host, one.protocol) != (other.host, other.protocol):
        return False
    return one.address == other.address or one.address in _ANY_ADDRESS or other.address in _ANY_ADDRESS


def normal_address(text: object) -> str | None:
    """An IP address in its normal form (`::1`, `127.0.0.1`), or None if `text`
    is not one: ASCII digits only, no zone (`%eth0`), which docker cannot bind."""
    if not isinstance(text, str) or not text.isascii() or "%" in text:
        return None
    import ipaddress  # only when an address is given: it costs start-up time

    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def split_host_binding(text: str) -> tuple[str | None, str]:
    """`8080`, `127.0.0.1:8080` or `[::1]:8080` -> (address or None, port text).
    ValueError says what is wrong with the address; the port is the caller's."""
    if text.startswith("["):
        inside, separator, port = text[1:].partition("]:")
        if not separator:
            raise ValueError("write an IPv6 address as [ADDRESS]:PORT")
        version = 6
    elif ":" in text:
        inside, _, port = text.rpartition(":")
        if ":" in inside:
            raise ValueError("write an IPv6 address in brackets: [ADDRESS]:PORT")
        version = 4
    else:
        return None, text
    address = normal_address(inside)
    if address is None or (":" in address) != (version == 6):
        raise ValueError(f"{brief(inside)} is not an IPv{version} address of the host")
    return address, port


MOUNT_MODES = {"rw": False, "ro": True}


def split_mount_mode(text: str) -> tuple[str, bool]:
    """`/etc/app`, `/etc/app:rw` or `/etc/app:ro` -> (mount point, read-only).
    ValueError for any other mode; the mount point is the caller's to check."""
    target, separator, mode = text.partition(":")
    if not separator:
        return target, False
    if mode not in MOUNT_MODES:
        raise ValueError(f"unknown mount mode {brief(mode)} (use ro or rw)")
    return target, MOUNT_MODES[mode]
