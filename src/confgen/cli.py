"""The `confgen` command: a thin shell around the library that turns its errors into messages.
It uses the library's public API alone (`confgen.__all__`), as any other tool would.

Exit codes: 0 success, 1 invalid input, 2 usage error, 3 a bug in confgen (its own plan broke
a rule the target programs enforce), 4 differences found (`diff` only).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from confgen import (
    ChangeError,
    ConfgenError,
    Interrupted,
    OutputError,
    Plan,
    PlanCheckError,
    Problem,
    Severity,
    __version__,
    diff_tree,
    json_schema,
    load,
    plan,
    printable,
    render_change,
    render_files,
    render_plan,
    targets,
    validate,
    write_tree,
)
from confgen import change as plan_change

_DESCRIPTION = """\
Turn one cluster.toml, a typed description of a cluster (its networks, hosts and storage),
into every file and script that sets it up: numbered shell scripts for each host, with a
RUNBOOK.md saying which host runs which script in which order. The file's `target` says
for which releases, and so what the scripts set up:

{targets}

  confgen init cluster.toml          write a commented example of the default target
                                     (--target NAME for another)
  confgen check cluster.toml         report every problem in it, write nothing
  confgen render cluster.toml out/   write the output tree; then follow out/RUNBOOK.md
  confgen diff cluster.toml out/     show what a render would change in out/
  confgen change old.toml new.toml change/   the guarded scripts that take a running
                                     cluster from old.toml to new.toml; then change/CHANGE.md
  confgen schema > cluster.schema.json   a JSON Schema of the file, for editors

