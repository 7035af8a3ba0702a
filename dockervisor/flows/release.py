"""The release step of `start new` (config/releasepolicy.py): the family's
`release` command, run once in a one-off container of the new image
(oneoff.py) before the new container is created.

Before the old container stops ("before-stop", the default) a failure
changes nothing else: start.py ends the start there, the old container
untouched. After it stopped ("after-stop") the step runs inside the switch
(switch.py), whose rollback puts the data back and brings the old container
back. Either way the history entry gets a `release` object: how it ended,
docker's exit code, how long it ran, and its last lines of output, with the
values the container was handed hidden.
"""

from __future__ import annotations

from dockervisor.core import signals
from dockervisor.core.errors import DockervisorError
from dockervisor.flows import oneoff

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.config.releasepolicy import ReleasePolicy
    from dockervisor.config.runconfig import RunConfig
    from dockervisor.engine.query import ContainerSummary
    from dockervisor.flows.context import Context
    from dockervisor.store.history import Entry
    from dockervisor.store.state import FamilyState

# Lines of the release's output the history and the error message keep.
KEPT_LINES = 20


class Release:
    """The step, ready to run: `run()` is None once it succeeded, else why not."""

    def __init__(
        self, ctx: Context, family: str, config: RunConfig, policy: ReleasePolicy, image: str,
        env: dict[str, str], entry: Entry,
    ) -> None:  # fmt: skip
        self.ctx, self.family, self.config, self.policy = ctx, family, config, policy
        self.image, self.env, self.entry = image, env, entry

    def run(self) -> str | None:
        """Run it; the reason it failed, or None. An interruption is recorded,
        the one-off removed, then raised: the caller rolls back."""
        import shlex

        ctx, policy = self.ctx, self.policy
        ctx.info(
            f"{'would run' if ctx.dry_run else 'running'} the release step `{shlex.join(policy.command)}` "
            f"from {self.image.split(':')[-1][:12]} (up to {policy.timeout:g}s)"
        )
        try:
            ended = oneoff.run_captured(ctx, self.family, self.config, self.image, policy.command, self.env,
                                        policy.timeout)  # fmt: skip
        except KeyboardInterrupt as interruption:
            signum = getattr(interruption, "signum", None) or 2
            self._record("interrupted", None, [], None, f"interrupted by {signals.signal_name(signum)}")
            raise
        except DockervisorError as error:  # docker could not create or start it
            self._record("failed", None, [], None, error.message)
            return f"the release step could not run: {error.message}"
        if ctx.dry_run:
            return None
        if ended.exit_code == 0:
            self._record("ok", 0, ended.tail, ended.seconds)
            ctx.info(f"the release step succeeded in {ended.seconds:.1f}s")
            return None
        if ended.exit_code is None:
            said = f"did not finish within {policy.timeout:g}s and was stopped"
            self._record("timed-out", None, ended.tail, ended.seconds, said)
        else:
            said = f"exited with code {ended.exit_code}"
            self._record("failed", ended.exit_code, ended.tail, ended.seconds)
        last = ended.tail[-1:]
        return f"the release step {said}" + (f" (its last line: {last[0]})" if last else " (it printed nothing)")

    def _record(
        self, outcome: str, exit_code: int | None, tail: list[str], seconds: float | None, reason: str | None = None
    ) -> None:
        if self.ctx.dry_run:
            return
        self.entry.release = {
            "outcome": outcome,
            "exit_code": exit_code,
            "when": self.policy.when,
            "image_id": self.image,
            "seconds": round(seconds, 3) if seconds is not None else None,
            "output": tail[-KEPT_LINES:],  # hidden as they were shown
            **({"reason": reason} if reason else {}),
        }


def journal_running(ctx: Context, recorded: FamilyState, containers: list[ContainerSummary], entry: Entry) -> None:
    """An "after-stop" release without a data step (which writes its own):
    a journal naming the container that runs, written before the switch
    stops it, so that a kill -9 during a release of up to its time limit
    leaves the next command of the family to start it again
    (datarecovery.py), not a service down with no record."""
    from dockervisor.flows import datarecovery

    active = [c.name for c in containers if c.active]
    running = recorded.last if recorded.last in active else next(iter(active), None)
    journal = datarecovery.begin(ctx, recorded.image, entry.action) if running else None
    if journal is not None:
        journal.running = running
        journal.write()
