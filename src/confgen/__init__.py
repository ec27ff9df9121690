"""confgen: render every file and script that sets up an oVirt + GlusterFS + CTDB cluster.

The pipeline: `load` (TOML -> models) -> `validate` (problems) -> `plan` ->
`template_context` (the plan as plain data, all the templates see) -> `render` (path -> text and
mode, in memory) -> `write_tree` (the output tree on disk). Each target (`confgen.targets`)
gives the models, rules, steps and templates of the releases it is written for; a cluster's
own classes are in its target's `model` module (`confgen.targets.ovirt35_el7.model`).
"""

from confgen.components.gluster import Volume
from confgen.context import template_context
from confgen.errors import (
    ConfgenError,
    LoadError,
    OutputError,
    PlanCheckError,
    Problem,
    Severity,
    ValidationError,
)
from confgen.loader import load, loads
from confgen.models import (
    Cluster,
    FirewallRule,
    Host,
    Interface,
    Network,
    PortRange,
    Protocol,
    Role,
)
from confgen.planner import Plan, Source, plan
from confgen.renderer import RenderedFile, RenderedTree, render
from confgen.targets import Target
from confgen.validator import validate
from confgen.writer import FileChange, Interrupted, TreeDiff, Written, diff_tree, write_tree

__version__ = "0.1.0"

__all__ = [
    "Cluster",
    "ConfgenError",
    "FileChange",
    "FirewallRule",
    "Host",
    "Interface",
    "Interrupted",
    "LoadError",
    "Network",
    "OutputError",
    "Plan",
    "PlanCheckError",
    "PortRange",
    "Problem",
    "Protocol",
    "RenderedFile",
    "RenderedTree",
    "Role",
    "Severity",
    "Source",
    "Target",
    "TreeDiff",
    "ValidationError",
    "Volume",
    "Written",
    "__version__",
    "diff_tree",
    "load",
    "loads",
    "plan",
    "render",
    "template_context",
    "validate",
    "write_tree",
]
