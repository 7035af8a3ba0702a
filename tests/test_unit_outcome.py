"""Issue 21, the pure parts: notification targets, when they are sent, the
outcome document, and delivery to programs (real children, no docker)."""

from __future__ import annotations

import io
import json
import sys

import pytest

from dockervisor.config import notifypolicy
from dockervisor.config.notifypolicy import NotifyPolicy, parse_target, wanted
from dockervisor.config.overrides import parse_overrides
from dockervisor.core.errors import DockervisorError
from dockervisor.engine.executor import Executor
from dockervisor.flows import notify, outcome, reporting
from dockervisor.store.history import UNKNOWN, Entry


@pytest.mark.parametrize(
    "value, kind, where, format",
    [
        ("https://hooks.example.com/x/y?z=1", "http", "https://hooks.example.com/x/y?z=1", "json"),
        ("http://127.0.0.1:8080/", "http", "http://127.0.0.1:8080/", "json"),
        ("text:https://ntfy.sh/ops", "http", "https://ntfy.sh/ops", "text"),
        ({"url": "https://ntfy.sh/ops", "format": "text"}, "http", "https://ntfy.sh/ops", "text"),
        ({"url": "https://h.example/"}, "http", "https://h.example/", "json"),
        ("mailto:ops@example.com", "mailto", "ops@example.com", "text"),
        ("exec:/usr/bin/logger -t 'dv app'", "exec", ["/usr/bin/logger", "-t", "dv app"], "json"),
    ],
)
def test_targets_that_are_taken(value: object, kind: str, where: object, format: str) -> None:
    target = parse_target(value)
    assert (target.kind, target.where, target.format) == (kind, where, format)


