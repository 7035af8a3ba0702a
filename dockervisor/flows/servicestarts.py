"""A family run as a Swarm service (dcv-IMAGENAME `swarm`): the verbs keep
their meaning, the work is swarm's.

- `build` pushes the built image to the family's registry and records it
  pinned by digest (REPOSITORY@sha256:...), so every node pulls exactly it;
- `start new` creates the service the first time, then moves it to the
  newest pinned image with swarm's own health-gated rolling update, which
  rolls a failure back; `start last` and `start stable` move it to the
  image before, or the one marked stable, the same way;
- `stable` marks the image the service runs; `stop` scales it to 0 and
  remembers the count, which the next start brings back.

Docker's own exit code says nothing of a rollback (docker/cli#6752): the
outcome is read from UpdateStatus and the tasks (engine/services.py). Exit
0 only when every wanted task runs the new image, 3 when swarm rolled the
update back (the failing tasks' errors and nodes said), 4 when the service
is left degraded. A first create that does not come up is removed: nothing
ran before it, and nothing half-started is left.
"""

from __future__ import annotations

import time

from dockervisor.core.errors import EXIT_OK, EXIT_ROLLBACK_FAILED, EXIT_ROLLED_BACK, DockervisorError
from dockervisor.engine import services

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.config.runconfig import RunConfig
    from dockervisor.config.swarmpolicy import ServiceMarks
    from dockervisor.flows.context import Context
    from dockervisor.flows.waiting import WaitPolicy
    from dockervisor.store.history import Entry
    from dockervisor.store.state import FamilyState

_POLL = 1.0


def push(ctx: Context, recorded: FamilyState) -> str:
    """Push the family's newly built image to its registry; its pinned reference."""
    import time as clock

    from dockervisor.engine import query

    assert recorded.swarm is not None and recorded.swarm.registry
    repository = f"{recorded.swarm.registry}/{recorded.image}"
    tagged = f"{repository}:{clock.strftime('%Y%m%d%H%M%S', clock.gmtime())}"
    ctx.docker.change(services.tag_for_push(recorded.image, tagged))
    ctx.docker.stream(services.push(tagged), quiet=True, keep_errors=True)
    image = query.inspect_image(ctx.docker, tagged) or {}
    digest = next((d for d in image.get("RepoDigests") or [] if d.startswith(f"{repository}@")), None)
    if digest is None:
        raise DockervisorError(f"{tagged} was pushed but the engine recorded no digest for it; build again")
    return str(digest)


def refuse_at_build(ctx: Context, recorded: FamilyState, config: RunConfig, was_a_service: bool) -> str | None:
    """Why this build cannot be recorded for a Swarm family (or a family that
    stops being one), or None: what a service would not carry is refused, not
    dropped without a word, and one kind is never left running beside the other."""
    from dockervisor.config.runoptions import DEFAULT_LOG
    from dockervisor.config.swarmpolicy import refuse_unpinned_volumes
    from dockervisor.engine import query

    family = recorded.image
    name = services.service_name(family)
    if recorded.swarm is None:  # "swarm" was removed from dcv-IMAGENAME
        if service_document(ctx, family) is None:  # removed already: the family is containers again
            recorded.service = None
            return None
        return (f"{family} runs as the Swarm service {name}; stop it (`dockervisor stop {family}`) and remove it "
                f"(`docker service rm {name}`) before it runs as containers")  # fmt: skip
    set_options = {k: v for k, v in config.options.to_dict().items() if k != "command"}
    if set_options.get("log") == DEFAULT_LOG:
        set_options.pop("log")
    if recorded.release is not None:
        set_options["release"] = True
    if recorded.data is not None and recorded.data.snapshot:
        set_options["snapshot"] = True
    if set_options:
        return (f"{family} is to run as a Swarm service, which does not carry {', '.join(sorted(set_options))} "
                "yet; leave them out of dcv-IMAGENAME or leave out \"swarm\"")  # fmt: skip
    bound = [f"{p.address}:{p.host}" for p in config.ports if p.address]
    if bound:
        return (f"{family} is to run as a Swarm service, which publishes on every node and address; "
                f"{', '.join(bound)} is bound to one address")  # fmt: skip
    why = refuse_unpinned_volumes(recorded.swarm, [m.source for m in config.mounts if not m.is_host_directory])
    if why:
        return f"{family} is to run as a Swarm service, but {why}"
    running = [c.name for c in query.family_containers(ctx.docker, family) if c.state == "running"]
    if running and not was_a_service:
        return (f"{family} is to run as a Swarm service, but its container {', '.join(running)} runs; stop it "
                f"first (`dockervisor stop {family}`), so that the service does not run beside it")  # fmt: skip
    return None


