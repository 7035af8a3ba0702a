"""Send an outcome document to the places the admin named (see
config/notifypolicy.py): an HTTP POST (the JSON document, or a line of text
for ntfy-style services), a mail through SMTP, or a program that reads the
document on its stdin.

A notification is a courtesy on top of what was done: it never changes the
exit code and never hides the command's own error. All targets are tried at
the same time, within one time limit (DOCKERVISOR_NOTIFY_TIMEOUT seconds, 5
by default); each one that fails or does not finish in time is one line on
stderr and an entry returned for the history, naming the target only as
`Target.shown()` does (a URL's path may be its token).
"""

from __future__ import annotations

import json
import os
import threading
import time

from dockervisor.config.notifypolicy import Target
from dockervisor.core.errors import DockervisorError

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    from typing import TextIO

    from dockervisor.engine.executor import Executor

DEFAULT_TIMEOUT = 5.0
_MOST_SECONDS = 300.0


def time_limit(environ: dict[str, str] | None = None) -> float:
    """DOCKERVISOR_NOTIFY_TIMEOUT, checked like every number typed: plain
    digits (a decimal point allowed), more than 0, at most 300."""
    text = (os.environ if environ is None else environ).get("DOCKERVISOR_NOTIFY_TIMEOUT", "")
    if not text:
        return DEFAULT_TIMEOUT
    whole, _, fraction = text.partition(".")
    if not (text.isascii() and (whole + fraction).isdigit()) or not 0 < float(text) <= _MOST_SECONDS:
        raise DockervisorError(
            f"DOCKERVISOR_NOTIFY_TIMEOUT must be a number of seconds above 0 and at most {_MOST_SECONDS:g}, "
            f"not {text!r}"
        )
    return float(text)


def summary(document: dict) -> str:
    """The document as one line, for a text notification and a mail's subject."""
    family, engine = document.get("family") or "?", document.get("engine")
    where = f" on {engine}" if engine and engine != "default" else ""
    running = document.get("container")
    line = f"dockervisor {document.get('action')} {family}{where}: {document.get('outcome')} (exit {document.get('exit_code')})"
    line += f"; running: {running}" if running else "; nothing of it runs" if "container" in document else ""
    reason = document.get("reason")
    return f"{line}. {reason}" if reason else line


def deliver(
    targets: list[Target], document: dict, docker: Executor, stderr: TextIO, timeout: float | None = None
) -> list[dict]:
    """Send `document` to every target at once; the failures, as history
    entries ({"target", "error"}), each also said on `stderr`."""
    if not targets:
        return []
    limit = time_limit() if timeout is None else timeout
    results: list[str | None] = ["did not finish within the time limit"] * len(targets)

    def send(index: int, target: Target) -> None:
        try:
            _send(target, document, docker, limit)
            results[index] = None
        except DockervisorError as error:
            results[index] = error.message
        except Exception as error:  # a URL or a server misbehaving in a way not foreseen
            results[index] = f"{type(error).__name__}: {error}"

    # Daemon threads: one that hangs past the limit is abandoned, never waited for.
    threads = [threading.Thread(target=send, args=(i, t), daemon=True) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + limit
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    failures = []
    for target, problem in zip(targets, results):
        if problem is not None:
            said = problem.splitlines()[0][:300] if problem else "failed"
            print(f"dockervisor: warning: the notification to {target.shown()} failed: {said}",
                  file=stderr, flush=True)  # fmt: skip
            failures.append({"target": target.shown(), "error": said})
    return failures


def _send(target: Target, document: dict, docker: Executor, limit: float) -> None:
    body = json.dumps(document, indent=2).encode() + b"\n"
    if target.kind == "http":
        _post(str(target.where), document, body, target.format, limit)
    elif target.kind == "mailto":
        _mail(str(target.where), document, body, limit)
    else:
        result = docker.hook(list(target.where), body, limit)
        if not result.ok:
            said = result.stderr.strip().splitlines()
            raise DockervisorError(f"{target.where[0]} exited {result.returncode}" + (f": {said[-1]}" if said else ""))


def _post(url: str, document: dict, body: bytes, format: str, limit: float) -> None:
    import urllib.error
    import urllib.request

    from dockervisor import __version__

    headers = {"User-Agent": f"dockervisor/{__version__}"}
    if format == "text":  # ntfy and its kind: the message is the body, the title a header
        body = summary(document).encode()
        headers.update({"Content-Type": "text/plain; charset=utf-8",
                        "Title": f"dockervisor: {document.get('family')} {document.get('outcome')}",
                        "Tags": "warning" if document.get("outcome") not in ("ok", "no-op") else "ok"})  # fmt: skip
    else:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=limit) as response:
            response.read(65536)
    except urllib.error.HTTPError as error:
        raise DockervisorError(f"the server answered {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise DockervisorError(f"cannot reach it: {error.reason}") from None
    except OSError as error:  # a time-out, a reset connection
        raise DockervisorError(f"{type(error).__name__}: {error}") from None


def _mail(address: str, document: dict, body: bytes, limit: float) -> None:
    """Through DOCKERVISOR_SMTP (host[:port], default localhost:25), plain
    SMTP as a local relay takes it; the sender is DOCKERVISOR_SMTP_FROM, or
    dockervisor@ this host."""
    import smtplib
    import socket
    from email.message import EmailMessage

    server = os.environ.get("DOCKERVISOR_SMTP") or "localhost:25"
    host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "25")
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536) or not host:
        raise DockervisorError(f"DOCKERVISOR_SMTP must be host[:port], not {server!r}")
    message = EmailMessage()
    message["Subject"] = summary(document).split(". ")[0][:200]
    message["From"] = os.environ.get("DOCKERVISOR_SMTP_FROM") or f"dockervisor@{socket.gethostname()}"
    message["To"] = address
    message.set_content(summary(document) + "\n\n" + body.decode())
    try:
        with smtplib.SMTP(host, int(port), timeout=limit) as smtp:
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise DockervisorError(f"SMTP via {host}:{port}: {type(error).__name__}: {error}") from None
