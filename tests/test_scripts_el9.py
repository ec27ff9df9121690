"""The target ovirt45-el9's scripts, run unchanged under bash on the fake cluster.

Every host starts as a minimal EL9 install (fakehost.py, FakeCluster._fresh_el9); the steps
that ask at a terminal get one, with the administrator's answers typed ahead; curl is the real
one, talking TLS to the fake engine (fakehost_engine.py).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings

import confgen
import fakehost_el9
import fakehost_engine
import fakehost_gluster
from fakehost import FakeCluster
from golden_cases import GOLDEN, golden_cases
from strategies import el9_clusters, to_toml
from test_scripts import _run_in_order

CASES = golden_cases("ovirt45-el9")
THREE_HOSTS = (GOLDEN / "el9-3host" / "cluster.toml").read_text()


def _step(fake: FakeCluster, slug: str) -> confgen.planner.Step:
    return next(s for s in fake.plan.steps if s.slug == slug)


def _check_bricks(fake: FakeCluster, name: str) -> None:
    """The brick storage of a host that holds bricks, as gluster-ansible lays it out: a logical
    volume for each volume it holds a brick of and for no other, the engine's thick and the
    others thin in the pool; each its own XFS filesystem, mounted by UUID at its mount point
    from one fstab line, labelled for glusterd; the brick disk blacklisted for multipathd by
    the WWID udev gives it, where multipath knows it by one."""
    plan = fake.plan
    fs = plan.cluster.gluster.brick_fs
    storage = plan.brick_storage[name]
    me = fake.state["hosts"][name]
    root = fake.root(name)
    [group] = me["volume_groups"].values()
    lvs = group["lvs"]
    expected = {b.logical_volume: ("V" if b.thin else "-") for b in storage.volumes}
    if storage.thin:
        expected[fs.thin_pool] = "t"
    assert {n: lv["attr"] for n, lv in lvs.items()} == expected, name
    for brick in storage.thin:
        assert lvs[brick.logical_volume]["pool"] == fs.thin_pool
    fstab = (root / "etc/fstab").read_text()
    devices = set()
    for brick in storage.volumes:
        lines = re.findall(
            rf"^UUID=(\S+) {re.escape(brick.mount_point)} xfs inode64,noatime,nodiratime 0 0$",
            fstab,
            re.M,
        )
        assert lines == [me["uuids"][brick.device]], fstab
        assert me["mounted_devices"][brick.mount_point] == brick.device
        assert me["devices"][brick.device] == "xfs"
        assert me["labels"][brick.mount_point] == "glusterd_brick_t"
        devices.add(brick.device)
    assert len(devices) == len(storage.volumes)  # a filesystem of its own for each brick
    made = [a for h, a in fake.changes() if h == name and a[0] == "mkfs.xfs"]
    assert sorted(a[-1] for a in made) == sorted(devices)
    assert all("-K" in a and "-f" not in a for a in made), made
    blacklist = root / "etc/multipath/conf.d/confgen-bricks.conf"
    disk = me["disks"][storage.device]
    wwid = disk["properties"].get("ID_SERIAL") or disk["properties"].get("ID_WWN")
    if wwid is None:
        assert not blacklist.exists()
    else:
        assert f'blacklist {{\n    wwid "{wwid}"\n}}\n' in blacklist.read_text()


def _check_built(fake: FakeCluster) -> None:
    """What the runbook promises once every step has run: the plan, on every host."""
    plan = fake.plan
    cluster = plan.cluster
    state = fake.state
    zone = plan.firewall_zone or "public"
    for host in plan.hosts:
        me = state["hosts"][host.name]
        # Packages, with the services they bring, and firewalld serving them in the zone.
        assert {"ovirt-hosted-engine-setup", "glusterfs-server", "vdsm-gluster"} <= set(
            me["packages"]
        )
        assert {"firewalld", "NetworkManager", "glusterd", "chronyd"} <= set(me["enabled"]) & set(
            me["active"]
        )
        runtime = me["firewall"]["runtime"][zone]
        assert {"vdsm", "glusterfs", "ovirt-imageio", "libvirt-tls"} <= set(runtime["services"])
        if zone == "confgen":
            assert sorted(runtime["sources"]) == sorted(plan.firewall_sources)
        # What the engine's host deploy opened (in the default zone) reaches this host from
        # every network of the cluster, whichever zone firewalld applies to it.
        for network in cluster.networks:
            applied = me["firewall"]["runtime"][
                fakehost_el9.zone_of_source(me, str(network.cidr.network_address + 1))
            ]
            services, ports = set(applied["services"]), set(applied["ports"])
            assert set(fakehost_el9.HOST_DEPLOY_SERVICES) <= services, (network, services)
            opened = ports | ({"22/tcp"} if "ssh" in services else set())
            assert set(fakehost_el9.HOST_DEPLOY_PORTS) <= opened, (network, ports)
        root = fake.root(host.name)
        hosts_file = (root / "etc/hosts").read_text()
        for other in plan.hosts:
            assert other.host.fqdn in hosts_file
        if not host.brick_dirs:  # a host that holds no brick leaves its device alone
            touched = [
                a for h, a in fake.changes() if h == host.name and a[0] in ("pvcreate", "mkfs.xfs")
            ]
            assert touched == [], host.name
            assert me["volume_groups"] == {}, host.name
        else:
            _check_bricks(fake, host.name)
        # Every peer knows every other by its storage name, the first host included (by the
        # name it was probed back by, among its other names).
        status = fakehost_gluster.answer(state, me, ["peer", "status"])[1]
        for other in plan.hosts:
            if other is not host:
                assert re.search(rf"^(Hostname: )?{re.escape(other.peer)}$", status, re.M), status
        # Every host is a hosted-engine host, with an ID of its own.
        conf = (root / "etc/ovirt-hosted-engine/hosted-engine.conf").read_text()
        assert f"storage={plan.engine_domain.connection}" in conf.splitlines()
        assert (root / fakehost_engine.CA.lstrip("/")).read_text() == state["engine"]["ca_pem"]
    ids = [
        (fake.root(h.name) / "etc/ovirt-hosted-engine/hosted-engine.conf").read_text()
        for h in plan.hosts
    ]
    assert len(set(ids)) == len(plan.hosts)
    for volume in plan.volumes:
        made = state["volumes"][volume.name]
        assert made["bricks"] == [str(b) for b in volume.bricks]
        assert made["replica"] == volume.replica and made["status"] == "Started"
        options = dict(made["options"])
        assert options["storage.owner-uid"] == "36" and options["features.shard"] == "on"
        assert options["network.remote-dio"] == "off"
    engine = state["engine"]
    # The deploy answered the data center and the cluster with its Gluster service on.
    he = cluster.hosted_engine
    assert engine["clusters"][he.cluster] == {
        "data_center": he.data_center,
        "gluster_service": True,
    }
    assert engine["keycloak"] is he.keycloak
    assert all(h["status"] == "up" for h in engine["hosts"].values())
    # No host rebooted with two bricks of a replica set bad at once (fakehost_engine.py).
    assert engine.get("quorum_lost", []) == []
    assert len(engine["hosts"]) == len(plan.hosts)
    attached = {n for n, d in engine["storage_domains"].items() if d["attached"]}
    assert attached == {"hosted_storage"} | {d.name for d in plan.data_domains}


@pytest.mark.parametrize("case", CASES)
def test_the_runbook_builds_the_cluster_and_a_rerun_changes_nothing(
    case: str, tmp_path: Path
) -> None:
    fake = FakeCluster.rendered(tmp_path, (GOLDEN / case / "cluster.toml").read_text())
    _run_in_order(fake, dry_first=True)
    _check_built(fake)
    before, changes = fake.snapshot(), len(fake.changes())
    _run_in_order(fake, dry_first=False)
    assert fake.changes()[changes:] == [] and fake.snapshot() == before


# One drawn cluster a run (a minute or two on CI's 2 cores, within its 50 minutes); the golden
# clusters run through the same steps (test_the_runbook_builds_the_cluster...).
@settings(
    max_examples=1,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=el9_clusters(max_hosts=6))
def test_every_valid_el9_cluster_runs_through_dry_run_and_rerun_without_change(
    data: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """check passes => every script of every host, in runbook order, runs to completion on the
    fake cluster; each dry run changes nothing and prints the commands the real run makes; a
    second run of each, and of the whole runbook, changes nothing; the cluster is built."""
    text = to_toml(data)
    errors = [
        p for p in confgen.validate(confgen.loads(text)) if p.severity is confgen.Severity.ERROR
    ]
    assume(not errors)
    fake = FakeCluster.rendered(tmp_path_factory.mktemp("el9"), text)
    _run_in_order(fake, dry_first=True)
    _check_built(fake)
    before, changes = fake.snapshot(), len(fake.changes())
    _run_in_order(fake, dry_first=False)
    assert fake.changes()[changes:] == [] and fake.snapshot() == before


def test_a_device_with_a_signature_is_not_formatted(tmp_path: Path) -> None:
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    fake.run_through(3)
    fake.state["hosts"]["host2"]["devices"]["/dev/vdb"] = "xfs"
    fake.save()
    changes = len(fake.changes())
    result = fake.run("host2", "03-brick-storage.sh")
    assert result.returncode == 1
    assert "/dev/vdb is not empty (DEVNAME=/dev/vdb TYPE=xfs" in result.stderr
    assert fake.changes()[changes:] == []
    allowed = fake.run("host2", "03-brick-storage.sh", CONFGEN_WIPE_DEVICE="/dev/vdb")
    assert allowed.returncode == 0, allowed.stderr
    made = [argv[0] for _, argv in fake.changes()[changes:]]
    assert made.index("wipefs") < made.index("pvcreate") < made.index("mkfs.xfs")


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (4, "glusterd does not answer on: host2.example.com host3.example.com"),
        (5, "host1 is not in this host's trusted pool: run step 04 on host1 first"),
        (7, "volume engine is not started: run step 06 first"),
        (8, "/etc/pki/vdsm/certs/cacert.pem is missing: the hosted-engine deploy"),
    ],
)
def test_a_step_run_too_early_stops_and_says_what_to_do(
    tmp_path: Path, step: int, message: str
) -> None:
    """Each on its host, with the steps before the one it needs done (for step 04: step 03
    done on host1 alone)."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    the_step = next(s for s in fake.plan.steps if s.number == step)
    needed = the_step.after[0].number
    fake.run_through(needed)
    if step == 4:
        assert fake.run("host1", "03-brick-storage.sh").returncode == 0
    before, changes = fake.snapshot(), len(fake.changes())
    result = fake.run(the_step.hosts[0], the_step.script)
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert fake.changes()[changes:] == [] and fake.snapshot() == before


