"""`dockervisor start new|last|stable IMAGENAME` and `dockervisor start CONTAINERNAME`."""

from __future__ import annotations

from dockervisor import docker_argv, engine, envfile, state
from dockervisor.context import Context
from dockervisor.errors import DockervisorError
from dockervisor.names import is_image_name, new_container_name
from dockervisor.switch import NewContainer, bring_up
from dockervisor.waiting import WaitPolicy

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.datasteps import DataStep
    from dockervisor.history import Entry


def start_new(
    ctx: Context,
    image: str,
    policy: WaitPolicy,
    env: dict[str, str],
    env_files: list[str],
    snapshot: bool = False,
) -> int:
    """`env` from --env, `env_files` from --env-file: both win over the
    recorded configuration's env_file and env, --env last. `snapshot` (or
    the family's data policy) snapshots the data the old container leaves."""
    extra_from_files: dict[str, str] = {}
    for path in env_files:
        extra_from_files.update(envfile.read_env_file(path))
    if not state.family_exists(image):  # refused before any file is made for it
        raise _not_built(image)
    with ctx.family_change(image, "start new") as entry:
        family = state.load(image)
        if family.run_config is None:
            raise _not_built(image)
        containers, image_document = engine.family_containers_and_image(ctx.docker, image)
        # Checked before anything is stopped: a missing image changes nothing.
        if image_document is None:
            raise engine.no_such_image(image)
        entry.image_id = image_document["Id"]
        if not ctx.dry_run:
            envfile.sweep_leftovers()
        config = family.run_config
        recorded = envfile.read_env_file(config.env_file) if config.env_file else {}
        merged = {**recorded, **config.env, **extra_from_files, **env}
        # Never a name a mark still points to, even if that container is gone.
        taken = {c.name for c in containers} | ({family.last, family.stable} - {None})
        name = new_container_name(image, taken)  # type: ignore[arg-type]
        data = _snapshot_step(ctx, family, containers, entry, snapshot)
        with envfile.env_source(ctx, merged) as (env_args, shown_env, fds):
            new = NewContainer(
                docker_argv.run(name, image, config, env_args),
                docker_argv.run(name, image, config, shown_env),
                fds,
            )
            return bring_up(ctx, family, containers, name, policy, entry, new, data)


def _not_built(image: str) -> DockervisorError:
    return DockervisorError(
        f"no run configuration is recorded for {image!r}; build it first with "
        f"`dockervisor build {image} PATH`"
    )


def start_last(ctx: Context, image: str, policy: WaitPolicy, with_data: bool = False) -> int:
    return _start_marked(ctx, image, "last", policy, with_data)


def start_stable(ctx: Context, image: str, policy: WaitPolicy, with_data: bool = False) -> int:
    return _start_marked(ctx, image, "stable", policy, with_data)


def _start_marked(ctx: Context, image: str, mark: str, policy: WaitPolicy, with_data: bool = False) -> int:
    with ctx.family_change(image, f"start {mark}") as entry:
        family = state.load(image)
        containers = engine.family_containers(ctx.docker, image)
        target = family.last if mark == "last" else family.stable
        if target is None:
            hint = "start one with `dockervisor start new`" if mark == "last" else (
                "mark the running one with `dockervisor stable`"
            )
            raise DockervisorError(f"no container of {image!r} is marked {mark}; {hint}")
        if not any(c.name == target for c in containers):
            raise DockervisorError(
                f"the {mark} container of {image!r}, {target}, no longer exists "
                f"(removed outside dockervisor?); see `dockervisor list containers {image}`"
            )
        data = _with_data_step(ctx, family, containers, target, entry, with_data)
        return bring_up(ctx, family, containers, target, policy, entry, data=data)


def start_container(ctx: Context, name: str, policy: WaitPolicy, with_data: bool = False) -> int:
    document = engine.inspect_container(ctx.docker, name)
    if document is None:
        hint = ""
        if is_image_name(name):  # `start app`, the verb forgotten
            hint = (
                f"; to start the family {name!r}, say which container: "
                f"`dockervisor start new|last|stable {name}`"
            )
        raise DockervisorError(f"there is no container named {name!r}{hint}")
    image = engine.container_family(document)
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
    # Address it by its canonical name from here on, not by an ID prefix.
    name = engine.container_name(document)
    with ctx.family_change(image, "start container") as entry:
        family = state.load(image)
        containers = engine.family_containers(ctx.docker, image)
        data = _with_data_step(ctx, family, containers, name, entry, with_data)
        return bring_up(ctx, family, containers, name, policy, entry, data=data)


# The family's data (dockervisor/datasteps.py) ---------------------------------


def _snapshot_step(
    ctx: Context, family: state.FamilyState, containers: list, entry: Entry, asked: bool
) -> DataStep | None:
    """`start new --snapshot`, or "snapshot": true in the family's dcv file."""
    if not (asked or (family.data and family.data.snapshot)):
        return None
    from dockervisor import datasteps

    return datasteps.upgrade(ctx, family, containers, entry)


def _with_data_step(
    ctx: Context, family: state.FamilyState, containers: list, target: str, entry: Entry, asked: bool
) -> DataStep | None:
    """`--with-data`: the target's own snapshot; refused, changing nothing, without one."""
    if not asked:
        return None
    if family.run_config is None:
        raise _not_built(family.image)
    from dockervisor import datasteps

    return datasteps.with_data(ctx, family, containers, target, entry)
