"""What the engine says about families, containers and images.

Every function here asks docker through the executor and parses JSON; none of
them changes anything. Family membership comes from the container label, never
from the container's name.
"""

from __future__ import annotations

import json

from dockervisor.engine import argv as docker_argv
from dockervisor.core.errors import DockervisorError
from dockervisor.config.names import names_image
from dockervisor.engine.executor import QUERY_TIMEOUT, Executor, Result, command_failed
from dockervisor.engine.said import docker_said

ACTIVE_STATES = ("running", "restarting", "paused")


class ContainerSummary:
    """One line of `docker ps`, for a dockervisor container."""

    __slots__ = ("id", "name", "state", "created", "image", "family", "owner")

    def __init__(
        self, id: str, name: str, state: str, created: str, image: str, family: str, owner: str = ""
    ) -> None:
        self.id = id
        self.name = name
        self.state = state
        self.created = created
        self.image = image  # a reference that names its image, or the image ID
        self.family = family
        self.owner = owner  # the state directory that created it; "" before owners were labelled

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    def __repr__(self) -> str:
        return f"ContainerSummary({self.name}, {self.state})"


def parse_ps_lines(output: str) -> list[ContainerSummary]:
    """Parse the `docker_argv` ps format, keeping docker's order: newest first,
    by creation time to the nanosecond (CreatedAt shows only the second)."""
    containers = []
    for line in output.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            fields = [row[key] for key in ("id", "name", "state", "created", "image")]
            family = row["family"] or ""
            owner = row.get("owner") or ""
        except (ValueError, KeyError, TypeError, AttributeError):
            raise unreadable("docker ps", line) from None
        if not all(isinstance(value, str) for value in (*fields, family, owner)):
            raise unreadable("docker ps", line)
        containers.append(ContainerSummary(*fields, family, owner))
    return containers


def unreadable(command: str, text: str) -> DockervisorError:
    """Output docker gave that is not what was asked for (a client too old or
    too new, a wrapper printing extra lines)."""
    from dockervisor.core.output import printable

    shown = printable(text.strip()[:80])
    return DockervisorError(f"`{command}` printed something dockervisor cannot read: {shown!r}")


def active_names(containers: list[ContainerSummary]) -> list[str]:
    return [c.name for c in containers if c.active]


def family_containers(docker: Executor, family: str) -> list[ContainerSummary]:
    """The family's containers that this state directory may act on (see
    `Executor.members`); `labelled_containers` gives every one that says it is."""
    return docker.members(family, labelled_containers(docker, family))


def labelled_containers(docker: Executor, family: str) -> list[ContainerSummary]:
    """Every container whose label names the family, whoever made it."""
    return parse_ps_lines(docker.query(docker_argv.list_family(family)).stdout)


def all_labelled_containers(docker: Executor) -> list[ContainerSummary]:
    return parse_ps_lines(docker.query(docker_argv.list_all_families()).stdout)


def family_containers_and_image(
    docker: Executor, family: str
) -> tuple[list[ContainerSummary], dict | None]:
    """The family's containers and its image, asked side by side."""
    ps, inspected_result = docker.query_all(
        [docker_argv.list_family(family), docker_argv.inspect_images([docker_argv.tag(family)])],
        check=False,
    )
    if not ps.ok:
        raise command_failed(ps)
    documents = inspected(inspected_result)
    return docker.members(family, parse_ps_lines(ps.stdout)), documents[0] if documents else None


def resolve_images(docker: Executor, references: list[str]) -> dict[str, dict]:
    """Image documents for `ps` image references (names or IDs), in one call.

    A reference docker cannot resolve is left out of the answer."""
    unique = sorted(set(references))
    documents = inspect_images(docker, unique)
    resolved = {}
    for reference in unique:
        for document in documents:
            if names_image(reference, document):
                resolved[reference] = document
                break
    return resolved


def restarts(document: dict) -> int:
    """How often docker restarted an inspected container since it was last
    started (`docker start` counts from 0 again): a crash loop, even in the
    seconds it runs between two crashes. 0 for anything docker did not give."""
    count = document.get("RestartCount")
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 0


def inspect_containers(
    docker: Executor, references: list[str], timeout: float = QUERY_TIMEOUT
) -> list[dict]:
    """Full `docker container inspect` documents, in one call for all of them."""
    if not references:
        return []
    return inspected(docker.query(docker_argv.inspect_containers(references), False, timeout))