def test_the_firewall_step_before_the_packages_fails_on_the_glusterfs_service(
    tmp_path: Path,
) -> None:
    """glusterfs.xml comes with glusterfs-server: firewalld does not know the service before
    step 01 installed it, and the step fails rather than leave the port closed."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    result = fake.run("host2", "02-firewall.sh")
    assert result.returncode != 0
    assert "INVALID_SERVICE: 'glusterfs'" in result.stderr


def test_a_wrong_admin_password_adds_no_host(tmp_path: Path) -> None:
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    add_hosts = _step(fake, "add-hosts")
    fake.run_through(add_hosts.number)
    fake.state["engine"]["admin_password"] = "another password"
    fake.save()
    result = fake.run("host1", add_hosts.script)
    assert result.returncode != 0
    assert (
        "the engine's SSO refused admin@ovirt@internalsso: Cannot authenticate user "
        "'admin@ovirt@internalsso': The username or password is incorrect.." in result.stderr
    ), result.stderr
    assert list(fake.state["engine"]["hosts"]) == ["host1.example.com"]


def test_the_root_password_reaches_the_engine_whole(tmp_path: Path) -> None:
    """A password with XML's special characters is escaped in the request, not broken."""
    assert set("<&>") <= set(fakehost_engine.ROOT_PASSWORD)
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    add_hosts = _step(fake, "add-hosts")
    fake.run_through(add_hosts.number)
    result = fake.run("host1", add_hosts.script)
    assert result.returncode == 0, result.stderr
    assert sorted(fake.state["engine"]["hosts"]) == [
        "host1.example.com",
        "host2",
        "host3",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"host3.example.com": None},
            "host3.example.com resolves to nothing in DNS, not 192.168.122.13; "
            "192.168.122.13 resolves back to nothing in DNS, not host3.example.com",
        ),
        (
            {"host2.example.com": "192.168.122.99"},
            "host2.example.com resolves to 192.168.122.99 in DNS, not 192.168.122.12",
        ),
        ({"engine.example.com": None}, "engine.example.com resolves to nothing in DNS"),
    ],
)
def test_the_deploy_waits_for_dns_of_every_host(
    tmp_path: Path, change: dict[str, str | None], message: str
) -> None:
    """The engine resolves hosts through DNS alone; the hosts' /etc/hosts (which names them all)
    does not count."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    deploy = _step(fake, "hosted-engine-deploy")
    fake.run_through(deploy.number)
    for name, address in change.items():
        if address is None:  # gone from DNS: its address record and its reverse one
            gone = fake.state["dns"].pop(name)
            fake.state["ptr"].pop(gone)
        else:  # a forward record changed, the reverse one left as it was
            fake.state["dns"][name] = address
    fake.save()
    before, changes = fake.snapshot(), len(fake.changes())
    result = fake.run("host1", deploy.script)
    assert result.returncode == 1
    assert f"names do not resolve as planned: {message}. Put every host's name" in result.stderr, (
        result.stderr
    )
    assert fake.changes()[changes:] == [] and fake.snapshot() == before


def test_rhel_itself_enables_its_repositories_before_the_packages(tmp_path: Path) -> None:
    """On RHEL (not a rebuild) oVirt's packages need CodeReady Builder and Resilient Storage:
    the install step enables them, once."""
    text = THREE_HOSTS.replace(
        "# [packages]", "[packages]\nrhel_rebuild = true\nrhel_subscription = true\n"
    )
    fake = FakeCluster.rendered(tmp_path, text)
    install = fake.plan.first_step("install-packages")
    result = fake.run("host1", install.script)
    assert result.returncode == 0, result.stdout + result.stderr
    me = fake.state["hosts"]["host1"]
    assert sorted(me["repos"]) == sorted(fakehost_el9.RHEL_REPOSITORIES)
    assert "ovirt-hosted-engine-setup" in me["packages"]
    changes = len(fake.changes())
    assert fake.run("host1", install.script).returncode == 0
    assert fake.changes()[changes:] == []


def test_rhel_subscription_needs_the_rebuild_path() -> None:
    text = THREE_HOSTS.replace("# [packages]", "[packages]\nrhel_subscription = true\n")
    problems = [str(p) for p in confgen.validate(confgen.loads(text))]
    assert any(
        "packages.rhel_subscription: RHEL itself takes the release packages from CentOS "
        "Stream's extras-common repository, as its rebuilds do: set rhel_rebuild = true as well"
        in p
        for p in problems
    ), problems


def test_the_engines_brick_has_a_filesystem_of_its_own(tmp_path: Path) -> None:
    """The engine's brick on a thick logical volume and XFS of its own, the data volumes' on
    thin ones in the pool: filling a data volume's filesystem leaves the engine's room alone.
    A host makes logical volumes only for the volumes it holds a brick of (hv4 to hv6 hold
    no engine brick, so no thick volume)."""
    fake = FakeCluster.rendered(tmp_path, (GOLDEN / "el9-6host" / "cluster.toml").read_text())
    fake.run_through(4)
    for name in ("hv1", "hv4"):
        me = fake.state["hosts"][name]
        mounted = me["mounted_devices"]
        lvs = me["volume_groups"]["vg_bricks"]["lvs"]
        data = mounted["/bricks/data"]
        assert data == "/dev/vg_bricks/gluster_lv_data"
        assert lvs["gluster_lv_data"]["attr"] == "V"
        assert lvs["gluster_lv_data"]["pool"] == "pool_bricks"
        if name == "hv1":
            assert mounted["/bricks/engine"] == "/dev/vg_bricks/gluster_lv_engine" != data
            assert lvs["gluster_lv_engine"] == {
                "attr": "-",
                "extents": 100 << 8,  # 100G in 4 MiB extents
                "size": 100 << 30,
                "pool": None,
            }
            assert "/bricks/vmstore" not in mounted
        else:
            assert sorted(lvs) == ["gluster_lv_data", "gluster_lv_vmstore", "pool_bricks"]
            assert mounted["/bricks/vmstore"] == "/dev/vg_bricks/gluster_lv_vmstore"
            assert lvs["gluster_lv_vmstore"]["size"] == 2 << 40
            assert "/bricks/engine" not in mounted
    pool = [a for h, a in fake.changes() if h == "hv1" and "thin-pool" in a]
    assert pool == [
        [
            "lvcreate",
            "--yes",
            "--type",
            "thin-pool",
            "--extents",
            "100%FREE",
            "--chunksize",
            "256K",
            "--poolmetadatasize",
            "1G",
            "--zero",
            "n",
            "--name",
            "pool_bricks",
            "vg_bricks",
        ]
    ]


def test_the_brick_disk_is_blacklisted_for_multipathd_by_its_wwid_once(tmp_path: Path) -> None:
    """A SCSI disk: its WWID (udev's ID_SERIAL) blacklisted in multipath's conf.d, a running
    multipathd reloaded; a second run writes nothing and reloads nothing. A virtio disk has no
    WWID multipath knows it by: no blacklist."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS.replace('"/dev/vdb"', '"/dev/sdb"'))
    fake.run_through(3)
    fake.state["hosts"]["host1"]["active"].append("multipathd")
    fake.save()
    wwid = fake.state["hosts"]["host1"]["disks"]["/dev/sdb"]["properties"]["ID_SERIAL"]
    assert wwid.startswith("36001405")
    changes = len(fake.changes())
    result = fake.run("host1", "03-brick-storage.sh")
    assert result.returncode == 0, result.stderr
    blacklist = fake.root("host1") / "etc/multipath/conf.d/confgen-bricks.conf"
    assert blacklist.read_text() == (
        "# The brick disk /dev/sdb of host1, kept from multipathd (confgen, 03-brick-storage.sh)."
        f'\nblacklist {{\n    wwid "{wwid}"\n}}\n'
    )
    made = [a for _, a in fake.changes()[changes:]]
    assert made.index(["systemctl", "reload", "multipathd"]) < made.index(
        ["pvcreate", "--dataalignment", "256K", "/dev/sdb"]
    )
    before, changes = fake.snapshot(), len(fake.changes())
    again = fake.run("host1", "03-brick-storage.sh")
    assert again.returncode == 0, again.stderr
    assert f"already blacklists {wwid}" in again.stdout
    assert fake.changes()[changes:] == [] and fake.snapshot() == before
    assert fake.run("host2", "03-brick-storage.sh").returncode == 0
    other = fake.root("host2") / "etc/multipath/conf.d/confgen-bricks.conf"
    assert other.read_text() != blacklist.read_text()  # each disk its own WWID
    virtio = FakeCluster.rendered(tmp_path / "virtio", THREE_HOSTS)
    virtio.run_through(3)
    result = virtio.run("host1", "03-brick-storage.sh")
    assert "multipath knows /dev/vdb by no WWID (subsystem 'virtio')" in result.stdout
    assert not (virtio.root("host1") / "etc/multipath/conf.d").exists()


def test_a_logical_volume_of_another_kind_stops_the_step(tmp_path: Path) -> None:
    """A plain logical volume where the thin pool belongs (a volume group made by hand, or by
    another layout) is not taken for the pool: the step stops and changes nothing more."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    fake.run_through(3)
    me = fake.state["hosts"]["host2"]
    me["devices"]["/dev/vdb"] = "LVM2_member"
    me["volume_groups"]["gluster_vg"] = {
        "extents": 500_000,
        "lvs": {"gluster_thinpool": {"attr": "-", "extents": 10, "size": 10 << 22, "pool": None}},
    }
    fake.save()
    changes = len(fake.changes())
    result = fake.run("host2", "03-brick-storage.sh")
    assert result.returncode == 1
    assert (
        "gluster_vg/gluster_thinpool exists but is not the kind of logical volume this step "
        "makes (lv_attr '-...', not 't...')" in result.stderr
    )
    assert [a[0] for _, a in fake.changes()[changes:]] == ["lvcreate"]  # the engine's alone


def test_the_old_add_hosts_call_reboots_each_host_and_two_bricks_of_a_replica_set_go_bad(
    tmp_path: Path,
) -> None:
    """POST /hosts?deploy_hosted_engine=true without reboot=false: the engine reboots each host
    it installs (its default). The step waits for each host to be up, not for the heal: host3
    goes down while host2's bricks, back, still have their missed writes to heal."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    add_hosts = _step(fake, "add-hosts")
    fake.run_through(add_hosts.number)
    scripts = fake.out / "hosts" / "host1" / "scripts"
    new = (scripts / add_hosts.script).read_text()
    assert "'/hosts?deploy_hosted_engine=true&reboot=false'" in new
    # The step as it was: the engine's defaults, and no wait for heal between hosts.
    old = new.replace("&reboot=false", "")
    old = "".join(
        line for line in old.splitlines(keepends=True) if not line.startswith('wait_until "volume ')
    )
    assert 'wait_until "volume ' in new and 'wait_until "volume ' not in old
    (scripts / "08-add-hosts-old.sh").write_text(old)
    # A script the render did not write stops every script of its folder, itself too.
    changes = len(fake.changes())
    for script in ("08-add-hosts-old.sh", add_hosts.script):
        refused = fake.run("host1", script)
        assert refused.returncode == 1
        assert "    not of this render: scripts/08-add-hosts-old.sh\n" in refused.stderr
    assert len(fake.changes()) == changes
    # The experiment runs the old step as if the render had written it: the stamp is rewritten
    # to list it.
    fake.restamp("host1")
    result = fake.run("host1", "08-add-hosts-old.sh")
    assert result.returncode == 0, result.stderr
    lost = fake.state["engine"]["quorum_lost"]
    assert {m["host"] for m in lost} == {"host3"}
    for moment in lost:
        assert [b.split(":")[0] for b in moment["offline"]] == [
            fake.state["hosts"]["host3"]["peer"]
        ]
        assert [b.split(":")[0] for b in moment["healing"]] == [
            fake.state["hosts"]["host2"]["peer"]
        ]
    assert {m["volume"] for m in lost} == {v.name for v in fake.plan.volumes}


# The engine's REST API called directly, on a fake cluster whose engine is deployed (as the
# deploy stand-in leaves it) and whose volumes are made and started.


def _deployed(tmp_path: Path) -> FakeCluster:
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    plan, state = fake.plan, fake.state
    he = plan.cluster.hosted_engine
    state["peers"] = [h.peer for h in plan.hosts if not h.is_first]
    state["volumes"] = {
        v.name: {
            "status": "Started",
            "bricks": [str(b) for b in v.bricks],
            "replica": v.replica,
            "rebalanced": False,
        }
        for v in plan.volumes
    }
    for host in state["hosts"].values():
        host["active"].append("glusterd")
    state["engine"].update(
        deployed=True,
        fqdn=he.fqdn,
        data_centers={he.data_center: "dc-1"},
        # As the deploy leaves them: the cluster with its Gluster service (the answers' own).
        clusters={he.cluster: {"data_center": he.data_center, "gluster_service": True}},
        hosts={
            plan.first.host.fqdn: {
                "id": "host-1",
                "status": "up",
                "cluster": he.cluster,
                "host_id": 1,
            }
        },
        storage_domains={
            "hosted_storage": {"id": "sd-1", "path": "/engine", "attached": he.data_center}
        },
        connection=plan.engine_domain.connection,
        mount_options=plan.engine_domain.mount_options,
    )
    return fake


def _call(
    fake: FakeCluster, method: str, path: str, body: str = "", user: str = "admin@internal"
) -> tuple[int, Any]:
    """The engine's answer, read back with the SDK's reader for its root element, to a call
    with the token the SSO gives `user` (none when it refuses the user)."""
    from ovirtsdk4.reader import Reader

    form = urllib.parse.urlencode(
        {
            "grant_type": "password",
            "scope": "ovirt-app-api",
            "username": user,
            "password": fake.state["engine"]["admin_password"],
        }
    )
    engine = fake.state["engine"]
    tokens = list(engine["tokens"]) if "tokens" in engine else None
    _, answer = fakehost_engine._token(fake.state, "POST", "application/json", form)
    token = json.loads(answer).get("access_token", "refused")
    code, text = fakehost_engine._respond(
        fake.state, method, fakehost_engine.API + path, f"Bearer {token}", body.encode()
    )
    # The token was for this call alone: the engine's state is as the call left it.
    if tokens is None:
        engine.pop("tokens", None)
    else:
        engine["tokens"] = tokens
    return code, Reader.read(text) if text else None


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _host(name: str, address: str, password: str = fakehost_engine.ROOT_PASSWORD) -> str:
    return (
        f"<host><name>{name}</name><address>{address}</address><root_password>"
        f"{_xml_text(password)}</root_password>"
        "<cluster><name>Default</name></cluster></host>"
    )


def _until_up(fake: FakeCluster, name: str) -> list[str]:
    """The statuses the administrator sees, looking until the host is up."""
    seen: list[str] = []
    while not seen or seen[-1] != "up":
        code, hosts = _call(fake, "GET", f"/hosts?search=name%3D{name}")
        assert code == 200
        seen.append(hosts[0].status.value)
    return seen


@pytest.mark.parametrize("wait_for_heal", [False, True])
def test_a_rebooted_host_leaves_heals_and_the_next_reboot_waits_for_them(
    tmp_path: Path, wait_for_heal: bool
) -> None:
    """reboot is true by default: installing, reboot (its glusterd and bricks down),
    non_responsive, up; back, its bricks have entries to heal. Rebooting the next host before
    `gluster volume heal V info` shows none leaves one good brick in each replica set."""
    fake = _deployed(tmp_path)
    state = fake.state
    code, host = _call(
        fake, "POST", "/hosts?deploy_hosted_engine=true", _host("host2", "host2.example.com")
    )
    assert code == 201 and host.status.value == "installing"
    code, _ = _call(fake, "GET", "/hosts?search=name%3Dhost2")  # installing; then it reboots
    assert "glusterd" not in state["hosts"]["host2"]["active"]
    info = fakehost_gluster.answer(
        state, state["hosts"]["host1"], ["volume", "heal", "engine", "info"]
    )
    assert "Status: Transport endpoint is not connected\nNumber of entries: -" in info[1]
    assert _until_up(fake, "host2") == ["reboot", "non_responsive", "up"]
    assert "glusterd" in state["hosts"]["host2"]["active"]
    for volume in state["volumes"].values():
        assert volume["offline"] == [] and len(volume["heal"]) == 1
    if wait_for_heal:
        for name in state["volumes"]:
            words = ["volume", "heal", name, "info"]
            first = fakehost_gluster.answer(state, state["hosts"]["host1"], words)
            assert f"Number of entries: {fakehost_engine.HEAL_ENTRIES}" in first[1]
            assert first[2]  # the self-heal daemon healed them
            again = fakehost_gluster.answer(state, state["hosts"]["host1"], words)
            assert "Number of entries: 0\n\nBrick" in again[1] and not again[2]
    code, _ = _call(fake, "POST", "/hosts?deploy_hosted_engine=1", _host("host3", "192.168.122.13"))
    assert code == 201
    assert _until_up(fake, "host3") == ["installing", "reboot", "non_responsive", "up"]
    lost = state["engine"].get("quorum_lost", [])
    assert (lost == []) is wait_for_heal


def test_without_reboot_the_host_is_up_after_installing(tmp_path: Path) -> None:
    fake = _deployed(tmp_path)
    body = _host("host2", "host2.example.com")
    assert _call(fake, "POST", "/hosts?deploy_hosted_engine=true&reboot=false", body)[0] == 201
    assert _until_up(fake, "host2") == ["installing", "up"]
    assert "heal" not in fake.state["volumes"]["engine"]
    body = _host("host3", "host3.example.com")
    assert _call(fake, "POST", "/hosts?reboot=no&activate=false", body)[0] == 201
    seen = [_call(fake, "GET", "/hosts?search=name%3Dhost3")[1][0].status.value for _ in range(3)]
    assert seen == ["installing", "maintenance", "maintenance"]


def test_a_host_whose_fqdn_is_not_in_dns_is_refused_and_the_step_says_so(
    tmp_path: Path,
) -> None:
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    add_hosts = _step(fake, "add-hosts")
    fake.run_through(add_hosts.number)
    del fake.state["dns"]["host3.example.com"]
    fake.save()
    result = fake.run("host1", add_hosts.script)
    assert result.returncode != 0
    assert (
        f"{add_hosts.script}: the engine answered 409 to POST "
        "/hosts?deploy_hosted_engine=true&reboot=false: Operation Failed: [Cannot add Host. "
        "Connecting to host via SSH has failed, verify that the host is reachable (IP address, "
        "routable address etc.) You may refer to the engine.log file for further details.]\n"
    ) in result.stderr
    assert sorted(fake.state["engine"]["hosts"]) == ["host1.example.com", "host2"]


@pytest.mark.parametrize(
    ("path", "body", "code", "reason", "detail"),
    [
        # A misspelt element is one the SDK's reader skips: the field is missing.
        (
            "/hosts",
            "<host><name>host2</name><adress>host2.example.com</adress></host>",
            400,
            "Incomplete parameters",
            "Host [address] required for add",
        ),
        ("/hosts", "<host><name>host2</nam></host>", 400, "Request syntactically incorrect.", None),
        (
            "/hosts",
            _host("host2", "host2.example.com", "wrong"),
            409,
            "Operation Failed",
            "[Cannot add Host. SSH authentication failed, verify authentication parameters are "
            "correct (Username/Password, public-key etc.) You may refer to the engine.log file for "
            "further details.]",
        ),
        (
            "/hosts",
            _host("host1.example.com", "host2.example.com"),
            409,
            "Operation Failed",
            "[Cannot add Host. The Host name is already in use, please choose a unique name and "
            "try again.]",
        ),
        (
            "/hosts",
            _host("host2", "host2.example.com").replace("Default", "Other"),
            404,
            "Operation Failed",
            "Entity not found: Cluster: name=Other",
        ),
        (
            "/storagedomains",
            "<storage_domain><name>data</name><type>data</type><storage><type>glusterfs</type>"
            "<address>host1.example.com</address><path>/data</path></storage>"
            "<host><name>host1.example.com</name></host></storage_domain>",
            400,
            "Incomplete parameters",
            "HostStorage [vfsType] required for add",
        ),
        (
            "/storagedomains",
            "<storage_domain><name>data</name><type>data</type><storage><type>glusterfs</type>"
            "<vfs_type>glusterfs</vfs_type><address>host1.example.com</address><path>/data</path>"
            "</storage><host><name>host9</name></host></storage_domain>",
            404,
            "Operation Failed",
            "Entity not found: Hosts: name=host9",
        ),
        (
            "/datacenters/dc-9/storagedomains",
            "<storage_domain><name>hosted_storage</name></storage_domain>",
            400,
            "Operation Failed",
            "[Data Center doesn't exist.]",
        ),
        (
            "/datacenters/dc-1/storagedomains",
            "<storage_domain><name>hosted_storage</name></storage_domain>",
            409,
            "Operation Failed",
            "[Cannot attach Storage. The relevant Storage Domain is inaccessible.\n-Please handle "
            "Storage Domain issues and retry the operation.]",
        ),
    ],
)
def test_the_engine_refuses_as_ovirt_engine_does(
    tmp_path: Path, path: str, body: str, code: int, reason: str, detail: str | None
) -> None:
    fake = _deployed(tmp_path)
    before = repr(fake.state)
    answered, fault = _call(fake, "POST", path, body)
    assert (answered, fault.reason, fault.detail) == (code, reason, detail)
    assert repr(fake.state) == before


def test_the_rest_user_is_the_one_the_deploy_made(tmp_path: Path) -> None:
    fake = _deployed(tmp_path)
    assert _call(fake, "GET", "/hosts")[0] == 200
    fake.state["engine"]["admin_user"] = "admin@ovirt@internalsso"
    assert _call(fake, "GET", "/hosts")[0] == 401
    assert _call(fake, "GET", "/hosts", user="admin@ovirt@internalsso")[0] == 200


def test_over_ssh_the_deploy_runs_only_inside_tmux(tmp_path: Path) -> None:
    """The setup asks whether to go on outside tmux (default No, which aborts) and knows tmux
    only by TERM=screen; the step checks tmux itself and the answers say to go on."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    deploy = _step(fake, "hosted-engine-deploy")
    fake.run_through(deploy.number)
    before = fake.snapshot()
    outside = fake.run("host1", deploy.script, SSH_CLIENT="192.0.2.1 50000 22")
    assert outside.returncode == 1
    assert "this is an SSH connection outside tmux: start tmux" in outside.stderr
    assert fake.snapshot() == before
    inside = fake.run(
        "host1", deploy.script, SSH_CLIENT="192.0.2.1 50000 22", TMUX="/tmp/tmux-0/default,1,0"
    )
    assert inside.returncode == 0, inside.stdout + inside.stderr
    assert fake.state["engine"]["deployed"]


def test_the_probe_back_runs_once(tmp_path: Path) -> None:
    """Probed back, the first host's name is among its other names (peer status keeps the
    address as its Hostname): a second run finds it there and probes nothing."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    back = _step(fake, "peer-probe-back")
    fake.run_through(back.number + 1)
    calls = len(fake.calls())
    again = fake.run(back.hosts[0], back.script)
    assert again.returncode == 0, again.stderr
    assert "host1 is known as host1.example.com" in again.stdout
    probes = [c for c in fake.calls()[calls:] if c["argv"][1:3] == ["peer", "probe"]]
    assert probes == []


