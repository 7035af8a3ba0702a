"""A changed overrides file is noticed: digests at build, comparisons later."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dockervisor.store import provenance
from dockervisor.config.overrides import load_overrides
from dockervisor.store.state import FamilyState


def built(tmp_path: Path, content: bytes | None, **build: str) -> FamilyState:
    """A family built from tmp_path whose dcv file held `content` (None: there was none)."""
    path = tmp_path / "dcv-app"
    if content is not None:
        path.write_bytes(content)
    sha256 = hashlib.sha256(content).hexdigest() if content is not None else None
    record = {"context": str(tmp_path), "dockerfile": str(tmp_path / "Dockerfile"), "source": "build"}
    record.update(provenance.record(str(path), sha256), **build)
    return FamilyState("app", build=record)


def test_the_digest_is_of_the_bytes_build_parsed(tmp_path: Path) -> None:
    (tmp_path / "dcv-app").write_bytes(b'{"memory": "512m"}\n')
    overrides = load_overrides(str(tmp_path / "dcv-app"))
    assert overrides is not None
    assert overrides.sha256 == hashlib.sha256(b'{"memory": "512m"}\n').hexdigest()


@pytest.mark.parametrize(
    "before, after, change",
    [
        (b'{"memory": "512m"}', b'{"memory": "512m"}', None),
        (b'{"memory": "512m"}', b'{"memory": "1g"}', "has changed"),
        (b'{"memory": "512m"}', b'{"memory": "512m"} ', "has changed"),  # any byte
        (b'{"memory": "512m"}', None, "was removed"),
        (None, b"{}", "now exists"),
        (None, None, None),
    ],
)
def test_what_changed_since_build(tmp_path: Path, before: bytes | None, after: bytes | None, change: str | None) -> None:
    family = built(tmp_path, before)
    path = tmp_path / "dcv-app"
    if after is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(after)
    assert provenance.overrides_change(family) == change
    assert provenance.config_changed(family) is (change is not None)


def test_a_directory_in_place_of_the_file_is_a_change_not_a_hang(tmp_path: Path) -> None:
    family = built(tmp_path, b"{}")
    (tmp_path / "dcv-app").unlink()
    (tmp_path / "dcv-app").mkdir()
    assert provenance.overrides_change(family) == "was removed"


def test_nothing_recorded_means_nothing_changed(tmp_path: Path) -> None:
    assert provenance.overrides_change(FamilyState("app")) is None  # recorded before digests
    pulled = FamilyState("app", build={"source": "pull", "reference": "r", **provenance.record(None, None)})
    assert provenance.overrides_change(pulled) is None  # pulled without --overrides
    assert provenance.overrides_change(FamilyState("app", build={"overrides_file": "dcv-app"})) is None


def test_the_command_that_applies_it(tmp_path: Path) -> None:
    family = built(tmp_path, b"{}")
    assert provenance.apply_command(family) == f"dockervisor build app {tmp_path}"
    other = built(tmp_path, b"{}", dockerfile=str(tmp_path / "docker" / "Dockerfile.prod"))
    assert provenance.apply_command(other) == f"dockervisor build app {tmp_path} -f {tmp_path}/docker/Dockerfile.prod"
    spaced = FamilyState("app", build={"context": "/srv/my app", "dockerfile": "/srv/my app/Dockerfile"})
    assert provenance.apply_command(spaced) == "dockervisor build app '/srv/my app'"
    pulled = FamilyState("app", build={"source": "pull", "reference": "registry.example/app:1.2",
                                       **provenance.record("/etc/dcv/app.json", None)})  # fmt: skip
    assert provenance.apply_command(pulled) == (
        "dockervisor pull app registry.example/app:1.2 --overrides /etc/dcv/app.json"
    )
    loaded = FamilyState("app", build={"source": "pull", "reference": "app:1.2", "pulled": "no",
                                       **provenance.record(None, None)})  # fmt: skip
    assert provenance.apply_command(loaded) == "dockervisor pull app app:1.2 --no-pull"


def test_the_warning_names_the_file_and_the_command(tmp_path: Path) -> None:
    family = built(tmp_path, b"{}")
    assert provenance.change_notice(family) is None
    (tmp_path / "dcv-app").write_bytes(b'{"memory": "1g"}')
    assert provenance.change_notice(family) == (
        f"warning: {tmp_path}/dcv-app has changed since app was built; the new container gets the "
        f"configuration recorded then. To apply the file, run `dockervisor build app {tmp_path}`"
    )
