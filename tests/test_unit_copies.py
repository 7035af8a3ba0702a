"""The executor's two copies of data, with real children: to a file, and from a stream."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dockervisor.core.errors import DockerCommandFailed
from dockervisor.engine.executor import Executor


def test_copy_out_writes_a_childs_output_to_the_file_and_reports_progress(tmp_path: Path) -> None:
    seen: list[int] = []
    with open(tmp_path / "out", "wb") as out:
        Executor().copy_out(["sh", "-c", "printf hello; sleep 0.7; printf ' world'"], out.fileno(), seen.append)
    assert (tmp_path / "out").read_bytes() == b"hello world" and seen and seen[0] == 5


def test_copy_out_and_copy_in_failures_carry_the_childs_own_words(tmp_path: Path) -> None:
    with open(tmp_path / "out", "wb") as out, pytest.raises(DockerCommandFailed, match="no such thing"):
        Executor().copy_out(["sh", "-c", "echo no such thing >&2; exit 3"], out.fileno())
    with pytest.raises(DockerCommandFailed, match="refused"):
        Executor().copy_in(["sh", "-c", "echo refused >&2; exit 1"], iter([b"x" * 5_000_000] * 3))


def test_copy_in_feeds_the_child_chunk_by_chunk(tmp_path: Path) -> None:
    target = tmp_path / "in"
    chunks = (bytes([n]) * 1_000_000 for n in range(8))
    Executor().copy_in(["sh", "-c", f"cat > {target}"], chunks)
    assert target.stat().st_size == 8_000_000


def test_copies_under_dry_run_only_print(tmp_path: Path) -> None:
    printed = io.StringIO()
    executor = Executor(dry_run=True, stdout=printed)
    executor.copy_out(["docker", "cp", "c:/data", "-"], -1)
    executor.copy_in(["docker", "run", "x"], iter(()))
    assert printed.getvalue() == "docker cp c:/data -\ndocker run x\n"
