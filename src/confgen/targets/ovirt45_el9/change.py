"""The change of a running ovirt45-el9 cluster: the Gluster side of hosts joining (their own
day-1 steps, probed from the first host, volumes grown by whole replica sets and rebalanced),
new volumes, whole replica sets taken out of a volume, firewall rules added, and the engine's
side re-run from TO's day-1 steps; hosts leaving (their bricks taken out, the hosts taken out
of the engine, then out of the pool)."""

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
from confgen.components import gluster_change
from confgen.errors import error
from confgen.planner import Check
from confgen.targets.ovirt45_el9.planning import El9Plan

# The engine's side of a host leaving, as ovirt-engine 4.5.7 takes it through the REST API
# (oVirt/ovirt-engine tag ovirt-engine-4.5.7, backend/manager/modules/restapi/jaxrs/src/main/
# java/org/ovirt/engine/api/restapi/resource/BackendHostResource.java): POST
# /hosts/ID/deactivate (:444-450, MaintenanceNumberOfVdss), POST /hosts/ID/install with
# undeploy_hosted_engine (:143-168, the hosted engine UNDEPLOYed), DELETE /hosts/ID (:804-808,
# RemoveVds). RemoveVds refuses a host that is not in maintenance, one that runs a VM, and in a
# Gluster cluster one that holds a brick ("Server having Gluster volume"); with no brick left
# it detaches the host from the pool itself, by the address the engine knows it by
# (bll/RemoveVdsCommand.java:206-275, :327-338). So the bricks go first, then the engine's
# side, then `gluster peer detach` of a host the engine's detach did not take out (a pool
# probed by storage addresses does not know the host by its management FQDN).
ENGINE_LEAVE = "ovirt45-el9/change/remove-hosts.sh.j2"
# The engine's side of a replaced host that is a new machine: see the template.
REINSTALL = "ovirt45-el9/change/reinstall-hosts.sh.j2"


