#!/usr/bin/env python3
"""Dockervisor against the raw docker commands it stands in for.

    python3 benchmarks/bench.py [--rounds N] [--many N] [--only history|backup]

Runs against the same Docker engine as the tests, on a FROM scratch busybox
image it builds itself, with dockervisor installed by install.sh into a
temporary PREFIX (what admins run), and removes everything it made. It prints
nine figures with their targets:

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
  7. dockervisor's own time for `stop`, with a `docker` that answers at once,
     over the bare interpreter (`--only own`);
  8. `prune` of --many stopped containers (and the image only they use): its
     wall time, and its docker commands against a prune of 3;
  9. `start new` with retention on, once it removes a container a start,
     against the `docker stop` + `docker run` + `docker rm` it then performs.;
  10. `status` of a family over 3 engines against over 1: the engines are asked
     at the same time. The three are docker contexts it makes (and removes) for
     the hosts in --engines (default: DOCKERVISOR_BENCH_ENGINES). They must be
     three engines: dockervisor refuses one engine named twice (the same
     engine's state would be kept twice), so without them the figure is
     skipped, saying so. `--only engines` runs just this.;
  11. `dockervisor backup` of a 200 MB volume against `docker cp C:/data - > file`
     of the same container, alternated, and the peak memory of the backup with
     20 MB and with 200 MB in the volume (`--only backup` runs just this one).

Figure 2 measures a family with "keep": "all", so that a start new does only
the stop and the run; figure 9 is the same with retention on.

Starts use --no-wait: `docker start` and `docker run -d` return once the
process is started, so that is the like-for-like comparison. The wait until a
container is up (3 s of settle time by default) is a guarantee raw docker does
not give, and is left out of the ratios.

Standard library only. Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import glob
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
TARGET_OWN_MS = 15.0
TARGET_HISTORY_TAIL = 2.0
TARGET_ENGINES = 1.5
HISTORY_LINES = (100, 1_000_000)
TARGET_BACKUP = 1.2
TARGET_BACKUP_MEMORY = 1.2
BACKUP_MB = (20, 200)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15, help="pairs per comparison (default: 15)")
    parser.add_argument("--many", type=int, default=300, help="containers for figures 3 and 8 (default: 300)")
    parser.add_argument("--only", choices=["history", "own", "engines", "backup"],
                        help="run only figure 6 or 7 (no engine needed), 10 or 11")  # fmt: skip
    parser.add_argument(
        "--engines", metavar="HOST,HOST,HOST",
        default=os.environ.get("DOCKERVISOR_BENCH_ENGINES", ""),
        help="the three docker hosts of figure 10, three engines (default: DOCKERVISOR_BENCH_ENGINES)",
    )  # fmt: skip
    options = parser.parse_args()
    with Bench() as bench:
        if options.only == "history":
            return bench.report([bench.history_tail(options.rounds)])
        if options.only == "backup":
            return bench.report([bench.backup(max(5, options.rounds // 2))])
        if options.only == "own":
            return bench.report([bench.own_time(options.rounds * 2)])
        if options.only == "engines":
            return bench.report([bench.several_engines(options.rounds, options.engines.split(","))])
        return bench.run(options.rounds, options.many, options.engines.split(","))


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

    def timed(self, argv: list[str], check: bool = True) -> float:
        started = time.perf_counter()
        subprocess.run(argv, env=self.env, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - started

    # ---------------------------------------------------------------- figures

    def run(self, rounds: int, many: int, hosts: list[str]) -> int:
        print(f"dockervisor: {self.dockervisor}\ninterpreter: {self.interpreter}")
        print(f"docker: {docker('version', '--format', '{{.Client.Version}} client, {{.Server.Version}} engine').strip()}")
        results = [
            self.stop_start_last(rounds),
            self.start_new(rounds),
            self.growth(many),
            self.call_counts(many),
            self.version(rounds * 2),
            self.history_tail(rounds),
            self.own_time(rounds * 2),
            self.prune(many),
            self.start_new_retained(rounds),
            self.several_engines(rounds, hosts),
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
        family = self.family("new", keep="all")
        self.dv("start", "new", family, "--no-wait")
        ours, raw = [], []
        for index in range(rounds):
            ours.append(self.timed([self.dockervisor, "start", "new", family, "--no-wait"]))
            stop, run = self.raw_start_new(family, f"dcv_{family}_raw{index}")
            raw.append(self.timed(stop) + self.timed(run))
        return figure("2. start new vs docker stop + docker run", ours, raw, TARGET_START_NEW)

    def raw_start_new(self, family: str, name: str) -> list[list[str]]:
        """The very commands a start new runs, from its own dry run, with a fresh name.
        The name must be a member's (`dcv_FAMILY_...`): the next start new then
        stops it as it stops its own, as the raw `docker stop` stops ours."""
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
            stop, run = self.raw_start_new(family, f"dcv_{family}_raw{index}")
            # Remove one of the family's own, as the prune did: the oldest stopped one.
            oldest = docker("ps", "-aq", "--filter", f"label=dockervisor.image={family}",
                            "--filter", "status=exited").split()[-1]  # fmt: skip
            raw.append(self.timed(stop) + self.timed(run) + self.timed(["docker", "rm", "-v", oldest]))
        return figure(
            "9. start new with retention vs docker stop + docker run + docker rm",
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
            docker("create", *self.member_labels(family), "--name", f"dcv_{family}_{index}", family)
        return family

    def member_labels(self, family: str) -> list[str]:
        """The labels that make a container made with plain docker one of the
        family's for the bench's state directory (its name must be
        `dcv_FAMILY_...` too): the family, and the ID of the engine's state
        directory as owner. It exists once anything was started there; the first
        figure starts a family."""
        made = glob.glob(os.path.join(self.env["DOCKERVISOR_HOME"], "engines", "*", "id"))
        if len(made) != 1:
            raise SystemExit(f"expected one state directory with an ID, found {made}")
        with open(made[0]) as document:
            owner = json.load(document)["id"]
        return ["--label", f"dockervisor.image={family}", "--label", f"dockervisor.owner={owner}"]

    def counted(self, *args: str, engine_lock: bool = False) -> list[str]:
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
        # The commands' own calls; the engine's lock (2 per change) is counted apart.
        lock = "on" if engine_lock else "off"
        self.dv(*args, env={**self.env, "PATH": f"{shim_dir}:{os.environ['PATH']}", "DOCKERVISOR_ENGINE_LOCK": lock})
        with open(log) as calls:
            return calls.read().split()

    def call_counts(self, many: int) -> tuple[str, bool]:
        def count(*args: str, engine_lock: bool = False) -> int:
            return len(self.counted(*args, engine_lock=engine_lock))

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
        locked_stop = count("stop", family, engine_lock=True)
        crowded = f"{self.image_prefix}-crowd{many}"
        many_counts = {"list images": count("list", "images", crowded), "status": count("status", crowded)}
        ok = all(many_counts[verb] == counts[verb] for verb in many_counts)
        lines = ["4. docker commands run per dockervisor command (--no-wait for starts)"]
        lines.append("   " + ", ".join(f"{verb} {n}" for verb, n in counts.items()))
        lines.append(f"   with the engine's lock (on for remote engines): stop {locked_stop}")
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
            f"8. prune of {many} stopped containers and their image: {seconds:.2f} s, "
            f"{len(calls_many)} docker commands ({' '.join(calls_many)});\n"
            f"   of 3: {len(calls_few)}  (target: the same)  {verdict(ok)}",
            ok,
        )

    def stopped_crowd(self, count: int) -> str:
        """A family with `count` stopped containers on an old image, made with plain
        docker, and one container running the current image."""
        family = self.family(f"stopped{count}")
        for index in range(count):
            docker("create", *self.member_labels(family), "--name", f"dcv_{family}_{index}", family)
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

    def several_engines(self, rounds: int, hosts: list[str]) -> tuple[str, bool]:
        """`status` over 1 and over 3 engines, alternated run by run."""
        if hosts == [""]:
            return "10. status over 3 engines vs over 1: skipped (no --engines or DOCKERVISOR_BENCH_ENGINES)", True
        if len(hosts) != 3:
            raise SystemExit(f"--engines takes three docker hosts, not {hosts!r}")
        names = [f"{self.image_prefix}-ctx{index}" for index in range(3)]
        made: list[str] = []
        family = f"{self.image_prefix}-engines"
        try:
            for name, host in zip(names, hosts):
                docker("context", "create", name, "--docker", f"host={host}")
                made.append(name)
            family = self.family("engines")
            directory = os.path.join(self.scratch, family)
            for name in names[1:]:  # each engine its own host port: engines on one machine share them
                with open(os.path.join(directory, f"dcv-{family}"), "w") as overrides:
                    json.dump({"ports": {str(free_port()): "8080"}}, overrides)
                self.dv("--context", name, "build", family, directory, "-q")
            for name in names:  # each engine runs it (one engine at three addresses: once)
                if not docker("--context", name, "ps", "-q", "--filter", f"label=dockervisor.image={family}"):
                    self.dv("--context", name, "start", "new", family, "--no-wait")
            for contexts in (names[0], ",".join(names)):  # a figure of an error would mean nothing
                self.dv("--context", contexts, "status", family)
            one, three = [], []
            for _ in range(rounds):
                one.append(self.timed([self.dockervisor, "--context", names[0], "status", family], check=False))
                three.append(self.timed([self.dockervisor, "--context", ",".join(names), "status", family],
                                        check=False))  # fmt: skip
        finally:
            for name in made[1:]:  # the default engine's share goes with the other families
                ids = docker("--context", name, "ps", "-aq", "--filter", f"label=dockervisor.image={family}",
                             check=False).split()  # fmt: skip
                if ids:
                    docker("--context", name, "rm", "-f", "-v", *ids, check=False)
                docker("--context", name, "rmi", "-f", family, check=False)
            if made:
                docker("context", "rm", "--force", *made, check=False)
        title = f"10. status over 3 engines vs over 1 ({', '.join(hosts)})"
        return figure(title, three, one, TARGET_ENGINES, ("3 engines", "1 engine"))

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

    def own_time(self, rounds: int) -> tuple[str, bool]:
        """dockervisor's own time: `stop` of a family with a state file, with a
        `docker` that answers at once (a shell script printing one stopped
        container), against the bare interpreter."""
        family = f"{self.image_prefix}-own"
        home = self.env["DOCKERVISOR_HOME"]
        os.makedirs(os.path.join(home, "families"), mode=0o700, exist_ok=True)
        with open(os.path.join(home, "families", f"{family}.json"), "w") as state:
            json.dump({"schema": 1, "image": family, "last": None, "stable": None,
                       "run_config": None, "build": {}}, state)  # fmt: skip
        os.chmod(os.path.join(home, "families", f"{family}.json"), 0o600)
        shim = os.path.join(self.scratch, "instant")
        os.makedirs(shim)
        row = {"id": "0" * 64, "name": f"dcv_{family}_1", "state": "exited",
               "created": "2026-11-29 00:00:00 +0000 UTC", "image": f"{family}:latest", "family": family}  # fmt: skip
        with open(os.path.join(shim, "docker"), "w") as script:
            script.write(f"#!/bin/sh\n[ \"$1\" = ps ] && echo {shlex.quote(json.dumps(row))}\nexit 0\n")
        os.chmod(os.path.join(shim, "docker"), 0o755)
        env = {**self.env, "PATH": f"{shim}:{self.env['PATH']}"}
        ours, bare, calls = [], [], []
        for _ in range(rounds):
            started = time.perf_counter()
            subprocess.run([self.dockervisor, "stop", family], env=env, check=True, capture_output=True)
            ours.append(time.perf_counter() - started)
            bare.append(self.timed([self.interpreter, "-IS", "-c", "pass"]))
            started = time.perf_counter()
            subprocess.run([os.path.join(shim, "docker"), "ps"], env=env, check=True, capture_output=True)
            calls.append(time.perf_counter() - started)
        # One instant docker call (`ps`: nothing runs, so no `stop`) is not dockervisor's time.
        extra = (statistics.median(ours) - statistics.median(bare) - statistics.median(calls)) * 1000
        ok = extra <= TARGET_OWN_MS
        return (
            f"7. stop with a docker that answers at once: {ms(ours)} vs bare interpreter {ms(bare)}, "
            f"less one docker call {ms(calls)}: +{extra:.1f} ms (target <= {TARGET_OWN_MS:g} ms)  {verdict(ok)}",
            ok,
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
            f"11. backup of a {lots} MB volume vs docker cp C:/data - > file\n"
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


def figure(
    title: str, ours: list[float], raw: list[float], target: float, names: tuple[str, str] = ("dockervisor", "docker")
) -> tuple[str, bool]:
    ratio = statistics.median(ours) / statistics.median(raw)
    ok = ratio <= target
    return (
        f"{title}\n   {names[0]} {ms(ours)}  {names[1]} {ms(raw)}  ratio {ratio:.2f} "
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
