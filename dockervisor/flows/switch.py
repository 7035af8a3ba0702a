"""Make one container the family's only running one, or put things back.

Every start (new, last, stable, by name) comes here: stop whatever else of
the family runs, start the target, wait until it is up, and record it as
"last". If the target does not come up, or anything fails or interrupts the
start after the first change (a docker error, a time-out, SIGINT, SIGTERM,
SIGHUP), the target is stopped (kept for inspection; removed if it never
started) and the container that ran before is started again and waited for.

A `data` step (see datasteps.py) acts on the family's data between the stop
and the start: a snapshot, a restore; if the start fails, it puts the data
back before the container that ran before comes back. A `release` step
(release.py, "after-stop") runs after the data step, before the target is
created: if it fails, the target is never created and the rollback runs.
"""

from __future__ import annotations

from dockervisor.core import signals
from dockervisor.engine import argv as docker_argv, query
from dockervisor.flows.context import Context
from dockervisor.engine.query import ContainerSummary
from dockervisor.core.errors import (
    EXIT_OK,
    EXIT_ROLLBACK_FAILED,
    EXIT_ROLLED_BACK,
    DockerCommandFailed,
    DockervisorError,
    StartFailed,
)
from dockervisor.engine.said import first_line
from dockervisor.store.history import Entry
from dockervisor.store.state import FamilyState
from dockervisor.flows.waiting import WaitPolicy, report_failure, wait_until_up, watch_probation

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn

    from dockervisor.flows.datasteps import DataStep
    from dockervisor.flows.release import Release


# The history's outcome when the previous container could not be brought back.
_ROLLBACK_FAILED = "rollback-failed"


class NewContainer:
    """How to create the target: the real argv, what a dry run shows instead,
    the descriptors (the environment) docker must inherit, and the docker
    commands that must follow it, in order, before it counts as started
    (joining more networks, then `docker start`)."""

    __slots__ = ("argv", "shown", "pass_fds", "then")

    def __init__(
        self,
        argv: list[str],
        shown: list[str],
        pass_fds: tuple[int, ...] = (),
        then: Sequence[list[str]] = (),
    ) -> None:
        self.argv = argv
        self.shown = shown
        self.pass_fds = pass_fds
        self.then = then


