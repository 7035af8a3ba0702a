"""What every command is handed: the engine and its executor, the streams,
and the run's mode; and how a change of a family is held and recorded."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dockervisor.core import signals
from dockervisor.store import history
from dockervisor.core.errors import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_ROLLBACK_FAILED,
    EXIT_ROLLED_BACK,
    DockervisorError,
)
from dockervisor.engine.executor import Executor
from dockervisor.store.locking import family_lock

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from typing import TextIO

    from dockervisor.engine.contexts import Engine
    from dockervisor.store.state import FamilyState
    from dockervisor.flows.reporting import Reporting

_OUTCOME_BY_EXIT_CODE = {EXIT_ROLLED_BACK: "rolled-back", EXIT_ROLLBACK_FAILED: "rollback-failed"}


class Context:
    def __init__(
        self,
        command_line: str,
        dry_run: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.command_line = command_line
        self.dry_run = dry_run
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.engine = engine
        self.docker = Executor(dry_run, self.stdout, self.stderr, engine.flags if engine else ())
        self.docker.members = self._members
        # Run first under every family's lock: the command line's contexts repair
        # what a killed run left (cli/parsing.py sets it; flows sit above this).
        self.repair: Callable[[Context, str, str], None] | None = None
        self.wide = False  # tables: every column, nothing cut, even in a terminal
        # Set by fleet.py when the command covers several engines: tables and
        # JSON documents are collected, to be shown as one, engine by engine.
        self.collected: list[tuple[str, object]] | None = None
        # The outcome document and notifications (cli/parsing.py sets it for
        # changing verbs): None changes nothing of how a change is recorded.
        self.reporting: Reporting | None = None

    def _members(self, family: str, containers: list) -> list:
        """Of the containers labelled as `family`'s, those this state directory
        may act on (see ownership.py). The state is read only when some
        container is not plainly this directory's: adoption is the exception."""
        from dockervisor.flows import ownership
        from dockervisor.store.identity import identity

        me = identity(create=False)  # none yet: nothing here was made with one
        from dockervisor.store import state

        known, adopted = state.family_exists(family), []
        if known and any(c.owner != (me.id if me else "") for c in containers):
            try:
                adopted = state.load(family).adopted
            except DockervisorError:
                pass  # a damaged state file: its own error comes where the command loads it
        return ownership.members(containers, family, me, known, adopted)

    def table(self, columns: list, rows: list[list[str]], colours: list | None = None) -> None:
        """Print a table, or collect it when several engines make one."""
        if self.collected is not None:
            self.collected.append(("table", (columns, rows, colours)))
            return
        from dockervisor.core.output import print_table

        print_table(self.stdout, columns, rows, colours, wide=self.wide)

    def document(self, document: dict) -> None:
        """Print the JSON document, or collect it when several engines make one."""
        if self.collected is not None:
            self.collected.append(("json", document))
            return
        from dockervisor.core.output import print_json

        print_json(self.stdout, document)

    def unlock_hint(self, family: str) -> str:
        """The command that breaks a stale engine lock on `family` of this engine."""
        named = f" --context {self.engine.name}" if self.engine and self.engine.flags else ""
        return f"dockervisor unlock {family}{named}"

    def info(self, message: str) -> None:
        """Progress for the person or the cron mail; stdout stays for results.
        What it quotes from outside (paths, docker's words) cannot drive the terminal."""
        from dockervisor.core.output import printable_lines

        print(f"dockervisor: {printable_lines(message)}", file=self.stderr, flush=True)

    def done(self, would: str, did: str) -> None:
        """Say what was done, or under --dry-run what would be."""
        self.info(would if self.dry_run else did)

    def save(self, family: FamilyState) -> None:
        if not self.dry_run:
            from dockervisor.store import state

            state.save(family)

    @contextmanager
    def family_change(
        self,
        family: str,
        action: str,
        creates: bool = False,
        on_wait: Callable[[], None] | None = None,
    ) -> Iterator[history.Entry]:
        """Hold the family's lock and record the outcome in its history.

        Unless the action `creates` the family (a build), an unknown family
        (a typo) is refused before any file is made for it. Docker children
        that change something inherit the lock while it is held; `on_wait`
        runs once if another run holds it. A dry run takes no lock and writes
        nothing: it must leave no trace.
        """
        if not creates and not _family_exists(family):
            from dockervisor.flows.ownership import strangers
            from dockervisor.store.state import require_known_family
            from dockervisor.engine.query import labelled_containers

            labelled = labelled_containers(self.docker, family)
            mine = self.docker.members(family, labelled)
            require_known_family(family, mine, strangers(labelled, mine))
        entry = history.Entry(action, self.command_line, family, self.engine.name if self.engine else "default")
        entry.started = time.time()
        if self.dry_run:
            yield entry
            return
        with self.family_held(family, on_wait):
            if self.repair is not None:  # what a kill -9 left half done (datarecovery.py)
                self.repair(self, family, action)
            try:
                yield entry
            except DockervisorError as error:
                entry.outcome = getattr(error, "outcome", None) or _OUTCOME_BY_EXIT_CODE.get(
                    error.exit_code, "failed"
                )
                entry.message = error.message
                self._finish(family, entry, error.exit_code)
                raise
            except KeyboardInterrupt as interruption:
                entry.outcome = "interrupted"
                entry.message = f"interrupted by {interruption}" if str(interruption) else None
                self._finish(family, entry, 128 + getattr(interruption, "signum", 2))
                raise
            except Exception as bug:  # a bug: what docker did is recorded, then its traceback
                entry.outcome = getattr(bug, "dockervisor_outcome", "failed")
                entry.message = f"dockervisor failed with an internal error: {type(bug).__name__}: {bug}"
                self._finish(family, entry, getattr(bug, "dockervisor_exit_code", EXIT_FAILED))
                raise
            signum = signals.take_pending()
            if signum is not None:  # it came while docker finished: the work is done
                entry.message = f"{signals.signal_name(signum)} arrived after the change was made"
            self._finish(family, entry, EXIT_OK if signum is None else 128 + signum)
            signum = signum or signals.take_pending()
            if signum is not None:
                raise signals.Interrupted(signum)

    def _finish(self, family: str, entry: history.Entry, exit_code: int) -> None:
        """Record the change; then, when asked for (--json, notifications),
        its outcome document, sent where the admin said. A history that
        cannot be written is still told, then raised."""
        entry.exit_code = exit_code
        entry.seconds = round(time.time() - (entry.started or time.time()), 3)
        reporting = self.reporting
        targets = reporting.targets(family, entry.outcome) if reporting else []
        if reporting is not None and (reporting.json or targets) and entry.running == history.UNKNOWN:
            entry.running = self._running_now(family)
        unrecorded: DockervisorError | None = None
        try:
            self._record(family, entry, exit_code)
        except DockervisorError as error:
            unrecorded = error
        if reporting is not None:
            try:
                self._report(family, entry, reporting, targets, unrecorded)
            except Exception as bug:  # a report never hides what happened, nor changes the exit code
                self.info(f"warning: the outcome could not be reported: {type(bug).__name__}: {bug}")
        if unrecorded is not None:
            raise unrecorded

    def _report(self, family: str, entry: history.Entry, reporting: Reporting, targets: list,
                unrecorded: DockervisorError | None) -> None:  # fmt: skip
        from dockervisor.flows.outcome import document

        said = document(entry, reporting.secrets)
        if unrecorded is not None:
            said["reason"] = unrecorded.message
        reporting.documents.append(said)
        if targets:  # a signal now waits (at most the time limit): the exit code stays the change's
            with signals.deferred("sending the notifications first", resume=False):
                self._notify(family, targets, said)

    def _running_now(self, family: str) -> str | None:
        """What of the family runs, asked of docker, for the outcome document;
        None when docker cannot say (the document must still go out)."""
        from dockervisor.engine.query import active_names, family_containers

        try:
            return ", ".join(active_names(family_containers(self.docker, family))) or None
        except DockervisorError:
            return None

    def _notify(self, family: str, targets: list, said: dict) -> None:
        """Send the document; a failure is a warning and a history entry of its
        own (the change's entry is written first, so a kill now loses nothing)."""
        from dockervisor.flows.notify import deliver

        failures = deliver(targets, said, self.docker, self.stderr)
        if failures:
            entry = history.Entry("notify", self.command_line, family, said.get("engine"))
            entry.outcome = "failed"
            entry.message = "; ".join(f"{f['target']}: {f['error']}" for f in failures)
            entry.notified = failures
            try:
                self._record(family, entry)
            except DockervisorError as error:
                self.info(f"warning: {error.message}")

    @contextmanager
    def family_held(self, family: str, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """The family's locks, its own and (see _engine_lock) the engine's, for
        every change of a family; docker children that change something
        inherit the local one while it is held. A dry run takes neither."""
        if self.dry_run:
            yield
            return
        with family_lock(family, self.command_line, self.stderr, on_wait) as fd, self._engine_lock(
            family, on_wait
        ):
            self.docker.inherit_fds = (fd,)
            try:
                yield
            finally:
                self.docker.inherit_fds = ()

    def _engine_lock(self, family: str, on_wait: Callable[[], None] | None):  # type: ignore[no-untyped-def]
        """The lock the engine itself holds (see engine/lock.py); `on_wait` runs
        at most once for both locks. It costs two docker calls a change, so by
        default it is taken only for an engine other machines can reach too
        (ssh://, tcp://): DOCKERVISOR_ENGINE_LOCK=on takes it for the local
        socket as well, =off never."""
        import os
        from contextlib import nullcontext

        setting = os.environ.get("DOCKERVISOR_ENGINE_LOCK", "auto")
        endpoint = self.engine.endpoint if self.engine else ""
        local = endpoint.startswith(("unix://", "npipe://")) or not endpoint
        if setting == "off" or (setting != "on" and local):
            return nullcontext()
        from dockervisor.flows.enginelock import engine_lock

        name = self.engine.name if self.engine else "default"
        return engine_lock(self.docker, family, self.command_line, name, self.unlock_hint(family),
                           self.stderr, on_wait)  # fmt: skip

    def _record(self, family: str, entry: history.Entry, exit_code: int = EXIT_FAILED) -> None:
        """Append to the history; signals wait, so the record is whole."""
        try:
            with signals.deferred("recording the history first", resume=False):
                history.append(family, entry, time.time())
        except DockervisorError as error:
            ended = entry.outcome + (f": {entry.message}" if entry.message else "")
            raise DockervisorError(
                f"{entry.action} ended ({ended}), but its history entry could not be "
                f"written: {error.message}",
                exit_code,
            ) from None


def _family_exists(family: str) -> bool:
    """state.family_exists, without loading the state module (and the run
    configuration's) for a change that never reads the state: `stop`."""
    from dockervisor.store import paths
    from dockervisor.store.files import exists_private

    return exists_private(paths.family_state_file(family))
