"""The documentation says what the code does: the command reference is the
parser's, the overrides page lists exactly the keys the code accepts, every
page is reachable from the README, and the README stays a front door."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dockervisor.cli import VERBS
from dockervisor.cli.parsing import parse_verb, verb_parser
from dockervisor.config.overrides import KNOWN_KEYS, parse_overrides
from dockervisor.cli.reference import markdown
from support import REPO

DOCS = REPO / "docs"
# Pages other work is writing at the same time: linked already, checked once they exist.
BEING_WRITTEN = {"shared-engines.md", "testing.md"}
README_MOST_LINES = 350


def section(page: str, heading: str) -> str:
    """The text under `heading` up to the next heading of its level or above."""
    level = heading.split(" ")[0]
    match = re.search(rf"^{re.escape(heading)}\n(.*?)(?=^#{{1,{len(level)}}} |\Z)", page, re.M | re.S)
    assert match, f"no section {heading!r}"
    return match.group(1)


# The command reference ----------------------------------------------------------


def test_the_command_reference_is_what_the_parser_generates() -> None:
    written = (DOCS / "commands.md").read_text()
    assert written == markdown(), "docs/commands.md is stale: run `python3 -m dockervisor.cli.reference > docs/commands.md`"


@pytest.mark.parametrize("verb", list(VERBS))
def test_every_option_and_its_help_is_in_the_verbs_section(verb: str) -> None:
    """Checked against the parser directly, not through the generator's own walk,
    so that a generator that drops an argument fails here."""
    text = " ".join(section((DOCS / "commands.md").read_text(), f"## {verb}").split()).replace("\\|", "|")
    parser = verb_parser(verb)
    assert " ".join(str(parser.description).split()) in text
    for action in parser._actions:
        if "-h" in action.option_strings:
            continue
        for option in action.option_strings:
            assert f"`{option}" in text or f" {option}" in text, f"{verb}: {option} is not in docs/commands.md"
        if action.help:
            assert " ".join(action.help.split()) in text, f"{verb}: the help of {action.dest} is not in docs/commands.md"


@pytest.mark.parametrize("verb", list(VERBS))
def test_the_usage_is_what_help_prints_at_80_columns(
    verb: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        parse_verb([verb, "--help"])
    usage = capsys.readouterr().out.split("\n\n")[0]
    assert usage.startswith(f"usage: dockervisor {verb}")
    assert f"```\n{usage}\n```" in section((DOCS / "commands.md").read_text(), f"## {verb}")


def test_generating_the_reference_is_no_part_of_running_a_command() -> None:
    """The generators build every verb's parser; a command builds only its own."""
    probe = (
        "import sys\n"
        "from dockervisor.cli import main\n"
        "try:\n    main(['stop', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('dockervisor')))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    modules = eval(loaded.stdout.splitlines()[-1])  # a list literal printed by the probe
    assert "dockervisor.cli.lifecycle" in modules  # the probe did build the verb's parser
    assert not {"dockervisor.cli.reference", "dockervisor.cli.manpage", "dockervisor.cli.completion"} & set(modules)


# The overrides keys ---------------------------------------------------------------


def documented_keys() -> list[str]:
    keys = section((DOCS / "overrides.md").read_text(), "### Keys")
    return re.findall(r"^- `([a-z_]+)`:", keys, re.M)


def test_the_overrides_page_describes_every_key_the_code_accepts_and_no_other() -> None:
    documented = documented_keys()
    assert len(documented) == len(set(documented)), f"a key is described twice: {documented}"
    assert sorted(documented) == sorted(KNOWN_KEYS)


def test_the_overrides_example_is_accepted_and_shows_every_key(tmp_path: Path) -> None:
    page = (DOCS / "overrides.md").read_text()
    example = re.search(r"```json\n(.*?)```", page, re.S)
    assert example, "docs/overrides.md lost its example"
    document = json.loads(example.group(1))
    assert sorted(document) == sorted(KNOWN_KEYS)
    # What its relative paths name, beside the file as they would be.
    (tmp_path / "site").mkdir()
    (tmp_path / "conf").mkdir()
    (tmp_path / "secrets.env").write_text("TOKEN=x\n")
    overrides = parse_overrides(document, str(tmp_path / "dcv-app"))
    assert overrides.options.memory == document["memory"] and overrides.keep == document["keep"]


def test_an_undocumented_key_is_refused() -> None:
    """KNOWN_KEYS is the gate the two tests above compare the page with."""
    from dockervisor.core.errors import DockervisorError

    with pytest.raises(DockervisorError, match="unknown key"):
        parse_overrides({"volumes_from": ["db"]}, "/nonexistent/dcv-app")


# Links and the README -------------------------------------------------------------


def pages() -> list[Path]:
    return [REPO / "README.md", REPO / "ARCHITECTURE.md", *sorted(DOCS.glob("*.md"))]


def anchors(page: Path) -> set[str]:
    """The anchors GitHub makes of a page's headings (outside code blocks)."""
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)
    headings = re.findall(r"^#+ (.*)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_relative_link_leads_to_a_file_and_its_heading() -> None:
    broken = []
    for page in pages():
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path = (page.parent / target).resolve() if target else page
            if path.name in BEING_WRITTEN and not path.exists():
                continue
            if not path.exists() or (anchor and path.suffix == ".md" and anchor not in anchors(path)):
                broken.append(f"{page.relative_to(REPO)}: {target}#{anchor}")
    assert not broken


@pytest.mark.parametrize("index", ["README.md", "docs/README.md"])
def test_every_docs_page_is_linked_from_the_readme_and_the_index(index: str) -> None:
    text = (REPO / index).read_text()
    prefix = "docs/" if index == "README.md" else ""
    names = {page.name for page in DOCS.glob("*.md") if page.name != "README.md"} | BEING_WRITTEN
    missing = [name for name in sorted(names) if f"]({prefix}{name})" not in text]
    assert not missing


def test_the_readme_is_a_front_door() -> None:
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= README_MOST_LINES
    for part in ("## Install", "## Quickstart", "## Daily commands", "## Running the tests", "## Where to read on"):
        assert f"\n{part}\n" in readme
    assert "./tests/run" in section(readme, "## Running the tests")
