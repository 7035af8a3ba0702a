"""SIGINT, SIGTERM and SIGHUP end a run the same way: as an interruption.

cron, systemd and a dropped ssh session stop a program with SIGTERM or SIGHUP,
a person with Ctrl-C. `install()` makes all three raise `Interrupted` (a
KeyboardInterrupt), so every `finally` and every rollback written for Ctrl-C
runs for them too. Inside `deferred()` a signal is only noted, so that a docker
command that changes something finishes and what docker did is known; it is
raised once the outermost deferred block ends normally.

Signals reach the main thread alone. When several engines change at once
(`start --parallel N`), each in a thread, deferred blocks are counted per
thread, and the main thread hands a signal it caught to every worker with
`broadcast()`: each then stops at its next safe point, as on one engine.
"""

from __future__ import annotations

import signal
import sys
import threading  # subprocess has loaded it already
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_HANDLED = ("SIGINT", "SIGTERM", "SIGHUP")

_pending: int | None = None
_broadcast: int | None = None  # a signal every worker thread stops for; never taken
_thread = threading.local()  # .depth and .waiting_for: the deferred blocks of this thread


def _depth() -> int:
    return getattr(_thread, "depth", 0)


def _waiting_for() -> list[str]:
    if not hasattr(_thread, "waiting_for"):
        _thread.waiting_for = []
    return _thread.waiting_for


class Interrupted(KeyboardInterrupt):
    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum

    @property
    def name(self) -> str:
        return signal_name(self.signum)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def install() -> Callable[[], None]:
    """Handle the three signals; one the caller ignores (nohup) stays ignored.
    Returns what puts the previous handlers back."""
    previous = {}
    for name in _HANDLED:
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is not signal.SIG_IGN:
            previous[number] = signal.signal(number, _handler)

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)

    return restore


def _handler(signum: int, frame: object) -> None:
    global _pending
    if _depth() == 0:
        raise Interrupted(signum)
    if _pending is None:
        _pending = signum
    print(
        f"dockervisor: got {signal_name(signum)}; {_waiting_for()[-1]}",
        file=sys.stderr,
        flush=True,
    )


@contextmanager
def deferred(waiting_for: str, resume: bool = True) -> Iterator[None]:
    """Note signals instead of raising them while the block runs.

    `waiting_for` finishes the sentence said when one arrives. With `resume`,
    a noted signal is raised when the outermost block ends normally;
    without, the caller asks `take_pending()` and decides.
    """
    _thread.depth = _depth() + 1
    _waiting_for().append(waiting_for)
    try:
        yield
    finally:
        _thread.depth -= 1
        _waiting_for().pop()
    if resume and _depth() == 0 and (_pending or _broadcast) is not None:
        raise Interrupted(take_pending() or signal.SIGINT)


def take_pending() -> int | None:
    """The signal noted inside a deferred block, if any; it is then forgotten."""
    global _pending
    signum, _pending = _pending, None
    return signum or _broadcast


def raise_pending() -> None:
    """Raise a signal noted earlier, at a point where stopping is safe: not
    inside a deferred block (a rollback asks `take_pending()` itself)."""
    if _depth() == 0 and (_pending or _broadcast) is not None:
        raise Interrupted(take_pending() or signal.SIGINT)


def broadcast(signum: int | None) -> None:
    """Make every thread stop at its next safe point as if `signum` had come
    to it (None: forget it, once the workers are done)."""
    global _broadcast
    _broadcast = signum
