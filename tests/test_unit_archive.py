"""The archive of a family's data without an engine: its format, every check
on a member before it may reach a volume, the restore script, the argv builders."""

from __future__ import annotations

import io
import re
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from dockervisor.store import archive
from dockervisor.engine import argv as docker_argv
from dockervisor.store.archive import ArchivedMount, Manifest
from dockervisor.core.errors import DockervisorError


DATA = ArchivedMount("/var/data", "volume", "app_var_data")


def member(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", linkname: str = "") -> tuple:
    return name, kind, data, linkname


def docker_tar(*members: tuple) -> bytes:
    """A tar as `docker cp` writes one: the mount point's directory first."""
    out = io.BytesIO()
    for name, kind, data, linkname in members:
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.mode, info.mtime = kind, linkname, 0o644, 1_700_000_000
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        out.write(info.tobuf(tarfile.PAX_FORMAT) + data + bytes(-len(data) % 512))
    return out.getvalue() + bytes(1024)


GOOD = (
    member("data", tarfile.DIRTYPE),
    member("data/a", data=b"alpha\n"),
    member("data/d", tarfile.DIRTYPE),
    member("data/d/big", data=os.urandom(3000)),
    member("data/d/link", tarfile.SYMTYPE, linkname="../a"),
    member("data/hard", tarfile.LNKTYPE, linkname="data/a"),
    member("data/.hidden", data=b"dot"),
)


def write_archive(path: Path, *segments: bytes, manifest: Manifest | None = None) -> Path:
    """An archive as datacopy writes it: manifest, then marker + docker's tar
    (its end blocks cut) for each mount point, then the end of the archive."""
    manifest = manifest or Manifest("app", "dcv_app_1", "sha256:1", [DATA], "2026-11-29T00:00:00Z")
    with open(path, "wb") as out:
        out.write(archive.manifest_member(manifest, 0))
        for index, segment in enumerate(segments):
            out.write(archive.marker_member(index, 0))
            out.write(segment[:-1024])
        out.write(archive.END_OF_ARCHIVE)
    return path


def test_an_archive_is_checked_whole_and_is_a_plain_tar(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "a.tar", docker_tar(*GOOD))
    manifest = archive.check(str(path))
    assert manifest.family == "app" and manifest.mounts[0].to_dict() == DATA.to_dict()
    with tarfile.open(path) as plain:  # any tar reads it to its end
        names = plain.getnames()
    assert names[:3] == ["dockervisor/manifest.json", "dockervisor/mount-0", "data"]
    assert names[-1] == "data/.hidden"


def test_a_mount_point_streams_relative_to_itself_with_owners_by_number(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "a.tar", docker_tar(*GOOD))
    stream = b"".join(archive.mount_stream(str(path), 0))
    with tarfile.open(fileobj=io.BytesIO(stream)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [".", "a", "d", "d/big", "d/link", "hard", ".hidden"]
        assert {m.uname for m in members} == {""}
        assert members[4].linkname == "../a" and members[5].linkname == "a"
        assert tar.extractfile("d/big").read() == GOOD[3][2]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "bad, words",
    [
        (member("/etc/passwd"), "not a path inside"),
        (member("data/../etc/passwd"), "not a path inside"),
        (member("other/file"), "not a path inside"),
        (member("data//x"), "not a path inside"),
        (member("data/up", tarfile.SYMTYPE, linkname="../../etc"), "leaves the mount point"),
        (member("data/abs", tarfile.SYMTYPE, linkname="/etc/shadow"), "leaves the mount point"),
        (member("data/h", tarfile.LNKTYPE, linkname="etc/shadow"), "not a path inside"),
        (member("data/h", tarfile.LNKTYPE, linkname="data/../../x"), "not a path inside"),
        (member("data/tty", tarfile.CHRTYPE), "a device file"),
        (member("data", tarfile.DIRTYPE), "appears twice"),
    ],
)
def test_members_that_could_reach_outside_are_refused_by_name(tmp_path: Path, bad: tuple, words: str) -> None:
    path = write_archive(tmp_path / "bad.tar", docker_tar(*GOOD, bad))
    with pytest.raises(DockervisorError, match=words):
        archive.check(str(path))
    with pytest.raises(DockervisorError, match=words):  # and again as it streams
        b"".join(archive.mount_stream(str(path), 0))


def test_nothing_is_written_through_a_symbolic_link(tmp_path: Path) -> None:
    through = (member("data/d/in", tarfile.SYMTYPE, linkname="."), member("data/d/in/x", data=b"x"))
    path = write_archive(tmp_path / "bad.tar", docker_tar(*GOOD, *through))
    with pytest.raises(DockervisorError, match="through the symbolic link d/in"):
        archive.check(str(path))
    hard = write_archive(tmp_path / "hard.tar", docker_tar(*GOOD, member("data/h", tarfile.LNKTYPE,
                                                                          linkname="data/d/link/x")))  # fmt: skip
    with pytest.raises(DockervisorError, match="through the symbolic link d/link"):
        archive.check(str(hard))


def test_a_copy_must_begin_with_its_mount_points_directory(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "a.tar", docker_tar(member("data/a", data=b"x")))
    with pytest.raises(DockervisorError, match="must begin with its directory"):
        archive.check(str(path))


@pytest.mark.parametrize("cut", [100, 600, 2000])
def test_a_cut_or_garbled_archive_is_damaged(tmp_path: Path, cut: int) -> None:
    path = write_archive(tmp_path / "a.tar", docker_tar(*GOOD))
    whole = path.read_bytes()
    path.write_bytes(whole[:-cut])
    with pytest.raises(DockervisorError, match="damaged|cut short"):
        archive.check(str(path))
    path.write_bytes(whole[:-1024] + b"garbage" * 200 + bytes(1024))
    with pytest.raises(DockervisorError, match="cannot read"):
        archive.check(str(path))


def test_missing_mount_points_and_foreign_files_are_refused(tmp_path: Path) -> None:
    two = Manifest("app", "dcv_app_1", None, [DATA, ArchivedMount("/www", "bind", "/srv/www")], "t")
    path = write_archive(tmp_path / "a.tar", docker_tar(*GOOD), manifest=two)
    with pytest.raises(DockervisorError, match="holds 1 of the 2 mount points"):
        archive.check(str(path))
    (tmp_path / "plain.tar").write_bytes(docker_tar(*GOOD))
    with pytest.raises(DockervisorError, match="not a dockervisor archive"):
        archive.check(str(tmp_path / "plain.tar"))
    (tmp_path / "text").write_text("hello")
    with pytest.raises(DockervisorError, match="not a dockervisor archive"):
        archive.check(str(tmp_path / "text"))
    with pytest.raises(DockervisorError, match="cannot read"):
        archive.check(str(tmp_path / "missing.tar"))


@pytest.mark.parametrize(
    "change, words",
    [
        ({"format": 2}, "unknown format"),
        ({"family": "../etc"}, "not an image name"),
        ({"container": "a b"}, "not a container name"),
        ({"mounts": []}, "list of mount points"),
        ({"mounts": [{"target": "/", "type": "volume", "source": "v"}]}, "not a usable mount point"),
        ({"mounts": [{"target": "/d", "type": "volume", "source": "../v"}]}, "invalid source"),
        ({"mounts": [{"target": "/d", "type": "bind", "source": "rel/dir"}]}, "invalid source"),
        ({"mounts": [{"target": "/d", "type": "tmpfs", "source": "x"}]}, "no valid type"),
    ],
)
def test_a_manifest_is_checked_as_strictly_as_the_state(change: dict, words: str) -> None:
    document = Manifest("app", "dcv_app_1", None, [DATA], "t").to_dict()
    document.update(change)
    with pytest.raises(ValueError, match=words):
        Manifest.from_dict(document)


def test_data_argv_builders() -> None:
    assert docker_argv.pause("c") == ["docker", "pause", "c"]
    assert docker_argv.unpause("c") == ["docker", "unpause", "c"]
    assert docker_argv.copy_from("c", "/var/data") == ["docker", "cp", "c:/var/data", "-"]
    assert docker_argv.helper_probe("busybox", "app") == [
        "docker", "run", "--rm", "--network", "none", "--pull", "never", "--user", "0:0",
        "--label", "dockervisor.helper=app", "--entrypoint", "/bin/sh", "busybox",
        "-c", "command -v tar >/dev/null",
    ]  # fmt: skip
    assert docker_argv.restore_into("app:latest", "app", "app_data", "h1") == [
        "docker", "run", "--rm", "--interactive", "--name", "h1", "--volume", "app_data:/dcv-restore",
        "--network", "none", "--pull", "never", "--user", "0:0", "--label", "dockervisor.helper=app",
        "--entrypoint", "/bin/sh", "app:latest", "-c", docker_argv.RESTORE_SCRIPT, "sh", "/dcv-restore",
    ]  # fmt: skip
    assert docker_argv.remove_forced("h1") == ["docker", "rm", "--force", "h1"]


def test_the_restore_script_empties_the_directory_then_extracts(tmp_path: Path) -> None:
    """The helper's script, run here by the local sh and tar on a directory."""
    target = tmp_path / "vol"
    (target / "old" / "deep").mkdir(parents=True)
    for name in (".dot", "..dotdot", "plain", "old/deep/f"):
        (target / name).write_text("old")
    path = write_archive(tmp_path / "a.tar", docker_tar(*GOOD))
    stream = b"".join(archive.mount_stream(str(path), 0))
    subprocess.run(["sh", "-c", docker_argv.RESTORE_SCRIPT, "sh", str(target)], input=stream, check=True)
    found = sorted(str(p.relative_to(target)) for p in target.rglob("*"))
    assert found == [".hidden", "a", "d", "d/big", "d/link", "hard"]
    assert (target / "d" / "link").read_text() == "alpha\n" and (target / "d" / "big").read_bytes() == GOOD[3][2]


# Every kind of tar member, one row each: None if it may reach a volume, else the words of its refusal.
# Each row is checked by archive.check (the whole file) and again by mount_stream (as it is restored).
MEMBER_TYPES = [
    ("regular file", member("data/f", data=b"x"), None),
    ("old-style regular file", member("data/f", tarfile.AREGTYPE), None),
    ("directory", member("data/sub", tarfile.DIRTYPE), None),
    ("fifo", member("data/pipe", tarfile.FIFOTYPE), None),
    ("symlink inside", member("data/l", tarfile.SYMTYPE, linkname="a"), None),
    ("symlink to .", member("data/l", tarfile.SYMTYPE, linkname="."), None),
    ("symlink down and up inside", member("data/d/l", tarfile.SYMTYPE, linkname="../d/big"), None),
    ("hard link inside", member("data/h2", tarfile.LNKTYPE, linkname="data/d/big"), None),
    ("symlink to ..", member("data/up", tarfile.SYMTYPE, linkname=".."), "leaves the mount point"),
    ("symlink to ../", member("data/up", tarfile.SYMTYPE, linkname="../"), "leaves the mount point"),
    ("symlink up from below", member("data/d/up", tarfile.SYMTYPE, linkname="../.."), "leaves the mount point"),
    ("symlink up through a name", member("data/up", tarfile.SYMTYPE, linkname="d/../../x"), "leaves the mount point"),
    ("symlink absolute", member("data/abs", tarfile.SYMTYPE, linkname="/"), "leaves the mount point"),
    ("symlink empty", member("data/empty", tarfile.SYMTYPE, linkname=""), "leaves the mount point"),
    ("hard link to the mount point", member("data/h", tarfile.LNKTYPE, linkname="data"), "the mount point itself"),
    ("hard link outside", member("data/h", tarfile.LNKTYPE, linkname="etc/passwd"), "not a path inside"),
    ("hard link absolute", member("data/h", tarfile.LNKTYPE, linkname="/etc/passwd"), "not a path inside"),
    ("hard link with ..", member("data/h", tarfile.LNKTYPE, linkname="data/d/../a"), "not a path inside"),
    ("block device", member("data/sda", tarfile.BLKTYPE), "a device file"),
    ("character device", member("data/null", tarfile.CHRTYPE), "a device file"),
    ("contiguous file", member("data/c", tarfile.CONTTYPE), "of a kind dockervisor does not restore"),
    ("GNU sparse file", member("data/s", tarfile.GNUTYPE_SPARSE), "of a kind dockervisor does not restore"),
    ("absolute path", member("/data/x"), "not a path inside"),
    ("absolute path of the root", member("/etc/cron.d/x"), "not a path inside"),
    (".. member", member("data/.."), "not a path inside"),
    (".. in the middle", member("data/d/../../x"), "not a path inside"),
    (". member", member("data/./x"), "not a path inside"),
    ("empty part", member("data/d//x"), "not a path inside"),
    ("trailing slash", member("data/d/"), "not a path inside"),
    ("another root", member("www/x"), "not a path inside"),
    ("the root again", member("data", tarfile.DIRTYPE), "appears twice"),
    ("below a symlink", member("data/d/link/x"), "through the symbolic link d/link"),
]


@pytest.mark.parametrize("added, refused", [row[1:] for row in MEMBER_TYPES], ids=[row[0] for row in MEMBER_TYPES])
def test_every_member_type_is_accepted_or_refused_by_its_kind(
    tmp_path: Path, added: tuple, refused: str | None
) -> None:
    path = write_archive(tmp_path / "a.tar", docker_tar(*GOOD, added))
    if refused is None:
        archive.check(str(path))
        stream = b"".join(archive.mount_stream(str(path), 0))
        with tarfile.open(fileobj=io.BytesIO(stream)) as tar:
            last = tar.getmembers()[-1]
        assert (last.name, last.type) == (added[0].removeprefix("data/"), added[1])
        return
    with pytest.raises(DockervisorError, match=re.escape(refused)):
        archive.check(str(path))
    with pytest.raises(DockervisorError, match=re.escape(refused)):
        b"".join(archive.mount_stream(str(path), 0))


def test_the_member_table_covers_every_tar_type() -> None:
    """A new kind in tarfile gets a row above before it can pass unnoticed."""
    kinds = {row[1][1] for row in MEMBER_TYPES}
    every = {getattr(tarfile, name) for name in dir(tarfile) if name.endswith("TYPE")}
    # Headers that describe the next member (long names, pax records): tarfile never returns one as a member.
    every -= {tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME,
              tarfile.GNUTYPE_LONGLINK}  # fmt: skip
    assert every <= kinds, every - kinds
