"""Data paths that end badly or only pretend, on the real engine: exit 4 when
the data cannot be put back, and dry runs of restore, --snapshot and
--with-data that leave the state directory exactly as it was. Families here
need no port: they sleep, and their data is in /data."""

from __future__ import annotations

import os
from pathlib import Path

from support import docker_wrapper, running_names

FAST = ("--settle", "0.5")
SLEEP = "exec sleep 100000"
# The helper that writes data back is the only `docker run --interactive`.
NO_HELPER = 'case " $* " in *" run "*" --interactive "*) echo "Error: refused by the test" >&2; exit 1;; esac'


def tree(top: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under `top`: (mode, size, mtime in ns): what a dry run must not change."""
    found = {}
    for directory, names, files in os.walk(top):
        for name in [*names, *files]:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            found[os.path.relpath(path, top)] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return found


def test_a_failed_upgrade_whose_data_cannot_be_put_back_exits_4(project, cli, tmp_path) -> None:
    app = project("noputback")
    app.build(cmd=SLEEP, expose=(), content="v1")
    v1 = cli("start", "new", app.family, *FAST).out.strip()
    app.build(cmd="touch /data/v2-was-here; exit 3", expose=(), content="v2")
    refuse = docker_wrapper(tmp_path / "bin", NO_HELPER)
    failed = cli("start", "new", app.family, "--snapshot", *FAST, env=refuse, expect=4)
    assert "ROLLBACK FAILED" in failed.err and "the data could not be put back" in failed.err
    assert "refused by the test" in failed.err and f"dockervisor restore {app.family} " in failed.err
    assert cli.history(app.family)[-1]["outcome"] == "rollback-failed"
    assert v1 not in running_names(app.family)  # never started on data it may not read


def test_a_restore_that_fails_and_cannot_put_the_data_back_exits_4(project, cli, tmp_path) -> None:
    app = project("norestore")
    app.build(cmd=SLEEP, expose=())
    cli("start", "new", app.family, *FAST)
    archive = str(tmp_path / "data.tar")
    cli("backup", app.family, "--output", archive)
    cli("stop", app.family)
    refuse = docker_wrapper(tmp_path / "bin", NO_HELPER)
    failed = cli("restore", app.family, archive, *FAST, env=refuse, expect=4)
    assert "RESTORE FAILED" in failed.err and "could not be put back" in failed.err
    assert running_names(app.family) == []


def test_dry_runs_of_the_data_paths_change_no_file_and_make_no_directory(project, cli, tmp_path) -> None:
    app = project("drydata")
    app.build(cmd=SLEEP, expose=())
    first = cli("start", "new", app.family, *FAST).out.strip()
    cli("stable", app.family)
    archive = str(tmp_path / "data.tar")
    cli("backup", app.family, "--output", archive)
    before = tree(cli.home)
    assert not any(part.startswith("snapshots") for part in before)  # so making it would show
    for args in (("start", "new", app.family, "--snapshot"), ("restore", app.family, archive)):
        said = cli(*args, "--dry-run", *FAST)
        assert "would" in said.out + said.err
        assert tree(cli.home) == before, args
    # --with-data needs a snapshot of the stable container: a real upgrade takes it.
    cli("start", "new", app.family, "--snapshot", *FAST)
    cli("stop", app.family)
    before = tree(cli.home)
    said = cli("start", "stable", app.family, "--with-data", "--dry-run", *FAST)
    assert first in said.out + said.err
    assert tree(cli.home) == before
    assert running_names(app.family) == []
