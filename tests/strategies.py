"""Hypothesis strategies: valid cluster files, as the TOML text a user would write."""

from __future__ import annotations

import json
import re
from ipaddress import IPv4Network
from typing import Any

from hypothesis import strategies as st

ROLES = ("management", "storage", "heartbeat")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # A JSON string is a TOML basic string once DEL, which JSON leaves bare, is escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(value)


def to_toml(data: dict[str, Any]) -> str:
    """Write the subset of TOML cluster files use: scalars, arrays of tables, inline tables."""
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict) or (
            isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        ):
            tables.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in tables:
        for item in value if isinstance(value, list) else [value]:
            lines.append("")
            lines.append(f"[[{key}]]" if isinstance(value, list) else f"[{key}]")
            lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in item.items())
    return "\n".join(lines) + "\n"


labels = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
BRICK_MOUNT_POINTS = ["/gluster", "/bricks", "/srv/gluster", "/data/.bricks"]
META_MOUNT_POINTS = [
    "/mnt/lock",
    "/var/lib/ctdb-meta",
    "/srv/ctdb.lock",
    "/mnt/meta_vol/lock",
    "/a",
]
NICS = ["eth0", "eth1", "ens3", "bond0", "em1.100", "enp0s31f6"]
TUNABLES = ["RecoveryBanPeriod", "MonitorInterval", "keepaliveinterval", "EventScriptTimeout"]


