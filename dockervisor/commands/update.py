"""`dockervisor update [IMAGENAME...] [--build PATH]` and `dockervisor check
[IMAGENAME...] [--json]`: follow a registry (or a build directory) unattended.

`update`, for each family: ask the registry (flows/updates.py); a new
digest the policy allows is pulled (by that digest, so a tag moved
meanwhile is not taken unchecked) and recorded; then `start new
--if-changed`, health-gated with everything a start does, starts it unless
the running container already runs that image with that configuration
(outcome no-op). Nothing new, or held back: nothing is pulled or started,
and nothing is written to the history (the outcome document says no-op). A
digest whose start was rolled back is held back until the tag moves on: each
try would stop the service. A family none of whose containers runs is
pulled, not started: a service stopped on purpose stays stopped. Each
family is reported; the exit code is the worst.
"""

from __future__ import annotations

import sys

from dockervisor.core.errors import EXIT_OK, EXIT_ROLLED_BACK, DockervisorError
from dockervisor.core.output import Column, printable, printable_lines
from dockervisor.flows import updates
from dockervisor.flows.fleet import combined_code

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.flows.context import Context
    from dockervisor.flows.waiting import WaitPolicy


def check(ctx: Context, families: list[str], as_json: bool) -> int:
    """Whether an update is available, changing nothing on the engine. A
    family that cannot be checked is an error line, and under --json an
    entry whose status is "unknown" with the reason."""
    families = families or _every_pulled(ctx)
    found: list[dict] = []
    codes = []
    for family in families:
        try:
            plan = updates.plan(ctx, family, record=True)
            found.append(plan.to_dict())
        except DockervisorError as error:
            codes.append(error.exit_code)
            _say_failed(ctx, family, error)
            found.append(updates.Plan.unknown(family, error.message))
    if as_json:
        ctx.document({"families": found})
    elif found:
        rows = [[str(f["image"]), str(f.get("target") or "-"), str(f["status"]), printable(str(f["reason"]))]
                for f in found]  # fmt: skip
        ctx.table([Column("FAMILY"), Column("FOLLOWS", drop=1), Column("UPDATE"), Column("WHY")], rows)
    return combined_code(codes)


def update(ctx: Context, families: list[str], policy: WaitPolicy, build_path: str | None, release: str) -> int:
    if build_path is not None and len(families) != 1:
        raise DockervisorError("--build PATH updates one family: name it (dockervisor update IMAGENAME --build PATH)")
    families = families or _every_pulled(ctx)
    codes = []
    for family in families:
        try:
            codes.append(_update_one(ctx, family, policy, build_path, release))
        except DockervisorError as error:
            codes.append(error.exit_code)
            _say_failed(ctx, family, error)
            _report_unchanged(ctx, family, error.exit_code, error.message)
    return combined_code(codes)


def _update_one(ctx: Context, family: str, policy: WaitPolicy, build_path: str | None, release: str) -> int:
    import copy

    from dockervisor.commands.start import start_new

    fresh = copy.copy(policy)  # what one family's start sets must not carry to the next
    if build_path is not None:
        from dockervisor.commands.build import BuildOptions, build
        from dockervisor.store import state

        if not state.family_exists(family):  # a typo builds no new family
            raise state.unknown_family(family)
        build(ctx, family, build_path, None, BuildOptions(quiet=True))
        if not _runs(ctx, family):
            return EXIT_OK
        return start_new(ctx, family, fresh, {}, [], if_changed=True, release=release)
    found = updates.plan(ctx, family, record=True)
    if found.status != updates.AVAILABLE:  # nothing is pulled, nothing is started
        ctx.info(f"{family}: {found.reason}; nothing to do")
        _report_unchanged(ctx, family, EXIT_OK, found.reason)
        return EXIT_OK
    _pull(ctx, family, found)
    if found.running is None:
        _runs(ctx, family)  # says so
        return EXIT_OK
    if ctx.dry_run:  # nothing was pulled: show the start it would make
        return start_new(ctx, family, fresh, {}, [], release=release)
    try:
        code = start_new(ctx, family, fresh, {}, [], if_changed=True, release=release)
    except DockervisorError as error:
        code = error.exit_code
        if code == EXIT_ROLLED_BACK:
            _held_from_now_on(ctx, family, found)
        raise
    if code == EXIT_ROLLED_BACK:
        _held_from_now_on(ctx, family, found)
    return code


def _held_from_now_on(ctx: Context, family: str, found: updates.Plan) -> None:
    """A digest that was rolled back is not tried again at every run (each
    try stops the service): held back until the tag names another one."""
    import time

    from dockervisor.store import seen

    assert found.digest is not None
    seen.note_rolled_back(family, found.digest, time.time())
    ctx.info(f"{family}: {found.target} ({found.digest[7:19]}) is held back from now on: the next update takes "
             "the tag only once it names another digest")  # fmt: skip


def _runs(ctx: Context, family: str) -> bool:
    """Whether a container of the family runs; if none does, says that none is started."""
    from dockervisor.engine import query

    if any(c.state == "running" for c in query.family_containers(ctx.docker, family)):
        return True
    ctx.info(f"{family}: none of its containers runs, so none is started (a service stopped on purpose stays "
             f"stopped; `dockervisor start new {family}` starts the new image)")  # fmt: skip
    return False


def _pull(ctx: Context, family: str, found: updates.Plan) -> None:
    from dockervisor.commands.pull import pull
    from dockervisor.engine import registry
    from dockervisor.store import state

    recorded = state.load(family)
    overrides_file = recorded.build.get("overrides_file")
    assert found.digest is not None
    pinned = registry.parse(found.target).pinned(found.digest)
    ctx.info(f"{family}: {found.reason}; pulling it")
    pull(ctx, family, found.target, overrides_file if isinstance(overrides_file, str) else None, False, pinned)


def _every_pulled(ctx: Context) -> list[str]:
    families = updates.pulled_families()
    if not families:
        ctx.info("no family was pulled from a registry (`dockervisor pull IMAGENAME REFERENCE` records one)")
    return families


def _say_failed(ctx: Context, family: str, error: DockervisorError) -> None:
    text = error.message if error.message.startswith(f"{family}") else f"{family}: {error.message}"
    print(f"dockervisor: error: {printable_lines(text)}", file=ctx.stderr, flush=True)


def _report_unchanged(ctx: Context, family: str, code: int, reason: str) -> None:
    """A family whose update changed nothing: nothing new (no-op, told to
    nobody), or failed before its start recorded anything (the registry did
    not answer, its state is damaged): its outcome document, a failure sent
    to its notification targets, so that a failing cron job is heard of."""
    reporting = ctx.reporting
    if reporting is None or any(d.get("family") == family for d in reporting.documents):
        return
    named = reporting.family
    reporting.family = family
    try:
        engine = ctx.engine.name if ctx.engine else None
        reporting.failed_before_change(engine, code, reason, ctx.stderr or sys.stderr, ctx.dry_run)
    finally:
        reporting.family = named
