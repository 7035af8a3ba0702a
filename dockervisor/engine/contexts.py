"""Which engine, by name: docker contexts, DOCKER_HOST and DOCKER_CONTEXT.

Resolved as the docker CLI resolves them: `--context` names, else
DOCKER_HOST, else DOCKER_CONTEXT, else the current context of docker's
config, else the default (DOCKER_HOST or the local socket). The endpoint is
read from docker's own context store (`~/.docker/contexts/meta/`, moved by
DOCKER_CONFIG), so knowing the engine costs no docker call.

Each engine's state lives under a key made from its endpoint, so one engine
reached by one address keeps one state; engine IDs cannot be used for this,
since engines on cloned machines, or several on one machine, may share one.
"""

from __future__ import annotations

import json
import os
import re

from dockervisor.core.errors import EXIT_USAGE, DockervisorError

DEFAULT_CONTEXT = "default"
DEFAULT_ENDPOINT = "unix:///var/run/docker.sock"
# docker's own rule for context names (cli/context/store: restrictedNamePattern).
_CONTEXT_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.+-]+")
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9.]+")


class Engine:
    """One engine a command is about: its name as the user knows it, the
    endpoint it is reached at, the flags that make docker talk to it, and the
    key its state is kept under."""

    __slots__ = ("name", "endpoint", "flags", "key")

    def __init__(self, name: str, endpoint: str, named: bool) -> None:
        self.name = name
        self.endpoint = endpoint
        # Named by --context: every docker call says so. Otherwise docker
        # resolves DOCKER_HOST, DOCKER_CONTEXT and the current context itself,
        # as it did for us, and the command lines stay those of one engine.
        self.flags: tuple[str, ...] = ("--context", name) if named else ()
        self.key = key_for(endpoint)

    def __repr__(self) -> str:
        return f"Engine({self.name}, {self.endpoint})"


def check_context_name(text: str) -> str:
    if not (text.isascii() and _CONTEXT_NAME.fullmatch(text)):
        raise DockervisorError(
            f"invalid context name {text!r}: docker context names are letters, digits and "
            "`_.+-`, at least two characters, starting with a letter or digit",
            EXIT_USAGE,
        )
    return text


def split_names(values: list[str]) -> list[str]:
    """`--context a --context b,c` -> [a, b, c], each checked, in order, once."""
    names: list[str] = []
    for value in values:
        for name in value.split(","):
            name = check_context_name(name.strip())
            if name not in names:
                names.append(name)
    return names


def resolve(names: list[str], environ: dict[str, str] | None = None) -> list[Engine]:
    """The engines a command is about, in the order named; two names for one
    endpoint are refused (they would share one state and one lock)."""
    environ = os.environ if environ is None else environ
    if not names:
        return [default_engine(environ)]
    engines: list[Engine] = []
    for name in names:
        engine = Engine(check_context_name(name), endpoint_of(name, environ), named=True)
        same = next((e for e in engines if identity_of(e.endpoint) == identity_of(engine.endpoint)), None)
        if same is not None:
            raise DockervisorError(
                f"the contexts {same.name!r} and {name!r} are the same engine "
                f"({engine.endpoint}); name it once",
                EXIT_USAGE,
            )
        engines.append(engine)
    return engines


def default_engine(environ: dict[str, str] | None = None) -> Engine:
    """The engine docker talks to without --context."""
    environ = os.environ if environ is None else environ
    host = environ.get("DOCKER_HOST")
    if host:
        return Engine(DEFAULT_CONTEXT, host, named=False)
    name = environ.get("DOCKER_CONTEXT") or _current_context(environ) or DEFAULT_CONTEXT
    check_context_name(name)
    return Engine(name, endpoint_of(name, environ), named=False)


def endpoint_of(name: str, environ: dict[str, str]) -> str:
    """The docker endpoint of a context, from docker's context store."""
    if name == DEFAULT_CONTEXT:
        return environ.get("DOCKER_HOST") or DEFAULT_ENDPOINT
    import hashlib  # only for a named context: start-up does without it

    meta = os.path.join(
        _config_dir(environ), "contexts", "meta", hashlib.sha256(name.encode()).hexdigest(), "meta.json"
    )
    try:
        with open(meta, "rb") as handle:
            document = json.loads(handle.read())
        host = document["Endpoints"]["docker"]["Host"]
    except FileNotFoundError:
        raise DockervisorError(
            f"there is no docker context named {name!r}; see `docker context ls`"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DockervisorError(f"cannot read the docker context {name!r} ({meta}): {error}") from None
    if not isinstance(host, str) or not host:
        raise DockervisorError(f"the docker context {name!r} names no docker endpoint ({meta})")
    return host


def _config_dir(environ: dict[str, str]) -> str:
    return environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")


def _current_context(environ: dict[str, str]) -> str | None:
    path = os.path.join(_config_dir(environ), "config.json")
    try:
        with open(path, "rb") as handle:
            current = json.loads(handle.read()).get("currentContext")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError) as error:
        raise DockervisorError(f"cannot read docker's configuration {path}: {error}") from None
    return current if isinstance(current, str) and current else None


_DEFAULT_PORTS = {"tcp": "2375", "ssh": "22", "http": "80", "https": "443"}


def identity_of(endpoint: str) -> str:
    """One spelling for every address of one engine: a unix socket by the file
    it resolves to (`/var/run/docker.sock` is `/run/docker.sock` behind a
    link), a host lower-cased with its default port said, no trailing slash.
    Two contexts of one identity are one engine: one state, one lock."""
    scheme, separator, rest = endpoint.partition("://")
    if not separator:
        return endpoint.rstrip("/")
    scheme = scheme.lower()
    if scheme == "unix":
        return f"unix://{os.path.realpath(rest)}"
    if scheme not in _DEFAULT_PORTS:
        return endpoint.rstrip("/")
    authority = rest.split("/", 1)[0]
    user, at, hostport = authority.rpartition("@")
    if hostport.startswith("["):  # [::1]:2375
        host, _, port = hostport[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = hostport.partition(":")
    port = port or _DEFAULT_PORTS.get(scheme, "")
    return f"{scheme}://{user}{at}{host.lower()}:{port}"


def key_for(endpoint: str) -> str:
    """A directory name for the endpoint: readable, and unique by its hash.
    `unix:///var/run/docker.sock` -> `unix-var-run-docker.sock-0a1b2c3d`."""
    import zlib

    readable = _KEY_UNSAFE.sub("-", endpoint).strip("-.")[:48] or "engine"
    return f"{readable}-{zlib.crc32(endpoint.encode()):08x}"
