"""`dockervisor timer IMAGENAME [--on-calendar SPEC] [--install [--unit-dir DIR]]`:
the systemd service and timer that run `dockervisor update IMAGENAME` on a
schedule, and the crontab line that does the same on a host without systemd.

Printed by default; `--install` writes the two units where systemd looks
(/etc/systemd/system for root, ~/.config/systemd/user otherwise) and says
how to enable them: a timer that upgrades production is switched on by the
admin, not as a side effect. The units carry the environment dockervisor
needs under systemd or `env -i` (HOME, PATH, and DOCKERVISOR_HOME,
DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG where set), never a secret:
DOCKERVISOR_NOTIFY is left out (the family's `notify` in dcv-IMAGENAME is
recorded in its state).
"""

from __future__ import annotations

import os
import re
import shlex
import sys

from dockervisor.core.errors import EXIT_OK, DockervisorError

DEFAULT_CALENDAR = "*-*-* 04:17:00"
CARRIED = ("DOCKERVISOR_HOME", "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG")
_MARK = "# Written by `dockervisor timer`; `dockervisor timer --install` rewrites it."
_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What systemd.time(7) calendar specs are made of; no newline, quote or `%`.
_CALENDAR = re.compile(r"[A-Za-z0-9*:,./~+ -]{1,100}")
_SIMPLE = {"hourly": "0 * * * *", "daily": "0 0 * * *", "weekly": "0 0 * * 1", "monthly": "0 0 1 * *"}


def unit_name(family: str) -> str:
    return f"dockervisor-update-{family}"


def command(program: str, family: str, context_flags: tuple[str, ...]) -> list[str]:
    return [check_word(word, "the command") for word in (program, *context_flags, "update", family)]


def environment(environ: dict[str, str], home: str) -> dict[str, str]:
    """What the job needs of this shell's environment, and nothing else."""
    carried = {"HOME": home, "PATH": _PATH}
    carried.update({key: environ[key] for key in CARRIED if environ.get(key)})
    for key, value in carried.items():
        check_word(value, key)
    return carried


def check_word(value: str, what: str) -> str:
    """A value written into a unit file and a crontab line: nothing that
    could end the line, close a quote or start an escape there."""
    if re.search(r'[\x00-\x1f\x7f"\\$`]', value):
        raise DockervisorError(f"{what} holds a control character, a quote, a backslash, $ or `, which the "
                               "units and the crontab line would not carry safely; set it plainly and run "
                               "this again")  # fmt: skip
    return value


def check_calendar(spec: str) -> str:
    if not _CALENDAR.fullmatch(spec) or spec != spec.strip():
        raise DockervisorError(f"--on-calendar: {spec[:60]!r} is not a systemd calendar spec such as "
                               f"\"daily\" or \"{DEFAULT_CALENDAR}\"")  # fmt: skip
    return spec


def cron_schedule(spec: str) -> str | None:
    """The crontab schedule of a calendar spec, where there is a plain one."""
    if spec in _SIMPLE:
        return _SIMPLE[spec]
    match = re.fullmatch(r"(?:\*-\*-\* )?([0-9]{1,2}):([0-9]{2})(?::00)?", spec)
    if match and int(match[1]) < 24 and int(match[2]) < 60:
        return f"{int(match[2])} {int(match[1])} * * *"
    return None


def service_unit(family: str, argv: list[str], env: dict[str, str]) -> str:
    lines = [
        _MARK, "[Unit]", f"Description=dockervisor update {family}",
        "Wants=network-online.target", "After=network-online.target docker.service", "",
        "[Service]", "Type=oneshot",
        *(f"Environment={_quoted(f'{key}={value}')}" for key, value in env.items()),
        f"ExecStart={' '.join(_quoted(word) for word in argv)}",
        # A start waits, a release step and a probation may run: an hour, not forever.
        "TimeoutStartSec=1h", "",
    ]  # fmt: skip
    return "\n".join(lines)


