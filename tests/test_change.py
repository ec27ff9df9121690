"""`confgen change`: the change plan of hand-made pairs of both targets, each refusal by its
key path and side, a pair with nothing to do, the same bytes for the same pair, and the
command's messages and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import confgen
from change_pairs import el7, el9
from confgen.change import FROM, TO, differences

SEED_VOLUMES = (("engine", (1, 2, 3), True), ("data", (1, 2, 3), True), ("meta", (1, 2, 3), False))
VIP = ("192.168.122.200/24", "eth0")


def _change(before: str, after: str, **kw: object) -> confgen.ChangePlan:
    return confgen.change(confgen.loads(before), confgen.loads(after), **kw)  # type: ignore[arg-type]


def _refused(before: str, after: str, **kw: object) -> set[tuple[str, str]]:
    with pytest.raises(confgen.ChangeError) as caught:
        _change(before, after, **kw)
    return set(zip(caught.value.sides, (p.path for p in caught.value.problems), strict=True))


def test_el9_three_to_six_hosts_plan() -> None:
    the_change = _change(
        el9(3),
        el9(6, (("engine", (1, 2, 3)), ("data", (1, 2, 3, 4, 5, 6)), ("vm", (4, 5, 6)))),
    )
    assert the_change.hosts.joined == ("hv4", "hv5", "hv6")
    assert the_change.hosts.kept == ("hv1", "hv2", "hv3")
    steps = [(s.slug, s.hosts, s.template is None) for s in the_change.steps]
    every = ("hv1", "hv2", "hv3", "hv4", "hv5", "hv6")
    new = ("hv4", "hv5", "hv6")
    assert steps == [
        ("preflight", every, True),
        ("install-packages", every, True),
        ("firewall", new, True),
        ("brick-storage", new, True),
        ("gluster-probe", ("hv1",), False),
        ("create-volumes", ("hv1",), False),
        ("add-bricks", ("hv1",), False),
        ("add-hosts", ("hv1",), True),
        ("data-domains", ("hv1",), True),
    ]
    assert [s.number for s in the_change.steps] == list(range(1, 10))
    pool = the_change.steps[4].data["pool"]
    assert pool["probe"] == ["10.20.0.14", "10.20.0.15", "10.20.0.16"]
    (grow,) = pool["grow"]
    assert grow["added"] == [f"10.20.0.1{i}:/gluster_bricks/data/brick" for i in (4, 5, 6)]
    assert [v["name"] for v in pool["create"]] == ["vm"]
    tree = confgen.render_change(the_change)
    assert "hosts/hv1/change/07-add-bricks.sh" in tree
    assert "hosts/hv4/scripts/03-brick-storage.sh" in tree  # the new host's day-1 step
    assert not [p for p in tree if p.startswith("hosts/hv4/change/")]
    script = tree["hosts/hv1/change/07-add-bricks.sh"].text
    assert "run gluster volume add-brick data 10.20.0.14:/gluster_bricks/data/brick" in script
    assert "run gluster volume rebalance data start" in script
    assert "gluster volume rebalance data status" in tree["CHANGE.md"].text


def test_a_kept_host_gains_a_brick_runs_its_brick_step() -> None:
    the_change = _change(
        el9(4), el9(4, (("engine", (1, 2, 3)), ("data", (1, 2, 3)), ("vm", (2, 3, 4))))
    )
    assert [(s.slug, s.hosts) for s in the_change.steps] == [
        ("brick-storage", ("hv2", "hv3", "hv4")),
        ("create-volumes", ("hv1",)),
        ("data-domains", ("hv1",)),
    ]


def test_el9_firewall_added_reruns_the_firewall_step() -> None:
    the_change = _change(el9(3), el9(3, extra_ports=(9100,)))
    assert [(s.slug, s.hosts, s.day_one) for s in the_change.steps] == [
        ("firewall", ("hv1", "hv2", "hv3"), "scripts/02-firewall.sh")
    ]


def test_el7_volumes_firewall_and_vips() -> None:
    volumes = (*SEED_VOLUMES[:1], ("data", (1, 2, 3, 4, 5, 6), True), SEED_VOLUMES[2])
    the_change = _change(
        el7(6),
        el7(
            6,
            (*volumes, ("vm", (4, 5, 6), False)),
            vips=(VIP, ("192.168.122.201/24", "eth0")),
            extra_ports=(9100,),
        ),
    )
    assert [(s.slug, s.hosts) for s in the_change.steps] == [
        ("firewall", tuple(f"host{i}" for i in range(1, 7))),
        ("brick-storage", ("host4", "host5", "host6")),
        ("create-volumes", ("host1",)),
        ("add-bricks", ("host1",)),
        ("public-addresses", ("host1",)),
    ]
    tree = confgen.render_change(the_change)
    script = tree["hosts/host1/change/05-public-addresses.sh"].text
    assert "run ctdb reloadips all" in script
    # TO's public_addresses is the file the step installs, from the first host's folder.
    installed = tree["hosts/host1/files/mnt/lock/public_addresses"].text
    assert installed == "192.168.122.200/24 eth0\n192.168.122.201/24 eth0\n"
    create = tree["hosts/host1/change/03-create-volumes.sh"].text
    assert "run gluster volume create vm replica 3 " in create


def test_el7_a_host_joins_plan() -> None:
    # Replica 3 volumes stay on hosts 1-3 (a fourth host alone is no replica set); a new
    # volume takes a brick on the new host.
    volumes = (*SEED_VOLUMES, ("vm", (2, 3, 4), False))
    the_change = _change(el7(3), el7(4, volumes))
    assert the_change.hosts.joined == ("host4",)
    every = ("host1", "host2", "host3", "host4")
    assert [(s.slug, s.hosts, s.script) for s in the_change.steps] == [
        ("preflight", every, "scripts/00-preflight.sh"),
        ("selinux-and-hosts", every, "scripts/01-selinux-and-hosts.sh"),
        ("install-packages", ("host4",), "scripts/03-install-packages.sh"),
        ("firewall", ("host4",), "scripts/04-firewall.sh"),
        ("brick-storage", ("host4",), "scripts/05-brick-storage.sh"),
        ("brick-storage", ("host2", "host3"), "scripts/05-brick-storage.sh"),
        ("gluster-probe", ("host1",), "change/07-gluster-probe.sh"),
        ("create-volumes", ("host1",), "change/08-create-volumes.sh"),
        ("nfsmount-conf", ("host4",), "scripts/09-nfsmount-conf.sh"),
        ("ctdb-nodes", ("host1",), "change/10-ctdb-nodes.sh"),
        # The new node's own ctdb step (the meta volume mounted, the files linked, ctdb
        # started), not the first host's, which writes the CTDB files.
        ("ctdb", ("host4",), "scripts/12-ctdb.sh"),
        ("systemd-units", ("host4",), "scripts/13-systemd-units.sh"),
        ("hosted-engine-deploy", ("host4",), "scripts/19-hosted-engine-deploy.sh"),
        ("restore-firewall", ("host4",), "scripts/20-restore-firewall.sh"),
    ]
    nodes = the_change.steps[9].data["nodes"]
    addresses = [f"192.168.122.{10 + i}" for i in (1, 2, 3, 4)]
    assert nodes["before"] == addresses[:3] and nodes["after"] == addresses
    assert nodes["after_status"][0] == "nodes:4"
    assert nodes["kept_pnns"] == [0, 1, 2]
    tree = confgen.render_change(the_change)
    # The nodes file the step installs is TO's, from the first host's folder: appended.
    assert tree["hosts/host1/files/mnt/lock/nodes"].text == "".join(f"{a}\n" for a in addresses)
    script = tree["hosts/host1/change/10-ctdb-nodes.sh"].text
    assert "run ctdb reloadnodes" in script
    assert "ctdb reloadnodes" not in tree["hosts/host4/scripts/12-ctdb.sh"].text
    # The new host's deploy answers are TO's, in its folder.
    assert "hosts/host4/data/hosted-engine-answers.conf" in tree
    assert not [p for p in tree if p.startswith("hosts/host4/change/")]


def test_el7_a_host_joining_above_an_unused_id_appends_a_comment_line() -> None:
    the_change = _change(el7(3), el7(4).replace("host_id = 4", "host_id = 5"))
    (step,) = [s for s in the_change.steps if s.slug == "ctdb-nodes"]
    assert step.data["nodes"]["after"][3:] == ["# host ID 4: no host", "192.168.122.14"]
    # ctdb status counts the commented line as a deleted node and lists the others by PNN.
    assert step.data["nodes"]["after_status"][0] == "nodes:5"
    assert step.data["nodes"]["after_status"][-1] == "pnn:4 192.168.122.14"


def test_el7_a_host_joining_with_an_id_inside_froms_says_why() -> None:
    with pytest.raises(confgen.ChangeError) as caught:
        _change(*REFUSED["an el7 host joining with a host ID inside FROM's"][:2])
    (problem,) = caught.value.problems
    assert problem.path == "hosts[3].host_id"
    assert "MUST be added to the end" in problem.message and "above 4" in problem.message


def test_el7_a_host_joins_after_froms_retired_host_ids() -> None:
    """FROM's nodes file reaches line 5 (a host of ID 5 left): a host that joins as ID 4
    would take a line inside it, and is refused; as ID 6 it takes the line after."""
    before = el7(3, retired=(5,))
    ((side, problem),) = _change_error(before, el7(4, retired=(5,)))
    assert (side, problem.path) == (TO, "hosts[3].host_id")
    assert "the highest 5" in problem.message and "above 5" in problem.message
    joined = _change(before, el7(4, retired=(5,)).replace("host_id = 4", "host_id = 6"))
    step = next(s for s in joined.steps if s.slug == "ctdb-nodes")
    assert step.data["nodes"]["after"][3:] == [
        "# host ID 4: no host",
        "# host ID 5: no host",
        "192.168.122.14",
    ]


def test_a_vip_whose_nic_or_prefix_changes_is_reloaded_in_two_steps() -> None:
    from confgen.components.ctdb_change import vip_change

    moved = vip_change(
        ("10.0.0.1/24 eth0", "10.0.0.2/24 eth0"), ("10.0.0.1/24 eth0", "10.0.0.2/24 eth1")
    )
    assert moved.moved == ("10.0.0.2",)
    assert moved.between == ("10.0.0.1/24 eth0",)
    plain = vip_change(("10.0.0.1/24 eth0",), ("10.0.0.1/24 eth0", "10.0.0.3/24 eth0"))
    assert plain.between is None and not plain.moved


def _replica(text: str, count: int, *names: str) -> str:
    for name in names:
        text = text.replace(f'name = "{name}",', f'name = "{name}", replica = {count},')
    return text


LEAVE_FROM = _replica(
    el7(4, (*SEED_VOLUMES[::2], ("data", (1, 2, 4), True), ("vm", (1, 2, 3, 4), False))), 2, "vm"
)
LEAVE_TO = _replica(
    el7(3, (*SEED_VOLUMES[::2], ("data", (1, 2), True), ("vm", (1, 2), False)), retired=(4,)),
    2,
    "vm",
    "data",
)


def test_the_highest_host_id_leaves_only_as_a_retired_id() -> None:
    """Without host4's ID in TO's ctdb.retired_host_ids, TO's nodes file would end a line
    early: refused on that key, with the line to write."""
    ((side, problem),) = _change_error(LEAVE_FROM, LEAVE_TO.replace("retired_host_ids = [4]", ""))
    assert (side, problem.path) == (TO, "ctdb.retired_host_ids")
    assert "write retired_host_ids = [4] under [ctdb]" in problem.message


def test_el7_host_leaves_plan() -> None:
    the_change = _change(LEAVE_FROM, LEAVE_TO)
    assert the_change.hosts.left == ("host4",)
    assert [(s.slug, s.hosts) for s in the_change.steps] == [
        ("remove-bricks", ("host1",)),
        ("leave-services", ("host4",)),
        ("ctdb-nodes", ("host1",)),
        ("gluster-detach", ("host1",)),
    ]
    pool = the_change.steps[0].data["pool"]
    brick = "host{}.example.com:/gluster/{}/brick".format
    assert [(s["name"], s["replica"], s["removed"]) for s in pool["shrink"]] == [
        ("data", 2, [brick(4, "data")]),
        ("vm", None, [brick(3, "vm"), brick(4, "vm")]),
    ]
    assert pool["detach"] == [{"peer": "host4.example.com", "address": "192.168.122.14"}]
    tree = confgen.render_change(the_change)
    # host4's folder is FROM's: its day-1 files, stamped, with its change script.
    assert "hosts/host4/change/02-leave-services.sh" in tree
    assert "hosts/host4/scripts/00-preflight.sh" in tree
    remove = tree["hosts/host1/change/01-remove-bricks.sh"].text
    assert f"volume remove-brick data replica 2 {brick(4, 'data')} force" in remove
    assert f"start_removal vm {brick(3, 'vm')} {brick(4, 'vm')}\n" in remove
    assert f"volume remove-brick vm {brick(3, 'vm')} {brick(4, 'vm')} commit" in remove
    assert "run gluster --mode=script peer detach host4.example.com" in (
        tree["hosts/host1/change/04-gluster-detach.sh"].text
    )
    # host4 had the highest ID: its line stays, commented, as TO's retired ID 4 has it.
    nodes = tree["hosts/host1/files/mnt/lock/nodes"].text
    assert nodes == "192.168.122.11\n192.168.122.12\n192.168.122.13\n# host ID 4: no host\n"
    assert "hosts/host1/data/change/nodes" not in tree
    runbook = tree["CHANGE.md"].text
    assert "| host4 | host4.example.com | leaves" in runbook
    assert "--clean-metadata came with 1.3" in runbook


def _without(text: str, host: str) -> str:
    """A cluster file with one host's table taken out."""
    return "\n\n".join(p for p in text.split("\n\n") if f'name = "{host}"' not in p)


