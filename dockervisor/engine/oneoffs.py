"""Pure builders of the docker commands of one-off containers: a family's
release step (flows/release.py) and `dockervisor run`.

A one-off runs in the family's setting (mounts, environment, networks, user,
limits, logs) from one exact image, but is no member of the family: another
label, no published port, no restart policy, no health check, no network
alias (traffic for the family must not reach it), none of the family's own
labels (a proxy routing by label must not pick it). It is created with
`--rm`, so docker removes it once it ends, even if dockervisor is killed.
"""

from __future__ import annotations

from dockervisor.engine.argv import DOCKER, OWNER_LABEL

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.config.runconfig import RunConfig

ONE_OFF_LABEL = "dockervisor.oneoff"
# The family's run options a one-off does not take (see the module's docstring).
SKIPPED_OPTIONS = ("network", "labels", "healthcheck")


def name_for(family: str, purpose: str, stamp: str) -> str:
    """`dcv-release_FAMILY_STAMP`: never a name of the family's own members,
    which begin `dcv_FAMILY_`."""
    return f"dcv-{purpose}_{family}_{stamp}"


def create(
    name: str,
    family: str,
    config: RunConfig,
    image: str,
    command: list[str],
    env_args: list[str] | None = None,
    owner: str | None = None,
    interactive: bool = False,
    tty: bool = False,
) -> list[str]:
    """The one-off container, created (not started) from `image` (an image
    ID: exactly the content meant), `command` after it."""
    networks = config.options.networks
    argv = [
        DOCKER, "create", "--rm",
        "--name", name,
        "--label", f"{ONE_OFF_LABEL}={family}",
        *(["--label", f"{OWNER_LABEL}={owner}"] if owner else []),
        "--pull", "never",
        "--no-healthcheck",
        *(["--interactive"] if interactive else []),
        *(["--tty"] if tty else []),
        *(["--network", networks[0]] if networks else []),
    ]  # fmt: skip
    for mount in config.mounts:
        argv += ["--volume", mount.flag_value()]
    argv += config.options.flags(family, skip=SKIPPED_OPTIONS)
    return argv + (env_args or []) + ["--", image, *(config.options.entrypoint or [])[1:], *command]


def connect(name: str, networks: list[str]) -> list[list[str]]:
    """Its other networks, joined before it starts; no alias."""
    return [[DOCKER, "network", "connect", network, name] for network in networks[1:]]


def start_attached(name: str, interactive: bool = False) -> list[str]:
    """Start it with its output (and with `interactive`, our input) attached;
    docker exits with the container's exit code."""
    return [DOCKER, "start", "--attach", *(["--interactive"] if interactive else []), name]


def remove(name: str) -> list[str]:
    """Kill and remove it (a time-out, an interruption)."""
    return [DOCKER, "rm", "--force", name]
