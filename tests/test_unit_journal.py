"""Issue 18, item 4: the journal of a data change, without an engine. Its file
(private, atomic, read back strictly), when it counts as closed, and what the
repair decides from it; the docker half is in test_data_recovery.py."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from dockervisor.flows import datarecovery
from dockervisor.store import archive, history, journal, paths
from dockervisor.store.archive import ArchivedMount, Manifest
from dockervisor.store.journal import Journal
from dockervisor.core.errors import DockervisorError


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def written(pid: int | None = None, **fields: object) -> Journal:
    entry = Journal("app", "restore", "dockervisor restore app /x.tar", pid)
    for key, value in fields.items():
        setattr(entry, key, value)
    entry.write()
    return entry


class NoDocker:
    """An executor that must not be used: the repair of nothing costs no docker call."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"docker was asked ({name}) with nothing to repair")


class Ctx:
    dry_run = False
    command_line = "dockervisor start last app"

    def __init__(self) -> None:
        self.docker = NoDocker()
        self.said: list[str] = []

    def info(self, message: str) -> None:
        self.said.append(message)


def test_a_journal_is_private_whole_json_and_reads_back(home: Path) -> None:
    entry = written(running="dcv_app_1", before="/s/before.tar", partial="/s/.x.tar.1.partial",
                    restore={"archive": "/b/a.tar", "into": [[0, "/data", "volume", "app_data"]]})  # fmt: skip
    path = Path(entry.path)
    assert path.parent == Path(paths.state_root()) / "journal" and path.name == f"app.{os.getpid()}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    (back,), damaged = journal.found("app")
    assert damaged == {} and back.to_dict() == entry.to_dict() == json.loads(path.read_text())
    entry.remove()
    entry.remove()  # gone already: fine
    assert journal.found("app") == ([], {})


BAD = [
    ("not-json", b"{"),
    ("empty", b""),
    ("not-an-object", b"[]"),
    ("no-format", {"format": 2}),
    ("other-family", {"image": "other"}),
    ("pid-zero", {"pid": 0}),
    ("pid-bool", {"pid": True}),
    ("container-not-a-name", {"running": "../../etc"}),
    ("relative-before", {"before": "before.tar"}),
    ("nul-in-partial", {"partial": "/a\u0000b"}),
    ("restore-without-into", {"restore": {"archive": "/a.tar"}}),
    ("restore-relative", {"restore": {"archive": "a.tar", "into": []}}),
    ("history-not-a-pair", {"history": [1]}),
    ("killed-not-a-bool", {"killed": "yes"}),
    ("started-not-a-number", {"started": "yesterday"}),
]


@pytest.mark.parametrize(("name", "change"), BAD, ids=[b[0] for b in BAD])
def test_a_damaged_journal_is_reported_by_path_never_read_as_true(name: str, change: object) -> None:
    entry = written()
    if isinstance(change, bytes):
        content = change
    else:
        document = {**entry.to_dict(), **change}  # type: ignore[dict-item]
        content = json.dumps(document).encode()
    Path(entry.path).write_bytes(content)
    journals, damaged = journal.found("app")
    assert journals == [] and list(damaged) == [entry.path]
    assert entry.path in damaged[entry.path] and "damaged" in damaged[entry.path]
    assert Path(entry.path).read_bytes() == content  # reported, never replaced


def test_only_the_familys_own_journals_are_found() -> None:
    written()
    other = Journal("app-two", "restore", "x")
    other.write()
    Path(journal.journal_dir(), "app.notapid.json").write_text("{")
    Path(journal.journal_dir(), "app.12.json.99.tmp").write_text("{")
    (found,), damaged = journal.found("app")
    assert found.image == "app" and damaged == {}


