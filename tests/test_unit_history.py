"""The history read from its end, and rotated at a size with one previous file kept."""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path

import pytest

from dockervisor.store import history
from dockervisor.commands.history import history as history_command
from dockervisor.flows.context import Context
from dockervisor.core.errors import DockervisorError


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def current(home: Path) -> Path:
    path = home / "history" / "app.jsonl"
    path.parent.mkdir(parents=True)
    return path


def line(action: str, message: str | None = None) -> bytes:
    return json.dumps({"action": action, "message": message}).encode() + b"\n"


def lines(*actions: str) -> bytes:
    return b"".join(line(action) for action in actions)


def actions(entries: Iterable[dict]) -> list[str]:
    return [entry["action"] for entry in entries]


def add(*names: str) -> None:
    for name in names:
        history.append("app", history.Entry(name, f"dockervisor {name} app"), 0.0)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [(0, []), (1, ["e"]), (2, ["d", "e"]), (5, ["a", "b", "c", "d", "e"]),
     (9, ["a", "b", "c", "d", "e"]), (None, ["a", "b", "c", "d", "e"])],
)  # fmt: skip
def test_the_newest_entries_oldest_first(current: Path, limit: int | None, expected: list[str]) -> None:
    current.write_bytes(lines("a", "b", "c", "d", "e"))
    assert actions(history.read("app", limit)) == expected


def test_no_history_is_empty() -> None:
    assert history.read("app", 20) == history.read("app") == []


# Lines of many lengths, blank lines, a leading blank line, CRLF, a long line and
# a final line without its newline: every block size must cut them the same.
SHAPES = {
    "plain": lines("a", "b", "c"),
    "no final newline": lines("a", "b") + line("c").rstrip(b"\n"),
    "blank lines": b"\n" + line("a") + b"\n  \n" + line("b") + b"\n\n" + line("c") + b"\n",
    "crlf": line("a").replace(b"\n", b"\r\n") + line("b") + line("c").replace(b"\n", b"\r\n"),
    "a long line": line("a") + line("b", "x" * 300) + line("c"),
    "unicode": lines("a") + '{"action": "b", "message": "é€😀"}\n'.encode() + lines("c"),
}  # fmt: skip


@pytest.mark.parametrize("block", [1, 2, 3, 7, 16, 64, 1 << 16])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("limit", [1, 2, 3, 4, None])
def test_lines_cut_across_blocks_read_whole(
    current: Path, monkeypatch: pytest.MonkeyPatch, block: int, shape: str, limit: int | None
) -> None:
    monkeypatch.setattr(history, "READ_BLOCK", block)
    current.write_bytes(SHAPES[shape])
    # What a plain forward read of the whole file gives.
    documents = [json.loads(text) for text in SHAPES[shape].decode().splitlines() if text.strip()]
    entries = [{field: document.get(field) for field in history.FIELDS} for document in documents]
    assert history.read("app", limit) == (entries[-limit:] if limit else entries)
    assert actions(entries) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("content", "limit", "expected", "warned"),
    [
        pytest.param(lines("a", "b") + b'{"action": "se', 2, ["a", "b"], [1], id="a torn final write"),
        pytest.param(lines("a") + b"SECRET\n" + lines("b") + b"\n[1, 2]\n" + lines("c"), 3, ["a", "b", "c"],
                     [2, 5], id="damaged lines use up no limit, blank ones count as lines"),
        pytest.param(lines("a") + b"\xff\xfe\n" + b'"SECRET"\n' + lines("b"), None, ["a", "b"], [2, 3],
                     id="not UTF-8, or not an object"),
        pytest.param(b"SECRET damaged\n" + lines("a", "b"), 2, ["a", "b"], [],
                     id="what lies before the newest entries is not read"),
    ],
)  # fmt: skip
def test_damaged_lines_are_skipped_with_a_warning_naming_where(
    current: Path,
    capsys: pytest.CaptureFixture,
    content: bytes,
    limit: int | None,
    expected: list[str],
    warned: list[int],
) -> None:
    current.write_bytes(content)
    assert actions(history.read("app", limit)) == expected
    warnings = capsys.readouterr().err.splitlines()
    assert warnings == [
        f"dockervisor: warning: {current}: line {number} from the end is damaged; skipped" for number in warned
    ]
    assert all("SECRET" not in warning for warning in warnings)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [(1, ["e"]), (2, ["d", "e"]), (3, ["c", "d", "e"]), (5, ["a", "b", "c", "d", "e"]),
     (20, ["a", "b", "c", "d", "e"]), (None, ["a", "b", "c", "d", "e"])],
)  # fmt: skip
def test_too_few_entries_continue_into_the_previous_file(
    current: Path, limit: int | None, expected: list[str]
) -> None:
    Path(f"{current}.1").write_bytes(lines("a", "b", "c"))
    current.write_bytes(lines("d") + b"damaged\n\n" + lines("e"))
    assert actions(history.read("app", limit)) == expected


