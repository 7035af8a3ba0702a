#!/usr/bin/env python3
"""Dockervisor against the raw docker commands it stands in for.

    python3 benchmarks/bench.py [--rounds N] [--many N]

Runs against the same Docker engine as the tests, on a FROM scratch busybox
image it builds itself, with dockervisor installed by install.sh into a
temporary PREFIX (what admins run), and removes everything it made. It prints
seven figures with their targets:

  1. `dockervisor stop` + `dockervisor start last` against `docker stop` +
     `docker start` of the same container, alternated pair by pair;
  2. `dockervisor start new` against the `docker stop` + `docker run` with the
     same flags that it performs;
  3. `list images` and `status` with 3 and with --many containers in the family;
  4. how many docker commands each dockervisor command runs (a `docker` shim
     first on PATH counts them);
  5. `dockervisor --version` against the bare interpreter starting and exiting;
  6. `prune` of --many stopped containers (and the image only they use): its
     wall time, and its docker commands against a prune of 3;
  7. `start new` with retention on, once it removes a container a start,
     against the `docker stop` + `docker run` + `docker rm` it then performs.

Figure 2 measures a family with "keep": "all", so that a start new does only
the stop and the run; figure 7 is the same with retention on.

Starts use --no-wait: `docker start` and `docker run -d` return once the
process is started, so that is the like-for-like comparison. The wait until a
container is up (3 s of settle time by default) is a guarantee raw docker does
not give, and is left out of the ratios.

Standard library only. Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUSYBOX = os.environ.get("DOCKERVISOR_TEST_BUSYBOX", "/bin/busybox")

TARGET_STOP_START = 1.15
TARGET_START_NEW = 1.2
TARGET_GROWTH = 2.0
TARGET_VERSION_MS = 15.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15, help="pairs per comparison (default: 15)")
    parser.add_argument("--many", type=int, default=300, help="containers for figures 3 and 6 (default: 300)")
    options = parser.parse_args()
    with Bench() as bench:
        return bench.run(options.rounds, options.many)


class Bench:
    def __enter__(self) -> Bench:
        self.scratch = tempfile.mkdtemp(prefix="dockervisor-bench-")
        self.families: list[str] = []
        self.image_prefix = f"dcvbench{uuid.uuid4().hex[:6]}"
        prefix = os.path.join(self.scratch, "prefix")
        subprocess.run([os.path.join(REPO, "install.sh")], env={**os.environ, "PREFIX": prefix},
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        self.dockervisor = os.path.join(prefix, "bin", "dockervisor")
        with open(self.dockervisor) as launcher:
            self.interpreter = launcher.readline()[2:].split()[0]
        self.env = {**os.environ, "DOCKERVISOR_HOME": os.path.join(self.scratch, "home")}
        self.env.pop("DOCKERVISOR_DEBUG", None)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for family in self.families:
            ids = docker("ps", "-aq", "--filter", f"label=dockervisor.image={family}").split()
            for start in range(0, len(ids), 100):
                docker("rm", "-f", "-v", *ids[start : start + 100], check=False)
            built = docker("image", "ls", "-q", "--filter", f"label=dockervisor.built={family}", check=False).split()
            docker("rmi", "-f", family, *built, check=False)
            volumes = docker("volume", "ls", "-q", "--filter", f"name={family}_", check=False).split()
            if volumes:
                docker("volume", "rm", "-f", *volumes, check=False)
        shutil.rmtree(self.scratch, ignore_errors=True)

    # ------------------------------------------------------------------ setup

    def family(self, suffix: str, keep: int | str = 5, content: str = "ok") -> str:
        """Build a family: busybox httpd, one published port, one data volume.
        Building it again with another `content` moves its tag to a new image."""
        name = f"{self.image_prefix}-{suffix}"
        directory = os.path.join(self.scratch, name)
        if name not in self.families:
            self.families.append(name)
            os.makedirs(directory)
            shutil.copy(BUSYBOX, os.path.join(directory, "busybox"))
            with open(os.path.join(directory, f"dcv-{name}"), "w") as overrides:
                json.dump({"ports": {str(free_port()): "8080"}, "keep": keep}, overrides)
        with open(os.path.join(directory, "Dockerfile"), "w") as dockerfile:
            dockerfile.write(
                "FROM scratch\nCOPY busybox /bin/busybox\n"
                'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
                f"RUN mkdir /www && echo {content} > /www/index.html\n"
                "EXPOSE 8080\nVOLUME /data\nSTOPSIGNAL SIGKILL\n"
                'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n'
            )
        self.dv("build", name, directory)
        return name

    def dv(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run([self.dockervisor, *args], env=env or self.env, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"dockervisor {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def timed(self, argv: list[str]) -> float:
        started = time.perf_counter()
        subprocess.run(argv, env=self.env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - started

    # ---------------------------------------------------------------- figures

    def run(self, rounds: int, many: int) -> int:
        print(f"dockervisor: {self.dockervisor}\ninterpreter: {self.interpreter}")
        print(f"docker: {docker('version', '--format', '{{.Client.Version}} client, {{.Server.Version}} engine').strip()}")
        results = [
            self.stop_start_last(rounds),
            self.start_new(rounds),
            self.growth(many),
            self.call_counts(many),
            self.version(rounds * 2),
            self.prune(many),
            self.start_new_retained(rounds),
        ]
        print()
        for line, _ in results:
            print(line)
        return 0 if all(ok for _, ok in results) else 1

    def stop_start_last(self, rounds: int) -> tuple[str, bool]:
        family = self.family("pair")
        container = self.dv("start", "new", family, "--no-wait").strip()
        ours, raw = [], []
        for _ in range(rounds):
            ours.append(self.timed([self.dockervisor, "stop", family])
                        + self.timed([self.dockervisor, "start", "last", family, "--no-wait"]))  # fmt: skip
            raw.append(self.timed(["docker", "stop", container]) + self.timed(["docker", "start", container]))
        return figure(
            "1. stop + start last vs docker stop + docker start", ours, raw, TARGET_STOP_START
        )

    def start_new(self, rounds: int) -> tuple[str, bool]:
        family = self.family("new", keep="all")
        self.dv("start", "new", family, "--no-wait")
        ours, raw = [], []
        for index in range(rounds):
            ours.append(self.timed([self.dockervisor, "start", "new", family, "--no-wait"]))
            stop, run = self.raw_start_new(family, f"{family}-raw{index}")
            raw.append(self.timed(stop) + self.timed(run))
        return figure("2. start new vs docker stop + docker run", ours, raw, TARGET_START_NEW)

    def raw_start_new(self, family: str, name: str) -> list[list[str]]:
        """The very commands a start new runs, from its own dry run, with a fresh name."""
        stop, run = [shlex.split(line) for line in self.dv("start", "new", family, "--dry-run").splitlines()]
        run[run.index("--name") + 1] = name
        return [stop, run]

    def start_new_retained(self, rounds: int) -> tuple[str, bool]:
        """With "keep": 1, from the third start on each start new also removes the
        oldest stopped container: raw docker then needs a `docker rm` as well."""
        family = self.family("retained", keep=1)
        for _ in range(3):
            self.dv("start", "new", family, "--no-wait")
        ours, raw = [], []
        for index in range(rounds):
            ours.append(self.timed([self.dockervisor, "start", "new", family, "--no-wait"]))
            stop, run = self.raw_start_new(family, f"{family}-raw{index}")
            # Remove one of the family's own, as the prune did: the oldest stopped one.
            oldest = docker("ps", "-aq", "--filter", f"label=dockervisor.image={family}",
                            "--filter", "status=exited").split()[-1]  # fmt: skip
            raw.append(self.timed(stop) + self.timed(run) + self.timed(["docker", "rm", "-v", oldest]))
        return figure(
            "7. start new with retention vs docker stop + docker run + docker rm",
            ours, raw, TARGET_START_NEW,
        )  # fmt: skip

    def growth(self, many: int) -> tuple[str, bool]:
        lines, ok = [], True
        few_family, many_family = self.crowd(3), self.crowd(many)
        for verb in (["list", "images"], ["status"]):
            few = [self.timed([self.dockervisor, *verb, few_family]) for _ in range(11)]
            lots = [self.timed([self.dockervisor, *verb, many_family]) for _ in range(11)]
            ratio = statistics.median(lots) / statistics.median(few)
            ok = ok and ratio <= TARGET_GROWTH
            lines.append(
                f"   {' '.join(verb):<11} 3: {ms(few)}  {many}: {ms(lots)}  "
                f"ratio {ratio:.2f} (target <= {TARGET_GROWTH})  {verdict(ratio <= TARGET_GROWTH)}"
            )
        return "3. time with 3 and with many containers\n" + "\n".join(lines), ok

    def crowd(self, count: int) -> str:
        """A family with `count` containers, one running, made with plain docker."""
        family = self.family(f"crowd{count}")
        self.dv("start", "new", family, "--no-wait")
        for index in range(count - 1):
            docker("create", "--label", f"dockervisor.image={family}", "--name", f"{family}-{index}", family)
        return family

    def counted(self, *args: str) -> list[str]:
        """Run dockervisor with a `docker` shim first on PATH; the verbs of the
        docker commands it ran (those run side by side, in either order)."""
        shim_dir = os.path.join(self.scratch, "shim")
        log = os.path.join(self.scratch, "docker-calls.log")
        if not os.path.isdir(shim_dir):
            os.makedirs(shim_dir)
            shim = os.path.join(shim_dir, "docker")
            with open(shim, "w") as script:
                script.write(f'#!/bin/sh\necho "$1" >> {shlex.quote(log)}\nexec {shlex.quote(shutil.which("docker") or "docker")} "$@"\n')
            os.chmod(shim, 0o755)
        open(log, "w").close()
        self.dv(*args, env={**self.env, "PATH": f"{shim_dir}:{os.environ['PATH']}"})
        with open(log) as calls:
            return calls.read().split()

    def call_counts(self, many: int) -> tuple[str, bool]:
        def count(*args: str) -> int:
            return len(self.counted(*args))

        family = self.family("count")
        counts = {
            "build": count("build", family, os.path.join(self.scratch, family)),
            "start new": count("start", "new", family, "--no-wait"),
            "stop": count("stop", family),
            "start last": count("start", "last", family, "--no-wait"),
            "stable": count("stable", family),
            "list images": count("list", "images", family),
            "status": count("status", family),
            "history": count("history", family),
        }
        crowded = f"{self.image_prefix}-crowd{many}"
        many_counts = {"list images": count("list", "images", crowded), "status": count("status", crowded)}
        ok = all(many_counts[verb] == counts[verb] for verb in many_counts)
        lines = ["4. docker commands run per dockervisor command (--no-wait for starts)"]
        lines.append("   " + ", ".join(f"{verb} {n}" for verb, n in counts.items()))
        lines.append(
            f"   with {many} containers: "
            + ", ".join(f"{verb} {n}" for verb, n in many_counts.items())
            + f"  (target: the same)  {verdict(ok)}"
        )
        return "\n".join(lines), ok

    def prune(self, many: int) -> tuple[str, bool]:
        few, lots = self.stopped_crowd(3), self.stopped_crowd(many)
        calls_few = self.counted("prune", few, "--keep", "0")
        started = time.perf_counter()
        calls_many = self.counted("prune", lots, "--keep", "0")
        seconds = time.perf_counter() - started
        left = docker("ps", "-aq", "--filter", f"label=dockervisor.image={lots}").split()
        if len(left) != 1:
            raise SystemExit(f"prune left {len(left)} containers of {lots}, not 1")
        ok = len(calls_many) == len(calls_few)
        return (
            f"6. prune of {many} stopped containers and their image: {seconds:.2f} s, "
            f"{len(calls_many)} docker commands ({' '.join(calls_many)});\n"
            f"   of 3: {len(calls_few)}  (target: the same)  {verdict(ok)}",
            ok,
        )

    def stopped_crowd(self, count: int) -> str:
        """A family with `count` stopped containers on an old image, made with plain
        docker, and one container running the current image."""
        family = self.family(f"stopped{count}")
        for index in range(count):
            docker("create", "--label", f"dockervisor.image={family}", "--name", f"{family}-{index}", family)
        self.family(f"stopped{count}", content="v2")
        self.dv("start", "new", family, "--no-wait")
        return family

    def version(self, rounds: int) -> tuple[str, bool]:
        ours, bare = [], []
        for _ in range(rounds):
            ours.append(self.timed([self.dockervisor, "--version"]))
            bare.append(self.timed([self.interpreter, "-IS", "-c", "pass"]))
        extra = (statistics.median(ours) - statistics.median(bare)) * 1000
        ok = extra <= TARGET_VERSION_MS
        return (
            f"5. --version {ms(ours)} vs bare interpreter {ms(bare)}: "
            f"+{extra:.1f} ms (target <= {TARGET_VERSION_MS:g} ms)  {verdict(ok)}",
            ok,
        )


def figure(title: str, ours: list[float], raw: list[float], target: float) -> tuple[str, bool]:
    ratio = statistics.median(ours) / statistics.median(raw)
    ok = ratio <= target
    return (
        f"{title}\n   dockervisor {ms(ours)}  docker {ms(raw)}  ratio {ratio:.2f} "
        f"(target <= {target})  {verdict(ok)}",
        ok,
    )


def ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.0f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def docker(*args: str, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise SystemExit(f"docker {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
