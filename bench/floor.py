"""The floor: what a competent hand-written script would do to get confgen's tree from a cluster
file.

`python bench/floor.py CLUSTER OUT`: load the TOML with tomllib, build plain dicts in the shape
of `confgen.template_context` and render confgen's own templates with Jinja2 into OUT. No
validation, no models, no manifest, no staging: the least work that gives the same files, and
so the cost confgen's checks and safety are measured against.

It is written as well as such a script can be, so the comparison is fair:
- The templates are the ones confgen's build compiled to Python modules
  (`src/confgen/_compiled`), loaded with Jinja2's own ModuleLoader: nothing is compiled at run
  time, as nothing is in confgen.
- A template that reads neither `host` nor `step` gives every host the same text: it is
  rendered once (the compiled index says which templates read them).
- Files are written as confgen's writer writes them: by string paths, each folder made once,
  with os.open/os.write/os.fchmod (pathlib's parsing, a `mkdir(parents=True)` per file and
  Python's buffered text files cost more than the writing itself at thousands of files).
- The Jinja2 settings come from the one place that sets them, `confgen/templating.py`'s
  `environment`, loaded by its path.
- Each script keeps the frame's helpers it calls, as confgen's do: the frame chooses them with
  the `called_by` filter of that environment, which reads each rendered script; the floor
  pays for it as confgen does.

It takes the seed's defaults, steps and host paths from the seed target's `defaults.py` and
the `paths.py` files as plain data, run as files: importing the `confgen` package would load
confgen's own modules and charge their import to the floor. Mount unit names are the
plain-path shortcut a script would take (`/mnt/lock` -> `mnt-lock.mount`), not systemd's full
escaping.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import os
import runpy
import sys
import tomllib
from pathlib import Path
from typing import Any

import jinja2

SRC = Path(__file__).resolve().parents[1] / "src" / "confgen"
# Compiled by confgen's package build (hatch_build.py), as confgen itself uses them.
COMPILED = SRC / "_compiled"
seed = runpy.run_path(str(SRC / "targets/ovirt35_el7/defaults.py"))
paths = {
    k: v
    for file in ("paths.py", "targets/ovirt35_el7/paths.py")
    for k, v in runpy.run_path(str(SRC / file)).items()
    if k.isupper()
}

Data = dict[str, Any]
# Steps every target runs from Gluster's templates (confgen.components.gluster.STEP_TEMPLATES).
COMMON, COMMON_STEPS = "components/gluster", {"peer-probe"}
UNDO_TEMPLATES = {"new-volumes": "common/undo-volumes.sh.j2"}


def context(raw: Data, source_name: str, source_text: str) -> tuple[Data, list[Data]]:
    """The shared template context and the list of files (path, template, mode, host, step)."""
    role_net = {role: n["name"] for n in raw["networks"] for role in n["roles"]}
    mgmt, storage, heartbeat = role_net["management"], role_net["storage"], role_net["heartbeat"]
    gluster = raw.get("gluster", {})
    fs = {
        "pool": seed["BRICK_POOL"],
        "volume": seed["BRICK_VOLUME"],
        "mount_point": seed["BRICK_MOUNT_POINT"],
        "fstype": seed["BRICK_FSTYPE"],
        **gluster.get("brick_fs", {}),
    }
    fs["device"] = f"/dev/{fs['pool']}/{fs['volume']}"
    raw_hosts = sorted(raw["hosts"], key=lambda h: h["host_id"])
    names = [h["name"] for h in raw_hosts]

    volumes = []
    # The file's volumes replace the seed's of the same name, or are added after them.
    listed = {v["name"]: v for v in gluster.get("volumes", [])}
    merged = [listed.pop(n, {"name": n, "existing": e}) for n, e in seed["VOLUMES"]]
    for v in [*merged, *listed.values()]:
        replica = v.get("replica", seed["REPLICA"])
        brick_dir = v.get("brick_dir") or f"{fs['mount_point'].rstrip('/')}/{v['name']}/brick"
        volumes.append(
            {
                "name": v["name"],
                "replica": replica,
                "existing": v.get("existing", False),
                "brick_dir": brick_dir,
                "on": v.get("hosts") or names[:replica],
            }
        )

    hosts = []
    for h in raw_hosts:
        nets = h["interfaces"]
        hosts.append(
            {
                "name": h["name"],
                "fqdn": h["fqdn"],
                "host_id": h["host_id"],
                "is_first": h.get("first", False),
                "brick_device": h.get("brick_device"),
                "management_address": nets[mgmt]["address"],
                "management_nic": nets[mgmt]["nic"],
                "storage_address": nets[storage]["address"],
                "heartbeat_address": nets[heartbeat]["address"],
                "peer": h["fqdn"] if storage == mgmt else nets[storage]["address"],
                "brick_dirs": [v["brick_dir"] for v in volumes if h["name"] in v["on"]],
                "volumes": [v["name"] for v in volumes if h["name"] in v["on"]],
            }
        )
    peers = {h["name"]: h["peer"] for h in hosts}
    for v in volumes:
        v["bricks"] = [
            {
                "host": n,
                "peer": peers[n],
                "path": v["brick_dir"],
                "spec": f"{peers[n]}:{v['brick_dir']}",
            }
            for n in v.pop("on")
        ]
        specs = [b["spec"] for b in v["bricks"]]
        sets = [specs[i : i + v["replica"]] for i in range(0, len(specs), v["replica"])]
        v["add_brick_groups"] = [sets[0][1:], *sets[1:]] if sets else []
        v["brick_hosts"] = [b["host"] for b in v["bricks"]]
        v["spreads"] = len(v["add_brick_groups"]) > 1
    for h in hosts:
        h["checked_brick_device"] = h["brick_device"] if h["brick_dirs"] else None
    for h in hosts:
        h["peers"] = [o["peer"] for o in hosts if o is not h]

    raw_ctdb = raw["ctdb"]
    mount_point = raw_ctdb.get("mount_point", seed["CTDB_MOUNT_POINT"])
    mine = {k.lower(): [k, v] for k, v in raw_ctdb.get("tunables", {}).items()}
    tunables = [mine.pop(k.lower(), [k, v]) for k, v in seed["CTDB_TUNABLES"]] + list(mine.values())
    lock = raw_ctdb.get("recovery_lock", f"{mount_point}/{seed['CTDB_RECOVERY_LOCK_NAME']}")
    ctdb = {
        "mount_hostname": raw_ctdb["mount_hostname"],
        "meta_volume": raw_ctdb.get("meta_volume", seed["META_VOLUME"]),
        "mount_point": mount_point,
        "meta_dir": mount_point.rstrip("/"),
        "vips": [
            {"ip": v["address"].split("/")[0], "address": v["address"], "nic": v["nic"]}
            for v in raw_ctdb["vips"]
        ],
        "recovery_lock": lock,
        "recovery_lock_dir": lock.rsplit("/", 1)[0],
        "recovery_lock_in_subdir": lock.rsplit("/", 1)[0] != mount_point.rstrip("/"),
        "tunables": tunables,
    }
    packages = raw.get("packages", {})
    release_rpm = packages.get("release_rpm", seed["RELEASE_RPM"])
    hosted_engine = {
        "volume": seed["ENGINE_VOLUME"],
        "domain_type": seed["HOSTED_ENGINE_DOMAIN_TYPE"],
        **raw.get("hosted_engine", {}),
    }
    cluster = {
        "ctdb": ctdb,
        "gluster": {"brick_fs": fs},
        "packages": {
            "release_rpm": release_rpm,
            "release_package": release_rpm.rsplit("/", 1)[-1].removesuffix(".rpm"),
            "install": list(packages.get("install", seed["PACKAGES"])),
        },
        "hosted_engine": hosted_engine,
    }

    rules = [{"service": s, "protocol": p, "ports": r} for s, p, r in seed["FIREWALL_RULES"]]
    for r in raw.get("firewall", {}).get("extra_rules", []):
        rules.append(
            {
                "service": r["service"],
                "protocol": r.get("protocol", "tcp"),
                "ports": str(r["ports"]),
            }
        )
    groups: list[Data] = []
    for r in rules:
        if not groups or groups[-1]["service"] != r["service"]:
            groups.append({"service": r["service"], "rules": []})
        groups[-1]["rules"].append({"protocol": r["protocol"], "ports": r["ports"]})

    first = next(h for h in hosts if h["is_first"])
    others = [n for n in names if n != first["name"]]
    on = {"every": names, "first": [first["name"]], "others": others, "second": others[:1]}
    # Step 00 first, as confgen.planner.PREFLIGHT_STEP: the seed's steps keep their numbers.
    specs = [
        (
            "preflight",
            "preflight",
            names,
            [],
            "Check, changing nothing, what the steps rely on: names, addresses, clock, "
            "repositories, the brick device, CPU virtualization, free space",
        )
    ]
    specs += [
        (key, slug, on[which], list(after), title)
        for key, slug, which, after, title in seed["STEPS"]
    ]
    for name in others:
        for key, slug, _on, _after, title in seed["ADDITIONAL_HOST_STEPS"]:
            specs.append(
                (key.format(host=name), slug, [name], [specs[-1][0]], title.format(host=name))
            )
    numbers = {spec[0]: i for i, spec in enumerate(specs)}
    by_key = {spec[0]: spec for spec in specs}
    words = {tuple(names): "every host", tuple(others): f"every host but {first['name']}"}

    def where(on_hosts: list[str]) -> str:
        return words.get(tuple(on_hosts)) or ", ".join(on_hosts)

    steps = [
        {
            "number": numbers[key],
            "label": f"{numbers[key]:02d}",
            "slug": slug,
            "title": title,
            "hosts": on_hosts,
            "where": where(on_hosts),
            "after": [
                {
                    "number": numbers[a],
                    "label": f"{numbers[a]:02d}",
                    "slug": by_key[a][1],
                    "where": where(by_key[a][2]),
                }
                for a in after
            ],
            "script": f"{numbers[key]:02d}-{slug}.sh",
        }
        for key, slug, on_hosts, after, title in specs
    ]
    for s in steps:
        s["checks"] = _checks(s, first, hosts, volumes, cluster, groups, mount_point)
    for s, failure in zip(steps, _failures(steps, hosts, volumes, cluster), strict=True):
        s["failure"] = failure
    first_step: dict[str, Data] = {}
    last_step: dict[str, Data] = {}
    for s in steps:
        first_step.setdefault(s["slug"], s)
        last_step[s["slug"]] = s
    for before, h in itertools.pairwise(hosts):
        h["previous"] = {"name": before["name"], "host_id": before["host_id"]}
    mount_unit = mount_point.strip("/").replace("/", "-") + ".mount"
    # What step 00 checks: each name (no DNS needed before step 01 writes /etc/hosts), each
    # NIC's address with its network's prefix, the brick device.
    check_names = []
    for h in hosts:
        address = h["management_address"]
        check_names.append({"name": h["fqdn"], "addresses": address, "dns": False, "reverse": True})
        if h["name"].lower() != h["fqdn"].lower():
            check_names.append(
                {"name": h["name"], "addresses": address, "dns": False, "reverse": False}
            )
    check_names.append(
        {
            "name": ctdb["mount_hostname"],
            "addresses": f"{ctdb['vips'][0]['ip']} {first['management_address']}",
            "dns": False,
            "reverse": False,
        }
    )
    prefix = {n["name"]: n["cidr"].split("/")[1] for n in raw["networks"]}
    by_name = {h["name"]: h for h in raw_hosts}
    preflight = {
        h["name"]: {
            "nics": [
                {
                    "nic": i["nic"],
                    "address": f"{i['address']}/{prefix[net]}",
                    "network": net,
                    "bridge": seed["MANAGEMENT_BRIDGE"]
                    if i["nic"] == h["management_nic"]
                    else None,
                }
                for net, i in sorted(by_name[h["name"]]["interfaces"].items())
            ],
            "space": [],
        }
        for h in hosts
    }
    plan = {
        "source": {"name": source_name},
        "hosts": hosts,
        "first": first,
        "others": [h for h in hosts if not h["is_first"]],
        "volumes": volumes,
        "existing_volumes": [v for v in volumes if v["existing"]],
        "new_volumes": [v for v in volumes if not v["existing"]],
        "spread_volumes": [v["name"] for v in volumes if v["existing"] and v["spreads"]],
        "new_bricks": {
            h["name"]: [
                {"volume": v["name"], "path": b["path"]}
                for v in volumes
                if not v["existing"]
                for b in v["bricks"]
                if b["host"] == h["name"]
            ]
            for h in hosts
        },
        "volume_mounts": [{"volume": ctdb["meta_volume"], "mount_point": mount_point}],
        "nodes": [h["heartbeat_address"] for h in hosts],
        "public_addresses": [f"{v['address']} {v['nic']}" for v in ctdb["vips"]],
        "mount_vip": ctdb["vips"][0]["ip"],
        "mount_unit": mount_unit,
        "engine_storage": f"{ctdb['mount_hostname']}:/{hosted_engine['volume']}",
        "hosts_entries": [[h["management_address"], [h["fqdn"], h["name"]]] for h in hosts],
        "firewall_groups": groups,
        "steps": steps,
        "names": check_names,
        "preflight": preflight,
        "brick_made": {
            "command": ["mountpoint", "-q", fs["mount_point"]],
            "what": f"the brick filesystem mounted at {fs['mount_point']}",
        },
        "first_step": first_step,
        "last_step": last_step,
    }

    target = raw.get("target", "ovirt35-el7")
    files = [
        {
            "path": "RUNBOOK.md",
            "template": f"{target}/RUNBOOK.md.j2",
            "mode": 0o644,
            "host": None,
            "step": None,
        }
    ]
    # The files each host's steps install (install_file), by step, in the order installed.
    systemd = paths["SYSTEMD_DIR"]
    for h in hosts:
        h["installs"] = {s["slug"]: [] for s in steps if h["name"] in s["hosts"]}
        for slugs, target_path, mode in (
            (("firewall", "restore-firewall"), paths["IPTABLES"], 0o600),
            (("nfsmount-conf",), paths["NFSMOUNT_CONF"], 0o644),
            (("systemd-units",), f"{systemd}/{mount_unit}", 0o644),
            (("systemd-units",), f"{systemd}/{paths['META_VOLUME_READY_SERVICE']}", 0o644),
            (("systemd-units",), f"{systemd}/{paths['CTDB_SERVICE']}", 0o644),
            *(
                (("ctdb",), f"{ctdb['meta_dir']}/{name}", 0o644)
                for name in ("ctdb", "nodes", "public_addresses")
                if h["is_first"]
            ),
        ):
            for slug in slugs:
                if slug in h["installs"]:
                    h["installs"][slug].append(
                        {
                            "source": f"files{target_path}",
                            "target": target_path,
                            "mode": f"{mode:04o}",
                        }
                    )
    for h in hosts:
        own = [
            ("files", paths["IPTABLES"], "iptables.j2", 0o600),
            ("files", paths["NFSMOUNT_CONF"], "nfsmount.conf.j2", 0o644),
            ("files", f"{paths['SYSTEMD_DIR']}/{paths['CTDB_SERVICE']}", "ctdb.service.j2", 0o644),
            ("files", f"{paths['SYSTEMD_DIR']}/{mount_unit}", "meta.mount.j2", 0o644),
            (
                "files",
                f"{paths['SYSTEMD_DIR']}/{paths['META_VOLUME_READY_SERVICE']}",
                "meta-volume-ready.service.j2",
                0o644,
            ),
            ("blocks", f"{paths['ETC_HOSTS']}/{paths['HOSTS_BLOCK']}", "../common/hosts.j2", 0o644),
            (
                "blocks",
                f"{paths['ETC_HOSTS']}/{paths['MOUNT_NAME_BLOCK']}",
                "hosts-mount-name.j2",
                0o644,
            ),
        ]
        if h["is_first"]:
            for name, template in (("ctdb", "ctdb.sysconfig"), ("nodes", "nodes"),
                                   ("public_addresses", "public_addresses")):  # fmt: skip
                own.append(("files", f"{ctdb['meta_dir']}/{name}", f"{template}.j2", 0o644))
        else:
            own.append(
                ("data", "/hosted-engine-answers.conf", "hosted-engine-answers.conf.j2", 0o644)
            )
        for kind, path, template, mode in own:
            path = f"hosts/{h['name']}/{kind}{path}"
            template = template[3:] if template.startswith("../") else f"{target}/{template}"
            files.append(
                {"path": path, "template": template, "mode": mode, "host": h["name"], "step": None}
            )
        for s in steps:
            for undo in s["failure"]["scripts"]:
                if undo["host"] == h["name"]:
                    files.append({"path": f"hosts/{h['name']}/{undo['path']}",
                                  "template": UNDO_TEMPLATES[s["slug"]], "mode": 0o755,
                                  "host": h["name"], "step": s["number"]})  # fmt: skip
        for s in steps:
            if h["name"] in s["hosts"]:
                files.append({"path": f"hosts/{h['name']}/scripts/{s['script']}",
                              "template": f"{COMMON if s['slug'] in COMMON_STEPS else target}"
                                          f"/{s['slug']}.sh.j2", "mode": 0o755,
                              "host": h["name"], "step": s["number"]})  # fmt: skip
    return {"cluster": cluster, "plan": plan, "paths": paths}, files


def _failures(steps: list[Data], hosts: list[Data], volumes: list[Data], cluster: Data) -> Any:
    """What the runbook says of each failed step: the prose is confgen's own
    (targets/ovirt35_el7/failures.py), given the floor's data as attributes. Its import (and
    confgen.planner's, which it needs) is charged to the floor: a script that wrote these
    paragraphs itself would pay for the same strings."""
    from types import SimpleNamespace as NS

    from confgen.targets.ovirt35_el7 import failures

    def host(h: Data) -> NS:
        return NS(
            name=h["name"],
            is_first=h["is_first"],
            peer=h["peer"],
            brick_dirs=h["brick_dirs"],
            host=NS(host_id=h["host_id"], brick_device=h["brick_device"]),
        )

    def volume(v: Data) -> NS:
        return NS(
            name=v["name"],
            existing=v["existing"],
            bricks=[_Brick(b["host"], b["peer"], b["spec"]) for b in v["bricks"]],
            add_brick_groups=[[_Brick("", "", spec) for spec in g] for g in v["add_brick_groups"]],
        )

    fs = cluster["gluster"]["brick_fs"]
    # The floor's data stands in for confgen's records, attribute for attribute.
    of_steps: Any = failures.failures
    found = of_steps(
        tuple(
            NS(**{k: s[k] for k in ("number", "label", "slug", "hosts", "where", "script")})
            for s in steps
        ),
        tuple(host(h) for h in hosts),
        tuple(volume(v) for v in volumes),
        meta_volume=cluster["ctdb"]["meta_volume"],
        meta_mount=cluster["ctdb"]["mount_point"],
        brick_mount=fs["mount_point"],
        pool=fs["pool"],
    )
    return [
        {
            "state": f.state,
            "retry": f.retry,
            "undo": f.undo,
            "scripts": [{"host": u.host, "path": u.path} for u in f.scripts],
        }
        for f in found
    ]


class _Brick:
    """A brick as the failures' prose prints it: peer:path."""

    def __init__(self, host: str, peer: str, spec: str) -> None:
        self.host, self.peer, self.spec = host, peer, spec

    def __str__(self) -> str:
        return self.spec