@pytest.mark.parametrize(
    "value, says",
    [
        ("ftp://user:secretpw@host/x", "starts with http://"),
        ("https://", "not a usable"),
        ("https://host:99999/", "not a usable"),
        ("https://host/a b", "not a usable"),
        ("https://host/\x1b[31m", "one line"),
        ("mailto:", "one address"),
        ("mailto:a@b@c", "one address"),
        ("mailto:a@b.c,d@e.f", "one address"),
        ("exec:", "names no command"),
        ("exec:'unclosed", "cannot be split"),
        ("", "a target is"),
        (42, "a target is"),
        ({"url": "https://h/", "format": "xml"}, "format must be"),
        ({"url": "ftp://h/"}, "url must be"),
        ({"url": "https://h/", "headers": {}}, "unknown key 'headers'"),
        ("https://h/" + "a" * 3000, "at most 2048"),
    ],
)
def test_targets_that_are_refused_say_why_without_the_value(value: object, says: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_target(value)
    assert says in str(refused.value)
    assert "secretpw" not in str(refused.value)


@pytest.mark.parametrize(
    "value, shown",
    [
        ("https://user:pw@hooks.example.com:8443/T0/B0/XXXX?token=1", "https://hooks.example.com:8443/..."),
        ("text:https://ntfy.sh/private-topic", "https://ntfy.sh/..."),
        ("http://[::1]:9000/hook", "http://[::1]:9000/..."),
        ("mailto:ops@example.com", "mailto:ops@example.com"),
        ("exec:/usr/local/bin/page --token abc", "exec:/usr/local/bin/page"),
    ],
)
def test_a_target_is_shown_without_what_may_be_a_token(value: str, shown: str) -> None:
    assert parse_target(value).shown() == shown


@pytest.mark.parametrize(
    "on, sent",
    [
        ("failure", {"failed", "release-failed", "rolled-back", "rollback-failed", "interrupted"}),
        ("change", {"ok", "failed", "release-failed", "rolled-back", "rollback-failed", "interrupted"}),
        ("always", set(outcome.OUTCOMES)),
    ],
)
def test_when_an_outcome_is_sent(on: str, sent: set[str]) -> None:
    assert {o for o in outcome.OUTCOMES if wanted(o, on)} == sent


@pytest.mark.parametrize(
    "document, key, says",
    [
        ({"notify": "https://h/"}, "notify", "must be a list"),
        ({"notify": ["https://h/"] * 21}, "notify", "at most 20"),
        ({"notify": ["https://h/", "gopher://x"]}, "notify", "[1]: a target starts with"),
        ({"notify": [], "notify_on": "sometimes"}, "notify_on", "one of failure, always, change"),
    ],
)
def test_the_overrides_keys_are_checked_and_errors_name_the_key(document: dict, key: str, says: str) -> None:
    with pytest.raises(DockervisorError) as refused:
        parse_overrides(document, "/srv/app/dcv-app")
    assert refused.value.message.startswith(f"/srv/app/dcv-app: {key}: "), refused.value.message
    assert says in refused.value.message


def test_the_policy_survives_the_state_file() -> None:
    given = {"notify": ["https://h/x", {"url": "https://n/t", "format": "text"}], "notify_on": "change"}
    policy = parse_overrides(given, "/srv/dcv-app").notifications
    assert policy is not None and NotifyPolicy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy
    assert [t.shown() for t in policy.targets] == ["https://h/...", "https://n/..."] and policy.on == "change"
    assert parse_overrides({}, "/srv/dcv-app").notifications is None
    with pytest.raises(ValueError):
        NotifyPolicy.from_dict({"notify": [], "extra": 1})


def test_hide_replaces_every_secret_everywhere_longest_first() -> None:
    document = {"reason": "token abcdef and abcdefgh", "list": ["xx abcdefgh"], "n": 3, "short": "a1b"}
    hidden = outcome.hide(document, ["abcdef", "abcdefgh", "a1b"])
    assert hidden == {"reason": "token [hidden] and [hidden]", "list": ["xx [hidden]"], "n": 3, "short": "a1b"}


def entry(outcome_: str, family: str = "app", engine: str = "default") -> Entry:
    made = Entry("start new", "dockervisor start new app", family, engine)
    made.outcome, made.exit_code, made.started, made.seconds = outcome_, 0, 1764730800.0, 1.5
    return made


def test_the_document_has_every_field_and_names_nothing_unknown_as_running() -> None:
    made = entry("ok")
    document = outcome.document(made)
    assert list(document) == ["version", "outcome", "exit_code", "action", "family", "engine", "container",
                              "previous", "target", "image", "reason", "started_at", "seconds", "command"]  # fmt: skip
    assert document["container"] is None and document["started_at"] == "2025-12-03T03:00:00Z"
    assert "running" not in made.to_dict(0) and made.running == UNKNOWN
    made.running = None
    assert made.to_dict(0)["running"] is None


@pytest.mark.parametrize(
    "outcomes, worst",
    [
        (["ok", "ok"], "ok"),
        (["no-op", "ok"], "ok"),
        (["ok", "rolled-back"], "rolled-back"),
        (["rolled-back", "failed", "ok"], "failed"),
        (["interrupted", "rollback-failed"], "rollback-failed"),
    ],
)
def test_several_changes_give_the_worst_outcome_on_top(outcomes: list[str], worst: str) -> None:
    documents = [outcome.document(entry(o, engine=f"web{i}")) for i, o in enumerate(outcomes)]
    together = outcome.combined(documents, 3, "dockervisor start new app")
    assert together["outcome"] == worst and together["changes"] == documents
    assert (together["family"], together["engine"]) == ("app", None)
    assert outcome.combined(documents[:1], 0, "x") == documents[0]


@pytest.mark.parametrize(
    "text, limit",
    [("", 5.0), ("1", 1.0), ("0.5", 0.5), ("300", 300.0)],
)
def test_the_time_limit_taken(text: str, limit: float) -> None:
    assert notify.time_limit({"DOCKERVISOR_NOTIFY_TIMEOUT": text}) == limit


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "1e3", "301", "٣", " 5", "."])
def test_the_time_limits_refused(text: str) -> None:
    with pytest.raises(DockervisorError) as refused:
        notify.time_limit({"DOCKERVISOR_NOTIFY_TIMEOUT": text})
    assert "DOCKERVISOR_NOTIFY_TIMEOUT" in refused.value.message


def test_the_line_of_text() -> None:
    document = outcome.document(entry("rolled-back"))
    document.update(exit_code=3, container="dcv_app_1", reason="it exited")
    assert notify.summary(document) == "dockervisor start new app: rolled-back (exit 3); running: dcv_app_1. it exited"
    document.update(container=None, engine="web1", reason=None)
    assert notify.summary(document) == "dockervisor start new app on web1: rolled-back (exit 3); nothing of it runs"


def deliver(*targets: str, timeout: float = 5.0) -> tuple[list[dict], str]:
    said = io.StringIO()
    failures = notify.deliver([parse_target(t) for t in targets], {"outcome": "failed"}, Executor(False), said, timeout)
    return failures, said.getvalue()


def test_a_program_gets_the_document_and_its_failure_is_said(tmp_path) -> None:  # type: ignore[no-untyped-def]
    copy, script = tmp_path / "got.json", tmp_path / "hook.py"
    script.write_text(f"import sys\nopen({str(copy)!r}, 'w').write(sys.stdin.read())\n")
    failures, said = deliver(f"exec:{sys.executable} {script}", "exec:sh -c 'echo nope >&2; exit 4'")
    assert json.loads(copy.read_text()) == {"outcome": "failed"}
    assert failures == [{"target": "exec:sh", "error": "sh exited 4: nope"}]
    assert said == "dockervisor: warning: the notification to exec:sh failed: sh exited 4: nope\n"


