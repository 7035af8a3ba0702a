"""What docker said, made fit for a message: a command's short name, the
first meaningful line of its error, and whether it said a phrase. Pure."""

from __future__ import annotations


def command_name(argv: list[str]) -> str:
    """A short name for a docker command in messages: `docker ps`, `docker stop
    NAME`, `docker run (dcv_app_...)`; never its format template or values."""
    words = []
    for word in argv:
        if word.startswith("-"):
            break
        words.append(word)
    text = " ".join(words[:4]) + (" ..." if len(words) > 4 else "")
    if "--name" in argv[:-1]:
        text += f" ({argv[argv.index('--name') + 1]})"
    return text


def first_line(text: str) -> str:
    """Docker's first meaningful line: no blank lines, no "Run 'docker --help'"."""
    from dockervisor.core.output import printable

    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("Run 'docker", "See 'docker")):
            return printable(line)
    return ""


def docker_said(text: str, *phrases: str) -> bool:
    """Whether docker's message holds one of `phrases`, whatever their case:
    engines and clients of other versions word the same error differently
    ("No such volume" from the client, "no such volume" from engine 20.10)."""
    lowered = text.lower()
    return any(phrase.lower() in lowered for phrase in phrases)
