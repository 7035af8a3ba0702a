"""Issue 18, the pure parts: guarded output, redaction of every spelling, the
start-mode typo, restart loops in status."""

from __future__ import annotations

import io
import os

import pytest

from dockervisor.core import streams
from dockervisor.cli import main, redact, redact_message
from dockervisor.commands.status import _flag_restarts

SECRET = "pa55w0rd"


class Failing(io.StringIO):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def write(self, text: str) -> int:
        raise self.error

    def flush(self) -> None:
        raise self.error


@pytest.mark.parametrize("error", [BrokenPipeError(32, "Broken pipe"), OSError(28, "No space left"), ValueError("closed")])
def test_a_change_goes_on_when_its_output_fails(error: Exception) -> None:
    guarded = streams.Guarded(Failing(error), 1)
    assert guarded.write("dockervisor: stopped x\n") == len("dockervisor: stopped x\n")
    guarded.flush()
    assert guarded.broken and guarded.gone and not guarded.isatty()
    assert guarded.write("more") == 4  # dropped, quietly, every time after


def test_a_read_only_command_ends_at_the_first_failed_write() -> None:
    guarded = streams.Guarded(Failing(BrokenPipeError(32, "Broken pipe")), 1)
    guarded.strict = True
    with pytest.raises(streams.ReaderGone):
        guarded.write("FAMILY STATE\n")


def test_a_stream_missing_at_start_is_silent_not_stdout() -> None:
    guarded = streams.Guarded(None, 2)
    assert guarded.write("progress") == len("progress") and guarded.broken and not guarded.gone
    assert guarded.fileno() == 2


def test_a_working_stream_is_written_through() -> None:
    target = io.StringIO()
    guarded = streams.Guarded(target, 1)
    guarded.write("dcv_app_1\n")
    guarded.flush()
    assert target.getvalue() == "dcv_app_1\n" and not guarded.broken


def test_closed_descriptors_are_opened_on_devnull() -> None:
    saved = os.dup(2)
    try:
        os.close(2)
        streams.open_missing_descriptors()
        assert os.path.realpath("/proc/self/fd/2") == os.devnull
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@pytest.mark.parametrize(
    "word, shown",
    [
        (f"--envv={SECRET}", "--envv=***"),
        (f"--json=TOKEN={SECRET}", "--json=TOKEN=***"),
        (f"--no-wait=TOKEN={SECRET}", "--no-wait=TOKEN=***"),
        ("--env=TOKEN", "--env=TOKEN"),
        ("--build-arg=VERSION", "--build-arg=VERSION"),
        ("--parallel=2", "--parallel=2"),
        ("--container=20261203", "--container=20261203"),
        (f"TOKEN={SECRET}", "TOKEN=***"),
    ],
)
def test_redaction_table(word: str, shown: str) -> None:
    assert redact(word) == shown


@pytest.mark.parametrize(
    "message, argv",
    [
        (f"argument --json: ignored explicit argument 'TOKEN={SECRET}'", ["status", f"--json=TOKEN={SECRET}"]),
        (f"unrecognized arguments: --envv {SECRET}", ["stop", "app", "--envv", SECRET]),
        (f"unrecognized arguments: --envv={SECRET}", ["stop", "app", f"--envv={SECRET}"]),
        (f"invalid container name 'TOKEN={SECRET}\\x1b': ...", ["start", f"TOKEN={SECRET}\x1b"]),
    ],
)
def test_no_spelling_argparse_echoes_shows_a_value(message: str, argv: list[str]) -> None:
    assert SECRET not in redact_message(message, argv)


def test_a_known_option_keeps_its_plain_value_in_a_message() -> None:
    said = redact_message("unrecognized arguments: --wait 5", ["stop", "app", "--wait", "5"])
    assert said == "unrecognized arguments: --wait 5"


@pytest.mark.parametrize("typo, mode", [("nwe", "new"), ("lats", "last"), ("stabel", "stable"), ("NEW", "new")])
def test_a_start_mode_typo_names_the_mode(typo: str, mode: str, capsys: pytest.CaptureFixture, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path))
    assert main(["start", typo, "app"]) == 2
    err = capsys.readouterr().err
    assert f"{typo!r} is not a start mode" in err and f"start {mode} app" in err


