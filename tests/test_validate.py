"""Each rule of load and validate as a user meets it: an edit to a valid file, then the exit
code and the exact lines `confgen check` prints."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import confgen
from confgen.cli import main

SEED = (Path(__file__).resolve().parents[1] / "golden" / "seed-3host" / "cluster.toml").read_text()
DEVICE = "is not a device path under /dev/ of letters, digits and '_.@+:-/'"


def test_the_seed_example_has_no_problems() -> None:
    assert confgen.validate(confgen.loads(SEED)) == []


CASES = [
    # loading: types, shapes and unknown keys
    (
        "host_id = 2",
        'host_id = "2"',
        1,
        ["cluster.toml:32: hosts[1].host_id: '2' is not an integer"],
    ),
    (
        "first = true",
        'first = "yes"',
        1,
        ["cluster.toml:25: hosts[0].first: 'yes' is not true or false"],
    ),
    ('name = "host1"', "name = 1", 1, ["cluster.toml:22: hosts[0].name: 1 is not a string"]),
    (
        'name = "host1"',
        'nam = "host1"',
        1,
        [
            "cluster.toml:21: hosts[0].name: required key is missing",
            "cluster.toml:22: hosts[0].nam: unknown key; did you mean 'name'?",
        ],
    ),
    (
        'address = "192.168.122.12"',
        'address = "192.168.122.300"',
        1,
        [
            "cluster.toml:34: hosts[1].interfaces.lan.address: '192.168.122.300' is not an IPv4 address"
        ],
    ),
    (
        'cidr = "192.168.122.0/24"',
        'cidr = "192.168.122.0/33"',
        1,
        [
            "cluster.toml:16: networks[0].cidr: '192.168.122.0/33' is not an IPv4 network in CIDR form (10.0.0.0/24)"
        ],
    ),
    (
        'roles = ["management", "storage", "heartbeat"]',
        'roles = "management"',
        1,
        ["cluster.toml:17: networks[0].roles: 'management' is not a list [...]"],
    ),
    (
        '"storage", "heartbeat"]',
        '"storage", "hartbeat"]',
        1,
        [
            "cluster.toml:14: networks: exactly one network must carry role 'heartbeat' (none)",
            "cluster.toml:17: networks[0].roles[2]: 'hartbeat' is not a role on target "
            "'ovirt35-el7': roles are 'management', 'storage', 'heartbeat'; did you mean "
            "'heartbeat'?",
        ],
    ),
    (
        'target = "ovirt35-el7"',
        'target = "el9"',
        1,
        ["cluster.toml:9: target: 'el9' is not one of 'ovirt35-el7', 'ovirt45-el9'"],
    ),
    (
        'vips = [{ address = "192.168.122.200/24", nic = "eth0" }]',
        "vips = [3]",
        1,
        ["cluster.toml:47: ctdb.vips[0]: 3 is not a table {...}"],
    ),
    (
        "[ctdb]",
        '[ctdb]\ntunables = { MonitorInterval = "15" }',
        1,
        ["cluster.toml:44: ctdb.tunables.MonitorInterval: '15' is not an integer"],
    ),
    (
        "[ctdb]",
        '[firewall]\nextra_rules = [{ service = "x", ports = "80:a" }]\n\n[ctdb]',
        1,
        [
            "cluster.toml:44: firewall.extra_rules[0].ports: '80:a' is not a port or a range 'first:last'"
        ],
    ),
    # validation: hosts
    (
        "host_id = 3",
        "host_id = 2",
        1,
        [
            "cluster.toml:32: hosts[1].host_id: 2 is used by another host",
            "cluster.toml:39: hosts[2].host_id: 2 is used by another host",
        ],
    ),
    (
        "host_id = 3",
        "host_id = 251",
        1,
        ["cluster.toml:39: hosts[2].host_id: a hosted-engine host ID is 1..250, found 251"],
    ),
    (
        'fqdn = "host3.osas.lab"',
        'fqdn = "host2.osas.lab"',
        1,
        [
            "cluster.toml:38: hosts[2].fqdn: 'host2.osas.lab' is already a name of 'host2' "
            "(host names are compared without regard to case)",
        ],
    ),
    (
        "first = true\n",
        "",
        1,
        [
            "cluster.toml:21: hosts: no host has first = true; mark the host that runs the hosted engine"
        ],
    ),
    (
        "host_id = 3",
        "host_id = 3\nfirst = true",
        1,
        ["cluster.toml:40: hosts[2].first: only one host can be the first host"],
    ),
    (
        'name = "host1"',
        'name = "host_1"',
        1,
        [
            "cluster.toml:22: hosts[0].name: 'host_1' is not a host name label: letters, digits and inner '-', at most 63 (RFC 1123)"
        ],
    ),
    (
        'brick_device = "/dev/vdb"',
        'brick_device = "/srv/vdb"',
        1,
        [f"cluster.toml:26: hosts[0].brick_device: '/srv/vdb' {DEVICE}"],
    ),
    # validation: networks and addresses
    (
        'nic = "eth0", address = "192.168.122.13"',
        'nic = "eth0", address = "10.0.0.13"',
        1,
        ["cluster.toml:41: hosts[2].interfaces.lan.address: 10.0.0.13 is outside 192.168.122.0/24"],
    ),
    (
        'nic = "eth0", address = "192.168.122.13"',
        'nic = "eth0", address = "192.168.122.12"',
        1,
        [
            "cluster.toml:34: hosts[1].interfaces.lan.address: 192.168.122.12 is used twice",
            "cluster.toml:41: hosts[2].interfaces.lan.address: 192.168.122.12 is used twice",
        ],
    ),
    (
        'nic = "eth0", address = "192.168.122.13"',
        'nic = "eth1", address = "192.168.122.13"',
        1,
        [
            "cluster.toml:41: hosts[2].interfaces.lan.nic: 'eth1' differs from 'eth0', the NIC of ctdb.vips[0]: CTDB's shared public_addresses file names one NIC for every host"
        ],
    ),
    (
        'nic = "eth0", address = "192.168.122.13"',
        'nic = "eth0;reboot", address = "192.168.122.13"',
        1,
        [
            "cluster.toml:41: hosts[2].interfaces.lan.nic: 'eth0;reboot' is not a NIC name: at most 15 letters, digits, '_', '.' or '-', starting with a letter or digit",
            "cluster.toml:41: hosts[2].interfaces.lan.nic: 'eth0;reboot' differs from 'eth0', the NIC of ctdb.vips[0]: CTDB's shared public_addresses file names one NIC for every host",
        ],
    ),
    (
        'roles = ["management", "storage", "heartbeat"]',
        'roles = ["management", "storage"]',
        1,
        ["cluster.toml:14: networks: exactly one network must carry role 'heartbeat' (none)"],
    ),
    # validation: ctdb
    (
        'address = "192.168.122.200/24"',
        'address = "192.168.122.12/24"',
        1,
        ["cluster.toml:47: ctdb.vips[0].address: 192.168.122.12 is an address of host2"],
    ),
    (
        'address = "192.168.122.200/24"',
        'address = "10.9.9.9/24"',
        1,
        ["cluster.toml:47: ctdb.vips[0].address: 10.9.9.9 is outside the network of eth0 (lan)"],
    ),
    (
        "[ctdb]",
        '[ctdb]\nmount_point = "/mnt//lock"',
        1,
        [
            "cluster.toml:43: ctdb.recovery_lock: '/mnt//lock/reclock' is not a normalised path (no '//', '.', '..' or trailing '/')",
            "cluster.toml:44: ctdb.mount_point: '/mnt//lock' is not a normalised path (no '//', '.', '..' or trailing '/')",
        ],
    ),
    (
        "[ctdb]",
        '[ctdb]\nmeta_volume = "lock"',
        1,
        [
            "cluster.toml:44: ctdb.meta_volume: no Gluster volume named 'lock' for the CTDB meta volume (ctdb.meta_volume); volumes are: engine, data, meta"
        ],
    ),
    # validation: gluster layout
    (
        "[ctdb]",
        '[[gluster.volumes]]\nname = "engine"\nexisting = true\nhosts = ["host1", "host2"]\n[[gluster.volumes]]\nname = "meta"\n\n[ctdb]',
        1,
        ["cluster.toml:46: gluster.volumes[0].hosts: 2 bricks is not a multiple of replica 3"],
    ),
    (
        "[ctdb]",
        '[[gluster.volumes]]\nname = "engine"\nexisting = true\nhosts = ["host1", "host2", "host2"]\n[[gluster.volumes]]\nname = "meta"\n\n[ctdb]',
        1,
        [
            "cluster.toml:46: gluster.volumes[0].hosts: host 'host2' is listed twice: it would hold the brick /gluster/engine/brick twice; each brick of a volume must be on its own host"
        ],
    ),
    (
        "[ctdb]",
        '[[gluster.volumes]]\nname = "engine"\nexisting = true\nhosts = ["host2", "host1", "host3"]\n[[gluster.volumes]]\nname = "meta"\n\n[ctdb]',
        1,
        [
            "cluster.toml:46: gluster.volumes[0].hosts[0]: volume 'engine' exists with its brick on the first host 'host1', which must come first"
        ],
    ),
    (
        "[ctdb]",
        '[[gluster.volumes]]\nname = "engine"\nreplica = 2\nexisting = true\n[[gluster.volumes]]\nname = "meta"\n\n[ctdb]',
        0,
        [
            "cluster.toml:45: warning: gluster.volumes[0].replica: replica 2 without an arbiter risks split-brain"
        ],
    ),
    # validation: ctdb tunables, lock, firewall, brick placement
    (
        "[ctdb]",
        "[ctdb]\ntunables = { MonitorIntervall = 3 }",
        1,
        [
            "cluster.toml:44: ctdb.tunables.MonitorIntervall: ctdb has no tunable 'MonitorIntervall'; did you mean 'MonitorInterval'?"
        ],
    ),
    (
        "[ctdb]",
        "[ctdb]\ntunables = { KeepaliveLimit = -1 }",
        1,
        [
            "cluster.toml:44: ctdb.tunables.KeepaliveLimit: -1 is not a value ctdb accepts (0..4294967295)"
        ],
    ),
    (
        "[ctdb]",
        "[ctdb]\ntunables = { MonitorInterval = 20, monitorinterval = 30 }",
        1,
        [
            "cluster.toml:44: ctdb.tunables.monitorinterval: sets the same tunable as 'MonitorInterval'"
        ],
    ),
    (
        "[ctdb]",
        "[ctdb]\nretired_host_ids = [4, 2, 251, 4, 0]",
        1,
        [
            "cluster.toml:44: ctdb.retired_host_ids: host ID 4 is listed twice",
            "cluster.toml:44: ctdb.retired_host_ids[1]: host ID 2 is the ID of host 'host2': list here only the IDs of hosts that left the cluster",
            "cluster.toml:44: ctdb.retired_host_ids[2]: a host ID is 1..250, found 251",
            "cluster.toml:44: ctdb.retired_host_ids[4]: a host ID is 1..250, found 0",
        ],
    ),
    (
        "[ctdb]",
        '[ctdb]\nrecovery_lock = "/var/lock/reclock"',
        1,
        [
            "cluster.toml:44: ctdb.recovery_lock: '/var/lock/reclock' is not on the meta volume mounted at /mnt/lock: every node must see the same lock file"
        ],
    ),
    (
        "[ctdb]",
        '[firewall]\nextra_rules = [{ service = "nfs again", ports = 2049 }]\n\n[ctdb]',
        0,
        [
            "cluster.toml:44: warning: firewall.extra_rules[0].ports: tcp 2049 repeats the seed's 'nfs' rule (tcp 2049)"
        ],
    ),
    (
        "[ctdb]",
        '[firewall]\nextra_rules = [{ service = "web", ports = "8000:8100" }, { service = "alt", ports = 8080 }]\n\n[ctdb]',
        0,
        [
            "cluster.toml:44: warning: firewall.extra_rules[1].ports: tcp 8080 overlaps firewall.extra_rules[0] (tcp 8000:8100)"
        ],
    ),
    (
        "[ctdb]",
        '[firewall]\nextra_rules = [{ service = "x", ports = "9000:8000" }]\n\n[ctdb]',
        1,
        [
            "cluster.toml:44: firewall.extra_rules[0].ports: 9000:8000 is not a port in 1..65535 or a range first:last with first <= last"
        ],
    ),
    (
        "[ctdb]",
        '[[gluster.volumes]]\nname = "engine"\nexisting = true\nbrick_dir = "/srv/engine"\n[[gluster.volumes]]\nname = "meta"\n\n[ctdb]',
        1,
        [
            "cluster.toml:46: gluster.volumes[0].brick_dir: '/srv/engine' is not a folder on the brick filesystem at /gluster"
        ],
    ),
    (
        'vips = [{ address = "192.168.122.200/24", nic = "eth0" }]',
        'vips = [{ address = "192.168.122.200/24", nic = "eth0" }, { address = "192.168.122.200/24", nic = "eth0" }]',
        1,
        ["cluster.toml:47: ctdb.vips: virtual IP 192.168.122.200 is listed twice"],
    ),
    (
        'nic = "eth0", address = "192.168.122.13"',
        'nic = "enp0s31f6abcdefgh", address = "192.168.122.13"',
        1,
        [
            "cluster.toml:41: hosts[2].interfaces.lan.nic: 'enp0s31f6abcdefgh' is not a NIC name: at most 15 letters, digits, '_', '.' or '-', starting with a letter or digit",
            "cluster.toml:41: hosts[2].interfaces.lan.nic: 'enp0s31f6abcdefgh' differs from 'eth0', the NIC of ctdb.vips[0]: CTDB's shared public_addresses file names one NIC for every host",
        ],
    ),
    (
        "[ctdb]",
        '[firewall]\nextra_rules = [{ service = "x", ports = 70000 }]\n\n[ctdb]',
        1,
        [
            "cluster.toml:44: firewall.extra_rules[0].ports: 70000 is not a port in 1..65535 or a range first:last with first <= last"
        ],
    ),
    (
        'brick_device = "/dev/vdb"',
        'brick_device = "vdb"',
        1,
        [
            f"cluster.toml:26: hosts[0].brick_device: 'vdb' {DEVICE}",
        ],
    ),
    (
        "[ctdb]",
        '[[gluster.volumes]]\nname = "engine"\nreplica = 1\nexisting = true\n[[gluster.volumes]]\nname = "meta"\n\n[ctdb]',
        1,
        [
            "cluster.toml:45: gluster.volumes[0].replica: volume 'engine' exists with one brick and is grown to replica copies: replica must be at least 2"
        ],
    ),
]


def _check(
    old: str,
    new: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *flags: str,
) -> tuple[int, list[str]]:
    """`confgen check` of the seed with `old` replaced by `new`: exit code and stderr lines."""
    assert old in SEED, old
    (tmp_path / "cluster.toml").write_text(SEED.replace(old, new, 1))
    monkeypatch.chdir(tmp_path)
    code = main(["check", *flags, "cluster.toml"])
    return code, capsys.readouterr().err.splitlines()


@pytest.mark.parametrize(
    ("old", "new", "code", "expected"), CASES, ids=[c[3][0][:70] for c in CASES]
)
def test_check_reports(
    old: str,
    new: str,
    code: int,
    expected: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _check(old, new, tmp_path, monkeypatch, capsys) == (code, expected)


def test_strict_turns_warnings_into_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new, code, expected = next(c for c in CASES if "replica 2" in c[3][0])
    assert code == 0
    assert _check(old, new, tmp_path, monkeypatch, capsys, "--strict") == (
        1,
        [line.replace("warning: ", "") for line in expected],
    )


# Input that real glusterd, systemd, ctdb or hosted-engine would refuse, or that would give a
# wrong host: each is an error naming its key path (or a warning, where it only may be wrong).
# The seed's volumes written out: a file's list is the whole list.
VOLUMES = (
    '[[gluster.volumes]]\nname = "engine"\nexisting = true\n\n'
    '[[gluster.volumes]]\nname = "data"\nexisting = true\n\n'
    '[[gluster.volumes]]\nname = "meta"\n\n'
)
REFUSED = [
    (
        "[ctdb]",
        VOLUMES + '[[gluster.volumes]]\nname = "vmstore"\nhosts = []\n\n[ctdb]',
        "gluster.volumes[3].hosts: volume 'vmstore' has no bricks: list at least 3 hosts",
    ),
    (
        "[ctdb]",
        VOLUMES
        + '[[gluster.volumes]]\nname = "vmstore"\nreplica = 1\nhosts = ["host1", "host2", "host1"]'
        + "\n\n[ctdb]",
        "gluster.volumes[3].hosts: host 'host1' is listed twice",
    ),
    (
        "[ctdb]",
        VOLUMES
        + '[[gluster.volumes]]\nname = "vmstore"\nbrick_dir = "/gluster/engine/brick/vm"\n\n[ctdb]',
        "gluster.volumes[3].brick_dir: on host 'host1' the brick /gluster/engine/brick/vm of "
        "volume 'vmstore' nests with the brick /gluster/engine/brick of volume 'engine'",
    ),
    (
        "[ctdb]",
        VOLUMES + '[[gluster.volumes]]\nname = "vmstore"\nbrick_dir = "/gluster/data/brick"'
        "\n\n[ctdb]",
        "is the brick /gluster/data/brick of volume 'data'",
    ),
    (
        "[ctdb]",
        '[[gluster.volumes]]\nname = "engine"\n\n[ctdb]',
        "gluster.volumes[0].existing: volume 'engine' holds the hosted engine",
    ),
    (
        "[ctdb]",
        '[gluster.brick_fs]\nmount_point = "/"\n\n[ctdb]',
        "gluster.brick_fs.mount_point: a mount over / would hide the whole system",
    ),
    (
        "[ctdb]",
        '[ctdb]\nmount_point = "/gluster/lock"',
        "ctdb.mount_point: /gluster/lock nests with the brick filesystem's mount point /gluster",
    ),
    (
        "[ctdb]",
        '[ctdb]\nmount_point = "/gluster"',
        "ctdb.mount_point: /gluster is the brick filesystem's mount point /gluster",
    ),
    (
        'mount_hostname = "ovirtmount.osas.lab"',
        'mount_hostname = "HOST2.osas.lab"',
        "ctdb.mount_hostname: 'HOST2.osas.lab' is a name of host 'host2'",
    ),
    (
        'name = "host3"',
        'name = "Host2"',
        "hosts[2].name: 'Host2' is already a name of 'host2'",
    ),
    (
        'address = "192.168.122.200/24"',
        'address = "192.168.122.200/25"',
        "ctdb.vips[0].address: 192.168.122.200/25 has prefix /25, but network 'lan' is "
        "192.168.122.0/24",
    ),
    (
        "[ctdb]",
        '[hosted_engine]\ndomain_type = "iscsi"\n\n[ctdb]',
        "hosted_engine.domain_type: 'iscsi' is not a storage type for the engine's NFS share",
    ),
    (
        "[ctdb]",
        '[ctdb]\ntunables = { "\u212aeepaliveInterval" = 3 }',
        "is not a tunable name: ASCII letters and digits",
    ),
    (
        "[ctdb]",
        '[firewall]\nextra_rules = [{ service = "a\u202eb", ports = 9100 }]\n\n[ctdb]',
        "firewall.extra_rules[0].service: 'a\\u202eb' holds the control or formatting "
        "character U+202E",
    ),
    (
        "[ctdb]",
        '[firewall]\nextra_rules = [{ service = "x", ports = "\u0669\u0661" }]\n\n[ctdb]',
        "firewall.extra_rules[0].ports: '\u0669\u0661' is not a port",
    ),
    (
        "[ctdb]",
        VOLUMES + f'[[gluster.volumes]]\nname = "{"v" * 64}"\nbrick_dir = "/gluster/{"b" * 180}"'
        "\n\n[ctdb]",
        "gives glusterd a volfile name of 272 bytes (at most 251)",
    ),
    (
        'nic = "eth0", address = "192.168.122.11"',
        'nic = "br0", address = "192.168.122.11"',
        "warning: hosts[0].interfaces.lan.nic: 'br0' looks like a Linux bridge",
    ),
]


REFUSED += [
    (
        'roles = ["management", "storage", "heartbeat"]',
        'roles = ["management", "storage", "heartbeat"]\n\n[[networks]]\nname = "san"\n'
        'cidr = "192.168.0.0/16"\nroles = []',
        "networks[1].cidr: 192.168.0.0/16 overlaps 192.168.122.0/24 of network 'lan'",
    ),
    (
        'address = "192.168.122.13"',
        'address = "192.168.122.255"',
        "hosts[2].interfaces.lan.address: 192.168.122.255 is the broadcast address",
    ),
    (
        'address = "192.168.122.200/24"',
        'address = "192.168.122.0/24"',
        "ctdb.vips[0].address: 192.168.122.0 is the network address",
    ),
    (
        "[ctdb]",
        '[ctdb]\nrecovery_lock = "/mnt/lock/nodes"',
        "ctdb.recovery_lock: /mnt/lock/nodes is the CTDB nodes file on the meta volume",
    ),
    (
        "[ctdb]",
        '[ctdb]\nrecovery_lock = "/mnt/lock/ctdb/reclock"',
        "ctdb.recovery_lock: /mnt/lock/ctdb/reclock is below the CTDB ctdb file on the meta volume",
    ),
    (
        "[ctdb]",
        '[ctdb]\nmeta_volume = "engine"',
        "ctdb.meta_volume: 'engine' is the hosted engine's volume",
    ),
    (
        "[ctdb]",
        '[[gluster.volumes]]\nname = "all"\n\n[ctdb]',
        'gluster.volumes[0].name: "all" is a word of the gluster command',
    ),
    (
        "[ctdb]",
        '[[gluster.volumes]]\nname = "vm"\nhosts = ["host1", "HOST2", "host3"]\n\n[ctdb]',
        "gluster.volumes[0].hosts[1]: no host named 'HOST2'; did you mean 'host2'?",
    ),
    (
        'brick_device = "/dev/vdb"',
        'brick_device = "/dev/gluster/gluster"',
        "hosts[0].brick_device: /dev/gluster/gluster is in the volume group /dev/gluster/",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), REFUSED, ids=[c[2][:60] for c in REFUSED])
def test_what_the_real_programs_refuse_is_reported_by_path(
    old: str,
    new: str,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = _check(old, new, tmp_path, monkeypatch, capsys)
    err = "\n".join(lines)
    assert expected in err, err
    if not expected.startswith("warning:"):
        assert code == 1


ACCEPTED = [
    ('brick_device = "/dev/vdb"', 'brick_device = "/dev/disk/by-path/pci-0000:00:1f.2-ata-1"'),
    ("[ctdb]", '[ctdb]\nmount_point = "/mnt/.lock"'),
    # A new volume of one brick per set: created without the replica keyword.
    (
        "[ctdb]",
        VOLUMES + '[[gluster.volumes]]\nname = "scratch"\nreplica = 1\nhosts = ["host3"]\n\n[ctdb]',
    ),
]


@pytest.mark.parametrize(("old", "new"), ACCEPTED)
def test_valid_forms_are_accepted(old: str, new: str) -> None:
    cluster = confgen.loads(SEED.replace(old, new, 1))
    assert [p for p in confgen.validate(cluster) if p.severity is confgen.Severity.ERROR] == []


def test_listed_volumes_are_the_list_while_tunables_add_to_the_seeds() -> None:
    """A volume list is the cluster's whole list; the seed's CTDB tunables stay under the
    file's, which add to them or replace one of the same name."""
    cluster = confgen.loads(
        SEED.replace("[ctdb]", '[[gluster.volumes]]\nname = "vmstore"\n\n[ctdb]', 1)
    )
    assert [v.name for v in cluster.gluster.all_volumes] == ["vmstore"]
    tuned = confgen.loads(
        SEED.replace("[ctdb]", "[ctdb]\ntunables = { MonitorInterval = 20, TakeoverTimeout = 9 }")
    )
    assert tuned.ctdb.all_tunables[-2:] == (("MonitorInterval", 20), ("TakeoverTimeout", 9))
    assert len(tuned.ctdb.all_tunables) == 6


