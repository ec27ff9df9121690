"""What the runbook of ovirt45-el9 says of each step that fails: the state it leaves, how to
run it again, how to take it back, with the cluster's values written out, and the undo
scripts that take back what needs destroying.

Sources of the undo commands, each at the version the target runs:
- glusterd refuses a brick folder (or a folder below one) that carries `trusted.gfid` or
  `trusted.glusterfs.volume-id`: "PATH is already part of a volume" (glusterfs v10.3
  xlators/mgmt/glusterd/src/glusterd-utils.c:8243-8311, glusterd_is_path_in_use, the keys of
  libglusterfs/src/glusterfs/glusterfs.h:104,134); `volume create` sets the volume-id and makes
  `.glusterfs` while it stages each brick (glusterd-utils.c:1602-1625, called from
  glusterd-volume-ops.c:1056), so a refused create leaves the bricks staged before the refusal
  marked; glusterdocs docs/Install-Guide/Configure.md:90-91 names the error.
- `gluster volume stop` and `volume delete` (glusterfs v10.3 cli/src/cli-cmd-volume.c:289,499:
  both ask to confirm unless --mode=script); delete refuses a started volume
  (glusterd-volume-ops.c:1502, "Volume needs to be stopped before deletion").
- `gluster peer detach` refuses a peer that holds some bricks of a volume (glusterd-handler.c
  :1301-1311, 4015-4021: "Peer HOST hosts one or more bricks").
- `ovirt-hosted-engine-cleanup -q` (ovirt-hosted-engine-setup 2.7.2 src/bin/
  ovirt-hosted-engine-cleanup: -q skips its questions; it powers the engine VM off, stops the
  HA services, sanlock and vdsm, disconnects the hosted-engine storage, restores the networks
  vdsm made, removes hosted-engine.conf, answers.conf, vdsm's certificates and /var/tmp/localvm*),
  then the engine's storage emptied: oVirt/ovirt-site d2394f3 source/documentation/
  self-hosted/chap-Troubleshooting.html.md, "Cleaning Up a Failed Self-Hosted Engine
  Deployment": run the cleanup, then `rm -rf storage_location/*` to deploy on the same storage.
- vgremove(8) removes a volume group, asking before it removes the logical volumes in it;
  pvremove(8) wipes the LVM label (lvm2 man/vgremove.8_des, man/pvremove.8_des); dnf(8)
  `history undo`; firewall-cmd(1) --remove-service,
  --remove-port, --delete-zone, --reload.
"""

from __future__ import annotations

from collections.abc import Mapping

from confgen.components.gluster import Member, VolumePlan
from confgen.planner import Step, StepFailure, UndoScript, undo_name
from confgen.targets.ovirt45_el9 import paths

# The template of each step's undo script, by the step's slug.
UNDO_TEMPLATES: Mapping[str, str] = {
    "volumes": "common/undo-volumes.sh.j2",
    "hosted-engine-deploy": "ovirt45-el9/undo-hosted-engine-deploy.sh.j2",
}


def _names(items: list[str] | tuple[str, ...]) -> str:
    return ", ".join(items) if items else "none"


def _volume_scripts(
    step: Step, hosts: tuple[Member, ...], volumes: tuple[VolumePlan, ...]
) -> tuple[UndoScript, ...]:
    """The undo of a volume step: on the first host (it deletes the volumes), then on every
    other host that holds a brick of one (it clears its brick folders)."""
    holders = {b.host for v in volumes for b in v.bricks}
    first = next(h for h in hosts if h.is_first)
    order = [first.name] + [h.name for h in hosts if not h.is_first and h.name in holders]
    return tuple(UndoScript(host=name, path=undo_name(step)) for name in order)


