"""Invariants of the whole pipeline over generated valid clusters: TOML text -> output tree."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import confgen
from confgen.cli import main
from confgen.context import template_context
from confgen.systemd import escape_path
from confgen.targets.ovirt35_el7.planning import self_check
from strategies import clusters, to_toml

# confgen.plan is also the name of the function the package exports: reach the module itself.
seed_target = importlib.import_module("confgen.targets.ovirt35_el7")
SEED_TEXT = (Path(__file__).resolve().parents[1] / "golden/seed-3host/cluster.toml").read_text()


def _render(data: dict[str, Any]) -> dict[str, str]:
    files = confgen.render(confgen.loads(to_toml(data)))
    return {path: f.text for path, f in files.items()}


def _first(data: dict[str, Any]) -> str:
    return next(h["name"] for h in data["hosts"] if h.get("first"))


def _heartbeat(data: dict[str, Any], host: dict[str, Any]) -> str:
    network = next(n["name"] for n in data["networks"] if "heartbeat" in n["roles"])
    return str(host["interfaces"][network]["address"])


@given(clusters())
def test_the_strategy_covers_only_what_check_accepts(data: dict[str, Any]) -> None:
    # The end-to-end property (test_scripts.py) assumes check passes; it is worth something
    # only if the strategy reaches the valid space, so each drawn cluster must be in it.
    problems = confgen.validate(confgen.loads(to_toml(data)))
    assert [str(p) for p in problems if p.severity is confgen.Severity.ERROR] == []


@given(clusters())
def test_same_input_gives_identical_output(data: dict[str, Any]) -> None:
    text = to_toml(data)
    first = confgen.render(confgen.loads(text))
    second = confgen.render(confgen.loads(text))
    assert list(first) == list(second)
    assert all(first[p].text == second[p].text and first[p].mode == second[p].mode for p in first)


@given(clusters())
def test_nodes_lists_every_heartbeat_address_once_in_host_id_order(data: dict[str, Any]) -> None:
    files = _render(data)
    copies = [text for path, text in files.items() if path.endswith("/nodes")]
    assert copies, "no nodes file rendered"
    # Line N is the host with ID N; an ID no host has is a '#' line (a deleted node to ctdb).
    # The file reaches the highest ID of a host or of one that left (ctdb.retired_host_ids).
    by_id = {h["host_id"]: _heartbeat(data, h) for h in data["hosts"]}
    last = max(*by_id, *data["ctdb"].get("retired_host_ids", ()))
    expected = [by_id.get(n, f"# host ID {n}: no host") for n in range(1, last + 1)]
    for text in copies:
        assert text.splitlines() == expected


@given(clusters())
def test_every_vip_is_in_public_addresses(data: dict[str, Any]) -> None:
    files = _render(data)
    [text] = [t for p, t in files.items() if p.endswith("/public_addresses")]
    lines = text.splitlines()
    assert lines == [f"{v['address']} {v['nic']}" for v in data["ctdb"]["vips"]]


@given(clusters())
def test_every_host_is_in_every_cluster_wide_list(data: dict[str, Any]) -> None:
    files = _render(data)
    first = _first(data)
    probe = files[f"hosts/{first}/scripts/06-peer-probe.sh"]
    for host in data["hosts"]:
        for name in {h["name"] for h in data["hosts"]}:
            assert (
                f"{host['fqdn']} {host['name']}"
                in files[f"hosts/{name}/blocks/etc/hosts/cluster-hosts"]
            )
        if host["name"] != first:
            peer_line = next(line for line in probe.splitlines() if line.startswith("for peer in"))
            storage = next(n["name"] for n in data["networks"] if "storage" in n["roles"])
            shared = len(data["networks"]) == 1
            peer = host["fqdn"] if shared else host["interfaces"][storage]["address"]
            assert f" {peer}" in peer_line
        assert any(path.startswith(f"hosts/{host['name']}/scripts/") for path in files)


@given(clusters())
def test_mount_unit_is_named_by_its_escaped_mount_point(data: dict[str, Any]) -> None:
    files = _render(data)
    units = {p: t for p, t in files.items() if p.endswith(".mount")}
    assert len(units) == len(data["hosts"])
    for path, text in units.items():
        where = re.search(r"^Where=(.*)$", text, re.MULTILINE)
        assert where is not None
        assert Path(path).name == escape_path(where.group(1)) + ".mount"
        service = files[str(Path(path).parent / "ctdb.service")]
        assert f"Requires={Path(path).name}\n" in service
        assert f"After={Path(path).name}\n" in service


@given(clusters())
def test_nothing_unrendered_reaches_the_tree(data: dict[str, Any]) -> None:
    for path, text in _render(data).items():
        for marker in ("None", "{{", "{%", "{#"):
            assert marker not in text, f"{marker!r} in {path}"
        assert text.endswith("\n"), path


@given(data=clusters())
def test_every_script_parses_with_bash(
    data: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("scripts")
    scripts = {p: t for p, t in _render(data).items() if p.endswith(".sh")}
    for i, (path, text) in enumerate(scripts.items()):
        script = tmp / f"{i}.sh"
        script.write_text(text)
        result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{path}: {result.stderr}"


@pytest.mark.skipif(
    shutil.which("systemd-escape") is None, reason="systemd-escape is missing (install systemd)"
)
@given(st.lists(st.text(alphabet="abcz09-_.:@ é/", min_size=1, max_size=8), min_size=1, max_size=4))
def test_escape_path_matches_systemd_escape(parts: list[str]) -> None:
    path = "/" + "/".join(parts)
    if any(part in {".", ".."} for part in path.split("/")):
        return  # systemd-escape refuses paths that are not normalised; so does validation
    result = subprocess.run(["systemd-escape", "--path", path], capture_output=True, text=True)
    if result.returncode != 0:
        return
    assert escape_path(path) == result.stdout.strip()


def _plain(value: object) -> bool:
    """str, int, bool, None, lists and dicts with string keys, all the way down."""
    if value is None or isinstance(value, (str, int, bool)):
        return True
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


@given(clusters())
def test_templates_see_only_plain_data(data: dict[str, Any]) -> None:
    # What lets any Jinja2 renderer (Ansible's template module, a hand-written script) render
    # confgen's templates from JSON or YAML: no confgen object reaches a template.
    context = template_context(confgen.plan(confgen.loads(to_toml(data))))
    assert _plain(context)
    assert json.loads(json.dumps(context)) == context


@given(clusters())
def test_the_plan_of_every_valid_cluster_passes_its_self_check(data: dict[str, Any]) -> None:
    the_plan = confgen.plan(confgen.loads(to_toml(data)))
    assert self_check(the_plan) == []


def test_a_plan_that_breaks_a_rule_is_reported_as_a_bug_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_plan = seed_target.TARGET.plan

    def broken(cluster: confgen.Cluster, source: confgen.Source | None) -> confgen.Plan:
        the_plan = real_plan(cluster, source)
        meta = next(v for v in the_plan.volumes if v.name == "meta")
        twice = attrs.evolve(meta, bricks=(meta.bricks[0], *meta.bricks[:2]))
        volumes = tuple(twice if v is meta else v for v in the_plan.volumes)
        return attrs.evolve(the_plan, volumes=volumes)

    monkeypatch.setattr(seed_target, "TARGET", attrs.evolve(seed_target.TARGET, plan=broken))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cluster.toml").write_text(SEED_TEXT)
    assert main(["render", "cluster.toml", "out"]) == 3
    err = capsys.readouterr().err
    assert "a bug in confgen" in err
    assert "brick host1.osas.lab:/gluster/meta/brick of meta is or holds brick" in err
    assert not (tmp_path / "out").exists()
