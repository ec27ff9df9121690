"""What a target's hosts have before the runbook starts, on the end-to-end cluster.

One class per target: the overlay layer of stand-ins for what Debian cannot have, the state of
a freshly installed host, the state part one of the procedure leaves on the first host, and
what an administrator types or confirms while following the runbook. machines.py and
cluster.py know no target.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path
from types import ModuleType
from typing import Any

import confgen

from .machines import Container

STAND_INS = Path(__file__).resolve().parent / "standins"
# The fake cluster's stand-ins for EL7's and EL9's programs: the end-to-end hosts run the same
# ones.
FAKEHOST_EL7 = Path(__file__).resolve().parents[1] / "fakehost_el7.py"
# Its deploy reads answer files as otopi does and checks them against the setup's table.
HOSTED_ENGINE_SETUP = Path(__file__).resolve().parents[1] / "hosted_engine_setup.py"
SETUP_TABLE = "data/hosted-engine-setup/answers-1.2.6.1.json"
FAKEHOST_EL9 = Path(__file__).resolve().parents[1] / "fakehost_el9.py"


def _fakehost_el9() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fakehost_el9", FAKEHOST_EL9)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nofail(host: Container, mount_points: set[str]) -> None:
    """What CHANGE.md asks of a host whose brick disk died, done at the emergency shell: a real
    host's fstab requires each brick filesystem, and local-fs.target's failure starts
    emergency.target (the harness's mount unit for fstab's devices is not required by
    local-fs.target, so here the host would boot anyway); `nofail` goes on each brick
    filesystem's line, and the change's first step comments the old lines out."""
    fstab = host.merged / "etc/fstab"
    lines = []
    for line in fstab.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 4 and not line.startswith("#") and fields[1] in mount_points:
            if "nofail" not in fields[3].split(","):
                fields[3] += ",nofail"
            line = " ".join(fields)
        lines.append(line)
    fstab.write_text("".join(f"{line}\n" for line in lines))


class Ovirt35El7:
    """CentOS 7 with oVirt 3.5: the seed's target."""

    name = "ovirt35-el7"
    layer = STAND_INS / "ovirt35-el7"
    # The hosted engine's shared state (see el7.py), as the harness mounts it on every host.
    shared_dir = "/var/lib/ovirt-hosted-engine-ha/shared"

    def __init__(self, plan: confgen.Plan) -> None:
        self.plan = plan

    def installed(self, host: Container) -> None:
        """A minimal CentOS 7 install: firewalld and NetworkManager enabled and running.

        And Gluster's brick ports where the seed's Gluster puts them. Gluster 3.6 gives each
        brick the first free port from 49152 up (glusterd-pmap.c, pmap_registry_alloc), inside
        the 49152:49251 the seed's firewall opens; Debian's 10.3 picks one at random up to
        max-port, 60999 (pmap_port_alloc), which that firewall blocks. So glusterd.vol's
        max-port becomes 49251 here: the range the target's Gluster uses."""
        host.write("/usr/local/lib/el7-standin/fakehost_el7.py", FAKEHOST_EL7.read_text())
        host.write(
            "/usr/local/lib/el7-standin/hosted_engine_setup.py", HOSTED_ENGINE_SETUP.read_text()
        )
        host.write(
            f"/usr/local/lib/el7-standin/{SETUP_TABLE}",
            (HOSTED_ENGINE_SETUP.parent / SETUP_TABLE).read_text(),
        )
        host.run("yum install -y firewalld NetworkManager")
        host.run("systemctl enable --now firewalld NetworkManager")
        host.run(
            r"sed -i 's/^\( *option max-port \+\).*/\149251/' /etc/glusterfs/glusterd.vol"
            " && grep -q 'max-port *49251$' /etc/glusterfs/glusterd.vol"
        )

    def part_one(self, host: Container, shared: Path) -> None:
        """What part one of the procedure left on the first host, made as part one made it.

        The seed's packages but ctdb, with the release package; firewalld and NetworkManager
        off, iptables on; the brick filesystem made with ssm and in fstab; glusterd running
        with the single-brick `existing` volumes, started, holding the hosted engine's files;
        the hosted engine deployed as host ID 1 and running, its HA services up."""
        plan = self.plan
        cluster = plan.cluster
        fs = cluster.gluster.brick_fs
        first = plan.first
        packages = [p for p in cluster.packages.install if p != "ctdb"]
        host.run(shlex.join(["yum", "install", "-y", cluster.packages.release_package, *packages]))
        host.run("systemctl disable --now firewalld NetworkManager")
        host.run("systemctl enable --now iptables")
        # The host knows its own name; the others it learns in step 01.
        host.run(
            f"echo {shlex.quote(f'{first.management_address} {first.host.fqdn} {first.name}')}"
            " >> /etc/hosts"
        )
        if first.host.brick_device is not None:
            host.run(f"mkdir -p {shlex.quote(fs.mount_point)}")
            host.run(
                shlex.join(
                    [
                        "ssm",
                        "create",
                        "-p",
                        fs.pool,
                        "--fstype",
                        fs.fstype,
                        "-n",
                        fs.volume,
                        fs.mount_point,
                        first.host.brick_device,
                    ]
                )
            )
            host.run(
                f"echo UUID=$(blkid -s UUID -o value {shlex.quote(first.host.brick_device)})"
                f" {shlex.quote(fs.mount_point)} {fs.fstype} defaults 0 0 >> /etc/fstab"
            )
        host.run("systemctl enable --now glusterd")
        for volume in plan.existing_volumes:
            brick = volume.bricks[0]
            host.run(f"mkdir -p {shlex.quote(volume.brick_dir)}")
            host.run(
                shlex.join(["gluster", "volume", "create", volume.name, str(brick)])
                + " && "
                + shlex.join(["gluster", "volume", "start", volume.name])
            )
            # The hosted engine's files, as a client wrote them (the seed's engine volume holds
            # its storage domain, a folder named by its UUID).
            mount = f"/tmp/part-one-{volume.name}"
            host.run(
                f"mkdir -p {mount} && mount -t glusterfs localhost:/{volume.name} {mount}"
                f" && mkdir {mount}/de38fb3c-6eb4-4241-9ca8-45793d864033"
                f" && echo part-one > {mount}/__DIRECT_IO_TEST__ && umount {mount}"
            )
        host.run("systemctl enable --now vdsmd ovirt-ha-broker ovirt-ha-agent")
        host.write(
            "/etc/ovirt-hosted-engine/hosted-engine.conf",
            "vmid=00000000-0000-0000-0000-000000000001\n"
            "conf=/etc/ovirt-hosted-engine/vm.conf\nhost_id=1\n",
        )
        host.write(
            "/etc/ovirt-hosted-engine/vm.conf", "vmId=00000000-0000-0000-0000-000000000001\n"
        )
        (shared / "engine.json").write_text(
            json.dumps(
                {
                    "hosts": [1],
                    "in_engine": [first.host.fqdn],
                    "vm": "up",
                    "global_maintenance": False,
                    "runs_on": 1,
                }
            )
        )

    def devices(self, host: confgen.planner.HostPlan) -> list[str]:
        return [host.host.brick_device] if host.host.brick_device else []

    def disks_replaced(self, host: Container) -> None:
        """A host, off, whose brick disk died and a new empty one took its place
        (Machines.new_disks): ssm's stand-in reads the new disk as it is (wipefs); the
        administrator has put `nofail` on the brick filesystem's fstab line (_nofail)."""
        _nofail(host, {self.plan.cluster.gluster.brick_fs.mount_point})

    def steps(self) -> list[confgen.planner.Step]:
        return list(self.plan.steps)

    def check_built(self, cluster: Any, label: str) -> None:
        cluster.check_meta_and_vip(label)

    def change_steps(self, the_change: confgen.ChangePlan) -> list[tuple[str, str]]:
        """Every step of a change, (host, script in the host's folder), in CHANGE.md's order."""
        return [(h, s.script) for s in the_change.steps for h in s.hosts]

    def break_one(self, cluster: Any) -> None:
        cluster.break_vip_holder()

    def boot_order(self) -> tuple[str, ...]:
        """What each host brings up at boot by itself, in this order: glusterd, the meta
        volume's mount, ctdb (which needs the recovery lock on it)."""
        return ("glusterd.service", self.plan.mount_unit, "ctdb.service")

    def check_cycled(self, cluster: Any) -> None:
        cluster.check_ctdb_after_boot("power cycle")

    def as_the_targets_gluster(self, cluster: Any) -> None:
        """The volumes heal their entries as the target's Gluster does. 3.6 has no granular
        entry heal (it came with 3.8), so an entry marked on a folder heals the whole folder,
        which is how --replace's marks copy everything onto a new brick; glusterd 9.0 and later
        turn it on for a new replica volume (v10.3 glusterd-utils.c:13078-13089), and then a
        mark heals only its own name. Turned off here with the CLI glusterd asks for
        (glusterd-op-sm.c:1226-1241), once the volumes are healed."""
        first = self.plan.first.name
        for volume in self.plan.volumes:
            name = shlex.quote(volume.name)
            shown = cluster.on(first, f"gluster volume get {name} cluster.granular-entry-heal")
            if re.search(r"^cluster\.granular-entry-heal\s+on\b", shown, re.MULTILINE):
                cluster.on(first, f"gluster volume heal {name} granular-entry-heal disable")

    def engine_forgets(self, shared: Path, host: confgen.planner.HostPlan) -> None:
        """What the administrator does in the engine's web admin for a host replaced by a new
        machine, before its deploy step (CHANGE.md): the old host removed, by its address."""
        state = json.loads((shared / "engine.json").read_text())
        state["in_engine"] = [a for a in state["in_engine"] if a != host.host.fqdn]
        (shared / "engine.json").write_text(json.dumps(state))

    def engine_up_with(self, shared: Path, host_id: int) -> bool:
        """What the administrator checks on the host before, ahead of a deploy step:
        `hosted-engine --vm-status` there lists it and shows the engine up."""
        state = json.loads((shared / "engine.json").read_text())
        return host_id in state["hosts"] and state["vm"] == "up"

    def admin_env(self, host: str, script: str, shared: Path) -> dict[str, str]:
        """What the administrator gives a step: deploys run without screen (the harness does
        not drop its session), and a deploy's previous host is confirmed once checked."""
        env = {"CONFGEN_WITHOUT_SCREEN": "1"}
        if "hosted-engine-deploy" in script:
            # The host before by ID, as the step names it: IDs may have gaps.
            me = next(h for h in self.plan.hosts if h.name == host)
            lower = [h for h in self.plan.hosts if h.host.host_id < me.host.host_id]
            previous = max(lower, key=lambda h: h.host.host_id, default=None)
            if previous is not None and self.engine_up_with(shared, previous.host.host_id):
                env["CONFGEN_PREVIOUS_DEPLOYED"] = previous.name
        return env


