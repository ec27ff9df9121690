"""Validate: the rules that relate parts of a loaded cluster to each other.

`validate` returns every problem at once; it never raises. The plan relies on a cluster with
no errors: one first host, unique names, an interface on every network, bricks on known hosts.
"""

from __future__ import annotations

import difflib
import posixpath
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from ipaddress import IPv4Address, IPv4Network

from confgen import seed
from confgen.errors import Problem, error, quoted, warning
from confgen.models import Cluster, Role, Volume
from confgen.paths import is_within

# The forms values must take. Each lands in files and scripts on the hosts, so each is held to
# what the program that reads it accepts, and to characters that need no quoting there.
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_FORMS: dict[str, tuple[str, str]] = {
    "label": (_LABEL, "a host name label: letters, digits and inner '-', at most 63 (RFC 1123)"),
    "hostname": (
        rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*",
        "a host name: dot-separated labels of letters, digits and inner '-' (RFC 1123)",
    ),
    # Identifiers start with a letter or digit, so none can pass for a command's option.
    "nic": (
        r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}",
        "a NIC name: at most 15 letters, digits, '_', '.' or '-', starting with a letter or digit",
    ),
    "name": (
        r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}",
        "a name of letters, digits, '_' and '-', starting with a letter or digit",
    ),
    "path": (r"/[A-Za-z0-9_.@+/-]*", "an absolute path of letters, digits and '_.@+-/'"),
    # Device paths may hold ':' as udev's stable names do: /dev/disk/by-path/pci-0000:00:1f.2-ata-1.
    "device": (
        r"/dev/[A-Za-z0-9_.@+:/-]+",
        "a device path under /dev/ of letters, digits and '_.@+:-/'",
    ),
    "package": (r"[A-Za-z0-9][A-Za-z0-9_.+-]*", "a package name"),
    "url": (r"https?://[A-Za-z0-9_.~:/?#@!$&*+,;=%-]+", "an http(s) URL"),
    "text": (r".{1,80}", "one line of text, at most 80 characters"),
    "word": (r"[a-z0-9]{1,16}", "a lowercase word"),
}


# Unicode categories no file or script should carry in free text: controls (C0, DEL, C1),
# format characters (bidi overrides, zero-width joiners), line and paragraph separators,
# surrogates, private use and unassigned code points.
_UNPRINTABLE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def _unprintable(value: str) -> str | None:
    return next((c for c in value if unicodedata.category(c) in _UNPRINTABLE), None)


def _form(path: str, value: str, form: str) -> Iterator[Problem]:
    pattern, description = _FORMS[form]
    bad = _unprintable(value)
    if bad is not None:
        yield error(
            path,
            f"{quoted(value)} holds the control or formatting character U+{ord(bad):04X}; "
            f"it must be {description}",
        )
    elif not re.fullmatch(pattern, value, re.DOTALL):
        yield error(path, f"{quoted(value)} is not {description}")
    elif form in ("path", "device") and posixpath.normpath(value) != value:
        # Dot-files are fine; only '.' and '..' segments, '//' and a trailing '/' are not.
        yield error(
            path, f"{quoted(value)} is not a normalised path (no '//', '.', '..' or trailing '/')"
        )


