"""The seed's plan: its steps in the seed's order, the files each host gets, and the facts
its templates read (the CTDB node list, the VIP lines, the meta volume's unit)."""

from __future__ import annotations

import shlex
from ipaddress import IPv4Address

from confgen.components import ctdb, gluster, iptables, packages, selinux
from confgen.components.brick_storage import BrickMade
from confgen.components.gluster import GlusterPlan, Member
from confgen.paths import BLOCKS, ETC_HOSTS, HOSTS_BLOCK, SYSTEMD_DIR, is_within
from confgen.planner import (
    PREFLIGHT_STEP,
    Check,
    Install,
    NameCheck,
    OutputFile,
    Preflight,
    Source,
    Step,
    StepSpec,
    every_host,
    host_plans,
    install_files,
    nic_checks,
    number_steps,
    script_files,
    undo_files,
    with_failures,
)
from confgen.records import record, replace
from confgen.systemd import mount_unit_name
from confgen.targets.ovirt35_el7 import defaults, failures
from confgen.targets.ovirt35_el7.model import Cluster
from confgen.targets.ovirt35_el7.paths import (
    CTDB_SERVICE,
    HOSTED_ENGINE_ANSWERS,
    IPTABLES,
    META_VOLUME_READY_SERVICE,
    MOUNT_NAME_BLOCK,
    NFSMOUNT_CONF,
)

TEMPLATES = "ovirt35-el7"


@record
class SeedPlan(GlusterPlan):
    cluster: Cluster
    nodes: tuple[str, ...]  # the CTDB nodes file's lines (`ctdb.nodes`)
    public_addresses: tuple[str, ...]  # `VIP/prefix nic` lines
    mount_vip: IPv4Address  # the VIP the NFS mount name resolves to
    mount_unit: str  # the meta volume's mount unit, named from its mount point
    firewall_groups: tuple[iptables.FirewallGroup, ...]

    @property
    def engine_storage(self) -> str:
        """The NFS share the hosted engine mounts, through the VIP: ovirtmount.osas.lab:/engine."""
        return f"{self.cluster.ctdb.mount_hostname}:/{self.cluster.hosted_engine.volume}"


def _steps(hosts: tuple[Member, ...]) -> list[StepSpec]:
    """Step 00, the seed's procedure (`defaults.STEPS`), then the deploy steps of each other
    host."""
    specs = [PREFLIGHT_STEP, *(StepSpec(**step._asdict()) for step in defaults.STEPS)]
    for host in hosts:
        if host.is_first:
            continue
        for step in defaults.ADDITIONAL_HOST_STEPS:
            specs.append(
                StepSpec(
                    key=step.key.format(host=host.name),
                    slug=step.slug,
                    on=(host.name,),
                    after=(specs[-1].key,),
                    title=step.title.format(host=host.name),
                )
            )
    return specs


def _installs(
    cluster: Cluster, hosts: tuple[Member, ...], mount_unit: str
) -> dict[str, tuple[Install, ...]]:
    """The files each host's steps install, in the order each step installs them."""
    meta = cluster.ctdb.meta_dir

    def install(step: str, target: str, template: str, mode: int = 0o644) -> Install:
        return Install(steps=(step,), target=target, mode=mode, template=f"{TEMPLATES}/{template}")

    every = (
        # hosted-engine --deploy replaces the rules: restore-firewall puts them back.
        replace(
            install("firewall", IPTABLES, "iptables.j2", 0o600),
            steps=("firewall", "restore-firewall"),
        ),
        install("nfsmount-conf", NFSMOUNT_CONF, "nfsmount.conf.j2"),
        install("systemd-units", f"{SYSTEMD_DIR}/{mount_unit}", "meta.mount.j2"),
        install(
            "systemd-units",
            f"{SYSTEMD_DIR}/{META_VOLUME_READY_SERVICE}",
            "meta-volume-ready.service.j2",
        ),
        install("systemd-units", f"{SYSTEMD_DIR}/{CTDB_SERVICE}", "ctdb.service.j2"),
    )
    # The first host writes CTDB's configuration onto the shared meta volume; the others
    # link to it there.
    ctdb_conf = (
        install("ctdb", f"{meta}/ctdb", "ctdb.sysconfig.j2"),
        install("ctdb", f"{meta}/nodes", "nodes.j2"),
        install("ctdb", f"{meta}/public_addresses", "public_addresses.j2"),
    )
    return {h.name: every + ctdb_conf if h.is_first else every for h in hosts}


