"""The plan of ovirt45-el9: its steps, the files each host gets, and the facts its templates
read (each host's brick logical volumes and filesystems, the engine's storage connection and
backup servers, the data storage domains, the firewall zone)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from confgen.components import brick_storage, firewalld, gluster, packages
from confgen.components.brick_storage import BrickMade, BrickStorage, BrickVolume
from confgen.components.gluster import GlusterPlan, Member, VolumePlan
from confgen.paths import BLOCKS, ETC_HOSTS, HOSTS_BLOCK, is_within
from confgen.planner import (
    Check,
    Install,
    NameCheck,
    OutputFile,
    Preflight,
    Source,
    SpaceCheck,
    Step,
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
from confgen.targets.ovirt45_el9 import defaults, failures
from confgen.targets.ovirt45_el9.model import Cluster
from confgen.targets.ovirt45_el9.paths import HOSTED_ENGINE_ANSWERS

TEMPLATES = "ovirt45-el9"


@record
class GlusterDomain:
    """A storage domain on a Gluster volume: mounted from its first brick's host, with the
    hosts of its other bricks as backup volfile servers, so no one host is needed."""

    name: str
    volume: str
    address: str  # the host it is mounted from
    backup_servers: tuple[str, ...]
    bricks: int

    @property
    def path(self) -> str:
        return f"/{self.volume}"

    @property
    def connection(self) -> str:
        """host:/volume, as hosted-engine and vdsm write a Gluster connection."""
        return f"{self.address}:{self.path}"

    @property
    def mount_options(self) -> str:
        return f"backup-volfile-servers={':'.join(self.backup_servers)}"


@record
class El9Plan(GlusterPlan):
    cluster: Cluster
    brick_storage: Mapping[str, BrickStorage]  # by host name
    engine_domain: GlusterDomain
    data_domains: tuple[GlusterDomain, ...]
    # The firewalld zone the services go into: None for the default zone, else a zone whose
    # sources are the cluster's networks.
    firewall_zone: str | None
    firewall_sources: tuple[str, ...]
    firewall_services: tuple[str, ...]  # the services the firewall step opens, in its zone
    firewall_ports: tuple[str, ...]  # and the ports, in firewalld's form: 8080/tcp, 5900-6923/tcp


def _domain(volume: VolumePlan) -> GlusterDomain:
    peers = list(dict.fromkeys(brick.peer for brick in volume.bricks))
    return GlusterDomain(
        name=volume.name,
        volume=volume.name,
        address=peers[0],
        backup_servers=tuple(peers[1:]),
        bricks=len(volume.bricks),
    )


def _installs(cluster: Cluster, hosts: tuple[Member, ...]) -> dict[str, tuple[Install, ...]]:
    """The files each host's steps install: on a RHEL rebuild, CentOS Stream's
    extras-common repository and the stream it names."""
    if not cluster.packages.rhel_rebuild:
        return {}
    rebuild = (
        Install(
            steps=("install-packages",),
            target=defaults.EXTRAS_COMMON_REPO,
            mode=0o644,
            template=f"{TEMPLATES}/extras-common.repo.j2",
        ),
        Install(
            steps=("install-packages",),
            target=defaults.STREAM_VAR,
            mode=0o644,
            template=f"{TEMPLATES}/stream.j2",
        ),
    )
    return {h.name: rebuild for h in hosts}


def _files(hosts: tuple[Member, ...]) -> list[OutputFile]:
    """The files of the tree that no step installs with install_file: the runbook, the
    /etc/hosts block, and the answers the deploy reads."""
    files = [OutputFile(path="RUNBOOK.md", template=f"{TEMPLATES}/RUNBOOK.md.j2", mode=0o644)]
    for host in hosts:

        def out(kind: str, path: str, template: str, h: str = host.name) -> None:
            files.append(
                OutputFile(path=f"hosts/{h}/{kind}{path}", template=template, mode=0o644, host=h)
            )

        out(BLOCKS, f"{ETC_HOSTS}/{HOSTS_BLOCK}", "common/hosts.j2")
        if host.is_first:
            files.append(
                OutputFile(
                    path=f"{host.dir}/{HOSTED_ENGINE_ANSWERS}",
                    template=f"{TEMPLATES}/hosted-engine-answers.conf.j2",
                    mode=0o644,
                    host=host.name,
                )
            )
    return files


def _brick_storage(cluster: Cluster, host: Member, volumes: tuple[VolumePlan, ...]) -> BrickStorage:
    fs = cluster.gluster.brick_fs
    engine = cluster.hosted_engine.volume
    sizes = {v.name: cluster.brick_size(v) for v in cluster.gluster.all_volumes}
    held = [
        BrickVolume(
            volume=v.name,
            logical_volume=fs.logical_volume(v.name),
            device=f"/dev/{fs.volume_group}/{fs.logical_volume(v.name)}",
            thin=v.name != engine,
            size=sizes[v.name],
            mount_point=fs.volume_mount_point(v.name),
            brick_dir=v.brick_dir,
        )
        for v in volumes
        if any(b.host == host.name for b in v.bricks)
    ]
    return BrickStorage(
        device=brick_storage.device_of(host.host),
        thick=tuple(b for b in held if not b.thin),
        thin=tuple(b for b in held if b.thin),
    )


def _names(cluster: Cluster, hosts: tuple[Member, ...]) -> tuple[NameCheck, ...]:
    """The names step 00 and the deploy check. The engine VM resolves names through DNS alone
    (the deploy writes only the engine and the first host into its /etc/hosts:
    ovirt-ansible-collection roles/hosted_engine_setup/tasks/bootstrap_local_vm/
    03_hosted_engine_final_tasks.yml), and it must resolve every host it adds: each host's
    FQDN must be in DNS, forward and reverse. The engine's own name must resolve through DNS;
    the file gives no address for it."""
    engine = NameCheck(name=cluster.hosted_engine.fqdn, addresses=(), dns=True, reverse=False)
    return (*gluster.names(hosts, dns=True), engine)


def _preflight(cluster: Cluster, host: Member) -> Preflight:
    space: tuple[SpaceCheck, ...] = ()
    if host.is_first:
        space = (
            SpaceCheck(
                path=defaults.DEPLOY_TMP,
                kib=defaults.DEPLOY_TMP_KIB,
                needed_by="hosted-engine --deploy extracts the engine appliance there",
            ),
        )
    return Preflight(
        nics=nic_checks(cluster, host, defaults.MANAGEMENT_BRIDGE),
        space=space,
    )


def plan(cluster: Cluster, source: Source | None) -> El9Plan:
    volumes = cluster.gluster.all_volumes
    brick_dir = {v.name: cluster.gluster.brick_dir(v) for v in volumes}
    hosts = gluster.members(cluster, host_plans(cluster), volumes, brick_dir)
    steps = number_steps(defaults.STEPS, TEMPLATES, hosts, gluster.STEP_TEMPLATES)
    volume_list = gluster.volume_plans(volumes, brick_dir, hosts)
    engine = next(v for v in volume_list if v.name == cluster.hosted_engine.volume)
    firewall = cluster.firewall
    storage = {h.name: _brick_storage(cluster, h, volume_list) for h in hosts}
    zone = defaults.FIREWALL_ZONE if firewall.cluster_networks_only else None
    steps = with_failures(
        steps,
        failures.failures(
            steps,
            hosts,
            volume_list,
            engine_volume=engine.name,
            volume_group=cluster.gluster.brick_fs.volume_group,
            device_of={name: s.device for name, s in storage.items()},
            mounts_of={
                name: tuple(b.mount_point for b in s.volumes) for name, s in storage.items()
            },
            firewall_zone=zone,
        ),
    )
    installs = _installs(cluster, hosts)
    files = (
        _files(hosts)
        + install_files(installs)
        + script_files(hosts, steps)
        + undo_files(steps, failures.UNDO_TEMPLATES)
    )
    the_plan = El9Plan(
        cluster=cluster,
        source=source,
        hosts=hosts,
        volumes=volume_list,
        steps=steps,
        names=_names(cluster, hosts),
        preflight={h.name: _preflight(cluster, h) for h in hosts},
        # The brick step leaves the device alone once its volume group exists.
        brick_made=BrickMade(
            command=("vgs", cluster.gluster.brick_fs.volume_group),
            what=f"the LVM volume group {cluster.gluster.brick_fs.volume_group}",
        ),
        brick_storage=storage,
        installs=installs,
        files=tuple(sorted(files, key=lambda f: f.path)),
        engine_domain=_domain(engine),
        data_domains=tuple(_domain(v) for v in volume_list if v is not engine),
        firewall_zone=zone,
        firewall_sources=firewalld.sources(cluster.networks)
        if firewall.cluster_networks_only
        else (),
        firewall_services=_firewall_services(cluster),
        firewall_ports=_firewall_ports(cluster),
    )
    return replace(the_plan, steps=tuple(replace(s, checks=_checks(the_plan, s)) for s in steps))


def _checks(the_plan: El9Plan, step: Step) -> tuple[Check, ...]:
    """What the runbook says to check after `step`, before the next
    (each component holds its own checks)."""
    first = the_plan.first
    hosts = tuple(h for h in the_plan.hosts if h.name in step.hosts)
    on = every_host(hosts)
    cluster = the_plan.cluster
    if step.slug == "install-packages":
        # systemctl is-active prints one state a unit (systemctl(1)).
        return (
            packages.installed(on, cluster.packages.install),
            Check(
                on=on,
                command="systemctl is-active NetworkManager firewalld chronyd",
                shows=("active",),
                not_shows=("inactive", "failed"),
                note="`active` three times",
            ),
        )
    if step.slug == "firewall":
        return (firewalld.services_open(on, the_plan.firewall_zone, the_plan.firewall_services),)
    if step.slug == "brick-storage":
        # findmnt -t xfs lists the XFS mounts, the brick filesystems among them (findmnt(8)).
        return (
            gluster.glusterd_running(on),
            Check(
                on=on,
                command=shlex.join(["findmnt", "-t", "xfs"]),
                note=f"lists `{cluster.gluster.brick_fs.mount_point}/VOLUME` for each volume the "
                "host holds a brick of",
            ),
        )
    if step.slug == "peer-probe":
        return (gluster.peers_connected(first.name, len(the_plan.hosts) - 1),)
    if step.slug == "peer-probe-back":
        return (gluster.peer_known_by_name(on, first.peer),)
    if step.slug == "volumes":
        return gluster.volumes_started(first.name, the_plan.volumes)
    if step.slug == "hosted-engine-deploy":
        # hosted-engine --vm-status prints each host's "Engine status" as the HA agent stores
        # it, a JSON object with "vm" and "health" (ovirt-hosted-engine-setup 2.7.2
        # src/ovirt_hosted_engine_setup/vm_status.py:47,107-121).
        return (
            Check(
                on=first.name,
                command="hosted-engine --vm-status",
                shows=('"vm": "up"', '"health": "good"'),
                note="in the `Engine status` of one host",
            ),
        )
    if step.slug == "add-hosts":
        # "--== Host {hostname} (id: {host_id}) status ==--" a host (vm_status.py:107-110).
        engine = the_plan.volume(cluster.hosted_engine.volume)
        return (
            Check(
                on=first.name,
                command="hosted-engine --vm-status",
                shows=tuple(f"(id: {h.host.host_id}) status ==--" for h in the_plan.hosts),
                note="a section for every host",
            ),
            *gluster.volumes_healed(first.name, (engine,)),
        )
    if step.slug == "data-domains":
        return (
            Check(
                on="the Administration Portal",
                note="Storage → Domains lists "
                + ", ".join(f"`{d.name}`" for d in the_plan.data_domains)
                + " with the status Active in the data center "
                + f"`{cluster.hosted_engine.data_center}`",
            ),
        )
    return ()


def _firewall_services(cluster: Cluster) -> tuple[str, ...]:
    """The target's services; in a zone of the cluster's own, also what the engine's host
    deploy opens in the default zone (see defaults.ENGINE_HOST_DEPLOY_SERVICES)."""
    services = cluster.firewall.services
    if cluster.firewall.cluster_networks_only:
        services += defaults.ENGINE_HOST_DEPLOY_SERVICES
    return tuple(dict.fromkeys(services))


def _firewall_ports(cluster: Cluster) -> tuple[str, ...]:
    own = firewalld.ports(cluster.firewall.extra_rules)
    if cluster.firewall.cluster_networks_only:
        own = defaults.ENGINE_HOST_DEPLOY_PORTS + own
    return tuple(dict.fromkeys(own))


def self_check(the_plan: El9Plan) -> list[str]:
    """What glusterd, vdsm and mount would refuse in a plan (see the seed's `self_check`)."""
    failures = gluster.brick_check(the_plan)
    for volume in the_plan.volumes:
        if volume.replica != defaults.REPLICA:
            failures.append(f"volume {volume.name} is replica {volume.replica}, not 3")
        for replica_set in volume.replica_sets:
            if len({b.host for b in replica_set}) != len(replica_set):
                failures.append(f"volume {volume.name} has a replica set on one host twice")
    engine = the_plan.volume(the_plan.cluster.hosted_engine.volume)
    if len(engine.replica_sets) != 1:
        failures.append(f"the engine's volume {engine.name} is not one replica set")
    if not the_plan.engine_domain.backup_servers:
        failures.append("the engine's storage has no backup volfile servers")
    fs = the_plan.cluster.gluster.brick_fs
    if fs.mount_point == "/":
        failures.append("a mount over /")
    for host in the_plan.hosts:
        storage = the_plan.brick_storage[host.name]
        held = storage.volumes
        if sorted(b.brick_dir for b in held) != sorted(host.brick_dirs):
            failures.append(f"{host.name}: logical volumes for other volumes than its bricks'")
        if any(not b.thin for b in storage.thin) or any(b.thin for b in storage.thick):
            failures.append(f"{host.name}: a thin logical volume among the thick or the reverse")
        if any(b.volume == the_plan.cluster.hosted_engine.volume for b in storage.thin):
            failures.append(f"{host.name}: the hosted engine's brick on a thin logical volume")
        names = [b.logical_volume for b in held] + ([fs.thin_pool] if storage.thin else [])
        if len(set(names)) != len(names):
            failures.append(f"{host.name}: two logical volumes named alike: {names}")
        for brick in held:
            # glusterd refuses a brick at the root of a mount; each brick on its own filesystem.
            if not is_within(brick.brick_dir, brick.mount_point) or (
                brick.brick_dir == brick.mount_point
            ):
                failures.append(
                    f"{host.name}: brick {brick.brick_dir} is not in {brick.mount_point}"
                )
            for other in held:
                if other is not brick and is_within(brick.brick_dir, other.mount_point):
                    failures.append(
                        f"{host.name}: brick {brick.brick_dir} is on {other.volume}'s filesystem"
                    )
    if gluster.STORAGE not in the_plan.hosts[0].addresses:
        failures.append("no storage address")
    return failures
