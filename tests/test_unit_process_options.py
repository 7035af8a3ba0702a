"""Issue 24: the rest of docker run's options (config/processoptions.py),
each key valid and invalid side by side, with the exact flags it becomes."""

from __future__ import annotations

import pytest

from dockervisor.config.runconfig import RunConfig
from dockervisor.config.runoptions import parse_options
from dockervisor.engine import argv as docker_argv
from dockervisor.engine import oneoffs


class Refused(Exception):
    pass


def refuse(key: str, reason: str) -> Exception:
    return Refused(f"{key}: {reason}")


def flags(document: dict) -> list[str]:
    """The flags of `document`'s keys alone: the default log rotation left out."""
    options = parse_options({**document, "log": None}, refuse)
    return options.flags("app")


@pytest.mark.parametrize(
    "document, expected",
    [
        ({"entrypoint": "/init"}, ["--entrypoint", "/init"]),
        ({"entrypoint": "/init --verbose"}, ["--entrypoint", "/init"]),
        ({"entrypoint": ["/init", "--verbose"]}, ["--entrypoint", "/init"]),
        ({"entrypoint": []}, ["--entrypoint", ""]),
        ({"restart": "no"}, []),  # in place of the default: see test_restart_replaces_the_default
        ({"read_only": True}, ["--read-only"]),
        ({"read_only": False}, []),
        ({"tmpfs": "/run"}, ["--tmpfs", "/run"]),
        ({"tmpfs": ["/run:size=64m,mode=1777", "/tmp:noexec,uid=1000"]},
         ["--tmpfs", "/run:size=64m,mode=1777", "--tmpfs", "/tmp:noexec,uid=1000"]),
        ({"cap_add": ["NET_ADMIN", "CAP_SYS_TIME"]}, ["--cap-add", "NET_ADMIN", "--cap-add", "CAP_SYS_TIME"]),
        ({"cap_drop": ["ALL"]}, ["--cap-drop", "ALL"]),
        ({"devices": ["/dev/ttyUSB0", "/dev/sda:/dev/xvda:r", "/dev/fuse:rwm"]},
         ["--device", "/dev/ttyUSB0", "--device", "/dev/sda:/dev/xvda:r", "--device", "/dev/fuse:rwm"]),
        ({"security_opt": ["no-new-privileges:true", "apparmor=docker-default"]},
         ["--security-opt", "no-new-privileges:true", "--security-opt", "apparmor=docker-default"]),
        ({"stop_signal": "SIGQUIT"}, ["--stop-signal", "SIGQUIT"]),
        ({"stop_signal": "15"}, ["--stop-signal", "15"]),
        ({"stop_timeout": 30}, ["--stop-timeout", "30"]),
        ({"stop_timeout": "1m"}, ["--stop-timeout", "60"]),
        ({"stop_timeout": 0}, ["--stop-timeout", "0"]),
        ({"working_dir": "/srv/app"}, ["--workdir", "/srv/app"]),
        ({"ulimits": {"nofile": {"soft": 1024, "hard": 4096}, "nproc": 512}},
         ["--ulimit", "nofile=1024:4096", "--ulimit", "nproc=512"]),
        ({"ulimits": {"memlock": -1}}, ["--ulimit", "memlock=-1"]),
        ({"shm_size": "256m"}, ["--shm-size", "256m"]),
        ({"pids_limit": 200}, ["--pids-limit", "200"]),
        ({"pids_limit": -1}, ["--pids-limit", "-1"]),
        ({"group_add": ["audio", 1001]}, ["--group-add", "audio", "--group-add", "1001"]),
        ({"dns": "10.0.0.2"}, ["--dns", "10.0.0.2"]),
        ({"dns": ["10.0.0.2", "fd00::1"]}, ["--dns", "10.0.0.2", "--dns", "fd00::1"]),
        ({"dns_search": ["corp.example", "example"]}, ["--dns-search", "corp.example", "--dns-search", "example"]),
        ({"sysctls": {"net.core.somaxconn": 1024}}, ["--sysctl", "net.core.somaxconn=1024"]),
        ({"sysctls": ["net.ipv4.ip_forward=1"]}, ["--sysctl", "net.ipv4.ip_forward=1"]),
        ({"gpus": "all"}, ["--gpus", "all"]),
        ({"gpus": 2}, ["--gpus", "2"]),
        ({"ipc": "shareable"}, ["--ipc", "shareable"]),
        ({"ipc": "host", "privileged_ok": True}, ["--ipc", "host"]),
        ({"pid": "host", "privileged_ok": True}, ["--pid", "host"]),
        ({"privileged": True, "privileged_ok": True}, ["--privileged"]),
        ({"privileged": False}, []),
        ({"privileged_ok": True}, []),
    ],
)  # fmt: skip
def test_each_key_gives_its_exact_flags(document: dict, expected: list[str]) -> None:
    assert flags(document) == expected


