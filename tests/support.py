"""Helpers for the tests: the real CLI, the real engine, and their cleanup."""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The registry of the run's own (tests/registry.sh, started by tests/run): 127.0.0.1:PORT.
REGISTRY = os.environ.get("DOCKERVISOR_TEST_REGISTRY", "")
BUSYBOX = Path(os.environ.get("DOCKERVISOR_TEST_BUSYBOX", "/bin/busybox"))
# Every family a test makes starts with this, so leftovers are easy to find;
# never to remove by: other test runs on the same engine use it too.
FAMILY_PREFIX = "dcvt"
REAL_DOCKER = shutil.which("docker") or "docker"


def truthy(value: str | None) -> bool:
    """How CI services set CI: `true`, `1`, `yes`, `True`; unset, empty, 0,
    false, no and off are not CI."""
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


CI = os.environ.get("CI")  # as the CI service set it, for messages
IN_CI = truthy(CI)


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {result.stderr}")
    return result


def engine_answers() -> bool:
    try:
        return docker("info", check=False, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def inspect(reference: str) -> dict:
    return json.loads(docker("inspect", reference).stdout)[0]


def family_containers(family: str) -> list[dict]:
    """What `docker ps -a` says of a family: name -> state, by label."""
    out = docker(
        "ps", "--all", "--filter", f"label=dockervisor.image={family}",
        "--format", "{{json .}}",
    ).stdout  # fmt: skip
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def running_names(family: str) -> list[str]:
    return sorted(c["Names"] for c in family_containers(family) if c["State"] == "running")


def all_names(family: str) -> list[str]:
    return sorted(c["Names"] for c in family_containers(family))


def cells(line: str) -> list[str]:
    """The cells of one line of a table that was not cut: two spaces part them."""
    return re.split(r"\s{2,}", line.strip())


# Ports handed out on this host, one file each, by any test run: two runs sharing the
# machine never get the same free port, though each asks the kernel for one.
_PORTS_DIR = Path(os.environ.get("DOCKERVISOR_TEST_PORTS_DIR", "/tmp/dockervisor-test-ports"))


def free_port() -> int:
    """A port nothing listens on now and no other test run on this host was given.

    Free at the kernel (bound to port 0), then claimed with a file only one
    process can create; a claim whose process is gone is taken over. The
    claim lasts as long as this process, so a test that publishes the port
    later cannot meet another run's container on it. Something outside the
    test runs may still take the port first: then docker's error names it."""
    _PORTS_DIR.mkdir(mode=0o777, exist_ok=True)
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("", 0))
            port = probe.getsockname()[1]
        claim = _PORTS_DIR / str(port)
        try:
            fd = os.open(claim, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            if _claim_alive(claim):
                continue
            claim.unlink(missing_ok=True)  # its run is gone; another try takes it cleanly
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(str(os.getpid()))
        _CLAIMED.append(claim)
        return port
    raise AssertionError("no free port after 100 tries")


_CLAIMED: list[Path] = []


def _claim_alive(claim: Path) -> bool:
    try:
        pid = int(claim.read_text() or "0")
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


@atexit.register
def _release_ports() -> None:
    for claim in _CLAIMED:
        claim.unlink(missing_ok=True)


def new_family(tag: str = "") -> str:
    suffix = f"-{tag}" if tag else ""
    return f"{FAMILY_PREFIX}{uuid.uuid4().hex[:8]}{suffix}"


def get_once(port: int, path: str = "/") -> str:
    """One GET, no retry: what is served at this very moment."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
        return reply.read().decode()


def http_get(port: int, path: str = "/", deadline: float = 15) -> str:
    """The body served on localhost:port, polling until it answers or the deadline."""
    end = time.monotonic() + deadline
    last_error: Exception | None = None
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as reply:
                return reply.read().decode()
        except OSError as error:
            last_error = error
            time.sleep(0.2)
    raise AssertionError(f"nothing answered on port {port} within {deadline}s: {last_error}")


def wait_for(predicate, deadline: float = 30, what: str = "condition"):  # type: ignore[no-untyped-def]
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {deadline}s waiting for {what}")


_HOLD_LOCK = (
    "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
    "f.write(sys.argv[2] + '\\n'); f.flush(); print('held', flush=True); time.sleep(600)"
)


@contextmanager
def holding_lock(path: Path, holder: str = "pid 1, since then: somebody else") -> Iterator[None]:
    """Another process holds the lock file `path` (made if missing) while the block runs."""
    path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    process = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(path), holder],
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        yield
    finally:
        process.kill()
        process.communicate()


def docker_wrapper(directory: Path, script: str) -> dict[str, str]:
    """Env for a `docker` first on PATH that runs `script` (sh) before the real one."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "docker"
    path.write_text(f"#!/bin/sh\n{script}\nexec {REAL_DOCKER} \"$@\"\n")
    path.chmod(0o755)
    return {"PATH": f"{directory}:{os.environ['PATH']}"}


def owner_args(cli: CLI) -> list[str]:
    """The label that makes a container made by hand one of `cli`'s own, as if
    its state directory had made it (none before that directory has an ID)."""
    path = cli.state_dir / "id"
    return ["--label", f"dockervisor.owner={json.loads(path.read_text())['id']}"] if path.exists() else []


def remove_family(family: str) -> set[int]:
    """Remove a family's containers, images and volumes; never raises. The
    host ports its containers were given, for the check that a test
    publishes only ports it claimed (see `unclaimed`)."""
    containers = family_containers(family)
    image_ids, host_ports = set(), set()
    for container in containers:
        found = docker("inspect", "--format", "{{.Image}} {{json .HostConfig.PortBindings}}", container["ID"], check=False)
        if found.returncode == 0:
            image, _, bindings = found.stdout.strip().partition(" ")
            image_ids.add(image)
            for bound in (json.loads(bindings) or {}).values():
                host_ports |= {int(b["HostPort"]) for b in bound or [] if b.get("HostPort", "").isdigit()}
    if containers:
        docker("rm", "-f", "-v", *[c["ID"] for c in containers], check=False)
    # Builds carry the label, so images no container uses are found too.
    built = docker("image", "ls", "-q", "--no-trunc", "--filter", f"label=dockervisor.built={family}", check=False)
    image_ids.update(built.stdout.split())
    docker("rmi", "-f", family, *sorted(image_ids), check=False)
    docker("rm", "-f", f"dockervisor-lock-{family}", check=False)  # left by a killed run
    one_offs = docker("ps", "-aq", "--filter", f"label=dockervisor.oneoff={family}", check=False).stdout.split()
    if one_offs:  # release steps and `dockervisor run` of a test that failed mid-way
        docker("rm", "-f", *one_offs, check=False)
    volumes = docker("volume", "ls", "-q", "--filter", f"name={family}", check=False).stdout.split()
    ours = [v for v in volumes if v == family or v.startswith(f"{family}_")]
    if ours:
        docker("volume", "rm", "-f", *ours, check=False)
    return host_ports


def unclaimed(ports: set[int]) -> set[int]:
    """Those of `ports` this process did not claim with free_port(): a fixed
    port (an image's EXPOSE published as is, say) that another test run on
    the host may hold at the same moment."""
    return ports - {int(claim.name) for claim in _CLAIMED}



def _signals_as_in_a_terminal() -> None:
    """A runner started with `&` by a script ignores SIGINT, and so would every
    child (dockervisor leaves an ignored signal ignored, as nohup asks): the
    tests send signals to a command as a terminal would deliver them."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def end_process(process: subprocess.Popen, grace: float = 60) -> None:
    """End a child this test started, if it still runs: politely, then for sure."""
    if process.poll() is None:
        process.terminate()
        try:
            process.communicate(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


class Result:
    def __init__(self, completed: subprocess.CompletedProcess, seconds: float = 0.0) -> None:
        self.code = completed.returncode
        self.out = completed.stdout
        self.err = completed.stderr
        self.args = completed.args
        self.seconds = seconds  # how long the command took, start to exit

    def __repr__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


class CLI:
    """Runs the installed dockervisor with its own state home."""

    def __init__(self, executable: Path, home: Path) -> None:
        self.executable = executable
        self.home = home
        self.env = dict(os.environ, DOCKERVISOR_HOME=str(home))
        self.env.pop("NO_COLOR", None)
        self.background: list[subprocess.Popen] = []

    def __call__(
        self,
        *args: str,
        expect: int | None = 0,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 300,
    ) -> Result:
        began = time.monotonic()
        completed = subprocess.run(
            [str(self.executable), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env={**self.env, **(env or {})},
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        result = Result(completed, time.monotonic() - began)
        if expect is not None:
            assert result.code == expect, f"dockervisor {' '.join(args)}: {result!r}"
        assert "Traceback" not in result.err, f"dockervisor {' '.join(args)}: {result!r}"
        return result

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """A run in the background; one the test leaves running is ended after it."""
        process = subprocess.Popen(
            [str(self.executable), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            preexec_fn=_signals_as_in_a_terminal,
        )
        self.background.append(process)
        return process

    def end_background(self) -> None:
        """SIGTERM first, so that a start rolls back and lets its lock go."""
        for process in self.background:
            end_process(process)

    @property
    def state_dir(self) -> Path:
        """Where the default engine's families, history and locks are kept."""
        return state_dir(self.home, self.env)

    def state(self, family: str) -> dict:
        return json.loads((self.state_dir / "families" / f"{family}.json").read_text())

    def history(self, family: str) -> list[dict]:
        path = self.state_dir / "history" / f"{family}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]

    def state_for(self, env: dict[str, str], family: str) -> dict:
        """The family's state on the engine `env` names (DOCKER_HOST...)."""
        return json.loads((state_dir(self.home, {**self.env, **env}) / "families" / f"{family}.json").read_text())

    def history_for(self, env: dict[str, str], family: str) -> list[dict]:
        path = state_dir(self.home, {**self.env, **env}) / "history" / f"{family}.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]


def state_dir(home: Path, env: dict[str, str], context: str | None = None) -> Path:
    """The state directory of an engine (the default one, or a context's) under `home`."""
    from dockervisor.engine.contexts import default_engine, endpoint_of, key_for

    endpoint = endpoint_of(context, env) if context else default_engine(env).endpoint
    return home / "engines" / key_for(endpoint)


def dockerfile(
    base: str,
    cmd: str = "httpd -f -p 8080 -h /www",
    expose: tuple[str, ...] = ("8080",),
    volumes: tuple[str, ...] = ("/data",),
    content: str = "v1",
    healthcheck: str | None = None,
    extra: tuple[str, ...] = (),
    stopsignal: str | None = "SIGKILL",
) -> str:
    """A small busybox service: httpd serving `content` from /www by default."""
    lines = [
        f"FROM {base}",
        f"RUN mkdir -p /www && echo {content} > /www/index.html",
        *extra,
        *[f"EXPOSE {port}" for port in expose],
        *[f"VOLUME {volume}" for volume in volumes],
        *([f"STOPSIGNAL {stopsignal}"] if stopsignal else []),
    ]
    if healthcheck:
        lines.append(f"HEALTHCHECK {healthcheck}")
    lines.append(f'CMD ["sh", "-c", {json.dumps(cmd)}]')
    return "\n".join(lines) + "\n"


KEEP: dict = {}  # "leave the dcv file as it is"


class Project:
    """A build directory for one family: Dockerfile, optional dcv file."""

    def __init__(self, cli: CLI, base: str, family: str, directory: Path) -> None:
        self.cli = cli
        self.base = base
        self.family = family
        self.dir = directory
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, overrides: dict | str | None = KEEP, **dockerfile_options) -> Project:  # type: ignore[no-untyped-def]
        """Write the Dockerfile; `overrides` replaces the dcv file, None removes it."""
        (self.dir / "Dockerfile").write_text(dockerfile(self.base, **dockerfile_options))
        dcv = self.dir / f"dcv-{self.family}"
        if overrides is None:
            dcv.unlink(missing_ok=True)
        elif overrides is not KEEP:
            dcv.write_text(overrides if isinstance(overrides, str) else json.dumps(overrides))
        return self

    def build(self, expect: int = 0, **dockerfile_options) -> Result:  # type: ignore[no-untyped-def]
        if dockerfile_options or not (self.dir / "Dockerfile").exists():
            self.write(**dockerfile_options)
        return self.cli("build", self.family, str(self.dir), expect=expect)