def test_a_host_below_the_highest_id_leaves_with_the_nodes_file_of_to() -> None:
    volumes = tuple((name, (1, 2, 4), existing) for name, _, existing in SEED_VOLUMES)
    the_change = _change(el7(4, volumes), _without(el7(4, volumes), "host3"))
    assert the_change.hosts.left == ("host3",)
    assert [s.slug for s in the_change.steps] == ["leave-services", "ctdb-nodes", "gluster-detach"]
    step = next(s for s in the_change.steps if s.slug == "ctdb-nodes")
    assert step.files == {}  # TO's own nodes file: host3's line is a comment there
    assert step.data["nodes"]["after"][2] == "# host ID 3: no host"
    assert step.data["nodes"]["source"] == "files/mnt/lock/nodes"


def test_el9_hosts_leave_plan() -> None:
    the_change = _change(el9(6, (("engine", (1, 2, 3)), ("data", (1, 2, 3, 4, 5, 6)))), el9(3))
    assert the_change.hosts.left == ("hv4", "hv5", "hv6")
    # The bricks first (the engine refuses to remove a host that holds one), then the
    # engine's side from the first host, then the peers the engine did not detach.
    assert [(s.slug, s.hosts) for s in the_change.steps] == [
        ("remove-bricks", ("hv1",)),
        ("engine-remove-hosts", ("hv1",)),
        ("gluster-detach", ("hv1",)),
    ]
    engine = the_change.steps[1]
    assert engine.data["leave"]["hosts"] == [
        {"name": f"hv{i}", "fqdn": f"hv{i}.lab.example"} for i in (4, 5, 6)
    ]
    tree = confgen.render_change(the_change)
    # No folder for the hosts that leave: every step runs on hv1.
    assert not any(path.startswith("hosts/hv4/") for path in tree)
    script = tree["hosts/hv1/change/02-engine-remove-hosts.sh"].text
    for i in (4, 5, 6):
        assert f'step "Take hv{i} (hv{i}.lab.example) out of the engine"' in script
    assert "<undeploy_hosted_engine>true</undeploy_hosted_engine>" in script
    assert "<authentication_method>publickey</authentication_method>" in script
    assert 'api DELETE "/hosts/$id"' in script
    runbook = tree["CHANGE.md"].text
    assert "| hv4 | hv4.lab.example | leaves: its bricks taken out, taken out of the engine" in (
        runbook
    )


