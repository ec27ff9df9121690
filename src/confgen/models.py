"""The parts of a cluster file every target shares: networks, hosts, volumes, ports.

Every class is frozen and keyword-only. Field *types* do the parsing (addresses, networks,
port ranges, enums), so the loader can report a bad value with the path of its key. Rules that
relate several fields to each other live in the validator and each target's rules, not here.
A target's own sections and defaults live in its folder under `confgen/targets/`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network

from confgen.records import record

_DIGITS = re.compile(r"[0-9]{1,9}")


class Role(str):
    """What traffic a network carries, by the name a cluster file gives it in `roles`.

    The core knows one, `MANAGEMENT`; a component declares the roles of its own traffic
    (`confgen.components.gluster.STORAGE`), and a target lists the roles its clusters give a
    network (`Target.roles`): a file's roles are held to those. A `str`, so that a model's
    digest and the templates see the name itself."""

    __slots__ = ()

    @property
    def value(self) -> str:
        """The role's name, as the cluster file writes it."""
        return str.__str__(self)


# The network the hosts know each other by: their names resolve to their addresses on it, and
# everything no other role's network carries goes over it.
MANAGEMENT = Role("management")


class Protocol(enum.Enum):
    TCP = "tcp"
    UDP = "udp"


@record
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


@record
class Network:
    """An IPv4 network and the roles it carries; one network may carry every role."""

    name: str
    cidr: IPv4Network
    roles: tuple[Role, ...]


@record
class Interface:
    """A host's presence on one network: the NIC it uses there and its address."""

    nic: str
    address: IPv4Address


@record
class Host:
    """One machine of the cluster; what it is besides (a Gluster peer, an oVirt host, a CTDB
    node) and what it has for it (a brick device) its target's components say
    (`confgen.components.brick_storage.Host`)."""

    name: str  # short host name, also the name of its folder in the output tree
    fqdn: str
    host_id: int  # 1..N: hosts are ordered by it (the hosted engine's host ID, where it has one)
    # The host the cluster is built from: the steps of one host run there (with the hosted
    # engine, the host that runs it first: `confgen.components.hosted_engine`).
    first: bool = False
    interfaces: Mapping[str, Interface]  # network name -> interface


@record
class FirewallRule:
    """Accept incoming traffic to a port or range; `service` becomes the rule's comment."""

    service: str
    protocol: Protocol = Protocol.TCP
    ports: PortRange


@record
class Cluster:
    """What a cluster file of every target holds: its target, networks and hosts.

    Each target (`confgen.targets`) extends it with its own sections and defaults; `target`
    names the one a file is written for, and is read before the rest of the file.
    """

    target: str
    networks: tuple[Network, ...]
    hosts: tuple[Host, ...]

    def canonical(self) -> Cluster:
        """This cluster with every list the file may leave out filled in as the target reads
        it: two files that describe the same cluster give equal canonical clusters. A target
        whose sections have such lists says how."""
        return self

    def network_for(self, role: Role) -> str | None:
        """The name of the network that carries `role`, if one does."""
        return next((n.name for n in self.networks if role in n.roles), None)
