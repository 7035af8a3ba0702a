"""`dockervisor build IMAGENAME [PATH] [-f DOCKERFILE] [docker build options]`."""

from __future__ import annotations

import os
import re
import time

from dockervisor.config import runconfig
from dockervisor.store import provenance
from dockervisor.engine import argv as docker_argv, query
from dockervisor.store import state
from dockervisor.flows.context import Context
from dockervisor.core.errors import EXIT_OK, EXIT_USAGE, DockervisorError
from dockervisor.store.history import Entry
from dockervisor.config.overrides import Overrides, load_overrides, overrides_file_for
from dockervisor.core.timefmt import iso_utc


# Docker's build stage names, and platform strings such as linux/arm64/v8.
_STAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_PLATFORM = re.compile(r"[a-z0-9][a-z0-9_./-]*(?:,[a-z0-9][a-z0-9_./-]*)*")


class BuildOptions:
    """The docker build flags dockervisor passes through, checked first."""

    __slots__ = ("build_args", "no_cache", "pull", "target", "platform", "quiet")

    def __init__(
        self,
        build_args: list[str] | None = None,
        no_cache: bool = False,
        pull: bool = False,
        target: str | None = None,
        platform: str | None = None,
        quiet: bool = False,
    ) -> None:
        self.build_args = build_args or []
        self.no_cache = no_cache
        self.pull = pull
        self.target = target
        self.platform = platform
        self.quiet = quiet

    def flags(self) -> list[str]:
        from dockervisor.config.overrides import ENV_KEY

        flags: list[str] = []
        for pair in self.build_args:
            key, separator, value = pair.partition("=")
            if not ENV_KEY.fullmatch(key):
                raise DockervisorError("--build-arg takes KEY=VALUE or KEY with a valid KEY", EXIT_USAGE)
            if not separator and key not in os.environ:
                raise DockervisorError(f"--build-arg {key}: {key} is not set in the environment", EXIT_USAGE)
            flags += ["--build-arg", pair]  # KEY alone: docker takes it from the environment
        for flag, value, pattern in (("--target", self.target, _STAGE), ("--platform", self.platform, _PLATFORM)):
            if value is not None:
                if not pattern.fullmatch(value):
                    raise DockervisorError(f"{flag}: {value!r} is not a valid value", EXIT_USAGE)
                flags += [flag, value]
        flags += ["--no-cache"] * self.no_cache + ["--pull"] * self.pull + ["--quiet"] * self.quiet
        return flags


def build(
    ctx: Context,
    family: str,
    context_dir: str,
    dockerfile: str | None,
    options: BuildOptions | None = None,
) -> int:
    options = options or BuildOptions()
    flags = options.flags()
    context_dir = os.path.abspath(context_dir)
    if not os.path.isdir(context_dir):
        raise DockervisorError(f"build context {context_dir} is not a directory")
    dockerfile_path = os.path.abspath(dockerfile or os.path.join(context_dir, "Dockerfile"))
    if not os.path.isfile(dockerfile_path):
        raise DockervisorError(f"no Dockerfile at {dockerfile_path}")
    # Checked before building: a mistake in the overrides costs no build.
    overrides_path = overrides_file_for(dockerfile_path, family)
    overrides = load_overrides(overrides_path)
    if overrides and overrides.swarm and not overrides.swarm.registry:
        raise DockervisorError(f"{overrides_path}: swarm: registry: where build pushes {family}'s image, so "
                               "that every node pulls it, is needed (\"registry\": \"HOST:PORT\")")  # fmt: skip

    with ctx.family_change(family, "build", creates=True) as entry:
        recorded = state.load(family)  # a damaged state file stops us before docker runs
        ctx.docker.stream(
            docker_argv.build(family, context_dir, dockerfile_path if dockerfile else None, flags),
            quiet=options.quiet,
        )
        if ctx.dry_run:
            return EXIT_OK
        source = {"source": "build", "context": context_dir, "dockerfile": dockerfile_path}
        source.update(provenance.record(overrides_path, overrides.sha256 if overrides else None))
        config = record_image(ctx, recorded, entry, overrides, "built", source)
        if recorded.swarm is not None:  # every node pulls it from the registry, by digest
            from dockervisor.flows.servicestarts import push

            recorded.build["pinned"] = entry.digest = push(ctx, recorded)
            ctx.save(recorded)
    print(recorded.build["image_id"], file=ctx.stdout, flush=True)  # the result; the log went to stderr
    if not options.quiet:
        report(ctx, f"built {family} ({short_id(str(recorded.build['image_id']))})", config, overrides)
    return EXIT_OK


def record_image(
    ctx: Context,
    family: state.FamilyState,
    entry: Entry,
    overrides: Overrides | None,
    done: str,
    source: dict[str, str | None],
) -> runconfig.RunConfig:
    """Record the run configuration of the image the family's tag now names,
    and where it came from (`source`): what build and pull share. `done` is
    what happened to the image ("built", "pulled"), for the time and errors."""
    image = family.image
    document = query.require_image(ctx.docker, image)
    config = runconfig.resolve(image, document.get("Config") or {}, overrides)
    entry.image_id = document["Id"]
    family.run_config = config
    family.data = overrides.data if overrides else None  # snapshot, snapshots_keep
    family.notifications = overrides.notifications if overrides else None  # notify, notify_on
    family.release = overrides.release if overrides else None  # release, release_timeout...
    family.update = overrides.update if overrides else None  # update: cooldown, allow
    was_a_service = family.swarm is not None and family.service is not None and family.service.image is not None
    family.swarm = overrides.swarm if overrides else None  # a Swarm service
    if family.swarm is not None or was_a_service:
        from dockervisor.flows.servicestarts import refuse_at_build

        why = refuse_at_build(ctx, family, config, was_a_service)
        if why:
            raise DockervisorError(f"{why}; nothing was recorded")
    family.build = {
        **source,
        "overrides": overrides.path if overrides else None,
        "image_id": document["Id"],
        f"{done}_at": iso_utc(time.time()),
    }
    try:
        ctx.save(family)
    except DockervisorError as error:
        raise DockervisorError(
            f"{done} {image} ({short_id(document['Id'])}) and docker tagged it, but its "
            f"run configuration was not recorded, so `start new` would use the previous "
            f"one: {error.message}; fix that and run this command again"
        ) from None
    return config


def report(ctx: Context, done: str, config: runconfig.RunConfig, overrides: Overrides | None) -> None:
    ctx.info(done)
    for line in describe_config(config):
        ctx.info(f"  {line}")
    for line in overrides.release.describe() if overrides and overrides.release else []:
        ctx.info(f"  {line}")
    for line in overrides.update.describe() if overrides and overrides.update else []:
        ctx.info(f"  {line}")
    if overrides:
        ctx.info(f"  overrides from {overrides.path}")


def short_id(image_id: str) -> str:
    return image_id.split(":", 1)[-1][:12]


def describe_config(config: runconfig.RunConfig) -> list[str]:
    lines = [f"publishes host {p.host_binding()} -> {p.container}/{p.protocol}" for p in config.ports]
    lines += [f"mounts {m.source} at {m.target}{' read-only' if m.read_only else ''}" for m in config.mounts]
    if config.env_file:
        lines.append(f"reads environment from {config.env_file}")
    if config.env:
        lines.append(f"sets environment {', '.join(sorted(config.env))}")
    return (lines or ["publishes no ports and mounts no volumes"]) + config.options.describe()
