"""Write the Ansible peer's inventory for a cluster: `python bench/inventory.py CLUSTER OUT INV`.

One inventory host per cluster host, with `connection: local` in the play. The data is
confgen's own template context, so both renderers give the templates the same values; OUT is
where the play writes the tree. Not timed: a user of Ansible would keep such an inventory.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import confgen


def inventory(cluster_file: Path, out: Path) -> dict[str, Any]:
    text = cluster_file.read_text(encoding="utf-8")
    cluster = confgen.loads(text)
    plan = confgen.plan(cluster, confgen.Source.of(cluster_file.name, cluster))
    shared = confgen.template_context(plan)
    hosts: dict[str, Any] = {
        h["name"]: {"host": h, "files": [], "folders": set()} for h in shared["plan"]["hosts"]
    }
    runbook = None
    for f in plan.files:
        entry = {"path": f.path, "template": f.template, "mode": f"{f.mode:04o}", "step": f.step}
        if f.host is None:
            runbook = entry
            continue
        hosts[f.host]["files"].append(entry)
        hosts[f.host]["folders"].add(f.path.rsplit("/", 1)[0])
    for h in hosts.values():
        h["folders"] = sorted(h["folders"])
    return {
        "all": {
            "hosts": hosts,
            "vars": {
                **shared,
                "runbook": runbook,
                "out": str(out.resolve()),
                # Interpreter discovery may pick another Python; the play runs locally anyway.
                "ansible_python_interpreter": sys.executable,
            },
        }
    }


def main(argv: list[str]) -> int:
    cluster_file, out, inv = Path(argv[0]), Path(argv[1]), Path(argv[2])
    inv.write_text(json.dumps(inventory(cluster_file, out), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
