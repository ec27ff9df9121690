"""Plan: what goes on which host, and in which order, for a valid cluster.

Every fact derived from the cluster file is computed here once (brick lists, the CTDB node
list, unit names, the steps and their order), so templates only lay it out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from ipaddress import IPv4Address

from attrs import frozen

from confgen import seed
from confgen.errors import PlanCheckError, Severity, ValidationError
from confgen.models import Cluster, FirewallRule, Host, Role, Target
from confgen.paths import (
    BLOCKS,
    CTDB_SERVICE,
    DATA,
    ETC_HOSTS,
    FILES,
    HOSTS_BLOCK,
    IPTABLES,
    META_VOLUME_READY_SERVICE,
    MOUNT_NAME_BLOCK,
    NFSMOUNT_CONF,
    SCRIPTS,
    SYSTEMD_DIR,
    is_within,
)
from confgen.systemd import mount_unit_name
from confgen.validate import validate


@frozen(kw_only=True)
class Source:
    """The cluster file a tree was rendered from, named in every script's header."""

    name: str
    sha256: str

    @classmethod
    def of_text(cls, name: str, text: str) -> Source:
        # The name lands in comments: anything unprintable (a newline) must not end one early.
        printable = "".join(c if c.isprintable() else "?" for c in name)
        return cls(name=printable, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


@frozen(kw_only=True)
class HostPlan:
    """One host and the facts about it that the files and scripts need."""

    host: Host
    is_first: bool
    management_address: IPv4Address
    storage_address: IPv4Address
    heartbeat_address: IPv4Address
    management_nic: str
    peer: str  # the name Gluster knows this host by
    brick_dirs: tuple[str, ...]  # brick directories on this host, in volume order

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def dir(self) -> str:
        """This host's folder in the output tree: copy it to the host and run its scripts."""
        return f"hosts/{self.host.name}"


@frozen(kw_only=True)
class Brick:
    host: str
    peer: str
    path: str

    def __str__(self) -> str:
        return f"{self.peer}:{self.path}"


@frozen(kw_only=True)
class VolumePlan:
    name: str
    replica: int
    existing: bool
    brick_dir: str
    bricks: tuple[Brick, ...]

    @property
    def add_brick_groups(self) -> tuple[tuple[Brick, ...], ...]:
        """For a volume that exists with one brick: the bricks each add-brick call adds.

        The first call turns the single brick into a replica set (`add-brick V replica N ...`);
        each later call adds one more replica set, making the volume distributed-replicated.
        """
        sets = [self.bricks[i : i + self.replica] for i in range(0, len(self.bricks), self.replica)]
        return (sets[0][1:], *sets[1:]) if sets else ()


@frozen(kw_only=True)
class FirewallGroup:
    """Consecutive rules for one service, rendered under one comment as the seed does."""

    service: str
    rules: tuple[FirewallRule, ...]


@frozen(kw_only=True)
class Step:
    """One script run on one or more hosts; `after` are the steps that must be done first."""

    number: int
    slug: str
    title: str
    hosts: tuple[str, ...]
    # The hosts in words: "every host", "every host but host1", or their names. A step on
    # every host of a 300-host cluster is not worth 300 names in each script that waits for it.
    where: str
    after: tuple[int, ...]
    template: str

    @property
    def script(self) -> str:
        return f"{self.number:02d}-{self.slug}.sh"


@frozen(kw_only=True)
class OutputFile:
    """One file of the output tree and how to render it."""

    path: str  # relative to the output tree
    template: str
    mode: int
    host: str | None = None
    step: int | None = None


@frozen(kw_only=True)
class Plan:
    cluster: Cluster
    source: Source | None
    hosts: tuple[HostPlan, ...]  # by host ID
    volumes: tuple[VolumePlan, ...]
    nodes: tuple[IPv4Address, ...]  # CTDB heartbeat addresses, by host ID
    public_addresses: tuple[str, ...]  # `VIP/prefix nic` lines
    mount_unit: str  # the meta volume's mount unit, named from its mount point
    hosts_entries: tuple[tuple[IPv4Address, tuple[str, ...]], ...]  # the hosts' /etc/hosts lines
    firewall_groups: tuple[FirewallGroup, ...]
    steps: tuple[Step, ...]
    files: tuple[OutputFile, ...]

    @property
    def first(self) -> HostPlan:
        return next(h for h in self.hosts if h.is_first)

    def first_step(self, slug: str) -> Step:
        """The first step of that name, for prose that refers to a step by what it does."""
        return next(s for s in self.steps if s.slug == slug)

    def volume(self, name: str) -> VolumePlan:
        return next(v for v in self.volumes if v.name == name)

    @property
    def engine_storage(self) -> str:
        """The NFS share the hosted engine mounts, through the VIP: ovirtmount.osas.lab:/engine."""
        return f"{self.cluster.ctdb.mount_hostname}:/{self.cluster.hosted_engine.volume}"

    @property
    def existing_volumes(self) -> tuple[VolumePlan, ...]:
        return tuple(v for v in self.volumes if v.existing)

    @property
    def new_volumes(self) -> tuple[VolumePlan, ...]:
        return tuple(v for v in self.volumes if not v.existing)


def _network_for(cluster: Cluster, role: Role) -> str:
    return next(n.name for n in cluster.networks if role in n.roles)


def _host_plans(cluster: Cluster, hosts: tuple[Host, ...]) -> tuple[HostPlan, ...]:
    management = _network_for(cluster, Role.MANAGEMENT)
    storage = _network_for(cluster, Role.STORAGE)
    heartbeat = _network_for(cluster, Role.HEARTBEAT)
    names = [h.name for h in hosts]
    plans = []
    for host in hosts:
        brick_dirs = tuple(
            cluster.gluster.brick_dir(v)
            for v in cluster.gluster.all_volumes
            if host.name in v.brick_hosts(names)
        )
        plans.append(
            HostPlan(
                host=host,
                is_first=host.first,
                management_address=host.interfaces[management].address,
                storage_address=host.interfaces[storage].address,
                heartbeat_address=host.interfaces[heartbeat].address,
                management_nic=host.interfaces[management].nic,
                peer=cluster.peer_name(host),
                brick_dirs=brick_dirs,
            )
        )
    return tuple(plans)


def _volume_plans(
    cluster: Cluster, hosts: tuple[Host, ...], plans: tuple[HostPlan, ...]
) -> tuple[VolumePlan, ...]:
    peers = {p.name: p.peer for p in plans}
    names = [h.name for h in hosts]
    result = []
    for volume in cluster.gluster.all_volumes:
        brick_dir = cluster.gluster.brick_dir(volume)
        bricks = tuple(
            Brick(host=name, peer=peers[name], path=brick_dir) for name in volume.brick_hosts(names)
        )
        result.append(
            VolumePlan(
                name=volume.name,
                replica=volume.replica,
                existing=volume.existing,
                brick_dir=brick_dir,
                bricks=bricks,
            )
        )
    return tuple(result)


def _firewall_groups(rules: tuple[FirewallRule, ...]) -> tuple[FirewallGroup, ...]:
    groups: list[FirewallGroup] = []
    for rule in rules:
        if groups and groups[-1].service == rule.service:
            groups[-1] = FirewallGroup(service=rule.service, rules=(*groups[-1].rules, rule))
        else:
            groups.append(FirewallGroup(service=rule.service, rules=(rule,)))
    return tuple(groups)


@frozen(kw_only=True)
class _StepSpec:
    key: str
    slug: str
    title: str
    hosts: tuple[str, ...]
    after: tuple[str, ...]


def _ovirt35_el7_steps(hosts: tuple[HostPlan, ...]) -> list[_StepSpec]:
    """The seed's procedure, step by step, in the order the seed gives it (`seed.STEPS`)."""
    every = tuple(h.name for h in hosts)
    first = tuple(h.name for h in hosts if h.is_first)
    others = tuple(h.name for h in hosts if not h.is_first)
    on = {"every": every, "first": first, "others": others, "second": others[:1]}
    specs = [
        _StepSpec(key=key, slug=slug, hosts=on[which], after=after, title=title)
        for key, slug, which, after, title in seed.STEPS
    ]
    for name in others:
        for key, slug, title in seed.ADDITIONAL_HOST_STEPS:
            specs.append(
                _StepSpec(
                    key=f"{key}:{name}",
                    slug=slug,
                    hosts=(name,),
                    after=(specs[-1].key,),
                    title=title.format(host=name),
                )
            )
    return specs


def _number(
    specs: list[_StepSpec], target: Target, plans: tuple[HostPlan, ...]
) -> tuple[Step, ...]:
    numbers = {spec.key: i for i, spec in enumerate(specs, start=1)}
    every = tuple(h.name for h in plans)
    first = next(h.name for h in plans if h.is_first)
    others = tuple(name for name in every if name != first)
    in_words = {every: "every host", others: f"every host but {first}"}
    return tuple(
        Step(
            number=numbers[spec.key],
            slug=spec.slug,
            title=spec.title,
            hosts=spec.hosts,
            where=in_words.get(spec.hosts) or ", ".join(spec.hosts),
            after=tuple(numbers[key] for key in spec.after),
            template=f"{target.value}/{spec.slug}.sh.j2",
        )
        for spec in specs
    )


def _ovirt35_el7_files(
    cluster: Cluster, hosts: tuple[HostPlan, ...], steps: tuple[Step, ...], mount_unit: str
) -> tuple[OutputFile, ...]:
    target = cluster.target.value
    meta = cluster.ctdb.meta_dir
    files = [OutputFile(path="RUNBOOK.md", template=f"{target}/RUNBOOK.md.j2", mode=0o644)]
    for host in hosts:
        name = host.name

        def out(kind: str, path: str, template: str, mode: int = 0o644, *, h: str = name) -> None:
            files.append(
                OutputFile(
                    path=f"hosts/{h}/{kind}{path}",
                    template=f"{target}/{template}",
                    mode=mode,
                    host=h,
                )
            )

        out(FILES, IPTABLES, "iptables.j2", 0o600)
        out(FILES, NFSMOUNT_CONF, "nfsmount.conf.j2")
        out(FILES, f"{SYSTEMD_DIR}/{CTDB_SERVICE}", "ctdb.service.j2")
        out(FILES, f"{SYSTEMD_DIR}/{mount_unit}", "meta.mount.j2")
        out(FILES, f"{SYSTEMD_DIR}/{META_VOLUME_READY_SERVICE}", "meta-volume-ready.service.j2")
        # Two blocks of /etc/hosts: the hosts' names from the start, the NFS mount name only
        # once CTDB hosts the VIP it points to.
        out(BLOCKS, f"{ETC_HOSTS}/{HOSTS_BLOCK}", "hosts.j2")
        out(BLOCKS, f"{ETC_HOSTS}/{MOUNT_NAME_BLOCK}", "hosts-mount-name.j2")
        if host.is_first:
            out(FILES, f"{meta}/ctdb", "ctdb.sysconfig.j2")
            out(FILES, f"{meta}/nodes", "nodes.j2")
            out(FILES, f"{meta}/public_addresses", "public_addresses.j2")
        else:
            out(DATA, "/hosted-engine-answers.conf", "hosted-engine-answers.conf.j2")
        for step in steps:
            if name in step.hosts:
                files.append(
                    OutputFile(
                        path=f"{host.dir}/{SCRIPTS}/{step.script}",
                        template=step.template,
                        mode=0o755,
                        host=name,
                        step=step.number,
                    )
                )
    return tuple(sorted(files, key=lambda f: f.path))


_TARGETS: dict[
    Target,
    tuple[Callable[[tuple[HostPlan, ...]], list[_StepSpec]], Callable[..., tuple[OutputFile, ...]]],
] = {
    Target.OVIRT35_EL7: (_ovirt35_el7_steps, _ovirt35_el7_files),
}


def self_check(the_plan: Plan) -> list[str]:
    """What the real programs would refuse in a plan, checked on the plan itself.

    `validate` holds the cluster file to these rules already; this checks that the plan made
    of it keeps them, as Butane validates the config it emits, so a planning bug is caught
    here rather than by glusterd or systemd on a host.
    """
    failures = []
    placed: dict[str, list[str]] = {}
    devices = {h.peer: h.host.brick_device for h in the_plan.hosts}
    for volume in the_plan.volumes:
        if not volume.bricks:
            failures.append(f"volume {volume.name} has no bricks")
        elif volume.replica < 1 or len(volume.bricks) % volume.replica:
            failures.append(
                f"volume {volume.name}: {len(volume.bricks)} bricks for replica {volume.replica}"
            )
        if volume.existing and (
            volume.replica < 2 or not volume.bricks or volume.bricks[0].host != the_plan.first.name
        ):
            failures.append(
                f"volume {volume.name} exists but does not grow from {the_plan.first.name}"
            )
        for brick in volume.bricks:
            if devices.get(brick.peer) is None:
                failures.append(f"brick {brick} of {volume.name} is on a host without a device")
            for other in placed.get(brick.peer, []):
                if is_within(brick.path, other) or is_within(other, brick.path):
                    failures.append(f"brick {brick} of {volume.name} is or holds brick {other}")
            placed.setdefault(brick.peer, []).append(brick.path)
    fs = the_plan.cluster.gluster.brick_fs.mount_point
    meta = the_plan.cluster.ctdb.mount_point
    for mount_point in (fs, meta):
        if mount_point == "/":
            failures.append("a mount over /")
    if is_within(fs, meta) or is_within(meta, fs):
        failures.append(f"the mounts {fs} and {meta} nest")
    if the_plan.mount_unit != mount_unit_name(meta) or the_plan.mount_unit in ("-.mount", ".mount"):
        failures.append(f"mount unit {the_plan.mount_unit} is not named after {meta}")
    return failures


def plan(cluster: Cluster, source: Source | None = None) -> Plan:
    """Lay out the output tree for a cluster.

    Raises `ValidationError` with every error `validate` finds (warnings do not stop it): a
    plan is only made for a valid cluster. Raises `PlanCheckError`, a bug in confgen, when the
    plan breaks a rule of `self_check`.
    """
    errors = [p for p in validate(cluster) if p.severity is Severity.ERROR]
    if errors:
        raise ValidationError(errors)
    return plan_validated(cluster, source)


def plan_validated(cluster: Cluster, source: Source | None = None) -> Plan:
    """`plan` for a caller that has just run `validate` and found no errors (the command
    line, which prints the warnings): the cluster is not validated a second time."""
    the_plan = _plan(cluster, source)
    failures = self_check(the_plan)
    if failures:
        raise PlanCheckError(failures, cluster)
    return the_plan


def _plan(cluster: Cluster, source: Source | None) -> Plan:
    hosts = tuple(sorted(cluster.hosts, key=lambda h: h.host_id))
    host_plans = _host_plans(cluster, hosts)
    steps_for, files_for = _TARGETS[cluster.target]
    steps = _number(steps_for(host_plans), cluster.target, host_plans)
    mount_unit = mount_unit_name(cluster.ctdb.mount_point)
    entries = tuple((h.management_address, (h.host.fqdn, h.name)) for h in host_plans)
    return Plan(
        cluster=cluster,
        source=source,
        hosts=host_plans,
        volumes=_volume_plans(cluster, hosts, host_plans),
        nodes=tuple(h.heartbeat_address for h in host_plans),
        public_addresses=tuple(
            f"{vip.address.with_prefixlen} {vip.nic}" for vip in cluster.ctdb.vips
        ),
        mount_unit=mount_unit,
        hosts_entries=entries,
        firewall_groups=_firewall_groups(cluster.firewall.rules),
        steps=steps,
        files=files_for(cluster, host_plans, steps, mount_unit),
    )
