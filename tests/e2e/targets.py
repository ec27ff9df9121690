"""What a target's hosts have before the runbook starts, on the end-to-end cluster.

One class per target: the overlay layer of stand-ins for what Debian cannot have, the state of
a freshly installed host, the state part one of the procedure leaves on the first host, and
what an administrator types or confirms while following the runbook. machines.py and
cluster.py know no target.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import confgen

from .machines import Container

STAND_INS = Path(__file__).resolve().parent / "standins"


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
            json.dumps({"hosts": [1], "vm": "up", "global_maintenance": False, "runs_on": 1})
        )

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
            me = next(h for h in self.plan.hosts if h.name == host)
            previous = next(
                (h for h in self.plan.hosts if h.host.host_id == me.host.host_id - 1), None
            )
            if previous is not None and self.engine_up_with(shared, previous.host.host_id):
                env["CONFGEN_PREVIOUS_DEPLOYED"] = previous.name
        return env


TARGETS = {Ovirt35El7.name: Ovirt35El7}
