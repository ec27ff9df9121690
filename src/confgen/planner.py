"""Plan: what goes on which host, and in which order, for a valid cluster.

Every fact derived from the cluster file is computed here, in a component or in the target's
planning module once (brick lists, node lists, unit names, the steps and their order), so
templates only lay it out. This module holds what every target's plan has; the components
(`confgen.components`) and `confgen.targets` add the rest.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from ipaddress import IPv4Address, IPv4Interface
from typing import TypeVar

from confgen import targets
from confgen.errors import PlanCheckError, Severity, ValidationError
from confgen.models import MANAGEMENT, Cluster, Host, Role
from confgen.paths import FILES, SCRIPTS, UNDO
from confgen.records import asdict, record, replace
from confgen.validator import validate


@record
class Source:
    """The cluster file a tree was rendered from: its name, in every script's header, and a
    digest of the cluster it describes, in the tree's manifest.

    The digest is of the loaded model with every default filled in, not of the file's bytes: a
    comment, the order of keys or a default written out changes nothing in the tree. The
    target is in the manifest too: a render refuses to replace a tree of another target
    unless forced.
    """

    name: str
    model_sha256: str
    target: str

    @classmethod
    def of(cls, name: str, cluster: Cluster) -> Source:
        # The name lands in comments: anything unprintable (a newline) must not end one early.
        printable = "".join(c if c.isprintable() else "?" for c in name)
        return cls(name=printable, model_sha256=model_digest(cluster), target=cluster.target)


def _enum_value(_cls: object, _field: object, value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


def model_digest(cluster: Cluster) -> str:
    """sha256 of the cluster's model as canonical JSON: keys sorted, defaults filled in
    (default lists too: `Cluster.canonical`)."""
    # attrs.asdict, not cattrs.unstructure: the same data (an enum as its value), without
    # building an unstructuring function for every class on each run.
    data = asdict(cluster.canonical(), value_serializer=_enum_value)
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@record
class HostPlan:
    """One host and the facts about it that the files and scripts need; a component adds its
    own (`confgen.components.gluster.Member`)."""

    host: Host
    is_first: bool
    addresses: Mapping[Role, IPv4Address]  # its address on the network of each role
    management_nic: str

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def management_address(self) -> IPv4Address:
        return self.addresses[MANAGEMENT]

    @property
    def dir(self) -> str:
        """This host's folder in the output tree: copy it to the host and run its scripts."""
        return f"hosts/{self.host.name}"


HostPlanT = TypeVar("HostPlanT", bound=HostPlan)


@record
class StepAfter:
    """A step that must be done before another, as that one's header and the runbook say it."""

    number: int
    slug: str
    where: str

    @property
    def label(self) -> str:
        """Its number as the scripts and the runbook write it: "07"."""
        return f"{self.number:02d}"


@record
class Check:
    """What shows, before the next step, that a step worked: a command to run on a host (or,
    without one, where to look), the lines or parts of lines it prints when the step worked
    (`shows`) and those it prints when it did not (`not_shows`), and what else to look for."""

    on: str  # a host's name, "each host", or where to look when there is no command
    command: str = ""
    shows: tuple[str, ...] = ()
    not_shows: tuple[str, ...] = ()
    note: str = ""


@record
class UndoScript:
    """A script that takes back what a failed step left on one host: `hosts/H/undo/NN-slug.sh`."""

    host: str
    path: str  # relative to the host's folder: undo/NN-slug.sh


@record
class StepFailure:
    """What the runbook says of a step that failed: the state it leaves, how to run it again,
    how to take it back (the cluster's values written out), and the undo scripts that do so,
    in the order they are run."""

    state: str
    retry: str
    undo: str
    scripts: tuple[UndoScript, ...] = ()