class Ovirt45El9:
    """EL9 with oVirt 4.5 and GlusterFS: the Gluster side of its runbook, for real.

    The steps up to the volumes run (packages, firewall, brick storage, peers, volumes); the
    hosted engine's steps after them need the engine VM, which no container here can run, and
    run on the fake cluster instead (tests/test_scripts_el9.py). firewalld is Debian's real
    daemon; each logical volume of a host is a loop device of its own (see the stand-ins)."""

    name = "ovirt45-el9"
    layer = STAND_INS / "ovirt45-el9"
    shared_dir = "/var/lib/confgen-e2e/shared"
    lv_devices = "/dev/confgen-e2e"  # a device per logical volume, named as it

    def __init__(self, plan: confgen.Plan) -> None:
        self.plan = plan

    def devices(self, host: confgen.planner.HostPlan) -> list[str]:
        """The brick device, and a device for each logical volume the host's brick step makes
        (the engine's thick one, the thin ones; a thin pool is no device)."""
        if not host.host.brick_device:
            return []
        storage = self.plan.brick_storage[host.name]  # type: ignore[attr-defined]
        lvs = [f"{self.lv_devices}/{b.logical_volume}" for b in storage.volumes]
        return [host.host.brick_device, *lvs]

    def steps(self) -> list[confgen.planner.Step]:
        last = self.plan.first_step("volumes").number
        return [step for step in self.plan.steps if step.number <= last]

    def installed(self, host: Container) -> None:
        """A minimal EL9 install: firewalld and NetworkManager enabled and running, no glusterd
        (Debian's is on the tree, as the package step will install it), the stand-ins' state
        of a fresh host."""
        plan_host = next(h for h in self.plan.hosts if h.name == host.name)
        me = _fakehost_el9().fresh_host(self.plan, plan_host)
        virt = (host.merged / "var/lib/glusterd/groups/virt").read_text()
        host.write("/var/lib/el9-standin/state.json", json.dumps({"me": me, "virt_group": virt}))
        host.write(
            "/usr/local/lib/el9-standin/fakehost_el9.py",
            FAKEHOST_EL9.read_text(),
        )
        host.run("systemctl disable --now glusterd")
        host.run("systemctl enable --now firewalld NetworkManager")

    def part_one(self, host: Container, shared: Path) -> None:
        """This target starts from fresh hosts: nothing is left from an earlier part."""

    def disks_replaced(self, host: Container) -> None:
        """A host, off, whose brick disk died and a new empty one took its place
        (Machines.new_disks). The LVM stand-ins know no volume group or logical volume (they
        were on the old disk) and no signature on the new disk; the administrator has put
        `nofail` on the brick filesystems' fstab lines (_nofail)."""
        path = host.merged / "var/lib/el9-standin/state.json"
        state = json.loads(path.read_text())
        me = state["me"]
        me["volume_groups"] = {}
        me["uuids"] = {}
        me["devices"] = {device: "" for device in me["disks"]}
        path.write_text(json.dumps(state))
        storage = self.plan.brick_storage[host.name]  # type: ignore[attr-defined]
        _nofail(host, {v.mount_point for v in storage.volumes})

    def check_built(self, cluster: Any, label: str) -> None:
        cluster.check_bricks_and_firewall(label)

    def change_steps(self, the_change: confgen.ChangePlan) -> list[tuple[str, str]]:
        """The Gluster side of a change: its own steps but the engine's, and the day-1 steps
        of TO up to the volumes (`steps`); the engine's (adding, reinstalling and removing
        hosts through its API) run on the fake cluster."""
        ran = {step.slug for step in self.steps()}
        return [
            (h, s.script)
            for s in the_change.steps
            if (not s.day_one and not s.slug.startswith("engine-")) or s.slug in ran
            for h in s.hosts
        ]

    def break_one(self, cluster: Any) -> None:
        cluster.break_a_brick_host()

    def boot_order(self) -> tuple[str, ...]:
        """glusterd comes up at boot by itself (step 03 enables it)."""
        return ("glusterd.service",)

    def check_cycled(self, cluster: Any) -> None:
        cluster.check_bricks_and_firewall("power cycle")

    def as_the_targets_gluster(self, cluster: Any) -> None:
        """Debian's glusterfs 10.3 is the target's Gluster (10.x)."""

    def engine_forgets(self, shared: Path, host: confgen.planner.HostPlan) -> None:
        """The engine's side of a new machine is the engine-reinstall step's, which runs on
        the fake cluster: this harness runs no engine for this target."""

    def admin_env(self, host: str, script: str, shared: Path) -> dict[str, str]:
        return {}


TARGETS = {Ovirt35El7.name: Ovirt35El7, Ovirt45El9.name: Ovirt45El9}
