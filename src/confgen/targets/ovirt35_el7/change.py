"""The change of a running ovirt35-el7 cluster: new volumes, volumes grown by whole replica
sets on the hosts it has, the iptables rules as TO has them, the CTDB public addresses
added, removed or moved, and hosts leaving (their bricks taken out, their HA services and
CTDB stopped, the nodes file with their lines commented and reloaded, the peers detached).
A host joining is refused: its CTDB node and its hosted-engine deploy are not yet done by
confgen change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from confgen.change import (
    FROM,
    TO,
    ChangeSpec,
    Difference,
    HostDiff,
    Refusal,
    day_one,
    refuse_unhandled,
)
from confgen.components import ctdb, ctdb_change, gluster_change
from confgen.errors import error, quoted
from confgen.paths import DATA, FILES
from confgen.planner import Check
from confgen.targets.ovirt35_el7.planning import SeedPlan

GLUSTER = "components/gluster/change"
# The nodes file a change writes where it keeps lines TO's render does not have.
NODES_KEPT = f"{DATA}/change/nodes"
# CTDB's own procedure for a new node (samba-team/samba samba-4.22.0 ctdb/doc/ctdb.1.xml,
# reloadnodes): "add the new nodes at the end of this file", identical on every node, then
# `ctdb reloadnodes`; the nodes file is append-only, a node's number being its line.
JOIN_BY_HAND = (
    "a host joining is not yet supported by confgen change for this target: its CTDB node "
    "(the heartbeat address appended at the end of the nodes file, identical on every node, "
    "then `ctdb reloadnodes`: ctdb.1, reloadnodes) and its hosted-engine deploy are not "
    "planned; by hand, run the new host's day-1 steps of TO's render, `gluster peer probe` it "
    "from a member, append its line to the nodes file and run `ctdb reloadnodes`, then deploy "
    "the hosted engine on it"
)


def change(
    before: SeedPlan, after: SeedPlan, hosts: HostDiff, found: Sequence[Difference]
) -> tuple[list[ChangeSpec], list[str], list[Refusal]]:
    pool, refusals = gluster_change.pool_change(before, after, hosts)
    index = {h.name: i for i, h in enumerate(after.cluster.hosts)}
    for name in hosts.joined:
        refusals.append(
            Refusal(
                side=TO, problem=error(f"hosts[{index[name]}]", f"{quoted(name)}: {JOIN_BY_HAND}")
            )
        )
    moved = ctdb_change.mount_vip_refusal(str(before.mount_vip), str(after.mount_vip))
    if moved is not None:
        refusals.append(moved)

    def handled(d: Difference) -> bool:
        if d.path.startswith("hosts[") and (
            d.side == FROM or d.before is None or d.path.endswith((".first", ".host_id"))
        ):
            return True  # joined and left hosts, first and host IDs: planned, refused above
            # or by the core
        return gluster_change.handled(d) or ctdb_change.handled(d) or d.path.startswith("firewall.")

    refusals += refuse_unhandled(found, handled)
    data = {"pool": gluster_change.pool_data(before, after, pool)}
    every = tuple(h.name for h in after.hosts)
    member = (pool.member,)
    specs: list[ChangeSpec] = []
    notes: list[str] = []
    if before.firewall_groups != after.firewall_groups:
        # The firewall step installs /etc/sysconfig/iptables whole and reloads it when it
        # changed: rules added and removed alike.
        specs += day_one(after, "firewall", every)
    if pool.new_bricks_on:
        specs += day_one(after, "brick-storage", pool.new_bricks_on)
    if pool.create:
        specs.append(
            ChangeSpec(
                slug="create-volumes",
                title="Create the volumes new in TO, and start them",
                hosts=member,
                template="ovirt35-el7/change/create-volumes.sh.j2",
                checks=gluster_change.volume_checks(after, pool),
                data=data,
            )
        )
    if pool.shrink:
        specs.append(
            ChangeSpec(
                slug="remove-bricks",
                title="Take the bricks of the hosts that leave out of their volumes",
                hosts=member,
                template=f"{GLUSTER}/remove-bricks.sh.j2",
                checks=gluster_change.shrink_checks(pool),
                data=data,
            )
        )
    if hosts.left:
        specs += _leave(before, after, hosts, data)
    if pool.detach:
        specs.append(
            ChangeSpec(
                slug="gluster-detach",
                title="Detach the hosts that leave from the Gluster trusted pool",
                hosts=member,
                template=f"{GLUSTER}/detach.sh.j2",
                checks=gluster_change.detach_checks(after, pool.member),
                data=data,
            )
        )
    kept_lines = nodes_note(before, after) if hosts.left else None
    if kept_lines is not None:
        notes.append(kept_lines)
    if hosts.left:
        notes.append(
            "Before the step that stops the services of "
            + ", ".join(hosts.left)
            + ": in the engine's web admin, put each of them into Maintenance (its virtual "
            "machines migrate to the other hosts; the hosted engine's VM must not run there: "
            "`hosted-engine --set-maintenance --mode=local` on it moves the VM away first). "
            "After that step: remove it in the web admin (Hosts, Remove). The hosted engine "
            "of oVirt 3.5 (ovirt-hosted-engine-setup 1.2) has no command to clean a host's "
            "entry from its shared metadata (--clean-metadata came with 1.3), so "
            "`hosted-engine --vm-status` may keep listing the host's ID as stale"
        )
    if pool.grow:
        specs.append(
            ChangeSpec(
                slug="add-bricks",
                title="Add the new replica sets to the volumes that grow, and rebalance them",
                hosts=member,
                template=f"{GLUSTER}/add-bricks.sh.j2",
                checks=gluster_change.volume_checks(after, pool),
                data=data,
            )
        )
        for g in pool.grow:
            notes.append(
                f"After the add-brick step, watch `gluster volume rebalance {g.volume.name} "
                "status` until every node shows `completed`; the volume serves meanwhile"
            )
    vips = ctdb_change.vip_change(before.public_addresses, after.public_addresses)
    if not vips.empty:
        meta = after.cluster.ctdb.meta_dir
        file = f"{meta}/public_addresses"
        between = f"{DATA}/change/public_addresses.between"
        specs.append(
            ChangeSpec(
                slug="public-addresses",
                title="The CTDB public addresses as TO has them, reloaded on every node",
                hosts=(after.first.name,),
                template="ovirt35-el7/change/public-addresses.sh.j2",
                checks=(ctdb_change_check(after),),
                data={**data, "vips": ctdb_change.data(vips, file, f"{FILES}{file}", between)},
                files=(
                    {between: "".join(f"{line}\n" for line in vips.between)}
                    if vips.between is not None
                    else {}
                ),
            )
        )
        if vips.moved:
            notes.append(
                f"{', '.join(vips.moved)} change netmask or NIC: ctdb reloadips cannot change "
                "them in place (ctdb.1, reloadips), so the step reloads twice, first without "
                "them; connections to them drop"
            )
    return specs, notes, refusals


def _leave(
    before: SeedPlan, after: SeedPlan, hosts: HostDiff, data: Mapping[str, Any]
) -> list[ChangeSpec]:
    """ctdb.1 (samba-team/samba samba-4.22.0 ctdb/doc/ctdb.1.xml, reloadnodes), removing a
    node: "Shutdown and power off the node to be removed", comment out its line in the nodes
    file of every remaining node ("Do not delete the lines for the deleted nodes, just comment
    them out"), then `ctdb reloadnodes`. The nodes file is one file on the meta volume, which
    every node links /etc/ctdb/nodes to; TO's render already has the leaving hosts' lines as
    comments (`confgen.components.ctdb.nodes`)."""
    meta = after.cluster.ctdb.meta_dir
    left = {h.name: h for h in before.hosts if h.name in hosts.left}
    gone = tuple(str(h.addresses[ctdb.HEARTBEAT]) for h in left.values())
    # TO's nodes file ends at TO's highest host ID: a host that leaves with a higher ID would
    # lose its line, where ctdb asks for it commented. Its line stays, as the comment TO's
    # render gives an unused ID below its highest (`confgen.components.ctdb.nodes`).
    nodes = (
        *after.nodes,
        *(f"# host ID {n}: no host" for n in range(len(after.nodes) + 1, len(before.nodes) + 1)),
    )
    leaving = {
        "hosts": [
            {
                "name": h.name,
                "host_id": h.host.host_id,
                "heartbeat": str(h.addresses[ctdb.HEARTBEAT]),
            }
            for h in left.values()
        ],
        "nodes_file": f"{meta}/nodes",
        "nodes_source": f"{FILES}{meta}/nodes" if nodes == after.nodes else NODES_KEPT,
        "before_nodes": list(before.nodes),
        "after_nodes": list(nodes),
    }
    step_data = {**data, "leave": leaving}
    return [
        ChangeSpec(
            slug="leave-services",
            title="Stop the hosted engine's HA services and CTDB on the host that leaves",
            hosts=tuple(left),
            template="ovirt35-el7/change/leave-services.sh.j2",
            data=step_data,
        ),
        ChangeSpec(
            slug="ctdb-nodes",
            title="The CTDB nodes file as TO has it, the leaving hosts' lines commented, reloaded",
            hosts=(after.first.name,),
            template="ovirt35-el7/change/ctdb-nodes.sh.j2",
            checks=(ctdb_nodes_check(after, gone),),
            data=step_data,
            files={} if nodes == after.nodes else {NODES_KEPT: "".join(f"{n}\n" for n in nodes)},
        ),
    ]


def nodes_note(before: SeedPlan, after: SeedPlan) -> str | None:
    """What CHANGE.md says when the change's nodes file is longer than TO's render."""
    if len(before.nodes) <= len(after.nodes):
        return None
    return (
        f"The CTDB nodes file this change writes keeps a commented line for host IDs "
        f"{len(after.nodes) + 1} to {len(before.nodes)}, above TO's highest host ID, which TO's "
        "day-1 render does not have (a cluster file does not say which IDs were used): do "
        "not run TO's day-1 ctdb step again on the first host, which would write the shorter "
        "file, and give a host that joins later an ID above these"
    )


def ctdb_nodes_check(after: SeedPlan, gone: tuple[str, ...]) -> Check:
    """`ctdb status`: a line "pnn:N ADDRESS FLAGS" for each node but the deleted ones, which it
    skips (samba-4.2.0 ctdb/tools/ctdb.c:1062-1080, control_status)."""
    return Check(
        on=after.first.name,
        command="ctdb status",
        shows=tuple(f" {h.addresses[ctdb.HEARTBEAT]} " for h in after.hosts),
        not_shows=tuple(f" {a} " for a in gone),
        note="the hosts that stay listed, OK; the hosts that left not listed",
    )


def ctdb_change_check(after: SeedPlan) -> Check:
    return ctdb.vips_held(after.first.name, after.cluster.ctdb)
