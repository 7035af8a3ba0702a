"""The dcv-IMAGENAME file: parsing, every error case, and the merge with the image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockervisor.core.errors import DockervisorError
from dockervisor.config.overrides import load_overrides, parse_overrides
from dockervisor.config.runconfig import Mount, PortMapping, resolve


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "dcv-app"
    path.write_text(text)
    return str(path)


def test_no_file_means_no_overrides(tmp_path: Path) -> None:
    assert load_overrides(str(tmp_path / "dcv-app")) is None


def test_ports_volumes_env(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "app.env").write_text("A=1\n")
    overrides = parse_overrides(
        {
            "ports": {"80": "8080/tcp", "8022": "22", "5353": 53},
            "volumes": {"my_volume": "/var/data", "./site": "/www"},
            "env": {"MODE": "prod"},
            "env_file": "app.env",
        },
        str(tmp_path / "dcv-app"),
    )
    assert overrides.ports == [PortMapping(80, 8080), PortMapping(8022, 22), PortMapping(5353, 53)]
    assert overrides.mounts == [Mount("my_volume", "/var/data"), Mount(str(tmp_path / "site"), "/www")]
    assert overrides.env == {"MODE": "prod"}
    assert overrides.env_file == str(tmp_path / "app.env")


@pytest.mark.parametrize(
    "document, key, words",
    [
        ({"port": {}}, "port", "unknown key"),
        ({"ports": []}, "ports", "JSON object"),
        ({"ports": {"70000": "80"}}, "ports['70000']", "1 to 65535"),
        ({"ports": {"0": "80"}}, "ports['0']", "1 to 65535"),
        ({"ports": {"80": "99999"}}, "ports['80']", "1 to 65535"),
        ({"ports": {"80": "80/sctp"}}, "ports['80']", "unknown protocol"),
        ({"ports": {"80": ["80"]}}, "ports['80']", "CONTAINERPORT"),
        ({"ports": {"http": "80"}}, "ports['http']", "host port"),
        ({"ports": {"\u00b2": "80"}}, "ports['\u00b2']", "host port"),
        ({"volumes": {"/srv/a,b": "/data"}}, "volumes['/srv/a,b']", "cannot contain"),
        ({"volumes": {"data": "relative/path"}}, "volumes['data']", "mount point"),
        ({"volumes": {"data": 5}}, "volumes['data']", "absolute mount point"),
        ({"volumes": {"bad name!": "/data"}}, "volumes['bad name!']", "volume name"),
        ({"volumes": {"./missing": "/data"}}, "volumes['./missing']", "does not exist"),
        ({"env": {"1BAD": "x"}}, "env['1BAD']", "variable name"),
        ({"env": {"GOOD": 5}}, "env['GOOD']", "string"),
        ({"env_file": "nope.env"}, "env_file", "readable file"),
    ],
)
def test_mistakes_name_the_file_and_the_key(tmp_path: Path, document: dict, key: str, words: str) -> None:
    path = write(tmp_path, json.dumps(document))
    with pytest.raises(DockervisorError) as raised:
        load_overrides(path)
    assert raised.value.message.startswith(f"{path}: {key}: ")
    assert words in raised.value.message


def test_secret_values_never_appear_in_errors(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps({"env": {"TOKEN": "s3cr3t\nmore"}}))
    with pytest.raises(DockervisorError) as raised:
        load_overrides(path)
    assert "s3cr3t" not in raised.value.message


def test_not_json_and_duplicate_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DockervisorError, match="not valid JSON"):
        load_overrides(write(tmp_path, "{ports: 1}"))
    with pytest.raises(DockervisorError, match="'80' appears twice"):
        load_overrides(write(tmp_path, '{"ports": {"80": "8080", "80": "9090"}}'))
    with pytest.raises(DockervisorError, match="JSON object"):
        load_overrides(write(tmp_path, "[]"))
    with pytest.raises(DockervisorError, match="not valid JSON: nested too deeply"):
        load_overrides(write(tmp_path, '{"env":' * 100000))


IMAGE_CONFIG = {
    "ExposedPorts": {"8080/tcp": {}, "53/udp": {}, "22/tcp": {}},
    "Volumes": {"/var/www": {}, "/data": {}},
}


def test_defaults_publish_one_to_one_and_name_volumes() -> None:
    config = resolve("mainapache", IMAGE_CONFIG, None)
    assert config.ports == [PortMapping(22, 22), PortMapping(53, 53, "udp"), PortMapping(8080, 8080)]
    assert config.mounts == [Mount("mainapache_data", "/data"), Mount("mainapache_var_www", "/var/www")]


def test_an_override_replaces_its_default_and_adds_the_rest(tmp_path: Path) -> None:
    overrides = parse_overrides(
        {"ports": {"80": "8080", "9000": "9000/udp"}, "volumes": {"shared": "/data", "extra": "/extra"}},
        str(tmp_path / "dcv-app"),
    )
    config = resolve("app", IMAGE_CONFIG, overrides)
    assert config.ports == [
        PortMapping(22, 22), PortMapping(53, 53, "udp"), PortMapping(80, 8080), PortMapping(9000, 9000, "udp"),
    ]  # fmt: skip
    assert PortMapping(8080, 8080) not in config.ports  # the old host port is not published
    assert config.mounts == [Mount("shared", "/data"), Mount("extra", "/extra"), Mount("app_var_www", "/var/www")]


def test_one_host_port_for_two_container_ports_is_refused(tmp_path: Path) -> None:
    overrides = parse_overrides({"ports": {"22": "8080"}}, str(tmp_path / "dcv-app"))
    with pytest.raises(DockervisorError, match="host port 22/tcp"):
        resolve("app", IMAGE_CONFIG, overrides)


def test_volume_names_that_collide_are_refused() -> None:
    with pytest.raises(DockervisorError, match="app_a_b"):
        resolve("app", {"Volumes": {"/a/b": {}, "/a_b": {}}}, None)


def test_mount_point_docker_cannot_express_is_refused() -> None:
    with pytest.raises(DockervisorError, match="mount point"):
        resolve("app", {"Volumes": {"/data:ro": {}}}, None)
