"""Gluster's transitions of a running cluster: the peers a change probes and detaches, the
volumes it creates, the replica sets it adds to a volume or takes out of it, and what it
refuses, each with its key path.

A target's change (`confgen.targets.<name>.change`) calls `pool_change` with the plans of
FROM and TO, and puts the steps it gives in its order. Commands and their order follow
Gluster's "Expanding Volumes" (gluster/glusterdocs docs/Administrator-Guide/Managing-Volumes.md):
the new server probed from a member, `add-brick` of whole replica sets, then `rebalance
start`, and `rebalance status` watched; and its "Shrinking Volumes": `remove-brick` of whole
replica sets `start`, `status` until completed, `commit`; or `remove-brick VOL replica N-1`
of one brick of each replica set, with `force` (glusterfs v10.3 cli/src/cli-cmd-volume.c,
"volume remove-brick <VOLNAME> [replica <COUNT>] <BRICK> ... <start|stop|status|commit|force>");
then `peer detach` of a host that holds no brick any more (Storage-Pools.md, "Removing Servers").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from confgen.change import FROM, TO, ChangeSpec, Difference, HostDiff, Refusal
from confgen.components.gluster import (
    Brick,
    GlusterPlan,
    VolumePlan,
    glusterd_running,
    peers_connected,
    volume_entries,
    volumes_healed,
    volumes_started,
)
from confgen.errors import error, quoted
from confgen.planner import Check
from confgen.records import record

# What a change tells an administrator to do by hand where it refuses, each cited once here.
# Shrinking: "Shrinking Volumes" (glusterdocs Managing-Volumes.md): remove-brick of whole
# replica sets, start, status until completed, commit; glusterd refuses to detach a peer that
# still holds bricks ("Peer %s hosts one or more bricks", glusterfs v10.3
# xlators/mgmt/glusterd/src/glusterd-handler.c:1301-1311, GF_DEPROBE_BRICK_EXIST).
HOST_LEAVES_BY_HAND = (
    "by hand: for each volume with a brick on it, `gluster volume remove-brick VOL <its whole "
    "replica set> start`, `... status` until completed, `... commit` (glusterdocs "
    "Managing-Volumes.md, Shrinking Volumes); then `gluster peer detach HOST`, which glusterd "
    "refuses while the host holds a brick"
)
# Replacing a brick: "Replace faulty brick" (Managing-Volumes.md) and reset-brick
# (glusterdocs release-notes 3.9.0.md): `replace-brick VOL OLD NEW commit force` for a new
# path, `reset-brick VOL B start` then `reset-brick VOL B B commit force` for the same path
# (glusterfs v10.3 cli/src/cli-cmd-volume.c:3110, "volume reset-brick").
REPLACE_BY_HAND = (
    "by hand: `gluster volume replace-brick VOL HOST:OLD HOST:NEW commit force` (the new "
    "brick empty, every other brick up; glusterdocs Managing-Volumes.md, Replace faulty "
    "brick), then `gluster volume heal VOL info` until every brick shows 0 entries"
)


@record
class Replacement:
    """A host named by --replace: a new disk (or a new machine of the same name) whose bricks
    are empty folders of FROM's paths, each put back into its volume and healed from the
    other bricks of its replica set. `bricks` are (TO's volume, the brick, the bricks of its
    replica set), in TO's volume order."""

    host: str
    bricks: tuple[tuple[VolumePlan, Brick, tuple[Brick, ...]], ...]


@record
class Growth:
    """A volume of both sides whose bricks grow by whole replica sets, appended in TO's order."""

    volume: VolumePlan  # TO's
    before: tuple[Brick, ...]
    added: tuple[Brick, ...]


@record
class Shrink:
    """A volume of both sides whose bricks on leaving hosts go: whole replica sets (`replica`
    None: their data moved off first, `remove-brick ... start`, `status`, `commit`), or one
    brick of each replica set where TO lowers the replica count to `replica` (`remove-brick
    VOL replica N ... force`: the other bricks of each set hold the same files)."""

    volume: VolumePlan  # TO's
    before: tuple[Brick, ...]
    removed: tuple[Brick, ...]
    replica: int | None = None


