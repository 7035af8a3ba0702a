"""The lock an engine holds for a family, for admins on other machines.

The local lock (locking.py) keeps apart the runs that share one state
directory. Two admins with state directories of their own, on two machines,
driving one engine, would still interleave their changes; so every change
also holds the engine's own lock: a container named `dockervisor-lock-IMAGE`
that is created and never started. The engine lets only one client create a
name, and the container's labels say who holds it and since when. It is
waited for like the local lock; one left by a client that was killed stays
until `dockervisor unlock IMAGE` removes it, naming the holder.

Except one left by a run of this very state directory on this machine (its
`owner` label says so): that run held the local lock too, which we hold now,
so it is gone, and its engine lock is taken over at once. So `start last`
after a kill -9 puts things right by itself, as on one engine.

The container is made from `dockervisor-lock:1`, an image of no files that
the first lock on an engine imports from an empty archive (no registry).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dockervisor.core import signals
from dockervisor.engine import argv as docker_argv
from dockervisor.core.errors import DockervisorError
from dockervisor.engine.executor import QUERY_TIMEOUT, Executor, command_failed
from dockervisor.engine.said import docker_said, first_line
from dockervisor.store.locking import lock_timeout, wait_for

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from typing import TextIO

_POLL_SECONDS = 0.5  # each try is a docker call: a second client waits a little longer
_EMPTY_TAR = b"\0" * 1024  # two zero blocks: an archive of nothing
_NO_IMAGE = ("No such image", "not found", "Unable to find")


@contextmanager
def engine_lock(
    docker: Executor,
    family: str,
    holder: str,
    engine: str,
    unlock_hint: str,
    stderr: TextIO,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold the engine's lock on `family`; `engine` names it in messages and
    `unlock_hint` is the command that breaks a stale one."""
    made: list[str] = []  # the ID of our lock container, once created
    imported = checked = False

    def take() -> bool:
        nonlocal imported, checked
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        argv = docker_argv.create_lock(family, f"{holder_label()}: {holder}", since, owner_label())
        while True:
            result = docker.change(argv, check=False, timeout=QUERY_TIMEOUT)
            if result.ok:
                made.append(result.stdout.strip() or docker_argv.lock_name(family))
                return True
            if docker_said(result.stderr, "already in use", "Conflict"):
                if checked:
                    return False
                checked = True
                if not _take_over_our_own(docker, family, stderr):
                    return False
                continue
            if imported or not docker_said(result.stderr, *_NO_IMAGE):
                raise command_failed(result)
            _import_lock_image(docker)  # the first lock on this engine
            imported = True

    what = f"the lock on {family!r} that the engine {engine} holds"
    wait_for(
        take, what, what, lambda: current_holder(docker, family),
        f"if that run is gone (killed, or its machine lost), `{unlock_hint}` breaks it",
        lock_timeout(), stderr, on_wait, _POLL_SECONDS,
    )  # fmt: skip
    try:
        yield
    finally:
        _release(docker, family, made[0], unlock_hint, stderr)


def describe_holder(labels: dict[str, str]) -> str:
    from dockervisor.core.output import printable  # labels anyone on the engine may have set

    holder = labels.get(f"{docker_argv.LOCK_LABEL}.holder") or "an unknown client"
    since = labels.get(f"{docker_argv.LOCK_LABEL}.since")
    return printable(f"{holder}{f', since {since}' if since else ''}")


def owner_label() -> str:
    """This machine and this state directory, as one opaque word."""
    import hashlib

    from dockervisor.store import paths

    try:
        with open("/etc/machine-id", "rb") as handle:
            machine = handle.read().strip()
    except OSError:
        machine = socket.gethostname().encode()
    return hashlib.sha256(machine + b"\0" + paths.state_root().encode()).hexdigest()[:32]


def _take_over_our_own(docker: Executor, family: str, stderr: TextIO) -> bool:
    """Remove a lock left by a run of this state directory on this machine,
    which is gone: we hold the local lock it held. Whether we did."""
    from dockervisor.engine.query import inspect_container

    document = inspect_container(docker, docker_argv.lock_name(family))
    labels = ((document or {}).get("Config") or {}).get("Labels") or {}
    if document is None or labels.get(f"{docker_argv.LOCK_LABEL}.owner") != owner_label():
        return document is None  # gone meanwhile: try again
    docker.change(docker_argv.remove_lock(str(document["Id"])), check=False, timeout=QUERY_TIMEOUT)
    print(
        f"dockervisor: the engine's lock on {family!r} was left by a run of this state directory "
        f"that is gone ({describe_holder(labels)}); taking it over",
        file=stderr,
        flush=True,
    )
    return True


def holder_label() -> str:
    from dockervisor.store.history import current_user

    return f"{current_user()}@{socket.gethostname()} pid {os.getpid()}"


def current_holder(docker: Executor, family: str) -> str:
    """Who holds the engine's lock on `family`, from its labels."""
    from dockervisor.engine.query import inspect_container

    try:
        document = inspect_container(docker, docker_argv.lock_name(family))
    except DockervisorError as error:
        return f"a client dockervisor could not ask about ({error.message})"
    if document is None:
        return "a client that has just let it go"
    return describe_holder((document.get("Config") or {}).get("Labels") or {})


def _import_lock_image(docker: Executor) -> None:
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, _EMPTY_TAR)
        os.close(write_end)
        write_end = -1
        docker.change(
            docker_argv.import_lock_image(f"/dev/fd/{read_end}"), timeout=QUERY_TIMEOUT, pass_fds=(read_end,)
        )
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def _release(docker: Executor, family: str, reference: str, unlock_hint: str, stderr: TextIO) -> None:
    """Remove our lock container, by its ID: never one another client made
    after an unlock. A signal now waits: the lock must not be left behind."""
    with signals.deferred("letting go of the engine's lock first", resume=False):
        try:
            result = docker.change(docker_argv.remove_lock(reference), check=False, timeout=QUERY_TIMEOUT)
            gone = result.ok or docker_said(result.stderr, "No such container")
            problem = None if gone else first_line(result.stderr)
        except DockervisorError as error:
            problem = error.message
    if problem:
        print(
            f"dockervisor: warning: the engine's lock on {family!r} could not be removed "
            f"({problem}); the next change of {family!r} waits for it until `{unlock_hint}`",
            file=stderr,
            flush=True,
        )


def unlock(docker: Executor, family: str, engine: str) -> str | None:
    """Remove the engine's lock on `family`; who held it, or None if nobody did."""
    from dockervisor.engine.query import inspect_container

    document = inspect_container(docker, docker_argv.lock_name(family))
    if document is None:
        return None
    labels = (document.get("Config") or {}).get("Labels") or {}
    if labels.get(docker_argv.LOCK_LABEL) != family:
        raise DockervisorError(
            f"the container {docker_argv.lock_name(family)} on {engine} was not made by dockervisor "
            f"(it has no {docker_argv.LOCK_LABEL}={family} label); refusing to remove it"
        )
    docker.change(docker_argv.remove_lock(str(document["Id"])), timeout=QUERY_TIMEOUT)
    return describe_holder(labels)