@pytest.mark.parametrize(
    ("fails", "task", "state"),
    [
        (
            "conf_archive",
            '"cmd": ["dd", "bs=20480", "count=1", "oflag=direct"]',
            "/etc/ovirt-hosted-engine/hosted-engine.conf is there, but the HA services do not report (hosted-engine "
            "--vm-status: [Errno 2] No such file or directory Cannot connect to the HA daemon",
        ),
        (
            "engine_start",
            "The engine failed to start inside the engine VM; please check engine.log.",
            "the engine VM is not up with a healthy engine (hosted-engine --vm-status: host "
            "host1.example.com: vm up, health bad, detail Up)",
        ),
    ],
)
def test_a_deploy_that_fails_late_is_not_taken_for_done_on_a_rerun(
    tmp_path: Path, fails: str, task: str, state: str
) -> None:
    """The role copies hosted-engine.conf to the host before its last tasks, and a failure
    there leaves it (ovirt-ansible-collection 3.2.0-1 create_target_vm/
    03_hosted_engine_final_tasks.yml:155-162, :487-496). A rerun asks hosted-engine, finds the
    deploy partial, says in what state, names the undo script and changes nothing."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    deploy = _step(fake, "hosted-engine-deploy")
    fake.run_through(deploy.number)
    fake.state["engine"]["deploy_fails"] = fails
    fake.save()
    first = fake.run("host1", deploy.script)
    assert first.returncode != 0
    assert task in first.stdout + first.stderr
    assert (fake.root("host1") / "etc/ovirt-hosted-engine/hosted-engine.conf").is_file()
    before, changes, calls = fake.snapshot(), len(fake.changes()), len(fake.calls())
    again = fake.run("host1", deploy.script)
    assert again.returncode == 1, again.stdout
    assert "hosted-engine --check-deployed: The hosted engine has been deployed" in again.stdout
    assert f"the deploy on host1 started and did not finish: {state}" in again.stderr, again.stderr
    undo = fake.out / "hosts" / "host1" / "undo" / deploy.script
    assert f"remove what it left with {undo}, then run this step again" in again.stderr
    assert deploy.script == "07-hosted-engine-deploy.sh"
    deploys = [c for c in fake.calls()[calls:] if c["argv"][:2] == ["hosted-engine", "--deploy"]]
    assert deploys == []
    assert fake.changes()[changes:] == [] and fake.snapshot() == before
    # The step after it stops as well: the engine does not answer.
    add_hosts = _step(fake, "add-hosts")
    result = fake.run("host1", add_hosts.script)
    assert result.returncode != 0
    assert fake.state["engine"]["hosts"].keys() == {"host1.example.com"}


def test_a_deployed_host_reruns_the_deploy_step_as_a_no_op(tmp_path: Path) -> None:
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    deploy = _step(fake, "hosted-engine-deploy")
    fake.run_through(deploy.number + 1)
    before, calls = fake.snapshot(), len(fake.calls())
    again = fake.run("host1", deploy.script)
    assert again.returncode == 0, again.stderr
    assert (
        "deployed: this host reports to the HA services as ID 1, they see the engine VM up and "
        "healthy, and engine.example.com answers its health page (DB Up!Welcome to Health "
        "Status!)" in again.stdout
    )
    asked = [
        c["argv"][:2] for c in fake.calls()[calls:] if c["argv"][0] in ("hosted-engine", "engine")
    ]
    assert asked == [
        ["hosted-engine", "--check-deployed"],
        ["hosted-engine", "--vm-status"],
        ["engine", "GET"],
    ]
    assert [c for c in fake.calls()[calls:] if c["change"]] == [] and fake.snapshot() == before


def test_the_deploy_step_stops_when_the_engine_vm_is_down_on_a_deployed_cluster(
    tmp_path: Path,
) -> None:
    """Deployed, then the engine VM down: hosted-engine --vm-status says so and the step does
    not call it done."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    deploy = _step(fake, "hosted-engine-deploy")
    fake.run_through(deploy.number + 1)
    fake.state["engine"]["he_vm"] = None
    fake.save()
    again = fake.run("host1", deploy.script)
    assert again.returncode == 1
    assert (
        "the engine VM is not up with a healthy engine (hosted-engine --vm-status: host "
        "host1.example.com: vm down, health bad, detail unknown)" in again.stderr
    )


