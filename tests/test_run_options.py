"""Issue 12 on the real engine: networks, host addresses, read-only mounts,
limits, log rotation, images built elsewhere, and a changed overrides file.

Every network, image and volume made here has a unique name and is removed
after the test, pass or fail; nothing else on the shared engine is touched.
"""

from __future__ import annotations

import json
import shlex
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import docker, free_port, http_get, inspect, new_family, remove_family, running_names

FAST = ("--settle", "0.5")
ROTATION = {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}}


@pytest.fixture
def network(families: list[str]) -> Iterator[str]:
    """A unique network name; the network, if made, is removed after the test
    (the families' containers first: a network in use cannot go)."""
    name = new_family("net")
    yield name
    for family in families:
        remove_family(family)
    docker("network", "rm", name, check=False)


@pytest.fixture
def image_refs() -> Iterator[list[str]]:
    """Image references a test tags; untagged (and so removed) after it."""
    made: list[str] = []
    yield made
    if made:
        docker("rmi", "-f", *made, check=False)


def started(cli, family: str, *args: str) -> str:  # type: ignore[no-untyped-def]
    return cli("start", "new", family, *FAST, *args).out.strip()


def in_container(container: str, *command: str) -> subprocess.CompletedProcess:
    return docker("exec", container, *command, check=False)


def network_exists(name: str) -> bool:
    return docker("network", "inspect", name, check=False).returncode == 0


def test_two_families_on_one_network_reach_each_other_by_name(project, cli, network) -> None:  # type: ignore[no-untyped-def]
    app, db = project("neta"), project("netb")
    app.build(overrides={"network": network}, expose=(), content="from-app")
    db.build(overrides={"network": network}, expose=(), content="from-db")
    assert not network_exists(network)
    first = cli("start", "new", app.family, *FAST)
    assert f"created network {network}" in first.err and network_exists(network)
    app_container = first.out.strip()
    second = cli("start", "new", db.family, *FAST)
    assert "created network" not in second.err  # it exists: used, never made twice
    db_container = second.out.strip()

    # Each reaches the other by its family's name, the alias on the network.
    reply = in_container(db_container, "wget", "-q", "-O", "-", f"http://{app.family}:8080/")
    assert reply.stdout == "from-app\n", reply.stderr
    reply = in_container(app_container, "wget", "-q", "-O", "-", f"http://{db.family}:8080/")
    assert reply.stdout == "from-db\n", reply.stderr
    aliases = inspect(app_container)["NetworkSettings"]["Networks"][network]["Aliases"]
    assert app.family in aliases

    # An upgrade moves the name to the new container.
    app.build(expose=(), content="app-v2")
    started(cli, app.family)
    reply = in_container(db_container, "wget", "-q", "-O", "-", f"http://{app.family}:8080/")
    assert reply.stdout == "app-v2\n", reply.stderr


def other_addresses(container: str) -> list[str]:
    """Addresses of this host other than loopback: the bridge gateway the
    container sees, and the host's own (from `ip`, where there is one)."""
    settings = inspect(container)["NetworkSettings"]
    addresses = {n.get("Gateway") for n in settings["Networks"].values()} | {settings.get("Gateway")}
    if shutil.which("ip"):
        listing = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                                 capture_output=True, text=True, check=False).stdout  # fmt: skip
        addresses |= {line.split()[3].split("/")[0] for line in listing.splitlines() if len(line.split()) > 3}
    return sorted(a for a in addresses if a and not a.startswith("127."))


def answers(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=2):
            return True
    except OSError:
        return False


def test_a_port_bound_to_127_0_0_1_is_reachable_there_only(project, cli) -> None:  # type: ignore[no-untyped-def]
    app = project("local")
    private, public = free_port(), free_port()
    # The same container port twice: on 127.0.0.1 only, and (the control) on every address.
    app.build(overrides={"ports": {f"127.0.0.1:{private}": "8080", str(public): "8080"}})
    container = started(cli, app.family)
    assert http_get(private) == "v1\n"
    others = other_addresses(container)
    assert others, "no other local address to try"
    for address in others:
        assert answers(address, public), f"the control port {public} does not answer on {address}"
        assert not answers(address, private), f"port {private} answers on {address}"
    bindings = inspect(container)["HostConfig"]["PortBindings"]["8080/tcp"]
    assert {"HostIp": "127.0.0.1", "HostPort": str(private)} in bindings


