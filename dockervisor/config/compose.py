"""One Compose service as a dcv-IMAGENAME document: `dockervisor config
IMAGENAME --from-compose FILE --service NAME`.

It reads JSON only: a Compose file written as JSON, in the short forms people
write ("8080:80", "data:/data:ro", ["K=V"]), or what `docker compose config
--format json` prints (the long forms: objects for ports and volumes). No
home-made YAML parser: commands/config.py has the compose plugin turn YAML
into JSON where it is installed.

`convert` returns the document and the settings it could not carry over,
each with why; the caller checks the document with parse_overrides, so that
what it writes is what `build` will accept.
"""

from __future__ import annotations

# Keys that are the family's own business in dockervisor: dropped, and said.
COVERED = {
    "image": "the family's image is what `build` or `pull` records",
    "build": "`dockervisor build IMAGENAME PATH` builds it",
    "container_name": "dockervisor names the family's containers",
}
# Keys whose value is written as is (the same name and form in both).
SAME = (
    "user", "init", "hostname", "labels", "healthcheck", "restart", "read_only", "tmpfs", "cap_add", "cap_drop",
    "security_opt", "stop_signal", "working_dir", "ulimits", "shm_size", "pids_limit", "group_add", "dns",
    "dns_search", "sysctls", "entrypoint", "command",
)  # fmt: skip


class Converted:
    __slots__ = ("document", "not_carried", "dropped")

    def __init__(self) -> None:
        self.document: dict[str, object] = {}
        self.not_carried: list[tuple[str, str]] = []  # (setting, why): blocks writing unless --partial
        self.dropped: list[tuple[str, str]] = []  # (setting, why): covered by dockervisor itself


def service_of(compose: object, name: str) -> dict:
    """The service `name` of a parsed Compose document; ValueError says why not."""
    services = compose.get("services") if isinstance(compose, dict) else None
    if not isinstance(services, dict) or not services:
        raise ValueError("it has no services")
    if name not in services:
        raise ValueError(f"it has no service {name!r} (it has {', '.join(sorted(map(str, services)))})")
    service = services[name]
    if not isinstance(service, dict):
        raise ValueError(f"service {name!r} is not an object")
    return service


def convert(service: dict) -> Converted:
    result = Converted()
    for key, value in service.items():
        if key in COVERED:
            result.dropped.append((key, COVERED[key]))
        elif key in SAME:
            result.document[key] = value
        elif key in _CONVERTERS:
            try:
                _CONVERTERS[key](value, result)
            except (TypeError, ValueError, KeyError, AttributeError) as error:
                result.not_carried.append((key, f"not in a form dockervisor reads ({error})"))
        elif key in ("privileged", "pid", "ipc"):
            result.not_carried.append((key, 'it hands the container the host: add it, with "privileged_ok": true, '
                                            "by hand if that is meant"))  # fmt: skip
        else:
            result.not_carried.append((key, "dockervisor has no such setting"))
    return result


def _ports(value: object, result: Converted) -> None:
    ports: dict[str, str] = {}
    for port in _a_list(value):
        if isinstance(port, dict):  # the long form: target, published, protocol, host_ip, mode
            if port.get("mode", "ingress") not in ("ingress", "host") or not port.get("published"):
                raise ValueError(f"port {port.get('target')} has no published host port")
            host = str(port["published"])
            address = port.get("host_ip")
            container = f"{port['target']}/{port.get('protocol', 'tcp')}"
        else:
            text = str(port)
            spec, _, protocol = text.partition("/")
            parts = spec.rsplit(":", 2)
            if len(parts) < 2:
                raise ValueError(f"{text!r} publishes no host port (docker would pick one)")
            address = parts[0].strip("[]") if len(parts) == 3 else None
            host, container = parts[-2], f"{parts[-1]}/{protocol or 'tcp'}"
        key = (f"[{address}]:{host}" if ":" in address else f"{address}:{host}") if address else host
        ports[key] = container
    result.document["ports"] = ports


