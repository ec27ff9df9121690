"""Write a valid cluster file with N hosts: `python bench/gen.py [--target NAME] N FILE`.

A network per role, as larger clusters have. The target's volumes, with `data` spread over
every host in replica sets of three (the hosts left over, when N is not a multiple of three,
carry no data brick), so both the per-host files and the cluster-wide lists grow with N. The
seed's target (the default) and ovirt45-el9.
"""

from __future__ import annotations

import sys
from pathlib import Path

NETWORKS = (("mgmt", "10.10", "management", "eth0"), ("gluster", "10.20", "storage", "eth1"),
            ("ctdb", "10.30", "heartbeat", "eth2"))  # fmt: skip


def _address(prefix: str, i: int) -> str:
    return f"{prefix}.{i // 250}.{i % 250 + 1}"


def cluster_toml(n: int, target: str = "ovirt35-el7") -> str:
    if n < 3:
        raise ValueError("a cluster has at least 3 hosts")
    el9 = target == "ovirt45-el9"
    networks = NETWORKS[:2] if el9 else NETWORKS  # no CTDB heartbeat on el9
    lines = [f"# A generated {n}-host cluster for the benchmark.", f'target = "{target}"', ""]
    for name, prefix, role, _ in networks:
        lines += ["[[networks]]", f'name = "{name}"', f'cidr = "{prefix}.0.0/16"']
        lines += [f'roles = ["{role}"]', ""]
    for i in range(n):
        lines += [
            "[[hosts]]",
            f'name = "host{i + 1}"',
            f'fqdn = "host{i + 1}.example.lab"',
            f"host_id = {i + 1}",
            *(["first = true"] if i == 0 else []),
            'brick_device = "/dev/vdb"',
        ]
        for name, prefix, _, nic in networks:
            lines.append(
                f'interfaces.{name} = {{ nic = "{nic}", address = "{_address(prefix, i)}" }}'
            )
        lines.append("")
    data_hosts = ", ".join(f'"host{i + 1}"' for i in range(n - n % 3))
    if el9:
        lines += [
            "[[gluster.volumes]]", 'name = "engine"', "",
            "[[gluster.volumes]]", 'name = "data"', f"hosts = [{data_hosts}]", "",
            "[hosted_engine]", 'fqdn = "engine.example.lab"', "",
        ]  # fmt: skip
        return "\n".join(lines)
    lines += [
        "[[gluster.volumes]]", 'name = "engine"', "existing = true", "",
        "[[gluster.volumes]]", 'name = "data"', "existing = true", f"hosts = [{data_hosts}]", "",
        "[[gluster.volumes]]", 'name = "meta"', "",
        "[ctdb]",
        'mount_hostname = "ovirtmount.example.lab"',
        'vips = [{ address = "10.10.255.200/16", nic = "eth0" }]',
        "",
    ]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    target = "ovirt35-el7"
    if argv[:1] == ["--target"] and len(argv) > 1:
        target, argv = argv[1], argv[2:]
    if len(argv) != 2 or not argv[0].isdecimal():
        print("usage: python bench/gen.py [--target NAME] N FILE", file=sys.stderr)
        return 2
    Path(argv[1]).write_text(cluster_toml(int(argv[0]), target), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
