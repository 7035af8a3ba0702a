"""Name checks and generated names: no docker needed."""

from __future__ import annotations

import calendar

import pytest

from dockervisor.core.errors import DockervisorError
from dockervisor.config.names import (
    check_container_name,
    check_image_name,
    new_container_name,
    volume_name_for,
)


@pytest.mark.parametrize("name", ["app", "a", "my-app", "my.app", "my_app", "app2", "a__b", "a--b", "0app"])
def test_valid_image_names_pass(name: str) -> None:
    assert check_image_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "App", "my app", "a/b", "..", "a..b", "-app", "app-", "_app", "app_", "a;rm -rf /",
     "$(id)", "app:latest", "a\nb", "ä", "x" * 129],
)  # fmt: skip
def test_invalid_image_names_are_refused_naming_the_input(name: str) -> None:
    with pytest.raises(DockervisorError) as raised:
        check_image_name(name)
    assert repr(name) in raised.value.message


@pytest.mark.parametrize("name", ["-x", "a b", "a/b", "", "a:b"])
def test_invalid_container_names_are_refused(name: str) -> None:
    with pytest.raises(DockervisorError):
        check_container_name(name)


def test_container_name_has_the_timestamp_of_its_creation() -> None:
    moment = calendar.timegm((2026, 11, 28, 9, 30, 5, 0, 0, 0))
    assert new_container_name("app", set(), moment) == "dcv_app_20261128093005"


def test_container_names_stay_unique_within_one_second() -> None:
    moment = calendar.timegm((2026, 11, 28, 9, 30, 5, 0, 0, 0))
    taken = {"dcv_app_20261128093005", "dcv_app_20261128093005_2"}
    assert new_container_name("app", taken, moment) == "dcv_app_20261128093005_3"


def test_volume_names_follow_the_seed_rule() -> None:
    assert volume_name_for("mainapache", "/var/www") == "mainapache_var_www"
    assert volume_name_for("app", "/data") == "app_data"
