"""CTDB's transitions of a running cluster: the nodes file as TO has it, reloaded on every
node with `ctdb reloadnodes`; the public addresses (VIPs) added, removed or moved, reloaded on
every node with `ctdb reloadips all`.

ctdb.1 (samba-team/samba samba-4.22.0 ctdb/doc/ctdb.1.xml:1336-1353): reloadips "reloads the
public addresses configuration file on the specified nodes", and "is currently unable to make
changes to the netmask or interfaces associated with existing addresses. Such changes must be
made in 2 steps by deleting addresses in question and re-adding then". So an address whose
prefix or NIC changes is taken out in a first reload and put back in a second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from ipaddress import IPv4Interface
from typing import Any

from confgen.change import TO, ChangeSpec, Difference, Refusal
from confgen.errors import error, quoted
from confgen.models import Cluster
from confgen.planner import Check
from confgen.records import record

# --- the nodes file ---------------------------------------------------------------------------

# ctdb.1 of the seed's ctdb (samba-team/samba samba-4.2.0 ctdb/doc/ctdb.1.xml:1068-1120,
# reloadnodes), adding a node: "On all nodes, edit /etc/ctdb/nodes and add the new node as the
# last entry to the file. The new node MUST be added to the end of this file!", the files
# identical on every node, then "Run 'ctdb reloadnodes' to force all nodes to reload the
# nodesfile"; removing one: "comment out the node to be removed. Do not delete the line for
# that node". A node's number (PNN) is its line: ctdbd numbers the lines in order, a line
# that starts with '#' a deleted node that keeps its number (samba-4.2.0
# ctdb/server/ctdb_server.c:80-230, ctdb_add_node, ctdb_add_deleted_node, ctdb_set_nlist).
RELOADNODES = "ctdb.1 (samba-4.2.0 ctdb/doc/ctdb.1.xml, reloadnodes)"


@record
class NodesChange:
    """The CTDB nodes file of both sides: line N (from 1) is the node of PNN N-1."""

    before: tuple[str, ...]
    after: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return self.before == self.after


def nodes_change(before: Sequence[str], after: Sequence[str]) -> NodesChange:
    return NodesChange(before=tuple(before), after=tuple(after))


def _status(lines: Sequence[str]) -> list[str]:
    """What `ctdb status` lists of a nodes file once ctdbd has loaded it: "pnn:N ADDRESS" for
    each line that is not a comment, N from 0 (samba-4.2.0 ctdb/tools/ctdb.c:1016-1114,
    control_status: "Number of nodes:%d", then "pnn:%d %-16s %s%s" for each node that is not
    deleted)."""
    return [f"pnn:{n} {line}" for n, line in enumerate(lines) if not line.startswith("#")]


def nodes_data(change: NodesChange, file: str, source: str) -> dict[str, Any]:
    """What the nodes step reads as `step.data.nodes`: the file on the meta volume and TO's
    copy of it in the host's folder, both sides' lines, what `ctdb status` shows of each
    side, and the nodes that are in both, which must be healthy before the reload."""
    kept = [
        n
        for n, line in enumerate(change.before)
        if not line.startswith("#") and n < len(change.after) and change.after[n] == line
    ]
    return {
        "file": file,
        "source": source,
        "before": list(change.before),
        "after": list(change.after),
        "before_status": [f"nodes:{len(change.before)}", *_status(change.before)],
        "after_status": [f"nodes:{len(change.after)}", *_status(change.after)],
        "kept_pnns": kept,
    }


def join_refusals(before: Sequence[str], after: Cluster, joined: Sequence[str]) -> list[Refusal]:
    """A host that joins takes a line after every line of FROM's nodes file (`before`): its
    host ID is its line, so an ID at or below FROM's last line would put it in the middle of
    the file (ctdb.1 reloadnodes: "The new node MUST be added to the end of this file!")."""
    top = len(before)
    index = {h.name: i for i, h in enumerate(after.hosts)}
    return [
        Refusal(
            side=TO,
            problem=error(
                f"hosts[{index[h.name]}].host_id",
                f"{quoted(h.name)} joins with host ID {h.host_id}, which is not above every "
                f"line of FROM's nodes file (its hosts' IDs and ctdb.retired_host_ids, the "
                f"highest {top}): CTDB's node of host ID N is line N of the nodes file, and a "
                "new node goes at the end of that file, never between its lines "
                f'({RELOADNODES}: "The new node MUST be added to the end of this file!"); '
                f"give it a host ID above {top}",
            ),
        )
        for h in after.hosts
        if h.name in joined and h.host_id <= top
    ]


def retired_refusal(
    before: Sequence[str], after: Sequence[str], retired: Sequence[int]
) -> Refusal | None:
    """TO's nodes file may not end before FROM's: the hosts of the highest IDs leave, and
    their lines must stay, commented, which TO says by listing their IDs as retired (ctdb.1
    reloadnodes: "Do not delete the line for that node")."""
    if len(after) >= len(before):
        return None
    wanted = sorted({*retired, len(before)})
    return Refusal(
        side=TO,
        problem=error(
            "ctdb.retired_host_ids",
            f"TO's nodes file ends at line {len(after)}, FROM's at line {len(before)}: the "
            f"node of host ID {len(before)} left, and its line must stay, commented, or every "
            f'node after it would change its number ({RELOADNODES}: "Do not delete the line '
            f'for that node"); write retired_host_ids = [{", ".join(map(str, wanted))}] '
            "under [ctdb]",
        ),
    )


# --- the public addresses ---------------------------------------------------------------------


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
    """The VIPs, and the retired host IDs (the nodes file, which the target's nodes step
    takes to TO's)."""
    return d.path.startswith(("ctdb.vips", "ctdb.retired_host_ids"))


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


# --- the steps ------------------------------------------------------------------------------


def nodes_step(
    change: NodesChange,
    on: str,
    meta_dir: str,
    source: str,
    data: Mapping[str, Any],
    checks: Sequence[Check] = (),
) -> ChangeSpec:
    """The step that takes the nodes file on the shared meta volume (mounted at `meta_dir` on
    `on`, which every node's /etc/ctdb/nodes links to) from FROM's lines to TO's and has
    every node reload it: written once, so the files of every node are identical, as ctdb.1
    asks. `source` is TO's copy in the host's folder; `data` the target's data of every change
    step (the pool the script checks first)."""
    file = f"{meta_dir}/nodes"
    return ChangeSpec(
        slug="ctdb-nodes",
        title="The CTDB nodes file as TO has it, reloaded on every node",
        hosts=(on,),
        template="components/ctdb/change/nodes.sh.j2",
        checks=(nodes_loaded(on, change), *checks),
        data={**data, "nodes": nodes_data(change, file, source)},
    )


def nodes_loaded(on: str, change: NodesChange) -> Check:
    """`ctdb status` lists every node of TO's file by its PNN and address."""
    return Check(
        on=on,
        command="ctdb status",
        shows=(f"Number of nodes:{len(change.after)}", *_status(change.after)),
        note="each node of TO's nodes file listed by its number; a new node shows "
        "DISCONNECTED until its ctdb starts",
    )