def _check(on: str, command: str, shows: Any = (), not_shows: Any = (), note: str = "") -> Data:
    return {
        "on": on,
        "command": command,
        "shows": list(shows),
        "not_shows": list(not_shows),
        "note": note,
    }


def _checks(
    step: Data,
    first: Data,
    hosts: list[Data],
    volumes: list[Data],
    cluster: Data,
    groups: list[Data],
    mount_point: str,
) -> list[Data]:
    """The seed's checks between steps, as the runbook names them."""
    on = "each host" if len(step["hosts"]) > 1 else step["hosts"][0]
    slug, me = step["slug"], first["name"]

    def info(vs: list[Data]) -> list[Data]:
        out = []
        for v in vs:
            n, r = len(v["bricks"]), v["replica"]
            count = (
                f"Number of Bricks: {n}" if r == 1 else f"Number of Bricks: {n // r} x {r} = {n}"
            )
            shows = (f"Volume Name: {v['name']}", "Status: Started", count)
            out.append(_check(me, f"gluster volume info {v['name']}", shows))
        return out

    existing = [v for v in volumes if v["existing"]]
    maintenance = "!! Cluster is in GLOBAL MAINTENANCE mode !!"
    active = ("active",), ("inactive", "failed")
    fs = cluster["gluster"]["brick_fs"]["mount_point"]
    if slug == "selinux-and-hosts":
        return [_check(on, "getenforce", ("Permissive",))]
    if slug == "stop-engine":
        return [
            _check(
                me,
                "systemctl is-active ovirt-ha-agent ovirt-ha-broker vdsmd",
                ("inactive",),
                note="`inactive` for each",
            )
        ]
    if slug == "install-packages":
        return [
            _check(
                on,
                " ".join(["rpm", "-q", *cluster["packages"]["install"]]),
                (),
                ("is not installed",),
            ),
            _check(on, "systemctl is-active iptables", *active),
        ]
    if slug in ("firewall", "restore-firewall"):
        rule = groups[-1]["rules"][-1]
        p = rule["protocol"]
        return [
            _check(
                on,
                "iptables -S INPUT",
                (f"-A INPUT -p {p} -m {p} --dport {rule['ports']} -j ACCEPT",),
                note="and every other rule of /etc/sysconfig/iptables",
            )
        ]
    if slug == "brick-storage":
        return [
            _check(on, "systemctl is-active glusterd", *active),
            _check(on, f"mountpoint {fs}", (f"{fs} is a mountpoint",)),
        ]
    if slug == "peer-probe":
        return [
            _check(
                me,
                "gluster peer status",
                (f"Number of Peers: {len(hosts) - 1}", "State: Peer in Cluster (Connected)"),
                note="every peer in that state",
            )
        ]
    if slug == "add-bricks":
        return info(existing)
    if slug == "heal-workaround":
        return [
            _check(
                me,
                f"gluster volume heal {v['name']} info",
                ("Number of entries: 0",),
                note="on every brick",
            )
            for v in existing
        ]
    if slug == "nfsmount-conf":
        return [_check(on, "grep -x Lock=False /etc/nfsmount.conf", ("Lock=False",))]
    if slug == "new-volumes":
        return [
            *info([v for v in volumes if not v["existing"]]),
            _check(me, f"mountpoint {mount_point}", (f"{mount_point} is a mountpoint",)),
        ]
    if slug == "ctdb":
        return [
            _check(
                on,
                "ctdb ip",
                [v["ip"] for v in cluster["ctdb"]["vips"]],
                ("-1",),
                "each address held by a node",
            )
        ]
    if slug == "systemd-units":
        unit = mount_point.strip("/").replace("/", "-") + ".mount"
        return [
            _check(on, f"systemctl is-enabled {unit} ctdb.service", ("enabled",), ("disabled",))
        ]
    if slug == "start-engine":
        return [
            _check(
                me, "hosted-engine --vm-status", ('"vm": "up"', '"health": "good"'), (maintenance,)
            )
        ]
    if slug == "hosted-engine-deploy":
        host = next(h for h in hosts if h["name"] == step["hosts"][0])
        return [
            _check(
                host["name"],
                "hosted-engine --vm-status",
                (f"--== Host {host['host_id']} status ==--",),
            )
        ]
    return []


