"""The cluster file of the seed's target: oVirt 3.5 on CentOS 7, the hosted engine on an NFS
share that CTDB floats a virtual IP for. Defaults are the seed's (`defaults.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from attrs import Factory, field

from confgen import models
from confgen.components import brick_storage, ctdb, gluster
from confgen.models import FirewallRule, PortRange, Protocol
from confgen.records import record, replace
from confgen.targets.ovirt35_el7 import defaults

NAME: Literal["ovirt35-el7"] = "ovirt35-el7"


@record
class BrickFilesystem:
    """The filesystem that holds every brick of a host (created with `ssm create`)."""

    pool: str = defaults.BRICK_POOL
    volume: str = defaults.BRICK_VOLUME
    mount_point: str = defaults.BRICK_MOUNT_POINT
    fstype: str = defaults.BRICK_FSTYPE

    @property
    def device(self) -> str:
        """The logical volume ssm creates: /dev/<pool>/<volume>."""
        return f"/dev/{self.pool}/{self.volume}"


@record
class Volume(gluster.Volume):
    """A Gluster volume. `existing` volumes were created in part one with one brick on the
    first host and are converted to `replica` copies with add-brick; the others are created."""

    replica: int = defaults.REPLICA
    existing: bool = False


def _seed_volumes() -> tuple[Volume, ...]:
    return tuple(Volume(name=name, existing=existing) for name, existing in defaults.VOLUMES)


@record
class Gluster(gluster.Volumes[Volume]):
    brick_fs: BrickFilesystem = Factory(BrickFilesystem)
    # The cluster's volumes, the whole list: the seed's only when the file lists none (a list
    # in the file is the list, as Compose and Kubernetes read lists).
    volumes: tuple[Volume, ...] | None = None

    def default_volumes(self) -> tuple[Volume, ...]:
        return _seed_volumes()


def _default_recovery_lock(section: Ctdb) -> str:
    return f"{section.mount_point}/{defaults.CTDB_RECOVERY_LOCK_NAME}"


@record
class Ctdb(ctdb.Section):
    """CTDB floats the VIPs that the hosted engine's NFS mount hostname resolves to."""

    SEED_TUNABLES = defaults.CTDB_TUNABLES  # ctdb 2.5's, as the seed sets them

    mount_hostname: str  # resolves to the VIP; the hosted engine mounts <this>:/<engine volume>
    vips: tuple[ctdb.VirtualIP, ...]
    meta_volume: str = defaults.META_VOLUME
    mount_point: str = defaults.CTDB_MOUNT_POINT
    recovery_lock: str = field(default=Factory(_default_recovery_lock, takes_self=True))
    # Added to the seed's tunables, or replacing one of the same name (any case, as in ctdb).
    tunables: Mapping[str, int] = Factory(dict)
    # The host IDs of hosts that left: their lines of the nodes file stay, commented.
    retired_host_ids: tuple[int, ...] = ()


def _seed_firewall_rules() -> tuple[FirewallRule, ...]:
    return tuple(
        FirewallRule(service=service, protocol=Protocol(proto), ports=PortRange.parse(ports))
        for service, proto, ports in defaults.FIREWALL_RULES
    )


@record
class Firewall:
    """The seed's rules, plus the ones a cluster adds."""

    extra_rules: tuple[FirewallRule, ...] = ()

    @property
    def seed_rules(self) -> tuple[FirewallRule, ...]:
        return _seed_firewall_rules()

    @property
    def rules(self) -> tuple[FirewallRule, ...]:
        return self.seed_rules + self.extra_rules


@record
class Packages:
    release_rpm: str = defaults.RELEASE_RPM
    install: tuple[str, ...] = defaults.PACKAGES

    @property
    def release_package(self) -> str:
        """The package the release RPM installs, named by its file: ovirt-release35."""
        return self.release_rpm.rsplit("/", 1)[-1].removesuffix(".rpm")


@record
class HostedEngine:
    volume: str = defaults.ENGINE_VOLUME  # the Gluster volume the engine VM lives on
    domain_type: str = defaults.HOSTED_ENGINE_DOMAIN_TYPE


@record
class Cluster(models.Cluster):
    """Everything confgen needs to know about one cluster of this target."""

    target: Literal["ovirt35-el7"] = NAME
    hosts: tuple[brick_storage.Host, ...]  # each with its brick device
    gluster: Gluster = Factory(Gluster)
    ctdb: Ctdb
    firewall: Firewall = Factory(Firewall)
    packages: Packages = Factory(Packages)
    hosted_engine: HostedEngine = Factory(HostedEngine)

    def canonical(self) -> Cluster:
        """The seed's volumes and tunables written out as the cluster reads them."""
        return replace(
            self,
            gluster=replace(self.gluster, volumes=self.gluster.all_volumes),
            ctdb=replace(self.ctdb, tunables=dict(self.ctdb.all_tunables)),
        )
