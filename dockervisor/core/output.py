"""Aligned columns that fit the terminal, optional colour, and JSON documents."""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from typing import TextIO

DEFAULT_WIDTH = 80
_GAP = "  "
_ELLIPSIS = "…"
_COLOURS = {"green": "32", "red": "31", "yellow": "33"}


class Column:
    """A table column. `cut` says which end to shorten when space runs out
    (None: never, for names that must be typed back); `drop` > 0 lets the
    column go when shortening is not enough, the highest first."""

    __slots__ = ("header", "cut", "min_width", "drop")

    def __init__(self, header: str, cut: str | None = None, min_width: int = 6, drop: int = 0) -> None:
        self.header = header
        self.cut = cut
        self.min_width = min_width
        self.drop = drop


def print_json(stream: TextIO, document: object) -> None:
    json.dump(document, stream, indent=2)
    stream.write("\n")
    stream.flush()


def terminal_width(stream: TextIO) -> int | None:
    """How wide a table may be: $COLUMNS when set, else the terminal's width;
    None (no limit) in a pipe, a file or a cron mail, where a cut name could
    not be typed back."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isascii() and columns.isdigit():
        return max(int(columns), 40)
    try:
        if stream.isatty():
            return max(os.get_terminal_size(stream.fileno()).columns, 40)
    except (OSError, ValueError, AttributeError):
        pass
    return None


def use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):  # the no-color convention: set and not empty
        return False
    try:
        return stream.isatty()
    except (ValueError, AttributeError):
        return False


# C0 controls but tab, DEL, and the C1 controls a terminal may also obey.
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0)]}


def printable(text: str) -> str:
    """`text` with terminal control sequences shown as visible escapes (`\\x1b`),
    for output taken from a container: its logs must not retitle the admin's
    window or write to their clipboard."""
    return text.translate(_CONTROLS)


def printable_lines(text: str) -> str:
    """`printable`, line by line: a message's own line breaks stay."""
    return "\n".join(printable(line) for line in text.split("\n"))


def plural(count: int, noun: str) -> str:
    """`1 log line`, `2 log lines`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def colour(text: str, name: str | None, enabled: bool) -> str:
    if not enabled or name is None:
        return text
    return f"\033[{_COLOURS[name]}m{text}\033[0m"


def render_table(
    columns: list[Column],
    rows: list[list[str]],
    width: int | None = DEFAULT_WIDTH,
    colours: list[list[str | None]] | None = None,
    colour_enabled: bool = False,
) -> list[str]:
    """Lines of a left-aligned table with a header, at most `width` characters
    wide if shortening cells and dropping columns allow (None: as wide as the
    cells). Cells of columns that may not be cut are never cut."""
    kept = list(range(len(columns)))
    while True:
        shown = [columns[i] for i in kept]
        widths = [max([len(columns[i].header)] + [len(row[i]) for row in rows]) for i in kept]
        if width is None:
            break
        _shrink_to_fit(shown, widths, width)
        droppable = [i for i in kept if columns[i].drop > 0]
        if _table_width(widths) <= width or not droppable:
            break
        kept.remove(max(droppable, key=lambda i: columns[i].drop))
    rows = [[row[i] for i in kept] for row in rows]
    if colours is not None:
        colours = [[row[i] for i in kept] for row in colours]
    columns = shown
    lines = []
    for row_index, row in enumerate([[c.header for c in columns]] + rows):
        cells = []
        for i, (column, cell) in enumerate(zip(columns, row)):
            text = _fit(cell, widths[i], column.cut)
            padded = text if i == len(columns) - 1 else text.ljust(widths[i])
            if row_index > 0 and colours is not None:
                padded = padded.replace(text, colour(text, colours[row_index - 1][i], colour_enabled), 1)
            cells.append(padded)
        lines.append(_GAP.join(cells).rstrip())
    return lines


def _shrink_to_fit(columns: list[Column], widths: list[int], width: int) -> None:
    """Narrow the widest shrinkable column until the table fits: straight down to
    the next widest (a cell can list hundreds of containers), then in turns."""
    while True:
        excess = _table_width(widths) - width
        candidates = [
            i for i, c in enumerate(columns) if c.cut is not None and widths[i] > c.min_width
        ]
        if excess <= 0 or not candidates:
            return
        widest = max(candidates, key=lambda i: widths[i])
        floor = max([columns[widest].min_width] + [widths[i] for i in candidates if i != widest])
        widths[widest] -= max(1, min(excess, widths[widest] - floor))


def _table_width(widths: list[int]) -> int:
    return sum(widths) + len(_GAP) * (len(widths) - 1)


def _fit(text: str, width: int, cut: str | None) -> str:
    if len(text) <= width or cut is None:
        return text
    if cut == "start":
        return _ELLIPSIS + text[len(text) - width + 1 :]
    return text[: width - 1] + _ELLIPSIS


def print_table(
    stream: TextIO,
    columns: list[Column],
    rows: list[list[str]],
    colours: list[list[str | None]] | None = None,
    wide: bool = False,
) -> None:
    """The table on `stream`; `wide`: every column, nothing cut, even in a terminal."""
    width = None if wide else terminal_width(stream)
    lines = render_table(columns, rows, width, colours, use_colour(stream))
    stream.write("\n".join(lines) + "\n")
    stream.flush()