def _forms(cluster: Cluster) -> Iterator[Problem]:
    for i, network in enumerate(cluster.networks):
        yield from _form(f"networks[{i}].name", network.name, "name")
    for i, host in enumerate(cluster.hosts):
        path = f"hosts[{i}]"
        yield from _form(f"{path}.name", host.name, "label")
        yield from _form(f"{path}.fqdn", host.fqdn, "hostname")
        # Whether a host needs a brick device at all, _volumes says.
        if host.brick_device is not None:
            yield from _form(f"{path}.brick_device", host.brick_device, "device")
            pool = f"/dev/{cluster.gluster.brick_fs.pool}/"
            if host.brick_device.startswith(pool):
                yield error(
                    f"{path}.brick_device",
                    f"{host.brick_device} is in the volume group {pool} the brick step makes on "
                    "the device: name the disk it is to be made on",
                )
        if host.host_id < 1:
            yield error(f"{path}.host_id", f"host IDs start at 1, found {host.host_id}")
        for name, interface in host.interfaces.items():
            yield from _form(f"{path}.interfaces.{name}.nic", interface.nic, "nic")
    fs = cluster.gluster.brick_fs
    yield from _form("gluster.brick_fs.pool", fs.pool, "name")
    yield from _form("gluster.brick_fs.volume", fs.volume, "name")
    yield from _form("gluster.brick_fs.mount_point", fs.mount_point, "path")
    yield from _form("gluster.brick_fs.fstype", fs.fstype, "word")
    for i, volume in enumerate(cluster.gluster.volumes):
        yield from _form(f"gluster.volumes[{i}].name", volume.name, "name")
        if volume.brick_dir is not None:
            yield from _form(f"gluster.volumes[{i}].brick_dir", volume.brick_dir, "path")
    ctdb = cluster.ctdb
    yield from _form("ctdb.mount_hostname", ctdb.mount_hostname, "hostname")
    yield from _form("ctdb.meta_volume", ctdb.meta_volume, "name")
    yield from _form("ctdb.mount_point", ctdb.mount_point, "path")
    yield from _form("ctdb.recovery_lock", ctdb.recovery_lock, "path")
    for i, vip in enumerate(ctdb.vips):
        yield from _form(f"ctdb.vips[{i}].nic", vip.nic, "nic")
    for i, rule in enumerate(cluster.firewall.extra_rules):
        path = f"firewall.extra_rules[{i}]"
        yield from _form(f"{path}.service", rule.service, "text")
        first, last = rule.ports.first, rule.ports.last
        if not (1 <= first <= last <= 65535):
            yield error(
                f"{path}.ports",
                f"{rule.ports} is not a port in 1..65535 or a range first:last with first <= last",
            )
    yield from _form("packages.release_rpm", cluster.packages.release_rpm, "url")
    for i, package in enumerate(cluster.packages.install):
        yield from _form(f"packages.install[{i}]", package, "package")
    yield from _form("hosted_engine.volume", cluster.hosted_engine.volume, "name")
    yield from _form("hosted_engine.domain_type", cluster.hosted_engine.domain_type, "word")


_UINT32_MAX = 2**32 - 1


def _duplicates(values: Iterable[object]) -> set[object]:
    return {value for value, count in Counter(values).items() if count > 1}


def _hosts(cluster: Cluster) -> Iterator[Problem]:
    hosts = cluster.hosts
    if len(hosts) < 3:
        yield error("hosts", f"a cluster needs at least 3 hosts for replica 3, found {len(hosts)}")
    repeated_ids = _duplicates(h.host_id for h in hosts)
    for i, host in enumerate(hosts):
        if host.host_id in repeated_ids:
            yield error(f"hosts[{i}].host_id", f"{quoted(host.host_id)} is used by another host")
    # Host names are not case-sensitive (RFC 4343): /etc/hosts, DNS and glusterd's peer list
    # take host1 and HOST1 for one host, so every name and FQDN must name one host only.
    owner: dict[str, int] = {}
    for i, host in enumerate(hosts):
        for key in ("name", "fqdn"):
            value = getattr(host, key)
            other = owner.setdefault(value.lower(), i)
            if other != i:
                yield error(
                    f"hosts[{i}].{key}",
                    f"{quoted(value)} is already a name of {quoted(hosts[other].name)} "
                    "(host names are compared without regard to case)",
                )
    mount_name = cluster.ctdb.mount_hostname
    if mount_name.lower() in owner:
        yield error(
            "ctdb.mount_hostname",
            f"{quoted(mount_name)} is a name of host "
            f"{quoted(hosts[owner[mount_name.lower()]].name)}: the NFS "
            "mount name must be a name of its own, which /etc/hosts points at the CTDB VIP",
        )
    ids = sorted(h.host_id for h in hosts)
    if not repeated_ids and ids != list(range(1, len(hosts) + 1)):
        yield error("hosts", f"host_id values must be 1..{len(hosts)}, found {ids}")
    firsts = [i for i, h in enumerate(hosts) if h.first]
    if not firsts:
        yield error("hosts", "no host has first = true; mark the host that runs the hosted engine")
    for i in firsts[1:]:
        yield error(f"hosts[{i}].first", "only one host can be the first host")
    for i in firsts[:1]:
        if hosts[i].host_id != 1:
            yield error(f"hosts[{i}].host_id", "the first host has hosted-engine host ID 1")


