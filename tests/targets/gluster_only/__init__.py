"""gluster-only: a replica-3 GlusterFS pool on EL9 and nothing else (no oVirt, no engine).

Composed from confgen's components (Gluster, brick storage on LVM + XFS, firewalld, the
packages) and EL9's templates, to show that a target is composition: adding it touched no
file of confgen's. `tests/test_target_gluster_only.py` registers it.
"""

from pathlib import Path

from confgen.components import gluster
from confgen.models import MANAGEMENT
from confgen.targets import Target
from targets.gluster_only.model import NAME, Cluster
from targets.gluster_only.planning import context, plan, self_check
from targets.gluster_only.rules import rules

TARGET = Target(
    name=NAME,
    cluster=Cluster,
    roles=(MANAGEMENT, gluster.STORAGE),
    rules=rules,
    plan=plan,
    self_check=self_check,
    context=context,
    example=Path(__file__).resolve().parent / "example.toml",
)
