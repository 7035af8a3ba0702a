"""`dockervisor status [IMAGENAME]`: one line per family, and an exit code for monitors."""

from __future__ import annotations

import time

from dockervisor.engine import query
from dockervisor.store import state
from dockervisor.commands.common import load_families, prunable, report_damaged
from dockervisor.store.state import require_known_family
from dockervisor.flows.context import Context
from dockervisor.engine.query import ContainerSummary
from dockervisor.core.errors import EXIT_FAILED, EXIT_NOT_RUNNING, EXIT_OK
from dockervisor.config.names import CONTAINER_PREFIX, is_image_name
from dockervisor.core.output import Column, plural
from dockervisor.flows.ownership import strangers
from dockervisor.store.provenance import config_changed
from dockervisor.core.timefmt import age, iso_utc, parse_docker_time
from dockervisor.flows.waiting import has_healthcheck

_STATE_COLOURS = {
    "running": "green", "healthy": "green",
    "starting": "yellow", "paused": "yellow", "not ours": None,
}  # fmt: skip


def status(ctx: Context, chosen: list[str], as_json: bool, every: bool = False) -> int:
    """The families this state directory knows (or those `chosen`); with
    `every`, also the ones other state directories made on the engine, shown
    as not ours and never counted in the exit code: `status || alert` is
    about your own."""
    if chosen:
        # One family: a query of its own label; several: one of every label.
        everything = query.labelled_containers(ctx.docker, chosen[0]) if len(chosen) == 1 else (
            query.all_labelled_containers(ctx.docker))  # fmt: skip
        labelled, containers = [], []
        for family in chosen:  # every one is checked before anything is shown
            theirs = [c for c in everything if c.family == family]
            mine = ctx.docker.members(family, theirs)
            require_known_family(family, mine, strangers(theirs, mine))
            labelled, containers = labelled + theirs, containers + mine
        names = chosen
    else:
        labelled = query.all_labelled_containers(ctx.docker)
        names = state.known_families()
        containers = [c for name in names for c in ctx.docker.members(name, [c for c in labelled if c.family == name])]
    families, damaged = load_families(names)
    others = _others(labelled, containers, names) if every else []
    running = {f.image: _running_one(containers, f.image, f.last) for f in families}
    documents = {
        d["Id"]: d
        for d in query.inspect_containers(ctx.docker, [c.id for c in running.values() if c])
    }
    image_ids = sorted({d.get("Image") for d in documents.values()} - {None, ""})
    images = {d["Id"]: d for d in query.inspect_images(ctx.docker, image_ids)}
    now = time.time()
    reports = [_report(f, running[f.image], documents, images, now) for f in families]
    for recorded, report in zip(families, reports):
        report["prunable"] = prunable(containers, recorded)  # what `prune` would remove next
        if recorded.swarm is not None:
            report.update(_service_report(ctx, recorded))
    reports += [_damaged_report(name, message) for name, message in damaged.items()]
    for report in reports:
        _flag_several_running(report, containers)
        if every:
            report["ours"] = True
    all_ok = all(r["ok"] for r in reports)
    reports += others
    reports.sort(key=lambda r: r["image"])
    if as_json:
        ctx.document({"ok": all_ok, "families": reports})
    else:
        _print(ctx, reports)
    report_damaged(ctx, damaged)
    _note_paused(ctx, reports)
    if damaged:
        return EXIT_FAILED
    return EXIT_OK if all_ok else EXIT_NOT_RUNNING


def _service_report(ctx: Context, recorded: state.FamilyState) -> dict:
    """A Swarm family: its service, the image it runs, and its tasks per node."""
    from dockervisor.engine import services
    from dockervisor.flows import servicestarts

    name = services.service_name(recorded.image)
    document = servicestarts.service_document(ctx, recorded.image)
    marks = recorded.service
    report: dict = {"container": None, "state": "stopped", "ok": False, "service": None,
                    "image_id": marks.image if marks else None,
                    "stable": marks.stable if marks else None, "last": marks.previous if marks else None}  # fmt: skip
    if document is None:
        return report
    tasks = [t for t in servicestarts.task_lines(ctx, recorded.image) if t.get("DesiredState") == "Running"]
    nodes: dict[str, list[dict]] = {}
    for task in tasks:
        nodes.setdefault(str(task.get("Node")), []).append(
            {"task": task.get("Name"), "state": task.get("CurrentState"), "image": task.get("Image")})
    mode = (document.get("Spec") or {}).get("Mode") or {}
    wanted = (mode.get("Replicated") or {}).get("Replicas") if "Replicated" in mode else None
    up = [t for t in tasks if str(t.get("CurrentState", "")).startswith("Running")]
    update = (document.get("UpdateStatus") or {}).get("State")
    report.update(container=name, service={"replicas": wanted, "running": len(up), "update": update, "nodes": nodes})
    if wanted == 0:
        return report
    healthy = bool(up) and (wanted is None or len(up) >= wanted) and update not in ("paused", "rollback_paused")
    report.update(state="running" if healthy else "degraded", ok=healthy)
    return report


