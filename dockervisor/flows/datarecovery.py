"""The repair of a data change that a kill -9 cut short, run by the next
command that takes the family's lock (Context.family_change calls
`repair_interrupted` right after taking it).

What a run writes in its journal (store/journal.py), and when:

1. `restore`, `start ... --with-data` and a snapshot-taking `start new`
   write a journal before they change anything (before the start stops what
   runs): the container that runs (`running`), to come back to. A backup
   writes one before it pauses: the container it pauses and its partial
   archive.
2. Once the snapshot of the data before is whole on disk (renamed into
   place, synced), its path (`before`).
3. Just before a restore writes into a volume: the archive and where each of
   its mount points goes (`restore`).
4. On its way out, whatever the outcome, the run removes its journal; its
   own history entry closes it too (see journal.is_closed).

What the repair does with a journal left by a run that died (crash points):

- Killed before (2), while the container that ran is stopped or its data
  copied: nothing was written into a volume; the data is whole. The partial
  snapshot is swept; `running` is started again.
- Killed between (2) and the end: the data may be half restored, or changed
  by a new container that was starting. It is put back from `before`, with
  every container of the family stopped first, and `running` is started
  again: the interrupted change is undone as a whole, as a rollback would
  have, and never finished. Why back and not forward: `before` is always
  there once a volume may have changed (step 2 comes before step 3), it is
  the data the container that ran before can run on (a `--with-data` start
  or an upgrade killed mid-way would otherwise leave the old container on
  the new data), it is ours (a restored archive is the user's file, and may
  be gone), and a put-back cut short by a kill is itself repaired by
  putting the same snapshot back again. Only when there was no data to take
  a snapshot of (no container of the family existed), the restore of the
  archive is done again instead.
- A backup killed while its container was paused: the container is unpaused
  and the partial archive removed.

The repair says what it did in one line on stderr and in a history entry
(action `repair`) naming the interrupted command. If it fails, its journal
stays for the next command to try again; commands that would start the
family or copy its data refuse meanwhile, the others say so and go on.
Partial archives (`.NAME.PID.partial`) of runs that are gone are swept too.
"""

from __future__ import annotations

import atexit
import os
import re
import time

from dockervisor.engine import argv as docker_argv, query
from dockervisor.store import history, journal, paths, state
from dockervisor.store.journal import Journal
from dockervisor.core.errors import DockervisorError

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.flows.context import Context
    from dockervisor.store.archive import ArchivedMount

# datacopy and archive (tarfile) are imported only for a repair: every change
# of every family comes through here, and most have nothing to repair.

_PARTIAL = re.compile(r"\.(?P<base>.+)\.(?P<pid>[0-9]{1,10})\.partial")


def begin(ctx: Context, family: str, action: str) -> Journal | None:
    """A journal for this run, not yet written (None on a dry run); the run
    removes it on its way out, whatever the outcome (a kill -9 excepted)."""
    if ctx.dry_run:
        return None
    started = Journal(family, action, ctx.command_line)
    atexit.register(_remove_quietly, started)
    return started


def _remove_quietly(started: Journal) -> None:
    try:
        started.remove()
    except DockervisorError:
        pass  # the next run finds it closed (this run's history entry, or it is gone)


def repair_interrupted(ctx: Context, family: str, action: str) -> None:
    """What a killed run left of the family: repaired, said and recorded."""
    try:
        _repair_all(ctx, family, action)
    except BaseException:
        ctx.docker.inherit_fds = ()  # the lock goes with the exception: no child may be handed it
        raise


def _repair_all(ctx: Context, family: str, action: str) -> None:
    _sweep_partials(ctx, family)
    _sweep_journal_leftovers(family)
    journals, damaged = journal.found(family)
    refuses = action.startswith("start") or action == "backup"
    for message in damaged.values():
        if refuses:
            raise DockervisorError(f"{message}; move it aside (mv it to a .bad name) once the "
                                   f"family's data is checked")  # fmt: skip
        ctx.info(f"warning: {message}")
    # Judged all at once: a repair's own history entry must not close the others.
    left = [j for j in journals if not journal.is_closed(j)]
    for closed in journals:
        if closed not in left:
            closed.remove()
    for interrupted in left:
        try:
            said = _repair(ctx, interrupted)
        except DockervisorError as error:
            problem = (f"`{interrupted.command}` (pid {interrupted.pid}) was interrupted, and its "
                       f"repair failed: {error.message}")  # fmt: skip
            _record(ctx, family, interrupted.running, "failed", problem)
            interrupted.killed = True  # entries from now on are not the run's own: open until repaired
            interrupted.write()
            if refuses:
                raise DockervisorError(f"{problem}; nothing else was done") from None
            ctx.info(f"warning: {problem}")
            continue
        interrupted.remove()
        message = f"`{interrupted.command}` (pid {interrupted.pid}) was interrupted before it finished; {said}"
        ctx.info(message)
        _record(ctx, family, interrupted.running, "repaired", message)


