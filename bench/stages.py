"""Where a render's time goes, stage by stage: `python bench/stages.py [--target NAME] N ...`.

Each N runs in a fresh interpreter, so the import stage is what a `confgen render` pays. The
stages are those of the pipeline (load, validate, plan, context, render, write) plus the
template loading that the first render of each template does; the tree is written to a
temporary folder (on /dev/shm when there is one) and then written again unchanged.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

_STAGES = r"""
import sys, time
start = time.perf_counter()
import confgen
from confgen import templating
from confgen.context import template_context
from confgen.renderer import _env, render_files
from confgen.writer import write_tree
marks = [("import confgen and Jinja2", time.perf_counter())]
text = open(sys.argv[1], encoding="utf-8").read()
cluster = confgen.loads(text)
marks.append(("load (tomllib, models)", time.perf_counter()))
confgen.validate(cluster)
marks.append(("validate", time.perf_counter()))
plan = confgen.plan(cluster, confgen.Source.of("cluster.toml", cluster))
marks.append(("plan", time.perf_counter()))
template_context(plan)
marks.append(("context", time.perf_counter()))
env = _env()
for name in {f.template for f in plan.files}:
    env.get_template(name)
marks.append(("load the compiled templates", time.perf_counter()))
files = dict(render_files(plan))
marks.append(("render (context again, then every file)", time.perf_counter()))
write_tree(files, sys.argv[2])
marks.append(("write a new tree", time.perf_counter()))
write_tree(files, sys.argv[2])
marks.append(("write again, unchanged", time.perf_counter()))
previous = start
for name, mark in marks:
    print(f"{name}\t{1000 * (mark - previous):.0f}")
    previous = mark
"""


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from gen import cluster_toml

    target = "ovirt35-el7"
    if argv[:1] == ["--target"] and len(argv) > 1:
        target, argv = argv[1], argv[2:]
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    for n in [int(a) for a in argv] or [3, 300]:
        with tempfile.TemporaryDirectory(prefix="confgen-stages-", dir=base) as work:
            cluster = Path(work) / "cluster.toml"
            cluster.write_text(cluster_toml(n, target), encoding="utf-8")
            start = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-c", _STAGES, str(cluster), str(Path(work) / "out")],
                capture_output=True,
                text=True,
                check=True,
            )
            wall = time.perf_counter() - start
        print(f"\n{target}, {n} hosts: {wall * 1000:.0f} ms for the whole process\n")
        print("| stage | ms |\n|---|---:|")
        for line in result.stdout.splitlines():
            name, ms = line.split("\t")
            print(f"| {name} | {ms} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
