"""The pure parts of following a registry: references, the update policy and
its version rule, the cooldown's clock, the timer's units and crontab line,
the state schema that records a policy."""

from __future__ import annotations

import json

import pytest

from dockervisor.commands import timer
from dockervisor.config.updatepolicy import UpdatePolicy, cooldown, follow, version
from dockervisor.core.errors import DockervisorError
from dockervisor.engine import registry

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64


# References, as docker normalizes them --------------------------------------------

REFERENCES = [
    # text, domain, path, tag, digest, name
    ("app", "docker.io", "library/app", "latest", None, "app"),
    ("app:1.4", "docker.io", "library/app", "1.4", None, "app"),
    ("library/app:1", "docker.io", "library/app", "1", None, "app"),
    ("me/app:v2", "docker.io", "me/app", "v2", None, "me/app"),
    ("127.0.0.1:5000/app:1.0", "127.0.0.1:5000", "app", "1.0", None, "127.0.0.1:5000/app"),
    ("localhost/team/app", "localhost", "team/app", "latest", None, "localhost/team/app"),
    ("reg.example.com/a/b:1.2.3", "reg.example.com", "a/b", "1.2.3", None, "reg.example.com/a/b"),
    (f"reg.example.com/app@{DIGEST}", "reg.example.com", "app", None, DIGEST, "reg.example.com/app"),
    (f"app:1@{DIGEST}", "docker.io", "library/app", "1", DIGEST, "app"),
]


@pytest.mark.parametrize("text, domain, path, tag, digest, name", REFERENCES)
def test_a_reference_is_normalized_as_docker_does(text, domain, path, tag, digest, name) -> None:  # type: ignore[no-untyped-def]
    parsed = registry.parse(text)
    assert (parsed.domain, parsed.path, parsed.tag, parsed.digest, parsed.name) == (domain, path, tag, digest, name)


@pytest.mark.parametrize("text", ["", " app", "App:1", "app:", "app@sha256:12", "app:1 2", "-app", "a//b", "app:-x"])
def test_what_is_no_reference_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        registry.parse(text)


@pytest.mark.parametrize("domain, url", [
    ("docker.io", "https://registry-1.docker.io"),
    ("127.0.0.1:5000", "http://127.0.0.1:5000"),
    ("127.9.9.9", "http://127.9.9.9"),
    ("localhost:5000", "http://localhost:5000"),
    ("[::1]:5000", "http://[::1]:5000"),
    ("reg.example.com", "https://reg.example.com"),
    ("127.0.0.1.example.com", "https://127.0.0.1.example.com"),
    ("10.0.0.1:5000", "https://10.0.0.1:5000"),
])  # fmt: skip
def test_only_a_loopback_registry_is_spoken_to_over_plain_http(domain: str, url: str) -> None:
    assert registry.base_url(domain) == url


def test_the_digest_of_what_runs_is_the_one_of_the_followed_repository() -> None:
    ref = registry.parse("127.0.0.1:5000/app:1")
    image = {"RepoDigests": [f"127.0.0.1:5000/other@{OTHER}", f"127.0.0.1:5000/app@{DIGEST}"]}
    assert registry.repo_digest(image, ref) == DIGEST
    assert registry.repo_digest({"RepoDigests": [f"127.0.0.1:5000/other@{OTHER}"]}, ref) is None
    assert registry.repo_digest({}, ref) is None
    assert registry.repo_digest({"RepoDigests": ["127.0.0.1:5000/app@sha256:short"]}, ref) is None


@pytest.mark.parametrize("link, expected", [
    ('</v2/app/tags/list?last=b&n=2>; rel="next"', "http://r/v2/app/tags/list?last=b&n=2"),
    ("</v2/app/tags/list?last=b>; rel=next", "http://r/v2/app/tags/list?last=b"),
    ('<https://evil.example/v2/x>; rel="next"', None),  # never another host
    ("", None),
])  # fmt: skip
def test_the_next_page_of_tags_stays_on_the_registry(link: str, expected: str | None) -> None:
    assert registry._next_page("http://r", link) == expected


def test_stored_credentials_are_found_for_the_registry_and_no_other(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "config.json").write_text(json.dumps({"auths": {
        "reg.example.com": {"auth": "dXNlcjpwdw=="}, "https://index.docker.io/v1/": {"auth": "aHViOnB3"},
        "bad.example.com": {"auth": "not base64!"},
    }}))  # fmt: skip
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert registry._stored_credentials("reg.example.com") == "dXNlcjpwdw=="
    assert registry._stored_credentials("docker.io") == "aHViOnB3"
    assert registry._stored_credentials("other.example.com") is None
    assert registry._stored_credentials("bad.example.com") is None


