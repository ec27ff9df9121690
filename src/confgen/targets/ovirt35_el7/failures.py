"""What the runbook of the seed's target says of each step that fails: the state it leaves,
how to run it again, how to take it back, with the cluster's values written out, and the undo
scripts that take back what needs destroying.

Sources of the undo commands (see also confgen.targets.ovirt45_el9.failures, whose glusterd
facts hold for the seed's GlusterFS 3.6 as well: glusterfs v3.6.9 has the same
glusterd_is_path_in_use, xlators/mgmt/glusterd/src/glusterd-utils.c:8100, and stages each new
brick of a create or an add-brick with glusterd_validate_and_create_brickpath,
glusterd-volume-ops.c:847, glusterd-brick-ops.c:1393):
- `gluster volume remove-brick VOLUME replica N BRICK... force` takes back an add-brick that
  raised the replica count: reducing the replica count takes no data migration and wants
  `force` (glusterfs v3.6.9 cli/src/cli-cmd-volume.c:2436, glusterd-brick-ops.c:1541-1550);
  a replica set added to a distributed volume is removed with the same command without
  `replica`. The removed bricks keep the volume's marks and must be cleared as the undo of
  the volume step clears its bricks.
- `gluster peer detach HOST` is refused while HOST holds bricks of a volume: "peer detach:
  failed: Brick(s) with the peer HOST exist in cluster" (glusterfs v3.6.0
  xlators/mgmt/glusterd/src/glusterd-handler.c:1156-1166, 3494-3496; cli-rpc-ops.c:208), where
  glusterfs 10 says "Peer HOST hosts one or more bricks".
- `ssm remove POOL` removes a pool with its volumes (ssm(8) of system-storage-manager on
  CentOS 7: "ssm remove [-a] [items]", an item a device, pool or volume); `wipefs --all`
  (wipefs(8), util-linux) erases the signatures left on the device.
- ovirt-hosted-engine-setup 1.2 has no cleanup tool: ovirt-hosted-engine-cleanup came with
  2.2.0 (commit da17dcd, 2016-11-30; absent from the tag ovirt-hosted-engine-setup-1.2.6.1,
  whose cleanup.sh is a developer's script, not installed). Its deploy writes
  /etc/ovirt-hosted-engine/hosted-engine.conf in the misc stage (src/plugins/
  ovirt-hosted-engine-setup/core/conf.py:48-58 at 1.2.6.1), before the closeup stage adds the
  host to the engine (engine/add_host.py:519,629).
"""

from __future__ import annotations

from collections.abc import Mapping

from confgen.components import brick_storage
from confgen.components.gluster import Member, VolumePlan
from confgen.planner import Step, StepFailure, UndoScript, undo_name

# The template of each step's undo script, by the step's slug.
UNDO_TEMPLATES: Mapping[str, str] = {"new-volumes": "common/undo-volumes.sh.j2"}

HOSTED_ENGINE_CONF = "/etc/ovirt-hosted-engine/hosted-engine.conf"


def _names(items: list[str]) -> str:
    return ", ".join(items) if items else "none"


