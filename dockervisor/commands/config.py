"""`dockervisor config IMAGENAME [--json]`: the recorded run configuration, and
where it came from. Environment variables are shown by name, never by value."""

from __future__ import annotations

from dockervisor.store import provenance
from dockervisor.engine import query
from dockervisor.store import state
from dockervisor.commands.build import describe_config, short_id
from dockervisor.store.state import require_known_family
from dockervisor.flows.context import Context
from dockervisor.core.errors import EXIT_OK, DockervisorError
from dockervisor.core.output import print_json
from dockervisor.config.retention import keep_to_json
from dockervisor.config.runconfig import RunConfig


def config(ctx: Context, family: str, as_json: bool) -> int:
    if not state.family_exists(family):  # refused before any file is made for it
        require_known_family(family, query.family_containers(ctx.docker, family))
    recorded = state.load(family)
    if recorded.run_config is None:
        raise DockervisorError(
            f"no run configuration is recorded for {family!r}; record one with "
            f"`dockervisor build {family} PATH` or `dockervisor pull {family} REFERENCE`"
        )
    source = _source(recorded)
    notified = recorded.notifications
    shown = [t.shown() for t in notified.targets] if notified else []  # a URL's path may be its token
    if as_json:
        print_json(ctx.stdout, {"image": family, "source": source, **_settings(family, recorded.run_config),
                                "notify": shown, "notify_on": notified.on if notified else None,
                                "release": _release(recorded), **_data(recorded),
                                "update": recorded.update.to_dict() if recorded.update else None})  # fmt: skip
        return EXIT_OK
    lines = [_origin(family, source), _overrides_line(source)]
    lines += [f"  {line}" for line in describe_config(recorded.run_config)]
    if notified and shown:
        lines.append(f"  notifies {', '.join(shown)} on {notified.on}")
    lines += [f"  {line}" for line in (recorded.release.describe() if recorded.release else [])]
    lines += [f"  {line}" for line in (recorded.update.describe() if recorded.update else [])]
    lines += [f"  {line}" for line in _defaults_in_effect(recorded)]
    print("\n".join(lines), file=ctx.stdout, flush=True)
    return EXIT_OK


def _defaults_in_effect(recorded: state.FamilyState) -> list[str]:
    """What applies without a key: said too, so that `config` shows everything in effect."""
    config = recorded.run_config
    assert config is not None
    data = _data(recorded)
    lines = [] if config.options.restart else ["restarts unless-stopped (docker's restart policy; the default)"]
    kept = "every stopped container" if config.keep is None else f"{config.keep} stopped containers"
    lines.append(f"prune keeps {kept} besides last and stable")
    snapshot = "takes a snapshot of the data" if data["snapshot"] else "takes no snapshot (unless --snapshot)"
    lines.append(f"start new {snapshot}; {data['snapshots_keep']} snapshots are kept")
    return lines


def _data(recorded: state.FamilyState) -> dict[str, object]:
    """The data policy in effect: the family's, or the defaults."""
    from dockervisor.config.datapolicy import DataPolicy

    return (recorded.data or DataPolicy()).to_dict()


def _release(recorded: state.FamilyState) -> dict[str, object] | None:
    """The release step's settings, as recorded."""
    return recorded.release.to_dict() if recorded.release else None


def _source(family: state.FamilyState) -> dict[str, object]:
    build = family.build
    kind = "pull" if build.get("source") == "pull" else "build"
    return {
        "kind": kind,
        "context": build.get("context"),
        "dockerfile": build.get("dockerfile"),
        "reference": build.get("reference"),
        "digest": build.get("digest"),
        "image_id": build.get("image_id"),
        "recorded_at": build.get("pulled_at" if kind == "pull" else "built_at"),
        "overrides_file": build.get("overrides_file", build.get("overrides")),
        "overrides_sha256": build.get("overrides_sha256"),
        "config_changed": provenance.config_changed(family),
        "overrides_change": provenance.overrides_change(family),
        "apply": provenance.apply_command(family),
    }