def _usable(path: str, address: IPv4Address, cidr: IPv4Network) -> Iterator[Problem]:
    """A host or a VIP cannot take its network's own address or its broadcast address."""
    if cidr.prefixlen <= 30 and address in (cidr.network_address, cidr.broadcast_address):
        which = "network" if address == cidr.network_address else "broadcast"
        yield error(path, f"{address} is the {which} address of {cidr}, not one a host can take")


def _networks(cluster: Cluster) -> Iterator[Problem]:
    for name in _duplicates(n.name for n in cluster.networks):
        yield error("networks", f"network name {quoted(name)} is used twice")
    for i, network in enumerate(cluster.networks):
        for other in cluster.networks[:i]:
            if network.cidr.overlaps(other.cidr):
                yield error(
                    f"networks[{i}].cidr",
                    f"{network.cidr} overlaps {other.cidr} of network {quoted(other.name)}: each "
                    "address must belong to one network, or the hosts cannot tell which NIC "
                    "reaches it",
                )
    for role in Role:
        carriers = [n.name for n in cluster.networks if role in n.roles]
        if len(carriers) != 1:
            found = ", ".join(carriers) or "none"
            yield error(
                "networks", f"exactly one network must carry role {quoted(role.value)} ({found})"
            )
    known = {n.name: n for n in cluster.networks}
    for i, host in enumerate(cluster.hosts):
        for name in known.keys() - host.interfaces.keys():
            yield error(f"hosts[{i}].interfaces", f"no interface on network {quoted(name)}")
        for name, interface in host.interfaces.items():
            path = f"hosts[{i}].interfaces.{name}"
            if name not in known:
                yield error(path, f"unknown network; networks are: {', '.join(known)}")
            elif interface.address not in known[name].cidr:
                yield error(f"{path}.address", f"{interface.address} is outside {known[name].cidr}")
            else:
                yield from _usable(f"{path}.address", interface.address, known[name].cidr)
    repeated = _duplicates(a.address for h in cluster.hosts for a in h.interfaces.values())
    for i, host in enumerate(cluster.hosts):
        for name, interface in host.interfaces.items():
            if interface.address in repeated:
                yield error(
                    f"hosts[{i}].interfaces.{name}.address",
                    f"{interface.address} is used twice",
                )


def _volume_entries(cluster: Cluster) -> list[tuple[str, Volume]]:
    """Every volume with the key path a problem with it points at.

    A volume the file lists is `gluster.volumes[i]`; a seed volume the file leaves as it is has
    no key of its own, so its problems point at `gluster.volumes`.
    """
    listed = {volume.name: i for i, volume in enumerate(cluster.gluster.volumes)}
    return [
        (f"gluster.volumes[{listed[v.name]}]" if v.name in listed else "gluster.volumes", v)
        for v in cluster.gluster.all_volumes
    ]


def _volume_name(path: str, volume: Volume) -> str:
    """How a message names a volume: the seed's defaults are not in the file to point at."""
    return f"volume {quoted(volume.name)}" + (
        " (a seed default)" if path == "gluster.volumes" else ""
    )


# glusterd names each brick's volfile `<volume>.<host>.<brick path, '/' as '-'>.vol` and
# refuses a brick whose volfile name is longer than NAME_MAX (glusterd-volgen.c,
# get_brick_filepath; glusterd-utils.c, glusterd_is_valid_volfpath).
_NAME_MAX = 255


def _volfile_name(volume: str, peer: str, brick_dir: str) -> str:
    return f"{volume}.{peer}.{brick_dir[1:].replace('/', '-')}.vol"


def _key(path: str, key: str) -> str:
    """The key path of a volume's key; a seed volume has none of its own (see _volume_entries)."""
    return path if path == "gluster.volumes" else f"{path}.{key}"


