"""`dockervisor stable [mark] IMAGENAME [CONTAINERNAME]` and `stable show IMAGENAME`."""

from __future__ import annotations

from dockervisor.engine import query
from dockervisor.store import state
from dockervisor.commands.common import active_names
from dockervisor.store.state import require_known_family
from dockervisor.flows.context import Context
from dockervisor.core.errors import EXIT_FAILED, EXIT_OK, DockervisorError
from dockervisor.core.output import plural
from dockervisor.flows.waiting import has_healthcheck

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.store.history import Entry


def mark(ctx: Context, family: str, container: str | None = None, force: bool = False) -> int:
    """Mark the running container (or `container`) stable, if it is up."""
    seen_when_typed: list[list[str]] = []

    def before_waiting() -> None:  # another run holds the lock: note what runs now
        seen_when_typed.append(active_names(query.family_containers(ctx.docker, family)))

    with ctx.family_change(family, "stable mark", on_wait=before_waiting) as entry:
        recorded = state.load(family)
        if recorded.swarm is not None:
            return _mark_service(ctx, recorded, entry, container, force)
        containers = query.family_containers(ctx.docker, family)
        running = active_names(containers)
        entry.running = ", ".join(running) or None  # a mark changes what is marked, never what runs
        if container is None:
            target = _the_running_one(family, running, seen_when_typed)
        elif container in {c.name for c in containers}:
            target = container
        else:
            raise DockervisorError(
                f"{container!r} is not a container of {family!r}; see "
                f"`dockervisor list containers {family}`"
            )
        document = query.inspect_container(ctx.docker, target)
        problem = _not_up(document)
        if problem and not force:
            raise DockervisorError(
                f"{target} is {problem}, so it is not marked stable: a rollback to it "
                "would not come up; mark it anyway with --force"
            )
        entry.previous = recorded.stable  # the container marked before
        entry.container = recorded.stable = target
        _record_image(ctx, recorded, document, entry)
        if problem:
            entry.message = f"marked with --force while {problem}"
        ctx.save(recorded)
    ctx.done(f"would mark {target} stable (no docker command: the state only)",
             f"{target} is now the stable container of {family}")  # fmt: skip
    return EXIT_OK


def _mark_service(ctx: Context, recorded: state.FamilyState, entry: Entry, named: str | None, force: bool) -> int:
    """A Swarm family: the image its service runs now is marked, if a task
    runs it (or with --force)."""
    from dockervisor.engine import services
    from dockervisor.flows import servicestarts

    servicestarts.require_manager(ctx, recorded.image)
    document = servicestarts.service_document(ctx, recorded.image)
    marks = servicestarts.reconcile(ctx, recorded, document) if document is not None else None
    if named is not None:
        raise DockervisorError(f"{recorded.image} is a Swarm service: `stable` marks the image it runs, no container")
    if marks is None or marks.image is None or marks.stopped_replicas is not None:
        raise DockervisorError(f"{services.service_name(recorded.image)} is not running; start it first")
    digest = marks.image.rpartition("@")[2]
    up = [t for t in servicestarts.task_lines(ctx, recorded.image)
          if str(t.get("CurrentState", "")).startswith("Running") and str(t.get("Image", "")).endswith(digest)]  # fmt: skip
    if not up and not force:
        raise DockervisorError(f"no task of {services.service_name(recorded.image)} runs {marks.image}, so it is not "
                               "marked stable: a rollback to it would not come up; mark it anyway with --force")  # fmt: skip
    entry.previous, entry.digest = marks.stable, marks.image
    entry.container = entry.running = services.service_name(recorded.image)
    marks.stable = marks.image
    ctx.save(recorded)
    ctx.done(f"would mark {marks.image} stable", f"{marks.image} is now the stable image of {recorded.image}")
    return EXIT_OK


def _the_running_one(family: str, running: list[str], seen_when_typed: list[list[str]]) -> str:
    if seen_when_typed and seen_when_typed[0] != running:
        now = ", ".join(running) or "nothing"
        raise DockervisorError(
            f"while this waited for the lock, what runs of {family!r} changed from "
            f"{', '.join(seen_when_typed[0]) or 'nothing'} to {now}; nothing is marked. "
            f"To mark what runs now, run the command again"
        )
    if not running:
        raise DockervisorError(
            f"nothing of {family!r} is running, so there is nothing to mark stable; "
            "start the container you trust first"
        )
    if len(running) > 1:
        raise DockervisorError(
            f"several containers of {family!r} are running ({', '.join(running)}); "
            "start the one you trust with dockervisor, then mark it"
        )
    return running[0]


def _record_image(ctx: Context, recorded: state.FamilyState, document: dict | None, entry: Entry) -> None:
    """The marked container's image, and for a family pulled from a registry
    the repository digest it runs: what `start stable` brings back, whatever
    the tag names by then (one more docker call, for pulled families only)."""
    entry.image_id = (document or {}).get("Image") or None
    if entry.image_id and recorded.build.get("source") == "pull":
        image = query.inspect_image(ctx.docker, entry.image_id) or {}
        entry.digest = next(iter(image.get("RepoDigests") or []), None)


def _not_up(document: dict | None) -> str | None:
    """Why the container of `document` is not up (running, not restarting,
    healthy if it has a HEALTHCHECK), or None."""
    if document is None:
        return "gone"
    status = (document.get("State") or {}).get("Status")
    restarts = query.restarts(document)
    if status == "restarting" or (document.get("State") or {}).get("Restarting") or restarts:
        # Between two restarts a crash loop looks "running": the count tells.
        return f"restarting (it exited and was restarted {plural(restarts, 'time')} since it was started)"
    if status != "running":
        return str(status or "in an unknown state")
    health = ((document.get("State") or {}).get("Health") or {}).get("Status")
    if has_healthcheck(document) and health != "healthy":
        return f"running but {health or 'without a health status'}"
    return None


def show(ctx: Context, family: str, as_json: bool) -> int:
    recorded = state.load(family)
    containers = query.family_containers(ctx.docker, family)
    require_known_family(family, containers)
    found = {c.name: c for c in containers}.get(recorded.stable or "")
    if as_json:
        ctx.document(
            {
                "image": family,
                "stable": recorded.stable,
                "exists": found is not None,
                "state": found.state if found else None,
            },
        )
        return EXIT_OK if recorded.stable else EXIT_FAILED
    if recorded.stable is None:
        raise DockervisorError(f"no container of {family!r} is marked stable")
    print(recorded.stable, file=ctx.stdout)
    if found is None:
        ctx.info(f"warning: {recorded.stable} no longer exists")
    return EXIT_OK
