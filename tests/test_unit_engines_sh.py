"""tests/engines.sh picks a bridge name and a subnet of the run's own: its
probing, run against a fake `ip` that says what the host already has (no root,
no bridge is made)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from support import REPO


def function(name: str) -> str:
    text = (REPO / "tests" / "engines.sh").read_text()
    found = re.search(rf"^{name}\(\) \{{\n.*?^\}}\n", text, re.M | re.S)
    assert found, f"tests/engines.sh has no {name} function"
    return found.group(0)


def fake_ip(tmp_path: Path, addresses: str = "", routes: str = "", links: tuple[str, ...] = ()) -> str:
    """A directory with an `ip` that prints these, and whose `link add NAME` fails for `links`."""
    directory = tmp_path / "bin"
    directory.mkdir(parents=True, exist_ok=True)
    taken = " ".join(links)
    (directory / "ip").write_text(
        "#!/bin/sh\n"
        f'case "$*" in\n'
        f"  *' -o addr show'*) printf '%s' '{addresses}' ;;\n"
        f"  *'route show'*) printf '%s' '{routes}' ;;\n"
        f'  "link add "*) for t in {taken}; do [ "$3" = "$t" ] && exit 2; done; exit 0 ;;\n'
        "esac\n"
    )
    (directory / "ip").chmod(0o755)
    return f"{directory}:/usr/bin:/bin"


def run(path: str, script: str) -> str:
    prelude = 'say() { echo "$*" >&2; }\nBRIDGE_PREFIX=dcvtbr\nBRIDGE_TRIES=100\n'
    done = subprocess.run(["bash", "-c", prelude + script], capture_output=True, text=True,
                          env={"PATH": path})  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(
    "addresses, routes, offset, chosen",
    [
        ("", "", 0, "172.31.250.1/24"),
        # another run's second engine on dcvtbr0, as it was before names were probed
        ("6: dcvtbr0    inet 172.31.250.1/24 scope global dcvtbr0\n", "", 0, "172.31.249.1/24"),
        ("", "172.31.0.0/16 dev br-x proto kernel\n172.30.250.0/23 dev br-y\n", 0, "172.30.249.1/24"),
        ("", "default via 10.0.0.1 dev eth0\n", 7, "172.31.243.1/24"),  # a default route takes nothing
        ("", "172.16.0.0/12 dev big\n", 0, "10.213.250.1/24"),
    ],
)
def test_the_subnet_is_one_nothing_on_the_host_overlaps(
    tmp_path: Path, addresses: str, routes: str, offset: int, chosen: str
) -> None:
    path = fake_ip(tmp_path, addresses, routes)
    assert run(path, function("free_subnet") + f"free_subnet {offset}") == chosen


def test_the_bridge_is_the_first_name_that_can_be_created(tmp_path: Path) -> None:
    path = fake_ip(tmp_path, links=("dcvtbr0", "dcvtbr1", "dcvtbr3"))
    assert run(path, function("claim_bridge") + "claim_bridge") == "2"
    assert run(fake_ip(tmp_path / "none"), function("claim_bridge") + "claim_bridge") == "0"