def _volumes(cluster: Cluster) -> Iterator[Problem]:
    listed = cluster.gluster.volumes
    for name in _duplicates(v.name for v in listed):
        yield error("gluster.volumes", f"volume {quoted(name)} is defined twice")
    entries = _volume_entries(cluster)
    names = [v.name for _, v in entries]
    for key, name, default, role in (
        ("hosted_engine.volume", cluster.hosted_engine.volume, seed.ENGINE_VOLUME, "hosted engine"),
        ("ctdb.meta_volume", cluster.ctdb.meta_volume, seed.META_VOLUME, "CTDB meta"),
    ):
        if name not in names:
            # Point at what the file says: the key if it was set, else the volume list.
            path = key if name != default else "gluster.volumes"
            yield error(
                path,
                f"no Gluster volume named {quoted(name)} for the {role} volume ({key}); "
                f"volumes are: {', '.join(names)}",
            )
    host_names = [h.name for h in cluster.hosts]
    by_name = {h.name: h for h in cluster.hosts}
    names_by_id = [h.name for h in sorted(cluster.hosts, key=lambda h: h.host_id)]
    first = next((h.name for h in cluster.hosts if h.first), None)
    bricks_root = cluster.gluster.brick_fs.mount_point
    # Where each host's bricks lie, to find one inside another: host -> (volume, brick dir).
    placed: dict[str, list[tuple[str, str]]] = {}
    holders: dict[str, str] = {}  # host name -> the first volume it holds a brick of
    for path, volume in entries:
        what = _volume_name(path, volume)
        if volume.name == "all":
            # cli-cmd-parser.c: '"all" cannot be the name of a volume' (seen with glusterfs 10.3).
            yield error(
                _key(path, "name"), '"all" is a word of the gluster command, not a volume name'
            )
        brick_dir = cluster.gluster.brick_dir(volume)
        if volume.brick_dir is not None and not (
            is_within(volume.brick_dir, bricks_root) and volume.brick_dir != bricks_root
        ):
            yield error(
                _key(path, "brick_dir"),
                f"{quoted(volume.brick_dir)} is not a folder on the brick filesystem at "
                f"{bricks_root}",
            )
        if volume.replica < 1:
            yield error(
                _key(path, "replica"), f"replica must be at least 1, found {volume.replica}"
            )
            continue
        if volume.existing and volume.replica < 2:
            yield error(
                _key(path, "replica"),
                f"{what} exists with one brick and is grown to replica copies: "
                "replica must be at least 2",
            )
        if volume.replica == 2:
            yield warning(_key(path, "replica"), "replica 2 without an arbiter risks split-brain")
        hosts = volume.hosts
        if hosts is None:
            # Fewer than 3 hosts is reported once, on `hosts`; defaults need no second report.
            if len(host_names) < volume.replica:
                if len(host_names) >= 3:
                    message = f"replica {volume.replica} needs that many hosts"
                    yield error(_key(path, "replica"), message)
                continue
            hosts = volume.brick_hosts(names_by_id)
        elif not hosts:
            yield error(
                _key(path, "hosts"),
                f"{what} has no bricks: list at least {volume.replica} hosts (one replica set)",
            )
            continue
        for j, name in enumerate(hosts):
            if name not in host_names:
                same = [h for h in host_names if h.lower() == name.lower()]
                hint = f"; did you mean {quoted(same[0])}?" if same else ""
                yield error(_key(path, f"hosts[{j}]"), f"no host named {quoted(name)}{hint}")
        if len(hosts) % volume.replica:
            yield error(
                _key(path, "hosts"),
                f"{len(hosts)} bricks is not a multiple of replica {volume.replica}",
            )
        # Each host holds one brick folder per volume, so a host listed twice would give the
        # volume the same brick twice: glusterd refuses it, across replica sets too.
        for name in sorted(_duplicates(hosts), key=str):
            yield error(
                _key(path, "hosts"),
                f"host {quoted(name)} is listed twice: it would hold the brick {brick_dir} twice; "
                "each brick of a volume must be on its own host",
            )
        if volume.existing and first is not None and volume.hosts and hosts[0] != first:
            yield error(
                _key(path, "hosts[0]"),
                f"{what} exists with its brick on the first host {quoted(first)}, which "
                "must come first",
            )
        volfile_reported = False
        for name in dict.fromkeys(hosts):
            host = by_name.get(name)
            if host is None:
                continue
            holders.setdefault(name, volume.name)
            for other_volume, other_dir in placed.get(name, []):
                if is_within(brick_dir, other_dir) or is_within(other_dir, brick_dir):
                    yield error(
                        _key(path, "brick_dir") if volume.brick_dir is not None else path,
                        f"on host {quoted(name)} the brick {brick_dir} of {what} "
                        f"{'is' if brick_dir == other_dir else 'nests with'} the brick "
                        f"{other_dir} of volume {quoted(other_volume)}: glusterd refuses a brick "
                        "inside another",
                    )
                    break
            placed.setdefault(name, []).append((volume.name, brick_dir))
            volfile = _volfile_name(volume.name, cluster.peer_name(host), brick_dir)
            if not volfile_reported and len(volfile.encode()) > _NAME_MAX:
                volfile_reported = True  # once a volume: the fix is the same for every host
                yield error(
                    path,
                    f"the brick {brick_dir} of {what} on {quoted(name)} gives glusterd a "
                    "volfile name "
                    f"of {len(volfile.encode())} bytes (at most {_NAME_MAX}): shorten the "
                    "volume name, the brick folder or the host's storage name",
                )
        if volume.name == cluster.hosted_engine.volume and not volume.existing:
            yield error(
                _key(path, "existing"),
                f"{what} holds the hosted engine, which part one installed on it: it must be "
                "existing = true, to be grown onto the other hosts",
            )

    for i, host in enumerate(cluster.hosts):
        if host.brick_device is None and host.name in holders:
            yield error(
                f"hosts[{i}].brick_device",
                f"required: {quoted(host.name)} holds a brick of volume "
                f"{quoted(holders[host.name])}, and "
                "the brick filesystem is made on this device (a disk such as /dev/vdb)",
            )


