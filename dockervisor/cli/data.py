"""The verbs for the family's data: backup, restore, snapshots."""

from __future__ import annotations

from dockervisor.cli.lifecycle import add_wait_options, wait_policy
from dockervisor.cli.parsing import add_dry_run, add_json, add_outcome_options, add_wide, context, image_name

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


# restore ----------------------------------------------------------------------


def declare_restore(p: Parser) -> None:
    p.describe(
        "make the family's data exactly an archive's (a backup or a snapshot)",
        "  dockervisor restore myapp ~/.dockervisor/backups/myapp/myapp-20261128T093005Z.tar\n\n"
        "The archive is checked whole first (its family, its mount points, every\n"
        "name in it). Then a snapshot of the current data is taken, the running\n"
        "container is stopped, each volume and host directory gets exactly the\n"
        "archive's content (files made since are gone), and the container is\n"
        "started again and waited for; if it does not come up, the data is put\n"
        "back and it is started again (exit code 3). Restoring needs a /bin/sh\n"
        "with tar in a container: DOCKERVISOR_HELPER_IMAGE if set, else the\n"
        "family's own image.",
        codes=(0, 1, 2, 3, 4),
    )
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    p.add_argument("file", metavar="FILE", help="an archive `dockervisor backup` or a snapshot wrote")
    add_wait_options(p)
    add_outcome_options(p)
    add_dry_run(p)
    p.set_defaults(handler=run_restore)


def run_restore(args: argparse.Namespace) -> int:
    from dockervisor.commands.restore import restore

    return restore(context(args), args.image, args.file, wait_policy(args))


# snapshots --------------------------------------------------------------------


def declare_snapshots(p: Parser) -> None:
    p.describe(
        "the family's snapshots of its data, newest first",
        "  dockervisor snapshots myapp\n\n"
        "Taken by `start new --snapshot` (or \"snapshot\": true in dcv-IMAGENAME),\n"
        "`restore` and `start ... --with-data`, each linked to the container that\n"
        "wrote the data; kept to \"snapshots_keep\" (default 3) and the stable\n"
        "container's newest one.",
    )
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    add_json(p)
    add_wide(p)
    p.set_defaults(handler=run_snapshots)


def run_snapshots(args: argparse.Namespace) -> int:
    from dockervisor.commands.snapshots import list_snapshots

    return list_snapshots(context(args), args.image, args.json)
