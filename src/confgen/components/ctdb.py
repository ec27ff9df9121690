"""CTDB: the virtual IPs it floats over the hosts, its meta volume, recovery lock and tunables.

A target with CTDB gives its cluster a `ctdb` section: a record that subclasses `Section`
and declares the fields below with the target's defaults, and sets `SEED_TUNABLES` (its
release's tunables) for `all_tunables`. Its rules call `rules` with its release's known
tunables; its plan takes `nodes` and `public_addresses`; its templates `cluster_data`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from ipaddress import IPv4Interface
from typing import TYPE_CHECKING, Any, ClassVar

from confgen.errors import Problem, error, quoted
from confgen.models import Cluster, Role
from confgen.paths import is_within
from confgen.planner import Check, HostPlan
from confgen.records import record
from confgen.validator import duplicates, form, usable

# --- the model ------------------------------------------------------------------------------


@record
class VirtualIP:
    """A CTDB public address: the VIP with its prefix, and the NIC that hosts it."""

    address: IPv4Interface
    nic: str


class Section:
    """What every target's `ctdb` section is: a mixin of its record, which declares the fields
    (with the target's defaults) and the tunables its release starts from."""

    if TYPE_CHECKING:
        mount_hostname: str  # resolves to a VIP
        vips: tuple[VirtualIP, ...]
        meta_volume: str  # the Gluster volume of CTDB's shared files and lock
        mount_point: str  # where each host mounts it
        recovery_lock: str
        # Added to SEED_TUNABLES, or replacing one of the same name (any case, as in ctdb).
        tunables: Mapping[str, int]
        # The host IDs of hosts that left the cluster: the nodes file keeps their lines,
        # commented, so no node after them changes its number (`nodes`).
        retired_host_ids: tuple[int, ...]

    SEED_TUNABLES: ClassVar[tuple[tuple[str, int], ...]] = ()

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
        """The release's tunables with this cluster's values over them, then its new ones."""
        mine = {name.lower(): (name, value) for name, value in self.tunables.items()}
        merged = [mine.pop(name.lower(), (name, value)) for name, value in self.SEED_TUNABLES]
        return (*merged, *mine.values())


# --- the rules ------------------------------------------------------------------------------


def _forms(ctdb: Section) -> Iterator[Problem]:
    yield from form("ctdb.mount_hostname", ctdb.mount_hostname, "hostname")
    yield from form("ctdb.meta_volume", ctdb.meta_volume, "name")
    yield from form("ctdb.mount_point", ctdb.mount_point, "path")
    yield from form("ctdb.recovery_lock", ctdb.recovery_lock, "path")
    for i, vip in enumerate(ctdb.vips):
        yield from form(f"ctdb.vips[{i}].nic", vip.nic, "nic")


def _mount_name(cluster: Cluster, ctdb: Section) -> Iterator[Problem]:
    owner = {name.lower(): host for host in cluster.hosts for name in (host.name, host.fqdn)}
    mount_name = ctdb.mount_hostname
    if mount_name.lower() in owner:
        yield error(
            "ctdb.mount_hostname",
            f"{quoted(mount_name)} is a name of host "
            f"{quoted(owner[mount_name.lower()].name)}: the NFS "
            "mount name must be a name of its own, which /etc/hosts points at the CTDB VIP",
        )


def _lock_and_vips(cluster: Cluster, ctdb: Section) -> Iterator[Problem]:
    if not ctdb.recovery_lock.startswith(ctdb.mount_point.rstrip("/") + "/"):
        yield error(
            "ctdb.recovery_lock",
            f"{quoted(ctdb.recovery_lock)} is not on the {ctdb.meta_volume} volume mounted at "
            f"{ctdb.mount_point}: every node must see the same lock file",
        )
    # The CTDB step writes these files into the meta volume: the lock must be another file.
    for name in ("ctdb", "nodes", "public_addresses"):
        written = f"{ctdb.meta_dir}/{name}"
        if is_within(ctdb.recovery_lock, written):
            yield error(
                "ctdb.recovery_lock",
                f"{ctdb.recovery_lock} is {'' if ctdb.recovery_lock == written else 'below '}"
                f"the CTDB {name} file on the meta volume: name another file",
            )


def _vips(cluster: Cluster, ctdb: Section) -> Iterator[Problem]:
    vips = ctdb.vips
    if not vips:
        yield error("ctdb.vips", "at least one virtual IP is needed for the NFS mount hostname")
    for address in duplicates(v.address.ip for v in vips):
        yield error("ctdb.vips", f"virtual IP {address} is listed twice")
    for i, vip in enumerate(vips):
        path = f"ctdb.vips[{i}]"
        networks = [n for n in cluster.networks if vip.address.ip in n.cidr]
        on_nic = sorted(
            {name for h in cluster.hosts for name, i in h.interfaces.items() if i.nic == vip.nic}
        )
        if not networks:
            where = f"the network of {vip.nic} ({', '.join(on_nic)})" if on_nic else "any network"
            yield error(f"{path}.address", f"{vip.address.ip} is outside {where}")
            continue
        network = networks[0].name
        yield from usable(f"{path}.address", vip.address.ip, networks[0].cidr)
        if vip.address.network.prefixlen != networks[0].cidr.prefixlen:
            yield error(
                f"{path}.address",
                f"{vip.address.with_prefixlen} has prefix /{vip.address.network.prefixlen}, but "
                f"network {quoted(network)} is {networks[0].cidr}: CTDB adds the VIP with "
                "this prefix, "
                f"so write {vip.address.ip}/{networks[0].cidr.prefixlen}",
            )
        if on_nic and network not in on_nic:
            yield error(
                f"{path}.address",
                f"{vip.address.ip} is on network {quoted(network)}, but {vip.nic} is on "
                f"{', '.join(on_nic)}",
            )
        # public_addresses is one file on the shared meta volume, so its NIC names hold on
        # every host at once.
        for j, host in enumerate(cluster.hosts):
            interface = host.interfaces.get(network)
            if interface is not None and interface.nic != vip.nic:
                yield error(
                    f"hosts[{j}].interfaces.{network}.nic",
                    f"{quoted(interface.nic)} differs from {quoted(vip.nic)}, the NIC of "
                    f"{path}: CTDB's "
                    "shared public_addresses file names one NIC for every host",
                )
        for host in cluster.hosts:
            if vip.address.ip in {a.address for a in host.interfaces.values()}:
                yield error(f"{path}.address", f"{vip.address.ip} is an address of {host.name}")


_UINT32_MAX = 2**32 - 1
_TUNABLE_NAME = re.compile(r"[A-Za-z0-9]+")


def _tunables(ctdb: Section, known_tunables: Sequence[str]) -> Iterator[Problem]:
    # ctdb compares tunable names with strcasecmp: ASCII letters only fold. Python's lower()
    # would also fold the Kelvin sign to 'k', so names are held to ASCII before they are folded.
    known = {name.lower(): name for name in known_tunables}
    seen: dict[str, str] = {}
    for name, value in ctdb.tunables.items():
        path = f"ctdb.tunables.{name}"
        if not _TUNABLE_NAME.fullmatch(name):
            yield error(path, f"{quoted(name)} is not a tunable name: ASCII letters and digits")
            continue
        if name.lower() in seen:
            yield error(path, f"sets the same tunable as {quoted(seen[name.lower()])}")
        seen.setdefault(name.lower(), name)
        if name.lower() not in known:
            import difflib  # here, not at the top: only an unknown tunable needs it

            hint = difflib.get_close_matches(name, known_tunables, n=1)
            suggestion = f"did you mean {quoted(hint[0])}?" if hint else "see ctdb-tunables(7)"
            yield error(path, f"ctdb has no tunable {quoted(name)}; {suggestion}")
        if not 0 <= value <= _UINT32_MAX:
            yield error(path, f"{value} is not a value ctdb accepts (0..{_UINT32_MAX})")


def _retired(cluster: Cluster, ctdb: Section, max_host_id: int) -> Iterator[Problem]:
    used = {h.host_id: h.name for h in cluster.hosts}
    for n in duplicates(ctdb.retired_host_ids):
        yield error("ctdb.retired_host_ids", f"host ID {n} is listed twice")
    for i, n in enumerate(ctdb.retired_host_ids):
        path = f"ctdb.retired_host_ids[{i}]"
        if not 1 <= n <= max_host_id:
            yield error(path, f"a host ID is 1..{max_host_id}, found {n}")
        elif n in used:
            yield error(
                path,
                f"host ID {n} is the ID of host {quoted(used[n])}: list here only the IDs of "
                "hosts that left the cluster",
            )


def forms(cluster: Cluster, ctdb: Section) -> Iterator[Problem]:
    """The forms of the section's values, and a mount name of its own."""
    yield from _forms(ctdb)
    yield from _mount_name(cluster, ctdb)


def rules(
    cluster: Cluster, ctdb: Section, known_tunables: Sequence[str], max_host_id: int
) -> Iterator[Problem]:
    """What ctdbd needs of the section: a lock on the meta volume apart from the files the
    CTDB step writes there, VIPs on a network of one NIC name, tunables its release knows
    (`known_tunables`), retired host IDs that no host has, in the target's range of host IDs
    (1..`max_host_id`)."""
    yield from _lock_and_vips(cluster, ctdb)
    yield from _vips(cluster, ctdb)
    yield from _tunables(ctdb, known_tunables)
    yield from _retired(cluster, ctdb, max_host_id)


# --- the plan -------------------------------------------------------------------------------

# The network of CTDB's interconnect: each node's address on it is a line of the nodes file.
HEARTBEAT = Role("heartbeat")


def nodes(hosts: Sequence[HostPlan], retired: Sequence[int] = ()) -> tuple[str, ...]:
    """The nodes file's lines: line N is the heartbeat address of the host with ID N, and a
    comment where no host has ID N, up to the highest ID of a host or of one that left
    (`retired`). ctdbd numbers its nodes by their line (the PNN), and reads a line that
    starts with '#' as a "deleted" node, "used instead of removing a line, which would cause
    subsequent nodes to change their PNN" (samba ctdb/common/ctdb_util.c,
    ctdb_read_nodes_file; ctdb.1 of ctdb 4.17, reloadnodes: "Do not delete the lines for the
    deleted nodes, just comment them out by adding a '#' at the beginning of the lines"). So a
    host that leaves keeps its line, commented, and a host that joins takes a new ID after
    every other."""
    by_id = {h.host.host_id: h for h in hosts}
    last = max((*by_id, *retired), default=0)
    return tuple(
        str(by_id[n].addresses[HEARTBEAT]) if n in by_id else f"# host ID {n}: no host"
        for n in range(1, last + 1)
    )


def public_addresses(ctdb: Section) -> tuple[str, ...]:
    """The public_addresses file's lines: `VIP/prefix nic`."""
    return tuple(f"{vip.address.with_prefixlen} {vip.nic}" for vip in ctdb.vips)


def vips_held(on: str, ctdb: Section) -> Check:
    """`ctdb ip`: "Public IPs on node N", then each public address and the PNN of the node
    that holds it, -1 while none does (ctdb/tools/ctdb.c, control_ip)."""
    return Check(
        on=on,
        command="ctdb ip",
        shows=tuple(str(vip.address.ip) for vip in ctdb.vips),
        not_shows=("-1",),
        note="each address held by a node",
    )


# --- the templates' data --------------------------------------------------------------------


def cluster_data(ctdb: Section) -> dict[str, Any]:
    """The section for the templates' `cluster.ctdb`."""
    return {
        "mount_hostname": ctdb.mount_hostname,
        "meta_volume": ctdb.meta_volume,
        "mount_point": ctdb.mount_point,
        "meta_dir": ctdb.meta_dir,
        "vips": [
            {"ip": str(v.address.ip), "address": v.address.with_prefixlen, "nic": v.nic}
            for v in ctdb.vips
        ],
        "recovery_lock": ctdb.recovery_lock,
        "recovery_lock_dir": ctdb.recovery_lock_dir,
        # The lock's folder is not the meta volume's top: the CTDB step makes it.
        "recovery_lock_in_subdir": ctdb.recovery_lock_dir != ctdb.meta_dir,
        "tunables": [[name, value] for name, value in ctdb.all_tunables],
    }