# The update policy -----------------------------------------------------------------

TAGS = ["1.4.0", "1.4.1", "1.4.3", "1.4.10-rc1", "1.5.0", "1.5.2", "2.0.0", "1.4", "1.5", "latest", "v1.9.9", "01.4.9"]
FOLLOWS = [
    # current, allow, taken, held back (newest first)
    ("1.4.0", "patch", "1.4.3", ["2.0.0", "1.5.2", "1.5.0"]),
    ("1.4.0", "minor", "1.5.2", ["2.0.0"]),
    ("1.4.0", "any", "2.0.0", []),
    ("1.4.3", "patch", "1.4.3", ["2.0.0", "1.5.2", "1.5.0"]),
    ("2.0.0", "any", "2.0.0", []),
    ("1.4", "patch", "1.4", ["1.5"]),  # the moving 1.4 follows 1.4.x itself
    ("1.4", "minor", "1.5", []),
    ("v1.0.0", "any", "v1.9.9", []),  # a "v" tag follows "v" tags only
]


@pytest.mark.parametrize("current, allow, taken, held", FOLLOWS)
def test_allow_takes_the_newest_tag_of_the_same_shape_within_its_range(current, allow, taken, held) -> None:  # type: ignore[no-untyped-def]
    assert follow(current, TAGS, allow) == (taken, held)


def test_a_number_with_a_leading_zero_is_no_version() -> None:
    assert version("01.4.9") is None and version("1.04") is None and version("1.0.10") == ("", (1, 0, 10))
    assert follow("1.4.0", ["01.4.9", "1.4.09"], "patch") == ("1.4.0", [])


@pytest.mark.parametrize("tag", ["latest", "1.4.0-alpine", "1.2.3.4", "x1.2", ""])
def test_allow_needs_a_version_tag(tag: str) -> None:
    assert version(tag) is None
    with pytest.raises(ValueError, match="no version"):
        follow(tag, TAGS, "patch")


@pytest.mark.parametrize("text, seconds", [(0, 0), ("90", 90), ("90s", 90), ("30m", 1800), ("24h", 86400),
                                           ("7d", 604800), ("90d", 90 * 86400)])  # fmt: skip
def test_a_cooldown_is_a_duration_up_to_ninety_days(text, seconds) -> None:  # type: ignore[no-untyped-def]
    assert cooldown(text) == seconds


@pytest.mark.parametrize("text", ["91d", "-1", "1w", "1.5h", True, None, "", "24 h"])
def test_a_cooldown_that_is_no_duration_is_refused(text) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="cooldown"):
        cooldown(text)


@pytest.mark.parametrize("given, problem", [
    ({}, "one or both"), ({"cooldown": "1h", "every": 1}, "one or both"), ([], "one or both"),
    ({"allow": "major"}, "allow: must be one of patch, minor, any"), ({"cooldown": "soon"}, "cooldown"),
])  # fmt: skip
def test_a_wrong_update_object_names_its_key(given, problem) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=problem):
        UpdatePolicy.from_dict(given)


def test_the_overrides_file_takes_an_update_policy_and_names_the_key_of_an_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dockervisor.config.overrides import parse_overrides

    parsed = parse_overrides({"update": {"cooldown": "2h", "allow": "minor"}}, str(tmp_path / "dcv-app"))
    assert parsed.update == UpdatePolicy(7200, "minor")
    with pytest.raises(DockervisorError, match=r"dcv-app: update: allow: must be one of"):
        parse_overrides({"update": {"allow": "all"}}, str(tmp_path / "dcv-app"))


