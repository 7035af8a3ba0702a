"""Checks several commands share."""

from __future__ import annotations

from dockervisor.config import retention
from dockervisor.engine import argv as docker_argv, query
from dockervisor.store import state
from dockervisor.engine.query import ContainerSummary, active_names
from dockervisor.core.errors import DockervisorError
from dockervisor.config.names import is_image_name

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.flows.context import Context


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


def the_running_one(family: str, containers: list[ContainerSummary], hint: str) -> str:
    """The family's running container; with several (a problem `status`
    reports), the newest."""
    running = active_names(containers)
    if not running:
        raise DockervisorError(f"nothing of {family!r} is running; {hint}")
    return running[0]


def family_of(name: str, document: dict) -> str:
    """The family of an inspected container; refuses one dockervisor did not create."""
    image = query.container_family(document)
    if not image:
        raise DockervisorError(
            f"{name!r} was not created by dockervisor (it has no "
            f"{docker_argv.FAMILY_LABEL} label); refusing to touch it"
        )
    if not is_image_name(image):
        raise DockervisorError(
            f"{name!r} carries the label {docker_argv.FAMILY_LABEL}={image!r}, which is not "
            "an image name dockervisor gives; refusing to touch it"
        )
    return image


def recorded_keep(family: state.FamilyState) -> int | None:
    """The family's retention, recorded at build: stopped containers a prune keeps."""
    return family.run_config.keep if family.run_config else retention.DEFAULT_KEEP


def prunable(members: list[ContainerSummary], family: state.FamilyState) -> list[str]:
    """The containers the next `dockervisor prune` (without --keep) removes, newest first."""
    members = [c for c in members if c.family == family.image]
    plan = retention.plan_containers(
        [(c.name, c.state) for c in members], family.last, family.stable, recorded_keep(family)
    )
    return plan.remove