def test_el9_a_host_without_bricks_leaves_by_the_engine_and_the_pool() -> None:
    the_change = _change(el9(4), el9(3))
    assert [s.slug for s in the_change.steps] == ["engine-remove-hosts", "gluster-detach"]


def test_el9_whole_replica_sets_out_on_kept_hosts() -> None:
    volumes = (("engine", (1, 2, 3)), ("data", (1, 2, 3, 4, 5, 6)))
    the_change = _change(el9(6, volumes), el9(6))
    assert [(s.slug, s.hosts) for s in the_change.steps] == [("remove-bricks", ("hv1",))]


REFUSED = {
    # vm lives on the hosts that leave alone: TO deletes it, which a change does not do.
    "an el9 volume gone with the hosts that leave": (
        el9(6, (("engine", (1, 2, 3)), ("data", (1, 2, 3)), ("vm", (4, 5, 6)))),
        el9(3),
        {(FROM, "gluster.volumes[2]")},
    ),
    "a renamed host": (
        el9(4),
        el9(4).replace('"hv4"', '"hv9"').replace("hv4.", "hv9."),
        {(TO, "hosts[3].name")},
    ),
    "a renamed volume": (
        el9(3),
        el9(3, (("engine", (1, 2, 3)), ("store", (1, 2, 3)))),
        {(TO, "gluster.volumes[1].name")},
    ),
    "a volume deleted": (
        el9(4, (("engine", (1, 2, 3)), ("data", (1, 2, 3)), ("vm", (2, 3, 4)))),
        el9(4),
        {(FROM, "gluster.volumes[2]")},
    ),
    "a brick path changed": (
        el9(3),
        el9(3).replace(
            'name = "data", hosts', 'name = "data", brick_dir = "/gluster_bricks/d2", hosts'
        ),
        {(TO, "gluster.volumes[1].brick_dir")},
    ),
    "bricks taken out": (
        el9(4),
        el9(4, (("engine", (1, 2, 3)), ("data", (1, 2, 4)))),
        {(TO, "gluster.volumes[1].hosts")},
    ),
    "a replica count changed": (
        el7(3),
        el7(3, (*SEED_VOLUMES[:2], ("meta", (1,), False))).replace(
            'name = "meta",', 'name = "meta", replica = 1,'
        ),
        {(TO, "gluster.volumes[2].replica")},
    ),
    "a target change": (el9(3), el7(3), {(TO, "target")}),
    "an el7 host joining with a host ID inside FROM's": (
        el7(3).replace("host_id = 3", "host_id = 4"),
        el7(4)
        .replace("host_id = 3", "host_id = 9")
        .replace("host_id = 4", "host_id = 3")
        .replace("host_id = 9", "host_id = 4"),
        {(TO, "hosts[3].host_id")},
    ),
    # Replica 3 on four hosts: one more host is no whole replica set, and TO is invalid.
    "an el7 volume grown by one host": (
        el7(3),
        el7(4, (SEED_VOLUMES[0], ("data", (1, 2, 3, 4), True), SEED_VOLUMES[2])),
        {(TO, "gluster.volumes[1].hosts")},
    ),
    "a host leaving takes part of a replica set": (
        LEAVE_FROM,
        _replica(el7(3, (*SEED_VOLUMES, ("vm", (1, 3), False))), 2, "vm"),
        {(TO, "gluster.volumes[3].hosts")},
    ),
    "a replica count lowered to 1": (
        el7(4, (*SEED_VOLUMES, ("vm", (2, 3, 4), False))),
        _replica(el7(3, (*SEED_VOLUMES, ("vm", (2,), False))), 1, "vm"),
        {(TO, "gluster.volumes[3].replica")},
    ),
    "the first host leaving": (
        el7(4, (*SEED_VOLUMES[:2], ("meta", (1, 2, 3), False))),
        _without(el7(4), "host1"),
        {(FROM, "hosts[0]")},
    ),
    "the mount VIP moved": (
        el7(3),
        el7(3, vips=(("192.168.122.201/24", "eth0"),)),
        {(TO, "ctdb.vips[0].address")},
    ),
    "an el9 firewall rule removed": (
        el9(3, extra_ports=(9100,)),
        el9(3),
        {(TO, "firewall.extra_rules")},
    ),
    "a key no transition takes": (
        el9(3),
        el9(3).replace("ovirt-engine.", "engine2."),
        {(TO, "hosted_engine.fqdn")},
    ),
    "a kept host's address": (
        el9(3),
        el9(3).replace("10.10.0.13", "10.10.0.23"),
        {(TO, "hosts[2].interfaces.mgmt.address")},
    ),
    "the first host moved": (
        el9(3),
        el9(3)
        .replace("host_id = 1\nfirst = true\n", "host_id = 1\n")
        .replace("host_id = 2\n", "host_id = 2\nfirst = true\n"),
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_by_key_path(case: str) -> None:
    before, after, expected = REFUSED[case]
    found = _refused(before, after)
    if expected is None:  # validation itself refuses the first host anywhere but ID 1
        assert found and all(side == TO for side, _ in found), found
    else:
        assert expected <= found, found
        assert {side for side, _ in found} <= {FROM, TO}


# A replaced host's steps on ovirt45-el9: its day-1 steps up to its firewall (a new machine's),
# its glusterd back in the pool (a new machine's), its dead brick filesystems forgotten, its
# brick step, its bricks put back.
REPLACED_STEPS = (
    "preflight",
    "install-packages",
    "firewall",
    "rejoin-pool",
    "replace-disk",
    "brick-storage",
    "reset-bricks",
)


def test_replace_on_el9_puts_the_new_disks_bricks_back_first() -> None:
    """--replace hv2 with a volume grown beside it: hv2's own steps come first (up to the
    reset-brick step that waits for heal info 0), then the rest; the new disk may have another
    device name."""
    grown = (("engine", (1, 2, 3)), ("data", (1, 2, 3, 4, 5, 6)))
    after = el9(6, grown).replace(
        'host_id = 2\nbrick_device = "/dev/sdb"', 'host_id = 2\nbrick_device = "/dev/sdc"'
    )
    the_change = _change(el9(6), after, replace=["hv2"])
    steps = [(s.slug, s.hosts) for s in the_change.steps]
    assert steps[:7] == [(slug, ("hv2",)) for slug in REPLACED_STEPS], steps
    # Then the engine's side, from a host that keeps its root disk, before anything else.
    assert steps[7] == ("engine-reinstall", ("hv1",)), steps
    assert ("add-bricks", ("hv1",)) in steps[8:], steps
    assert the_change.hosts.replaced == ("hv2",)
    reset = the_change.steps[6]
    (replacement,) = reset.data["pool"]["replace"]
    assert [(b["volume"], b["brick"], b["others"]) for b in replacement["bricks"]] == [
        (
            v,
            f"10.20.0.12:/gluster_bricks/{v}/brick",
            [f"10.20.0.1{i}:/gluster_bricks/{v}/brick" for i in (1, 3)],
        )
        for v in ("engine", "data")
    ]
    # What CHANGE.md has the administrator check before going on: nothing left to heal.
    assert [c.command for c in reset.checks] == [
        "gluster volume heal engine info",
        "gluster volume heal data info",
    ]
    assert reset.data["before_peers"] == [
        {"peer": f"10.20.0.1{i}", "address": f"10.20.0.1{i}"} for i in (1, 3, 4, 5, 6)
    ]
    tree = confgen.render_change(the_change)
    script = tree.files["hosts/hv2/change/07-reset-bricks.sh"].text
    brick = "10.20.0.12:/gluster_bricks/data/brick"
    assert f"run gluster volume reset-brick data {brick} start\n" in script
    assert f"run gluster volume reset-brick data {brick} {brick} commit force\n" in script
    assert "heal_full data\n" in script
    runbook = tree.files["CHANGE.md"].text
    assert "| hv2 | hv2.lab.example | replaced:" in runbook
    # A host booted with its old disk gone stops at the emergency shell: CHANGE.md says so,
    # and what to type there.
    assert "OnFailure=emergency.target" in runbook and "add `nofail`" in runbook
    assert (
        "OnFailure=emergency.target"
        not in confgen.render_change(_change(el9(3), el9(4))).files["CHANGE.md"].text
    )


def test_replace_two_hosts_one_at_a_time() -> None:
    """Each replaced host's Gluster side in turn, then the engine's side of both from a host
    neither is (the first; with the first replaced, the next that is kept)."""
    the_change = _change(el9(4), el9(4), replace=["hv3", "hv2"])
    assert [(s.slug, s.hosts) for s in the_change.steps] == [
        (slug, (name,)) for name in ("hv2", "hv3") for slug in REPLACED_STEPS
    ] + [("engine-reinstall", ("hv1",))]
    step = the_change.steps[-1]
    assert [h["name"] for h in step.data["reinstall"]["hosts"]] == ["hv2", "hv3"]
    assert [h["in_engine"] for h in step.data["reinstall"]["hosts"]] == ["hv2", "hv3"]
    # The first host is in the engine under its FQDN, as its deploy added it.
    first_replaced = _change(el9(4), el9(4), replace=["hv1"])
    assert first_replaced.steps[-1].slug == "engine-reinstall"
    assert first_replaced.steps[-1].hosts == ("hv2",)
    (first,) = first_replaced.steps[-1].data["reinstall"]["hosts"]
    assert first["in_engine"] == first_replaced.after.first.host.fqdn != "hv1"


# A replaced host's steps on ovirt35-el7: its day-1 steps up to its firewall (a new
# machine's), its glusterd back in the pool (a new machine's), its dead brick filesystem
# forgotten, made again, its bricks put back; then its day-1 NFS options, CTDB node and units,
# and its hosted-engine deploy (a new machine's: a re-deployment under its host ID).
EL7_REPLACED = [
    "preflight",
    "selinux-and-hosts",
    "install-packages",
    "firewall",
    "rejoin-pool",
    "replace-disk",
    "brick-storage",
    "reset-bricks",
    "nfsmount-conf",
    "ctdb",
    "systemd-units",
    "hosted-engine-deploy",
    "restore-firewall",
]


def test_replace_on_el7_refused_where_a_set_would_lack_quorum() -> None:
    the_change = _change(el7(3), el7(3), replace=["host2"])
    assert [(s.slug, s.hosts) for s in the_change.steps] == [(s, ("host2",)) for s in EL7_REPLACED]
    # The first host has no deploy of its own (part one deployed the engine there).
    first = _change(el7(3), el7(3), replace=["host1"])
    assert [s.slug for s in first.steps] == EL7_REPLACED[:-2]
    assert "Before the hosted-engine deploy step" not in "".join(first.notes)
    assert "Before the hosted-engine deploy step of a new machine (host2)" in "".join(
        the_change.notes
    )
    # vm is replica 2 on host1 and host2: with host1's brick (the first of the set) down, the
    # set takes no write, and the copies cannot be marked to heal from.
    text = el7(3, (*SEED_VOLUMES, ("vm", (1, 2), False))).replace(
        'name = "vm",', 'name = "vm", replica = 2,'
    )
    found = _change_error(text, text, replace=["host1"])
    assert [(side, p.path) for side, p in found] == [(TO, "hosts[0]")]
    ((_, problem),) = found
    assert "first brick of a replica 2 set" in problem.message
    assert "gluster volume heal VOL full" in problem.message
    # host2's brick is the second: the set keeps its quorum without it.
    assert _change(text, text, replace=["host2"]).steps


def test_replace_refused_for_a_host_not_kept() -> None:
    assert (TO, "hosts") in _refused(el9(3), el9(3), replace=["nohost"])
    assert (TO, "hosts") in _refused(el9(4), el9(3), replace=["hv4"])
    assert (TO, "hosts") in _refused(el7(4), el7(3, retired=(4,)), replace=["host4"])


def _change_error(before: str, after: str, **kw: object) -> list[tuple[str, confgen.Problem]]:
    with pytest.raises(confgen.ChangeError) as caught:
        _change(before, after, **kw)
    return list(zip(caught.value.sides, caught.value.problems, strict=True))


def test_every_refusal_says_how_by_hand_or_why() -> None:
    with pytest.raises(confgen.ChangeError) as caught:
        _change(el9(6, (("engine", (1, 2, 3)), ("data", (1, 2, 3)), ("vm", (4, 5, 6)))), el9(3))
    (problem,) = caught.value.problems
    assert "not yet supported by confgen change" in problem.message
    assert "gluster volume stop vm" in problem.message


def test_nothing_to_do() -> None:
    # The same cluster, written another way (the default mount point spelt out).
    text = el9(3)
    the_change = _change(text, text.replace("\n\n[hosted_engine]", "\n\n[hosted_engine]"))
    assert the_change.nothing_to_do
    tree = confgen.render_change(the_change)
    assert list(tree) == ["CHANGE.md"]
    assert "Nothing to do" in tree["CHANGE.md"].text
    assert not differences(confgen.loads(text), confgen.loads(text))


def test_the_same_pair_gives_the_same_bytes() -> None:
    pair = (el9(3), el9(6, (("engine", (1, 2, 3)), ("data", (1, 2, 3, 4, 5, 6)))))
    first = confgen.render_change(_change(*pair))
    second = confgen.render_change(_change(*pair))
    assert dict(first) == dict(second)
    assert [p for p in first if p.startswith("hosts/hv1/change/")]


def test_each_host_folder_is_stamped_as_one_render() -> None:
    tree = confgen.render_change(
        _change(el9(3), el9(4, (("engine", (1, 2, 3)), ("data", (1, 2, 3)))))
    )
    import hashlib

    for folder in {"/".join(p.split("/")[:2]) for p in tree if p.startswith("hosts/")}:
        stamp = tree[f"{folder}/render.sha256"].text
        listed = {
            line.split("  ", 1)[1]: line.split("  ", 1)[0]
            for line in stamp.splitlines()
            if line and not line.startswith("#")
        }
        own = {p[len(folder) + 1 :]: f for p, f in tree.items() if p.startswith(folder + "/")}
        own.pop("render.sha256")
        assert set(listed) == set(own), folder
        for path, file in own.items():
            assert listed[path] == hashlib.sha256(file.text.encode()).hexdigest(), path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "confgen", *args], capture_output=True, text=True)


