"""The digest `start new --if-changed` compares: is the running container
already what a new one would be? (commands/start.py asks the engine.)

Every `start new` labels its container with a digest of what it was started
with: the family's run configuration and the environment, values included
(the overrides' `env_file` and `env`, `--env-file` and `--env`). Only the
digest goes on the container, never a value. The running container is
current when it runs the image the tag points to and carries the same digest.
"""

from __future__ import annotations

import json

from dockervisor.config.digests import sha256

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.config.runconfig import RunConfig


def run_digest(config: RunConfig, env: dict[str, str]) -> str:
    """sha256 hex of the run configuration and the whole environment a new
    container gets (every source merged, values included)."""
    recorded = config.to_dict()
    recorded.pop("keep", None)  # retention is not how a container runs
    recorded["options"] = config.options.fingerprint()
    return sha256(json.dumps([recorded, env], sort_keys=True).encode()).hexdigest()
