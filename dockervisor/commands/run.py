"""`dockervisor run IMAGENAME COMMAND [ARG]...`: a one-off container of the
family's image in the family's setting (flows/oneoff.py), for admin tasks
that must not touch the running container: a console, a report, a one-time
fix. docker's exit code; the container is removed afterwards, also when
interrupted. It takes no lock: it changes nothing of the family, and may
run for hours beside starts and stops."""

from __future__ import annotations

from dockervisor.config import envfile
from dockervisor.config.names import container_for
from dockervisor.core.errors import DockervisorError
from dockervisor.engine import query
from dockervisor.flows import oneoff
from dockervisor.store import state

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.flows.context import Context

MARKS = ("last", "stable")


def run_in_setting(
    ctx: Context, family: str, command: list[str], image: str | None, interactive: bool, tty: bool
) -> int:
    """`image`: None for the family's current image, "last", "stable", or a
    container of the family (its name or suffix), whose image is used."""
    recorded = state.load(family)
    if recorded.run_config is None:
        containers = query.family_containers(ctx.docker, family)
        state.require_known_family(family, containers)
        raise DockervisorError(
            f"no run configuration is recorded for {family!r}; record one with "
            f"`dockervisor build {family} PATH` or `dockervisor pull {family} REFERENCE`"
        )
    config = recorded.run_config
    image_id = _image_of(ctx, recorded, image)
    env = {**(envfile.read_env_file(config.env_file) if config.env_file else {}), **config.env}
    return oneoff.run_foreground(ctx, family, config, image_id, command, env, interactive, tty)


def _image_of(ctx: Context, recorded: state.FamilyState, which: str | None) -> str:
    """The image ID to run: exactly the content meant, even if a tag moves meanwhile."""
    family = recorded.image
    if which is None:
        return str(query.require_image(ctx.docker, family)["Id"])
    if which in MARKS:
        name = recorded.last if which == "last" else recorded.stable
        if name is None:
            raise DockervisorError(f"no container of {family!r} is marked {which}")
    else:
        name = container_for(family, which)
    if not any(c.name == name for c in query.family_containers(ctx.docker, family)):
        raise DockervisorError(
            f"{name} is not a container of {family!r} (see `dockervisor list containers {family}`)"
        )
    document = query.inspect_container(ctx.docker, name)
    if document is None or not isinstance(document.get("Image"), str):
        raise DockervisorError(f"{name} no longer exists")
    return str(document["Image"])
