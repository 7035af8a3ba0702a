"""The verbs that clean up: prune, rm, forget."""

from __future__ import annotations

import argparse

from dockervisor.cli.parsing import add_dry_run, add_json, add_outcome_options, checked, context, image_name, invalid

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.cli.parsing import Parser


# prune ------------------------------------------------------------------------


def declare_prune(p: Parser) -> None:
    p.describe(
        "remove stopped containers beyond the newest N, and the images nothing uses any more",
        "  dockervisor prune myapp --keep 2\n  dockervisor prune --dry-run        (every family)\n\n"
        "The running container and those marked last or stable always stay; so\n"
        "does any image a container uses or a tag names. Named volumes stay.",
    )
    p.add_argument("images", metavar="IMAGENAME", nargs="*", type=image_name, help="default: every family")
    p.add_argument(
        "--keep", type=_keep, default=argparse.SUPPRESS, metavar="N",
        help='stopped containers to keep besides last and stable (default: the family\'s "keep", '
        'else 5; "all" keeps every one)',
    )  # fmt: skip
    add_json(p)
    add_outcome_options(p, json=False)  # its --json is the report of what it removed
    add_dry_run(p)
    p.set_defaults(handler=run_prune)


def _keep(text: str) -> int | None:
    from dockervisor.config.retention import parse_keep

    try:
        return parse_keep(text, minimum=0)
    except ValueError as error:
        raise invalid(f"{text!r} {error}") from None


def run_prune(args: argparse.Namespace) -> int:
    from dockervisor.commands.prune import prune
    from dockervisor.config.retention import RECORDED

    # Without --keep, each family's own retention.
    return prune(context(args), args.images, getattr(args, "keep", RECORDED), args.json)


# rm ---------------------------------------------------------------------------


def declare_rm(p: Parser) -> None:
    p.describe(
        "remove stopped containers of a family (never the running one)",
        "  dockervisor rm dcv_myapp_20261128093000\n"
        "  dockervisor rm --force dcv_myapp_20261101000000   (it was marked stable)",
    )
    p.add_argument("names", metavar="CONTAINERNAME", nargs="+", type=_container)
    p.add_argument(
        "--force", action="store_true",
        help="also remove a container marked last or stable, and clear the mark",
    )  # fmt: skip
    add_dry_run(p)
    p.set_defaults(handler=run_rm)


def _container(text: str) -> str:
    from dockervisor.config.names import check_container_name

    return checked(check_container_name, text)


def run_rm(args: argparse.Namespace) -> int:
    from dockervisor.commands.rm import rm

    return rm(context(args), args.names, args.force)


# forget -----------------------------------------------------------------------


def declare_forget(p: Parser) -> None:
    p.describe(
        "retire a family: its containers, images, tag, state and history (not its volumes)",
        "  dockervisor stop myapp && dockervisor forget myapp\n"
        "  dockervisor forget myapp --volumes    (its data too)",
    )
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    p.add_argument("--volumes", action="store_true", help="also remove the family's named volumes: its data")
    add_dry_run(p)
    p.set_defaults(handler=run_forget)


def run_forget(args: argparse.Namespace) -> int:
    from dockervisor.commands.forget import forget

    return forget(context(args), args.image, args.volumes)


# adopt ------------------------------------------------------------------------


def declare_adopt(p: Parser) -> None:
    p.describe(
        "take over a family another state directory made on this engine",
        "  dockervisor adopt myapp\n"
        "  dockervisor stable mark myapp dcv_myapp_20261128093000   (marks are yours to set)\n\n"
        "On a shared engine each state directory acts only on the containers it\n"
        "made. adopt records here the state directories that made the family's\n"
        "other containers, so that this one may start, stop, mark and prune\n"
        "them, and what those make later, too; their last and stable marks stay\n"
        "unknown here until you set them. Nothing on the engine changes, and the\n"
        "other directory keeps seeing them as its own.",
    )
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    add_dry_run(p)
    p.set_defaults(handler=run_adopt)


def run_adopt(args: argparse.Namespace) -> int:
    from dockervisor.commands.adopt import adopt

    return adopt(context(args), args.image)
