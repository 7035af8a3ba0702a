"""The man page, dockervisor.1, generated from the parser.

    python3 -m dockervisor.manpage > dockervisor.1     (install.sh does this)
"""

from __future__ import annotations

import argparse
import sys

from dockervisor import __version__


def render() -> str:
    from dockervisor.cli import VERBS
    from dockervisor.cli.parsing import DESCRIPTION, QUICK_EXAMPLES, verb_parser
    from dockervisor.errors import exit_codes_help

    lines = [
        f'.TH DOCKERVISOR 1 "" "dockervisor {__version__}" "User Commands"',
        ".SH NAME",
        r"dockervisor \- manage Docker containers by image name, with upgrades you can undo",
        ".SH SYNOPSIS",
        r".B dockervisor",
        r"\fICOMMAND\fR [\fIoptions\fR] [\fIarguments\fR]",
        ".SH DESCRIPTION",
        _escape(" ".join(DESCRIPTION.split())),
        ".SH COMMANDS",
    ]
    for verb in VERBS:
        parser = verb_parser(verb)
        lines += [".SS " + _escape(verb), ".nf", _escape(parser.format_usage().strip()), ".fi"]
        lines.append(_escape(str(parser.description)))
        for action in parser._actions:  # argparse has no public listing of its arguments
            if action.help in (None, argparse.SUPPRESS) or "-h" in action.option_strings:
                continue
            name = ", ".join(action.option_strings) or str(action.metavar or action.dest)
            lines += [".TP", r"\fB" + _escape(name) + r"\fR", _escape(str(action.help))]
        if parser.epilog:
            lines += [".PP", ".nf", _escape(parser.epilog.split("\n\nexit codes:")[0]), ".fi"]
    examples, _, rest = QUICK_EXAMPLES.partition("\n\nfiles:")
    lines += [".SH EXAMPLES", ".nf", _escape(examples.removeprefix("examples:\n")), ".fi"]
    files, _, environment = rest.partition("\n\nenvironment:")
    lines += [".SH FILES", ".nf", _escape(files.strip("\n")), ".fi"]
    lines += [".SH ENVIRONMENT", ".nf", _escape(environment.strip("\n")), ".fi"]
    lines += [".SH EXIT STATUS", ".nf", _escape(exit_codes_help().removeprefix("exit codes:\n")), ".fi"]
    lines += [".SH SEE ALSO", r"\fBdocker\fR(1); the README of dockervisor."]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """Text for roff: backslashes doubled, and no line may start with a dot or quote."""
    escaped = text.replace("\\", r"\e").replace("-", r"\-")
    return "\n".join(r"\&" + line if line[:1] in (".", "'") else line for line in escaped.splitlines())


if __name__ == "__main__":
    sys.stdout.write(render())
