"""One definition of CI for the whole test run: support.truthy. tests/run's
shell copy agrees with it, and no test file reads CI its own way (a test file
that took only CI=true as CI once let a CI=1 run skip the several-engines
tests and pass)."""

from __future__ import annotations

import re
import subprocess

import pytest

from support import REPO, truthy

VALUES = ["", "0", "false", "False", "FALSE", "no", "off", " 0 ", "1", "true", "True", "TRUE", "yes", "on",
          " true ", "github-actions"]  # fmt: skip


def shell_in_ci(value: str) -> bool:
    text = (REPO / "tests" / "run").read_text()
    function = re.search(r"^in_ci\(\) \{\n.*?^\}\n", text, re.M | re.S)
    assert function, "tests/run has no in_ci function"
    done = subprocess.run(["bash", "-c", function.group(0) + "in_ci", "in_ci"],
                          env={"CI": value, "PATH": "/usr/bin:/bin"})  # fmt: skip
    return done.returncode == 0


@pytest.mark.parametrize("value", VALUES)
def test_tests_run_and_the_tests_agree_on_what_is_ci(value: str) -> None:
    assert shell_in_ci(value) == truthy(value)


def test_ci_1_and_ci_true_are_the_same() -> None:
    assert truthy("1") and truthy("true") and shell_in_ci("1") and shell_in_ci("true")


def test_no_test_file_reads_ci_its_own_way() -> None:
    reads_ci = re.compile(r"""environ(\.get\(|\[)\s*["']CI["']""")
    own_way = [path.name for path in sorted((REPO / "tests").glob("*.py"))
               if path.name != "support.py" and reads_ci.search(path.read_text())]  # fmt: skip
    assert own_way == []
