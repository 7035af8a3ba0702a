"""What an update of a family would take from the registry, found without
changing anything on the engine: `check` shows it, `update` acts on it.

The reference `pull` recorded names a repository and a tag. The registry is
asked which digest that tag names now (and, under an update policy with
`allow`, which tags exist); that digest is compared with the repository
digest of the image the family's running container runs (or, with nothing
running, of the family's image). A new digest younger than the policy's
cooldown, or a version tag the policy does not allow, is held back.
"""

from __future__ import annotations

import time

from dockervisor.core.errors import DockervisorError
from dockervisor.engine import query, registry
from dockervisor.store import seen, state

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.flows.context import Context

# What a check finds; `update` pulls and starts only for AVAILABLE. UNKNOWN:
# the family could not be checked (the registry did not answer...).
CURRENT, AVAILABLE, HELD, UNKNOWN = "up-to-date", "available", "held-back", "unknown"


class Plan:
    __slots__ = ("family", "reference", "target", "digest", "running", "running_digest", "status", "reason", "held")

    def __init__(self, family: str, reference: str) -> None:
        self.family = family
        self.reference = reference  # as recorded: what is followed
        self.target = reference  # what an update takes: the reference, or a newer version tag
        self.digest: str | None = None  # what the target names in the registry now
        self.running: str | None = None  # the family's running container, if one runs
        self.running_digest: str | None = None  # of what runs (or of the family's image)
        self.status = CURRENT
        self.reason = ""
        self.held: list[str] = []  # newer version tags the policy does not allow

    @classmethod
    def unknown(cls, family: str, reason: str) -> dict[str, object]:
        """A family that could not be checked: every key, `status` UNKNOWN."""
        found = cls(family, "")
        found.reference = found.target = None  # type: ignore[assignment]
        found.status, found.reason = UNKNOWN, reason
        document = found.to_dict()
        document["update_available"] = None
        return document

    def to_dict(self) -> dict[str, object]:
        return {
            "image": self.family, "reference": self.reference, "target": self.target, "digest": self.digest,
            "running": self.running, "running_digest": self.running_digest, "status": self.status,
            "update_available": self.status == AVAILABLE, "reason": self.reason, "held_back_tags": self.held,
        }  # fmt: skip


def pulled_families() -> list[str]:
    """The families that follow a registry tag, for `update` and `check`
    without names: pulled from a registry (not `pull --no-pull`, whose name
    may be anyone's on Docker Hub), by a tag without a digest (one pinned on
    purpose stays pinned)."""
    found = []
    for family in state.known_families():
        try:
            recorded = state.load(family)
        except DockervisorError:
            found.append(family)  # a damaged state: its own error comes where it is checked
            continue
        try:
            reference_of(recorded)
        except DockervisorError:
            continue
        found.append(family)
    return found


def reference_of(recorded: state.FamilyState) -> registry.Reference:
    """The tag the family follows, or an error saying why it follows none."""
    family = recorded.image
    reference = recorded.build.get("reference")
    if recorded.build.get("source") != "pull" or not isinstance(reference, str):
        raise DockervisorError(
            f"{family} was not pulled from a registry, so there is nothing to follow; record a reference "
            f"with `dockervisor pull {family} REFERENCE`, or rebuild with `dockervisor update {family} --build PATH`"
        )
    if recorded.build.get("pulled") == "no":
        raise DockervisorError(
            f"{family} was tagged or loaded here (`pull --no-pull`), not pulled, so {reference} names no registry "
            f"it came from; `dockervisor pull {family} REFERENCE` from a registry to follow one"
        )
    try:
        parsed = registry.parse(reference)
    except ValueError as error:
        raise DockervisorError(f"{family}: the recorded reference is unusable: {error}") from None
    if parsed.digest is not None:
        raise DockervisorError(f"{family} is pinned to {reference}, a digest, which never moves; pull a tag to follow one")
    return parsed


def plan(ctx: Context, family: str, record: bool) -> Plan:
    """Ask the registry and the engine; `record` notes first sightings of
    digests (the cooldown's clock; not under --dry-run)."""
    if not state.family_exists(family):
        raise state.unknown_family(family)
    recorded = state.load(family)
    reference = reference_of(recorded)
    found = Plan(family, str(reference))
    answers = registry.Registry(reference)
    policy = recorded.update
    tag = reference.tag
    assert tag is not None
    if policy is not None and policy.allow:
        try:
            from dockervisor.config.updatepolicy import follow

            tag, found.held = follow(tag, answers.tags(), policy.allow)
        except ValueError as error:
            raise DockervisorError(f"{family}: {error}") from None
        found.target = reference.with_tag(tag)
    digest = answers.digest(tag)
    if digest is None:
        raise DockervisorError(f"the registry {reference.domain} has no tag {found.target} (any more?)")
    found.digest = digest
    found.running, found.running_digest, several = _what_runs(ctx, family, reference)
    if several:
        found.reason = (f"several containers run ({found.running}); a start (or an update that takes a new "
                        "digest) leaves one. ")  # fmt: skip
    if found.running_digest == digest:
        found.reason += f"{found.running or family} runs {found.target} as the registry has it"
        if found.held:
            found.reason += f"; held back by \"allow\": \"{policy.allow}\": {', '.join(found.held)}"  # type: ignore[union-attr]
        return found
    if found.running_digest is None and not several:
        found.reason = (f"{found.running or family} runs an image without a digest from {reference.domain} "
                        "(built, loaded or tagged here); ")  # fmt: skip
    failed = seen.rolled_back(family, digest)
    if failed is not None:
        found.status = HELD
        found.reason += (f"{found.target} names {digest[7:19]}, whose update was rolled back {_ago(time.time() - failed)} "
                         "ago; it is held back until the tag names another digest (`dockervisor pull` and "
                         "`start new` take it by hand)")  # fmt: skip
        return found
    now = time.time()
    first = seen.first_seen(family, digest, now, record and not ctx.dry_run)
    if policy is not None and policy.cooldown and now - first < policy.cooldown:
        found.status = HELD
        found.reason += (f"{found.target} names a new digest, first seen {_ago(now - first)} ago; the cooldown "
                        f"takes it once it is {_ago(policy.cooldown)} old")  # fmt: skip
        return found
    found.status = AVAILABLE
    found.reason += f"{found.target} names a new digest ({digest[7:19]})"
    if found.held:
        found.reason += f"; held back by \"allow\": \"{policy.allow}\": {', '.join(found.held)}"  # type: ignore[union-attr]
    return found


def _what_runs(ctx: Context, family: str, reference: registry.Reference) -> tuple[str | None, str | None, bool]:
    """The running container(s), the repository digest they run (None when
    they run several, or none from this repository), and whether several
    run; with none running, (None, the digest of the family's image, False)."""
    containers, image = query.family_containers_and_image(ctx.docker, family)
    running = [c for c in containers if c.state == "running"]
    if not running:
        return None, registry.repo_digest(image or {}, reference), False
    documents = query.resolve_images(ctx.docker, [c.image for c in running])
    digests = {registry.repo_digest(documents.get(c.image) or {}, reference) for c in running}
    names = ", ".join(c.name for c in running)
    return names, digests.pop() if len(digests) == 1 else None, len(running) > 1


def _ago(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 86400:
        return f"{seconds // 86400}d{(seconds % 86400) // 3600}h"
    if seconds >= 3600:
        return f"{seconds // 3600}h{(seconds % 3600) // 60}m"
    return f"{seconds // 60}m{seconds % 60}s" if seconds >= 60 else f"{seconds}s"
