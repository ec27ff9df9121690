"""Context: a plan as plain data, which is all the templates see.

Plain data means str, int, bool, None, lists and dicts with string keys: what JSON, YAML and
an Ansible inventory hold. The templates never call into confgen, so any Jinja2 renderer given
this data (Ansible's template module among them) produces the same files. Nothing is decided
here: every value is a fact of the plan or the models, only spelt out as a string or a list.
This module spells out what every target's plan has; the target's `context` adds its own.

Dict keys are chosen not to clash with dict methods (no `items`, `keys`, `values`, `get`):
Jinja2 looks `a.b` up as an attribute before it tries `a["b"]`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from confgen import paths, targets
from confgen.planner import HostPlan, Install, NameCheck, Plan, Preflight, Step, StepFailure

Data = dict[str, Any]


def _host(h: HostPlan, facts: Sequence[Callable[[Any], Data]]) -> Data:
    data = {
        "name": h.name,
        "fqdn": h.host.fqdn,
        "host_id": h.host.host_id,
        "is_first": h.is_first,
        "management_nic": h.management_nic,
    }
    for role, address in h.addresses.items():
        data[f"{role.value}_address"] = str(address)
    for more in facts:
        data.update(more(h))
    return data


def _failure(f: StepFailure) -> Data:
    return {
        "state": f.state,
        "retry": f.retry,
        "undo": f.undo,
        "scripts": [{"host": u.host, "path": u.path} for u in f.scripts],
    }


def _step(s: Step) -> Data:
    return {
        "number": s.number,
        "label": s.label,
        "slug": s.slug,
        "title": s.title,
        "hosts": list(s.hosts),
        "where": s.where,
        "after": [
            {"number": a.number, "label": a.label, "slug": a.slug, "where": a.where}
            for a in s.after
        ],
        "script": s.script,
        "checks": [
            {
                "on": c.on,
                "command": c.command,
                "shows": list(c.shows),
                "not_shows": list(c.not_shows),
                "note": c.note,
            }
            for c in s.checks
        ],
        # What the runbook says of the step when it fails, and its undo scripts.
        "failure": _failure(s.failure) if s.failure is not None else None,
    }


def _name(n: NameCheck) -> Data:
    return {
        "name": n.name,
        # Space-separated, as the check's shell function takes them; the planned one first.
        "addresses": " ".join(str(a) for a in n.addresses),
        "dns": n.dns,
        "reverse": n.reverse,
    }


def _preflight(f: Preflight) -> Data:
    return {
        "nics": [
            {
                "nic": c.nic,
                "address": str(c.address),
                "network": c.network,
                "bridge": c.bridge,
            }
            for c in f.nics
        ],
        "space": [
            {"path": c.path, "kib": c.kib, "mib": c.kib // 1024, "needed_by": c.needed_by}
            for c in f.space
        ],
    }


def _install(i: Install) -> Data:
    return {"source": i.source, "target": i.target, "mode": f"{i.mode:04o}"}


def _installs(p: Plan, host: str) -> Data:
    """The files each step of a host installs there, by the step's slug: a list for every
    step the host runs, empty when the step installs nothing."""
    by_step: dict[str, list[Data]] = {s.slug: [] for s in p.steps if host in s.hosts}
    for i in p.installs.get(host, ()):
        for slug in i.steps:
            if slug in by_step:  # a step this host runs
                by_step[slug].append(_install(i))
    return by_step


def plan_data(p: Plan, *host_facts: Callable[[Any], Data]) -> Data:
    """What every target's plan holds, as plain data; `host_facts` add a component's facts
    to each host's entry (`confgen.components.gluster.member_data`)."""
    hosts = [_host(h, host_facts) for h in p.hosts]
    for host in hosts:
        host["installs"] = _installs(p, host["name"])
    steps = [_step(s) for s in p.steps]
    first_steps: dict[str, Data] = {}
    last_steps: dict[str, Data] = {}
    for s in steps:
        first_steps.setdefault(s["slug"], s)
        last_steps[s["slug"]] = s
    # Each host but the first has the one before it by ID, for steps taken one host at a time.
    for before, host in itertools.pairwise(hosts):
        host["previous"] = {"name": before["name"], "host_id": before["host_id"]}
    return {
        "source": {"name": p.source.name} if p.source else None,
        "hosts": hosts,
        "first": next(h for h in hosts if h["is_first"]),
        "others": [h for h in hosts if not h["is_first"]],
        "other_names": [h["name"] for h in hosts if not h["is_first"]],
        "hosts_entries": [[str(a), list(names)] for a, names in p.hosts_entries],
        "steps": steps,
        "names": [_name(n) for n in p.names],
        "preflight": {name: _preflight(f) for name, f in p.preflight.items()},
        # The first and the last step of each script name, for prose that refers to a step by
        # what it does: plan.first_step["ctdb"].label.
        "first_step": first_steps,
        "last_step": last_steps,
    }


def paths_data(*modules: ModuleType) -> Data:
    """The paths every target's scripts use, and those of the modules given."""
    return {
        name: value
        for module in (paths, *modules)
        for name, value in vars(module).items()
        if name.isupper()
    }


def template_context(the_plan: Plan) -> Data:
    """What every template sees: `cluster`, `plan` and `paths`, made by the plan's target.

    Each file adds `host` (an entry of `plan.hosts`, or None for the cluster's own files) and
    `step` (an entry of `plan.steps` for a script, else None).
    """
    return targets.of(the_plan.cluster).context(the_plan)