def _others(labelled: list[ContainerSummary], mine: list[ContainerSummary], known: list[str]) -> list[dict]:
    """Families on the engine this state directory did not make, as `status
    --all` shows them: what of theirs runs, nothing more."""
    theirs = strangers(labelled, mine)
    reports = []
    for family in sorted({c.family for c in theirs if is_image_name(c.family)} - set(known)):
        report = _report(state.FamilyState(family), None, {}, {}, 0)
        running = [c.name for c in theirs if c.family == family and c.active]
        report.update(state="not ours", running=running, ours=False, ok=None, prunable=[],
                      container=running[0] if running else None)  # fmt: skip
        reports.append(report)
    return reports


def _note_paused(ctx: Context, reports: list[dict]) -> None:
    """A paused container serves nothing: most often a backup killed mid-way
    left it so (see datarecovery.py), which the family's next command repairs."""
    for r in reports:
        if r["state"] == "paused":
            ctx.info(
                f"warning: {r['container']} of {r['image']} is paused (a backup pauses it while it "
                f"copies; one that was killed leaves it so: the next `dockervisor start` or `backup` "
                f"of {r['image']} unpauses it)"
            )


def _damaged_report(family: str, message: str) -> dict:
    """A family whose state file cannot be read: shown, never guessed at."""
    report = _report(state.FamilyState(family), None, {}, {}, 0)
    report.update(state="damaged", error=message, prunable=[])
    return report


def _flag_several_running(report: dict, containers: list[ContainerSummary]) -> None:
    """One container per family runs; more (one started by hand, or left by a
    killed run) is a problem to see, never fine: the next start or stop of
    the family leaves one."""
    active = [c.name for c in containers if c.family == report["image"] and c.active]
    report["running"] = active
    if len(active) > 1:
        report["ok"] = False


def _running_one(
    containers: list[ContainerSummary], family: str, last: str | None
) -> ContainerSummary | None:
    active = [c for c in containers if c.family == family and c.active]
    preferred = [c for c in active if c.name == last]
    if preferred or active:
        return (preferred or active)[0]
    return None


def _report(
    family: state.FamilyState,
    container: ContainerSummary | None,
    documents: dict[str, dict],
    images: dict[str, dict],
    now: float,
) -> dict:
    report: dict = {
        "image": family.image,
        "state": "stopped",
        "health": None,
        "container": None,
        "started_at": None,
        "uptime_seconds": None,
        "image_id": None,
        "image_tags": [],
        "image_digests": [],  # pulled from a registry: REPOSITORY@sha256:... of what runs
        "ports": [],
        "last": family.last,
        "stable": family.stable,
        "config_changed": config_changed(family),  # the overrides file, since build
        "restarts": 0,
        "ok": False,
        "error": None,
    }
    document = documents.get(container.id) if container else None
    if container is None or document is None:
        return report
    image_id = str(document.get("Image", ""))
    state_doc = document.get("State") or {}
    started = parse_docker_time(str(state_doc.get("StartedAt", "")))
    health = (state_doc.get("Health") or {}).get("Status") if has_healthcheck(document) else None
    report.update(
        state=state_doc.get("Status", "unknown"),
        health=health,
        container=container.name,
        started_at=iso_utc(started) if started is not None else None,
        uptime_seconds=int(now - started) if started is not None else None,
        image_id=image_id,
        image_tags=(images.get(image_id) or {}).get("RepoTags") or [],
        image_digests=(images.get(image_id) or {}).get("RepoDigests") or [],
        ports=_published_ports(document),
    )
    _flag_restarts(report, document)
    report["ok"] = report["state"] == "running" and health in (None, "healthy")
    return report


