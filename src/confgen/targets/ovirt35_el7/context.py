"""The seed's plan as plain data for its templates (see `confgen.context`)."""

from __future__ import annotations

from confgen.components import ctdb, gluster, iptables
from confgen.context import Data, paths_data, plan_data
from confgen.targets.ovirt35_el7 import paths
from confgen.targets.ovirt35_el7.model import Cluster
from confgen.targets.ovirt35_el7.planning import SeedPlan


def _cluster(c: Cluster) -> Data:
    fs = c.gluster.brick_fs
    return {
        "ctdb": ctdb.cluster_data(c.ctdb),
        "gluster": {
            "brick_fs": {
                "pool": fs.pool,
                "volume": fs.volume,
                "mount_point": fs.mount_point,
                "fstype": fs.fstype,
                "device": fs.device,
            },
        },
        "packages": {
            "release_rpm": c.packages.release_rpm,
            "release_package": c.packages.release_package,
            "install": list(c.packages.install),
        },
        "hosted_engine": {
            "volume": c.hosted_engine.volume,
            "domain_type": c.hosted_engine.domain_type,
        },
    }


def context(p: SeedPlan) -> Data:
    return {
        "cluster": _cluster(p.cluster),
        "plan": {
            **plan_data(p, gluster.member_data),
            **gluster.plan_data(p),
            # What the volume step mounts on the first host: its undo unmounts it first.
            "volume_mounts": [
                {"volume": p.cluster.ctdb.meta_volume, "mount_point": p.cluster.ctdb.mount_point}
            ],
            "nodes": [str(a) for a in p.nodes],
            "public_addresses": list(p.public_addresses),
            "mount_vip": str(p.mount_vip),
            "mount_unit": p.mount_unit,
            "engine_storage": p.engine_storage,
            "firewall_groups": iptables.data(p.firewall_groups),
        },
        "paths": paths_data(paths),
    }