def _repair(ctx: Context, interrupted: Journal) -> str:
    image, done = interrupted.image, []
    if interrupted.partial and _remove_if_there(interrupted.partial):
        done.append(f"removed its partial archive {interrupted.partial}")
    if interrupted.pause and _is_paused(ctx, interrupted.pause):
        ctx.docker.change(docker_argv.unpause(interrupted.pause))
        done.append(f"unpaused {interrupted.pause}")
    source, into = _data_to_put_back(interrupted)
    if source is not None:
        from dockervisor.flows import datacopy

        running = [c.name for c in query.family_containers(ctx.docker, image) if c.active]
        if running:  # nothing may write into the volumes meanwhile
            ctx.docker.change(docker_argv.stop(running))
            done.append(f"stopped {', '.join(running)}")
        datacopy.restore(ctx, source, image, datacopy.helper_image(ctx, image), into)
        what = "put the data back from the snapshot" if source == interrupted.before else "restored again"
        done.append(f"{what} {source}")
    if interrupted.running:
        done.extend(_start_again(ctx, interrupted.running, image))
    return "; ".join(done) or "nothing was left to repair"


def _data_to_put_back(interrupted: Journal) -> tuple[str | None, list[tuple[int, ArchivedMount]]]:
    """The archive whose data the family gets back, and where it goes; None
    if no volume can have changed."""
    from dockervisor.store import archive
    from dockervisor.store.archive import ArchivedMount

    if interrupted.before is not None:
        manifest = archive.check(interrupted.before)
        if manifest.family != interrupted.image:
            raise DockervisorError(f"{interrupted.before} is not a snapshot of {interrupted.image!r}")
        return interrupted.before, list(enumerate(manifest.mounts))
    if interrupted.restore is not None:
        path = interrupted.restore["archive"]
        archive.check(path)
        into = [(index, ArchivedMount(target, kind, source))
                for index, target, kind, source in interrupted.restore["into"]]  # fmt: skip
        return path, into
    return None, []


def _start_again(ctx: Context, name: str, family: str) -> list[str]:
    """Start what ran before, unless something of the family runs (or it is gone)."""
    containers = query.family_containers(ctx.docker, family)
    if any(c.active for c in containers) or not any(c.name == name for c in containers):
        return []
    ctx.docker.change(docker_argv.start(name))
    try:
        recorded = state.load(family)
        if recorded.last != name:
            recorded.last = name
            state.save(recorded)
    except DockervisorError as error:
        return [f"started {name} again, but `last` could not be recorded ({error.message})"]
    return [f"started {name} again"]


def _is_paused(ctx: Context, name: str) -> bool:
    document = query.inspect_container(ctx.docker, name)
    return bool(document and (document.get("State") or {}).get("Paused"))


def _record(ctx: Context, family: str, container: str | None, outcome: str, message: str) -> None:
    entry = history.Entry("repair", ctx.command_line)
    entry.container, entry.outcome, entry.message = container, outcome, message
    history.append(family, entry, time.time())


def _sweep_partials(ctx: Context, family: str) -> None:
    """Partial archives in the family's snapshots and backups directories
    whose run is gone: a run that was killed while it wrote them."""
    for directory in (paths.snapshots_dir(family), paths.backups_dir(family)):
        if not (paths.existing_private_dir(os.path.dirname(directory)) and paths.existing_private_dir(directory)):
            continue
        with paths.reported("list", directory):
            names = os.listdir(directory)
        for name in names:
            match = _PARTIAL.fullmatch(name)
            if match is None or _run_is_alive(int(match.group("pid"))):
                continue
            path = os.path.join(directory, name)
            if _remove_if_there(path):
                ctx.info(f"removed {path}, left by a run that was killed")


def _sweep_journal_leftovers(family: str) -> None:
    """The temporary file of a journal write a kill cut short (its journal
    is the one before, whole: writes are atomic)."""
    directory = journal.journal_dir()
    if not paths.existing_private_dir(directory):
        return
    leftover = re.compile(re.escape(family) + r"\.[0-9]{1,10}\.json\.(?P<pid>[0-9]{1,10})\.tmp")
    with paths.reported("list", directory):
        names = os.listdir(directory)
    for name in names:
        match = leftover.fullmatch(name)
        if match is not None and not _run_is_alive(int(match.group("pid"))):
            _remove_if_there(os.path.join(directory, name))


def _run_is_alive(pid: int) -> bool:
    return pid == os.getpid() or journal.is_alive(pid)


def _remove_if_there(path: str) -> bool:
    with paths.reported("remove", path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            return False
    return True