def test_an_install_that_fails_in_the_engine_stops_the_wait_at_once(tmp_path: Path) -> None:
    """InstallFailed with the engine's VDS_INSTALL_FAILED event (ovirt-engine 4.5.7
    InstallVdsInternalCommand.java:354-365; AuditLogMessages.properties:411): the step says
    it on the first look, without waiting, and adds no host after it."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    add_hosts = _step(fake, "add-hosts")
    fake.run_through(add_hosts.number)
    # The playbook's stderr, as the engine passes it on (the test's data).
    fake.state["engine"]["install_fails"] = {"host2": "Task Install ovirt-host package failed"}
    fake.save()
    result = fake.run("host1", add_hosts.script)
    assert result.returncode == 1
    assert (
        '08-add-hosts.sh: stopped at "Add host2 (host2.example.com) as a hosted-engine host": '
        "the engine failed to install host2 (status install_failed): Host host2 installation "
        "failed. Failed to execute Ansible host-deploy: Task Install ovirt-host package failed. "
        "Please check logs for more details: /var/log/ovirt-engine/host-deploy/"
        "ovirt-host-deploy-ansible-host2.example.com-00000002-20261204190000.log, .. Fix that, "
        "then reinstall host2 from the engine"
    ) in result.stderr, result.stderr
    assert "waiting until host2 is up" not in result.stdout
    assert sorted(fake.state["engine"]["hosts"]) == ["host1.example.com", "host2"]
    assert not (fake.root("host2") / "etc/ovirt-hosted-engine/hosted-engine.conf").exists()


def test_a_non_operational_host_stops_the_wait_with_its_reason(tmp_path: Path) -> None:
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    add_hosts = _step(fake, "add-hosts")
    fake.run_through(add_hosts.number)
    result = fake.run("host1", add_hosts.script)
    assert result.returncode == 0, result.stderr
    host = fake.state["engine"]["hosts"]["host3"]
    host.update(status="non_operational", status_detail="gluster_command_failed", next=[])
    fakehost_engine._event(
        fake.state["engine"],
        4035,
        "error",
        "Gluster command [gluster peer status] failed.",
        "host3",
    )
    fake.save()
    again = fake.run("host1", add_hosts.script)
    assert again.returncode == 1
    assert (
        "the engine holds host3 non-operational (gluster_command_failed): Gluster command "
        "[gluster peer status] failed.. Fix that; the engine activates it again" in again.stderr
    ), again.stderr


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        (
            "<fault><reason>Operation Failed</reason><detail>[Cannot add Host. &lt;x&gt; &amp; "
            "y]</detail></fault>",
            "Operation Failed: [Cannot add Host. <x> & y]",
        ),
        (
            "<html><head><title>503 Service Unavailable</title></head><body><h1>Service "
            "Unavailable</h1></body></html>",
            "no fault in the answer: 503 Service Unavailable Service Unavailable",
        ),
        ("", "no fault in the answer: (empty)"),
    ],
)
def test_an_api_error_prints_the_fault_reason_and_detail(
    tmp_path: Path, answer: str, shown: str
) -> None:
    """The api function of the rendered step, run with a curl that answers 409 with ANSWER."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    script = (fake.out / "hosts" / "host1" / "scripts" / "08-add-hosts.sh").read_text()
    start = script.index("# xml_decode TEXT")
    end = script.index("# The password is asked here")
    api_start = script.index("# api METHOD PATH")
    api_end = script.index("# found PATH ELEMENT")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "curl").write_text(f"#!/bin/sh\nprintf '%s\\n409' {shlex.quote(answer)}\n")
    (bin_dir / "curl").chmod(0o755)
    failing = bin_dir / "fail"
    failing.mkdir()
    (failing / "curl").write_text("#!/bin/sh\necho 'curl: (7) Failed to connect' >&2\nexit 7\n")
    (failing / "curl").chmod(0o755)
    program = (
        "set -u\nSCRIPT=08-add-hosts.sh ROOT= CA=/ca API=https://e/api TOKEN=t\n"
        + script[start:end]
        + script[api_start:api_end]
        + 'api POST /hosts </dev/null; echo "exit $?"\n'
    )
    import subprocess

    for path, expected in ((bin_dir, shown), (failing, None)):
        result = subprocess.run(
            ["bash", "-c", program],
            capture_output=True,
            text=True,
            env={"PATH": f"{path}:{os.environ['PATH']}"},
        )
        assert result.stdout.endswith("exit 1\n")
        if expected is None:
            assert result.stderr == (
                "curl: (7) Failed to connect\n08-add-hosts.sh: no answer from the engine to "
                "POST /hosts (curl exit 7, its error above)\n"
            )
        else:
            assert result.stderr == (
                f"08-add-hosts.sh: the engine answered 409 to POST /hosts: {expected}\n"
            )