def require_manager(ctx: Context, family: str) -> None:
    """A Swarm family is only ever changed through a manager."""
    import json

    said = ctx.docker.query(services.swarm_info()).stdout
    try:
        swarm = json.loads(said or "{}") or {}
    except ValueError:
        swarm = {}
    if swarm.get("LocalNodeState") != "active" or not swarm.get("ControlAvailable"):
        raise DockervisorError(
            f"{family} runs as a Swarm service (\"swarm\" in dcv-{family}), and this engine is not a swarm "
            "manager; name a manager with --context"
        )


def service_document(ctx: Context, family: str) -> dict | None:
    import json

    result = ctx.docker.query(services.inspect(family), check=False)
    if not result.ok:
        return None
    found = json.loads(result.stdout or "[]")
    return found[0] if found else None


def task_lines(ctx: Context, family: str) -> list[dict]:
    import json

    listed = ctx.docker.query(services.tasks(family)).stdout
    return [json.loads(line) for line in listed.splitlines() if line.strip()]


def move_to(ctx: Context, recorded: FamilyState, image: str, entry: Entry, policy: WaitPolicy,
            env: dict[str, str], digest_label: str, owner: str | None, typed_env: bool = False) -> int:  # fmt: skip
    """Create the service with `image`, or move it there; the exit code.
    `typed_env`: --env or --env-file was given, which only a create carries."""
    family, swarm = recorded.image, recorded.swarm
    assert swarm is not None and recorded.run_config is not None
    current = service_document(ctx, family)
    if current is not None and typed_env:
        raise DockervisorError(f"--env and --env-file reach {services.service_name(family)} only when it is created; "
                               f"change its environment with `docker service update --env-add`")  # fmt: skip
    marks = reconcile(ctx, recorded, current)
    entry.container = services.service_name(family)
    entry.digest = image
    entry.previous = marks.image
    entry.running = entry.container if current is not None and marks.stopped_replicas is None else None
    if current is None:
        return _create(ctx, recorded, image, entry, policy, env, digest_label, owner)
    config = recorded.run_config
    has_volumes = any(not m.is_host_directory for m in config.mounts)
    wanted = _replicas(current)
    scale_to = None
    if marks.stopped_replicas is not None and wanted == 0:  # after a stop: as many as ran
        scale_to = marks.stopped_replicas or (swarm.replicas if swarm.mode != "global" else None)
    running_image = _spec_image(current)
    if running_image == image and scale_to is None and marks.stopped_replicas is None:
        entry.outcome = "no-op"
        ctx.info(f"{entry.container} already runs {image}; nothing to do")
        print(entry.container, file=ctx.stdout, flush=True)
        return EXIT_OK
    # Only an image change makes a rolling update; a scale alone leaves UpdateStatus as it was.
    before = (current.get("UpdateStatus") or {}).get("StartedAt") if running_image != image else None
    # One change, detached: swarm's rollback returns to what ran (0 replicas after a stop), and a
    # signal waits only for the API call, not for the whole rolling update.
    argv = services.update_image(family, image, swarm, has_volumes, scale_to)
    ctx.docker.change([*argv[:3], "--detach", *argv[4:]])
    if ctx.dry_run:
        return EXIT_OK
    wanted = scale_to if scale_to is not None else wanted
    reading = _wait(ctx, family, image, wanted, policy.timeout, before, scale_only=running_image == image)
    if reading.outcome == services.ROLLED_BACK:
        entry.running = f"{entry.container} ({running_image})"
        why = "; ".join(reading.failures) or reading.message
        raise _failed(f"swarm rolled {entry.container} back to {running_image}: {why}", EXIT_ROLLED_BACK,
                      entry.running)  # fmt: skip
    if reading.outcome != services.DONE:
        entry.running = entry.container
        nodes = "; ".join(f"{node}: {', '.join(tasks)}" for node, tasks in reading.nodes.items()) or "no tasks"
        raise _failed(f"{entry.container} is left degraded ({reading.message or 'tasks short'}): {nodes}",
                      EXIT_ROLLBACK_FAILED, entry.running)  # fmt: skip
    return _took(ctx, recorded, marks, image, entry)


