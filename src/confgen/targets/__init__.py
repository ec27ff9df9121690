"""The targets: for which releases a cluster file's files and scripts are written.

A target is one folder, `confgen/targets/<name>/`, beside `templates/<name>/`: its cluster
file's sections and defaults (`model.py`), its rules (`rules.py`), its steps, files and derived
facts (`planning.py`), its example, and a `TARGET` record that hands them to the pipeline.
Nothing else in confgen names a target: the loader reads `target` first and takes the rest of
the file from here, as Butane reads `variant` and `version` before the rest of a config.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, KeysView, Mapping
from pathlib import Path
from typing import Any

from attrs import Factory

from confgen.errors import Problem
from confgen.models import Cluster, Role
from confgen.records import record


@record
class Registered:
    """A target as the registry knows it before it is imported: the module that defines its
    `TARGET`, and what `--help` says of it, which must not import every target to list them:
    one line of the releases it is for, and what its scripts set up."""

    module: str
    summary: str
    sets_up: str


# Every target, by the name a cluster file gives as `target`. A target is imported only when a
# file asks for it. `register` adds one from outside confgen (a test's).
TARGETS: dict[str, Registered] = {
    "ovirt35-el7": Registered(
        module="confgen.targets.ovirt35_el7",
        summary="CentOS 7 + oVirt 3.5, the engine on NFS through a CTDB virtual IP",
        sets_up="SELinux and /etc/hosts, packages, iptables rules, the brick filesystem (ssm), "
        "GlusterFS 3.6 volumes and their growth, NFS mount options, CTDB and its virtual IPs, "
        "systemd units, the hosted engine on each added host",
    ),
    "ovirt45-el9": Registered(
        module="confgen.targets.ovirt45_el9",
        summary="EL9 + oVirt 4.5 + GlusterFS 10, the engine on a GlusterFS storage domain",
        sets_up="packages, firewalld services, brick filesystems (LVM thin + XFS), GlusterFS 10 "
        "volumes, the hosted-engine deploy, then the other hosts and the data storage domains "
        "through the engine's REST API",
    ),
}

# The names of the targets: a view of TARGETS, so a registered target is among them.
NAMES: KeysView[str] = TARGETS.keys()

# A cluster file without `target` is for the seed's target, as before there were others.
DEFAULT = "ovirt35-el7"


def register(name: str, module: str, summary: str, sets_up: str) -> None:
    """Make the target that `module` defines (as `TARGET`, named `name`) one a cluster file
    can name, as the shipped ones are; `summary` and `sets_up` are what `--help` says of it.
    A name already taken is refused."""
    if name in TARGETS:
        raise ValueError(f"a target named {name!r} is registered already")
    TARGETS[name] = Registered(module=module, summary=summary, sets_up=sets_up)


def unregister(name: str) -> None:
    """Forget a target `register` added; the shipped ones stay."""
    if TARGETS[name].module.startswith("confgen."):
        raise ValueError(f"{name!r} is one of confgen's own targets")
    del TARGETS[name]


@record
class Target:
    """What the pipeline needs from a target; each target module defines one as `TARGET`."""

    name: str
    cluster: type[Cluster]  # the class a cluster file of this target loads into
    roles: tuple[Role, ...]  # the network roles each of its clusters must give a network
    rules: Callable[[Any], Iterable[Problem]]  # its own rules, after the shared ones
    # Its plan of a valid cluster, given the `confgen.planner.Source` (or None): a
    # `confgen.planner.Plan`. Typed loosely: the planner imports this module, not the reverse.
    plan: Callable[[Any, Any], Any]
    self_check: Callable[[Any], list[str]]  # what its real programs would refuse in a plan
    context: Callable[[Any], dict[str, Any]]  # its plan as plain data, for the templates
    example: Path  # the commented example cluster file `confgen init` writes
    # Keys a file for this one must not have (of other targets, or removed), each with why:
    # top-level keys, or the dotted path of a key in tables (gluster.brick_fs.logical_volume).
    refused: Mapping[str, str] = Factory(dict)
    # Its plan of a change between two of its clusters (`confgen.change.Planner`), or None for
    # a target whose running clusters confgen does not change.
    change: Callable[..., Any] | None = None


def get(name: str) -> Target:
    """The target of that name; a `KeyError` for a name not in `NAMES`."""
    module = importlib.import_module(TARGETS[name].module)
    target: Target = module.TARGET
    return target


def of(cluster: Cluster) -> Target:
    """The target a loaded cluster was written for."""
    return get(cluster.target)
