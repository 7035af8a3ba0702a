"""Issue 18, items 3 and 4, on the real engine: a kill -9 in the middle of a
data change is repaired by the next command on the family (data whole, old
or new and never a mix, the container running, a history entry naming the
interruption), and damaged files are met by every command that reads them
without a traceback. Families as in test_data.py: busybox containers that
sleep, their data in /data."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from support import docker, docker_wrapper, inspect, running_names, wait_for

FAST = ("--settle", "0.5")
SLEEP = "exec sleep 100000"
# Names, sizes and bytes of everything in /data.
LISTING = "cd /data && find . | sort && find . -type f -exec sha256sum {} + | sort"


def sh(container: str, script: str) -> str:
    return docker("exec", container, "sh", "-c", script).stdout


def volume_listing(volume: str, image: str) -> str:
    """/data of a volume, read by a container of its own: no family container needed."""
    return docker("run", "--rm", "--network", "none", "-v", f"{volume}:/data", image, "sh", "-c", LISTING).stdout


def written(listing: str, prefix: str) -> int:
    """How many of the six files PREFIX-N a listing holds (docker cp's order is the directory's)."""
    return sum(f"./{prefix}-{n}\n" in listing for n in range(1, 7))


def kill_9(process) -> None:  # type: ignore[no-untyped-def]
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)  # waited for: not a zombie
    assert process.returncode == -signal.SIGKILL


def journals(cli) -> list[Path]:  # type: ignore[no-untyped-def]
    directory = cli.state_dir / "journal"
    return sorted(directory.iterdir()) if directory.exists() else []


def repair_entry(cli, family: str) -> dict:  # type: ignore[no-untyped-def]
    entries = [e for e in cli.history(family) if e["action"] == "repair"]
    assert len(entries) == 1, cli.history(family)
    return entries[0]


def test_a_restore_killed_mid_way_is_put_back_by_the_next_command(project, cli, base_image, tmp_path) -> None:
    app = project("killrestore")
    app.build(cmd=SLEEP, expose=())
    container = cli("start", "new", app.family, *FAST).out.strip()
    # The archive: big files, so that the kill lands with some of them written.
    sh(container, "for n in 1 2 3 4 5 6; do head -c 200000 /dev/urandom > /data/archived-$n; done")
    archive = cli("backup", app.family).out.strip()
    sh(container, "rm /data/archived-* && echo current > /data/current && mkdir /data/dir && echo b > /data/dir/b")
    current = sh(container, LISTING)

    files = sorted(cli.home.rglob("*"))
    dry = cli("restore", app.family, archive, "--dry-run")
    assert "would restore" in dry.err and sorted(cli.home.rglob("*")) == files  # no journal, no directory

    fed, done = tmp_path / "fed", tmp_path / "done"
    # The restore's helper gets a third of the archive, then nothing for 6 s.
    slow = docker_wrapper(tmp_path / "bin", f"""case " $* " in *" --interactive "*)
    {{ head -c 400000; touch {fed}; sleep 6; }} | {docker_real()} "$@"; status=$?; touch {done}; exit $status;;
