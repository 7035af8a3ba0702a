"""The `healthcheck` and `probe` keys: values taken and refused, the exact
docker flags, and the probe against servers of the test's own."""

from __future__ import annotations

import http.server
import socket
import threading

import pytest

from dockervisor.config.healthcheck import describe, flags, healthcheck, probe
from dockervisor.config.optionvalues import Invalid
from dockervisor.flows.probe import check

LINE = "wget -q -O /dev/null http://127.0.0.1:8080/"


@pytest.mark.parametrize(
    "value, argv",
    [
        ({"test": ["CMD-SHELL", LINE]}, ["--health-cmd", LINE]),
        ({"test": LINE}, ["--health-cmd", LINE]),
        ({"test": ["CMD", "wget", "-q", "http://x/a b"]}, ["--health-cmd", "wget -q 'http://x/a b'"]),
        ({"test": ["CMD-SHELL", LINE], "interval": "10s", "timeout": "3s", "retries": 3, "start_period": "1m30s"},
         ["--health-cmd", LINE, "--health-interval", "10s", "--health-timeout", "3s",
          "--health-start-period", "1m30s", "--health-retries", "3"]),
        ({"test": ["CMD-SHELL", LINE], "interval": "500ms"}, ["--health-cmd", LINE, "--health-interval", "500ms"]),
        ({"test": ["NONE"]}, ["--no-healthcheck"]),
        ({"disable": True}, ["--no-healthcheck"]),
    ],
)  # fmt: skip
def test_health_checks_taken_and_their_flags(value: dict, argv: list[str]) -> None:
    checked = healthcheck(value)
    assert flags("app", checked) == argv
    assert describe(checked) and healthcheck(checked) == checked  # read back from a state file: the same


@pytest.mark.parametrize(
    "value, where, says",
    [
        ("wget ...", "", "must be an object"),
        ({"test": ["CMD"]}, "['test']", "must be"),
        ({"test": ["CMD-SHELL", "a", "b"]}, "['test']", "must be"),
        ({"test": ["SHELL", "x"]}, "['test']", "must be"),
        ({"test": []}, "['test']", "must be"),
        ({"test": ["CMD", "a\nb"]}, "['test']", "without a newline"),
        ({"test": ["CMD", ""]}, "['test']", "non-empty"),
        ({}, "['test']", "must be"),
        ({"test": LINE, "interval": "10"}, "['interval']", "not a duration"),
        ({"test": LINE, "interval": "0s"}, "['interval']", "not a duration"),
        ({"test": LINE, "timeout": 3}, "['timeout']", "not a duration"),
        ({"test": LINE, "start_period": "٣s"}, "['start_period']", "not a duration"),
        ({"test": LINE, "retries": 0}, "['retries']", "from 1 to 1000"),
        ({"test": LINE, "retries": "3"}, "['retries']", "from 1 to 1000"),
        ({"test": LINE, "retries": True}, "['retries']", "from 1 to 1000"),
        ({"test": LINE, "intervall": "1s"}, "['intervall']", "unknown key"),
        ({"test": ["NONE"], "interval": "1s"}, "", "takes no interval"),
        ({"test": LINE, "disable": "yes"}, "['disable']", "true or false"),
    ],
)
def test_health_checks_refused(value: object, where: str, says: str) -> None:
    with pytest.raises(Invalid) as refused:
        healthcheck(value)
    assert refused.value.where == where and says in refused.value.message


@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:8080/health", "https://localhost/x?y=1", "tcp://127.0.0.1:5432", "tcp://[::1]:6379/"]
)
def test_probes_taken(value: str) -> None:
    assert probe(value) == value


@pytest.mark.parametrize(
    "value, says",
    [
        ("127.0.0.1:8080", "not an http://"),
        ("ftp://host/", "not an http://"),
        ("http:///path", "not an http://"),
        ("tcp://127.0.0.1", "tcp://HOST:PORT"),
        ("tcp://127.0.0.1:80/path", "tcp://HOST:PORT"),
        ("http://127.0.0.1:0/", "from 1 to 65535"),
        ("http://127.0.0.1:99999/", "not an http://"),
        ("http://h/a b", "must be a URL"),
        (8080, "must be a URL"),
    ],
)
def test_probes_refused(value: object, says: str) -> None:
    with pytest.raises(Invalid) as refused:
        probe(value)
    assert says in refused.value.message


class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        status = int(self.path.strip("/") or 200)
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "http://127.0.0.1:1/nowhere")  # not followed
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    served = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=served.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{served.server_address[1]}"
    served.shutdown()
    served.server_close()


@pytest.mark.parametrize("status, said", [(200, None), (204, None), (302, None), (404, "it answered 404"),
                                          (500, "it answered 500")])  # fmt: skip
def test_what_counts_as_an_answer(server: str, status: int, said: str | None) -> None:
    assert check(f"http://{server}/{status}") == said


def test_nobody_listening_is_no_answer(server: str) -> None:
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))  # bound, not listening: refused
    try:
        port = refused.getsockname()[1]
        assert check(f"http://127.0.0.1:{port}/").startswith("no answer")
        assert check(f"tcp://127.0.0.1:{port}").startswith("no TCP connection")
    finally:
        refused.close()
    assert check(f"tcp://{server}") is None


@pytest.mark.parametrize("value, seconds", [(90, 90), ("90", 90), ("90s", 90), ("5m", 300), ("1h", 3600),
                                            ("24h", 86400)])  # fmt: skip
def test_probation_durations_taken(value: object, seconds: int) -> None:
    from dockervisor.config.healthcheck import duration

    assert duration(value) == seconds


@pytest.mark.parametrize("value", [0, "0s", "25h", "1d", "1.5m", "-5", "5 m", "٥s", True, None, 2.5, "m"])
def test_probation_durations_refused(value: object) -> None:
    from dockervisor.config.healthcheck import duration

    with pytest.raises(Invalid, match="not a duration"):
        duration(value)


@pytest.mark.parametrize(
    "members, previous, removed",
    [
        # newest first: the new one runs; two that never came up; the one that ran before
        ([("new", "running"), ("bad2", "exited"), ("bad1", "exited"), ("good", "exited")], "good", ["bad1"]),
        ([("new", "running"), ("bad2", "exited"), ("bad1", "exited"), ("good", "exited")], None, ["bad1", "good"]),
        ([("new", "running"), ("good", "exited"), ("old", "exited"), ("older", "exited")], "good", ["older"]),
    ],
)
def test_the_container_that_ran_before_a_start_is_kept(members: list, previous: str | None, removed: list) -> None:
    from dockervisor.config.retention import plan_containers

    plan = plan_containers(members, "new", None, 1, previous)
    assert plan.remove == removed
    assert previous is None or plan.kept[previous] == "ran before the start"
