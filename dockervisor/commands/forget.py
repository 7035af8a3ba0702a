"""`dockervisor forget IMAGENAME [--volumes]`: retire a family.

Its containers go, the images only it uses, its tag, and dockervisor's record
of it: state, history, lock. Named volumes hold the family's data, so they stay
unless --volumes is given; the output names them and the command that would
remove them. A family with a container running is refused: stop it first.

The history is one of the files removed, so forget writes no history entry; it
holds the family's lock throughout, and removes the lock file last.
"""

from __future__ import annotations

import os
import shlex

from dockervisor.engine import argv as docker_argv, query
from dockervisor.store import paths, state
from dockervisor.commands.common import active_names
from dockervisor.flows.ownership import strangers
from dockervisor.store.state import require_known_family
from dockervisor.commands.prune import Removal, execute, plan_removal, report_lines, short_reference
from dockervisor.flows.context import Context
from dockervisor.core.errors import EXIT_OK, DockervisorError
from dockervisor.config.names import is_volume_name


def forget(ctx: Context, family: str, remove_volumes: bool) -> int:
    with ctx.family_held(family):
        recorded = state.load(family)
        everyone, dangling = query.all_containers_and_dangling(ctx.docker, family)
        labelled = [c for c in everyone if c.family == family]
        members = ctx.docker.members(family, labelled)
        require_known_family(family, members, strangers(labelled, members))
        running = active_names(members)
        if running:
            raise DockervisorError(
                f"{', '.join(running)} of {family!r} is running; stop it first with "
                f"`dockervisor stop {family}`, then forget the family"
            )
        removal = plan_removal(ctx, family, members, everyone, dangling, own_tag=f"{family}:latest")
        volumes = _family_volumes(ctx, removal, recorded)
        execute(ctx, removal)
        for line in report_lines(removal, ctx.dry_run):
            print(line, file=ctx.stdout)
        if ctx.dry_run:
            for argv in removal.commands:
                print(shlex.join(argv), file=ctx.stdout)
        notes = [f"kept image {short_reference(i)}: {why}" for i, why in removal.kept_images.items()]
        for note in notes + removal.skipped:
            ctx.info(f"{family}: {note}")
        if len(removal.removed_containers) < len(members):
            raise DockervisorError(
                f"not every container of {family!r} could be removed (see above); its state "
                "and history are kept. Run `dockervisor forget` again once they are stopped"
            )
        _volumes(ctx, family, volumes, remove_volumes)
        _remove_files(ctx, family)
    ctx.stdout.flush()
    return EXIT_OK


def _family_volumes(ctx: Context, removal: Removal, family: state.FamilyState) -> list[str]:
    """The named volumes of the family's own run configuration that exist and
    that no other family's run configuration mounts: never one found on a
    container, which anyone may have made with the family's label."""
    config = family.run_config
    named = {m.source for m in config.mounts if not m.is_host_directory} if config else set()
    wanted = sorted(v for v in named if is_volume_name(v))
    others = _mounted_by_other_families(removal.image, wanted)
    for volume, owner in sorted(others.items()):
        ctx.info(f"{removal.image}: kept volume {volume}: the family {owner} mounts it too")
    return query.existing_volumes(ctx.docker, [v for v in wanted if v not in others])


def _volumes(ctx: Context, family: str, existing: list[str], remove: bool) -> None:
    """The family's named volumes: removed with --volumes, otherwise listed."""
    if not existing:
        return
    command = docker_argv.remove_volumes(existing)
    if not remove:
        print(f"kept volumes {', '.join(existing)}; to remove them: {shlex.join(command)}", file=ctx.stdout)
        return
    result = ctx.docker.change(command, check=False)
    if ctx.dry_run:
        return
    gone = set(result.stdout.split())
    for volume in existing:
        if volume in gone:
            print(f"  volume     {volume}", file=ctx.stdout)
        else:
            line = next((l for l in result.stderr.splitlines() if volume in l), result.stderr.strip())
            ctx.info(f"{family}: kept volume {volume}: {line}")


def _mounted_by_other_families(family: str, volumes: list[str]) -> dict[str, str]:
    """Volumes that another family's run configuration mounts: its data too."""
    owners = {}
    for other in state.known_families():
        if other == family:
            continue
        config = state.load(other).run_config
        for mount in config.mounts if config else []:
            if mount.source in volumes:
                owners.setdefault(mount.source, other)
    return owners


def _remove_files(ctx: Context, family: str) -> None:
    from dockervisor.store import journal

    history = paths.family_history_file(family)
    # Journals of killed runs: what they would repair is gone with the family.
    journals, damaged = journal.found(family)
    # The lock file goes last: this run holds it until it returns.
    files = [paths.family_state_file(family), history, f"{history}.1", paths.family_seen_file(family),
             *(j.path for j in journals), *damaged, paths.family_lock_file(family)]  # fmt: skip
    for path in files:
        if ctx.dry_run:
            if os.path.exists(path):
                print(f"rm {shlex.quote(path)}", file=ctx.stdout)
            continue
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue
        except OSError as error:
            raise DockervisorError(f"cannot remove {path}: {error.strerror}") from None
        print(f"  file       {path}", file=ctx.stdout)
