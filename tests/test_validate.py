"""Each rule of load and validate, as a user meets it: an edit to a valid file, and the message."""

from __future__ import annotations

from pathlib import Path

import pytest

import confgen

SEED = (Path(__file__).resolve().parents[1] / "golden" / "seed-3host" / "cluster.toml").read_text()
HOST3_ADDRESS = 'nic = "eth0", address = "192.168.122.13"'


def _problems(old: str, new: str) -> list[str]:
    assert old in SEED, old
    text = SEED.replace(old, new, 1)
    try:
        cluster = confgen.loads(text)
    except confgen.LoadError as exc:
        return [str(p) for p in exc.problems]
    return [str(p) for p in confgen.validate(cluster)]


def test_the_seed_example_has_no_problems() -> None:
    assert confgen.validate(confgen.loads(SEED)) == []


CASES = [
    # loading: types, shapes and unknown keys
    ("host_id = 2", 'host_id = "2"', ["hosts[1].host_id: '2' is not an integer"]),
    ("first = true", 'first = "yes"', ["hosts[0].first: 'yes' is not true or false"]),
    ('name = "host1"', "name = 1", ["hosts[0].name: 1 is not a string"]),
    (
        'name = "host1"',
        'nam = "host1"',
        [
            "hosts[0].name: required key is missing",
            "hosts[0].nam: unknown key; did you mean 'name'?",
        ],
    ),
    (
        'address = "192.168.122.12"',
        'address = "192.168.122.300"',
        ["hosts[1].interfaces.lan.address: '192.168.122.300' is not an IPv4 address"],
    ),
    (
        'cidr = "192.168.122.0/24"',
        'cidr = "192.168.122.0/33"',
        ["networks[0].cidr: '192.168.122.0/33' is not an IPv4 network in CIDR form (10.0.0.0/24)"],
    ),
    (
        'roles = ["management", "storage", "heartbeat"]',
        'roles = "management"',
        ["networks[0].roles: 'management' is not a list [...]"],
    ),
    (
        '"storage", "heartbeat"]',
        '"storage", "hartbeat"]',
        ["networks[0].roles[2]: 'hartbeat' is not one of 'management', 'storage', 'heartbeat'"],
    ),
    ('target = "ovirt35-el7"', 'target = "el9"', ["target: 'el9' is not one of 'ovirt35-el7'"]),
    (
        'vips = [{ address = "192.168.122.200/24", nic = "eth0" }]',
        "vips = [3]",
        ["ctdb.vips[0]: 3 is not a table {...}"],
    ),
    (
        "[ctdb]",
        '[ctdb]\ntunables = { MonitorInterval = "15" }',
        ["ctdb.tunables.MonitorInterval: '15' is not an integer"],
    ),
    (
        "[ctdb]",
        '[firewall]\nextra_rules = [{ service = "x", ports = "80:a" }]\n\n[ctdb]',
        ["firewall.extra_rules[0].ports: '80:a' is not a port or a range 'first:last'"],
    ),
    # validation: hosts
    (
        "host_id = 3",
        "host_id = 2",
        [
            "hosts[1].host_id: 2 is used by another host",
            "hosts[2].host_id: 2 is used by another host",
        ],
    ),
    ("host_id = 3", "host_id = 4", ["hosts: host_id values must be 1..3, found [1, 2, 4]"]),
    (
        'fqdn = "host3.osas.lab"',
        'fqdn = "host2.osas.lab"',
        [
            "hosts[1].fqdn: 'host2.osas.lab' is used by another host",
            "hosts[2].fqdn: 'host2.osas.lab' is used by another host",
        ],
    ),
    (
        "first = true\n",
        "",
        ["hosts: no host has first = true; mark the host that runs the hosted engine"],
    ),
    (
        "host_id = 3",
        "host_id = 3\nfirst = true",
        ["hosts[2].first: only one host can be the first host"],
    ),
    (
        'name = "host1"',
        'name = "host_1"',
        [
            "hosts[0].name: 'host_1' is not a host name label: letters, digits and inner '-', "
            "at most 63 (RFC 1123)"
        ],
    ),
    (
        'brick_device = "/dev/vdb"',
        'brick_device = "/srv/vdb"',
        ["hosts[0].brick_device: '/srv/vdb' is not a device under /dev"],
    ),
    # validation: networks and addresses
    (
        HOST3_ADDRESS,
        'nic = "eth0", address = "10.0.0.13"',
        ["hosts[2].interfaces.lan.address: 10.0.0.13 is outside 192.168.122.0/24"],
    ),
    (
        HOST3_ADDRESS,
        'nic = "eth0", address = "192.168.122.12"',
        [
            "hosts[1].interfaces.lan.address: 192.168.122.12 is used twice",
            "hosts[2].interfaces.lan.address: 192.168.122.12 is used twice",
        ],
    ),
    (
        HOST3_ADDRESS,
        'nic = "eth1", address = "192.168.122.13"',
        [
            "hosts[2].interfaces.lan.nic: 'eth1' differs from 'eth0', the NIC of ctdb.vips[0]: "
            "CTDB's shared public_addresses file names one NIC for every host"
        ],
    ),
    (
        HOST3_ADDRESS,
        'nic = "eth0;reboot", address = "192.168.122.13"',
        [
            "hosts[2].interfaces.lan.nic: 'eth0;reboot' is not a NIC name: at most 15 letters, "
            "digits, '_', '.' or '-'",
            "hosts[2].interfaces.lan.nic: 'eth0;reboot' differs from 'eth0', the NIC of ctdb.vips[0]: "
            "CTDB's shared public_addresses file names one NIC for every host",
        ],
    ),
    (
        'roles = ["management", "storage", "heartbeat"]',
        'roles = ["management", "storage"]',
        ["networks: exactly one network must carry role 'heartbeat' (none)"],
    ),
    # validation: ctdb
    (
        'address = "192.168.122.200/24"',
        'address = "192.168.122.12/24"',
        ["ctdb.vips[0].address: 192.168.122.12 is the address of host2"],
    ),
    (
        'address = "192.168.122.200/24"',
        'address = "10.9.9.9/24"',
        ["ctdb.vips[0].address: 10.9.9.9 is in none of the networks"],
    ),
    (
        "[ctdb]",
        '[ctdb]\nmount_point = "/mnt//lock"',
        [
            "ctdb.mount_point: '/mnt//lock' is not a normalised path (no '//', '.', '..' or trailing '/')",
            "ctdb.recovery_lock: '/mnt//lock/reclock' is not a normalised path (no '//', '.', '..' or "
            "trailing '/')",
        ],
    ),
    (
        "[ctdb]",
        '[ctdb]\nmeta_volume = "lock"',
        ["ctdb.meta_volume: no Gluster volume named 'lock'; volumes are: engine, data, meta"],
    ),
    # validation: gluster layout
    (
        "[ctdb]",
        '[[gluster.volumes]]\nname = "engine"\nexisting = true\nhosts = ["host1", "host2"]\n'
        '[[gluster.volumes]]\nname = "meta"\n\n[ctdb]',
        ["gluster.volumes[0].hosts: 2 bricks is not a multiple of replica 3"],
    ),
    (
        "[ctdb]",
        '[[gluster.volumes]]\nname = "engine"\nexisting = true\n'
        'hosts = ["host1", "host2", "host2"]\n[[gluster.volumes]]\nname = "meta"\n\n[ctdb]',
        [
            "gluster.volumes[0].hosts: host 'host2' holds two bricks of one replica set; each copy "
            "must be on its own host"
        ],
    ),
    (
        "[ctdb]",
        '[[gluster.volumes]]\nname = "engine"\nexisting = true\n'
        'hosts = ["host2", "host1", "host3"]\n[[gluster.volumes]]\nname = "meta"\n\n[ctdb]',
        [
            "gluster.volumes[0].hosts[0]: volume 'engine' exists with its brick on the first host "
            "'host1', which must come first"
        ],
    ),
    (
        "[ctdb]",
        '[[gluster.volumes]]\nname = "engine"\nreplica = 2\nexisting = true\n'
        '[[gluster.volumes]]\nname = "meta"\n\n[ctdb]',
        ["warning: gluster.volumes[0].replica: replica 2 without an arbiter risks split-brain"],
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES, ids=[c[2][0][:60] for c in CASES])
def test_rule(old: str, new: str, expected: list[str]) -> None:
    assert _problems(old, new) == expected
