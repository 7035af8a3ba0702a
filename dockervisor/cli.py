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
    from collections.abc import Callable
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
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    if not hasattr(args, "handler"):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    args.command_line = redacted_command_line(args_list)
    from dockervisor import signals

    restore = signals.install()
    try:
        return int(args.handler(args))
    except DockervisorError as error:
        print(f"dockervisor: error: {error.message}", file=sys.stderr, flush=True)
        return error.exit_code
    except KeyboardInterrupt as interruption:  # SIGINT, SIGTERM, SIGHUP: see signals.py
        signum = getattr(interruption, "signum", 2)
        print(f"dockervisor: interrupted by {signals.signal_name(signum)}", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        # The reader went away (`dockervisor history app | head`): not an error
        # worth a traceback. Point stdout at devnull so the final flush is quiet.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        restore()


# Options whose values are never secret: shown as typed in the history.
_PLAIN_OPTIONS = ("--wait", "--settle", "--limit", "--file", "--env-file", "--overrides")


def redacted_command_line(argv: list[str]) -> str:
    """The command as typed, for the history and the lock, with values hidden."""
    import shlex

    return shlex.join(["dockervisor", *(redact(word) for word in argv)])


def redact(word: str) -> str:
    """Hide what follows `=` in any word that may carry a value: `--env K=V`,
    `-eK=V`, `--env=K=V`, a mistyped `--envv K=V`, a stray `K=V`. Only the
    values of options known to hold none are kept."""
    if "=" not in word:
        return word
    option, _, value = word.partition("=")
    if option in _PLAIN_OPTIONS:
        return word
    if option.startswith("--"):
        return f"{option}={_hide_value(value)}"
    return f"{option}=***"


def _hide_value(pair: str) -> str:
    key, separator, _ = pair.partition("=")
    return f"{key}=***" if separator else key


def _redact_message(message: str, argv: list[str]) -> str:
    """argparse quotes the words it refuses; a refused word may hold a value."""
    for word in argv:
        hidden = redact(word)
        if hidden != word:
            message = message.replace(word, hidden).replace(repr(word)[1:-1], hidden)
    return message


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; `argv` is what it will parse, so its errors can hide values."""
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
            # `--en TOKEN=x` for `--env`: an abbreviation redaction cannot foresee.
            kwargs.setdefault("allow_abbrev", False)
            super().__init__(**kwargs)

        def error(self, message: str) -> NoReturn:
            self.print_usage(sys.stderr)
            message = _redact_message(message, argv or [])
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
        _add_pull, _add_config,
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


def _checked_by(check: Callable[[str], str], text: str) -> str:
    """`check(text)`, its error a usage error naming the argument."""
    try:
        return check(text)
    except DockervisorError as error:
        raise _invalid(error.message) from None


def _image(text: str) -> str:
    from dockervisor.names import check_image_name

    return _checked_by(check_image_name, text)


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
        "-e", "--env", action="append", default=[], metavar="KEY[=VALUE]",
        help="start new only: set a variable in the new container (repeatable); KEY alone "
        "takes its value from dockervisor's environment, so it is on no command line",
    )  # fmt: skip
    p.add_argument(
        "--env-file", action="append", default=[], metavar="FILE", dest="env_files",
        help="start new only: read variables from a docker env file (KEY=VALUE lines)",
    )  # fmt: skip
    _add_dry_run(p)
    p.set_defaults(handler=_cmd_start)


def _seconds(text: str) -> float:
    from dockervisor.locking import parse_seconds

    value = parse_seconds(text)
    if value is None:
        raise _invalid(f"not a number of seconds in ASCII digits: {text!r}")
    if value > 24 * 3600:
        raise _invalid(f"out of range (at most a day): {text!r}")
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
    if (args.env or args.env_files) and mode != "new":
        raise DockervisorError(
            "--env and --env-file only apply to `start new`: a container's environment is "
            "fixed when it is created",
            EXIT_USAGE,
        )
    ctx, policy = _context(args), _wait_policy(args)
    if mode == "new":
        from dockervisor.envfile import parse_env_options

        return start.start_new(ctx, image, policy, parse_env_options(args.env), args.env_files)
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
        usage="dockervisor stable [--dry-run] [--force] [mark] IMAGENAME [CONTAINERNAME]\n"
        "       dockervisor stable show [--json] IMAGENAME",
    )
    p.add_argument("words", metavar="WHAT", nargs="+", help="[mark|show] IMAGENAME [CONTAINERNAME]")
    p.add_argument(
        "--force", action="store_true",
        help="mark a container that is not up (stopped, restarting or unhealthy)",
    )  # fmt: skip
    _add_json(p)
    _add_dry_run(p)
    p.set_defaults(handler=_cmd_stable)


def _cmd_stable(args: argparse.Namespace) -> int:
    from dockervisor.commands import stable
    from dockervisor.names import check_container_name, check_image_name

    words = args.words
    container = None
    if len(words) == 1 and words[0] not in ("mark", "show"):
        action, image = "mark", words[0]
    elif len(words) == 2 and words[0] in ("mark", "show"):
        action, image = words
    elif len(words) == 3 and words[0] == "mark":
        action, image, container = words
        container = check_container_name(container)
    else:
        raise DockervisorError(
            "usage: dockervisor stable [mark] IMAGENAME [CONTAINERNAME], or stable show IMAGENAME",
            EXIT_USAGE,
        )
    image = check_image_name(image)
    if action == "show":
        if args.force:
            raise DockervisorError("--force applies to `stable mark`", EXIT_USAGE)
        return stable.show(_context(args), image, args.json)
    if args.json:
        raise DockervisorError("--json applies to `stable show`", EXIT_USAGE)
    return stable.mark(_context(args), image, container, args.force)


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
    if not (text.isascii() and text.isdigit()):
        raise _invalid(f"not a whole number: {text!r}")
    return int(text)


def _cmd_history(args: argparse.Namespace) -> int:
    from dockervisor.commands.history import history

    return history(_context(args), args.image, args.limit, args.json)


# pull -------------------------------------------------------------------------


def _add_pull(verbs: argparse._SubParsersAction) -> None:
    p = _subparser(
        verbs,
        "pull",
        "make an image built elsewhere IMAGENAME's, and record how its containers run",
        "  dockervisor pull myapp registry.example.com/team/myapp:1.4 --overrides ./dcv-myapp\n"
        "  docker load -i myapp.tar && dockervisor pull myapp myapp:1.4 --no-pull\n\n"
        "It runs `docker pull REFERENCE` (progress on stderr), tags the image\n"
        "IMAGENAME:latest and records its run configuration as build does; then\n"
        "`dockervisor start new IMAGENAME` runs it.",
    )
    p.add_argument("image", metavar="IMAGENAME", type=_image)
    p.add_argument("reference", metavar="REFERENCE", type=_reference, help="[REGISTRY/]NAME[:TAG][@DIGEST]")
    p.add_argument(
        "--overrides", metavar="FILE",
        help="a dcv-IMAGENAME overrides file (ports, volumes, env, network...); default: none",
    )  # fmt: skip
    p.add_argument(
        "--no-pull", action="store_true",
        help="the image is on the engine already (docker load, docker tag): ask no registry",
    )  # fmt: skip
    _add_dry_run(p)
    p.set_defaults(handler=_cmd_pull)


def _reference(text: str) -> str:
    from dockervisor.names import check_image_reference

    return _checked_by(check_image_reference, text)


def _cmd_pull(args: argparse.Namespace) -> int:
    from dockervisor.commands.pull import pull

    return pull(_context(args), args.image, args.reference, args.overrides, args.no_pull)


# config -----------------------------------------------------------------------


def _add_config(verbs: argparse._SubParsersAction) -> None:
    p = _subparser(
        verbs,
        "config",
        "how the family's new containers run, and where that came from",
        "  dockervisor config myapp\n  dockervisor config myapp --json\n\n"
        "Ports, mounts, networks, limits, log options and the names of the\n"
        "environment variables (never their values), as build or pull recorded\n"
        "them; and whether the overrides file has changed since.",
    )
    p.add_argument("image", metavar="IMAGENAME", type=_image)
    _add_json(p)
    p.set_defaults(handler=_cmd_config)


def _cmd_config(args: argparse.Namespace) -> int:
    from dockervisor.commands.config import config

    return config(_context(args), args.image, args.json)
