"""The seed's target: CentOS 7 and oVirt 3.5, the hosted engine on an NFS share of a Gluster
volume through a virtual IP that CTDB floats; iptables, ssm, /etc/sysconfig/ctdb."""

from pathlib import Path

from confgen.components import ctdb, gluster
from confgen.models import MANAGEMENT
from confgen.targets import Target
from confgen.targets.ovirt35_el7.change import change
from confgen.targets.ovirt35_el7.context import context
from confgen.targets.ovirt35_el7.model import NAME, Cluster
from confgen.targets.ovirt35_el7.planning import plan, self_check
from confgen.targets.ovirt35_el7.rules import rules

TARGET = Target(
    name=NAME,
    cluster=Cluster,
    roles=(MANAGEMENT, gluster.STORAGE, ctdb.HEARTBEAT),
    rules=rules,
    plan=plan,
    self_check=self_check,
    context=context,
    change=change,
    example=Path(__file__).resolve().parent / "example.toml",
)
