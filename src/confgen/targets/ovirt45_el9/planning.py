"""The plan of ovirt45-el9: its steps, the files each host gets, and the facts its templates
read (the engine's storage connection and backup servers, the data storage domains, the
firewall zone)."""

from __future__ import annotations

from confgen.models import Role
from confgen.paths import BLOCKS, DATA, ETC_HOSTS, FILES, HOSTS_BLOCK
from confgen.planner import (
    HostPlan,
    OutputFile,
    Plan,
    Source,
    VolumePlan,
    brick_check,
    host_plans,
    number_steps,
    script_files,
    volume_plans,
)
from confgen.records import record
from confgen.targets.ovirt45_el9 import defaults
from confgen.targets.ovirt45_el9.model import Cluster

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
class El9Plan(Plan):
    cluster: Cluster
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


def _files(cluster: Cluster, hosts: tuple[HostPlan, ...]) -> list[OutputFile]:
    files = [OutputFile(path="RUNBOOK.md", template=f"{TEMPLATES}/RUNBOOK.md.j2", mode=0o644)]
    for host in hosts:

        def out(kind: str, path: str, template: str, h: str = host.name) -> None:
            files.append(
                OutputFile(path=f"hosts/{h}/{kind}{path}", template=template, mode=0o644, host=h)
            )

        out(BLOCKS, f"{ETC_HOSTS}/{HOSTS_BLOCK}", "common/hosts.j2")
        if cluster.packages.rhel_rebuild:
            out(FILES, defaults.EXTRAS_COMMON_REPO, f"{TEMPLATES}/extras-common.repo.j2")
            out(FILES, defaults.STREAM_VAR, f"{TEMPLATES}/stream.j2")
        if host.is_first:
            out(DATA, "/hosted-engine-answers.conf", f"{TEMPLATES}/hosted-engine-answers.conf.j2")
    return files


def plan(cluster: Cluster, source: Source | None) -> El9Plan:
    volumes = cluster.gluster.all_volumes
    brick_dir = {v.name: cluster.gluster.brick_dir(v) for v in volumes}
    hosts = host_plans(cluster, volumes, brick_dir)
    steps = number_steps(defaults.STEPS, TEMPLATES, hosts)
    volume_list = volume_plans(volumes, brick_dir, hosts)
    engine = next(v for v in volume_list if v.name == cluster.hosted_engine.volume)
    firewall = cluster.firewall
    return El9Plan(
        cluster=cluster,
        source=source,
        hosts=hosts,
        volumes=volume_list,
        steps=steps,
        files=tuple(
            sorted(_files(cluster, hosts) + script_files(hosts, steps), key=lambda f: f.path)
        ),
        engine_domain=_domain(engine),
        data_domains=tuple(_domain(v) for v in volume_list if v is not engine),
        firewall_zone=defaults.FIREWALL_ZONE if firewall.cluster_networks_only else None,
        firewall_sources=tuple(str(n.cidr) for n in cluster.networks)
        if firewall.cluster_networks_only
        else (),
        firewall_services=_firewall_services(cluster),
        firewall_ports=_firewall_ports(cluster),
    )


def _firewall_services(cluster: Cluster) -> tuple[str, ...]:
    """The target's services; in a zone of the cluster's own, also what the engine's host
    deploy opens in the default zone (see defaults.ENGINE_HOST_DEPLOY_SERVICES)."""
    services = cluster.firewall.services
    if cluster.firewall.cluster_networks_only:
        services += defaults.ENGINE_HOST_DEPLOY_SERVICES
    return tuple(dict.fromkeys(services))


def _firewall_ports(cluster: Cluster) -> tuple[str, ...]:
    own = tuple(
        f"{r.ports.first}{'' if r.ports.first == r.ports.last else f'-{r.ports.last}'}"
        f"/{r.protocol.value}"
        for r in cluster.firewall.extra_rules
    )
    if cluster.firewall.cluster_networks_only:
        own = defaults.ENGINE_HOST_DEPLOY_PORTS + own
    return tuple(dict.fromkeys(own))


def self_check(the_plan: El9Plan) -> list[str]:
    """What glusterd, vdsm and mount would refuse in a plan (see the seed's `self_check`)."""
    failures = brick_check(the_plan)
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
    fs = the_plan.cluster.gluster.brick_fs.mount_point
    if fs == "/":
        failures.append("a mount over /")
    if Role.STORAGE not in the_plan.hosts[0].addresses:
        failures.append("no storage address")
    return failures
