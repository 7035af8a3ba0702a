"""Fixtures: the installed CLI, a busybox base image, and per-test families.

Integration tests need a real Docker engine. Without one they are skipped,
except under CI=true, where a missing engine fails the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import (
    BUSYBOX,
    CLI,
    REPO,
    Project,
    docker,
    engine_answers,
    new_family,
    remove_family,
)

IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def engine() -> None:
    if engine_answers():
        return
    message = "no Docker engine answers (run the tests with ./tests/run)"
    if IN_CI:
        pytest.fail(message + "; CI=true, so this is a failure, not a skip")
    pytest.skip(message)


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dockervisor as install.sh puts it on PATH: what admins and cron run."""
    prefix = tmp_path_factory.mktemp("prefix")
    subprocess.run(
        [str(REPO / "install.sh")],
        env=dict(os.environ, PREFIX=str(prefix)),
        check=True,
        capture_output=True,
    )
    return prefix / "bin" / "dockervisor"


@pytest.fixture
def cli(installed: Path, tmp_path: Path) -> CLI:
    return CLI(installed, tmp_path / "home")


@pytest.fixture(scope="session")
def base_image(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """FROM scratch with a static busybox; the test images build on it locally."""
    if not BUSYBOX.exists():
        pytest.fail(f"{BUSYBOX} is missing: install busybox-static")
    directory = tmp_path_factory.mktemp("base")
    shutil.copy(BUSYBOX, directory / "busybox")  # keeps the exec bit
    (directory / "Dockerfile").write_text(
        "FROM scratch\n"
        "COPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
    )
    name = f"dcvtest-base-{uuid.uuid4().hex[:8]}"
    docker("build", "-q", "-t", name, str(directory))
    yield name
    docker("rmi", "-f", name, check=False)


# Every family this run registered, so the last sweep removes only its own:
# another test run may share the engine, with families of the same prefix.
_REGISTERED: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def no_leftovers() -> Iterator[None]:
    """A last sweep for this run's families that a crashed test could not remove."""
    yield
    if _REGISTERED and engine_answers():
        for family in _REGISTERED:
            remove_family(family)


class _Registry(list):
    def append(self, family: str) -> None:  # type: ignore[override]
        super().append(family)
        _REGISTERED.append(family)


@pytest.fixture
def families() -> Iterator[list[str]]:
    """Names registered here are removed from the engine after the test, pass or fail."""
    made: list[str] = _Registry()
    yield made
    for family in made:
        remove_family(family)


@pytest.fixture
def project(cli: CLI, base_image: str, families: list[str], tmp_path: Path):  # type: ignore[no-untyped-def]
    """make(tag) -> a Project with its own family name, cleaned up afterwards."""

    def make(tag: str = "", family: str | None = None) -> Project:
        name = family or new_family(tag)
        families.append(name)
        return Project(cli, base_image, name, tmp_path / "src" / name)

    return make
