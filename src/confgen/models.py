"""The typed description of a cluster: what a cluster.toml holds once it is loaded.

Every class is frozen and keyword-only. Field *types* do the parsing (addresses, networks,
port ranges, enums), so the loader can report a bad value with the path of its key. Rules that
relate several fields to each other live in `validate.py`, not here.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from attrs import Factory, field, frozen

from confgen import seed

_DIGITS = re.compile(r"[0-9]{1,9}")


class Target(enum.Enum):
    """The family of formats to render: which releases the generated files are written for."""

    # The seed's own: CentOS 7, oVirt 3.5, ctdb configured by /etc/sysconfig/ctdb, iptables.
    OVIRT35_EL7 = "ovirt35-el7"


class Role(enum.Enum):
    """What traffic a network carries."""

    MANAGEMENT = "management"  # oVirt management and everything else
    STORAGE = "storage"  # Gluster traffic
    HEARTBEAT = "heartbeat"  # the CTDB interconnect


class Protocol(enum.Enum):
    TCP = "tcp"
    UDP = "udp"


@frozen(kw_only=True)
class PortRange:
    """One port (`first == last`) or an inclusive range, written `22` or `"5900:6923"`."""

    first: int
    last: int

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}:{self.last}"

    @classmethod
    def parse(cls, value: object) -> PortRange:
        """Parse a port number or a `first:last` string; the loader calls this for the field."""
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a port or a range 'first:last'")
        if isinstance(value, int):
            return cls(first=value, last=value)
        if isinstance(value, str):
            # ASCII digits only, and few of them: str.isdecimal() would take any script's digits.
            first, sep, last = value.partition(":")
            if _DIGITS.fullmatch(first) and (not sep or _DIGITS.fullmatch(last)):
                return cls(first=int(first), last=int(last if sep else first))
        raise ValueError(f"{value!r} is not a port or a range 'first:last'")


@frozen(kw_only=True)
class Network:
    """An IPv4 network and the roles it carries; one network may carry all three."""

    name: str
    cidr: IPv4Network
    roles: tuple[Role, ...]


@frozen(kw_only=True)
class Interface:
    """A host's presence on one network: the NIC it uses there and its address."""

    nic: str
    address: IPv4Address


@frozen(kw_only=True)
class Host:
    """One machine: hypervisor, Gluster storage node and CTDB node at once."""

    name: str  # short host name, also the name of its folder in the output tree
    fqdn: str
    host_id: int  # hosted-engine host ID: the first host is 1
    # The host that already runs the hosted engine from part one of the procedure.
    first: bool = False
    # The block device the brick filesystem is created on; only a host that holds a brick
    # needs one.
    brick_device: str | None = None
    interfaces: Mapping[str, Interface]  # network name -> interface


@frozen(kw_only=True)
class BrickFilesystem:
    """The filesystem that holds every brick of a host (created with `ssm create`)."""

    pool: str = seed.BRICK_POOL
    volume: str = seed.BRICK_VOLUME
    mount_point: str = seed.BRICK_MOUNT_POINT
    fstype: str = seed.BRICK_FSTYPE

    @property
    def device(self) -> str:
        """The logical volume ssm creates: /dev/<pool>/<volume>."""
        return f"/dev/{self.pool}/{self.volume}"


@frozen(kw_only=True)
class Volume:
    """A Gluster volume.

    `existing` volumes were created in part one with one brick on the first host and are
    converted to `replica` copies with add-brick; the others are created. `hosts` lists the
    hosts that carry a brick, in brick order; it defaults to the first `replica` hosts by ID.
    """

    name: str
    replica: int = seed.REPLICA
    existing: bool = False
    brick_dir: str | None = None  # default: <brick mount point>/<name>/brick
    hosts: tuple[str, ...] | None = None

    def brick_hosts(self, names_by_id: Sequence[str]) -> tuple[str, ...]:
        """The hosts that carry a brick, in brick order: `hosts`, or the first `replica`."""
        return self.hosts if self.hosts is not None else tuple(names_by_id[: self.replica])


def _seed_volumes() -> tuple[Volume, ...]:
    return tuple(Volume(name=name, existing=existing) for name, existing in seed.VOLUMES)


