"""`dockervisor pull IMAGENAME REFERENCE [--overrides FILE] [--no-pull]`: an image
built elsewhere (CI and a registry, `docker load`, `docker tag` by hand) becomes
the family's, as if `build` had made it."""

from __future__ import annotations

import os

from dockervisor.store import provenance
from dockervisor.engine import argv as docker_argv, query
from dockervisor.store import state
from dockervisor.commands.build import record_image, report, short_id
from dockervisor.flows.context import Context
from dockervisor.core.errors import EXIT_OK, DockervisorError
from dockervisor.config.overrides import load_overrides


def pull(ctx: Context, family: str, reference: str, overrides_file: str | None, no_pull: bool) -> int:
    # Checked before pulling: a mistake in the overrides costs no download.
    overrides = None
    if overrides_file is not None:
        overrides_file = os.path.abspath(overrides_file)
        overrides = load_overrides(overrides_file)
        if overrides is None:
            raise DockervisorError(f"there is no overrides file at {overrides_file}")
    if not no_pull:
        # Before the family's lock: a download changes nothing of the family, and
        # a registry error leaves no trace of it. Progress on stderr, errors in one line.
        ctx.docker.stream(docker_argv.pull(reference), keep_errors=True)

    # Looked at before the lock, too: a reference that names nothing leaves no trace.
    document = None if ctx.dry_run and not no_pull else _require_image(ctx, reference, no_pull)

    with ctx.family_change(family, "pull", creates=True) as entry:
        recorded = state.load(family)  # a damaged state file stops us before the tag moves
        # The ID, not the reference: exactly the image inspected, even if the tag moves meanwhile.
        ctx.docker.change(docker_argv.tag_as_family(document["Id"] if document else reference, family))
        if ctx.dry_run:
            return EXIT_OK
        source = {"source": "pull", "reference": reference, "pulled": "no" if no_pull else "yes"}
        source.update(provenance.record(overrides_file, overrides.sha256 if overrides else None))
        config = record_image(ctx, recorded, entry, overrides, "pulled", source)
    how = "tagged" if no_pull else "pulled"
    report(ctx, f"{how} {reference} as {family} ({short_id(recorded.build['image_id'])})", config, overrides)
    return EXIT_OK


def _require_image(ctx: Context, reference: str, no_pull: bool) -> dict:
    document = query.inspect_image(ctx.docker, reference)
    if document is None:
        hint = "load or tag it first, or pull it without --no-pull" if no_pull else "docker pull left none"
        raise DockervisorError(f"there is no image {reference!r} on the engine; {hint}")
    return document