Problems are printed as FILE:LINE: KEY.PATH: message. Exit codes: 0 success, 1 invalid
input, 2 usage error, 3 a bug in confgen (please report it), 4 differences found (diff).
"""

_RENDER_HELP = """\
Validate CLUSTER and write the output tree into OUT:

  OUT/RUNBOOK.md                 the steps in order: host, script, what it does, what to wait for
  OUT/hosts/NAME/scripts/NN-*.sh the steps NAME runs, numbered in runbook order
  OUT/hosts/NAME/files/PATH      whole files the scripts install at /PATH
  OUT/hosts/NAME/blocks/PATH/B   lines the scripts keep as the marked block B of /PATH
  OUT/hosts/NAME/data/           files the scripts read without installing them
  OUT/hosts/NAME/render.sha256   the sha256 of every other file of hosts/NAME (sha256sum's form)
  OUT/.confgen-manifest.json     every file's sha256 and mode, confgen's version, the target

Copy hosts/NAME to host NAME, replacing an earlier copy (rsync -a --no-owner --no-group
--delete OUT/hosts/NAME/ root@NAME:confgen/), and run its scripts as root in runbook order.
Each script first checks that its folder holds exactly the files render.sha256 lists.

Nothing is written when CLUSTER has errors. The whole tree is built beside OUT and swapped in
(in one step where the kernel allows), so a failed or interrupted render leaves OUT as it was
(OUT may not be a symbolic link, a mount point or the current folder: give a folder of its
own); files whose content is already right keep their mtime. One render at a time writes OUT
(a lock on the folder that holds it; no lock file is left): another waits (says so) unless
--no-wait; a render that was killed is finished or undone by the next, which says what it did.
confgen refuses to write into a non-empty folder it did not create, to overwrite or remove a
file edited by hand since it wrote it (it lists every such file), and to replace a tree of
another target, unless --force. It says what it added, changed and removed. Ctrl-C: one line,
exit 130.
"""


def _print(source: str, problems: list[Problem]) -> None:
    source = "<stdin>" if source == "-" else printable(source)
    for problem in problems:
        where = f"{source}:{problem.line}" if problem.line is not None else source
        print(f"{where}: {problem}", file=sys.stderr)


def _valid_plan(args: argparse.Namespace) -> Plan | None:
    """Load and validate; print every problem; None when there are errors (or, strict, warnings)."""
    cluster = load(args.cluster)  # it knows its file: its name and lines for what follows
    problems = validate(cluster)
    if args.strict:
        problems = [
            Problem(severity=Severity.ERROR, path=p.path, message=p.message, line=p.line)
            for p in problems
        ]
    _print(args.cluster, problems)
    if any(p.severity is Severity.ERROR for p in problems):
        return None
    # `plan` validates again: a few milliseconds at 300 hosts, where rendering takes seconds.
    return plan(cluster)


def _cmd_check(args: argparse.Namespace) -> int:
    if _valid_plan(args) is None:
        return 1
    print(f"{args.cluster}: valid")
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    the_plan = _valid_plan(args)
    if the_plan is None:
        return 1
    # Rendered as it is written: one host's files in memory at a time (the renderer holds them
    # for their folder's stamp), where a 300-host tree is some 50 MB of text.
    written = write_tree(
        render_files(the_plan),
        args.out,
        force=args.force,
        wait=not args.no_wait,
        report=_report,
    )
    count = sum(map(len, (written.added, written.changed, written.unchanged)))
    done = ", ".join(
        f"{len(paths)} {what}"
        for what, paths in (
            ("added", written.added),
            ("changed", written.changed),
            ("removed", written.removed),
        )
        if paths
    )
    print(
        f"{printable(args.out)}: {count} files, {done or 'none changed'}; "
        f"start with {printable(str(Path(args.out) / 'RUNBOOK.md'))}"
    )
    return 0


def _report(message: str) -> None:
    print(f"confgen: {message}", file=sys.stderr)


# `confgen diff` exits with this when a render would change something: distinct from 1
# (invalid input), as `diff` and `terraform plan -detailed-exitcode` keep them apart.
DIFFERENCES = 4


def _cmd_diff(args: argparse.Namespace) -> int:
    the_plan = _valid_plan(args)
    if the_plan is None:
        return 1
    result = diff_tree(render_plan(the_plan), args.out, report=_report)
    for change in result.changes:
        if args.stat:
            detail = f"mode {change.mode}" if change.mode else f"+{change.added} -{change.removed}"
            print(f"{change.kind:<7} {change.path} | {detail}")
        else:
            sys.stdout.write(change.diff)
    print(f"{args.out}: {result.summary}" if result else f"{args.out}: no differences")
    if result.refused:
        _print(args.out, list(result.refused))
        print(
            f"{args.out}: a render would refuse these without --force (it lists them and "
            "writes nothing)",
            file=sys.stderr,
        )
    return DIFFERENCES if result else 0


_CHANGE_HELP = """\
Plan and write the change that takes a running cluster from FROM (the cluster file as it
stands, usually the committed one) to TO (the file as wanted), into OUT:

  OUT/CHANGE.md                   which host runs which script, in order, and what to check
                                  before going on
  OUT/hosts/NAME/change/NN-*.sh   the change scripts NAME runs, numbered in the change's order
  OUT/hosts/NAME/...              TO's day-1 files of NAME (a new host runs its day-1 steps
                                  from there), stamped with the change scripts as one render

Both files are loaded and validated on their own (each problem with its file, line and key
path), must be of one target, and every difference must be one confgen change takes: new
volumes, volumes grown or shrunk by whole replica sets, hosts joining (on ovirt35-el7 with the
CTDB nodes file and the hosted-engine deploy), hosts leaving (their bricks out first), a
replica count lowered by one (ovirt35-el7), firewall rules added, the CTDB public addresses
(ovirt35-el7), and with --replace a host's new brick disk or a new machine of its name.
Anything else is refused with its key path, why, and how to do it by hand; nothing is written
then. A pair with nothing to do writes a CHANGE.md that says so, and exits 0.

