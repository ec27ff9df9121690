"""The cluster file of gluster-only: networks, hosts, the pool's volumes, firewalld, packages."""

from __future__ import annotations

from typing import Literal

from attrs import Factory

from confgen import models
from confgen.components import brick_storage, gluster
from confgen.models import FirewallRule
from confgen.records import record, replace
from confgen.targets.ovirt45_el9.model import BrickFilesystem

NAME: Literal["gluster-only"] = "gluster-only"

# The Storage SIG's GlusterFS 10 ("dnf install centos-release-gluster10", gluster/glusterdocs
# docs/Install-Guide/Community-Packages.md), and what the scripts call: glusterd and gluster,
# the LVM commands (lvm2) and multipathd (device-mapper-multipath) of the brick step, semanage
# (policycoreutils-python-utils) that labels the bricks, chronyd that the packages step starts.
RELEASE: tuple[str, ...] = ("centos-release-gluster10",)
PACKAGES: tuple[str, ...] = (
    "glusterfs-server",
    "lvm2",
    "device-mapper-multipath",
    "policycoreutils-python-utils",
    "chrony",
)
REQUIRED: tuple[tuple[str, str], ...] = (
    ("glusterfs-server", "glusterd, the gluster command and firewalld's glusterfs service"),
    ("lvm2", "the LVM commands of the brick step"),
    ("policycoreutils-python-utils", "semanage, which labels the bricks for SELinux"),
    ("chrony", "chronyd, which keeps the hosts' clocks together"),
)
# firewalld's service for glusterd and the bricks, which glusterfs-server ships.
SERVICES: tuple[str, ...] = ("glusterfs",)


@record
class Volume(gluster.Volume):
    replica: int = 3
    size: str | None = None  # the virtual size of its brick's thin logical volume


@record
class Gluster(gluster.Volumes[Volume]):
    brick_fs: BrickFilesystem = Factory(BrickFilesystem)
    volumes: tuple[Volume, ...] | None = None

    def default_volumes(self) -> tuple[Volume, ...]:
        return (Volume(name="data"),)


@record
class Firewall:
    cluster_networks_only: bool = False
    extra_rules: tuple[FirewallRule, ...] = ()


@record
class Packages:
    # What the EL9 packages step reads: a CentOS Stream 9 host, no subscription.
    rhel_rebuild: bool = False
    rhel_subscription: bool = False
    release: tuple[str, ...] = RELEASE
    install: tuple[str, ...] = PACKAGES


@record
class Cluster(models.Cluster):
    target: Literal["gluster-only"] = NAME
    hosts: tuple[brick_storage.Host, ...]  # each with its brick device
    gluster: Gluster = Factory(Gluster)
    firewall: Firewall = Factory(Firewall)
    packages: Packages = Factory(Packages)

    def canonical(self) -> Cluster:
        return replace(self, gluster=replace(self.gluster, volumes=self.gluster.all_volumes))