def test_a_suffix_after_a_family_is_not_a_typo(capsys: pytest.CaptureFixture, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker: the command gets as far as needing it
    assert main(["start", "nwe", "20261203101010"]) == 1
    err = capsys.readouterr().err
    assert "not a start mode" not in err and "'docker' command was not found" in err


@pytest.mark.parametrize(
    "status, restarts, shown, counted",
    [
        ("running", 0, "running", 0),
        ("running", 3, "restarting", 3),
        ("restarting", 2, "restarting", 2),
        ("exited", 1, "exited", 1),
        ("running", None, "running", 0),
        ("running", "7", "running", 0),  # not what docker gives: never believed
    ],
)
def test_restarts_since_the_last_start_mean_a_loop(status: str, restarts, shown: str, counted: int) -> None:
    report = {"state": status}
    _flag_restarts(report, {"RestartCount": restarts})
    assert (report["state"], report["restarts"]) == (shown, counted)


def test_help_to_a_reader_gone_before_the_write_exits_141(monkeypatch: pytest.MonkeyPatch) -> None:
    """argparse drops a help text whose write fails; the exit code still says so."""
    monkeypatch.setattr("sys.stdout", Failing(BrokenPipeError(32, "Broken pipe")))
    assert main(["--help"]) == streams.EXIT_PIPE_CLOSED


@pytest.mark.parametrize(
    "said", ["`docker volume inspect` failed: Error response from daemon: get app_data: no such volume",
             "Error: No such volume: app_data"],
)
def test_engine_messages_are_read_without_regard_to_case(said: str) -> None:
    from dockervisor.engine.said import docker_said

    assert docker_said(said, "No such volume") and not docker_said(said, "No such image")


def test_runtime_messages_keep_the_words_they_quote(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """Only usage errors are redacted: a lock holder's command line and a path
    with `=` in it are what the admin needs to read."""
    from dockervisor.cli import main
    from dockervisor.core.errors import DockervisorError

    def refused(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise DockervisorError("held by pid 7: dockervisor start new --snapshot app; /srv/b/x=1.tar")

    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path))
    monkeypatch.setattr("dockervisor.cli._dispatch", refused)
    assert main(["start", "new", "--snapshot", "app", "--env", "A=1"]) == 1
    assert "dockervisor start new --snapshot app; /srv/b/x=1.tar" in capsys.readouterr().err


@pytest.mark.parametrize(
    "error, code", [(BrokenPipeError(32, "Broken pipe"), 141), (ConnectionResetError(104, "reset"), 141),
                    (OSError(28, "No space left on device"), 1)],
)
def test_a_read_only_command_says_141_only_when_its_reader_went_away(error: Exception, code: int) -> None:
    guarded = streams.Guarded(Failing(error), 1)
    guarded.strict = True
    with pytest.raises(streams.ReaderGone) as raised:
        guarded.write("history\n")
    assert raised.value.exit_code == code


def test_a_stream_that_cannot_encode_a_name_gets_it_escaped() -> None:
    target = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    guarded = streams.Guarded(target, 1)
    guarded.write("dcv_café\n")
    guarded.flush()
    assert target.buffer.getvalue() == b"dcv_caf\\xe9\n" and not guarded.broken


def test_a_usage_error_on_one_of_several_engines_is_redacted_too(capsys) -> None:  # type: ignore[no-untyped-def]
    import argparse

    from dockervisor.core.errors import EXIT_USAGE, DockervisorError
    from dockervisor.engine.contexts import Engine
    from dockervisor.flows import fleet

    def handler(args):  # type: ignore[no-untyped-def]
        raise DockervisorError(f"invalid container name 'TOKEN={SECRET}'", EXIT_USAGE)

    args = argparse.Namespace(handler=handler, argv=["start", f"TOKEN={SECRET}"])
    run = fleet._one(args, Engine("web1", "unix:///run/web1.sock", named=True))
    err = capsys.readouterr().err
    assert run.code == EXIT_USAGE and "web1" in err and "TOKEN=***" in err and SECRET not in err
