"""What the engine says about families, containers and images.

Every function here asks docker through the executor and parses JSON; none of
them changes anything. Family membership comes from the container label, never
from the container's name.
"""

from __future__ import annotations

import json

from dockervisor import docker_argv
from dockervisor.errors import DockervisorError
from dockervisor.executor import Executor, command_failed

ACTIVE_STATES = ("running", "restarting", "paused")


class ContainerSummary:
    """One line of `docker ps`, for a dockervisor container."""

    __slots__ = ("id", "name", "state", "created", "family")

    def __init__(self, id: str, name: str, state: str, created: str, family: str) -> None:
        self.id = id
        self.name = name
        self.state = state
        self.created = created
        self.family = family

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    def __repr__(self) -> str:
        return f"ContainerSummary({self.name}, {self.state})"


def parse_ps_lines(output: str) -> list[ContainerSummary]:
    """Parse the `docker_argv` ps format; newest first (docker's own order)."""
    containers = []
    for line in output.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        containers.append(
            ContainerSummary(
                row["id"], row["name"], row["state"], row["created"], row["family"] or ""
            )
        )
    # docker lists newest first already; a stable sort on creation time makes
    # that explicit, with the later name first for two made in the same second.
    containers.sort(key=lambda c: (c.created, c.name), reverse=True)
    return containers


def family_containers(docker: Executor, image: str) -> list[ContainerSummary]:
    return parse_ps_lines(docker.query(docker_argv.list_family(image)).stdout)


def all_family_containers(docker: Executor) -> list[ContainerSummary]:
    return parse_ps_lines(docker.query(docker_argv.list_all_families()).stdout)


def inspect_containers(docker: Executor, references: list[str]) -> list[dict]:
    """Full `docker container inspect` documents, in one call for all of them."""
    if not references:
        return []
    return _inspect(docker, docker_argv.inspect_containers(references))


def inspect_images(docker: Executor, references: list[str]) -> list[dict]:
    """`docker image inspect` documents, one call; references that do not exist are left out."""
    if not references:
        return []
    return _inspect(docker, docker_argv.inspect_images(references))


def inspect_container(docker: Executor, reference: str) -> dict | None:
    found = inspect_containers(docker, [reference])
    return found[0] if found else None


def inspect_image(docker: Executor, reference: str) -> dict | None:
    found = inspect_images(docker, [reference])
    return found[0] if found else None


def _inspect(docker: Executor, argv: list[str]) -> list[dict]:
    # docker inspect exits 1 when any reference is missing but still prints the
    # ones it found, so a missing object is not an error here.
    result = docker.query(argv, check=False)
    if not result.ok and "No such" not in result.stderr:
        raise command_failed(result)
    try:
        documents = json.loads(result.stdout or "[]")
    except ValueError:
        raise DockervisorError(f"docker printed something that is not JSON for {argv[1:3]}") from None
    return documents


def require_image(docker: Executor, image: str) -> dict:
    document = inspect_image(docker, image)
    if document is None:
        raise DockervisorError(
            f"there is no image {image!r}; build it first with `dockervisor build {image} PATH`"
        )
    return document


def container_family(document: dict) -> str:
    """The family label of an inspected container, or '' if it is not dockervisor's."""
    labels = (document.get("Config") or {}).get("Labels") or {}
    return labels.get(docker_argv.FAMILY_LABEL, "")


def container_name(document: dict) -> str:
    return str(document.get("Name", "")).lstrip("/")