@record
class PoolChange:
    """What a change does to the pool: peers to probe (TO's names of the joined hosts), volumes
    to create (TO's, in TO's order), to grow and to shrink, peers to detach (FROM's names of
    the hosts that leave); the kept hosts that hold a brick of a volume created or grown,
    whose brick storage the target's brick step makes first."""

    member: str  # the host that probes and runs the volume commands: TO's first, a member
    probe: tuple[str, ...]
    create: tuple[VolumePlan, ...]
    grow: tuple[Growth, ...]
    new_bricks_on: tuple[str, ...]
    replace: tuple[Replacement, ...] = ()
    shrink: tuple[Shrink, ...] = ()
    detach: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.probe or self.create or self.grow or self.replace or self.shrink or self.detach
        )


def _index(cluster: Any) -> dict[str, str]:
    """Each volume's key path in its file (`gluster.volumes` for a default volume)."""
    entries = volume_entries(cluster.gluster.listed_volumes, cluster.gluster.all_volumes)
    return {volume.name: path for path, volume in entries}


def _key(path: str, key: str) -> str:
    return path if path == "gluster.volumes" else f"{path}.{key}"


def pool_change(
    before: GlusterPlan, after: GlusterPlan, hosts: HostDiff
) -> tuple[PoolChange, list[Refusal]]:
    """Gluster's part of a change, and what it refuses (each volume, host and key path of
    Gluster's that differs is either done or refused here)."""
    refusals: list[Refusal] = []
    old = {v.name: v for v in before.volumes}
    new = {v.name: v for v in after.volumes}
    to_path, from_path = _index(after.cluster), _index(before.cluster)

    def signature(v: VolumePlan) -> tuple[tuple[str, ...], int]:
        return tuple(b.host for b in v.bricks), v.replica

    create: list[VolumePlan] = []
    grow: list[Growth] = []
    shrink: list[Shrink] = []
    for name, volume in old.items():
        if name in new:
            continue
        renamed = [n for n, v in new.items() if n not in old and signature(v) == signature(volume)]
        if renamed:
            refusals.append(
                Refusal(
                    side=TO,
                    problem=error(
                        _key(to_path[renamed[0]], "name"),
                        f"volume {quoted(renamed[0])} has the bricks' hosts and replica of "
                        f"FROM's volume {quoted(name)}: a renamed volume, which Gluster does "
                        "not do (no `volume rename` since glusterfs 3.x: cli-cmd-volume.c at "
                        "v10.3 lists none); by hand, create the new volume, copy the data "
                        "through a client mount, then stop and delete the old one; or keep "
                        "the old name in TO",
                    ),
                )
            )
        else:
            refusals.append(
                Refusal(
                    side=FROM,
                    problem=error(
                        from_path[name],
                        f"volume {quoted(name)} is not in TO: deleting a volume is not yet "
                        "supported by confgen change; by hand, `gluster volume stop "
                        f"{name}` and `gluster volume delete {name}` after its data is moved",
                    ),
                )
            )
    for name, volume in new.items():
        if name not in old:
            if not any(signature(volume) == signature(v) for n, v in old.items() if n not in new):
                create.append(volume)
            continue
        was = old[name]
        path = to_path[name]
        if was.replica != volume.replica:
            lowered = _lowered(was, volume)
            if lowered is not None:
                shrink.append(lowered)
                continue
            refusals.append(
                Refusal(
                    side=TO,
                    problem=error(
                        _key(path, "replica"),
                        f"volume {quoted(name)} is replica {was.replica} in FROM and "
                        f"{volume.replica} in TO: confgen change lowers a replica count by one, "
                        "to 2 or more, taking one brick out of each replica set and keeping the "
                        "others in their order, and changes it no other way (a set of one "
                        "brick keeps no quorum: its one copy down, its files are gone); by "
                        "hand, `gluster volume add-brick VOL replica N <one new brick per "
                        "replica set>` raises it and `remove-brick VOL replica N <one brick "
                        "per replica set> force` lowers it, heal info at 0 entries first "
                        "(glusterdocs Managing-Volumes.md)",
                    ),
                )
            )
            continue
        moved = [
            (b, a)
            for b, a in zip(was.bricks, volume.bricks, strict=False)
            if b.host == a.host and b.path != a.path
        ]
        if moved:
            b, a = moved[0]
            refusals.append(
                Refusal(
                    side=TO,
                    problem=error(
                        _key(path, "brick_dir"),
                        f"volume {quoted(name)} has its brick on {quoted(b.host)} at {b.path} "
                        f"in FROM and {a.path} in TO: a live brick does not move; "
                        + REPLACE_BY_HAND,
                    ),
                )
            )
            continue
        if volume.bricks[: len(was.bricks)] != was.bricks:
            removed = _sets_removed(was, volume)
            if removed is not None:
                shrink.append(Shrink(volume=volume, before=was.bricks, removed=removed))
                continue
            refusals.append(
                Refusal(
                    side=TO,
                    problem=error(
                        _key(path, "hosts"),
                        f"volume {quoted(name)} has the bricks "
                        f"{', '.join(map(str, was.bricks))} in FROM, which TO neither starts "
                        "with in that order nor keeps but for whole replica sets of "
                        f"{was.replica} taken out: glusterd keeps a volume's bricks in the "
                        "order they were added and takes out only whole replica sets "
                        '("Remove brick incorrect brick count of 1 for replica 3", glusterfs '
                        "10.3), and a brick taken out of a replica set that stays would leave "
                        "that set short of its copies; sets added and taken out in one change "
                        "cannot be ordered safely in one go; "
                        f"{HOST_LEAVES_BY_HAND}; or replace the brick ({REPLACE_BY_HAND})",
                    ),
                )
            )
            continue
        added = volume.bricks[len(was.bricks) :]
        if added:
            grow.append(Growth(volume=volume, before=was.bricks, added=added))
    replace = _replacements(old, new, hosts)
    kept = set(hosts.kept)
    gaining = {b.host for v in create for b in v.bricks} | {b.host for g in grow for b in g.added}
    return (
        PoolChange(
            member=after.first.name,
            probe=tuple(h.peer for h in after.hosts if h.name in hosts.joined),
            create=tuple(create),
            grow=tuple(grow),
            new_bricks_on=tuple(h.name for h in after.hosts if h.name in kept & gaining),
            replace=replace,
            shrink=tuple(shrink),
            detach=tuple(h.peer for h in before.hosts if h.name in set(hosts.left)),
        ),
        refusals,
    )


