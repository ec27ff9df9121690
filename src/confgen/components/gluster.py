"""Gluster: volumes, their bricks, the trusted pool's peers and the volume rules of glusterd.

A target's `gluster` section subclasses `Volumes` (the volume list with its defaults) and
its volumes subclass `Volume`; its rules call `volume_rules`; its plan subclasses
`GlusterPlan`, its hosts are `Member`s (`members`), its volumes `volume_plans`; the runbook's
checks between steps are the functions of the checks section below.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from confgen.components import brick_storage
from confgen.components.brick_storage import BrickMade
from confgen.errors import Problem, error, quoted, warning
from confgen.models import MANAGEMENT, Cluster, Host, Role
from confgen.paths import is_within
from confgen.planner import Check, HostPlan, NameCheck, Plan, host_names
from confgen.records import record
from confgen.validator import duplicates, form

# --- the model ------------------------------------------------------------------------------

# The network of Gluster's traffic between the peers and to the clients.
STORAGE = Role("storage")


@record
class Volume:
    """A Gluster volume. `hosts` lists the hosts that carry a brick, in brick order; it
    defaults to the first `replica` hosts by ID. A target adds what its volumes need."""

    name: str
    replica: int
    brick_dir: str | None = None  # default: <brick mount point>/<name>/brick
    hosts: tuple[str, ...] | None = None

    def brick_hosts(self, names_by_id: Sequence[str]) -> tuple[str, ...]:
        """The hosts that carry a brick, in brick order: `hosts`, or the first `replica`."""
        return self.hosts if self.hosts is not None else tuple(names_by_id[: self.replica])


VolumeT = TypeVar("VolumeT", bound=Volume)


class Volumes(Generic[VolumeT]):
    """What every target's `gluster` section has of the cluster's volumes: a mixin of its
    record, which has the fields `volumes` (the whole list, or None for the target's defaults)
    and `brick_fs` (with the brick filesystems' `mount_point`), and says its defaults."""

    if TYPE_CHECKING:
        volumes: tuple[VolumeT, ...] | None

        @property
        def brick_fs(self) -> Any: ...

    def default_volumes(self) -> tuple[VolumeT, ...]:
        raise NotImplementedError

    @property
    def all_volumes(self) -> tuple[VolumeT, ...]:
        """The volumes the file lists, or the target's defaults when it lists none."""
        return self.default_volumes() if self.volumes is None else self.volumes

    @property
    def listed_volumes(self) -> tuple[VolumeT, ...]:
        """The volumes the file itself lists (none when it takes the defaults)."""
        return self.volumes or ()

    def brick_dir(self, volume: Volume) -> str:
        """The folder of the volume's brick on each of its hosts: `brick_dir`, else the folder
        `brick` in <mount point>/<volume> (where a target with a filesystem per volume mounts
        it: glusterd refuses a brick at a mount point's root without `force`)."""
        if volume.brick_dir is not None:
            return volume.brick_dir
        mount_point: str = self.brick_fs.mount_point
        return f"{mount_point.rstrip('/')}/{volume.name}/brick"


def peer_name(cluster: Cluster, host: Host) -> str:
    """The name Gluster knows a host by: its FQDN when storage shares the management
    network (the FQDN resolves there through /etc/hosts), else its storage address."""
    storage = cluster.network_for(STORAGE)
    interface = host.interfaces.get(storage) if storage is not None else None
    if storage == cluster.network_for(MANAGEMENT) or interface is None:
        return host.fqdn
    return str(interface.address)


# --- the rules ------------------------------------------------------------------------------

# glusterd names each brick's volfile `<volume>.<host>.<brick path, '/' as '-'>.vol`
# (gluster/glusterfs v10.5 xlators/mgmt/glusterd/src/glusterd-volgen.c:5157-5182,
# get_brick_filepath) and writes it as `<that name>.tmp` first, renaming it after
# (glusterd-volgen.c:988-1001, volgen_write_volfile). Its own check at volume create
# (glusterd_is_valid_volfpath, glusterd-volume-ops.c:1028-1034) forgets the ".tmp", so
# NAME_MAX (255) less ".tmp" is the longest name that works: a real glusterd 10.3 creates a
# volume whose volfile name is 251 bytes and fails one of 252 half-way ("Failed to create
# volume files", File name too long), as tests/test_stand_ins.py shows on Debian's glusterd.
VOLFILE_NAME_MAX = 255 - len(".tmp")


def volfile_name(volume: str, peer: str, brick_dir: str) -> str:
    return f"{volume}.{peer}.{brick_dir[1:].replace('/', '-')}.vol"


def key_of(path: str, key: str) -> str:
    """The key path of a volume's key; a default volume has none of its own (see volume_rules)."""
    return path if path == "gluster.volumes" else f"{path}.{key}"


def volume_rules(
    cluster: Cluster,
    entries: Sequence[tuple[str, Volume]],
    brick_dir: Mapping[str, str],
    bricks_root: str,
    *,
    replica_two_warning: bool = True,
) -> Iterator[Problem]:
    """What glusterd and the brick step need of every volume, for every target.

    `entries` are the volumes with the key path a problem with each points at (a default
    volume the file does not list points at `gluster.volumes`); `brick_dir` gives each
    volume's brick folder, `bricks_root` the brick filesystem's mount point. A target that
    refuses replica 2 outright turns off `replica_two_warning`, so it is reported once.
    """
    for path, volume in entries:
        if path != "gluster.volumes":
            yield from form(f"{path}.name", volume.name, "name")
            if volume.brick_dir is not None:
                yield from form(f"{path}.brick_dir", volume.brick_dir, "path")
    for name in duplicates(v.name for p, v in entries if p != "gluster.volumes"):
        yield error("gluster.volumes", f"volume {quoted(name)} is defined twice")
    host_names = [h.name for h in cluster.hosts]
    by_name = {h.name: h for h in cluster.hosts}  # also the set a name is looked up in
    names_by_id = [h.name for h in sorted(cluster.hosts, key=lambda h: h.host_id)]
    # Where each host's bricks lie, to find one inside another: host -> (volume, brick dir).
    placed: dict[str, list[tuple[str, str]]] = {}
    holders: dict[str, str] = {}  # host name -> the first volume it holds a brick of
    for path, volume in entries:
        what = volume_name(path, volume)
        if volume.name == "all":
            # cli-cmd-parser.c: '"all" cannot be the name of a volume' (seen with glusterfs 10.3).
            yield error(
                key_of(path, "name"), '"all" is a word of the gluster command, not a volume name'
            )
        folder = brick_dir[volume.name]
        if volume.brick_dir is not None and not (
            is_within(volume.brick_dir, bricks_root) and volume.brick_dir != bricks_root
        ):
            yield error(
                key_of(path, "brick_dir"),
                f"{quoted(volume.brick_dir)} is not a folder on the brick filesystem at "
                f"{bricks_root}",
            )
        if volume.replica < 1:
            yield error(
                key_of(path, "replica"), f"replica must be at least 1, found {volume.replica}"
            )
            continue
        if volume.replica == 2 and replica_two_warning:
            yield warning(key_of(path, "replica"), "replica 2 without an arbiter risks split-brain")
        hosts = volume.hosts
        if hosts is None:
            # Fewer than 3 hosts is reported once, on `hosts`; defaults need no second report.
            if len(host_names) < volume.replica:
                if len(host_names) >= MIN_HOSTS:
                    message = f"replica {volume.replica} needs that many hosts"
                    yield error(key_of(path, "replica"), message)
                continue
            hosts = volume.brick_hosts(names_by_id)
        elif not hosts:
            yield error(
                key_of(path, "hosts"),
                f"{what} has no bricks: list at least {volume.replica} hosts (one replica set)",
            )
            continue
        for j, name in enumerate(hosts):
            if name not in by_name:
                same = [h for h in host_names if h.lower() == name.lower()]
                hint = f"; did you mean {quoted(same[0])}?" if same else ""
                yield error(key_of(path, f"hosts[{j}]"), f"no host named {quoted(name)}{hint}")
        if len(hosts) % volume.replica:
            yield error(
                key_of(path, "hosts"),
                f"{len(hosts)} bricks is not a multiple of replica {volume.replica}",
            )
        # Each host holds one brick folder per volume, so a host listed twice would give the
        # volume the same brick twice: glusterd refuses it, across replica sets too.
        for name in sorted(duplicates(hosts), key=str):
            yield error(
                key_of(path, "hosts"),
                f"host {quoted(name)} is listed twice: it would hold the brick {folder} twice; "
                "each brick of a volume must be on its own host",
            )
        volfile_reported = False
        for name in dict.fromkeys(hosts):
            host = by_name.get(name)
            if host is None:
                continue
            holders.setdefault(name, volume.name)
            for other_volume, other_dir in placed.get(name, []):
                if is_within(folder, other_dir) or is_within(other_dir, folder):
                    yield error(
                        key_of(path, "brick_dir") if volume.brick_dir is not None else path,
                        f"on host {quoted(name)} the brick {folder} of {what} "
                        f"{'is' if folder == other_dir else 'nests with'} the brick "
                        f"{other_dir} of volume {quoted(other_volume)}: glusterd refuses a brick "
                        "inside another",
                    )
                    break
            placed.setdefault(name, []).append((volume.name, folder))
            volfile = volfile_name(volume.name, peer_name(cluster, host), folder)
            if not volfile_reported and len(volfile.encode()) > VOLFILE_NAME_MAX:
                volfile_reported = True  # once a volume: the fix is the same for every host
                yield error(
                    path,
                    f"the brick {folder} of {what} on {quoted(name)} gives glusterd a "
                    "volfile name "
                    f"of {len(volfile.encode())} bytes (at most {VOLFILE_NAME_MAX}): shorten the "
                    "volume name, the brick folder or the host's storage name",
                )

    yield from brick_storage.devices_given(cluster.hosts, holders)


def volume_entries(listed: Sequence[Volume], every: Sequence[VolumeT]) -> list[tuple[str, VolumeT]]:
    """Every volume (`every`: the defaults with the file's over them, then its new ones) with
    the key path a problem with it points at: `gluster.volumes[i]` for one the file lists
    (`listed`); a default the file leaves as it is has no key of its own, so its problems
    point at `gluster.volumes`."""
    index = {volume.name: i for i, volume in enumerate(listed)}
    return [
        (f"gluster.volumes[{index[v.name]}]" if v.name in index else "gluster.volumes", v)
        for v in every
    ]


def volume_name(path: str, volume: Volume) -> str:
    """How a message names a volume: a default volume is not in the file to point at."""
    return f"volume {quoted(volume.name)}" + (" (a default)" if path == "gluster.volumes" else "")


# Replica 3 needs three hosts; a cluster of fewer is refused once, on `hosts`.
MIN_HOSTS = 3


def enough_hosts(cluster: Cluster) -> Iterator[Problem]:
    if len(cluster.hosts) < MIN_HOSTS:
        yield error(
            "hosts",
            f"a cluster needs at least {MIN_HOSTS} hosts for replica 3, found {len(cluster.hosts)}",
        )


# --- the plan -------------------------------------------------------------------------------


@record
class Member(HostPlan):
    """A host of the trusted pool: the name Gluster knows it by, and its bricks."""

    peer: str  # the name Gluster knows this host by
    # The names Gluster knows the other members by, by host ID: those this host probes.
    peers: tuple[str, ...] = ()
    brick_dirs: tuple[str, ...]  # brick directories on this host, in volume order
    volumes: tuple[str, ...] = ()  # the volumes with a brick on this host, in volume order

    @property
    def storage_address(self) -> IPv4Address:
        return self.addresses[STORAGE]


@record
class Brick:
    host: str
    peer: str
    path: str

    def __str__(self) -> str:
        return f"{self.peer}:{self.path}"


@record
class VolumePlan:
    name: str
    replica: int
    existing: bool  # made before this runbook starts (with one brick on the first host)
    brick_dir: str
    bricks: tuple[Brick, ...]

    @property
    def replica_sets(self) -> tuple[tuple[Brick, ...], ...]:
        """The bricks in replica sets: each consecutive `replica` bricks hold the same files."""
        return tuple(
            self.bricks[i : i + self.replica] for i in range(0, len(self.bricks), self.replica)
        )

    @property
    def brick_hosts(self) -> tuple[str, ...]:
        """The hosts of its bricks, in brick order."""
        return tuple(b.host for b in self.bricks)

    @property
    def add_brick_groups(self) -> tuple[tuple[Brick, ...], ...]:
        """For a volume that exists with one brick: the bricks each add-brick call adds.

        The first call turns the single brick into a replica set (`add-brick V replica N ...`);
        each later call adds one more replica set, making the volume distributed-replicated.
        """
        sets = self.replica_sets
        return (sets[0][1:], *sets[1:]) if sets else ()

    @property
    def spreads(self) -> bool:
        """Whether growing it adds a further replica set, whose share of the directories'
        hash ranges a layout fix gives it."""
        return len(self.add_brick_groups) > 1


@record
class GlusterPlan(Plan):
    """A plan of a target whose hosts form a trusted pool: its members and its volumes."""

    hosts: tuple[Member, ...]  # by host ID
    volumes: tuple[VolumePlan, ...]
    brick_made: BrickMade  # how step 00 and the brick step tell the bricks' storage is made

    @property
    def first(self) -> Member:
        return next(h for h in self.hosts if h.is_first)

    @property
    def others(self) -> tuple[Member, ...]:
        return tuple(h for h in self.hosts if not h.is_first)

    def volume(self, name: str) -> VolumePlan:
        return next(v for v in self.volumes if v.name == name)

    def new_bricks(self, host: str) -> tuple[tuple[VolumePlan, Brick], ...]:
        """The bricks `host` holds of the volumes the runbook creates, with their volumes."""
        return tuple((v, b) for v in self.new_volumes for b in v.bricks if b.host == host)

    @property
    def existing_volumes(self) -> tuple[VolumePlan, ...]:
        return tuple(v for v in self.volumes if v.existing)

    @property
    def new_volumes(self) -> tuple[VolumePlan, ...]:
        return tuple(v for v in self.volumes if not v.existing)


def members(
    cluster: Cluster,
    hosts: Sequence[HostPlan],
    volumes: Sequence[Volume],
    brick_dir: Mapping[str, str],
) -> tuple[Member, ...]:
    """The hosts (by ID) as members of the pool, with the brick folders each holds
    (`brick_dir`: volume name -> folder)."""
    names = [h.name for h in hosts]
    peer = {h.name: peer_name(cluster, h.host) for h in hosts}
    held: dict[str, list[str]] = {name: [] for name in names}
    holds: dict[str, list[str]] = {name: [] for name in names}
    for volume in volumes:
        for name in volume.brick_hosts(names):
            held[name].append(brick_dir[volume.name])
            holds[name].append(volume.name)
    return tuple(
        Member(
            host=h.host,
            is_first=h.is_first,
            addresses=h.addresses,
            management_nic=h.management_nic,
            peer=peer[h.name],
            peers=tuple(peer[name] for name in names if name != h.name),
            brick_dirs=tuple(held[h.name]),
            volumes=tuple(holds[h.name]),
        )
        for h in hosts
    )


def volume_plans(
    volumes: Sequence[Volume],
    brick_dir: Mapping[str, str],
    hosts: Sequence[Member],
    existing: Iterable[str] = (),
) -> tuple[VolumePlan, ...]:
    """Every volume with its bricks in brick order; `existing` names those made before."""
    peers = {h.name: h.peer for h in hosts}
    names = [h.name for h in hosts]
    made = set(existing)
    return tuple(
        VolumePlan(
            name=volume.name,
            replica=volume.replica,
            existing=volume.name in made,
            brick_dir=brick_dir[volume.name],
            bricks=tuple(
                Brick(host=name, peer=peers[name], path=brick_dir[volume.name])
                for name in volume.brick_hosts(names)
            ),
        )
        for volume in volumes
    )


# The steps every target with a pool runs alike: the first host probes the others, and each
# other probes the first back by name. Their templates are Gluster's, not a target's.
STEP_TEMPLATES: Mapping[str, str] = {
    "peer-probe": "components/gluster/peer-probe.sh.j2",
    "peer-probe-back": "components/gluster/peer-probe-back.sh.j2",
}


def names(hosts: Sequence[Member], *, dns: bool) -> list[NameCheck]:
    """The names step 00 checks of the hosts (`confgen.planner.host_names`), each host's
    followed by its storage name where Gluster knows it by another name than its FQDN (and
    not by an address), to its storage address."""

    def storage_name(h: Member) -> tuple[NameCheck, ...]:
        if h.peer.lower() == h.host.fqdn.lower() or _is_address(h.peer):
            return ()
        return (NameCheck(name=h.peer, addresses=(h.storage_address,), dns=dns, reverse=False),)

    return host_names(hosts, dns=dns, also=storage_name)


def _is_address(text: str) -> bool:
    try:
        IPv4Address(text)
    except ValueError:
        return False
    return True


def brick_check(the_plan: GlusterPlan) -> list[str]:
    """What glusterd would refuse in a plan's bricks: shared rules of every target's self
    check."""
    failures = []
    placed: dict[str, list[str]] = {}
    devices = {h.peer: brick_storage.device_of(h.host) for h in the_plan.hosts}
    for volume in the_plan.volumes:
        if not volume.bricks:
            failures.append(f"volume {volume.name} has no bricks")
        elif volume.replica < 1 or len(volume.bricks) % volume.replica:
            failures.append(
                f"volume {volume.name}: {len(volume.bricks)} bricks for replica {volume.replica}"
            )
        for brick in volume.bricks:
            if devices.get(brick.peer) is None:
                failures.append(f"brick {brick} of {volume.name} is on a host without a device")
            for other in placed.get(brick.peer, []):
                if is_within(brick.path, other) or is_within(other, brick.path):
                    failures.append(f"brick {brick} of {volume.name} is or holds brick {other}")
            placed.setdefault(brick.peer, []).append(brick.path)
    return failures


# --- the checks between steps ---------------------------------------------------------------
# What shows that a step worked, as the runbooks name it between steps. Each is a command an
# administrator runs and what it prints when the step worked, in the words of the program's own
# output (cited at each).


def number_of_bricks(volume: VolumePlan) -> str:
    """`gluster volume info`'s brick count line: "Number of Bricks: 1 x 3 = 3" for a
    replicated volume, "Number of Bricks: 2" for a plain distributed one (glusterfs v10.5
    cli/src/cli-rpc-ops.c:692-711, gf_cli_print_number_of_bricks)."""
    bricks = len(volume.bricks)
    if volume.replica == 1:
        return f"Number of Bricks: {bricks}"
    return f"Number of Bricks: {bricks // volume.replica} x {volume.replica} = {bricks}"


def peers_connected(on: str, peers: int) -> Check:
    """`gluster peer status` on a member: the other members, each in the pool and connected
    (cli-rpc-ops.c:293 "Number of Peers: %d", :321 "State: %s (%s)", the state "Peer in
    Cluster" of glusterd-sm.c:49, and "Connected")."""
    return Check(
        on=on,
        command="gluster peer status",
        shows=(f"Number of Peers: {peers}", "State: Peer in Cluster (Connected)"),
        note="every peer in that state",
    )


def peer_known_by_name(on: str, name: str) -> Check:
    """`gluster peer status` on a host that probed `name` back: the name among the peer's
    names, as `Hostname:` or under `Other names:` (cli-rpc-ops.c:321-330)."""
    return Check(
        on=on,
        command="gluster peer status",
        shows=(name,),
        note=f"{name} as the Hostname of a peer or among its Other names",
    )


def volumes_started(on: str, volumes: Sequence[VolumePlan]) -> tuple[Check, ...]:
    """`gluster volume info NAME` for each volume (it takes one name, or none for all:
    glusterfs v10.5 cli/src/cli-cmd-volume.c:3004): started, with its planned brick count
    (cli-rpc-ops.c:917 "Status: %s", of "Created", "Started" and "Stopped" at :55-58)."""
    return tuple(
        Check(
            on=on,
            command=shlex.join(["gluster", "volume", "info", v.name]),
            shows=(f"Volume Name: {v.name}", "Status: Started", number_of_bricks(v)),
        )
        for v in volumes
    )


def volumes_healed(on: str, volumes: Sequence[VolumePlan]) -> tuple[Check, ...]:
    """`gluster volume heal NAME info`: nothing left to heal on any brick (cli-rpc-ops.c:7975
    "Number of entries: %" PRIu64, one line per brick)."""
    return tuple(
        Check(
            on=on,
            command=shlex.join(["gluster", "volume", "heal", v.name, "info"]),
            shows=("Number of entries: 0",),
            note="on every brick",
        )
        for v in volumes
    )


def glusterd_running(on: str) -> Check:
    """`systemctl is-active glusterd` prints `active` for a running unit (systemctl(1))."""
    return Check(
        on=on,
        command="systemctl is-active glusterd",
        shows=("active",),
        not_shows=("inactive", "failed"),
    )


def pool_checks(the_plan: GlusterPlan, slug: str, on: str) -> tuple[Check, ...] | None:
    """The checks of the pool's own steps, alike in every target; None for another step."""
    first = the_plan.first
    if slug == "peer-probe":
        return (peers_connected(first.name, len(the_plan.hosts) - 1),)
    if slug == "peer-probe-back":
        return (peer_known_by_name(on, first.peer),)
    return None


# --- the templates' data --------------------------------------------------------------------


def member_data(h: Member) -> dict[str, Any]:
    """What a host's entry in the templates' `plan.hosts` has of the pool."""
    return {
        **brick_storage.host_data(h.host, holds_bricks=bool(h.brick_dirs)),
        "peer": h.peer,
        "peers": list(h.peers),
        "brick_dirs": list(h.brick_dirs),
        "volumes": list(h.volumes),
    }


def _brick(b: Brick) -> dict[str, Any]:
    return {"host": b.host, "peer": b.peer, "path": b.path, "spec": str(b)}


def _volume(v: VolumePlan) -> dict[str, Any]:
    return {
        "name": v.name,
        "replica": v.replica,
        "existing": v.existing,
        "brick_dir": v.brick_dir,
        "bricks": [_brick(b) for b in v.bricks],
        "brick_hosts": list(v.brick_hosts),
        "add_brick_groups": [[str(b) for b in group] for group in v.add_brick_groups],
        "spreads": v.spreads,
    }


def plan_data(p: GlusterPlan) -> dict[str, Any]:
    """What a plan has of the pool's volumes, for the templates' `plan`."""
    volumes = [_volume(v) for v in p.volumes]
    return {
        "volumes": volumes,
        "existing_volumes": [v for v in volumes if v["existing"]],
        "new_volumes": [v for v in volumes if not v["existing"]],
        # The existing volumes growing spreads over a further replica set.
        "spread_volumes": [v.name for v in p.existing_volumes if v.spreads],
        # Each host's bricks of the volumes the runbook creates: what their undo clears.
        "new_bricks": {
            h.name: [{"volume": v.name, "path": b.path} for v, b in p.new_bricks(h.name)]
            for h in p.hosts
        },
        "brick_made": {"command": list(p.brick_made.command), "what": p.brick_made.what},
    }
