"""`docker run` with the run options of issue 12, compared as exact lists."""

from __future__ import annotations

from dockervisor.engine import argv as docker_argv
from dockervisor.config.mounts import Mount, PortMapping
from dockervisor.config.runconfig import RunConfig
from dockervisor.config.runoptions import DEFAULT_LOG, RunOptions

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


def test_every_option_in_a_fixed_order_and_the_command_after_the_image() -> None:
    options = RunOptions(
        memory="512m", cpus="1.5", user="1000:1000", command=["--workers", "4"], init=True,
        hostname="app", extra_hosts={"db.local": "10.0.0.5", "v6": "::1", "gw": "host-gateway"},
        labels={"com.example.team": "web", "tier": ""},
        log={"driver": "json-file", "max-size": "10m", "max-file": "3"},
    )  # fmt: skip
    argv = docker_argv.run("dcv_app_1", "app", RunConfig([PortMapping(80, 80)], [], options=options), ["--env-file", "/dev/fd/3"])
    assert argv == HEAD + [
        "--publish", "80:80/tcp",
        "--hostname", "app",
        "--add-host", "db.local:10.0.0.5",
        "--add-host", "v6:::1",
        "--add-host", "gw:host-gateway",
        "--user", "1000:1000",
        "--init",
        "--memory", "512m",
        "--cpus", "1.5",
        "--label", "com.example.team=web",
        "--label", "tier=",
        "--log-driver", "json-file",
        "--log-opt", "max-size=10m",
        "--log-opt", "max-file=3",
        "--env-file", "/dev/fd/3",
        "app:latest", "--workers", "4",
    ]  # fmt: skip


def test_default_log_rotation_and_the_engine_default() -> None:
    rotating = RunConfig([], [], options=RunOptions(log=dict(DEFAULT_LOG)))
    assert docker_argv.run("dcv_app_1", "app", rotating) == HEAD + [
        "--log-driver", "json-file", "--log-opt", "max-size=10m", "--log-opt", "max-file=3", "app:latest",
    ]  # fmt: skip
    assert docker_argv.run("dcv_app_1", "app", RunConfig([], [], options=RunOptions(log=None))) == HEAD + ["app:latest"]


def test_an_option_not_set_adds_no_flag() -> None:
    assert docker_argv.run_options("app", RunOptions()) == []
    assert docker_argv.run_options("app", RunOptions(init=False, command=[], labels={}, extra_hosts={})) == []
    assert docker_argv.run_options("app", RunOptions(log={"driver": "local"})) == ["--log-driver", "local"]


def test_one_network_is_joined_by_docker_run_with_the_family_name_as_alias() -> None:
    config = RunConfig([], [], options=RunOptions(networks=["backend"], hostname="web"))
    assert docker_argv.run("dcv_app_1", "app", config) == HEAD + [
        "--network", "backend", "--network-alias", "app", "--hostname", "web", "app:latest",
    ]  # fmt: skip
    assert docker_argv.join_other_networks("dcv_app_1", "app", config.options) == []


def test_more_networks_create_connect_then_start() -> None:
    options = RunOptions(networks=["backend", "monitoring", "edge"], command=["-v"])
    run = docker_argv.run("dcv_app_1", "app", RunConfig([], [], options=options), ["--env", "TOKEN"])
    assert docker_argv.as_create(run) == [
        "docker", "create", "--name", "dcv_app_1", "--label", "dockervisor.image=app",
        "--restart", "unless-stopped", "--pull", "never",
        "--network", "backend", "--network-alias", "app",
        "--env", "TOKEN", "app:latest", "-v",
    ]  # fmt: skip
    assert docker_argv.join_other_networks("dcv_app_1", "app", options) == [
        ["docker", "network", "connect", "--alias", "app", "monitoring", "dcv_app_1"],
        ["docker", "network", "connect", "--alias", "app", "edge", "dcv_app_1"],
        ["docker", "start", "dcv_app_1"],
    ]


def test_network_queries_and_creation() -> None:
    assert docker_argv.list_networks(["a", "b"]) == [
        "docker", "network", "ls", "--filter", "name=a", "--filter", "name=b", "--format", "{{json .Name}}",
    ]  # fmt: skip
    assert docker_argv.create_network("backend") == ["docker", "network", "create", "backend"]
