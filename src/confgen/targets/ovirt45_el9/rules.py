"""The rules of ovirt45-el9, after those every target shares (`confgen.validator`)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from confgen.components import brick_storage, firewall, firewalld, hosted_engine, packages
from confgen.components.gluster import (
    enough_hosts,
    key_of,
    volume_entries,
    volume_name,
    volume_rules,
)
from confgen.errors import Problem, error, quoted, warning
from confgen.paths import is_within
from confgen.targets.ovirt45_el9 import defaults
from confgen.targets.ovirt45_el9.model import Cluster
from confgen.validator import form

# An engine user: name@profile, as admin@internal, or name@domain@profile, as
# admin@ovirt@internalsso (a user of Keycloak's profile internalsso).
_ENGINE_USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(@[A-Za-z0-9][A-Za-z0-9_.-]*){1,2}")


def _forms(cluster: Cluster) -> Iterator[Problem]:
    fs = cluster.gluster.brick_fs
    for key in ("volume_group", "thin_pool"):
        value = getattr(fs, key)
        if not brick_storage.LVM_NAME.fullmatch(value) or value in (".", ".."):
            yield error(
                f"gluster.brick_fs.{key}",
                f"{quoted(value)} is not an LVM name: letters, digits and '_.+-', starting with "
                "a letter or digit",
            )
    reserved = brick_storage.lvm_reserved(fs.thin_pool)
    if reserved is not None or fs.thin_pool in ("snapshot", "pvmove"):
        yield error(
            "gluster.brick_fs.thin_pool",
            f"{quoted(fs.thin_pool)} is a name LVM keeps for itself (no logical volume name may "
            f"be snapshot or pvmove, or contain {', '.join(brick_storage.LVM_RESERVED)})",
        )
    least, most = defaults.POOL_METADATA_SIZES
    yield from brick_storage.size(
        "gluster.brick_fs.thin_pool_metadata_size",
        fs.thin_pool_metadata_size,
        least,
        most,
        "not a thin pool metadata size LVM makes: from 2M to 16G (lvmthin(7))",
    )
    yield from form("gluster.brick_fs.mount_point", fs.mount_point, "path")
    if fs.mount_point == "/":
        yield error("gluster.brick_fs.mount_point", "a mount over / would hide the whole system")
    yield from brick_storage.forms(cluster.hosts)
    yield from brick_storage.device_outside(cluster.hosts, f"/dev/{fs.volume_group}/")
    he = cluster.hosted_engine
    yield from form("hosted_engine.fqdn", he.fqdn, "hostname")
    yield from form("hosted_engine.volume", he.volume, "name")
    yield from form("hosted_engine.cluster", he.cluster, "name")
    yield from form("hosted_engine.data_center", he.data_center, "name")
    if he.admin_user is not None:
        yield from _admin_user(he.admin_user, he.keycloak)
    yield from firewall.extra_rules(cluster.firewall.extra_rules)
    yield from packages.names("packages.release", cluster.packages.release)
    yield from packages.names("packages.install", cluster.packages.install)


def _admin_user(user: str, keycloak: bool) -> Iterator[Problem]:
    if not _ENGINE_USER.fullmatch(user):
        yield error(
            "hosted_engine.admin_user",
            f"{quoted(user)} is not an engine user: name@profile, as "
            f"{defaults.ADMIN_USER_INTERNAL}, or name@domain@profile, as "
            f"{defaults.ADMIN_USER_KEYCLOAK}",
        )
        return
    profile = user.rsplit("@", 1)[1]
    if keycloak and profile == "internal":
        yield error(
            "hosted_engine.admin_user",
            f"{quoted(user)} is of the profile internal, which the engine turns off with "
            f"Keycloak (hosted_engine.keycloak is true): use {defaults.ADMIN_USER_KEYCLOAK}, "
            "or set keycloak = false",
        )
    if not keycloak and profile == "internalsso":
        yield error(
            "hosted_engine.admin_user",
            f"{quoted(user)} is of Keycloak's profile internalsso, and hosted_engine.keycloak "
            f"is false: use {defaults.ADMIN_USER_INTERNAL}, or set keycloak = true",
        )


def _volumes(cluster: Cluster) -> Iterator[Problem]:
    entries = volume_entries(cluster.gluster.listed_volumes, cluster.gluster.all_volumes)
    names = [v.name for _, v in entries]
    engine = cluster.hosted_engine.volume
    if engine not in names:
        path = "hosted_engine.volume" if engine != defaults.ENGINE_VOLUME else "gluster.volumes"
        listed = cluster.gluster.volumes is not None
        yield error(
            path,
            f"no Gluster volume named {quoted(engine)} for the hosted engine; volumes are: "
            f"{', '.join(names)}"
            + ("; the file's gluster.volumes is the whole list: add it there" if listed else ""),
        )
    elif engine != defaults.ENGINE_VOLUME:
        # The default engine volume, listed although the engine went to another volume.
        for path, volume in entries:
            if volume.name == defaults.ENGINE_VOLUME:
                yield warning(
                    path,
                    f"volume {quoted(volume.name)} is no longer the hosted engine's "
                    f"(hosted_engine.volume is {quoted(engine)}): it becomes a data storage "
                    "domain; remove it from gluster.volumes unless it is meant as one",
                )
    brick_dir = {v.name: cluster.gluster.brick_dir(v) for _, v in entries}
    fs = cluster.gluster.brick_fs
    # Replica 2 is an error below (oVirt takes replica 3 only), not also the shared warning.
    yield from volume_rules(cluster, entries, brick_dir, fs.mount_point, replica_two_warning=False)
    for path, volume in entries:
        if path == "gluster.volumes":
            continue  # a default volume: its name, folder and size are confgen's own
        lv = fs.logical_volume(volume.name)
        reserved = brick_storage.lvm_reserved(lv)
        if reserved is not None:
            yield error(
                key_of(path, "name"),
                f"the logical volume of its brick would be {lv}, and LVM refuses a name "
                f"that contains {reserved}",
            )
        if lv == fs.thin_pool:
            yield error(
                key_of(path, "name"),
                f"the logical volume of its brick would be {lv}, the name of the thin pool "
                "(gluster.brick_fs.thin_pool): rename one",
            )
        if volume.size is not None:
            yield from brick_storage.size(
                key_of(path, "size"),
                volume.size,
                defaults.MIN_BRICK_SIZE,
                None,
                "too small for the XFS filesystem of the volume's brick: mkfs.xfs makes none "
                "under 300M",
            )
        own = fs.volume_mount_point(volume.name)
        folder = volume.brick_dir
        if folder is None or not is_within(folder, fs.mount_point) or folder == fs.mount_point:
            continue  # the default, or reported by volume_rules
        if folder == own:
            yield error(
                key_of(path, "brick_dir"),
                f"{folder} is where the filesystem of the brick of {volume_name(path, volume)} "
                "is mounted: glusterd refuses a brick at a mount point; use a folder in it, as "
                f"{own}/brick",
            )
        elif not is_within(folder, own):
            yield error(
                key_of(path, "brick_dir"),
                f"{folder} is not in the filesystem of the brick of {volume_name(path, volume)}, "
                f"mounted at {own}: each volume's bricks lie on a logical volume of its own; "
                f"use a folder below {own}",
            )
    names_by_id = [h.name for h in sorted(cluster.hosts, key=lambda h: h.host_id)]
    for path, volume in entries:
        if volume.replica != defaults.REPLICA:
            if volume.replica >= 1:
                yield error(
                    key_of(path, "replica"),
                    f"{volume_name(path, volume)} is replica {volume.replica}: oVirt stores VM "
                    "images on replica 3 volumes (vdsm allows no other replicated count, and "
                    "the virt group's options are for replicated volumes)",
                )
            continue
        hosts = volume.brick_hosts(names_by_id)
        if volume.name == engine and len(hosts) != defaults.REPLICA:
            yield error(
                key_of(path, "hosts"),
                f"{volume_name(path, volume)} holds the hosted engine and is one replica set: "
                f"list exactly {defaults.REPLICA} hosts, found {len(hosts)}",
            )


def _packages(cluster: Cluster) -> Iterator[Problem]:
    if cluster.packages.rhel_subscription and not cluster.packages.rhel_rebuild:
        yield error(
            "packages.rhel_subscription",
            "RHEL itself takes the release packages from CentOS Stream's extras-common "
            "repository, as its rebuilds do: set rhel_rebuild = true as well",
        )
    yield from packages.required(cluster.packages.install, defaults.REQUIRED_PACKAGES)


def _firewall(cluster: Cluster) -> Iterator[Problem]:
    if cluster.firewall.cluster_networks_only:
        yield from firewalld.open_networks(cluster.networks)


# The engine's limit on the hosts of one data center, every host here being one: oVirt Engine
# 4.5.7 sets MaxNumberOfHostsInStoragePool to 250
# (packaging/dbscripts/upgrade/pre_upgrade/0000_config.sql:335), refuses to give a host an SPM
# ID once a data center has that many (backend/manager/modules/bll/src/main/java/org/ovirt/
# engine/core/bll/AddVdsSpmIdCommand.java:50, run by hostdeploy/AddVdsCommand.java:173), and
# creates each storage domain, the hosted engine's too, for that many hosts
# (vdsbroker/vdsbroker/CreateStorageDomainVDSCommand.java:26). The hosted-engine HA agent
# itself scans host IDs up to 2000 (ovirt-hosted-engine-ha v2.5.2,
# ovirt_hosted_engine_ha/env/constants.py.in:25, MAX_HOST_ID_SCAN): the engine's is the limit.
MAX_HOSTS = 250


def _hosts(cluster: Cluster) -> Iterator[Problem]:
    if len(cluster.hosts) > MAX_HOSTS:
        yield warning(
            "hosts",
            f"{len(cluster.hosts)} hosts: oVirt Engine 4.5 takes at most {MAX_HOSTS} hosts in "
            f"a data center (MaxNumberOfHostsInStoragePool): adding host {MAX_HOSTS + 1} "
            f"and after fails; keep one cluster file to {MAX_HOSTS} hosts",
        )


def rules(cluster: Cluster) -> Iterator[Problem]:
    yield from enough_hosts(cluster)
    yield from hosted_engine.first_host(cluster)
    yield from _hosts(cluster)
    yield from _forms(cluster)
    yield from hosted_engine.engine_name(cluster, cluster.hosted_engine.fqdn, "hosted_engine.fqdn")
    yield from _volumes(cluster)
    yield from _packages(cluster)
    yield from _firewall(cluster)