def test_a_state_with_an_update_policy_is_schema_5_and_reads_back(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dockervisor.store import state

    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    recorded = state.FamilyState("app")
    assert recorded.to_dict()["schema"] == state.SCHEMA_VERSION
    recorded.update = UpdatePolicy(60, "patch")
    document = recorded.to_dict()
    assert (document["schema"], document["update"]) == (5, {"cooldown": 60, "allow": "patch"})
    assert state._from_document("app", json.loads(json.dumps(document))).update == UpdatePolicy(60, "patch")
    with pytest.raises(ValueError, match="update policy but schema 4"):
        state._from_document("app", {**document, "schema": 4})


# The cooldown's clock ------------------------------------------------------------------


def test_a_digest_is_first_seen_once_and_a_dry_run_notes_nothing(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dockervisor.store import paths, seen

    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    assert seen.first_seen("app", DIGEST, 100.0, record=False) == 100.0
    assert seen.load("app") == {}
    assert seen.first_seen("app", DIGEST, 200.0, record=True) == 200.0
    assert seen.first_seen("app", DIGEST, 300.0, record=True) == 200.0  # the first sighting stays
    assert seen.first_seen("app", OTHER, 400.0, record=True) == 400.0
    assert seen.load("app") == {DIGEST: 200.0, OTHER: 400.0}
    path = paths.family_seen_file("app")
    with open(path, "w") as handle:
        handle.write('{"schema": 1, "seen": {"sha256:xyz": 1}}')
    with pytest.raises(DockervisorError, match="is damaged"):
        seen.first_seen("app", DIGEST, 500.0, record=True)
    with open(path) as handle:  # reported, never replaced
        assert "sha256:xyz" in handle.read()


def test_only_the_newest_sightings_are_kept(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dockervisor.store import seen

    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    digests = [f"sha256:{i:064x}" for i in range(25)]
    for when, digest in enumerate(digests):
        seen.first_seen("app", digest, float(when), record=True)
    assert sorted(seen.load("app")) == sorted(digests[5:])


# The timer ---------------------------------------------------------------------------


@pytest.mark.parametrize("spec, schedule", [
    ("daily", "0 0 * * *"), ("hourly", "0 * * * *"), ("weekly", "0 0 * * 1"), ("monthly", "0 0 1 * *"),
    ("*-*-* 04:17:00", "17 4 * * *"), ("04:30", "30 4 * * *"), ("23:59", "59 23 * * *"),
    ("24:00", None), ("Mon *-*-* 04:00:00", None), ("*:0/15", None),
])  # fmt: skip
def test_the_crontab_schedule_of_a_calendar_spec(spec: str, schedule: str | None) -> None:
    assert timer.cron_schedule(spec) == schedule


@pytest.mark.parametrize("spec", ["daily\nExecStart=/bin/sh", 'daily"', "50%", "", " daily", "a" * 101])
def test_a_calendar_spec_that_could_break_the_unit_is_refused(spec: str) -> None:
    with pytest.raises(DockervisorError, match="--on-calendar"):
        timer.check_calendar(spec)


def test_the_job_carries_what_it_needs_and_never_a_notification_target() -> None:
    environ = {"DOCKER_HOST": "ssh://ops@web1", "DOCKERVISOR_NOTIFY": "https://hooks.example/TOKEN",
               "DOCKERVISOR_HOME": "/srv/dcv", "SECRET": "x", "DOCKER_CONTEXT": ""}  # fmt: skip
    env = timer.environment(environ, "/root")
    assert env == {"HOME": "/root", "PATH": timer._PATH, "DOCKERVISOR_HOME": "/srv/dcv", "DOCKER_HOST": "ssh://ops@web1"}


def test_the_units_and_the_crontab_line_run_the_same_command() -> None:
    argv = timer.command("/usr/local/bin/dockervisor", "app", ("--context", "web 1"))
    assert argv == ["/usr/local/bin/dockervisor", "--context", "web 1", "update", "app"]
    env = {"HOME": "/home/ops", "PATH": "/usr/bin", "DOCKERVISOR_HOME": "/srv/a b%"}
    service = timer.service_unit("app", argv, env)
    assert 'ExecStart=/usr/local/bin/dockervisor --context "web 1" update app' in service
    assert 'Environment="DOCKERVISOR_HOME=/srv/a b%%"' in service  # systemd's % specifiers doubled
    assert service.startswith(timer._MARK) and "Type=oneshot" in service
    unit = timer.timer_unit("app", "daily")
    assert "OnCalendar=daily" in unit and "WantedBy=timers.target" in unit and "Persistent=true" in unit
    line = timer.crontab_line("daily", argv, env)
    assert line == ("0 0 * * * env -i HOME=/home/ops PATH=/usr/bin 'DOCKERVISOR_HOME=/srv/a b\\%' "
                    "/usr/local/bin/dockervisor --context 'web 1' update app")  # fmt: skip
    odd = timer.crontab_line("Mon *-*-* 04:00", argv, env)
    assert all(each.startswith("# ") for each in odd.splitlines())  # nothing runs until M H are set


# The registry's answers, from a registry that wants a token ---------------------------------


class _TokenRegistry:
    """A loopback HTTP server that answers as a registry behind a token
    service does: 401 with a Bearer challenge, a token for the asked scope,
    tags in pages of two."""

    def __init__(self) -> None:
        import http.server
        import threading

        owner = self
        self.asked: list[tuple[str, str | None]] = []
        self.problems: list[str] = []  # checked by the test: an assert in this thread would only look like no answer

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, code: int, headers: dict[str, str], body: bytes = b"") -> None:
                self.send_response(code)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                owner.asked.append((self.path, self.headers.get("Authorization")))
                port = self.server.server_address[1]
                if self.path.startswith("/token?"):
                    if "scope=repository%3Ateam%2Fapp%3Apull" not in self.path or "service=reg" not in self.path:
                        owner.problems.append(f"token asked without the scope and service: {self.path}")
                    return self._answer(200, {}, json.dumps({"token": "T0KEN"}).encode())
                if self.headers.get("Authorization") != "Bearer T0KEN":
                    challenge = f'Bearer realm="http://127.0.0.1:{port}/token",service="reg"'
                    return self._answer(401, {"WWW-Authenticate": challenge})
                if self.path == "/v2/team/app/manifests/1.0":
                    if "application/vnd.oci.image.index.v1+json" not in self.headers.get("Accept", ""):
                        owner.problems.append(f"manifest asked without the OCI index type: {self.headers}")
                    return self._answer(200, {"Docker-Content-Digest": DIGEST})
                if self.path == "/v2/team/app/tags/list?n=1000":
                    link = '</v2/team/app/tags/list?last=1.1&n=1000>; rel="next"'
                    return self._answer(200, {"Link": link}, b'{"tags": ["1.0", "1.1"]}')
                if self.path == "/v2/team/app/tags/list?last=1.1&n=1000":
                    return self._answer(200, {}, b'{"tags": ["2.0"]}')
                return self._answer(404, {})

            do_HEAD = do_GET

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.domain = f"127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def token_registry():  # type: ignore[no-untyped-def]
    served = _TokenRegistry()
    yield served
    served.server.shutdown()
    served.server.server_close()


def test_a_registry_behind_a_token_service_answers_digests_and_every_page_of_tags(token_registry) -> None:  # type: ignore[no-untyped-def]
    answers = registry.Registry(registry.parse(f"{token_registry.domain}/team/app:1.0"))
    assert answers.digest("1.0") == DIGEST
    assert answers.digest("9.9") is None  # no such tag
    assert answers.tags() == ["1.0", "1.1", "2.0"]
    tokens = [path for path, _ in token_registry.asked if path.startswith("/token")]
    assert len(tokens) == 1  # one token, kept between requests
    assert token_registry.problems == []


def test_a_registry_that_does_not_answer_is_one_error_naming_it() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    answers = registry.Registry(registry.parse(f"127.0.0.1:{port}/app:1"))
    with pytest.raises(DockervisorError, match=rf"the registry 127.0.0.1:{port} \(app\): it did not answer"):
        answers.digest("1")



def _serve(answer) -> tuple:  # type: ignore[no-untyped-def]
    """A loopback server whose every request gets `answer(handler)`; (server, port, seen headers)."""
    import http.server
    import threading

    seen: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            seen.append({"path": self.path, **dict(self.headers)})
            answer(self)

        do_HEAD = do_GET

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1], seen


def test_credentials_never_follow_a_redirect_to_another_host(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def elsewhere(handler) -> None:  # type: ignore[no-untyped-def]
        handler.send_response(200)
        handler.send_header("Docker-Content-Digest", DIGEST)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    other, other_port, other_seen = _serve(elsewhere)

    def redirecting(handler) -> None:  # type: ignore[no-untyped-def]
        if handler.headers.get("Authorization") is None:
            handler.send_response(401)
            handler.send_header("WWW-Authenticate", 'Basic realm="reg"')
        else:
            handler.send_response(307)
            handler.send_header("Location", f"http://localhost:{other_port}{handler.path}")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server, port, seen = _serve(redirecting)
    try:
        (tmp_path / "config.json").write_text(json.dumps({"auths": {f"127.0.0.1:{port}": {"auth": "dXNlcjpTM2NyM3Q="}}}))
        monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
        assert registry.Registry(registry.parse(f"127.0.0.1:{port}/app:1")).digest("1") == DIGEST
        assert seen[-1]["Authorization"] == "Basic dXNlcjpTM2NyM3Q="  # the registry itself gets them
        assert other_seen and all("Authorization" not in headers for headers in other_seen), other_seen
    finally:
        for each in (server, other):
            each.shutdown()
            each.server_close()


@pytest.mark.parametrize("body", [b"HELLO I AM NOT HTTP\r\n\r\n", b"HTTP/1.1 abc\r\n\r\n"])
def test_an_answer_that_is_not_http_is_one_error(body: bytes) -> None:
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def answer() -> None:
        for _ in range(2):
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(body)

    threading.Thread(target=answer, daemon=True).start()
    try:
        answers = registry.Registry(registry.parse(f"127.0.0.1:{listener.getsockname()[1]}/app:1"))
        with pytest.raises(DockervisorError, match="did not answer as a registry does"):
            answers.digest("1")
    finally:
        listener.close()


@pytest.mark.parametrize("listed, problem", [(b'{"tags": 5}', "is not a list"), (b'{"tags": "1.0"}', "is not a list"),
                                             (b"not json", "is not JSON")])  # fmt: skip
def test_a_list_of_tags_that_is_no_list_is_one_error(listed: bytes, problem: str) -> None:
    def answer(handler) -> None:  # type: ignore[no-untyped-def]
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(listed)))
        handler.end_headers()
        handler.wfile.write(listed)

    server, port, _ = _serve(answer)
    try:
        with pytest.raises(DockervisorError, match=problem):
            registry.Registry(registry.parse(f"127.0.0.1:{port}/app:1")).tags()
    finally:
        server.shutdown()
        server.server_close()


