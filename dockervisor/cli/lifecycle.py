"""The verbs that change what runs: build, start, stop, stable, unlock."""

from __future__ import annotations

from dockervisor.cli.parsing import (
    add_dry_run,
    add_json,
    add_outcome_options,
    context,
    count,
    image_name,
    invalid,
    seconds,
    usage_error,
)

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    import argparse

    from dockervisor.cli.parsing import Parser
    from dockervisor.flows.waiting import WaitPolicy


# build ------------------------------------------------------------------------


def declare_build(p: Parser) -> None:
    p.describe(
        "build IMAGENAME from a Dockerfile and record how its containers run",
        "  dockervisor build myapp .\n"
        "  dockervisor build myapp ./src -f ./src/Dockerfile.prod --build-arg VERSION=2.1\n\n"
        "docker's build log goes to stderr; stdout gets the image ID.",
    )
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    p.add_argument("path", metavar="PATH", nargs="?", default=".", help="build context (default: .)")
    p.add_argument("-f", "--file", dest="dockerfile", metavar="DOCKERFILE", help="default: PATH/Dockerfile")
    p.add_argument(
        "--build-arg", action="append", default=[], metavar="KEY[=VALUE]", dest="build_args",
        help="a build-time variable (repeatable); KEY alone takes it from the environment",
    )  # fmt: skip
    p.add_argument("--no-cache", action="store_true", help="do not use the build cache")
    p.add_argument("--pull", action="store_true", help="always try to pull newer base images")
    p.add_argument("--target", metavar="STAGE", help="the build stage to build")
    p.add_argument("--platform", metavar="PLATFORM", help="build for this platform (linux/arm64...)")
    p.add_argument("-q", "--quiet", action="store_true", help="no build log; print only the image ID")
    add_outcome_options(p, json=False)  # -q prints the image ID
    add_dry_run(p)
    p.set_defaults(handler=run_build)


def run_build(args: argparse.Namespace) -> int:
    from dockervisor.commands.build import BuildOptions, build

    options = BuildOptions(args.build_args, args.no_cache, args.pull, args.target, args.platform, args.quiet)
    return build(context(args), args.image, args.path, args.dockerfile, options)


# start ------------------------------------------------------------------------

_START_MODES = ("new", "last", "stable")
START_USAGE = (
    "dockervisor start [options] new|last|stable IMAGENAME\n"
    "       dockervisor start [options] IMAGENAME SUFFIX\n"
    "       dockervisor start [options] CONTAINERNAME"
)


def declare_start(p: Parser) -> None:
    p.describe(
        "start new|last|stable IMAGENAME, or a container of a family by name",
        "  dockervisor start new myapp --env LOG_LEVEL=debug\n"
        "  dockervisor start new myapp --env TOKEN     (TOKEN's value from the environment)\n"
        "  dockervisor start last myapp\n"
        "  dockervisor start stable myapp               (the rollback)\n"
        "  dockervisor start myapp 20261128093000       (the suffix `status` shows)\n"
        "  dockervisor start dcv_myapp_20261128093000\n"
        "  dockervisor start new myapp --snapshot       (keep the data the old one leaves)\n"
        "  dockervisor start stable myapp --with-data   (with the data it had then)\n\n"
        "Any other running container of the family is stopped first. The start\n"
        "waits until the container is up (healthy, if the image has a\n"
        "HEALTHCHECK); if it does not come up, or the start is interrupted\n"
        "(SIGINT, SIGTERM, SIGHUP), it is stopped and the container that ran\n"
        "before is started again (exit code 3). stdout gets the name of the\n"
        "container that runs afterwards.\n\n"
        "With several contexts (dockervisor --context web1,web2 start new myapp)\n"
        "it goes host by host; the first host whose start fails is rolled back,\n"
        "the hosts after it are not touched, and stdout gets which hosts run what.",
        codes=(0, 1, 2, 3, 4),
        usage=START_USAGE,
    )
    p.add_argument("words", metavar="WHAT", nargs="+", help="new|last|stable IMAGENAME, or a container")
    add_wait_options(p)
    p.add_argument(
        "-e", "--env", action="append", default=[], metavar="KEY[=VALUE]",
        help="start new only: set a variable in the new container (repeatable); KEY alone "
        "takes its value from dockervisor's environment, so it is on no command line",
    )  # fmt: skip
    p.add_argument(
        "--env-file", action="append", default=[], metavar="FILE", dest="env_files",
        help="start new only: read variables from a docker env file (KEY=VALUE lines)",
    )  # fmt: skip
    p.add_argument(
        "--snapshot", action="store_true",
        help="start new only: first take a snapshot of the data the old container leaves "
        "(see `dockervisor snapshots`); a failed start puts it back",
    )  # fmt: skip
    p.add_argument(
        "--with-data", action="store_true",
        help="not with new: restore the data the container had when it was last replaced "
        "(its newest snapshot) before starting it; the current data is snapshotted first",
    )  # fmt: skip
    p.add_argument(
        "--if-changed", action="store_true",
        help="start new only: do nothing (and print its name) if the running container already "
        "runs the current image with the same configuration and environment",
    )  # fmt: skip
    p.add_argument(
        "--parallel", type=_at_least_one, default=1, metavar="N",
        help="with several contexts: after the first host, which goes alone, start on N hosts at a time "
        "(default: 1)",
    )  # fmt: skip
    p.add_argument(
        "--probation", type=_duration, metavar="DURATION",
        help="start new only: once up, keep watching it this long (90, 90s, 5m, 1h); an exit, a "
        "restart, an unhealthy check or a failed probe meanwhile rolls back (default: the family's "
        "\"probation\", else none; 0: none)",
    )  # fmt: skip
    p.add_argument(
        "--promote", action="store_true", default=None,
        help="start new only: mark it stable once it has passed its probation (or the wait)",
    )  # fmt: skip
    p.add_argument(
        "--release-skip", action="store_true",
        help="start new only: do not run the family's release step (\"release\" in dcv-IMAGENAME) this once",
    )  # fmt: skip
    add_outcome_options(p)
    add_dry_run(p)
    p.set_defaults(handler=run_start)


