"""The cluster file of the target ovirt45-el9: oVirt 4.5 on EL9, the hosted engine on a
replica-3 GlusterFS storage domain. Defaults are in `defaults.py`."""

from __future__ import annotations

from typing import Literal

from attrs import Factory

from confgen import models
from confgen.components import brick_storage, gluster
from confgen.models import FirewallRule
from confgen.records import record, replace
from confgen.targets.ovirt45_el9 import defaults

NAME: Literal["ovirt45-el9"] = "ovirt45-el9"


@record
class BrickFilesystem:
    """Where each host keeps its bricks: one LVM volume group on the brick device; in it the
    hosted engine's brick on a thick logical volume, every other volume's on a thin logical
    volume of the thin pool; each logical volume its own XFS filesystem, mounted by UUID at
    <mount_point>/<volume>."""

    volume_group: str = defaults.BRICK_VOLUME_GROUP
    thin_pool: str = defaults.BRICK_THIN_POOL  # the rest of the group, after the engine's
    thin_pool_metadata_size: str = defaults.THIN_POOL_METADATA_SIZE
    mount_point: str = defaults.BRICK_MOUNT_POINT  # holds a folder per volume, each mounted

    def volume_mount_point(self, volume: str) -> str:
        """Where the filesystem of a volume's brick is mounted."""
        return f"{self.mount_point.rstrip('/')}/{volume}"

    @staticmethod
    def logical_volume(volume: str) -> str:
        """The logical volume that holds a volume's brick."""
        return f"{defaults.BRICK_LV_PREFIX}{volume}"


@record
class Volume(gluster.Volume):
    """A Gluster volume, created replica 3 with the options for VM images."""

    replica: int = defaults.REPLICA
    # The size of the logical volume of its brick on each host that holds one: the engine's
    # (thick) 100G, any other's (thin, virtual) 200G.
    size: str | None = None


@record
class Gluster(gluster.Volumes[Volume]):
    brick_fs: BrickFilesystem = Factory(BrickFilesystem)
    # The cluster's volumes, the whole list: the defaults only when the file lists none (a
    # list in the file is the list, as Compose and Kubernetes read lists).
    volumes: tuple[Volume, ...] | None = None

    def default_volumes(self) -> tuple[Volume, ...]:
        return tuple(Volume(name=name) for name in defaults.VOLUMES)


@record
class Firewall:
    """firewalld: the services oVirt and Gluster need, and the ports a cluster adds."""

    # False: open the services in the default zone, to every network. True: only to the
    # cluster's networks, through a zone with those networks as its sources.
    cluster_networks_only: bool = False
    extra_rules: tuple[FirewallRule, ...] = ()

    @property
    def services(self) -> tuple[str, ...]:
        return defaults.FIREWALL_SERVICES


@record
class Packages:
    # True on a RHEL 9 rebuild (Rocky, Alma, RHEL): CentOS Stream's extras-common repository
    # is added first, which holds the release packages.
    rhel_rebuild: bool = False
    # True on Red Hat Enterprise Linux itself: subscription-manager enables the repositories
    # oVirt needs (defaults.RHEL_REPOSITORIES) before anything else.
    rhel_subscription: bool = False
    release: tuple[str, ...] = defaults.RELEASE_PACKAGES
    install: tuple[str, ...] = defaults.PACKAGES


@record
class HostedEngine:
    fqdn: str  # the engine VM's name: it must resolve, forward and reverse, before the deploy
    volume: str = defaults.ENGINE_VOLUME  # the Gluster volume the engine VM lives on
    cluster: str = defaults.CLUSTER  # the oVirt cluster every host joins
    data_center: str = defaults.DATA_CENTER
    # Keycloak on the engine, as hosted-engine --deploy sets it up by default.
    keycloak: bool = defaults.KEYCLOAK
    # The engine user the REST API is called as: by default the engine's admin, whose name
    # depends on Keycloak (see `api_user`).
    admin_user: str | None = None

    @property
    def api_user(self) -> str:
        if self.admin_user is not None:
            return self.admin_user
        return defaults.ADMIN_USER_KEYCLOAK if self.keycloak else defaults.ADMIN_USER_INTERNAL


@record
class Cluster(models.Cluster):
    """Everything confgen needs to know about one cluster of this target."""

    target: Literal["ovirt45-el9"] = NAME
    hosts: tuple[brick_storage.Host, ...]  # each with its brick device
    gluster: Gluster = Factory(Gluster)
    firewall: Firewall = Factory(Firewall)
    packages: Packages = Factory(Packages)
    hosted_engine: HostedEngine

    def canonical(self) -> Cluster:
        """The default volumes written out as the cluster reads them."""
        return replace(self, gluster=replace(self.gluster, volumes=self.gluster.all_volumes))

    def brick_size(self, volume: Volume) -> str:
        """The size of the logical volume of a volume's brick: the hosted engine's is thick,
        every other volume's thin (a virtual size)."""
        if volume.size is not None:
            return volume.size
        if volume.name == self.hosted_engine.volume:
            return defaults.ENGINE_BRICK_SIZE
        return defaults.DATA_BRICK_SIZE
