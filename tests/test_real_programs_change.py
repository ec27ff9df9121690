"""`confgen change` replayed on a pool of real glusterds (Debian's glusterfs-server 10.3).

FROM is built with its own day-1 peer and volume steps on a pool of TO's size, the new hosts'
glusterd running but not yet probed (as their own day-1 steps leave them). The change scripts
then run unchanged, each on its host; the pool must be what TO's day-1 steps build on a second
pool: every peer connected, each volume's bricks in order, its type and options. Run again,
the change scripts change nothing; and a pool that is not FROM is refused before anything is
done, with the difference named.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import confgen
from change_pairs import el7, el9
from real_pool import GlusterPool, gluster_pool, storage_pool_of
from test_real_programs import require

GROUPS = Path("/var/lib/glusterd/groups")
REBALANCE_STARTED = (
    "volume rebalance: data: success: Rebalance on data has been started successfully. Use "
    "rebalance status command to check status of the rebalance process.\n"
    "ID: 00000000-0000-0000-0000-000000000000\n"
)
DAY_ONE_GLUSTER = ("peer-probe", "peer-probe-back", "volumes")


def _ok(done: object) -> str:
    assert done.returncode == 0, done.stdout + done.stderr  # type: ignore[attr-defined]
    return str(done.stdout)  # type: ignore[attr-defined]


def _day_one(pool: GlusterPool, out: Path, plan: confgen.Plan) -> None:
    """FROM's (or TO's) own Gluster steps, each on its hosts, with the brick folders made as
    the brick step makes them."""
    for volume in plan.volumes:
        for brick in volume.bricks:
            _ok(pool.run(brick.host, "mkdir", "-p", brick.path))
    for step in plan.steps:
        if step.slug in DAY_ONE_GLUSTER:
            for host in step.hosts:
                _ok(pool.run_script(host, out / "hosts" / host / "scripts" / step.script))


def _state(pool: GlusterPool, plan: confgen.Plan) -> dict[str, object]:
    """What TO's day-1 must equal: each host's connected peers, each volume's type, bricks in
    order and options."""
    first = plan.first.name
    state: dict[str, object] = {}
    for h in plan.hosts:
        status = pool.gluster(h.name, "peer", "status").stdout
        state[f"peers of {h.name}"] = status.count("State: Peer in Cluster (Connected)")
    for volume in sorted(v.name for v in plan.volumes):
        info = pool.gluster(first, "volume", "info", volume).stdout
        state[volume] = {
            "type": re.search(r"^Type: (.*)$", info, re.MULTILINE).group(1),  # type: ignore[union-attr]
            "status": re.search(r"^Status: (.*)$", info, re.MULTILINE).group(1),  # type: ignore[union-attr]
            "bricks": re.findall(r"^Brick\d+: (.*)$", info, re.MULTILINE),
            "options": sorted(info.split("Options Reconfigured:\n", 1)[1].splitlines())
            if "Options Reconfigured:" in info
            else [],
        }
    return state


def _change_scripts(out: Path, the_change: confgen.ChangePlan) -> list[tuple[str, Path]]:
    return [
        (host, out / "hosts" / host / step.script)
        for step in the_change.steps
        if step.template is not None
        for host in step.hosts
    ]


PAIRS = {
    # Three hosts to six, the data volume grown to 2 x 3, a new volume on the new hosts.
    "el9 3 to 6, data 2x3, new vmstore": (
        (3, (("engine", (1, 2, 3)), ("data", (1, 2, 3)))),
        (6, (("engine", (1, 2, 3)), ("data", (1, 2, 3, 4, 5, 6)), ("vmstore", (4, 5, 6)))),
    ),
}


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_change_on_real_glusterds_equals_day_one_of_to(pair: str, tmp_path: Path) -> None:
    if not (GROUPS / "virt").is_file():
        pytest.fail(f"{GROUPS}/virt is missing: apt-get install glusterfs-server")
    (n_from, v_from), (n_to, v_to) = PAIRS[pair]
    bricks = str(tmp_path / "a" / "bricks")
    before = confgen.loads(el9(n_from, v_from, mount_point=bricks))
    after = confgen.loads(el9(n_to, v_to, mount_point=bricks))
    from_out, change_out = tmp_path / "from", tmp_path / "change"
    confgen.write_tree(confgen.render(before), from_out)
    the_change = confgen.change(before, after)
    confgen.write_tree(confgen.render_change(the_change), change_out)
    to_plan = the_change.after
    addresses, names = storage_pool_of(to_plan)
    scripts = _change_scripts(change_out, the_change)
    slugs = [s.slug for s in the_change.steps if s.template is not None]
    assert slugs == ["gluster-probe", "create-volumes", "add-bricks"], slugs

    with gluster_pool(tmp_path / "a", addresses, names, GROUPS) as pool:
        _day_one(pool, from_out, the_change.before)
        for h in to_plan.hosts:  # the new hosts' brick step: their brick folders
            for brick in (b for v in to_plan.volumes for b in v.bricks if b.host == h.name):
                _ok(pool.run(h.name, "mkdir", "-p", brick.path))
        first = to_plan.first.name

        # Not FROM: a volume neither side has. The first change script stops, names it, and
        # probes nobody.
        stray = f"{to_plan.hosts[0].peer}:{bricks}/stray/brick"
        _ok(pool.run(first, "mkdir", "-p", f"{bricks}/stray"))
        _ok(pool.gluster(first, "--mode=script", "volume", "create", "stray", stray))
        host, script = scripts[0]
        refused = pool.run_script(host, script)
        assert refused.returncode != 0, refused.stdout
        assert "the pool has the volume stray, which neither FROM nor TO has" in refused.stderr
        assert "peer probe" not in refused.stdout
        assert pool.gluster(first, "peer", "status").stdout.count("Hostname:") == n_from - 1
        _ok(pool.gluster(first, "--mode=script", "volume", "delete", "stray"))

        # A dry run changes nothing.
        for host, script in scripts[:1]:
            dry = _ok(pool.run_script(host, script, DRY_RUN="1"))
            assert "would run: gluster peer probe" in dry, dry
        assert pool.gluster(first, "peer", "status").stdout.count("Hostname:") == n_from - 1

        for host, script in scripts:
            out = _ok(pool.run_script(host, script))
        # What the fake cluster's stand-in answers to `rebalance VOL start`
        # (tests/fakehost_gluster.py), but for glusterd's task ID.
        started = re.search(r"volume rebalance: data: success: .*\nID: ([0-9a-f-]{36})\n", out)
        assert started is not None, out
        assert started.group(0).replace(
            started.group(1), "0" * 8 + "-0000" * 3 + "-" + "0" * 12
        ) == (REBALANCE_STARTED)
        changed = _state(pool, to_plan)
        for host, script in scripts:
            again = _ok(pool.run_script(host, script))
            for word in ("peer probe:", "volume create:", "volume add-brick:", "rebalance: "):
                assert word not in again, again
            assert "already as TO has it" in again, again
        assert _state(pool, to_plan) == changed
        rebalance = pool.gluster(first, "volume", "rebalance", "data", "status").stdout
        assert "completed" in rebalance or "in progress" in rebalance, rebalance

    # TO's own day-1 steps on a pool of its own, whose bricks lie in its own folder.
    other = str(tmp_path / "b" / "bricks")
    to_day_one = confgen.loads(el9(n_to, v_to, mount_point=other))
    to_out = tmp_path / "to"
    confgen.write_tree(confgen.render(to_day_one), to_out)
    with gluster_pool(tmp_path / "b", addresses, names, GROUPS) as pool:
        _day_one(pool, to_out, confgen.plan(to_day_one))
        built = _state(pool, to_plan)
    assert repr(changed) == repr(built).replace(other, bricks)


def test_shellcheck_reads_every_change_script(tmp_path: Path) -> None:
    """shellcheck finds nothing in the change scripts of a pair of each target (every change
    template rendered: probe, create, add-brick, public addresses)."""
    shellcheck = require("shellcheck", "shellcheck")
    el7_volumes = (
        ("engine", (1, 2, 3), True),
        ("data", (1, 2, 3, 4, 5, 6), True),
        ("meta", (1, 2, 3), False),
        ("vm", (4, 5, 6), False),
    )
    pairs = [
        (el9(3), el9(6, (("engine", (1, 2, 3)), ("data", (1, 2, 3, 4, 5, 6)), ("vm", (4, 5, 6))))),
        (
            el7(6),
            el7(
                6,
                el7_volumes,
                vips=(("192.168.122.200/24", "eth0"), ("192.168.122.201/24", "eth0")),
            ),
        ),
        (el7(3), el7(4)),
    ]
    scripts = []
    for i, (before, after) in enumerate(pairs):
        out = tmp_path / str(i)
        confgen.write_tree(
            confgen.render_change(confgen.change(confgen.loads(before), confgen.loads(after))), out
        )
        scripts += sorted(str(p) for p in out.glob("hosts/*/change/*.sh"))
    templates = {Path(s).name.split("-", 1)[1] for s in scripts}
    assert templates == {
        "gluster-probe.sh",
        "create-volumes.sh",
        "add-bricks.sh",
        "public-addresses.sh",
        "ctdb-nodes.sh",
    }
    result = subprocess.run([shellcheck, *scripts], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
