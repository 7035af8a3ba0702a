"""Tables fit 80 columns and only colour a terminal."""

from __future__ import annotations

import io

import pytest

from dockervisor.core.output import Column, printable, render_table, terminal_width, use_colour


def test_table_is_aligned_with_a_header() -> None:
    lines = render_table([Column("A"), Column("LONGER")], [["x", "y"], ["wide-cell", "z"]])
    assert lines == ["A          LONGER", "x          y", "wide-cell  z"]


def test_wide_rows_are_shortened_to_fit() -> None:
    columns = [Column("NAME", "start"), Column("NOTE", "end")]
    rows = [["dcv_family_with_a_long_name_20261128093005", "x" * 70]]
    lines = render_table(columns, rows, width=80)
    assert all(len(line) <= 80 for line in lines)
    assert lines[1].startswith("…") and "093005" in lines[1]  # the distinguishing end is kept


def test_no_colour_for_pipes_or_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not use_colour(io.StringIO())

    class FakeTerminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_colour(FakeTerminal())
    monkeypatch.setenv("NO_COLOR", "")  # set but empty: no-color.org says it does not count
    assert use_colour(FakeTerminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(FakeTerminal())


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("plain text", "plain text"),
        ("tab\tkept", "tab\tkept"),
        ("\x1b]0;pwned\x07title", "\\x1b]0;pwned\\x07title"),
        ("\x1b]52;c;ZXZpbA==\x07", "\\x1b]52;c;ZXZpbA==\\x07"),  # OSC 52 clipboard write
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("c1 \x9b csi", "c1 \\x9b csi"),
        ("cr\rover", "cr\\x0dover"),
        ("naïve ✓", "naïve ✓"),
    ],
)
def test_container_output_is_made_printable(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_colour_does_not_break_alignment() -> None:
    lines = render_table(
        [Column("S"), Column("X")], [["ok", "1"]], colours=[["green", None]], colour_enabled=True
    )
    assert lines[1] == "\033[32mok\033[0m  1"


def test_a_huge_cell_is_cut_in_one_go_to_the_same_result() -> None:
    names = ", ".join(f"dcv_app_2026112809{i:04d}" for i in range(300))
    lines = render_table([Column("ID"), Column("CONTAINERS", "end")], [["abc", names]], width=80)
    assert [len(line) for line in lines] == [len("ID   CONTAINERS"), 80]
    assert lines[1].endswith("…") and lines[1].startswith("abc  dcv_app_")


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize(
    "columns, expected",
    [(None, None), ("200", 200), ("60", 60), ("10", 40), ("abc", None), ("２００", None), ("", None)],
)
def test_a_pipe_has_no_width_unless_columns_says_so(
    monkeypatch: pytest.MonkeyPatch, columns: str | None, expected: int | None
) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert terminal_width(_Pipe()) == expected


def test_without_a_width_nothing_is_cut() -> None:
    name = "dcv_a-family-with-a-long-name_20261129041012_2"
    lines = render_table([Column("NAME", "start"), Column("X", "end")], [[name, "y" * 100]], width=None)
    assert name in lines[1] and "…" not in "".join(lines)
