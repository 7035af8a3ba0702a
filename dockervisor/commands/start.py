"""`dockervisor start new|last|stable IMAGENAME` and `dockervisor start CONTAINERNAME`."""

from __future__ import annotations

from dockervisor.flows import environment
from dockervisor.flows import networks
from dockervisor.config import envfile
from dockervisor.store import provenance
from dockervisor.engine import argv as docker_argv, query
from dockervisor.store import state
from dockervisor.store.identity import state_id
from dockervisor.commands.common import family_of
from dockervisor.flows.context import Context
from dockervisor.core import signals
from dockervisor.core.errors import EXIT_OK, EXIT_ROLLED_BACK, DockervisorError, StartFailed
from dockervisor.config.names import is_image_name, new_container_name
from dockervisor.flows.switch import NewContainer, Switch
from dockervisor.flows.waiting import WaitPolicy

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.flows.datasteps import DataStep
    from dockervisor.flows.release import Release
    from dockervisor.store.history import Entry
    from dockervisor.engine.query import ContainerSummary


def start_new(
    ctx: Context,
    family: str,
    policy: WaitPolicy,
    env: dict[str, str],
    env_files: list[str],
    if_changed: bool = False,
    snapshot: bool = False,
    release: str = "run",
) -> int:
    """`env` from --env, `env_files` from --env-file: both win over the
    recorded configuration's env_file and env, --env last. `if_changed`:
    nothing to do when the running container is already what a new one
    would be. `snapshot` (or the family's data policy) snapshots the data
    the old container leaves. `release`: "run" the family's release step,
    "skip" it (--release-skip), or skip it unless it runs on "each" engine
    ("ran", on the engines after the first of a rolling start)."""
    # Imported here: the other starts need neither.
    from dockervisor.commands.prune import after_start_new
    from dockervisor.config.fingerprint import run_digest

    extra_from_files: dict[str, str] = {}
    for path in env_files:
        extra_from_files.update(envfile.read_env_file(path))
    if not state.family_exists(family):  # refused before any file is made for it
        raise _not_built(family)
    with ctx.family_change(family, "start new") as entry:
        recorded = state.load(family)
        if recorded.run_config is None:
            raise _not_built(family)
        notice = provenance.change_notice(recorded)  # an edit since build is not in effect
        if notice:
            ctx.info(notice)
        if recorded.swarm is not None:
            return _start_service(ctx, recorded, entry, policy, {**extra_from_files, **env})
        containers, image_document = query.family_containers_and_image(ctx.docker, family)
        # Checked before anything is stopped: a missing image changes nothing.
        if image_document is None:
            raise query.no_such_image(family)
        entry.image_id = image_document["Id"]
        entry.digest = next(iter(image_document.get("RepoDigests") or []), None)  # pulled images have one
        config = recorded.run_config
        # The family's own probation and promotion, unless the command line said otherwise.
        policy.probation = config.options.probation or 0 if policy.probation is None else policy.probation
        policy.promote = config.options.promote if policy.promote is None else policy.promote
        from_file = envfile.read_env_file(config.env_file) if config.env_file else {}
        merged = {**from_file, **config.env, **extra_from_files, **env}
        if ctx.reporting is not None:  # the outcome document never shows what the container was handed
            ctx.reporting.secrets.update(merged.values())
        digest = run_digest(config, merged)
        if if_changed and already_current(ctx, containers, image_document["Id"], digest, entry):
            return EXIT_OK
        if not ctx.dry_run:
            environment.sweep_leftovers()
        # Never a name a mark still points to, even if that container is gone.
        taken = {c.name for c in containers} | ({recorded.last, recorded.stable} - {None})
        name = new_container_name(family, taken)  # type: ignore[arg-type]
        data = _snapshot_step(ctx, recorded, containers, entry, snapshot)
        # The containers it makes say which state directory made them (a dry run makes no ID).
        owner = state_id(create=not ctx.dry_run)
        networks.ensure_networks(ctx, config.options.networks)  # before anything is stopped
        step = _release_step(ctx, recorded, image_document["Id"], merged, entry, release)
        if step is not None and step.policy.when == "before-stop":
            _release_first(ctx, step, containers, entry)
            step = None
        elif step is not None and data is None:  # a kill -9 mid-release must not leave it down
            from dockervisor.flows.release import journal_running

            journal_running(ctx, recorded, containers, entry)
        with environment.env_source(ctx, merged) as (env_args, shown_env, fds):
            new = NewContainer(
                docker_argv.run(name, family, config, env_args, digest, owner),
                docker_argv.run(name, family, config, shown_env, digest, owner),
                fds,
            )
            new = networks.joining(new, name, family, config.options)
            code = Switch(ctx, recorded, containers, name, policy, entry, new, data, release=step).run()
    if code == EXIT_OK:  # retention, once the new container is up
        after_start_new(ctx, family, containers, name)
    return code


