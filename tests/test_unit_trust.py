"""The state directory is the user's own, or dockervisor refuses it in one line.

DOCKERVISOR_HOME and every directory in it must be real directories (not
links) owned by the user running dockervisor and writable by no one else;
state files are never read or written through a link. "Another user" is uid
65534, set with chown: those tests need root and skip cleanly without it.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from dockervisor import cli
from dockervisor.store import history, state
from dockervisor.core.errors import PathError
from dockervisor.store.locking import family_lock

OTHER_UID = 65534


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a directory to another user (chown) needs root")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def planted_state(home: Path) -> Path:
    """A valid state file, as another user could have put it there."""
    path = home / "families" / "app.json"
    path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    document = {"schema": 1, "image": "app", "last": None, "stable": None, "build": {},
                "run_config": {"ports": [], "mounts": [{"source": "/root", "target": "/x"}],
                               "env": {}, "env_file": None}}  # fmt: skip
    path.write_text(json.dumps(document))
    return path


def make(home: Path, directory: str = "") -> Path:
    path = home / directory
    path.mkdir(parents=True, mode=0o700, exist_ok=True)
    return path


def world_writable_home(home: Path) -> tuple[Path, str]:
    make(home).chmod(0o777)
    return home, f"it is writable by its group and everyone (mode 0777); run `chmod 700 {home}`"


def group_writable_families(home: Path) -> tuple[Path, str]:
    families = make(home, "families")
    families.chmod(0o770)
    return families, f"it is writable by its group (mode 0770); run `chmod 700 {families}`"


def world_writable_locks(home: Path) -> tuple[Path, str]:
    locks = make(home, "locks")
    locks.chmod(0o702)
    return locks, "writable by everyone (mode 0702)"


def another_users_home(home: Path) -> tuple[Path, str]:
    need_root()
    os.chown(make(home), OTHER_UID, -1)
    return home, f"it is owned by nobody (uid {OTHER_UID}), not by root (uid 0), who runs dockervisor"


def another_users_history(home: Path) -> tuple[Path, str]:
    need_root()
    os.chown(make(home, "history"), OTHER_UID, -1)
    return home / "history", f"owned by nobody (uid {OTHER_UID})"


def linked_home(home: Path) -> tuple[Path, str]:
    real = make(home.parent / "real")
    home.symlink_to(real)
    return home, f"it is a symbolic link, and dockervisor follows none in its state directory; set DOCKERVISOR_HOME={real}"


def linked_families(home: Path) -> tuple[Path, str]:
    real = make(home.parent / "elsewhere")
    make(home)
    (home / "families").symlink_to(real)
    return home / "families", f"it is a symbolic link, and dockervisor follows none in its state directory; put the directory {real} in its place"


def shared_home(home: Path) -> tuple[Path, str]:
    make(home).chmod(0o1777)
    return home, "it is a shared directory (mode 1777); set DOCKERVISOR_HOME to a directory of your own"


def file_as_home(home: Path) -> tuple[Path, str]:
    home.write_text("")
    return home, "it is not a directory; DOCKERVISOR_HOME must name one"


def file_as_families(home: Path) -> tuple[Path, str]:
    make(home)
    (home / "families").write_text("")
    return home / "families", "it is not a directory"


# Each breaks home or one directory in it, the last word of its name.
SETUPS = [world_writable_home, group_writable_families, world_writable_locks,
          another_users_home, another_users_history, linked_home, linked_families,
          shared_home, file_as_home, file_as_families]  # fmt: skip


def lock(image: str) -> None:
    with family_lock(image, "test", io.StringIO()):
        pass


# Each operation, and the directory below home it uses.
OPERATIONS: list[tuple[str, str, Callable[[], object]]] = [
    ("load", "families", lambda: state.load("app")),
    ("save", "families", lambda: state.save(state.FamilyState("app"))),
    ("exists", "families", lambda: state.family_exists("app")),
    ("known", "families", state.known_families),
    ("lock", "locks", lambda: lock("app")),
    ("append", "history", lambda: history.append("app", history.Entry("stop", "x"), 0.0)),
]


@pytest.mark.parametrize(
    "setup, operation",
    [
        pytest.param(setup, operation, id=f"{name}-{setup.__name__}")
        for setup in SETUPS
        for name, directory, operation in OPERATIONS
        if setup.__name__.rsplit("_", 1)[-1] in ("home", directory)
    ],
)
def test_an_untrusted_state_directory_is_refused_in_one_line(
    home: Path, setup: Callable, operation: Callable[[], object]
) -> None:
    refused, reason = setup(home)
    before = sorted(str(p) for p in home.parent.rglob("*"))
    with pytest.raises(PathError) as raised:
        operation()
    assert raised.value.path == str(refused)
    assert raised.value.message.startswith(f"cannot use {refused}: ")
    assert reason in raised.value.message and "\n" not in raised.value.message
    assert sorted(str(p) for p in home.parent.rglob("*")) == before  # nothing made or changed


@pytest.mark.parametrize("mode", [0o700, 0o755, 0o750, 0o500])
def test_a_directory_of_ones_own_that_others_cannot_write_is_used(home: Path, mode: int) -> None:
    state.save(state.FamilyState("app", last="dcv_app_1"))
    (home / "families").chmod(mode)
    home.chmod(mode)
    try:
        assert state.load("app").last == "dcv_app_1"
        assert state.known_families() == ["app"]
    finally:
        home.chmod(0o700)


def test_directories_are_made_private(home: Path) -> None:
    lock("app")
    assert [oct(p.stat().st_mode & 0o777) for p in (home, home / "locks")] == ["0o700", "0o700"]


def test_a_missing_home_is_not_made_by_reading(home: Path) -> None:
    assert state.load("app").last is None
    assert state.known_families() == [] and not state.family_exists("app")
    assert not home.exists()


def test_a_linked_state_file_is_refused(home: Path, tmp_path: Path) -> None:
    target = planted_state(tmp_path / "other")
    link = make(home, "families") / "app.json"
    link.symlink_to(target)
    for operation in (lambda: state.load("app"), lambda: state.family_exists("app")):
        with pytest.raises(PathError) as raised:
            operation()
        assert raised.value.message == (
            f"cannot read {link}: it is a symbolic link, and dockervisor follows none in its state directory"
        )


@pytest.mark.parametrize("argv", [["start", "new", "app"], ["start", "new", "app", "--dry-run"]])
def test_a_state_file_planted_by_another_user_is_never_used(
    home: Path, argv: list[str], capsys: pytest.CaptureFixture
) -> None:
    """The audit: another user replaced families/app.json, and `start new`
    mounted a root-only host directory. Refused before docker is asked."""
    planted_state(home)
    need_root()
    os.chown(home, OTHER_UID, -1)
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err == (
        f"dockervisor: error: cannot use {home}: it is owned by nobody (uid {OTHER_UID}), not by "
        "root (uid 0), who runs dockervisor; anyone who can change it decides what dockervisor "
        "runs and mounts: give each user a DOCKERVISOR_HOME of their own\n"
    )


@pytest.mark.parametrize("setup", [world_writable_home, another_users_history, file_as_home])
def test_history_names_the_directory_it_refuses(
    home: Path, setup: Callable, capsys: pytest.CaptureFixture
) -> None:
    refused, reason = setup(home)
    assert cli.main(["history", "app"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"dockervisor: error: cannot use {refused}: ") and reason in err
    assert err.count("\n") == 1