def test_only_the_previous_file_left(current: Path) -> None:
    Path(f"{current}.1").write_bytes(lines("a", "b"))
    assert actions(history.read("app", 1)) == ["b"]


def test_the_previous_file_is_not_opened_when_the_current_one_has_enough(
    current: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    current.write_bytes(lines("a", "b"))
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *args: opened.append(path) or real_open(path, *args))
    assert actions(history.read("app", 2)) == ["a", "b"]
    assert opened == [str(current)]


def entry_size(home: Path) -> int:
    """The bytes an appended entry named by one letter takes (its user is this machine's)."""
    add("z")
    path = home / "history" / "app.jsonl"
    size = path.stat().st_size
    path.unlink()
    return size


@pytest.mark.parametrize(
    ("threshold", "previous", "current"),
    [
        # At or above the threshold: two entries reach 2 sizes, so the third starts a new file.
        pytest.param(2, ["a", "b"], ["c", "d"], id="exactly at"),
        pytest.param(1.5, ["a", "b"], ["c", "d"], id="above"),
        pytest.param(2.5, ["a", "b", "c"], ["d"], id="just below"),
        pytest.param(10, [], ["a", "b", "c", "d"], id="never reached"),
        # An older previous file is replaced.
        pytest.param(0.5, ["c"], ["d"], id="every append"),
    ],
)  # fmt: skip
def test_the_history_rotates_at_its_size_keeping_one_previous_file(
    home: Path, monkeypatch: pytest.MonkeyPatch, threshold: float, previous: list[str], current: list[str]
) -> None:
    monkeypatch.setattr(history, "ROTATE_AT_BYTES", int(entry_size(home) * threshold))
    add("a", "b", "c", "d")
    directory = home / "history"
    files = {path.name: path for path in directory.iterdir()}
    assert sorted(files) == ["app.jsonl"] + (["app.jsonl.1"] if previous else [])
    written = {name: actions(map(json.loads, path.read_bytes().splitlines())) for name, path in files.items()}
    assert written == {"app.jsonl": current, **({"app.jsonl.1": previous} if previous else {})}
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files.values())
    assert actions(history.read("app")) == previous + current
    assert actions(history.read("app", 3)) == (previous + current)[-3:]


def test_a_history_file_that_is_a_link_is_refused_not_followed(home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"")
    (home / "history").mkdir(parents=True)
    os.symlink(elsewhere, home / "history" / "app.jsonl")
    with pytest.raises(DockervisorError, match="cannot write .*app.jsonl"):
        add("a")
    assert elsewhere.read_bytes() == b""


def test_the_command_knows_a_family_whose_history_is_only_the_previous_file(current: Path) -> None:
    Path(f"{current}.1").write_bytes(lines("a", "b"))
    out = io.StringIO()
    assert history_command(Context("dockervisor history app", stdout=out), "app", 1, as_json=True) == 0
    assert actions(json.loads(out.getvalue())["entries"]) == ["b"]
