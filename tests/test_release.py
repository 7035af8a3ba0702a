"""Issue 22: the release step of `start new` (a migration run from the new
image before the switch) and `dockervisor run`, one-off containers in the
family's setting. What is asserted is what docker reports: which containers
exist and run, their start times, the order of their `die` events, and what
the one-offs wrote into the family's volume."""

from __future__ import annotations

import json
import signal
import time

import pytest

from support import docker, docker_wrapper, inspect, running_names, wait_for

FAST = ("--settle", "0.3")
SLEEP = "exec sleep 100000"
SECRET = "r3lease-Secret-77aa"
# What a release writes into the volume: the content of the image it runs from.
WHICH_IMAGE = "cat /www/index.html > /data/released-from"


def one_offs(family: str) -> list[str]:
    """Every one-off container of the family, running or not."""
    found = docker("ps", "-a", "--filter", f"label=dockervisor.oneoff={family}", "--format", "{{.Names}}")
    return found.stdout.split()


def wait_for_one_off(family: str) -> None:
    """Until a one-off of the family runs (a release step, `dockervisor run`)."""
    running = lambda: [n for n in one_offs(family) if inspect(n)["State"]["Running"]]  # noqa: E731
    wait_for(running, 60, f"a one-off container of {family} to run")


def no_one_off_left(family: str) -> None:
    """`--rm` removes it as it ends; dockervisor also removes it: polled, docker
    may still be finishing the removal it was asked for."""
    wait_for(lambda: one_offs(family) == [], 30, f"no one-off container of {family} left")


def volume_file(family: str, base: str, name: str) -> str:
    """A file of the family's /data volume, read by a container of the test's own."""
    return docker("run", "--rm", "--network", "none", "-v", f"{family}_data:/d:ro", base, "sh", "-c",
                  f"cat /d/{name} 2>/dev/null || echo MISSING").stdout.strip()  # fmt: skip


def serving(project, cli, tag: str, overrides: dict):  # type: ignore[no-untyped-def]
    """v1 of a family with a /data volume, running; v2 built with `overrides`."""
    app = project(tag)
    app.build(overrides={}, cmd=SLEEP, expose=(), content="v1")
    old = cli("start", "new", app.family, *FAST).out.strip()
    app.write(overrides, cmd=SLEEP, expose=(), content="v2")
    cli("build", app.family, str(app.dir))
    return app, old


def die_events(since: float, names: list[str]) -> dict[str, int]:
    """When each of `names` last died, in nanoseconds, as the engine tells it."""
    found = docker("events", "--since", f"{since:.3f}", "--until", f"{time.time() + 1:.3f}", "--filter",
                   "type=container", "--filter", "event=die", "--format", "{{json .}}").stdout  # fmt: skip
    died: dict[str, int] = {}
    for line in found.splitlines():
        event = json.loads(line)
        name = event["Actor"]["Attributes"].get("name")
        if name in names or any(name and name.startswith(n) for n in names):
            died[next(n for n in names if name.startswith(n))] = int(event["timeNano"])
    return died


def test_a_release_runs_from_the_new_image_while_the_old_container_serves(project, cli, base_image) -> None:
    since = time.time()
    app, old = serving(project, cli, "relok", {"release": ["sh", "-c", f"{WHICH_IMAGE}; echo migrated"]})
    result = cli("start", "new", app.family, *FAST)
    new = result.out.strip()
    assert running_names(app.family) == [new] and new != old
    assert volume_file(app.family, base_image, "released-from") == "v2"
    assert "| migrated" in result.err
    died = die_events(since, [f"dcv-release_{app.family}_", old])
    assert died[f"dcv-release_{app.family}_"] < died[old], died  # it had ended before the old one stopped
    release = cli.history(app.family)[-1]["release"]
    assert (release["outcome"], release["exit_code"], release["output"]) == ("ok", 0, ["migrated"])
    assert release["image_id"] == inspect(new)["Image"]
    no_one_off_left(app.family)