def add_wait_options(p: Parser) -> None:
    """How a start waits for its container to come up: start, restore."""
    wait = p.add_mutually_exclusive_group()
    wait.add_argument(
        "--wait", type=seconds, metavar="SECONDS", help="how long it may take to come up (default: 60)"
    )
    wait.add_argument("--no-wait", action="store_true", help="do not wait or roll back; report once docker started it")
    p.add_argument(
        "--settle",
        type=seconds,
        metavar="SECONDS",
        help="how long it must stay up before the start counts as done (default: 3)",
    )


def _at_least_one(text: str) -> int:
    from dockervisor.cli.parsing import invalid

    value = count(text)
    if value < 1:
        raise invalid(f"must be 1 or more: {text!r}")
    return value


def _duration(text: str) -> int:
    """--probation: 0 turns the family's off; otherwise as the "probation" key."""
    from dockervisor.config.healthcheck import duration
    from dockervisor.config.optionvalues import Invalid

    if text == "0":
        return 0
    try:
        return duration(text)
    except Invalid as refused:
        raise invalid(refused.message) from None


def wait_policy(args: argparse.Namespace) -> WaitPolicy:
    from dockervisor.flows.waiting import WaitPolicy

    policy = WaitPolicy(enabled=not args.no_wait)
    if args.wait is not None:
        policy.timeout = args.wait
    if args.settle is not None:
        policy.settle = args.settle
    return policy


def _refuse_mode_typo(words: list[str]) -> None:
    """`start nwe app`: neither a mode nor IMAGENAME SUFFIX (the second word is
    no suffix or container of a family named like the first): say so, with
    the mode it could be, instead of looking for a container named `app`."""
    from dockervisor.config.names import CONTAINER_PREFIX, is_suffix

    first, second = words
    if is_suffix(second) or second.startswith(f"{CONTAINER_PREFIX}{first}_"):
        return
    import difflib

    close = difflib.get_close_matches(first.lower(), _START_MODES, n=1, cutoff=0.5)
    hint = f"; did you mean `dockervisor start {close[0]} {second}`?" if close else ""
    raise usage_error(
        f"{first!r} is not a start mode, which is new, last or stable, and {second!r} is no "
        f"container of a family {first!r}{hint}"
    )


