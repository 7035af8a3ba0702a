"""Each docker argv builder, compared as an exact list: no I/O at all."""

from __future__ import annotations

from dockervisor.engine import argv as docker_argv
from dockervisor.config.runconfig import Mount, PortMapping, RunConfig


def test_build_without_dockerfile() -> None:
    assert docker_argv.build("app", "/src") == [
        "docker", "build", "-t", "app:latest", "--label", "dockervisor.built=app", "/src",
    ]  # fmt: skip


def test_build_with_dockerfile() -> None:
    assert docker_argv.build("app", "/src", "/src/Dockerfile.prod") == [
        "docker", "build", "-t", "app:latest", "--label", "dockervisor.built=app",
        "-f", "/src/Dockerfile.prod", "/src",
    ]  # fmt: skip


def test_run_publishes_mounts_labels_and_restarts() -> None:
    config = RunConfig(
        [PortMapping(80, 8080, "tcp"), PortMapping(53, 53, "udp")],
        [Mount("app_data", "/data"), Mount("/srv/site", "/www")],
    )
    assert docker_argv.run("dcv_app_1", "app", config, ["--env-file", "/dev/fd/3"]) == [
        "docker", "run", "--detach",
        "--name", "dcv_app_1",
        "--label", "dockervisor.image=app",
        "--restart", "unless-stopped",
        "--pull", "never",
        "--publish", "80:8080/tcp",
        "--publish", "53:53/udp",
        "--volume", "app_data:/data",
        "--volume", "/srv/site:/www",
        "--env-file", "/dev/fd/3",
        "app:latest",
    ]  # fmt: skip


def test_run_with_nothing_to_publish() -> None:
    assert docker_argv.run("n", "app", RunConfig([], [])) == [
        "docker", "run", "--detach", "--name", "n", "--label", "dockervisor.image=app",
        "--restart", "unless-stopped", "--pull", "never", "app:latest",
    ]  # fmt: skip


def test_a_hex_named_family_is_addressed_by_its_tag_never_as_an_id_prefix() -> None:
    # `docker run cafe` runs an image whose ID starts with cafe when the tag is gone.
    assert docker_argv.run("n", "cafe", RunConfig([], []))[-1] == "cafe:latest"
    assert docker_argv.build("db", "/src")[3] == "db:latest"
    assert docker_argv.tag("1") == "1:latest"


def test_family_listing_filters_by_exact_label() -> None:
    argv = docker_argv.list_family("app")
    assert argv[:4] == ["docker", "ps", "--all", "--no-trunc"]
    assert argv[4:6] == ["--filter", "label=dockervisor.image=app"]


def test_start_stop_remove_logs() -> None:
    assert docker_argv.start("c") == ["docker", "start", "c"]
    assert docker_argv.stop(["a", "b"]) == ["docker", "stop", "a", "b"]
    assert docker_argv.remove("c") == ["docker", "rm", "c"]
    assert docker_argv.logs("c", 20) == ["docker", "logs", "--tail", "20", "c"]


def test_inspects_are_batched() -> None:
    assert docker_argv.inspect_containers(["a", "b"]) == ["docker", "container", "inspect", "a", "b"]
    assert docker_argv.inspect_images(["x", "y"]) == ["docker", "image", "inspect", "x", "y"]
