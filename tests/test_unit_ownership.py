"""Issue 19: which containers a state directory may act on, and when two
endpoints are one engine. Pure rules, table-driven."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dockervisor.flows import ownership
from dockervisor.engine.contexts import identity_of, resolve
from dockervisor.engine.query import ContainerSummary, parse_ps_lines
from dockervisor.core.errors import DockervisorError
from dockervisor.store import identity, state
from dockervisor.store.identity import Identity

ME = Identity("a" * 32, since=1_800_000_000.5)  # 2027-01-15
OTHER = "b" * 32
BEFORE = "2026-12-01 10:00:00 +0000 UTC"  # made before this directory had an ID
AFTER = "2027-02-01 10:00:00 +0000 UTC"


def container(name: str = "dcv_app_1", family: str = "app", owner: str = ME.id, created: str = AFTER, id: str = "1" * 64):  # type: ignore[no-untyped-def]
    return ContainerSummary(id, name, "exited", created, "app:latest", family, owner)


@pytest.mark.parametrize(
    "summary, me, known, adopted, member",
    [
        (container(), ME, True, [], True),  # name, label and owner agree
        (container(), ME, False, [], True),  # a state directory may lose its file: the label is enough
        (container(name="dcv_other_1"), ME, True, [], False),  # the name says another family
        (container(name="myapp"), ME, True, [], False),  # not a name dockervisor gives
        (container(family="other"), ME, True, [], False),  # the label says another family
        (container(owner=OTHER), ME, True, [], False),  # another state directory made it
        (container(owner=OTHER), ME, True, ["1" * 64], True),  # ... and it was adopted here
        (container(owner=OTHER), ME, True, [OTHER], True),  # ... or all that directory makes
        (container(owner="", created=AFTER), ME, True, ["1" * 64], True),  # one made by hand, adopted
        (container(owner=OTHER), None, True, [], False),  # no ID here yet: still not ours
        (container(owner="", created=BEFORE), ME, True, [], True),  # an older version's, recorded family
        (container(owner="", created=BEFORE), ME, False, [], False),  # ... of a family unknown here
        (container(owner="", created=AFTER), ME, True, [], False),  # no owner, made since: by hand
        (container(owner="", created="garbage"), ME, True, [], False),
        (container(owner="", created=AFTER), None, True, [], True),  # no ID yet: every unlabelled one is older
    ],
)
def test_membership(summary: ContainerSummary, me, known: bool, adopted: list[str], member: bool) -> None:  # type: ignore[no-untyped-def]
    assert ownership.is_member(summary, "app", me, known, adopted) is member
    found = ownership.members([summary], "app", me, known, adopted)
    assert (found == [summary]) is member
    assert ownership.strangers([summary], found) == ([] if member else [summary])


def test_ps_rows_carry_their_owner() -> None:
    row = {"id": "1" * 64, "name": "dcv_app_1", "state": "running", "created": AFTER, "image": "app",
           "family": "app", "owner": OTHER}  # fmt: skip
    (parsed,) = parse_ps_lines(json.dumps(row))
    assert parsed.owner == OTHER
    del row["owner"]  # an older client's format, or a shim's
    assert parse_ps_lines(json.dumps(row))[0].owner == ""
    with pytest.raises(DockervisorError):
        parse_ps_lines(json.dumps({**row, "owner": 5}))


@pytest.mark.parametrize(
    "one, other, same",
    [
        ("tcp://host.example:2375", "tcp://HOST.example:2375/", True),
        ("tcp://host.example", "tcp://host.example:2375", True),
        ("tcp://host.example:2376", "tcp://host.example:2375", False),
        ("ssh://root@web1", "ssh://root@web1:22", True),
        ("ssh://root@web1", "ssh://admin@web1", False),
        ("ssh://web1:2222", "ssh://web1", False),
        ("tcp://[::1]:2375", "tcp://[::1]", True),
        ("npipe:////./pipe/docker_engine", "npipe:////./pipe/docker_engine/", True),
        ("npipe:////./pipe/a", "npipe:////./pipe/b", False),
    ],
)
def test_one_engine_one_identity(one: str, other: str, same: bool) -> None:
    assert (identity_of(one) == identity_of(other)) is same


def test_a_symlinked_socket_is_the_same_engine(tmp_path: Path) -> None:
    socket_file = tmp_path / "run" / "docker.sock"
    socket_file.parent.mkdir()
    socket_file.touch()
    (tmp_path / "var-run").symlink_to(tmp_path / "run")
    assert identity_of(f"unix://{tmp_path}/var-run/docker.sock") == identity_of(f"unix://{socket_file}")
    assert identity_of(f"unix://{tmp_path}/var-run/other.sock") != identity_of(f"unix://{socket_file}")


def test_two_contexts_for_one_engine_are_refused(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "docker.sock").touch()
    (tmp_path / "var-run").symlink_to(tmp_path / "run")
    config = tmp_path / "docker"
    for name, host in (("one", f"unix://{tmp_path}/run/docker.sock"), ("two", f"unix://{tmp_path}/var-run/docker.sock")):
        import hashlib

        meta = config / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
        meta.mkdir(parents=True)
        (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": {"docker": {"Host": host}}}))
    with pytest.raises(DockervisorError, match="are the same engine") as raised:
        resolve(["one", "two"], {"DOCKER_CONFIG": str(config)})
    assert raised.value.exit_code == 2


def test_the_identity_is_made_once_private_and_never_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(identity, "_known", {})
    assert identity.identity(create=False) is None and not (tmp_path / "home").exists()
    made = identity.identity()
    assert made is not None and len(made.id) == 32
    path = tmp_path / "home" / "id"  # outside an engine's state: the state root itself
    assert path.stat().st_mode & 0o777 == 0o600
    monkeypatch.setattr(identity, "_known", {})
    assert identity.state_id() == made.id  # read back, not made again
    path.write_text("garbage\n")
    monkeypatch.setattr(identity, "_known", {})
    with pytest.raises(DockervisorError, match="is damaged"):
        identity.identity()
    assert path.read_text() == "garbage\n"


def test_adoptions_are_kept_and_only_they_raise_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path))
    family = state.FamilyState("app")
    state.save(family)
    path = Path(state.paths.family_state_file("app"))
    assert json.loads(path.read_text())["schema"] == state.SCHEMA_VERSION
    family.adopted = ["c" * 64]
    state.save(family)
    assert json.loads(path.read_text())["schema"] == state.ADOPTION_SCHEMA
    assert state.load("app").adopted == ["c" * 64]
    path.write_text(path.read_text().replace("c" * 64, "../etc"))
    with pytest.raises(DockervisorError, match="adopted must be a list of state directory or container IDs"):
        state.load("app")
    os.unlink(path)


@pytest.mark.parametrize(
    "tags, user, removed, kept",
    [
        (["app:latest"], None, ["sha256:1"], {}),  # nothing else: the image goes
        (["app:latest", "other:latest"], None, ["app:latest"], {"sha256:1": "also tagged other:latest"}),
        # another family's container uses it: the tag goes all the same, the image stays
        (["app:latest", "other:latest"], ("dcv_other_1", "other:latest"), ["app:latest"],
         {"sha256:1": "used by container dcv_other_1"}),
        # the tag is the image's last and a container uses it: docker would delete the image with it
        (["app:latest"], ("dcv_other_1", "sha256:1"), [], {"sha256:1": "used by container dcv_other_1"}),
    ],
)
def test_forget_removes_the_tag_always(tags: list[str], user, removed: list[str], kept: dict) -> None:  # type: ignore[no-untyped-def]
    from dockervisor.config.retention import plan_images

    plan = plan_images([{"Id": "sha256:1", "RepoTags": tags}], [user] if user else [], own_tag="app:latest")
    assert (plan.remove, plan.kept) == (removed, kept)


def test_forget_volumes_are_the_run_configurations_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A volume a member container mounts that the run configuration does not
    (a container made by hand and adopted, or from before the mounts changed)
    is never forget --volumes' to remove."""
    from dockervisor.commands import forget
    from dockervisor.commands.prune import Removal
    from dockervisor.config.mounts import Mount
    from dockervisor.config.runconfig import RunConfig

    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path))
    monkeypatch.setattr(forget.query, "existing_volumes", lambda docker, names: names)
    removal = Removal("app")
    removal.volumes = ["app_data", "precious"]
    family = state.FamilyState("app", run_config=RunConfig([], [Mount("app_data", "/data")]))
    ctx = type("Ctx", (), {"docker": None, "info": lambda self, message: None})()
    assert forget._family_volumes(ctx, removal, family) == ["app_data"]  # type: ignore[arg-type]


def test_two_runs_making_the_identity_at_once_agree_on_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first start of two families at once (cron): one ID, never one replaced."""
    from dockervisor.store.files import create_once

    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path))
    path = str(tmp_path / "id")
    assert create_once(path, b"first\n") is True
    assert create_once(path, b"second\n") is False
    assert Path(path).read_bytes() == b"first\n" and sorted(p.name for p in tmp_path.iterdir()) == ["id"]
