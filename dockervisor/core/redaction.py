"""Values hidden from the command line as the history, the lock and usage
errors show it: a value may be a secret (`--env TOKEN=...`)."""

from __future__ import annotations

# Options whose values are never secret: shown as typed in the history.
_PLAIN_OPTIONS = (
    "--wait", "--settle", "--limit", "--file", "--env-file", "--keep", "--tail", "--since",
    "--overrides", "--context", "--output", "--parallel", "--target", "--platform", "--container",
)  # fmt: skip
# Options whose value is KEY=VALUE, or KEY alone: the name of a variable, shown.
_KEY_OPTIONS = ("--env", "--build-arg")


# Options whose value is a notification target: a webhook's path is its token.
_TARGET_OPTIONS = ("--notify",)


def redacted_command_line(argv: list[str]) -> str:
    """The command as typed, for the history and the lock, with values hidden."""
    import shlex

    shown = []
    for index, word in enumerate(argv):
        option, equals, value = word.partition("=")
        if option in _TARGET_OPTIONS and equals:
            shown.append(f"{option}={target_shown(value)}")
        elif index and argv[index - 1] in _TARGET_OPTIONS:
            shown.append(target_shown(word))
        else:
            shown.append(redact(word))
    return shlex.join(["dockervisor", *shown])


def target_shown(target: str) -> str:
    """A notification target as messages name it (config/notifypolicy.py
    Target.shown, for text not yet checked): a URL's scheme and host, never
    its user, path or query; an exec's program, never its arguments."""
    kind, colon, rest = target.partition(":")
    if kind == "text":
        kind, colon, rest = rest.partition(":")
    if kind in ("http", "https") and rest.startswith("//"):
        host = rest[2:].split("/")[0].split("?")[0].split("#")[0].rpartition("@")[2]
        return f"{kind}://{host}/..."
    if kind == "exec":
        return f"exec:{rest.split()[0] if rest.split() else ''}"
    if kind == "mailto":
        return target
    return "***"


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
