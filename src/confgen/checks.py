"""What shows that a step worked, as the runbooks name it between steps: the Gluster checks
every target shares. Each is a command an administrator runs and what it prints when the step
worked, in the words of the program's own output (cited at each)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from confgen.planner import Check

if TYPE_CHECKING:
    from confgen.planner import HostPlan, VolumePlan


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


def every_host(hosts: Sequence[HostPlan]) -> str:
    return "each host" if len(hosts) > 1 else hosts[0].name
