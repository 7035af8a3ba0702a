"""The README's quickstart, run exactly as written, on the real engine."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from support import REPO, family_containers, remove_family, state_dir

FAMILY = "hello"  # what the quickstart names it


def quickstart_block() -> str:
    readme = (REPO / "README.md").read_text()
    section = re.search(r"<!-- quickstart:begin.*?-->\n```sh\n(.*?)```\n<!-- quickstart:end -->", readme, re.S)
    assert section, "README.md lost its quickstart markers"
    return section.group(1)


def test_the_quickstart_runs_as_written(engine, tmp_path: Path) -> None:
    if family_containers(FAMILY):
        pytest.fail(f"containers of a {FAMILY!r} family already exist; the quickstart would touch them")
    prefix = tmp_path / "prefix"
    env = dict(
        os.environ,
        HOME=str(tmp_path / "home"),
        PREFIX=str(prefix),
        PATH=f"{prefix / 'bin'}:{os.environ['PATH']}",
    )
    env.pop("DOCKERVISOR_HOME", None)
    (tmp_path / "home").mkdir()
    try:
        result = subprocess.run(
            ["bash", "-e", "-c", quickstart_block()],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        served = [line for line in result.stdout.splitlines() if line.startswith("hello v")]
        assert served == ["hello v1", "hello v2", "hello v1"], result.stdout
        assert re.search(r"^hello\s+running", result.stdout, re.M), result.stdout
        state = (state_dir(tmp_path / "home" / ".dockervisor", env) / "families" / "hello.json").read_text()
        assert '"stable"' in state
    finally:
        remove_family(FAMILY)
