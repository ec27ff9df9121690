"""gluster-only's rules: the components', and replica 3 for every volume."""

from __future__ import annotations

from collections.abc import Iterator

from confgen.components import brick_storage, firewall, firewalld, gluster, packages
from confgen.errors import Problem, error
from confgen.validator import form, one_first_host
from targets.gluster_only.model import REQUIRED, Cluster


def rules(cluster: Cluster) -> Iterator[Problem]:
    yield from gluster.enough_hosts(cluster)
    yield from one_first_host(cluster, "the host that probes the others into the pool")
    fs = cluster.gluster.brick_fs
    yield from form("gluster.brick_fs.mount_point", fs.mount_point, "path")
    yield from brick_storage.forms(cluster.hosts)
    yield from brick_storage.device_outside(cluster.hosts, f"/dev/{fs.volume_group}/")
    entries = gluster.volume_entries(cluster.gluster.listed_volumes, cluster.gluster.all_volumes)
    brick_dir = {v.name: cluster.gluster.brick_dir(v) for _, v in entries}
    yield from gluster.volume_rules(cluster, entries, brick_dir, fs.mount_point)
    for path, volume in entries:
        if volume.replica != 3:
            yield error(gluster.key_of(path, "replica"), "this target makes replica 3 volumes")
    yield from firewall.extra_rules(cluster.firewall.extra_rules)
    if cluster.firewall.cluster_networks_only:
        yield from firewalld.open_networks(cluster.networks)
    yield from packages.names("packages.release", cluster.packages.release)
    yield from packages.names("packages.install", cluster.packages.install)
    yield from packages.required(cluster.packages.install, REQUIRED)
