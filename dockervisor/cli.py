"""Parse the command line and hand it to `commands/<verb>.py`.

Each verb is a pair: `_add_<verb>` declares its arguments, `_cmd_<verb>` turns
the parsed Namespace into a typed call. The parser knows nothing of the work,
and command modules are imported only when their verb runs, to keep start-up
fast for cron.
"""

from __future__ import annotations

import sys

from dockervisor import __version__
from dockervisor.errors import EXIT_CODES_HELP, EXIT_USAGE, DockervisorError

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    import argparse
    from typing import Any, NoReturn

    from dockervisor.context import Context
    from dockervisor.waiting import WaitPolicy

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
"""


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else list(argv)
    if args_list == ["--version"]:  # answered before argparse loads: cron and scripts ask often
        print(f"dockervisor {__version__}")
        return 0
    parser = build_parser()
    args = parser.parse_args(args_list)
    if not hasattr(args, "handler"):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    args.command_line = redacted_command_line(args_list)
    try:
        return int(args.handler(args))
    except DockervisorError as error:
        print(f"dockervisor: error: {error.message}", file=sys.stderr, flush=True)
        return error.exit_code
    except KeyboardInterrupt:
        print("dockervisor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`dockervisor history app | head`): not an error
        # worth a traceback. Point stdout at devnull so the final flush is quiet.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def redacted_command_line(argv: list[str]) -> str:
    """The command as typed, for the history and the lock, with --env values hidden."""
    import shlex

    shown = ["dockervisor"]
    hide_next = False
    for word in argv:
        if hide_next:
            word = _hide_value(word)
            hide_next = False
        elif word in ("--env", "-e"):
            hide_next = True
        elif word.startswith("--env="):
            word = "--env=" + _hide_value(word[len("--env="):])
        elif word.startswith("-e") and not word.startswith("--"):
            word = "-e" + _hide_value(word[2:])
        shown.append(word)
    return shlex.join(shown)


def _hide_value(pair: str) -> str:
    key, separator, _ = pair.partition("=")
    return f"{key}=***" if separator else key


def build_parser() -> argparse.ArgumentParser:
    # Imported here, not at the top: `--version` is answered without it.
    import argparse

    class Formatter(argparse.RawDescriptionHelpFormatter):
        """argparse asks shutil for the terminal width, and importing shutil costs
        more than the rest of the parser; os answers the same question."""

        def __init__(self, prog: str) -> None:
            super().__init__(prog, width=_help_width())

    class Parser(argparse.ArgumentParser):
        """argparse with dockervisor's help layout and its one error format;
        add_subparsers makes every verb's parser of this class too."""

        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("formatter_class", Formatter)
            super().__init__(**kwargs)

        def error(self, message: str) -> NoReturn:
            self.print_usage(sys.stderr)
            self.exit(EXIT_USAGE, f"dockervisor: error: {message}\n")

    parser = Parser(
        prog="dockervisor",
        description=DESCRIPTION,
        epilog=QUICK_EXAMPLES + "\n" + EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"dockervisor {__version__}")
    verbs = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in (
        _add_build, _add_start, _add_stop, _add_stable, _add_list, _add_status, _add_history,
        _add_prune, _add_rm, _add_forget,
    ):  # fmt: skip
        add(verbs)
    return parser


def _subparser(
    verbs: argparse._SubParsersAction, name: str, summary: str, examples: str, usage: str | None = None
) -> argparse.ArgumentParser:
    return verbs.add_parser(
        name,
        usage=usage,
        help=summary,
        description=summary,
        epilog="example:\n" + examples + "\n\n" + EXIT_CODES_HELP,
    )


def _help_width() -> int:
    """What argparse would compute: the terminal's columns (or $COLUMNS) less 2."""
    import os

    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        try:
            columns = os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 80
    return max(columns - 2, 20)


def _invalid(message: str) -> Exception:
    """argparse turns this into a usage error naming the argument."""
    import argparse

    return argparse.ArgumentTypeError(message)


def _image(text: str) -> str:
    from dockervisor.names import check_image_name

    try:
        return check_image_name(text)
    except DockervisorError as error:
        raise _invalid(error.message) from None