def test_a_read_only_mount_refuses_a_write(project, cli) -> None:  # type: ignore[no-untyped-def]
    app = project("ro")
    (app.dir / "conf").mkdir(parents=True)
    (app.dir / "conf" / "settings").write_text("level=info\n")
    (app.dir / "scratch").mkdir()
    app.build(overrides={"volumes": {"./conf": "/etc/app:ro", "./scratch": "/scratch:rw"}}, expose=())
    container = started(cli, app.family)
    assert in_container(container, "cat", "/etc/app/settings").stdout == "level=info\n"
    refused = in_container(container, "sh", "-c", "echo changed > /etc/app/settings")
    assert refused.returncode != 0 and "Read-only file system" in refused.stderr
    assert (app.dir / "conf" / "settings").read_text() == "level=info\n"
    written = in_container(container, "sh", "-c", "echo note > /scratch/note")
    assert written.returncode == 0 and (app.dir / "scratch" / "note").read_text() == "note\n"


def test_limits_and_options_are_in_docker_inspect(project, cli) -> None:  # type: ignore[no-untyped-def]
    app = project("limits")
    port = free_port()
    app.build(overrides={
        "ports": {str(port): "8080"},
        "memory": "64m", "cpus": "0.5", "user": "1000:1000", "init": True, "hostname": "web-1",
        "extra_hosts": {"db.local": "10.0.0.5"}, "labels": {"com.example.team": "web"},
        "command": ["sh", "-c", "httpd -f -p 8080 -h /www"],
        "log": {"max-size": "1m", "max-file": 2},
    })  # fmt: skip
    container = started(cli, app.family)
    assert http_get(port) == "v1\n"  # it runs, as user 1000
    document = inspect(container)
    host, config = document["HostConfig"], document["Config"]
    assert host["Memory"] == 64 * 1024 * 1024
    assert host["NanoCpus"] == 500_000_000
    assert (config["User"], host["Init"], config["Hostname"]) == ("1000:1000", True, "web-1")
    assert host["ExtraHosts"] == ["db.local:10.0.0.5"]
    assert config["Labels"]["com.example.team"] == "web"
    assert config["Labels"]["dockervisor.image"] == app.family
    assert config["Cmd"] == ["sh", "-c", "httpd -f -p 8080 -h /www"]
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "2", "max-size": "1m"}}
    assert in_container(container, "id", "-u").stdout == "1000\n"


def test_logs_rotate_by_default(project, cli) -> None:  # type: ignore[no-untyped-def]
    app = project("logs")
    app.build(overrides=None, expose=())  # no overrides file at all
    container = started(cli, app.family)
    assert inspect(container)["HostConfig"]["LogConfig"] == ROTATION
    log = json.loads(cli("config", app.family, "--json").out)["log"]
    assert log == {"driver": "json-file", "max-size": "10m", "max-file": "3"}


def build_elsewhere(app, ref: str, content: str) -> str:  # type: ignore[no-untyped-def]
    """What CI does: docker build, by hand, under a name of its own; the image ID."""
    app.write(overrides=None, content=content)
    docker("build", "-q", "-t", ref, str(app.dir))
    return inspect(ref)["Id"]


def ops_overrides(tmp_path: Path, port: int) -> Path:
    """An overrides file kept by operations, away from any Dockerfile."""
    path = tmp_path / "ops" / "app.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"ports": {f"127.0.0.1:{port}": "8080"}, "memory": "64m"}))
    return path