def _files(hosts: tuple[Member, ...]) -> list[OutputFile]:
    """The files of the tree that no step installs with install_file: the runbook, the
    /etc/hosts blocks, and the data the steps read."""
    files = [OutputFile(path="RUNBOOK.md", template=f"{TEMPLATES}/RUNBOOK.md.j2", mode=0o644)]
    for host in hosts:

        def out(kind: str, path: str, template: str, h: str = host.name) -> None:
            files.append(
                OutputFile(path=f"hosts/{h}/{kind}{path}", template=template, mode=0o644, host=h)
            )

        # Two blocks of /etc/hosts: the hosts' names from the start, the NFS mount name only
        # once CTDB hosts the VIP it points to.
        out(BLOCKS, f"{ETC_HOSTS}/{HOSTS_BLOCK}", "common/hosts.j2")
        out(BLOCKS, f"{ETC_HOSTS}/{MOUNT_NAME_BLOCK}", f"{TEMPLATES}/hosts-mount-name.j2")
        if not host.is_first:
            files.append(
                OutputFile(
                    path=f"{host.dir}/{HOSTED_ENGINE_ANSWERS}",
                    template=f"{TEMPLATES}/hosted-engine-answers.conf.j2",
                    mode=0o644,
                    host=host.name,
                )
            )
    return files


def _names(cluster: Cluster, hosts: tuple[Member, ...], vip: IPv4Address) -> tuple[NameCheck, ...]:
    """The names step 00 gluster. The seed writes every host into /etc/hosts at step 01 ("If
    need be, edit /etc/hosts on your machines", part two) and the NFS mount name once CTDB
    hosts its VIP: before that a name may be unknown, and DNS is not required; but wherever
    one resolves, it must resolve to its address (a stale /etc/hosts line or DNS record
    would win over the block the steps add). The mount name points at the first host from
    part one until the CTDB steps move it to the VIP ("associated that host name with the IP
    address of our first host"), so either is right."""
    first = next(h for h in hosts if h.is_first)
    mount = NameCheck(
        name=cluster.ctdb.mount_hostname,
        addresses=(vip, first.management_address),
        dns=False,
        reverse=False,
    )
    return (*gluster.names(hosts, dns=False), mount)


def plan(cluster: Cluster, source: Source | None) -> SeedPlan:
    volumes = cluster.gluster.all_volumes
    brick_dir = {v.name: cluster.gluster.brick_dir(v) for v in volumes}
    hosts = gluster.members(cluster, host_plans(cluster), volumes, brick_dir)
    steps = number_steps(_steps(hosts), TEMPLATES, hosts, gluster.STEP_TEMPLATES)
    mount_unit = mount_unit_name(cluster.ctdb.mount_point)
    volume_list = gluster.volume_plans(
        volumes, brick_dir, hosts, existing=(v.name for v in volumes if v.existing)
    )
    steps = with_failures(
        steps,
        failures.failures(
            steps,
            hosts,
            volume_list,
            meta_volume=cluster.ctdb.meta_volume,
            meta_mount=cluster.ctdb.mount_point,
            brick_mount=cluster.gluster.brick_fs.mount_point,
            pool=cluster.gluster.brick_fs.pool,
        ),
    )
    installs = _installs(cluster, hosts, mount_unit)
    files = (
        _files(hosts)
        + install_files(installs)
        + script_files(hosts, steps)
        + undo_files(steps, failures.UNDO_TEMPLATES)
    )
    the_plan = SeedPlan(
        cluster=cluster,
        source=source,
        hosts=hosts,
        volumes=volume_list,
        steps=steps,
        files=tuple(sorted(files, key=lambda f: f.path)),
        names=_names(cluster, hosts, cluster.ctdb.vips[0].address.ip),
        # The brick step leaves the device alone once the brick filesystem is mounted.
        brick_made=BrickMade(
            command=("mountpoint", "-q", cluster.gluster.brick_fs.mount_point),
            what=f"the brick filesystem mounted at {cluster.gluster.brick_fs.mount_point}",
        ),
        preflight={
            h.name: Preflight(
                nics=nic_checks(cluster, h, defaults.MANAGEMENT_BRIDGE),
                # No space the seed's steps need is written down anywhere: none is checked.
                space=(),
            )
            for h in hosts
        },
        nodes=ctdb.nodes(hosts, cluster.ctdb.retired_host_ids),
        public_addresses=ctdb.public_addresses(cluster.ctdb),
        mount_vip=cluster.ctdb.vips[0].address.ip,
        mount_unit=mount_unit,
        firewall_groups=iptables.groups(cluster.firewall.rules),
        installs=installs,
    )
    return replace(the_plan, steps=tuple(replace(s, checks=_checks(the_plan, s)) for s in steps))


