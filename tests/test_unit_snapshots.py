"""Snapshots without an engine (store/snapshots.py, datasteps.py): which ones
retention keeps, and that a dry run makes no directory. The docker side of
taking one (datacopy.write_archive's copy, datacopy.restore's helper) is
replaced by functions that write or note what the engine would have."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from dockervisor.flows import datacopy
from dockervisor.flows import datasteps
from dockervisor.config.datapolicy import DataPolicy
from dockervisor.store import archive, paths
from dockervisor.flows import snapshots
from dockervisor.store.archive import ArchivedMount, Manifest
from dockervisor.store.history import Entry
from dockervisor.store.state import FamilyState

DATA = ArchivedMount("/data", "volume", "app_data")


class FakeDocker:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def change(self, argv: list[str], **_: object) -> None:
        self.calls.append(argv)


class FakeContext:
    def __init__(self, dry_run: bool = False) -> None:
        self.dry_run = dry_run
        self.docker = FakeDocker()
        self.said: list[str] = []
        self.stdout, self.stderr = io.StringIO(), io.StringIO()
        self.command_line = "dockervisor start dcv_app_1 --with-data"  # what a journal records

    def info(self, message: str) -> None:
        self.said.append(message)

    def done(self, would: str, did: str) -> None:
        self.said.append(would if self.dry_run else did)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """write_archive writes the manifest alone; restore only notes what it would restore."""
    restored: list[tuple] = []

    def write_archive(ctx, path, manifest, pause):  # type: ignore[no-untyped-def]
        if ctx.dry_run:
            return real_write(ctx, path, manifest, pause)
        Path(path).write_bytes(archive.manifest_member(manifest, 0) + archive.END_OF_ARCHIVE)
        os.chmod(path, 0o600)
        return os.path.getsize(path)

    real_write = datacopy.write_archive
    monkeypatch.setattr(datacopy, "write_archive", write_archive)
    monkeypatch.setattr(datacopy, "mounts_to_copy", lambda *a, **k: [DATA])
    monkeypatch.setattr(datacopy, "restore", lambda ctx, path, *rest: restored.append((path, *rest)))
    monkeypatch.setattr(datasteps.query, "inspect_container", lambda docker, name: {"Image": "sha256:1", "Id": name})
    return restored


def family(keep: int, stable: str | None = None) -> FamilyState:
    config = object()  # only its presence is asked: mounts_to_copy is replaced
    return FamilyState("app", stable=stable, run_config=config, data=DataPolicy(keep=keep))  # type: ignore[arg-type]


def put(container: str, second: int) -> str:
    """A snapshot of `container` taken at 00:00:SECOND: the names sort by time."""
    directory = paths.snapshots_dir("app")
    paths.ensure_private_dir(directory)
    path = os.path.join(directory, f"20261201T0000{second:02d}.000000Z-{container}.tar")
    manifest = Manifest("app", container, "sha256:1", [DATA], f"2026-12-01T00:00:{second:02d}Z", "snapshot")
    Path(path).write_bytes(archive.manifest_member(manifest, 0) + archive.END_OF_ARCHIVE)
    return path


def kept() -> list[str]:
    return [s.container for s in snapshots.existing("app")[0]]


def test_retention_keeps_the_newest_the_stables_newest_and_the_protected(home: Path) -> None:
    for second, container in enumerate(["dcv_app_1", "dcv_app_2", "dcv_app_3", "dcv_app_4", "dcv_app_5"]):
        put(container, second)
    protected = [s.path for s in snapshots.existing("app")[0] if s.container == "dcv_app_2"]
    removed = snapshots.prune(FakeContext(), family(keep=1, stable="dcv_app_3"), protect=tuple(protected))
    assert [s.container for s in removed] == ["dcv_app_4", "dcv_app_1"]
    assert kept() == ["dcv_app_5", "dcv_app_3", "dcv_app_2"]


def test_a_stable_with_two_snapshots_keeps_only_its_newest(home: Path) -> None:
    for second, container in ((1, "dcv_app_1"), (2, "dcv_app_1"), (3, "dcv_app_2")):
        put(container, second)
    snapshots.prune(FakeContext(), family(keep=1, stable="dcv_app_1"))
    assert [(s.container, s.manifest.time[-3:-1]) for s in snapshots.existing("app")[0]] == [
        ("dcv_app_2", "03"), ("dcv_app_1", "02")]  # fmt: skip


def test_the_snapshot_a_restore_is_about_to_use_survives_the_snapshot_taken_before_it(
    home: Path, no_engine: list[tuple]
) -> None:
    """keep 1: the snapshot of the data before would prune the very archive about to be restored."""
    oldest = put("dcv_app_1", 1)
    put("dcv_app_2", 2)
    ctx, fam = FakeContext(), family(keep=1)
    manifest = archive.read_manifest(oldest)
    restore = datasteps.Restore(oldest, manifest, [(0, DATA)], f"the snapshot {oldest}")
    containers = [type("C", (), {"name": "dcv_app_2"})()]
    entry = Entry("start", "dockervisor start dcv_app_1 --with-data")
    step = datasteps.DataStep(fam, containers, entry, "helper", "dcv_app_1", restore)  # type: ignore[arg-type]
    step.before_start(ctx, "dcv_app_2")
    assert os.path.exists(oldest), ctx.said
    assert no_engine == [(oldest, "app", "helper", [(0, DATA)])]
    assert step.taken is not None and os.path.exists(step.taken.path)


def test_a_dry_run_snapshot_makes_no_directory_and_no_file(home: Path, no_engine: list[tuple]) -> None:
    ctx = FakeContext(dry_run=True)
    taken = snapshots.take(ctx, family(keep=1), "dcv_app_1", {"Image": "sha256:1", "State": {"Status": "running"}})
    assert taken is None and not home.exists()
    assert ctx.docker.calls == [["docker", "cp", "dcv_app_1:/data", "-"]]  # printed, never paused
