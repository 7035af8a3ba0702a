"""`dockervisor restore IMAGENAME FILE`: make the family's data exactly an
archive's, with a snapshot of the current data first, so that it can be
undone; the container that ran is stopped meanwhile, then started again and
waited for, with the usual rollback (data included) if it does not come up."""

from __future__ import annotations

import os

from dockervisor.flows import datacopy
from dockervisor.core import signals
from dockervisor.engine import query
from dockervisor.store import state
from dockervisor.commands.common import active_names
from dockervisor.flows.context import Context
from dockervisor.flows.datasteps import DataStep, checked
from dockervisor.core.errors import EXIT_OK, EXIT_ROLLBACK_FAILED, DockervisorError, StartFailed
from dockervisor.flows.switch import Switch
from dockervisor.flows.waiting import WaitPolicy


def restore(ctx: Context, family: str, path: str, policy: WaitPolicy) -> int:
    path = os.path.abspath(path)
    with ctx.family_change(family, "restore") as entry:
        recorded = state.load(family)
        if recorded.run_config is None:
            raise DockervisorError(f"no run configuration is recorded for {family!r}; build it first")
        containers = query.family_containers(ctx.docker, family)
        running = active_names(containers)
        target = (recorded.last if recorded.last in running else running[0]) if running else (
            recorded.last if recorded.last in {c.name for c in containers} else None
        )
        # Checked whole before anything changes: the family, its mount points, the helper.
        restore_ = checked(ctx, recorded, path, target, f"the archive {path}")
        helper = datacopy.helper_image(ctx, family)
        step = DataStep(recorded, containers, entry, helper, target, restore_, comes_back=bool(running))
        step.begin(ctx, containers)
        if running:
            assert target is not None
            return Switch(ctx, recorded, containers, target, policy, entry, data=step, restart=True).run()
        entry.container = target
        _while_stopped(ctx, step)
    if target is not None:
        ctx.info(f"nothing of {family!r} was running, so nothing was started; `dockervisor start last "
                 f"{family}` starts {target} on this data")  # fmt: skip
    return EXIT_OK


def _while_stopped(ctx: Context, step: DataStep) -> None:
    """Nothing runs: snapshot and restore; if that fails, put the data back."""
    try:
        step.before_start(ctx, None)
    except (Exception, KeyboardInterrupt) as failure:  # a bug too: the data goes back first
        if isinstance(failure, DockervisorError):
            reason = failure.message
        elif isinstance(failure, KeyboardInterrupt):
            reason = f"it was interrupted by {signals.signal_name(getattr(failure, 'signum', 2))}"
        else:
            reason = f"dockervisor hit an internal error ({type(failure).__name__}: {failure})"
        with signals.deferred("putting the data back first; it will not be abandoned", resume=False):
            try:
                said = step.put_back(ctx, "nothing was started")
            except Exception as error:  # DockervisorError, or a bug: said, never half-way
                told = error.message if isinstance(error, DockervisorError) else f"{type(error).__name__}: {error}"
                raise StartFailed(
                    f"RESTORE FAILED. The restore failed ({reason}), and {told}",
                    EXIT_ROLLBACK_FAILED,
                    "rollback-failed",
                ) from None
        if not isinstance(failure, DockervisorError):
            raise  # an interruption, or a bug whose traceback comes now that the data is back
        raise DockervisorError(f"the restore failed: {reason}; {said}") from None