class Switch:
    """One start, as a step: what runs now (`others`, stopped first), the
    `target`, the container to come back to (`previous`), how the target is
    created (`new`), the `data` step and the wait `policy`. `run()` goes
    forward; any failure after the first change goes to `roll_back()`.
    `restart` stops the target too if it runs, and comes back to it on
    failure (a restore of what runs)."""

    def __init__(
        self,
        ctx: Context,
        family: FamilyState,
        containers: list[ContainerSummary],
        target: str,
        policy: WaitPolicy,
        entry: Entry,
        new: NewContainer | None = None,
        data: DataStep | None = None,
        restart: bool = False,
        release: Release | None = None,
    ) -> None:
        self.ctx, self.family, self.target, self.policy = ctx, family, target, policy
        self.entry, self.new, self.data, self.release = entry, new, data, release
        self.release_failed = False
        active = [c.name for c in containers if c.active]
        self.others = [name for name in active if name != target]
        self.already_running = new is None and target in active and not restart
        self.previous = _previous(self.others, family.last)
        self.on_probation = False  # up, and watched for the probation
        if restart and target in active:
            self.others, self.previous = [*self.others, target], target

    def run(self) -> int:
        ctx, target = self.ctx, self.target
        self.entry.container, self.entry.previous = target, self.previous
        failure = from_wait = None
        interrupted: int | None = None
        bug: Exception | None = None
        try:
            if self.others:
                ctx.docker.change(docker_argv.stop(self.others))
                ctx.done(f"would stop {', '.join(self.others)}", f"stopped {', '.join(self.others)}")
            if self.data is not None:  # nothing of the family runs now
                self.data.before_start(ctx, self.previous)
            if self.release is not None:  # "after-stop": on the data as the old container left it
                failure = self.release.run()
                self.release_failed = failure is not None
            if failure is None and not self.already_running:
                failure = _start(ctx, target, self.new)
            if failure is None and self.policy.enabled and not ctx.dry_run:
                probe = self.family.run_config.options.probe if self.family.run_config else None
                failure = from_wait = wait_until_up(ctx.docker, target, self.policy.probing(probe), ctx.stderr)
                if failure is None and self.policy.probation:  # still watched: see start.py
                    self.on_probation = True
                    policy = self.policy.probing(probe)
                    failure = from_wait = watch_probation(ctx.docker, target, policy, ctx.stderr)
            signals.raise_pending()  # a signal that came while docker finished a change
        except KeyboardInterrupt as interruption:
            interrupted = getattr(interruption, "signum", None) or 2
            failure = f"it was interrupted by {signals.signal_name(interrupted)}"
        except DockervisorError as error:  # a docker error or time-out mid-way
            failure = error.message
        except Exception as error:  # a bug: the rollback first, then its traceback
            bug = error
            failure = f"dockervisor hit an internal error ({type(error).__name__}: {error})"
        if failure is not None:
            if bug is None:
                return self.roll_back(failure, from_wait, interrupted)
            try:
                self.roll_back(failure, from_wait, interrupted)
            except DockervisorError as outcome:  # StartFailed, or a record that could not be written
                ctx.info(outcome.message)
                bug.dockervisor_outcome = getattr(outcome, "outcome", "failed")  # type: ignore[attr-defined]
                bug.dockervisor_exit_code = outcome.exit_code  # type: ignore[attr-defined]
            raise bug
        return self._done()

    def _done(self) -> int:
        ctx, family, target = self.ctx, self.family, self.target
        if self.already_running and not self.others:
            self.entry.outcome = "no-op" if family.last == target else "ok"
            ctx.info(f"{target} was already running{' and is up' if self.policy.enabled else ''}")
        elif not self.policy.enabled and not ctx.dry_run:
            ctx.info(f"started {target} (not waited for)")
        if not ctx.dry_run:
            print(target, file=ctx.stdout, flush=True)
        recorded, family.last = family.last, target
        self.entry.running = target
        if self.policy.promote and self.policy.enabled and not ctx.dry_run:  # it has proven itself
            family.stable = target
            proven = f"its {self.policy.probation:g}s probation" if self.policy.probation else "the wait"
            self.entry.message = f"promoted to stable after {proven}"
            ctx.info(f"{target} passed {proven} and is now the stable container of {family.image}")
        _record(ctx, family, f"{target} runs", recorded)
        return EXIT_OK

    def roll_back(self, reason: str, from_wait: str | None, interrupted: int | None) -> NoReturn:
        """Put the target away, the data back, and bring `previous` back;
        raises StartFailed saying how that went. A signal now is only noted:
        stopping half-way would leave nothing running."""
        ctx, family, failed, previous = self.ctx, self.family, self.target, self.previous
        with signals.deferred("rolling back first; it will not be abandoned", resume=False):
            interrupted = interrupted or signals.take_pending()
            if from_wait is not None:  # its logs say why it did not come up
                _report(ctx, failed)
            fate = _put_away(ctx, failed, created=self.new is not None)
            if self.release_failed:
                what_failed = reason  # and the fate says it was never created
            elif self.on_probation:
                what_failed = f"{failed} came up, then failed its {self.policy.probation:g}s probation: {reason}"
            elif from_wait is not None:
                what_failed = f"{failed} did not come up: {reason}"
            else:
                what_failed = f"the start of {failed} failed: {reason}"
            if self.data is not None:  # the data goes back first, for what ran before
                fate = self._data_back(fate, what_failed)
            if previous is None:
                self.entry.running = None
                raise StartFailed(
                    f"{what_failed}. Nothing else of {family.image!r} was running before, so "
                    f"there is nothing to roll back to and nothing else changed; {fate}.",
                    EXIT_ROLLED_BACK,
                    "interrupted" if interrupted else "release-failed" if self.release_failed else "failed",
                )
            ctx.info(f"{what_failed}; rolling back to {previous}")
            problem = _bring_back(ctx, previous, self.policy)
            if problem is None:
                _say_running(ctx, [previous])
                self.entry.running = previous
                recorded, family.last = family.last, previous
                _record(ctx, family, f"rolled back to {previous}", recorded)
                raise StartFailed(
                    f"{what_failed}. Rolled back: {previous} is running again; {fate}.",
                    EXIT_ROLLED_BACK,
                    "interrupted" if interrupted else "release-failed" if self.release_failed else "rolled-back",
                    previous,
                )
            running = _running_now(ctx, family.image, self.entry)
            raise StartFailed(
                f"ROLLBACK FAILED. {what_failed}, and {previous}, which ran before, could not "
                f"be brought back: {problem}. Running now: {running}; {fate}. "
                f"Check `dockervisor status {family.image}`.",
                EXIT_ROLLBACK_FAILED,
                _ROLLBACK_FAILED,
                running,
            )

    def _data_back(self, fate: str, what_failed: str) -> str:
        """The data as it was before the start; what to say of it and of the target."""
        assert self.data is not None
        try:
            return self.data.put_back(self.ctx, fate)
        except Exception as error:  # DockervisorError, or a bug: never a traceback mid-way
            said = error.message if isinstance(error, DockervisorError) else (
                f"putting the data back hit {_unexpected(error)}"
            )
            raise StartFailed(
                f"ROLLBACK FAILED. {what_failed}, and {said}. Running now: "
                f"{_running_now(self.ctx, self.family.image, self.entry)}; {fate}.",
                EXIT_ROLLBACK_FAILED,
                _ROLLBACK_FAILED,
            ) from None