def test_only_a_host_that_holds_a_brick_needs_a_brick_device() -> None:
    four = SEED.replace(
        "[ctdb]",
        '[[hosts]]\nname = "host4"\nfqdn = "host4.osas.lab"\nhost_id = 4\n'
        'interfaces.lan = { nic = "eth0", address = "192.168.122.14" }\n\n[ctdb]',
        1,
    )
    cluster = confgen.loads(four)
    assert confgen.validate(cluster) == []
    script = confgen.render(cluster)["hosts/host4/scripts/05-brick-storage.sh"].text
    assert 'note "host4 holds no brick"' in script and "ssm create" not in script
    holding = four.replace(
        "[ctdb]",
        VOLUMES + '[[gluster.volumes]]\nname = "vm"\nhosts = ["host4"]\nreplica = 1\n\n[ctdb]',
        1,
    )
    problems = [str(p) for p in confgen.validate(confgen.loads(holding))]
    assert problems == [
        "hosts[3].brick_device: required: 'host4' holds a brick of volume 'vm', and the brick "
        "filesystem is made on this device (a disk such as /dev/vdb)"
    ]


def test_a_host_without_a_brick_device_still_has_its_other_keys_checked() -> None:
    text = SEED.replace('brick_device = "/dev/vdb"\n', "", 3).replace(
        'nic = "eth0", address = "192.168.122.13"', 'nic = "-bad", address = "192.168.122.13"'
    )
    paths = {p.path for p in confgen.validate(confgen.loads(text))}
    assert "hosts[2].interfaces.lan.nic" in paths
    assert "hosts[2].brick_device" in paths  # host3 holds bricks of the seed's volumes


