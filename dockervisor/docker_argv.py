"""Pure builders of docker command lines.

Each function only returns the argv as a list; running it is the executor's
job. Unit tests compare these lists exactly, and `--dry-run` prints them.
"""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.runconfig import RunConfig

DOCKER = "docker"
FAMILY_LABEL = "dockervisor.image"
RESTART_POLICY = "unless-stopped"

# Only the fields dockervisor reads, so that docker computes nothing more
# (`{{json .}}` would include the size column).
# "image" is the reference the container was created from while it still
# names the container's image, and the image ID once a rebuild moved the tag:
# enough to tell images apart without inspecting every container.
_PS_FORMAT = (
    '{"id":{{json .ID}},"name":{{json .Names}},"state":{{json .State}},'
    '"created":{{json .CreatedAt}},"image":{{json .Image}},'
    '"family":{{json (.Label "' + FAMILY_LABEL + '")}}}'
)


def tag(image: str) -> str:
    """The family's image, never a bare name: `docker run cafe` would take an
    image whose ID starts with cafe when the tag is gone."""
    return f"{image}:latest"


def family_filter(image: str) -> str:
    return f"label={FAMILY_LABEL}={image}"


def list_family(image: str) -> list[str]:
    """Every container of one family, running or not, one JSON object per line."""
    return [DOCKER, "ps", "--all", "--no-trunc", "--filter", family_filter(image), "--format", _PS_FORMAT]


def list_all_families() -> list[str]:
    """Every container any dockervisor family owns."""
    return [DOCKER, "ps", "--all", "--no-trunc", "--filter", f"label={FAMILY_LABEL}", "--format", _PS_FORMAT]


def inspect_containers(references: list[str]) -> list[str]:
    return [DOCKER, "container", "inspect", *references]


def inspect_images(references: list[str]) -> list[str]:
    return [DOCKER, "image", "inspect", *references]


def build(
    image: str, context: str, dockerfile: str | None = None, options: list[str] | None = None
) -> list[str]:
    """`options`: docker build flags passed through (see commands/build.BuildOptions)."""
    argv = [DOCKER, "build", "-t", tag(image)]
    if dockerfile is not None:
        argv += ["-f", dockerfile]
    return argv + (options or []) + [context]


def run(name: str, image: str, config: RunConfig, env_args: list[str] | None = None) -> list[str]:
    """Create and start a family container, detached, from the image's current
    tag; `env_args` hand it the environment (see envfile.env_source)."""
    argv = [
        DOCKER, "run", "--detach",
        "--name", name,
        "--label", f"{FAMILY_LABEL}={image}",
        "--restart", RESTART_POLICY,
        # Never reach for a registry: a missing image is an error, not a download.
        "--pull", "never",
    ]  # fmt: skip
    for port in config.ports:
        argv += ["--publish", port.flag_value()]
    for mount in config.mounts:
        argv += ["--volume", mount.flag_value()]
    return argv + (env_args or []) + [tag(image)]


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
