"""The seed command set against the real engine, through the installed CLI."""

from __future__ import annotations

import json
import re

import pytest

from support import (
    all_names,
    owner_args,
    docker,
    free_port,
    http_get,
    inspect,
    running_names,
)

FAST = ("--settle", "0.5")  # the settle time itself is tested in test_safe_upgrades.py


def started(result) -> str:  # type: ignore[no-untyped-def]
    """The container name a start prints on stdout."""
    return result.out.strip().splitlines()[-1]


def test_build_then_start_new_publishes_exposed_ports_and_named_volumes(project, cli) -> None:
    port, udp = free_port(), free_port()
    app = project("ports")
    app.build(cmd=f"httpd -f -p {port} -h /www", expose=(str(port), f"{udp}/udp"), volumes=("/data", "/var/www"))
    name = started(cli("start", "new", app.family, *FAST))

    assert re.fullmatch(rf"dcv_{re.escape(app.family)}_\d{{14}}", name)
    document = inspect(name)
    assert document["Config"]["Labels"]["dockervisor.image"] == app.family
    assert document["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    bindings = document["HostConfig"]["PortBindings"]
    assert {spec: [b["HostPort"] for b in hosts] for spec, hosts in bindings.items()} == {
        f"{port}/tcp": [str(port)],
        f"{udp}/udp": [str(udp)],
    }
    mounts = {m["Destination"]: (m["Type"], m["Name"]) for m in document["Mounts"]}
    assert mounts == {
        "/data": ("volume", f"{app.family}_data"),
        "/var/www": ("volume", f"{app.family}_var_www"),
    }
    assert http_get(port) == "v1\n"
    assert cli.state(app.family)["last"] == name


def test_upgrade_keeps_the_data_and_runs_one_container(project, cli) -> None:
    port = free_port()
    app = project("upgrade")
    app.build(overrides={"ports": {str(port): "8080"}})
    first = started(cli("start", "new", app.family, *FAST))
    docker("exec", first, "sh", "-c", "echo kept > /data/note")

    rebuilt = app.build(content="v2")
    assert "publishes host" in rebuilt.err
    second = started(cli("start", "new", app.family, *FAST))

    assert second != first
    assert running_names(app.family) == [second]
    assert inspect(first)["State"]["Status"] == "exited"
    assert docker("exec", second, "cat", "/data/note").stdout == "kept\n"
    assert http_get(port) == "v2\n"
    # The rebuild moved the tag; the old image stays, untagged, for the old container.
    old_image, new_image = inspect(first)["Image"], inspect(second)["Image"]
    assert old_image != new_image
    assert inspect(old_image)["RepoTags"] == []
    assert f"{app.family}:latest" in inspect(new_image)["RepoTags"]
    listing = cli("list", "images", app.family).out
    assert old_image.split(":")[1][:12] in listing and new_image.split(":")[1][:12] in listing
    assert "<untagged>" in listing
    listed = json.loads(cli("list", "images", app.family, "--json").out)["images"]
    assert [(i["id"], i["containers"], i["current"]) for i in listed] == [
        (new_image, [second], True),
        (old_image, [first], False),
    ]


def test_start_last_restarts_the_last_one_and_is_idempotent(project, cli) -> None:
    port = free_port()
    app = project("last")
    app.build(overrides={"ports": {str(port): "8080"}})
    first = started(cli("start", "new", app.family, *FAST))
    second = started(cli("start", "new", app.family, *FAST))
    cli("stop", app.family)
    assert running_names(app.family) == []

    assert started(cli("start", "last", app.family, *FAST)) == second
    assert running_names(app.family) == [second]
    assert http_get(port) == "v1\n"

    started_at = inspect(second)["State"]["StartedAt"]
    again = cli("start", "last", app.family, *FAST)
    assert "was already running and is up" in again.err
    assert again.out == f"{second}\n"  # the name that runs, also when nothing changed
    assert inspect(second)["State"]["StartedAt"] == started_at
    assert first in all_names(app.family)


def test_stable_mark_show_and_rollback(project, cli) -> None:
    port = free_port()
    app = project("stable")
    app.build(overrides={"ports": {str(port): "8080"}})
    good = started(cli("start", "new", app.family, *FAST))
    cli("stable", app.family)
    assert cli("stable", "show", app.family).out == f"{good}\n"

    app.build(content="v2-broken")
    bad = started(cli("start", "new", app.family, *FAST))
    assert http_get(port) == "v2-broken\n"

    assert started(cli("start", "stable", app.family, *FAST)) == good
    assert running_names(app.family) == [good]
    assert http_get(port) == "v1\n"
    state = cli.state(app.family)
    assert (state["last"], state["stable"]) == (good, good)
    # `stable mark` is the long form of `stable`; the mark stays until changed.
    cli("start", bad, *FAST)
    cli("stable", "mark", app.family)
    assert cli("stable", "show", app.family).out == f"{bad}\n"


def test_stable_with_nothing_running_is_a_clear_error(project, cli) -> None:
    app = project("nostable")
    app.build(overrides={"ports": {str(free_port()): "8080"}})
    result = cli("stable", app.family, expect=1)
    assert "dockervisor: error: nothing of" in result.err
    show = cli("stable", "show", app.family, expect=1)
    assert "no container of" in show.err
    document = json.loads(cli("stable", "show", app.family, "--json", expect=1).out)
    assert document == {"image": app.family, "stable": None, "exists": False, "state": None}


def test_start_by_container_name(project, cli, families) -> None:
    port = free_port()
    app = project("byname")
    app.build(overrides={"ports": {str(port): "8080"}})
    first = started(cli("start", "new", app.family, *FAST))
    second = started(cli("start", "new", app.family, *FAST))

    assert started(cli("start", first, *FAST)) == first
    assert running_names(app.family) == [first]
    assert cli.state(app.family)["last"] == first

    missing = cli("start", f"dcv_{app.family}_nope", expect=1)
    assert "there is no container named" in missing.err
    assert second in all_names(app.family)


def test_stop_is_a_quiet_no_op_when_nothing_runs(project, cli) -> None:
    app = project("stop")
    app.build(overrides={"ports": {str(free_port()): "8080"}})
    name = started(cli("start", "new", app.family, *FAST))
    cli("stop", app.family)
    assert inspect(name)["State"]["Status"] == "exited"
    again = cli("stop", app.family)
    assert "nothing of" in again.err and again.out == ""
    unknown = cli("stop", "dcvtnever-built", expect=1)
    assert "unknown image family" in unknown.err


@pytest.fixture
def two_running(project, cli):  # type: ignore[no-untyped-def]
    """A family whose started container runs next to one started by hand."""
    app = project("two")
    app.build(overrides={"ports": {str(free_port()): "8080"}})
    first = started(cli("start", "new", app.family, *FAST))
    by_hand = f"dcv_{app.family}_byhand"
    docker("run", "-d", "--name", by_hand, "--label", f"dockervisor.image={app.family}", *owner_args(cli),
           f"{app.family}:latest")  # fmt: skip
    assert running_names(app.family) == sorted([first, by_hand])
    return app, first, by_hand


def test_stop_stops_every_running_container_of_the_family(two_running, cli) -> None:
    app, first, by_hand = two_running
    result = cli("stop", app.family)
    assert running_names(app.family) == []
    assert first in result.err and by_hand in result.err
    assert cli.history(app.family)[-1]["container"] in (f"{first}, {by_hand}", f"{by_hand}, {first}")


@pytest.mark.parametrize("what", ["new", "last", "by name"])
def test_a_start_leaves_one_running_of_two(two_running, cli, what) -> None:
    app, first, by_hand = two_running
    argv = {"new": ["new", app.family], "last": ["last", app.family], "by name": [by_hand]}[what]
    name = started(cli("start", *argv, *FAST))
    assert running_names(app.family) == [name]
    assert name == {"new": name, "last": first, "by name": by_hand}[what]
    assert cli.state(app.family)["last"] == name


def test_stable_refuses_to_choose_between_two_running(two_running, cli) -> None:
    app, first, by_hand = two_running
    result = cli("stable", app.family, expect=1)
    assert f"several containers of {app.family!r} are running" in result.err
    assert first in result.err and by_hand in result.err
    assert cli.state(app.family)["stable"] is None
    assert running_names(app.family) == sorted([first, by_hand])  # refused, and nothing touched


def test_families_are_found_by_label_not_by_name_prefix(project, cli) -> None:
    app = project("iso")
    neighbours = [project(family=f"{app.family}2"), project(family=f"{app.family}_x")]
    for member in [app, *neighbours]:
        member.build(overrides={"ports": {str(free_port()): "8080"}})
        cli("start", "new", member.family, *FAST)

    cli("stop", app.family)
    cli("start", "new", app.family, *FAST)
    cli("stable", app.family)
    cli("start", "stable", app.family, *FAST)
    cli("stop", app.family)

    for neighbour in neighbours:
        assert len(running_names(neighbour.family)) == 1
        assert len(all_names(neighbour.family)) == 1
    containers = cli("list", "containers", app.family).out
    assert neighbours[0].family not in containers and neighbours[1].family not in containers


def test_overrides_replace_defaults_and_add_mounts(project, cli, tmp_path) -> None:
    port, extra = free_port(), free_port()
    app = project("overrides")
    (app.dir / "site").mkdir(parents=True)
    (app.dir / "site" / "index.html").write_text("from the host\n")
    app.build(
        overrides={
            "ports": {str(port): "8080/tcp", str(extra): "9000/udp"},
            "volumes": {"./site": "/www", f"{app.family}_custom": "/data"},
        }
    )
    name = started(cli("start", "new", app.family, *FAST))
    document = inspect(name)
    bindings = {s: [b["HostPort"] for b in h] for s, h in document["HostConfig"]["PortBindings"].items()}
    assert bindings == {"8080/tcp": [str(port)], "9000/udp": [str(extra)]}  # no 8080:8080
    mounts = {m["Destination"]: m.get("Name") or m["Source"] for m in document["Mounts"]}
    assert mounts == {"/www": str(app.dir / "site"), "/data": f"{app.family}_custom"}
    assert http_get(port) == "from the host\n"


def test_bad_overrides_stop_the_build_and_record_nothing(project, cli) -> None:
    app = project("badoverrides")
    app.write(overrides={"ports": {"80": "8080"}, "volume": {}})
    result = cli("build", app.family, str(app.dir), expect=1)
    assert f"dockervisor: error: {app.dir / f'dcv-{app.family}'}: volume: unknown key" in result.err
    assert not (cli.state_dir / "families" / f"{app.family}.json").exists()
    assert docker("image", "inspect", app.family, check=False).returncode != 0  # nothing built


def test_start_new_that_cannot_bind_its_port_brings_the_old_one_back(project, cli) -> None:
    import socket

    port, taken = free_port(), free_port()
    app = project("porttaken")
    app.build(overrides={"ports": {str(port): "8080"}})
    old = started(cli("start", "new", app.family, *FAST))
    app.write(overrides={"ports": {str(port): "8080", str(taken): "9000"}})
    cli("build", app.family, str(app.dir))

    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("0.0.0.0", taken))
        blocker.listen()
        result = cli("start", "new", app.family, *FAST, expect=3)

    assert "docker could not start it" in result.err and f"{old} is running again" in result.err
    assert running_names(app.family) == [old]
    assert all_names(app.family) == [old]  # the never-started container was removed
    assert cli.state(app.family)["last"] == old
    assert http_get(port) == "v1\n"


@pytest.mark.parametrize(
    "labels, refusal",
    [
        ((), "was not created by dockervisor"),
        (("--label", "dockervisor.image=Not/Ours"), "which is not an image name dockervisor gives; refusing"),
    ],
)
def test_containers_dockervisor_did_not_create_are_refused(project, cli, labels, refusal) -> None:
    app = project("foreign")
    app.build(overrides={"ports": {str(free_port()): "8080"}})
    foreign = f"dcv_{app.family}_foreign"
    docker("create", "--name", foreign, *labels, app.family)
    try:
        assert refusal in cli("start", foreign, expect=1).err
        assert inspect(foreign)["State"]["Status"] == "created"
    finally:
        docker("rm", "-f", "-v", foreign, check=False)