def failures(
    steps: tuple[Step, ...],
    hosts: tuple[Member, ...],
    volumes: tuple[VolumePlan, ...],
    *,
    engine_volume: str,
    volume_group: str,
    device_of: Mapping[str, str | None],
    mounts_of: Mapping[str, tuple[str, ...]],
    firewall_zone: str | None,
) -> tuple[StepFailure, ...]:
    """One entry for each step, in step order."""
    first = next(h for h in hosts if h.is_first)
    others = [h.name for h in hosts if not h.is_first]
    by_slug = {s.slug: s for s in steps}

    def num(slug: str) -> str:
        return by_slug[slug].label

    def entry(step: Step) -> StepFailure:
        slug = step.slug
        if slug == "preflight":
            return StepFailure(
                state="nothing changed: the step only reads",
                retry="fix what it names and run it again",
                undo="nothing to undo",
            )
        if slug == "install-packages":
            return StepFailure(
                state="some repositories and packages installed, the /etc/hosts block of "
                "the cluster's names perhaps written; nothing else",
                retry="run it again: dnf skips what is installed; a repository that failed "
                "to download is the usual cause (check the network and the mirror)",
                undo="not needed before the next steps: the packages and the /etc/hosts "
                "block harm nothing. `dnf history undo last` takes back the last transaction "
                "(dnf(8))",
            )
        if slug == "firewall":
            zone = f" in the zone {firewall_zone}" if firewall_zone else ""
            return StepFailure(
                state=f"some firewalld services and ports opened{zone}, permanently, the "
                "runtime perhaps not reloaded yet",
                retry="run it again: what is open is left as it is, then firewalld reloads",
                undo="not needed: the ports serve nothing until the later steps. To close "
                "them: `firewall-cmd --permanent"
                + (f" --delete-zone={firewall_zone}" if firewall_zone else " --remove-service=NAME")
                + "` then `firewall-cmd --reload` (firewall-cmd(1))",
            )
        if slug == "brick-storage":
            lines = []
            for h in hosts:
                device = device_of.get(h.name)
                if not device or not mounts_of.get(h.name):
                    continue
                mounts = mounts_of[h.name]
                lines.append(
                    f"on {h.name}: `umount {' '.join(mounts)}`; remove the lines of "
                    f"{', '.join(mounts)} from /etc/fstab; `vgremove {volume_group}` (it asks "
                    f"before it removes the logical volumes in it); `pvremove {device}`; remove "
                    f"{paths.MULTIPATH_BLACKLIST}"
                )
            return StepFailure(
                state=f"on the host where it failed, any of: {paths.MULTIPATH_BLACKLIST}, "
                f"the volume group {volume_group} on the brick device, its logical volumes, "
                "their XFS filesystems and /etc/fstab lines, the mounts, the brick folders, "
                "the SELinux rule; none of it holds data yet",
                retry="run it again: each part that is done is left as it is, and the step "
                "goes on from the first that is not (a logical volume of the right name but "
                "another kind, or a volume that holds something else, stops it and is named)",
                undo="no script: the step used the disk only because it was empty (it "
                "refuses a disk that holds anything), and its retry finishes what it began; "
                "only a wrong `brick_device` needs it taken back, before step "
                f"{num('volumes')} puts a brick on it (vgremove(8), pvremove(8)): "
                + "; ".join(lines),
            )
        if slug == "peer-probe":
            peers = [h.peer for h in hosts if not h.is_first]
            return StepFailure(
                state=f"some of {_names(peers)} in the trusted pool of {first.name}, "
                "perhaps not yet connected (the step waits for them)",
                retry="run it again: a peer already in the pool is not probed twice; a host "
                "whose glusterd does not answer is named (start it there, open the firewall)",
                undo=f"not destructive, no confirmation: on {first.name}, "
                + "; ".join(f"`gluster peer detach {p}`" for p in peers)
                + '. glusterd refuses to detach a peer that holds bricks of a volume ("Peer '
                'HOST hosts one or more bricks"): after step '
                f"{num('volumes')}, run its undo first",
            )
        if slug == "peer-probe-back":
            return StepFailure(
                state=f"{first.peer} perhaps still known to the pool by its address only",
                retry="run it again",
                undo="nothing to undo: the probe only adds a name to a peer",
            )
        if slug == "volumes":
            made = [v.name for v in volumes]
            bricks = "; ".join(f"{v.name}: " + ", ".join(str(b) for b in v.bricks) for v in volumes)
            order = _volume_scripts(step, hosts, volumes)
            return StepFailure(
                state=f"some of the volumes {_names(made)} created, their options set or not, "
                "started or not; a refused `volume create` leaves the brick folders it "
                "staged before the refusal marked (the extended attribute "
                "trusted.glusterfs.volume-id and a .glusterfs folder), and every later create "
                'on them is refused with "BRICK is already part of a volume"',
                retry="run it again: a volume that exists is kept, its options set, and it "
                "is started. If a create is refused because a brick is already part of a "
                "volume, run the undo and then the step",
                undo=f"`undo/{step.script}`, first on {first.name}, then on "
                + _names([s.host for s in order[1:]])
                + f": it stops and deletes {_names(made)} (refusing {engine_volume} while a "
                f"hosted engine is deployed on it: undo step {num('hosted-engine-deploy')} "
                "first), then clears each brick folder of its host of "
                "trusted.glusterfs.volume-id, trusted.gfid and .glusterfs, once no volume "
                f"holds it. The bricks: {bricks}",
                scripts=order,
            )
        if slug == "hosted-engine-deploy":
            return StepFailure(
                state=f"a failed `hosted-engine --deploy` leaves {first.name} half configured "
                "(vdsm, the ovirtmgmt bridge, the local engine VM under /var/tmp/localvm*, "
                "the HA services) and the engine's volume "
                f"{engine_volume} holding part of a storage domain; the next deploy fails "
                "on what is left. The setup's log is in /var/log/ovirt-hosted-engine-setup/",
                retry="fix the cause the log names, run the undo, then the step again. A "
                f"failed deploy may have written {paths.HOSTED_ENGINE_CONF}, and the step "
                "takes its existence for a deployed engine and stops at once: the undo "
                "removes it",
                undo=f"`undo/{step.script}` on {first.name}: `ovirt-hosted-engine-cleanup -q`, "
                f"then it mounts {engine_volume} and removes everything in it (oVirt's "
                '"Cleaning Up a Failed Self-Hosted Engine Deployment"). Not for a deploy '
                "that worked: it destroys the engine VM",
                scripts=(UndoScript(host=first.name, path=undo_name(step)),),
            )
        if slug == "add-hosts":
            return StepFailure(
                state=f"some of {_names(others)} added to the engine, each one at a time; "
                "the one being added perhaps Installing or NonOperational",
                retry="run it again: a host that is Up is skipped, a host the engine has "
                "but is not Up is waited for or named",
                undo="not needed for a retry. A host left NonOperational or InstallFailed: "
                "Administration Portal, Compute → Hosts, the host → Management → "
                "Maintenance, then Remove; then run the step again",
            )
        if slug == "data-domains":
            names = [v.name for v in volumes if v.name != engine_volume]
            return StepFailure(
                state=f"some of {_names(names)} added as storage domains, perhaps not yet "
                "attached to the data center",
                retry="run it again: a domain the engine has is not added twice",
                undo="not needed for a retry. To take a domain back: Administration "
                "Portal, Storage → Domains, the domain → Maintenance, Detach, then Remove "
                "(without Format, the volume keeps its files)",
            )
        raise KeyError(f"no failure entry for the step {slug}")

    return tuple(entry(step) for step in steps)