def test_an_odd_docker_config_gives_no_credentials(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"reg.example.com": "x"}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert registry._stored_credentials("reg.example.com") is None


# Which families an update follows ------------------------------------------------------


def recorded_as(build: dict):  # type: ignore[no-untyped-def]
    from dockervisor.store import state

    family = state.FamilyState("app")
    family.build = build
    return family


@pytest.mark.parametrize("build, why", [
    ({"source": "build", "context": "/src"}, "was not pulled from a registry"),
    ({"source": "pull", "reference": "app:1", "pulled": "no"}, "tagged or loaded here"),
    ({"source": "pull", "reference": f"reg.example.com/app@{DIGEST}", "pulled": "yes"}, "pinned"),
    ({"source": "pull", "reference": f"reg.example.com/app:1@{DIGEST}", "pulled": "yes"}, "pinned"),
    ({"source": "pull", "reference": "not a reference", "pulled": "yes"}, "unusable"),
])  # fmt: skip
def test_only_a_tag_pulled_from_a_registry_is_followed(build: dict, why: str) -> None:
    from dockervisor.flows.updates import reference_of

    with pytest.raises(DockervisorError, match=why):
        reference_of(recorded_as(build))
    followed = reference_of(recorded_as({"source": "pull", "reference": "reg.example.com/app:1", "pulled": "yes"}))
    assert str(followed) == "reg.example.com/app:1"


