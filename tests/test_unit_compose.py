"""Issue 24: one Compose service as dcv-IMAGENAME (config/compose.py), in the
short forms people write and the long forms `docker compose config` prints."""

from __future__ import annotations

import pytest

from dockervisor.config.compose import convert, service_of


@pytest.mark.parametrize(
    "service, document",
    [
        ({"ports": ["8080:80", "127.0.0.1:9000:9000/udp", "[::1]:53:53"]},
         {"ports": {"8080": "80/tcp", "127.0.0.1:9000": "9000/udp", "[::1]:53": "53/tcp"}}),
        ({"ports": [{"target": 80, "published": "8080", "protocol": "tcp", "host_ip": "127.0.0.1", "mode": "ingress"}]},
         {"ports": {"127.0.0.1:8080": "80/tcp"}}),
        ({"volumes": ["data:/data", "./conf:/etc/app:ro"]}, {"volumes": {"data": "/data", "./conf": "/etc/app:ro"}}),
        ({"volumes": [{"type": "bind", "source": "/srv/conf", "target": "/etc/app", "read_only": True}]},
         {"volumes": {"/srv/conf": "/etc/app:ro"}}),
        ({"environment": {"A": "1", "B": 2}}, {"env": {"A": "1", "B": "2"}}),
        ({"environment": ["A=1", "B=x=y"]}, {"env": {"A": "1", "B": "x=y"}}),
        ({"env_file": "app.env"}, {"env_file": "app.env"}),
        ({"env_file": [{"path": "app.env", "required": True}]}, {"env_file": "app.env"}),
        ({"networks": ["back", "default"]}, {"network": "back"}),
        ({"networks": {"back": None, "mon": {"aliases": []}}}, {"network": ["back", "mon"]}),
        ({"networks": ["default"]}, {}),
        ({"extra_hosts": ["db:10.0.0.5"]}, {"extra_hosts": {"db": "10.0.0.5"}}),
        ({"extra_hosts": {"db": "10.0.0.5"}}, {"extra_hosts": {"db": "10.0.0.5"}}),
        ({"logging": {"driver": "json-file", "options": {"max-size": "1m"}}}, {"log": {"driver": "json-file", "max-size": "1m"}}),
        ({"mem_limit": "512m", "cpus": "1.5"}, {"memory": "512m", "cpus": "1.5"}),
        ({"mem_limit": 536870912, "cpus": 1.5}, {"memory": "536870912", "cpus": "1.5"}),
        ({"stop_grace_period": "1m30s"}, {"stop_timeout": 90}),
        ({"stop_grace_period": "45s"}, {"stop_timeout": 45}),
        ({"read_only": True, "cap_drop": ["ALL"], "restart": "always", "user": "1000"},
         {"read_only": True, "cap_drop": ["ALL"], "restart": "always", "user": "1000"}),
        ({"image": "nginx:1", "container_name": "web"}, {}),
    ],
)  # fmt: skip
def test_what_is_carried_over(service: dict, document: dict) -> None:
    converted = convert(service)
    assert converted.document == document and converted.not_carried == []


@pytest.mark.parametrize(
    "service, key, why",
    [
        ({"environment": ["FROM_SHELL"]}, "environment.FROM_SHELL", "comes from the shell"),
        ({"environment": {"FROM_SHELL": None}}, "environment.FROM_SHELL", "comes from the shell"),
        ({"privileged": True}, "privileged", '"privileged_ok": true'),
        ({"deploy": {"replicas": 2}}, "deploy", "no such setting"),
        ({"ports": ["80"]}, "ports", "publishes no host port"),
        ({"volumes": ["/anonymous"]}, "volumes", "anonymous volume"),
        ({"volumes": [{"type": "tmpfs", "target": "/t"}]}, "volumes", "only named volumes and bind mounts"),
        ({"env_file": ["a.env", "b.env"]}, "env_file", "one env_file"),
        ({"stop_grace_period": "1.5s"}, "stop_grace_period", "whole seconds"),
    ],
)  # fmt: skip
def test_what_is_not_carried_over_says_why(service: dict, key: str, why: str) -> None:
    converted = convert(service)
    assert [k for k, _ in converted.not_carried] == [key] and why in converted.not_carried[0][1]


def test_the_service_is_found_by_name() -> None:
    assert service_of({"services": {"web": {"image": "x"}}}, "web") == {"image": "x"}
    with pytest.raises(ValueError, match="it has no service 'db' \\(it has web\\)"):
        service_of({"services": {"web": {}}}, "db")
    with pytest.raises(ValueError, match="it has no services"):
        service_of({"version": "3"}, "web")
