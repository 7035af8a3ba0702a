"""prune, retention after start new, rm, forget and start new --if-changed,
against the real engine through the installed CLI.

Bulk containers are made with `docker create` and the family label (as a
family member made by hand would be); dockervisor then operates on them.
"""

from __future__ import annotations

import json
import re
import shutil
import shlex
import uuid
from collections.abc import Iterator

import pytest

from support import CLI, all_names, docker, free_port, inspect, owner_args, running_names

FAST = ("--settle", "0.5")


def started(result) -> str:  # type: ignore[no-untyped-def]
    return result.out.strip().splitlines()[-1]


def image_id(reference: str) -> str:
    return inspect(reference)["Id"]


def exists(reference: str) -> bool:
    return docker("inspect", reference, check=False).returncode == 0


def create(family: str, image: str, name: str, cli: CLI | None = None) -> str:
    """A stopped member of the family, made by hand (as `cli`'s state directory would)."""
    docker("create", "--name", name, "--label", f"dockervisor.image={family}", *(owner_args(cli) if cli else []), image)
    return name


def anonymous_volumes(container: str) -> list[str]:
    return [m["Name"] for m in inspect(container)["Mounts"] if m["Type"] == "volume" and len(m["Name"]) == 64]


def listed_lines(output: str) -> list[str]:
    """The object lines of a prune or forget report: `  container  NAME  SIZE`."""
    return [line for line in output.splitlines() if line.startswith("  ")]


def listed_names(output: str, kind: str) -> set[str]:
    return {line.split()[1] for line in listed_lines(output) if line.split()[0] == kind}


def short(image: str) -> str:
    return image.split(":", 1)[1][:12]


@pytest.fixture
def outsiders(families: list[str]) -> Iterator[list[str]]:
    """Containers dockervisor did not make: removed after the test, pass or fail."""
    made: list[str] = []
    yield made
    if made:
        docker("rm", "-f", "-v", *made, check=False)


def outsider(outsiders: list[str], image: str) -> str:
    name = f"dcvt-outsider-{uuid.uuid4().hex[:8]}"
    outsiders.append(name)
    docker("create", "--name", name, image, "true")
    return name


