"""CTDB's transitions of a running cluster: the public addresses (VIPs) added, removed or
moved, reloaded on every node with `ctdb reloadips all`.

ctdb.1 (samba-team/samba samba-4.22.0 ctdb/doc/ctdb.1.xml:1336-1353): reloadips "reloads the
public addresses configuration file on the specified nodes", and "is currently unable to make
changes to the netmask or interfaces associated with existing addresses. Such changes must be
made in 2 steps by deleting addresses in question and re-adding then". So an address whose
prefix or NIC changes is taken out in a first reload and put back in a second.
"""

from __future__ import annotations

from ipaddress import IPv4Interface
from typing import Any

from confgen.change import TO, Difference, Refusal
from confgen.errors import error
from confgen.records import record


@record
class VipChange:
    before: tuple[str, ...]  # public_addresses lines, `VIP/prefix nic`
    between: tuple[str, ...] | None  # the first of two reloads, where an address is moved
    after: tuple[str, ...]
    moved: tuple[str, ...]  # the addresses whose prefix or NIC changes

    @property
    def empty(self) -> bool:
        return self.before == self.after


def _address(line: str) -> str:
    return str(IPv4Interface(line.split()[0]).ip)


def vip_change(before: tuple[str, ...], after: tuple[str, ...]) -> VipChange:
    old = {_address(line): line for line in before}
    moved = tuple(
        _address(line) for line in after if _address(line) in old and old[_address(line)] != line
    )
    between = tuple(line for line in after if _address(line) not in moved) if moved else None
    return VipChange(before=before, between=between, after=after, moved=moved)


def mount_vip_refusal(before: str, after: str) -> Refusal | None:
    """The address the hosted engine's NFS mount name resolves to does not move in a change:
    the engine's storage connection is mounted through it, and moving it is the hosted
    engine's storage reconfiguration (global maintenance, the engine and its agents stopped,
    the storage remounted), which a change does not do."""
    if before == after:
        return None
    return Refusal(
        side=TO,
        problem=error(
            "ctdb.vips[0].address",
            f"the first VIP, which the hosted engine's NFS mount name resolves to, moves from "
            f"{before} to {after}: the engine's storage is mounted through it, so moving it "
            "is the hosted engine's storage reconfiguration (global maintenance; ovirt-ha-agent, "
            "ovirt-ha-broker and vdsmd stopped; the share unmounted; the name pointed at the "
            "new address; all started again, as the procedure did when it moved the mount from "
            "the first host to the VIP), not a change confgen makes; keep the first VIP and "
            "add the new one after it",
        ),
    )


def handled(d: Difference) -> bool:
    return d.path == "ctdb.vips" or d.path.startswith("ctdb.vips[")


def data(change: VipChange, file: str, source: str, between_source: str) -> dict[str, Any]:
    return {
        "file": file,
        "source": source,
        "between_source": between_source,
        "before": list(change.before),
        "between": list(change.between) if change.between is not None else None,
        "after": list(change.after),
        "after_ips": [_address(line) for line in change.after],
        "moved": list(change.moved),
    }
