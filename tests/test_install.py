"""install.sh: under a PREFIX, without pip, upgradable, removable; it checks for a
Docker engine, and sets one up only when asked."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

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


# The Docker engine: checked, and set up only when asked ---------------------------
#
# The machine's engine is shared with other test runs, so these never stop or
# restart it: an engine is "missing" through a PATH without docker or a
# DOCKER_HOST at a socket nobody listens on, and the --with-engine path that
# starts one runs a stand-in `dockerd` and `docker` first on PATH.


def path_without(tmp_path: Path, *missing: str) -> str:
    """A PATH with every command of this one but `missing`, as links in one directory."""
    bin_dir = tmp_path / "path-without"
    bin_dir.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            target = os.path.join(directory, name)
            link = bin_dir / name
            if name not in missing and not link.exists() and os.access(target, os.X_OK):
                link.symlink_to(target)
    return str(bin_dir)


def stand_ins(tmp_path: Path, **scripts: str) -> Path:
    """Scripts first on PATH, each recording its arguments in CALLS/NAME."""
    bin_dir, calls = tmp_path / "stand-ins", tmp_path / "calls"
    bin_dir.mkdir()
    calls.mkdir()
    for name, body in scripts.items():
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\necho "$*" >> {calls / name}\n{body}\n')
        script.chmod(0o755)
    return bin_dir


def calls(tmp_path: Path, name: str) -> list[str]:
    record = tmp_path / "calls" / name
    return record.read_text().splitlines() if record.exists() else []


def without_engine_variables(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    return dict(env, **extra)


def test_without_docker_one_warning_says_how_to_get_it_and_the_install_succeeds(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    env = without_engine_variables(PREFIX=str(prefix), PATH=path_without(tmp_path, "docker"))
    result = subprocess.run([str(REPO / "install.sh")], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (prefix / "bin" / "dockervisor").exists()
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "no docker command" in warnings[0] and "--with-engine" in warnings[0], result.stderr


def test_an_engine_that_does_not_answer_is_named_in_one_warning(tmp_path: Path) -> None:
    prefix, dead = tmp_path / "prefix", f"unix://{tmp_path}/nobody-listens.sock"
    env = without_engine_variables(PREFIX=str(prefix), DOCKER_HOST=dead)
    result = subprocess.run([str(REPO / "install.sh")], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (prefix / "bin" / "dockervisor").exists()
    assert result.stderr.count("\n") == 1 and f"no Docker engine answers at DOCKER_HOST={dead}" in result.stderr


def test_an_engine_that_answers_gets_no_warning(engine, tmp_path: Path) -> None:
    result = install(tmp_path / "prefix")
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr


def test_with_engine_leaves_an_engine_that_answers_alone(engine, tmp_path: Path) -> None:
    """No second engine, nothing installed: the stand-ins would record a call."""
    bin_dir = stand_ins(tmp_path, dockerd="exit 1", **{"apt-get": "exit 1"})
    env = without_engine_variables(PREFIX=str(tmp_path / "prefix"), PATH=f"{bin_dir}:{os.environ['PATH']}")
    result = subprocess.run([str(REPO / "install.sh"), "--with-engine"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "a Docker engine answers" in result.stdout
    assert calls(tmp_path, "dockerd") == [] and calls(tmp_path, "apt-get") == []


def test_with_engine_refuses_to_start_one_for_another_machine(tmp_path: Path) -> None:
    """DOCKER_HOST names another engine: starting this machine's would not make
    it answer. Refused before anything is installed."""
    bin_dir = stand_ins(tmp_path, dockerd="exit 1", **{"apt-get": "exit 1"})
    prefix = tmp_path / "prefix"
    env = without_engine_variables(
        PREFIX=str(prefix), PATH=f"{bin_dir}:{os.environ['PATH']}", DOCKER_HOST=f"unix://{tmp_path}/none.sock"
    )
    result = subprocess.run([str(REPO / "install.sh"), "--with-engine"], env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "starts only this machine's engine" in result.stderr
    assert not prefix.exists()
    assert calls(tmp_path, "dockerd") == [] and calls(tmp_path, "apt-get") == []


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("apt-get") is None, reason="--with-engine needs root and apt")
def test_with_engine_starts_dockerd_in_the_background_and_waits_until_it_answers(tmp_path: Path) -> None:
    """A stand-in dockerd (it lives on, as dockerd does) and a docker whose
    `info` answers once it started: install.sh returns with the engine up,
    its output in the log, and nothing holding install.sh's stdout (else
    this run would wait for the stand-in's end, and time out)."""
    started, pid_file, log = tmp_path / "started", tmp_path / "dockerd.pid", tmp_path / "dockerd.log"
    bin_dir = stand_ins(
        tmp_path,
        dockerd=f'echo $$ > {pid_file}; echo "dockerd says hello"; sleep 1; touch {started}; exec sleep 300',
        docker=f'[ "$1" = info ] && [ -e {started} ]',
        **{"apt-get": "exit 0"},
    )
    env = without_engine_variables(
        PREFIX=str(tmp_path / "prefix"), PATH=f"{bin_dir}:{os.environ['PATH']}", DOCKERVISOR_DOCKERD_LOG=str(log)
    )
    try:
        result = subprocess.run(
            [str(REPO / "install.sh"), "--with-engine"], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        assert f"starting dockerd in the background (log: {log})" in result.stdout
        assert "the Docker engine answers" in result.stdout
        assert "dockerd says hello" in log.read_text() and "dockerd says hello" not in result.stdout
        assert calls(tmp_path, "dockerd") == [""]  # started once, by install.sh
        assert not any("docker.io" in call for call in calls(tmp_path, "apt-get"))  # dockerd was there
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_with_engine_and_uninstall_are_one_argument_each(tmp_path: Path) -> None:
    result = install(tmp_path, "--with-engine", "--uninstall")
    assert result.returncode == 1 and "one argument at most" in result.stderr