def test_prune_keeps_what_rollbacks_need_and_nothing_else(project, cli, outsiders) -> None:
    app = project("prune")
    app.write(overrides={"ports": {str(free_port()): "8080"}, "keep": "all"})  # no pruning during the setup
    f = app.family
    # 12 containers over 4 images. Creation order: a1 a2 a3 | b1 b2 b3 | S c1 c2 | d1 d2 R.
    images = []
    app.build(content="v1")
    images.append(image_id(f))
    a = [create(f, images[0], f"dcv_{f}_a{i}", cli) for i in (1, 2, 3)]
    app.build(content="v2")
    images.append(image_id(f))
    b = [create(f, images[1], f"dcv_{f}_b{i}", cli) for i in (1, 2, 3)]
    app.build(content="v3")
    images.append(image_id(f))
    stable = started(cli("start", "new", f, *FAST))
    cli("stable", f)
    c = [create(f, images[2], f"dcv_{f}_c{i}", cli) for i in (1, 2)]
    app.build(content="v4")
    images.append(image_id(f))
    d = [create(f, images[3], f"dcv_{f}_d{i}", cli) for i in (1, 2)]
    last = started(cli("start", "new", f, *FAST))
    cli("stop", f)
    docker("start", d[0])  # started by hand: runs, but is not "last"
    # A build never started, whose tag the next build moved on: dangling.
    app.build(content="v5")
    never_started = image_id(f)
    app.build(content="v6")
    current = image_id(f)
    assert len(all_names(f)) == 12 and len({inspect(n)["Image"] for n in all_names(f)}) == 4
    assert running_names(f) == [d[0]] and cli.state(f)["last"] == last and cli.state(f)["stable"] == stable

    # What is not the family's: another family, and a container dockervisor did
    # not make, which uses one of the family's old images.
    other = project("other")
    other.build(content="other", overrides={"ports": {str(free_port()): "8080"}})
    other_container = started(cli("start", "new", other.family, *FAST))
    stranger = outsider(outsiders, images[1])

    listed = json.loads(cli("list", "images", f, "--json").out)["images"]
    assert never_started in {i["id"] for i in listed}  # the dangling build is seen

    # Newest first: R d2 d1 c2 c1 S b3 b2 b1 a3 a2 a1. Kept: R (last), d2 and c2
    # (the 2 newest other stopped ones), d1 (runs), S (stable).
    removed = {c[0], *b, *a}
    kept = {last, d[1], d[0], c[1], stable}
    volumes = {v for name in removed for v in anonymous_volumes(name)}
    assert volumes  # the image's VOLUME gives each hand-made container one

    def world() -> tuple:
        ps = docker("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.State}} {{.Image}}").stdout
        ims = docker("images", "-a", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}").stdout
        vols = docker("volume", "ls", "-q").stdout
        return sorted(ps.splitlines()), sorted(ims.splitlines()), sorted(vols.split())

    def ours(snapshot: tuple) -> list[list[str]]:
        """Other test runs share the engine: only what this test made."""
        keys = (f, stranger, *images, never_started, current, *volumes)
        return [[line for line in part if any(key in line for key in keys)] for part in snapshot]

    before, state_before = world(), cli.state(f)
    dry = cli("prune", f, "--keep", "2", "--dry-run")
    assert ours(world()) == ours(before)
    assert cli.state(f) == state_before
    commands = [shlex.split(line) for line in dry.out.splitlines() if line.startswith("docker ")]
    assert [argv[:2] for argv in commands] == [["docker", "rm"], ["docker", "rmi"]]
    assert commands[0][2] == "--volumes" and len(commands[0]) == 3 + len(removed)
    assert sorted(commands[1][2:]) == sorted([images[0], never_started])

    real = cli("prune", f, "--keep", "2")
    assert listed_lines(real.out) == listed_lines(dry.out)  # the same list, object by object
    assert real.out.startswith(f"{f}: removed 7 containers and 2 images (")
    assert listed_names(real.out, "container") == removed
    assert listed_names(real.out, "image") == {short(images[0]), short(never_started)}
    assert set(all_names(f)) == kept
    assert not any(exists(name) for name in removed)
    # Images: the one only removed containers used, and the dangling build, go.
    assert not exists(images[0]) and not exists(never_started)
    assert exists(images[1])  # the stranger uses it
    assert all(exists(i) for i in (images[2], images[3], current))
    assert not any(exists(volume) for volume in volumes)
    assert exists(f"{f}_data")  # the family's named volume stays
    # Nothing else was touched.
    assert inspect(stranger)["State"]["Status"] == "created"
    assert running_names(other.family) == [other_container] and exists(other.family)
    entry = cli.history(f)[-1]
    assert (entry["action"], entry["outcome"]) == ("prune", "ok")
    assert all(name in entry["message"] for name in removed)

    again = cli("prune", f, "--keep", "2")
    assert again.out == "" and "nothing to prune" in again.err
    assert cli.history(f)[-1]["outcome"] == "no-op"

    # Every rollback target still starts.
    assert started(cli("start", "last", f, *FAST)) == last
    assert running_names(f) == [last]
    assert started(cli("start", "stable", f, *FAST)) == stable
    assert running_names(f) == [stable]


def test_prune_json_and_every_family(project, cli) -> None:
    app = project("pjson")
    app.build(overrides={"ports": {str(free_port()): "8080"}, "keep": 1})
    first = started(cli("start", "new", app.family, *FAST))
    second = started(cli("start", "new", app.family, *FAST))
    old = create(app.family, app.family, f"dcv_{app.family}_old", cli)
    # Newest first: old, second (runs), first: with keep 1, first is next.
    listed = json.loads(cli("list", "containers", app.family, "--json").out)["containers"]
    assert {c["name"]: c["prunable"] for c in listed} == {old: False, second: False, first: True}
    report = json.loads(cli("status", app.family, "--json").out)["families"][0]
    assert report["prunable"] == [first]

    dry = json.loads(cli("prune", "--json", "--dry-run").out)  # every family this home knows
    assert dry["dry_run"] is True
    [family] = [x for x in dry["families"] if x["image"] == app.family]
    assert [c["name"] for c in family["containers"]] == [first]
    assert family["commands"][0].startswith("docker rm --volumes ")
    assert exists(first)

    done = json.loads(cli("prune", app.family, "--json").out)
    assert done["dry_run"] is False and done["families"][0]["containers"][0]["name"] == first
    assert isinstance(done["freed"], int) and "commands" not in done["families"][0]
    assert set(all_names(app.family)) == {old, second}


