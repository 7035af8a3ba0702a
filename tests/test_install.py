"""install.sh: under a PREFIX, without pip, upgradable, removable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dockervisor import __version__
from support import REPO


def install(prefix: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(REPO / "install.sh"), *args],
        env=dict(os.environ, PREFIX=str(prefix)),
        capture_output=True,
        text=True,
    )


def test_install_upgrade_uninstall(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    launcher = prefix / "bin" / "dockervisor"
    first = install(prefix)
    assert first.returncode == 0, first.stderr
    version = subprocess.run([str(launcher), "--version"], capture_output=True, text=True)
    assert version.stdout == f"dockervisor {__version__}\n"

    # It starts the real interpreter, isolated, not a version-manager shim.
    shebang = launcher.read_text().splitlines()[0]
    interpreter, flags = shebang[2:].split(" ")
    assert flags == "-IS" and "/shims/" not in interpreter and os.access(interpreter, os.X_OK)
    assert list((prefix / "lib" / "dockervisor" / "dockervisor").rglob("*.pyc"))  # compiled for all users

    assert install(prefix).returncode == 0  # again: an upgrade in place
    assert not [p for p in (prefix / "lib").iterdir() if p.name != "dockervisor"]  # no staging left

    gone = install(prefix, "--uninstall")
    assert gone.returncode == 0, gone.stderr
    assert not launcher.exists() and not (prefix / "lib" / "dockervisor").exists()


def test_uninstall_leaves_a_foreign_file_alone(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "dockervisor").write_text("#!/bin/sh\necho not ours\n")
    result = install(prefix, "--uninstall")
    assert result.returncode == 1 and "not written by this script" in result.stderr
    assert (prefix / "bin" / "dockervisor").exists()


def test_unknown_argument_is_refused(tmp_path: Path) -> None:
    result = install(tmp_path, "--frobnicate")
    assert result.returncode == 1 and "unknown argument" in result.stderr
