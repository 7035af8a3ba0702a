"""Parse the command line and hand it to `commands/<verb>.py`.

The verbs are declared in groups (`lifecycle`, `observe`, `housekeeping`,
`data`, `shell`); a run builds the parser of the one verb typed, from its group
alone, and imports its command module only when it runs, to keep start-up
fast for cron. Options and positionals may come in any order after the verb,
as docker users type them (`start new --env A=b app`). The whole parser is
built only for the top-level help, an unknown verb, and the generators of
completion scripts and the man page.

`--context NAME` (repeatable, or `a,b`) comes before the verb, as for docker,
and is taken after it too; fleet.py runs the verb on each engine named.
"""

from __future__ import annotations

import sys

from dockervisor import __version__
from dockervisor.errors import EXIT_USAGE, DockervisorError

# verb -> (the module under dockervisor.cli that declares it, its summary)
VERBS = {
    "build": ("lifecycle", "build IMAGENAME from a Dockerfile and record how its containers run"),
    "pull": ("config", "make an image built elsewhere IMAGENAME's, and record how it runs"),
    "config": ("config", "how the family's new containers run, and where that came from"),
    "start": ("lifecycle", "start new|last|stable IMAGENAME, or a container of a family by name"),
    "stop": ("lifecycle", "stop the family's running container (nothing running: exit 0)"),
    "stable": ("lifecycle", "mark the running container stable, or show which one is"),
    "unlock": ("lifecycle", "break the engine's lock on a family, left by a client that was killed"),
    "status": ("observe", "one line per family: what runs, health, uptime, image, ports, marks"),
    "list": ("observe", "list the families, or one family's containers or images"),
    "history": ("observe", "every build, start, stop, stable mark and rollback of a family"),
    "logs": ("observe", "the logs of the family's running container (or of one of its containers)"),
    "exec": ("observe", "run a command in the family's running container"),
    "prune": ("housekeeping", "remove stopped containers beyond the newest N, and unused images"),
    "rm": ("housekeeping", "remove stopped containers of a family (never the running one)"),
    "forget": ("housekeeping", "retire a family: containers, images, state, history (not volumes)"),
    "backup": ("data", "one archive of every mount point of the family (its data)"),
    "restore": ("data", "make the family's data exactly an archive's (a backup or a snapshot)"),
    "snapshots": ("data", "the family's snapshots of its data, newest first"),
    "completion": ("shell", "print a bash or zsh completion script"),
}


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else list(argv)
    if args_list == ["--version"]:  # answered before argparse loads: cron and scripts ask often
        print(f"dockervisor {__version__}")
        return 0
    from dockervisor.cli import parsing

    global_contexts, rest = split_global_options(args_list)
    if rest and rest[0] in VERBS:
        args = parsing.parse_verb(rest)
    else:
        args = parsing.parse_top(args_list)
    if not hasattr(args, "handler"):
        parsing.top_parser(args_list).print_help(sys.stderr)
        return EXIT_USAGE
    args.contexts = global_contexts + (getattr(args, "contexts", None) or [])
    args.command_line = redacted_command_line(args_list)
    from dockervisor import fleet, signals

    restore = signals.install()
    try:
        return fleet.run(args, rest[0])
    except DockervisorError as error:
        # A stray K=V the user typed may be echoed back (`invalid container name 'K=V'`).
        print(f"dockervisor: error: {redact_message(error.message, args_list)}", file=sys.stderr, flush=True)
        return error.exit_code
    except KeyboardInterrupt as interruption:  # SIGINT, SIGTERM, SIGHUP: see signals.py
        signum = getattr(interruption, "signum", 2)
        print(f"dockervisor: interrupted by {signals.signal_name(signum)}", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        # The reader went away (`dockervisor history app | head`): not an error
        # worth a traceback. Point stdout at devnull so the final flush is quiet.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        restore()


def split_global_options(argv: list[str]) -> tuple[list[str], list[str]]:
    """`--context NAME` and `--context=NAME` before the verb, and the rest.
    Anything else before the verb is left for the top-level parser."""
    contexts: list[str] = []
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--context" and index + 1 < len(argv):
            contexts.append(argv[index + 1])
            index += 2
        elif word.startswith("--context="):
            contexts.append(word.partition("=")[2])
            index += 1
        else:
            break
    return contexts, argv[index:]


# Options whose values are never secret: shown as typed in the history.
_PLAIN_OPTIONS = (
    "--wait", "--settle", "--limit", "--file", "--env-file", "--keep", "--tail", "--since",
    "--overrides", "--context", "--output",
)  # fmt: skip


def redacted_command_line(argv: list[str]) -> str:
    """The command as typed, for the history and the lock, with values hidden."""
    import shlex

    return shlex.join(["dockervisor", *(redact(word) for word in argv)])


def redact(word: str) -> str:
    """Hide what follows `=` in any word that may carry a value: `--env K=V`,
    `-eK=V`, `--env=K=V`, a mistyped `--envv K=V`, a stray `K=V`. Only the
    values of options known to hold none are kept."""
    if "=" not in word:
        return word
    option, _, value = word.partition("=")
    if option in _PLAIN_OPTIONS:
        return word
    if option.startswith("--"):
        return f"{option}={_hide_value(value)}"
    return f"{option}=***"


def _hide_value(pair: str) -> str:
    key, separator, _ = pair.partition("=")
    return f"{key}=***" if separator else key


def redact_message(message: str, argv: list[str]) -> str:
    """argparse quotes the words it refuses; a refused word may hold a value."""
    for word in argv:
        hidden = redact(word)
        if hidden != word:
            message = message.replace(word, hidden).replace(repr(word)[1:-1], hidden)
    return message