def _create(ctx: Context, recorded: FamilyState, image: str, entry: Entry, policy: WaitPolicy,
            env: dict[str, str], digest_label: str, owner: str | None) -> int:  # fmt: skip
    """The first start: created detached, watched, removed again if it does
    not come up (nothing ran before it), an interruption included."""
    from dockervisor.core import signals
    from dockervisor.flows import environment

    family, swarm, config = recorded.image, recorded.swarm, recorded.run_config
    assert swarm is not None and config is not None
    marks = recorded.service
    assert marks is not None
    with environment.env_source(ctx, env) as (env_args, shown, fds):
        argv = services.create(family, image, config, swarm, env_args, digest_label, owner)
        shown_argv = services.create(family, image, config, swarm, shown, digest_label, owner)
        ctx.docker.change([*argv[:3], "--detach", *argv[4:]], pass_fds=fds,
                          shown=[*shown_argv[:3], "--detach", *shown_argv[4:]])  # fmt: skip
    if ctx.dry_run:
        return EXIT_OK
    replicas = None if swarm.mode == "global" else swarm.replicas
    try:
        reading = _wait(ctx, family, image, replicas, policy.timeout, None, settle=max(swarm.monitor, policy.settle))
    except KeyboardInterrupt:
        with signals.deferred("removing the service it was creating", resume=False):
            ctx.docker.change(services.remove(family), check=False)
        raise
    if reading.outcome != services.DONE:
        removed = ctx.docker.change(services.remove(family), check=False).ok
        why = "; ".join(reading.failures) or reading.message or "its tasks did not come up"
        entry.running = None if removed else entry.container
        if not removed:
            raise _failed(f"{entry.container} did not come up ({why}), and removing it failed: remove it with "
                          f"`docker service rm {entry.container}`", EXIT_ROLLBACK_FAILED, entry.running)  # fmt: skip
        raise _failed(f"{entry.container} did not come up ({why}); it was removed, as nothing ran before it",
                      EXIT_ROLLED_BACK, None)  # fmt: skip
    return _took(ctx, recorded, marks, image, entry)


def _took(ctx: Context, recorded: FamilyState, marks: ServiceMarks, image: str, entry: Entry) -> int:
    """The service runs `image`: recorded (the image before it kept as the
    previous, unless it is the same one brought back after a stop)."""
    if image != marks.image:
        marks.previous, marks.image = marks.image, image
    marks.stopped_replicas = None
    ctx.save(recorded)
    entry.running = entry.container
    print(entry.container, file=ctx.stdout, flush=True)
    return EXIT_OK


def reconcile(ctx: Context, recorded: FamilyState, document: dict | None) -> ServiceMarks:
    """The marks, made to agree with what the service runs: a change a
    killed or interrupted run left to swarm, or one made by hand, becomes
    the current image (the one before it, the previous)."""
    from dockervisor.config.swarmpolicy import ServiceMarks, is_pinned

    marks = recorded.service or ServiceMarks()
    recorded.service = marks
    running = _spec_image(document) if document is not None else None
    if running is not None and running != marks.image and is_pinned(running):
        ctx.info(f"{services.service_name(recorded.image)} runs {running}, not {marks.image} as recorded "
                 "(changed outside this run); recorded as what runs")  # fmt: skip
        marks.previous, marks.image = marks.image, running
        if not ctx.dry_run:
            ctx.save(recorded)
    return marks


