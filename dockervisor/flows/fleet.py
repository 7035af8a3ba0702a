"""One command, several engines: run a verb's handler once per engine.

On one engine the handler runs as it always has, its state that engine's.
On several, each run gets its own Context (its engine, its executor, its
state paths), and the verb decides how they go:

- questions (`status`, `list`, `history`, `stable show`) ask every engine at
  the same time, one thread each, and show one table or JSON document with
  a CONTEXT column or an `engine` field;
- changes (`build`, `stop`, `stable`, `unlock`) go engine by engine, each
  one whatever happened on the one before;
- `start` rolls: host by host in the order given (`--parallel N` at a time),
  each health-gated as on one host, and the first host whose start fails
  ends it: that host is rolled back by its own start, the hosts after it are
  not touched, and a table says which hosts run what.

An engine that fails or does not answer is one line, `dockervisor: error:
NAME: ...`; the others still answer.
"""

from __future__ import annotations

import io
import sys
import threading

from dockervisor.core import signals
from dockervisor.engine import contexts
from dockervisor.store import paths
from dockervisor.core.output import printable_lines
from dockervisor.core.redaction import redact_message
from dockervisor.core.errors import (
    EXIT_NOT_RUNNING,
    EXIT_OK,
    EXIT_ROLLBACK_FAILED,
    EXIT_ROLLED_BACK,
    EXIT_USAGE,
    DockervisorError,
)

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    import argparse
    from typing import TextIO

ASK, EACH, ROLLING, ONE = "ask", "each", "rolling", "one"
# How a verb covers several engines; any other goes engine by engine (EACH).
MODES = {
    "start": ROLLING, "update": ROLLING, "status": ASK, "list": ASK, "history": ASK, "check": ASK,
    "logs": ONE, "exec": ONE, "run": ONE, "timer": ONE,
}  # fmt: skip


class Run:
    """What one engine's part of the command did."""

    __slots__ = ("engine", "code", "error", "running", "out", "collected")

    def __init__(self, engine: contexts.Engine) -> None:
        self.engine = engine
        self.code = EXIT_OK
        self.error: str | None = None
        self.running: str | None = None  # start: what runs there afterwards, when known
        self.out = io.StringIO()
        self.collected: list[tuple[str, object]] = []


def run(args: argparse.Namespace, verb: str, engines: list[contexts.Engine]) -> int:
    """The verb on several engines (cli/__init__.py runs it on one itself)."""
    mode = MODES.get(verb, EACH)
    if mode == ONE:
        raise DockervisorError(f"`dockervisor {verb}` works on one engine; name one with --context", EXIT_USAGE)
    if verb == "stable" and args.words[:1] == ["show"]:
        mode = ASK
    if mode == ROLLING:
        return _rolling(args, engines, max(getattr(args, "parallel", 1) or 1, 1))
    if mode == ASK:
        runs = _at_once(args, engines)
        _show(args, runs)
    else:
        runs = []
        for engine in engines:
            runs.append(_one(args, engine))
            _show(args, runs[-1:])
    return combined_code([r.code for r in runs])


def _one(args: argparse.Namespace, engine: contexts.Engine) -> Run:
    """The handler on one engine of several, its output kept apart."""
    import copy  # only several engines need it: one engine's run pays no import

    run = Run(engine)
    mine = copy.copy(args)
    mine.engine = engine
    mine.streams = (run.out, Prefixed(sys.stderr, engine.name), run.collected)
    with paths.engine_state(engine.key):
        try:
            run.code = int(args.handler(mine))
        except DockervisorError as error:
            run.code, run.error = error.exit_code, error.message
            run.running = getattr(error, "running", None)
            # A usage error may quote a word typed where a name goes (`start TOKEN=x`).
            said = redact_message(error.message, args.argv) if error.exit_code == EXIT_USAGE else error.message
            print(f"dockervisor: error: {engine.name}: {printable_lines(said)}", file=sys.stderr, flush=True)
            reporting = getattr(args, "reporting", None)
            if reporting is not None and not any(d.get("engine") == engine.name for d in reporting.documents):
                reporting.failed_before_change(engine.name, error.exit_code, said, sys.stderr, args.dry_run)
    return run


