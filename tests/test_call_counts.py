"""How many docker commands each dockervisor command runs, and that the number
does not grow with the family. (Counts, unlike timings, do not vary between runs.)
A shim first on PATH logs each call and runs the real docker.

The engine's lock (two calls per change: create and remove its container) is
counted on its own; the other tests count what the commands themselves ask,
with DOCKERVISOR_ENGINE_LOCK=off. Knowing which engine, and where its state
is, costs no call."""

from __future__ import annotations

import shlex
import shutil

import pytest

from support import docker, free_port


@pytest.fixture
def counted(cli, tmp_path):  # type: ignore[no-untyped-def]
    shim_dir, log = tmp_path / "shim", tmp_path / "calls.log"
    shim_dir.mkdir()
    real = shutil.which("docker")
    (shim_dir / "docker").write_text(
        f'#!/bin/sh\necho "$1" >> {shlex.quote(str(log))}\nexec {shlex.quote(str(real))} "$@"\n'
    )
    (shim_dir / "docker").chmod(0o755)
    path = f"{shim_dir}:{cli.env['PATH']}"

    def count(*args: str, expect: int = 0, engine_lock: bool = False) -> list[str]:
        log.write_text("")
        cli(*args, expect=expect, env={"PATH": path, "DOCKERVISOR_ENGINE_LOCK": "on" if engine_lock else "off"})
        return log.read_text().split()

    return count


def test_each_command_makes_only_the_calls_it_needs(project, cli, counted) -> None:
    app = project("counts")
    app.write(overrides={"ports": {str(free_port()): "8080"}})
    assert counted("build", app.family, str(app.dir)) == ["build", "image"]
    # The family's ps and its image inspect run side by side, in either order.
    # With nothing beyond the family's retention, pruning costs no call.
    first = counted("start", "new", app.family, "--no-wait")
    assert sorted(first[:2]) == ["image", "ps"] and first[2:] == ["run"]
    second = counted("start", "new", app.family, "--no-wait")
    assert sorted(second[:2]) == ["image", "ps"] and second[2:] == ["stop", "run"]
    assert counted("stop", app.family) == ["ps", "stop"]
    assert counted("start", "last", app.family, "--no-wait") == ["ps", "start"]
    assert counted("start", "last", app.family, "--no-wait") == ["ps"]  # already running
    assert counted("stable", app.family) == ["ps", "container"]  # the container must be up
    assert counted("history", app.family) == []


def test_listings_cost_the_same_for_3_or_12_containers(project, cli, counted) -> None:
    app = project("crowd")
    app.build(overrides={"ports": {str(free_port()): "8080"}})
    cli("start", "new", app.family, "--no-wait")
    for _index in range(2):
        docker("create", "--label", f"dockervisor.image={app.family}", app.family)
    # Calls that run side by side are logged in either order: compare them sorted.
    few = {verb: sorted(counted(*verb.split(), app.family)) for verb in ("list images", "list containers", "status")}
    for _index in range(9):
        docker("create", "--label", f"dockervisor.image={app.family}", app.family)
    many = {verb: sorted(counted(*verb.split(), app.family)) for verb in few}
    assert few == many == {
        "list images": ["image", "image", "ps"],
        "list containers": ["image", "ps"],
        "status": ["container", "image", "ps"],
    }


def test_the_engines_lock_costs_two_calls_per_change(project, cli, counted) -> None:
    app = project("lockcount")
    app.build(overrides={"ports": {str(free_port()): "8080"}})
    # The first locked change imports the lock image if it is missing.
    cli("start", "new", app.family, "--no-wait", env={"DOCKERVISOR_ENGINE_LOCK": "on"})
    assert counted("stop", app.family, engine_lock=True) == ["container", "ps", "stop", "container"]
    assert counted("status", app.family, engine_lock=True, expect=5) == ["ps"]  # questions take no lock