@record
class Step:
    """One script run on one or more hosts; `after` are the steps that must be done first;
    `checks` what shows it worked; `failure` what the runbook says when it fails (every
    step of a plan has one: `with_failures`)."""

    number: int
    slug: str
    title: str
    hosts: tuple[str, ...]
    # The hosts in words: "every host", "every host but host1", or their names. A step on
    # every host of a 300-host cluster is not worth 300 names in each script that waits for it.
    where: str
    after: tuple[StepAfter, ...]
    template: str
    checks: tuple[Check, ...] = ()
    failure: StepFailure | None = None

    @property
    def label(self) -> str:
        """Its number as the scripts and the runbook write it: "07"."""
        return f"{self.number:02d}"

    @property
    def script(self) -> str:
        """Its script's name in a host's scripts/ (and its undo's in undo/): 07-firewall.sh."""
        return f"{self.label}-{self.slug}.sh"


@record
class StepSpec:
    """A step as a target writes it down, before it is numbered.

    `on` is "every" host, the "first" (the host the cluster is built from), the
    "others", the "second" (the first of the others, by ID), or the names of the hosts.
    `after` names the keys of the steps that must be done first.
    """

    key: str
    slug: str
    on: str | tuple[str, ...]
    after: tuple[str, ...]
    title: str


@record
class OutputFile:
    """One file of the output tree and how to render it."""

    path: str  # relative to the output tree
    template: str
    mode: int
    host: str | None = None
    step: int | None = None


@record
class Install:
    """A file a step installs on a host: rendered into the host's folder at `source`, then
    copied by the step to `target` on the host with `mode`."""

    steps: tuple[str, ...]  # the slugs of the steps that install it
    target: str  # its path on the host
    mode: int
    template: str

    @property
    def source(self) -> str:
        """Its path in the host's folder: files/ and the path on the host."""
        return f"{FILES}{self.target}"


@record
class NameCheck:
    """A name of the cluster as this host's resolver must see it, checked by step 00 (and by
    a target's step that needs it again, as el9's hosted-engine deploy does).

    Through /etc/hosts and through DNS each, the name may resolve only to one of `addresses`,
    the planned one first (any address when there is none: a name whose address the cluster
    file does not give, as the engine VM's), and with `reverse` the planned address only back
    to the name. With `dns`, DNS must know it (forward, and reverse with `reverse`); without,
    it may be unknown until a step writes it into /etc/hosts.
    """

    name: str
    addresses: tuple[IPv4Address, ...]
    dns: bool
    reverse: bool


@record
class NicCheck:
    """A NIC of the cluster file on one host and the address it must hold, with its network's
    prefix. `bridge`: where the management NIC's address moves once a target's steps bridge
    it (oVirt's management bridge), which then holds it instead."""

    nic: str
    address: IPv4Interface
    network: str
    bridge: str | None = None


@record
class SpaceCheck:
    """Free space a later step needs in a folder, in KiB (df -k)."""

    path: str
    kib: int
    needed_by: str  # what needs it, for the message


@record
class Preflight:
    """What step 00 checks on one host before any step changes it."""

    nics: tuple[NicCheck, ...]
    space: tuple[SpaceCheck, ...]


@record
class Plan:
    """What every target's plan holds; a target's plan class adds its own facts."""

    cluster: Cluster
    source: Source | None
    hosts: tuple[HostPlan, ...]  # by host ID
    steps: tuple[Step, ...]
    files: tuple[OutputFile, ...]
    names: tuple[NameCheck, ...]  # every name of the cluster, as step 00 checks them
    preflight: Mapping[str, Preflight]  # by host name
    # The files each host's steps install, by host name, in the order each step installs them.
    installs: Mapping[str, tuple[Install, ...]] = {}

    @property
    def first(self) -> HostPlan:
        return next(h for h in self.hosts if h.is_first)

    @property
    def hosts_entries(self) -> tuple[tuple[IPv4Address, tuple[str, ...]], ...]:
        """The hosts' /etc/hosts lines: management address, FQDN and short name."""
        return tuple((h.management_address, (h.host.fqdn, h.name)) for h in self.hosts)

    @property
    def others(self) -> tuple[HostPlan, ...]:
        return tuple(h for h in self.hosts if not h.is_first)

    def first_step(self, slug: str) -> Step:
        """The first step of that name, for prose that refers to a step by what it does."""
        return next(s for s in self.steps if s.slug == slug)


