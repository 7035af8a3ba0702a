"""How dockervisor takes SIGINT, SIGTERM and SIGHUP (signals.py), in this process:
every handler is put back as it was after each test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from dockervisor.core import signals
from support import REPO

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@pytest.fixture(autouse=True)
def handlers_back() -> Iterator[None]:
    before = {number: signal.getsignal(number) for number in HANDLED}
    yield
    for number, handler in before.items():
        signal.signal(number, handler)


@pytest.mark.parametrize("ignored", HANDLED, ids=lambda n: signal.Signals(n).name)
def test_a_signal_the_caller_ignores_stays_ignored(ignored: int) -> None:
    """`nohup dockervisor ...` ignores SIGHUP: a closed terminal must not interrupt the run."""
    for number in HANDLED:
        signal.signal(number, signal.SIG_IGN if number == ignored else signal.SIG_DFL)
    restore = signals.install()
    assert signal.getsignal(ignored) is signal.SIG_IGN
    assert all(signal.getsignal(n) is signals._handler for n in HANDLED if n != ignored)
    restore()
    assert signal.getsignal(ignored) is signal.SIG_IGN
    assert all(signal.getsignal(n) is signal.SIG_DFL for n in HANDLED if n != ignored)


@pytest.mark.parametrize("number", HANDLED, ids=lambda n: signal.Signals(n).name)
def test_each_handled_signal_is_an_interruption_outside_a_deferred_block_and_noted_inside(number: int) -> None:
    for each in HANDLED:
        signal.signal(each, signal.SIG_DFL)
    restore = signals.install()
    try:
        with pytest.raises(signals.Interrupted) as raised:
            os.kill(os.getpid(), number)
        assert raised.value.signum == number
        with pytest.raises(signals.Interrupted):  # raised when the block ends, not inside it
            with signals.deferred("finishing first"):
                os.kill(os.getpid(), number)
                reached = True
        assert reached and signals.take_pending() is None
    finally:
        restore()


def test_under_nohup_sighup_stays_ignored_and_the_others_are_handled() -> None:
    """A fresh process that inherits SIG_IGN for SIGHUP from nohup, as cron jobs often do."""
    script = (
        "import signal, sys\n"
        "from dockervisor.core import signals\n"
        "signals.install()\n"
        "print(signal.getsignal(signal.SIGHUP) is signal.SIG_IGN,\n"
        "      signal.getsignal(signal.SIGTERM) is signals._handler)\n"
    )
    done = subprocess.run(
        ["nohup", sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.stdout.split() == ["True", "True"]
