"""`dockervisor history IMAGENAME [--limit N]`: what happened to the family, and when."""

from __future__ import annotations

from dockervisor.store import history as history_log
from dockervisor.engine import query
from dockervisor.store import paths, state
from dockervisor.store.state import require_known_family
from dockervisor.flows.context import Context
from dockervisor.core.errors import EXIT_OK
from dockervisor.store.files import exists_private
from dockervisor.flows.ownership import strangers
from dockervisor.core.output import Column


def history(ctx: Context, family: str, limit: int, as_json: bool) -> int:
    # The history's own directory is checked too, before history_log reads it.
    files = (paths.family_history_file(family), paths.family_previous_history_file(family))
    if not state.family_exists(family) and not any(exists_private(path) for path in files):
        # No record of ours; containers with its label still make it a family.
        labelled = query.labelled_containers(ctx.docker, family)
        mine = ctx.docker.members(family, labelled)
        require_known_family(family, mine, strangers(labelled, mine))
    entries = history_log.read(family, limit)
    if as_json:
        ctx.document({"image": family, "entries": entries})
        return EXIT_OK
    rows = [
        [
            str(e["time"]),
            str(e["user"]),
            str(e["action"]),
            str(e["container"] or "-"),
            str(e["image_id"] or "-").split(":", 1)[-1][:12],
            str(e["outcome"]),
        ]
        for e in entries
    ]
    columns = [
        Column("TIME"), Column("USER", "end", drop=2), Column("COMMAND", "end", 12),
        Column("CONTAINER"), Column("IMAGE", drop=1), Column("OUTCOME"),
    ]  # fmt: skip
    ctx.table(columns, rows)
    failures = [e for e in entries if e["outcome"] not in ("ok", "no-op") and e["message"]]
    for entry in failures[-5:]:  # whole: a reason cut short says nothing
        print(f"{entry['time']} {entry['outcome']}: {entry['message']}", file=ctx.stdout)
    return EXIT_OK