def test_retention_after_start_new_and_none_after_a_rollback(project, cli) -> None:
    app = project("retain")
    app.build(overrides={"ports": {str(free_port()): "8080"}, "keep": 1})
    c1 = started(cli("start", "new", app.family, *FAST))
    c2 = started(cli("start", "new", app.family, *FAST))
    assert set(all_names(app.family)) == {c1, c2}  # c1 is the one stopped container kept
    assert "prune" not in [e["action"] for e in cli.history(app.family)]  # nothing to do, no entry

    app.build(content="broken", cmd="exit 1")
    failed = cli("start", "new", app.family, *FAST, expect=3)
    assert "pruned" not in failed.err and "removed" not in failed.err
    broken = [n for n in all_names(app.family) if n not in (c1, c2)][0]
    assert set(all_names(app.family)) == {c1, c2, broken}  # the evidence stays
    assert cli.history(app.family)[-1]["outcome"] == "rolled-back"

    app.build(content="fixed")
    good = cli("start", "new", app.family, *FAST)
    c4 = started(good)
    # Newest first: c4 (runs, last), broken (newest stopped: kept), c2 (ran before the
    # start: the way back, kept whatever keep says; issue 21), c1.
    assert set(all_names(app.family)) == {c4, broken, c2}
    assert f"{app.family}: removed 1 container" in good.err
    assert good.out.strip() == c4  # stdout stays the container's name, for scripts
    prune = cli.history(app.family)[-1]
    assert (prune["action"], prune["outcome"]) == ("prune", "ok")
    assert c1 in prune["message"] and c2 not in prune["message"]


def test_keep_all_turns_retention_off(project, cli) -> None:
    app = project("keepall")
    app.build(overrides={"ports": {str(free_port()): "8080"}, "keep": "all"})
    names = [started(cli("start", "new", app.family, "--no-wait")) for _ in range(3)]
    assert set(all_names(app.family)) == set(names)
    assert cli.state(app.family)["run_config"]["keep"] == "all"


def test_rm_refuses_what_runs_and_the_marks_unless_forced(project, cli, outsiders) -> None:
    app = project("rm")
    app.build(overrides={"ports": {str(free_port()): "8080"}, "keep": "all"})
    f = app.family
    stable = started(cli("start", "new", f, *FAST))
    cli("stable", f)
    hand_started = started(cli("start", "new", f, *FAST))
    last = started(cli("start", "new", f, *FAST))
    cli("stop", f)
    docker("start", hand_started)
    plain = create(f, f, f"dcv_{f}_plain", cli)
    stranger = outsider(outsiders, f)

    refused = {
        hand_started: "stop it first",
        last: "is marked last",
        stable: "is marked stable",
        stranger: "not created by dockervisor",
    }
    for name, words in refused.items():
        assert words in cli("rm", name, expect=1).err
    assert "no container named" in cli("rm", f"dcv_{f}_nosuch", expect=1).err
    assert "nothing removed" in cli("rm", plain, stable, expect=1).err
    assert exists(plain) and exists(stable)
    cli("rm", "bad name!", expect=2)

    dry = cli("rm", plain, "--dry-run")
    assert shlex.split(dry.out)[:3] == ["docker", "rm", "--volumes"] and exists(plain)

    assert cli("rm", plain).out == f"{plain}\n"
    assert not exists(plain)
    forced = cli("rm", "--force", stable, last)
    assert forced.out.split() == [stable, last]
    assert "was marked stable; the mark is cleared" in forced.err
    assert "was marked last; the mark is cleared" in forced.err
    assert (cli.state(f)["stable"], cli.state(f)["last"]) == (None, None)
    assert not exists(stable) and not exists(last)
    assert "stop it first" in cli("rm", "--force", hand_started, expect=1).err
    assert set(all_names(f)) == {hand_started} and exists(stranger)
    assert [e["action"] for e in cli.history(f)][-2:] == ["rm", "rm"]