def test_plan_of_a_cluster_never_validated_raises_the_validation_errors() -> None:
    """The library's plan() validates: an invalid cluster gives its problems by key path, not a
    StopIteration from deep inside (a cluster without a first host once did)."""
    text = SEED.replace("first = true", "first = false")
    cluster = confgen.loads(text)
    with pytest.raises(confgen.ValidationError) as raised:
        confgen.plan(cluster)
    assert any(p.path.startswith("hosts") for p in raised.value.problems), raised.value.problems
    assert "first" in str(raised.value)


def test_validate_given_the_text_gives_each_problem_its_line() -> None:
    text = SEED.replace('address = "192.168.122.13"', 'address = "10.0.0.13"', 1)
    cluster = confgen.loads(text)
    [problem] = confgen.validate(cluster, text)
    assert (problem.path, problem.line) == ("hosts[2].interfaces.lan.address", 41)


def test_validate_of_a_loaded_cluster_gives_lines_as_the_command_does(tmp_path: Path) -> None:
    """A cluster `load` or `loads` read knows its text: validate() needs no second argument."""
    text = SEED.replace('address = "192.168.122.13"', 'address = "10.0.0.13"', 1)
    (tmp_path / "cluster.toml").write_text(text)
    for cluster in (confgen.loads(text), confgen.load(tmp_path / "cluster.toml")):
        [problem] = confgen.validate(cluster)
        assert (problem.path, problem.line) == ("hosts[2].interfaces.lan.address", 41)
    # A cluster made otherwise (changed with attrs.evolve) has no file to point into.
    changed = attrs.evolve(confgen.loads(text), networks=confgen.loads(text).networks)
    assert [p.line for p in confgen.validate(changed)] == [None]


