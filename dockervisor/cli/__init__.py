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
from dockervisor.errors import EXIT_FAILED, EXIT_USAGE, DockervisorError

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


# Verbs that change nothing: when their reader goes away they stop, quietly.
_READ_ONLY = {"status", "list", "history", "config", "snapshots", "completion", "logs"}


def main(argv: list[str] | None = None) -> int:
    from dockervisor import streams

    out, err, put_back = streams.guard()
    try:
        try:
            code = _main(sys.argv[1:] if argv is None else list(argv), out, err)
        except SystemExit:  # argparse's --help and usage errors: flushed here, not at exit
            out.flush()
            err.flush()
            if out.strict and (out.gone or err.gone):  # argparse drops a failed write
                return streams.EXIT_PIPE_CLOSED
            raise
        out.flush()
        err.flush()
        return code
    except streams.ReaderGone:
        return streams.EXIT_PIPE_CLOSED
    finally:
        put_back()


def _main(args_list: list[str], out: object, err: object) -> int:
    from dockervisor import streams

    rest = split_global_options(args_list)[1]
    # Until the verb is known to change something, a closed reader ends the run.
    out.strict = err.strict = True  # type: ignore[attr-defined]
    if args_list == ["--version"]:  # answered before argparse loads: cron and scripts ask often
        print(f"dockervisor {__version__}")
        return 0
    from dockervisor.cli import parsing

    global_contexts = split_global_options(args_list)[0]
    if rest and rest[0] in VERBS:
        args = parsing.parse_verb(rest)
    else:
        args = parsing.parse_top(args_list)
    if not hasattr(args, "handler"):
        parsing.top_parser(args_list).print_help(sys.stderr)
        return EXIT_USAGE
    read_only = rest[0] in _READ_ONLY or (rest[0] == "stable" and args.words[:1] == ["show"])
    out.strict = err.strict = read_only  # type: ignore[attr-defined]
    args.contexts = global_contexts + (getattr(args, "contexts", None) or [])
    args.command_line = redacted_command_line(args_list)
    from dockervisor import fleet, signals

    restore = signals.install()
    try:
        return fleet.run(args, rest[0])
    except DockervisorError as error:
        from dockervisor.output import printable_lines

        message = printable_lines(redact_message(error.message, args_list))
        print(f"dockervisor: error: {message}", file=sys.stderr, flush=True)
        return error.exit_code
    except KeyboardInterrupt as interruption:  # SIGINT, SIGTERM, SIGHUP: see signals.py
        signum = getattr(interruption, "signum", 2)
        print(f"dockervisor: interrupted by {signals.signal_name(signum)}", file=sys.stderr)
        return 128 + signum
    except streams.ReaderGone:
        raise
    except Exception as bug:  # a bug: its traceback, after any rollback it needed
        import traceback

        traceback.print_exc(file=sys.stderr)
        return getattr(bug, "dockervisor_exit_code", EXIT_FAILED)
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
    "--overrides", "--context", "--output", "--parallel", "--target", "--platform", "--container",
)  # fmt: skip
# Options whose value is KEY=VALUE, or KEY alone: the name of a variable, shown.
_KEY_OPTIONS = ("--env", "--build-arg")


def redacted_command_line(argv: list[str]) -> str:
    """The command as typed, for the history and the lock, with values hidden."""
    import shlex

    return shlex.join(["dockervisor", *(redact(word) for word in argv)])


def redact(word: str) -> str:
    """Hide what follows `=` in any word that may carry a value: `--env K=V`,
    `-eK=V`, `--env=K=V`, a mistyped `--envv=V` or `--envv K=V`, a stray
    `K=V`. Only the values of options known to hold none are kept, and the
    names of variables (`--env=KEY`)."""
    if "=" not in word:
        return word
    option, _, value = word.partition("=")
    if option in _PLAIN_OPTIONS:
        return word
    if option.startswith("--"):
        key, separator, _ = value.partition("=")
        if separator:
            return f"{option}={key}=***"
        return word if option in _KEY_OPTIONS else f"{option}=***"
    return f"{option}=***"


def redact_message(message: str, argv: list[str], known: object = ()) -> str:
    """A message that may quote words of the command line, with their values
    hidden: argparse quotes a refused word, or only its value (`ignored
    explicit argument 'TOKEN=x'`), and lists unrecognized ones. A word after
    an option that is not `known` (a mistyped `--envv S3CRET`) is hidden too."""
    for index, word in enumerate(argv):
        hidden = redact(word)
        if hidden != word:
            message = message.replace(word, hidden).replace(repr(word)[1:-1], hidden)
            value, shown = word.partition("=")[2], hidden.partition("=")[2]
            if value and value != shown:
                message = message.replace(repr(value), repr(shown))
        following = argv[index + 1] if index + 1 < len(argv) else ""
        mistyped = word.startswith("-") and word not in known and word not in _PLAIN_OPTIONS  # type: ignore[operator]
        if mistyped and "=" not in word and following[:1] not in ("", "-"):
            message = message.replace(f"{word} {following}", f"{word} ***")
    return message
