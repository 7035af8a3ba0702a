"""The verbs for the shell around dockervisor: completion."""

from __future__ import annotations

TYPE_CHECKING = False  # `typing` costs milliseconds at start-up; checkers see True
if TYPE_CHECKING:
    import argparse

    from dockervisor.cli.parsing import Parser


def declare_completion(p: Parser) -> None:
    p.describe(
        "print a bash or zsh completion script",
        "  source <(dockervisor completion bash)        (in ~/.bashrc)\n"
        "  dockervisor completion zsh > \"${fpath[1]}/_dockervisor\"\n\n"
        "install.sh installs both where bash-completion and zsh look.",
    )
    p.add_argument("shell", choices=("bash", "zsh"), help="the shell")
    p.set_defaults(handler=run_completion)


def run_completion(args: argparse.Namespace) -> int:
    from dockervisor.cli.completion import script

    print(script(args.shell), end="")
    return 0