esac""")
    env = {**slow, "DOCKERVISOR_HELPER_IMAGE": base_image}
    restore = cli.popen("restore", app.family, archive, *FAST, env=env)
    wait_for(lambda: fed.exists() or restore.poll() is not None, 60, "the restore to be under way")
    time.sleep(1)  # tar -x writes what it was given
    kill_9(restore)
    wait_for(done.exists, 60, "the helper the killed run left to end")
    volume = f"{app.family}_data"
    half = volume_listing(volume, base_image)
    assert half != current and 0 < written(half, "archived") < 6  # the kill landed mid-way: a mix
    assert running_names(app.family) == [] and len(journals(cli)) == 1

    after = cli("start", "last", app.family, *FAST)
    assert "was interrupted before it finished" in after.err and "put the data back from the snapshot" in after.err
    assert running_names(app.family) == [container] and after.out.strip() == container
    assert sh(container, LISTING) == current  # the data before, whole
    entry = repair_entry(cli, app.family)
    assert entry["outcome"] == "repaired" and f"restore {app.family}" in entry["message"]
    assert "interrupted" in entry["message"] and entry["container"] == container
    assert journals(cli) == []
    assert cli.state(app.family)["last"] == container
    # The next command finds nothing left to repair.
    assert "interrupted" not in cli("start", "last", app.family, *FAST).err


def docker_real() -> str:
    from support import REAL_DOCKER

    return REAL_DOCKER


def test_a_backup_killed_while_paused_is_unpaused_by_the_next_command(project, cli, tmp_path) -> None:
    app = project("killbackup")
    app.build(cmd=SLEEP, expose=())
    container = cli("start", "new", app.family, *FAST).out.strip()
    copied = tmp_path / "copied"
    slow_copy = docker_wrapper(tmp_path / "bin", f'[ "$1" = cp ] && sleep 5 && touch {copied}')
    backup = cli.popen("backup", app.family, env=slow_copy)
    wait_for(lambda: inspect(container)["State"]["Paused"] or backup.poll() is not None, 60, "the pause")
    kill_9(backup)
    backups = cli.state_dir / "backups" / app.family
    assert [p.name for p in backups.iterdir() if p.name.endswith(".partial")]

    status = cli("status", app.family, "--json", expect=5)  # not ok: paused, and says so
    (report,) = json.loads(status.out)["families"]
    assert report["state"] == "paused" and "paused" in status.err

    wait_for(copied.exists, 60, "the copy the killed run left to end")
    after = cli("start", "last", app.family, *FAST)
    assert f"unpaused {container}" in after.err and "was interrupted before it finished" in after.err
    state = inspect(container)["State"]
    assert state["Running"] and not state["Paused"]
    assert list(backups.iterdir()) == []  # the partial archive is swept
    entry = repair_entry(cli, app.family)
    assert "interrupted" in entry["message"] and f"unpaused {container}" in entry["message"]
    assert journals(cli) == []


def test_an_upgrade_killed_after_its_snapshot_goes_back_to_what_ran(project, cli, tmp_path) -> None:
    app = project("killupgrade")
    app.build(cmd=f"echo v1 > /data/format; {SLEEP}", expose=(), content="v1")
    v1 = cli("start", "new", app.family, *FAST).out.strip()
    before = sh(v1, LISTING)
    app.build(cmd=f"echo v2 > /data/format; touch /data/migrated; {SLEEP}", expose=(), content="v2")
    files = sorted(cli.home.rglob("*"))
    cli("start", "new", app.family, "--snapshot", "--dry-run")
    assert sorted(cli.home.rglob("*")) == files  # no journal, no snapshot directory
    upgrade = cli.popen("start", "new", app.family, "--snapshot", "--settle", "60")
    wait_for(lambda: [n for n in running_names(app.family) if n != v1] or upgrade.poll() is not None,
             120, "the new container to run")  # fmt: skip
    (v2,) = running_names(app.family)
    wait_for(lambda: "migrated" in sh(v2, "ls /data"), 30, "the new container to change the data")
    kill_9(upgrade)

    after = cli("stop", app.family)  # any command that takes the lock repairs first
    assert "was interrupted before it finished" in after.err and f"stopped {v2}" in after.err
    assert running_names(app.family) == []  # the stop did its own job afterwards
    cli("start", "last", app.family, *FAST)
    assert running_names(app.family) == [v1] and sh(v1, LISTING) == before
    entry = repair_entry(cli, app.family)
    assert f"started {v1} again" in entry["message"] and "snapshot" in entry["message"]


def test_damaged_files_are_reported_by_every_command_that_meets_them(project, cli, base_image, tmp_path) -> None:
    app = project("damaged")
    app.build(overrides={"snapshot": True}, cmd=SLEEP, expose=())
    first = cli("start", "new", app.family, *FAST).out.strip()
    cli("stable", app.family)
    second = cli("start", "new", app.family, *FAST).out.strip()  # a snapshot of first's data
    directory = cli.state_dir / "snapshots" / app.family
    (good,) = directory.iterdir()
    truncated = directory / "99991231T235959.999999Z-truncated.tar"  # the newest name
    truncated.write_bytes(good.read_bytes()[:3000])
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(os.urandom(5000))
    helper = {"DOCKERVISOR_HELPER_IMAGE": base_image}

    listed = cli("snapshots", app.family, expect=1)
    assert str(truncated) in listed.err and "damaged" in listed.err and first in listed.out
    for path in (truncated, garbage):
        for dry in ((), ("--dry-run",)):
            refused = cli("restore", app.family, str(path), *FAST, *dry, expect=1, env=helper)
            assert str(path) in refused.err and len(refused.err.strip().splitlines()) == 1
    assert running_names(app.family) == [second]

    # An upgrade meets it in its retention, after the old container stopped: it goes on.
    third = cli("start", "new", app.family, "--snapshot", *FAST)
    assert str(truncated) in third.err and "took a snapshot" in third.err
    assert running_names(app.family) == [third.out.strip()]
    assert truncated.exists()  # never removed by retention
    back = cli("start", "stable", app.family, "--with-data", *FAST, env=helper)
    assert back.out.strip() == first and running_names(app.family) == [first]

    state_file = cli.state_dir / "families" / f"{app.family}.json"
    kept = state_file.read_bytes()
    state_file.write_bytes(b"")
    try:
        for args in (("status", app.family), ("status",), ("list",), ("list", "containers", app.family),
                     ("start", "last", app.family), ("start", "new", app.family, "--snapshot"),
                     ("start", "stable", app.family, "--with-data"), ("stable", app.family),
                     ("prune", app.family), ("backup", app.family), ("snapshots", app.family),
                     ("restore", app.family, str(good)), ("restore", app.family, str(good), "--dry-run")):  # fmt: skip
            said = cli(*args, expect=1)
            assert str(state_file) in said.err and "damaged" in said.err, (args, said)
        assert state_file.read_bytes() == b""  # reported, never replaced
    finally:
        state_file.write_bytes(kept)
    assert running_names(app.family) == [first]


def test_a_start_with_data_killed_mid_restore_goes_back_to_what_ran(project, cli, base_image, tmp_path) -> None:
    app = project("killwithdata")
    app.build(cmd="[ -f /data/big-6 ] || for n in 1 2 3 4 5 6; do head -c 200000 /dev/urandom > /data/big-$n; done;"
                  f" echo v1 > /data/format; {SLEEP}", expose=(), content="v1")  # fmt: skip
    cli("start", "new", app.family, *FAST).out.strip()
    cli("stable", app.family)
    app.build(cmd=f"rm -f /data/big-*; echo v2 > /data/format; {SLEEP}", expose=(), content="v2")
    v2 = cli("start", "new", app.family, "--snapshot", *FAST).out.strip()  # v1's data, kept
    wait_for(lambda: "v2" in sh(v2, "cat /data/format"), 30, "v2 to write its data")
    v2_data = sh(v2, LISTING)

    fed, done = tmp_path / "fed", tmp_path / "done"
    slow = docker_wrapper(tmp_path / "bin", f"""case " $* " in *" --interactive "*)
    {{ head -c 400000; touch {fed}; sleep 6; }} | {docker_real()} "$@"; status=$?; touch {done}; exit $status;;