UNDEPLOY = (
    "<action><ssh><authentication_method>publickey</authentication_method></ssh>"
    "<undeploy_hosted_engine>true</undeploy_hosted_engine><reboot>false</reboot></action>"
)


def _statuses(fake: FakeCluster, name: str, looks: int) -> list[str]:
    return [
        _call(fake, "GET", f"/hosts?search=name%3D{name}")[1][0].status.value for _ in range(looks)
    ]


def _fault(answer: tuple[int, Any]) -> tuple[int, str, str | None]:
    code, fault = answer
    return code, fault.reason, fault.detail


def test_a_host_leaves_the_engine_as_ovirt_engine_takes_it(tmp_path: Path) -> None:
    """deactivate, install with undeploy_hosted_engine, DELETE: each refused where ovirt-engine
    4.5.7 refuses it (fakehost_engine.py cites the source), the host's hosted-engine files
    undone, and the engine's own peer detach of a host the pool knows by its FQDN."""
    fake = _deployed(tmp_path)
    body = _host("host2", "host2.example.com")
    assert _call(fake, "POST", "/hosts?deploy_hosted_engine=true&reboot=false", body)[0] == 201
    assert _until_up(fake, "host2")[-1] == "up"
    conf = fake.root("host2") / fakehost_engine.HE_CONF
    assert conf.is_file()
    host = "/hosts/host-2"
    assert _fault(_call(fake, "DELETE", host)) == (
        409,
        "Operation Failed",
        f"[{fakehost_engine.REMOVE_OPERATIONAL}]",
    )
    assert _fault(_call(fake, "POST", f"{host}/install", UNDEPLOY)) == (
        409,
        "Operation Failed",
        f"[{fakehost_engine.INSTALL_NOT_IN_MAINTENANCE}]",
    )
    assert _call(fake, "POST", f"{host}/deactivate", "<action/>")[0] == 200
    assert _statuses(fake, "host2", 3) == [
        "preparing_for_maintenance",
        "maintenance",
        "maintenance",
    ]
    assert _fault(_call(fake, "POST", f"{host}/deactivate", "<action/>")) == (
        409,
        "Operation Failed",
        f"[{fakehost_engine.IN_MAINTENANCE}]",
    )
    # Password authentication is the default: without a password the engine refuses.
    assert _fault(_call(fake, "POST", f"{host}/install", "<action/>")) == (
        400,
        "Operation Failed",
        f"[{fakehost_engine.INSTALL_EMPTY_PASSWORD}]",
    )
    assert conf.is_file()
    assert _call(fake, "POST", f"{host}/install", UNDEPLOY)[0] == 200
    assert not conf.exists()
    assert "ovirt-ha-agent" not in fake.state["hosts"]["host2"]["active"]
    # The API answered before the install began: the host is still in maintenance once.
    assert _statuses(fake, "host2", 3) == ["maintenance", "installing", "maintenance"]
    # host2 holds bricks of the engine and data volumes.
    assert _fault(_call(fake, "DELETE", host)) == (
        409,
        "Operation Failed",
        f"[{fakehost_engine.REMOVE_GLUSTER_VOLUME}]",
    )
    peer = fake.state["hosts"]["host2"]["peer"]
    assert peer in fake.state["peers"]
    for volume in fake.state["volumes"].values():
        volume["bricks"] = [b for b in volume["bricks"] if not b.startswith(f"{peer}:")]
    assert _call(fake, "DELETE", host)[0] == 200
    assert "host2" not in fake.state["engine"]["hosts"]
    # One network: the pool knows host2 by the FQDN the engine has, and RemoveVds detaches it.
    assert peer == "host2.example.com"
    assert peer not in fake.state["peers"]
    assert _fault(_call(fake, "DELETE", host)) == (
        404,
        "Operation Failed",
        "Entity not found: host-2",
    )


