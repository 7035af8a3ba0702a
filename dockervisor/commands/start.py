"""`dockervisor start new|last|stable IMAGENAME` and `dockervisor start CONTAINERNAME`."""

from __future__ import annotations

from dockervisor import docker_argv, engine, state
from dockervisor.commands.common import family_of, require_known_family
from dockervisor.context import Context
from dockervisor.envfile import env_files
from dockervisor.errors import EXIT_OK, DockervisorError
from dockervisor.names import new_container_name
from dockervisor.switch import bring_up
from dockervisor.waiting import WaitPolicy


def start_new(
    ctx: Context, image: str, policy: WaitPolicy, env: dict[str, str], if_changed: bool = False
) -> int:
    # housekeeping; imported here, since the other starts need neither
    from dockervisor.commands.prune import after_start_new
    from dockervisor.fingerprint import already_current, run_digest

    with ctx.family_change(image, "start new") as entry:
        family = state.load(image)
        if family.run_config is None:
            raise DockervisorError(
                f"no run configuration is recorded for {image!r}; build it first with "
                f"`dockervisor build {image} PATH`"
            )
        containers, image_document = engine.family_containers_and_image(ctx.docker, image)
        # Checked before anything is stopped: a missing image changes nothing.
        if image_document is None:
            raise engine.no_such_image(image)
        entry.image_id = image_document["Id"]
        digest = run_digest(family.run_config, env)  # housekeeping: --if-changed
        if if_changed and already_current(ctx, containers, image_document["Id"], digest, entry):
            return EXIT_OK
        name = new_container_name(image, {c.name for c in containers})
        with env_files(ctx, name, family.run_config, env) as files:
            argv = docker_argv.run(name, image, family.run_config, files)
            argv = docker_argv.with_label(argv, docker_argv.CONFIG_LABEL, digest)  # housekeeping
            code = bring_up(ctx, family, containers, name, policy, entry, run_argv=argv)
    if code == EXIT_OK:  # housekeeping: retention, once the new container is up
        after_start_new(ctx, image, containers, name)
    return code


def start_last(ctx: Context, image: str, policy: WaitPolicy) -> int:
    return _start_marked(ctx, image, "last", policy)


def start_stable(ctx: Context, image: str, policy: WaitPolicy) -> int:
    return _start_marked(ctx, image, "stable", policy)


def _start_marked(ctx: Context, image: str, mark: str, policy: WaitPolicy) -> int:
    with ctx.family_change(image, f"start {mark}") as entry:
        family = state.load(image)
        containers = engine.family_containers(ctx.docker, image)
        require_known_family(image, containers)
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
        return bring_up(ctx, family, containers, target, policy, entry)


def start_container(ctx: Context, name: str, policy: WaitPolicy) -> int:
    document = engine.inspect_container(ctx.docker, name)
    if document is None:
        raise DockervisorError(f"there is no container named {name!r}")
    image = family_of(name, document)
    # Address it by its canonical name from here on, not by an ID prefix.
    name = engine.container_name(document)
    with ctx.family_change(image, "start container") as entry:
        family = state.load(image)
        containers = engine.family_containers(ctx.docker, image)
        return bring_up(ctx, family, containers, name, policy, entry)
