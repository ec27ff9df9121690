"""gluster-only (tests/targets/gluster_only) on the fake cluster: every script runs, then runs
again changing nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

import confgen
import fakehost_el9
from fakehost import VIRT_GROUP, FakeCluster, preflight_facts
from test_target_gluster_only import EXAMPLE, registered

__all__ = ["registered"]  # the fixture, used by name


class GlusterOnlyCluster(FakeCluster):
    """The fake cluster for gluster-only's hosts: fresh EL9 hosts, as for ovirt45-el9, and
    no engine to answer or to type passwords for."""

    @property
    def el9(self) -> bool:  # FakeCluster sets it from the target's name
        return True

    @el9.setter
    def el9(self, _value: bool) -> None:
        pass

    def _fresh_el9(self) -> dict[str, Any]:
        plan = self.plan
        hosts = {h.name: fakehost_el9.fresh_host(plan, h) for h in plan.hosts}
        for h in plan.hosts:
            hosts[h.name].update(preflight_facts(plan, h))
            # CentOS Stream 9's BaseOS holds lvm2 and device-mapper-multipath (the stand-in's
            # base list names only what ovirt45-el9's packages step installs by name).
            hosts[h.name]["base_packages"] += ["lvm2", "device-mapper-multipath"]
        return {
            # The stand-ins answer as EL9's programs for this name (fakehost_cmd.py: the
            # clock's timedatectl); the releases are EL9's.
            "target": "ovirt45-el9",
            "hosts": hosts,
            "first": plan.first.name,
            "peers": [],
            "volumes": {},
            "virt_group": VIRT_GROUP.read_text(),
            "engine": {"deployed": False, "hosts": {}},
            "roots": str(self.base / "roots"),
            "vips": [],
            "dns": {h.host.fqdn: str(h.management_address) for h in plan.hosts},
            "ptr": {str(h.management_address): h.host.fqdn for h in plan.hosts},
        }

    def _typed(self, host: str, script: str, environ: dict[str, str], admin: bool) -> list[str]:
        return []  # no step asks anything

    def _run_at_terminal(
        self, command: dict[str, Any], typed: list[str]
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(stdin=subprocess.DEVNULL, **command)


@pytest.mark.skipif(not VIRT_GROUP.is_file(), reason="apt-get install glusterfs-server")
def test_every_script_runs_and_runs_again_as_a_no_op(registered: str, tmp_path: Path) -> None:
    cluster = confgen.loads(EXAMPLE.read_text())
    out = tmp_path / "out"
    confgen.write_tree(confgen.render(cluster), out)
    fake = GlusterOnlyCluster(tmp_path / "fake", out, confgen.plan(cluster))
    plan = fake.plan
    for step in plan.steps:
        for host in step.hosts:
            result = fake.run(host, step.script)
            assert result.returncode == 0, f"{host} {step.script}:\n{result.stdout}{result.stderr}"
    volumes = fake.state["volumes"]
    assert sorted(volumes) == ["data", "scratch"]
    assert all(v["status"] == "Started" for v in volumes.values())
    assert volumes["data"]["bricks"] == [str(b) for b in plan.volume("data").bricks]
    changed = len(fake.changes())
    assert changed > 0
    files = fake.snapshot()
    for step in plan.steps:
        for host in step.hosts:
            result = fake.run(host, step.script)
            assert result.returncode == 0, f"{host} {step.script}:\n{result.stderr}"
    assert fake.changes()[changed:] == []
    assert fake.snapshot() == files
