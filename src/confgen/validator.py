"""Validate: the rules that relate parts of a loaded cluster to each other.

`validate` returns every problem at once; it never raises. The rules every target shares are
here (forms of values, hosts, networks, volumes and bricks); each target adds its own
(`confgen.targets`). The plan relies on a cluster with no errors: one first host, unique
names, an interface on every network, bricks on known hosts.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from ipaddress import IPv4Address, IPv4Network
from typing import TypeVar

from confgen import targets
from confgen.errors import Problem, error, in_line_order, quoted, warning
from confgen.locate import with_lines
from confgen.models import Cluster, Role, Volume
from confgen.paths import is_within

VolumeT = TypeVar("VolumeT", bound=Volume)

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
    # A URL a script hands to yum: a scheme, a host, an optional port and path; none of the
    # characters a shell gives a meaning to (; & | $ ` ( ) < > ? * [ ] ' " \ ! and blanks), even
    # though the value is quoted where it lands.
    "url": (
        rf"https?://{_LABEL}(\.{_LABEL})*(:[0-9]{{1,5}})?(/[A-Za-z0-9_.~%+@=,:/-]*)?",
        "an http(s) URL: http:// or https://, a host name, an optional :port and a path of "
        "letters, digits and '_.~%+@=,:/-' (no blanks, quotes or shell characters such as "
        "; & | $ ` ? *)",
    ),
    "text": (r".{1,80}", "one line of text, at most 80 characters"),
    "word": (r"[a-z0-9]{1,16}", "a lowercase word"),
}


# Unicode categories no file or script should carry in free text: controls (C0, DEL, C1),
# format characters (bidi overrides, zero-width joiners), line and paragraph separators,
# surrogates, private use and unassigned code points.
_UNPRINTABLE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def _unprintable(value: str) -> str | None:
    if value.isascii() and value.isprintable():
        return None  # the common case, answered in C: no ASCII control is printable
    return next((c for c in value if unicodedata.category(c) in _UNPRINTABLE), None)


def form(path: str, value: str, form: str) -> Iterator[Problem]:
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
        yield from form(f"networks[{i}].name", network.name, "name")
    for i, host in enumerate(cluster.hosts):
        path = f"hosts[{i}]"
        yield from form(f"{path}.name", host.name, "label")
        yield from form(f"{path}.fqdn", host.fqdn, "hostname")
        # Whether a host needs a brick device at all, volume_rules says.
        if host.brick_device is not None:
            yield from form(f"{path}.brick_device", host.brick_device, "device")
        if host.host_id < 1:
            yield error(f"{path}.host_id", f"host IDs start at 1, found {host.host_id}")
        for name, interface in host.interfaces.items():
            yield from form(f"{path}.interfaces.{name}.nic", interface.nic, "nic")


def duplicates(values: Iterable[object]) -> set[object]:
    return {value for value, count in Counter(values).items() if count > 1}


def _hosts(cluster: Cluster) -> Iterator[Problem]:
    hosts = cluster.hosts
    if len(hosts) < 3:
        yield error("hosts", f"a cluster needs at least 3 hosts for replica 3, found {len(hosts)}")
    repeated_ids = duplicates(h.host_id for h in hosts)
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


def usable(path: str, address: IPv4Address, cidr: IPv4Network) -> Iterator[Problem]:
    """A host or a VIP cannot take its network's own address or its broadcast address."""
    if cidr.prefixlen <= 30 and address in (cidr.network_address, cidr.broadcast_address):
        which = "network" if address == cidr.network_address else "broadcast"
        yield error(path, f"{address} is the {which} address of {cidr}, not one a host can take")


def _networks(cluster: Cluster, roles: tuple[Role, ...]) -> Iterator[Problem]:
    for name in duplicates(n.name for n in cluster.networks):
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
    for i, network in enumerate(cluster.networks):
        for role in network.roles:
            if role not in roles:
                yield error(
                    f"networks[{i}].roles",
                    f"{quoted(role.value)} is not a role on target {quoted(cluster.target)}: "
                    f"roles are {', '.join(repr(r.value) for r in roles)}",
                )
    for role in roles:
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
                yield from usable(f"{path}.address", interface.address, known[name].cidr)
    repeated = duplicates(a.address for h in cluster.hosts for a in h.interfaces.values())
    for i, host in enumerate(cluster.hosts):
        for name, interface in host.interfaces.items():
            if interface.address in repeated:
                yield error(
                    f"hosts[{i}].interfaces.{name}.address",
                    f"{interface.address} is used twice",
                )