def change(
    before: El9Plan, after: El9Plan, hosts: HostDiff, found: Sequence[Difference]
) -> tuple[list[ChangeSpec], list[str], list[Refusal]]:
    pool, refusals = gluster_change.pool_change(before, after, hosts)
    refusals += _firewall(before, after)
    joined = set(hosts.joined)
    index = {h.name: i for i, h in enumerate(after.cluster.hosts)}
    # A replaced host's new disk may have another name: its brick step takes TO's.
    new_disk = {f"hosts[{index[name]}].brick_device" for name in hosts.replaced}

    def handled(d: Difference) -> bool:
        index = d.path.split(".", 1)[0]
        if d.side == TO and d.before is None and index.startswith("hosts["):
            return True  # a joined host's whole entry
        if d.path.startswith("hosts[") and d.path.endswith((".first", ".host_id")):
            return True  # the core refuses these
        if d.side == FROM and d.path.startswith("hosts["):
            return True  # a host leaving: planned below
        if d.path in new_disk:
            return True
        return gluster_change.handled(d) or d.path.startswith("firewall.")

    refusals += refuse_unhandled(found, handled)
    data = {"pool": gluster_change.pool_data(before, after, pool)}
    every = tuple(h.name for h in after.hosts)
    new = tuple(h.name for h in after.hosts if h.name in joined)
    kept = tuple(h.name for h in after.hosts if h.name not in joined)
    firewall = before.firewall_ports != after.firewall_ports or (
        before.firewall_services != after.firewall_services
    )
    specs: list[ChangeSpec] = []
    notes: list[str] = []
    # Replaced hosts first, one at a time, each healed before anything else moves data.
    for replacement in pool.replace:
        specs += replaced(before, after, replacement, data)
    if pool.replace:
        specs.append(_reinstall_step(after, [r.host for r in pool.replace], data))
        names = ", ".join(r.host for r in pool.replace)
        notes.append(
            f"A replaced host ({names}) that is a new machine gets its packages, firewall and "
            "Gluster identity (its old UUID, the pool's peers and volumes) from its steps "
            "here, and its engine side from the engine-reinstall step: the engine, which no "
            "longer reaches it, reinstalls it with its hosted engine deployed. Have the old "
            "machine off the network first: the pool cannot tell two machines at one address "
            "apart, and the engine trusts the SSH host key that answers there (the step shows "
            "its fingerprint before it asks for the root password). A new disk needs nothing "
            "of the engine: the step finds the host up and goes on"
        )
    if new:
        # TO's step 00 on every host: every name of TO resolves on each; the joined hosts
        # then build themselves as day 1 does, up to glusterd running; the kept hosts take
        # TO's /etc/hosts block (install-packages keeps it) with the new hosts' names.
        specs += day_one(after, "preflight", every)
        specs += day_one(after, "install-packages", every)
        specs += day_one(after, "firewall", new)
        specs += day_one(after, "brick-storage", new)
    if firewall:
        specs += day_one(after, "firewall", kept)
    if pool.new_bricks_on:
        # The brick step makes the logical volume, filesystem and folder of each brick the
        # host holds in TO, leaving those it has.
        specs += day_one(after, "brick-storage", pool.new_bricks_on)
    member = (pool.member,)
    if pool.probe:
        specs.append(gluster_change.probe_step(after, pool, data))
    if pool.create:
        specs.append(
            ChangeSpec(
                slug="create-volumes",
                title="Create the volumes new in TO, replica 3 with the options for VM images",
                hosts=member,
                template="ovirt45-el9/change/create-volumes.sh.j2",
                checks=gluster_change.volume_checks(after, pool),
                data=data,
            )
        )
    if pool.shrink:
        specs.append(
            gluster_change.remove_bricks_step(
                pool, data, "Take whole replica sets out of the volumes that shrink"
            )
        )
    left = [
        {"name": h.name, "fqdn": h.host.fqdn} for h in before.hosts if h.name in set(hosts.left)
    ]
    if left:
        # The engine's side of each host that leaves, from the first host (it holds the
        # engine's CA, as for add-hosts): maintenance, hosted engine undeployed, removed.
        specs.append(
            ChangeSpec(
                slug="engine-remove-hosts",
                title="Take the hosts that leave out of the engine",
                hosts=(after.first.name,),
                template=ENGINE_LEAVE,
                data={**data, "leave": {"hosts": left}},
            )
        )
        notes.append(
            "The engine step stops while the engine's VM runs on a host that leaves: move it "
            "first (`hosted-engine --set-maintenance --mode=local` on that host). The undeploy "
            "leaves each host's entry in the hosted engine's shared metadata, shown stale by "
            "`hosted-engine --vm-status`; `hosted-engine --clean-metadata --host-id=N` on a "
            "host that stays clears it"
        )
    if pool.detach:
        specs.append(gluster_change.detach_step(after, pool, data))
    rebalances: list[str] = []
    if pool.grow:
        step, rebalances = gluster_change.add_bricks_step(after, pool, data)
        specs.append(step)
    if new:
        # The engine's side: TO's day-1 step adds every host the engine does not have yet as
        # a hosted-engine host (REST API, deploy_hosted_engine=true), and leaves the others.
        specs += day_one(after, "add-hosts", (after.first.name,))
        notes.append(
            "The new hosts are added to the engine by TO's day-1 step "
            f"`{specs[-1].day_one}` on {after.first.name}, run again: it adds each host the "
            "engine does not have yet as a hosted-engine host and leaves the others"
        )
    if pool.create:
        specs += day_one(after, "data-domains", (after.first.name,))
    return specs, notes + rebalances, refusals


