"""Command-line handling that needs no engine."""

from __future__ import annotations

import pytest

from dockervisor import __version__
from dockervisor.cli import main, redacted_command_line


def test_env_values_are_hidden_from_the_recorded_command() -> None:
    line = redacted_command_line(
        ["start", "new", "app", "--env", "TOKEN=s3cr3t", "--env=PASS=x y", "-eKEY=v", "-e", "FLAG"]
    )
    assert "s3cr3t" not in line and "x y" not in line and "=v" not in line
    assert line == "dockervisor start new app --env 'TOKEN=***' '--env=PASS=***' '-eKEY=***' -e FLAG"


def test_version(capsys: pytest.CaptureFixture) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"dockervisor {__version__}\n"


@pytest.mark.parametrize(
    "argv",
    [["start"], ["start", "new"], ["start", "a", "b", "c"], ["stable", "show"], ["list", "images"],
     ["start", "last", "app", "--env", "A=1"], ["build", "Bad"], ["frobnicate"],
     ["prune", "--keep", "-1"], ["prune", "--keep", "x"], ["prune", "Bad"], ["rm"], ["rm", "a b"],
     ["forget"], ["forget", "a", "b"], ["start", "last", "app", "--if-changed"]],
)  # fmt: skip
def test_usage_errors_exit_2_in_one_format(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as raised:
        code = main(argv)
        raise SystemExit(code)
    assert raised.value.code == 2
    assert "dockervisor: error: " in capsys.readouterr().err


def test_every_help_shows_an_example(capsys: pytest.CaptureFixture) -> None:
    for verb in ("build", "start", "stop", "stable", "list", "status", "history", "prune", "rm", "forget"):
        with pytest.raises(SystemExit):
            main([verb, "--help"])
        out = capsys.readouterr().out
        assert "example:" in out and f"dockervisor {verb}" in out and "exit codes:" in out
