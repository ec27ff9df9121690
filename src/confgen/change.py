"""Change: what takes a running cluster from one cluster file (FROM) to the next (TO).

The core's part names no program. It compares the two clusters (the hosts by name: joined,
left, kept, replaced; every other value by its key path), numbers the steps a target composes
from its components' transitions, lays out the change tree and renders it with the day-1
script frame. A component says its own transitions (`confgen.components.gluster_change`), a
target orders them (`confgen.targets.<name>.change`); a pair the target cannot take is refused,
each problem with the key path it is about and the side (FROM or TO) that key is in.

Like a plan, a change plan is pure: the same two clusters give the same steps and bytes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from attrs import Factory

from confgen import targets
from confgen.errors import ConfgenError, Problem, Severity, error, quoted
from confgen.models import Cluster, Host
from confgen.paths import SCRIPTS, STAMP
from confgen.planner import Check, Plan, Source, plan
from confgen.records import asdict, record

# A change tree's folder of change scripts in each host's folder, beside the day-1 scripts/.
CHANGE_DIR = "change"
CHANGE_RUNBOOK = "CHANGE.md"
# The sides of a change: the cluster as it stands, and as it is wanted.
FROM = "from"
TO = "to"


@record
class HostDiff:
    """The hosts of two clusters, compared by name; each tuple in host ID order."""

    joined: tuple[str, ...]  # in TO only
    left: tuple[str, ...]  # in FROM only
    kept: tuple[str, ...]  # in both
    replaced: tuple[str, ...]  # kept, and named by --replace


@record
class Refusal:
    """A problem with a pair of cluster files: its key path is in FROM or in TO (`side`)."""

    side: str
    problem: Problem


class ChangeError(ConfgenError):
    """The pair of cluster files cannot be changed one into the other by confgen; each problem
    names its key path, and `sides` says for each whether that key is FROM's or TO's."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        self.sides = [r.side for r in refusals]
        super().__init__([r.problem for r in refusals])


@record
class ChangeSpec:
    """A step of a change as a component or a target writes it, before it is numbered: a
    change script (`template`, rendered into hosts/H/change/NN-slug.sh), or a day-1 script
    of TO's tree run as it is (`day_one`: scripts/NN-slug.sh of the host's folder)."""

    slug: str
    title: str
    hosts: tuple[str, ...]
    template: str | None = None
    day_one: str | None = None
    checks: tuple[Check, ...] = ()
    data: Mapping[str, Any] = Factory(dict)  # what its template reads as `step.data`
    files: Mapping[str, str] = Factory(dict)  # more files of each host's folder: path -> text


@record
class ChangeStep:
    """A numbered step of a change: run `script` of each host's folder, in `hosts` order."""

    number: int
    slug: str
    title: str
    hosts: tuple[str, ...]
    template: str | None
    day_one: str | None
    checks: tuple[Check, ...]
    data: Mapping[str, Any]
    files: Mapping[str, str]

    @property
    def script(self) -> str:
        """The script, relative to a host's folder."""
        if self.day_one is not None:
            return self.day_one
        return f"{CHANGE_DIR}/{self.number:02d}-{self.slug}.sh"


@record
class ChangePlan:
    """What a change runs where, in which order: the plans of both sides, the hosts compared,
    the steps, and the runbook's notes (what is left to an administrator, and why)."""

    before: Plan
    after: Plan
    hosts: HostDiff
    steps: tuple[ChangeStep, ...]
    notes: tuple[str, ...] = ()

    @property
    def nothing_to_do(self) -> bool:
        return not self.steps

    @property
    def host_folders(self) -> tuple[str, ...]:
        """The hosts that run a step, in TO's host ID order, then the hosts that leave in
        FROM's: each gets its folder."""
        running = {name for step in self.steps for name in step.hosts}
        left = set(self.hosts.left)
        return tuple(h.name for h in self.after.hosts if h.name in running) + tuple(
            h.name for h in self.before.hosts if h.name in running and h.name in left
        )


# What a target gives to plan a change: (FROM's plan, TO's plan, the hosts compared, the key
# paths that differ) -> (the steps in order, the notes, the refusals).
Planner = Callable[
    [Any, Any, HostDiff, Sequence["Difference"]],
    tuple[Sequence[ChangeSpec], Sequence[str], Sequence[Refusal]],
]


# --- comparing two clusters -----------------------------------------------------------------


@record
class Difference:
    """A key whose value differs: its path in TO (or in FROM, for what TO no longer has)."""

    path: str
    side: str
    before: Any
    after: Any