def test_forget_retires_a_family_but_keeps_its_data_unless_asked(project, cli, outsiders) -> None:
    app = project("forget")
    app.build(overrides={"ports": {str(free_port()): "8080"}})
    f = app.family
    first = started(cli("start", "new", f, *FAST))
    old_image = image_id(f)
    app.build(content="v2")
    second = started(cli("start", "new", f, *FAST))
    stranger = outsider(outsiders, old_image)  # keeps the old image in use
    (cli.state_dir / "history" / f"{f}.jsonl.1").write_text("")  # a rotated history

    assert "stop it first" in cli("forget", f, expect=1).err
    assert set(all_names(f)) == {first, second}

    cli("stop", f)
    dry = cli("forget", f, "--dry-run")
    assert set(all_names(f)) == {first, second} and (cli.state_dir / "families" / f"{f}.json").exists()
    assert f"docker volume rm {f}_data" in dry.out

    gone = cli("forget", f)
    assert all_names(f) == [] and not exists(f)
    assert listed_names(gone.out, "container") == {first, second}
    assert exists(old_image) and "used by container " + stranger in gone.err
    assert f"kept volumes {f}_data; to remove them: docker volume rm {f}_data" in gone.out
    assert exists(f"{f}_data")
    for path in (f"families/{f}.json", f"history/{f}.jsonl", f"history/{f}.jsonl.1", f"locks/{f}.lock"):
        assert not (cli.state_dir / path).exists(), path
    assert "unknown image family" in cli("forget", f, expect=1).err

    # --volumes: the data goes too.
    again = project("forget2")
    again.build(overrides={"ports": {str(free_port()): "8080"}})
    cli("start", "new", again.family, *FAST)
    cli("stop", again.family)
    done = cli("forget", again.family, "--volumes")
    assert f"  volume     {again.family}_data" in done.out
    assert not exists(f"{again.family}_data") and all_names(again.family) == []


def test_start_new_if_changed(project, cli) -> None:
    app = project("ifchg")
    app.build(overrides={"ports": {str(free_port()): "8080"}})
    f = app.family
    first = started(cli("start", "new", f, "--if-changed", *FAST))  # nothing runs: a normal start
    label = inspect(first)["Config"]["Labels"]["dockervisor.config"]
    assert re.fullmatch(r"[0-9a-f]{64}", label)
    started_at = inspect(first)["State"]["StartedAt"]

    same = cli("start", "new", f, "--if-changed", *FAST)
    assert same.out == f"{first}\n" and "nothing to do" in same.err
    assert all_names(f) == [first] and inspect(first)["State"]["StartedAt"] == started_at
    assert cli.history(f)[-1]["outcome"] == "no-op"

    with_env = started(cli("start", "new", f, "--if-changed", "--env", "TOKEN=s3cr3t", *FAST))
    assert with_env != first
    assert "s3cr3t" not in json.dumps(inspect(with_env)["Config"]["Labels"])
    assert started(cli("start", "new", f, "--if-changed", "--env", "TOKEN=s3cr3t", *FAST)) == with_env

    app.build(content="v2")
    rebuilt = started(cli("start", "new", f, "--if-changed", "--env", "TOKEN=s3cr3t", *FAST))
    assert rebuilt not in (first, with_env) and running_names(f) == [rebuilt]
    assert inspect(rebuilt)["Image"] == image_id(f)
    cli("start", "last", f, "--if-changed", expect=2)


def test_a_container_started_meanwhile_is_skipped_with_a_note(project, cli, tmp_path) -> None:
    app = project("race")
    app.build(overrides={"ports": {str(free_port()): "8080"}, "keep": "all"})
    old_image = image_id(app.family)
    x1, x2 = (create(app.family, old_image, f"dcv_{app.family}_x{i}", cli) for i in (1, 2))
    app.build(content="v2")
    current = started(cli("start", "new", app.family, *FAST))
    # Someone starts x1 by hand after prune looked, just before its `docker rm`.
    shim = tmp_path / "shim"
    shim.mkdir()
    real = shutil.which("docker")
    (shim / "docker").write_text(
        f'#!/bin/sh\n[ "$1" = rm ] && {shlex.quote(str(real))} start {shlex.quote(x1)} >/dev/null\n'
        f'exec {shlex.quote(str(real))} "$@"\n'
    )
    (shim / "docker").chmod(0o755)

    result = cli("prune", app.family, "--keep", "0", env={"PATH": f"{shim}:{cli.env['PATH']}"})
    assert listed_names(result.out, "container") == {x2}
    assert f"kept container {x1}: " in result.err and "running" in result.err
    assert f"kept image {short(old_image)}: container {x1} still uses it" in result.err
    assert set(all_names(app.family)) == {current, x1} and exists(old_image)
