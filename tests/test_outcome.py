"""Issue 21: unattended changes that report back.

`--json` prints the outcome document instead of the container name;
notifications send it to an HTTP server, a program, or a mail server, all of
them run here by the test (an HTTP server and an SMTP sink in threads, on
ports the system picks). A notification never changes the exit code.
"""

from __future__ import annotations

import http.server
import json
import signal
import socket
import socketserver
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import running_names

GOOD = "exec sleep 100000"
BAD = "sleep 1; exit 1"  # up for a moment, then gone: the wait sees it fail
SECRET = "s3cr3t-value-of-the-test"


class Received(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.posts.append((self.path, dict(self.headers), body))  # type: ignore[attr-defined]
        self.send_response(int(self.server.answer))  # type: ignore[attr-defined]
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[http.server.ThreadingHTTPServer]:
    """An HTTP server on a port the system picks; `.posts` is what it got."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Received)
    server.posts, server.answer = [], 200  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def url(server: http.server.ThreadingHTTPServer, path: str = "/hook/token123") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


@pytest.fixture
def upgraded(project, cli):  # type: ignore[no-untyped-def]
    """A family with a good container running, then a build that does not come up."""
    app = project("outcome")
    app.build(cmd=GOOD, expose=(), content="v1")
    good = cli("start", "new", app.family, "--settle", "0.5").out.strip()
    app.build(cmd=BAD, expose=(), content="v2")
    return app, good


def test_a_rolled_back_start_says_so_in_its_document(upgraded, cli) -> None:
    app, good = upgraded
    result = cli("start", "new", app.family, "--json", "--settle", "3", expect=3)
    document = json.loads(result.out)  # the whole of stdout is one document
    assert (document["version"], document["outcome"], document["exit_code"]) == (1, "rolled-back", 3)
    assert (document["family"], document["engine"], document["action"]) == (app.family, "default", "start new")
    assert document["container"] == good == document["previous"]
    assert document["target"] != good and document["target"].startswith(f"dcv_{app.family}_")
    assert document["image"]["id"].startswith("sha256:") and document["reason"]
    assert document["seconds"] > 0 and document["started_at"].endswith("Z")
    assert running_names(app.family) == [good]
    entry = cli.history(app.family)[-1]  # the history carries the same fields
    assert (entry["outcome"], entry["exit_code"], entry["running"], entry["previous"]) == ("rolled-back", 3, good, good)


def test_a_first_start_that_fails_has_nothing_to_roll_back_to_and_says_failed(project, cli) -> None:
    app = project("outcomefirst")
    app.build(cmd=BAD, expose=())
    document = json.loads(cli("start", "new", app.family, "--json", "--settle", "3", expect=3).out)
    assert (document["outcome"], document["exit_code"], document["container"], document["previous"]) == (
        "failed", 3, None, None)
    assert "nothing to roll back to" in document["reason"]


def test_a_good_start_and_a_stop_give_their_documents(project, cli) -> None:
    app = project("outcomeok")
    app.build(cmd=GOOD, expose=())
    started = json.loads(cli("start", "new", app.family, "--json", "--settle", "0.5").out)
    assert (started["outcome"], started["exit_code"], started["previous"]) == ("ok", 0, None)
    assert started["container"] == started["target"] == running_names(app.family)[0]
    stopped = json.loads(cli("stop", app.family, "--json").out)
    assert (stopped["outcome"], stopped["container"], stopped["previous"]) == ("ok", None, started["container"])
    again = json.loads(cli("stop", app.family, "--json").out)
    assert (again["outcome"], again["exit_code"], again["container"]) == ("no-op", 0, None)


def test_the_document_of_a_command_that_changed_nothing(cli) -> None:
    result = cli("stop", "nosuchfamilyhere", "--json", expect=1)
    document = json.loads(result.out)
    assert (document["outcome"], document["exit_code"], document["family"]) == ("failed", 1, "nosuchfamilyhere")
    assert "unknown image family" in document["reason"]


def test_a_dry_run_document_lists_the_commands_and_changes_nothing(project, cli) -> None:
    app = project("outcomedry")
    app.build(cmd=GOOD, expose=())
    document = json.loads(cli("start", "new", app.family, "--json", "--dry-run").out)
    assert document["dry_run"] is True and document["outcome"] == "no-op"
    assert [c.split()[:2] for c in document["commands"]] == [["docker", "run"]]
    assert running_names(app.family) == [] and cli.history(app.family)[-1]["action"] == "build"


def test_a_rolled_back_start_is_sent_and_a_good_one_is_not(upgraded, cli, receiver) -> None:
    app, good = upgraded
    app.write(content="v3", cmd=GOOD, expose=())
    cli("build", app.family, str(app.dir))
    fine = cli("start", "new", app.family, "--notify", url(receiver), "--settle", "0.5")
    assert receiver.posts == [], "an ok start is not sent under the default notify_on"
    app.build(cmd=BAD, expose=(), content="v4")
    failed = cli("start", "new", app.family, "--notify", url(receiver), "-e", f"TOKEN={SECRET}",
                 "--settle", "3", expect=3)  # fmt: skip
    assert failed.out.strip() == fine.out.strip()  # stdout still names what runs
    (path, headers, body), = receiver.posts
    document = json.loads(body)
    assert path == "/hook/token123" and headers["Content-Type"] == "application/json"
    assert (document["outcome"], document["exit_code"], document["container"]) == ("rolled-back", 3, fine.out.strip())
    assert SECRET not in body.decode()
    assert "Traceback" not in failed.err and "warning" not in failed.err
    # the webhook's path is its token: never in the document nor the history
    assert "token123" not in document["command"] and "token123" not in json.dumps(cli.history(app.family))
    assert f"--notify http://127.0.0.1:{receiver.server_address[1]}/..." in document["command"]


def test_the_family_notify_key_and_always(project, cli, receiver) -> None:
    app = project("outcomekey")
    app.write({"notify": [{"url": url(receiver), "format": "text"}], "notify_on": "always"}, cmd=GOOD, expose=())
    cli("build", app.family, str(app.dir))
    cli("start", "new", app.family, "--settle", "0.5")
    cli("stop", app.family)
    bodies = [body.decode() for _, _, body in receiver.posts]  # the build recorded the key, then told of itself
    assert all(headers["Content-Type"].startswith("text/plain") for _, headers, _ in receiver.posts)
    assert [body.split(":")[0] for body in bodies] == [
        f"dockervisor {action} {app.family}" for action in ("build", "start new", "stop")
    ], bodies
    assert all(": ok (exit 0)" in body for body in bodies), bodies
    shown = json.loads(cli("config", app.family, "--json").out)
    assert (shown["notify"], shown["notify_on"]) == ([f"http://127.0.0.1:{receiver.server_address[1]}/..."], "always")
    assert "token123" not in cli("config", app.family).out


def test_dead_and_hanging_targets_change_nothing_but_a_warning(upgraded, cli) -> None:
    app, good = upgraded
    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(5)  # takes connections, never answers
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    try:
        result = cli(
            "start", "new", app.family, "--settle", "3",
            "--notify", f"http://127.0.0.1:{hanging.getsockname()[1]}/never/answers",
            "--notify", f"http://127.0.0.1:{dead.getsockname()[1]}/refused/secret-path",
            env={"DOCKERVISOR_NOTIFY_TIMEOUT": "2"}, expect=3, timeout=120,
        )  # fmt: skip
    finally:
        hanging.close()
        dead.close()
    warnings = [line for line in result.err.splitlines() if "notification" in line]
    assert len(warnings) == 2, result.err
    assert any("did not finish within the time limit" in line for line in warnings), warnings
    assert any("cannot reach it" in line for line in warnings), warnings
    assert not any("never/answers" in line or "secret-path" in line for line in warnings), warnings
    assert "Rolled back" in result.err and running_names(app.family) == [good]
    last = cli.history(app.family)[-1]
    assert last["action"] == "notify" and len(last["notified"]) == 2, last
    assert cli.history(app.family)[-2]["outcome"] == "rolled-back"


def test_exec_gets_the_document_on_stdin(upgraded, cli, tmp_path: Path) -> None:
    app, good = upgraded
    sink = tmp_path / "document.json"
    script = tmp_path / "hook.py"
    script.write_text(f"import sys\nopen({str(sink)!r}, 'w').write(sys.stdin.read())\n")
    cli("start", "new", app.family, "--settle", "3", "-e", f"TOKEN={SECRET}",
        "--notify", f"exec:{sys.executable} {script}", expect=3)  # fmt: skip
    text = sink.read_text()
    assert json.loads(text)["outcome"] == "rolled-back" and SECRET not in text


def test_a_failing_exec_is_a_warning_and_keeps_the_exit_code(upgraded, cli) -> None:
    app, good = upgraded
    result = cli("start", "new", app.family, "--settle", "3", "--notify", "exec:sh -c 'echo no way >&2; exit 7'",
                 expect=3)  # fmt: skip
    assert "the notification to exec:sh failed: sh exited 7: no way" in result.err, result.err


class Smtp(socketserver.StreamRequestHandler):
    """Just enough of SMTP to take one mail: what smtplib says, answered."""

    def handle(self) -> None:
        self.wfile.write(b"220 sink\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data)
                self.server.mails.append(b"".join(lines).decode())  # type: ignore[attr-defined]
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            self.wfile.write(b"250 ok\r\n")


def test_mailto_goes_through_the_smtp_server(upgraded, cli) -> None:
    app, good = upgraded
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Smtp)
    server.mails = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = cli("start", "new", app.family, "--settle", "3", "--notify", "mailto:ops@example.com",
                     env={"DOCKERVISOR_SMTP": f"127.0.0.1:{server.server_address[1]}"}, expect=3)  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    (mail,) = server.mails  # type: ignore[attr-defined]
    assert "To: ops@example.com" in mail and f"Subject: dockervisor start new {app.family}: rolled-back" in mail
    assert '"outcome": "rolled-back"' in mail and "warning" not in result.err


def test_a_bad_target_is_a_usage_error_that_never_echoes_it(cli) -> None:
    result = cli("stop", "whatever", "--notify", "ftp://user:pass@host/x", expect=2)
    assert "--notify (target 1)" in result.err and "pass" not in result.err
    result = cli("stop", "whatever", env={"DOCKERVISOR_NOTIFY": "nonsense"}, expect=2)
    assert "DOCKERVISOR_NOTIFY (target 1)" in result.err


def test_an_engine_that_does_not_answer_is_still_told(cli, receiver) -> None:
    result = cli("stop", "anyfamily", "--notify", url(receiver),
                 env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"}, expect=None)  # fmt: skip
    assert result.code != 0
    (_, _, body), = receiver.posts
    document = json.loads(body)
    assert (document["outcome"], document["exit_code"]) == ("failed", result.code)


def test_a_signal_while_notifying_keeps_the_exit_code_of_the_change(upgraded, cli) -> None:
    """The rollback is recorded before anything is sent; SIGTERM during a
    notification that hangs waits for its time limit, and the exit code is
    still the rollback's 3, not 143."""
    app, good = upgraded
    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(5)
    connected = threading.Event()
    held = []

    def accept() -> None:
        connection, _ = hanging.accept()
        held.append(connection)  # kept open, never answered
        connection.recv(65536)  # the request has been sent: dockervisor now waits for the answer
        connected.set()

    threading.Thread(target=accept, daemon=True).start()
    try:
        process = cli.popen("start", "new", app.family, "--settle", "3",
                            "--notify", f"http://127.0.0.1:{hanging.getsockname()[1]}/hangs",
                            env={"DOCKERVISOR_NOTIFY_TIMEOUT": "4"})  # fmt: skip
        assert connected.wait(120), "the notification never connected"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        for connection in held:
            connection.close()
        hanging.close()
    assert process.returncode == 3, err
    assert "Rolled back" in err and "did not finish within the time limit" in err, err
    assert out.strip() == good and running_names(app.family) == [good]
    assert [e["action"] for e in cli.history(app.family)[-2:]] == ["start new", "notify"]
