"""Issue 18: a closed reader never stops a change.

cron, `| logger`, `| head` and a dropped ssh session close dockervisor's
stdout or stderr while it runs. Each changing command runs here with its
output going to a pipe whose reader has already gone (as `| head -0` leaves
it) or to a descriptor closed before it started (`>&-`, `2>&-`), and must
still do the whole change and record it. Read-only commands end quietly
with 141, the code of a command killed by SIGPIPE.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from support import docker, running_names

FAST = ("--settle", "0.2")
SLEEP = "exec sleep 100000"

# How stdout and stderr are given: "gone" a pipe whose reader is gone,
# "closed" no descriptor at all, "captured" a pipe the test reads.
VARIANTS = {
    "stdout to a gone reader": ("gone", "captured"),
    "stderr to a gone reader": ("captured", "gone"),
    "2>&1 | head -0": ("gone", "gone"),
    ">&- 2>&-": ("closed", "closed"),
    "2>&-": ("captured", "closed"),
}


def run(cli, how: tuple[str, str], *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    """The installed CLI with stdout and stderr as `how` says; its exit code
    and what of stdout and stderr could be read."""
    gone_read, gone_write = os.pipe()
    os.close(gone_read)
    closed = [fd for fd, kind in ((1, how[0]), (2, how[1])) if kind == "closed"]

    def close_them() -> None:
        for fd in closed:
            os.close(fd)

    streams = [gone_write if kind == "gone" else subprocess.PIPE for kind in how]
    try:
        process = subprocess.Popen(
            [str(cli.executable), *args],
            stdin=subprocess.DEVNULL,
            stdout=streams[0],
            stderr=streams[1],
            env=cli.env,
            text=True,
            preexec_fn=close_them,
        )
    finally:
        os.close(gone_write)
    out, err = process.communicate(timeout=300)
    return process.returncode, out or "", err or ""


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_changes_finish_and_are_recorded_whatever_happens_to_the_output(variant, project, cli) -> None:
    how = VARIANTS[variant]
    app = project("closedout")
    app.build(cmd=SLEEP, expose=(), content="v1")
    first = cli("start", "new", app.family, *FAST).out.strip()
    app.build(cmd=SLEEP, expose=(), content="v2")

    def step(*args: str, runs: str | None, action: str) -> str:
        entries = len(cli.history(app.family))
        code, out, err = run(cli, how, *args)
        said = f"{variant}: dockervisor {' '.join(args)}: exit {code}\n{out}\n{err}"
        assert code == 0 and "Traceback" not in err, said
        now = running_names(app.family)
        assert len(now) == 1 and now[0] != first if runs == "new" else now == ([runs] if runs else []), said
        history = cli.history(app.family)
        assert len(history) == entries + 1, said
        assert (history[-1]["action"], history[-1]["outcome"]) == (action, "ok"), said
        if how[0] == "captured":  # stdout holds results, never progress
            assert "dockervisor:" not in out, said
            if action.startswith("start"):  # a start names what runs afterwards
                assert out.strip() == now[0], said
        return out.strip()

    step("start", "new", app.family, "--snapshot", *FAST, runs="new", action="start new")
    second = running_names(app.family)[0]
    assert second != first and cli.state(app.family)["last"] == second
    step("stable", app.family, runs=second, action="stable mark")
    assert cli.state(app.family)["stable"] == second
    step("stop", app.family, runs=None, action="stop")
    step("start", "last", app.family, *FAST, runs=second, action="start last")
    step("stop", app.family, runs=None, action="stop")
    assert cli.state(app.family)["last"] == second
    step("start", first, "--with-data", *FAST, runs=first, action="start container")
    assert cli.state(app.family)["last"] == first
    archive_dir = cli.home / "archives"
    archive_dir.mkdir()
    archive = archive_dir / "data.tar"
    step("backup", app.family, "-o", str(archive), runs=first, action="backup")
    assert archive.stat().st_size > 0
    step("restore", app.family, str(archive), *FAST, runs=first, action="restore")
    step("start", "new", app.family, *FAST, runs="new", action="start new")  # a third one, to prune
    cli("start", first, *FAST)
    step("prune", app.family, "--keep", "0", runs=first, action="prune")
    remaining = docker("ps", "-a", "-q", "--filter", f"label=dockervisor.image={app.family}").stdout.split()
    assert len(remaining) == 2  # the running one (last) and the stable one


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["status"], ["list"], ["history", "FAMILY"], ["start", "--help"], ["status", "FAMILY"]],
)
def test_a_reader_that_goes_away_ends_a_read_only_command_quietly(args, project, cli) -> None:
    app = project("quiet")
    app.build(cmd=SLEEP, expose=())
    cli("start", "new", app.family, *FAST)
    args = [app.family if word == "FAMILY" else word for word in args]
    code, _, err = run(cli, ("gone", "captured"), *args)
    assert (code, err) == (141, ""), f"{args}: exit {code}\n{err}"
    # and with both gone, the same: nothing says "Exception ignored" anywhere
    code, _, _ = run(cli, ("gone", "gone"), *args)
    assert code == 141