def _start_service(ctx: Context, recorded: state.FamilyState, entry: Entry, policy: WaitPolicy,
                   extra: dict[str, str], image: str | None = None) -> int:  # fmt: skip
    """A Swarm family (flows/servicestarts.py): the newest pushed image, or `image`."""
    from dockervisor.config.fingerprint import run_digest
    from dockervisor.flows import servicestarts

    assert recorded.run_config is not None
    if not policy.enabled or policy.probation or policy.promote:
        raise DockervisorError("--no-wait, --probation and --promote are for containers: a Swarm service's "
                               "update is watched by swarm (\"monitor\" in \"swarm\")")  # fmt: skip
    servicestarts.require_manager(ctx, recorded.image)
    image = image or recorded.build.get("pinned")  # type: ignore[assignment]
    if not isinstance(image, str):
        raise DockervisorError(f"the image of {recorded.image}'s last build was not pushed to its registry; "
                               f"build it again (`dockervisor build {recorded.image} PATH`)")  # fmt: skip
    config = recorded.run_config
    from_file = envfile.read_env_file(config.env_file) if config.env_file else {}
    merged = {**from_file, **config.env, **extra}
    if ctx.reporting is not None:
        ctx.reporting.secrets.update(merged.values())
    owner = state_id(create=not ctx.dry_run)
    return servicestarts.move_to(ctx, recorded, image, entry, policy, merged, run_digest(config, merged), owner,
                                 typed_env=bool(extra))  # fmt: skip


def _release_step(
    ctx: Context, recorded: state.FamilyState, image: str, env: dict[str, str], entry: Entry, asked: str
) -> Release | None:
    """The family's release step, unless skipped (see start_new's `release`)."""
    policy = recorded.release
    if policy is None or asked == "skip" or (asked == "ran" and policy.on != "each"):
        if policy is not None:
            ctx.info("the release step is skipped" + (" (--release-skip)" if asked == "skip" else (
                ": it ran on the first engine of this start")))  # fmt: skip
        return None
    from dockervisor.flows.release import Release

    assert recorded.run_config is not None
    return Release(ctx, recorded.image, recorded.run_config, policy, image, env, entry)


def _release_first(ctx: Context, step: Release, containers: list[ContainerSummary], entry: Entry) -> None:
    """"before-stop": the release runs while the old container serves; if it
    fails, nothing else happens (StartFailed, exit 3)."""
    try:
        failure = step.run()
    except KeyboardInterrupt as interruption:
        failure = f"the release step was interrupted by {signals.signal_name(getattr(interruption, 'signum', 2))}"
    if failure is None:
        return
    running = [c.name for c in containers if c.active]
    entry.running = entry.previous = ", ".join(running) or None
    for name in running if not ctx.dry_run else []:  # stdout names what runs afterwards, as after a rollback
        print(name, file=ctx.stdout, flush=True)
    still = f"{', '.join(running)} still runs, untouched" if running else "nothing of the family was running"
    raise StartFailed(
        f"{failure}. Nothing else was done: {still}, and no new container was created.",
        EXIT_ROLLED_BACK,
        "release-failed",
        entry.running,
    )


def _not_built(family: str) -> DockervisorError:
    return DockervisorError(
        f"no run configuration is recorded for {family!r}; build it first with "
        f"`dockervisor build {family} PATH`"
    )


def start_last(ctx: Context, family: str, policy: WaitPolicy, with_data: bool = False) -> int:
    return _start_marked(ctx, family, "last", policy, with_data)


def start_stable(ctx: Context, family: str, policy: WaitPolicy, with_data: bool = False) -> int:
    return _start_marked(ctx, family, "stable", policy, with_data)


