"""A target made of components alone: gluster-only (tests/targets/gluster_only), registered
through `confgen.targets.register`, loads, validates and plans (its scripts run on the fake
cluster in test_target_gluster_only_run.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import confgen
from confgen import targets

NAME = "gluster-only"
EXAMPLE = Path(__file__).resolve().parent / "targets" / "gluster_only" / "example.toml"


@pytest.fixture
def registered() -> Iterator[str]:
    """The target, known to confgen for one test (a registration left behind would put it
    among every test's targets)."""
    targets.register(
        NAME,
        "targets.gluster_only",
        "GlusterFS on EL9 alone (tests only)",
        "firewalld's glusterfs service, brick filesystems (LVM thin + XFS), GlusterFS volumes",
    )
    try:
        yield NAME
    finally:
        targets.unregister(NAME)


def test_it_is_a_target_while_registered(registered: str) -> None:
    assert registered in targets.NAMES
    assert targets.get(registered).name == registered


def test_it_is_no_target_once_unregistered() -> None:
    assert NAME not in targets.NAMES
    with pytest.raises(confgen.LoadError, match="gluster-only"):
        confgen.loads(EXAMPLE.read_text())


def test_shipped_targets_cannot_be_registered_again_or_removed() -> None:
    with pytest.raises(ValueError, match="registered already"):
        targets.register("ovirt45-el9", "targets.gluster_only", "", "")
    with pytest.raises(ValueError, match="confgen's own"):
        targets.unregister("ovirt45-el9")


def test_its_example_is_valid_and_plans_its_steps(registered: str) -> None:
    cluster = confgen.loads(EXAMPLE.read_text())
    assert confgen.validate(cluster) == []
    plan = confgen.plan(cluster)
    assert [s.script for s in plan.steps] == [
        "00-preflight.sh",
        "01-install-packages.sh",
        "02-firewall.sh",
        "03-brick-storage.sh",
        "04-peer-probe.sh",
        "05-peer-probe-back.sh",
        "06-volumes.sh",
    ]
    # Gluster's step runs Gluster's template, the others EL9's.
    templates = {s.slug: s.template for s in plan.steps}
    assert templates["peer-probe"] == "components/gluster/peer-probe.sh.j2"
    assert templates["volumes"] == "ovirt45-el9/volumes.sh.j2"
    # It renders (the fast loop's word; its scripts run in test_target_gluster_only_run.py):
    # each host its scripts, and the first host alone probes and makes the volumes.
    tree = confgen.render(cluster)
    scripts = sorted(p for p in tree if p.startswith("hosts/host1/scripts/"))
    assert [p.rsplit("/", 1)[1] for p in scripts] == [
        "00-preflight.sh",
        "01-install-packages.sh",
        "02-firewall.sh",
        "03-brick-storage.sh",
        "04-peer-probe.sh",
        "06-volumes.sh",
    ]
    assert (
        "gluster volume create scratch replica 3" in tree["hosts/host1/scripts/06-volumes.sh"].text
    )


def test_the_components_rules_hold_it(registered: str) -> None:
    """Gluster's rules (replica 3 needs three hosts) and the packages' (a package the scripts
    need), with the target's own (one first host), each in its own words."""
    text = EXAMPLE.read_text()
    two_hosts = text[: text.index('[[hosts]]\nname = "host3"')] + text[text.index("[[gluster") :]
    messages = [p.message for p in confgen.validate(confgen.loads(two_hosts))]
    assert "a cluster needs at least 3 hosts for replica 3, found 2" in messages
    no_first = text.replace("first = true\n", "").replace(
        "[[gluster.volumes]]",
        '[packages]\ninstall = ["glusterfs-server"]\n\n[[gluster.volumes]]',
        1,
    )
    messages = [p.message for p in confgen.validate(confgen.loads(no_first))]
    assert "no host has first = true; mark the host that probes the others into the pool" in (
        messages
    )
    assert any(m.startswith("lvm2 is missing: the scripts need") for m in messages)