def _replacements(
    old: dict[str, VolumePlan], new: dict[str, VolumePlan], hosts: HostDiff
) -> tuple[Replacement, ...]:
    """The bricks each replaced host holds in FROM's volumes that TO keeps (a path changed or
    a volume gone is refused on its own), in host ID order. Each has other copies to heal
    from: both targets' validators refuse a volume of one copy."""
    replace: list[Replacement] = []
    for name in hosts.replaced:
        bricks = []
        for volume in new.values():
            was = old.get(volume.name)
            if was is None:
                continue
            for i, brick in enumerate(was.bricks):
                if brick.host != name or brick not in volume.bricks:
                    continue
                start = i - i % was.replica
                bricks.append((volume, brick, was.bricks[start : start + was.replica]))
        replace.append(Replacement(host=name, bricks=tuple(bricks)))
    return tuple(replace)


def _sets(bricks: Sequence[Brick], replica: int) -> list[tuple[Brick, ...]]:
    return [tuple(bricks[i : i + replica]) for i in range(0, len(bricks), replica)]


def _sets_removed(was: VolumePlan, volume: VolumePlan) -> tuple[Brick, ...] | None:
    """The bricks of the whole replica sets FROM's volume loses, where TO keeps the others in
    their order and adds none; None for any other change of its bricks."""
    old, new = _sets(was.bricks, was.replica), _sets(volume.bricks, volume.replica)
    if not new or [s for s in old if s in new] != new:
        return None
    return tuple(b for s in old if s not in new for b in s)


