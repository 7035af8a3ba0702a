"""Issue 24 on the engine: the rest of docker run's options, observed in the
running container or in what docker reports of it."""

from __future__ import annotations

import json
import time

from support import docker, inspect, running_names, wait_for

FAST = ("--settle", "0.3")
SLEEP = "exec sleep 100000"


def in_container(name: str, script: str, check: bool = True):  # type: ignore[no-untyped-def]
    return docker("exec", name, "sh", "-c", script, check=check)


def started(project, cli, tag: str, overrides: dict, **dockerfile):  # type: ignore[no-untyped-def]
    app = project(tag)
    app.build(overrides=overrides, **{"cmd": SLEEP, "expose": (), **dockerfile})
    return app, cli("start", "new", app.family, *FAST).out.strip()


def test_a_read_only_root_with_a_tmpfs_it_can_write_to(project, cli) -> None:
    _, name = started(project, cli, "readonly", {"read_only": True, "tmpfs": ["/scratch:size=1m"]}, volumes=())
    refused = in_container(name, "touch /written", check=False)
    assert refused.returncode != 0 and "Read-only file system" in refused.stderr
    assert in_container(name, "touch /scratch/written && echo ok").stdout == "ok\n"
    assert inspect(name)["HostConfig"]["ReadonlyRootfs"] is True


def test_a_dropped_capability_is_refused_inside(project, cli) -> None:
    _, kept = started(project, cli, "capkept", {}, volumes=())
    assert in_container(kept, "chown 1:1 /www/index.html && echo ok").stdout == "ok\n"  # root may, by default
    _, dropped = started(project, cli, "capdrop", {"cap_drop": ["CHOWN"]}, volumes=())
    refused = in_container(dropped, "chown 1:1 /www/index.html", check=False)
    assert refused.returncode != 0 and "Operation not permitted" in refused.stderr
    assert inspect(dropped)["HostConfig"]["CapDrop"] in (["CHOWN"], ["CAP_CHOWN"])  # as the engine writes it


def test_restart_no_leaves_a_crashed_container_exited(project, cli) -> None:
    app, name = started(project, cli, "restartno", {"restart": "no"}, cmd="sleep 2; exit 1", volumes=())
    wait_for(lambda: inspect(name)["State"]["Status"] == "exited", 60, "the container to crash")
    time.sleep(3)  # unless-stopped would have restarted it by now: docker restarts at once, then backs off
    state = inspect(name)
    assert (state["State"]["Status"], state["RestartCount"]) == ("exited", 0)
    assert state["HostConfig"]["RestartPolicy"]["Name"] == "no"
    assert running_names(app.family) == []


def test_a_ulimit_and_a_working_directory_inside(project, cli) -> None:
    overrides = {"ulimits": {"nofile": {"soft": 1024, "hard": 2048}}, "working_dir": "/www"}
    _, name = started(project, cli, "ulimit", overrides, volumes=())
    # The service's own (PID 1's): docker exec gives its processes limits of their own.
    limits = in_container(name, "grep 'open files' /proc/1/limits; readlink /proc/1/cwd").stdout.split()
    assert limits[-4:] == ["1024", "2048", "files", "/www"], limits


def test_a_custom_entrypoint_replaces_the_images_and_its_command(project, cli) -> None:
    entry = ["sh", "-c", "echo from-entrypoint > /www/said; exec sleep 100000"]
    _, name = started(project, cli, "entry", {"entrypoint": entry}, volumes=())
    assert in_container(name, "cat /www/said").stdout == "from-entrypoint\n"
    config = inspect(name)["Config"]
    assert (config["Entrypoint"], config["Cmd"]) == (["sh"], entry[1:])


def test_stop_timeout_is_what_docker_stop_waits(project, cli) -> None:
    """A service that ignores SIGTERM is killed once its own stop time is up:
    the engine's events say how long after the TERM the KILL came."""
    app, name = started(project, cli, "stoptime", {"stop_timeout": 2}, cmd="trap '' TERM; while :; do sleep 1; done",
                        volumes=(), stopsignal=None)  # fmt: skip
    assert inspect(name)["Config"]["StopTimeout"] == 2
    since = time.time()
    cli("stop", app.family)
    events = docker("events", "--since", f"{since:.3f}", "--until", f"{time.time() + 1:.3f}", "--filter",
                    f"container={name}", "--filter", "event=kill", "--format", "{{json .}}").stdout  # fmt: skip
    kills = {json.loads(line)["Actor"]["Attributes"]["signal"]: int(json.loads(line)["timeNano"])
             for line in events.splitlines()}  # fmt: skip
    waited = (kills["9"] - kills["15"]) / 1e9
    # docker's own default is 10 s: anything from 2 s to well under 10 s is the family's 2 s.
    assert 1.5 <= waited < 8, kills
    assert inspect(name)["State"]["ExitCode"] == 137