def inspect_images(docker: Executor, references: list[str]) -> list[dict]:
    """`docker image inspect` documents, one call; references that do not exist are left out."""
    if not references:
        return []
    return inspected(docker.query(docker_argv.inspect_images(references), check=False))


def inspect_container(
    docker: Executor, reference: str, timeout: float = QUERY_TIMEOUT
) -> dict | None:
    found = inspect_containers(docker, [reference], timeout)
    return found[0] if found else None


def inspect_image(docker: Executor, reference: str) -> dict | None:
    found = inspect_images(docker, [reference])
    return found[0] if found else None


def inspected(result: Result) -> list[dict]:
    # docker inspect exits 1 when any reference is missing but still prints the
    # ones it found, so a missing object is not an error here.
    if not result.ok and not docker_said(result.stderr, "No such"):
        raise command_failed(result)
    from dockervisor.engine.said import command_name

    try:
        documents = json.loads(result.stdout or "[]")
    except ValueError:
        raise unreadable(command_name(result.argv), result.stdout) from None
    if not isinstance(documents, list) or not all(
        isinstance(d, dict) and isinstance(d.get("Id"), str) for d in documents
    ):
        raise unreadable(command_name(result.argv), result.stdout)
    return documents


def require_image(docker: Executor, family: str) -> dict:
    document = inspect_image(docker, docker_argv.tag(family))
    if document is None:
        raise no_such_image(family)
    return document


def no_such_image(family: str) -> DockervisorError:
    return DockervisorError(
        f"there is no image {family!r}; build it first with `dockervisor build {family} PATH`"
    )


def container_family(document: dict) -> str:
    """The family label of an inspected container, or '' if it is not dockervisor's."""
    labels = (document.get("Config") or {}).get("Labels") or {}
    return labels.get(docker_argv.FAMILY_LABEL, "")


def container_name(document: dict) -> str:
    return str(document.get("Name", "")).lstrip("/")


# housekeeping: prune, rm, forget ----------------------------------------------


def all_containers_and_dangling(
    docker: Executor, family: str
) -> tuple[list[ContainerSummary], list[str]]:
    """Every container on the engine (`family` is '' for those not dockervisor's)
    and the IDs of the family's untagged images, asked side by side."""
    return _containers_and_dangling(docker, docker_argv.list_all_containers(), family)


def family_containers_and_dangling(
    docker: Executor, family: str
) -> tuple[list[ContainerSummary], list[str]]:
    return _containers_and_dangling(docker, docker_argv.list_family(family), family)


def _containers_and_dangling(
    docker: Executor, ps_argv: list[str], family: str
) -> tuple[list[ContainerSummary], list[str]]:
    ps, dangling = docker.query_all([ps_argv, docker_argv.list_dangling_built(family)], check=False)
    for result in (ps, dangling):
        if not result.ok:
            raise command_failed(result)
    return parse_ps_lines(ps.stdout), dangling.stdout.split()


def removal_details(
    docker: Executor, container_ids: list[str], image_refs: list[str], sizes_of: str | None
) -> tuple[list[dict], list[dict], list[int]]:
    """For what a removal is about, side by side: the containers' documents (with
    their sizes when `sizes_of` is given), the images' documents, and the
    per-step sizes of the image `sizes_of` (empty when it does not exist)."""
    inspect = docker_argv.inspect_containers_with_sizes if sizes_of else docker_argv.inspect_containers
    jobs = {
        "containers": inspect(container_ids) if container_ids else None,
        "images": docker_argv.inspect_images(sorted(set(image_refs))) if image_refs else None,
        "history": docker_argv.layer_sizes(sizes_of) if sizes_of else None,
    }
    asked = {key: argv for key, argv in jobs.items() if argv is not None}
    results = dict(zip(asked, docker.query_all(list(asked.values()), check=False)))
    containers = inspected(results["containers"]) if "containers" in results else []
    images = inspected(results["images"]) if "images" in results else []
    history = results.get("history")
    steps = [int(s) for s in history.stdout.split() if s.isdigit()] if history and history.ok else []
    return containers, images, steps


def existing_volumes(docker: Executor, names: list[str]) -> list[str]:
    """Those of `names` that exist, in one call."""
    if not names:
        return []
    result = docker.query(docker_argv.inspect_volumes(names), check=False)
    if not result.ok and not docker_said(result.stderr, "No such volume"):
        raise command_failed(result)
    found = set(result.stdout.split())
    return [name for name in names if name in found]
