"""Validate: the rules that relate parts of a loaded cluster to each other.

`validate` returns every problem at once; it never raises. The plan relies on a cluster with
no errors: one first host, unique names, an interface on every network, bricks on known hosts.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections import Counter
from collections.abc import Iterable, Iterator

from confgen import seed
from confgen.errors import Problem, error, warning
from confgen.models import Cluster, Role

# The forms values must take. Each lands in files and scripts on the hosts, so each is held to
# what the program that reads it accepts, and to characters that need no quoting there.
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_FORMS: dict[str, tuple[str, str]] = {
    "label": (_LABEL, "a host name label: letters, digits and inner '-', at most 63 (RFC 1123)"),
    "hostname": (
        rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*",
        "a host name: dot-separated labels of letters, digits and inner '-' (RFC 1123)",
    ),
    # Identifiers start with a letter or digit, so none can pass for a command's option.
    "nic": (
        r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}",
        "a NIC name: at most 15 letters, digits, '_', '.' or '-', starting with a letter or digit",
    ),
    "name": (
        r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}",
        "a name of letters, digits, '_' and '-', starting with a letter or digit",
    ),
    "path": (r"/[A-Za-z0-9_.@+/-]*", "an absolute path of letters, digits and '_.@+-/'"),
    "package": (r"[A-Za-z0-9][A-Za-z0-9_.+-]*", "a package name"),
    "url": (r"https?://[A-Za-z0-9_.~:/?#@!$&*+,;=%-]+", "an http(s) URL"),
    "text": (r"[^\x00-\x1f\x7f]{1,80}", "one line of printable text, at most 80 characters"),
    "word": (r"[a-z0-9]{1,16}", "a lowercase word"),
}


def _form(path: str, value: str, form: str) -> Iterator[Problem]:
    pattern, description = _FORMS[form]
    if not re.fullmatch(pattern, value):
        yield error(path, f"{value!r} is not {description}")
    elif form == "path" and (posixpath.normpath(value) != value or "/." in value):
        yield error(
            path, f"{value!r} is not a normalised path (no '//', '.', '..' or trailing '/')"
        )


def _forms(cluster: Cluster) -> Iterator[Problem]:
    for i, network in enumerate(cluster.networks):
        yield from _form(f"networks[{i}].name", network.name, "name")
    for i, host in enumerate(cluster.hosts):
        path = f"hosts[{i}]"
        yield from _form(f"{path}.name", host.name, "label")
        yield from _form(f"{path}.fqdn", host.fqdn, "hostname")
        yield from _form(f"{path}.brick_device", host.brick_device, "path")
        if not host.brick_device.startswith("/dev/"):
            yield error(f"{path}.brick_device", f"{host.brick_device!r} is not a device under /dev")
        if host.host_id < 1:
            yield error(f"{path}.host_id", f"host IDs start at 1, found {host.host_id}")
        for name, interface in host.interfaces.items():
            yield from _form(f"{path}.interfaces.{name}.nic", interface.nic, "nic")
    fs = cluster.gluster.brick_fs
    yield from _form("gluster.brick_fs.pool", fs.pool, "name")
    yield from _form("gluster.brick_fs.volume", fs.volume, "name")
    yield from _form("gluster.brick_fs.mount_point", fs.mount_point, "path")
    yield from _form("gluster.brick_fs.fstype", fs.fstype, "word")
    for i, volume in enumerate(cluster.gluster.volumes):
        yield from _form(f"gluster.volumes[{i}].name", volume.name, "name")
        if volume.brick_dir is not None:
            yield from _form(f"gluster.volumes[{i}].brick_dir", volume.brick_dir, "path")
    ctdb = cluster.ctdb
    yield from _form("ctdb.mount_hostname", ctdb.mount_hostname, "hostname")
    yield from _form("ctdb.meta_volume", ctdb.meta_volume, "name")
    yield from _form("ctdb.mount_point", ctdb.mount_point, "path")
    yield from _form("ctdb.recovery_lock", ctdb.recovery_lock, "path")
    for i, vip in enumerate(ctdb.vips):
        yield from _form(f"ctdb.vips[{i}].nic", vip.nic, "nic")
    for i, rule in enumerate(cluster.firewall.extra_rules):
        path = f"firewall.extra_rules[{i}]"
        yield from _form(f"{path}.service", rule.service, "text")
        first, last = rule.ports.first, rule.ports.last
        if not (1 <= first <= last <= 65535):
            yield error(
                f"{path}.ports",
                f"{rule.ports} is not a port in 1..65535 or a range first:last with first <= last",
            )
    yield from _form("packages.release_rpm", cluster.packages.release_rpm, "url")
    for i, package in enumerate(cluster.packages.install):
        yield from _form(f"packages.install[{i}]", package, "package")
    yield from _form("hosted_engine.volume", cluster.hosted_engine.volume, "name")
    yield from _form("hosted_engine.domain_type", cluster.hosted_engine.domain_type, "word")


_UINT32_MAX = 2**32 - 1


def _duplicates(values: Iterable[object]) -> set[object]:
    return {value for value, count in Counter(values).items() if count > 1}


def _hosts(cluster: Cluster) -> Iterator[Problem]:
    hosts = cluster.hosts
    if len(hosts) < 3:
        yield error("hosts", f"a cluster needs at least 3 hosts for replica 3, found {len(hosts)}")
    for key in ("name", "fqdn", "host_id"):
        repeated = _duplicates(getattr(h, key) for h in hosts)
        for i, host in enumerate(hosts):
            if getattr(host, key) in repeated:
                yield error(f"hosts[{i}].{key}", f"{getattr(host, key)!r} is used by another host")
    ids = sorted(h.host_id for h in hosts)
    if not _duplicates(ids) and ids != list(range(1, len(hosts) + 1)):
        yield error("hosts", f"host_id values must be 1..{len(hosts)}, found {ids}")
    firsts = [i for i, h in enumerate(hosts) if h.first]
    if not firsts:
        yield error("hosts", "no host has first = true; mark the host that runs the hosted engine")
    for i in firsts[1:]:
        yield error(f"hosts[{i}].first", "only one host can be the first host")
    for i in firsts[:1]:
        if hosts[i].host_id != 1:
            yield error(f"hosts[{i}].host_id", "the first host has hosted-engine host ID 1")


def _networks(cluster: Cluster) -> Iterator[Problem]:
    for name in _duplicates(n.name for n in cluster.networks):
        yield error("networks", f"network name {name!r} is used twice")
    for role in Role:
        carriers = [n.name for n in cluster.networks if role in n.roles]
        if len(carriers) != 1:
            found = ", ".join(carriers) or "none"
            yield error("networks", f"exactly one network must carry role {role.value!r} ({found})")
    known = {n.name: n for n in cluster.networks}
    for i, host in enumerate(cluster.hosts):
        for name in known.keys() - host.interfaces.keys():
            yield error(f"hosts[{i}].interfaces", f"no interface on network {name!r}")
        for name, interface in host.interfaces.items():
            path = f"hosts[{i}].interfaces.{name}"
            if name not in known:
                yield error(path, f"unknown network; networks are: {', '.join(known)}")
            elif interface.address not in known[name].cidr:
                yield error(f"{path}.address", f"{interface.address} is outside {known[name].cidr}")
    repeated = _duplicates(a.address for h in cluster.hosts for a in h.interfaces.values())
    for i, host in enumerate(cluster.hosts):
        for name, interface in host.interfaces.items():
            if interface.address in repeated:
                yield error(
                    f"hosts[{i}].interfaces.{name}.address",
                    f"{interface.address} is used twice",
                )


def _volumes(cluster: Cluster) -> Iterator[Problem]:
    volumes = cluster.gluster.volumes
    names = [v.name for v in volumes]
    for name in _duplicates(names):
        yield error("gluster.volumes", f"volume {name!r} is defined twice")
    for key, name, default, role in (
        ("hosted_engine.volume", cluster.hosted_engine.volume, seed.ENGINE_VOLUME, "hosted engine"),
        ("ctdb.meta_volume", cluster.ctdb.meta_volume, seed.META_VOLUME, "CTDB meta"),
    ):
        if name not in names:
            # Point at what the file says: the key if it was set, else the volume list.
            path = key if name != default else "gluster.volumes"
            yield error(
                path,
                f"no Gluster volume named {name!r} for the {role} volume ({key}); "
                f"volumes are: {', '.join(names)}",
            )
    host_names = [h.name for h in cluster.hosts]
    first = next((h.name for h in cluster.hosts if h.first), None)
    bricks_root = cluster.gluster.brick_fs.mount_point.rstrip("/") + "/"
    for i, volume in enumerate(volumes):
        path = f"gluster.volumes[{i}]"
        if volume.brick_dir is not None and not volume.brick_dir.startswith(bricks_root):
            yield error(
                f"{path}.brick_dir",
                f"{volume.brick_dir!r} is not on the brick filesystem at "
                f"{cluster.gluster.brick_fs.mount_point}",
            )
        if volume.replica < 1:
            yield error(f"{path}.replica", f"replica must be at least 1, found {volume.replica}")
            continue
        if volume.existing and volume.replica < 2:
            yield error(
                f"{path}.replica",
                f"volume {volume.name!r} exists with one brick and is grown to replica copies: "
                "replica must be at least 2",
            )
        if volume.replica == 2:
            yield warning(f"{path}.replica", "replica 2 without an arbiter risks split-brain")
        hosts = volume.hosts
        if hosts is None:
            # Fewer than 3 hosts is reported once, on `hosts`; defaults need no second report.
            if len(host_names) >= 3 and len(host_names) < volume.replica:
                yield error(f"{path}.replica", f"replica {volume.replica} needs that many hosts")
            continue
        for j, name in enumerate(hosts):
            if name not in host_names:
                yield error(f"{path}.hosts[{j}]", f"no host named {name!r}")
        if len(hosts) % volume.replica:
            yield error(
                f"{path}.hosts",
                f"{len(hosts)} bricks is not a multiple of replica {volume.replica}",
            )
        for start in range(0, len(hosts), volume.replica):
            replica_set = hosts[start : start + volume.replica]
            for name in _duplicates(replica_set):
                yield error(
                    f"{path}.hosts",
                    f"host {name!r} holds two bricks of one replica set; each copy must be "
                    "on its own host",
                )
        if volume.existing and hosts and first is not None and hosts[0] != first:
            yield error(
                f"{path}.hosts[0]",
                f"volume {volume.name!r} exists with its brick on the first host {first!r}, "
                "which must come first",
            )


def _tunables(cluster: Cluster) -> Iterator[Problem]:
    known = {name.lower(): name for name in seed.CTDB_KNOWN_TUNABLES}
    seen: dict[str, str] = {}
    for name, value in cluster.ctdb.tunables.items():
        path = f"ctdb.tunables.{name}"
        if name.lower() in seen:
            yield error(path, f"sets the same tunable as {seen[name.lower()]!r}")
        seen.setdefault(name.lower(), name)
        if name.lower() not in known:
            hint = difflib.get_close_matches(name, seed.CTDB_KNOWN_TUNABLES, n=1)
            suggestion = f"did you mean {hint[0]!r}?" if hint else "see ctdb-tunables(7)"
            yield error(path, f"ctdb has no tunable {name!r}; {suggestion}")
        if not 0 <= value <= _UINT32_MAX:
            yield error(path, f"{value} is not a value ctdb accepts (0..{_UINT32_MAX})")


def _firewall(cluster: Cluster) -> Iterator[Problem]:
    extra = cluster.firewall.extra_rules
    for i, rule in enumerate(extra):
        others = [(f"the seed's {r.service!r} rule", r) for r in cluster.firewall.seed_rules]
        others += [(f"firewall.extra_rules[{j}]", r) for j, r in enumerate(extra[:i])]
        for name, other in others:
            if (
                other.protocol is rule.protocol
                and other.ports.first <= rule.ports.last
                and rule.ports.first <= other.ports.last
            ):
                same = (other.ports.first, other.ports.last) == (rule.ports.first, rule.ports.last)
                yield warning(
                    f"firewall.extra_rules[{i}].ports",
                    f"{rule.protocol.value} {rule.ports} {'repeats' if same else 'overlaps'} "
                    f"{name} ({other.protocol.value} {other.ports})",
                )
                break


def _ctdb(cluster: Cluster) -> Iterator[Problem]:
    ctdb = cluster.ctdb
    if not ctdb.recovery_lock.startswith(ctdb.mount_point.rstrip("/") + "/"):
        yield error(
            "ctdb.recovery_lock",
            f"{ctdb.recovery_lock!r} is not on the {ctdb.meta_volume} volume mounted at "
            f"{ctdb.mount_point}: every node must see the same lock file",
        )
    vips = cluster.ctdb.vips
    if not vips:
        yield error("ctdb.vips", "at least one virtual IP is needed for the NFS mount hostname")
    for address in _duplicates(v.address.ip for v in vips):
        yield error("ctdb.vips", f"virtual IP {address} is listed twice")
    for i, vip in enumerate(vips):
        path = f"ctdb.vips[{i}]"
        networks = [n for n in cluster.networks if vip.address.ip in n.cidr]
        on_nic = sorted(
            {name for h in cluster.hosts for name, i in h.interfaces.items() if i.nic == vip.nic}
        )
        if not networks:
            where = f"the network of {vip.nic} ({', '.join(on_nic)})" if on_nic else "any network"
            yield error(f"{path}.address", f"{vip.address.ip} is outside {where}")
            continue
        network = networks[0].name
        if on_nic and network not in on_nic:
            yield error(
                f"{path}.address",
                f"{vip.address.ip} is on network {network!r}, but {vip.nic} is on "
                f"{', '.join(on_nic)}",
            )
        # public_addresses is one file on the shared meta volume, so its NIC names hold on
        # every host at once.
        for j, host in enumerate(cluster.hosts):
            interface = host.interfaces.get(network)
            if interface is not None and interface.nic != vip.nic:
                yield error(
                    f"hosts[{j}].interfaces.{network}.nic",
                    f"{interface.nic!r} differs from {vip.nic!r}, the NIC of {path}: CTDB's "
                    "shared public_addresses file names one NIC for every host",
                )
            if interface is not None and interface.address == vip.address.ip:
                yield error(f"{path}.address", f"{vip.address.ip} is the address of {host.name}")


def validate(cluster: Cluster) -> list[Problem]:
    """Every problem with a loaded cluster, errors and warnings, in the order of the file."""
    return [
        *_forms(cluster),
        *_networks(cluster),
        *_hosts(cluster),
        *_volumes(cluster),
        *_ctdb(cluster),
        *_tunables(cluster),
        *_firewall(cluster),
    ]