def test_problems_of_one_file_come_in_line_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Load problems and rule problems alike, as the reader meets them in the file, whatever
    order the rules or the model's fields find them in."""
    broken = tmp_path / "cluster.toml"
    # The rules find ctdb.mount_point (line 44) before ctdb.recovery_lock (line 43).
    broken.write_text(SEED.replace("[ctdb]", '[ctdb]\nmount_point = "/mnt//lock"'))
    assert main(["check", str(broken)]) == 1
    lines = [int(line.split(":")[1]) for line in capsys.readouterr().err.splitlines()]
    assert lines == [43, 44]
    # The model reads hosts before ctdb; here [ctdb] comes first in the file.
    head, ctdb = SEED.split("[ctdb]")
    moved = "[ctdb]\nzz = 1" + ctdb + "\n" + head.replace("host_id = 3", "host_idd = 3")
    broken.write_text(moved)
    assert main(["check", str(broken)]) == 1
    lines = [int(line.split(":")[1]) for line in capsys.readouterr().err.splitlines()]
    assert len(lines) >= 2 and lines == sorted(lines) and lines[0] == 2


@given(st.text())
def test_the_printable_check_finds_what_the_unicode_categories_say(value: str) -> None:
    """Its ASCII shortcut (str.isprintable) answers as the per-character category rule."""
    import unicodedata

    from confgen.validator import _UNPRINTABLE, _unprintable

    bad = [c for c in value if unicodedata.category(c) in _UNPRINTABLE]
    assert _unprintable(value) == (bad[0] if bad else None)
    for code in range(128):
        text = f"ab{chr(code)}"
        assert (_unprintable(text) is None) == (unicodedata.category(chr(code)) not in _UNPRINTABLE)


