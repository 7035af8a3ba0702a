"""Issue 18, item 3: a damaged file is data, not a crash. Every reader of an
archive, and the snapshot listing and retention built on them, meets
truncated, zero-byte, garbage and wrong-family files with one line naming
the path (a DockervisorError), never a traceback; retention never removes
them. A zero-byte state file likewise."""

from __future__ import annotations

import io
import os
import random
import tarfile
from pathlib import Path

import pytest

from dockervisor.store import archive, paths, state
from dockervisor.flows import snapshots
from dockervisor.store.archive import ArchivedMount, Manifest
from dockervisor.store.state import FamilyState
from dockervisor.config.datapolicy import DataPolicy
from dockervisor.core.errors import DockervisorError

DATA = ArchivedMount("/data", "volume", "app_data")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def good_archive(family: str = "app", container: str = "dcv_app_1", kind: str = "snapshot") -> bytes:
    """An archive as datacopy writes it: manifest, marker, docker's tar of /data."""
    manifest = Manifest(family, container, "sha256:1", [DATA], "2026-12-03T00:00:00Z", kind)
    out = io.BytesIO()
    out.write(archive.manifest_member(manifest, 0))
    out.write(archive.marker_member(0, 0))
    for name, data in (("data", None), ("data/a", b"alpha\n"), ("data/big", os.urandom(5000))):
        info = tarfile.TarInfo(name)
        if data is None:
            info.type = tarfile.DIRTYPE
        else:
            info.size = len(data)
        out.write(info.tobuf(tarfile.PAX_FORMAT))
        if data is not None:
            out.write(data + bytes(-len(data) % 512))
    out.write(archive.END_OF_ARCHIVE)
    return out.getvalue()


GOOD = good_archive()
IN_THE_MANIFEST = GOOD.index(b'"mounts"')
MANIFEST_END = GOOD.index(archive.marker_member(0, 0))
SEGMENT = MANIFEST_END + len(archive.marker_member(0, 0))  # where docker's tar of /data begins


def flipped(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0xFF]) + data[offset + 1 :]


# (name, content, whether even the manifest alone cannot be read). Those
# marked WHOLE hold every member whole: only `check` (which every restore
# runs first) has to see what is wrong with their end.
DAMAGED = [
    ("zero-bytes", b"", True),
    ("one-byte", b"\0", True),
    ("half-a-header", GOOD[:200], True),
    ("manifest-header-only", GOOD[:512], True),
    ("cut-in-the-manifest", GOOD[:IN_THE_MANIFEST], True),
    ("cut-after-the-manifest", GOOD[:MANIFEST_END], False),
    ("cut-in-the-marker", GOOD[: MANIFEST_END + 300], False),
    ("cut-in-a-data-member", GOOD[: len(GOOD) - 3000], False),
    ("cut-in-the-end-blocks", GOOD[: len(GOOD) - 700], False),
    ("no-end-blocks", GOOD[: len(GOOD) - 1024], False),
    ("text-garbage", b"this is not a tar file\n" * 300, True),
    ("random-garbage", random.Random(18).randbytes(20000), True),
    ("nul-blocks", bytes(10240), True),
    ("checksum-broken", flipped(GOOD, 150), True),
    ("manifest-not-utf8", GOOD.replace(b'"family"', b'"f\xffmily"', 1), True),
    ("manifest-not-json", GOOD.replace(b'"family"', b'{family"', 1), True),
    ("gzip-magic", b"\x1f\x8b\x08\x00" + bytes(600), True),
    ("trailing-garbage", GOOD + b"garbage" * 100, False),
]
WHOLE = ("cut-in-the-end-blocks", "no-end-blocks", "trailing-garbage")
READERS = {
    "read_manifest": archive.read_manifest,
    "read_manifest_and_end": archive.read_manifest_and_end,  # how snapshots are listed
    "check": archive.check,
    "mount_stream": lambda path: b"".join(archive.mount_stream(path, 0)),
}


def assert_one_line_naming(error: DockervisorError, path: str) -> None:
    assert path in error.message and "\n" not in error.message


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize(("name", "content", "in_manifest"), DAMAGED, ids=[d[0] for d in DAMAGED])
def test_every_reader_says_a_damaged_archive_is_damaged(
    tmp_path: Path, reader: str, name: str, content: bytes, in_manifest: bool
) -> None:
    path = tmp_path / f"{name}.tar"
    path.write_bytes(content)
    if reader == "read_manifest" and not in_manifest:
        assert archive.read_manifest(str(path)).family == "app"  # it reads the first member only
        return
    if reader == "mount_stream" and name in WHOLE:
        return
    with pytest.raises(DockervisorError) as raised:
        READERS[reader](str(path))
    assert_one_line_naming(raised.value, str(path))


def test_the_good_archive_reads_with_every_reader(tmp_path: Path) -> None:
    """The table's damage is the only thing wrong with its files."""
    path = tmp_path / "good.tar"
    path.write_bytes(GOOD)
    for reader in READERS.values():
        reader(str(path))
    assert archive.end_of_segment(str(path), SEGMENT, DATA) == len(GOOD) - len(archive.END_OF_ARCHIVE)


