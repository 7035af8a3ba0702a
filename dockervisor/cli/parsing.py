"""The parser class, the argument types the verbs share, and how a command
line is parsed: the verb's own parser alone, options anywhere after it."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from dockervisor import __version__
from dockervisor.core.redaction import redact_message
from dockervisor.cli.verbs import VERBS
from dockervisor.core.errors import EXIT_USAGE, DockervisorError, exit_codes_help

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

    from dockervisor.flows.context import Context

DESCRIPTION = """\
Manage Docker containers by image name, keep their data across upgrades,
and roll back to a known-good container."""

QUICK_EXAMPLES = """\
examples:
  dockervisor build myapp .            build the image myapp from ./Dockerfile
  dockervisor start new myapp          run a fresh container of it
  dockervisor stable myapp             mark the running container as known-good
  dockervisor start stable myapp       roll back to it after a bad upgrade
  dockervisor status                   what runs, for every family

files:
  dcv-IMAGENAME beside the Dockerfile  the overrides file (ports, volumes, env):
                                       read at build, see docs/overrides.md
  ~/.dockervisor                       state, history, locks, backups and snapshots

environment:
  DOCKERVISOR_HOME          where the state lives (default: ~/.dockervisor)
  DOCKERVISOR_LOCK_TIMEOUT  seconds to wait for a family's lock (default: 300)
  DOCKERVISOR_DEBUG         set: print each docker command run
  DOCKERVISOR_HELPER_IMAGE  the local image (with /bin/sh and tar) that restores data
                            (default: the family's own image)
  NO_COLOR                  set and not empty: no colour
  DOCKERVISOR_ENGINE_LOCK   on|off: the engine's own lock on a family (default: on for
                            ssh:// and tcp:// engines, off for the local socket)
  DOCKER_HOST, DOCKER_CONTEXT  which engine docker talks to, as for docker

several servers:
  dockervisor --context web1,web2 start new myapp   host by host, health-gated
  dockervisor --context web1 --context web2 status  every engine at once"""


class Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse asks shutil for the terminal width, and importing shutil costs
    more than the rest of the parser; os answers the same question."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_help_width())


class Parser(argparse.ArgumentParser):
    """argparse with dockervisor's help layout and its one error format, which
    never echoes a value; a verb's parser says whether its options may come
    between its positionals (`intermixed`)."""

    argv: list[str] = []

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        # `--en TOKEN=x` for `--env`: an abbreviation redaction cannot foresee.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(**kwargs)
        self.intermixed = True

    def describe(
        self,
        summary: str,
        examples: str,
        codes: tuple[int, ...] = (0, 1, 2),
        usage: str | None = None,
    ) -> None:
        """The verb's help: what it does, an example, the exit codes it returns."""
        self.description = summary
        self.epilog = "example:\n" + examples + "\n\n" + exit_codes_help(codes)
        if usage is not None:
            self.usage = usage

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        message = redact_message(message, Parser.argv, self._option_string_actions)
        self.exit(EXIT_USAGE, f"dockervisor: error: {message}\n")


def parse_verb(argv: list[str]) -> argparse.Namespace:
    """Parse `VERB ARGS...` with the parser of that verb alone."""
    Parser.argv = argv
    parser = verb_parser(argv[0])
    if parser.intermixed:
        return parser.parse_intermixed_args(argv[1:])
    return parser.parse_args(argv[1:])


def parse_top(argv: list[str]) -> argparse.Namespace:
    """No verb, an unknown one, or an option first: the whole parser answers
    (help, version, or a usage error listing the verbs)."""
    return top_parser(argv).parse_args(argv)


def verb_parser(verb: str) -> Parser:
    parser = Parser(prog=f"dockervisor {verb}")
    _declare(verb, parser)
    return parser




def top_parser(argv: list[str]) -> Parser:
    Parser.argv = argv
    parser = Parser(
        prog="dockervisor",
        description=DESCRIPTION,
        epilog=QUICK_EXAMPLES + "\n\n" + exit_codes_help(),
    )
    parser.add_argument("--version", action="version", version=f"dockervisor {__version__}")
    add_context(parser, "the docker context to act on (repeatable, or NAME,NAME): several act on each engine")
    verbs = parser.add_subparsers(title="commands", metavar="COMMAND")
    for verb, (_, summary) in VERBS.items():
        _declare(verb, verbs.add_parser(verb, help=summary))
    return parser


def _declare(verb: str, parser: argparse.ArgumentParser) -> None:
    module = importlib.import_module(f"dockervisor.cli.{VERBS[verb][0]}")
    getattr(module, f"declare_{verb}")(parser)
    from dockervisor.cli.verbs import ENGINELESS

    if verb not in ENGINELESS:
        add_context(parser, "the docker context to act on (repeatable, or NAME,NAME); also before the verb")


def add_context(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--context", action="append", dest="contexts", metavar="NAME", type=context_names, help=help_text
    )


def context_names(text: str) -> str:
    from dockervisor.engine.contexts import split_names

    try:
        split_names([text])
    except DockervisorError as error:
        raise invalid(error.message) from None
    return text


def _help_width() -> int:
    """What argparse would compute: the terminal's columns (or $COLUMNS) less 2."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        try:
            columns = os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 80
    return max(columns - 2, 20)


# Argument types and options the verbs share ---------------------------------


def invalid(message: str) -> Exception:
    """argparse turns this into a usage error naming the argument."""
    return argparse.ArgumentTypeError(message)


def checked(check: Callable[[str], str], text: str) -> str:
    """`check(text)`, its error a usage error naming the argument."""
    try:
        return check(text)
    except DockervisorError as error:
        raise invalid(error.message) from None


def image_name(text: str) -> str:
    from dockervisor.config.names import check_image_name

    return checked(check_image_name, text)


def seconds(text: str) -> float:
    from dockervisor.store.locking import parse_seconds

    value = parse_seconds(text)
    if value is None:
        raise invalid(f"not a number of seconds in ASCII digits: {text!r}")
    if value > 24 * 3600:
        raise invalid(f"out of range (at most a day): {text!r}")
    return value


def count(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise invalid(f"not a whole number: {text!r}")
    return int(text)


def add_dry_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the docker commands that would change something, change nothing",
    )


def add_json(parser: argparse.ArgumentParser, help: str = "print one JSON document on stdout") -> None:
    parser.add_argument("--json", action="store_true", help=help)


def add_outcome_options(parser: argparse.ArgumentParser, json: bool = True) -> None:
    """A change's outcome: --json prints its document (docs/unattended.md)
    instead of the container name; --notify sends it (flows/notify.py)."""
    if json:
        add_json(parser, "print the outcome document (JSON) on stdout instead of the container name")
    parser.add_argument(
        "--notify", action="append", default=[], metavar="TARGET",
        help="send the outcome document when it is not ok (see --notify-on; repeatable): "
        "http(s)://URL (POST JSON), text:URL (POST a line of text, as ntfy takes), mailto:ADDRESS "
        "(SMTP to DOCKERVISOR_SMTP, default localhost:25), exec:COMMAND (the document on its stdin)",
    )  # fmt: skip
    parser.add_argument(
        "--notify-on", choices=("failure", "always", "change"),
        help="when notifications go: failure (the default: anything but ok and no-op), "
        "change (anything but no-op), always",
    )  # fmt: skip
    parser.set_defaults(outcome=True, outcome_json=json)


def add_wide(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wide", action="store_true", help="every column, nothing cut, even in a terminal")


def context(args: argparse.Namespace) -> Context:
    from dockervisor.flows.context import Context

    stdout, stderr, collected = getattr(args, "streams", None) or (None, None, None)
    ctx = Context(
        args.command_line,
        dry_run=getattr(args, "dry_run", False),
        stdout=stdout,
        stderr=stderr,
        engine=getattr(args, "engine", None),
    )
    ctx.wide = getattr(args, "wide", False)
    ctx.collected = collected
    reporting = getattr(args, "reporting", None)
    if reporting is not None:  # a change whose outcome is reported (cli/__init__.py made it)
        ctx.reporting = reporting
        if reporting.json:  # stdout gets the document; the names (or dry-run commands) wait here
            import io

            ctx.stdout = ctx.docker.stdout = reporting.captured = io.StringIO()
    ctx.repair = _repair_interrupted
    return ctx


def _repair_interrupted(ctx: Context, family: str, action: str) -> None:
    """What a run killed mid-way left (its journal, partial archives): looked
    for only where such files can be, and the repair imported only then, so a
    family without data steps pays a few lstat calls for it."""
    from dockervisor.store import journal, paths

    where = (journal.journal_dir(), paths.snapshots_dir(family), paths.backups_dir(family))
    if not any(os.path.lexists(path) for path in where):
        return
    from dockervisor.flows.datarecovery import repair_interrupted

    repair_interrupted(ctx, family, action)


def usage_error(message: str) -> DockervisorError:
    return DockervisorError(message, EXIT_USAGE)
