"""The change of a running ovirt35-el7 cluster: a brick disk replaced (its bricks put back at
their paths and healed), hosts joining (their own day-1 steps, probed
from the first host, their CTDB node appended to the nodes file and reloaded on every node,
their hosted-engine deploy), new volumes, volumes grown or shrunk by whole replica sets, the
iptables rules as TO has them, the CTDB public addresses added, removed or moved, and hosts
leaving (their bricks taken out, their HA services and CTDB stopped, their lines of the nodes
file commented and reloaded, the peers detached)."""

from __future__ import annotations

from collections.abc import Sequence
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

# The day-1 steps a joining host runs itself, in TO's order; the others of day 1 are the
# cluster's, done once: stop-engine and start-engine (the engine's storage moved to the VIP),
# peer-probe, add-bricks and heal-workaround (the seed's volumes grown to replica 3),
# new-volumes and the first host's ctdb step (the meta volume and the CTDB files on it).
# Their change counterparts are the change steps: probe, create-volumes, add-bricks, and
# the nodes file.
BUILD = ("install-packages", "firewall", "brick-storage")
AFTER_PROBE = ("nfsmount-conf",)
CTDB_NODE = ("ctdb", "systemd-units")
ENGINE = ("hosted-engine-deploy", "restore-firewall")


# Without quorum a replica set takes no write, and the step marks the copies to heal from by
# writing through a client mount.
NO_QUORUM_BY_HAND = (
    "by hand, once TO's brick step has made the new filesystem: `gluster volume start VOL "
    "force` (it gives the empty folder the volume's ID and starts the brick), then `gluster "
    "volume heal VOL full` (a full crawl, for a replaced or reformatted brick), and check the "
    "files on the new brick against the others, as `gluster volume heal VOL info` cannot tell "
    "what an unmarked empty brick lacks"
)


