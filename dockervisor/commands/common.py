"""Checks several commands share."""

from __future__ import annotations

from dockervisor import state
from dockervisor.engine import ContainerSummary
from dockervisor.errors import DockervisorError


def require_known_family(image: str, containers: list[ContainerSummary]) -> None:
    """Refuse a family nobody made: most likely a typo, and never worth a silent success."""
    if not containers and not state.family_exists(image):
        raise DockervisorError(
            f"unknown image family {image!r}: it was never built with dockervisor "
            "and no container carries its label"
        )


def active_names(containers: list[ContainerSummary]) -> list[str]:
    return [c.name for c in containers if c.active]
