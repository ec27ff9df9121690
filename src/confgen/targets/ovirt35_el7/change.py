"""The change of a running ovirt35-el7 cluster: new volumes, volumes grown by whole replica
sets on the hosts it has, the iptables rules as TO has them, and the CTDB public addresses
added, removed or moved. A host joining is refused: its CTDB node and its hosted-engine
deploy are not yet done by confgen change."""

from __future__ import annotations

from collections.abc import Sequence

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


# A replaced host's bricks keep their paths (TO has FROM's): Gluster puts an empty brick back
# at its own path with `reset-brick ... commit force`, which came in glusterfs 3.9
# (release-notes 3.9.0.md; cli/src/cli-cmd-volume.c lists no reset-brick at v3.6.0, :3110 at
# v10.3). The seed's glusterfs 3.6 has only `replace-brick ... commit force`, to another path:
# glusterd refuses a path a brick of the host already has ("Brick: %s not available. Brick may
# be containing or be contained by an existing brick", v3.6.0
# xlators/mgmt/glusterd/src/glusterd-utils.c:7893-7899, glusterd_new_brick_validate, called
# by the replace-brick stage, glusterd-replace-brick.c:487).
REPLACE_BY_HAND = (
    "--replace is not done by confgen change for this target: its glusterfs 3.6 has no "
    "`reset-brick` (it came in 3.9), so a brick cannot be put back at its own path, and "
    "`replace-brick` to another path would leave the volume other than TO. By hand, after "
    "TO's brick step has made the new disk's filesystem: for each brick of the host, "
    "`gluster volume replace-brick VOL HOST:PATH HOST:NEWPATH commit force` (NEWPATH an empty "
    "folder on the new filesystem; every other brick up: glusterdocs Managing-Volumes.md, "
    "Replace faulty brick), `gluster volume heal VOL full`, and `gluster volume heal VOL "
    "info` until every brick shows 0 entries; then write NEWPATH into the cluster file. The "
    "host's CTDB node keeps its line of the nodes file: start ctdb on it (its day-1 step)"
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
    for name in hosts.replaced:
        refusals.append(
            Refusal(
                side=TO,
                problem=error(f"hosts[{index[name]}]", f"{quoted(name)}: {REPLACE_BY_HAND}"),
            )
        )
    moved = ctdb_change.mount_vip_refusal(str(before.mount_vip), str(after.mount_vip))
    if moved is not None:
        refusals.append(moved)

    def handled(d: Difference) -> bool:
        if d.path.startswith("hosts[") and (
            d.side == FROM or d.before is None or d.path.endswith((".first", ".host_id"))
        ):
            return True  # joined and left hosts, first and host IDs: refused above or by the core
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


def ctdb_change_check(after: SeedPlan) -> Check:
    return ctdb.vips_held(after.first.name, after.cluster.ctdb)
