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


def pull(
    ctx: Context, family: str, reference: str, overrides_file: str | None, no_pull: bool, pinned: str | None = None
) -> int:
    """`pinned`: what `update` pulls, REPOSITORY@DIGEST, the content `reference`
    named when it was checked, so that a tag moved meanwhile is not taken
    unchecked; `reference` is still what is recorded and followed."""
    # Checked before pulling: a mistake in the overrides costs no download.
    overrides = None
    if overrides_file is not None:
        overrides_file = os.path.abspath(overrides_file)
        overrides = load_overrides(overrides_file)
        if overrides is None:
            raise DockervisorError(f"there is no overrides file at {overrides_file}")
        if overrides.swarm is not None:
            raise DockervisorError(f"{overrides_file}: swarm: a Swarm family is built with `dockervisor build`, "
                                   "which pushes its image where every node pulls it; `pull` makes container families")  # fmt: skip
        if overrides.update is not None and overrides.update.allow:
            _check_allow(overrides_file, reference)
    if not no_pull:
        # Before the family's lock: a download changes nothing of the family, and
        # a registry error leaves no trace of it. Progress on stderr, errors in one line.
        ctx.docker.stream(docker_argv.pull(pinned or reference), keep_errors=True)

    # Looked at before the lock, too: a reference that names nothing leaves no trace.
    document = None if ctx.dry_run and not no_pull else _require_image(ctx, pinned or reference, no_pull)

    with ctx.family_change(family, "pull", creates=True) as entry:
        recorded = state.load(family)  # a damaged state file stops us before the tag moves
        # The ID, not the reference: exactly the image inspected, even if the tag moves meanwhile.
        ctx.docker.change(docker_argv.tag_as_family(document["Id"] if document else pinned or reference, family))
        if ctx.dry_run:
            return EXIT_OK
        source = {"source": "pull", "reference": reference, "pulled": "no" if no_pull else "yes",
                  "digest": _digest(document, reference)}  # fmt: skip
        entry.digest = next((d for d in (document or {}).get("RepoDigests") or [] if d.endswith(f"@{source['digest']}")),
                            None)  # fmt: skip
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


def _digest(document: dict | None, reference: str) -> str | None:
    """The repository digest of the pulled image, or None (loaded, tagged by hand)."""
    from dockervisor.engine import registry

    try:
        return registry.repo_digest(document or {}, registry.parse(reference))
    except ValueError:
        return None


def _check_allow(overrides_file: str, reference: str) -> None:
    """`"allow"` needs a version tag to follow: found now, not at the first nightly update."""
    from dockervisor.config.updatepolicy import version
    from dockervisor.engine import registry

    try:
        tag = registry.parse(reference).tag
    except ValueError:
        return  # docker's pull says what is wrong with it
    if tag is None or version(tag) is None:
        raise DockervisorError(
            f"{overrides_file}: update: allow: {reference} has no version tag (such as 1.4 or v2.1.0) to move "
            "from; pull a version, or leave \"allow\" out to follow the tag as it moves"
        )
