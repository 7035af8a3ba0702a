"""Pure builders of docker command lines.

Each function only returns the argv as a list; running it is the executor's
job. Unit tests compare these lists exactly, and `--dry-run` prints them.
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.config.runconfig import RunConfig
    from dockervisor.config.runoptions import RunOptions

DOCKER = "docker"
FAMILY_LABEL = "dockervisor.image"
# On the images dockervisor builds, so that a family's untagged leftovers can be
# found. Not FAMILY_LABEL: containers inherit image labels, and one run by hand
# from the image must not join the family.
BUILT_LABEL = "dockervisor.built"
RESTART_POLICY = "unless-stopped"

# Only the fields dockervisor reads, so that docker computes nothing more
# (`{{json .}}` would include the size column).
# "image" is the reference the container was created from while it still
# names the container's image, and the image ID once a rebuild moved the tag:
# enough to tell images apart without inspecting every container.
# Which state directory created a container (store/identity.py): an opaque
# ID, never a path or a user name. See flows... ownership.py.
OWNER_LABEL = "dockervisor.owner"
_PS_FORMAT = (
    '{"id":{{json .ID}},"name":{{json .Names}},"state":{{json .State}},'
    '"created":{{json .CreatedAt}},"image":{{json .Image}},'
    '"family":{{json (.Label "' + FAMILY_LABEL + '")}},'
    '"owner":{{json (.Label "' + OWNER_LABEL + '")}}}'
)


def tag(family: str) -> str:
    """The family's image, never a bare name: `docker run cafe` would take an
    image whose ID starts with cafe when the tag is gone."""
    return f"{family}:latest"


def family_filter(family: str) -> str:
    return f"label={FAMILY_LABEL}={family}"


def list_family(family: str) -> list[str]:
    """Every container of one family, running or not, one JSON object per line."""
    return [DOCKER, "ps", "--all", "--no-trunc", "--filter", family_filter(family), "--format", _PS_FORMAT]


def list_all_families() -> list[str]:
    """Every container any dockervisor family owns."""
    return [DOCKER, "ps", "--all", "--no-trunc", "--filter", f"label={FAMILY_LABEL}", "--format", _PS_FORMAT]


def inspect_containers(references: list[str]) -> list[str]:
    return [DOCKER, "container", "inspect", *references]


def inspect_images(references: list[str]) -> list[str]:
    return [DOCKER, "image", "inspect", *references]


def build(
    family: str, context: str, dockerfile: str | None = None, options: list[str] | None = None
) -> list[str]:
    """`options`: docker build flags passed through (see commands/build.BuildOptions).
    The label finds the family's images a failed build left dangling."""
    argv = [DOCKER, "build", "-t", tag(family), "--label", f"{BUILT_LABEL}={family}"]
    if dockerfile is not None:
        argv += ["-f", dockerfile]
    return argv + (options or []) + [context]


# A digest of what a container was started with (run configuration and
# environment, values included): `start new --if-changed` compares it.
CONFIG_LABEL = "dockervisor.config"


def run(
    name: str,
    family: str,
    config: RunConfig,
    env_args: list[str] | None = None,
    config_digest: str | None = None,
    owner: str | None = None,
) -> list[str]:
    """Create and start a family container, detached, from the image's current
    tag; `env_args` hand it the environment (see environment.env_source);
    `owner` is the state directory's ID."""
    argv = [
        DOCKER, "run", "--detach",
        "--name", name,
        "--label", f"{FAMILY_LABEL}={family}",
        *(["--label", f"{OWNER_LABEL}={owner}"] if owner else []),
        *(["--label", f"{CONFIG_LABEL}={config_digest}"] if config_digest else []),
        "--restart", config.options.restart or RESTART_POLICY,
        # Never reach for a registry: a missing image is an error, not a download.
        "--pull", "never",
    ]  # fmt: skip
    for port in config.ports:
        argv += ["--publish", port.flag_value()]
    for mount in config.mounts:
        argv += ["--volume", mount.flag_value()]
    argv += run_options(family, config.options)
    # A list entry point's words after its program come first (docker's
    # --entrypoint takes the program alone), then the command's arguments.
    return argv + (env_args or []) + [tag(family), *(config.options.entrypoint or [])[1:], *config.options.command]