esac""")
    back = cli.popen("start", "stable", app.family, "--with-data", *FAST,
                     env={**slow, "DOCKERVISOR_HELPER_IMAGE": base_image})  # fmt: skip
    wait_for(lambda: fed.exists() or back.poll() is not None, 60, "the restore of v1's data to be under way")
    time.sleep(1)
    kill_9(back)
    wait_for(done.exists, 60, "the helper the killed run left to end")
    half = volume_listing(f"{app.family}_data", base_image)
    assert 0 < written(half, "big") < 6 and running_names(app.family) == []  # a mix, nothing runs

    after = cli("start", "last", app.family, *FAST, env={"DOCKERVISOR_HELPER_IMAGE": base_image})
    assert "was interrupted before it finished" in after.err
    # v2 again, on its own data: never v2 on v1's half-restored data, nor v1 on v2's.
    assert running_names(app.family) == [v2] and sh(v2, LISTING) == v2_data
    entry = repair_entry(cli, app.family)
    assert f"start stable {app.family} --with-data" in entry["message"] and f"started {v2} again" in entry["message"]


def test_an_upgrade_killed_while_it_stops_the_old_container_starts_it_again(project, cli, tmp_path) -> None:
    app = project("killstop")
    app.build(cmd=SLEEP, expose=())
    v1 = cli("start", "new", app.family, *FAST).out.strip()
    app.build(cmd=SLEEP, expose=(), content="v2")
    stopping = tmp_path / "stopping"
    slow_stop = docker_wrapper(tmp_path / "bin", f'[ "$1" = stop ] && touch {stopping} && sleep 3')
    upgrade = cli.popen("start", "new", app.family, "--snapshot", *FAST, env=slow_stop)
    wait_for(lambda: stopping.exists() or upgrade.poll() is not None, 60, "the stop of the old container")
    kill_9(upgrade)
    wait_for(lambda: running_names(app.family) == [], 60, "the stop the killed run asked for")

    after = cli("prune", app.family)  # a command that starts nothing itself
    assert "was interrupted before it finished" in after.err and running_names(app.family) == [v1]
    entry = repair_entry(cli, app.family)
    assert f"started {v1} again" in entry["message"] and entry["container"] == v1
    assert journals(cli) == []
