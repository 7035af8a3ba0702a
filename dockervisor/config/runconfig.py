"""The family's run configuration: published ports, mounts and environment.

It is resolved once, at build time, from the built image's own config (which
already accounts for ARG/ENV, JSON forms, multi-stage builds and base images)
and the optional `dcv-IMAGENAME` overrides, then recorded in the state, so that
every later `start new` reproduces it from any directory.
"""

from __future__ import annotations

import posixpath

from dockervisor.core.errors import DockervisorError
from dockervisor.config.mounts import (  # PortMapping, Mount and brief: imported from here too
    PROTOCOLS,
    Mount,
    PortMapping,
    brief,
    check_mount_point,
    is_absolute_path,
    is_host_path,
    is_mount_point,
    is_port_number,
    normal_address,
    shares_host_port,
)
from dockervisor.config.names import ENV_KEY, is_env_value, is_volume_name, volume_name_for
from dockervisor.config.runoptions import RunOptions, default_options, parse_options
from dockervisor.config.retention import DEFAULT_KEEP, keep_to_json, parse_keep

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.config.overrides import Overrides


class RunConfig:
    __slots__ = ("ports", "mounts", "env", "env_file", "options", "keep")

    def __init__(
        self,
        ports: list[PortMapping],
        mounts: list[Mount],
        env: dict[str, str] | None = None,
        env_file: str | None = None,
        options: RunOptions | None = None,
        keep: int | None = DEFAULT_KEEP,
    ) -> None:
        self.ports = ports
        self.mounts = mounts
        self.env = env or {}
        self.env_file = env_file
        self.options = options or RunOptions()  # limits, user, command, log...: runoptions.py
        self.keep = keep  # how many stopped containers a prune keeps; None: all

    def to_dict(self) -> dict[str, object]:
        return {
            "ports": [port.to_dict() for port in self.ports],
            "mounts": [mount.to_dict() for mount in self.mounts],
            "env": dict(self.env),
            "env_file": self.env_file,
            "options": self.options.to_dict(),
            "keep": keep_to_json(self.keep),
        }

    @classmethod
    def from_dict(cls, data: object) -> RunConfig:
        """Read back what to_dict wrote, checked as at build time; ValueError says what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("run_config is not an object")
        try:
            ports = [
                PortMapping(p["host"], p["container"], p["protocol"], p.get("address"))
                for p in data["ports"]
            ]
            mounts = [Mount(m["source"], m["target"], m.get("read_only", False)) for m in data["mounts"]]
            options = _options_from_dict(data.get("options", {}))
            config = cls(ports, mounts, dict(data["env"].items()), data["env_file"], options)
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"run_config is malformed ({error!r})") from None
        # Absent from state files written before retention existed: the default.
        try:
            config.keep = parse_keep(data.get("keep", DEFAULT_KEEP))
        except ValueError as error:
            raise ValueError(f"run_config keep {error}") from None
        problem = config.problem()
        if problem:
            raise ValueError(f"run_config: {problem}")
        return config

    def problem(self) -> str | None:
        """What would make `docker run` of this configuration wrong, or None.

        The same rules the image and the overrides are held to at build time,
        for a configuration read back from a file anyone could have edited."""
        published: list[PortMapping] = []
        for port in self.ports:
            if not (is_port_number(port.host) and is_port_number(port.container)):
                shown = f"{brief(port.host)}:{brief(port.container)}"
                return f"port {shown} is not two numbers from 1 to 65535"
            if port.protocol not in PROTOCOLS:
                return f"unknown protocol {brief(port.protocol)}"
            if port.address is not None and normal_address(port.address) != port.address:
                return f"host address {brief(port.address)} is not an IP address in normal form"
            if any(shares_host_port(port, other) for other in published):
                return f"host port {port.host_binding()}/{port.protocol} is published twice"
            published.append(port)
        targets: set[str] = set()
        volumes: set[str] = set()
        for mount in self.mounts:
            source, target = mount.source, mount.target
            if not isinstance(target, str) or not is_mount_point(target):
                return f"{brief(target)} is not a usable mount point"
            if not isinstance(source, str) or not (is_volume_name(source) or is_host_path(source)):
                return f"mount source {brief(source)} is neither a volume name nor a usable host path"
            if not isinstance(mount.read_only, bool):
                return f"read_only of {brief(target)} is not true or false"
            if target in targets or source in volumes:
                return f"{brief(target if target in targets else source)} is mounted twice"
            targets.add(target)
            if not mount.is_host_directory:
                volumes.add(source)
        for key, value in self.env.items():
            if not isinstance(key, str) or not ENV_KEY.fullmatch(key):
                return f"env: {brief(key)} is not a valid environment variable name"
            if not is_env_value(value):  # never show the value: it may be a secret
                return f"env[{key!r}]: the value must be a string without a newline or NUL"
        env_file = self.env_file
        if env_file is not None and not (isinstance(env_file, str) and is_absolute_path(env_file)):
            return f"env_file {brief(env_file)} is not an absolute, normalized path"
        return None


def _options_from_dict(data: object) -> RunOptions:
    """Checked by the parser that checks the overrides file; a record from
    before run options has none, and gets what a build without them records."""
    if not isinstance(data, dict):
        raise ValueError("run_config: options is not an object")
    return parse_options(data, lambda key, reason: ValueError(f"run_config: options: {key}: {reason}"))


def resolve(family: str, image_config: dict, overrides: Overrides | None) -> RunConfig:
    """Merge what the image declares with the overrides file.

    An override replaces the default for its container port or mount point;
    ports and mount points the image does not declare are added.
    """
    ports = _resolve_ports(image_config.get("ExposedPorts") or {}, overrides)
    mounts = _resolve_mounts(family, image_config.get("Volumes") or {}, overrides)
    if overrides is None:
        return RunConfig(ports, mounts, options=default_options())
    return RunConfig(
        ports, mounts, dict(overrides.env), overrides.env_file, overrides.options, overrides.keep
    )


def _resolve_ports(exposed: dict, overrides: Overrides | None) -> list[PortMapping]:
    overridden = list(overrides.ports) if overrides else []
    replaced = {(p.container, p.protocol) for p in overridden}
    ports = []
    for spec in exposed:
        container, protocol = parse_exposed_port(spec)
        if (container, protocol) not in replaced:
            ports.append(PortMapping(container, container, protocol))
    ports.extend(overridden)
    ports.sort(key=lambda p: (p.container, p.protocol, p.host, p.address or ""))
    _refuse_shared_host_ports(ports, overrides)
    return ports


def parse_exposed_port(spec: str) -> tuple[int, str]:
    """`8080/tcp` -> (8080, "tcp"), as found in an image's ExposedPorts."""
    number, _, protocol = spec.partition("/")
    protocol = protocol or "tcp"
    valid = number.isascii() and number.isdigit() and is_port_number(int(number))
    if not valid or protocol not in PROTOCOLS:
        raise DockervisorError(f"the image exposes a port dockervisor cannot publish: {spec!r}")
    return int(number), protocol