SEED_VOLUMES = (
    '[[gluster.volumes]]\nname = "engine"\nexisting = true\n\n'
    '[[gluster.volumes]]\nname = "data"\nexisting = true\n\n'
)


def test_a_volume_list_in_the_file_is_the_whole_list() -> None:
    """The seed's volumes only when the file lists none: a file that lists its own meta
    volume gets no unused `meta` volume besides it."""
    text = SEED.replace(
        "[ctdb]",
        SEED_VOLUMES
        + '[[gluster.volumes]]\nname = "ctdb_meta"\n\n[ctdb]\nmeta_volume = "ctdb_meta"',
    )
    cluster = confgen.loads(text)
    assert [p for p in confgen.validate(cluster) if p.severity is confgen.Severity.ERROR] == []
    assert [v.name for v in confgen.plan(cluster).volumes] == ["engine", "data", "ctdb_meta"]
    assert [v.name for v in confgen.plan(confgen.loads(SEED)).volumes] == ["engine", "data", "meta"]


def test_the_seeds_volume_for_a_role_given_to_another_is_a_warning() -> None:
    text = SEED.replace(
        "[ctdb]",
        SEED_VOLUMES
        + '[[gluster.volumes]]\nname = "meta"\n\n[[gluster.volumes]]\nname = "ctdb_meta"\n\n'
        '[ctdb]\nmeta_volume = "ctdb_meta"',
    )
    problems = [str(p) for p in confgen.validate(confgen.loads(text), text)]
    assert any(
        "warning: gluster.volumes[2]: volume 'meta' is no longer the CTDB meta volume "
        "(ctdb.meta_volume is 'ctdb_meta'): it is created and left unused" in p
        for p in problems
    ), problems


