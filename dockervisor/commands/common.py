"""Checks several commands share."""

from __future__ import annotations

from dockervisor import state
from dockervisor.engine import ContainerSummary
from dockervisor.errors import DockervisorError

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.context import Context


def require_known_family(image: str, containers: list[ContainerSummary]) -> None:
    """Refuse a family nobody made: most likely a typo, and never worth a silent success."""
    if not containers and not state.family_exists(image):
        raise unknown_family(image)


def unknown_family(image: str) -> DockervisorError:
    """The one message every command gives for a family it has no record of."""
    return DockervisorError(
        f"unknown image family {image!r}: it was never built with dockervisor "
        "and no container carries its label"
    )


def load_families(names: list[str]) -> tuple[list[state.FamilyState], dict[str, str]]:
    """The families that load, and for each one that does not, why: one damaged
    file must not hide the others from `status` and `list`."""
    loaded, damaged = [], {}
    for name in names:
        try:
            loaded.append(state.load(name))
        except DockervisorError as error:
            damaged[name] = error.message
    return loaded, damaged


def report_damaged(ctx: Context, damaged: dict[str, str]) -> None:
    for message in damaged.values():
        print(f"dockervisor: error: {message}", file=ctx.stderr, flush=True)


def the_running_one(image: str, containers: list[ContainerSummary], hint: str) -> str:
    """The family's running container; with several (a problem `status`
    reports), the newest."""
    running = active_names(containers)
    if not running:
        raise DockervisorError(f"nothing of {image!r} is running; {hint}")
    return running[0]


def active_names(containers: list[ContainerSummary]) -> list[str]:
    return [c.name for c in containers if c.active]
