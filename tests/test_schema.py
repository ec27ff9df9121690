"""`confgen schema`: a JSON Schema of each target's cluster file, generated from the models.

Every golden cluster file is valid against its target's schema, the files the property tests
generate too, and a file with a misspelt key, a value of the wrong type or another target's
section is not, each with the error an editor would show.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confgen import targets
from confgen.cli import main
from confgen.schema import schema
from golden_cases import GOLDEN, golden_cases
from strategies import clusters, el9_clusters, to_toml


def _errors(name: str, data: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft4Validator(schema(name))
    return sorted(
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)
    )


@pytest.mark.parametrize("name", targets.NAMES)
def test_the_schema_is_a_valid_draft_4_schema(name: str) -> None:
    jsonschema.Draft4Validator.check_schema(schema(name))


@pytest.mark.parametrize("case", golden_cases())
def test_every_golden_cluster_file_is_valid(case: str) -> None:
    data = tomllib.loads((GOLDEN / case / "cluster.toml").read_text())
    assert _errors(data.get("target", targets.DEFAULT), data) == []


@settings(max_examples=25, deadline=None)
@given(data=st.one_of(clusters(), el9_clusters()))
def test_every_generated_cluster_file_is_valid(data: dict[str, Any]) -> None:
    parsed = tomllib.loads(to_toml(data))
    assert _errors(parsed.get("target", targets.DEFAULT), parsed) == []


def test_a_mutated_file_is_refused_with_what_is_wrong() -> None:
    data = tomllib.loads((GOLDEN / "el9-3host" / "cluster.toml").read_text())
    data["hosts"][0]["brick_devise"] = "/dev/vdb"
    data["hosts"][1]["host_id"] = "2"
    data["networks"][0]["roles"].append("heartbeat")
    data["ctdb"] = {"mount_hostname": "nfs.example.com"}
    assert _errors("ovirt45-el9", data) == [
        ": Additional properties are not allowed ('ctdb' was unexpected)",
        "hosts.0: Additional properties are not allowed ('brick_devise' was unexpected)",
        "hosts.1.host_id: '2' is not of type 'integer'",
        "networks.0.roles.2: 'heartbeat' is not one of ['management', 'storage']",
    ]


def test_another_targets_file_is_refused() -> None:
    seed = tomllib.loads((GOLDEN / "seed-3host" / "cluster.toml").read_text())
    assert "target: 'ovirt35-el7' is not one of ['ovirt45-el9']" in _errors("ovirt45-el9", seed)


def test_the_command_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--target", "ovirt45-el9"]) == 0
    assert json.loads(capsys.readouterr().out) == schema("ovirt45-el9")


def test_the_readme_shows_the_line_editors_read() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "#:schema ./cluster.schema.json" in readme
    assert "confgen schema" in readme
