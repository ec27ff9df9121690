"""Write a valid cluster file with N hosts in confgen's schema: `python bench/gen.py N FILE`.

A network per role, as larger clusters have. The seed's volumes, with `data` spread over every
host in replica sets of three (the hosts left over, when N is not a multiple of three, carry no
data brick), so both the per-host files and the cluster-wide lists grow with N.
"""

from __future__ import annotations

import sys
from pathlib import Path

NETWORKS = (("mgmt", "10.10", "management", "eth0"), ("gluster", "10.20", "storage", "eth1"),
            ("ctdb", "10.30", "heartbeat", "eth2"))  # fmt: skip


def _address(prefix: str, i: int) -> str:
    return f"{prefix}.{i // 250}.{i % 250 + 1}"


def cluster_toml(n: int) -> str:
    if n < 3:
        raise ValueError("a cluster has at least 3 hosts")
    lines = [f"# A generated {n}-host cluster for the benchmark.", 'target = "ovirt35-el7"', ""]
    for name, prefix, role, _ in NETWORKS:
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
        for name, prefix, _, nic in NETWORKS:
            lines.append(
                f'interfaces.{name} = {{ nic = "{nic}", address = "{_address(prefix, i)}" }}'
            )
        lines.append("")
    data_hosts = ", ".join(f'"host{i + 1}"' for i in range(n - n % 3))
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
    if len(argv) != 2 or not argv[0].isdecimal():
        print("usage: python bench/gen.py N FILE", file=sys.stderr)
        return 2
    Path(argv[1]).write_text(cluster_toml(int(argv[0])), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
