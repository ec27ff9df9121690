"""Cluster files for change tests, written as an administrator writes them: hosts on one
network or two, volumes by their host lists, the first host first."""

from __future__ import annotations

from collections.abc import Sequence


def el9(
    hosts: int,
    volumes: Sequence[tuple[str, Sequence[int]]] = (("engine", (1, 2, 3)), ("data", (1, 2, 3))),
    *,
    mount_point: str = "/gluster_bricks",
    extra_ports: Sequence[int] = (),
) -> str:
    """An ovirt45-el9 file: `hosts` hosts hv1.. on 10.20.0.0/24 (storage) and 10.10.0.0/24."""
    text = [
        'target = "ovirt45-el9"',
        '[[networks]]\nname = "mgmt"\ncidr = "10.10.0.0/24"\nroles = ["management"]',
        '[[networks]]\nname = "gluster"\ncidr = "10.20.0.0/24"\nroles = ["storage"]',
    ]
    for i in range(1, hosts + 1):
        text.append(
            f'[[hosts]]\nname = "hv{i}"\nfqdn = "hv{i}.lab.example"\nhost_id = {i}\n'
            + ("first = true\n" if i == 1 else "")
            + 'brick_device = "/dev/sdb"\n'
            + f'interfaces.mgmt = {{ nic = "eno1", address = "10.10.0.{10 + i}" }}\n'
            + f'interfaces.gluster = {{ nic = "ens2f0", address = "10.20.0.{10 + i}" }}'
        )
    text.append('[hosted_engine]\nfqdn = "ovirt-engine.lab.example"')
    if extra_ports:
        rules = ", ".join(f'{{ service = "p{p}", ports = {p} }}' for p in extra_ports)
        text.append(f"[firewall]\nextra_rules = [{rules}]")
    listed = ", ".join(
        f'{{ name = "{name}", hosts = [{", ".join(f"{chr(34)}hv{h}{chr(34)}" for h in on)}] }}'
        for name, on in volumes
    )
    text.append(f'[gluster]\nbrick_fs = {{ mount_point = "{mount_point}" }}\nvolumes = [{listed}]')
    return "\n\n".join(text) + "\n"


def el7(
    hosts: int = 3,
    volumes: Sequence[tuple[str, Sequence[int], bool]] = (
        ("engine", (1, 2, 3), True),
        ("data", (1, 2, 3), True),
        ("meta", (1, 2, 3), False),
    ),
    *,
    vips: Sequence[tuple[str, str]] = (("192.168.122.200/24", "eth0"),),
    mount_point: str = "/gluster",
    extra_ports: Sequence[int] = (),
    retired: Sequence[int] = (),
) -> str:
    """An ovirt35-el7 file on one network 192.168.122.0/24 carrying every role; `retired`
    the host IDs of hosts that left (ctdb.retired_host_ids)."""
    text = [
        '[[networks]]\nname = "lan"\ncidr = "192.168.122.0/24"\n'
        'roles = ["management", "storage", "heartbeat"]'
    ]
    for i in range(1, hosts + 1):
        text.append(
            f'[[hosts]]\nname = "host{i}"\nfqdn = "host{i}.example.com"\nhost_id = {i}\n'
            + ("first = true\n" if i == 1 else "")
            + 'brick_device = "/dev/vdb"\n'
            + f'interfaces.lan = {{ nic = "eth0", address = "192.168.122.{10 + i}" }}'
        )
    listed = ", ".join(
        f'{{ name = "{name}", existing = {"true" if existing else "false"}, hosts = ['
        + ", ".join(f'"host{h}"' for h in on)
        + "] }"
        for name, on, existing in volumes
    )
    text.append(f'[gluster]\nbrick_fs = {{ mount_point = "{mount_point}" }}\nvolumes = [{listed}]')
    addresses = ", ".join(f'{{ address = "{a}", nic = "{n}" }}' for a, n in vips)
    text.append(
        f'[ctdb]\nmount_hostname = "ovirtmount.example.com"\nvips = [{addresses}]'
        + (f"\nretired_host_ids = [{', '.join(map(str, retired))}]" if retired else "")
    )
    if extra_ports:
        rules = ", ".join(f'{{ service = "p{p}", ports = {p} }}' for p in extra_ports)
        text.append(f"[firewall]\nextra_rules = [{rules}]")
    return "\n\n".join(text) + "\n"
