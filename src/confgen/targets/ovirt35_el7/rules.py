"""The seed target's rules, after those every target shares (`confgen.validator`)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from confgen.components import brick_storage, ctdb, firewall, hosted_engine, iptables, packages
from confgen.components.gluster import (
    enough_hosts,
    key_of,
    volume_entries,
    volume_name,
    volume_rules,
)
from confgen.errors import Problem, error, quoted, warning
from confgen.models import MANAGEMENT
from confgen.paths import is_within
from confgen.targets.ovirt35_el7 import defaults
from confgen.targets.ovirt35_el7.model import Cluster
from confgen.validator import form


def _forms(cluster: Cluster) -> Iterator[Problem]:
    yield from brick_storage.forms(cluster.hosts)
    yield from brick_storage.device_outside(cluster.hosts, f"/dev/{cluster.gluster.brick_fs.pool}/")
    fs = cluster.gluster.brick_fs
    yield from form("gluster.brick_fs.pool", fs.pool, "name")
    yield from form("gluster.brick_fs.volume", fs.volume, "name")
    yield from form("gluster.brick_fs.mount_point", fs.mount_point, "path")
    yield from form("gluster.brick_fs.fstype", fs.fstype, "word")
    yield from firewall.extra_rules(cluster.firewall.extra_rules)
    yield from form("packages.release_rpm", cluster.packages.release_rpm, "url")
    yield from packages.names("packages.install", cluster.packages.install)
    yield from form("hosted_engine.volume", cluster.hosted_engine.volume, "name")
    yield from form("hosted_engine.domain_type", cluster.hosted_engine.domain_type, "word")


def _volumes(cluster: Cluster) -> Iterator[Problem]:
    entries = volume_entries(cluster.gluster.listed_volumes, cluster.gluster.all_volumes)
    names = [v.name for _, v in entries]
    for key, name, default, role in (
        (
            "hosted_engine.volume",
            cluster.hosted_engine.volume,
            defaults.ENGINE_VOLUME,
            "hosted engine",
        ),
        ("ctdb.meta_volume", cluster.ctdb.meta_volume, defaults.META_VOLUME, "CTDB meta"),
    ):
        if name not in names:
            # Point at what the file says: the key if it was set, else the volume list.
            path = key if name != default else "gluster.volumes"
            listed = cluster.gluster.volumes is not None
            yield error(
                path,
                f"no Gluster volume named {quoted(name)} for the {role} volume ({key}); "
                f"volumes are: {', '.join(names)}"
                + (
                    "; the file's gluster.volumes is the whole list: add it there" if listed else ""
                ),
            )
        elif name != default:
            # The seed's volume for that role, listed although the role went to another.
            for path, volume in entries:
                if volume.name == default:
                    yield warning(
                        path,
                        f"volume {quoted(default)} is no longer the {role} volume ({key} is "
                        f"{quoted(name)}): it is created and left unused; remove it from "
                        "gluster.volumes unless it is meant as a volume of its own",
                    )
    brick_dir = {v.name: cluster.gluster.brick_dir(v) for _, v in entries}
    yield from volume_rules(cluster, entries, brick_dir, cluster.gluster.brick_fs.mount_point)
    first = next((h.name for h in cluster.hosts if h.first), None)
    for path, volume in entries:
        if not volume.existing:
            if volume.name == cluster.hosted_engine.volume:
                yield error(
                    key_of(path, "existing"),
                    f"{volume_name(path, volume)} holds the hosted engine, which part one "
                    "installed on it: it must be existing = true, to be grown onto the other "
                    "hosts",
                )
            continue
        if volume.replica == 1:
            yield error(
                key_of(path, "replica"),
                f"{volume_name(path, volume)} exists with one brick and is grown to replica "
                "copies: replica must be at least 2",
            )
        if first is not None and volume.hosts and volume.hosts[0] != first:
            yield error(
                key_of(path, "hosts[0]"),
                f"{volume_name(path, volume)} exists with its brick on the first host "
                f"{quoted(first)}, which must come first",
            )


def _mounts(cluster: Cluster) -> Iterator[Problem]:
    """The brick filesystem and the meta volume mount: neither over / nor inside the other."""
    bricks = cluster.gluster.brick_fs.mount_point
    meta = cluster.ctdb.mount_point
    for path, value in (("gluster.brick_fs.mount_point", bricks), ("ctdb.mount_point", meta)):
        if value == "/":
            yield error(path, "a mount over / would hide the whole system: name a folder")
    if "/" not in (bricks, meta) and (is_within(meta, bricks) or is_within(bricks, meta)):
        yield error(
            "ctdb.mount_point",
            f"{meta} {'is' if meta == bricks else 'nests with'} the brick filesystem's mount "
            f"point {bricks}: the {cluster.ctdb.meta_volume} volume must be mounted apart from "
            "the bricks it is served from",
        )


def _meta_volume(cluster: Cluster) -> Iterator[Problem]:
    meta = cluster.ctdb.meta_volume
    if meta == cluster.hosted_engine.volume:
        yield error(
            "ctdb.meta_volume",
            f"{quoted(meta)} is the hosted engine's volume: CTDB needs a volume of its own",
        )


# The storage types ovirt-hosted-engine-setup 1.2 (oVirt 3.5) offers are nfs3, nfs4, glusterfs
# and iscsi (constants.py, DomainTypes); on this target the engine mounts an NFS share through
# the CTDB VIP, so only the NFS ones fit.
_DOMAIN_TYPES = ("nfs3", "nfs4")

# hosted-engine --deploy 1.2 offers no Linux bridge as the interface of its management bridge
# (network/bridge.py, _customization: devices of the 'bridge' module are left out).
_BRIDGE_NIC = re.compile(r"(br[-_.0-9]|bridge|virbr)")


def _hosted_engine(cluster: Cluster) -> Iterator[Problem]:
    domain_type = cluster.hosted_engine.domain_type
    if domain_type not in _DOMAIN_TYPES:
        yield error(
            "hosted_engine.domain_type",
            f"{quoted(domain_type)} is not a storage type for the engine's NFS share on "
            "this target: "
            f"use one of {', '.join(_DOMAIN_TYPES)}",
        )
    management = next((n.name for n in cluster.networks if MANAGEMENT in n.roles), None)
    for i, host in enumerate(cluster.hosts):
        interface = host.interfaces.get(management) if management is not None else None
        if interface is not None and _BRIDGE_NIC.match(interface.nic):
            yield warning(
                f"hosts[{i}].interfaces.{management}.nic",
                f"{quoted(interface.nic)} looks like a Linux bridge: hosted-engine "
                "--deploy of oVirt "
                "3.5 builds its ovirtmgmt bridge on a NIC or bond and offers no bridge; name "
                "the NIC the bridge is built on",
            )


def rules(cluster: Cluster) -> Iterator[Problem]:
    yield from enough_hosts(cluster)
    yield from hosted_engine.first_host(cluster)
    yield from _forms(cluster)
    yield from ctdb.forms(cluster, cluster.ctdb)
    yield from _volumes(cluster)
    yield from _mounts(cluster)
    yield from ctdb.rules(
        cluster, cluster.ctdb, defaults.CTDB_KNOWN_TUNABLES, hosted_engine.MAX_HOST_ID
    )
    yield from _meta_volume(cluster)
    yield from iptables.overlaps(cluster.firewall.seed_rules, cluster.firewall.extra_rules)
    yield from packages.required(cluster.packages.install, defaults.REQUIRED_PACKAGES)
    yield from _hosted_engine(cluster)
