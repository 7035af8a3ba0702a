"""Issue 18: a restart loop never reads as healthy.

A container that serves a moment and exits, under docker's restart policy,
is `running` most of the time it is sampled. Once docker has restarted it
since it was last started, `status` says `restarting` and is not ok (exit 5),
in the seconds it runs between two crashes too.
"""

from __future__ import annotations

import json
import time

from support import inspect, wait_for

CRASHES = "sleep 1; exit 1"


def test_a_crash_loop_is_never_ok_however_often_status_looks(project, cli) -> None:
    app = project("crashloop")
    app.build(cmd=CRASHES, expose=())
    container = cli("start", "new", app.family, "--no-wait").out.strip()
    wait_for(lambda: inspect(container)["RestartCount"] >= 1, deadline=60, what="docker's first restart")
    seen = set()
    for _ in range(10):  # ten samples over 15 s: running between crashes, restarting, backing off
        result = cli("status", app.family, "--json", expect=None)
        document = json.loads(result.out)
        (report,) = document["families"]
        assert result.code == 5, result
        assert document["ok"] is False and report["ok"] is False, report
        assert report["restarts"] >= 1 or report["state"] != "running", report
        seen.add(report["state"])
        table = cli("status", app.family, expect=5).out
        assert "restarting" in table or "exited" in table, table
        time.sleep(1.5)
    assert "restarting" in seen, seen


def test_a_container_docker_never_restarted_is_running_and_ok(project, cli) -> None:
    app = project("restartok")
    app.build(cmd="exec sleep 100000", expose=())
    container = cli("start", "new", app.family, "--settle", "0.2").out.strip()
    report = json.loads(cli("status", app.family, "--json").out)["families"][0]
    assert (report["state"], report["restarts"], report["ok"]) == ("running", 0, True)
    assert inspect(container)["RestartCount"] == 0