def test_config_shows_every_setting_in_effect_defaults_included(project, cli) -> None:
    plain = project("cfgdefaults")
    plain.build(overrides=None, cmd=SLEEP, expose=())
    text = cli("config", plain.family).out
    assert "restarts unless-stopped" in text and "prune keeps 5 stopped containers" in text
    assert "takes no snapshot" in text and "logs with json-file" in text
    shown = json.loads(cli("config", plain.family, "--json").out)
    assert (shown["restart"], shown["keep"], shown["snapshot"], shown["snapshots_keep"]) == ("unless-stopped", 5, False, 3)
    assert shown["log"] == {"driver": "json-file", "max-size": "10m", "max-file": "3"}
    set_up = project("cfgset")
    set_up.build(overrides={"restart": "no", "keep": "all", "snapshot": True, "read_only": True}, cmd=SLEEP, expose=())
    shown = json.loads(cli("config", set_up.family, "--json").out)
    assert (shown["restart"], shown["keep"], shown["snapshot"], shown["read_only"]) == ("no", "all", True, True)
    assert "restarts no" in cli("config", set_up.family).out


def test_a_compose_service_converts_to_a_family_docker_runs_the_same(project, cli, tmp_path) -> None:
    """The keys both know, as docker inspect shows them on the container."""
    from support import free_port

    port = free_port()
    app = project("compose")
    service = {
        "image": "ignored:1", "ports": [f"127.0.0.1:{port}:8080"], "volumes": [f"{app.family}_data:/data"],
        "environment": ["MODE=compose"], "mem_limit": "64m", "cpus": "0.5", "read_only": True,
        "tmpfs": ["/scratch"], "cap_drop": ["CHOWN"], "restart": "on-failure:3", "stop_signal": "SIGQUIT",
        "stop_grace_period": "20s", "working_dir": "/www", "ulimits": {"nofile": 2048}, "pids_limit": 100,
        "dns": ["10.0.0.2"], "hostname": "web-1", "labels": {"com.example.team": "web"},
        "command": ["sh", "-c", "exec httpd -f -p 8080 -h /www"], "deploy": {"replicas": 2},
    }  # fmt: skip
    compose = tmp_path / "compose.json"
    compose.write_text(json.dumps({"services": {"web": service}}))
    refused = cli("config", app.family, "--from-compose", str(compose), "--service", "web", expect=1)
    assert "deploy: not carried over" in refused.err and "nothing was written" in refused.err and refused.out == ""
    app.write(None, cmd=SLEEP, expose=(), volumes=())
    dcv = app.dir / f"dcv-{app.family}"
    written = cli("config", app.family, "--from-compose", str(compose), "--service", "web", "--partial", "-o", str(dcv))
    assert "image: left out" in written.err and "deploy: not carried over" in written.err
    assert "exists; dockervisor will not overwrite it" in cli(
        "config", app.family, "--from-compose", str(compose), "--service", "web", "--partial", "-o", str(dcv),
        expect=1).err  # fmt: skip
    cli("build", app.family, str(app.dir))
    name = cli("start", "new", app.family, *FAST).out.strip()
    document = inspect(name)
    host, config = document["HostConfig"], document["Config"]
    assert host["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    assert [m["Name"] for m in document["Mounts"] if m["Type"] == "volume"] == [f"{app.family}_data"]
    assert "MODE=compose" in config["Env"]
    assert (host["Memory"], host["NanoCpus"], host["ReadonlyRootfs"]) == (64 * 1024 * 1024, 500_000_000, True)
    assert host["Tmpfs"] == {"/scratch": ""} and host["CapDrop"] in (["CHOWN"], ["CAP_CHOWN"])
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert (config["StopSignal"], config["StopTimeout"], config["WorkingDir"]) == ("SIGQUIT", 20, "/www")
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 2048, "Hard": 2048}] and host["PidsLimit"] == 100
    assert (host["Dns"], config["Hostname"], config["Labels"]["com.example.team"]) == (["10.0.0.2"], "web-1", "web")
    assert config["Cmd"] == service["command"]