def _settings(family: str, config: RunConfig) -> dict[str, object]:
    options = config.options
    return {
        "ports": [
            {"address": p.address, "host": p.host, "container": p.container, "protocol": p.protocol}
            for p in config.ports
        ],
        "mounts": [
            {"source": m.source, "target": m.target, "read_only": m.read_only,
             "type": "bind" if m.is_host_directory else "volume"}
            for m in config.mounts
        ],  # fmt: skip
        **options.settings(family),
        "env": sorted(config.env),  # names only: values may be secrets
        "env_file": config.env_file,
        "keep": keep_to_json(config.keep),  # the defaults too: what is in effect
    }


def _origin(family: str, source: dict[str, object]) -> str:
    image_id = short_id(str(source["image_id"])) if source["image_id"] else "unknown image"
    when = f" at {source['recorded_at']}" if source["recorded_at"] else ""
    if source["kind"] == "pull":
        return f"{family}: pulled from {source['reference']}{when} ({image_id})"
    return f"{family}: built from {source['dockerfile'] or source['context']}{when} ({image_id})"


def _overrides_line(source: dict[str, object]) -> str:
    path = source["overrides_file"]
    if not path:
        return "overrides: none"
    if source["overrides_change"] is None:
        unchanged = "as recorded" if source["overrides_sha256"] else "no file then, none now"
        return f"overrides: {path} ({unchanged})"
    return f"overrides: {path} {source['overrides_change']} since; run `{source['apply']}` to apply it"


# --from-compose ------------------------------------------------------------------


def from_compose(ctx: Context, family: str, path: str, service: str, output: str | None, partial: bool) -> int:
    """Write (to `output`, or stdout) the dcv-IMAGENAME equivalent of one
    Compose service, saying what it could not carry over; nothing is written
    when something could not be, unless `partial`."""
    import json
    import os

    from dockervisor.config import compose
    from dockervisor.config.overrides import parse_overrides

    try:
        picked = compose.service_of(_compose_document(ctx, path), service)
    except ValueError as error:
        raise DockervisorError(f"{path}: {error}") from None
    converted = compose.convert(picked)
    for key, why in converted.dropped:
        ctx.info(f"{key}: left out: {why}")
    for key, why in converted.not_carried:
        ctx.info(f"{key}: not carried over: {why}")
    # Checked as build will check it, relative paths beside the Compose file.
    try:
        parse_overrides(converted.document, os.path.join(os.path.dirname(os.path.abspath(path)), f"dcv-{family}"))
    except DockervisorError as error:
        refused = error.message.split(": ", 1)[-1]  # without the would-be file's path
        raise DockervisorError(f"{path}: service {service!r} converts to a setting dockervisor refuses: {refused}") from None
    if converted.not_carried and not partial:
        raise DockervisorError(
            f"{path}: {len(converted.not_carried)} setting(s) of service {service!r} cannot be carried over "
            "(listed above); nothing was written. --partial writes the rest"
        )
    text = json.dumps(converted.document, indent=2) + "\n"
    if output is None:
        ctx.stdout.write(text)
        ctx.stdout.flush()
        return EXIT_OK
    try:
        with open(output, "x", encoding="utf-8") as handle:  # never over a file of the admin's
            handle.write(text)
    except FileExistsError:
        raise DockervisorError(f"{output} exists; dockervisor will not overwrite it") from None
    except OSError as error:
        raise DockervisorError(f"{output}: cannot write it: {error.strerror}") from None
    ctx.info(f"wrote {output}: {len(converted.document)} setting(s) of service {service!r}")
    return EXIT_OK


def _compose_document(ctx: Context, path: str) -> object:
    """The Compose file as JSON: read as it is, or (YAML) through `docker
    compose config --format json` where the compose plugin is installed."""
    import json

    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise DockervisorError(f"{path}: cannot read it: {error}") from None
    try:
        return json.loads(text)
    except ValueError:
        pass
    from dockervisor.engine.argv import compose_config

    result = ctx.docker.query(compose_config(path), check=False)
    if result.ok:
        try:
            return json.loads(result.stdout)
        except ValueError:
            pass
    if "unknown command" in result.stderr or "is not a docker command" in result.stderr:
        raise DockervisorError(
            f"{path} is not JSON, and the docker compose plugin, which would read YAML, is not installed: "
            "install it, or give the file as JSON"
        )
    raise DockervisorError(f"{path}: neither JSON nor read by `docker compose config`: {result.stderr.strip()}")