def test_the_engine_keeps_the_host_that_runs_its_vm(tmp_path: Path) -> None:
    fake = _deployed(tmp_path)
    fake.state["engine"]["he_vm"] = {"host_id": 1, "engine_up": True}
    # host1 runs the engine's VM, and no other host is up to take it.
    assert _fault(_call(fake, "POST", "/hosts/host-1/deactivate", "<action/>")) == (
        409,
        "Operation Failed",
        f"[{fakehost_engine.NO_HOST_FOR_ENGINE}]",
    )
    fake.state["engine"]["hosts"]["host1.example.com"]["status"] = "maintenance"
    assert _fault(_call(fake, "DELETE", "/hosts/host-1")) == (
        409,
        "Operation Failed",
        f"[{fakehost_engine.REMOVE_RUNNING_VM}]",
    )


def _redeploy(key: str | None) -> str:
    """POST /hosts/ID/install as the engine-reinstall step sends it, with `key` as the host's
    SSH public key (None: the action leaves it out)."""
    ssh = "" if key is None else f"<ssh><public_key>{key}</public_key></ssh>"
    password = _xml_text(fakehost_engine.ROOT_PASSWORD)
    return (
        f"<action><root_password>{password}</root_password>{ssh}"
        "<deploy_hosted_engine>true</deploy_hosted_engine><activate>true</activate>"
        "<reboot>false</reboot></action>"
    )


