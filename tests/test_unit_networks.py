"""Networks at `start new`: created when missing, never twice, and the hook
that starts a container of several networks only once it is on all of them."""

from __future__ import annotations

import json

import pytest

from dockervisor.flows import networks
from dockervisor.core.errors import DockerCommandFailed, DockervisorError
from dockervisor.engine.executor import Result
from dockervisor.config.runoptions import RunOptions
from dockervisor.flows.switch import NewContainer


class FakeDocker:
    """Networks in `existing`; `create_fails` makes `docker network create` fail,
    after (with `appears`) another run created the network meanwhile."""

    def __init__(self, existing: set[str], create_fails: bool = False, appears: bool = False) -> None:
        self.existing = set(existing)
        self.create_fails = create_fails
        self.appears = appears
        self.calls: list[list[str]] = []

    def query(self, argv: list[str], check: bool = True) -> Result:
        """`docker network ls`: the name filter matches substrings."""
        self.calls.append(argv)
        wanted = [word.removeprefix("name=") for word in argv if word.startswith("name=")]
        found = sorted(n for n in self.existing if any(w in n for w in wanted))
        return Result(argv, 0, "".join(json.dumps(n) + "\n" for n in found), "")

    def change(self, argv: list[str], check: bool = True) -> Result:
        self.calls.append(argv)
        if self.create_fails:
            if self.appears:
                self.existing.add(argv[-1])
            return Result(argv, 1, "", "Error response from daemon: network with name x already exists")
        self.existing.add(argv[-1])
        return Result(argv, 0, "", "")


class FakeContext:
    def __init__(self, docker: FakeDocker) -> None:
        self.docker = docker
        self.said: list[str] = []

    def done(self, would: str, did: str) -> None:
        self.said.append(did)


def test_missing_networks_are_created_and_existing_ones_only_looked_at() -> None:
    ctx = FakeContext(FakeDocker({"backend"}))
    networks.ensure_networks(ctx, ["backend", "edge"])  # type: ignore[arg-type]
    assert ctx.docker.calls == [
        LS + ["--filter", "name=backend", "--filter", "name=edge", "--format", "{{json .Name}}"],
        ["docker", "network", "create", "edge"],
    ]
    assert ctx.said == ["created network edge"]
    ctx = FakeContext(FakeDocker({"backend", "edge"}))
    networks.ensure_networks(ctx, ["backend", "edge"])  # type: ignore[arg-type]
    assert len(ctx.docker.calls) == 1 and ctx.docker.calls[0][:3] == LS
    ctx = FakeContext(FakeDocker(set()))
    networks.ensure_networks(ctx, [])  # type: ignore[arg-type]
    assert ctx.docker.calls == []


def test_a_network_another_run_created_meanwhile_is_as_good() -> None:
    ctx = FakeContext(FakeDocker(set(), create_fails=True, appears=True))
    networks.ensure_networks(ctx, ["backend"])  # type: ignore[arg-type]
    assert ctx.docker.calls[-1][:5] == LS + ["--filter", "name=backend"]


def test_a_network_that_cannot_be_created_is_docker_s_one_line_error() -> None:
    ctx = FakeContext(FakeDocker(set(), create_fails=True))
    with pytest.raises(DockerCommandFailed, match="docker network create .*already exists"):
        networks.ensure_networks(ctx, ["backend"])  # type: ignore[arg-type]


def test_a_longer_name_is_not_a_network_of_that_name() -> None:
    ctx = FakeContext(FakeDocker({"backend-old"}))
    networks.ensure_networks(ctx, ["backend"])  # type: ignore[arg-type]
    assert ctx.docker.calls[-1] == ["docker", "network", "create", "backend"]


def test_unreadable_network_listing_is_one_clear_error() -> None:
    docker = FakeDocker(set())
    docker.query = lambda argv, check=True: Result(argv, 0, "backend\n", "")  # type: ignore[method-assign]
    with pytest.raises(DockervisorError, match="`docker network ls` printed something"):
        networks.ensure_networks(FakeContext(docker), ["backend"])  # type: ignore[arg-type]


LS = ["docker", "network", "ls"]
RUN = ["docker", "run", "--detach", "--name", "dcv_app_1", "app:latest"]


def test_one_network_leaves_the_docker_run_alone() -> None:
    new = NewContainer(RUN, RUN, (3,))
    assert networks.joining(new, "dcv_app_1", "app", RunOptions(networks=["backend"])) is new
    assert networks.joining(new, "dcv_app_1", "app", RunOptions()) is new


def test_several_networks_need_the_switch_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    several = RunOptions(networks=["backend", "edge"])
    new = NewContainer(RUN, RUN, (3,))
    if "then" not in NewContainer.__slots__:  # not wired yet: refused before anything changes
        with pytest.raises(DockervisorError, match="cannot yet start a container on more than one"):
            networks.joining(new, "dcv_app_1", "app", several)

    class Wired(NewContainer):  # what switch.py offers once the hook is wired
        __slots__ = ("then",)

        def __init__(self, argv, shown, pass_fds=(), then=()):  # type: ignore[no-untyped-def]
            super().__init__(argv, shown, pass_fds)
            self.then = then

    monkeypatch.setattr(networks, "NewContainer", Wired)
    joined = networks.joining(Wired(RUN, RUN, (3,)), "dcv_app_1", "app", several)
    assert joined.argv == joined.shown == ["docker", "create", "--name", "dcv_app_1", "app:latest"]
    assert joined.pass_fds == (3,)
    assert joined.then == [
        ["docker", "network", "connect", "--alias", "app", "edge", "dcv_app_1"],
        ["docker", "start", "dcv_app_1"],
    ]
