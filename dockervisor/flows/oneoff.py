"""One-off containers in a family's setting: the release step (release.py)
and `dockervisor run`.

A one-off is created with `--rm` from one exact image (engine/oneoffs.py says
what of the family's setting it takes), joined to the family's other
networks, then started attached. Whatever ends it (its exit, a time-out, a
signal, an error), it is removed before this returns or raises; if
dockervisor is killed, docker removes it once it ends (`--rm`), and the
family's lock, inherited by the docker client, is held until then.
"""

from __future__ import annotations

import time

from dockervisor.core import signals
from dockervisor.engine import oneoffs
from dockervisor.flows import environment
from dockervisor.store.identity import state_id

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from dockervisor.config.runconfig import RunConfig
    from dockervisor.flows.context import Context


class Ended:
    """How a one-off ended: docker's exit code (None: stopped at its time
    limit), its last lines of output, and how long it ran."""

    __slots__ = ("exit_code", "tail", "seconds")

    def __init__(self, exit_code: int | None, tail: list[str], seconds: float) -> None:
        self.exit_code, self.tail, self.seconds = exit_code, tail, seconds


def new_name(family: str, purpose: str) -> str:
    """A name no other one-off takes: a time stamp and a random part (several
    `dockervisor run` may run at once)."""
    import secrets

    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    return oneoffs.name_for(family, purpose, f"{stamp}_{secrets.token_hex(3)}")


def run_captured(
    ctx: Context, family: str, config: RunConfig, image: str, command: list[str], env: dict[str, str],
    timeout: float, purpose: str = "release",
) -> Ended:  # fmt: skip
    """Run `command` from `image`, its output shown live on stderr (the
    values in `env` hidden), for at most `timeout` seconds; an interruption
    removes it, then is raised."""
    from dockervisor.flows.outcome import hide

    name = new_name(family, purpose)
    began = time.monotonic()
    with _created(ctx, name, family, config, image, command, env):
        start = oneoffs.start_attached(name)
        code, tail = ctx.docker.attached(start, timeout, shown=lambda line: str(hide(line, env.values())))
    return Ended(code, tail, time.monotonic() - began)


def run_foreground(
    ctx: Context, family: str, config: RunConfig, image: str, command: list[str], env: dict[str, str],
    interactive: bool, tty: bool,
) -> int:  # fmt: skip
    """Run `command` from `image` with the user's stdin (`interactive`),
    terminal (`tty`), stdout and stderr; docker's exit code."""
    name = new_name(family, "run")
    with _created(ctx, name, family, config, image, command, env, interactive, tty):
        return ctx.docker.foreground(oneoffs.start_attached(name, interactive))


def _created(
    ctx: Context, name: str, family: str, config: RunConfig, image: str, command: list[str],
    env: dict[str, str], interactive: bool = False, tty: bool = False,
) -> _Scope:  # fmt: skip
    return _Scope(ctx, name, family, config, image, command, env, interactive, tty)


class _Scope:
    """`with`: the one-off created and joined to its networks; afterwards, removed."""

    def __init__(
        self, ctx: Context, name: str, family: str, config: RunConfig, image: str, command: list[str],
        env: dict[str, str], interactive: bool, tty: bool,
    ) -> None:  # fmt: skip
        self.ctx, self.name, self.family, self.config = ctx, name, family, config
        self.image, self.command, self.env = image, command, env
        self.interactive, self.tty = interactive, tty
        self.created = False

    def __enter__(self) -> _Scope:
        ctx, name = self.ctx, self.name
        owner = state_id(create=not ctx.dry_run)
        try:
            with environment.env_source(ctx, self.env) as (env_args, shown, fds):
                create = oneoffs.create(name, self.family, self.config, self.image, self.command, env_args, owner,
                                        self.interactive, self.tty)  # fmt: skip
                shown_create = oneoffs.create(name, self.family, self.config, self.image, self.command, shown,
                                              owner, self.interactive, self.tty)  # fmt: skip
                self.created = True  # from here on, docker may have made it
                ctx.docker.change(create, pass_fds=fds, shown=shown_create)
            for argv in oneoffs.connect(name, self.config.options.networks):
                ctx.docker.change(argv)
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._remove()

    def _remove(self) -> None:
        """Gone, whatever happened: a signal now waits until it is (and is
        raised at the next safe point)."""
        if not self.created or self.ctx.dry_run:
            return
        with signals.deferred(f"removing the one-off container {self.name} first", resume=False):
            result = self.ctx.docker.change(oneoffs.remove(self.name), check=False)
        # `--rm` may be removing it already: either way it is going.
        if not result.ok and not _already_going(result.stderr):
            self.ctx.info(f"could not remove the one-off container {self.name}: {result.stderr.strip()}")


def _already_going(said: str) -> bool:
    return "No such container" in said or "already in progress" in said