def test_update_without_names_takes_only_families_that_follow_a_tag(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dockervisor.flows.updates import pulled_families
    from dockervisor.store import paths, state

    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    for name, build in [("follows", {"source": "pull", "reference": "reg.example.com/a:1", "pulled": "yes"}),
                        ("loaded", {"source": "pull", "reference": "a:1", "pulled": "no"}),
                        ("pinned", {"source": "pull", "reference": f"reg.example.com/a@{DIGEST}", "pulled": "yes"}),
                        ("built", {"source": "build", "context": "/src"})]:  # fmt: skip
        family = state.FamilyState(name)
        family.build = build
        state.save(family)
    with open(paths.family_state_file("damaged"), "w") as handle:
        handle.write("{")
    assert pulled_families() == ["damaged", "follows"]  # a damaged one is named, to be reported


def test_a_rolled_back_digest_is_remembered_beside_the_sightings(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dockervisor.store import seen

    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    seen.first_seen("app", DIGEST, 10.0, record=True)
    assert seen.rolled_back("app", DIGEST) is None
    seen.note_rolled_back("app", DIGEST, 20.0)
    assert (seen.rolled_back("app", DIGEST), seen.rolled_back("app", OTHER)) == (20.0, None)
    assert seen.load("app") == {DIGEST: 10.0}


@pytest.mark.parametrize("value", ["/srv/a\nExecStartPre=/bin/touch /x", '/tmp/a" "DOCKER_HOST=tcp://evil', "/a\\b",
                                   "/a$HOME", "/a`id`", "/a\x7f"])  # fmt: skip
def test_a_value_that_could_break_a_unit_or_the_crontab_is_refused(value: str) -> None:
    with pytest.raises(DockervisorError, match="would not carry safely"):
        timer.environment({"DOCKER_CONFIG": value}, "/root")
    with pytest.raises(DockervisorError, match="would not carry safely"):
        timer.command(f"/usr/bin/{value}", "app", ())
