"""Issue 19: many admins, one engine. Two state directories (two
DOCKERVISOR_HOMEs, as two users' HOMEs would be) on the one engine: each acts
only on what it made, shows the rest, and takes a family over only on purpose.
"""

from __future__ import annotations

import json
import time

import pytest

from support import CLI, docker, docker_wrapper, holding_lock, running_names, wait_for

FAST = ("--settle", "0.2")
SLEEP = "exec sleep 100000"


@pytest.fixture
def shared(project, cli, installed, tmp_path):  # type: ignore[no-untyped-def]
    """Admin A's family: c1 (stable, stopped), c2 (last, running), c3 (stopped),
    a volume; and admin B, a state directory of its own on the same engine."""
    app = project("shared")
    app.build(cmd=SLEEP, expose=())
    c1 = cli("start", "new", app.family, *FAST).out.strip()
    cli("stable", app.family)
    c3 = cli("start", "new", app.family, *FAST).out.strip()
    c2 = cli("start", "new", app.family, *FAST).out.strip()
    other = CLI(installed, tmp_path / "home-b")
    yield app, other, (c1, c2, c3)
    other.end_background()


def all_names(family: str) -> set[str]:
    return set(docker("ps", "-a", "--filter", f"label=dockervisor.image={family}", "--format", "{{.Names}}").stdout.split())


def test_another_state_directory_touches_nothing_and_says_why(shared, cli) -> None:  # type: ignore[no-untyped-def]
    app, b, (c1, c2, c3) = shared
    family = app.family
    mine = json.loads((cli.state_dir / "id").read_text())["id"]
    assert {docker("inspect", "--format", '{{index .Config.Labels "dockervisor.owner"}}', c).stdout.strip()
            for c in (c1, c2, c3)} == {mine}  # fmt: skip
    before = (all_names(family), cli.state(family), cli.history(family))
    for args in (["prune", family, "--keep", "0"], ["rm", c3], ["rm", c1, "--force"], ["forget", family, "--volumes"],
                 ["stop", family], ["start", "last", family], ["start", c3], ["stable", "mark", family, c3]):  # fmt: skip
        refused = b(*args, expect=1)
        assert "not this state directory's" in refused.err or "not made by this state directory" in refused.err, refused
    assert "adopt" in refused.err  # says how to take it over
    # Without names, B's housekeeping and status cover B's families alone.
    assert family not in b("prune", "--keep", "0", "--dry-run").out + b("prune", "--keep", "0").out
    status = b("status", "--json")
    assert status.code == 0 and [f["image"] for f in json.loads(status.out)["families"]] == []
    everything = b("status", "--all", "--json")
    (theirs,) = [f for f in json.loads(everything.out)["families"] if f["image"] == family]
    assert everything.code == 0 and theirs["ours"] is False and theirs["running"] == [c2]
    assert family in b("status", "--all").out and "not ours" in b("status", "--all").out
    listed = json.loads(b("list", "--all", "--json").out)["families"]
    assert {"image": family, "containers": 3, "running": c2, "damaged": False, "ours": False} in listed
    assert family not in b("list").out
    # A's containers, marks and history are as they were.
    assert (all_names(family), cli.state(family), cli.history(family)) == before
    assert running_names(family) == [c2]
    assert cli("status", family).code == 0


def test_adopt_lets_another_state_directory_manage_the_family(shared, cli) -> None:  # type: ignore[no-untyped-def]
    app, b, (c1, c2, c3) = shared
    family = app.family
    adopted = b("adopt", family)
    assert set(adopted.out.split()) == {c1, c2, c3} and "marks are unknown here" in adopted.err
    assert b("adopt", family).out == ""  # a second time: nothing more to adopt
    state = json.loads((b.state_dir / "families" / f"{family}.json").read_text())
    assert state["schema"] == 3 and (state["last"], state["stable"]) == (None, None)
    assert state["adopted"] == [json.loads((cli.state_dir / "id").read_text())["id"]]  # A, not each container
    b("stable", "mark", family, c3, "--force")
    b("start", "stable", family, *FAST)
    assert running_names(family) == [c3] and b.state(family)["last"] == c3
    assert [(e["action"], e["outcome"]) for e in b.history(family)][:4] == [
        ("adopt", "ok"), ("adopt", "no-op"), ("stable mark", "ok"), ("start stable", "ok")
    ]
    # A still sees its own (the engine changed, its records did not).
    assert cli.state(family)["last"] == c2 and cli.state(family)["stable"] == c1
    # What A makes afterwards is shared too: B's next start stops it.
    c4 = cli("start", "new", family, *FAST).out.strip()
    assert b("start", "last", family, *FAST).out.strip() == c3 and running_names(family) == [c3]
    assert c4 in b("list", "containers", family).out


