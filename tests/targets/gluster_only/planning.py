"""gluster-only's plan: its steps (EL9's templates and Gluster's), each host's brick storage,
the firewalld services, and its plan as the templates' data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from confgen.components import brick_storage, firewalld, gluster
from confgen.components.brick_storage import BrickMade, BrickStorage, BrickVolume
from confgen.components.gluster import GlusterPlan, Member, VolumePlan
from confgen.context import paths_data, plan_data
from confgen.paths import BLOCKS, ETC_HOSTS, HOSTS_BLOCK
from confgen.planner import (
    PREFLIGHT_STEP,
    OutputFile,
    Preflight,
    Source,
    Step,
    StepFailure,
    StepSpec,
    nic_checks,
    number_steps,
    script_files,
    with_failures,
)
from confgen.records import record
from confgen.targets.ovirt45_el9 import defaults as el9
from confgen.targets.ovirt45_el9 import paths as el9_paths
from confgen.targets.ovirt45_el9.context import brick_fs
from targets.gluster_only.model import SERVICES, Cluster

# The steps run EL9's templates, and Gluster's own for the pool.
TEMPLATES = "ovirt45-el9"
STEPS: tuple[StepSpec, ...] = (
    PREFLIGHT_STEP,
    StepSpec(
        key="packages",
        slug="install-packages",
        on="every",
        after=("preflight",),
        title="GlusterFS 10's repository and packages; /etc/hosts names every host",
    ),
    StepSpec(
        key="firewall",
        slug="firewall",
        on="every",
        after=("packages",),
        title="Open firewalld's glusterfs service, permanently",
    ),
    StepSpec(
        key="bricks",
        slug="brick-storage",
        on="every",
        after=("firewall",),
        title="A brick filesystem per volume (LVM thin, XFS by UUID), SELinux labels, glusterd",
    ),
    StepSpec(
        key="probe", slug="peer-probe", on="first", after=("bricks",), title="Probe the others"
    ),
    StepSpec(
        key="probe-back",
        slug="peer-probe-back",
        on="second",
        after=("probe",),
        title="Probe the first host back by its name",
    ),
    StepSpec(
        key="volumes",
        slug="volumes",
        on="first",
        after=("probe-back",),
        title="Create the volumes replica 3 and start them",
    ),
)
DATA_BRICK_SIZE = "10G"


@record
class GlusterOnlyPlan(GlusterPlan):
    cluster: Cluster
    brick_storage: Mapping[str, BrickStorage]  # by host name


def _storage(cluster: Cluster, host: Member, volumes: tuple[VolumePlan, ...]) -> BrickStorage:
    fs = cluster.gluster.brick_fs
    sizes = {v.name: v.size or DATA_BRICK_SIZE for v in cluster.gluster.all_volumes}
    return BrickStorage(
        device=brick_storage.device_of(host.host),
        thick=(),
        thin=tuple(
            BrickVolume(
                volume=v.name,
                logical_volume=fs.logical_volume(v.name),
                device=f"/dev/{fs.volume_group}/{fs.logical_volume(v.name)}",
                thin=True,
                size=sizes[v.name],
                mount_point=fs.volume_mount_point(v.name),
                brick_dir=v.brick_dir,
            )
            for v in volumes
            if any(b.host == host.name for b in v.bricks)
        ),
    )


def _failure(step: Step) -> StepFailure:
    return StepFailure(
        state=f"Step {step.label} stopped part way.",
        retry="Run it again: it does what is left.",
        undo="Nothing to take back before running it again.",
    )


def plan(cluster: Cluster, source: Source | None) -> GlusterOnlyPlan:
    from confgen.planner import host_plans

    volumes = cluster.gluster.all_volumes
    brick_dir = {v.name: cluster.gluster.brick_dir(v) for v in volumes}
    hosts = gluster.members(cluster, host_plans(cluster), volumes, brick_dir)
    steps = number_steps(STEPS, TEMPLATES, hosts, gluster.STEP_TEMPLATES)
    steps = with_failures(steps, [_failure(s) for s in steps])
    volume_list = gluster.volume_plans(volumes, brick_dir, hosts)
    hosts_block = [
        OutputFile(
            path=f"{h.dir}/{BLOCKS}{ETC_HOSTS}/{HOSTS_BLOCK}",
            template="common/hosts.j2",
            mode=0o644,
            host=h.name,
        )
        for h in hosts
    ]
    files = hosts_block + script_files(hosts, steps)
    return GlusterOnlyPlan(
        cluster=cluster,
        source=source,
        hosts=hosts,
        volumes=volume_list,
        steps=steps,
        files=tuple(sorted(files, key=lambda f: f.path)),
        names=tuple(gluster.names(hosts, dns=False)),
        preflight={
            h.name: Preflight(
                nics=nic_checks(cluster, h, bridge=None),  # no bridge takes the NIC's address
                space=(),
            )
            for h in hosts
        },
        brick_made=BrickMade(
            command=("vgs", cluster.gluster.brick_fs.volume_group),
            what=f"the LVM volume group {cluster.gluster.brick_fs.volume_group}",
        ),
        brick_storage={h.name: _storage(cluster, h, volume_list) for h in hosts},
    )


def self_check(the_plan: GlusterOnlyPlan) -> list[str]:
    return gluster.brick_check(the_plan)


def context(p: GlusterOnlyPlan) -> dict[str, Any]:
    c = p.cluster
    return {
        "cluster": {
            "gluster": {
                "brick_fs": brick_fs(c.gluster.brick_fs),
                "volume_group": el9.VM_VOLUME_GROUP,
                "volume_options": [],
            },
            "packages": {
                "rhel_rebuild": c.packages.rhel_rebuild,
                "rhel_repositories": [],
                "release": list(c.packages.release),
                "install": list(c.packages.install),
                "stream": el9.STREAM,
            },
        },
        "plan": {
            **plan_data(p, gluster.member_data),
            **gluster.plan_data(p),
            "brick_storage": {name: brick_storage.data(s) for name, s in p.brick_storage.items()},
            "firewall_zone": None,
            "firewall_sources": [],
            "firewall_services": list(SERVICES),
            "firewall_ports": list(firewalld.ports(c.firewall.extra_rules)),
        },
        "paths": paths_data(el9_paths),
    }
