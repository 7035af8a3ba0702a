"""The data policy: "snapshot" and "snapshots_keep" in dcv-IMAGENAME, recorded in the state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockervisor.store import state
from dockervisor.config.datapolicy import DataPolicy
from dockervisor.core.errors import DockervisorError
from dockervisor.config.overrides import parse_overrides
from dockervisor.config.runconfig import Mount, RunConfig


def test_the_data_policy_comes_from_the_overrides_file_and_round_trips(tmp_path: Path) -> None:
    overrides = parse_overrides({"snapshot": True, "snapshots_keep": 5}, str(tmp_path / "dcv-app"))
    assert overrides.data == DataPolicy(True, 5)
    assert parse_overrides({}, str(tmp_path / "dcv-app")).data is None
    assert parse_overrides({"snapshots_keep": 1}, str(tmp_path / "dcv-app")).data == DataPolicy(False, 1)
    config = RunConfig([], [Mount("app_data", "/data")])
    family = state.FamilyState("app", run_config=config, data=DataPolicy(True, 5))
    assert state._from_document("app", json.loads(json.dumps(family.to_dict()))).data == DataPolicy(True, 5)
    assert state._from_document("app", {**family.to_dict(), "data": None}).data is None


@pytest.mark.parametrize(
    "document, words",
    [
        ({"snapshot": "yes"}, "snapshot: the value must be true or false"),
        ({"snapshots_keep": 0}, "snapshots_keep: the value must be a whole number"),
        ({"snapshots_keep": True}, "snapshots_keep: the value must be a whole number"),
        ({"snapshots_keep": "3"}, "snapshots_keep: the value must be a whole number"),
    ],
)
def test_a_bad_data_policy_is_refused_naming_the_key(tmp_path: Path, document: dict, words: str) -> None:
    with pytest.raises(DockervisorError, match=words):
        parse_overrides(document, str(tmp_path / "dcv-app"))


def test_a_hand_edited_data_policy_is_damage(tmp_path: Path) -> None:
    document = state.FamilyState("app").to_dict()
    for bad in ({"snapshot": 1}, {"keep": 3}, "yes"):
        with pytest.raises(ValueError, match="data"):
            state._from_document("app", {**document, "data": bad})
