"""`dockervisor snapshots IMAGENAME [--json]`: the family's snapshots, newest first."""

from __future__ import annotations

from dockervisor.engine import query
from dockervisor.store import state
from dockervisor.flows import snapshots
from dockervisor.store.state import require_known_family
from dockervisor.flows.context import Context
from dockervisor.flows.datacopy import size_text
from dockervisor.core.errors import EXIT_FAILED, EXIT_OK
from dockervisor.core.output import Column, print_json, print_table


def list_snapshots(ctx: Context, family: str, as_json: bool) -> int:
    if not state.family_exists(family):
        require_known_family(family, query.family_containers(ctx.docker, family))
    recorded = state.load(family)
    found, damaged = snapshots.existing(family)
    if as_json:
        print_json(ctx.stdout, {
            "image": family,
            "snapshots": [snapshot.to_dict(recorded.stable) for snapshot in found],
            "damaged": [{"path": path, "error": message} for path, message in damaged.items()],
        })  # fmt: skip
    else:
        rows = [
            [
                s.manifest.time,
                s.container,
                size_text(s.size),
                ",".join(m for m in ("last", "stable") if getattr(recorded, m) == s.container) or "-",
                s.path,
            ]
            for s in found
        ]
        columns = [Column("TIME"), Column("CONTAINER"), Column("SIZE"), Column("MARKS", drop=1), Column("FILE")]
        print_table(ctx.stdout, columns, rows, wide=ctx.wide)
    for message in damaged.values():
        print(f"dockervisor: error: {message}", file=ctx.stderr, flush=True)
    return EXIT_FAILED if damaged else EXIT_OK
