"""Time confgen against the floor and Ansible's template module: `python bench/run.py --help`.

Each command is a whole process, timed from start to exit, with its peak RSS from wait4(2).
Runs alternate between the commands (confgen, floor, ansible-core, then again), so a slow
moment of the machine falls on all of them; each reports the median wall time, and ratios are
taken run by run (confgen's run i against the floor's run i) before their median. Each writes
a fresh tree; "confgen again" renders into the tree confgen just wrote, which must come out
with no file rewritten. Every tree is compared with confgen's by `diff -r` (not counting
confgen's manifest) and the run fails if one differs.

Trees go to /dev/shm when it exists: the benchmark is of the tools, not of the disk.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import cluster_toml
from inventory import inventory

BENCH = Path(__file__).resolve().parent
MANIFEST = ".confgen-manifest.json"


def _timed(command: list[str]) -> tuple[float, float]:
    """Run a command to its end: (wall seconds, peak RSS in MiB of its largest process)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        assert process.stderr is not None
        sys.exit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024  # Linux reports KiB


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def _size(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST]
    return len(files), sum(p.stat().st_size for p in files)


def _same_tree(mine: Path, theirs: Path, who: str) -> None:
    result = subprocess.run(
        ["diff", "-r", "-x", MANIFEST, str(mine), str(theirs)], capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"{who} wrote a different tree:\n{result.stdout[:4000]}{result.stderr}")


@dataclass(frozen=True)
class Row:
    hosts: int
    files: int
    mib: float  # output, not counting confgen's manifest
    tool: str
    runs: int
    wall: float  # median seconds
    to_floor: float | None  # this tool's time over the floor's, median of run-by-run ratios
    ansible_over: float | None  # ansible-core's time over this tool's: how many times faster
    rss: float  # MiB, the largest of the runs


def _bench_size(n: int, runs: int, ansible_runs: int, work: Path) -> list[Row]:
    cluster = work / f"cluster-{n}.toml"
    cluster.write_text(cluster_toml(n), encoding="utf-8")
    mine, floor, theirs = work / f"confgen-{n}", work / f"floor-{n}", work / f"ansible-{n}"
    confgen = [sys.executable, "-m", "confgen", "render", str(cluster), str(mine)]
    # name: (command, the tree it writes, its number of runs)
    commands = {
        "confgen": (confgen, mine, runs),
        "confgen again": (confgen, mine, runs),
        "floor": ([sys.executable, str(BENCH / "floor.py"), str(cluster), str(floor)], floor, runs),
    }
    if ansible_runs:
        inv = work / f"inventory-{n}.json"
        inv.write_text(json.dumps(inventory(cluster, theirs)) + "\n", encoding="utf-8")
        playbook = [shutil.which("ansible-playbook") or "ansible-playbook", "-i", str(inv)]
        commands["ansible-core"] = (
            [*playbook, str(BENCH / "ansible" / "render.yml")],
            theirs,
            ansible_runs,
        )
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for run in range(max(runs, ansible_runs)):
        for name, (command, tree, count) in commands.items():
            if run >= count:
                continue
            if name != "confgen again":
                shutil.rmtree(tree, ignore_errors=True)
            before = _snapshot(tree) if name == "confgen again" else None
            times[name].append(_timed(command))
            if before is not None and _snapshot(tree) != before:
                sys.exit(f"confgen rewrote files of an unchanged {n}-host tree")
    _same_tree(mine, floor, "the floor")
    if ansible_runs:
        _same_tree(mine, theirs, "ansible-core")
    files, size = _size(mine)

    def ratio(name: str, other: str) -> float | None:
        """The median of name's time over other's, run i against run i."""
        if name not in times or other not in times or name == other:
            return None
        pairs = zip(times[name], times[other], strict=False)
        return statistics.median(mine / theirs for (mine, _), (theirs, _) in pairs)

    rows = [
        Row(
            hosts=n,
            files=files,
            mib=size / 2**20,
            tool=name,
            runs=len(measured),
            wall=statistics.median(t for t, _ in measured),
            to_floor=ratio(name, "floor"),
            ansible_over=ratio("ansible-core", name),
            rss=max(r for _, r in measured),
        )
        for name, measured in times.items()
    ]
    for _, tree, _ in commands.values():
        shutil.rmtree(tree, ignore_errors=True)
    return rows


def _x(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def _table(rows: list[Row]) -> str:
    lines = [
        "| hosts | files | MiB out | tool | runs | median wall | s per MiB | time ÷ floor's "
        "| ansible-core's time ÷ this | peak RSS |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.hosts} | {r.files} | {r.mib:.1f} | {r.tool} | {r.runs} | {r.wall:.3f} s "
            f"| {r.wall / r.mib:.3f} | {_x(r.to_floor)} | {_x(r.ansible_over)} | {r.rss:.0f} MiB |"
        )
    return "\n".join(lines)


def _machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    versions = []
    for package in ("confgen", "jinja2", "attrs", "cattrs", "ansible-core"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} not installed")
    return (
        f"- machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}\n"
        f"- Python {platform.python_version()}; {', '.join(versions)}\n"
        f"- command: `python bench/run.py {' '.join(sys.argv[1:])}`"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python bench/run.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="3,30,300", help="host counts (default 3,30,300)")
    parser.add_argument("--runs", type=int, default=7, help="runs of confgen and the floor")
    parser.add_argument(
        "--ansible-runs",
        default="3",
        help="runs of ansible-core, one number or one per size (3,1,0); 0 leaves it out",
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 hosts, one run, no ansible: only proves it works"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.runs, args.ansible_runs = "3", 1, "0"
    sizes = [int(s) for s in args.sizes.split(",")]
    ansible = [int(s) for s in args.ansible_runs.split(",")]
    ansible += [ansible[-1]] * (len(sizes) - len(ansible))
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    rows = []
    with tempfile.TemporaryDirectory(prefix="confgen-bench-", dir=base) as work:
        for n, ansible_runs in zip(sizes, ansible, strict=False):
            rows += _bench_size(n, args.runs, ansible_runs, Path(work))
    print(_machine())
    print()
    print(_table(rows))
    print()
    print(_growth(rows))
    return 0


def _growth(rows: list[Row]) -> str:
    """confgen's cost of each further MiB of output between consecutive sizes: equal
    figures mean time grows linearly with the output, beyond a fixed start-up cost."""
    mine = [r for r in rows if r.tool == "confgen"]
    lines = []
    for small, large in itertools.pairwise(mine):
        extra, size = large.wall - small.wall, large.mib - small.mib
        lines.append(
            f"- {small.hosts} to {large.hosts} hosts: {extra:.3f} s more for {size:.1f} MiB "
            f"more output, {extra / size:.3f} s per MiB"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
