"""A family run as a Swarm service, from `dcv-IMAGENAME` and recorded at
build time:

    {"swarm": {"replicas": 2, "update_order": "start-first", "update_parallelism": 1,
               "monitor": "30s", "constraints": ["node.role==worker"],
               "placement_preferences": ["spread=node.labels.zone"],
               "registry": "registry.example.com:5000", "publish_mode": "ingress"}}

`replicas` (default 1) or `"mode": "global"` (one task per node).
`update_order`: "start-first" (the default) or "stop-first" (the default
for a family with named volumes: two tasks must not share one). `monitor`:
how long swarm watches each updated task before it counts (the probation
of the update; default 15s). `registry`: where `build` pushes the family's
image, REGISTRY/IMAGENAME, so that every node can pull it. A family with a
named volume needs a constraint that pins it (`node.hostname==...`,
`node.id==...` or a node label): a task moved to another node would meet an
empty volume. Pure: commands and flows apply it.
"""

from __future__ import annotations

import re

KEYS = ("replicas", "mode", "update_order", "update_parallelism", "monitor", "constraints",
        "placement_preferences", "registry", "publish_mode")  # fmt: skip
ORDERS = ("start-first", "stop-first")
MODES = ("replicated", "global")
PUBLISH_MODES = ("ingress", "host")
DEFAULT_MONITOR = 15
_MOST_REPLICAS = 1000
_CONSTRAINT = re.compile(r"(node|engine)\.[A-Za-z0-9_.-]{1,100}\s*(==|!=)\s*[A-Za-z0-9_.:-]{1,200}")
_PREFERENCE = re.compile(r"spread=node\.labels\.[A-Za-z0-9_.-]{1,100}")
_PINNING = re.compile(r"node\.(hostname|id|labels\.[A-Za-z0-9_.-]+)\s*==")
_REGISTRY = re.compile(r"[a-z0-9]([a-z0-9.-]{0,252}[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9._-]{1,100})*")


class SwarmPolicy:
    __slots__ = KEYS

    def __init__(self) -> None:
        self.replicas = 1
        self.mode = "replicated"
        self.update_order: str | None = None  # None: start-first, or stop-first with volumes
        self.update_parallelism = 1
        self.monitor = DEFAULT_MONITOR
        self.constraints: list[str] = []
        self.placement_preferences: list[str] = []
        self.registry: str | None = None
        self.publish_mode = "ingress"

    def to_dict(self) -> dict[str, object]:
        """A global service has no replica count: none is written, so that it reads back."""
        return {key: getattr(self, key) for key in KEYS if not (key == "replicas" and self.mode == "global")}

    @classmethod
    def from_dict(cls, data: object) -> SwarmPolicy:
        """Read back what to_dict wrote, or the "swarm" object of an overrides
        file; ValueError says which key and why."""
        if not isinstance(data, dict) or set(data) - set(KEYS):
            raise ValueError(f"swarm must be an object with the keys {', '.join(KEYS)}")
        policy = cls()
        for key, value in data.items():
            if value is None and key in ("update_order", "registry"):
                continue
            setattr(policy, key, _checked(key, value))
        if "replicas" in data and data.get("mode") == "global":
            raise ValueError('swarm: replicas: a "global" service runs one task per node; give one of the two')
        return policy

    def order(self, has_volumes: bool) -> str:
        return self.update_order or ("stop-first" if has_volumes else "start-first")

    def pinned(self) -> bool:
        """Whether a constraint keeps every task on one node (or one labelled set)."""
        return any(_PINNING.match(c) for c in self.constraints)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SwarmPolicy) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"SwarmPolicy({self.to_dict()})"


def _checked(key: str, value: object) -> object:
    def fail(why: str) -> ValueError:
        return ValueError(f"swarm: {key}: {why}")

    if key in ("replicas", "update_parallelism"):
        low = 1  # a service of 0 replicas never comes up: `stop` scales to 0
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= _MOST_REPLICAS:
            raise fail(f"must be a whole number from {low} to {_MOST_REPLICAS}")
        return value
    if key in ("mode", "update_order", "publish_mode"):
        allowed = {"mode": MODES, "update_order": ORDERS, "publish_mode": PUBLISH_MODES}[key]
        if value not in allowed:
            raise fail(f"must be one of {', '.join(allowed)}")
        return value
    if key == "monitor":
        from dockervisor.config.healthcheck import duration
        from dockervisor.config.optionvalues import Invalid

        try:
            return duration(value)
        except Invalid as refused:
            raise fail(refused.message) from None
    if key in ("constraints", "placement_preferences"):
        pattern = _CONSTRAINT if key == "constraints" else _PREFERENCE
        example = "node.hostname==web1" if key == "constraints" else "spread=node.labels.zone"
        if not isinstance(value, list) or len(value) > 20:
            raise fail("must be a list (at most 20)")
        for item in value:
            if not isinstance(item, str) or not pattern.fullmatch(item):
                raise fail(f"{str(item)[:60]!r} is not like {example!r}")
        return list(value)
    if not isinstance(value, str) or not _REGISTRY.fullmatch(value):  # registry
        raise fail(f"{str(value)[:60]!r} is not a registry address such as registry.example.com:5000")
    return value


def refuse_unpinned_volumes(policy: SwarmPolicy, volumes: list[str]) -> str | None:
    """Why a family with these named volumes cannot be a service as
    configured, or None: a task moved to another node meets an empty volume."""
    if not volumes or policy.pinned():
        return None
    return (f"the named volume(s) {', '.join(volumes)} live on one node, and no constraint keeps the "
            f"family's tasks there: add \"constraints\": [\"node.hostname==NODE\"] to \"swarm\" "
            "(or a node label), or keep the data elsewhere")  # fmt: skip


_PINNED = re.compile(r"[a-z0-9][a-z0-9._:/-]{0,250}@sha256:[0-9a-f]{64}")


class ServiceMarks:
    """What a Swarm family runs and can go back to, each image pinned by
    digest (REPOSITORY@sha256:...): `image` the service's current one,
    `previous` the one before it (`start last`), `stable` the marked one,
    `replicas` the count `stop` scaled down from (None: running)."""

    __slots__ = ("image", "previous", "stable", "stopped_replicas")

    def __init__(self) -> None:
        self.image: str | None = None
        self.previous: str | None = None
        self.stable: str | None = None
        self.stopped_replicas: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {"image": self.image, "previous": self.previous, "stable": self.stable,
                "stopped_replicas": self.stopped_replicas}  # fmt: skip

    @classmethod
    def from_dict(cls, data: object) -> ServiceMarks:
        if not isinstance(data, dict) or set(data) - {"image", "previous", "stable", "stopped_replicas"}:
            raise ValueError("service must be an object with the keys image, previous, stable, stopped_replicas")
        marks = cls()
        for key in ("image", "previous", "stable"):
            value = data.get(key)
            if value is not None and not (isinstance(value, str) and is_pinned(value)):
                raise ValueError(f"service: {key} must be REPOSITORY@sha256:DIGEST or null")
            setattr(marks, key, value)
        count = data.get("stopped_replicas")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= _MOST_REPLICAS):
            raise ValueError("service: stopped_replicas must be a whole number or null")
        marks.stopped_replicas = count
        return marks


def is_pinned(image: str) -> bool:
    return _PINNED.fullmatch(image) is not None
