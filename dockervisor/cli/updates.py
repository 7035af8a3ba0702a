"""The verbs that follow a registry: update, check, timer."""

from __future__ import annotations

from dockervisor.cli.parsing import add_dry_run, add_json, add_outcome_options, add_wide, context, image_name, usage_error

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    import argparse

    from dockervisor.cli.parsing import Parser


def declare_update(p: Parser) -> None:
    from dockervisor.cli.lifecycle import add_wait_options

    p.describe(
        "pull what the family's registry tag names now and start it, if it is new",
        "  dockervisor update myapp                  (cron: 17 4 * * * dockervisor update)\n"
        "  dockervisor update                        (every family pulled from a registry)\n"
        "  dockervisor update myapp --build ./src    (a family built here: rebuild, then the same)\n\n"
        "For each family: the registry is asked which digest the recorded reference\n"
        "names now (under the family's \"update\" policy: after its cooldown, within\n"
        "the versions it allows); a new one is pulled and started as `start new\n"
        "--if-changed` starts it, health-gated, rolled back if it does not come up.\n"
        "Nothing new, or the same image and configuration already running: nothing\n"
        "changes (outcome no-op). A family with nothing running is pulled, not started.\n"
        "Each family is reported; the exit code is the worst.",
        codes=(0, 1, 2, 3, 4),
    )
    p.add_argument("images", metavar="IMAGENAME", nargs="*", type=image_name,
                   help="these families (default: every family pulled from a registry)")  # fmt: skip
    p.add_argument("--build", metavar="PATH", dest="build_path",
                   help="a family built here: rebuild it from PATH (its Dockerfile), then start it if it changed")  # fmt: skip
    add_wait_options(p)
    p.add_argument(
        "--release-skip", action="store_true",
        help="do not run the family's release step (\"release\" in dcv-IMAGENAME) this once",
    )  # fmt: skip
    add_outcome_options(p)
    add_dry_run(p)
    p.set_defaults(handler=run_update)


def run_update(args: argparse.Namespace) -> int:
    from dockervisor.cli.lifecycle import wait_policy
    from dockervisor.commands.update import update

    release = "skip" if args.release_skip else getattr(args, "release", "run")
    images = list(dict.fromkeys(args.images))
    return update(context(args), images, wait_policy(args), args.build_path, release)


def declare_check(p: Parser) -> None:
    p.describe(
        "say whether the family's registry has an update for it, changing nothing",
        "  dockervisor check\n  dockervisor check myapp --json\n\n"
        "Asks the registry which digest the recorded reference names now and\n"
        "compares it with the digest of what runs; says what the family's\n"
        "\"update\" policy holds back (a cooldown, a version it does not allow)\n"
        "and why. Nothing is pulled or started.",
        codes=(0, 1, 2),
    )
    p.add_argument("images", metavar="IMAGENAME", nargs="*", type=image_name,
                   help="these families (default: every family pulled from a registry)")  # fmt: skip
    add_json(p)
    add_wide(p)
    p.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    from dockervisor.commands.update import check

    return check(context(args), list(dict.fromkeys(args.images)), args.json)


def declare_timer(p: Parser) -> None:
    from dockervisor.commands.timer import DEFAULT_CALENDAR

    p.describe(
        "print (or install) a systemd timer and a crontab line that run `update`",
        "  dockervisor timer myapp\n"
        "  dockervisor timer myapp --on-calendar daily --install\n\n"
        "Prints a service and a timer unit running `dockervisor update IMAGENAME`,\n"
        "and the crontab line that does the same under `env -i`. --install writes\n"
        "the units (/etc/systemd/system for root, ~/.config/systemd/user otherwise)\n"
        "and says how to switch the timer on.",
    )
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    p.add_argument("--on-calendar", metavar="SPEC", default=DEFAULT_CALENDAR,
                   help=f"when it runs, as systemd.time(7) says (default: {DEFAULT_CALENDAR!r})")  # fmt: skip
    p.add_argument("--install", action="store_true", help="write the two units instead of printing them")
    p.add_argument("--unit-dir", metavar="DIR", help="with --install: write them here instead")
    p.set_defaults(handler=run_timer)


def run_timer(args: argparse.Namespace) -> int:
    import sys

    from dockervisor.commands.timer import timer

    if args.unit_dir and not args.install:
        raise usage_error("--unit-dir applies to --install")
    engine = getattr(args, "engine", None)
    flags = engine.flags if engine is not None else ()
    return timer(args.image, args.on_calendar, args.install, args.unit_dir, flags, sys.stdout, sys.stderr)