def _mounts(cluster: Cluster) -> Iterator[Problem]:
    """The brick filesystem and the meta volume mount: neither over / nor inside the other."""
    bricks = cluster.gluster.brick_fs.mount_point
    meta = cluster.ctdb.mount_point
    for path, value in (("gluster.brick_fs.mount_point", bricks), ("ctdb.mount_point", meta)):
        if value == "/":
            yield error(path, "a mount over / would hide the whole system: name a folder")
    if "/" not in (bricks, meta) and (is_within(meta, bricks) or is_within(bricks, meta)):
        yield error(
            "ctdb.mount_point",
            f"{meta} {'is' if meta == bricks else 'nests with'} the brick filesystem's mount "
            f"point {bricks}: the {cluster.ctdb.meta_volume} volume must be mounted apart from "
            "the bricks it is served from",
        )


_TUNABLE_NAME = re.compile(r"[A-Za-z0-9]+")


def _tunables(cluster: Cluster) -> Iterator[Problem]:
    # ctdb compares tunable names with strcasecmp: ASCII letters only fold. Python's lower()
    # would also fold the Kelvin sign to 'k', so names are held to ASCII before they are folded.
    known = {name.lower(): name for name in seed.CTDB_KNOWN_TUNABLES}
    seen: dict[str, str] = {}
    for name, value in cluster.ctdb.tunables.items():
        path = f"ctdb.tunables.{name}"
        if not _TUNABLE_NAME.fullmatch(name):
            yield error(path, f"{quoted(name)} is not a tunable name: ASCII letters and digits")
            continue
        if name.lower() in seen:
            yield error(path, f"sets the same tunable as {quoted(seen[name.lower()])}")
        seen.setdefault(name.lower(), name)
        if name.lower() not in known:
            hint = difflib.get_close_matches(name, seed.CTDB_KNOWN_TUNABLES, n=1)
            suggestion = f"did you mean {quoted(hint[0])}?" if hint else "see ctdb-tunables(7)"
            yield error(path, f"ctdb has no tunable {quoted(name)}; {suggestion}")
        if not 0 <= value <= _UINT32_MAX:
            yield error(path, f"{value} is not a value ctdb accepts (0..{_UINT32_MAX})")


