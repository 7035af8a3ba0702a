"""Every failure ends in one `dockervisor: error:` line and changes nothing;
two runs at once never lose each other's updates."""

from __future__ import annotations

import pytest

from support import all_names, docker, free_port, holding_lock, running_names

FAST = ("--settle", "0.5")


@pytest.mark.parametrize(
    "argv, shown",
    [
        (["start", "new", "Bad;rm -rf /"], "'Bad;rm -rf /'"),
        (["build", "../etc"], "'../etc'"),
        (["stop", "a/b"], "'a/b'"),
        (["start", "bad name"], "'bad name'"),
        (["stable", "show", "UPPER"], "'UPPER'"),
        (["history", "x..y"], "'x..y'"),
    ],
)
def test_invalid_names_are_refused_before_docker_or_files(cli, argv, shown) -> None:
    # With no docker on PATH, any docker call would fail differently.
    result = cli(*argv, expect=2, env={"PATH": "/nonexistent"})
    assert "dockervisor: error: " in result.err and shown in result.err
    assert not cli.home.exists()


def test_docker_missing_is_a_clear_error(cli) -> None:
    result = cli("stop", "app", expect=1, env={"PATH": "/nonexistent"})
    assert result.err.strip().endswith("the 'docker' command was not found on PATH; install Docker first")


def test_unreachable_daemon_is_a_clear_error(cli, tmp_path) -> None:
    result = cli("status", expect=1, env={"DOCKER_HOST": f"unix://{tmp_path}/no.sock"})
    assert result.err.startswith("dockervisor: error: `docker ps")
    assert "Cannot connect to the Docker daemon" in result.err and "docker info" in result.err


def test_damaged_state_is_reported_and_kept(cli, engine) -> None:
    path = cli.state_dir / "families" / "dcvtdamaged.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"schema": 1, "image": "dcvtdamaged", "last": ')
    for argv in (["start", "new", "dcvtdamaged"], ["stable", "show", "dcvtdamaged"], ["status"]):
        result = cli(*argv, expect=1)
        assert f"the state file {path} is damaged" in result.err
    assert path.read_text() == '{"schema": 1, "image": "dcvtdamaged", "last": '


def test_start_new_before_any_build(project, cli) -> None:
    app = project("nobuild")
    result = cli("start", "new", app.family, expect=1)
    assert "build it first with `dockervisor build" in result.err
    assert all_names(app.family) == []


def test_a_failing_build_records_nothing_but_its_failure(project, cli) -> None:
    app = project("badbuild")
    good_port = free_port()
    app.build(overrides={"ports": {str(good_port): "8080"}})
    before = (cli.state_dir / "families" / f"{app.family}.json").read_text()
    # The legacy builder keeps the container of a failed RUN step for debugging;
    # the label, which it inherits, tells this test's own from any other.
    mine = f"dcvt.failed-build={app.family}"
    try:
        result = app.build(expect=1, extra=(f"LABEL {mine}", "RUN false"))
    finally:
        left = docker("ps", "-aq", "--filter", f"label={mine}").stdout.split()
        if left:
            docker("rm", "-f", "-v", *left)
        # ...and the image of the step before the one that failed.
        images = docker("images", "-q", "--filter", f"label={mine}").stdout.split()
        if images:
            docker("rmi", "-f", *images, check=False)
    assert "dockervisor: error: `docker build" in result.err
    assert (cli.state_dir / "families" / f"{app.family}.json").read_text() == before
    assert [(e["action"], e["outcome"]) for e in cli.history(app.family)] == [
        ("build", "ok"),
        ("build", "failed"),
    ]


def test_missing_build_context_and_dockerfile(cli, tmp_path) -> None:
    assert "is not a directory" in cli("build", "dcvtx", str(tmp_path / "nope"), expect=1).err
    assert "no Dockerfile at" in cli("build", "dcvtx", str(tmp_path), expect=1).err


def test_two_starts_at_once_wait_for_each_other(project, cli) -> None:
    app = project("concurrent")
    app.build(overrides={"ports": {str(free_port()): "8080"}})
    runs = [cli.popen("start", "new", app.family, "--settle", "1") for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    names = [out.strip() for out, _ in outputs]
    assert len(set(names)) == 2 and sorted(names) == all_names(app.family)
    assert len(running_names(app.family)) == 1
    assert cli.state(app.family)["last"] == running_names(app.family)[0]
    assert any("waiting for the lock" in err for _, err in outputs)
    starts = [e for e in cli.history(app.family) if e["action"] == "start new"]
    assert sorted(e["container"] for e in starts) == sorted(names)


def test_a_held_lock_times_out_with_a_clear_message(project, cli) -> None:
    app = project("locked")
    app.build(overrides={"ports": {str(free_port()): "8080"}})
    with holding_lock(cli.state_dir / "locks" / f"{app.family}.lock"):
        result = cli("start", "new", app.family, expect=1, env={"DOCKERVISOR_LOCK_TIMEOUT": "1"})
    assert "gave up after 1s waiting for the lock" in result.err and "somebody else" in result.err
    assert all_names(app.family) == []


def test_the_running_container_is_left_alone_by_a_failed_start_new(project, cli) -> None:
    """A missing image is found before anything is stopped."""
    app = project("noimage")
    app.build(overrides={"ports": {str(free_port()): "8080"}})
    name = cli("start", "new", app.family, *FAST).out.strip()
    docker("rmi", "-f", app.family)
    result = cli("start", "new", app.family, expect=1)
    assert "there is no image" in result.err
    assert running_names(app.family) == [name]
