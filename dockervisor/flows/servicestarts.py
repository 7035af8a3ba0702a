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
    from dockervisor.flows.context import Context
    from dockervisor.flows.waiting import WaitPolicy
    from dockervisor.store.history import Entry
    from dockervisor.store.state import FamilyState

_POLL = 1.0


def push(ctx: Context, recorded: FamilyState) -> str:
    """Push the family's newly built image to its registry; its pinned reference."""
    import time as clock

    from dockervisor.engine import argv as docker_argv, query

    assert recorded.swarm is not None and recorded.swarm.registry
    repository = f"{recorded.swarm.registry}/{recorded.image}"
    tagged = f"{repository}:{clock.strftime('%Y%m%d%H%M%S', clock.gmtime())}"
    ctx.docker.change(["docker", "tag", docker_argv.tag(recorded.image), tagged])
    ctx.docker.stream(["docker", "push", tagged], quiet=True, keep_errors=True)
    image = query.inspect_image(ctx.docker, tagged) or {}
    digest = next((d for d in image.get("RepoDigests") or [] if d.startswith(f"{repository}@")), None)
    if digest is None:
        raise DockervisorError(f"{tagged} was pushed but the engine recorded no digest for it; build again")
    return str(digest)


def require_manager(ctx: Context, family: str) -> None:
    """A Swarm family is only ever changed through a manager."""
    import json

    said = ctx.docker.query(["docker", "info", "--format", "{{json .Swarm}}"]).stdout
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
            env: dict[str, str], digest_label: str, owner: str | None) -> int:  # fmt: skip
    """Create the service with `image`, or move it there; the exit code."""
    from dockervisor.flows import environment

    family, swarm = recorded.image, recorded.swarm
    assert swarm is not None and recorded.run_config is not None
    marks = recorded.service
    from dockervisor.config.swarmpolicy import ServiceMarks

    if marks is None:
        marks = recorded.service = ServiceMarks()
    config = recorded.run_config
    has_volumes = any(not m.is_host_directory for m in config.mounts)
    current = service_document(ctx, family)
    entry.container = services.service_name(family)
    entry.digest = image
    entry.previous = marks.image
    if current is not None and marks.image == image and marks.stopped_replicas is None:
        entry.outcome, entry.running = "no-op", entry.container
        ctx.info(f"{entry.container} already runs {image}; nothing to do")
        print(entry.container, file=ctx.stdout, flush=True)
        return EXIT_OK
    replicas = None if swarm.mode == "global" else swarm.replicas
    if current is None:
        with environment.env_source(ctx, env) as (env_args, shown, fds):
            argv = services.create(family, image, config, swarm, env_args, digest_label, owner)
            shown_argv = services.create(family, image, config, swarm, shown, digest_label, owner)
            ctx.docker.change([*argv[:3], "--detach", *argv[4:]], pass_fds=fds,
                              shown=[*shown_argv[:3], "--detach", *shown_argv[4:]])  # fmt: skip
        if ctx.dry_run:
            return EXIT_OK
        reading = _wait(ctx, family, image, replicas, policy.timeout)
        if reading.outcome != services.DONE:
            ctx.docker.change(services.remove(family), check=False)
            why = "; ".join(reading.failures) or reading.message or "its tasks did not come up"
            marks.image = None
            ctx.save(recorded)
            entry.running = None
            raise _failed(f"{entry.container} did not come up ({why}); it was removed, as nothing ran before it",
                          EXIT_ROLLED_BACK, None)  # fmt: skip
    else:
        if marks.stopped_replicas is not None and replicas is not None:
            ctx.docker.change(services.scale(family, marks.stopped_replicas or replicas))
        ctx.docker.change(services.update_image(family, image, swarm, has_volumes), timeout=_update_time(swarm))
        if ctx.dry_run:
            return EXIT_OK
        reading = _wait(ctx, family, image, replicas, policy.timeout)
        if reading.outcome == services.ROLLED_BACK:
            entry.running = f"{entry.container} ({marks.image})"
            why = "; ".join(reading.failures) or reading.message
            raise _failed(f"swarm rolled {entry.container} back to {marks.image}: {why}", EXIT_ROLLED_BACK,
                          entry.running)  # fmt: skip
        if reading.outcome != services.DONE:
            entry.running = entry.container
            nodes = "; ".join(f"{node}: {', '.join(tasks)}" for node, tasks in reading.nodes.items())
            raise _failed(f"{entry.container} is left degraded ({reading.message or 'tasks short'}): {nodes}",
                          EXIT_ROLLBACK_FAILED, entry.running)  # fmt: skip
    marks.previous, marks.image, marks.stopped_replicas = marks.image, image, None
    ctx.save(recorded)
    entry.running = entry.container
    print(entry.container, file=ctx.stdout, flush=True)
    return EXIT_OK


def _update_time(swarm: object) -> float:
    """docker service update --detach=false waits for every batch and its monitor."""
    replicas = getattr(swarm, "replicas", 1) or 1
    batches = -(-replicas // max(getattr(swarm, "update_parallelism", 1), 1))
    return 120.0 + 2 * batches * (getattr(swarm, "monitor", 15) + 30)


def _wait(ctx: Context, family: str, image: str, replicas: int | None, timeout: float) -> services.Reading:
    """Poll until the update is no longer under way and the tasks settled (or time is up)."""
    digest = image.rpartition("@")[2]
    deadline = time.monotonic() + timeout
    while True:
        document = service_document(ctx, family) or {}
        reading = services.read_update(document, task_lines(ctx, family), digest, replicas)
        if reading.outcome in (services.DONE, services.ROLLED_BACK) or time.monotonic() > deadline:
            return reading
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
    replicated = ((document.get("Spec") or {}).get("Mode") or {}).get("Replicated")
    if replicated is None:
        raise DockervisorError(f"{entry.container} is a global service: it runs on every node, and is not scaled")
    count = int(replicated.get("Replicas") or 0)
    if count == 0:
        entry.outcome, entry.running = "no-op", None
        return EXIT_OK
    from dockervisor.config.swarmpolicy import ServiceMarks

    marks = recorded.service or ServiceMarks()
    recorded.service = marks
    marks.stopped_replicas = count
    ctx.save(recorded)  # first: a kill -9 after the scale still knows the count
    ctx.docker.change(services.scale(family, 0))
    entry.running = None
    ctx.done(f"would scale {entry.container} to 0", f"{entry.container} scaled from {count} to 0")
    return EXIT_OK