def _at_once(args: argparse.Namespace, engines: list[contexts.Engine], into: list[Run] | None = None) -> list[Run]:
    """Each engine in a thread of its own; an interruption reaches every one,
    and is raised once all are done, their runs already added to `into`.

    The main thread waits on a queue, never in Thread.join(): a signal that
    interrupts join() can leave a running thread marked as finished (CPython
    before 3.12), and then nothing would wait for its rollback."""
    import queue

    runs: list[Run | None] = [None] * len(engines)
    finished = [False] * len(engines)
    done: queue.SimpleQueue[int] = queue.SimpleQueue()

    def work(index: int, engine: contexts.Engine) -> None:
        try:
            runs[index] = _one(args, engine)
        except KeyboardInterrupt:  # broadcast by the main thread below
            stopped = Run(engine)
            stopped.code, stopped.error = 130, "interrupted"
            runs[index] = stopped
        finally:
            finished[index] = True
            done.put(index)

    def wait_for_all() -> None:
        while not all(finished):
            try:
                done.get(timeout=0.5)
            except queue.Empty:
                pass

    for index, engine in enumerate(engines):
        threading.Thread(target=work, args=(index, engine), daemon=True).start()
    try:
        wait_for_all()
    except KeyboardInterrupt as interruption:
        signals.broadcast(getattr(interruption, "signum", 2))
        with signals.deferred("letting every engine finish first", resume=False):
            wait_for_all()
        signals.broadcast(None)
        _collect(engines, runs, into)
        raise
    return _collect(engines, runs, into)


def _collect(engines: list[contexts.Engine], runs: list[Run | None], into: list[Run] | None) -> list[Run]:
    finished = []
    for engine, each in zip(engines, runs):
        if each is None:  # its thread died of a bug, whose traceback is above
            each = Run(engine)
            each.code, each.error = 1, "ended without an outcome (a bug: see above)"
        finished.append(each)
    if into is not None:
        into += finished
    return finished


def _rolling(args: argparse.Namespace, engines: list[contexts.Engine], parallel: int) -> int:
    """`start` host by host (`parallel` at a time); the first that fails ends it."""
    runs: list[Run] = []
    # The first engine goes alone: a release step (flows/release.py) runs
    # there, and on the others only if it runs on "each" engine.
    batches = [engines[:1]] + [engines[first : first + parallel] for first in range(1, len(engines), parallel)]
    try:
        for batch in batches:
            for engine in batch:
                sys.stderr.write(f"dockervisor: {engine.name}: starting\n")
            if len(batch) == 1:
                runs.append(_one(args, batch[0]))
            else:
                _at_once(args, batch, into=runs)
            done = runs[-len(batch) :]
            if any(r.code != EXIT_OK for r in done):
                break
            args.release = "ran"  # the next engines skip a release that runs on the first one only
    except KeyboardInterrupt:
        _summary(args, engines, runs)
        raise
    _summary(args, engines, runs)
    failed = [r.code for r in runs if r.code != EXIT_OK]
    return failed[0] if failed else EXIT_OK


_OUTCOMES = {EXIT_OK: "started", EXIT_ROLLED_BACK: "failed: rolled back",
             EXIT_ROLLBACK_FAILED: "ROLLBACK FAILED"}  # fmt: skip


def _summary(args: argparse.Namespace, engines: list[contexts.Engine], runs: list[Run]) -> None:
    """Which hosts run what: stdout gets the table, as one host gets the name."""
    from dockervisor.core.output import Column, print_table

    if _outcome_json(args):  # stdout gets one outcome document, every engine's change in it
        return
    if args.dry_run:
        for each in runs:
            sys.stdout.write(each.out.getvalue())
        sys.stdout.flush()
        return
    rows = []
    for engine in engines:
        each = next((r for r in runs if r.engine is engine), None)
        if each is None:
            rows.append([engine.name, "-", "not touched"])
            continue
        running = each.out.getvalue().strip() if each.code == EXIT_OK else each.running
        outcome = _OUTCOMES.get(each.code, "failed, nothing changed" if each.code == 1 else "interrupted")
        rows.append([engine.name, running or "-", outcome])
    print_table(sys.stdout, [Column("CONTEXT"), Column("RUNS"), Column("OUTCOME")], rows)
    sys.stdout.flush()