# glusterd names each brick's volfile `<volume>.<host>.<brick path, '/' as '-'>.vol`
# (gluster/glusterfs v10.5 xlators/mgmt/glusterd/src/glusterd-volgen.c:5157-5182,
# get_brick_filepath) and writes it as `<that name>.tmp` first, renaming it after
# (glusterd-volgen.c:988-1001, volgen_write_volfile). Its own check at volume create
# (glusterd_is_valid_volfpath, glusterd-volume-ops.c:1028-1034) forgets the ".tmp", so
# NAME_MAX (255) less ".tmp" is the longest name that works: a real glusterd 10.3 creates a
# volume whose volfile name is 251 bytes and fails one of 252 half-way ("Failed to create
# volume files", File name too long), as tests/test_stand_ins.py shows on Debian's glusterd.
VOLFILE_NAME_MAX = 255 - len(".tmp")


def volfile_name(volume: str, peer: str, brick_dir: str) -> str:
    return f"{volume}.{peer}.{brick_dir[1:].replace('/', '-')}.vol"


def key_of(path: str, key: str) -> str:
    """The key path of a volume's key; a default volume has none of its own (see volume_rules)."""
    return path if path == "gluster.volumes" else f"{path}.{key}"


def volume_rules(
    cluster: Cluster,
    entries: Sequence[tuple[str, Volume]],
    brick_dir: Mapping[str, str],
    bricks_root: str,
    *,
    replica_two_warning: bool = True,
) -> Iterator[Problem]:
    """What glusterd and the brick step need of every volume, for every target.

    `entries` are the volumes with the key path a problem with each points at (a default
    volume the file does not list points at `gluster.volumes`); `brick_dir` gives each
    volume's brick folder, `bricks_root` the brick filesystem's mount point. A target that
    refuses replica 2 outright turns off `replica_two_warning`, so it is reported once.
    """
    for path, volume in entries:
        if path != "gluster.volumes":
            yield from form(f"{path}.name", volume.name, "name")
            if volume.brick_dir is not None:
                yield from form(f"{path}.brick_dir", volume.brick_dir, "path")
    for name in duplicates(v.name for p, v in entries if p != "gluster.volumes"):
        yield error("gluster.volumes", f"volume {quoted(name)} is defined twice")
    host_names = [h.name for h in cluster.hosts]
    by_name = {h.name: h for h in cluster.hosts}  # also the set a name is looked up in
    names_by_id = [h.name for h in sorted(cluster.hosts, key=lambda h: h.host_id)]
    # Where each host's bricks lie, to find one inside another: host -> (volume, brick dir).
    placed: dict[str, list[tuple[str, str]]] = {}
    holders: dict[str, str] = {}  # host name -> the first volume it holds a brick of
    for path, volume in entries:
        what = volume_name(path, volume)
        if volume.name == "all":
            # cli-cmd-parser.c: '"all" cannot be the name of a volume' (seen with glusterfs 10.3).
            yield error(
                key_of(path, "name"), '"all" is a word of the gluster command, not a volume name'
            )
        folder = brick_dir[volume.name]
        if volume.brick_dir is not None and not (
            is_within(volume.brick_dir, bricks_root) and volume.brick_dir != bricks_root
        ):
            yield error(
                key_of(path, "brick_dir"),
                f"{quoted(volume.brick_dir)} is not a folder on the brick filesystem at "
                f"{bricks_root}",
            )
        if volume.replica < 1:
            yield error(
                key_of(path, "replica"), f"replica must be at least 1, found {volume.replica}"
            )
            continue
        if volume.replica == 2 and replica_two_warning:
            yield warning(key_of(path, "replica"), "replica 2 without an arbiter risks split-brain")
        hosts = volume.hosts
        if hosts is None:
            # Fewer than 3 hosts is reported once, on `hosts`; defaults need no second report.
            if len(host_names) < volume.replica:
                if len(host_names) >= 3:
                    message = f"replica {volume.replica} needs that many hosts"
                    yield error(key_of(path, "replica"), message)
                continue
            hosts = volume.brick_hosts(names_by_id)
        elif not hosts:
            yield error(
                key_of(path, "hosts"),
                f"{what} has no bricks: list at least {volume.replica} hosts (one replica set)",
            )
            continue
        for j, name in enumerate(hosts):
            if name not in by_name:
                same = [h for h in host_names if h.lower() == name.lower()]
                hint = f"; did you mean {quoted(same[0])}?" if same else ""
                yield error(key_of(path, f"hosts[{j}]"), f"no host named {quoted(name)}{hint}")
        if len(hosts) % volume.replica:
            yield error(
                key_of(path, "hosts"),
                f"{len(hosts)} bricks is not a multiple of replica {volume.replica}",
            )
        # Each host holds one brick folder per volume, so a host listed twice would give the
        # volume the same brick twice: glusterd refuses it, across replica sets too.
        for name in sorted(duplicates(hosts), key=str):
            yield error(
                key_of(path, "hosts"),
                f"host {quoted(name)} is listed twice: it would hold the brick {folder} twice; "
                "each brick of a volume must be on its own host",
            )
        volfile_reported = False
        for name in dict.fromkeys(hosts):
            host = by_name.get(name)
            if host is None:
                continue
            holders.setdefault(name, volume.name)
            for other_volume, other_dir in placed.get(name, []):
                if is_within(folder, other_dir) or is_within(other_dir, folder):
                    yield error(
                        key_of(path, "brick_dir") if volume.brick_dir is not None else path,
                        f"on host {quoted(name)} the brick {folder} of {what} "
                        f"{'is' if folder == other_dir else 'nests with'} the brick "
                        f"{other_dir} of volume {quoted(other_volume)}: glusterd refuses a brick "
                        "inside another",
                    )
                    break
            placed.setdefault(name, []).append((volume.name, folder))
            volfile = volfile_name(volume.name, cluster.peer_name(host), folder)
            if not volfile_reported and len(volfile.encode()) > VOLFILE_NAME_MAX:
                volfile_reported = True  # once a volume: the fix is the same for every host
                yield error(
                    path,
                    f"the brick {folder} of {what} on {quoted(name)} gives glusterd a "
                    "volfile name "
                    f"of {len(volfile.encode())} bytes (at most {VOLFILE_NAME_MAX}): shorten the "
                    "volume name, the brick folder or the host's storage name",
                )

    for i, host in enumerate(cluster.hosts):
        if host.brick_device is None and host.name in holders:
            yield error(
                f"hosts[{i}].brick_device",
                f"required: {quoted(host.name)} holds a brick of volume "
                f"{quoted(holders[host.name])}, and "
                "the brick filesystem is made on this device (a disk such as /dev/vdb)",
            )