Every change script checks first that the live cluster is FROM (or already TO), stopping with
each difference named otherwise; runs again as a no-op; has DRY_RUN=1. OUT is written as
render writes a tree: whole or not at all, one writer at a time, with a manifest.
"""


def _cmd_change(args: argparse.Namespace) -> int:
    clusters = []
    failed = False
    for name in (args.before, args.after):
        cluster = load(name)
        problems = validate(cluster)
        if args.strict:
            problems = [
                Problem(severity=Severity.ERROR, path=p.path, message=p.message, line=p.line)
                for p in problems
            ]
        _print(name, problems)
        failed = failed or any(p.severity is Severity.ERROR for p in problems)
        clusters.append(cluster)
    if failed:
        return 1
    try:
        the_change = plan_change(clusters[0], clusters[1], replace=args.replace)
    except ChangeError as exc:
        for side, problem in zip(exc.sides, exc.problems, strict=True):
            _print(args.before if side == "from" else args.after, [problem])
        print(f"confgen: no change written: {len(exc.problems)} problem(s) above", file=sys.stderr)
        return 1
    written = write_tree(
        render_change(the_change), args.out, force=args.force, wait=not args.no_wait, report=_report
    )
    runbook = printable(str(Path(args.out) / "CHANGE.md"))
    if the_change.nothing_to_do:
        print(f"{printable(args.out)}: nothing to do: {runbook} says so")
        return 0
    count = sum(map(len, (written.added, written.changed, written.unchanged)))
    print(
        f"{printable(args.out)}: {count} files, {len(the_change.steps)} change steps; "
        f"start with {runbook}"
    )
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    example = targets.get(args.target).example.read_text(encoding="utf-8")
    if args.path == "-":
        sys.stdout.write(example)
        return 0
    path = Path(args.path)
    if path.is_symlink():  # even a dangling one: never write where a link points
        link = f"confgen: {path} is a symbolic link; remove it or name another file"
        print(link, file=sys.stderr)
        return 1
    try:
        # "x" creates the file only if it is not there, in one step with the check.
        with open(path, "w" if args.force else "x", encoding="utf-8") as file:
            file.write(example)
    except FileExistsError:
        print(f"confgen: {path} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"confgen: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(
        f"{path}: a three-host example for {args.target}; edit it, then: confgen render {path} out/"
    )
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    import json

    sys.stdout.write(json.dumps(json_schema(args.target), indent=2) + "\n")
    return 0


def _targets() -> str:
    """Each target's name and summary, the default marked, then what it sets up."""
    import textwrap

    lines = []
    for name in targets.NAMES:
        registered = targets.TARGETS[name]
        default = " (default)" if name == targets.DEFAULT else ""
        lines.append(f"  {name:<13}  {registered.summary}{default}")
        lines += textwrap.wrap(
            f"sets up: {registered.sets_up}",
            width=92,
            initial_indent=" " * 17,
            subsequent_indent=" " * 26,
        )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="confgen",
        description=_DESCRIPTION.format(targets=_targets()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"confgen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def cluster_arguments(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "cluster",
            metavar="CLUSTER",
            help="the cluster file (cluster.toml; - for standard input)",
        )
        command.add_argument(
            "--strict",
            action="store_true",
            help="treat warnings (what a target's rules allow but advise against) as errors",
        )

    render = commands.add_parser(
        "render",
        help="validate a cluster file and write its output tree",
        description=_RENDER_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cluster_arguments(render)
    render.add_argument("out", metavar="OUT", help="the output folder (created if missing)")
    render.add_argument(
        "--force",
        action="store_true",
        help="overwrite or remove files edited by hand since confgen wrote them, or replace a "
        "tree of another target",
    )
    render.add_argument(
        "--no-wait",
        action="store_true",
        help="stop at once, rather than wait, when another render or diff is using OUT's folder",
    )
    render.set_defaults(run=_cmd_render)

    check = commands.add_parser(
        "check",
        help="validate a cluster file and write nothing",
        description="Load and validate CLUSTER, print every problem as FILE:LINE: KEY: message, "
        "write nothing. Exit 0 when it is valid, 1 when it is not.",
    )
    cluster_arguments(check)
    check.set_defaults(run=_cmd_check)

    diff = commands.add_parser(
        "diff",
        help="show what a render would change in an output tree",
        description="Render CLUSTER in memory and print, as a unified diff, what writing it into "
        "OUT would change, then a summary: N to add, M to change, K to remove. Files a render "
        "would refuse to overwrite (edited by hand since confgen wrote them) are named on "
        "standard error. Writes nothing. Exit 0 when nothing would change, 4 when something "
        "would, 1 when CLUSTER is invalid or OUT is no folder a render would write.",
    )
    cluster_arguments(diff)
    diff.add_argument("out", metavar="OUT", help="the output folder to compare with")
    diff.add_argument(
        "--stat",
        action="store_true",
        help="one line per file (add, change or remove, and the lines added and removed) "
        "instead of the diffs",
    )
    diff.set_defaults(run=_cmd_diff)

    changer = commands.add_parser(
        "change",
        help="write the guarded scripts that take a running cluster from one file to the next",
        description=_CHANGE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    changer.add_argument("before", metavar="FROM", help="the cluster file as the cluster stands")
    changer.add_argument("after", metavar="TO", help="the cluster file as it is wanted")
    changer.add_argument("out", metavar="OUT", help="the output folder (created if missing)")
    changer.add_argument(
        "--replace",
        action="append",
        default=[],
        metavar="HOST",
        help="HOST has a new brick disk, or is a new machine, under the same name and addresses: "
        "its steps come first (a new machine is built by TO's day-1 steps and given its place "
        "in the pool back; on ovirt45-el9 the engine reinstalls a new machine with its hosted "
        "engine deployed; on ovirt35-el7 CHANGE.md says what is done in the web admin)",
    )
    changer.add_argument(
        "--strict", action="store_true", help="treat warnings (such as replica 2) as errors"
    )
    changer.add_argument(
        "--force",
        action="store_true",
        help="overwrite files edited by hand since confgen wrote them, or a tree of another target",
    )
    changer.add_argument(
        "--no-wait", action="store_true", help="stop at once when another writer uses OUT"
    )
    changer.set_defaults(run=_cmd_change)

    init = commands.add_parser(
        "init",
        help="write a commented example cluster file",
        description="Write the built-in example of a target: three hosts on one network, "
        "commented, with every default left out. Edit names, addresses, NICs and the brick "
        "device to match your hosts. Targets:\n\n" + _targets(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    init.add_argument(
        "--target",
        choices=targets.NAMES,
        default=targets.DEFAULT,
        help=f"the target to write an example for (default: {targets.DEFAULT})",
    )
    init.add_argument(
        "path",
        nargs="?",
        default="cluster.toml",
        metavar="PATH",
        help="where to write it (default: cluster.toml; - for standard output)",
    )
    init.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    init.set_defaults(run=_cmd_init)

    schema = commands.add_parser(
        "schema",
        help="print a JSON Schema of the cluster file, for editors",
        description="Print a JSON Schema (draft 4) of a target's cluster file, generated from "
        "confgen's models: keys, types and forms of values. Editors with TOML schema support "
        "(taplo, Even Better TOML) complete and check keys with it when the cluster file's "
        "first line names it:\n\n"
        "  confgen schema --target NAME > cluster.schema.json\n"
        "  #:schema ./cluster.schema.json      (the first line of cluster.toml)\n\n"
        "Rules that relate values to each other are confgen check's.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    schema.add_argument(
        "--target",
        choices=targets.NAMES,
        default=targets.DEFAULT,
        help=f"the target whose cluster file it describes (default: {targets.DEFAULT})",
    )
    schema.set_defaults(run=_cmd_schema)
    return parser


# What a shell reports for a command that SIGINT ended: 128 + the signal's number.
INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "out", None) == "":
        _parser().error("OUT is empty: name the output folder (out/)")
    try:
        return _run(args)
    except KeyboardInterrupt as exc:
        # Ctrl-C: one line, no traceback. The writer says what OUT holds (a whole tree).
        what = f"; {exc}" if isinstance(exc, Interrupted) else ""
        if not what and args.command in ("render", "change"):
            what = f"; nothing was written to {printable(args.out)}"
        print(f"confgen: interrupted{what}", file=sys.stderr)
        return INTERRUPTED


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.run(args))
    except OutputError as exc:
        _print(args.out, exc.problems)
        return 1
    except ConfgenError as exc:
        # A file that does not load names itself (LoadError's source); else the command's file.
        _print(exc.source or str(getattr(args, "cluster", "confgen")), exc.problems)
        return 1
    except PlanCheckError as exc:
        # A bug in confgen, not a problem in the file: say so, with what broke, and write
        # nothing (rendering stops before the writer starts).
        print(f"confgen: {exc}", file=sys.stderr)
        return 3
    except OSError as exc:  # anything the library did not turn into a problem of its own
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"confgen: {where}{exc.strerror or exc or type(exc).__name__}", file=sys.stderr)
        return 1
