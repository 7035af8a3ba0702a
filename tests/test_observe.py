"""Issue 4: status, list, history, --json and --dry-run on a family with a past."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess

import pytest

from support import cells, docker, free_port, holding_lock, inspect, running_names, wait_for

FAST = ("--settle", "0.5")
STATUS_FIELDS = {
    "image", "state", "health", "container", "started_at", "uptime_seconds", "image_id",
    "image_tags", "ports", "last", "stable", "config_changed", "ok", "running", "error", "prunable",
    "restarts",  # issue 18: restarts by docker since the container was started
    "image_digests",  # issue 23: REPOSITORY@sha256 of what runs, for an image pulled from a registry
}  # fmt: skip
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture
def past(project, cli):  # type: ignore[no-untyped-def]
    """c1 marked stable, c2 running and last, c3 a failed upgrade rolled back."""
    port = free_port()
    app = project("past")
    app.build(overrides={"ports": {str(port): "8080"}})
    c1 = cli("start", "new", app.family, *FAST).out.strip()
    cli("stable", app.family)
    app.build(content="v2")
    c2 = cli("start", "new", app.family, *FAST).out.strip()
    app.build(cmd="exit 1", content="v3")
    cli("start", "new", app.family, *FAST, expect=3)
    (c3,) = [n for n in json.loads(cli("list", "containers", app.family, "--json").out)["containers"]
             if n["name"] not in (c1, c2)]  # fmt: skip
    return app, port, c1, c2, c3["name"]


def test_status_shows_the_running_container_and_exits_0(past, cli) -> None:
    app, port, c1, c2, _ = past
    text = cli("status", app.family, env={"COLUMNS": "80"})
    lines = text.out.splitlines()
    # At 80 columns the IMAGE column goes: names are never cut to fit.
    assert lines[0].split() == ["FAMILY", "STATE", "CONTAINER", "PORTS", "LAST", "STABLE"]
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines)
    assert lines[1].startswith(f"{app.family} ")  # names are never cut; ports may be
    assert c2.removeprefix(f"dcv_{app.family}_") in cells(lines[1])
    assert cells(lines[1])[1].startswith("running ")  # the STATE column
    assert "\033[" not in text.out  # not a terminal: no colour

    document = json.loads(cli("status", app.family, "--json").out)
    (family,) = document["families"]
    assert document["ok"] is True and set(family) == STATUS_FIELDS
    assert (family["container"], family["last"], family["stable"]) == (c2, c2, c1)
    assert family["state"] == "running" and family["health"] is None and family["ok"] is True
    assert family["ports"] == [{"address": None, "host": port, "container": 8080, "protocol": "tcp"}]
    assert family["image_id"] == inspect(c2)["Image"] and family["image_tags"] == []  # v3 holds the tag now
    assert ISO_UTC.fullmatch(family["started_at"]) and family["uptime_seconds"] >= 0


def test_status_exits_5_when_stopped(past, cli) -> None:
    app = past[0]
    cli("stop", app.family)
    result = cli("status", app.family, expect=5)
    assert "stopped" in result.out
    document = json.loads(cli("status", app.family, "--json", expect=5).out)
    assert document["ok"] is False and document["families"][0]["state"] == "stopped"
    everything = json.loads(cli("status", "--json", expect=5).out)  # all families: one is down
    assert app.family in [f["image"] for f in everything["families"]]


def test_status_exits_5_when_unhealthy(project, cli) -> None:
    app = project("sick")
    app.build(
        overrides={"ports": {str(free_port()): "8080"}},
        healthcheck="--interval=1s --timeout=1s --retries=1 CMD false",
    )
    name = cli("start", "new", app.family, "--no-wait").out.strip()
    wait_for(lambda: inspect(name)["State"]["Health"]["Status"] == "unhealthy", what="unhealthy")
    document = json.loads(cli("status", app.family, "--json", expect=5).out)
    assert document["families"][0]["health"] == "unhealthy" and document["families"][0]["ok"] is False
    assert "unhealthy" in cli("status", app.family, expect=5).out


def test_list_containers_newest_first_with_marks(past, cli) -> None:
    app, _, c1, c2, c3 = past
    listed = json.loads(cli("list", "containers", app.family, "--json").out)["containers"]
    assert [c["name"] for c in listed] == [c3, c2, c1]
    assert set(listed[0]) == {
        "name", "id", "image_id", "digest", "created", "state", "running", "last", "stable", "prunable",
    }  # fmt: skip
    marks = {c["name"]: (c["running"], c["last"], c["stable"]) for c in listed}
    assert marks == {c1: (False, False, True), c2: (True, True, False), c3: (False, False, False)}
    assert all(ISO_UTC.fullmatch(c["created"]) for c in listed)

    lines = cli("list", "containers", app.family, env={"COLUMNS": "80"}).out.splitlines()
    assert lines[0].split() == ["NAME", "STATE", "MARKS"]  # IMAGE and CREATED go, never a name
    assert lines[2].endswith("running,last") and lines[3].endswith("stable")
    assert all(len(line) <= 80 for line in lines) and c2 in lines[2]
    piped = cli("list", "containers", app.family).out  # no terminal: nothing is cut
    assert "…" not in piped and all(name in piped for name in (c1, c2, c3))


def test_list_families(past, cli) -> None:
    app, _, _, c2, _ = past
    families = json.loads(cli("list", "--json").out)["families"]
    assert {"image": app.family, "containers": 3, "running": c2, "damaged": False} in families
    assert app.family in cli("list").out


def test_history_tells_what_happened(past, cli) -> None:
    app, _, c1, c2, c3 = past
    entries = json.loads(cli("history", app.family, "--json").out)["entries"]
    assert [(e["action"], e["outcome"]) for e in entries] == [
        ("build", "ok"), ("start new", "ok"), ("stable mark", "ok"), ("build", "ok"),
        ("start new", "ok"), ("build", "ok"), ("start new", "rolled-back"),
    ]  # fmt: skip
    assert [e["container"] for e in entries if e["action"] != "build"] == [c1, c1, c2, c3]
    for entry in entries:
        assert set(entry) == {"time", "user", "command", "action", "container", "image_id", "outcome", "message",
                              "family", "engine", "exit_code", "previous", "running", "digest", "started_at",
                              "seconds", "notified", "release"}  # fmt: skip
        assert ISO_UTC.fullmatch(entry["time"]) and entry["user"]
        assert entry["command"].startswith("dockervisor ")
    assert entries[0]["image_id"].startswith("sha256:")
    assert "did not come up" in entries[-1]["message"]

    newest = json.loads(cli("history", app.family, "--limit", "2", "--json").out)["entries"]
    assert newest == entries[-2:]
    text = cli("history", app.family, "--limit", "3").out.splitlines()
    assert text[0].split() == ["TIME", "USER", "COMMAND", "CONTAINER", "IMAGE", "OUTCOME"]
    assert "rolled-back" in text[3] and "rolled-back: dcv_" in text[-1]  # the reason, under the table


def test_stable_show_json(past, cli) -> None:
    app, _, c1, _, _ = past
    assert json.loads(cli("stable", "show", app.family, "--json").out) == {
        "image": app.family, "stable": c1, "exists": True, "state": "exited",
    }  # fmt: skip


def snapshot(cli, family: str) -> tuple:  # type: ignore[no-untyped-def]
    """The family's containers and images, and the state files: only what this
    test made (other test runs may share the engine)."""
    containers = docker("ps", "--all", "--no-trunc", "--filter", f"label=dockervisor.image={family}",
                        "--format", "{{.ID}} {{.Names}} {{.State}} {{.Image}}").stdout  # fmt: skip
    images = docker("images", "--all", "--no-trunc", "--filter", f"reference={family}",
                    "--format", "{{.ID}} {{.Repository}}:{{.Tag}}").stdout  # fmt: skip
    files = {
        str(path.relative_to(cli.home)): path.read_bytes()
        for path in sorted(cli.home.rglob("*"))
        if path.is_file()
    }
    return sorted(containers.splitlines()), sorted(images.splitlines()), files


def test_dry_run_prints_only_docker_commands_and_changes_nothing(past, cli) -> None:
    app, _, c1, _, c3 = past
    before = snapshot(cli, app.family)
    runs = {
        "start new": cli("start", "new", app.family, "--dry-run"),
        "start stable": cli("start", "stable", app.family, "--dry-run"),
        "stop": cli("stop", app.family, "--dry-run"),
        "build": cli("build", app.family, str(app.dir), "--dry-run"),
        "stable": cli("stable", "mark", app.family, "--dry-run"),
        "start last": cli("start", "last", app.family, "--dry-run"),
        "start CONTAINER": cli("start", c1, "--dry-run"),
        "start new --snapshot": cli("start", "new", app.family, "--snapshot", "--dry-run"),
        "prune": cli("prune", app.family, "--keep", "0", "--dry-run"),
        "rm": cli("rm", c3, "--dry-run"),
    }
    assert snapshot(cli, app.family) == before
    for verb, result in runs.items():
        for line in result.out.splitlines():
            if verb in ("prune", "rm") and not line.startswith("docker "):
                continue  # their report of what would go, checked below
            argv = shlex.split(line)
            assert argv[0] == "docker", (verb, line)
    for verb in ("prune", "rm"):
        assert [line for line in runs[verb].out.splitlines() if line.startswith("docker rm ")], verb
    assert "would remove" in runs["prune"].out
    assert any(shlex.split(line)[:2] == ["docker", "cp"] for line in runs["start new --snapshot"].out.splitlines())
    assert runs["start last"].out == ""  # c2, the last, runs already: nothing to do
    assert [shlex.split(line)[:2] for line in runs["start CONTAINER"].out.splitlines()] == [
        ["docker", "stop"], ["docker", "start"]]  # fmt: skip
    assert [shlex.split(line)[:2] for line in runs["start new"].out.splitlines()] == [
        ["docker", "stop"], ["docker", "run"],
    ]  # fmt: skip
    assert [shlex.split(line)[:2] for line in runs["start stable"].out.splitlines()] == [
        ["docker", "stop"], ["docker", "start"],
    ]  # fmt: skip
    assert runs["stop"].out.startswith("docker stop ")
    assert shlex.split(runs["build"].out) == [
        "docker", "build", "-t", f"{app.family}:latest", "--label", f"dockervisor.built={app.family}",
        str(app.dir),
    ]  # fmt: skip
    assert runs["stable"].out == ""


def test_status_columns_tell_containers_apart_without_the_family_prefix(past, cli) -> None:
    app, port, c1, c2, _ = past
    lines = cli("status", app.family, env={"COLUMNS": "500"}).out.splitlines()
    family, state, container, image, ports, last, stable = cells(lines[1])
    prefix = f"dcv_{app.family}_"
    assert family == app.family
    assert re.fullmatch(r"running \d+[smhd]", state), state  # and how long
    assert container == c2.removeprefix(prefix) and re.fullmatch(r"\d{14}", container)
    assert image == f"{inspect(c2)['Image'].split(':')[1][:8]} untagged"  # v3 holds the tag
    assert ports == f"{port}->8080"
    assert last == "running"  # the last container is the one that runs
    assert stable == c1.removeprefix(prefix)


def test_list_containers_columns(past, cli) -> None:
    app, _, c1, c2, c3 = past
    lines = cli("list", "containers", app.family, env={"COLUMNS": "500"}).out.splitlines()
    rows = {cells(line)[0]: cells(line)[1:] for line in lines[1:]}
    assert list(rows) == [c3, c2, c1]  # full names: these are what `start NAME` takes
    for name, (image, created, state, marks, digest) in rows.items():
        assert image == inspect(name)["Image"].split(":")[1][:12]
        assert ISO_UTC.fullmatch(created)
        assert state == inspect(name)["State"]["Status"]
        assert digest == "-"  # built here: no registry digest (test_updates.py shows one)
    assert [row[3] for row in rows.values()] == ["-", "running,last", "stable"]


def test_a_dry_run_takes_no_lock_and_never_waits(past, cli, tmp_path) -> None:
    """Another run holds the family: every dry run still answers at once."""
    app, _, c1, _, _ = past
    dry_runs = [
        ["build", app.family, str(app.dir)], ["start", "new", app.family], ["start", "last", app.family],
        ["start", "stable", app.family], ["start", c1], ["stop", app.family], ["stable", app.family],
    ]  # fmt: skip
    history = cli.history(app.family)
    with holding_lock(cli.state_dir / "locks" / f"{app.family}.lock"):
        for argv in dry_runs:
            # A dry run that waited for the lock would give up after 5 s and exit 1, which
            # cli() takes as a failure: the outcome says it, no clock on a loaded machine.
            result = cli(*argv, "--dry-run", env={"DOCKERVISOR_LOCK_TIMEOUT": "5"})
            assert "waiting" not in result.err and "gave up" not in result.err, argv
    assert cli.history(app.family) == history  # and records nothing


def pasted(text: str, env: dict[str, str] | None = None) -> None:
    """Run what a dry run printed, as a person pasting it into a shell would."""
    done = subprocess.run(["sh", "-e", "-c", text], env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, f"{text}\n{done.stderr}"


def test_every_dry_run_command_does_what_it_says_when_pasted(project, cli, tmp_path) -> None:
    app = project("paste")
    (app.dir / "app.env").write_text("FROM_FILE=file value\n")
    (app.dir / "site files").mkdir()  # a word of `docker run` that needs quoting
    app.build(overrides={"ports": {str(free_port()): "8080"}, "env": {"FROM_DCV": "dcv value"},
                         "env_file": "app.env", "volumes": {"./site files": "/srv"}})  # fmt: skip
    c1 = cli("start", "new", app.family, *FAST).out.strip()
    cli("stable", app.family)
    c2 = cli("start", "new", app.family, *FAST).out.strip()

    # The values are not printed: `--env KEY` takes each from the pasting shell.
    dry = cli("start", "new", app.family, "--env", "TOKEN", "--dry-run", env={"TOKEN": "t0ken"})
    assert "t0ken" not in dry.out and "dcv value" not in dry.out and "file value" not in dry.out
    pasted(dry.out, {"TOKEN": "t0ken", "FROM_DCV": "dcv value", "FROM_FILE": "file value"})
    (new,) = running_names(app.family)
    assert new not in (c1, c2)
    env = dict(line.split("=", 1) for line in inspect(new)["Config"]["Env"])
    assert (env["TOKEN"], env["FROM_DCV"], env["FROM_FILE"]) == ("t0ken", "dcv value", "file value")
    assert {m["Destination"]: m["Source"] for m in inspect(new)["Mounts"]}["/srv"] == str(app.dir / "site files")
    assert cli("stable", app.family, "--dry-run").out == ""  # the state only: nothing to paste

    for argv, running_after in (
        (["start", "stable", app.family], [c1]),
        (["start", "last", app.family], [c2]),  # the pasted commands recorded nothing: c2 is last
        (["start", c1], [c1]),
        (["stop", app.family], []),
    ):
        pasted(cli(*argv, "--dry-run").out)
        assert running_names(app.family) == running_after, argv

    # A build context that needs quoting, and a build that has something to do.
    spaced = tmp_path / "a context dir"
    shutil.copytree(app.dir, spaced)
    (spaced / "Dockerfile").write_text((spaced / "Dockerfile").read_text().replace("v1", "v9"))
    before = inspect(f"{app.family}:latest")["Id"]
    pasted(cli("build", app.family, str(spaced), "--dry-run").out)
    assert inspect(f"{app.family}:latest")["Id"] != before


def test_status_of_several_families_and_a_port_bound_to_one_address(project, cli) -> None:
    """Issue 24: several IMAGENAMEs; a port bound to one address says which."""
    local, everywhere = free_port(), free_port()
    one, two = project("statusone"), project("statustwo")
    one.build(overrides={"ports": {f"127.0.0.1:{local}": "8080"}})
    two.build(overrides={"ports": {str(everywhere): "8080"}})
    for app in (one, two):
        cli("start", "new", app.family, *FAST)
    document = json.loads(cli("status", two.family, one.family, "--json").out)
    assert [f["image"] for f in document["families"]] == sorted([one.family, two.family])
    ports = {f["image"]: f["ports"] for f in document["families"]}
    assert ports[one.family] == [{"address": "127.0.0.1", "host": local, "container": 8080, "protocol": "tcp"}]
    assert ports[two.family] == [{"address": None, "host": everywhere, "container": 8080, "protocol": "tcp"}]
    table = cli("status", one.family, two.family, "--wide").out
    assert f"127.0.0.1:{local}->8080" in table and f" {everywhere}->8080" in table
    unknown = cli("status", one.family, "dcvt-nosuchfamily", expect=1)
    assert "unknown image family 'dcvt-nosuchfamily'" in unknown.err and unknown.out == ""
    listed = json.loads(cli("list", "containers", one.family, two.family, "--json").out)["families"]
    assert [(f["image"], len(f["containers"])) for f in listed] == [(one.family, 1), (two.family, 1)]
    assert "usage" in cli("list", "images", one.family, two.family, expect=2).err