def _start_marked(ctx: Context, family: str, mark: str, policy: WaitPolicy, with_data: bool = False) -> int:
    with ctx.family_change(family, f"start {mark}") as entry:
        recorded = state.load(family)
        if recorded.swarm is not None:
            marks = recorded.service
            image = (marks.previous if mark == "last" else marks.stable) if marks else None
            if mark == "last" and marks is not None and marks.stopped_replicas is not None:
                image = marks.image  # after a stop, `start last` brings back what ran
            if image is None:
                raise DockervisorError(f"no image of {family!r} is marked {mark}" + (
                    "; mark the one that runs with `dockervisor stable`" if mark == "stable" else ""))
            if with_data:
                raise DockervisorError("--with-data is for containers: a Swarm service's volumes live on its nodes")
            return _start_service(ctx, recorded, entry, policy, {}, image)
        containers = query.family_containers(ctx.docker, family)
        target = recorded.last if mark == "last" else recorded.stable
        if target is None:
            hint = "start one with `dockervisor start new`" if mark == "last" else (
                "mark the running one with `dockervisor stable`"
            )
            raise DockervisorError(f"no container of {family!r} is marked {mark}; {hint}")
        if not any(c.name == target for c in containers):
            raise DockervisorError(
                f"the {mark} container of {family!r}, {target}, no longer exists "
                f"(removed outside dockervisor?); see `dockervisor list containers {family}`"
            )
        data = _with_data_step(ctx, recorded, containers, target, entry, with_data)
        return Switch(ctx, recorded, containers, target, policy, entry, data=data).run()


def start_container(ctx: Context, name: str, policy: WaitPolicy, with_data: bool = False) -> int:
    document = query.inspect_container(ctx.docker, name)
    if document is None:
        hint = ""
        if is_image_name(name):  # `start app`, the verb forgotten
            hint = (
                f"; to start the family {name!r}, say which container: "
                f"`dockervisor start new|last|stable {name}`"
            )
        raise DockervisorError(f"there is no container named {name!r}{hint}")
    image = family_of(name, document)
    # Address it by its canonical name from here on, not by an ID prefix.
    name = query.container_name(document)
    with ctx.family_change(image, "start container") as entry:
        family = state.load(image)
        containers = query.family_containers(ctx.docker, image)
        if not any(c.name == name for c in containers):
            raise DockervisorError(
                f"{name} was not made by this state directory, nor adopted here; dockervisor "
                f"leaves it alone (`dockervisor adopt {image}` takes the family over)"
            )
        data = _with_data_step(ctx, family, containers, name, entry, with_data)
        return Switch(ctx, family, containers, name, policy, entry, data=data).run()


# The family's data (dockervisor/datasteps.py) ---------------------------------


def _snapshot_step(
    ctx: Context, family: state.FamilyState, containers: list, entry: Entry, asked: bool
) -> DataStep | None:
    """`start new --snapshot`, or "snapshot": true in the family's dcv file."""
    if not (asked or (family.data and family.data.snapshot)):
        return None
    from dockervisor.flows import datasteps

    return datasteps.upgrade(ctx, family, containers, entry)


def _with_data_step(
    ctx: Context, family: state.FamilyState, containers: list, target: str, entry: Entry, asked: bool
) -> DataStep | None:
    """`--with-data`: the target's own snapshot; refused, changing nothing, without one."""
    if not asked:
        return None
    if family.run_config is None:
        raise _not_built(family.image)
    from dockervisor.flows import datasteps

    return datasteps.with_data(ctx, family, containers, target, entry)


def already_current(
    ctx: Context,
    containers: list[ContainerSummary],
    image_id: str,
    digest: str,
    entry: Entry,
) -> bool:
    """True, having said so, when the family's one running container runs
    `image_id` with the same digest: then `start new --if-changed` is a no-op."""
    running = [c for c in containers if c.state == "running"]
    if len(running) != 1:
        return False
    document = query.inspect_container(ctx.docker, running[0].id)
    if document is None or document.get("Image") != image_id:
        return False
    if ((document.get("Config") or {}).get("Labels") or {}).get(docker_argv.CONFIG_LABEL) != digest:
        return False
    name = running[0].name
    entry.container = name
    entry.outcome = "no-op"
    print(name, file=ctx.stdout, flush=True)
    ctx.info(f"{name} already runs the current image with the same configuration; nothing to do")
    return True