def run_start(args: argparse.Namespace) -> int:
    from dockervisor.commands import start
    from dockervisor.config.names import check_container_name, check_image_name, container_for

    words = args.words
    if len(words) == 2 and words[0] in _START_MODES:
        mode, target = words[0], check_image_name(words[1])
    elif len(words) == 2:
        _refuse_mode_typo(words)
        mode, target = "container", container_for(check_image_name(words[0]), words[1])
    elif len(words) == 1 and words[0] not in _START_MODES:
        mode, target = "container", check_container_name(words[0])
    else:
        raise usage_error(f"usage: {START_USAGE}")
    if (args.env or args.env_files) and mode != "new":
        raise usage_error(
            "--env and --env-file only apply to `start new`: a container's environment is "
            "fixed when it is created"
        )
    if args.if_changed and mode != "new":
        raise usage_error("--if-changed only applies to `start new`")
    if args.snapshot and mode != "new":
        raise usage_error("--snapshot applies to `start new`; --with-data restores a container's own data")
    if (args.probation is not None or args.promote) and mode != "new":
        raise usage_error("--probation and --promote apply to `start new`")
    if args.release_skip and mode != "new":
        raise usage_error("--release-skip applies to `start new`: only a new image has a release step")
    if (args.probation or args.promote) and args.no_wait:
        raise usage_error("--probation and --promote need the wait: not with --no-wait")
    if args.with_data and mode == "new":
        raise usage_error("--with-data applies to start last|stable|CONTAINER: a new container has no data yet")
    ctx, policy = context(args), wait_policy(args)
    policy.probation, policy.promote = args.probation, args.promote
    if mode == "new":
        from dockervisor.config.envfile import parse_env_options

        return start.start_new(
            ctx, target, policy, parse_env_options(args.env), args.env_files, args.if_changed,
            args.snapshot, "skip" if args.release_skip else getattr(args, "release", "run"),
        )
    if mode == "last":
        return start.start_last(ctx, target, policy, args.with_data)
    if mode == "stable":
        return start.start_stable(ctx, target, policy, args.with_data)
    return start.start_container(ctx, target, policy, args.with_data)


# stop -------------------------------------------------------------------------


def declare_stop(p: Parser) -> None:
    p.describe(
        "stop the family's running container (nothing running: exit 0)",
        "  dockervisor stop myapp",
    )
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    add_outcome_options(p)
    add_dry_run(p)
    p.set_defaults(handler=run_stop)


def run_stop(args: argparse.Namespace) -> int:
    from dockervisor.commands.stop import stop

    return stop(context(args), args.image)


# stable -----------------------------------------------------------------------

STABLE_USAGE = (
    "dockervisor stable [--dry-run] [--force] [mark] IMAGENAME [CONTAINER|SUFFIX]\n"
    "       dockervisor stable show [--json] IMAGENAME"
)


def declare_stable(p: Parser) -> None:
    p.describe(
        "mark the running container stable, or show which one is",
        "  dockervisor stable myapp          (same as: dockervisor stable mark myapp)\n"
        "  dockervisor stable mark myapp 20261128093000\n"
        "  dockervisor stable show myapp\n\n"
        "Only a container that is up (running, healthy if it has a HEALTHCHECK,\n"
        "not restarting) is marked, unless --force.",
        usage=STABLE_USAGE,
    )
    p.add_argument("words", metavar="WHAT", nargs="+", help="[mark|show] IMAGENAME [CONTAINER|SUFFIX]")
    p.add_argument(
        "--force", action="store_true",
        help="mark a container that is not up (stopped, restarting or unhealthy)",
    )  # fmt: skip
    add_json(p, "show: the marks as JSON; mark: the outcome document instead of the container name")
    add_outcome_options(p, json=False)
    add_dry_run(p)
    p.set_defaults(handler=run_stable, outcome_json=True)


def run_stable(args: argparse.Namespace) -> int:
    from dockervisor.commands import stable
    from dockervisor.config.names import check_image_name, container_for

    words = args.words
    container = None
    if len(words) == 1 and words[0] not in ("mark", "show"):
        action, image = "mark", words[0]
    elif len(words) == 2 and words[0] in ("mark", "show"):
        action, image = words
    elif len(words) == 3 and words[0] == "mark":
        action, image, container = words
    else:
        raise usage_error(f"usage: {STABLE_USAGE}")
    image = check_image_name(image)
    if action == "show":
        if args.force or args.dry_run or args.notify or args.notify_on:
            raise usage_error("--force, --dry-run, --notify and --notify-on apply to `stable mark`")
        args.reporting = args.outcome = None  # a question: its own document, no outcome
        return stable.show(context(args), image, args.json)
    if container is not None:
        container = container_for(image, container)
    return stable.mark(context(args), image, container, args.force)


# unlock -----------------------------------------------------------------------


def declare_unlock(p: Parser) -> None:
    p.describe(
        "break the engine's lock on a family, left by a client that was killed",
        "  dockervisor unlock myapp --context web1\n\n"
        "Every change of a family holds a lock the engine keeps (a container named\n"
        "dockervisor-lock-IMAGENAME, never started), so that admins on other\n"
        "machines wait for each other. A client killed while holding it leaves it\n"
        "behind; this removes it and says who held it. Make sure that run is gone.",
    )
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    p.set_defaults(handler=run_unlock)


def run_unlock(args: argparse.Namespace) -> int:
    from dockervisor.commands.unlock import unlock

    return unlock(context(args), args.image)
