"""The `confgen` command: a thin shell around the library that turns its errors into messages.

Exit codes: 0 success, 1 invalid input or output, 2 usage error (argparse's own).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from confgen import __version__
from confgen._resources import example_text
from confgen.errors import ConfgenError, Problem, Severity
from confgen.load import load
from confgen.render import render_plan
from confgen.validate import validate
from confgen.write import write_tree

_DESCRIPTION = """\
Turn one cluster.toml, a typed description of a hyperconverged oVirt + GlusterFS + CTDB
cluster, into every file and script that sets it up: iptables rules, CTDB configuration,
systemd units, fstab and nfsmount.conf changes, and numbered shell scripts for each host,
with a RUNBOOK.md saying which host runs which script in which order.

Start with `confgen init` (a commented example of the seed's three hosts), edit it, then
`confgen render cluster.toml out/` and follow out/RUNBOOK.md.
"""

_RENDER_HELP = """\
Validate CLUSTER and write the output tree into OUT:

  OUT/RUNBOOK.md                 the steps in order: host, script, what it does, what to wait for
  OUT/hosts/NAME/scripts/NN-*.sh the steps NAME runs, numbered in runbook order
  OUT/hosts/NAME/files/PATH      whole files the scripts install at /PATH
  OUT/hosts/NAME/blocks/PATH     lines the scripts keep in a marked block of /PATH
  OUT/hosts/NAME/data/           files the scripts read without installing them

Copy hosts/NAME to host NAME and run its scripts as root in runbook order. Files whose content
is already right are not rewritten. Nothing is written when the cluster file has errors.
"""


def _report(source: str, problems: list[Problem]) -> None:
    for problem in problems:
        print(f"{source}: {problem}", file=sys.stderr)


def _validated(cluster_file: str) -> tuple[object, list[Problem]]:
    cluster = load(cluster_file)
    problems = validate(cluster)
    _report(cluster_file, [p for p in problems if p.severity is Severity.WARNING])
    errors = [p for p in problems if p.severity is Severity.ERROR]
    return cluster, errors


def _cmd_render(args: argparse.Namespace) -> int:
    from confgen.plan import plan  # imported here: `check` needs no planning

    cluster, errors = _validated(args.cluster)
    if errors:
        _report(args.cluster, errors)
        return 1
    files = render_plan(plan(cluster))  # type: ignore[arg-type]
    changed = write_tree(files, args.out)
    print(
        f"{args.out}: {len(files)} files, {len(changed)} written; start with "
        f"{Path(args.out) / 'RUNBOOK.md'}"
    )
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    _, errors = _validated(args.cluster)
    if errors:
        _report(args.cluster, errors)
        return 1
    print(f"{args.cluster}: valid")
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if path.exists() and not args.force:
        print(f"confgen: {path} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    try:
        path.write_text(example_text(), encoding="utf-8")
    except OSError as exc:
        print(f"confgen: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"{path}: the seed's three-host example; edit it, then: confgen render {path} out/")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="confgen",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"confgen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    render = commands.add_parser(
        "render",
        help="validate a cluster file and write its output tree",
        description=_RENDER_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    render.add_argument("cluster", metavar="CLUSTER", help="the cluster file (cluster.toml)")
    render.add_argument("out", metavar="OUT", help="the output folder (created if missing)")
    render.set_defaults(run=_cmd_render)

    check = commands.add_parser(
        "check",
        help="validate a cluster file and write nothing",
        description="Load and validate CLUSTER, print every problem, write nothing. "
        "Exit 0 when it is valid, 1 when it is not.",
    )
    check.add_argument("cluster", metavar="CLUSTER", help="the cluster file (cluster.toml)")
    check.set_defaults(run=_cmd_check)

    init = commands.add_parser(
        "init",
        help="write the built-in example cluster file",
        description="Write the built-in example: the seed's three hosts on one network, "
        "commented, with every default left out. Edit names, addresses, NICs and the brick "
        "device to match your hosts.",
    )
    init.add_argument(
        "path",
        nargs="?",
        default="cluster.toml",
        metavar="PATH",
        help="where to write it (default: cluster.toml)",
    )
    init.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    init.set_defaults(run=_cmd_init)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ConfgenError as exc:
        _report(getattr(args, "cluster", "confgen"), exc.problems)
        return 1