def timer_unit(family: str, spec: str) -> str:
    lines = [
        _MARK, "[Unit]", f"Description=dockervisor update {family} on a schedule", "",
        "[Timer]", f"OnCalendar={spec}", "RandomizedDelaySec=10m", "Persistent=true", "",
        "[Install]", "WantedBy=timers.target", "",
    ]  # fmt: skip
    return "\n".join(lines)


def crontab_line(spec: str, argv: list[str], env: dict[str, str]) -> str:
    schedule = cron_schedule(spec)
    words = ["env", "-i", *(f"{key}={value}" for key, value in env.items()), *argv]
    # cron makes a bare % a newline; \% is a %, quoted or not.
    line = f"{schedule or 'M H * * *'} {shlex.join(words).replace('%', chr(92) + '%')}"
    return line if schedule else f"# {spec!r} has no plain crontab equivalent: set M H yourself\n# {line}"


def _quoted(word: str) -> str:
    """A word of a unit file line: quoted when it has a space, `%` doubled."""
    word = word.replace("%", "%%")
    return f'"{word}"' if re.search(r"[\s\"'\\;]", word) else word


def timer(family: str, spec: str, install: bool, unit_dir: str | None, context_flags: tuple[str, ...],
          stdout, stderr) -> int:  # type: ignore[no-untyped-def]  # fmt: skip
    check_calendar(spec)
    _require_followed(family)
    argv = command(_program(), family, context_flags)
    env = environment(dict(os.environ), os.path.expanduser("~"))
    name = unit_name(family)
    units = {f"{name}.service": service_unit(family, argv, env), f"{name}.timer": timer_unit(family, spec)}
    if not install:
        for file_name, text in units.items():
            print(f"# {file_name}\n{text}", file=stdout)
        print(f"# crontab line (`crontab -e`), for a host without systemd:\n{crontab_line(spec, argv, env)}", file=stdout)
        return EXIT_OK
    user = os.geteuid() != 0
    directory = unit_dir or ("/etc/systemd/system" if not user else os.path.expanduser("~/.config/systemd/user"))
    written = [_write_unit(os.path.join(directory, file_name), text) for file_name, text in units.items()]
    for temporary, path in written:  # both written before either is in place: never one unit alone
        os.replace(temporary, path)
        print(path, file=stdout)
    systemctl = "systemctl --user" if user else "systemctl"
    print(f"dockervisor: installed; switch it on with `{systemctl} daemon-reload && {systemctl} enable --now "
          f"{name}.timer`", file=stderr)  # fmt: skip
    return EXIT_OK


def _require_followed(family: str) -> None:
    """Units for a family `update` cannot follow would fail every night: refused now."""
    from dockervisor.flows.updates import reference_of
    from dockervisor.store import state

    if not state.family_exists(family):
        raise state.unknown_family(family)
    reference_of(state.load(family))  # says why it follows nothing, and what to do


def _program() -> str:
    """This dockervisor's own path, as a job started by systemd or cron finds it."""
    import shutil

    here = os.path.abspath(sys.argv[0]) if os.path.basename(sys.argv[0]) == "dockervisor" else None
    found = here if here and os.access(here, os.X_OK) else shutil.which("dockervisor")
    if not found:
        raise DockervisorError("cannot tell where dockervisor is installed (not on PATH); install it with install.sh")
    return os.path.abspath(found)


def _write_unit(path: str, text: str) -> tuple[str, str]:
    """Write one unit beside its place, if that place holds nothing or a unit
    this command wrote; (the written file, its place)."""
    try:
        with open(path, encoding="utf-8") as handle:
            if not handle.readline().startswith(_MARK):
                raise DockervisorError(f"{path} exists and was not written by dockervisor; move it aside first")
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as error:
        raise DockervisorError(f"{path}: cannot read it: {error}") from None
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)  # systemd reads it; it holds no secret
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise DockervisorError(f"{path}: cannot write it: {error.strerror}") from None
    return temporary, path
