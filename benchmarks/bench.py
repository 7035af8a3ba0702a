#!/usr/bin/env python3
"""Dockervisor against the raw docker commands it stands in for.

    python3 benchmarks/bench.py [--rounds N] [--many N] [--only history|backup]

Runs against the same Docker engine as the tests, on a FROM scratch busybox
image it builds itself, with dockervisor installed by install.sh into a
temporary PREFIX (what admins run), and removes everything it made. It prints
six figures with their targets:

  1. `dockervisor stop` + `dockervisor start last` against `docker stop` +
     `docker start` of the same container, alternated pair by pair;
  2. `dockervisor start new` against the `docker stop` + `docker run` with the
     same flags that it performs;
  3. `list images` and `status` with 3 and with --many containers in the family;
  4. how many docker commands each dockervisor command runs (a `docker` shim
     first on PATH counts them);
  5. `dockervisor --version` against the bare interpreter starting and exiting;
  6. `history --limit 20` on a 1,000,000-line history against the same on 100
     lines, in wall time and in the peak memory of the process (no docker:
     it writes the history files itself). `--only history` runs just this one;
  7. `dockervisor backup` of a 200 MB volume against `docker cp C:/data - > file`
     of the same container, alternated, and the peak memory of the backup with
     20 MB and with 200 MB in the volume (`--only backup` runs just this one).

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
TARGET_HISTORY_TAIL = 2.0
HISTORY_LINES = (100, 1_000_000)
TARGET_BACKUP = 1.2
TARGET_BACKUP_MEMORY = 1.2
BACKUP_MB = (20, 200)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15, help="pairs per comparison (default: 15)")
    parser.add_argument("--many", type=int, default=300, help="containers for figure 3 (default: 300)")
    parser.add_argument("--only", choices=["history", "backup"],
                        help="run only figure 6 (which needs no docker) or figure 7")  # fmt: skip
    options = parser.parse_args()
    with Bench() as bench:
        if options.only == "history":
            return bench.report([bench.history_tail(options.rounds)])
        if options.only == "backup":
            return bench.report([bench.backup(max(5, options.rounds // 2))])
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
            docker("rmi", "-f", family, check=False)
            volumes = docker("volume", "ls", "-q", "--filter", f"name={family}_", check=False).split()
            if volumes:
                docker("volume", "rm", "-f", *volumes, check=False)
        shutil.rmtree(self.scratch, ignore_errors=True)

    # ------------------------------------------------------------------ setup

    def family(self, suffix: str) -> str:
        """Build a family: busybox httpd, one published port, one data volume."""
        name = f"{self.image_prefix}-{suffix}"
        self.families.append(name)
        directory = os.path.join(self.scratch, name)
        os.makedirs(directory)
        shutil.copy(BUSYBOX, os.path.join(directory, "busybox"))
        with open(os.path.join(directory, "Dockerfile"), "w") as dockerfile:
            dockerfile.write(
                "FROM scratch\nCOPY busybox /bin/busybox\n"
                'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
                "RUN mkdir /www && echo ok > /www/index.html\n"
                "EXPOSE 8080\nVOLUME /data\nSTOPSIGNAL SIGKILL\n"
                'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n'
            )
        with open(os.path.join(directory, f"dcv-{name}"), "w") as overrides:
            json.dump({"ports": {str(free_port()): "8080"}}, overrides)
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
            self.history_tail(rounds),
            self.backup(max(5, rounds // 2)),
        ]
        return self.report(results)

    def report(self, results: list[tuple[str, bool]]) -> int:
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
        family = self.family("new")
        self.dv("start", "new", family, "--no-wait")
        ours, raw = [], []
        for index in range(rounds):
            ours.append(self.timed([self.dockervisor, "start", "new", family, "--no-wait"]))
            # The very commands it ran, from its own dry run, with a fresh name.
            stop, run = [shlex.split(line) for line in self.dv("start", "new", family, "--dry-run").splitlines()]
            run[run.index("--name") + 1] = f"{family}-raw{index}"
            raw.append(self.timed(stop) + self.timed(run))
        return figure("2. start new vs docker stop + docker run", ours, raw, TARGET_START_NEW)

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

    def call_counts(self, many: int) -> tuple[str, bool]:
        shim_dir = os.path.join(self.scratch, "shim")
        os.makedirs(shim_dir, exist_ok=True)
        log = os.path.join(self.scratch, "docker-calls.log")
        shim = os.path.join(shim_dir, "docker")
        with open(shim, "w") as script:
            script.write(f'#!/bin/sh\necho "$1" >> {shlex.quote(log)}\nexec {shlex.quote(shutil.which("docker") or "docker")} "$@"\n')
        os.chmod(shim, 0o755)
        env = {**self.env, "PATH": f"{shim_dir}:{os.environ['PATH']}"}

        def count(*args: str) -> int:
            open(log, "w").close()
            self.dv(*args, env=env)
            with open(log) as calls:
                return len(calls.read().splitlines())

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

    def history_tail(self, rounds: int) -> tuple[str, bool]:
        few, lots = HISTORY_LINES
        families = {count: self.history_file(count) for count in HISTORY_LINES}
        samples: dict[int, list[tuple[float, int]]] = {count: [] for count in HISTORY_LINES}
        for _ in range(rounds):
            for count, family in families.items():
                samples[count].append(self.measured([self.dockervisor, "history", family, "--limit", "20"]))
        times = {count: [seconds for seconds, _ in runs] for count, runs in samples.items()}
        peaks = {count: statistics.median(peak for _, peak in runs) for count, runs in samples.items()}
        time_ratio = statistics.median(times[lots]) / statistics.median(times[few])
        memory_ratio = peaks[lots] / peaks[few]
        time_ok, memory_ok = time_ratio <= TARGET_HISTORY_TAIL, memory_ratio <= TARGET_HISTORY_TAIL
        return (
            f"6. history --limit 20 on {lots:,} lines vs {few:,} lines\n"
            f"   time {ms(times[few])} vs {ms(times[lots])}  ratio {time_ratio:.2f} "
            f"(target <= {TARGET_HISTORY_TAIL})  {verdict(time_ok)}\n"
            f"   peak memory {peaks[few] / 1024:.1f} MiB vs {peaks[lots] / 1024:.1f} MiB  ratio "
            f"{memory_ratio:.2f} (target <= {TARGET_HISTORY_TAIL})  {verdict(memory_ok)}",
            time_ok and memory_ok,
        )

    def history_file(self, count: int) -> str:
        """A family known only by a history of `count` entries, written directly; checked by a read."""
        family = f"{self.image_prefix}-history{count}"
        directory = os.path.join(self.env["DOCKERVISOR_HOME"], "history")
        os.makedirs(directory, mode=0o700, exist_ok=True)
        with open(os.path.join(directory, f"{family}.jsonl"), "w") as history:
            history.writelines(history_line(family, index) for index in range(count))
        entries = json.loads(self.dv("history", family, "--limit", "20", "--json"))["entries"]
        if entries != [json.loads(history_line(family, index)) for index in range(count - 20, count)]:
            raise SystemExit(f"dockervisor history {family} did not give the last 20 lines written")
        return family

    def backup(self, rounds: int) -> tuple[str, bool]:
        """Figure 7: a backup against the `docker cp` it runs, on a 200 MB volume;
        peak memory with 20 MB and 200 MB (the `docker cp` it waits for included)."""
        few, lots = BACKUP_MB
        filled = {size: self.filled(size) for size in BACKUP_MB}
        family = {size: names[0] for size, names in filled.items()}
        container = {size: names[1] for size, names in filled.items()}
        archive = os.path.join(self.scratch, "backup.tar")
        ours, raw, peaks = [], [], {size: [] for size in BACKUP_MB}
        for _ in range(rounds):
            for size in BACKUP_MB:
                seconds, peak = self.measured([self.dockervisor, "backup", family[size], "-o", archive])
                peaks[size].append(peak)
                if size == lots:
                    ours.append(seconds)
            os.unlink(archive)
            with open(archive, "wb") as out:
                raw.append(self.measured(["docker", "cp", f"{container[lots]}:/data", "-"], stdout=out)[0])
            os.unlink(archive)
        ratio = statistics.median(ours) / statistics.median(raw)
        memory = {size: statistics.median(values) for size, values in peaks.items()}
        memory_ratio = memory[lots] / memory[few]
        ok, memory_ok = ratio <= TARGET_BACKUP, memory_ratio <= TARGET_BACKUP_MEMORY
        return (
            f"7. backup of a {lots} MB volume vs docker cp C:/data - > file\n"
            f"   dockervisor {ms(ours)}  docker {ms(raw)}  ratio {ratio:.2f} (target <= {TARGET_BACKUP})  "
            f"{verdict(ok)}\n"
            f"   peak memory {few} MB: {memory[few] / 1024:.1f} MiB  {lots} MB: {memory[lots] / 1024:.1f} MiB  "
            f"ratio {memory_ratio:.2f} (target <= {TARGET_BACKUP_MEMORY})  {verdict(memory_ok)}",
            ok and memory_ok,
        )

    def filled(self, megabytes: int) -> tuple[str, str]:
        """A new family, and its running container, whose /data holds `megabytes` of random files."""
        family = self.family(f"data{megabytes}")
        container = self.dv("start", "new", family, "--settle", "0.5").strip()
        docker("exec", container, "sh", "-c",
               f"for i in $(seq {megabytes // 10}); do head -c 10485760 /dev/urandom > /data/f$i; done")  # fmt: skip
        return family, container

    def measured(self, argv: list[str], stdout: object = subprocess.DEVNULL) -> tuple[float, int]:
        """Wall time and peak resident memory (KiB on Linux) of one run, from that child's own rusage,
        which takes in the children it waited for."""
        started = time.perf_counter()
        child = subprocess.Popen(argv, env=self.env, stdout=stdout, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {child.returncode}")
        return elapsed, usage.ru_maxrss


def history_line(family: str, index: int) -> str:
    """One realistic history entry: a build or start every hour or so, now and then a failure."""
    action = ("build", "start new", "stop", "start last", "stable mark")[index % 5]
    failed = index % 97 == 0
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_700_000_000 + index * 3_600)),
        "user": "deploy",
        "command": f"dockervisor {action} {family}",
        "action": action,
        "container": f"dcv_{family}_{index:014d}",
        "image_id": f"sha256:{index:064x}",
        "outcome": "failed" if failed else "ok",
        "message": "docker: Error response from daemon: port is already allocated" if failed else None,
    }
    return json.dumps(entry) + "\n"


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