def _lowered(was: VolumePlan, volume: VolumePlan) -> Shrink | None:
    """TO's volume is FROM's with one brick out of each replica set, the others in their order,
    its replica count one lower and 2 or more; None otherwise."""
    if volume.replica != was.replica - 1 or volume.replica < 2:
        return None
    old, new = _sets(was.bricks, was.replica), _sets(volume.bricks, volume.replica)
    if len(old) != len(new):
        return None
    removed = []
    for before, after in zip(old, new, strict=True):
        gone = [b for b in before if b not in after]
        if len(gone) != 1 or tuple(b for b in before if b in after) != after:
            return None
        removed += gone
    return Shrink(volume=volume, before=was.bricks, removed=tuple(removed), replica=volume.replica)


def handled(d: Difference) -> bool:
    """The differences `pool_change` takes or refuses itself: every key of the volumes."""
    return d.path == "gluster.volumes" or d.path.startswith(
        ("gluster.volumes[", "gluster.volumes.")
    )


# --- the templates' data --------------------------------------------------------------------


def _bricks(bricks: Sequence[Brick]) -> list[str]:
    return [str(b) for b in bricks]


def pool_data(before: GlusterPlan, after: GlusterPlan, change: PoolChange) -> dict[str, Any]:
    """What every Gluster change script checks the live pool against, seen from the member:
    its peers in FROM and in TO (by the name it probed each, and the address), and each
    volume's bricks in order on both sides (None where a side has no such volume)."""
    member = change.member

    def peers(p: GlusterPlan) -> list[dict[str, str]]:
        return peers_seen_from(p, member)

    old = {v.name: v for v in before.volumes}
    new = {v.name: v for v in after.volumes}
    names = [*old, *(n for n in new if n not in old)]
    return {
        "member": member,
        "before_peers": peers(before),
        # FROM's peers that stay: the others may be gone already (detached by this change).
        "staying_peers": [p for p in peers(before) if p["peer"] not in change.detach],
        "after_peers": peers(after),
        "volumes": [
            {
                "name": n,
                "before": _bricks(old[n].bricks) if n in old else None,
                "after": _bricks(new[n].bricks) if n in new else None,
            }
            for n in names
        ],
        "probe": list(change.probe),
        "create": [
            {"name": v.name, "replica": v.replica, "bricks": _bricks(v.bricks)}
            for v in change.create
        ],
        "replace": [
            {
                "host": r.host,
                "bricks": [
                    {
                        "volume": v.name,
                        "brick": str(b),
                        "path": b.path,
                        "others": [str(o) for o in replica_set if o != b],
                    }
                    for v, b, replica_set in r.bricks
                ],
                "volumes": list(dict.fromkeys(v.name for v, _, _ in r.bricks)),
            }
            for r in change.replace
        ],
        "grow": [
            {
                "name": g.volume.name,
                "replica": g.volume.replica,
                "before": _bricks(g.before),
                "added": _bricks(g.added),
                "after": _bricks(g.volume.bricks),
            }
            for g in change.grow
        ],
        "shrink": [
            {
                "name": s.volume.name,
                "replica": s.replica,
                "before": _bricks(s.before),
                "removed": _bricks(s.removed),
                "after": _bricks(s.volume.bricks),
                "sets": len(s.removed) // (s.volume.replica if s.replica is None else 1),
                "healed": s.volume.replica > 1 or s.replica is not None,
            }
            for s in change.shrink
        ],
        "detach": [
            {"peer": h.peer, "address": str(h.storage_address)}
            for h in before.hosts
            if h.peer in change.detach
        ],
    }


def peers_seen_from(p: GlusterPlan, name: str) -> list[dict[str, str]]:
    """The peers a member of the pool sees: every other host, by the name it was probed by
    and its storage address."""
    return [{"peer": h.peer, "address": str(h.storage_address)} for h in p.hosts if h.name != name]


# --- the checks between steps ---------------------------------------------------------------


def probe_checks(after: GlusterPlan, member: str) -> tuple[Check, ...]:
    return (peers_connected(member, len(after.hosts) - 1),)


