"""Per-family state: last, stable, and the recorded run configuration.

One JSON file per family under `$DOCKERVISOR_HOME/families/`, written
atomically under the family lock. A file that cannot be read back is reported,
never replaced: it holds the only record of which container is stable.
"""

from __future__ import annotations

import json
import os
import re

from dockervisor.store import paths
from dockervisor.config.datapolicy import DataPolicy
from dockervisor.config.notifypolicy import NotifyPolicy
from dockervisor.core.errors import DockervisorError
from dockervisor.store.files import exists_private, read_private, write_atomically
from dockervisor.config.names import is_container_name, is_image_name
from dockervisor.config.runconfig import RunConfig, brief

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from collections.abc import Sized

    from dockervisor.config.releasepolicy import ReleasePolicy
    from dockervisor.config.swarmpolicy import ServiceMarks, SwarmPolicy
    from dockervisor.config.updatepolicy import UpdatePolicy

# 2: ports may name a host address, mounts may be read-only, and run options
# (networks, limits, user, logs...) are recorded. A dockervisor that knows only
# 1 would drop them without a word, so it must refuse the file.
SCHEMA_VERSION = 2
# 3: containers adopted from another state directory (`adopted`). Written
# only by a family that has some, so that older versions still read the rest.
ADOPTION_SCHEMA = 3
# 4: a release step (`release`), which a dockervisor that knows only 3 would
# skip without a word, starting new code on data it was meant to migrate.
# Written only by a family that has one.
RELEASE_SCHEMA = 4
# 5: an update policy (`update`: cooldown, allow), which a dockervisor that
# knows only 4 would drop, taking every push at once. Written only with one.
UPDATE_SCHEMA = 5
# 6: a family run as a Swarm service (`swarm`, `service`), which a dockervisor
# that knows only 5 would start as containers beside the service.
SWARM_SCHEMA = 6
NEWEST_SCHEMA = SWARM_SCHEMA
_ADOPTED = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")  # a state directory's ID, or a container's


class FamilyState:
    __slots__ = (
        "image", "last", "stable", "run_config", "build", "data", "adopted", "notifications", "release", "update",
        "swarm", "service",
    )  # fmt: skip

    def __init__(
        self,
        family: str,
        last: str | None = None,
        stable: str | None = None,
        run_config: RunConfig | None = None,
        build: dict[str, object] | None = None,
        data: DataPolicy | None = None,
        adopted: list[str] | None = None,
        notifications: NotifyPolicy | None = None,
        release: ReleasePolicy | None = None,
    ) -> None:
        self.image = family
        self.last = last
        self.stable = stable
        self.run_config = run_config
        # What the last `dockervisor build` was given and produced (paths, image ID).
        self.build = build or {}
        # Snapshots at upgrade and how many to keep (dcv-IMAGENAME); None: the defaults.
        self.data = data
        # Taken over by `adopt`: IDs of the state directories that made the
        # family's other containers, and of containers made by hand.
        self.adopted = adopted or []
        # Where outcomes go and when (dcv-IMAGENAME `notify`, `notify_on`); None: nowhere of its own.
        self.notifications = notifications
        # The release step `start new` runs first (dcv-IMAGENAME `release`...); None: none.
        self.release = release
        # What `dockervisor update` may take unattended (dcv-IMAGENAME `update`); None: every new digest.
        self.update: UpdatePolicy | None = None
        # A Swarm service instead of containers (dcv-IMAGENAME `swarm`), and what it runs.
        self.swarm: SwarmPolicy | None = None
        self.service: ServiceMarks | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "schema": self.schema(),
            "image": self.image,
            "last": self.last,
            "stable": self.stable,
            "run_config": self.run_config.to_dict() if self.run_config else None,
            "build": self.build,
            **({"data": self.data.to_dict()} if self.data else {}),
            **({"adopted": self.adopted} if self.adopted else {}),
            **({"notifications": self.notifications.to_dict()} if self.notifications else {}),
            **({"release": self.release.to_dict()} if self.release else {}),
            **({"update": self.update.to_dict()} if self.update else {}),
            **({"swarm": self.swarm.to_dict()} if self.swarm else {}),
            **({"service": self.service.to_dict()} if self.service else {}),
        }


    def schema(self) -> int:
        """The oldest schema that holds what this state has."""
        if self.swarm or self.service:
            return SWARM_SCHEMA
        if self.update:
            return UPDATE_SCHEMA
        return RELEASE_SCHEMA if self.release else ADOPTION_SCHEMA if self.adopted else SCHEMA_VERSION


def family_exists(family: str) -> bool:
    return exists_private(paths.family_state_file(family))


def load(family: str) -> FamilyState:
    """The family's state; an empty one if the family has none yet."""
    path = paths.family_state_file(family)
    raw = read_private(path)
    if raw is None:
        return FamilyState(family)
    try:
        return _from_document(family, json.loads(raw))
    except RecursionError:  # hand-made: json.dumps never nests this deep
        raise _damaged(path, family, "nested too deeply") from None
    except ValueError as error:  # includes JSONDecodeError and UnicodeDecodeError
        raise _damaged(path, family, str(error)) from None