def _spec_image(document: dict | None) -> str | None:
    spec = ((document or {}).get("Spec") or {}).get("TaskTemplate") or {}
    image = (spec.get("ContainerSpec") or {}).get("Image")
    return str(image) if image else None


def _replicas(document: dict) -> int | None:
    """The service's replica count (None: global)."""
    mode = (document.get("Spec") or {}).get("Mode") or {}
    return int((mode.get("Replicated") or {}).get("Replicas") or 0) if "Replicated" in mode else None


def _wait(ctx: Context, family: str, image: str, replicas: int | None, timeout: float,
          before: str | None, settle: float = 0.0, scale_only: bool = False) -> services.Reading:  # fmt: skip
    """Poll until the update is no longer under way and the tasks settled (or
    time is up). An UpdateStatus that started at `before` is an older
    update's: not this one's outcome, and so is any UpdateStatus after a
    change that only scales (`scale_only`; engine 20.10 replaces a rollback's
    status at a scale, but that is not promised). `settle`: how long the same tasks must
    keep running before a first create counts (it has no swarm monitor: a
    task that exits at once looks running for a moment)."""
    digest = image.rpartition("@")[2]
    deadline = time.monotonic() + timeout
    since: tuple[float, frozenset] | None = None  # since when which tasks run
    while True:
        document = service_document(ctx, family) or {}
        started = not (before is not None and (document.get("UpdateStatus") or {}).get("StartedAt") == before)
        if not started or scale_only:
            document = {k: v for k, v in document.items() if k != "UpdateStatus"}
        lines = task_lines(ctx, family)
        reading = services.read_update(document, lines, digest, replicas)
        if reading.outcome == services.ROLLED_BACK:
            return reading
        if reading.outcome == services.DONE and started:
            tasks = frozenset(str(t.get("ID")) for t in lines if str(t.get("DesiredState")).lower() == "running")
            if since is None or since[1] != tasks:
                since = (time.monotonic(), tasks)
            if time.monotonic() - since[0] >= settle:
                return reading
        else:
            since = None
        if time.monotonic() > deadline:
            return reading if reading.outcome != services.DONE else services.Reading(
                services.DEGRADED, "its tasks did not keep running", reading.failures, reading.nodes)  # fmt: skip
        time.sleep(_POLL)


def _failed(message: str, code: int, running: str | None) -> DockervisorError:
    from dockervisor.core.errors import StartFailed

    outcome = "rolled-back" if code == EXIT_ROLLED_BACK else "rollback-failed"
    return StartFailed(message, code, outcome, running)


def stop(ctx: Context, recorded: FamilyState, entry: Entry) -> int:
    """Scale to 0, remembering how many ran."""
    family = recorded.image
    document = service_document(ctx, family)
    entry.container = services.service_name(family)
    if document is None:
        entry.outcome, entry.running = "no-op", None
        ctx.info(f"{entry.container} does not exist; nothing to stop")
        return EXIT_OK
    reconcile(ctx, recorded, document)
    replicated = ((document.get("Spec") or {}).get("Mode") or {}).get("Replicated")
    if replicated is None:
        raise DockervisorError(f"{entry.container} is a global service: it runs on every node, and is not scaled")
    count = int(replicated.get("Replicas") or 0)
    if count == 0:
        entry.outcome, entry.running = "no-op", None
        return EXIT_OK
    marks = recorded.service
    assert marks is not None  # reconcile made them
    marks.stopped_replicas = count
    ctx.save(recorded)  # first: a kill -9 after the scale still knows the count
    try:
        ctx.docker.change(services.scale(family, 0))
    except BaseException:
        marks.stopped_replicas = None  # it still runs, as the state must say
        ctx.save(recorded)
        raise
    entry.running = None
    ctx.done(f"would scale {entry.container} to 0", f"{entry.container} scaled from {count} to 0")
    return EXIT_OK
