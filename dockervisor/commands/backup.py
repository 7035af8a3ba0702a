"""`dockervisor backup IMAGENAME [-o FILE] [--json]`: one archive of every
mount point of the family, from its running container while it is paused, or
from its last container when nothing runs."""

from __future__ import annotations

import os
import time

from dockervisor.flows import datacopy
from dockervisor.flows import datarecovery
from dockervisor.engine import argv as docker_argv, query
from dockervisor.store import paths, state
from dockervisor.store.archive import Manifest
from dockervisor.commands.common import active_names
from dockervisor.flows.context import Context
from dockervisor.core.errors import EXIT_OK, DockervisorError
from dockervisor.engine.executor import command_failed
from dockervisor.core.output import print_json
from dockervisor.store.state import FamilyState
from dockervisor.core.timefmt import iso_utc


def backup(ctx: Context, family: str, output: str | None, as_json: bool) -> int:
    chosen = _chosen_path(output) if output is not None else None
    with ctx.family_change(family, "backup") as entry:
        recorded = state.load(family)
        config = recorded.run_config
        if config is None:
            raise DockervisorError(f"no run configuration is recorded for {family!r}; build it first")
        if not config.mounts:
            raise DockervisorError(f"{family!r} mounts no volume or host directory: there is no data to back up")
        source, document = _source(ctx, recorded)
        now = time.time()
        mounts = datacopy.mounts_to_copy(source, document, config, strict=True)
        manifest = Manifest(family, source, document.get("Image"), mounts, iso_utc(now), "backup")
        path = _default_path(family, now, chosen)
        paused = datacopy.is_running(document)
        _journal(ctx, family, path, source if paused else None)
        size = datacopy.write_archive(ctx, path, manifest, pause=paused)
        entry.container, entry.image_id = source, manifest.image_id
        entry.message = f"wrote {path} ({datacopy.size_text(size)})"
    if as_json:
        document = {"image": family, "path": path, "size": size, "paused": paused, **manifest.to_dict()}
        print_json(ctx.stdout, document)
    else:
        print(path, file=ctx.stdout, flush=True)
        targets = ", ".join(mount.target for mount in mounts)
        ctx.info(f"backed up {targets} of {source} to {path} ({datacopy.size_text(size)})")
    return EXIT_OK


def _journal(ctx: Context, family: str, path: str, paused: str | None) -> None:
    """Before the pause: what the next run unpauses and sweeps if this one is killed."""
    journal = datarecovery.begin(ctx, family, "backup")
    if journal is not None:
        journal.pause, journal.partial = paused, datacopy.partial_path(path)
        journal.write()


def _source(ctx: Context, family: FamilyState) -> tuple[str, dict]:
    """The running container ("last" if several run), else the last one, and
    its inspection. The family and its last container are asked side by
    side: the running one is the last one, most often."""
    image, last = family.image, family.last
    guess = [docker_argv.inspect_containers([last])] if last else []
    ps, *inspected = ctx.docker.query_all([docker_argv.list_family(image), *guess], check=False)
    if not ps.ok:
        raise command_failed(ps)
    containers = query.parse_ps_lines(ps.stdout)
    running = active_names(containers)
    if running:
        source = last if last in running else running[0]
    elif last and any(c.name == last for c in containers):
        source = last
    else:
        raise DockervisorError(
            f"nothing of {image!r} runs and there is no last container to copy its data from; "
            f"start one with `dockervisor start new {image}`"
        )
    found = query.inspected(inspected[0]) if inspected and source == last else []
    document = found[0] if found else query.inspect_container(ctx.docker, source)
    if document is None:
        raise DockervisorError(f"{source} no longer exists")
    return source, document


def _chosen_path(output: str) -> str:
    """-o FILE: a file (replaced whole), or a directory to put the usual name in."""
    if output in ("", "-"):
        raise DockervisorError("-o needs a file name: an archive is never written to stdout")
    path = os.path.abspath(output)
    if os.path.isdir(path):
        return path + os.sep
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise DockervisorError(f"cannot write {path}: the directory {directory} does not exist")
    return path


def _default_path(family: str, now: float, chosen: str | None) -> str:
    """`IMAGENAME-YYYYmmddTHHMMSSZ.tar`, in `backups/IMAGENAME/` of the state
    directory or in the directory chosen; the file chosen as it is."""
    if chosen is not None and not chosen.endswith(os.sep):
        return chosen
    if chosen is None:
        directory = paths.backups_dir(family)
        paths.ensure_private_dir(os.path.dirname(directory))
        paths.ensure_private_dir(directory)
    else:
        directory = chosen.rstrip(os.sep) or os.sep
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    path, counter = os.path.join(directory, f"{family}-{stamp}.tar"), 1
    while os.path.lexists(path):
        counter += 1
        path = os.path.join(directory, f"{family}-{stamp}-{counter}.tar")
    return path
