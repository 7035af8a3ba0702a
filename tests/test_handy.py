"""Issue 11 through the installed command: names typed back, logs and exec,
build options, completion and the man page."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from support import docker, free_port, http_get, running_names

FAST = ("--settle", "0.5")


@pytest.fixture
def app(project):  # type: ignore[no-untyped-def]
    app = project("handy")
    app.port = free_port()
    app.build(overrides={"ports": {str(app.port): "8080"}},
              cmd="echo line one; echo line two; httpd -f -p 8080 -h /www")  # fmt: skip
    return app


def suffix(app, name: str) -> str:  # type: ignore[no-untyped-def]
    return name.removeprefix(f"dcv_{app.family}_")


def test_the_suffix_a_table_shows_can_be_typed_back(app, cli) -> None:
    first = cli("start", "new", app.family, *FAST).out.strip()
    second = cli("start", "new", app.family, *FAST).out.strip()
    status = cli("status", app.family, env={"COLUMNS": "40"}).out
    assert suffix(app, second) in status and "…" not in status
    assert cli("start", app.family, suffix(app, first), *FAST).out == f"{first}\n"
    assert running_names(app.family) == [first]
    cli("stable", "mark", "--force", app.family, suffix(app, second))
    assert cli.state(app.family)["stable"] == second
    forgot = cli("start", app.family, expect=1)
    assert f"`dockervisor start new|last|stable {app.family}`" in forgot.err


def test_logs_and_exec_reach_the_running_container(app, cli) -> None:
    first = cli("start", "new", app.family, *FAST).out.strip()
    assert cli("logs", app.family, "--tail", "1").out == "line two\n"
    assert cli("exec", app.family, "cat", "/www/index.html").out == "v1\n"
    assert cli("exec", app.family, "sh", "-c", "echo out; exit 7", expect=7).out == "out\n"
    cli("start", "new", app.family, *FAST)
    old = cli("logs", app.family, "--container", suffix(app, first))
    assert old.out == "line one\nline two\n"
    cli("stop", app.family)
    assert "nothing of" in cli("exec", app.family, "true", expect=1).err


def test_build_passes_its_options_to_docker(project, cli) -> None:
    app = project("buildopts")
    port = free_port()
    app.write(overrides={"ports": {str(port): "8080"}},
              extra=("ARG GREETING=unset", "RUN echo $GREETING > /www/index.html"))  # fmt: skip
    built = cli("build", app.family, str(app.dir), "--build-arg", "GREETING=hello-arg", "--no-cache")
    image_id = built.out.strip()
    assert image_id.startswith("sha256:") and docker("image", "inspect", "-f", "{{.Id}}", f"{app.family}:latest").stdout.strip() == image_id
    cli("start", "new", app.family, *FAST)
    assert http_get(port) == "hello-arg\n"
    quiet = cli("build", "-q", app.family, str(app.dir), "--build-arg", "GREETING", env={"GREETING": "from-env"})
    assert quiet.out.count("\n") == 1 and quiet.out.startswith("sha256:")
    assert "Step " not in quiet.err and "dockervisor:" not in quiet.err  # no build log, no summary


def test_bash_completes_a_family_name(app, cli, installed) -> None:
    script = (
        f'source <({installed} completion bash); complete -p dockervisor; '
        f'COMP_WORDS=(dockervisor start new {app.family[:9]}); COMP_CWORD=3; _dockervisor; '
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    shown = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=cli.env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == "complete -F _dockervisor dockervisor"
    assert app.family in shown.stdout.splitlines()[1:]


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed (tests/run installs man-db)")
def test_the_installed_man_page_renders(installed) -> None:
    page = installed.parent.parent / "share" / "man" / "man1" / "dockervisor.1"
    shown = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True, env={"MANPAGER": "cat", "PATH": "/usr/bin:/bin"})
    assert shown.returncode == 0 and "dockervisor completion" in shown.stdout
