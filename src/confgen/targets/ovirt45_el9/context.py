"""The plan of ovirt45-el9 as plain data for its templates (see `confgen.context`)."""

from __future__ import annotations

from confgen.components import brick_storage, gluster
from confgen.context import Data, paths_data, plan_data
from confgen.targets.ovirt45_el9 import defaults, paths
from confgen.targets.ovirt45_el9.model import BrickFilesystem
from confgen.targets.ovirt45_el9.planning import El9Plan, GlusterDomain


def _domain(d: GlusterDomain) -> Data:
    return {
        "name": d.name,
        "volume": d.volume,
        "address": d.address,
        "path": d.path,
        "connection": d.connection,
        "backup_servers": list(d.backup_servers),
        "bricks": d.bricks,
        "mount_options": d.mount_options,
    }


def brick_fs(fs: BrickFilesystem) -> Data:
    """The brick filesystems as this target makes them (LVM + XFS), for the brick step."""
    return {
        "volume_group": fs.volume_group,
        "thin_pool": fs.thin_pool,
        "thin_pool_chunk_size": defaults.THIN_POOL_CHUNK_SIZE,
        "thin_pool_metadata_size": fs.thin_pool_metadata_size,
        "mount_point": fs.mount_point,
        "pv_data_alignment": defaults.PV_DATA_ALIGNMENT,
        "mkfs_options": list(defaults.MKFS_XFS_OPTIONS),
        "mount_options": defaults.MOUNT_OPTIONS,
        "selinux_type": defaults.BRICK_SELINUX_TYPE,
        "wwid_properties": [list(pair) for pair in defaults.WWID_PROPERTIES],
    }


def context(p: El9Plan) -> Data:
    c = p.cluster
    he = c.hosted_engine
    return {
        "cluster": {
            "gluster": {
                "brick_fs": brick_fs(c.gluster.brick_fs),
                "volume_group": defaults.VM_VOLUME_GROUP,
                "volume_options": [[key, value] for key, value in defaults.VM_VOLUME_OPTIONS],
            },
            "packages": {
                "rhel_rebuild": c.packages.rhel_rebuild,
                "rhel_repositories": list(defaults.RHEL_REPOSITORIES)
                if c.packages.rhel_subscription
                else [],
                "release": list(c.packages.release),
                "install": list(c.packages.install),
                "stream": defaults.STREAM,
            },
            "hosted_engine": {
                "fqdn": he.fqdn,
                "volume": he.volume,
                "cluster": he.cluster,
                "data_center": he.data_center,
                "keycloak": he.keycloak,
                "admin_user": he.api_user,
            },
        },
        "plan": {
            **plan_data(p, gluster.member_data),
            **gluster.plan_data(p),
            "volume_mounts": [],  # the volume step mounts nothing
            "brick_storage": {name: brick_storage.data(s) for name, s in p.brick_storage.items()},
            "engine_domain": _domain(p.engine_domain),
            "data_domains": [_domain(d) for d in p.data_domains],
            "firewall_zone": p.firewall_zone,
            "firewall_sources": list(p.firewall_sources),
            "firewall_services": list(p.firewall_services),
            "firewall_ports": list(p.firewall_ports),
        },
        "paths": paths_data(paths),
    }