@frozen(kw_only=True)
class Gluster:
    brick_fs: BrickFilesystem = Factory(BrickFilesystem)
    # The cluster's own volumes: each replaces the seed's volume of the same name, or is added
    # after the seed's, as `ctdb.tunables` and `firewall.extra_rules` add to the seed's.
    volumes: tuple[Volume, ...] = ()

    @property
    def all_volumes(self) -> tuple[Volume, ...]:
        """The seed's volumes with this cluster's over them, then its new ones."""
        mine = {volume.name: volume for volume in self.volumes}
        merged = [mine.pop(volume.name, volume) for volume in _seed_volumes()]
        return (*merged, *mine.values())

    def brick_dir(self, volume: Volume) -> str:
        """The folder of the volume's brick on each of its hosts."""
        if volume.brick_dir is not None:
            return volume.brick_dir
        return f"{self.brick_fs.mount_point.rstrip('/')}/{volume.name}/brick"


@frozen(kw_only=True)
class VirtualIP:
    """A CTDB public address: the VIP with its prefix, and the NIC that hosts it."""

    address: IPv4Interface
    nic: str


def _default_recovery_lock(ctdb: Ctdb) -> str:
    return f"{ctdb.mount_point}/{seed.CTDB_RECOVERY_LOCK_NAME}"


@frozen(kw_only=True)
class Ctdb:
    """CTDB floats the VIPs that the hosted engine's NFS mount hostname resolves to."""

    mount_hostname: str  # resolves to the VIP; the hosted engine mounts <this>:/<engine volume>
    vips: tuple[VirtualIP, ...]
    meta_volume: str = seed.META_VOLUME
    mount_point: str = seed.CTDB_MOUNT_POINT
    recovery_lock: str = field(default=Factory(_default_recovery_lock, takes_self=True))
    # Added to the seed's tunables, or replacing one of the same name (any case, as in ctdb).
    tunables: Mapping[str, int] = Factory(dict)

    @property
    def meta_dir(self) -> str:
        """The meta volume's mount point without a trailing slash, to put file names under."""
        return self.mount_point.rstrip("/")

    @property
    def recovery_lock_dir(self) -> str:
        """The lock's folder, which must exist on the meta volume before ctdb takes the lock."""
        return self.recovery_lock.rsplit("/", 1)[0] or "/"

    @property
    def all_tunables(self) -> tuple[tuple[str, int], ...]:
        """The seed's tunables with this cluster's values over them, then its new ones."""
        mine = {name.lower(): (name, value) for name, value in self.tunables.items()}
        merged = [mine.pop(name.lower(), (name, value)) for name, value in seed.CTDB_TUNABLES]
        return (*merged, *mine.values())


@frozen(kw_only=True)
class FirewallRule:
    """Accept incoming traffic to a port or range; `service` becomes the rule's comment."""

    service: str
    protocol: Protocol = Protocol.TCP
    ports: PortRange


def _seed_firewall_rules() -> tuple[FirewallRule, ...]:
    return tuple(
        FirewallRule(service=service, protocol=Protocol(proto), ports=PortRange.parse(ports))
        for service, proto, ports in seed.FIREWALL_RULES
    )


@frozen(kw_only=True)
class Firewall:
    """The seed's rules, plus the ones a cluster adds."""

    extra_rules: tuple[FirewallRule, ...] = ()

    @property
    def seed_rules(self) -> tuple[FirewallRule, ...]:
        return _seed_firewall_rules()

    @property
    def rules(self) -> tuple[FirewallRule, ...]:
        return self.seed_rules + self.extra_rules


@frozen(kw_only=True)
class Packages:
    release_rpm: str = seed.RELEASE_RPM
    install: tuple[str, ...] = seed.PACKAGES

    @property
    def release_package(self) -> str:
        """The package the release RPM installs, named by its file: ovirt-release35."""
        return self.release_rpm.rsplit("/", 1)[-1].removesuffix(".rpm")


@frozen(kw_only=True)
class HostedEngine:
    volume: str = seed.ENGINE_VOLUME  # the Gluster volume the engine VM lives on
    domain_type: str = seed.HOSTED_ENGINE_DOMAIN_TYPE


@frozen(kw_only=True)
class Cluster:
    """Everything confgen needs to know about one cluster."""

    target: Target = Target.OVIRT35_EL7
    networks: tuple[Network, ...]
    hosts: tuple[Host, ...]
    gluster: Gluster = Factory(Gluster)
    ctdb: Ctdb
    firewall: Firewall = Factory(Firewall)
    packages: Packages = Factory(Packages)
    hosted_engine: HostedEngine = Factory(HostedEngine)

    def peer_name(self, host: Host) -> str:
        """The name Gluster knows a host by: its FQDN when storage shares the management
        network (the FQDN resolves there through /etc/hosts), else its storage address."""
        roles = {role: n.name for n in self.networks for role in n.roles}
        storage = roles.get(Role.STORAGE)
        interface = host.interfaces.get(storage) if storage is not None else None
        if storage == roles.get(Role.MANAGEMENT) or interface is None:
            return host.fqdn
        return str(interface.address)
