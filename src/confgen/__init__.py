"""confgen: render every file and script that sets up an oVirt + GlusterFS + CTDB cluster.

The pipeline: `load` (a file), `loads` (its text) or `load_data` (the mapping its text parses
to) -> `validate` (problems) -> `plan` -> `template_context` (the plan as plain data, all the
templates see) -> `render_plan` (a `RenderedTree`: path -> text and mode, in memory, with its
target and source; `render` validates, plans and renders at once; `render_files` renders as it
is written) -> `write_tree` (the output tree on disk). Each target (`confgen.targets`: `NAMES`,
`get(name)`) gives the models, rules, steps and templates of the releases it is written for; a
cluster's own class is its target's `cluster` (`confgen.targets.get("ovirt45-el9").cluster`).
`change` (FROM, TO) plans what takes a running cluster from one file to the next, and
`render_change` renders that change tree (CHANGE.md, each host's change scripts), which
`write_tree` writes as it writes a render.
"""

from confgen import targets
from confgen._version import __version__
from confgen.change import ChangeError, ChangePlan, change, render_change
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
    printable,
)
from confgen.loader import load, load_data, loads
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
from confgen.renderer import (
    RenderedFile,
    RenderedTree,
    RenderStream,
    render,
    render_files,
    render_plan,
)
from confgen.schema import schema as json_schema
from confgen.targets import Target
from confgen.validator import validate
from confgen.writer import FileChange, Interrupted, TreeDiff, Written, diff_tree, write_tree

__all__ = [
    "ChangeError",
    "ChangePlan",
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
    "RenderStream",
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
    "change",
    "diff_tree",
    "json_schema",
    "load",
    "load_data",
    "loads",
    "plan",
    "printable",
    "render",
    "render_change",
    "render_files",
    "render_plan",
    "targets",
    "template_context",
    "validate",
    "write_tree",
]