def _damaged(path: str, family: str, reason: str) -> DockervisorError:
    return DockervisorError(
        f"the state file {path} is damaged ({reason}); dockervisor will not "
        "overwrite it. Move it aside (mv it to a .bad name) and run `dockervisor "
        f"build {family} PATH` to record the family again; the containers are not "
        "touched, but the last and stable marks are lost"
    )


def save(state: FamilyState) -> None:
    data = json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n"
    write_atomically(paths.family_state_file(state.image), data.encode())


def _from_document(family: str, document: object) -> FamilyState:
    if not isinstance(document, dict):
        raise ValueError("it does not hold a JSON object")
    schema = document.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise ValueError("it has no valid schema version")
    if schema > NEWEST_SCHEMA:
        raise DockervisorError(
            f"the state file {paths.family_state_file(family)} was written by a newer "
            f"dockervisor (schema {schema}, this one knows {NEWEST_SCHEMA}); upgrade "
            "dockervisor"
        )
    # Schema upgrades go here, one step per version. 1 -> 2 only added fields
    # that are absent or false in every version-1 file: nothing to convert.
    if document.get("image") != family:
        raise ValueError(f"it belongs to {brief(document.get('image'))}, not {family!r}")
    last, stable, build = document.get("last"), document.get("stable"), document.get("build")
    for mark, value in (("last", last), ("stable", stable)):
        if value is not None and not (isinstance(value, str) and is_container_name(value)):
            raise ValueError(f"{mark} must be a container name or null")
    # What `build` records: a flat object of paths, an image ID and a time.
    if not isinstance(build, dict) or not all(v is None or isinstance(v, str) for v in build.values()):
        raise ValueError("build must be an object of strings")
    raw_config = document.get("run_config")
    run_config = None if raw_config is None else RunConfig.from_dict(raw_config)
    raw_data = document.get("data")  # optional: files from before snapshots have none
    data = None if raw_data is None else DataPolicy.from_dict(raw_data)
    adopted = document.get("adopted", [])
    if not (isinstance(adopted, list) and all(isinstance(i, str) and _ADOPTED.fullmatch(i) for i in adopted)):
        raise ValueError("adopted must be a list of state directory or container IDs")
    raw_notifications = document.get("notifications")  # optional: absent before notifications
    try:
        notifications = None if raw_notifications is None else NotifyPolicy.from_dict(raw_notifications)
    except ValueError as error:
        raise ValueError(f"notifications: {error}") from None
    raw_release = document.get("release")  # optional: absent before release steps
    if raw_release is not None and schema < RELEASE_SCHEMA:
        raise ValueError(f"it has a release step but schema {schema} (a release step needs {RELEASE_SCHEMA})")
    release = None
    if raw_release is not None:  # imported only for a family that has one
        from dockervisor.config.releasepolicy import ReleasePolicy

        release = ReleasePolicy.from_dict(raw_release)
    raw_update = document.get("update")  # optional: absent before update policies
    if raw_update is not None and schema < UPDATE_SCHEMA:
        raise ValueError(f"it has an update policy but schema {schema} (one needs {UPDATE_SCHEMA})")
    update = None
    if raw_update is not None:
        from dockervisor.config.updatepolicy import UpdatePolicy

        update = UpdatePolicy.from_dict(raw_update)
    family_state = FamilyState(family, last, stable, run_config, build, data, adopted, notifications, release)
    family_state.update = update
    if document.get("swarm") is not None or document.get("service") is not None:
        if schema < SWARM_SCHEMA:
            raise ValueError(f"it has a Swarm service but schema {schema} (one needs {SWARM_SCHEMA})")
        from dockervisor.config.swarmpolicy import ServiceMarks, SwarmPolicy

        if document.get("swarm") is not None:
            family_state.swarm = SwarmPolicy.from_dict(document["swarm"])
        if document.get("service") is not None:
            family_state.service = ServiceMarks.from_dict(document["service"])
    return family_state


def known_families() -> list[str]:
    """Families that have a state file, by name."""
    directory = paths.families_dir()
    if not paths.existing_private_dir(directory):
        return []
    with paths.reported("list", directory):
        try:
            names = os.listdir(directory)
        except FileNotFoundError:
            return []
    stems = (name[: -len(".json")] for name in names if name.endswith(".json"))
    return sorted(stem for stem in stems if is_image_name(stem))


def require_known_family(family: str, containers: Sized, others: Sized = ()) -> None:
    """Refuse a family nobody made here: most likely a typo, and never worth a
    silent success; or one whose containers (`others`) another state directory made."""
    if not containers and not family_exists(family):
        if others:
            raise not_ours(family, len(others))
        raise unknown_family(family)


def not_ours(family: str, count: int) -> DockervisorError:
    """A family whose containers another state directory made: look, do not touch."""
    return DockervisorError(
        f"{family!r} is not this state directory's ({paths.home()}): the {count} container(s) "
        "with its label on this engine were made by another one (another user's HOME or "
        f"DOCKERVISOR_HOME), so dockervisor leaves them alone; `dockervisor status --all` shows "
        f"them, and `dockervisor adopt {family}` takes the family over here"
    )


def unknown_family(family: str) -> DockervisorError:
    """The one message every command gives for a family it has no record of."""
    return DockervisorError(
        f"unknown image family {family!r}: it was never built with dockervisor "
        "and no container carries its label"
    )