def test_a_program_that_hangs_is_abandoned_at_the_time_limit() -> None:
    failures, said = deliver("exec:sleep 30", "exec:/nonexistent/program", timeout=0.5)
    assert [f["target"] for f in failures] == ["exec:sleep", "exec:/nonexistent/program"]
    assert "did not finish within" in failures[0]["error"] and "cannot run" in failures[1]["error"]


def test_nothing_to_send_sends_nothing() -> None:
    assert deliver() == ([], "")


def test_targets_from_the_command_line_the_environment_and_the_family(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DOCKERVISOR_NOTIFY", "https://env.example/a\n\nmailto:ops@example.com\n")
    monkeypatch.setenv("DOCKERVISOR_NOTIFY_ON", "change")
    family_target = parse_target("https://family.example/b")
    monkeypatch.setattr(reporting, "_recorded_policy", lambda family: ([family_target], None))
    made = reporting.Reporting.from_command_line(False, ["https://typed.example/c"], None)
    shown = [t.shown() for t in made.targets("app", "ok")]  # change: ok is sent
    assert shown == ["https://typed.example/...", "https://env.example/...", "mailto:ops@example.com",
                     "https://family.example/..."]  # fmt: skip
    assert made.targets("app", "no-op") == []
    monkeypatch.setattr(reporting, "_recorded_policy", lambda family: ([family_target], "always"))
    assert len(reporting.Reporting.from_command_line(False, [], None).targets("app", "no-op")) == 3
    assert reporting.Reporting.from_command_line(False, [], "failure").targets("app", "ok") == []


@pytest.mark.parametrize(
    "env, typed, says",
    [
        ({}, ["https://ok.example/", "nonsense"], "--notify (target 2)"),
        ({"DOCKERVISOR_NOTIFY": "ftp://x"}, [], "DOCKERVISOR_NOTIFY (target 1)"),
        ({"DOCKERVISOR_NOTIFY_ON": "never"}, [], "DOCKERVISOR_NOTIFY_ON must be one of"),
        ({"DOCKERVISOR_NOTIFY_TIMEOUT": "forever"}, ["https://ok.example/"], "DOCKERVISOR_NOTIFY_TIMEOUT must be"),
    ],
)
def test_bad_targets_are_usage_errors(monkeypatch, env: dict, typed: list, says: str) -> None:  # type: ignore[no-untyped-def]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(DockervisorError) as refused:
        reporting.Reporting.from_command_line(False, typed, None)
    assert refused.value.exit_code == 2 and says in refused.value.message


def test_the_keys_are_known_to_the_overrides() -> None:
    from dockervisor.config.overrides import KNOWN_KEYS

    assert set(notifypolicy.KEYS) <= set(KNOWN_KEYS)


def test_a_server_that_answers_a_byte_at_a_time_is_abandoned_at_the_time_limit() -> None:
    """Each read has its own socket time-out, so a server that trickles its
    headers forever would hold a notification without the overall limit."""
    import socket
    import threading
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def trickle() -> None:
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.is_set():  # a header line every 0.2 s, never the blank line that ends them
            connection.sendall(b"X-Slow: 1\r\n")
            time.sleep(0.2)
        connection.close()

    threading.Thread(target=trickle, daemon=True).start()
    try:
        failures, said = deliver(f"http://127.0.0.1:{listener.getsockname()[1]}/slow", timeout=1.0)
        assert failures == [{"target": f"http://127.0.0.1:{listener.getsockname()[1]}/...",
                             "error": "did not finish within the time limit"}]  # fmt: skip
    finally:
        stop.set()
        listener.close()


@pytest.mark.parametrize(
    "argv, shown",
    [
        (["--notify", "https://u:pw@hooks.example/T0/B0/XXXX?t=1"], "--notify https://hooks.example/..."),
        (["--notify=text:https://ntfy.sh/private"], "--notify=https://ntfy.sh/..."),
        (["--notify", "exec:/usr/bin/page --token abc"], "--notify exec:/usr/bin/page"),
        (["--notify", "mailto:ops@example.com"], "--notify mailto:ops@example.com"),
        (["--notify", "not-a-target-but-maybe-a-token"], "--notify '***'"),
        (["--notify-on", "always", "app"], "--notify-on always app"),
    ],
)
def test_notification_targets_on_the_command_line_are_shown_as_messages_show_them(argv: list, shown: str) -> None:
    from dockervisor.core.redaction import redacted_command_line

    assert redacted_command_line(["stop", *argv]) == f"dockervisor stop {shown}"