def test_a_journal_is_closed_by_its_history_entry_or_a_live_run() -> None:
    entry = written(pid=dead_pid())
    assert not journal.is_closed(entry)  # killed: nothing came after it
    history.append("app", history.Entry("restore", "x"), 0)
    assert journal.is_closed(entry)  # its run recorded how it ended
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert journal.is_closed(written(pid=alive.pid))  # it let the lock go: its change is over
        alive.kill()  # a zombie until waited for: as dead as a killed run
        deadline = time.monotonic() + 10
        while journal.is_alive(alive.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not journal.is_closed(written(pid=alive.pid))
    finally:
        alive.kill()
        alive.wait()


def test_a_journal_with_this_runs_pid_is_a_dead_runs() -> None:
    """A run writes its journal after the repair, so one with its pid is an earlier run's."""
    assert not journal.is_closed(written())


def test_a_rotated_history_closes_a_journal(monkeypatch: pytest.MonkeyPatch) -> None:
    history.append("app", history.Entry("build", "x"), 0)
    entry = written(pid=dead_pid())
    monkeypatch.setattr(history, "ROTATE_AT_BYTES", 1)
    history.append("app", history.Entry("restore", "x"), 0)
    assert journal.history_mark("app")[0] != entry.history[0] and journal.is_closed(entry)


def test_a_dry_run_writes_no_journal_and_creates_nothing(home: Path) -> None:
    ctx = Ctx()
    ctx.dry_run = True
    assert datarecovery.begin(ctx, "app", "restore") is None  # type: ignore[arg-type]
    assert not home.exists()


def test_nothing_to_repair_costs_no_docker_call_and_writes_nothing(home: Path) -> None:
    ctx = Ctx()
    datarecovery.repair_interrupted(ctx, "app", "start last")  # type: ignore[arg-type]
    assert ctx.said == [] and not home.exists()


def test_a_closed_journal_is_removed_without_a_word_or_a_docker_call() -> None:
    entry = written(pid=dead_pid(), running="dcv_app_1", before="/nowhere.tar")
    history.append("app", history.Entry("restore", "x"), 0)
    ctx = Ctx()
    datarecovery.repair_interrupted(ctx, "app", "start last")  # type: ignore[arg-type]
    assert not Path(entry.path).exists() and ctx.said == []
    assert [e["action"] for e in history.read("app")] == ["restore"]


@pytest.mark.parametrize(("action", "refused"), [("start last", True), ("start new", True), ("backup", True),
                                                  ("stop", False), ("restore", False), ("prune", False)])  # fmt: skip
def test_a_damaged_journal_stops_what_would_start_or_copy_the_data(action: str, refused: bool) -> None:
    entry = written()
    Path(entry.path).write_bytes(b"")
    ctx = Ctx()
    if refused:
        with pytest.raises(DockervisorError) as raised:
            datarecovery.repair_interrupted(ctx, "app", action)  # type: ignore[arg-type]
        assert entry.path in raised.value.message and "move it aside" in raised.value.message
    else:
        datarecovery.repair_interrupted(ctx, "app", action)  # type: ignore[arg-type]
        assert any(entry.path in said for said in ctx.said)
    assert Path(entry.path).exists()


def snapshot(path: Path, family: str = "app") -> str:
    manifest = Manifest(family, "dcv_app_1", None, [ArchivedMount("/data", "volume", "app_data")], "t", "snapshot")
    out = io.BytesIO()
    info = tarfile.TarInfo("data")
    info.type = tarfile.DIRTYPE
    out.write(archive.manifest_member(manifest, 0) + archive.marker_member(0, 0) + info.tobuf(tarfile.PAX_FORMAT))
    path.write_bytes(out.getvalue() + archive.END_OF_ARCHIVE)
    return str(path)


def test_the_data_goes_back_from_the_snapshot_before_else_the_archive_again(tmp_path: Path) -> None:
    before, restored = snapshot(tmp_path / "before.tar"), snapshot(tmp_path / "archive.tar")
    into = [[0, "/data", "volume", "app_other"]]
    both = Journal("app", "restore", "x")
    both.before, both.restore = before, {"archive": restored, "into": into}
    source, where = datarecovery._data_to_put_back(both)
    assert source == before and [(i, m.to_dict()) for i, m in where] == [
        (0, {"target": "/data", "type": "volume", "source": "app_data"})  # where the snapshot was taken
    ]
    both.before = None  # no container had data to take: forward is the only whole state
    source, where = datarecovery._data_to_put_back(both)
    assert source == restored and [(i, m.source) for i, m in where] == [(0, "app_other")]
    both.restore = None
    assert datarecovery._data_to_put_back(both) == (None, [])


@pytest.mark.parametrize("problem", ["missing", "damaged", "other-family"])
def test_a_snapshot_before_that_cannot_be_read_is_a_failed_repair(tmp_path: Path, problem: str) -> None:
    path = tmp_path / "before.tar"
    if problem == "damaged":
        path.write_bytes(b"\0" * 100)
    elif problem == "other-family":
        snapshot(path, "other")
    entry = Journal("app", "restore", "x")
    entry.before = str(path)
    with pytest.raises(DockervisorError) as raised:
        datarecovery._data_to_put_back(entry)
    assert str(path) in raised.value.message


def test_partial_archives_of_runs_that_are_gone_are_swept(home: Path) -> None:
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        gone = dead_pid()
        made = []
        for directory in (paths.snapshots_dir("app"), paths.backups_dir("app")):
            paths.ensure_private_dir(os.path.dirname(directory))
            paths.ensure_private_dir(directory)
            for name in (f".a.tar.{gone}.partial", f".a.tar.{alive.pid}.partial", "a.tar", f"a.tar.{gone}.partial"):
                Path(directory, name).write_bytes(b"x")
            made.append(Path(directory))
        leftovers = Path(journal.journal_dir())
        paths.ensure_private_dir(str(leftovers))
        for name in (f"app.7.json.{gone}.tmp", f"app.7.json.{alive.pid}.tmp", f"app-two.7.json.{gone}.tmp"):
            (leftovers / name).write_bytes(b"{")
        ctx = Ctx()
        datarecovery.repair_interrupted(ctx, "app", "stop")  # type: ignore[arg-type]
        assert sorted(p.name for p in leftovers.iterdir()) == sorted(
            [f"app.7.json.{alive.pid}.tmp", f"app-two.7.json.{gone}.tmp"]  # a live run's; another family's
        )
        for directory in made:
            assert sorted(p.name for p in directory.iterdir()) == sorted(
                [f".a.tar.{alive.pid}.partial", "a.tar", f"a.tar.{gone}.partial"]
            )
        assert len([s for s in ctx.said if "left by a run that was killed" in s]) == 2
    finally:
        alive.kill()
        alive.wait()


@pytest.mark.parametrize(("action", "refused"), [("start new", True), ("backup", True), ("stop", False)])
def test_a_failed_repair_is_recorded_and_kept_for_the_next_command(tmp_path: Path, action: str, refused: bool) -> None:
    written(pid=dead_pid(), before=str(tmp_path / "gone.tar"))
    ctx = Ctx()
    if refused:
        with pytest.raises(DockervisorError) as raised:
            datarecovery.repair_interrupted(ctx, "app", action)  # type: ignore[arg-type]
        assert "its repair failed" in raised.value.message and "gone.tar" in raised.value.message
    else:
        datarecovery.repair_interrupted(ctx, "app", action)  # type: ignore[arg-type]
        assert any("its repair failed" in said for said in ctx.said)
    (recorded,) = history.read("app")
    assert (recorded["action"], recorded["outcome"]) == ("repair", "failed") and "gone.tar" in recorded["message"]
    history.append("app", history.Entry("stop", "x"), 0)  # the command that went on, say
    (kept,), _ = journal.found("app")
    assert not journal.is_closed(kept)  # the next command tries again


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="start times come from /proc")
def test_a_pid_given_to_a_later_process_does_not_close_a_journal() -> None:
    assert written().started == journal.process_start(os.getpid()) is not None
    later = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = journal.process_start(later.pid)
        assert started is not None
        assert journal.is_closed(written(pid=later.pid, started=started))  # that very run, alive
        assert not journal.is_closed(written(pid=later.pid, started=started - 1))  # the killed run's number, reused
    finally:
        later.kill()
        later.wait()
