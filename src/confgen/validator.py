"""Validate: the rules that relate parts of a loaded cluster to each other.

`validate` returns every problem at once; it never raises. The rules every target shares are
here (forms of values, hosts and networks, one first host); each target adds its own
(`confgen.targets`), most of them its components' (`confgen.components`). The plan relies on
a cluster with no errors: one first host, unique names, an interface on every network.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from ipaddress import IPv4Address, IPv4Network

from confgen import targets
from confgen.errors import Problem, error, in_line_order, quoted
from confgen.locate import with_lines
from confgen.models import Cluster, Role

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
        if host.host_id < 1:
            yield error(f"{path}.host_id", f"host IDs start at 1, found {host.host_id}")
        for name, interface in host.interfaces.items():
            yield from form(f"{path}.interfaces.{name}.nic", interface.nic, "nic")


def duplicates(values: Iterable[object]) -> set[object]:
    return {value for value, count in Counter(values).items() if count > 1}


def _hosts(cluster: Cluster) -> Iterator[Problem]:
    hosts = cluster.hosts
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


def one_first_host(cluster: Cluster, mark: str) -> Iterator[Problem]:
    """Exactly one host has `first = true`: the steps of one host run there. `mark` says
    which host that is, in the words of the component that needs it."""
    firsts = [i for i, h in enumerate(cluster.hosts) if h.first]
    if not firsts:
        yield error("hosts", f"no host has first = true; mark {mark}")
    for i in firsts[1:]:
        yield error(f"hosts[{i}].first", "only one host can be the first host")


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
        for j, role in enumerate(network.roles):
            if role not in roles:
                import difflib  # here, not at the top: only a file with a wrong role needs it

                hint = difflib.get_close_matches(role, roles, n=1)
                yield error(
                    f"networks[{i}].roles[{j}]",
                    f"{quoted(role.value)} is not a role on target {quoted(cluster.target)}: "
                    f"roles are {', '.join(repr(r.value) for r in roles)}"
                    + (f"; did you mean {quoted(hint[0])}?" if hint else ""),
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
