"""The verbs about how a family's containers run: pull, config."""

from __future__ import annotations

from dockervisor.cli.parsing import (
    add_dry_run,
    add_json,
    add_outcome_options,
    checked,
    context,
    image_name,
    usage_error,
)

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    import argparse

    from dockervisor.cli.parsing import Parser


# pull -------------------------------------------------------------------------


def declare_pull(p: Parser) -> None:
    p.describe(
        "make an image built elsewhere IMAGENAME's, and record how its containers run",
        "  dockervisor pull myapp registry.example.com/team/myapp:1.4 --overrides ./dcv-myapp\n"
        "  docker load -i myapp.tar && dockervisor pull myapp myapp:1.4 --no-pull\n\n"
        "It runs `docker pull REFERENCE` (progress on stderr), tags the image\n"
        "IMAGENAME:latest and records its run configuration as build does; then\n"
        "`dockervisor start new IMAGENAME` runs it.",
    )
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    p.add_argument("reference", metavar="REFERENCE", type=_reference, help="[REGISTRY/]NAME[:TAG][@DIGEST]")
    p.add_argument(
        "--overrides", metavar="FILE",
        help="a dcv-IMAGENAME overrides file (ports, volumes, env, network...); default: none",
    )  # fmt: skip
    p.add_argument(
        "--no-pull", action="store_true",
        help="the image is on the engine already (docker load, docker tag): ask no registry",
    )  # fmt: skip
    add_outcome_options(p, json=False)
    add_dry_run(p)
    p.set_defaults(handler=run_pull)


def _reference(text: str) -> str:
    from dockervisor.config.names import check_image_reference

    return checked(check_image_reference, text)


def run_pull(args: argparse.Namespace) -> int:
    from dockervisor.commands.pull import pull

    return pull(context(args), args.image, args.reference, args.overrides, args.no_pull)


# config -----------------------------------------------------------------------


def declare_config(p: Parser) -> None:
    p.describe(
        "how the family's new containers run, and where that came from",
        "  dockervisor config myapp\n  dockervisor config myapp --json\n"
        "  dockervisor config myapp --from-compose compose.json --service web -o dcv-myapp\n\n"
        "Ports, mounts, networks, limits, log options and the names of the\n"
        "environment variables (never their values), as build or pull recorded\n"
        "them; and whether the overrides file has changed since.\n\n"
        "--from-compose writes the dcv-IMAGENAME of one Compose service (JSON;\n"
        "YAML through the docker compose plugin), listing what it cannot carry\n"
        "over; then nothing is written, unless --partial.",
    )
    p.add_argument("image", metavar="IMAGENAME", type=image_name)
    add_json(p)
    p.add_argument("--from-compose", metavar="FILE", help="convert a service of this Compose file instead")
    p.add_argument("--service", metavar="NAME", help="with --from-compose: the service to convert")
    p.add_argument("-o", "--output", metavar="FILE", help="with --from-compose: write here (never over a file), "
                   "not to stdout")  # fmt: skip
    p.add_argument("--partial", action="store_true", help="with --from-compose: write what can be carried over")
    p.set_defaults(handler=run_config)


def run_config(args: argparse.Namespace) -> int:
    from dockervisor.commands.config import config, from_compose

    if args.from_compose is None:
        if args.service or args.output or args.partial:
            raise usage_error("--service, --output and --partial go with --from-compose")
        return config(context(args), args.image, args.json)
    if not args.service or args.json:
        raise usage_error("usage: dockervisor config IMAGENAME --from-compose FILE --service NAME [-o FILE] [--partial]")
    return from_compose(context(args), args.image, args.from_compose, args.service, args.output, args.partial)
