"""Fixtures: the installed CLI, a busybox base image, and per-test families.

Integration tests need a real Docker engine. Without one they are skipped,
except in CI (any truthy CI: true, 1, yes; support.truthy is the one
definition), where a missing engine fails the run. Tests marked
`never_skipped_in_ci` (the several-engines tests) go further: in CI, any skip
of theirs, whatever its reason, is reported as a failure, so a second engine
that did not start cannot make the run pass with less tested.

The engine may be shared: with a developer's own containers, with another
test run. A test touches only what it made, found by its own unique names and
labels; the sentinels below check that at the end of every run.
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
    CI,
    CLI,
    IN_CI,
    REPO,
    REGISTRY,
    Project,
    docker,
    engine_answers,
    new_family,
    remove_family,
    unclaimed,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "never_skipped_in_ci: in CI (support.IN_CI) a skip of this test fails the run")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and item.get_closest_marker("never_skipped_in_ci"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI={CI!r}), which fails the run: {report.longrepr}"


@pytest.fixture(scope="session")
def engine() -> None:
    if engine_answers():
        return
    message = "no Docker engine answers (run the tests with ./tests/run)"
    if IN_CI:
        pytest.fail(message + "; this is CI, so it is a failure, not a skip")
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
def cli(installed: Path, tmp_path: Path) -> Iterator[CLI]:
    runner = CLI(installed, tmp_path / "home")
    yield runner
    runner.end_background()  # a failed test may leave a start running


@pytest.fixture(scope="session")
def base_image(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """FROM scratch with a static busybox; the test images build on it locally."""
    if not BUSYBOX.exists():
        pytest.fail(f"{BUSYBOX} is missing: install busybox-static")
    directory = tmp_path_factory.mktemp("base")
    shutil.copy(BUSYBOX, directory / "busybox")  # keeps the exec bit
    name = f"dcvtest-base-{uuid.uuid4().hex[:8]}"
    # The label makes the image this run's own: another run on the engine
    # builds the same layers, and its `rmi -f` of an image both tags named
    # would delete it under this run's builds.
    (directory / "Dockerfile").write_text(
        "FROM scratch\n"
        "COPY busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        f"LABEL dcvtest.base={name}\n"
    )
    docker("build", "-q", "-t", name, str(directory))
    yield name
    docker("rmi", "-f", name, check=False)


# Every family this run registered, so the last sweep removes only its own:
# another test run may share the engine, with families of the same prefix.
_REGISTERED: list[str] = []


@pytest.fixture(scope="session")
def sentinels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Objects named like a test family that this run did not make: as another
    run on the same engine or an admin could have. Each must be there, as it
    was, once every test and the last sweep are done."""
    if not engine_answers():
        yield
        return
    family = new_family("sentinel")
    directory = tmp_path_factory.mktemp("sentinel")
    (directory / "Dockerfile").write_text(f"FROM scratch\nLABEL dcvt.sentinel={family}\n")
    image = docker("build", "-q", "-t", family, str(directory)).stdout.strip()
    # Not mounted anywhere: a volume in use would survive a wrong `volume rm` anyway.
    volume = docker("volume", "create", f"{family}_data").stdout.strip()
    container = docker(
        "create", "--name", f"dcv_{family}_sentinel", "--label", f"dockervisor.image={family}",
        family, "/nothing",
    ).stdout.strip()  # fmt: skip
    yield
    found = {
        f"image {family}": _found("image", family) == image,
        f"volume {volume}": _found("volume", volume) == volume,
        f"container dcv_{family}_sentinel": _found("container", container) == container,
    }
    docker("rm", "-f", container, check=False)
    docker("volume", "rm", "-f", volume, check=False)
    docker("rmi", "-f", image, check=False)
    gone = [what for what, there in found.items() if not there]
    if gone:
        pytest.fail(f"the run removed or changed what it did not create: {', '.join(gone)}")


def _found(kind: str, reference: str) -> str:
    """The ID (the name, for a volume) of what `reference` names now, or ''."""
    field = "{{.Name}}" if kind == "volume" else "{{.Id}}"
    return docker(kind, "inspect", "--format", field, reference, check=False).stdout.strip()


@pytest.fixture(scope="session", autouse=True)
def no_leftovers(sentinels: None) -> Iterator[None]:
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
    """Names registered here are removed from the engine after the test, pass or
    fail; then a family that published a host port the test did not claim
    with free_port() fails it: another run on the host may hold that port."""
    made: list[str] = _Registry()
    yield made
    published: set[int] = set()
    for family in made:
        published |= remove_family(family)
    assert not unclaimed(published), (
        f"published host port(s) {sorted(unclaimed(published))} not claimed with free_port(): give the "
        "family a \"ports\" override of a free_port(), or build it with expose=()"
    )


@pytest.fixture
def project(cli: CLI, base_image: str, families: list[str], tmp_path: Path):  # type: ignore[no-untyped-def]
    """make(tag) -> a Project with its own family name, cleaned up afterwards."""

    def make(tag: str = "", family: str | None = None) -> Project:
        name = family or new_family(tag)
        families.append(name)
        return Project(cli, base_image, name, tmp_path / "src" / name)

    return make


@pytest.fixture
def registry(engine: None) -> Iterator[list[str]]:
    """The run's registry; the list takes local references to untag afterwards."""
    if not REGISTRY:
        pytest.skip("no registry: DOCKERVISOR_TEST_REGISTRY is unset (run the tests with ./tests/run)")
    made: list[str] = []
    yield made
    if made:
        docker("rmi", "-f", *made, check=False)
