"""Context: a plan as plain data, which is all the templates see.

Plain data means str, int, bool, None, lists and dicts with string keys: what JSON, YAML and
an Ansible inventory hold. The templates never call into confgen, so any Jinja2 renderer given
this data (Ansible's template module among them) produces the same files. Nothing is decided
here: every value is a fact of the plan or the models, only spelt out as a string or a list.

Dict keys are chosen not to clash with dict methods (no `items`, `keys`, `values`, `get`):
Jinja2 looks `a.b` up as an attribute before it tries `a["b"]`.
"""

from __future__ import annotations

from typing import Any

from confgen import paths
from confgen.models import Cluster
from confgen.plan import Brick, HostPlan, Plan, Step, VolumePlan

Data = dict[str, Any]


def _host(h: HostPlan) -> Data:
    return {
        "name": h.name,
        "fqdn": h.host.fqdn,
        "host_id": h.host.host_id,
        "is_first": h.is_first,
        "brick_device": h.host.brick_device,
        "management_address": str(h.management_address),
        "management_nic": h.management_nic,
        "storage_address": str(h.storage_address),
        "heartbeat_address": str(h.heartbeat_address),
        "peer": h.peer,
        "brick_dirs": list(h.brick_dirs),
    }


def _brick(b: Brick) -> Data:
    return {"host": b.host, "peer": b.peer, "path": b.path, "spec": str(b)}


def _volume(v: VolumePlan) -> Data:
    return {
        "name": v.name,
        "replica": v.replica,
        "existing": v.existing,
        "brick_dir": v.brick_dir,
        "bricks": [_brick(b) for b in v.bricks],
        "add_brick_groups": [[str(b) for b in group] for group in v.add_brick_groups],
    }


def _step(s: Step) -> Data:
    return {
        "number": s.number,
        "slug": s.slug,
        "title": s.title,
        "hosts": list(s.hosts),
        "where": s.where,
        "after": list(s.after),
        "script": s.script,
    }


def _cluster(c: Cluster) -> Data:
    fs = c.gluster.brick_fs
    return {
        "ctdb": {
            "mount_hostname": c.ctdb.mount_hostname,
            "meta_volume": c.ctdb.meta_volume,
            "mount_point": c.ctdb.mount_point,
            "meta_dir": c.ctdb.meta_dir,
            "vips": [
                {"ip": str(v.address.ip), "address": v.address.with_prefixlen, "nic": v.nic}
                for v in c.ctdb.vips
            ],
            "recovery_lock": c.ctdb.recovery_lock,
            "recovery_lock_dir": c.ctdb.recovery_lock_dir,
            "tunables": [[name, value] for name, value in c.ctdb.all_tunables],
        },
        "gluster": {
            "brick_fs": {
                "pool": fs.pool,
                "volume": fs.volume,
                "mount_point": fs.mount_point,
                "fstype": fs.fstype,
                "device": fs.device,
            },
        },
        "packages": {
            "release_rpm": c.packages.release_rpm,
            "release_package": c.packages.release_package,
            "install": list(c.packages.install),
        },
        "hosted_engine": {
            "volume": c.hosted_engine.volume,
            "domain_type": c.hosted_engine.domain_type,
        },
    }


def _plan(p: Plan) -> Data:
    hosts = [_host(h) for h in p.hosts]
    volumes = [_volume(v) for v in p.volumes]
    steps = [_step(s) for s in p.steps]
    first_steps: dict[str, int] = {}
    for s in p.steps:
        first_steps.setdefault(s.slug, s.number)
    return {
        "source": {"name": p.source.name, "sha256": p.source.sha256} if p.source else None,
        "hosts": hosts,
        "first": next(h for h in hosts if h["is_first"]),
        "volumes": volumes,
        "existing_volumes": [v for v in volumes if v["existing"]],
        "new_volumes": [v for v in volumes if not v["existing"]],
        "nodes": [str(a) for a in p.nodes],
        "public_addresses": list(p.public_addresses),
        "mount_unit": p.mount_unit,
        "engine_storage": p.engine_storage,
        "hosts_entries": [[str(a), list(names)] for a, names in p.hosts_entries],
        "firewall_groups": [
            {
                "service": g.service,
                "rules": [{"protocol": r.protocol.value, "ports": str(r.ports)} for r in g.rules],
            }
            for g in p.firewall_groups
        ],
        "steps": steps,
        # The number of the first step of each script name, for prose that refers to a step by
        # what it does: plan.first_step["ctdb"].
        "first_step": first_steps,
    }


def _paths() -> Data:
    return {name: value for name, value in vars(paths).items() if name.isupper()}


def template_context(the_plan: Plan) -> Data:
    """What every template sees: `cluster`, `plan` and `paths`.

    Each file adds `host` (an entry of `plan.hosts`, or None for the cluster's own files) and
    `step` (an entry of `plan.steps` for a script, else None).
    """
    return {"cluster": _cluster(the_plan.cluster), "plan": _plan(the_plan), "paths": _paths()}