@st.composite
def _volume_hosts(draw: st.DrawFn, by_id: list[str], replica: int, first: str | None) -> list[str]:
    """Bricks for a volume: whole replica sets, no host twice; `first` leads, if given."""
    sets = draw(st.integers(min_value=1, max_value=max(1, len(by_id) // replica)))
    others = [name for name in by_id if name != first]
    chosen = draw(st.permutations(others))
    hosts = ([first] if first else []) + list(chosen)
    return hosts[: sets * replica]


@st.composite
def host_ids(draw: st.DrawFn, count: int) -> list[int]:
    """Host IDs for hosts by position: the first host's is 1, the others any unique IDs up to
    hosted-engine's 250 in rising order, so gaps (hosts that left) are drawn too."""
    others = draw(
        st.lists(
            st.integers(min_value=2, max_value=250),
            unique=True,
            min_size=count - 1,
            max_size=count - 1,
        )
    )
    return [1, *sorted(others)]


@st.composite
def clusters(draw: st.DrawFn, max_hosts: int = 12) -> dict[str, Any]:
    """A cluster file `confgen check` accepts, as a dict, from anywhere in the valid space.

    3 to `max_hosts` hosts in any order in the file; one network for every role, one per role,
    or two; several VIPs on any network; volumes of replica 1, 2 and 3 on partial and
    overlapping host lists, with one or more replica sets, custom brick folders, hosts that hold
    no brick; custom mount points, tunables, extra firewall rules and domain types.
    """
    count = draw(st.integers(min_value=3, max_value=max_hosts))
    layout = draw(st.sampled_from(["shared", "split", "pair"]))
    names = draw(st.lists(labels, min_size=count, max_size=count, unique=True))
    domain = draw(labels)
    base = draw(st.integers(min_value=1, max_value=200))
    if layout == "split":
        roles_of = [[role] for role in ROLES]
    elif layout == "pair":
        roles_of = [["management", "heartbeat"], ["storage"]]
    else:
        roles_of = [list(ROLES)]
    networks = [
        {"name": f"net{i}", "cidr": f"10.{base + i}.0.0/24", "roles": roles}
        for i, roles in enumerate(roles_of)
    ]
    nics = draw(
        st.lists(st.sampled_from(NICS), min_size=len(networks), max_size=len(networks), unique=True)
    )
    ids = draw(host_ids(count))
    order = draw(st.permutations(range(count)))  # hosts appear in any order in the file
    hosts = []
    for position in order:
        interfaces = {
            net["name"]: {"nic": nics[j], "address": str(IPv4Network(net["cidr"])[position + 1])}
            for j, net in enumerate(networks)
        }
        host: dict[str, Any] = {
            "name": names[position],
            "fqdn": f"{names[position]}.{domain}.lab",
            "host_id": ids[position],
        }
        if position == 0:
            host["first"] = True
        host["brick_device"] = draw(
            st.sampled_from(
                ["/dev/vdb", "/dev/sdb", "/dev/nvme0n1", "/dev/disk/by-path/pci-0000:00:1f.2-ata-1"]
            )
        )
        host["interfaces"] = interfaces
        hosts.append(host)
    vips = []
    for i in range(draw(st.integers(min_value=1, max_value=3))):
        j = draw(st.integers(min_value=0, max_value=len(networks) - 1))
        vips.append({"address": f"{IPv4Network(networks[j]['cidr'])[200 + i]}/24", "nic": nics[j]})
    ctdb: dict[str, Any] = {"mount_hostname": f"ovirtmount.{domain}.lab", "vips": vips}
    brick_root = draw(st.sampled_from(BRICK_MOUNT_POINTS))
    meta_mount = draw(st.sampled_from(META_MOUNT_POINTS))
    if meta_mount != "/mnt/lock":
        ctdb["mount_point"] = meta_mount
    if draw(st.booleans()):
        ctdb["recovery_lock"] = f"{meta_mount}/{draw(st.sampled_from(['lock', 'locks/reclock']))}"
    if draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(TUNABLES), unique_by=str.lower, max_size=3))
        ctdb["tunables"] = {name: draw(st.integers(min_value=0, max_value=600)) for name in chosen}
    if draw(st.booleans()):
        # Hosts that left: their IDs, any that no host has, above the highest or below it.
        free = st.integers(min_value=2, max_value=250).filter(lambda n: n not in ids)
        ctdb["retired_host_ids"] = draw(st.lists(free, unique=True, max_size=3))
    data: dict[str, Any] = {"target": "ovirt35-el7", "networks": networks, "hosts": hosts}
    gluster: dict[str, Any] = {}
    if brick_root != "/gluster":
        gluster["brick_fs"] = {"mount_point": brick_root}
    by_id = [names[i] for i in range(count)]
    volumes: list[dict[str, Any]] = []
    # The seed's volumes, each left alone or listed over (existing ones start on the first host).
    for name, existing in (("engine", True), ("data", True), ("meta", False)):
        if not draw(st.booleans()):
            continue
        replica = draw(st.integers(min_value=2 if existing else 1, max_value=3))
        volume: dict[str, Any] = {"name": name, "replica": replica}
        if existing:
            volume["existing"] = True
        if draw(st.booleans()) or replica != 3:
            volume["hosts"] = draw(_volume_hosts(by_id, replica, by_id[0] if existing else None))
        volumes.append(volume)
    for k in range(draw(st.integers(min_value=0, max_value=2))):
        replica = draw(st.integers(min_value=1, max_value=3))
        volume = {"name": f"vm{k}", "replica": replica}
        volume["hosts"] = draw(_volume_hosts(by_id, replica, None))
        if draw(st.booleans()):
            volume["brick_dir"] = f"{brick_root}/c-vm{k}"
        volumes.append(volume)
    if volumes:
        # A list in the file is the whole list: it keeps the hosted engine's and CTDB's
        # volumes (the seed's data volume may go).
        names = {v["name"] for v in volumes}
        if "engine" not in names:
            volumes.insert(0, {"name": "engine", "existing": True})
        if "meta" not in names:
            volumes.append({"name": "meta"})
        gluster["volumes"] = volumes
    # A host that holds no brick may leave brick_device out.
    listed = {v["name"]: v for v in volumes}
    holders = set()
    for name in listed or ("engine", "data", "meta"):
        volume = listed.get(name, {})
        holders.update(volume.get("hosts", by_id[: volume.get("replica", 3)]))
    for host in hosts:
        if host["name"] not in holders and draw(st.booleans()):
            del host["brick_device"]
    if gluster:
        data["gluster"] = gluster
    data["ctdb"] = ctdb
    if draw(st.booleans()):
        ports = draw(
            st.lists(st.integers(min_value=60000, max_value=65535), unique=True, max_size=3)
        )
        data["firewall"] = {
            "extra_rules": [
                {
                    "service": f"extra {p}",
                    "protocol": draw(st.sampled_from(["tcp", "udp"])),
                    "ports": p,
                }
                for p in ports
            ]
        }
    if draw(st.booleans()):
        data["hosted_engine"] = {"domain_type": draw(st.sampled_from(["nfs3", "nfs4"]))}
    return data


# Strings that break out of careless quoting, or pass for options, or trip up parsers.
hostile_strings = st.one_of(
    st.sampled_from(
        [
            "$(touch /tmp/confgen-pwned)",
            "`reboot`",
            "; rm -rf /",
            "a b",
            "-rf",
            "--force",
            "x'y",
            'x"y',
            "x\\y",
            "line\nbreak",
            "tab\there",
            "ünïcødé",
            "*",
            "~root",
            "$HOME",
            "a;b",
            "a&&b",
            "a|b",
            "a>b",
            "#comment",
            "",
            " ",
            "x" * 300,
            # Valid URLs that a shell would still take apart unquoted.
            "http://mirror.example/x;reboot",
            "http://mirror.example/$HOME/*&a=1",
        ]
    ),
    st.text(alphabet=st.sampled_from(list("ab-_./:;$`'\"()\n\t {}[]*?~#&|<>é\\")), max_size=24),
)


@st.composite
def el9_clusters(draw: st.DrawFn, max_hosts: int = 9) -> dict[str, Any]:
    """A cluster file of the target ovirt45-el9 that `confgen check` accepts, as a dict.

    3 to `max_hosts` hosts in any order; one network for both roles or one each; the engine's
    volume on any three hosts, data volumes of one or more replica sets on any hosts, custom
    brick folders, LVM names and sizes, hosts that hold no brick; the services in the default
    zone or in a zone of the cluster's networks, extra ports; RHEL rebuilds; the engine's names.
    """
    count = draw(st.integers(min_value=3, max_value=max_hosts))
    names = draw(st.lists(labels, min_size=count, max_size=count, unique=True))
    domain = draw(labels)
    base = draw(st.integers(min_value=1, max_value=200))
    roles_of = [["management"], ["storage"]] if draw(st.booleans()) else [["management", "storage"]]
    networks = [
        {"name": f"net{i}", "cidr": f"10.{base + i}.0.0/24", "roles": roles}
        for i, roles in enumerate(roles_of)
    ]
    nics = draw(
        st.lists(st.sampled_from(NICS), min_size=len(networks), max_size=len(networks), unique=True)
    )
    by_id = names
    brick_root = draw(st.sampled_from(BRICK_MOUNT_POINTS))
    engine_hosts = draw(st.permutations(by_id))[:3]
    volumes: list[dict[str, Any]] = []
    engine_listed = draw(st.booleans())
    if engine_listed:
        engine: dict[str, Any] = {"name": "engine", "hosts": engine_hosts}
        if draw(st.booleans()):
            engine["size"] = draw(st.sampled_from(["60G", "1T", "100g"]))
        volumes.append(engine)
    else:
        engine_hosts = by_id[:3]
    data_hosts = by_id[:3]
    data_listed = draw(st.booleans())
    if data_listed:
        data_hosts = draw(_volume_hosts(by_id, 3, None))
        volumes.append({"name": "data", "hosts": data_hosts})
    holders = set(engine_hosts)
    for k in range(draw(st.integers(min_value=0, max_value=2))):
        hosts = draw(_volume_hosts(by_id, 3, None))
        volume: dict[str, Any] = {"name": f"vm{k}", "hosts": hosts}
        if draw(st.booleans()):
            volume["brick_dir"] = f"{brick_root}/vm{k}/c-vm{k}"
        if draw(st.booleans()):
            volume["size"] = draw(st.sampled_from(["300M", "1.5T", "50g", "4096M"]))
        volumes.append(volume)
        holders.update(hosts)
    # A list in the file is the whole list: it keeps the engine's volume; the default data
    # volume is there when the file lists no volume, or lists it.
    if volumes and not engine_listed:
        volumes.insert(0, {"name": "engine"})
    if data_listed or not volumes:
        holders.update(data_hosts)
    ids = draw(host_ids(count))
    order = draw(st.permutations(range(count)))
    hosts = []
    for position in order:
        host: dict[str, Any] = {
            "name": names[position],
            "fqdn": f"{names[position]}.{domain}.lab",
            "host_id": ids[position],
        }
        if position == 0:
            host["first"] = True
        if names[position] in holders or draw(st.booleans()):
            host["brick_device"] = draw(
                st.sampled_from(["/dev/vdb", "/dev/sdb", "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4"])
            )
        host["interfaces"] = {
            net["name"]: {"nic": nics[j], "address": str(IPv4Network(net["cidr"])[position + 1])}
            for j, net in enumerate(networks)
        }
        hosts.append(host)
    data: dict[str, Any] = {"target": "ovirt45-el9", "networks": networks, "hosts": hosts}
    hosted_engine: dict[str, Any] = {"fqdn": f"engine.{domain}.lab"}
    if draw(st.booleans()):
        hosted_engine["cluster"] = draw(st.sampled_from(["hci", "Cluster_1", "prod-a"]))
        hosted_engine["data_center"] = draw(st.sampled_from(["lab", "DC1", "site-b"]))
    data["hosted_engine"] = hosted_engine
    gluster: dict[str, Any] = {}
    if brick_root != "/gluster_bricks" or draw(st.booleans()):
        gluster["brick_fs"] = {
            "mount_point": brick_root,
            "volume_group": draw(st.sampled_from(["gluster_vg", "vg.bricks", "vg_01"])),
            "thin_pool": draw(st.sampled_from(["gluster_thinpool", "pool+bricks", "thin"])),
            "thin_pool_metadata_size": draw(st.sampled_from(["16G", "1G", "512m", "2M"])),
        }
    if volumes:
        gluster["volumes"] = volumes
    if gluster:
        data["gluster"] = gluster
    firewall: dict[str, Any] = {}
    if draw(st.booleans()):
        firewall["cluster_networks_only"] = True
    if draw(st.booleans()):
        ports = draw(
            st.lists(st.integers(min_value=60000, max_value=65534), unique=True, max_size=3)
        )
        firewall["extra_rules"] = [
            {
                "service": f"extra {p}",
                "protocol": draw(st.sampled_from(["tcp", "udp"])),
                "ports": p if draw(st.booleans()) else f"{p}:{p + 1}",
            }
            for p in ports
        ]
    if firewall:
        data["firewall"] = firewall
    if draw(st.booleans()):
        data["packages"] = {"rhel_rebuild": True, "rhel_subscription": draw(st.booleans())}
    return data