def test_the_seeds_lists_written_out_are_the_same_cluster() -> None:
    """Writing out the default volumes and tunables changes neither the digest nor a file."""
    listed = SEED.replace(
        "[ctdb]",
        SEED_VOLUMES + '[[gluster.volumes]]\nname = "meta"\n\n[ctdb]',
    )
    assert confgen.loads(listed).gluster.volumes is not None
    digest = confgen.Source.of("c", confgen.loads(SEED)).model_sha256
    assert confgen.Source.of("c", confgen.loads(listed)).model_sha256 == digest
    assert confgen.render(confgen.loads(listed)) == confgen.render(confgen.loads(SEED))


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/x.rpm;touch$IFS/tmp/pwned",
        "https://example.com/x.rpm|sh",
        "https://example.com/`id`.rpm",
        "https://example.com/$(id).rpm",
        "https://example.com/x.rpm?a=1&b=2",
        "https://exa mple.com/x.rpm",
        "https://example.com/x.rpm\tmore",
        "https://example.com/a'b.rpm",
        "https:///x.rpm",
        "https://-example.com/x.rpm",
        "ftp://example.com/x.rpm",
        "example.com/x.rpm",
    ],
)
def test_release_rpm_must_be_a_url_of_a_host_without_shell_characters(url: str) -> None:
    text = SEED.replace("[ctdb]", f"[packages]\nrelease_rpm = {json.dumps(url)}\n\n[ctdb]")
    problems = confgen.validate(confgen.loads(text))
    assert [p.path for p in problems] == ["packages.release_rpm"], problems
    assert "an http(s) URL: http:// or https://, a host name" in problems[0].message


@pytest.mark.parametrize(
    "url",
    [
        "http://resources.ovirt.org/pub/yum-repo/ovirt-release35.rpm",
        "https://mirror.example.com:8443/ovirt/release/ovirt-release35-005-1.noarch.rpm",
        "http://10.0.0.1/x.rpm",
    ],
)
def test_release_rpm_takes_an_ordinary_url(url: str) -> None:
    text = SEED.replace("[ctdb]", f"[packages]\nrelease_rpm = {json.dumps(url)}\n\n[ctdb]")
    assert confgen.validate(confgen.loads(text)) == []