def test_a_new_machine_of_a_hosts_name_is_reinstalled_as_ovirt_engine_takes_it(
    tmp_path: Path,
) -> None:
    """A host the engine added, then a new machine at its address: the engine does not reach a
    VDSM of its own there (connecting, then non_responsive), takes it to maintenance at once,
    and a reinstall checks the host's SSH key against the one it stored when it added it: the
    old key fails the install (its event says why), the new machine's key given with the
    action deploys it, its hosted engine with the host's ID, up."""
    fake = _deployed(tmp_path)
    body = _host("host2", "host2.example.com")
    assert _call(fake, "POST", "/hosts?deploy_hosted_engine=true&reboot=false", body)[0] == 201
    assert _until_up(fake, "host2")[-1] == "up"
    engine_host = fake.state["engine"]["hosts"]["host2"]
    _, hosts = _call(fake, "GET", "/hosts?search=name%3Dhost2")
    stored = engine_host["ssh_public_key"]
    assert hosts[0].ssh.public_key == stored
    assert hosts[0].ssh.fingerprint == fakehost_engine.fingerprint(stored)
    # A new machine: other SSH keys, no VDSM the engine deployed, no hosted engine.
    machine = fake.state["hosts"]["host2"]
    new_keys = fakehost_el9.ssh_host_keys()
    machine["ssh_host_keys"] = new_keys
    del machine["vdsm_certificate"]
    (fake.root("host2") / fakehost_engine.HE_CONF).unlink()
    machine["active"] = [u for u in machine["active"] if not u.startswith("ovirt-ha-")]
    fake.save()
    assert _statuses(fake, "host2", 3) == ["connecting", "non_responsive", "non_responsive"]
    host = "/hosts/host-2"
    assert _fault(_call(fake, "POST", f"{host}/install", _redeploy(None))) == (
        409,
        "Operation Failed",
        f"[{fakehost_engine.INSTALL_NOT_IN_MAINTENANCE}]",
    )
    assert _call(fake, "POST", f"{host}/deactivate", "<action/>")[0] == 200
    assert _statuses(fake, "host2", 1) == ["maintenance"]
    # Without the new key: the engine meets another key than its own and the install fails.
    assert _call(fake, "POST", f"{host}/install", _redeploy(None))[0] == 200
    assert _statuses(fake, "host2", 3) == ["maintenance", "installing", "install_failed"]
    _, events = _call(fake, "GET", "/events?search=event_host%3Dhost2%20and%20severity%3Derror")
    assert events[0].description == (
        "Host host2 installation failed. ssh-copy-id command failed: SSH session closed "
        "during connection 'root@host2.example.com'."
    )
    assert not (fake.root("host2") / fakehost_engine.HE_CONF).exists()
    # With it: deployed, its hosted engine of the host's ID, up.
    new_key = f"{stored.split()[0]} {new_keys[stored.split()[0]]}"
    assert _call(fake, "POST", f"{host}/install", _redeploy(new_key))[0] == 200
    assert _until_up(fake, "host2")[-1] == "up"
    assert fake.state["engine"]["hosts"]["host2"]["ssh_public_key"] == new_key
    conf = (fake.root("host2") / fakehost_engine.HE_CONF).read_text()
    assert f"host_id={fake.state['engine']['hosts']['host2']['host_id']}\n" in conf
    assert "ovirt-ha-agent" in fake.state["hosts"]["host2"]["active"]
    assert _statuses(fake, "host2", 2) == ["up", "up"]