def _refuse_shared_host_ports(ports: list[PortMapping], overrides: Overrides | None) -> None:
    for index, port in enumerate(ports):
        taken = next((seen for seen in ports[:index] if shares_host_port(seen, port)), None)
        if taken is not None:
            where = overrides.path if overrides else "the image"
            raise DockervisorError(
                f"{where}: host port {port.host_binding()}/{port.protocol} would be published for "
                f"both container port {taken.container} and {port.container}; "
                "map one of them to another host port in the \"ports\" overrides"
            )


def _resolve_mounts(family: str, volumes: dict, overrides: Overrides | None) -> list[Mount]:
    overridden = list(overrides.mounts) if overrides else []
    replaced = {m.target for m in overridden}
    mounts = []
    for declared in volumes:
        target = posixpath.normpath(declared)
        if target in replaced:
            continue
        check_mount_point(target, where="the image's VOLUME")
        source = volume_name_for(family, target)
        if not is_volume_name(source):
            raise DockervisorError(
                f"the image's VOLUME {declared!r} gives no valid volume name; "
                f"name one in the \"volumes\" overrides of dcv-{family}"
            )
        mounts.append(Mount(source, target))
    mounts.extend(overridden)
    mounts.sort(key=lambda m: m.target)
    sources: dict[str, str] = {}
    for mount in mounts:
        if mount.source in sources and not mount.is_host_directory:
            raise DockervisorError(
                f"volume {mount.source!r} would be mounted at both "
                f"{sources[mount.source]} and {mount.target}; name one of them in the "
                f"\"volumes\" overrides of dcv-{family}"
            )
        sources[mount.source] = mount.target
    return mounts
