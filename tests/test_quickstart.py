"""The README's quickstart, run as written, on the real engine.

Only its family name and its port are changed, to ones of this test's own: the
engine may be shared, and an admin's `hello` image, volume or container, or a
service on port 8080, is none of this test's business.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from support import REPO, free_port, new_family, state_dir

NAME, PORT = "hello", "8080"  # what the quickstart names its family, and its port


def quickstart_block() -> str:
    readme = (REPO / "README.md").read_text()
    section = re.search(r"<!-- quickstart:begin.*?-->\n```sh\n(.*?)```\n<!-- quickstart:end -->", readme, re.S)
    assert section, "README.md lost its quickstart markers"
    return section.group(1)


def substituted(block: str, name: str, port: int) -> str:
    """The block with every `hello` and every 8080 replaced, as whole words."""
    assert re.search(rf"\b{NAME}\b", block) and re.search(rf"\b{PORT}\b", block)
    return re.sub(rf"\b{PORT}\b", str(port), re.sub(rf"\b{NAME}\b", name, block))


def test_substitution_leaves_no_fixed_name_or_port() -> None:
    block = substituted(quickstart_block(), "dcvtq", 12345)
    assert not re.search(rf"\b({NAME}|{PORT})\b", block)
    assert "dockervisor start stable dcvtq" in block and "localhost:12345" in block


def test_the_quickstart_runs_as_written(engine, families, tmp_path: Path) -> None:
    name, port = new_family("quickstart"), free_port()
    families.append(name)  # removed after the test, pass or fail: its image, containers, volume
    prefix = tmp_path / "prefix"
    env = dict(
        os.environ,
        HOME=str(tmp_path / "home"),
        PREFIX=str(prefix),
        PATH=f"{prefix / 'bin'}:{os.environ['PATH']}",
    )
    env.pop("DOCKERVISOR_HOME", None)
    (tmp_path / "home").mkdir()
    result = subprocess.run(
        ["bash", "-e", "-c", substituted(quickstart_block(), name, port)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    served = [line for line in result.stdout.splitlines() if line.startswith(f"{name} v")]
    assert served == [f"{name} v1", f"{name} v2", f"{name} v1"], result.stdout
    status = re.search(rf"^{name}\s+running\b.*$", result.stdout, re.M)
    assert status, result.stdout
    state = json.loads((state_dir(tmp_path / "home" / ".dockervisor", env) / "families" / f"{name}.json").read_text())
    # The first container was marked, and the rollback made it the last one again.
    assert state["stable"] is not None and state["stable"] == state["last"], state