def _volumes(value: object, result: Converted) -> None:
    volumes: dict[str, str] = {}
    for volume in _a_list(value):
        if isinstance(volume, dict):  # the long form: type, source, target, read_only
            if volume.get("type") not in ("volume", "bind") or not volume.get("source"):
                raise ValueError(f"{volume.get('target')}: only named volumes and bind mounts are carried")
            source, target, read_only = volume["source"], volume["target"], bool(volume.get("read_only"))
        else:
            source, _, rest = str(volume).partition(":")
            target, _, mode = rest.partition(":")
            if not target:
                raise ValueError(f"{volume!r} is an anonymous volume: name it")
            read_only = mode == "ro"
        volumes[source] = f"{target}:ro" if read_only else target
    result.document["volumes"] = volumes


def _environment(value: object, result: Converted) -> None:
    if isinstance(value, dict):
        pairs = list(value.items())
    else:
        pairs = [tuple(str(i).split("=", 1)) if "=" in str(i) else (str(i), None) for i in _a_list(value)]
    env = {}
    for key, setting in pairs:
        if setting is None:
            result.not_carried.append((f"environment.{key}", "its value comes from the shell running compose"))
            continue
        env[str(key)] = str(setting)
    if env:
        result.document["env"] = env


def _env_file(value: object, result: Converted) -> None:
    files = [value] if isinstance(value, str) else _a_list(value)
    paths = [f["path"] if isinstance(f, dict) else f for f in files]
    if len(paths) != 1:
        raise ValueError("dockervisor reads one env_file; merge them into one")
    result.document["env_file"] = paths[0]


def _networks(value: object, result: Converted) -> None:
    names = list(value) if isinstance(value, dict) else _a_list(value)
    names = [str(n) for n in names if n != "default"]
    if names:
        result.document["network"] = names if len(names) > 1 else names[0]


def _extra_hosts(value: object, result: Converted) -> None:
    if isinstance(value, dict):
        result.document["extra_hosts"] = {str(k): str(v) for k, v in value.items()}
        return
    hosts = {}
    for item in _a_list(value):
        host, _, address = str(item).partition(":") if "=" not in str(item) else str(item).partition("=")
        hosts[host] = address
    result.document["extra_hosts"] = hosts


def _logging(value: object, result: Converted) -> None:
    if not isinstance(value, dict):
        raise ValueError("logging is not an object")
    result.document["log"] = {"driver": value.get("driver", "json-file"), **(value.get("options") or {})}


def _copy_as(key: str, text: bool = False) -> object:
    """Under dockervisor's name; `text`: a number as docker's string (`docker
    compose config` writes memory in bytes and CPUs as a number)."""

    def copy(value: object, result: Converted) -> None:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        result.document[key] = (f"{value:g}" if isinstance(value, float) else str(value)) if text and number else value

    return copy


def _stop_grace_period(value: object, result: Converted) -> None:
    """Compose's duration ("1m30s", "45s", 10) as whole seconds."""
    import re

    text = str(value)
    parts = re.fullmatch(r"(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?", text) if not text.isdigit() else None
    if text.isdigit():
        seconds = int(text)
    elif parts and any(parts.groups()):
        hours, minutes, secs = (int(p or 0) for p in parts.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    else:
        raise ValueError(f"{text!r} is not a duration in whole seconds")
    result.document["stop_timeout"] = seconds


def _a_list(value: object) -> list:
    if not isinstance(value, list):
        raise ValueError("not a list")
    return value


_CONVERTERS = {
    "ports": _ports,
    "volumes": _volumes,
    "environment": _environment,
    "env_file": _env_file,
    "networks": _networks,
    "extra_hosts": _extra_hosts,
    "logging": _logging,
    "mem_limit": _copy_as("memory", text=True),
    "cpus": _copy_as("cpus", text=True),
    "stop_grace_period": _stop_grace_period,
    "devices": _copy_as("devices"),
}