def test_cli_change_writes_the_tree_and_says_so(tmp_path: Path) -> None:
    before, after = tmp_path / "from.toml", tmp_path / "to.toml"
    before.write_text(el9(3))
    after.write_text(el9(6, (("engine", (1, 2, 3)), ("data", (1, 2, 3, 4, 5, 6)))))
    out = tmp_path / "out"
    done = _cli("change", str(before), str(after), str(out))
    assert done.returncode == 0, done.stderr
    assert "CHANGE.md" in done.stdout
    assert (out / ".confgen-manifest.json").is_file()
    assert f"from {before.name} to {after.name}" in (out / "CHANGE.md").read_text()
    again = _cli("change", str(before), str(before), str(tmp_path / "none"))
    assert again.returncode == 0 and "nothing to do" in again.stdout, again


def test_cli_change_errors_name_the_file_and_key_without_traceback(tmp_path: Path) -> None:
    before, after = tmp_path / "from.toml", tmp_path / "to.toml"
    before.write_text(el9(4))
    after.write_text(el9(3).replace("hv1.lab", "hv1..lab"))
    done = _cli("change", str(before), str(after), str(tmp_path / "out"))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"{after}:" in done.stderr and "hosts[0].fqdn" in done.stderr, done.stderr
    # vm is on the hosts that leave alone: deleting it is refused, by FROM's key.
    before.write_text(el9(6, (("engine", (1, 2, 3)), ("data", (1, 2, 3)), ("vm", (4, 5, 6)))))
    after.write_text(el9(3))
    done = _cli("change", str(before), str(after), str(tmp_path / "out"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{before}:" in done.stderr and "gluster.volumes[2]" in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()
    done = _cli("change", str(before), str(tmp_path / "missing.toml"), str(tmp_path / "out"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "missing.toml" in done.stderr
    assert _cli("change", str(before)).returncode == 2
    assert "FROM" in _cli("change", "--help").stdout
