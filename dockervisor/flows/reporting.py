"""What one run was asked to report of its changes: the outcome documents it
collects (for --json), and where they go (notifications).

Targets come from three places, all used: `--notify TARGET` (repeatable),
DOCKERVISOR_NOTIFY (one target a line), and the family's own `notify`
(dcv-IMAGENAME, recorded at build). When they hear from it: `--notify-on`,
else the family's `notify_on`, else DOCKERVISOR_NOTIFY_ON, else `failure`.
"""

from __future__ import annotations

import os
import time

from dockervisor.config.notifypolicy import DEFAULT_WHEN, WHEN, Target, parse_target, wanted
from dockervisor.core.errors import EXIT_USAGE, DockervisorError

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from typing import TextIO


class Reporting:
    __slots__ = (
        "json", "given", "on", "env_on", "secrets", "documents", "captured", "started", "action", "family",
        "command", "_policies",
    )  # fmt: skip

    def __init__(self, json: bool = False, given: list[Target] | None = None, on: str | None = None) -> None:
        self.json = json  # --json: the documents are printed, not the container names
        self.given = given or []  # --notify and DOCKERVISOR_NOTIFY
        self.on = on  # --notify-on, or None
        self.env_on: str | None = None  # DOCKERVISOR_NOTIFY_ON
        self.secrets: set[str] = set()  # environment values handed to a container: never shown
        self.documents: list[dict] = []
        self.captured: object = None  # under --json, what would have gone to stdout (io.StringIO)
        self.started = time.time()
        # What the command line names, for a failure no change reported (cli/outcome.py sets them).
        self.action: str | None = None
        self.family: str | None = None
        self.command = ""
        self._policies: dict[str, tuple[list[Target], str | None]] = {}

    @classmethod
    def from_command_line(cls, json: bool, typed: list[str], on: str | None) -> Reporting:
        """--json, --notify and --notify-on, with DOCKERVISOR_NOTIFY and
        DOCKERVISOR_NOTIFY_ON; a bad target is a usage error naming where it
        came from, never its text (a URL may carry a token)."""
        given = []
        from_env = [line.strip() for line in os.environ.get("DOCKERVISOR_NOTIFY", "").splitlines() if line.strip()]
        for where, values in (("--notify", typed), ("DOCKERVISOR_NOTIFY", from_env)):
            for index, value in enumerate(values, start=1):
                try:
                    given.append(parse_target(value))
                except ValueError as error:
                    raise DockervisorError(f"{where} (target {index}): {error}", EXIT_USAGE) from None
        if given:  # checked now, as a usage error, not after the change
            from dockervisor.flows.notify import time_limit

            try:
                time_limit()
            except DockervisorError as error:
                raise DockervisorError(error.message, EXIT_USAGE) from None
        env_on = os.environ.get("DOCKERVISOR_NOTIFY_ON") or None
        if env_on is not None and env_on not in WHEN:
            raise DockervisorError(f"DOCKERVISOR_NOTIFY_ON must be one of {', '.join(WHEN)}", EXIT_USAGE)
        reporting = cls(json, given, on)
        reporting.env_on = env_on
        return reporting

    def targets(self, family: str | None, outcome: str) -> list[Target]:
        """Where the outcome of a change of `family` goes; none when it is not wanted."""
        own, own_on = self._policy(family) if family else ([], None)
        every = self.given + [t for t in own if t not in self.given]
        on = self.on or own_on or self.env_on or DEFAULT_WHEN
        return every if every and wanted(outcome, on) else []

    def failed_before_change(self, engine: str | None, exit_code: int, reason: str | None,
                             stderr: TextIO, dry_run: bool = False) -> dict:  # fmt: skip
        """The document of a command that ended before any change reported
        (an engine that does not answer, an unknown family), kept with the
        others and, when it failed, sent (never under --dry-run)."""
        from dockervisor.flows.outcome import hide, without_change

        document = without_change(self.action or "?", self.family, engine, exit_code, reason,
                                  self.command, self.started)  # fmt: skip
        document = hide(document, self.secrets)
        self.documents.append(document)
        targets = self.targets(self.family, document["outcome"]) if exit_code and not dry_run else []
        if targets:
            from dockervisor.engine.executor import Executor
            from dockervisor.flows.notify import deliver

            deliver(targets, document, Executor(False, stderr, stderr), stderr)
        return document

    def _policy(self, family: str) -> tuple[list[Target], str | None]:
        """The family's recorded `notify` and `notify_on`, read straight from
        its state file: a change that never loads the state (stop) pays a
        read, not the run configuration's modules. A file that cannot be read
        was already reported by the command; here it means no targets."""
        if family not in self._policies:
            self._policies[family] = _recorded_policy(family)
        return self._policies[family]


def _recorded_policy(family: str) -> tuple[list[Target], str | None]:
    import json

    from dockervisor.config.notifypolicy import NotifyPolicy
    from dockervisor.store import paths
    from dockervisor.store.files import read_private

    try:
        raw = read_private(paths.family_state_file(family))
        recorded = json.loads(raw) if raw else {}
        notify = recorded.get("notifications") if isinstance(recorded, dict) else None
        if notify is None:
            return [], None
        policy = NotifyPolicy.from_dict(notify)
    except (DockervisorError, ValueError, RecursionError):
        return [], None
    return policy.targets, policy.on