def rebalance_watched(on: str, volume: str) -> Check:
    """`gluster volume rebalance VOL status`: a row per node whose status is one of glusterfs's
    task states, "completed" when done (glusterfs v10.3 cli/src/cli-rpc-ops.c:61-72,
    cli_vol_task_status_str: "not started", "in progress", ..., "completed", "failed")."""
    return Check(
        on=on,
        command=f"gluster volume rebalance {volume} status",
        shows=("completed",),
        not_shows=("failed",),
        note="`completed` on every node; `in progress` means wait (the volume serves meanwhile)",
    )


def volume_checks(after: GlusterPlan, change: PoolChange) -> tuple[Check, ...]:
    grown = tuple(g.volume for g in change.grow)
    return (
        *volumes_started(change.member, (*change.create, *grown)),
        *(rebalance_watched(change.member, v.name) for v in grown),
        *volumes_healed(change.member, tuple(v for v in grown if v.replica > 1)),
    )


def replaced_checks(on: str, replacement: Replacement) -> tuple[Check, ...]:
    """After a replaced host's bricks are back: each of its volumes healed, on every brick
    (the new bricks filled from the others of their replica sets), before anything else."""
    seen: dict[str, VolumePlan] = {}
    for volume, _, _ in replacement.bricks:
        seen.setdefault(volume.name, volume)
    return volumes_healed(on, tuple(seen.values()))


def shrink_checks(change: PoolChange) -> tuple[Check, ...]:
    """After the remove-brick step: each volume has TO's bricks, and nothing to heal."""
    volumes = tuple(s.volume for s in change.shrink)
    return (
        *volumes_started(change.member, volumes),
        *volumes_healed(change.member, tuple(v for v in volumes if v.replica > 1)),
    )


def detach_checks(after: GlusterPlan, member: str) -> tuple[Check, ...]:
    return (peers_connected(member, len(after.hosts) - 1),)


def joined_checks(names: Sequence[str]) -> tuple[Check, ...]:
    return tuple(glusterd_running(name) for name in names)


# --- the steps both targets take the same way -------------------------------------------------

TEMPLATES = "components/gluster/change"


def probe_step(after: GlusterPlan, change: PoolChange, data: dict[str, Any]) -> ChangeSpec:
    return ChangeSpec(
        slug="gluster-probe",
        title="Probe the new hosts into the Gluster trusted pool",
        hosts=(change.member,),
        template=f"{TEMPLATES}/probe.sh.j2",
        checks=probe_checks(after, change.member),
        data=data,
    )


def remove_bricks_step(change: PoolChange, data: dict[str, Any], title: str) -> ChangeSpec:
    return ChangeSpec(
        slug="remove-bricks",
        title=title,
        hosts=(change.member,),
        template=f"{TEMPLATES}/remove-bricks.sh.j2",
        checks=shrink_checks(change),
        data=data,
    )


def add_bricks_step(
    after: GlusterPlan, change: PoolChange, data: dict[str, Any]
) -> tuple[ChangeSpec, list[str]]:
    """The add-brick step, and CHANGE.md's note on each rebalance it starts."""
    step = ChangeSpec(
        slug="add-bricks",
        title="Add the new replica sets to the volumes that grow, and rebalance them",
        hosts=(change.member,),
        template=f"{TEMPLATES}/add-bricks.sh.j2",
        checks=volume_checks(after, change),
        data=data,
    )
    notes = [
        f"After the add-brick step, watch `gluster volume rebalance {g.volume.name} "
        "status` until every node shows `completed`; the volume serves meanwhile"
        for g in change.grow
    ]
    return step, notes


def detach_step(after: GlusterPlan, change: PoolChange, data: dict[str, Any]) -> ChangeSpec:
    return ChangeSpec(
        slug="gluster-detach",
        title="Detach the hosts that leave from the Gluster trusted pool",
        hosts=(change.member,),
        template=f"{TEMPLATES}/detach.sh.j2",
        checks=detach_checks(after, change.member),
        data=data,
    )


# --- a replaced host's steps ------------------------------------------------------------------

