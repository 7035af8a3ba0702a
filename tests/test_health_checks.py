"""Issue 21: health checks the admin defines, for images without a
HEALTHCHECK: `healthcheck` in dcv-IMAGENAME (docker runs it) and `probe`
(dockervisor asks from the host). Both decide whether a start is up."""

from __future__ import annotations

import json

from support import free_port, inspect, running_names

WGET = "wget -q -O /dev/null http://127.0.0.1:8080/"


def test_a_health_check_of_the_run_configuration_reaches_docker_and_gates_the_start(project, cli) -> None:
    app = project("healthkey")
    check = {"test": ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"], "interval": "1s",
             "timeout": "2s", "retries": 2}  # fmt: skip
    app.write({"healthcheck": check}, volumes=(), expose=())  # checked inside: no host port
    cli("build", app.family, str(app.dir))
    good = cli("start", "new", app.family, "--settle", "1").out.strip()
    health = inspect(good)["Config"]["Healthcheck"]
    assert health["Test"] == ["CMD-SHELL", WGET] and health["Retries"] == 2
    assert (health["Interval"], health["Timeout"]) == (1_000_000_000, 2_000_000_000)
    assert inspect(good)["State"]["Health"]["Status"] == "healthy"
    shown = json.loads(cli("config", app.family, "--json").out)["healthcheck"]
    assert shown["test"] == ["CMD-SHELL", WGET]
    # the same check against a page that is not there: unhealthy, rolled back
    broken = {**check, "test": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/missing"]}
    app.write({"healthcheck": broken}, volumes=(), expose=(), content="v2")
    cli("build", app.family, str(app.dir))
    failed = cli("start", "new", app.family, "--settle", "1", "--wait", "30", expect=3)
    assert "unhealthy" in failed.err and running_names(app.family) == [good]


def test_none_turns_the_images_own_health_check_off(project, cli) -> None:
    app = project("healthnone")
    app.write({"healthcheck": {"test": ["NONE"]}}, volumes=(), expose=(), healthcheck="--interval=1s CMD exit 1")
    cli("build", app.family, str(app.dir))
    started = cli("start", "new", app.family, "--settle", "1").out.strip()  # the image's check would fail it
    assert inspect(started)["Config"]["Healthcheck"]["Test"] == ["NONE"]


def test_a_probe_that_answers_200_passes_and_one_that_answers_404_rolls_back(project, cli) -> None:
    app = project("probe")
    port = free_port()
    app.write({"ports": {str(port): "8080"}, "probe": f"http://127.0.0.1:{port}/"}, volumes=())
    cli("build", app.family, str(app.dir))
    good = cli("start", "new", app.family, "--settle", "1")
    assert f"probe http://127.0.0.1:{port}/: answers" in good.err
    app.write({"ports": {str(port): "8080"}, "probe": f"http://127.0.0.1:{port}/missing"}, volumes=(), content="v2")
    cli("build", app.family, str(app.dir))
    failed = cli("start", "new", app.family, "--settle", "1", "--wait", "4", expect=3)
    assert "it answered 404" in failed.err and running_names(app.family) == [good.out.strip()]


def test_a_tcp_probe_on_a_port_nothing_serves_rolls_back(project, cli) -> None:
    app = project("probetcp")
    port, closed = free_port(), free_port()
    app.write({"ports": {str(port): "8080"}}, volumes=())
    cli("build", app.family, str(app.dir))
    good = cli("start", "new", app.family, "--settle", "0.5").out.strip()
    app.write({"ports": {str(port): "8080"}, "probe": f"tcp://127.0.0.1:{closed}"}, volumes=(), content="v2")
    cli("build", app.family, str(app.dir))
    failed = cli("start", "new", app.family, "--settle", "0.5", "--wait", "3", expect=3)
    assert "no TCP connection" in failed.err and running_names(app.family) == [good]
