"""The end of a change whose outcome is reported: print the outcome document
under --json, and tell the notification targets of a command that failed
before it changed anything (no family was touched, so no change reported it:
an engine that does not answer at 3 a.m. is what the admin must hear of)."""

from __future__ import annotations

import sys

from dockervisor.config.names import is_image_name
from dockervisor.core.output import print_json
from dockervisor.flows.outcome import combined

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    import argparse

    from dockervisor.flows.reporting import Reporting

_MODES = ("new", "last", "stable", "mark")


def name(reporting: Reporting, args: argparse.Namespace, verb: str) -> None:
    """What the command line names: the action (`start new`) and the family."""
    words = getattr(args, "words", None) or []
    reporting.action = f"{verb} {words[0]}" if words[:1] and words[0] in _MODES else verb
    named = getattr(args, "image", None) or next((w for w in words if w not in _MODES and is_image_name(w)), None)
    reporting.family = named if named and is_image_name(named) else None
    reporting.command = args.command_line


def report(args: argparse.Namespace, code: int, reason: str | None) -> None:
    reporting = args.reporting
    dry_run = getattr(args, "dry_run", False)
    if not reporting.documents:
        engine = getattr(getattr(args, "engine", None), "name", None)
        reporting.failed_before_change(engine, code, reason, sys.stderr, dry_run)
    if reporting.json:
        document = combined(list(reporting.documents), code, args.command_line)
        if dry_run:
            shown = reporting.captured.getvalue() if reporting.captured is not None else ""
            document.update(dry_run=True, commands=[line for line in shown.splitlines() if line])
        print_json(sys.stdout, document)
        sys.stdout.flush()
