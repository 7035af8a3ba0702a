"""Issue 13: data you can roll back. Backups, restores, snapshots at upgrade
and starts with data, on the real engine, with busybox families whose
containers need no port: they sleep, and what they read or write is in /data.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tarfile
import time
from pathlib import Path

from support import BUSYBOX, docker, inspect, running_names, wait_for

FAST = ("--settle", "0.5")
SLEEP = "exec sleep 100000"
# v1 refuses data a v2 has migrated; v2 migrates it.
V1 = f"if grep -q v2 /data/format 2>/dev/null; then echo 'v2 data: v1 cannot read it' >&2; exit 1; fi; " \
     f"echo v1 > /data/format; {SLEEP}"  # fmt: skip
V2 = f"echo v2 > /data/format; {SLEEP}"
# Everything that makes two copies of /data the same: names, kinds, modes,
# owners, sizes, link counts, the files' times, link targets, bytes. (The
# times of directories and symbolic links are not kept by busybox's tar.)
LISTING = (
    "cd /data && find . -type f -exec stat -c '%n %A %u:%g %s %h %Y' {} + | sort"
    " && find . -type d -exec stat -c '%n %A %u:%g' {} + | sort"
    " && find . -type l -exec stat -c '%N %u:%g' {} + | sort"
    " && find . -type f -exec sha256sum {} + | sort"
)


def sh(container: str, script: str) -> str:
    return docker("exec", container, "sh", "-c", script).stdout


def snapshots_of(cli, family: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return json.loads(cli("snapshots", family, "--json").out)["snapshots"]


def manifest_of(path: Path) -> dict:
    with tarfile.open(path) as tar:
        first = tar.next()
        assert first is not None and first.name == "dockervisor/manifest.json"
        return json.loads(tar.extractfile(first).read())  # type: ignore[union-attr]


def wrapper(directory: Path, script: str) -> dict[str, str]:
    """A `docker` first on PATH that runs `script` (sh) before the real one."""
    real = shutil.which("docker")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "docker").write_text(f'#!/bin/sh\n{script}\nexec {real} "$@"\n')
    (directory / "docker").chmod(0o755)
    return {"PATH": f"{directory}:{os.environ['PATH']}"}


def test_a_rollback_with_data_brings_back_what_v1_can_read(project, cli) -> None:
    app = project("withdata")
    app.build(cmd=V1, expose=(), content="v1")
    v1 = cli("start", "new", app.family, *FAST).out.strip()
    cli("stable", app.family)
    app.build(cmd=V2, expose=(), content="v2")
    upgrade = cli("start", "new", app.family, "--snapshot", *FAST)
    v2 = upgrade.out.strip()
    assert sh(v2, "cat /data/format") == "v2\n"
    assert f"took a snapshot of the data of {v1}" in upgrade.err
    (taken,) = snapshots_of(cli, app.family)
    assert (taken["container"], taken["stable"], taken["mounts"]) == (v1, True, ["/data"])
    assert Path(taken["path"]).parent == cli.state_dir / "snapshots" / app.family
    assert manifest_of(Path(taken["path"]))["kind"] == "snapshot"

    # The plain rollback meets data v1 cannot read: it fails, and v2 comes back.
    failed = cli("start", "stable", app.family, *FAST, expect=3)
    assert "v2 data: v1 cannot read it" in failed.err and f"{v2} is running again" in failed.err
    assert running_names(app.family) == [v2]

    back = cli("start", "stable", app.family, "--with-data", *FAST)
    assert back.out.strip() == v1
    assert running_names(app.family) == [v1]
    assert sh(v1, "cat /data/format") == "v1\n"
    # What v2 had is a snapshot too, linked to v2: the way forward again.
    assert [s["container"] for s in snapshots_of(cli, app.family)] == [v2, v1]
    entry = cli.history(app.family)[-1]
    assert (entry["action"], entry["outcome"], entry["container"]) == ("start stable", "ok", v1)
    assert taken["path"] in entry["message"]

    # An upgrade that fails after writing to the data gets the data put back.
    app.build(cmd="touch /data/v3-was-here; exit 1", expose=(), content="v3")
    rolled = cli("start", "new", app.family, "--snapshot", *FAST, expect=3)
    assert "the data is back as it was" in rolled.err
    assert running_names(app.family) == [v1]
    assert sh(v1, "ls /data") == "format\n"


def test_backup_then_restore_gives_back_exactly_the_data(project, cli, base_image) -> None:
    app = project("restore")
    app.build(cmd=SLEEP, expose=())
    container = cli("start", "new", app.family, *FAST).out.strip()
    sh(container, "mkdir -p /data/d/e /data/empty && echo one > /data/a && chmod 640 /data/a"
                  " && head -c 300000 /dev/urandom > /data/d/big && echo two > /data/d/e/b"
                  " && ln -s ../a /data/d/link && ln /data/a /data/hard && echo dot > /data/.hidden"
                  " && chown 1234:5678 /data/d/big")  # fmt: skip
    before = sh(container, LISTING)

    made = cli("backup", app.family)
    path = Path(made.out.strip())
    assert path.parent == cli.state_dir / "backups" / app.family and path.stat().st_mode & 0o777 == 0o600
    assert f"paused {container}" in made.err and f"unpaused {container}" in made.err
    assert not inspect(container)["State"]["Paused"]
    manifest = manifest_of(path)
    assert (manifest["family"], manifest["container"], manifest["kind"]) == (app.family, container, "backup")
    assert manifest["image_id"] == inspect(container)["Image"] and manifest["time"].endswith("Z")
    assert manifest["mounts"] == [{"target": "/data", "type": "volume", "source": f"{app.family}_data"}]
    assert manifest["dockervisor"]
    assert cli.history(app.family)[-1]["action"] == "backup"

    sh(container, "echo changed > /data/a && rm /data/d/e/b && echo new > /data/new && mkdir -p /data/x/y"
                  " && echo hidden > /data/.newdot && rm /data/d/link && ln -s e /data/d/link")  # fmt: skip
    changed = sh(container, LISTING)
    restored = cli("restore", app.family, str(path), *FAST, env={"DOCKERVISOR_HELPER_IMAGE": base_image})
    assert restored.out.strip() == container
    assert running_names(app.family) == [container]
    assert sh(container, LISTING) == before
    # The data it replaced is a snapshot, linked to the container that wrote it.
    (taken,) = snapshots_of(cli, app.family)
    assert taken["container"] == container
    entry = cli.history(app.family)[-1]
    assert (entry["action"], entry["outcome"]) == ("restore", "ok")
    assert str(path) in entry["message"] and taken["path"] in entry["message"]

    # ... so the restore itself can be undone.
    cli("restore", app.family, taken["path"], *FAST)
    assert sh(container, LISTING) == changed


def test_a_paused_container_is_unpaused_after_sigterm_during_backup(project, cli, tmp_path) -> None:
    app = project("pause")
    app.build(cmd=SLEEP, expose=())
    container = cli("start", "new", app.family, *FAST).out.strip()
    slow_copy = wrapper(tmp_path / "bin", '[ "$1" = cp ] && sleep 30')
    backup = cli.popen("backup", app.family, env=slow_copy)
    wait_for(lambda: inspect(container)["State"]["Paused"] or backup.poll() is not None, 30, "the pause")
    time.sleep(1)  # the copy is under way
    backup.send_signal(signal.SIGTERM)
    out, err = backup.communicate(timeout=60)
    assert backup.returncode == 143, err
    assert "Traceback" not in err and f"unpaused {container}" in err
    state = inspect(container)["State"]
    assert state["Running"] and not state["Paused"]
    assert list((cli.state_dir / "backups" / app.family).iterdir()) == []  # no partial archive
    assert cli.history(app.family)[-1]["outcome"] == "interrupted"


def test_refusals_change_nothing(project, cli, tmp_path) -> None:
    one, two = project("one"), project("two")
    one.build(cmd=SLEEP, expose=(), volumes=("/data", "/extra"))
    two.build(cmd=SLEEP, expose=())
    first = cli("start", "new", one.family, *FAST).out.strip()
    cli("stable", one.family)
    second = cli("start", "new", two.family, *FAST).out.strip()
    archive = cli("backup", one.family).out.strip()

    other = cli("restore", two.family, archive, *FAST, expect=1)
    assert f"is an archive of '{one.family}', not of '{two.family}'" in other.err

    one.build(cmd=SLEEP, expose=(), volumes=("/data",))  # /extra is no longer the family's
    unknown = cli("restore", one.family, archive, *FAST, expect=1)
    assert "mount points that" in unknown.err and "/extra" in unknown.err

    cli("start", "new", one.family, *FAST)
    none = cli("start", "stable", one.family, "--with-data", *FAST, expect=1)
    assert f"{first} has no snapshot" in none.err and "nothing was changed" in none.err

    helper = cli("restore", two.family, cli("backup", two.family).out.strip(), *FAST, expect=1,
                 env={"DOCKERVISOR_HELPER_IMAGE": "dcvt-no-such-helper:1"})  # fmt: skip
    assert "DOCKERVISOR_HELPER_IMAGE" in helper.err and "docker pull dcvt-no-such-helper:1" in helper.err

    assert running_names(two.family) == [second]
    assert len(running_names(one.family)) == 1 and first not in running_names(one.family)
    assert snapshots_of(cli, one.family) == [] and snapshots_of(cli, two.family) == []


def test_an_image_without_sh_and_tar_says_what_to_set(project, cli, tmp_path) -> None:
    app = project("nosh")
    shutil.copy(BUSYBOX, app.dir / "busybox")
    (app.dir / "Dockerfile").write_text(
        'FROM scratch\nCOPY busybox /bin/busybox\nVOLUME /data\nSTOPSIGNAL SIGKILL\n'
        'CMD ["/bin/busybox", "sleep", "100000"]\n'
    )
    cli("build", app.family, str(app.dir))
    container = cli("start", "new", app.family, *FAST).out.strip()
    archive = cli("backup", app.family).out.strip()  # docker cp needs nothing in the image
    refused = cli("restore", app.family, archive, *FAST, expect=1)
    assert "set DOCKERVISOR_HELPER_IMAGE" in refused.err and "/bin/sh" in refused.err
    assert running_names(app.family) == [container]


def test_snapshots_are_kept_to_snapshots_keep_and_the_stables_newest(project, cli) -> None:
    app = project("keep")
    app.build(overrides={"snapshot": True, "snapshots_keep": 2}, cmd=SLEEP, expose=())
    first = cli("start", "new", app.family, *FAST)
    assert "no snapshot taken" in first.err and snapshots_of(cli, app.family) == []
    c1 = first.out.strip()
    cli("stable", app.family)
    c2 = cli("start", "new", app.family, *FAST).out.strip()  # a snapshot of c1
    cli("start", "stable", app.family, *FAST)
    c3 = cli("start", "new", app.family, *FAST).out.strip()  # a second snapshot of c1, the stable
    of_c1 = [s["path"] for s in snapshots_of(cli, app.family) if s["container"] == c1]
    assert len(of_c1) == 2
    c4 = cli("start", "new", app.family, *FAST).out.strip()
    cli("start", "new", app.family, *FAST)
    kept = snapshots_of(cli, app.family)
    # Kept: the 2 newest (c4's, c3's) and the stable's newest; the stable's older one went.
    assert [s["container"] for s in kept] == [c4, c3, c1]
    assert kept[2]["path"] == of_c1[0]  # newest first
    directory = cli.state_dir / "snapshots" / app.family
    assert sorted(str(p) for p in directory.iterdir()) == sorted(s["path"] for s in kept)
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in directory.iterdir())
    listed = cli("snapshots", app.family).out
    assert c1 in listed and "stable" in listed and c2 not in listed