def volume_entries(listed: Sequence[Volume], every: Sequence[VolumeT]) -> list[tuple[str, VolumeT]]:
    """Every volume (`every`: the defaults with the file's over them, then its new ones) with
    the key path a problem with it points at: `gluster.volumes[i]` for one the file lists
    (`listed`); a default the file leaves as it is has no key of its own, so its problems
    point at `gluster.volumes`."""
    index = {volume.name: i for i, volume in enumerate(listed)}
    return [
        (f"gluster.volumes[{index[v.name]}]" if v.name in index else "gluster.volumes", v)
        for v in every
    ]


def volume_name(path: str, volume: Volume) -> str:
    """How a message names a volume: a default volume is not in the file to point at."""
    return f"volume {quoted(volume.name)}" + (" (a default)" if path == "gluster.volumes" else "")


def validate(cluster: Cluster, text: str | None = None) -> list[Problem]:
    """Every problem with a loaded cluster, errors and warnings, in the order of the file.

    Each problem has the line of its key (or of the nearest table above it that the file has)
    in the cluster file's text: `text`, or the text `load` or `loads` read the cluster from."""
    if text is None:
        from confgen.loader import origin

        loaded = origin(cluster)
        text = loaded.text if loaded is not None else None
    target = targets.of(cluster)
    problems = [
        *_forms(cluster),
        *_networks(cluster, target.roles),
        *_hosts(cluster),
        *target.rules(cluster),
    ]
    return problems if text is None else in_line_order(with_lines(problems, text))
