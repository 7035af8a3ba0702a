#!/usr/bin/env python3
"""A recorded-responses `docker`: put first on PATH, it answers from a table
and logs each argv, so a test can check the order of the docker calls a
command makes without an engine. The real-engine tests stay the guard of
what docker does; this one guards what dockervisor asks, and in which order.

    DockerDouble(directory, rules).env   -> {"PATH": ...}: run the CLI with it
    double.calls()                       -> every argv, in order, `docker` and
                                            any `--context NAME` left out

A rule is (pattern, answer). The pattern is an fnmatch pattern over the argv
joined by spaces (after `docker` and `--context NAME`): "ps *", "stop dcv_*".
The answer is a dict: stdout, stderr, exit (0 by default), and `once`: a rule
with once: True answers one call and is then used up, so a table can say
"the first ps shows two running, the next one shows one". The first rule
that matches answers. A call no rule matches is logged, answered with exit 1
and `docker double: no answer for ...` on stderr, so the test sees it.

Calls may come at the same time (dockervisor asks some side by side): the
log and the used-up rules are kept under a file lock. Standard library only.
"""

from __future__ import annotations

import fcntl
import fnmatch
import json
import os
import sys
from pathlib import Path

TABLE_ENV = "DOCKER_DOUBLE_DIR"


class DockerDouble:
    """The double's directory: its `docker` script, its table and its log."""

    def __init__(self, directory: Path, rules: list[tuple[str, dict]]) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "table.json").write_text(json.dumps([[pattern, answer] for pattern, answer in rules]))
        (directory / "used.json").write_text("[]")
        (directory / "calls.jsonl").write_text("")
        script = directory / "bin" / "docker"
        script.parent.mkdir(exist_ok=True)
        here = str(Path(__file__).resolve().parent)
        script.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {here!r})\n"
                          "import docker_double\nsys.exit(docker_double.answer())\n")  # fmt: skip
        script.chmod(0o755)
        self.env = {"PATH": f"{script.parent}:{os.environ['PATH']}", TABLE_ENV: str(directory)}

    def calls(self) -> list[list[str]]:
        lines = (self.directory / "calls.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]

    def verbs(self) -> list[str]:
        """The first word of each call, or the first two for `container X`/`image X`/`network X`."""
        return [" ".join(c[:2]) if c and c[0] in ("container", "image", "network", "volume") else (c[0] if c else "")
                for c in self.calls()]  # fmt: skip


def _words(argv: list[str]) -> list[str]:
    while argv[:1] == ["--context"]:
        argv = argv[2:]
    return argv


def answer() -> int:
    directory = Path(os.environ[TABLE_ENV])
    argv = _words(sys.argv[1:])
    line = " ".join(argv)
    with open(directory / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(directory / "calls.jsonl", "a") as log:
            log.write(json.dumps(argv) + "\n")
        rules = json.loads((directory / "table.json").read_text())
        used = json.loads((directory / "used.json").read_text())
        found = None
        for index, (pattern, reply) in enumerate(rules):
            if index not in used and fnmatch.fnmatchcase(line, pattern):
                found = reply
                if reply.get("once"):
                    used.append(index)
                    (directory / "used.json").write_text(json.dumps(used))
                break
    if found is None:
        sys.stderr.write(f"docker double: no answer for `docker {line}`\n")
        return 1
    sys.stdout.write(found.get("stdout", ""))
    sys.stderr.write(found.get("stderr", ""))
    return int(found.get("exit", 0))


def ps_line(name: str, state: str, family: str, created: str = "2026-12-01 00:00:00 +0000 UTC") -> str:
    """One line of dockervisor's `docker ps --format`, as the engine prints it."""
    row = {"id": f"id-{name}", "name": name, "state": state, "created": created, "image": f"{family}:latest",
           "family": family}  # fmt: skip
    return json.dumps(row) + "\n"


def inspect_document(name: str, family: str, status: str = "running", image_id: str = "sha256:1") -> str:
    """`docker container inspect NAME` of a container as dockervisor reads it."""
    document = {
        "Id": f"id-{name}", "Name": f"/{name}", "Image": image_id, "RestartCount": 0,
        "State": {"Status": status, "Running": status == "running", "Restarting": False, "ExitCode": 0,
                  "StartedAt": "2026-12-01T00:00:00.000000000Z"},
        "Config": {"Labels": {"dockervisor.image": family}, "Image": f"{family}:latest"},
        "Mounts": [], "HostConfig": {"PortBindings": {}},
    }  # fmt: skip
    return json.dumps([document]) + "\n"


if __name__ == "__main__":
    sys.exit(answer())
