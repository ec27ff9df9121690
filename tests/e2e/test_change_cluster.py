"""`confgen change` on the real cluster: a cluster built by its runbook, then changed along a
chain of cluster files by change.py, each change checked as a day-1 build of its TO, with a
client writing through it, and run again as a no-op. ovirt45-el9's is its Gluster side (the
engine's steps run on the fake cluster, tests/test_change_fake.py).

Needs root, systemd-nspawn and debootstrap (conftest.py)."""

from __future__ import annotations

from pathlib import Path

from change_pairs import el7, el9

from .change import ChainLink, NewDisks, run_chain
from .cluster import Report

VIP = "192.168.122.{}/24".format

# host2's brick disk dies and a new empty one takes its place (`--replace host2`: the old
# filesystem forgotten, the new one made, the copies of each brick marked through a client
# mount and the brick put back with `volume start VOL force`, healed); then host3 is a new
# machine of its name and addresses (`--replace host3`: built by its day-1 steps, its glusterd
# given the pool's UUID for it and the pool back, its bricks put back and healed, its CTDB node
# started, its hosted engine deployed again once the old host is removed in the engine); then three hosts to
# four (host4's own day-1 steps, its CTDB node appended and reloaded, its hosted-engine
# deploy); a VIP added (`ctdb reloadips`); then that VIP moved to another address while host4
# leaves (its HA services and ctdb stopped, its nodes line commented, as its retired ID keeps
# it, the peer detached).
EL7_CHAIN: list[ChainLink] = [
    el7(3),
    NewDisks(("host2",)),
    NewDisks(("host3",), new_machine=True),
    el7(4),
    el7(4, vips=((VIP(200), "eth0"), (VIP(201), "eth0"))),
    el7(3, vips=((VIP(200), "eth0"), (VIP(202), "eth0")), retired=(4,)),
]


# hv2's brick disk dies and a new empty one takes its place (`--replace hv2`: the old
# filesystems forgotten, the new disk's made, each brick put back with reset-brick and healed);
# then hv3 is a new machine of its name and addresses (`--replace hv3`: built by its day-1
# steps, its glusterd given the pool's UUID for it and the pool back, its bricks put back and
# healed); then three hosts to six, the data volume grown from 1 x 3 to 2 x 3 (add-brick,
# rebalance).
EL9_CHAIN: list[ChainLink] = [
    el9(3),
    NewDisks(("hv2",)),
    NewDisks(("hv3",), new_machine=True),
    el9(6, (("engine", (1, 2, 3)), ("data", (1, 2, 3, 4, 5, 6)))),
]


def _run(chain: list[ChainLink], work: Path) -> Report:
    lines: list[str] = []
    report = run_chain(chain, work, Report(echo=lines.append))
    assert not report.failed, "\n".join([*lines, report.summary()])
    changes = len(chain) - 1
    phases = ["built:", *(f"change {i}:" for i in range(1, changes + 1))]
    for phase in [*phases, f"change {changes} again:"]:
        assert any(name.startswith(phase) for name, _, _ in report.results), phase
    # The client wrote through every change.
    assert sum("the client wrote" in name for name, _, _ in report.results) == changes
    return report


def test_el7_three_to_four_a_vip_added_and_moved_and_back_to_three(tmp_path: Path) -> None:
    _run(EL7_CHAIN, tmp_path)


def test_el9_a_brick_disk_replaced_then_three_to_six_with_data_grown(tmp_path: Path) -> None:
    _run(EL9_CHAIN, tmp_path)
