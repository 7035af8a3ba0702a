"""The command line as docker users type it: options anywhere, help that
teaches, names that can be typed back, completion and the man page."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from dockervisor.cli import VERBS, main
from dockervisor.cli.parsing import parse_verb
from dockervisor.cli.completion import script
from dockervisor.core.errors import DockervisorError
from dockervisor.cli.manpage import render
from dockervisor.config.names import container_for
from dockervisor.core.output import Column, render_table


def parsed(argv: list[str]) -> dict:
    namespace = vars(parse_verb(argv))
    namespace.pop("handler")
    return namespace


# Each verb, typed with its options last and first (or between its words).
ORDERS = [
    (["build", "app", ".", "-f", "D", "--no-cache", "--dry-run"],
     ["build", "--dry-run", "-f", "D", "--no-cache", "app", "."]),
    (["start", "new", "app", "--env", "A=b", "--dry-run", "--settle", "1"],
     ["start", "--env", "A=b", "new", "--dry-run", "app", "--settle", "1"]),
    (["start", "last", "app", "--no-wait"], ["start", "--no-wait", "last", "app"]),
    (["start", "app", "20261129041012", "--wait", "5"], ["start", "--wait", "5", "app", "20261129041012"]),
    (["stop", "app", "--dry-run"], ["stop", "--dry-run", "app"]),
    (["stable", "show", "app", "--json"], ["stable", "show", "--json", "app"]),
    (["stable", "mark", "app", "--force"], ["stable", "--force", "mark", "app"]),
    (["status", "app", "--json", "--wide"], ["status", "--json", "--wide", "app"]),
    (["list", "containers", "app", "--json"], ["list", "--json", "containers", "app"]),
    (["history", "app", "--limit", "5", "--json"], ["history", "--limit", "5", "--json", "app"]),
    (["logs", "app", "-f", "--tail", "10"], ["logs", "-f", "--tail", "10", "app"]),
    (["completion", "bash"], ["completion", "bash"]),
    (["prune", "app", "--keep", "2", "--dry-run"], ["prune", "--keep", "2", "--dry-run", "app"]),
    (["rm", "dcv_app_1", "dcv_app_2", "--force"], ["rm", "dcv_app_1", "--force", "dcv_app_2"]),
    (["forget", "app", "--volumes"], ["forget", "--volumes", "app"]),
    (["adopt", "app", "--dry-run"], ["adopt", "--dry-run", "app"]),
    (["pull", "app", "reg.example/app:1", "--no-pull", "--overrides", "f"],
     ["pull", "--no-pull", "app", "--overrides", "f", "reg.example/app:1"]),
    (["config", "app", "--json"], ["config", "--json", "app"]),
    (["start", "new", "app", "--if-changed"], ["start", "--if-changed", "new", "app"]),
    (["exec", "-it", "app", "sh", "-c", "ls -l"], ["exec", "-i", "-t", "app", "sh", "-c", "ls -l"]),
    (["unlock", "app", "--context", "web1"], ["unlock", "--context", "web1", "app"]),
    (["backup", "app", "-o", "/b/app.tar", "--json"], ["backup", "--json", "-o", "/b/app.tar", "app"]),
    (["restore", "app", "a.tar", "--dry-run", "--settle", "1"], ["restore", "--settle", "1", "app", "--dry-run", "a.tar"]),
    (["snapshots", "app", "--json"], ["snapshots", "--json", "app"]),
    (["start", "stable", "app", "--with-data"], ["start", "--with-data", "stable", "app"]),
    (["start", "new", "app", "--release-skip"], ["start", "--release-skip", "new", "app"]),
    (["run", "-it", "--image", "stable", "app", "sh", "-c", "ls -l"],
     ["run", "--image", "stable", "-i", "-t", "app", "sh", "-c", "ls -l"]),
    (["update", "app", "web", "--settle", "1", "--json"], ["update", "--settle", "1", "app", "--json", "web"]),
    (["update", "app", "--build", "./src", "--dry-run"], ["update", "--build", "./src", "--dry-run", "app"]),
    (["check", "app", "web", "--json"], ["check", "--json", "app", "web"]),
    (["timer", "app", "--on-calendar", "daily", "--install"], ["timer", "--install", "--on-calendar", "daily", "app"]),
]  # fmt: skip


@pytest.mark.parametrize("last, first", ORDERS, ids=[order[0][0] + "-" + str(i) for i, order in enumerate(ORDERS)])
def test_options_may_come_anywhere(last: list[str], first: list[str]) -> None:
    assert parsed(last) == parsed(first)


def test_every_verb_is_in_the_order_table() -> None:
    assert {order[0][0] for order in ORDERS} == set(VERBS)


def test_exec_leaves_the_commands_own_options_alone() -> None:
    assert parsed(["exec", "app", "ls", "-l", "--all"])["command"] == ["ls", "-l", "--all"]


def test_a_usage_error_shows_the_usage_of_the_verb_typed(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["stable", "show", "--frobnicate", "app"])
    err = capsys.readouterr().err
    assert raised.value.code == 2
    assert err.startswith("usage: dockervisor stable") and "dockervisor: error: " in err


@pytest.mark.parametrize(
    "verb, shown, hidden",
    [
        ("build", ["0", "1", "2", "128+N"], ["3  ", "4  ", "5  "]),
        ("start", ["3  start failed", "4  start failed"], ["5  "]),
        ("status", ["5  status"], ["3  ", "4  "]),
    ],
)
def test_help_lists_only_the_exit_codes_of_its_verb(
    capsys: pytest.CaptureFixture, verb: str, shown: list[str], hidden: list[str]
) -> None:
    with pytest.raises(SystemExit):
        main([verb, "--help"])
    codes = capsys.readouterr().out.split("exit codes:")[1]
    assert all(f"  {code}" in codes for code in shown)
    assert not [code for code in hidden if f"\n  {code}" in codes]


def test_the_top_level_help_names_the_environment_and_the_overrides_file(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for word in ("DOCKERVISOR_HOME", "DOCKERVISOR_LOCK_TIMEOUT", "DOCKERVISOR_DEBUG", "dcv-IMAGENAME", *VERBS):
        assert word in out


@pytest.mark.parametrize(
    "word, name",
    [
        ("20261129041012", "dcv_app_20261129041012"),
        ("20261129041012_2", "dcv_app_20261129041012_2"),
        ("dcv_app_20261129041012", "dcv_app_20261129041012"),
        ("my-own", "my-own"),
    ],
)
def test_a_container_is_named_by_its_suffix_or_in_full(word: str, name: str) -> None:
    assert container_for("app", word) == name


@pytest.mark.parametrize("word", ["a:b", "bad name", "../x", "", "-rf"])
def test_anything_else_is_refused(word: str) -> None:
    with pytest.raises(DockervisorError):
        container_for("app", word)


ROWS = [["dcv-a-long-family-name", "running 3h", "20261129041012_2", "3f2a1b9c latest", "8080->8080"]]
COLUMNS = [Column("FAMILY"), Column("STATE"), Column("CONTAINER"), Column("IMAGE", "end", 8, drop=2),
           Column("PORTS", "end", 8, drop=1)]  # fmt: skip


@pytest.mark.parametrize("width, headers", [
    (200, ["FAMILY", "STATE", "CONTAINER", "IMAGE", "PORTS"]),
    (80, ["FAMILY", "STATE", "CONTAINER", "IMAGE", "PORTS"]),
    (60, ["FAMILY", "STATE", "CONTAINER"]),
    (40, ["FAMILY", "STATE", "CONTAINER"]),
    (None, ["FAMILY", "STATE", "CONTAINER", "IMAGE", "PORTS"]),
])  # fmt: skip
def test_tables_drop_columns_but_never_cut_a_name(width: int | None, headers: list[str]) -> None:
    lines = render_table(COLUMNS, ROWS, width)
    assert lines[0].split() == headers
    assert "dcv-a-long-family-name" in lines[1] and "20261129041012_2" in lines[1]
    if width is not None and width >= 60:
        assert all(len(line) <= width for line in lines)


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_scripts_know_every_verb_and_option(shell: str) -> None:
    text = script(shell)
    assert "complete -F _dockervisor dockervisor" in text
    assert all(verb in text for verb in VERBS)
    assert "--env-file" in text and "@families" in text
    if shell == "zsh":
        assert text.startswith("#compdef dockervisor") and "bashcompinit" in text


def test_the_man_page_has_every_verb() -> None:
    page = render()
    assert page.startswith(".TH DOCKERVISOR 1")
    assert all(f".SS {verb}" in page for verb in VERBS)
    assert ".SH ENVIRONMENT" in page and "DOCKERVISOR_HOME" in page


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed (tests/run installs man-db)")
def test_the_man_page_renders(tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "dockervisor.1"
    page.write_text(render())
    shown = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True,
                           env={"MANPAGER": "cat", "PATH": "/usr/bin:/bin", "COLUMNS": "80"})  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "DOCKERVISOR(1)" in shown.stdout and "start new|last|stable" in shown.stdout
    assert "warning" not in shown.stderr
