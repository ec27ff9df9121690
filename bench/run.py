"""Time confgen against the floor and Ansible's template module: `python bench/run.py --help`.

Each command is a whole process, started by a launcher that imports nothing (launch.py) and
timed there from fork to exit, with its peak RSS from wait4(2): measured from the runner
itself, every command would inherit the runner's own peak. One warm-up run of each command is
discarded; then runs alternate between the commands (confgen, floor, ..., then again), so a
slow moment of the machine falls on all of them; each reports the median wall time, and ratios
are taken run by run (confgen's run i against the floor's run i) before their median. Each
writes a fresh tree; "confgen again" renders into the tree confgen just wrote, which must come
out with no file rewritten. Every tree is compared with confgen's, content (`diff -r`, not
counting confgen's manifest) and each file's mode, and the run fails if one differs.

The figures are with Python's bytecode caches, as an installed package has them; the rows
"no .pyc" run the same command with no cache to read or write (PYTHONDONTWRITEBYTECODE=1 and
an empty PYTHONPYCACHEPREFIX), as in many containers and CI jobs. "imports" is
`python -c 'import jinja2, attrs, cattrs, tomllib'`: what any tool built on those libraries
pays before its first line; "floor's imports" is `python -c 'import jinja2, tomllib'`, what the
floor imports, and "floor's imports and attrs" adds attrs. The row "floor + importing attrs
(computed)" is, run by run, the floor's time plus what importing attrs adds: the least a tool
whose models are attrs classes could take with no work of its own beyond the floor's. (confgen
reads a valid file without cattrs, which it imports only to report an invalid file's problems.)

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
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import cluster_toml
from inventory import inventory

BENCH = Path(__file__).resolve().parent
MANIFEST = ".confgen-manifest.json"
# Each host folder's stamp (confgen's paths.STAMP). The floor writes it but its line of the
# model's digest (it has no model); Ansible's template module writes none: a task could only
# hash the files its other tasks render with another pass over them.
STAMP = "render.sha256"
MODEL_LINE = "# Cluster model sha256 "


# The rows without a suffix run as an installed package does, with its bytecode caches read and
# (by the warm-up run) written, whatever the shell running the benchmark sets.
_CACHED = {
    key: value
    for key, value in os.environ.items()
    if key not in {"PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}
}


def _timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command to its end through the launcher: (wall seconds, peak RSS in MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".launch") as result:
        launched = subprocess.run(
            [sys.executable, "-S", "-I", str(BENCH / "launch.py"), result.name, *command],
            stderr=subprocess.PIPE,
            env={**_CACHED, **(env or {})},
            check=False,
        )
        wall, rss, code = result.read().split()
    if launched.returncode != 0 or int(code) != 0:
        sys.exit(f"{' '.join(command)} failed:\n{launched.stderr.decode()}")
    return float(wall), int(rss) / 1024  # Linux reports KiB


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def _size(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST]
    return len(files), sum(p.stat().st_size for p in files)


def _modes(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): p.stat().st_mode & 0o7777
        for p in root.rglob("*")
        if p.is_file() and p.name not in (MANIFEST, STAMP)
    }


def _same_tree(mine: Path, theirs: Path, who: str, stamps: bool = True) -> None:
    """The same files with the same content (diff -r) and the same modes (diff ignores them);
    with `stamps`, the same stamps but for the model's digest."""
    result = subprocess.run(
        ["diff", "-r", "-x", MANIFEST, "-x", STAMP, str(mine), str(theirs)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"{who} wrote a different tree:\n{result.stdout[:4000]}{result.stderr}")
    for stamp in sorted(mine.glob(f"hosts/*/{STAMP}")) if stamps else []:
        other_stamp = theirs / stamp.relative_to(mine)
        ours_text = [
            line for line in stamp.read_text().splitlines() if not line.startswith(MODEL_LINE)
        ]
        if not other_stamp.is_file() or other_stamp.read_text().splitlines() != ours_text:
            sys.exit(f"{who} wrote a different {stamp.relative_to(mine)}")
    ours, other = _modes(mine), _modes(theirs)
    differ = sorted(p for p in ours if ours[p] != other.get(p))
    if differ:
        shown = ", ".join(f"{p} {ours[p]:o} vs {other.get(p, 0):o}" for p in differ[:5])
        sys.exit(f"{who} wrote files with other modes: {shown}")


def _ansible_playbook() -> str:
    """ansible-playbook of the Python running the benchmark (a virtual environment's), else
    the one on PATH."""
    beside = Path(sys.executable).parent / "ansible-playbook"
    if beside.exists():
        return str(beside)
    return shutil.which("ansible-playbook") or "ansible-playbook"


@dataclass(frozen=True)
class Row:
    hosts: int
    files: int
    mib: float  # output, not counting confgen's manifest
    tool: str
    runs: int
    wall: float  # median seconds
    to_floor: float | None  # this tool's time over the floor's, median of run-by-run ratios
    to_imports: float | None  # this tool's time over the imports' alone
    ansible_over: float | None  # ansible-core's time over this tool's: how many times faster
    rss: float | None  # MiB, the largest of the runs (None: a computed row)


def _bench_size(n: int, runs: int, ansible_runs: int, work: Path) -> list[Row]:
    cluster = work / f"cluster-{n}.toml"
    cluster.write_text(cluster_toml(n), encoding="utf-8")
    mine, floor, theirs = work / f"confgen-{n}", work / f"floor-{n}", work / f"ansible-{n}"
    confgen = [sys.executable, "-m", "confgen", "render", str(cluster), str(mine)]
    floor_command = [sys.executable, str(BENCH / "floor.py"), str(cluster), str(floor)]
    no_pyc = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": str(work / "no-pyc")}
    imports = [sys.executable, "-c", "import jinja2, attrs, cattrs, tomllib"]
    floor_imports = [sys.executable, "-c", "import jinja2, tomllib"]
    with_attrs = [sys.executable, "-c", "import jinja2, tomllib, attrs"]
    # name: (command, the tree it writes or None, its number of runs, its environment)
    commands: dict[str, tuple[list[str], Path | None, int, dict[str, str]]] = {
        "confgen": (confgen, mine, runs, {}),
        "confgen again": (confgen, mine, runs, {}),
        "floor": (floor_command, floor, runs, {}),
        "confgen, no .pyc": (confgen, mine, runs, no_pyc),
        "floor, no .pyc": (floor_command, floor, runs, no_pyc),
        "imports": (imports, None, runs, {}),
        "floor's imports": (floor_imports, None, runs, {}),
        "floor's imports and attrs": (with_attrs, None, runs, {}),
    }
    if ansible_runs:
        inv = work / f"inventory-{n}.json"
        inv.write_text(json.dumps(inventory(cluster, theirs)) + "\n", encoding="utf-8")
        playbook = [_ansible_playbook(), "-i", str(inv), str(BENCH / "ansible" / "render.yml")]
        commands["ansible-core"] = (playbook, theirs, ansible_runs, {})
    times: dict[str, list[tuple[float, float | None]]] = {name: [] for name in commands}
    # Run 0 warms the machine's caches (the page cache, the CPU's) for every command and is
    # not counted. Ansible, at minutes a run, is not warmed.
    for run in range(max(runs, ansible_runs) + 1):
        for name, (command, tree, count, env) in commands.items():
            warm_up = run == 0
            if (warm_up and name == "ansible-core") or run > count:
                continue
            if tree is not None and name != "confgen again":
                shutil.rmtree(tree, ignore_errors=True)
            before = _snapshot(tree) if tree is not None and name == "confgen again" else None
            measured = _timed(command, env)
            if not warm_up or name == "ansible-core":
                times[name].append(measured)
            if before is not None and tree is not None and _snapshot(tree) != before:
                sys.exit(f"confgen rewrote files of an unchanged {n}-host tree")
            if run == 1 and name.startswith("floor"):
                _same_tree(mine, floor, f"the {name}")
    if ansible_runs:
        _same_tree(mine, theirs, "ansible-core", stamps=False)
    files, size = _size(mine)

    def ratio(name: str, other: str) -> float | None:
        """The median of name's time over other's, run i against run i."""
        if name not in times or other not in times or name == other:
            return None
        pairs = zip(times[name], times[other], strict=False)
        return statistics.median(mine / theirs for (mine, _), (theirs, _) in pairs)

    # The least a tool whose models are attrs classes can take: the floor's run plus what
    # importing attrs adds to the floor's imports, run by run. (confgen reads a valid file
    # without cattrs: it is imported only to report the problems of an invalid one.)
    times[LEAST] = [
        (floor + (with_it - without), None)
        for (floor, _), (with_it, _), (without, _) in zip(
            times["floor"],
            times["floor's imports and attrs"],
            times["floor's imports"],
            strict=False,
        )
    ]
    rows = [
        Row(
            hosts=n,
            files=files,
            mib=size / 2**20,
            tool=name,
            runs=len(measured),
            wall=statistics.median(t for t, _ in measured),
            to_floor=ratio(name, "floor") if name not in IMPORTS_ONLY else None,
            to_imports=ratio(name, "imports") if name != LEAST else None,
            ansible_over=ratio("ansible-core", name) if name != LEAST else None,
            rss=max((r for _, r in measured if r is not None), default=None),
        )
        for name, measured in times.items()
    ]
    for _, tree, _, _ in commands.values():
        if tree is not None:
            shutil.rmtree(tree, ignore_errors=True)
    return rows


LEAST = "floor + importing attrs (computed)"
IMPORTS_ONLY = {"imports", "floor's imports", "floor's imports and attrs"}
NO_OUTPUT = {*IMPORTS_ONLY, LEAST}


def _x(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def _table(rows: list[Row]) -> str:
    lines = [
        "| hosts | files | MiB out | tool | runs | median wall | s per MiB | time ÷ floor's "
        "| time ÷ imports' | ansible-core's time ÷ this | peak RSS |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        per_mib = f"{r.wall / r.mib:.3f}" if r.tool not in NO_OUTPUT else ""
        rss = f"{r.rss:.0f} MiB" if r.rss is not None else ""
        lines.append(
            f"| {r.hosts} | {r.files} | {r.mib:.1f} | {r.tool} | {r.runs} | {r.wall:.3f} s "
            f"| {per_mib} | {_x(r.to_floor)} | {_x(r.to_imports)} | {_x(r.ansible_over)} "
            f"| {rss} |"
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