def _packages(cluster: Cluster) -> Iterator[Problem]:
    install = cluster.packages.install
    for package, brings in seed.REQUIRED_PACKAGES:
        if package not in install:
            yield error(
                "packages.install",
                f"{package} is missing: the scripts need {brings}; add it to the list",
            )


def _firewall(cluster: Cluster) -> Iterator[Problem]:
    extra = cluster.firewall.extra_rules
    for i, rule in enumerate(extra):
        others = [(f"the seed's {quoted(r.service)} rule", r) for r in cluster.firewall.seed_rules]
        others += [(f"firewall.extra_rules[{j}]", r) for j, r in enumerate(extra[:i])]
        for name, other in others:
            if (
                other.protocol is rule.protocol
                and other.ports.first <= rule.ports.last
                and rule.ports.first <= other.ports.last
            ):
                same = (other.ports.first, other.ports.last) == (rule.ports.first, rule.ports.last)
                yield warning(
                    f"firewall.extra_rules[{i}].ports",
                    f"{rule.protocol.value} {rule.ports} {'repeats' if same else 'overlaps'} "
                    f"{name} ({other.protocol.value} {other.ports})",
                )
                break


def _ctdb(cluster: Cluster) -> Iterator[Problem]:
    ctdb = cluster.ctdb
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
    if ctdb.meta_volume == cluster.hosted_engine.volume:
        yield error(
            "ctdb.meta_volume",
            f"{quoted(ctdb.meta_volume)} is the hosted engine's volume: CTDB needs a "
            "volume of its own",
        )
    vips = cluster.ctdb.vips
    if not vips:
        yield error("ctdb.vips", "at least one virtual IP is needed for the NFS mount hostname")
    for address in _duplicates(v.address.ip for v in vips):
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
        yield from _usable(f"{path}.address", vip.address.ip, networks[0].cidr)
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


# The storage types ovirt-hosted-engine-setup 1.2 (oVirt 3.5) offers are nfs3, nfs4, glusterfs
# and iscsi (constants.py, DomainTypes); on this target the engine mounts an NFS share through
# the CTDB VIP, so only the NFS ones fit.
_DOMAIN_TYPES = ("nfs3", "nfs4")

# hosted-engine --deploy 1.2 offers no Linux bridge as the interface of its management bridge
# (network/bridge.py, _customization: devices of the 'bridge' module are left out).
_BRIDGE_NIC = re.compile(r"(br[-_.0-9]|bridge|virbr)")


def _hosted_engine(cluster: Cluster) -> Iterator[Problem]:
    domain_type = cluster.hosted_engine.domain_type
    if domain_type not in _DOMAIN_TYPES:
        yield error(
            "hosted_engine.domain_type",
            f"{quoted(domain_type)} is not a storage type for the engine's NFS share on "
            "this target: "
            f"use one of {', '.join(_DOMAIN_TYPES)}",
        )
    management = next((n.name for n in cluster.networks if Role.MANAGEMENT in n.roles), None)
    for i, host in enumerate(cluster.hosts):
        interface = host.interfaces.get(management) if management is not None else None
        if interface is not None and _BRIDGE_NIC.match(interface.nic):
            yield warning(
                f"hosts[{i}].interfaces.{management}.nic",
                f"{quoted(interface.nic)} looks like a Linux bridge: hosted-engine "
                "--deploy of oVirt "
                "3.5 builds its ovirtmgmt bridge on a NIC or bond and offers no bridge; name "
                "the NIC the bridge is built on",
            )


def validate(cluster: Cluster) -> list[Problem]:
    """Every problem with a loaded cluster, errors and warnings, in the order of the file."""
    return [
        *_forms(cluster),
        *_networks(cluster),
        *_hosts(cluster),
        *_volumes(cluster),
        *_mounts(cluster),
        *_ctdb(cluster),
        *_tunables(cluster),
        *_firewall(cluster),
        *_packages(cluster),
        *_hosted_engine(cluster),
    ]