def combined_code(codes: list[int]) -> int:
    """A failure wins over `status`'s "not running" (5), which wins over success."""
    failures = [code for code in codes if code not in (EXIT_OK, EXIT_NOT_RUNNING)]
    if failures:
        return max(failures)
    return EXIT_NOT_RUNNING if EXIT_NOT_RUNNING in codes else EXIT_OK


# Showing several engines' answers as one ---------------------------------------


def _outcome_json(args: argparse.Namespace) -> bool:
    reporting = getattr(args, "reporting", None)
    return bool(reporting and reporting.json)


def _show(args: argparse.Namespace, runs: list[Run]) -> None:
    if _outcome_json(args):  # cli/outcome.py prints the changes as one document
        return
    if getattr(args, "json", False):
        _show_json(runs)
    else:
        _show_tables(runs, getattr(args, "wide", False))
    for each in runs:  # what is not a table: one line each, saying whose
        for line in each.out.getvalue().splitlines():
            print(line if args.dry_run else f"{each.engine.name}: {line}", file=sys.stdout)
    sys.stdout.flush()


def _show_tables(runs: list[Run], wide: bool) -> None:
    from dockervisor.core.output import Column, print_table

    columns: list | None = None
    rows: list[list[str]] = []
    colours: list | None = []
    for each in runs:
        for kind, payload in each.collected:
            if kind != "table":
                continue
            their_columns, their_rows, their_colours = payload  # type: ignore[misc]
            columns = columns or [Column("CONTEXT"), *their_columns]
            rows += [[each.engine.name, *row] for row in their_rows]
            if their_colours is None or colours is None:
                colours = None
            else:
                colours += [[None, *colour] for colour in their_colours]
    if columns is not None:
        print_table(sys.stdout, columns, rows, colours or None, wide=wide)


def _show_json(runs: list[Run]) -> None:
    """One document: rows of every list get an `engine` field; values the
    engines agree on stay on top; the others, and each engine's error, go in
    `engines`, one entry per engine."""
    from dockervisor.core.output import print_json

    documents = {}
    for each in runs:
        found = [payload for kind, payload in each.collected if kind == "json"]
        if found:
            documents[each.engine.name] = found[0]
    merged: dict = {}
    per_engine: dict[str, dict] = {
        each.engine.name: {"engine": each.engine.name, "endpoint": each.engine.endpoint,
                           "ok": each.code == EXIT_OK, "error": each.error}  # fmt: skip
        for each in runs
    }
    keys = [key for document in documents.values() for key in document]
    for key in dict.fromkeys(keys):
        values = {name: document.get(key) for name, document in documents.items()}
        if all(isinstance(v, list) and all(isinstance(row, dict) for row in v) for v in values.values()):
            merged[key] = [{"engine": name, **row} for name, rows in values.items() for row in rows]
        elif key == "ok":
            merged[key] = all(values.values()) and all(each.code in (EXIT_OK, EXIT_NOT_RUNNING) for each in runs)
        elif len({repr(v) for v in values.values()}) == 1:
            merged[key] = next(iter(values.values()))
        else:
            for name, value in values.items():
                per_engine[name][key] = value
    merged["engines"] = list(per_engine.values())
    print_json(sys.stdout, merged)


class Prefixed:
    """A stream whose lines say which engine they are about, whole lines at a
    time, so that threads writing at once never mix their words:
    `dockervisor: web1: stopped ...`, `web1:   | a log line`."""

    _lock = threading.Lock()

    def __init__(self, stream: TextIO, name: str) -> None:
        self.stream = stream
        self.name = name
        self.partial = ""

    def write(self, text: str) -> int:
        *lines, self.partial = (self.partial + text).split("\n")
        if lines:
            shown = "".join(self._prefixed(line) + "\n" for line in lines)
            with Prefixed._lock:
                self.stream.write(shown)
                self.stream.flush()
        return len(text)

    def _prefixed(self, line: str) -> str:
        if line.startswith("dockervisor: "):
            return f"dockervisor: {self.name}: {line[len('dockervisor: '):]}"
        return f"{self.name}: {line}"

    def flush(self) -> None:
        if self.partial:
            self.write("\n")
        self.stream.flush()

    def fileno(self) -> int:
        return self.stream.fileno()

    def isatty(self) -> bool:
        return self.stream.isatty()
