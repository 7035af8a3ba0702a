"""Every overrides run option is declared once (config/runoptions.py OPTIONS):
its check, its docker flags, its description, and whether it enters the
digest `start new --if-changed` compares. Each declared key goes through all
four here, so a key added with one of them missing fails."""

from __future__ import annotations

import pytest

from dockervisor.config.hostaccess import HOST_SHARING
from dockervisor.config.runconfig import RunConfig
from dockervisor.config.runoptions import FLAG_ORDER, KEYS, OPTIONS, RunOptions, default_options, parse_options
from dockervisor.engine import argv as docker_argv
from dockervisor.config.fingerprint import run_digest


def refuse(key: str, reason: str) -> Exception:
    return AssertionError(f"{key}: {reason}")


@pytest.mark.parametrize("option", OPTIONS, ids=[o.key for o in OPTIONS])
def test_every_declared_key_checks_flags_describes_and_fingerprints(option) -> None:  # type: ignore[no-untyped-def]
    # The keys that share the host are taken only with privileged_ok beside them.
    allowed = {"privileged_ok": True} if option.key in HOST_SHARING else {}
    options = parse_options({option.key: option.example, **allowed}, refuse)
    value = getattr(options, option.attribute)
    assert value == option.parse(option.example)
    # its flags: after the image for the command, before it for the rest
    flags = docker_argv.run_options("app", options)
    unset = docker_argv.run_options("app", default_options())
    if option.key == "restart":  # in place of the default policy, not a flag of its own
        assert flags == unset and "on-failure:5" in docker_argv.run("dcv_app_1", "app", RunConfig([], [], options=options))
    elif option.key == "command":
        assert flags == unset and docker_argv.run("dcv_app_1", "app", RunConfig([], [], options=options))[-2:] == ["--workers", "4"]
    elif option.key in ("probe", "probation", "promote", "privileged_ok"):  # dockervisor's own: nothing for docker
        assert flags == unset and getattr(options, option.key) == option.parse(option.example)
    else:
        assert flags != unset and all(isinstance(word, str) for word in flags)
    # how build and config describe it, and what config --json shows
    assert set(options.describe()) - set(default_options().describe())
    assert options.settings("app")[option.attribute] == value
    # a state file read back gives the same options
    assert parse_options(options.to_dict(), refuse).to_dict() == options.to_dict()
    # a change of it is a change for --if-changed
    before = run_digest(RunConfig([], [], options=default_options()), {})
    assert (run_digest(RunConfig([], [], options=options), {}) != before) == option.fingerprint


def test_the_flag_order_names_every_key_once() -> None:
    assert sorted(FLAG_ORDER) == sorted(KEYS) and len(set(FLAG_ORDER)) == len(FLAG_ORDER)


@pytest.mark.parametrize("option", OPTIONS, ids=[o.key for o in OPTIONS])
def test_an_unset_key_adds_nothing(option) -> None:  # type: ignore[no-untyped-def]
    empty = RunOptions()
    assert option.flags("app", getattr(empty, option.attribute)) == []
    assert option.key == "log" or option.describe(getattr(empty, option.attribute)) == []


def test_an_unknown_attribute_is_refused() -> None:
    with pytest.raises(TypeError, match="not a run option: memroy"):
        RunOptions(memroy="1g")
