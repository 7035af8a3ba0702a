"""`dockervisor update [IMAGENAME...] [--build PATH]` and `dockervisor check
[IMAGENAME...] [--json]`: follow a registry (or a build directory) unattended.

`update`, for each family: ask the registry (flows/updates.py); a new
digest the policy allows is pulled (by that digest, so a tag moved
meanwhile is not taken unchecked) and recorded; then `start new
--if-changed`, health-gated with everything a start does, starts it unless
the running container already runs that image with that configuration
(outcome no-op). A family none of whose containers runs is pulled, not
started: a service stopped on purpose stays stopped. Each family is
reported; the exit code is the worst.
"""

from __future__ import annotations

import sys

from dockervisor.core.errors import EXIT_OK, DockervisorError
from dockervisor.core.output import Column, printable_lines
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
            found.append({"image": family, "status": updates.UNKNOWN, "update_available": None, "reason": error.message})
    if as_json:
        ctx.document({"families": found})
    elif found:
        rows = [[f["image"], str(f.get("target") or "-"), f["status"], f["reason"]] for f in found]
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
            _report_unchanged(ctx, family, error)
    return combined_code(codes)


def _update_one(ctx: Context, family: str, policy: WaitPolicy, build_path: str | None, release: str) -> int:
    import copy

    from dockervisor.commands.start import start_new

    if build_path is not None:
        from dockervisor.commands.build import BuildOptions, build

        build(ctx, family, build_path, None, BuildOptions(quiet=True))
    else:
        found = updates.plan(ctx, family, record=True)
        if found.status == updates.HELD:
            ctx.info(f"{family}: {found.reason}; nothing done")
        if found.status == updates.AVAILABLE:
            _pull(ctx, family, found)
        if found.running is None:
            ctx.info(f"{family}: none of its containers runs, so none is started (`dockervisor start new "
                     f"{family}` starts the {'pulled' if found.status == updates.AVAILABLE else 'current'} image)")  # fmt: skip
            return EXIT_OK
        if ctx.dry_run and found.status == updates.AVAILABLE:  # nothing was pulled: show the start it would make
            return start_new(ctx, family, copy.copy(policy), {}, [], release=release)
    # A fresh policy: what one family's start sets must not carry to the next.
    return start_new(ctx, family, copy.copy(policy), {}, [], if_changed=True, release=release)


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


def _report_unchanged(ctx: Context, family: str, error: DockervisorError) -> None:
    """A family whose update failed before its start recorded anything (the
    registry did not answer, its state is damaged): its outcome document, sent
    to its notification targets, so that a failing cron job is heard of."""
    reporting = ctx.reporting
    if reporting is None or any(d.get("family") == family for d in reporting.documents):
        return
    named = reporting.family
    reporting.family = family
    try:
        engine = ctx.engine.name if ctx.engine else None
        reporting.failed_before_change(engine, error.exit_code, error.message, ctx.stderr or sys.stderr, ctx.dry_run)
    finally:
        reporting.family = named