def test_a_failed_release_changes_nothing_else(project, cli, base_image) -> None:
    app, old = serving(project, cli, "relfail", {"release": ["sh", "-c", "echo step one; echo broken >&2; exit 7"]})
    started = inspect(old)["State"]["StartedAt"]
    result = cli("start", "new", app.family, *FAST, "--json", expect=3)
    document = json.loads(result.out)
    assert (document["outcome"], document["exit_code"], document["container"]) == ("release-failed", 3, old)
    # Its stdout and stderr both reach the record; docker does not keep their order between them.
    assert "exited with code 7 (its last line: " in document["reason"]
    assert running_names(app.family) == [old] and inspect(old)["State"]["StartedAt"] == started
    assert docker("ps", "-a", "--filter", f"label=dockervisor.image={app.family}", "--format",
                  "{{.Names}}").stdout.split() == [old]  # no new container  # fmt: skip
    entry = cli.history(app.family)[-1]
    assert entry["outcome"] == "release-failed" and entry["exit_code"] == 3
    assert entry["release"]["exit_code"] == 7 and sorted(entry["release"]["output"]) == ["broken", "step one"]
    assert cli.state(app.family)["last"] == old
    no_one_off_left(app.family)


def test_after_stop_a_failed_release_puts_the_data_and_the_old_container_back(project, cli, base_image) -> None:
    release = ["sh", "-c", "echo half-migrated > /data/token; exit 4"]
    app, old = serving(project, cli, "relafter", {"snapshot": True, "release": release, "release_when": "after-stop"})
    docker("exec", old, "sh", "-c", "echo old-data > /data/token")
    result = cli("start", "new", app.family, *FAST, expect=3)
    assert "exited with code 4" in result.err and "Rolled back" in result.err
    assert running_names(app.family) == [old] and result.out.strip() == old
    assert docker("exec", old, "cat", "/data/token").stdout.strip() == "old-data"
    assert cli.history(app.family)[-1]["outcome"] == "release-failed"
    no_one_off_left(app.family)


def test_after_stop_the_release_runs_once_the_old_container_has_stopped(project, cli, base_image) -> None:
    since = time.time()
    overrides = {"release": ["sh", "-c", WHICH_IMAGE], "release_when": "after-stop"}
    app, old = serving(project, cli, "relafterok", overrides)
    new = cli("start", "new", app.family, *FAST).out.strip()
    assert running_names(app.family) == [new] and volume_file(app.family, base_image, "released-from") == "v2"
    died = die_events(since, [f"dcv-release_{app.family}_", old])
    assert died[old] < died[f"dcv-release_{app.family}_"], died


def test_a_release_past_its_time_limit_is_stopped_and_fails(project, cli) -> None:
    app, old = serving(project, cli, "reltime", {"release": ["sleep", "600"], "release_timeout": "2s"})
    result = cli("start", "new", app.family, *FAST, expect=3)
    assert "did not finish within 2s and was stopped" in result.err
    assert running_names(app.family) == [old]
    assert cli.history(app.family)[-1]["release"]["outcome"] == "timed-out"
    no_one_off_left(app.family)


@pytest.mark.parametrize("when", ["before-stop", "after-stop"])
def test_sigterm_during_a_release_leaves_the_old_container_running(project, cli, when) -> None:
    """Before the stop nothing else has changed; after it, the rollback brings the old one back."""
    app, old = serving(project, cli, f"relterm{when[0]}", {"release": ["sleep", "600"], "release_when": when})
    run = cli.popen("start", "new", app.family, *FAST)
    wait_for_one_off(app.family)
    assert running_names(app.family) == ([old] if when == "before-stop" else [])
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 3, err
    assert ("interrupted by SIGTERM" if when == "before-stop" else "Rolled back") in err, err
    assert running_names(app.family) == [old] and out.strip() == old
    entry = cli.history(app.family)[-1]
    assert entry["release"]["outcome"] == "interrupted"
    assert entry["outcome"] == ("release-failed" if when == "before-stop" else "interrupted")
    no_one_off_left(app.family)


def test_kill_9_during_an_after_stop_release_is_repaired_by_the_next_command(project, cli) -> None:
    app, old = serving(project, cli, "relkill", {"release": ["sleep", "3"], "release_when": "after-stop"})
    run = cli.popen("start", "new", app.family, *FAST)
    wait_for_one_off(app.family)
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=30)
    assert running_names(app.family) == []  # down, with a journal to say so
    after = cli("start", "last", app.family, *FAST)  # waits for the lock the release's docker holds
    assert "was interrupted before it finished" in after.err and f"started {old} again" in after.err
    assert running_names(app.family) == [old]
    no_one_off_left(app.family)