def change(
    before: SeedPlan, after: SeedPlan, hosts: HostDiff, found: Sequence[Difference]
) -> tuple[list[ChangeSpec], list[str], list[Refusal]]:
    pool, refusals = gluster_change.pool_change(before, after, hosts)
    refusals += ctdb_change.join_refusals(before.nodes, after.cluster, hosts.joined)
    shortened = ctdb_change.retired_refusal(
        before.nodes, after.nodes, after.cluster.ctdb.retired_host_ids
    )
    if shortened is not None:
        refusals.append(shortened)
    index = {h.name: i for i, h in enumerate(after.cluster.hosts)}
    for replacement in pool.replace:
        for volume, brick in gluster_change.writes_stop_without(replacement):
            refusals.append(
                Refusal(
                    side=TO,
                    problem=error(
                        f"hosts[{index[replacement.host]}]",
                        f"--replace {replacement.host}: {brick} is the first brick of a "
                        f"replica 2 set of volume {quoted(volume.name)}: while it is down the "
                        "set takes no write (cluster.quorum-type auto, the virt group's), so "
                        "its copy cannot be marked to heal from; " + NO_QUORUM_BY_HAND,
                    ),
                )
            )
    moved = ctdb_change.mount_vip_refusal(str(before.mount_vip), str(after.mount_vip))
    if moved is not None:
        refusals.append(moved)

    def handled(d: Difference) -> bool:
        if d.path.startswith("hosts[") and (
            d.side == FROM or d.before is None or d.path.endswith((".first", ".host_id"))
        ):
            return True  # joined and left hosts: planned here; first and host IDs: refused
        return gluster_change.handled(d) or ctdb_change.handled(d) or d.path.startswith("firewall.")

    refusals += refuse_unhandled(found, handled)
    data = {"pool": gluster_change.pool_data(before, after, pool)}
    every = tuple(h.name for h in after.hosts)
    new = tuple(h.name for h in after.hosts if h.name in set(hosts.joined))
    kept = tuple(h.name for h in after.hosts if h.name not in set(hosts.joined))
    member = (pool.member,)
    specs: list[ChangeSpec] = []
    notes: list[str] = []
    # Replaced hosts first, one at a time, each healed before anything else moves data.
    for replacement in pool.replace:
        specs += _replaced(before, after, replacement, data)
    if pool.replace:
        notes.append(_new_machine_note(after, [r.host for r in pool.replace]))
        notes.append(
            "Each `gluster volume start VOL force` of the reset-bricks step restarts Gluster's "
            "NFS server on every host (glusterfs v3.6.0 glusterd-volume-ops.c:1993, "
            "glusterd-utils.c:6438-6454), as add-brick does (glusterd-brick-ops.c:1790-1791): "
            "the hosted engine's storage, NFS through the VIP, stalls for those seconds and "
            "its hard mount retries"
        )
    if new:
        # TO's step 00 and /etc/hosts on every host: every name of TO resolves on each (the
        # probe names the new hosts); the new hosts then build themselves as day 1 does, up
        # to glusterd running.
        specs += day_one(after, "preflight", every)
        specs += day_one(after, "selinux-and-hosts", every)
        for slug in BUILD:
            specs += day_one(after, slug, new)
    if before.firewall_groups != after.firewall_groups:
        # The firewall step installs /etc/sysconfig/iptables whole and reloads it when it
        # changed: rules added and removed alike.
        specs += day_one(after, "firewall", kept)
    if pool.new_bricks_on:
        specs += day_one(after, "brick-storage", pool.new_bricks_on)
    if pool.probe:
        specs.append(gluster_change.probe_step(after, pool, data))
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
            gluster_change.remove_bricks_step(
                pool, data, "Take the bricks of the hosts that leave out of their volumes"
            )
        )
    left = _leaving(before, hosts)
    if left:
        specs.append(
            ChangeSpec(
                slug="leave-services",
                title="Stop the hosted engine's HA services and CTDB on the hosts that leave",
                hosts=tuple(left),
                template="ovirt35-el7/change/leave-services.sh.j2",
                data={**data, "leave": {"hosts": list(left.values())}},
            )
        )
    if pool.grow:
        step, rebalances = gluster_change.add_bricks_step(after, pool, data)
        specs.append(step)
        notes += rebalances
    for slug in AFTER_PROBE:
        specs += day_one(after, slug, new)
    meta = after.cluster.ctdb.meta_dir
    nodes = ctdb_change.nodes_change(before.nodes, after.nodes)
    if not nodes.empty:
        gone = tuple(h["heartbeat"] for h in left.values())
        specs.append(
            ctdb_change.nodes_step(
                nodes,
                after.first.name,
                meta,
                f"{FILES}{meta}/nodes",
                data,
                checks=(ctdb_gone_check(after, gone),) if gone else (),
            )
        )
    for slug in CTDB_NODE:
        # The new node: the meta volume mounted, the CTDB files linked from it, ctdb started
        # (ctdb.1 reloadnodes: "Install and configure the new node and bring it online"
        # once every node has reloaded), and the units that bring both back at boot.
        specs += day_one(after, slug, new)
    if pool.detach:
        specs.append(gluster_change.detach_step(after, pool, data))
    if left:
        notes.append(
            "Before the step that stops the services of "
            + ", ".join(left)
            + ": in the engine's web admin, put each of them into Maintenance (its virtual "
            "machines migrate to the other hosts; the hosted engine's VM must not run there: "
            "`hosted-engine --set-maintenance --mode=local` on it moves the VM away first). "
            "After that step: remove it in the web admin (Hosts, Remove). The hosted engine "
            "of oVirt 3.5 (ovirt-hosted-engine-setup 1.2) has no command to clean a host's "
            "entry from its shared metadata (--clean-metadata came with 1.3), so "
            "`hosted-engine --vm-status` may keep listing the host's ID as stale"
        )
    vips = ctdb_change.vip_change(before.public_addresses, after.public_addresses)
    if not vips.empty:
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
    for name in new:
        # The hosted engine on each new host, in host ID order, as day 1 deploys hosts 2..N:
        # hosted-engine --deploy as an additional host with TO's answers of that host, then
        # the iptables rules the deploy replaced put back.
        for slug in ENGINE:
            specs += day_one(after, slug, (name,))
    if new:
        notes.append(
            "Each new host's hosted-engine deploy asks, as on day 1, that the host before it "
            "by ID is a hosted-engine host and the engine is up, then for the first host's "
            "root password"
        )
    return specs, notes, refusals


