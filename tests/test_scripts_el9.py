"""The target ovirt45-el9's scripts, run unchanged under bash on the fake cluster.

Every host starts as a minimal EL9 install (fakehost.py, FakeCluster._fresh_el9); the steps
that ask at a terminal get one, with the administrator's answers typed ahead; curl is the real
one, talking TLS to the fake engine (fakehost_engine.py).
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings

import confgen
import fakehost_engine
import fakehost_gluster
from fakehost import FakeCluster
from golden_cases import GOLDEN, golden_cases
from strategies import el9_clusters, to_toml
from test_scripts import _run_in_order

CASES = golden_cases("ovirt45-el9")
THREE_HOSTS = (GOLDEN / "el9-3host" / "cluster.toml").read_text()


def _check_built(fake: FakeCluster) -> None:
    """What the runbook promises once every step has run: the plan, on every host."""
    plan = fake.plan
    cluster = plan.cluster
    state = fake.state
    zone = plan.firewall_zone or "public"
    mount_point = cluster.gluster.brick_fs.mount_point
    for host in plan.hosts:
        me = state["hosts"][host.name]
        # Packages, with the services they bring, and firewalld serving them in the zone.
        assert {"ovirt-hosted-engine-setup", "glusterfs-server", "vdsm-gluster"} <= set(
            me["packages"]
        )
        assert {"firewalld", "NetworkManager", "glusterd"} <= set(me["enabled"]) & set(me["active"])
        runtime = me["firewall"]["runtime"][zone]
        assert {"vdsm", "glusterfs", "ovirt-imageio", "libvirt-tls"} <= set(runtime["services"])
        if zone == "confgen":
            assert sorted(runtime["sources"]) == sorted(plan.firewall_sources)
        root = fake.root(host.name)
        hosts_file = (root / "etc/hosts").read_text()
        for other in plan.hosts:
            assert other.host.fqdn in hosts_file
        if not host.brick_dirs:  # a host that holds no brick leaves its device alone
            touched = [
                a for h, a in fake.changes() if h == host.name and a[0] in ("pvcreate", "mkfs.xfs")
            ]
            assert touched == [], host.name
        else:
            # One fstab line by UUID, the filesystem mounted and labelled for glusterd.
            fstab = (root / "etc/fstab").read_text()
            lines = re.findall(rf"^UUID=(\S+) {re.escape(mount_point)} xfs \S+ 0 0$", fstab, re.M)
            assert len(lines) == 1, fstab
            assert lines[0] in me["uuids"].values()
            assert me["mounts"].get(mount_point) == "brick-fs"
            assert me["labels"][mount_point] == "glusterd_brick_t"
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


@settings(
    max_examples=3 if os.environ.get("CI") else 1,
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
        (6, "volume engine is not started: run step 05 first"),
        (7, "/etc/pki/vdsm/certs/cacert.pem is missing: the hosted-engine deploy"),
    ],
)
def test_a_step_run_too_early_stops_and_says_what_to_do(
    tmp_path: Path, step: int, message: str
) -> None:
    """Each on host1, with the steps before the one it needs done (for step 04: step 03 done on
    host1 alone)."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    fake.run_through(step - 1)
    if step == 4:
        assert fake.run("host1", "03-brick-storage.sh").returncode == 0
    before, changes = fake.snapshot(), len(fake.changes())
    result = fake.run("host1", fake.plan.steps[step - 1].script)
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
    fake.run_through(7)
    fake.state["engine"]["admin_password"] = "another password"
    fake.save()
    result = fake.run("host1", "07-add-hosts.sh")
    assert result.returncode != 0
    assert "401" in result.stderr
    assert list(fake.state["engine"]["hosts"]) == ["host1.example.com"]


def test_the_root_password_reaches_the_engine_whole(tmp_path: Path) -> None:
    """A password with XML's special characters is escaped in the request, not broken."""
    assert set("<&>") <= set(fakehost_engine.ROOT_PASSWORD)
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    fake.run_through(7)
    result = fake.run("host1", "07-add-hosts.sh")
    assert result.returncode == 0, result.stderr
    assert sorted(fake.state["engine"]["hosts"]) == [
        "host1.example.com",
        "host2",
        "host3",
    ]


def test_the_old_add_hosts_call_reboots_each_host_and_two_bricks_of_a_replica_set_go_bad(
    tmp_path: Path,
) -> None:
    """POST /hosts?deploy_hosted_engine=true without reboot=false: the engine reboots each host
    it installs (its default). The step waits for each host to be up, not for the heal: host3
    goes down while host2's bricks, back, still have their missed writes to heal."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    fake.run_through(7)
    scripts = fake.out / "hosts" / "host1" / "scripts"
    new = (scripts / "07-add-hosts.sh").read_text()
    assert "'/hosts?deploy_hosted_engine=true&reboot=false'" in new
    old = new.replace("&reboot=false", "")
    (scripts / "07-add-hosts-old.sh").write_text(old)
    result = fake.run("host1", "07-add-hosts-old.sh")
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
        data_centers={he.data_center: "dc-1"},
        clusters={he.cluster: he.data_center},
        hosts={plan.first.host.fqdn: {"id": "host-1", "status": "up", "host_id": 1}},
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
    """The engine's answer, read back with the SDK's reader for its root element."""
    from ovirtsdk4.reader import Reader

    login = f"{user}:{fake.state['engine']['admin_password']}".encode()
    code, text = fakehost_engine._respond(
        fake.state,
        method,
        fakehost_engine.API + path,
        "Basic " + base64.b64encode(login).decode(),
        body.encode(),
    )
    return code, Reader.read(text) if text else None


def _host(name: str, address: str, password: str = fakehost_engine.ROOT_PASSWORD) -> str:
    return (
        f"<host><name>{name}</name><address>{address}</address><root_password>"
        f"{password.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</root_password>"
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
    fake.run_through(7)
    del fake.state["dns"]["host3.example.com"]
    fake.save()
    result = fake.run("host1", "07-add-hosts.sh")
    assert result.returncode != 0
    assert (
        "the engine refused: Operation Failed: [Cannot add Host. Connecting to host via SSH has "
        "failed, verify that the host is reachable (IP address, routable address etc.) You may "
        "refer to the engine.log file for further details.]\n"
    ) in result.stderr
    assert "409" in result.stderr
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