def _templating() -> Any:
    """confgen's templating module, by its path (it needs only Jinja2 and the standard
    library)."""
    spec = importlib.util.spec_from_file_location("confgen_templating", SRC / "templating.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    cluster_file, out = Path(argv[0]), Path(argv[1])
    source = cluster_file.read_text(encoding="utf-8")
    raw = tomllib.loads(source)
    raw_target = raw.get("target", "ovirt35-el7")
    shared, files = context(raw, cluster_file.name, source)
    env = _templating().environment(jinja2.ModuleLoader(str(COMPILED)))
    index = json.loads((COMPILED / "index.json").read_text(encoding="utf-8"))["templates"]
    hosts = {h["name"]: h for h in shared["plan"]["hosts"]}
    steps = {s["number"]: s for s in shared["plan"]["steps"]}
    same_everywhere: dict[str, str] = {}
    made: set[str] = set()  # folders made so far: each is made once
    # Each host folder's stamp: the sha256 of its files as sha256sum writes them, under
    # confgen's comment lines (but its model digest: the floor has no model to take one of).
    stamps: dict[str, list[tuple[str, str]]] = {}
    heads: dict[str, str] = {}
    stamp_name = paths["STAMP"]
    for h in shared["plan"]["hosts"]:
        folder = f"hosts/{h['name']}"
        stamps[folder] = []
        heads[folder] = (
            f"# {folder} of one render by confgen: the sha256 of every other file of this "
            "folder.\n# Each script stops before doing anything unless its folder holds exactly "
            "these files,\n# with this content. `sha256sum --check --strict "
            f"{stamp_name}`, run in this folder, checks\n# the content too.\n"
            f"# Rendered from {cluster_file.name}, target {raw_target}.\n"
        )
    for f in files:
        text = same_everywhere.get(f["template"])
        if text is None:
            ctx = {
                **shared,
                "host": hosts.get(f["host"]),
                "step": steps[f["step"]] if f["step"] is not None else None,
            }
            text = env.get_template(f["template"]).render(ctx)
            if not index[f["template"]]["reads"]:
                same_everywhere[f["template"]] = text
        if f["host"] is not None:
            folder = f"hosts/{f['host']}"
            name = f["path"][len(folder) + 1 :]
            stamps[folder].append((name, hashlib.sha256(text.encode()).hexdigest()))
        target = f"{out}/{f['path']}"
        folder = os.path.dirname(target)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, text.encode())
        os.fchmod(fd, f["mode"])
        os.close(fd)
    for folder, sums in stamps.items():
        # sha256sum's form: a name with a backslash has it doubled, its line a backslash first.
        text = heads[folder] + "".join(
            f"\\{digest}  {name.replace(chr(92), chr(92) * 2)}\n"
            if "\\" in name
            else f"{digest}  {name}\n"
            for name, digest in sorted(sums)
        )
        fd = os.open(f"{out}/{folder}/{stamp_name}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, text.encode())
        os.fchmod(fd, 0o644)
        os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
