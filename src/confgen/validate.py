"""Validate: the rules that relate parts of a loaded cluster to each other.

`validate` returns every problem at once; it never raises. The plan relies on a cluster with
no errors: one first host, unique names, an interface on every network, bricks on known hosts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from confgen.errors import Problem, error, warning
from confgen.models import Cluster, Role


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
    for key, name in (
        ("hosted_engine.volume", cluster.hosted_engine.volume),
        ("ctdb.meta_volume", cluster.ctdb.meta_volume),
    ):
        if name not in names:
            yield error(key, f"no Gluster volume named {name!r}; volumes are: {', '.join(names)}")
    host_names = [h.name for h in cluster.hosts]
    first = next((h.name for h in cluster.hosts if h.first), None)
    for i, volume in enumerate(volumes):
        path = f"gluster.volumes[{i}]"
        if volume.replica < 1:
            yield error(f"{path}.replica", f"replica must be at least 1, found {volume.replica}")
            continue
        if volume.replica == 2:
            yield warning(f"{path}.replica", "replica 2 without an arbiter risks split-brain")
        hosts = volume.hosts
        if hosts is None:
            if len(host_names) < volume.replica:
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


def _ctdb(cluster: Cluster) -> Iterator[Problem]:
    vips = cluster.ctdb.vips
    if not vips:
        yield error("ctdb.vips", "at least one virtual IP is needed for the NFS mount hostname")
    for address in _duplicates(v.address.ip for v in vips):
        yield error("ctdb.vips", f"virtual IP {address} is listed twice")
    for i, vip in enumerate(vips):
        path = f"ctdb.vips[{i}]"
        networks = [n for n in cluster.networks if vip.address.ip in n.cidr]
        if not networks:
            yield error(f"{path}.address", f"{vip.address.ip} is in none of the networks")
            continue
        network = networks[0].name
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
        *_networks(cluster),
        *_hosts(cluster),
        *_volumes(cluster),
        *_ctdb(cluster),
    ]
