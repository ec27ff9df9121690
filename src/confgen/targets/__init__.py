"""The targets: for which releases a cluster file's files and scripts are written.

A target is one folder, `confgen/targets/<name>/`, beside `templates/<name>/`: its cluster
file's sections and defaults (`model.py`), its rules (`rules.py`), its steps, files and derived
facts (`planning.py`), its example, and a `TARGET` record that hands them to the pipeline.
Nothing else in confgen names a target: the loader reads `target` first and takes the rest of
the file from here, as Butane reads `variant` and `version` before the rest of a config.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import Factory

from confgen.models import Role
from confgen.records import record

if TYPE_CHECKING:
    from confgen.errors import Problem
    from confgen.models import Cluster
    from confgen.planner import Plan, Source

# Every target, by the name a cluster file gives as `target`, and the module that holds it.
# A target is imported only when a file asks for it.
_MODULES: Mapping[str, str] = {
    "ovirt35-el7": "confgen.targets.ovirt35_el7",
    "ovirt45-el9": "confgen.targets.ovirt45_el9",
}

NAMES: tuple[str, ...] = tuple(_MODULES)

# One line each: the releases a target is for, and where the hosted engine is stored. Here,
# not in the target's module: `--help` lists them, and must not import every target to do so.
SUMMARIES: Mapping[str, str] = {
    "ovirt35-el7": "CentOS 7 + oVirt 3.5, the engine on NFS through a CTDB virtual IP",
    "ovirt45-el9": "EL9 + oVirt 4.5 + GlusterFS 10, the engine on a GlusterFS storage domain",
}
# A cluster file without `target` is for the seed's target, as before there were others.
DEFAULT = "ovirt35-el7"


@record
class Target:
    """What the pipeline needs from a target; each target module defines one as `TARGET`."""

    name: str
    cluster: type[Cluster]  # the class a cluster file of this target loads into
    roles: tuple[Role, ...]  # the network roles each of its clusters must give a network
    rules: Callable[[Any], Iterable[Problem]]  # its own rules, after the shared ones
    plan: Callable[[Any, Source | None], Plan]
    self_check: Callable[[Any], list[str]]  # what its real programs would refuse in a plan
    context: Callable[[Any], dict[str, Any]]  # its plan as plain data, for the templates
    example: Path  # the commented example cluster file `confgen init` writes
    # Keys a file for this one must not have (of other targets, or removed), each with why:
    # top-level keys, or the dotted path of a key in tables (gluster.brick_fs.logical_volume).
    refused: Mapping[str, str] = Factory(dict)


def get(name: str) -> Target:
    """The target of that name; a `KeyError` for a name not in `NAMES`."""
    module = importlib.import_module(_MODULES[name])
    target: Target = module.TARGET
    return target


def of(cluster: Cluster) -> Target:
    """The target a loaded cluster was written for."""
    return get(cluster.target)