def _plain(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


def _data(cluster: Cluster) -> dict[str, Any]:
    return asdict(cluster.canonical(), value_serializer=lambda _c, _f, v: _plain(v))


def _by_name(items: list[Any]) -> dict[str, tuple[int, Any]] | None:
    """A list of tables that each have a `name`, by name; None for any other list."""
    if not items or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        return None
    named = {i["name"]: (n, i) for n, i in enumerate(items)}
    return named if len(named) == len(items) else None


def _walk(path: str, before: Any, after: Any, after_path: str) -> Iterator[Difference]:
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            yield from _walk(
                f"{path}.{key}" if path else key,
                before.get(key),
                after.get(key),
                f"{after_path}.{key}" if after_path else key,
            )
        return
    if isinstance(before, list | tuple) and isinstance(after, list | tuple):
        old, new = _by_name(list(before)), _by_name(list(after))
        if old is not None and new is not None:
            # Tables with a name are compared by it: the same host at another index is the
            # same host; one new or gone is a whole entry that differs.
            for name, (j, item) in new.items():
                if name in old:
                    i, was = old[name]
                    yield from _walk(f"{path}[{i}]", was, item, f"{after_path}[{j}]")
                else:
                    yield Difference(path=f"{after_path}[{j}]", side=TO, before=None, after=item)
            for name, (i, was) in old.items():
                if name not in new:
                    yield Difference(path=f"{path}[{i}]", side=FROM, before=was, after=None)
            return
    yield Difference(path=after_path, side=TO, before=before, after=after)


def differences(before: Cluster, after: Cluster) -> list[Difference]:
    """Every key whose value differs between two clusters, defaults filled in; tables with a
    `name` (hosts, volumes) compared by name, so an entry moved in its list is no difference."""
    return list(_walk("", _data(before), _data(after), ""))


def compare_hosts(before: Cluster, after: Cluster, replace: Sequence[str] = ()) -> HostDiff:
    old = {h.name for h in before.hosts}
    new = {h.name for h in after.hosts}

    def by_id(hosts: Sequence[Host], names: set[str]) -> tuple[str, ...]:
        return tuple(h.name for h in sorted(hosts, key=lambda h: h.host_id) if h.name in names)

    kept = by_id(after.hosts, old & new)
    return HostDiff(
        joined=by_id(after.hosts, new - old),
        left=by_id(before.hosts, old - new),
        kept=kept,
        replaced=tuple(name for name in kept if name in set(replace)),
    )


def _addresses(host: Host) -> set[str]:
    return {str(i.address) for i in host.interfaces.values()} | {host.fqdn.lower()}


def host_refusals(before: Cluster, after: Cluster, replace: Sequence[str]) -> Iterator[Refusal]:
    """What the core refuses of any pair: a renamed host, a host named by --replace that is in
    neither file as kept, the first host moved, a kept host's host ID changed."""
    hosts = compare_hosts(before, after, replace)
    index = {h.name: i for i, h in enumerate(after.hosts)}
    gone = [h for h in before.hosts if h.name in hosts.left]
    for host in after.hosts:
        if host.name not in hosts.joined:
            continue
        same = [g for g in gone if _addresses(g) & _addresses(host)]
        if same:
            yield Refusal(
                side=TO,
                problem=error(
                    f"hosts[{index[host.name]}].name",
                    f"{quoted(host.name)} has the addresses or FQDN of {quoted(same[0].name)} "
                    "of FROM: a renamed host, which confgen change does not do. By hand: take "
                    "the host out under its old name (its bricks replaced or removed, `gluster "
                    "peer detach`), then add it under the new one as a new host; or keep its "
                    "old name in TO",
                ),
            )
    for name in replace:
        if name not in hosts.kept:
            yield Refusal(
                side=TO,
                problem=error(
                    "hosts",
                    f"--replace {quoted(name)}: no host of that name is in both FROM and TO",
                ),
            )
    before_first = next((h.name for h in before.hosts if h.first), None)
    after_first = next((h.name for h in after.hosts if h.first), None)
    if before_first != after_first and after_first is not None:
        yield Refusal(
            side=TO,
            problem=error(
                f"hosts[{index[after_first]}].first",  # after_first is TO's
                f"the first host moves from {quoted(before_first)} to {quoted(after_first)}: "
                "the hosted engine was deployed from the first host, which a change does not "
                "move; keep `first` on the same host",
            ),
        )
    old_ids = {h.name: h.host_id for h in before.hosts}
    for host in after.hosts:
        if host.name in hosts.kept and old_ids[host.name] != host.host_id:
            yield Refusal(
                side=TO,
                problem=error(
                    f"hosts[{index[host.name]}].host_id",
                    f"{quoted(host.name)} has host ID {old_ids[host.name]} in FROM and "
                    f"{host.host_id} in TO: the hosted engine knows a host by its ID, which "
                    "a change does not renumber",
                ),
            )


def first_leaves(before: Cluster, after: Cluster) -> Iterator[Refusal]:
    """FROM's first host, which TO has not: refused before TO's own validation (which asks
    for a first host) says anything, with the reason."""
    names = {h.name for h in after.hosts}
    for i, host in enumerate(before.hosts):
        if host.first and host.name not in names:
            yield Refusal(
                side=FROM,
                problem=error(
                    f"hosts[{i}]",
                    f"{quoted(host.name)} is the first host, which TO does not have: the first "
                    "host deployed the hosted engine, and it runs the pool's commands and "
                    "writes the shared files for every host; a change does not move that role. "
                    "By hand: move the engine's role first (the engine's VM and its storage "
                    "connection to another host, oVirt's hosted-engine documentation), make "
                    "that host first in FROM, then take this one out with confgen change",
                ),
            )


def refuse_unhandled(
    found: Sequence[Difference], handled: Callable[[Difference], bool]
) -> Iterator[Refusal]:
    """A refusal for each difference no transition takes (`handled`): never left out silently."""
    for d in found:
        if not handled(d):
            yield Refusal(
                side=d.side,
                problem=error(
                    d.path,
                    f"changed from {quoted(d.before)} to {quoted(d.after)}: not yet supported "
                    "by confgen change; render TO and apply this part by hand, following the "
                    "step of RUNBOOK.md that sets it",
                )
                if d.before is not None and d.after is not None
                else error(
                    d.path,
                    ("added" if d.before is None else "removed")
                    + ": not yet supported by confgen change",
                ),
            )


def number(specs: Sequence[ChangeSpec]) -> tuple[ChangeStep, ...]:
    """Number a change's steps in the order given, from 01."""
    return tuple(
        ChangeStep(
            number=n,
            slug=s.slug,
            title=s.title,
            hosts=s.hosts,
            template=s.template,
            day_one=s.day_one,
            checks=s.checks,
            data=s.data,
            files=s.files,
        )
        for n, s in enumerate(specs, start=1)
    )


def _valid(cluster: Cluster, side: str) -> list[Refusal]:
    from confgen.validator import validate

    return [
        Refusal(side=side, problem=p) for p in validate(cluster) if p.severity is Severity.ERROR
    ]


def change(
    before: Cluster,
    after: Cluster,
    *,
    replace: Sequence[str] = (),
    source: Source | None = None,
) -> ChangePlan:
    """Plan the change that takes a running cluster described by `before` (FROM) to `after`
    (TO): which host runs which script, in order. Pure: the same pair gives the same plan.

    `replace` names hosts that keep their name and addresses on a new disk or machine.
    `source` names TO's file in every script's header (by default as `load` read it).

    Raises `ChangeError` with every problem, each with its key path and side: either cluster
    invalid, a target change, or a difference the target's change does not take.
    """
    refusals = _valid(before, FROM) + _valid(after, TO)
    if before.target == after.target:
        refusals = list(first_leaves(before, after)) + refusals
    if refusals:
        raise ChangeError(refusals)
    if before.target != after.target:
        raise ChangeError(
            [
                Refusal(
                    side=TO,
                    problem=error(
                        "target",
                        f"FROM is {quoted(before.target)} and TO {quoted(after.target)}: a "
                        "cluster is not changed to another target in place; build TO's "
                        "cluster anew (confgen render) and move the virtual machines",
                    ),
                )
            ]
        )
    target = targets.of(after)
    if target.change is None:
        raise ChangeError(
            [
                Refusal(
                    side=TO,
                    problem=error("target", f"target {after.target} has no change planner"),
                )
            ]
        )
    refusals = list(host_refusals(before, after, replace))
    before_plan = plan(before)
    after_plan = plan(after, source)
    hosts = compare_hosts(before, after, replace)
    specs, notes, more = target.change(before_plan, after_plan, hosts, differences(before, after))
    refusals += more
    if refusals:
        raise ChangeError(refusals)
    return ChangePlan(
        before=before_plan,
        after=after_plan,
        hosts=hosts,
        steps=number(specs),
        notes=tuple(notes),
    )


# --- the change tree ------------------------------------------------------------------------


def _check(c: Check) -> dict[str, Any]:
    return {
        "on": c.on,
        "command": c.command,
        "shows": list(c.shows),
        "not_shows": list(c.not_shows),
        "note": c.note,
    }


def _step(s: ChangeStep) -> dict[str, Any]:
    return {
        "number": s.number,
        "slug": s.slug,
        "title": s.title,
        "hosts": list(s.hosts),
        "script": s.script,
        "day_one": s.day_one is not None,
        "checks": [_check(c) for c in s.checks],
        "data": dict(s.data),
    }


def change_data(the_change: ChangePlan) -> dict[str, Any]:
    """A change plan as plain data: what CHANGE.md and the change scripts read as `change`."""
    before, after = the_change.before, the_change.after
    return {
        "before": {"name": before.source.name if before.source else "FROM"},
        "after": {"name": after.source.name if after.source else "TO"},
        "hosts": {
            "joined": list(the_change.hosts.joined),
            "left": list(the_change.hosts.left),
            "kept": list(the_change.hosts.kept),
            "replaced": list(the_change.hosts.replaced),
            "left_hosts": [
                {"name": h.name, "fqdn": h.host.fqdn}
                for h in before.hosts
                if h.name in the_change.hosts.left
            ],
        },
        "steps": [_step(s) for s in the_change.steps],
        "last_step_number": the_change.steps[-1].number if the_change.steps else 0,
        "host_folders": list(the_change.host_folders),
        "notes": list(the_change.notes),
        "nothing_to_do": the_change.nothing_to_do,
    }


def render_change(the_change: ChangePlan) -> Any:
    """Render a change tree in memory (a `confgen.RenderedTree`): CHANGE.md; for each host that
    runs a step, TO's day-1 folder of that host (the files it installs, and the day-1 scripts
    a new host runs) with its change scripts in change/, stamped as one render. A host that
    leaves has no folder in TO: its folder is FROM's, and its change scripts see the cluster
    as FROM has it."""
    from confgen import renderer
    from confgen.context import template_context

    before, after = the_change.before, the_change.after
    env = renderer._env()
    shared = template_context(after)
    hosts = {h["name"]: h for h in shared["plan"]["hosts"]}
    left = set(the_change.hosts.left)
    shared_before = template_context(before) if left else shared
    hosts_before = {h["name"]: h for h in shared_before["plan"]["hosts"]}
    data = change_data(the_change)
    folders = frozenset(f"hosts/{name}" for name in the_change.host_folders)
    leaving = frozenset(f"hosts/{name}" for name in the_change.host_folders if name in left)
    held: dict[str, dict[str, renderer.RenderedFile]] = {folder: {} for folder in folders}
    for side, own in ((after, folders - leaving), (before, leaving)):
        if not own:
            continue
        for path, file in renderer._render_files(side):
            folder = renderer._host_folder(path, own)
            if folder is not None and path != f"{folder}/{STAMP}":
                held[folder][path] = file
    steps = {s["number"]: s for s in data["steps"]}
    for step in the_change.steps:
        for name in step.hosts:
            for path, text in step.files.items():
                held[f"hosts/{name}"][f"hosts/{name}/{path}"] = renderer.RenderedFile(
                    text=text, mode=0o644
                )
        if step.template is None:
            continue
        template = env.get_template(step.template)
        for name in step.hosts:
            context, host = (
                (shared_before, hosts_before[name]) if name in left else (shared, hosts[name])
            )
            text = template.render(
                {**context, "host": host, "step": steps[step.number], "change": data}
            )
            held[f"hosts/{name}"][f"hosts/{name}/{step.script}"] = renderer.RenderedFile(
                text=text, mode=0o755
            )
    files: dict[str, renderer.RenderedFile] = {}
    for folder in sorted(folders):
        listed = sorted(held[folder].items())
        files.update(renderer._with_stamp(folder, listed, before if folder in leaving else after))
    runbook = env.get_template("common/CHANGE.md.j2").render(
        {**shared, "host": None, "step": None, "change": data}
    )
    files[CHANGE_RUNBOOK] = renderer.RenderedFile(text=runbook, mode=0o644)
    return renderer.RenderedTree(
        files=dict(sorted(files.items())), target=after.cluster.target, source=after.source
    )


def day_one(after: Plan, slug: str, hosts: Sequence[str]) -> list[ChangeSpec]:
    """TO's day-1 steps of that name, run as they are on those of `hosts` that run them (the
    last such step of each host, in step order): a day-1 script is re-runnable, so on a host
    already built it does only what TO adds."""
    wanted = set(hosts)
    last: dict[str, int] = {}
    for step in after.steps:
        if step.slug == slug:
            for name in step.hosts:
                if name in wanted:
                    last[name] = step.number
    specs = []
    for step in after.steps:
        on = tuple(name for name in step.hosts if last.get(name) == step.number)
        if step.slug == slug and on:
            specs.append(
                ChangeSpec(
                    slug=slug,
                    title=step.title,
                    hosts=on,
                    day_one=f"{SCRIPTS}/{step.script}",
                    checks=step.checks,
                )
            )
    return specs
