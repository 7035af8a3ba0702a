"""`start new --if-changed`: is the running container already what a new one would be?

Every `start new` labels its container with a digest of what it was started
with: the family's run configuration and the environment, values included
(the overrides' `env_file` and `env`, `--env-file` and `--env`). Only the
digest goes on the container, never a value. The running container is
current when it runs the image the tag points to and carries the same digest.
"""

from __future__ import annotations

import json

from dockervisor.engine import query as engine
from dockervisor.engine.argv import CONFIG_LABEL

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.context import Context
    from dockervisor.engine.query import ContainerSummary
    from dockervisor.store.history import Entry
    from dockervisor.config.runconfig import RunConfig


def run_digest(config: RunConfig, env: dict[str, str]) -> str:
    """sha256 hex of the run configuration and the whole environment a new
    container gets (every source merged, values included)."""
    recorded = config.to_dict()
    recorded.pop("keep", None)  # retention is not how a container runs
    recorded["options"] = config.options.fingerprint()
    return sha256(json.dumps([recorded, env], sort_keys=True).encode()).hexdigest()


def sha256(data: bytes):  # type: ignore[no-untyped-def]
    """hashlib loads OpenSSL, some 3 ms at every start new; CPython's own
    sha256 module (`_sha2` from 3.12, `_sha256` before) gives the same digest
    for a tenth of that. hashlib where neither was built."""
    try:
        from _sha2 import sha256 as builtin  # type: ignore[import-not-found]
    except ImportError:
        try:
            from _sha256 import sha256 as builtin  # type: ignore[import-not-found,no-redef]
        except ImportError:
            from hashlib import sha256 as builtin  # type: ignore[assignment]
    return builtin(data)


def already_current(
    ctx: Context,
    containers: list[ContainerSummary],
    image_id: str,
    digest: str,
    entry: Entry,
) -> bool:
    """True, having said so, when the family's one running container runs
    `image_id` with the same digest: then `start new --if-changed` is a no-op."""
    running = [c for c in containers if c.state == "running"]
    if len(running) != 1:
        return False
    document = engine.inspect_container(ctx.docker, running[0].id)
    if document is None or document.get("Image") != image_id:
        return False
    if ((document.get("Config") or {}).get("Labels") or {}).get(CONFIG_LABEL) != digest:
        return False
    name = running[0].name
    entry.container = name
    entry.outcome = "no-op"
    print(name, file=ctx.stdout, flush=True)
    ctx.info(f"{name} already runs the current image with the same configuration; nothing to do")
    return True
