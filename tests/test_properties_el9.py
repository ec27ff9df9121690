"""Invariants of the whole pipeline for the target ovirt45-el9, over every cluster file of it
that `check` accepts (the strategy `el9_clusters`)."""

from __future__ import annotations

import subprocess
from typing import Any

from hypothesis import given, settings

import confgen
from confgen.context import template_context
from strategies import el9_clusters, to_toml
from test_properties import _plain

SETTINGS = settings(max_examples=40, deadline=None)


def _files(data: dict[str, Any]) -> dict[str, str]:
    cluster = confgen.loads(to_toml(data))
    return {path: f.text for path, f in confgen.render(cluster).items()}


@SETTINGS
@given(data=el9_clusters())
def test_the_strategy_covers_only_what_check_accepts(data: dict[str, Any]) -> None:
    cluster = confgen.loads(to_toml(data))
    assert [p for p in confgen.validate(cluster) if p.severity is confgen.Severity.ERROR] == []


@SETTINGS
@given(data=el9_clusters())
def test_same_input_gives_identical_output(data: dict[str, Any]) -> None:
    assert _files(data) == _files(data)


@SETTINGS
@given(data=el9_clusters())
def test_the_engine_is_mounted_from_one_of_its_bricks_with_the_others_as_backups(
    data: dict[str, Any],
) -> None:
    cluster = confgen.loads(to_toml(data))
    plan = confgen.plan(cluster)
    engine = plan.volume(cluster.hosted_engine.volume)  # type: ignore[attr-defined]
    peers = [b.peer for b in engine.bricks]
    answers = confgen.render(cluster)[f"hosts/{plan.first.name}/data/hosted-engine-answers.conf"]
    assert f"storageDomainConnection=str:{peers[0]}:/{engine.name}\n" in answers.text
    assert f"mntOptions=str:backup-volfile-servers={':'.join(peers[1:])}\n" in answers.text
    assert len(peers) == 3


@SETTINGS
@given(data=el9_clusters())
def test_every_host_gets_the_steps_every_host_runs_the_first_the_rest_but_the_probe_back(
    data: dict[str, Any],
) -> None:
    files = _files(data)
    cluster = confgen.loads(to_toml(data))
    plan = confgen.plan(cluster)
    for host in plan.hosts:
        scripts = sorted(p.rsplit("/", 1)[1] for p in files if p.startswith(f"{host.dir}/scripts/"))
        expected = [s.script for s in plan.steps if host.name in s.hosts]
        assert scripts == expected
        # Step 00 and three more on every host; the first other host probes the first back by
        # name; the first runs the rest.
        probes_back = host.name == plan.others[0].name
        assert len(scripts) == (len(plan.steps) - 1 if host.is_first else 4 + probes_back)
        assert scripts[0] == "00-preflight.sh"
        block = files[f"{host.dir}/blocks/etc/hosts/cluster-hosts"]
        assert all(f" {h.host.fqdn} {h.name}\n" in block for h in plan.hosts)


@settings(max_examples=10, deadline=None)
@given(data=el9_clusters())
def test_every_script_parses_with_bash(data: dict[str, Any]) -> None:
    for path, text in _files(data).items():
        if path.endswith(".sh"):
            result = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
            assert result.returncode == 0, (path, result.stderr)


@SETTINGS
@given(data=el9_clusters())
def test_templates_see_only_plain_data(data: dict[str, Any]) -> None:
    assert _plain(template_context(confgen.plan(confgen.loads(to_toml(data)))))