def failures(
    steps: tuple[Step, ...],
    hosts: tuple[Member, ...],
    volumes: tuple[VolumePlan, ...],
    *,
    meta_volume: str,
    meta_mount: str,
    brick_mount: str,
    pool: str,
) -> tuple[StepFailure, ...]:
    """One entry for each step, in step order."""
    first = next(h for h in hosts if h.is_first)
    by_slug: dict[str, Step] = {}
    for s in steps:
        by_slug.setdefault(s.slug, s)
    new = [v for v in volumes if not v.existing]
    existing = [v for v in volumes if v.existing]
    host_ids = {h.name: h.host.host_id for h in hosts}

    def num(slug: str) -> str:
        return by_slug[slug].label

    def entry(step: Step) -> StepFailure:
        slug = step.slug
        where = step.where
        if slug == "preflight":
            return StepFailure(
                state="nothing changed: the step only reads",
                retry="fix what it names and run it again",
                undo="nothing to undo",
            )
        if slug in ("selinux-and-hosts", "nfsmount-conf", "systemd-units", "restore-firewall"):
            return StepFailure(
                state=f"on {where}, some of the step's files written; a file it replaced is "
                "kept once as FILE.confgen-orig",
                retry="run it again: a file already right is left as it is",
                undo="not needed for a retry; to put a file back, copy FILE.confgen-orig over FILE",
            )
        if slug == "stop-engine":
            return StepFailure(
                state=f"{first.name} perhaps in global maintenance, the engine VM perhaps shut "
                "down, some of ovirt-ha-agent, ovirt-ha-broker and vdsmd stopped",
                retry="run it again: what is done is not done twice",
                undo=f"on {first.name}: `systemctl start vdsmd ovirt-ha-broker ovirt-ha-agent`, "
                "then `hosted-engine --set-maintenance --mode=none`: the agent starts the "
                "engine VM again",
            )
        if slug == "install-packages":
            return StepFailure(
                state=f"on {where}, some packages installed, firewalld and NetworkManager "
                "perhaps disabled and iptables enabled; no reboot yet",
                retry="run it again: yum skips what is installed; it reboots a host but "
                f"{first.name} when it changed anything",
                undo="not needed for a retry",
            )
        if slug == "firewall":
            return StepFailure(
                state=f"on {where}, /etc/sysconfig/iptables perhaps replaced (the previous one "
                "kept as /etc/sysconfig/iptables.confgen-orig), perhaps not yet reloaded",
                retry="run it again",
                undo="copy /etc/sysconfig/iptables.confgen-orig back over "
                "/etc/sysconfig/iptables, then `systemctl reload iptables`",
            )
        if slug == "brick-storage":
            lines = [
                f"on {h.name}: `umount {brick_mount}`, remove its line from /etc/fstab, "
                f"`ssm remove {pool}` (the pool's volume with it; ssm(8)), then `wipefs --all "
                f"{brick_storage.device_of(h.host)}`"
                for h in hosts
                if h.brick_dirs and not h.is_first and brick_storage.device_of(h.host)
            ]
            return StepFailure(
                state=f"on {where}, any of: the pool {pool} and its XFS volume on the brick "
                f"device, mounted at {brick_mount}, the brick folders, the meta mount point "
                f"{meta_mount}, glusterd started, the /etc/fstab line; none of it holds data yet",
                retry="run it again: a mounted brick filesystem is not made again",
                undo="no script: the step used the disk only because it was empty, and its "
                "retry finishes what it began; only a wrong `brick_device` needs it taken back, "
                f"before step {num('add-bricks')} puts a brick on it (never on {first.name}, "
                "whose bricks part one made): " + ("; ".join(lines) or "nothing"),
            )
        if slug == "peer-probe":
            peers = [h.peer for h in hosts if not h.is_first]
            return StepFailure(
                state=f"some of {_names(peers)} in the trusted pool of {first.name}",
                retry="run it again: a peer already in the pool is not probed twice",
                undo=f"not destructive: on {first.name}, "
                + "; ".join(f"`gluster peer detach {p}`" for p in peers)
                + ". glusterd refuses to detach a peer that holds bricks of a volume "
                '("Brick(s) with the peer HOST exist in cluster"): after step '
                f"{num('add-bricks')}, undo that "
                "first",
            )
        if slug == "add-bricks":
            undo = []
            for v in existing:
                groups = v.add_brick_groups
                for i, group in reversed(list(enumerate(groups))):
                    if not group:
                        continue
                    specs = " ".join(str(b) for b in group)
                    if i == 0:
                        undo.append(
                            f"`gluster volume remove-brick {v.name} replica 1 {specs} force`"
                        )
                    else:
                        undo.append(f"`gluster volume remove-brick {v.name} {specs} force`")
            return StepFailure(
                state="some of the existing volumes "
                f"{_names([v.name for v in existing])} grown, a full heal perhaps launched",
                retry="run it again: bricks already in a volume are not added twice; a volume "
                "whose bricks are not the planned ones stops the step and is named",
                undo="prose only, on "
                f"{first.name}, last added first, only while the new bricks hold nothing "
                "of their own (right after a failed run): "
                + ("; ".join(undo) or "nothing")
                + ". The removed brick folders keep the volume's marks: clear them as "
                f"undo/{by_slug['new-volumes'].script} does (setfattr -x "
                "trusted.glusterfs.volume-id, -x trusted.gfid, rm -rf .glusterfs) before adding "
                "them again",
            )
        if slug == "heal-workaround":
            return StepFailure(
                state="a volume perhaps still mounted under /tmp/confgen-heal.*",
                retry="run it again",
                undo="`umount` the /tmp/confgen-heal.* mount left, if any",
            )
        if slug == "new-volumes":
            made = [v.name for v in new]
            holders = {b.host for v in new for b in v.bricks}
            order = [first.name] + [h.name for h in hosts if not h.is_first and h.name in holders]
            bricks = "; ".join(f"{v.name}: " + ", ".join(str(b) for b in v.bricks) for v in new)
            return StepFailure(
                state=f"some of the volumes {_names(made)} created or started, "
                f"{meta_volume} perhaps mounted at {meta_mount}; a refused create leaves the "
                "brick folders it staged marked, and a later create on them is refused with "
                '"BRICK is already part of a volume"',
                retry="run it again: a volume that exists is kept and started",
                undo=f"`undo/{step.script}`, first on {first.name}, then on "
                + _names(order[1:])
                + f": it unmounts {meta_mount}, stops and deletes {_names(made)} (never the "
                f"volumes of part one, {_names([v.name for v in existing])}), then clears each "
                "brick folder of trusted.glusterfs.volume-id, trusted.gfid and .glusterfs. "
                f"The bricks: {bricks}",
                scripts=tuple(UndoScript(host=name, path=undo_name(step)) for name in order),
            )
        if slug == "ctdb":
            return StepFailure(
                state=f"on {where}, the CTDB files perhaps linked into place, ctdb perhaps "
                "started; a file in the way of a link kept as FILE.orig",
                retry="run it again",
                undo="`systemctl stop ctdb`; move FILE.orig back over the link",
            )
        if slug == "start-engine":
            return StepFailure(
                state=f"the HA services perhaps started on {first.name}, global maintenance "
                "perhaps left, the engine perhaps still starting",
                retry="run it again: it waits for the engine again",
                undo="not needed; `hosted-engine --vm-status` shows the engine's state",
            )
        if slug == "hosted-engine-deploy":
            name = step.hosts[0]
            return StepFailure(
                state=f"{name} half configured by `hosted-engine --deploy` (vdsm, the "
                f"ovirtmgmt bridge); past the setup's misc stage, {HOSTED_ENGINE_CONF} holds "
                f"host_id={host_ids[name]}, and past its closeup stage the engine lists {name}",
                retry=f"if {HOSTED_ENGINE_CONF} exists the step takes {name} for deployed and "
                "stops at once: after a failed deploy, move that file aside first, then run "
                "the step again",
                undo="no script: ovirt-hosted-engine-setup 1.2 has no cleanup tool "
                "(ovirt-hosted-engine-cleanup came with 2.2). By hand, on "
                f"{name}: `mv {HOSTED_ENGINE_CONF} {HOSTED_ENGINE_CONF}.failed`; if the "
                f"engine lists {name}, put it into maintenance and remove it in the "
                "Administration Portal; then run the step again",
            )
        raise KeyError(f"no failure entry for the step {slug}")

    return tuple(entry(step) for step in steps)