def start(name: str) -> list[str]:
    return [DOCKER, "start", name]


def stop(names: list[str]) -> list[str]:
    return [DOCKER, "stop", *names]


def remove(name: str) -> list[str]:
    return [DOCKER, "rm", name]


def logs(name: str, tail: int | None = None, follow: bool = False, since: str | None = None) -> list[str]:
    argv = [DOCKER, "logs"]
    if follow:
        argv.append("--follow")
    if tail is not None:
        argv += ["--tail", str(tail)]
    if since is not None:
        argv += ["--since", since]
    return argv + [name]


def exec_in(name: str, command: list[str], interactive: bool = False, tty: bool = False) -> list[str]:
    """`docker exec` of `command` in a running container; `--` ends docker's options."""
    flags = (["--interactive"] if interactive else []) + (["--tty"] if tty else [])
    return [DOCKER, "exec", *flags, name, *command]


# housekeeping: prune, rm, forget, start new --if-changed ------------------------

def list_all_containers() -> list[str]:
    """Every container on the engine, dockervisor's or not: a prune must not
    take away an image any of them uses."""
    return [DOCKER, "ps", "--all", "--no-trunc", "--format", _PS_FORMAT]


def list_dangling_built(family: str) -> list[str]:
    """IDs of the untagged images built for the family, used or not."""
    return [
        DOCKER, "image", "ls", "--quiet", "--no-trunc",
        "--filter", "dangling=true", "--filter", f"label={BUILT_LABEL}={family}",
    ]  # fmt: skip


def inspect_containers_with_sizes(references: list[str]) -> list[str]:
    return [DOCKER, "container", "inspect", "--size", *references]


def layer_sizes(family: str) -> list[str]:
    """The size in bytes of each build step of an image, newest first."""
    return [DOCKER, "history", "--human=false", "--format", "{{.Size}}", family]


def remove_containers(references: list[str]) -> list[str]:
    """Stopped containers and their anonymous volumes; named volumes stay.
    Without --force: docker refuses a container that runs."""
    return [DOCKER, "rm", "--volumes", *references]


def remove_images(references: list[str]) -> list[str]:
    """Without --force: docker refuses an image a container uses."""
    return [DOCKER, "rmi", *references]


def remove_volumes(names: list[str]) -> list[str]:
    return [DOCKER, "volume", "rm", *names]


def inspect_volumes(names: list[str]) -> list[str]:
    return [DOCKER, "volume", "inspect", "--format", "{{.Name}}", *names]


# run options (config/runoptions.py declares them) -----------------------------


def run_options(family: str, options: RunOptions) -> list[str]:
    """The `docker run` flags of the options that are set, in a fixed order;
    the command's arguments go after the image instead. `docker run` joins
    one network (before API 1.44): see `join_other_networks` for the rest.
    Each key declares its own flags (config/runoptions.py OPTIONS)."""
    return options.flags(family)


def list_networks(names: list[str]) -> list[str]:
    """The names of the networks that match any of `names` (as substrings),
    one JSON string a line: unlike inspect, a missing one is no error."""
    filters = [word for name in names for word in ("--filter", f"name={name}")]
    return [DOCKER, "network", "ls", *filters, "--format", "{{json .Name}}"]


def create_network(name: str) -> list[str]:
    """A user-defined bridge network: its containers find each other by name."""
    return [DOCKER, "network", "create", name]


def connect_network(network: str, alias: str, container: str) -> list[str]:
    return [DOCKER, "network", "connect", "--alias", alias, network, container]


def join_other_networks(name: str, family: str, options: RunOptions) -> list[list[str]]:
    """After `as_create(run(...))`: connect the container to its other networks,
    then start it, so that it never runs without one of them. Empty when
    `docker run` alone joins them all (one network or none)."""
    if len(options.networks) < 2:
        return []
    connects = [connect_network(network, family, name) for network in options.networks[1:]]
    return connects + [start(name)]


def as_create(run_argv: list[str]) -> list[str]:
    """The `docker create` that makes what this `docker run --detach` would
    run, without starting it."""
    if run_argv[:3] != [DOCKER, "run", "--detach"]:
        raise ValueError(f"not a docker run --detach command: {run_argv[:3]}")
    return [DOCKER, "create", *run_argv[3:]]


