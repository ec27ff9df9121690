"""confgen: render every file and script that sets up an oVirt + GlusterFS + CTDB cluster.

The pipeline: `load` (TOML -> models) -> `validate` (problems) -> `plan` ->
`template_context` (the plan as plain data, all the templates see) -> `render` (path -> text and
mode, in memory) -> `write_tree` (the output tree on disk).
"""

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
from confgen.load import load, loads
from confgen.models import (
    BrickFilesystem,
    Cluster,
    Ctdb,
    Firewall,
    FirewallRule,
    Gluster,
    Host,
    HostedEngine,
    Interface,
    Network,
    Packages,
    PortRange,
    Protocol,
    Role,
    Target,
    VirtualIP,
    Volume,
)
from confgen.plan import Plan, Source, plan
from confgen.render import RenderedFile, render
from confgen.validate import validate
from confgen.write import write_tree

__version__ = "0.1.0"

__all__ = [
    "BrickFilesystem",
    "Cluster",
    "ConfgenError",
    "Ctdb",
    "Firewall",
    "FirewallRule",
    "Gluster",
    "Host",
    "HostedEngine",
    "Interface",
    "LoadError",
    "Network",
    "OutputError",
    "Packages",
    "Plan",
    "PlanCheckError",
    "PortRange",
    "Problem",
    "Protocol",
    "RenderedFile",
    "Role",
    "Severity",
    "Source",
    "Target",
    "ValidationError",
    "VirtualIP",
    "Volume",
    "__version__",
    "load",
    "loads",
    "plan",
    "render",
    "template_context",
    "validate",
    "write_tree",
]
