"""The run options of dcv-IMAGENAME (issue 12), key by key: what each value
parses to, side by side with the values refused and the words that say why;
and the same rules for a state file read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockervisor import state
from dockervisor.errors import DockervisorError
from dockervisor.mounts import Mount, PortMapping
from dockervisor.overrides import load_overrides
from dockervisor.runconfig import RunConfig, resolve


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
    raise AssertionError(key)


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
