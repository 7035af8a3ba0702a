"""`docker run` with the run options of issue 12, compared as exact lists."""

from __future__ import annotations

from dockervisor import docker_argv
from dockervisor.mounts import Mount, PortMapping
from dockervisor.runconfig import RunConfig

HEAD = [
    "docker", "run", "--detach", "--name", "dcv_app_1", "--label", "dockervisor.image=app",
    "--restart", "unless-stopped", "--pull", "never",
]  # fmt: skip


def test_host_addresses_and_read_only_mounts() -> None:
    config = RunConfig(
        [PortMapping(8080, 80, "tcp", "127.0.0.1"), PortMapping(8080, 80, "tcp", "::1"), PortMapping(53, 53, "udp")],
        [Mount("/srv/conf", "/etc/app", read_only=True), Mount("app_data", "/data")],
    )
    assert docker_argv.run("dcv_app_1", "app", config) == HEAD + [
        "--publish", "127.0.0.1:8080:80/tcp",
        "--publish", "[::1]:8080:80/tcp",
        "--publish", "53:53/udp",
        "--volume", "/srv/conf:/etc/app:ro",
        "--volume", "app_data:/data",
        "app:latest",
    ]  # fmt: skip
