"""Hypothesis strategies: valid cluster files, as the TOML text a user would write."""

from __future__ import annotations

import json
import re
from ipaddress import IPv4Network
from typing import Any

from hypothesis import strategies as st

ROLES = ("management", "storage", "heartbeat")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # A JSON string is a TOML basic string once DEL, which JSON leaves bare, is escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(value)


def to_toml(data: dict[str, Any]) -> str:
    """Write the subset of TOML cluster files use: scalars, arrays of tables, inline tables."""
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict) or (
            isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        ):
            tables.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in tables:
        for item in value if isinstance(value, list) else [value]:
            lines.append("")
            lines.append(f"[[{key}]]" if isinstance(value, list) else f"[{key}]")
            lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in item.items())
    return "\n".join(lines) + "\n"


labels = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
mount_points = st.sampled_from(
    ["/mnt/lock", "/var/lib/ctdb-meta", "/srv/ctdb.lock", "/mnt/meta_vol/lock", "/a"]
)


@st.composite
def clusters(draw: st.DrawFn, max_hosts: int = 9) -> dict[str, Any]:
    """A valid cluster as a dict: 3 to 9 hosts, one shared network or one per role."""
    count = draw(st.integers(min_value=3, max_value=max_hosts))
    split = draw(st.booleans())
    names = draw(st.lists(labels, min_size=count, max_size=count, unique=True))
    domain = draw(labels)
    base = draw(st.integers(min_value=1, max_value=200))
    if split:
        networks = [
            {"name": role[:4], "cidr": f"10.{base + i}.0.0/24", "roles": [role]}
            for i, role in enumerate(ROLES)
        ]
    else:
        networks = [{"name": "lan", "cidr": f"10.{base}.0.0/24", "roles": list(ROLES)}]
    order = draw(st.permutations(range(count)))  # hosts appear in any order in the file
    hosts = []
    for position in order:
        interfaces = {
            net["name"]: {"nic": f"eth{j}", "address": str(IPv4Network(net["cidr"])[position + 1])}
            for j, net in enumerate(networks)
        }
        host: dict[str, Any] = {
            "name": names[position],
            "fqdn": f"{names[position]}.{domain}.lab",
            "host_id": position + 1,
        }
        if position == 0:
            host["first"] = True
        host["brick_device"] = draw(st.sampled_from(["/dev/vdb", "/dev/sdb", "/dev/nvme0n1"]))
        host["interfaces"] = interfaces
        hosts.append(host)
    vip_count = draw(st.integers(min_value=1, max_value=3))
    management = networks[0]
    vips = [
        {"address": f"{IPv4Network(management['cidr'])[200 + i]}/24", "nic": "eth0"}
        for i in range(vip_count)
    ]
    ctdb: dict[str, Any] = {"mount_hostname": f"ovirtmount.{domain}.lab", "vips": vips}
    mount_point = draw(mount_points)
    if mount_point != "/mnt/lock":
        ctdb["mount_point"] = mount_point
    data: dict[str, Any] = {"target": "ovirt35-el7", "networks": networks, "hosts": hosts}
    if draw(st.booleans()):
        # Spread the data volume over every whole replica set the hosts make.
        by_id = [names[i] for i in range(count)]
        data["gluster"] = {
            "volumes": [
                {"name": "engine", "existing": True},
                {"name": "data", "existing": True, "hosts": by_id[: count - count % 3]},
                {"name": "meta"},
                *([{"name": "vmstore"}] if draw(st.booleans()) else []),
            ]
        }
    data["ctdb"] = ctdb
    return data


# Strings that break out of careless quoting, or pass for options, or trip up parsers.
hostile_strings = st.one_of(
    st.sampled_from(
        [
            "$(touch /tmp/confgen-pwned)",
            "`reboot`",
            "; rm -rf /",
            "a b",
            "-rf",
            "--force",
            "x'y",
            'x"y',
            "x\\y",
            "line\nbreak",
            "tab\there",
            "ünïcødé",
            "*",
            "~root",
            "$HOME",
            "a;b",
            "a&&b",
            "a|b",
            "a>b",
            "#comment",
            "",
            " ",
            "x" * 300,
            # Valid URLs that a shell would still take apart unquoted.
            "http://mirror.example/x;reboot",
            "http://mirror.example/$HOME/*&a=1",
        ]
    ),
    st.text(alphabet=st.sampled_from(list("ab-_./:;$`'\"()\n\t {}[]*?~#&|<>é\\")), max_size=24),
)
