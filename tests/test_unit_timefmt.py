"""Docker's timestamps, whatever zone the docker client writes them in."""

from __future__ import annotations

from dockervisor.core.timefmt import age, iso_utc, parse_docker_time

MOMENT = "2026-11-28T16:39:12Z"


def test_inspect_times_are_utc_with_nanoseconds() -> None:
    assert iso_utc(parse_docker_time("2026-11-28T16:39:12.123456789Z")) == MOMENT


def test_ps_times_carry_the_client_zone() -> None:
    for written in ("2026-11-28 16:39:12 +0000 UTC", "2026-11-28 17:39:12 +0100 CET",
                    "2026-11-28 11:09:12 -0530 XYZ"):  # fmt: skip
        assert iso_utc(parse_docker_time(written)) == MOMENT, written


def test_zero_and_garbage_are_unknown() -> None:
    assert parse_docker_time("0001-01-01T00:00:00Z") is None
    assert parse_docker_time("yesterday") is None


def test_ages_are_short() -> None:
    assert [age(s) for s in (5, 600, 3 * 3600 + 300, 2 * 86400 + 7200)] == ["5s", "10m", "3h05m", "2d02h"]
