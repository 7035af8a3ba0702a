"""Wait until a started container is really up, or say why it is not.

Up means: running and, when the image has a HEALTHCHECK, healthy; and staying
so, without exiting, restarting or turning unhealthy, for a settle time. The
settle time catches a service that starts and then dies a moment later, as
Docker Swarm's update monitor does.
"""

from __future__ import annotations

import time

from dockervisor.engine import argv as docker_argv, query
from dockervisor.engine.executor import QUERY_TIMEOUT, Executor
from dockervisor.core.output import plural, printable

DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_SETTLE_SECONDS = 3.0
_POLL_SECONDS = 0.25
LOG_LINES = 20
HEALTH_LOG_ENTRIES = 5
# A hung engine ends the wait this long after its limit.
_ANSWER_GRACE_SECONDS = 3.0

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from typing import TextIO


class WaitPolicy:
    """`probe`: the family's own check from the host (flows/probe.py), or
    None. `probation`: seconds a start new keeps watching once up (None: the
    family's own, 0: none); `promote`: mark it stable then (None: the family's)."""

    __slots__ = ("enabled", "timeout", "settle", "probe", "probation", "promote")

    def __init__(
        self,
        enabled: bool = True,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        settle: float = DEFAULT_SETTLE_SECONDS,
        probe: str | None = None,
        probation: float | None = None,
        promote: bool | None = None,
    ) -> None:
        self.enabled = enabled
        self.timeout = timeout
        self.settle = settle
        self.probe = probe
        self.probation = probation
        self.promote = promote

    def probing(self, url: str | None) -> WaitPolicy:
        """The same wait, with the family's probe."""
        return WaitPolicy(self.enabled, self.timeout, self.settle, url, self.probation, self.promote)


def has_healthcheck(document: dict) -> bool:
    test = ((document.get("Config") or {}).get("Healthcheck") or {}).get("Test") or []
    return bool(test) and test[0] != "NONE"


def state_text(document: dict, with_health: bool) -> str:
    state = document.get("State") or {}
    text = str(state.get("Status", "unknown"))
    if with_health:
        text += f", health {(state.get('Health') or {}).get('Status', 'unknown')}"
    return text


def watch_probation(docker: Executor, name: str, policy: WaitPolicy, stderr: TextIO) -> str | None:
    """None once `name`, up, has stayed up (running, healthy, answering its
    probe, never restarted) for the probation; otherwise what it did."""
    watch = WaitPolicy(True, policy.timeout, float(policy.probation or 0), policy.probe)
    return wait_until_up(docker, name, watch, stderr, probation=True)


def wait_until_up(
    docker: Executor, name: str, policy: WaitPolicy, stderr: TextIO, probation: bool = False
) -> str | None:
    """None once `name` is up; otherwise the reason it is not."""
    deadline = time.monotonic() + policy.timeout
    up_since: float | None = None
    restarts_at_start: int | None = None
    exit_code = 0  # the last one seen: a restarted container's State forgets it
    said = ""
    said_probe: str | None = ""  # what the probe last said: "" not yet, None answers
    while True:
        # Each question may take no longer than the wait has left, so a hung
        # engine fails the start soon after --wait instead of holding it.
        left = max(deadline - time.monotonic(), policy.settle if up_since is not None else 0.0)
        timeout = min(left + _ANSWER_GRACE_SECONDS, QUERY_TIMEOUT)
        document = query.inspect_container(docker, name, timeout)
        if document is None:
            return "it no longer exists"
        with_health = has_healthcheck(document)
        if restarts_at_start is None:
            restarts_at_start = query.restarts(document)
            goal = "running and healthy" if with_health else "running"
            goal += f" and answering {policy.probe}" if policy.probe else ""
            opening = (
                f"watching {name} for its {policy.settle:g}s probation: it must stay {goal}"
                if probation
                else f"waiting up to {policy.timeout:g}s for {name} to be {goal} for {policy.settle:g}s"
            )
            print(f"dockervisor: {opening}", file=stderr, flush=True)
        state = document.get("State") or {}
        exit_code = int(state.get("ExitCode") or 0) or exit_code
        now = time.monotonic()
        description = state_text(document, with_health)
        if description != said:
            print(f"dockervisor: {name}: {description}", file=stderr, flush=True)
            said = description
        if state.get("Status") in ("exited", "dead"):
            return f"it exited with code {state.get('ExitCode')}"
        if state.get("Restarting") or query.restarts(document) > restarts_at_start:
            code = f" (exit code {exit_code})" if exit_code else ""
            return f"it keeps exiting{code} and being restarted"
        health = (state.get("Health") or {}).get("Status")
        if with_health and health == "unhealthy":
            return "its HEALTHCHECK reports unhealthy"
        running = state.get("Status") == "running" and (not with_health or health == "healthy")
        if running and policy.probe:
            from dockervisor.flows.probe import check

            unanswered = check(policy.probe)
            if unanswered != said_probe:
                print(f"dockervisor: {name}: probe {policy.probe}: {unanswered or 'answers'}", file=stderr, flush=True)
                said_probe = unanswered
            if unanswered is not None and up_since is not None:  # it answered, then stopped: not up
                return f"its probe {policy.probe} answered, then not: {unanswered}"
            running = unanswered is None
        if running:
            up_since = now if up_since is None else up_since
            if now - up_since >= policy.settle:
                print(f"dockervisor: {name} {'passed its probation' if probation else 'is up'}", file=stderr, flush=True)
                return None
        else:
            up_since = None
        # The limit is on coming up; once up, the settle time runs to its end,
        # so a settle time longer than --wait cannot fail a good container.
        if up_since is None and now >= deadline:
            probed = f"; probe {policy.probe}: {said_probe}" if said_probe else ""
            return f"it was not up after {policy.timeout:g}s ({description}{probed})"
        time.sleep(_POLL_SECONDS)


def report_failure(docker: Executor, name: str, stderr: TextIO) -> None:
    """Print what helps to see why `name` failed: its exit code, its last logs
    and health checks, with terminal control sequences made visible."""
    logs, inspected = docker.query_all(
        [docker_argv.logs(name, LOG_LINES), docker_argv.inspect_containers([name])], check=False
    )
    documents = query.inspected(inspected) if inspected.ok else []
    state = (documents[0].get("State") or {}) if documents else {}
    if state.get("Status") in ("exited", "dead", "restarting"):
        print(f"dockervisor: {name} exited with code {state.get('ExitCode')}", file=stderr)
    lines = (logs.stdout + logs.stderr).splitlines()[-LOG_LINES:]
    if lines:
        print(f"dockervisor: last {plural(len(lines), 'log line')} of {name}:", file=stderr)
    else:
        print(f"dockervisor: {name} logged nothing", file=stderr)
    for line in lines:
        print(f"  | {printable(line)}", file=stderr)
    health_log = (state.get("Health") or {}).get("Log") or []
    if health_log:
        print(f"dockervisor: last health checks of {name}:", file=stderr)
        for check in health_log[-HEALTH_LOG_ENTRIES:]:
            output = printable(" ".join(str(check.get("Output", "")).split())[:200])
            print(f"  | {_utc(check.get('Start'))} exit {check.get('ExitCode')}: {output}", file=stderr)
    stderr.flush()


def _utc(docker_time: object) -> str:
    from dockervisor.core.timefmt import iso_utc, parse_docker_time

    epoch = parse_docker_time(str(docker_time or ""))
    return iso_utc(epoch) if epoch is not None else "?"