# What docker wrote for one mount point, damaged, as datacopy checks it before cutting its end.
SEGMENTS = [
    ("nothing", b""),
    ("half-a-header", GOOD[SEGMENT : SEGMENT + 200]),
    ("cut-in-a-data-member", GOOD[: len(GOOD) - 3000][SEGMENT:]),
    ("no-end-blocks", GOOD[SEGMENT : len(GOOD) - 1024]),
    ("garbage", b"docker said something else\n" * 40),
    ("checksum-broken", flipped(GOOD[SEGMENT:], 150)),
]


@pytest.mark.parametrize(("name", "segment"), SEGMENTS, ids=[s[0] for s in SEGMENTS])
def test_a_damaged_copy_of_a_mount_point_is_refused_naming_the_file(tmp_path: Path, name: str, segment: bytes) -> None:
    path = tmp_path / "partial.tar"
    path.write_bytes(GOOD[:SEGMENT] + segment)
    with pytest.raises(DockervisorError) as raised:
        archive.end_of_segment(str(path), SEGMENT, DATA)
    assert_one_line_naming(raised.value, str(path))


def test_a_fuzzed_archive_never_escapes_as_anything_but_damaged(tmp_path: Path) -> None:
    path, rng = tmp_path / "fuzzed.tar", random.Random(1803)
    for _ in range(300):
        content = bytearray(GOOD)
        for _ in range(rng.randint(1, 12)):
            content[rng.randrange(len(content))] = rng.randrange(256)
        path.write_bytes(bytes(content[: rng.randrange(len(content) + 1)]))
        for reader in READERS.values():
            try:
                reader(str(path))
            except DockervisorError as error:
                assert_one_line_naming(error, str(path))


def test_an_unreadable_or_missing_archive_is_one_line(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.tar", tmp_path):  # absent; a directory
        with pytest.raises(DockervisorError) as raised:
            archive.check(str(path))
        assert_one_line_naming(raised.value, str(path))


# Snapshots: listed as damaged, never removed by retention -------------------


class Ctx:
    dry_run = False

    def __init__(self) -> None:
        self.said: list[str] = []

    def info(self, message: str) -> None:
        self.said.append(message)


def snapshot_dir() -> Path:
    directory = Path(paths.snapshots_dir("app"))
    paths.ensure_private_dir(str(directory.parent))
    paths.ensure_private_dir(str(directory))
    return directory


@pytest.mark.parametrize(("name", "content", "in_manifest"), DAMAGED, ids=[d[0] for d in DAMAGED])
def test_a_damaged_snapshot_is_listed_as_damaged_and_never_pruned(name: str, content: bytes, in_manifest: bool) -> None:
    directory = snapshot_dir()
    for stamp in range(1, 5):
        (directory / f"20261203T00000{stamp}.000000Z-dcv_app_{stamp}.tar").write_bytes(
            good_archive(container=f"dcv_app_{stamp}")
        )
    bad = directory / "20261203T000009.000000Z-dcv_app_9.tar"  # the newest
    bad.write_bytes(content)
    found, damaged = snapshots.existing("app")
    assert [s.container for s in found] == ["dcv_app_4", "dcv_app_3", "dcv_app_2", "dcv_app_1"]
    assert list(damaged) == [str(bad)] and str(bad) in damaged[str(bad)]
    ctx = Ctx()
    family = FamilyState("app", data=DataPolicy(snapshot=True, keep=1))
    removed = snapshots.prune(ctx, family)  # type: ignore[arg-type]
    assert [s.container for s in removed] == ["dcv_app_3", "dcv_app_2", "dcv_app_1"]
    assert bad.read_bytes() == content  # never removed, never changed
    assert any("damaged" in said and str(bad) in said for said in ctx.said)


def test_a_snapshot_of_another_family_is_reported_not_taken(home: Path) -> None:
    other = snapshot_dir() / "20261203T000001.000000Z-dcv_other_1.tar"
    other.write_bytes(good_archive(family="other", container="dcv_other_1"))
    found, damaged = snapshots.existing("app")
    assert found == [] and "'other'" in damaged[str(other)] and str(other) in damaged[str(other)]


def test_a_snapshot_that_cannot_be_removed_is_a_warning_not_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    directory = snapshot_dir()
    for stamp in (1, 2):
        (directory / f"20261203T00000{stamp}.000000Z-dcv_app_{stamp}.tar").write_bytes(
            good_archive(container=f"dcv_app_{stamp}")
        )

    def refuse(path: str) -> None:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(os, "unlink", refuse)
    ctx = Ctx()
    removed = snapshots.prune(ctx, FamilyState("app", data=DataPolicy(snapshot=True, keep=1)))  # type: ignore[arg-type]
    assert removed == [] and any("Permission denied" in said for said in ctx.said)


# State files ------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\0\0\0", b"{", b"\xff\xfe", b"[]", b"null"])
def test_a_damaged_state_file_is_one_line_naming_it(home: Path, content: bytes) -> None:
    path = Path(paths.family_state_file("app"))
    paths.ensure_private_dir(str(path.parent))
    path.write_bytes(content)
    with pytest.raises(DockervisorError) as raised:
        state.load("app")
    assert_one_line_naming(raised.value, str(path))
    assert "damaged" in raised.value.message and path.read_bytes() == content