@pytest.mark.parametrize(
    "document, said",
    [
        ({"entrypoint": ""}, "entrypoint: the value must be a program"),
        ({"entrypoint": ["", "x"]}, "entrypoint[0]: each word"),
        ({"entrypoint": "'unclosed"}, "entrypoint: the string cannot be split"),
        ({"entrypoint": 5}, "entrypoint: the value must be a list"),
        ({"restart": "sometimes"}, "restart: 'sometimes' is not a restart policy"),
        ({"restart": "on-failure:0"}, "not a restart policy"),
        ({"restart": "always:3"}, "not a restart policy"),
        ({"restart": True}, "not a restart policy"),
        ({"read_only": "yes"}, "read_only: the value must be true or false"),
        ({"tmpfs": ["run"]}, "tmpfs[0]: 'run' does not start with an absolute path"),
        ({"tmpfs": "/run:size=lots"}, "tmpfs: 'size=lots' is not a tmpfs option"),
        ({"tmpfs": "/run:mode=999"}, "is not a tmpfs option"),
        ({"tmpfs": "/a,b"}, "does not start with an absolute path"),
        ({"cap_add": ["net_admin"]}, "cap_add[0]: 'net_admin' is not a capability"),
        ({"cap_add": "NET_ADMIN"}, "cap_add: the value must be a non-empty list"),
        ({"cap_drop": ["ALL", "ALL"]}, "cap_drop[1]: 'ALL' is given twice"),
        ({"devices": ["ttyUSB0"]}, "devices[0]: 'ttyUSB0' is not HOST_DEVICE"),
        ({"devices": ["/dev/a:/dev/b:rx"]}, "is not HOST_DEVICE"),
        ({"devices": ["/dev/a:/dev/b:/dev/c"]}, "is not HOST_DEVICE"),
        ({"security_opt": ["--privileged"]}, "security_opt[0]: '--privileged' is not a security option"),
        ({"stop_signal": "-9"}, "stop_signal: '-9' is not a signal"),
        ({"stop_signal": "SIGTERM; rm"}, "is not a signal"),
        ({"stop_timeout": "2h"}, "stop_timeout: '2h' is not a stop time"),
        ({"stop_timeout": 101}, "at most 100s"),
        ({"stop_timeout": -1}, "is not a stop time"),
        ({"stop_timeout": True}, "is not a stop time"),
        ({"working_dir": "srv/app"}, "working_dir: 'srv/app' is not an absolute directory"),
        ({"ulimits": {"nofiles": 5}}, "ulimits['nofiles']: 'nofiles' is not a limit"),
        ({"ulimits": {"nofile": {"soft": 10, "hard": 5}}}, "ulimits['nofile']: soft is above hard"),
        ({"ulimits": {"nofile": {"soft": 10}}}, "a limit object has soft and hard"),
        ({"ulimits": {"nofile": "1024"}}, "'1024' is not a whole number"),
        ({"ulimits": {}}, "ulimits: the value must be an object"),
        ({"shm_size": "0"}, "shm_size: '0' is not a size"),
        ({"shm_size": "1x"}, "is not a size"),
        ({"pids_limit": 0}, "pids_limit: 0 is not a number of processes"),
        ({"pids_limit": "200"}, "is not a number of processes"),
        ({"group_add": ["-x"]}, "group_add[0]: '-x' is not a group"),
        ({"dns": ["dns.example"]}, "dns[0]: 'dns.example' is not an IP address"),
        ({"dns_search": ["-bad.example"]}, "dns_search[0]: '-bad.example' is not a domain name"),
        ({"sysctls": {"kernel": 1}}, "sysctls['kernel']: 'kernel' is not a kernel setting"),
        ({"sysctls": {"net.core.somaxconn": "1,2"}}, "the setting must be a number or a one-line string"),
        ({"sysctls": ["net.core.somaxconn"]}, "the setting must be a number"),
        ({"gpus": 0}, "gpus: 0 is not \"all\" or a number of GPUs"),
        ({"gpus": "some"}, "is not \"all\" or a number"),
        ({"ipc": "container:db"}, "ipc: 'container:db' is not an IPC mode"),
        ({"pid": "container:db"}, "pid: 'container:db' is not a PID namespace"),
        ({"pid": "host"}, "pid: hands the container the host: set \"privileged_ok\": true"),
        ({"ipc": "host"}, "ipc: hands the container the host"),
        ({"privileged": True}, "privileged: hands the container the host"),
        ({"privileged": True, "privileged_ok": False}, "privileged: hands the container the host"),
        ({"privileged_ok": "yes"}, "privileged_ok: the value must be true or false"),
    ],
)  # fmt: skip
def test_each_key_refuses_what_docker_would_misread(document: dict, said: str) -> None:
    with pytest.raises(Refused) as refused:
        flags(document)
    assert said in str(refused.value), refused.value


def test_restart_replaces_the_default_and_an_entrypoint_list_goes_around_the_image() -> None:
    options = parse_options({"restart": "no", "entrypoint": ["/init", "-v"], "command": ["serve"]}, refuse)
    argv = docker_argv.run("dcv_app_1", "app", RunConfig([], [], options=options))
    assert argv[argv.index("--restart") : argv.index("--restart") + 2] == ["--restart", "no"]
    assert argv.count("--restart") == 1
    assert argv[-3:] == ["app:latest", "-v", "serve"]
    assert argv[argv.index("--entrypoint") + 1] == "/init"
    default = docker_argv.run("dcv_app_1", "app", RunConfig([], []))
    assert default[default.index("--restart") + 1] == "unless-stopped"
    one_off = oneoffs.create("n", "app", RunConfig([], [], options=options), "sha256:abc", ["migrate"])
    assert "--restart" not in one_off and one_off[-3:] == ["sha256:abc", "-v", "migrate"]


def test_the_settings_read_back_from_a_state_file_are_the_same() -> None:
    document = {"ulimits": {"nofile": {"soft": 1, "hard": 2}, "nproc": 3}, "sysctls": ["net.ipv4.ip_forward=1"],
                "entrypoint": "/init -v", "stop_timeout": "1m"}  # fmt: skip
    options = parse_options(document, refuse)
    again = parse_options(options.to_dict(), refuse)
    assert again.to_dict() == options.to_dict() and again.flags("app") == options.flags("app")
