"""Following a registry: `update`, `check`, digests, the update policy and
`timer`, against the registry of the run's own (tests/registry.sh; see
test_registry.py). Each test pushes under a repository named after its own
family and untags what it pushed afterwards."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess

import pytest

from support import REGISTRY, docker, free_port, http_get, inspect
from test_registry import FAST, overrides

pytestmark = pytest.mark.never_skipped_in_ci


def push(app, made: list[str], tag: str, content: str, **dockerfile) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """What CI does: build, push REGISTRY/FAMILY:TAG, untag it here; (reference, registry digest)."""
    ref = f"{REGISTRY}/{app.family}:{tag}"
    made.append(ref)
    app.write(overrides=None, content=content, **dockerfile)
    docker("build", "-q", "-t", ref, str(app.dir))
    docker("push", "-q", ref)
    digest = [d for d in inspect(ref)["RepoDigests"] if d.startswith(f"{REGISTRY}/{app.family}@")][0]
    made.append(digest)
    docker("rmi", ref)
    return ref, digest.partition("@")[2]


def following(app, cli, made, tmp_path, content="one", tag="1.0", policy=None):  # type: ignore[no-untyped-def]
    """A family pulled from the registry and started; (reference, port)."""
    ref, _ = push(app, made, tag, content)
    port = free_port()
    ops = overrides(tmp_path, port)
    if policy is not None:
        ops.write_text(json.dumps({**json.loads(ops.read_text()), "update": policy}))
    cli("pull", app.family, ref, "--overrides", str(ops))
    cli("start", "new", app.family, *FAST)
    assert http_get(port) == f"{content}\n"
    return ref, port


def containers(cli, family: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return json.loads(cli("list", "containers", family, "--json").out)["containers"]


def checked(cli, family: str) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(cli("check", family, "--json").out)["families"][0]


def test_update_with_nothing_new_changes_nothing_then_takes_a_push_that_check_saw_first(project, cli, registry, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = project("updnew")
    ref, port = following(app, cli, registry, tmp_path)
    first = containers(cli, app.family)
    assert checked(cli, app.family)["status"] == "up-to-date"

    same = cli("update", app.family, *FAST, "--json")
    document = json.loads(same.out)
    assert document["outcome"] == "no-op" and document["exit_code"] == 0, document
    assert document["family"] == app.family and "as the registry has it" in document["reason"], document
    assert containers(cli, app.family) == first  # no new container
    assert [e["action"] for e in cli.history(app.family)] == ["pull", "start new"]  # nothing to record

    _, second = push(app, registry, "1.0", "two")  # CI moves the tag
    found = checked(cli, app.family)
    assert (found["status"], found["update_available"], found["digest"]) == ("available", True, second), found
    # check changed nothing: no pull, no container, the family's image as it was
    assert len(cli.history(app.family)) == 2 and containers(cli, app.family) == first
    assert http_get(port) == "one\n"

    cli("update", app.family, *FAST)
    assert http_get(port) == "two\n"
    now = containers(cli, app.family)
    assert len(now) == 2 and now[0]["running"] and now[0]["digest"] == f"{REGISTRY}/{app.family}@{second}"
    assert [e["action"] for e in cli.history(app.family)][-2:] == ["pull", "start new"]
    assert json.loads(cli("config", app.family, "--json").out)["source"]["digest"] == second
    assert checked(cli, app.family)["status"] == "up-to-date"
    status = json.loads(cli("status", app.family, "--json").out)["families"][0]
    assert status["image_digests"] == [f"{REGISTRY}/{app.family}@{second}"]


def test_a_broken_push_is_rolled_back_with_exit_3_and_the_outcome_says_so(project, cli, registry, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = project("updbroken")
    _, port = following(app, cli, registry, tmp_path)
    push(app, registry, "1.0", "broken", cmd="exit 1")
    failed = cli("update", app.family, *FAST, "--json", expect=3)
    document = json.loads(failed.out)
    assert document["outcome"] == "rolled-back" and document["exit_code"] == 3, document
    assert [c["action"] for c in document["changes"]] == ["pull", "start new"]
    assert http_get(port) == "one\n"  # the old container serves again
    assert cli.history(app.family)[-1]["outcome"] == "rolled-back"

    # The next run does not try that digest again: each try would stop the service.
    serving = [c["name"] for c in containers(cli, app.family) if c["running"]]
    started_at = inspect(serving[0])["State"]["StartedAt"]
    found = checked(cli, app.family)
    assert found["status"] == "held-back" and "rolled back" in found["reason"], found
    again = cli("update", app.family, *FAST)
    assert "rolled back" in again.err and inspect(serving[0])["State"]["StartedAt"] == started_at, again
    push(app, registry, "1.0", "fixed")  # the tag moves on: taken
    cli("update", app.family, *FAST)
    assert http_get(port) == "fixed\n"


def test_start_stable_runs_the_marked_digest_after_the_tag_moved_twice(project, cli, registry, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = project("updstable")
    _, port = following(app, cli, registry, tmp_path)
    marked = containers(cli, app.family)[0]
    cli("stable", app.family)
    assert cli.history(app.family)[-1]["digest"] == marked["digest"] and marked["digest"]
    for content in ("two", "three"):
        push(app, registry, "1.0", content)
        cli("update", app.family, *FAST)
        assert http_get(port) == f"{content}\n"
    cli("start", "stable", app.family, *FAST)
    assert http_get(port) == "one\n"
    running = [c for c in containers(cli, app.family) if c["running"]]
    assert [(c["name"], c["digest"]) for c in running] == [(marked["name"], marked["digest"])]


def test_a_cooldown_holds_back_a_fresh_push_until_its_digest_is_old_enough(project, cli, registry, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = project("updcool")
    _, port = following(app, cli, registry, tmp_path, policy={"cooldown": "1h"})
    _, second = push(app, registry, "1.0", "two")
    found = checked(cli, app.family)
    assert found["status"] == "held-back" and "cooldown" in found["reason"], found
    held = cli("update", app.family, *FAST)
    assert "cooldown" in held.err and http_get(port) == "one\n"
    assert len(containers(cli, app.family)) == 1

    # An hour later, as far as the clock of first sightings goes.
    seen = cli.state_dir / "seen" / f"{app.family}.json"
    document = json.loads(seen.read_text())
    assert set(document["seen"]) == {second}
    document["seen"][second] -= 3601
    seen.write_text(json.dumps(document))
    cli("update", app.family, *FAST)
    assert http_get(port) == "two\n"


def test_a_patch_policy_takes_a_patch_release_and_holds_back_a_minor_one(project, cli, registry, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = project("updsemver")
    _, port = following(app, cli, registry, tmp_path, tag="1.4.0", policy={"allow": "patch"})
    push(app, registry, "1.5.0", "minor")
    push(app, registry, "1.4.1", "patch")
    found = checked(cli, app.family)
    assert found["target"] == f"{REGISTRY}/{app.family}:1.4.1" and found["held_back_tags"] == ["1.5.0"], found
    assert found["status"] == "available"
    cli("update", app.family, *FAST)
    assert http_get(port) == "patch\n"
    source = json.loads(cli("config", app.family, "--json").out)["source"]
    assert source["reference"] == f"{REGISTRY}/{app.family}:1.4.1"
    found = checked(cli, app.family)
    assert (found["status"], found["held_back_tags"]) == ("up-to-date", ["1.5.0"]), found


def test_an_unreachable_registry_fails_that_family_in_one_line_and_the_next_one_is_still_updated(project, cli, registry, tmp_path) -> None:  # type: ignore[no-untyped-def]
    gone, good = project("updgone"), project("updgood")
    (tmp_path / "gone").mkdir()
    (tmp_path / "good").mkdir()
    following(gone, cli, registry, tmp_path / "gone")
    _, port = following(good, cli, registry, tmp_path / "good")
    # The first family now follows a registry nobody answers at.
    state_file = cli.state_dir / "families" / f"{gone.family}.json"
    recorded = json.loads(state_file.read_text())
    recorded["build"]["reference"] = f"127.0.0.1:{free_port()}/{gone.family}:1.0"
    state_file.write_text(json.dumps(recorded))
    push(good, registry, "1.0", "two")
    listed = json.loads(cli("check", gone.family, good.family, "--json", expect=1).out)["families"]
    assert [(f["image"], f["status"]) for f in listed] == [(gone.family, "unknown"), (good.family, "available")]
    assert "did not answer" in listed[0]["reason"]
    before = cli.history(gone.family)
    result = cli("update", gone.family, good.family, *FAST, "--json", expect=1)
    errors = [line for line in result.err.splitlines() if line.startswith("dockervisor: error:")]
    assert len(errors) == 1 and gone.family in errors[0] and "did not answer" in errors[0], result
    assert http_get(port) == "two\n"
    assert cli.history(gone.family) == before  # nothing recorded for it: nothing changed
    families = {c["family"]: c["outcome"] for c in json.loads(result.out)["changes"]}
    assert families == {gone.family: "failed", good.family: "ok"}, result.out


def test_update_build_rebuilds_and_starts_only_what_changed(project, cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = project("updbuild")
    port = free_port()
    app.write(overrides={"ports": {f"127.0.0.1:{port}": "8080"}}, content="one")
    cli("build", app.family, str(app.dir))
    cli("start", "new", app.family, *FAST)
    cli("update", app.family, "--build", str(app.dir), *FAST)
    assert cli.history(app.family)[-1]["outcome"] == "no-op" and len(containers(cli, app.family)) == 1
    app.write(content="two")
    cli("update", app.family, "--build", str(app.dir), *FAST)
    assert http_get(port) == "two\n" and len(containers(cli, app.family)) == 2
    refused = cli("update", app.family, expect=1)
    assert "was not pulled from a registry" in refused.err and "--build" in refused.err
    typo = cli("update", f"{app.family}x", "--build", str(app.dir), expect=1)  # builds no new family
    assert "unknown image family" in typo.err and not (cli.state_dir / "families" / f"{app.family}x.json").exists()
    cli("stop", app.family)
    app.write(content="three")
    stopped = cli("update", app.family, "--build", str(app.dir), *FAST)
    assert "none of its containers runs" in stopped.err, stopped
    assert not [c for c in containers(cli, app.family) if c["running"]]


def test_timer_install_writes_units_systemd_accepts_and_the_crontab_line_runs_under_env_i(project, cli, registry, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = project("updtimer")
    following(app, cli, registry, tmp_path)
    units = tmp_path / "units"
    installed = cli("timer", app.family, "--install", "--unit-dir", str(units), "--on-calendar", "daily")
    name = f"dockervisor-update-{app.family}"
    assert installed.out.split() == [str(units / f"{name}.service"), str(units / f"{name}.timer")]
    assert "enable --now" in installed.err
    service = (units / f"{name}.service").read_text()
    assert f"update {app.family}" in service and "OnCalendar=daily" in (units / f"{name}.timer").read_text()
    # Installing again replaces its own units; a unit it did not write is left alone.
    cli("timer", app.family, "--install", "--unit-dir", str(units))
    (units / f"{name}.timer").write_text("[Timer]\nOnCalendar=hourly\n")
    refused = cli("timer", app.family, "--install", "--unit-dir", str(units), expect=1)
    assert "not written by dockervisor" in refused.err
    assert (units / f"{name}.timer").read_text() == "[Timer]\nOnCalendar=hourly\n"
    (units / f"{name}.timer").unlink()

    printed = cli("timer", app.family, "--on-calendar", "04:30").out
    line = next(each for each in printed.splitlines() if each.startswith("30 4 * * * env -i "))
    words = shlex.split(line)[5:]
    assert not any(w.startswith("DOCKERVISOR_NOTIFY") for w in words)
    ran = subprocess.run(words, capture_output=True, text=True, timeout=120, env={})
    assert ran.returncode == 0, ran
    assert "nothing to do" in ran.stderr, ran  # it found the family's state and the registry
    refused = cli("timer", "nosuchfamily", expect=1)  # units that would fail every night are not written
    assert "unknown image family" in refused.err

    cli("timer", app.family, "--install", "--unit-dir", str(units), "--on-calendar", "daily")
    if not shutil.which("systemd-analyze"):  # in CI a skip fails the run: the units must be verified there
        pytest.skip("systemd-analyze is not installed, so the units cannot be verified here")
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(units / f"{name}.service"), str(units / f"{name}.timer")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert verified.returncode == 0 and name not in verified.stderr, verified


def test_dry_run_of_an_update_pulls_nothing_and_records_nothing(project, cli, registry, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = project("upddry")
    _, port = following(app, cli, registry, tmp_path)
    _, second = push(app, registry, "1.0", "two")
    before = (cli.history(app.family), inspect(f"{app.family}:latest")["Id"])
    shown = cli("update", app.family, "--dry-run", *FAST)
    assert f"docker pull {REGISTRY}/{app.family}@{second}" in shown.out, shown
    assert (cli.history(app.family), inspect(f"{app.family}:latest")["Id"]) == before
    assert not (cli.state_dir / "seen" / f"{app.family}.json").exists()
    assert http_get(port) == "one\n"


def test_a_stopped_family_is_pulled_and_stays_stopped(project, cli, registry, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = project("updstopped")
    following(app, cli, registry, tmp_path)
    cli("stop", app.family)
    _, second = push(app, registry, "1.0", "two")
    result = cli("update", app.family, *FAST)
    assert "none of its containers runs" in result.err, result
    assert not [c for c in containers(cli, app.family) if c["running"]]
    assert f"{REGISTRY}/{app.family}@{second}" in inspect(f"{app.family}:latest")["RepoDigests"]
    assert cli.history(app.family)[-1]["action"] == "pull"


def test_update_fails_at_every_docker_call_and_one_container_runs(project, cli, registry, base_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The fault-point test (test_fault_points.py): each docker call of an
    update that takes a new push fails in turn; before each run CI pushes
    new content under the tag, so every run has something to take."""
    from test_fault_points import SLEEP, Shim, run_every_fault_point

    app = project("updfaults")
    ref, _ = push(app, registry, "1.0", "first", cmd=SLEEP, expose=())
    cli("pull", app.family, ref)
    cli("start", "new", app.family, "--settle", "0.2")
    shim = Shim(tmp_path / "shim")
    pushed = iter(range(1000))

    def prepare() -> None:
        push(app, registry, "1.0", f"content{next(pushed)}", cmd=SLEEP, expose=())

    def check(before, after, result, where) -> None:  # type: ignore[no-untyped-def]
        assert len(after.running) == 1, where
        if result.code == 0:
            assert after.running != before.running and result.out.strip() == after.running[0], where
        else:
            assert after.running == before.running, where

    total = run_every_fault_point(cli, shim, app.family, base_image, ["update", app.family, "--settle", "0.2"],
                                  prepare, check)  # fmt: skip
    assert total >= 8  # the queries, the pull and tag, the start: a count this low means a step was skipped