# How a replaced host's empty brick folders go back into their volumes. glusterfs 3.9 and later:
# `reset-brick VOL BRICK start`, then `reset-brick VOL BRICK BRICK commit force` (glusterdocs
# release-notes 3.9.0.md). Before 3.9 (the seed's 3.6): `volume start VOL force` gives a brick
# folder of this host that lacks it the volume's ID and starts its process (glusterfs v3.6.0
# glusterd-volume-ops.c:1044-1065, stage of start: the same at v10.3, :1293-1320), once the
# other copies are marked as holding what the new brick lacks, as glusterdocs' procedure for a
# replaced brick of glusterfs 3.6 marks them (a94c987 "Administrator Guide/Managing
# Volumes.md":384-412: a folder made and removed, an attribute set and removed, on the
# volume's root through a client mount).
RESET_BRICK = "reset-brick"
START_FORCE = "start-force"


def replaced_data(
    before: GlusterPlan,
    after: GlusterPlan,
    name: str,
    data: dict[str, Any],
    mount_points: Sequence[str],
    put_back: str,
) -> dict[str, Any]:
    """What a replaced host's steps read: the pool as it sees it (its scripts run on it, not
    on the member), its own names (by which the members know it), its brick filesystems' mount
    points, and how its bricks go back."""
    member = next(h for h in after.hosts if h.name == name)
    before_peers = peers_seen_from(before, name)
    detached = {d["peer"] for d in data["pool"]["detach"]}
    return {
        **data,
        "replaced": name,
        "mount_points": list(mount_points),
        "before_peers": before_peers,
        "after_peers": peers_seen_from(after, name),
        "own": {"peer": member.peer, "address": str(member.storage_address)},
        # FROM's peers that stay (the pool check's), as it sees them.
        "staying_peers": [p for p in before_peers if p["peer"] not in detached],
        "put_back": put_back,
    }


def rejoin_pool_step(name: str, own: dict[str, Any]) -> ChangeSpec:
    """A new machine's glusterd given the UUID the pool knows the host by and the pool back;
    a host that kept its root disk (a new brick disk) is left as it is."""
    return ChangeSpec(
        slug="rejoin-pool",
        title=f"Give {name}'s glusterd its place in the pool back, if it is a new machine",
        hosts=(name,),
        template=f"{TEMPLATES}/rejoin-pool.sh.j2",
        data=own,
    )


def replace_disk_step(name: str, own: dict[str, Any]) -> ChangeSpec:
    """The replaced host's glusterd checked to be the pool's (rejoin_pool_step's work), and its
    dead brick filesystems forgotten."""
    return ChangeSpec(
        slug="replace-disk",
        title=f"Check that {name} is in the pool, and forget its dead brick filesystems",
        hosts=(name,),
        template=f"{TEMPLATES}/replace-disk.sh.j2",
        data=own,
    )


def reset_bricks_step(name: str, replacement: Replacement, own: dict[str, Any]) -> ChangeSpec:
    return ChangeSpec(
        slug="reset-bricks",
        title=f"Put {name}'s new bricks back into their volumes, and heal them",
        hosts=(name,),
        template=f"{TEMPLATES}/reset-bricks.sh.j2",
        checks=replaced_checks(name, replacement),
        data=own,
    )


def writes_stop_without(replacement: Replacement) -> list[tuple[VolumePlan, Brick]]:
    """The bricks of a replaced host whose replica set takes no write while they are down, as
    glusterfs decides with the virt group's cluster.quorum-type auto: more than half of the set
    up, or exactly half with its first brick (glusterfs v3.6.0 xlators/cluster/afr/src/
    afr-transaction.c:429-461, afr_has_quorum; quorum-type=auto in extras/group-virt.example).
    Only the first brick of a replica 2 set is such a brick."""
    stopped = []
    for volume, brick, replica_set in replacement.bricks:
        up = len(replica_set) - 1
        half = len(replica_set) % 2 == 0 and up == len(replica_set) // 2
        if not (up >= len(replica_set) // 2 + 1 or (half and replica_set[0] != brick)):
            stopped.append((volume, brick))
    return stopped
