"""A Docker engine of a test's own, for what must not happen to a shared one.

Restarting the engine stops every container on it, so a test that restarts
one starts its own: its own socket, data root, exec root, pidfile and bridge,
no iptables rules, its own containerd. Nothing of the machine's engine is
used or touched, and everything it made is removed at the end.
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"
IP = shutil.which("ip") or "/usr/sbin/ip"


def missing() -> str | None:
    """Why no private engine can be started here, or None."""
    if os.geteuid() != 0:
        return "a private Docker engine needs root"
    for tool in (DOCKERD, IP):
        if not os.access(tool, os.X_OK):
            return f"{tool} is missing"
    return None


class PrivateEngine:
    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        # Short: a unix socket path holds at most 107 bytes, containerd's too.
        self.root = Path(tempfile.mkdtemp(prefix=f"dcvt-engine-{tag}-", dir="/tmp"))
        self.bridge = f"dcvtbr{tag}"
        self.socket = self.root / "docker.sock"
        self.host = f"unix://{self.socket}"
        self.log = self.root / "dockerd.log"
        self.process: subprocess.Popen | None = None
        self._bridge_made = False

    def argv(self) -> list[str]:
        (self.root / "daemon.json").write_text("{}")  # not the machine's /etc/docker/daemon.json
        return [
            DOCKERD,
            "--config-file", str(self.root / "daemon.json"),
            "--host", self.host,
            "--data-root", str(self.root / "data"),
            "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.root / "docker.pid"),
            "--bridge", self.bridge,
            "--iptables=false",
            "--ip6tables=false",
            # Apart from any containerd the machine runs, should dockerd find one.
            "--containerd-namespace", f"dcvt-{self.bridge}",
            "--containerd-plugins-namespace", f"dcvt-{self.bridge}-plugins",
        ]  # fmt: skip

    def docker(self, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
        result = subprocess.run(["docker", "--host", self.host, *args], capture_output=True, **kwargs)
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} on the private engine failed: {result.stderr!r}")
        return result

    def answers(self) -> bool:
        try:
            return self.docker("info", check=False, timeout=10).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def start(self) -> None:
        if not self._bridge_made:
            self._make_bridge()
        with open(self.log, "ab") as log:
            log.write(f"--- started by the tests at {time.ctime()}\n".encode())
            log.flush()
            # Its own session, output to the log: nothing holds the runner's stdout.
            self.process = subprocess.Popen(
                self.argv(), stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the private dockerd did not answer; the end of {self.log}:\n{self.tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """As an admin's `systemctl stop docker` would: SIGTERM, then wait."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # dockerd and the containerd it started
            process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        """Stop it and remove all it made: its mounts, its bridge, its directory."""
        self.stop()
        for mount_point in reversed(self._mounts()):
            subprocess.run(["umount", "-l", mount_point], capture_output=True)
        if self._bridge_made:
            subprocess.run([IP, "link", "delete", self.bridge], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _mounts(self) -> list[str]:
        with open("/proc/self/mounts") as mounts:
            points = [line.split()[1] for line in mounts]
        return [p for p in points if p == str(self.root) or p.startswith(f"{self.root}/")]

    def _make_bridge(self) -> None:
        subnet = _free_subnet()
        gateway = f"{subnet.network_address + 1}/{subnet.prefixlen}"
        _ip("link", "add", self.bridge, "type", "bridge")
        self._bridge_made = True
        _ip("addr", "add", gateway, "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")


def _ip(*args: str) -> None:
    done = subprocess.run([IP, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"ip {' '.join(args)} failed: {done.stderr}")


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.200.0.0/13 that no route of the machine's overlaps."""
    routes = json.loads(subprocess.run([IP, "-j", "-4", "route", "show", "table", "all"],
                                       capture_output=True, text=True).stdout or "[]")  # fmt: skip
    taken = []
    for route in routes:
        destination = route.get("dst", "")
        if destination and destination != "default":
            try:
                taken.append(ipaddress.ip_network(destination, strict=False))
            except ValueError:
                pass
    candidates = list(ipaddress.ip_network("10.200.0.0/13").subnets(new_prefix=24))
    random.shuffle(candidates)
    for subnet in candidates:
        if not any(subnet.overlaps(other) for other in taken):
            return subnet
    raise AssertionError("no free /24 in 10.200.0.0/13 for the private engine's bridge")