def _replaced(
    before: SeedPlan, after: SeedPlan, replacement: gluster_change.Replacement, data: dict[str, Any]
) -> list[ChangeSpec]:
    """A replaced host's steps. A new machine of the same name is built as day 1 builds a host,
    up to its firewall, and its glusterd is given its old UUID and the pool back; on a host
    that kept its root disk (a new brick disk) those steps find everything done. Its dead brick
    filesystem is forgotten, TO's brick step makes it again, and each brick goes back with
    `volume start VOL force` and is healed. Then, as on day 1: its NFS mount options, its CTDB
    node (its line of the nodes file is its own: the node rejoins as it starts) and units, and
    its hosted engine, deployed again under its host ID."""
    name = replacement.host
    member = next(h for h in after.hosts if h.name == name)
    mount_points = [after.cluster.gluster.brick_fs.mount_point] if member.brick_dirs else []
    own = gluster_change.replaced_data(
        before, after, name, data, mount_points, gluster_change.START_FORCE
    )
    # As day 1 builds a host up to its glusterd: its brick step comes after the rejoin.
    up_to_firewall = ("preflight", "selinux-and-hosts", "install-packages", "firewall")
    built = [s for slug in up_to_firewall for s in day_one(after, slug, (name,))]
    rejoined = [
        s for slug in (*AFTER_PROBE, *CTDB_NODE, *ENGINE) for s in day_one(after, slug, (name,))
    ]
    return [
        *built,
        gluster_change.rejoin_pool_step(name, own),
        gluster_change.replace_disk_step(name, own),
        *day_one(after, "brick-storage", (name,)),
        gluster_change.reset_bricks_step(name, replacement, own),
        *rejoined,
    ]


def _new_machine_note(after: SeedPlan, names: list[str]) -> str:
    """What a replaced host that is a new machine needs of the administrator: the old machine
    off, and the engine's host removed before the deploy adds it again (ovirt-hosted-engine-
    setup 1.2.6.1 engine/add_host.py:628-670 adds the host at closing up, and the engine
    refuses a name or address it has)."""
    deployed = [name for name in names if day_one(after, "hosted-engine-deploy", (name,))]
    text = (
        f"A replaced host ({', '.join(names)}) that is a new machine is built by its steps "
        "here: packages, firewall, its Gluster identity (its old UUID, the pool's peers and "
        "volumes), its bricks, its CTDB node. Have the old machine off the network first: the "
        "pool cannot tell two machines at one address apart. A new disk needs nothing more"
    )
    if deployed:
        text += (
            f". Before the hosted-engine deploy step of a new machine ({', '.join(deployed)}): "
            "in the engine's web admin, put the host into Maintenance and remove it (Hosts, "
            "Remove): the deploy adds it again, and the engine refuses a host it has. Its "
            "host ID is in the hosted engine's metadata still: the answers take the deploy "
            "for a re-deployment (OVEHOSTED_CORE/additionalHostReDeployment, "
            "ovirt-hosted-engine-setup 1.2.6.1 storage.py:73-91, :290-298)"
        )
    return text


def _leaving(before: SeedPlan, hosts: HostDiff) -> dict[str, dict[str, Any]]:
    """The hosts that leave, by name in host ID order, as the leave-services step reads them.
    ctdb.1 (reloadnodes), removing a node: "Shutdown and power off the node to be removed"
    before its line is commented out and the nodes reloaded."""
    return {
        h.name: {
            "name": h.name,
            "host_id": h.host.host_id,
            "heartbeat": str(h.addresses[ctdb.HEARTBEAT]),
        }
        for h in before.hosts
        if h.name in set(hosts.left)
    }


def ctdb_gone_check(after: SeedPlan, gone: tuple[str, ...]) -> Check:
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
