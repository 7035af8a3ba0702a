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
from dockervisor.core.redaction import redact, redact_message, redacted_command_line
from dockervisor.cli.verbs import VERBS
from dockervisor.core.errors import EXIT_FAILED, EXIT_USAGE, DockervisorError

# The package's face, for `dockervisor.cli:main` and the tests.
__all__ = ["VERBS", "main", "redact", "redact_message", "redacted_command_line", "split_global_options"]



# Verbs that change nothing: when their reader goes away they stop, quietly.
_READ_ONLY = {"status", "list", "history", "config", "snapshots", "completion", "logs", "check", "timer"}


def main(argv: list[str] | None = None) -> int:
    from dockervisor.core import streams

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
    except streams.ReaderGone as gone:
        return gone.exit_code
    finally:
        put_back()


def _main(args_list: list[str], out: object, err: object) -> int:
    from dockervisor.core import streams

    global_contexts, rest = split_global_options(args_list)
    # Until the verb is known to change something, a closed reader ends the run.
    out.strict = err.strict = True  # type: ignore[attr-defined]
    if args_list == ["--version"]:  # answered before argparse loads: cron and scripts ask often
        print(f"dockervisor {__version__}")
        return 0
    from dockervisor.cli import parsing

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
    args.argv = args_list  # for redacting a usage error a handler raises on one of several engines
    from dockervisor.core import signals

    restore = signals.install()
    reason: str | None = None
    code = EXIT_FAILED
    try:
        question = rest[0] == "stable" and args.words[:1] == ["show"]  # its own --json, no outcome
        if getattr(args, "outcome", False) and not question:  # a change whose outcome is reported: flows/reporting.py
            from dockervisor.flows.reporting import Reporting

            from dockervisor.cli.outcome import name

            args.reporting = Reporting.from_command_line(
                getattr(args, "json", False) and args.outcome_json, args.notify, args.notify_on
            )
            name(args.reporting, args, rest[0])
        code = _dispatch(args, rest[0])
        return code
    except DockervisorError as error:
        from dockervisor.core.output import printable_lines

        # A usage error may quote a word typed where a name goes (`start TOKEN=x`);
        # other messages quote paths and lock holders, which stay as they are.
        said = redact_message(error.message, args_list) if error.exit_code == EXIT_USAGE else error.message
        message = printable_lines(said)
        print(f"dockervisor: error: {message}", file=sys.stderr, flush=True)
        code, reason = error.exit_code, said
        return code
    except KeyboardInterrupt as interruption:  # SIGINT, SIGTERM, SIGHUP: see signals.py
        signum = getattr(interruption, "signum", 2)
        print(f"dockervisor: interrupted by {signals.signal_name(signum)}", file=sys.stderr)
        code, reason = 128 + signum, f"interrupted by {signals.signal_name(signum)}"
        return code
    except streams.ReaderGone:
        raise
    except Exception as bug:  # a bug: its traceback, after any rollback it needed
        import traceback

        traceback.print_exc(file=sys.stderr)
        code, reason = getattr(bug, "dockervisor_exit_code", EXIT_FAILED), f"internal error: {type(bug).__name__}"
        return code
    finally:
        if getattr(args, "reporting", None) is not None:
            from dockervisor.cli.outcome import report

            try:
                report(args, code, reason)
            except streams.ReaderGone:
                pass  # a changing verb's output is dropped, never its exit code
            except Exception as bug:  # the command's outcome stands; only its report failed
                print(f"dockervisor: warning: the outcome could not be reported: {type(bug).__name__}: {bug}",
                      file=sys.stderr, flush=True)  # fmt: skip
        restore()


def _dispatch(args: object, verb: str) -> int:
    """Straight to the verb on its engine; the fleet only when several are named."""
    from dockervisor.cli.verbs import ENGINELESS

    if verb in ENGINELESS:
        return int(args.handler(args))  # type: ignore[attr-defined]
    from dockervisor.engine import contexts
    from dockervisor.flows.adoption import adopt_round_one
    from dockervisor.store import paths

    names = contexts.split_names(args.contexts)  # type: ignore[attr-defined]
    engines = contexts.resolve(names)
    adopt_round_one(names, engines, sys.stderr)
    if len(engines) > 1:
        from dockervisor.flows import fleet

        _refuse_several_for_services(args, verb, engines)
        return fleet.run(args, verb, engines)  # type: ignore[arg-type]
    args.engine = engines[0]  # type: ignore[attr-defined]
    with paths.engine_state(engines[0].key):
        from dockervisor.commands.swarmguard import CONTAINERS_ONLY

        if verb in CONTAINERS_ONLY:
            from dockervisor.commands.swarmguard import refuse_services

            named = getattr(args, "images", None) or [getattr(args, "image", None)]
            refuse_services(verb, [f for f in named if isinstance(f, str)])
        return int(args.handler(args))  # type: ignore[attr-defined]


def _refuse_several_for_services(args: object, verb: str, engines: list) -> None:
    """One swarm is one engine: a Swarm family on several contexts (managers
    of one swarm, each updating the same service) is refused."""
    from dockervisor.commands.swarmguard import is_a_service
    from dockervisor.config.names import is_image_name
    from dockervisor.store import paths

    words = getattr(args, "words", None) or []
    named = [getattr(args, "image", None), *(getattr(args, "images", None) or []), *words]
    families = [f for f in named if isinstance(f, str) and is_image_name(f)]
    for engine in engines:
        with paths.engine_state(engine.key):
            for family in families:
                if is_a_service(family):
                    raise DockervisorError(
                        f"{family} runs as a Swarm service on {engine.name}: a swarm is one engine, reached "
                        "through one manager; name that context alone", EXIT_USAGE,
                    )  # fmt: skip


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
