"""The checks on every member of a mount point's tar before any of it may
reach a volume (see archive.py, which runs them as it reads): a name under
the mount point's own directory, neither absolute nor with `..`; no member
below a symbolic link; symbolic links relative and staying inside the mount
point; hard links to names of the same mount point; no device files.
"""

from __future__ import annotations

import posixpath
import tarfile

from dockervisor.core.errors import DockervisorError
from dockervisor.config.runconfig import brief


class ArchivedMount:
    """A mount point in an archive, and what was mounted there when it was copied."""

    __slots__ = ("target", "type", "source")

    def __init__(self, target: str, type: str, source: str) -> None:
        self.target = target
        self.type = type  # "volume" or "bind" (a host directory)
        self.source = source

    @property
    def root(self) -> str:
        """The name docker gives the mount point's directory in its tar: `/var/www` gives `www`."""
        return posixpath.basename(self.target)

    def to_dict(self) -> dict[str, str]:
        return {"target": self.target, "type": self.type, "source": self.source}

    def __repr__(self) -> str:
        return f"ArchivedMount({self.source}:{self.target})"


_ALLOWED_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE,
                  tarfile.LNKTYPE, tarfile.FIFOTYPE)  # fmt: skip


class MountMembers:
    """Checks the members of one mount point's tar, in order."""

    def __init__(self, mount: ArchivedMount) -> None:
        self.mount = mount
        self.root = mount.root
        self.symlinks: set[str] = set()
        self.seen_root = False

    def check(self, member: tarfile.TarInfo) -> str:
        """The member's path relative to the mount point ("." for itself), or
        a DockervisorError saying why it may not reach a volume."""
        relative = self.relative(member.name)
        where = f"{self.mount.target}: {brief(member.name)}"
        if not self.seen_root:
            if relative != "." or not member.isdir():
                raise DockervisorError(f"{where}: the copy of a mount point must begin with its directory")
            self.seen_root = True
        elif relative == ".":
            raise DockervisorError(f"{where}: the mount point's directory appears twice")
        if member.type not in _ALLOWED_TYPES or member.sparse is not None:
            what = "a device file" if member.ischr() or member.isblk() else "of a kind dockervisor does not restore"
            raise DockervisorError(f"{where} is {what}")
        self._not_below_a_link(relative, where)
        if member.issym():
            if not _stays_inside(relative, member.linkname):
                raise DockervisorError(
                    f"{where} is a symbolic link to {brief(member.linkname)}, which leaves the "
                    "mount point; dockervisor restores only relative links that stay inside it"
                )
            self.symlinks.add(relative)
        elif member.islnk():
            target = self.relative(member.linkname)
            if target == ".":
                raise DockervisorError(f"{where} is a hard link to the mount point itself")
            self._not_below_a_link(target, where)
        return relative

    def relative(self, name: str) -> str:
        """`data/a/b` -> `a/b` for the mount point `.../data`; refused unless
        below it, relative, and free of `.`, `..` and empty parts."""
        parts = name.split("/")
        bad = (
            not name
            or "\0" in name
            or parts[0] != self.root
            or any(part in ("", ".", "..") for part in parts)
        )
        if bad:
            raise DockervisorError(
                f"{self.mount.target}: {brief(name)} is not a path inside the mount point "
                f"(its names must begin with {self.root + '/'!r}, without '..' or '//')"
            )
        return "/".join(parts[1:]) or "."

    def _not_below_a_link(self, relative: str, where: str) -> None:
        parts = relative.split("/")
        for depth in range(1, len(parts) + 1):
            if "/".join(parts[:depth]) in self.symlinks:
                raise DockervisorError(f"{where}: it would be written through the symbolic link "
                                       f"{'/'.join(parts[:depth])}")  # fmt: skip

    def finish(self) -> None:
        if not self.seen_root:
            raise DockervisorError(f"{self.mount.target}: the copy of the mount point is empty")


def _stays_inside(relative: str, linkname: str) -> bool:
    """Whether a link at `relative` to `linkname` resolves inside the mount point, by its words."""
    if not linkname or linkname.startswith("/") or "\0" in linkname:
        return False
    directory = posixpath.dirname(relative) if relative != "." else ""
    resolved = posixpath.normpath(posixpath.join(directory, linkname))
    return resolved != ".." and not resolved.startswith("../")
