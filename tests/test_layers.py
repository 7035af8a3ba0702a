"""The package's layers look only down, and no import makes a circle.

    core < config < engine, store < flows < commands < cli

A module may import from its own layer or a lower one, type-only imports
(under `if TYPE_CHECKING:`) and imports inside functions included: each is a
dependency all the same. engine and store sit side by side and never import
each other. Within a layer, the imports between modules make no circle.
ARCHITECTURE.md says what each layer holds.

Shown failing, as it must: add `from dockervisor.commands import start` to
dockervisor/config/names.py and this test names the line:

    dockervisor/config/names.py:12 imports dockervisor.commands.start:
    config may import core, config; commands is above it
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "dockervisor"

# Each layer and the layers it may import (itself included).
MAY_IMPORT = {
    "core": {"core"},
    "config": {"core", "config"},
    "engine": {"core", "config", "engine"},
    "store": {"core", "config", "store"},
    "flows": {"core", "config", "engine", "store", "flows"},
    "commands": {"core", "config", "engine", "store", "flows", "commands"},
    "cli": {"core", "config", "engine", "store", "flows", "commands", "cli"},
}
# The package's face: the version, and `python3 -m dockervisor`.
TOP = {"dockervisor": "core", "dockervisor.__main__": "cli"}
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str | None:
    if module in TOP:
        return TOP[module]
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in MAY_IMPORT else None


def imports(path: Path) -> list[tuple[int, str]]:
    """Every dockervisor module `path` imports, at any depth of its code."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("dockervisor")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("dockervisor"):
            for alias in node.names:  # `from dockervisor.engine import argv` imports dockervisor.engine.argv
                candidate = f"{node.module}.{alias.name}"
                known = (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists()
                found.append((node.lineno, candidate if known else node.module))
    return found


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_is_in_a_layer() -> None:
    outside = [name for name in modules() if layer_of(name) is None]
    assert outside == [], f"modules in no layer's folder: {outside}"


def test_imports_only_look_down() -> None:
    problems = []
    for name, path in modules().items():
        mine = layer_of(name)
        for line, imported in imports(path):
            theirs = layer_of(imported)
            if mine and theirs and theirs not in MAY_IMPORT[mine]:
                allowed = ", ".join(sorted(MAY_IMPORT[mine], key=list(MAY_IMPORT).index))
                problems.append(
                    f"{path.relative_to(PACKAGE.parent)}:{line} imports {imported}: "
                    f"{mine} may import {allowed}; {theirs} is not below it"
                )
    assert problems == [], "\n".join(problems)


def test_no_import_circle() -> None:
    graph = {name: {imported for _, imported in imports(path) if imported in modules() and imported != name}
             for name, path in modules().items()}  # fmt: skip
    circles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for following in sorted(graph[name]):
            if state.get(following) == 1:
                circles.append(" -> ".join(path[path.index(following):] + [following]))
            elif following not in state:
                visit(following, [*path, following])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == [], "import circles:\n" + "\n".join(circles)


def test_modules_stay_readable() -> None:
    long = {name: lines for name, path in modules().items() if (lines := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"modules over {MAX_LINES} lines: {long}"
