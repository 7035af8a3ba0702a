"""`dockervisor pull`: what REFERENCE may be, and the docker commands it runs."""

from __future__ import annotations

import pytest

from dockervisor.engine import argv as docker_argv
from dockervisor.cli import main
from dockervisor.core.errors import DockervisorError
from dockervisor.config.names import check_image_reference

DIGEST = "sha256:" + "ab" * 32


# Side by side: references docker pull and docker tag take, and what is refused.
@pytest.mark.parametrize(
    "reference, valid",
    [
        ("app", True),
        ("app:1.4", True),
        ("App", False),  # docker wants the name in lowercase
        ("team/app:1.4", True),
        ("registry.example.com:5000/team/app:1.4", True),
        ("registry.example.com:port/app", False),
        ("127.0.0.1:5000/app", True),
        ("localhost/app:latest", True),
        (f"app@{DIGEST}", True),
        (f"registry.example.com/app:1.4@{DIGEST}", True),
        ("app@sha256:abc", False),
        (DIGEST, True),  # an image ID, as docker load prints it
        ("sha256:" + "ab" * 32 + "@x", False),
        ("-app", False),  # never an option to docker
        ("--help", False),
        ("app:", False),
        ("app:-1", False),
        ("app:1.4:2", False),
        ("app:\u0661", False),  # a tag in another script's digits
        ("https://registry.example.com/app", False),
        ("app name", False),
        ("app\n", False),
        ("", False),
        ("a/" * 300 + "b", False),
    ],
)
def test_image_references(reference: str, valid: bool) -> None:
    if valid:
        assert check_image_reference(reference) == reference
        return
    with pytest.raises(DockervisorError) as raised:
        check_image_reference(reference)
    assert repr(reference) in raised.value.message and raised.value.exit_code == 2


def test_pull_and_tag_argv() -> None:
    assert docker_argv.pull("registry.example.com/app:1.4") == ["docker", "pull", "registry.example.com/app:1.4"]
    assert docker_argv.tag_as_family(DIGEST, "app") == ["docker", "tag", DIGEST, "app:latest"]


@pytest.mark.parametrize(
    "argv",
    [["pull"], ["pull", "app"], ["pull", "App", "app:1"], ["pull", "app", "-x"], ["pull", "app", "a b"],
     ["pull", "app", "app:1", "--overrides"], ["pull", "app", "app:1", "--no-pul"]],
)  # fmt: skip
def test_pull_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    assert "dockervisor: error: " in capsys.readouterr().err


def test_pull_help_shows_an_example(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["pull", "--help"])
    out = capsys.readouterr().out
    assert "example:" in out and "dockervisor pull" in out and "--no-pull" in out
