"""`dockervisor unlock IMAGENAME`: break the engine's lock left by a killed client."""

from __future__ import annotations

import time

from dockervisor.flows import enginelock as engine_lock
from dockervisor.store import history, state
from dockervisor.flows.context import Context
from dockervisor.core.errors import EXIT_OK


def unlock(ctx: Context, family: str) -> int:
    name = ctx.engine.name if ctx.engine else "default"
    holder = engine_lock.unlock(ctx.docker, family, name)
    if holder is None:
        ctx.info(f"the engine {name} holds no lock on {family!r}; nothing to do")
        return EXIT_OK
    ctx.info(f"removed the lock on {family!r} that the engine {name} held for {holder}")
    if state.family_exists(family):  # the history says who broke whose lock
        entry = history.Entry("unlock", ctx.command_line)
        entry.message = f"broke the engine's lock held by {holder}"
        history.append(family, entry, time.time())
    return EXIT_OK