def _previous(others: list[str], last: str | None) -> str | None:
    """The container to come back to: "last" if it runs, else the newest running one."""
    if last in others:
        return last
    return others[0] if others else None


def _start(ctx: Context, target: str, new: NewContainer | None) -> str | None:
    """Start or create `target`; the reason it failed, or None."""
    try:
        if new is None:
            ctx.docker.change(docker_argv.start(target))
        else:
            ctx.docker.change(new.argv, pass_fds=new.pass_fds, shown=new.shown)
            for argv in new.then:
                ctx.docker.change(argv)
        return None
    except DockerCommandFailed as error:
        return f"docker could not start it: {error.stderr}"


def _record(ctx: Context, family: FamilyState, done: str, recorded: str | None) -> None:
    """Save the marks; docker already acted, so a failure must say so, and
    which container the state file still names (`recorded`)."""
    try:
        # A signal now is raised once the history has the outcome too.
        with signals.deferred("recording what was done first", resume=False):
            ctx.save(family)
    except DockervisorError as error:
        raise DockervisorError(
            f"{done}, but recording it failed, so `last` still names {recorded!r} "
            f"in the state: {error.message}"
        ) from None


def _report(ctx: Context, failed: str) -> None:
    try:
        report_failure(ctx.docker, failed, ctx.stderr)
    except Exception as error:  # its logs are a courtesy; the rollback goes on
        said = error.message if isinstance(error, DockervisorError) else _unexpected(error)
        ctx.info(f"could not read the logs of {failed}: {said}")


def _put_away(ctx: Context, target: str, created: bool) -> str:
    """Stop the failed target, or remove it if it never started; say which."""
    try:
        document = query.inspect_container(ctx.docker, target)
        if document is None:
            return f"{target} was never created" if created else f"{target} no longer exists"
        status = (document.get("State") or {}).get("Status")
        if created and status == "created":
            ctx.docker.change(docker_argv.remove(target))
            return f"{target} never started and was removed"
        if status in query.ACTIVE_STATES:
            ctx.docker.change(docker_argv.stop([target]))
        return f"{target} is stopped and kept for inspection"
    except Exception as error:  # DockervisorError, or a bug: the rollback goes on
        said = error.message if isinstance(error, DockervisorError) else _unexpected(error)
        return f"{target} could not be put away ({said})"


def _bring_back(ctx: Context, previous: str, policy: WaitPolicy) -> str | None:
    """Start `previous` again and wait for it; the problem, or None."""
    try:
        result = ctx.docker.change(docker_argv.start(previous), check=False)
        if not result.ok:
            return first_line(result.stderr) or f"docker start exited {result.returncode}"
        if policy.enabled:
            return wait_until_up(ctx.docker, previous, policy, ctx.stderr)
        return None
    except DockervisorError as error:
        return error.message
    except Exception as error:  # a bug while bringing it back: said, not raised half-way
        return _unexpected(error)


def _running_now(ctx: Context, family: str, entry: Entry) -> str:
    """What of the family runs after a failed rollback, said in the message,
    named on stdout, as a start names what runs afterwards, and recorded."""
    try:
        running = [c.name for c in query.family_containers(ctx.docker, family) if c.active]
    except Exception as error:  # the message it is for must still be said
        return f"unknown ({error.message if isinstance(error, DockervisorError) else _unexpected(error)})"
    entry.running = ", ".join(running) or None
    _say_running(ctx, running)
    return ", ".join(running) or "nothing"


def _say_running(ctx: Context, names: list[str]) -> None:
    """stdout gets the container that runs afterwards, after a rollback too."""
    if not ctx.dry_run:
        for name in names:
            print(name, file=ctx.stdout, flush=True)


def _unexpected(error: Exception) -> str:
    """A bug met while rolling back, said instead of abandoning the rollback."""
    return f"an internal error ({type(error).__name__}: {error})"
