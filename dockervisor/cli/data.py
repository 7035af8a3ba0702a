"""The verbs for the family's data: backup."""

from __future__ import annotations

from dockervisor.cli.parsing import add_json, context, image_name

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    import argparse

    from dockervisor.cli.parsing import Parser


# backup -----------------------------------------------------------------------


def declare_backup(p: Parser) -> None:
    p.describe(
        "one archive of every mount point of the family (its data)",
        "  dockervisor backup myapp\n"
        "  dockervisor backup myapp -o /srv/backups/myapp.tar\n\n"
        "From the running container, paused while it is copied (unpaused on\n"
        "every path, signals included), or from the last one when nothing runs.\n"
        "stdout gets the archive's path; by default it is in the state directory,\n"
        "backups/IMAGENAME/. The archive is a plain tar (`tar -tvf FILE`), 0600.",
    )
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    p.add_argument(
        "-o", "--output", metavar="FILE",
        help="write the archive there (replaced whole), or in that directory",
    )  # fmt: skip
    add_json(p)
    p.set_defaults(handler=run_backup)


def run_backup(args: argparse.Namespace) -> int:
    from dockervisor.commands.backup import backup

    return backup(context(args), args.image, args.output, args.json)