def test_pull_no_pull_of_an_image_tagged_by_hand(project, cli, image_refs, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = project("tagged")
    ref = f"{app.family}-ci:1.0"
    image_refs.append(ref)
    image_id = build_elsewhere(app, ref, "from-ci")
    port = free_port()
    overrides = ops_overrides(tmp_path, port)
    pulled = cli("pull", app.family, ref, "--no-pull", "--overrides", str(overrides))
    assert f"tagged {ref} as {app.family}" in pulled.err
    assert inspect(f"{app.family}:latest")["Id"] == image_id
    container = started(cli, app.family)
    assert http_get(port) == "from-ci\n"
    assert inspect(container)["HostConfig"]["Memory"] == 64 * 1024 * 1024
    source = json.loads(cli("config", app.family, "--json").out)["source"]
    assert (source["kind"], source["reference"], source["image_id"]) == ("pull", ref, image_id)
    assert source["overrides_file"] == str(overrides)
    assert [e["action"] for e in cli.history(app.family)] == ["pull", "start new"]


def test_pull_no_pull_of_a_loaded_image(project, cli, image_refs, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = project("loaded")
    ref = f"{app.family}-ci:2.0"
    image_refs.append(ref)
    image_id = build_elsewhere(app, ref, f"loaded-{app.family}")
    archive = tmp_path / "image.tar"
    docker("save", "-o", str(archive), ref)
    docker("rmi", ref)
    assert docker("image", "inspect", image_id, check=False).returncode != 0  # really gone
    assert f"Loaded image: {ref}" in docker("load", "-i", str(archive)).stdout
    port = free_port()
    cli("pull", app.family, ref, "--no-pull", "--overrides", str(ops_overrides(tmp_path, port)))
    started(cli, app.family)
    assert http_get(port) == f"loaded-{app.family}\n"


def test_pull_from_an_unreachable_registry_fails_in_one_line_recording_nothing(project, cli) -> None:  # type: ignore[no-untyped-def]
    app = project("unreachable")
    attempts = [
        ([f"127.0.0.1:1/{app.family}:1"], f"`docker pull 127.0.0.1:1/{app.family}:1` failed: "),
        ([f"{app.family}-nothing:1", "--no-pull"], f"there is no image '{app.family}-nothing:1' on the engine"),
    ]
    for args, words in attempts:
        failed = cli("pull", app.family, *args, expect=1)
        lines = failed.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("dockervisor: error: ") and words in lines[0], failed
        assert not (cli.state_dir / "families" / f"{app.family}.json").exists()
        assert not (cli.state_dir / "history" / f"{app.family}.jsonl").exists()
        assert docker("image", "inspect", f"{app.family}:latest", check=False).returncode != 0


def test_a_changed_overrides_file_is_noticed(project, cli) -> None:  # type: ignore[no-untyped-def]
    app = project("changed")
    port = free_port()
    app.build(overrides={"ports": {str(port): "8080"}})
    first = cli("start", "new", app.family, *FAST)
    assert "warning" not in first.err
    assert json.loads(cli("status", app.family, "--json").out)["families"][0]["config_changed"] is False

    dcv = app.dir / f"dcv-{app.family}"
    dcv.write_text(json.dumps({"ports": {str(port): "8080"}, "memory": "64m"}))
    second = cli("start", "new", app.family, *FAST)
    assert f"warning: {dcv} has changed since {app.family} was built" in second.err
    assert f"`dockervisor build {app.family} {app.dir}`" in second.err
    assert inspect(second.out.strip())["HostConfig"]["Memory"] == 0  # the recorded configuration, as said
    assert json.loads(cli("status", app.family, "--json").out)["families"][0]["config_changed"] is True
    assert "has changed since" in cli("config", app.family).out

    app.build()
    third = cli("start", "new", app.family, *FAST)
    assert "warning" not in third.err
    assert inspect(third.out.strip())["HostConfig"]["Memory"] == 64 * 1024 * 1024
    assert json.loads(cli("status", app.family, "--json").out)["families"][0]["config_changed"] is False


def test_dry_run_of_start_new_shows_every_new_flag(project, cli, network) -> None:  # type: ignore[no-untyped-def]
    app = project("dry")
    (app.dir / "conf").mkdir(parents=True)
    port = free_port()
    app.build(overrides={
        "ports": {f"127.0.0.1:{port}": "8080"}, "volumes": {"./conf": "/etc/app:ro"}, "network": network,
        "memory": "64m", "cpus": "0.5", "user": "1000:1000", "init": True, "hostname": "web-1",
        "extra_hosts": {"db.local": "10.0.0.5"}, "labels": {"com.example.team": "web"},
        "command": ["--workers", "4"],
    })  # fmt: skip
    dry = cli("start", "new", app.family, "--dry-run")
    lines = dry.out.splitlines()
    assert lines[0] == f"docker network create {network}"
    run = shlex.split(lines[1])
    assert run[:2] == ["docker", "run"]
    pairs = {(word, value) for word, value in zip(run, run[1:])}
    for flag, value in [
        ("--publish", f"127.0.0.1:{port}:8080/tcp"), ("--volume", f"{app.dir}/conf:/etc/app:ro"),
        ("--network", network), ("--network-alias", app.family), ("--memory", "64m"), ("--cpus", "0.5"),
        ("--user", "1000:1000"), ("--hostname", "web-1"), ("--add-host", "db.local:10.0.0.5"),
        ("--label", "com.example.team=web"), ("--log-driver", "json-file"),
        ("--log-opt", "max-size=10m"), ("--log-opt", "max-file=3"),
    ]:  # fmt: skip
        assert (flag, value) in pairs, (flag, value, run)
    assert "--init" in run and run[-3:] == [f"{app.family}:latest", "--workers", "4"]
    assert f"would create network {network}" in dry.err
    assert not network_exists(network) and running_names(app.family) == []


def test_a_family_of_several_networks(project, cli, network) -> None:  # type: ignore[no-untyped-def]
    """docker run joins one network; switch.py joins the rest (networks.joining,
    NewContainer.then) before the new container starts."""
    app = project("nets")
    second = f"{network}-b"
    try:
        app.build(overrides={"network": [network, second]}, expose=())
        container = started(cli, app.family)
        joined = inspect(container)["NetworkSettings"]["Networks"]
        assert app.family in joined[network]["Aliases"] and app.family in joined[second]["Aliases"]
    finally:
        remove_family(app.family)
        docker("network", "rm", second, check=False)
