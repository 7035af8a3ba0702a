"""OS errors on dockervisor's own files: one line with the path and the reason,
no traceback, and no temporary or partial file left behind.

The tests run as root, which no permission bit stops, so a full disk or a
read-only file system is simulated by making one os function fail."""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import pytest

from dockervisor import cli
from dockervisor.store import files, history, state
from dockervisor.core.errors import PathError
from dockervisor.store.locking import family_lock


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def failing(monkeypatch: pytest.MonkeyPatch, name: str, code: int, after: int = 0) -> None:
    """Make os.NAME raise OSError(code) from its (after+1)-th call on."""
    real = getattr(os, name)
    calls = []

    def fake(*args: object, **kwargs: object) -> object:
        calls.append(args)
        if len(calls) > after:
            raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, fake)


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize(
    "function, code",
    [
        ("write", errno.ENOSPC),
        ("fsync", errno.EIO),
        ("replace", errno.EROFS),
        ("open", errno.EROFS),
    ],
)
def test_a_failed_state_write_says_so_and_leaves_the_old_file(
    home: Path, monkeypatch: pytest.MonkeyPatch, function: str, code: int
) -> None:
    state.save(state.FamilyState("app", last="dcv_app_1"))
    path = home / "families" / "app.json"
    before = path.read_bytes()
    with monkeypatch.context() as patch:
        failing(patch, function, code)
        with pytest.raises(PathError) as raised:
            state.save(state.FamilyState("app", last="dcv_app_2"))
    assert raised.value.message == f"cannot write {path}: {os.strerror(code)}"
    assert (raised.value.path, raised.value.reason) == (str(path), os.strerror(code))
    assert listing(path.parent) == ["app.json"]  # no app.json.PID.tmp
    assert path.read_bytes() == before


def test_a_failed_append_leaves_no_torn_line(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history.append("app", history.Entry("build", "dockervisor build app"), 0.0)
    path = home / "history" / "app.jsonl"
    before = path.read_bytes()
    real_write = os.write

    def half_then_full(fd: int, data: bytes) -> int:
        if len(data) > 8:
            return real_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:
        patch.setattr(os, "write", half_then_full)
        with pytest.raises(PathError, match=f"^cannot write {path}: No space left on device$"):
            history.append("app", history.Entry("stop", "dockervisor stop app"), 1.0)
    assert path.read_bytes() == before


def test_a_failed_env_file_is_removed(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = home / "tmp" / "dcv_app_1.env"
    with monkeypatch.context() as patch:
        failing(patch, "write", errno.ENOSPC)
        with pytest.raises(PathError, match="No space left on device"):
            files.create_private(str(path), b"TOKEN=secret\n")
    assert listing(path.parent) == []


@pytest.mark.parametrize("function", ["mkdir", "lstat"])
def test_a_state_directory_that_cannot_be_made_is_one_error(
    home: Path, monkeypatch: pytest.MonkeyPatch, function: str
) -> None:
    with monkeypatch.context() as patch:
        failing(patch, function, errno.EROFS)
        with pytest.raises(PathError) as raised:
            state.save(state.FamilyState("app"))
    assert raised.value.reason == "Read-only file system"
    assert str(home) in raised.value.message


@pytest.mark.parametrize(
    "function, operation, doing",
    [
        ("open", lambda: state.load("app"), "read"),
        ("listdir", state.known_families, "list"),
        ("lstat", lambda: state.family_exists("app"), "read"),
    ],
)
def test_an_unreadable_state_is_one_error(
    home: Path, monkeypatch: pytest.MonkeyPatch, function: str, operation: object, doing: str
) -> None:
    state.save(state.FamilyState("app"))
    # lstat: the two directory checks pass, the file's own lstat fails.
    with monkeypatch.context() as patch:
        failing(patch, function, errno.EACCES, after=2 if function == "lstat" else 0)
        with pytest.raises(PathError) as raised:
            operation()  # type: ignore[operator]
    assert raised.value.message.startswith(f"cannot {doing} {home / 'families'}")
    assert raised.value.message.endswith(": Permission denied")


def test_the_lock_reports_a_failed_flock(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.raises(PathError) as raised:
        with family_lock("app", "test", io.StringIO()):
            pass
    assert raised.value.message == f"cannot lock {home / 'locks' / 'app.lock'}: No locks available"


def test_the_lock_reports_a_full_disk_before_the_command_runs(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = False
    with monkeypatch.context() as patch:
        failing(patch, "pwrite", errno.ENOSPC)
        with pytest.raises(PathError, match="cannot lock .*app.lock: No space left on device"):
            with family_lock("app", "test", io.StringIO()):
                ran = True
    assert not ran


@pytest.mark.parametrize(
    "name, words",
    [
        ("locks/app.lock", "app.lock: it is a symbolic link"),
        ("families/app.json.{pid}.tmp", ".tmp is a symbolic link"),
        ("tmp/dcv_app_1.env", "dcv_app_1.env: File exists"),  # O_EXCL: not even a link is reused
    ],
)
def test_a_link_where_a_file_of_ours_goes_is_refused(home: Path, tmp_path: Path, name: str, words: str) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("untouched")
    link = home / name.format(pid=os.getpid())
    link.parent.mkdir(parents=True, mode=0o700)
    link.symlink_to(target)
    with pytest.raises(PathError) as raised:
        if name.startswith("locks/"):
            with family_lock("app", "test", io.StringIO()):
                pass
        elif name.startswith("families/"):
            state.save(state.FamilyState("app"))
        else:
            files.create_private(str(link), b"A=1\n")
    assert words in raised.value.message
    assert target.read_text() == "untouched"


def test_home_that_is_a_file_is_one_line_for_every_command_that_needs_no_docker(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    home.write_text("not a directory")
    for argv in (["history", "app"], ["stable", "show", "app"], ["history", "app", "--json"]):
        assert cli.main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("dockervisor: error: ") and str(home) in err
        assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("made", ["symlink", "group-writable", "file"])
def test_a_state_directory_someone_else_makes_between_mkdir_and_the_check_is_refused(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made: str
) -> None:
    """Another process wins the race for `families/`: what it made is checked like any found directory."""
    from dockervisor.store import paths

    paths.ensure_private_dir(str(home))
    target = str(home / "families")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    real = os.mkdir

    def racing(path: object, mode: int = 0o777, *args: object, **kwargs: object) -> None:
        if str(path) == target:  # the other process got there first
            if made == "symlink":
                os.symlink(elsewhere, target)
            elif made == "group-writable":
                real(target, 0o700)
                os.chmod(target, 0o777)
            else:
                Path(target).write_text("")
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), target)
        real(path, mode, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "mkdir", racing)
    with pytest.raises(PathError) as raised:
        state.save(state.FamilyState("app"))
    assert target in raised.value.message
    assert list(elsewhere.iterdir()) == []  # nothing was written through the link