def _flag_restarts(report: dict, document: dict) -> None:
    """A container docker has restarted since it was last started (`docker
    start` counts from 0 again) is in a restart loop, even in the seconds it
    runs between two crashes: never ok, however often it is sampled."""
    restarts = query.restarts(document)
    report["restarts"] = restarts
    if restarts and report["state"] == "running":
        report["state"] = "restarting"


def _published_ports(document: dict) -> list[dict]:
    """Each published port once: `address` null when it listens on every
    address (docker lists 0.0.0.0 and :: apart), else the one it is bound to."""
    ports = []
    bindings = (document.get("NetworkSettings") or {}).get("Ports") or {}
    for spec, hosts in sorted(bindings.items()):
        number, _, protocol = spec.partition("/")
        bound = {(_address(h.get("HostIp")), int(h["HostPort"])) for h in hosts or [] if h.get("HostPort")}
        for address, host_port in sorted(bound, key=lambda pair: (pair[1], pair[0] or "")):
            ports.append({"address": address, "host": host_port, "container": int(number), "protocol": protocol})
    return ports


def _address(host_ip: object) -> str | None:
    return None if host_ip in (None, "", "0.0.0.0", "::") else str(host_ip)


def _print(ctx: Context, reports: list[dict]) -> None:
    columns = [
        Column("FAMILY"), Column("STATE"), Column("CONTAINER"),
        Column("IMAGE", "end", 8, drop=4), Column("PORTS", "end", 8, drop=3),
        Column("LAST", drop=2), Column("STABLE", drop=1),
    ]  # fmt: skip
    rows, colours = [], []
    for r in reports:
        shown_state = r["health"] if r["health"] and r["state"] == "running" else r["state"]
        if not r.get("ours", True):
            shown_state = "not ours" + (f", {len(r['running'])} running" if r["running"] else "")
        elif len(r["running"]) > 1:
            shown_state = f"{len(r['running'])} running"
        elif r["state"] == "restarting" and r["restarts"]:
            shown_state = f"restarting ({plural(r['restarts'], 'restart')})"
        image = _image_cell(r["image_id"], r["image_tags"], r["image"])
        rows.append(
            [
                r["image"],
                shown_state
                + (f" {age(r['uptime_seconds'])}" if r["uptime_seconds"] is not None else ""),
                _short_name(r["container"], r["image"]),
                image,
                ",".join(_port_cell(p) for p in r["ports"]) or "-",
                _mark(r["last"], r["container"], r["image"]),
                _mark(r["stable"], r["container"], r["image"]),
            ]
        )
        colours.append([None, _STATE_COLOURS.get(shown_state, "red")] + [None] * 5)
    ctx.table(columns, rows, colours)
    for r in reports:
        if r.get("ours", True) and len(r["running"]) > 1:
            ctx.info(
                f"warning: {len(r['running'])} containers of {r['image']} run "
                f"({', '.join(r['running'])}); `dockervisor start last {r['image']}` "
                "leaves one"
            )


def _image_cell(image_id: str | None, tags: list[str], family: str) -> str:
    """`71b6e047 latest`: the ID, and its tag without the family's own repository,
    or "untagged" when a rebuild has moved the tag to a newer image."""
    if not image_id:
        return "-"
    shown_tags = [t.removeprefix(f"{family}:") for t in tags] or ["untagged"]
    return f"{image_id.split(':', 1)[-1][:8]} {','.join(shown_tags)}"


def _port_cell(port: dict) -> str:
    """`8080->80`, `127.0.0.1:8080->80`, `[::1]:8080->80`, `53->53/udp`."""
    address = port.get("address")
    bound = f"[{address}]:" if address and ":" in address else f"{address}:" if address else ""
    text = f"{bound}{port['host']}->{port['container']}"
    return text if port["protocol"] == "tcp" else f"{text}/{port['protocol']}"


def _mark(marked: str | None, running: str | None, family: str) -> str:
    if marked is not None and marked == running:
        return "running"
    return _short_name(marked, family)


def _short_name(name: str | None, family: str) -> str:
    """The FAMILY column already says `dcv_FAMILY_`: show what tells containers apart."""
    if name is None:
        return "-"
    return name.removeprefix(f"{CONTAINER_PREFIX}{family}_")
