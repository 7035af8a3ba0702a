"""The verbs that look: status, list, history, logs, exec."""

from __future__ import annotations

import argparse

from dockervisor.cli.parsing import (
    add_dry_run,
    add_json,
    add_wide,
    context,
    count,
    image_name,
    invalid,
    usage_error,
)

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.cli.parsing import Parser


# status -----------------------------------------------------------------------


def declare_status(p: Parser) -> None:
    p.describe(
        "one line per family: what runs, health, uptime, image, ports, marks",
        "  dockervisor status\n  dockervisor status myapp || alert 'myapp is down'\n"
        "  dockervisor status web db\n\n"
        "Exits 0 when every family shown runs (and is healthy, if it has a\n"
        "HEALTHCHECK), 5 otherwise, 1 if a family's state file is damaged.",
        codes=(0, 1, 2, 5),
    )
    p.add_argument("images", metavar="IMAGENAME", nargs="*", type=image_name, help="these families only")
    add_json(p)
    add_wide(p)
    p.add_argument(
        "--all", action="store_true", dest="every",
        help="also the families other state directories made on this engine (shown, never counted)",
    )  # fmt: skip
    p.set_defaults(handler=run_status)


def run_status(args: argparse.Namespace) -> int:
    from dockervisor.commands.status import status

    return status(context(args), list(dict.fromkeys(args.images)), args.json, args.every)


# list -------------------------------------------------------------------------


def declare_list(p: Parser) -> None:
    p.describe(
        "list the families, or one family's containers or images",
        "  dockervisor list\n  dockervisor list containers myapp\n  dockervisor list containers web db\n"
        "  dockervisor list images myapp",
    )
    p.add_argument("what", metavar="images|containers", nargs="?", choices=("images", "containers"))
    p.add_argument("images", metavar="IMAGENAME", nargs="*", type=image_name,
                   help="the family (containers: one or more)")  # fmt: skip
    add_json(p)
    add_wide(p)
    p.add_argument(
        "--all", action="store_true", dest="every",
        help="list: also the families other state directories made on this engine",
    )  # fmt: skip
    p.set_defaults(handler=run_list)


def run_list(args: argparse.Namespace) -> int:
    from dockervisor.commands import list as listing

    if args.what is None:
        if args.images:
            raise usage_error("usage: dockervisor list [images|containers IMAGENAME...]")
        return listing.families(context(args), args.json, args.every)
    if not args.images:
        raise usage_error(f"usage: dockervisor list {args.what} IMAGENAME")
    if args.what == "images":
        if len(args.images) > 1:
            raise usage_error("usage: dockervisor list images IMAGENAME (one family)")
        return listing.images(context(args), args.images[0], args.json)
    return listing.containers(context(args), list(dict.fromkeys(args.images)), args.json)


# history ----------------------------------------------------------------------


def declare_history(p: Parser) -> None:
    p.describe(
        "every build, start, stop, stable mark and rollback of a family",
        "  dockervisor history myapp --limit 50",
    )
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    p.add_argument("--limit", type=count, default=20, metavar="N", help="show the newest N entries (default: 20)")
    add_json(p)
    add_wide(p)
    p.set_defaults(handler=run_history)


def run_history(args: argparse.Namespace) -> int:
    from dockervisor.commands.history import history

    return history(context(args), args.image, args.limit, args.json)


# logs -------------------------------------------------------------------------


def declare_logs(p: Parser) -> None:
    p.describe(
        "the logs of the family's running container (or of one of its containers)",
        "  dockervisor logs myapp -f --tail 100\n"
        "  dockervisor logs myapp --container 20261128093000   (a failed start's, say)\n\n"
        "docker's own output and exit code.",
    )
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    p.add_argument("-f", "--follow", action="store_true", help="keep following the output")
    p.add_argument("--tail", type=_tail, metavar="N", help="only the last N lines (or all)")
    p.add_argument("--since", type=_since, metavar="T", help="only since T (2026-11-28T09:30:00, 10m, 2h)")
    p.add_argument("--container", metavar="CONTAINER|SUFFIX", help="any container of the family, stopped ones too")
    p.set_defaults(handler=run_logs)


def _tail(text: str) -> int | None:
    return None if text == "all" else count(text)


def _since(text: str) -> str:
    if not text or text[0] == "-" or not text.isascii() or not all(c.isalnum() or c in ":.+-" for c in text):
        raise invalid(f"not a time or duration: {text!r}")
    return text


def run_logs(args: argparse.Namespace) -> int:
    from dockervisor.commands.logs import logs

    return logs(context(args), args.image, args.container, args.follow, args.tail, args.since)


# exec -------------------------------------------------------------------------


def declare_exec(p: Parser) -> None:
    p.describe(
        "run a command in the family's running container",
        "  dockervisor exec myapp cat /etc/hostname\n"
        "  dockervisor exec -it myapp sh\n\n"
        "Options come before IMAGENAME; everything after it is the command.\n"
        "docker's own output and exit code.",
    )
    p.usage = "dockervisor exec [-i] [-t] IMAGENAME COMMAND [ARG...]"
    p.intermixed = False  # the command's own options are the command's
    p.add_argument("-i", "--interactive", action="store_true", help="keep stdin open")
    p.add_argument("-t", "--tty", action="store_true", help="allocate a terminal")
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    p.add_argument("command", metavar="COMMAND", nargs=argparse.REMAINDER)
    p.set_defaults(handler=run_exec)


def run_exec(args: argparse.Namespace) -> int:
    from dockervisor.commands.logs import exec_in

    if not args.command:
        raise usage_error("usage: dockervisor exec [-i] [-t] IMAGENAME COMMAND [ARG...]")
    return exec_in(context(args), args.image, args.command, args.interactive, args.tty)


# run --------------------------------------------------------------------------

RUN_USAGE = "dockervisor run [-i] [-t] [--image last|stable|CONTAINER] IMAGENAME COMMAND [ARG...]"


def declare_run(p: Parser) -> None:
    p.describe(
        "run a one-off container of the family's image, in its setting",
        "  dockervisor run myapp ./manage.py report\n"
        "  dockervisor run -it myapp sh\n"
        "  dockervisor run --image stable myapp ./manage.py showmigrations\n\n"
        "The family's mounts, environment, networks, user and limits; no\n"
        "published ports, no restart policy, no health check, and not the\n"
        "running container: a console or a one-time fix beside it. Options\n"
        "come before IMAGENAME; everything after it is the command. docker's\n"
        "own output and exit code; the container is removed afterwards, also\n"
        "when interrupted.",
    )
    p.usage = RUN_USAGE
    p.intermixed = False  # the command's own options are the command's
    p.add_argument("-i", "--interactive", action="store_true", help="keep stdin open")
    p.add_argument("-t", "--tty", action="store_true", help="allocate a terminal")
    p.add_argument(
        "--image", metavar="last|stable|CONTAINER", dest="image_of",
        help="run the image of the container marked last or stable, or of a container of the family "
        "(its name or suffix), instead of the family's current image",
    )  # fmt: skip
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    p.add_argument("command", metavar="COMMAND", nargs=argparse.REMAINDER)
    add_dry_run(p)
    p.set_defaults(handler=run_run)


def run_run(args: argparse.Namespace) -> int:
    from dockervisor.commands.run import run_in_setting

    if not args.command:
        raise usage_error(f"usage: {RUN_USAGE}")
    return run_in_setting(context(args), args.image, args.command, args.image_of, args.interactive, args.tty)

