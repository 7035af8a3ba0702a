"""Issue 21: a probation window after the cutover, promotion once it has
passed, and a retention that never pushes out the way back."""

from __future__ import annotations

import json

from support import all_names, running_names

GOOD = "exec sleep 100000"
LATE_CRASH = "sleep 4; exit 1"  # up for the 1 s settle, gone within the 8 s probation


def test_a_crash_within_the_probation_rolls_back(project, cli) -> None:
    app = project("probation")
    app.build(cmd=GOOD, expose=(), content="v1")
    good = cli("start", "new", app.family, "--settle", "0.5").out.strip()
    app.build(cmd=LATE_CRASH, expose=(), content="v2")
    result = cli("start", "new", app.family, "--settle", "1", "--probation", "8s", "--json", expect=3)
    document = json.loads(result.out)
    assert (document["outcome"], document["container"]) == ("rolled-back", good)
    assert "came up, then failed its 8s probation" in document["reason"], document["reason"]
    assert running_names(app.family) == [good]
    assert cli.state(app.family)["last"] == good


def test_a_good_container_passes_and_is_promoted(project, cli) -> None:
    app = project("promote")
    app.build(cmd=GOOD, expose=())
    result = cli("start", "new", app.family, "--settle", "0.5", "--probation", "2", "--promote")
    started = result.out.strip()
    assert "passed its probation" in result.err
    assert cli.state(app.family)["stable"] == started == running_names(app.family)[0]
    assert cli.history(app.family)[-1]["message"] == "promoted to stable after its 2s probation"


def test_the_family_keys_and_the_command_line_that_turns_them_off(project, cli) -> None:
    app = project("probkeys")
    app.write({"probation": "2s", "promote": True}, cmd=GOOD, expose=())
    cli("build", app.family, str(app.dir))
    first = cli("start", "new", app.family, "--settle", "0.5")
    assert "probation" in first.err and cli.state(app.family)["stable"] == first.out.strip()
    second = cli("start", "new", app.family, "--settle", "0.5", "--probation", "0")
    assert "probation" not in second.err
    assert cli.state(app.family)["stable"] == second.out.strip()  # promote still on: after the wait


def test_probation_and_promote_apply_to_start_new_alone(project, cli) -> None:
    app = project("probusage")
    app.build(cmd=GOOD, expose=())
    assert "apply to `start new`" in cli("start", "last", app.family, "--probation", "5", expect=2).err
    assert "need the wait" in cli("start", "new", app.family, "--promote", "--no-wait", expect=2).err
    assert "not a duration" in cli("start", "new", app.family, "--probation", "5d", expect=2).err


def test_failed_starts_never_push_the_way_back_out(project, cli) -> None:
    """keep 1: two failed starts leave two newer stopped containers; the start
    that then succeeds prunes, and keeps the one that ran before it."""
    app = project("wayback")
    app.write({"keep": 1}, cmd=GOOD, expose=(), content="v1")
    cli("build", app.family, str(app.dir))
    good = cli("start", "new", app.family, "--settle", "0.5").out.strip()
    app.build(cmd="exit 1", expose=(), content="v2")
    for _ in range(2):
        cli("start", "new", app.family, "--settle", "0.5", expect=3)
    assert running_names(app.family) == [good] and len(all_names(app.family)) == 3
    app.build(cmd=GOOD, expose=(), content="v3")
    newest = cli("start", "new", app.family, "--settle", "0.5").out.strip()
    kept = all_names(app.family)
    assert good in kept and newest in kept and len(kept) == 3, kept  # the newest failed one is the 1 kept
