"""`dockervisor list`, `list containers IMAGENAME` and `list images IMAGENAME`.

Each makes a fixed number of docker calls however many containers there are:
one `ps`, which already says which image each container uses, then one
`image inspect` of the distinct images. (`docker container inspect` of N
containers costs N requests to the engine.)
"""

from __future__ import annotations

from dockervisor.engine import argv as docker_argv, query
from dockervisor.store import state
from dockervisor.commands.common import load_families, prunable, report_damaged
from dockervisor.store.state import require_known_family
from dockervisor.flows.context import Context
from dockervisor.core.errors import EXIT_FAILED, EXIT_OK
from dockervisor.config.names import is_image_name
from dockervisor.core.output import Column
from dockervisor.flows.ownership import strangers
from dockervisor.core.timefmt import iso_utc, parse_docker_time


def families(ctx: Context, as_json: bool, every: bool = False) -> int:
    """The families this state directory knows; with `every`, also the ones
    other state directories made on the engine, marked as not ours."""
    labelled = query.all_labelled_containers(ctx.docker)
    known = state.known_families()
    others = sorted({c.family for c in labelled if is_image_name(c.family)} - set(known)) if every else []
    _, damaged = load_families(known)
    listed, rows = [], []
    for name in sorted([*known, *others]):
        ours = name in known
        found = [c for c in labelled if c.family == name]
        members = ctx.docker.members(name, found) if ours else found
        running = next((c.name for c in members if c.active), None)
        listed.append({"image": name, "containers": len(members), "running": running,
                       "damaged": name in damaged, **({"ours": ours} if every else {})})  # fmt: skip
        shown = name + (" (damaged)" if name in damaged else "") + ("" if ours else " (not ours)")
        rows.append([shown, str(len(members)), running or "-"])
    if as_json:
        ctx.document({"families": listed})
    else:
        columns = [Column("FAMILY"), Column("CONTAINERS", drop=1), Column("RUNNING")]
        ctx.table(columns, rows)
    report_damaged(ctx, damaged)
    return EXIT_FAILED if damaged else EXIT_OK


def containers(ctx: Context, families: list[str], as_json: bool) -> int:
    """One family's containers, newest first; several: one table, and under
    --json {"families": [{"image", "containers"}...]}. Every family is checked
    before anything is shown."""
    listed = [_containers(ctx, family) for family in families]
    if as_json:
        documents = [{"image": family, "containers": rows} for family, rows in zip(families, listed)]
        ctx.document(documents[0] if len(documents) == 1 else {"families": documents})
        return EXIT_OK
    rows = [
        [
            c["name"],
            _short(c["image_id"]),
            c["created"] or "?",
            c["state"],
            ",".join(m for m in ("running", "last", "stable", "prunable") if c[m]) or "-",
            _short_digest(c["digest"]),
        ]
        for each in listed
        for c in each
    ]
    columns = [
        Column("NAME"), Column("IMAGE", drop=2), Column("CREATED", drop=1), Column("STATE"),
        Column("MARKS"), Column("DIGEST", drop=3),
    ]  # fmt: skip
    ctx.table(columns, rows)
    return EXIT_OK


def _containers(ctx: Context, family: str) -> list[dict]:
    recorded = state.load(family)
    labelled = query.labelled_containers(ctx.docker, family)
    members = ctx.docker.members(family, labelled)
    require_known_family(family, members, strangers(labelled, members))
    images = query.resolve_images(ctx.docker, [c.image for c in members])
    next_pruned = set(prunable(members, recorded))
    listed = []
    for c in members:  # newest first
        created = parse_docker_time(c.created)
        listed.append(
            {
                "name": c.name,
                "id": c.id,
                "image_id": images.get(c.image, {}).get("Id", c.image),
                # Pulled from a registry: what it runs, whatever the tag names now.
                "digest": next(iter(images.get(c.image, {}).get("RepoDigests") or []), None),
                "created": iso_utc(created) if created is not None else None,
                "state": c.state,
                "running": c.active,
                "last": c.name == recorded.last,
                "stable": c.name == recorded.stable,
                "prunable": c.name in next_pruned,
            }
        )
    return listed


def images(ctx: Context, family: str, as_json: bool) -> int:
    # The family's untagged images too, used or not: a build never started, say.
    labelled, dangling = query.family_containers_and_dangling(ctx.docker, family)
    members = ctx.docker.members(family, labelled)
    require_known_family(family, members, strangers(labelled, members))
    # One call for every image the containers use, the one the tag points to,
    # and the dangling ones.
    resolved = query.resolve_images(
        ctx.docker, [c.image for c in members] + [docker_argv.tag(family)] + dangling
    )
    users: dict[str, list[str]] = {}
    for c in reversed(members):  # oldest first within each image
        image_id = resolved.get(c.image, {}).get("Id", c.image)
        users.setdefault(image_id, []).append(c.name)
    current_tag = f"{family}:latest"
    listed, seen = [], set()
    for document in resolved.values():
        if document["Id"] in seen:
            continue
        seen.add(document["Id"])
        created = parse_docker_time(str(document.get("Created", "")))
        listed.append(
            {
                "id": document["Id"],
                "tags": document.get("RepoTags") or [],
                "created": iso_utc(created) if created is not None else None,
                "current": current_tag in (document.get("RepoTags") or []),
                "containers": users.get(document["Id"], []),
            }
        )
    listed.sort(key=lambda i: i["created"] or "", reverse=True)
    if as_json:
        ctx.document({"image": family, "images": listed})
        return EXIT_OK
    rows = [
        [
            _short(i["id"]),
            ",".join(i["tags"]) or "<untagged>",
            i["created"] or "?",
            ", ".join(i["containers"]) or "-",
        ]
        for i in listed
    ]
    columns = [Column("IMAGE ID"), Column("TAGS", "end"), Column("CREATED"), Column("CONTAINERS", "end")]
    ctx.table(columns, rows)
    return EXIT_OK


def _short_digest(digest: str | None) -> str:
    """`sha256:` and 12 digits of a REPOSITORY@sha256:... digest, or "-"."""
    return digest.rpartition("@")[2][:19] if digest else "-"


def _short(image_id: object) -> str:
    return str(image_id or "?").split(":", 1)[-1][:12]