# pull ------------------------------------------------------------------------


def pull(reference: str) -> list[str]:
    return [DOCKER, "pull", reference]


def tag_as_family(source: str, family: str) -> list[str]:
    """Point the family's tag at `source` (best an image ID: exactly what was inspected)."""
    return [DOCKER, "tag", source, tag(family)]


# The engine's own lock on a family (see flows/enginelock.py) ---------------

LOCK_LABEL = "dockervisor.lock"
# A tiny image of no files that lock containers are created from (never run).
LOCK_IMAGE = "dockervisor-lock:1"


def lock_name(family: str) -> str:
    return f"dockervisor-lock-{family}"


def create_lock(family: str, holder: str, since: str, owner: str) -> list[str]:
    """A container that is never started: its name is the lock, since the
    engine lets only one client create a name; its labels say who holds it
    (`owner`: which machine and state directory, see flows/enginelock.py)."""
    return [
        DOCKER, "container", "create",
        "--name", lock_name(family),
        "--label", f"{LOCK_LABEL}={family}",
        "--label", f"{LOCK_LABEL}.holder={holder}",
        "--label", f"{LOCK_LABEL}.since={since}",
        "--label", f"{LOCK_LABEL}.owner={owner}",
        "--network", "none",
        "--pull", "never",
        LOCK_IMAGE, "lock",
    ]  # fmt: skip


def import_lock_image(source: str) -> list[str]:
    """The lock image from an empty tar archive at `source` (a /dev/fd path)."""
    return [DOCKER, "image", "import", "--message", "dockervisor lock image", source, LOCK_IMAGE]


def remove_lock(reference: str) -> list[str]:
    return [DOCKER, "container", "rm", "--force", reference]


# Data: backups, snapshots and restores (see dockervisor/datacopy.py) ---------

# The label of helper containers, which are no family's members.
HELPER_LABEL = "dockervisor.helper"
# Where a helper container mounts the volume or host directory it restores.
HELPER_MOUNT = "/dcv-restore"
# Makes the content of the directory "$1" exactly what tar reads on stdin:
# everything in it goes first, dot files too (a pattern that matches nothing
# stays as typed, and `rm -f` passes over it).
RESTORE_SCRIPT = 'cd "$1" && rm -rf -- ./* ./.[!.]* ./..?* && exec tar -x -f -'
# Whether an image can serve as the helper: a /bin/sh (the entrypoint) with tar.
PROBE_SCRIPT = "command -v tar >/dev/null"


def pause(name: str) -> list[str]:
    return [DOCKER, "pause", name]


def unpause(name: str) -> list[str]:
    return [DOCKER, "unpause", name]


def copy_from(name: str, path: str) -> list[str]:
    """A tar of `path` in the container on stdout, volume content included;
    the tar's names begin with the path's last component."""
    return [DOCKER, "cp", f"{name}:{path}", "-"]


def _helper(helper_image: str, family: str, options: list[str]) -> list[str]:
    """A throwaway container of `helper_image`, as root, without network,
    running /bin/sh whatever the image's entrypoint."""
    return [
        DOCKER, "run", "--rm", *options,
        "--network", "none", "--pull", "never", "--user", "0:0",
        "--label", f"{HELPER_LABEL}={family}",
        "--entrypoint", "/bin/sh", helper_image,
    ]  # fmt: skip


def helper_probe(helper_image: str, family: str) -> list[str]:
    return _helper(helper_image, family, []) + ["-c", PROBE_SCRIPT]


def restore_into(helper_image: str, family: str, source: str, name: str) -> list[str]:
    """Replace the content of `source` (a volume name or a host directory)
    with the tar the helper container `name` reads on stdin."""
    options = ["--interactive", "--name", name, "--volume", f"{source}:{HELPER_MOUNT}"]
    return _helper(helper_image, family, options) + ["-c", RESTORE_SCRIPT, "sh", HELPER_MOUNT]


def remove_forced(name: str) -> list[str]:
    """Kill and remove a container, returning once it is gone."""
    return [DOCKER, "rm", "--force", name]


def compose_config(path: str) -> list[str]:
    """A Compose file (YAML too) as JSON, by the compose plugin: only read."""
    return [DOCKER, "compose", "--file", path, "config", "--format", "json"]