def _add_dry_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the docker commands that would change something, change nothing",
    )


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def _context(args: argparse.Namespace) -> Context:
    from dockervisor.context import Context

    return Context(args.command_line, dry_run=getattr(args, "dry_run", False))


# build ------------------------------------------------------------------------


def _add_build(verbs: argparse._SubParsersAction) -> None:
    p = _subparser(
        verbs,
        "build",
        "build IMAGENAME from a Dockerfile and record how its containers run",
        "  dockervisor build myapp .\n  dockervisor build myapp ./src -f ./src/Dockerfile.prod",
    )
    p.add_argument("image", metavar="IMAGENAME", type=_image)
    p.add_argument("path", metavar="PATH", nargs="?", default=".", help="build context (default: .)")
    p.add_argument("-f", "--file", dest="dockerfile", metavar="DOCKERFILE", help="default: PATH/Dockerfile")
    _add_dry_run(p)
    p.set_defaults(handler=_cmd_build)


def _cmd_build(args: argparse.Namespace) -> int:
    from dockervisor.commands.build import build

    return build(_context(args), args.image, args.path, args.dockerfile)


# start ------------------------------------------------------------------------

_START_MODES = ("new", "last", "stable")


def _add_start(verbs: argparse._SubParsersAction) -> None:
    p = _subparser(
        verbs,
        "start",
        "start new|last|stable IMAGENAME, or start CONTAINERNAME",
        "  dockervisor start new myapp --env LOG_LEVEL=debug\n"
        "  dockervisor start last myapp\n"
        "  dockervisor start stable myapp     (the rollback)\n"
        "  dockervisor start dcv_myapp_20261128093000\n\n"
        "Any other running container of the family is stopped first. The start\n"
        "waits until the container is up (healthy, if the image has a\n"
        "HEALTHCHECK); if it does not come up, it is stopped and the container\n"
        "that ran before is started again (exit code 3).",
        usage="dockervisor start [options] new|last|stable IMAGENAME\n"
        "       dockervisor start [options] CONTAINERNAME",
    )
    p.add_argument("words", metavar="WHAT", nargs="+", help="new|last|stable IMAGENAME, or CONTAINERNAME")
    wait = p.add_mutually_exclusive_group()
    wait.add_argument(
        "--wait", type=_seconds, metavar="SECONDS", help="how long it may take to come up (default: 60)"
    )
    wait.add_argument("--no-wait", action="store_true", help="do not wait or roll back; report once docker started it")
    p.add_argument(
        "--settle",
        type=_seconds,
        metavar="SECONDS",
        help="how long it must stay up before the start counts as done (default: 3)",
    )
    p.add_argument(
        "-e", "--env", action="append", default=[], metavar="KEY=VALUE",
        help="start new only: set a variable in the new container (repeatable; the value is never printed)",
    )  # fmt: skip
    p.add_argument(
        "--if-changed", action="store_true",
        help="start new only: do nothing (and print its name) if the running container already "
        "runs the current image with the same configuration and environment",
    )  # fmt: skip
    _add_dry_run(p)
    p.set_defaults(handler=_cmd_start)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _invalid(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= 24 * 3600:
        raise _invalid(f"out of range: {text!r}")
    return value


def _wait_policy(args: argparse.Namespace) -> WaitPolicy:
    from dockervisor.waiting import WaitPolicy

    policy = WaitPolicy(enabled=not args.no_wait)
    if args.wait is not None:
        policy.timeout = args.wait
    if args.settle is not None:
        policy.settle = args.settle
    return policy


def _cmd_start(args: argparse.Namespace) -> int:
    from dockervisor.commands import start
    from dockervisor.names import check_container_name, check_image_name

    words = args.words
    if len(words) == 2 and words[0] in _START_MODES:
        mode, image = words[0], check_image_name(words[1])
    elif len(words) == 1 and words[0] not in _START_MODES:
        mode, image = "container", check_container_name(words[0])
    else:
        raise DockervisorError(
            "usage: dockervisor start new|last|stable IMAGENAME, or dockervisor start CONTAINERNAME",
            EXIT_USAGE,
        )
    if args.env and mode != "new":
        raise DockervisorError("--env only applies to `start new`: a container's environment is fixed when it is created", EXIT_USAGE)
    if args.if_changed and mode != "new":
        raise DockervisorError("--if-changed only applies to `start new`", EXIT_USAGE)
    ctx, policy = _context(args), _wait_policy(args)
    if mode == "new":
        from dockervisor.envfile import parse_env_options

        return start.start_new(ctx, image, policy, parse_env_options(args.env), args.if_changed)
    if mode == "last":
        return start.start_last(ctx, image, policy)
    if mode == "stable":
        return start.start_stable(ctx, image, policy)
    return start.start_container(ctx, image, policy)


# stop -------------------------------------------------------------------------


def _add_stop(verbs: argparse._SubParsersAction) -> None:
    p = _subparser(
        verbs,
        "stop",
        "stop the family's running container (nothing running: exit 0)",
        "  dockervisor stop myapp",
    )
    p.add_argument("image", metavar="IMAGENAME", type=_image)
    _add_dry_run(p)
    p.set_defaults(handler=_cmd_stop)


def _cmd_stop(args: argparse.Namespace) -> int:
    from dockervisor.commands.stop import stop

    return stop(_context(args), args.image)


# stable -----------------------------------------------------------------------


def _add_stable(verbs: argparse._SubParsersAction) -> None:
    p = _subparser(
        verbs,
        "stable",
        "mark the running container stable, or show which one is",
        "  dockervisor stable myapp          (same as: dockervisor stable mark myapp)\n"
        "  dockervisor stable show myapp",
        usage="dockervisor stable [--dry-run] [mark] IMAGENAME\n"
        "       dockervisor stable show [--json] IMAGENAME",
    )
    p.add_argument("words", metavar="WHAT", nargs="+", help="[mark|show] IMAGENAME")
    _add_json(p)
    _add_dry_run(p)
    p.set_defaults(handler=_cmd_stable)


def _cmd_stable(args: argparse.Namespace) -> int:
    from dockervisor.commands import stable
    from dockervisor.names import check_image_name

    words = args.words
    if len(words) == 1 and words[0] not in ("mark", "show"):
        action, image = "mark", words[0]
    elif len(words) == 2 and words[0] in ("mark", "show"):
        action, image = words
    else:
        raise DockervisorError("usage: dockervisor stable [mark|show] IMAGENAME", EXIT_USAGE)
    image = check_image_name(image)
    if action == "show":
        return stable.show(_context(args), image, args.json)
    if args.json:
        raise DockervisorError("--json applies to `stable show`", EXIT_USAGE)
    return stable.mark(_context(args), image)


# list -------------------------------------------------------------------------


def _add_list(verbs: argparse._SubParsersAction) -> None:
    p = _subparser(
        verbs,
        "list",
        "list the families, or one family's containers or images",
        "  dockervisor list\n  dockervisor list containers myapp\n  dockervisor list images myapp",
    )
    p.add_argument("what", metavar="images|containers", nargs="?", choices=("images", "containers"))
    p.add_argument("image", metavar="IMAGENAME", nargs="?", type=_image)
    _add_json(p)
    p.set_defaults(handler=_cmd_list)


def _cmd_list(args: argparse.Namespace) -> int:
    from dockervisor.commands import list as listing

    if args.what is None:
        return listing.families(_context(args), args.json)
    if args.image is None:
        raise DockervisorError(f"usage: dockervisor list {args.what} IMAGENAME", EXIT_USAGE)
    if args.what == "images":
        return listing.images(_context(args), args.image, args.json)
    return listing.containers(_context(args), args.image, args.json)


# status -----------------------------------------------------------------------


def _add_status(verbs: argparse._SubParsersAction) -> None:
    p = _subparser(
        verbs,
        "status",
        "one line per family: what runs, its health, uptime, image, ports, last and stable",
        "  dockervisor status\n  dockervisor status myapp || alert 'myapp is down'\n\n"
        "Exits 0 when every family shown runs (and is healthy, if it has a\n"
        "HEALTHCHECK), 5 otherwise.",
    )
    p.add_argument("image", metavar="IMAGENAME", nargs="?", type=_image)
    _add_json(p)
    p.set_defaults(handler=_cmd_status)


def _cmd_status(args: argparse.Namespace) -> int:
    from dockervisor.commands.status import status

    return status(_context(args), args.image, args.json)


# history ----------------------------------------------------------------------


def _add_history(verbs: argparse._SubParsersAction) -> None:
    p = _subparser(
        verbs,
        "history",
        "every build, start, stop, stable mark and rollback of a family",
        "  dockervisor history myapp --limit 50",
    )
    p.add_argument("image", metavar="IMAGENAME", type=_image)
    p.add_argument("--limit", type=_count, default=20, metavar="N", help="show the newest N entries (default: 20)")
    _add_json(p)
    p.set_defaults(handler=_cmd_history)


def _count(text: str) -> int:
    if not text.isdigit():
        raise _invalid(f"not a whole number: {text!r}")
    return int(text)


def _cmd_history(args: argparse.Namespace) -> int:
    from dockervisor.commands.history import history

    return history(_context(args), args.image, args.limit, args.json)


# prune ------------------------------------------------------------------------


def _add_prune(verbs: argparse._SubParsersAction) -> None:
    import argparse

    p = _subparser(
        verbs,
        "prune",
        "remove stopped containers beyond the newest N, and the images nothing uses any more",
        "  dockervisor prune myapp --keep 2\n  dockervisor prune --dry-run        (every family)\n\n"
        "The running container and those marked last or stable always stay; so\n"
        "does any image a container uses or a tag names. Named volumes stay.",
    )
    p.add_argument("images", metavar="IMAGENAME", nargs="*", type=_image, help="default: every family")
    p.add_argument(
        "--keep", type=_keep, default=argparse.SUPPRESS, metavar="N",
        help='stopped containers to keep besides last and stable (default: the family\'s "keep", '
        'else 5; "all" keeps every one)',
    )  # fmt: skip
    _add_json(p)
    _add_dry_run(p)
    p.set_defaults(handler=_cmd_prune)


def _keep(text: str) -> int | None:
    from dockervisor.retention import parse_keep

    try:
        return parse_keep(text, minimum=0)
    except ValueError as error:
        raise _invalid(f"{text!r} {error}") from None


def _cmd_prune(args: argparse.Namespace) -> int:
    from dockervisor.commands.prune import prune
    from dockervisor.retention import RECORDED

    # Without --keep, each family's own retention.
    return prune(_context(args), args.images, getattr(args, "keep", RECORDED), args.json)


# rm ---------------------------------------------------------------------------


def _add_rm(verbs: argparse._SubParsersAction) -> None:
    p = _subparser(
        verbs,
        "rm",
        "remove stopped containers of a family (never the running one)",
        "  dockervisor rm dcv_myapp_20261128093000\n"
        "  dockervisor rm --force dcv_myapp_20261101000000   (it was marked stable)",
    )
    p.add_argument("names", metavar="CONTAINERNAME", nargs="+", type=_container)
    p.add_argument(
        "--force", action="store_true",
        help="also remove a container marked last or stable, and clear the mark",
    )  # fmt: skip
    _add_dry_run(p)
    p.set_defaults(handler=_cmd_rm)


def _container(text: str) -> str:
    from dockervisor.names import check_container_name

    try:
        return check_container_name(text)
    except DockervisorError as error:
        raise _invalid(error.message) from None


def _cmd_rm(args: argparse.Namespace) -> int:
    from dockervisor.commands.rm import rm

    return rm(_context(args), args.names, args.force)


# forget -----------------------------------------------------------------------


def _add_forget(verbs: argparse._SubParsersAction) -> None:
    p = _subparser(
        verbs,
        "forget",
        "retire a family: its containers, images, tag, state and history (not its volumes)",
        "  dockervisor stop myapp && dockervisor forget myapp\n"
        "  dockervisor forget myapp --volumes    (its data too)",
    )
    p.add_argument("image", metavar="IMAGENAME", type=_image)
    p.add_argument("--volumes", action="store_true", help="also remove the family's named volumes: its data")
    _add_dry_run(p)
    p.set_defaults(handler=_cmd_forget)


def _cmd_forget(args: argparse.Namespace) -> int:
    from dockervisor.commands.forget import forget

    return forget(_context(args), args.image, args.volumes)
