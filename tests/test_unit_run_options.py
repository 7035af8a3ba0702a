"""The run options of dcv-IMAGENAME (issue 12), key by key: what each value
parses to, side by side with the values refused and the words that say why;
and the same rules for a state file read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockervisor.store import state
from dockervisor.core.errors import DockervisorError
from dockervisor.config.mounts import Mount, PortMapping
from dockervisor.config.overrides import load_overrides
from dockervisor.config.runconfig import RunConfig, resolve
from dockervisor.config.runoptions import DEFAULT_LOG


class Refused:
    """An expected error: the key it names (after the file) and words of the reason."""

    def __init__(self, where: str, words: str) -> None:
        self.where = where
        self.words = words

    def __repr__(self) -> str:
        return f"Refused({self.where}: {self.words})"


def parsed(tmp_path: Path, document: dict) -> object:
    """What the overrides file holding `document` gives for its one key."""
    (tmp_path / "conf").mkdir(exist_ok=True)
    path = tmp_path / "dcv-app"
    path.write_text(json.dumps(document))
    overrides = load_overrides(str(path))
    assert overrides is not None
    (key,) = document
    if key == "ports":
        return overrides.ports
    if key == "volumes":
        return [m.to_dict() for m in overrides.mounts]
    return overrides.options.to_dict().get(key)


def check(tmp_path: Path, document: dict, expected: object) -> None:
    if not isinstance(expected, Refused):
        assert parsed(tmp_path, document) == expected
        return
    with pytest.raises(DockervisorError) as raised:
        parsed(tmp_path, document)
    message = raised.value.message
    assert message.startswith(f"{tmp_path / 'dcv-app'}: {expected.where}: "), message
    assert expected.words in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    "ports, expected",
    [
        ({"8080": "80"}, [PortMapping(8080, 80)]),
        ({"127.0.0.1:8080": "80"}, [PortMapping(8080, 80, "tcp", "127.0.0.1")]),
        ({"127.0.0.1.5:8080": "80"}, Refused("ports['127.0.0.1.5:8080']", "not an IPv4 address")),
        ({"0.0.0.0:53": "53/udp"}, [PortMapping(53, 53, "udp", "0.0.0.0")]),
        ({"localhost:8080": "80"}, Refused("ports['localhost:8080']", "not an IPv4 address")),
        ({"[::1]:8080": "80"}, [PortMapping(8080, 80, "tcp", "::1")]),
        ({"::1:8080": "80"}, Refused("ports['::1:8080']", "in brackets")),
        ({"[0:0:0:0:0:0:0:1]:8080": "80"}, [PortMapping(8080, 80, "tcp", "::1")]),  # normal form
        ({"[::1]8080": "80"}, Refused("ports['[::1]8080']", "[ADDRESS]:PORT")),
        ({"[127.0.0.1]:8080": "80"}, Refused("ports['[127.0.0.1]:8080']", "not an IPv6 address")),
        ({"[fe80::1%eth0]:8080": "80"}, Refused("ports['[fe80::1%eth0]:8080']", "not an IPv6 address")),
        ({"127.0.0.\u0661:8080": "80"}, Refused("ports['127.0.0.\u0661:8080']", "not an IPv4 address")),
        ({"127.0.0.1:": "80"}, Refused("ports['127.0.0.1:']", "host port '' is not a number")),
        ({"127.0.0.1:0": "80"}, Refused("ports['127.0.0.1:0']", "1 to 65535")),
        ({"127.0.0.1:\u0668\u0660": "80"}, Refused("ports['127.0.0.1:\u0668\u0660']", "1 to 65535")),
        ({"127.0.0.1:8080": "80/udp"}, [PortMapping(8080, 80, "udp", "127.0.0.1")]),
        ({"127.0.0.1:8080": "80/icmp"}, Refused("ports['127.0.0.1:8080']", "unknown protocol")),
    ],
)
def test_ports_with_a_host_address(tmp_path: Path, ports: dict, expected: object) -> None:
    check(tmp_path, {"ports": ports}, expected)


@pytest.mark.parametrize(
    "volumes, expected",
    [
        ({"./conf": "/etc/app"}, [{"source": "{conf}", "target": "/etc/app"}]),
        ({"./conf": "/etc/app:ro"}, [{"source": "{conf}", "target": "/etc/app", "read_only": True}]),
        ({"./conf": "/etc/app:RO"}, Refused("volumes['./conf']", "unknown mount mode 'RO' (use ro or rw)")),
        ({"./conf": "/etc/app:rw"}, [{"source": "{conf}", "target": "/etc/app"}]),
        ({"./conf": "/etc/app:"}, Refused("volumes['./conf']", "unknown mount mode ''")),
        ({"app_data": "/data:ro"}, [{"source": "app_data", "target": "/data", "read_only": True}]),
        ({"app_data": "/data:ro,z"}, Refused("volumes['app_data']", "unknown mount mode 'ro,z'")),
        ({"app_data": "/data:ro:rw"}, Refused("volumes['app_data']", "unknown mount mode 'ro:rw'")),
        ({"app_data": "data:ro"}, Refused("volumes['app_data']", "not a usable mount point")),
        ({"app_data": "/:ro"}, Refused("volumes['app_data']", "not a usable mount point")),
        ({"a": "/data:ro", "b": "/data"}, Refused("volumes['b']", "mount point /data is given twice")),
    ],
)
def test_read_only_mounts(tmp_path: Path, volumes: dict, expected: object) -> None:
    if isinstance(expected, list):
        expected = [{k: str(v).format(conf=tmp_path / "conf") for k, v in m.items()} for m in expected]
        expected = [{**m, **({"read_only": True} if "read_only" in m else {})} for m in expected]
    check(tmp_path, {"volumes": volumes}, expected)


def test_an_address_and_a_mode_reach_the_run_configuration(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "dcv-app"
    path.write_text(json.dumps({
        "ports": {"127.0.0.1:8080": "80", "[::1]:8080": "80", "9090": "90"},
        "volumes": {"./conf": "/etc/app:ro"},
    }))  # fmt: skip
    config = resolve("app", {"ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}}}, load_overrides(str(path)))
    assert [p.flag_value() for p in config.ports] == ["127.0.0.1:8080:80/tcp", "[::1]:8080:80/tcp", "9090:90/tcp"]
    assert [m.flag_value() for m in config.mounts] == ["app_data:/data", f"{tmp_path}/conf:/etc/app:ro"]
    again = RunConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again.to_dict() == config.to_dict()


@pytest.mark.parametrize(
    "ports, clash",
    [
        ({"8080": "80", "127.0.0.1:8080": "81"}, "host port 127.0.0.1:8080/tcp"),  # all addresses include it
        ({"0.0.0.0:8080": "80", "127.0.0.1:8080": "81"}, "host port 127.0.0.1:8080/tcp"),
        ({"127.0.0.1:8080": "80", "127.0.0.1:8080/udp": "81"}, None),  # not a host key: refused below
        ({"127.0.0.1:8080": "80", "127.0.0.2:8080": "81"}, ""),
        ({"127.0.0.1:8080": "80", "[::1]:8080": "81"}, ""),
        ({"[::]:8080": "80", "[::1]:8080": "81"}, "host port [::1]:8080/tcp"),
    ],
)
def test_one_host_port_and_address_serves_one_container_port(tmp_path: Path, ports: dict, clash: str | None) -> None:
    path = tmp_path / "dcv-app"
    path.write_text(json.dumps({"ports": ports}))
    if clash is None:
        with pytest.raises(DockervisorError, match="host port"):
            load_overrides(str(path))
        return
    overrides = load_overrides(str(path))
    if not clash:
        assert len(resolve("app", {}, overrides).ports) == 2
        return
    with pytest.raises(DockervisorError, match=clash.replace("[", "\\[").replace("]", "\\]")):
        resolve("app", {}, overrides)


# A state file read back: the same rules, side by side.
@pytest.mark.parametrize(
    "ports, mounts, problem",
    [
        ([{"host": 80, "container": 80, "protocol": "tcp", "address": "127.0.0.1"}], [], None),
        ([{"host": 80, "container": 80, "protocol": "tcp", "address": "localhost"}], [], "host address 'localhost'"),
        ([{"host": 80, "container": 80, "protocol": "tcp", "address": "::1"}], [], None),
        ([{"host": 80, "container": 80, "protocol": "tcp", "address": "0::1"}], [], "normal form"),
        ([{"host": 80, "container": 80, "protocol": "tcp", "address": 5}], [], "host address 5"),
        ([{"host": 80, "container": 80, "protocol": "tcp", "address": "127.0.0.1"},
          {"host": 80, "container": 81, "protocol": "tcp"}], [], "host port 80/tcp is published twice"),
        ([{"host": 80, "container": 80, "protocol": "tcp", "address": "127.0.0.1"},
          {"host": 80, "container": 81, "protocol": "tcp", "address": "127.0.0.2"}], [], None),
        ([], [{"source": "v", "target": "/d", "read_only": True}], None),
        ([], [{"source": "v", "target": "/d", "read_only": "yes"}], "read_only of '/d' is not true or false"),
        ([], [{"source": "v", "target": "/d:ro"}], "not a usable mount point"),
    ],
)  # fmt: skip
def test_a_state_file_holds_addresses_and_modes_to_the_same_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ports: list, mounts: list, problem: str | None
) -> None:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    config = {"ports": ports, "mounts": mounts, "env": {}, "env_file": None}
    path = tmp_path / "home" / "families" / "app.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema": 2, "image": "app", "last": None, "stable": None,
                                "run_config": config, "build": {}}))  # fmt: skip
    if problem is None:
        loaded = state.load("app").run_config
        assert loaded is not None and loaded.to_dict()["ports"] == ports
        return
    with pytest.raises(DockervisorError) as raised:
        state.load("app")
    assert "damaged" in raised.value.message and problem in raised.value.message


def test_version_1_state_files_still_load_and_are_written_back_as_version_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    path = tmp_path / "home" / "families" / "app.json"
    path.parent.mkdir(parents=True)
    config = {"ports": [{"host": 80, "container": 80, "protocol": "tcp"}],
              "mounts": [{"source": "v", "target": "/d"}], "env": {}, "env_file": None}  # fmt: skip
    path.write_text(json.dumps({"schema": 1, "image": "app", "run_config": config, "build": {}}))
    family = state.load("app")
    assert family.run_config is not None
    assert family.run_config.ports == [PortMapping(80, 80)] and family.run_config.mounts == [Mount("v", "/d")]
    state.save(family)
    assert json.loads(path.read_text())["schema"] == 2


LONG = "a" * 63
# Each key: values it takes (and what they are recorded as), side by side with
# values refused and what the error says after the file's name.
@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("network", "backend", ["backend"]),
        ("network", ["backend", "monitoring"], ["backend", "monitoring"]),
        ("network", "bridge", Refused("network", "'bridge' is docker's own network")),
        ("network", ["backend", "host"], Refused("network[1]", "'host' is docker's own network")),
        ("network", ["backend", "backend"], Refused("network[1]", "given twice")),
        ("network", "container:db", Refused("network", "not a network name")),
        ("network", "-d", Refused("network", "not a network name")),
        ("network", [], Refused("network", "a network name such as")),
        ("network", ["a", 5], Refused("network[1]", "5 is not a network name")),
        ("network", {"backend": {}}, Refused("network", "a network name such as")),
        ("memory", "512m", "512m"),
        ("memory", "1G", "1G"),
        ("memory", "6291456", "6291456"),
        ("memory", "6291455", Refused("memory", "less than 6m")),
        ("memory", "512", Refused("memory", "less than 6m")),  # bytes, as docker reads it
        ("memory", "512mb", Refused("memory", 'not a size such as "512m"')),
        ("memory", "1.5g", Refused("memory", "not a size")),
        ("memory", "-512m", Refused("memory", "not a size")),
        ("memory", "\u0665\u0661\u0662m", Refused("memory", "not a size")),  # Arabic-Indic digits
        ("memory", 536870912, Refused("memory", 'must be a string such as "512m"')),
        ("cpus", "1.5", "1.5"),
        ("cpus", 2, "2"),
        ("cpus", "0.01", "0.01"),
        ("cpus", "0.001", Refused("cpus", "less than 0.01")),
        ("cpus", "0", Refused("cpus", "less than 0.01")),
        ("cpus", 1.5, Refused("cpus", 'must be a string such as "1.5"')),
        ("cpus", True, Refused("cpus", "must be a string")),
        ("cpus", "1.", Refused("cpus", "not a number of CPUs")),
        ("cpus", ".5", Refused("cpus", "not a number of CPUs")),
        ("cpus", "1e3", Refused("cpus", "not a number of CPUs")),
        ("cpus", "NaN", Refused("cpus", "not a number of CPUs")),
        ("cpus", "\u0661.5", Refused("cpus", "not a number of CPUs")),
        ("cpus", "1.0000000001", Refused("cpus", "not a number of CPUs")),  # finer than docker takes
        ("user", "1000:1000", "1000:1000"),
        ("user", "www-data", "www-data"),
        ("user", "app:staff", "app:staff"),
        ("user", "0", "0"),
        ("user", "1000:", Refused("user", "not USER[:GROUP]")),
        ("user", "a:b:c", Refused("user", "not USER[:GROUP]")),
        ("user", "-u", Refused("user", "not USER[:GROUP]")),
        ("user", "\u0661\u0660\u0660\u0660", Refused("user", "not USER[:GROUP]")),
        ("user", "4294967295", Refused("user", "larger than 4294967294")),
        ("user", 1000, Refused("user", "must be a string")),
        ("command", ["--workers", "4"], ["--workers", "4"]),
        ("command", ["-c", "", "a b"], ["-c", "", "a b"]),
        ("command", "--workers 4", Refused("command", "a string is not split")),
        ("command", [], Refused("command", "non-empty list")),
        ("command", ["ok", 4], Refused("command[1]", "must be a string without NUL")),
        ("command", ["ok", "s3cr3t\0"], Refused("command[1]", "without NUL")),
        ("init", True, True),
        ("init", False, None),  # false is not recorded: it is the default
        ("init", "true", Refused("init", "true or false")),
        ("init", 1, Refused("init", "true or false")),
        ("hostname", "app", "app"),
        ("hostname", "app-1.internal", "app-1.internal"),
        ("hostname", LONG, LONG),
        ("hostname", LONG + "a", Refused("hostname", "not a host name")),
        ("hostname", "a." + LONG, Refused("hostname", "not a host name")),  # longer than 64 in all
        ("hostname", "-app", Refused("hostname", "not a host name")),
        ("hostname", "app_1", Refused("hostname", "not a host name")),
        ("hostname", "", Refused("hostname", "not a host name")),
        ("extra_hosts", {"db.local": "10.0.0.5"}, {"db.local": "10.0.0.5"}),
        ("extra_hosts", {"gw": "host-gateway", "v6": "0::1"}, {"gw": "host-gateway", "v6": "::1"}),
        ("extra_hosts", {"db local": "10.0.0.5"}, Refused("extra_hosts['db local']", "not a host name")),
        ("extra_hosts", {"db": "db.example"}, Refused("extra_hosts['db']", "not an IP address or host-gateway")),
        ("extra_hosts", {"db": "10.0.0.256"}, Refused("extra_hosts['db']", "not an IP address")),
        ("extra_hosts", {"db": 5}, Refused("extra_hosts['db']", "not an IP address")),
        ("extra_hosts", ["db:10.0.0.5"], Refused("extra_hosts", "must be a JSON object")),
        ("labels", {"com.example.team": "web", "tier": ""}, {"com.example.team": "web", "tier": ""}),
        ("labels", {"dockervisor.image": "other"}, Refused("labels['dockervisor.image']", "dockervisor's own")),
        ("labels", {"Dockervisor.Image": "x"}, Refused("labels['Dockervisor.Image']", "dockervisor's own")),
        ("labels", {"a=b": "x"}, Refused("labels['a=b']", "not a label key")),
        ("labels", {"": "x"}, Refused("labels['']", "not a label key")),
        ("labels", {"team": "a\nb"}, Refused("labels['team']", "without a newline")),
        ("labels", {"team": 5}, Refused("labels['team']", "must be a string")),
        ("labels", "team=web", Refused("labels", "must be a JSON object")),
        ("log", {"driver": "json-file", "max-size": "10m", "max-file": "3"}, DEFAULT_LOG),
        ("log", {"max-size": "50m", "max-file": 5}, {"driver": "json-file", "max-size": "50m", "max-file": "5"}),
        ("log", {"driver": "local"}, {"driver": "local"}),
        ("log", {"driver": "json-file"}, {"driver": "json-file"}),  # as asked: no rotation
        ("log", {"driver": "syslog", "tag": "app", "syslog-address": "udp://10.0.0.1:514"},
         {"driver": "syslog", "tag": "app", "syslog-address": "udp://10.0.0.1:514"}),
        ("log", {"driver": "grafana/loki:2.9"}, {"driver": "grafana/loki:2.9"}),
        ("log", None, None),  # the engine's own default
        ("log", {"driver": "Json File"}, Refused("log['driver']", "not a log driver name")),
        ("log", {"driver": 5}, Refused("log['driver']", "not a log driver name")),
        ("log", {"driver": "none", "max-size": "1m"}, Refused("log['max-size']", "takes no options")),
        ("log", {"max-size": "10x"}, Refused("log['max-size']", 'not a size such as "10m"')),
        ("log", {"max-size": "0m"}, Refused("log['max-size']", "not a size")),
        ("log", {"max-size": "\u0661\u0660m"}, Refused("log['max-size']", "not a size")),
        ("log", {"max-file": "0"}, Refused("log['max-file']", "not a number of files")),
        ("log", {"max-file": "three"}, Refused("log['max-file']", "not a number of files")),
        ("log", {"max-file": True}, Refused("log['max-file']", "without a newline or NUL")),
        ("log", {"Max-Size": "1m"}, Refused("log['Max-Size']", "not a log option name")),
        ("log", {"tag": "a\nb"}, Refused("log['tag']", "without a newline or NUL")),
        ("log", "json-file", Refused("log", "must be a JSON object")),
    ],
)  # fmt: skip
def test_each_run_option(tmp_path: Path, key: str, value: object, expected: object) -> None:
    check(tmp_path, {key: value}, expected)


def test_without_a_log_key_logs_rotate(tmp_path: Path) -> None:
    assert parsed(tmp_path, {"ports": {}}) == []
    overrides = load_overrides(str(tmp_path / "dcv-app"))
    assert overrides is not None and overrides.options.log == DEFAULT_LOG
    assert resolve("app", {}, None).options.log == DEFAULT_LOG  # and without any file
    assert DEFAULT_LOG == {"driver": "json-file", "max-size": "10m", "max-file": "3"}


def test_an_unknown_key_lists_the_new_ones(tmp_path: Path) -> None:
    check(tmp_path, {"memroy": "1g"}, Refused("memroy", "unknown key (did you mean 'memory'? known keys: ports, volumes"))
    path = tmp_path / "dcv-app"
    with pytest.raises(DockervisorError, match="network, memory, cpus, user, command, init"):
        load_overrides(str(path))
    check(tmp_path, {"network_mode": "host"}, Refused("network_mode", 'a Compose key dockervisor does not carry: use "network"'))
    check(tmp_path, {"stop_grace_period": "1m"}, Refused("stop_grace_period", 'write it as "stop_timeout"'))


OPTIONS = {
    "network": ["backend", "edge"], "memory": "512m", "cpus": "1.5", "user": "1000:1000", "command": ["--workers", "4"], "init": True,
    "hostname": "app", "extra_hosts": {"db": "10.0.0.5"}, "labels": {"team": "web"},
    "log": {"driver": "json-file", "max-size": "10m", "max-file": "3"},
}  # fmt: skip


# A state file read back: the options go through the same parser.
@pytest.mark.parametrize(
    "options, problem",
    [
        (OPTIONS, None),
        ({"log": None}, None),
        ({**OPTIONS, "memory": "512x"}, "run_config: options: memory: '512x' is not a size"),
        ({**OPTIONS, "labels": {"dockervisor.image": "x"}}, "options: labels['dockervisor.image']: "),
        ({**OPTIONS, "command": "rm -rf /"}, "options: command: the value must be a list"),
        ({**OPTIONS, "log": {"max-file": "0"}}, "options: log['max-file']"),
        ({**OPTIONS, "cpus": "nan"}, "options: cpus"),
        ({**OPTIONS, "surprise": 1}, "options: surprise: unknown key"),
        ("--memory=1g", "options is not an object"),
    ],
)
def test_a_state_file_holds_run_options_to_the_same_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: object, problem: str | None
) -> None:
    monkeypatch.setenv("DOCKERVISOR_HOME", str(tmp_path / "home"))
    config = {"ports": [], "mounts": [], "env": {}, "env_file": None, "options": options}
    path = tmp_path / "home" / "families" / "app.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema": 2, "image": "app", "run_config": config, "build": {}}))
    if problem is None:
        loaded = state.load("app").run_config
        assert loaded is not None and loaded.options.to_dict() == options
        return
    with pytest.raises(DockervisorError) as raised:
        state.load("app")
    assert "damaged" in raised.value.message and problem in raised.value.message


def test_a_record_from_before_run_options_gets_log_rotation() -> None:
    config = RunConfig.from_dict({"ports": [], "mounts": [], "env": {}, "env_file": None})
    assert config.options.to_dict() == {"log": DEFAULT_LOG}
