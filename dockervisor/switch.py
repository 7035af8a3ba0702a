"""Make one container the family's only running one, or put things back.

Every start (new, last, stable, by name) comes here: stop whatever of the
family runs, start the target, wait until it is up, and record it as "last".
If the target does not come up, it is stopped (and kept for inspection), and
the container that ran before is started again.
"""

from __future__ import annotations

from dockervisor import docker_argv, engine
from dockervisor.context import Context
from dockervisor.engine import ContainerSummary
from dockervisor.errors import (
    EXIT_OK,
    EXIT_ROLLBACK_FAILED,
    EXIT_ROLLED_BACK,
    DockerCommandFailed,
    DockervisorError,
)
from dockervisor.history import Entry
from dockervisor.state import FamilyState
from dockervisor.waiting import WaitPolicy, report_failure, wait_until_up


def bring_up(
    ctx: Context,
    family: FamilyState,
    containers: list[ContainerSummary],
    target: str,
    policy: WaitPolicy,
    entry: Entry,
    run_argv: list[str] | None = None,
) -> int:
    """Run `target` as the family's one container; `run_argv` creates it first."""
    entry.container = target
    active = [c for c in containers if c.active]
    others = [c.name for c in active if c.name != target]
    if run_argv is None and any(c.name == target for c in active):
        if others:
            ctx.docker.change(docker_argv.stop(others))
            ctx.info(f"stopped {', '.join(others)}; {target} was already running")
        else:
            ctx.info(f"{target} is already running; nothing to do")
            entry.outcome = "no-op"
        return EXIT_OK

    previous = _previous(active, family.last)
    if others:
        ctx.docker.change(docker_argv.stop(others))
        ctx.info(f"stopped {', '.join(others)}")

    failure = _start(ctx, target, run_argv)
    if failure is None and not ctx.dry_run and policy.enabled:
        try:
            failure = wait_until_up(ctx.docker, target, policy, ctx.stderr)
        except KeyboardInterrupt:
            # Interrupting an unconfirmed start means "abort it", and an abort
            # must not leave the new container up and the old one stopped.
            failure = "the wait was interrupted"
        if failure is not None:
            report_failure(ctx.docker, target, ctx.stderr)
            ctx.docker.change(docker_argv.stop([target]), check=False)
    if failure is not None:
        return _roll_back(ctx, family, target, previous, failure, policy)

    if not ctx.dry_run:
        print(target, file=ctx.stdout, flush=True)
        if not policy.enabled:
            ctx.info(f"started {target} (not waited for)")
    family.last = target
    ctx.save(family)
    return EXIT_OK


def _previous(active: list[ContainerSummary], last: str | None) -> str | None:
    """The container to come back to: "last" if it runs, else the newest running one."""
    names = [c.name for c in active]
    if last in names:
        return last
    return names[0] if names else None


def _start(ctx: Context, target: str, run_argv: list[str] | None) -> str | None:
    """Start or create `target`; the reason it failed, or None."""
    try:
        if run_argv is None:
            ctx.docker.change(docker_argv.start(target))
        else:
            ctx.docker.change(run_argv)
        return None
    except DockerCommandFailed as error:
        if run_argv is not None and engine.inspect_container(ctx.docker, target) is not None:
            # `docker run` leaves a created-but-never-started container behind
            # when starting fails (a port taken): it holds nothing to inspect.
            ctx.docker.change(docker_argv.remove(target), check=False)
        return f"docker could not start it: {error.stderr.strip() or error.message}"


def _roll_back(
    ctx: Context,
    family: FamilyState,
    failed: str,
    previous: str | None,
    reason: str,
    policy: WaitPolicy,
) -> int:
    what_failed = f"{failed} did not come up: {reason}"
    if previous is None:
        raise DockervisorError(
            f"{what_failed}. Nothing of {family.image!r} was running before, so there "
            "is nothing to roll back to; the failed container is stopped.",
            EXIT_ROLLED_BACK,
        )
    ctx.info(f"{what_failed}; rolling back to {previous}")
    result = ctx.docker.change(docker_argv.start(previous), check=False)
    problem = None if result.ok else result.stderr.strip()
    if problem is None and policy.enabled:
        problem = wait_until_up(ctx.docker, previous, policy, ctx.stderr)
    if problem is None:
        family.last = previous
        ctx.save(family)
        raise DockervisorError(
            f"{what_failed}. Rolled back: {previous} is running again; {failed} is "
            "stopped and kept for inspection.",
            EXIT_ROLLED_BACK,
        )
    running = [c.name for c in engine.family_containers(ctx.docker, family.image) if c.active]
    raise DockervisorError(
        f"ROLLBACK FAILED. {what_failed}, and {previous}, which ran before, could not "
        f"be brought back: {problem}. Running now: {', '.join(running) or 'nothing'}. "
        f"Check `dockervisor status {family.image}`.",
        EXIT_ROLLBACK_FAILED,
    )