def replaced(
    before: El9Plan, after: El9Plan, replacement: gluster_change.Replacement, data: dict[str, Any]
) -> list[ChangeSpec]:
    """A replaced host's steps: TO's day-1 steps up to its firewall (a new machine's
    packages); its glusterd given its old UUID and pool back if it is a new machine; its dead
    brick filesystems forgotten; TO's brick step makes them again; then its bricks put back
    with reset-brick and healed."""
    name = replacement.host
    storage = after.brick_storage[name]
    own = gluster_change.replaced_data(
        before,
        after,
        name,
        data,
        [v.mount_point for v in storage.volumes],
        gluster_change.RESET_BRICK,
    )
    return [
        # A new machine is built as day 1 builds a host, up to its storage; on a host that
        # kept its root disk these steps find everything done.
        *day_one(after, "preflight", (name,)),
        *day_one(after, "install-packages", (name,)),
        *day_one(after, "firewall", (name,)),
        gluster_change.rejoin_pool_step(name, own),
        gluster_change.replace_disk_step(name, own),
        *day_one(after, "brick-storage", (name,)),
        gluster_change.reset_bricks_step(name, replacement, own),
    ]


def _reinstall_step(after: El9Plan, replaced: Sequence[str], data: dict[str, Any]) -> ChangeSpec:
    """The engine's side of the replaced hosts, from a host that keeps its root disk (it holds
    the engine's CA, as the add-hosts step's host does): each that the engine no longer has up
    (a new machine) reinstalled with its hosted engine deployed."""
    kept = [h.name for h in after.hosts if h.name not in set(replaced)]
    # The engine knows each host by the name it was added under: add-hosts gives the host's
    # name; the first host's deploy adds it under its FQDN (ovirt-hosted-engine-setup 2.7.2
    # src/plugins/gr-he-common/network/bridge.py:227-234, APP_HOST_NAME from HOST_NAME).
    hosts = [
        {"name": h.name, "fqdn": h.host.fqdn, "in_engine": h.host.fqdn if h.is_first else h.name}
        for h in after.hosts
        if h.name in set(replaced)
    ]
    return ChangeSpec(
        slug="engine-reinstall",
        title="Reinstall in the engine each replaced host it no longer reaches (a new machine)",
        hosts=(kept[0] if kept else after.first.name,),
        template=REINSTALL,
        # Each replaced host's HA agent reports to the shared metadata again: --vm-status
        # prints a block per host it reads there, "--== Host HOSTNAME (id: N) status ==--"
        # (ovirt-hosted-engine-setup 2.7.2 src/ovirt_hosted_engine_setup/vm_status.py:136-139).
        checks=tuple(
            Check(
                on=kept[0] if kept else after.first.name,
                command="hosted-engine --vm-status",
                shows=(f"--== Host {h['fqdn']} (id:",),
                note="and its `Host ID`, `Score` above 0 once its agent has settled",
            )
            for h in hosts
        ),
        data={**data, "reinstall": {"hosts": hosts}},
    )


def _firewall(before: El9Plan, after: El9Plan) -> list[Refusal]:
    """The firewall step adds services and ports and never removes one: a change that takes a
    rule away, or moves the services to another zone, is refused."""
    refusals = []
    if before.firewall_zone != after.firewall_zone:
        refusals.append(
            Refusal(
                side=TO,
                problem=error(
                    "firewall.cluster_networks_only",
                    "moving the services to another firewalld zone is not yet supported by "
                    "confgen change; by hand on each host: `firewall-cmd --permanent "
                    "--zone=ZONE --add-service=S` for each service, the same `--remove-service` "
                    "in the old zone, then `firewall-cmd --reload` (firewall-cmd(1))",
                ),
            )
        )
        return refusals
    gone = [p for p in before.firewall_ports if p not in after.firewall_ports]
    if gone:
        zone = f" --zone={after.firewall_zone}" if after.firewall_zone else ""
        refusals.append(
            Refusal(
                side=TO,
                problem=error(
                    "firewall.extra_rules",
                    f"TO no longer opens {', '.join(gone)}: the firewall step only adds; by "
                    f"hand on each host `firewall-cmd --permanent{zone} --remove-port=PORT` "
                    "for each, then `firewall-cmd --reload` (firewall-cmd(1))",
                ),
            )
        )
    return refusals
