"""The man page, dockervisor.1, generated from the parser.

    python3 -m dockervisor.cli.manpage > dockervisor.1     (install.sh does this)
"""

from __future__ import annotations

import sys

from dockervisor import __version__


def render() -> str:
    from dockervisor.cli.parsing import DESCRIPTION
    from dockervisor.core.errors import exit_codes_help
    from dockervisor.cli.reference import argument_name, documented, split_epilog, top_level, verbs

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
    for verb, _, parser in verbs():
        lines += [".SS " + _escape(verb), ".nf", _escape(parser.format_usage().strip()), ".fi"]
        lines.append(_escape(str(parser.description)))
        for action in documented(parser):
            lines += [".TP", r"\fB" + _escape(argument_name(action)) + r"\fR", _escape(str(action.help))]
        if parser.epilog:
            lines += [".PP", ".nf", _escape(split_epilog(parser.epilog)[0]), ".fi"]
    examples, files, environment = top_level()
    lines += [".SH EXAMPLES", ".nf", _escape(examples), ".fi"]
    lines += [".SH FILES", ".nf", _escape(files), ".fi"]
    lines += [".SH ENVIRONMENT", ".nf", _escape(environment), ".fi"]
    lines += [".SH EXIT STATUS", ".nf", _escape(exit_codes_help().removeprefix("exit codes:\n")), ".fi"]
    lines += [".SH SEE ALSO", r"\fBdocker\fR(1); the README of dockervisor, and its docs/commands.md: this reference in Markdown."]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """Text for roff: backslashes doubled, and no line may start with a dot or quote."""
    escaped = text.replace("\\", r"\e").replace("-", r"\-")
    return "\n".join(r"\&" + line if line[:1] in (".", "'") else line for line in escaped.splitlines())


if __name__ == "__main__":
    sys.stdout.write(render())