def host_plans(cluster: Cluster) -> tuple[HostPlan, ...]:
    """Every host by ID, with its address on the network of each role."""
    hosts = sorted(cluster.hosts, key=lambda h: h.host_id)
    networks: dict[Role, str] = {}  # the network of each role: the first that carries it
    for network in cluster.networks:
        for role in network.roles:
            networks.setdefault(role, network.name)
    management = networks.get(MANAGEMENT)
    assert management is not None  # validated
    return tuple(
        HostPlan(
            host=host,
            is_first=host.first,
            addresses={
                role: host.interfaces[network].address for role, network in networks.items()
            },
            management_nic=host.interfaces[management].nic,
        )
        for host in hosts
    )


# Step 00 on every host of every target: it checks what the steps rely on and changes nothing.
PREFLIGHT = "preflight"
PREFLIGHT_STEP = StepSpec(
    key="preflight",
    slug=PREFLIGHT,
    on="every",
    after=(),
    title="Check, changing nothing, what the steps rely on: names, addresses, clock, "
    "repositories, the brick device, CPU virtualization, free space",
)


def number_steps(
    specs: Sequence[StepSpec],
    template_dir: str,
    hosts: Sequence[HostPlan],
    templates: Mapping[str, str] = {},
) -> tuple[Step, ...]:
    """Number the steps in the order given, from 00 when the first is the preflight (which
    checks and changes nothing, so the steps that change a host keep their numbers from 01),
    else from 01; each runs `<template_dir>/<slug>.sh.j2`, or the template `templates` gives
    its slug (a component's step, which every target that has it runs alike)."""
    every = tuple(h.name for h in hosts)
    first = next(h.name for h in hosts if h.is_first)
    others = tuple(name for name in every if name != first)
    on = {"every": every, "first": (first,), "others": others, "second": others[:1]}
    in_words = {every: "every host", others: f"every host but {first}"}
    start = 0 if specs and specs[0].slug == PREFLIGHT else 1
    numbers = {spec.key: i for i, spec in enumerate(specs, start=start)}
    by_key = {spec.key: spec for spec in specs}

    def hosts_of(spec: StepSpec) -> tuple[str, ...]:
        return spec.on if isinstance(spec.on, tuple) else on[spec.on]

    # Worded once a step: a step after "every host" asks again, and hashing a tuple of every
    # host's name costs as many hosts as there are.
    worded: dict[str, str] = {}

    def where(spec: StepSpec) -> str:
        if spec.key not in worded:
            worded[spec.key] = in_words.get(hosts_of(spec)) or ", ".join(hosts_of(spec))
        return worded[spec.key]

    return tuple(
        Step(
            number=numbers[spec.key],
            slug=spec.slug,
            title=spec.title,
            hosts=hosts_of(spec),
            where=where(spec),
            after=tuple(
                StepAfter(number=numbers[key], slug=by_key[key].slug, where=where(by_key[key]))
                for key in spec.after
            ),
            template=templates.get(spec.slug, f"{template_dir}/{spec.slug}.sh.j2"),
        )
        for spec in specs
    )


def host_names(
    hosts: Sequence[HostPlanT],
    *,
    dns: bool,
    also: Callable[[HostPlanT], Iterable[NameCheck]] = lambda _: (),
) -> list[NameCheck]:
    """Each host's FQDN (forward and back to its management address; through DNS when `dns`)
    and its short name (which /etc/hosts gives it, forward only), then the names `also`
    gives it (a component's: Gluster's storage name)."""
    names = []
    for h in hosts:
        address = h.management_address
        names.append(NameCheck(name=h.host.fqdn, addresses=(address,), dns=dns, reverse=True))
        if h.name.lower() != h.host.fqdn.lower():
            names.append(NameCheck(name=h.name, addresses=(address,), dns=False, reverse=False))
        names.extend(also(h))
    return names


def every_host(hosts: Sequence[HostPlan]) -> str:
    """Where a check of a step on `hosts` is run, in words: "each host", or the one host."""
    return "each host" if len(hosts) > 1 else hosts[0].name