def test_a_hand_made_container_and_its_volume_survive_the_familys_housekeeping(project, cli, base_image) -> None:  # type: ignore[no-untyped-def]
    app = project("handmade")
    app.build(cmd=SLEEP, expose=())
    mine = cli("start", "new", app.family, *FAST).out.strip()
    cli("stop", app.family)
    # Made by hand after the state directory's ID (docker ps says whole seconds).
    since = json.loads((cli.state_dir / "id").read_text())["since"]
    wait_for(lambda: time.time() >= int(since) + 1, deadline=5, what="the next second")
    precious = f"{app.family}-precious"
    hand = f"dcv_{app.family}_byhand"
    docker("run", "-d", "--name", hand, "--label", f"dockervisor.image={app.family}", "-v", f"{precious}:/x",
           base_image, "sleep", "100000")  # fmt: skip
    try:
        docker("stop", hand)
        refused = cli("start", hand, *FAST, expect=1)
        assert "not made by this state directory" in refused.err and running_names(app.family) == []
        cli("prune", app.family, "--keep", "0")
        refused = cli("rm", hand, "--force", expect=1)
        assert "not made by this state directory" in refused.err
        cli("forget", app.family, "--volumes")
        assert hand in all_names(app.family) and mine not in all_names(app.family)
        assert docker("volume", "inspect", precious, check=False).returncode == 0
        assert docker("volume", "inspect", f"{app.family}_data", check=False).returncode != 0  # its own went
    finally:
        docker("rm", "-f", hand, check=False)
        docker("volume", "rm", "-f", precious, check=False)


def test_containers_of_an_older_version_stay_managed(project, cli, base_image) -> None:  # type: ignore[no-untyped-def]
    """Made before owners were labelled (no dockervisor.owner), in a state
    directory that knows the family: still its own after the upgrade."""
    app = project("olderversion")
    app.build(cmd=SLEEP, expose=())
    assert not (cli.home / "id").exists()
    older = f"dcv_{app.family}_20260101000000"
    docker("run", "-d", "--name", older, "--label", f"dockervisor.image={app.family}",
           "--restart", "unless-stopped", f"{app.family}:latest")  # fmt: skip
    newer = cli("start", "new", app.family, *FAST).out.strip()  # stops the older one: it is the family's
    assert running_names(app.family) == [newer]
    cli("prune", app.family, "--keep", "0")
    assert older not in all_names(app.family)


def test_forget_takes_the_engines_lock_like_every_change(project, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """forget took the family's local lock only, never the engine's (which
    ssh:// and tcp:// engines take by default): now it takes both."""
    app = project("forgetlock")
    app.build(cmd=SLEEP, expose=())
    cli("start", "new", app.family, *FAST)
    cli("stop", app.family)
    with holding_lock(cli.state_dir / "locks" / f"{app.family}.lock"):  # a dry run takes neither lock
        dry = cli("forget", app.family, "--dry-run", env={"DOCKERVISOR_LOCK_TIMEOUT": "5"})
        assert "waiting" not in dry.err
    log = tmp_path / "calls"
    env = docker_wrapper(tmp_path / "shim", f'echo "$*" >> {log}')
    cli("forget", app.family, env={**env, "DOCKERVISOR_ENGINE_LOCK": "on"})
    calls = log.read_text().splitlines()
    created = [i for i, c in enumerate(calls) if "create" in c.split()[:2] and f"dockervisor-lock-{app.family}" in c]
    removed = [i for i, c in enumerate(calls) if "rm" in c.split()[:2] and "dockervisor-lock" not in c]
    assert created and removed and created[0] < removed[0], calls  # held while the family's containers go
    assert docker("inspect", f"dockervisor-lock-{app.family}", check=False).returncode != 0  # and let go
