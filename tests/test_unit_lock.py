"""The family lock: a second run waits, says who it waits for, and gives up cleanly."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dockervisor.core.errors import DockervisorError
from dockervisor.store.locking import family_lock, lock_timeout, parse_seconds

HOLD = """
import sys, time
from dockervisor.store.locking import family_lock, lock_timeout, parse_seconds
with family_lock("app", "dockervisor start new app (the holder)"):
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def hold_lock(seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


def test_gives_up_after_the_timeout_naming_the_holder(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERVISOR_LOCK_TIMEOUT", "0.5")
    holder = hold_lock(30)
    stderr = io.StringIO()
    try:
        with pytest.raises(DockervisorError) as raised:
            with family_lock("app", "second", stderr):
                pass
    finally:
        holder.kill()
        holder.wait()
    assert "gave up after 0.5s" in raised.value.message
    assert "(the holder)" in raised.value.message
    assert "waiting for the lock on 'app'" in stderr.getvalue()


def test_waits_for_the_holder_then_proceeds(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERVISOR_LOCK_TIMEOUT", "30")
    holder = hold_lock(1.5)
    stderr = io.StringIO()
    asked = time.monotonic()
    with family_lock("app", "second", stderr):
        waited = time.monotonic() - asked
    holder.wait()
    # Granted only once the holder let go, not at once and not as an error. A lower
    # bound: load only makes the wait longer.
    assert waited >= 1.0
    assert "waiting for the lock on 'app', held by pid" in stderr.getvalue()


def test_other_families_do_not_wait(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERVISOR_LOCK_TIMEOUT", "0")
    holder = hold_lock(30)
    stderr = io.StringIO()
    entered = False
    try:
        with family_lock("app2", "other family", stderr):
            entered = True
    finally:
        holder.kill()
        holder.wait()
    # A timeout of 0 gives up at once: getting in at all means nobody held it.
    assert entered and stderr.getvalue() == ""


@pytest.mark.parametrize(
    "text, seconds",
    [("300", 300.0), ("2.5", 2.5), (".5", 0.5), ("0", 0.0),
     ("nan", None), ("inf", None), ("1e3", None), ("-1", None), ("٣", None), ("２", None),
     ("", None), (".", None), (" 5", None), ("1.2.3", None)],
)  # fmt: skip
def test_seconds_are_ascii_digits_only(text: str, seconds: float | None) -> None:
    assert parse_seconds(text) == seconds


def test_a_lock_timeout_of_nan_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERVISOR_LOCK_TIMEOUT", "nan")
    with pytest.raises(DockervisorError, match="ASCII digits"):
        lock_timeout()
