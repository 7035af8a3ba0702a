"""Values of --env, --env-file, env and env_file: parsed, checked, and shown nowhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockervisor.flows import environment
from dockervisor.config import envfile
from dockervisor.cli import main, redact, redacted_command_line
from dockervisor.flows.context import Context
from dockervisor.core.errors import DockervisorError

SECRET = "pa55-w0rd"


@pytest.mark.parametrize(
    "word, shown",
    [
        ("TOKEN=pa55-w0rd", "TOKEN=***"),
        ("--env=TOKEN=pa55-w0rd", "--env=TOKEN=***"),
        ("--e=TOKEN=pa55-w0rd", "--e=TOKEN=***"),
        ("--envv=TOKEN=pa55-w0rd", "--envv=TOKEN=***"),
        ("-eTOKEN=pa55-w0rd", "-eTOKEN=***"),
        ("=pa55-w0rd", "=***"),
        ("--env=TOKEN", "--env=TOKEN"),
        ("TOKEN", "TOKEN"),
        ("--wait=5", "--wait=5"),
        ("--env-file=/etc/app.env", "--env-file=/etc/app.env"),
        ("app", "app"),
    ],
)
def test_every_spelling_of_a_value_is_hidden(word: str, shown: str) -> None:
    assert redact(word) == shown


def test_the_recorded_command_line_hides_values() -> None:
    line = redacted_command_line(["start", "new", "app", "--env", f"TOKEN={SECRET}", "-e", "FLAG"])
    assert line == "dockervisor start new app --env 'TOKEN=***' -e FLAG"


@pytest.mark.parametrize(
    "argv",
    [
        ["start", "new", "app", "--envv", f"TOKEN={SECRET}"],
        ["start", "new", "app", "--en", f"TOKEN={SECRET}"],
        ["start", "new", "app", f"--e=TOKEN={SECRET}"],
        ["stop", "app", "--env", f"X={SECRET}"],
        ["stop", "app", f"-eX={SECRET}"],
        ["start", "new", "app", f"X={SECRET}", "extra"],
        ["start", "last", "app", "--env", f"X={SECRET}"],
        ["start", "new", "app", "--env", f"={SECRET}"],
        ["start", "new", "app", "--env", f"1X={SECRET}"],
        ["status", f"--json=TOKEN={SECRET}"],  # issue 18: every spelling argparse echoes
        ["start", "new", "app", f"--no-wait=TOKEN={SECRET}"],
        ["start", f"TOKEN={SECRET}"],
        ["start", "new", "app", "--envv", SECRET],
        ["start", "new", "app", f"--envv={SECRET}"],
    ],
)
def test_usage_errors_exit_2_and_never_echo_a_value(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code  # type: ignore[assignment]
    captured = capsys.readouterr()
    assert code == 2
    assert SECRET not in captured.err + captured.out
    assert "dockervisor: error: " in captured.err


def test_env_options_take_values_from_the_environment() -> None:
    environ = {"FROM_ENV": SECRET}
    assert envfile.parse_env_options(["A=1", "FROM_ENV", "B="], environ) == {
        "A": "1", "FROM_ENV": SECRET, "B": "",
    }  # fmt: skip
    with pytest.raises(DockervisorError) as raised:
        envfile.parse_env_options(["MISSING"], environ)
    assert raised.value.exit_code == 2 and "MISSING is not set" in raised.value.message
    with pytest.raises(DockervisorError) as raised:
        envfile.parse_env_options(["NL"], {"NL": "a\nb"})
    assert "newline" in raised.value.message and "a\nb" not in raised.value.message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("A=1\nB=two words \n", {"A": "1", "B": "two words "}),
        ("# comment\n\n   C=3\r\n", {"C": "3"}),
        ("\ufeffD=4", {"D": "4"}),
        ("FROM_ENV\nUNSET\n", {"FROM_ENV": SECRET}),
        ("E=a=b", {"E": "a=b"}),
        ("", {}),
    ],
)
def test_env_files_are_read_as_docker_reads_them(tmp_path: Path, text: str, expected: dict) -> None:
    path = tmp_path / "app.env"
    path.write_text(text)
    assert envfile.read_env_file(str(path), {"FROM_ENV": SECRET}) == expected


@pytest.mark.parametrize(
    "text, where",
    [
        (f"GOOD=1\nbad line {SECRET}\n", ":2:"),
        (f"with space={SECRET}\n", ":1:"),
        (f"={SECRET}\n", ":1:"),
    ],
)
def test_a_bad_env_file_line_is_named_never_shown(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "app.env"
    path.write_text(text)
    with pytest.raises(DockervisorError) as raised:
        envfile.read_env_file(str(path), {})
    assert f"{path}{where}" in raised.value.message and SECRET not in raised.value.message


def test_invalid_utf8_in_an_env_file_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "app.env"
    path.write_bytes(b"A=\xff\xfe\n")
    with pytest.raises(DockervisorError, match=r"app.env:1: not valid UTF-8"):
        envfile.read_env_file(str(path), {})


def test_docker_reads_the_values_from_a_descriptor_no_path_leads_to() -> None:
    ctx = Context("test")
    with environment.env_source(ctx, {"TOKEN": SECRET, "B": "x"}) as (args, shown, fds):
        assert args == ["--env-file", f"/dev/fd/{fds[0]}"]
        assert shown == ["--env", "B", "--env", "TOKEN"]
        target = os.readlink(f"/proc/self/fd/{fds[0]}")
        assert target.startswith(("/memfd:", "pipe:"))
        with open(f"/dev/fd/{fds[0]}", "rb") as handle:
            assert handle.read() == f"TOKEN={SECRET}\nB=x\n".encode()
    with pytest.raises(OSError):
        os.fstat(fds[0])  # closed once docker has it


def test_a_dry_run_shows_keys_only(capsys: pytest.CaptureFixture) -> None:
    ctx = Context("test", dry_run=True)
    with environment.env_source(ctx, {"TOKEN": SECRET}) as (args, shown, fds):
        assert args == shown == ["--env", "TOKEN"] and fds == ()
    assert SECRET not in capsys.readouterr().err


def test_env_files_left_by_earlier_versions_are_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    environment.sweep_leftovers()  # nothing there: nothing created
    assert not (tmp_path / "home").exists()
    scratch = tmp_path / "home" / "tmp"
    scratch.mkdir(parents=True, mode=0o700)
    (tmp_path / "home").chmod(0o700)
    (scratch / "dcv_app_20261129000000.env").write_text(f"TOKEN={SECRET}\n")
    (scratch / "other.txt").write_text("kept")
    environment.sweep_leftovers()
    assert sorted(p.name for p in scratch.iterdir()) == ["other.txt"]


@pytest.mark.parametrize("value", ["pa55\tw0rd", "pa55\nw0rd", "pa55\\w0rd", "pa55'w0rd", "pa55\x1bw0rd", "pa55\u00e9w0rd"])
def test_a_value_that_repr_escapes_is_hidden_in_a_usage_error_too(value: str, capsys: pytest.CaptureFixture) -> None:
    """argparse quotes a refused word with repr: `'K=pa55\\tw0rd'` is not the word as typed."""
    for argv in (["start", "new", "app", f"K={value}", "extra"], [f"K={value}"], ["start", f"K={value}"]):
        try:
            code = main(argv)
        except SystemExit as exit:
            code = exit.code  # type: ignore[assignment]
        captured = capsys.readouterr()
        assert code == 2
        assert "w0rd" not in captured.err + captured.out, (argv, captured.err)