def test_the_release_sees_the_environment_with_no_value_on_a_command_line(project, cli, tmp_path, base_image) -> None:
    import hashlib

    # What it saw, as a digest: the release's own command line must not hold the value either.
    check = 'printf %s "$TOKEN" | md5sum | cut -c1-32 > /data/env; echo "token=$TOKEN"'
    app, _ = serving(project, cli, "relenv", {"env": {"TOKEN": SECRET}, "release": ["sh", "-c", check]})
    log = tmp_path / "argv.log"
    env = docker_wrapper(tmp_path / "bin", f'printf "%s\\n" "$*" >> {log}')
    result = cli("start", "new", app.family, *FAST, env=env)
    assert volume_file(app.family, base_image, "env") == hashlib.md5(SECRET.encode()).hexdigest()
    assert "create --rm" in log.read_text() and SECRET not in log.read_text()
    assert SECRET not in result.err and "token=[hidden]" in result.err
    assert SECRET not in json.dumps(cli.history(app.family))


def test_release_skip_dry_run_and_config(project, cli, base_image) -> None:
    app, old = serving(project, cli, "relskip", {"release": ["sh", "-c", WHICH_IMAGE], "release_timeout": "5m"})
    shown = cli("config", app.family, "--json").out
    assert json.loads(shown)["release"] == {"release": ["sh", "-c", WHICH_IMAGE], "release_timeout": 300,
                                            "release_when": "before-stop", "release_on": "first"}  # fmt: skip
    assert "release step" in cli("config", app.family).out
    dry = cli("start", "new", app.family, "--dry-run")
    lines = dry.out.splitlines()
    creates = [n for n, line in enumerate(lines) if line.startswith("docker create --rm --name dcv-release_")]
    stops = [n for n, line in enumerate(lines) if line.startswith("docker stop")]
    assert creates and stops and creates[0] < stops[0], dry.out
    assert running_names(app.family) == [old] and one_offs(app.family) == []
    skipped = cli("start", "new", app.family, "--release-skip", *FAST)
    assert "release step is skipped" in skipped.err
    assert volume_file(app.family, base_image, "released-from") == "MISSING"
    assert "applies to `start new`" in cli("start", "last", app.family, "--release-skip", expect=2).err


def test_a_release_key_is_checked_at_build(project, cli) -> None:
    app = project("relbad")
    for overrides, said in [
        ({"release": "migrate"}, "release: the value must be a non-empty list"),
        ({"release": ["x"], "release_when": "later"}, "release_when: the value must be one of"),
        ({"release_timeout": "5m"}, "need a release command"),
        ({"release": ["x"], "release_timeout": "2d"}, "release_timeout: the value must be a duration"),
    ]:
        app.write(overrides, cmd=SLEEP, expose=())
        assert said in cli("build", app.family, str(app.dir), expect=1).err


# dockervisor run ----------------------------------------------------------------


def test_run_passes_stdin_stdout_and_the_exit_code_and_leaves_nothing(project, cli, base_image) -> None:
    import subprocess

    app, old = serving(project, cli, "runio", {"env": {"GREETING": "hello-from-env"}})
    completed = subprocess.run(
        [str(cli.executable), "run", "-i", app.family, "sh", "-c", 'read x; echo "$GREETING $x"; exit 6'],
        input="typed\n", capture_output=True, text=True, env=cli.env, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 6, completed
    assert completed.stdout == "hello-from-env typed\n"
    assert running_names(app.family) == [old]
    no_one_off_left(app.family)


def test_run_from_the_image_of_another_member(project, cli) -> None:
    app, old = serving(project, cli, "runimage", {})
    assert cli("run", app.family, "cat", "/www/index.html").out == "v2\n"
    assert cli("run", "--image", "last", app.family, "cat", "/www/index.html").out == "v1\n"
    assert cli("run", "--image", old.rsplit("_", 1)[1], app.family, "cat", "/www/index.html").out == "v1\n"
    assert "marked stable" in cli("run", "--image", "stable", app.family, "true", expect=1).err


def test_an_interrupted_run_leaves_no_container(project, cli) -> None:
    app, _ = serving(project, cli, "runint", {})
    run = cli.popen("run", app.family, "sleep", "600")
    wait_for_one_off(app.family)
    run.send_signal(signal.SIGTERM)
    run.communicate(timeout=60)
    assert run.returncode == 128 + signal.SIGTERM
    no_one_off_left(app.family)


def test_run_with_a_terminal(project, cli) -> None:
    """-it under a pseudo-terminal, as an admin types it (`script` gives one)."""
    import shlex
    import subprocess

    app, _ = serving(project, cli, "runtty", {})
    typed = shlex.join([str(cli.executable), "run", "-it", app.family, "sh", "-c", "tty; exit 4"])
    completed = subprocess.run(["script", "-qec", typed, "/dev/null"], capture_output=True, text=True,
                               env=cli.env, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    assert completed.returncode == 4, completed
    assert "/dev/pts/" in completed.stdout, completed
    no_one_off_left(app.family)