def _checks(the_plan: SeedPlan, step: Step) -> tuple[Check, ...]:
    """What the runbook says to check after `step`, before the next
    (each component holds its own checks)."""
    first = the_plan.first
    hosts = tuple(h for h in the_plan.hosts if h.name in step.hosts)
    on = every_host(hosts)
    cluster = the_plan.cluster
    # hosted-engine --vm-status of ovirt-hosted-engine-setup 1.2 (src/ovirt_hosted_engine_setup/
    # vm_status.py:83-110): "!! Cluster is in GLOBAL MAINTENANCE mode !!" while it is, then
    # "--== Host N status ==--" and each host's "Engine status", the HA agent's JSON.
    maintenance = "!! Cluster is in GLOBAL MAINTENANCE mode !!"
    if step.slug == "selinux-and-hosts":
        return (selinux.mode(on, "Permissive"),)
    if step.slug == "stop-engine":
        # The step stops the HA agent and broker (which --vm-status asks) and vdsmd; the
        # engine's storage is unmounted with them.
        return (
            Check(
                on=first.name,
                command="systemctl is-active ovirt-ha-agent ovirt-ha-broker vdsmd",
                shows=("inactive",),
                note="`inactive` for each",
            ),
        )
    if step.slug == "install-packages":
        return (
            packages.installed(on, cluster.packages.install),
            Check(
                on=on,
                command="systemctl is-active iptables",
                shows=("active",),
                not_shows=("inactive", "failed"),
            ),
        )
    if step.slug in ("firewall", "restore-firewall"):
        last = the_plan.firewall_groups[-1].rules[-1]
        return (iptables.rules_loaded(on, last, IPTABLES),)
    if step.slug == "brick-storage":
        return (
            gluster.glusterd_running(on),
            # mountpoint(1): "PATH is a mountpoint" (util-linux sys-utils/mountpoint.c).
            Check(
                on=on,
                command=shlex.join(["mountpoint", cluster.gluster.brick_fs.mount_point]),
                shows=(f"{cluster.gluster.brick_fs.mount_point} is a mountpoint",),
            ),
        )
    if step.slug == "peer-probe":
        return (gluster.peers_connected(first.name, len(the_plan.hosts) - 1),)
    if step.slug == "add-bricks":
        return gluster.volumes_started(first.name, the_plan.existing_volumes)
    if step.slug == "heal-workaround":
        return gluster.volumes_healed(first.name, the_plan.existing_volumes)
    if step.slug == "nfsmount-conf":
        return (
            Check(
                on=on,
                command=shlex.join(["grep", "-x", "Lock=False", NFSMOUNT_CONF]),
                shows=("Lock=False",),
            ),
        )
    if step.slug == "new-volumes":
        return (
            *gluster.volumes_started(first.name, the_plan.new_volumes),
            Check(
                on=first.name,
                command=shlex.join(["mountpoint", cluster.ctdb.mount_point]),
                shows=(f"{cluster.ctdb.mount_point} is a mountpoint",),
            ),
        )
    if step.slug == "ctdb":
        return (ctdb.vips_held(on, cluster.ctdb),)
    if step.slug == "systemd-units":
        # is-enabled prints "enabled" for a unit enabled at boot (systemctl(1)).
        return (
            Check(
                on=on,
                command=shlex.join(["systemctl", "is-enabled", the_plan.mount_unit, CTDB_SERVICE]),
                shows=("enabled",),
                not_shows=("disabled",),
            ),
        )
    if step.slug == "start-engine":
        return (
            Check(
                on=first.name,
                command="hosted-engine --vm-status",
                shows=('"vm": "up"', '"health": "good"'),
                not_shows=(maintenance,),
            ),
        )
    if step.slug == "hosted-engine-deploy":
        host = hosts[0]
        return (
            Check(
                on=host.name,
                command="hosted-engine --vm-status",
                shows=(f"--== Host {host.host.host_id} status ==--",),
            ),
        )
    return ()


def self_check(the_plan: SeedPlan) -> list[str]:
    """What the real programs would refuse in a plan, checked on the plan itself.

    `validate` holds the cluster file to these rules already; this checks that the plan made
    of it keeps them, as Butane validates the config it emits, so a planning bug is caught
    here rather than by glusterd or systemd on a host.
    """
    failures = gluster.brick_check(the_plan)
    for volume in the_plan.existing_volumes:
        if volume.replica < 2 or not volume.bricks or volume.bricks[0].host != the_plan.first.name:
            failures.append(
                f"volume {volume.name} exists but does not grow from {the_plan.first.name}"
            )
    fs = the_plan.cluster.gluster.brick_fs.mount_point
    meta = the_plan.cluster.ctdb.mount_point
    for mount_point in (fs, meta):
        if mount_point == "/":
            failures.append("a mount over /")
    if is_within(fs, meta) or is_within(meta, fs):
        failures.append(f"the mounts {fs} and {meta} nest")
    if the_plan.mount_unit != mount_unit_name(meta) or the_plan.mount_unit in ("-.mount", ".mount"):
        failures.append(f"mount unit {the_plan.mount_unit} is not named after {meta}")
    return failures