def nic_checks(cluster: Cluster, host: HostPlan, bridge: str | None) -> tuple[NicCheck, ...]:
    """Each NIC the cluster file gives the host, with its address and its network's prefix;
    the management NIC's address may be on `bridge` instead, once a step bridged it."""
    networks = {n.name: n for n in cluster.networks}
    return tuple(
        NicCheck(
            nic=interface.nic,
            address=IPv4Interface(f"{interface.address}/{networks[name].cidr.prefixlen}"),
            network=name,
            bridge=bridge if interface.nic == host.management_nic else None,
        )
        for name, interface in sorted(host.host.interfaces.items())
    )


def script_files(hosts: Sequence[HostPlan], steps: Sequence[Step]) -> list[OutputFile]:
    """Each host's scripts: the steps it runs, in its folder's scripts/. One pass over the
    steps' hosts: asking every host of every step grows with hosts x steps, and the seed has
    steps for each host."""
    runs: dict[str, list[Step]] = {host.name: [] for host in hosts}
    for step in steps:
        for name in step.hosts:
            runs[name].append(step)
    return [
        OutputFile(
            path=f"{host.dir}/{SCRIPTS}/{step.script}",
            template=step.template,
            mode=0o755,
            host=host.name,
            step=step.number,
        )
        for host in hosts
        for step in runs[host.name]
    ]


def install_files(installs: Mapping[str, Sequence[Install]]) -> list[OutputFile]:
    """The files the steps install, each in its host's folder at its source."""
    return [
        OutputFile(
            path=f"hosts/{host}/{install.source}",
            template=install.template,
            mode=install.mode,
            host=host,
        )
        for host, host_installs in installs.items()
        for install in host_installs
    ]


def undo_name(step: Step) -> str:
    """The undo script of a step, in a host's folder: undo/NN-slug.sh."""
    return f"{UNDO}/{step.script}"


def with_failures(steps: Sequence[Step], failures: Sequence[StepFailure]) -> tuple[Step, ...]:
    """The steps, each with its failure: `failures` has one for each step, in step order."""
    return tuple(replace(s, failure=f) for s, f in zip(steps, failures, strict=True))


def undo_files(steps: Sequence[Step], templates: Mapping[str, str]) -> list[OutputFile]:
    """The undo scripts the steps' failures name, as files of their hosts: `templates` gives
    the template of each step's undo by the step's slug."""
    return [
        OutputFile(
            path=f"hosts/{script.host}/{script.path}",
            template=templates[step.slug],
            mode=0o755,
            host=script.host,
            step=step.number,
        )
        for step in steps
        if step.failure is not None
        for script in step.failure.scripts
    ]


def plan(cluster: Cluster, source: Source | None = None) -> Plan:
    """Lay out the output tree for a cluster.

    `source` names the cluster file in every script's header; without it, a cluster `load`
    read is named as `confgen render` names it (the file's name), so the library and the
    command write the same tree.

    Raises `ValidationError` with every error `validate` finds (warnings do not stop it): a
    plan is only made for a valid cluster. Raises `PlanCheckError`, a bug in confgen, when the
    plan breaks a rule of its target's self check.
    """
    errors = [p for p in validate(cluster) if p.severity is Severity.ERROR]
    if errors:
        raise ValidationError(errors)
    if source is None:
        from confgen.loader import origin

        loaded = origin(cluster)
        if loaded is not None and loaded.name is not None:
            source = Source.of(loaded.name, cluster)
    return plan_validated(cluster, source)


def plan_validated(cluster: Cluster, source: Source | None = None) -> Plan:
    """`plan` for a caller that has just run `validate` and found no errors (the command
    line, which prints the warnings): the cluster is not validated a second time."""
    target = targets.of(cluster)
    the_plan: Plan = target.plan(cluster, source)
    failures = [f"step {s.label} has no failure entry" for s in the_plan.steps if s.failure is None]
    # A file installed by a step the plan does not have would never reach its host.
    slugs = {s.slug for s in the_plan.steps}
    failures += [
        f"{install.target} on {host} is installed by {slug}, which is no step of the plan"
        for host, installs in the_plan.installs.items()
        for install in installs
        for slug in install.steps
        if slug not in slugs
    ]
    failures += target.self_check(the_plan)
    if failures:
        raise PlanCheckError(failures, cluster)
    return the_plan
