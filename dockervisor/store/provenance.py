"""Where a family's run configuration came from, and whether that has changed.

`build` and `pull` record the overrides file they read (or looked for) and a
sha256 of its bytes in the state's "build" object. The file is read only
then, so an edit made since is not in effect: `start new` says so, `status
--json` carries `config_changed`, and `config` shows it, each naming the
command that applies it.
"""

from __future__ import annotations

import os
import shlex

from dockervisor.config.digests import digest

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.store.state import FamilyState


def record(overrides_file: str | None, sha256: str | None) -> dict[str, str | None]:
    """What build and pull add to the state's "build" object: the overrides
    file looked for (None: none was asked for) and the digest of what it held
    (None: there was no file)."""
    return {"overrides_file": overrides_file, "overrides_sha256": sha256}


def overrides_change(family: FamilyState) -> str | None:
    """How the recorded overrides file differs from what was read, or None:
    "has changed", "was removed", "now exists", "cannot be read (...)"."""
    path = family.build.get("overrides_file")
    if not isinstance(path, str) or not os.path.isabs(path):
        return None  # none was asked for, or recorded before digests were
    recorded = family.build.get("overrides_sha256")
    try:
        if not os.path.isfile(path):  # a FIFO would hang the read
            raise FileNotFoundError
        with open(path, "rb") as handle:
            now: str | None = digest(handle.read())
    except FileNotFoundError:
        now = None
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if now == recorded:
        return None
    if now is None:
        return "was removed"
    return "has changed" if recorded is not None else "now exists"


def config_changed(family: FamilyState) -> bool:
    return overrides_change(family) is not None


def apply_command(family: FamilyState) -> str:
    """The command that records the overrides file as it is now."""
    build = family.build
    if build.get("source") == "pull":
        words = ["dockervisor", "pull", family.image, str(build.get("reference"))]
        if build.get("overrides_file"):
            words += ["--overrides", str(build.get("overrides_file"))]
        return shlex.join(words + (["--no-pull"] if build.get("pulled") == "no" else []))
    words = ["dockervisor", "build", family.image, str(build.get("context") or "PATH")]
    dockerfile, context = build.get("dockerfile"), build.get("context")
    if dockerfile and context and dockerfile != os.path.join(context, "Dockerfile"):
        words += ["-f", dockerfile]
    return shlex.join(words)


def change_notice(family: FamilyState) -> str | None:
    """The warning `start new` gives when the overrides file changed, or None."""
    change = overrides_change(family)
    if change is None:
        return None
    how = "pulled" if family.build.get("source") == "pull" else "built"
    return (
        f"warning: {family.build.get('overrides_file')} {change} since {family.image} was {how}; "
        f"the new container gets the configuration recorded then. To apply the file, run "
        f"`{apply_command(family)}`"
    )
