"""oVirt 4.5 on EL9 with GlusterFS 10: the hosted engine on a replica-3 GlusterFS storage
domain, firewalld and NetworkManager kept, SELinux enforcing, bricks on LVM + XFS, the other
hosts added from the engine."""

from pathlib import Path

from confgen.components import gluster
from confgen.models import MANAGEMENT
from confgen.targets import Target
from confgen.targets.ovirt45_el9.change import change
from confgen.targets.ovirt45_el9.context import context
from confgen.targets.ovirt45_el9.model import NAME, Cluster
from confgen.targets.ovirt45_el9.planning import plan, self_check
from confgen.targets.ovirt45_el9.rules import rules

TARGET = Target(
    name=NAME,
    cluster=Cluster,
    roles=(MANAGEMENT, gluster.STORAGE),
    refused={
        "ctdb": "this target has no CTDB: the hosted engine lives on a replica-3 GlusterFS "
        "storage domain, mounted with backup-volfile-servers, so no virtual IP is needed "
        "(Gluster's own NFS server is not built for EL9); remove [ctdb]",
        "gluster.brick_fs.logical_volume": "removed: the bricks no longer share one logical "
        "volume; each volume's brick has its own (gluster_lv_<volume>, mounted at "
        "<mount_point>/<volume>): the hosted engine's thick, the others thin in the pool "
        "that `thin_pool` names [gluster_thinpool], each sized by the volume's `size`; "
        "remove logical_volume",
    },
    rules=rules,
    plan=plan,
    self_check=self_check,
    context=context,
    change=change,
    example=Path(__file__).resolve().parent / "example.toml",
)
