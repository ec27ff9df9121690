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
import time
from ipaddress import IPv4Interface
from pathlib import Path

import pytest

import confgen
from change_pairs import el7, el9
from fakehost_gluster import _reset_brick, answer
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
    """The change's own scripts but the engine's (they talk to the engine's REST API, which
    runs on the fake cluster: tests/test_change_fake.py), with their hosts, in order."""
    return [
        (host, out / "hosts" / host / step.script)
        for step in the_change.steps
        if step.template is not None and not step.slug.startswith("engine-")
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
    """shellcheck finds nothing in the change scripts of a pair of each target, of hosts
    leaving and of a replaced disk (every change template rendered: probe, create, add-brick,
    public addresses, remove-brick, the leaving host's services, the nodes file, detach, the
    engine's side of el9 hosts leaving, the replaced host's rejoin, disk and bricks reset)."""
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
    seed = (("engine", (1, 2, 3), True), ("meta", (1, 2, 3), False))
    pairs.append(
        (
            _replica_2(
                el7(4, (*seed, ("data", (1, 2, 4), True), ("vm", (1, 2, 3, 4), False))), "vm"
            ),
            _replica_2(
                el7(3, (*seed, ("data", (1, 2), True), ("vm", (1, 2), False)), retired=(4,)),
                "vm",
                "data",
            ),
        )
    )
    replace = {len(pairs): ["hv2"]}
    pairs.append((el9(3), el9(3)))
    # el9 hosts leaving: their bricks out, the engine's side, the detach.
    pairs.append((el9(6, (("engine", (1, 2, 3)), ("data", (1, 2, 3, 4, 5, 6)))), el9(3)))
    scripts = []
    for i, (before, after) in enumerate(pairs):
        out = tmp_path / str(i)
        the_change = confgen.change(
            confgen.loads(before), confgen.loads(after), replace=replace.get(i, [])
        )
        confgen.write_tree(confgen.render_change(the_change), out)
        scripts += sorted(str(p) for p in out.glob("hosts/*/change/*.sh"))
    templates = {Path(s).name.split("-", 1)[1] for s in scripts}
    assert templates == {
        "gluster-probe.sh",
        "create-volumes.sh",
        "add-bricks.sh",
        "public-addresses.sh",
        "rejoin-pool.sh",
        "replace-disk.sh",
        "engine-remove-hosts.sh",
        "reset-bricks.sh",
        "engine-reinstall.sh",
        "ctdb-nodes.sh",
        "remove-bricks.sh",
        "leave-services.sh",
        "gluster-detach.sh",
    }
    result = subprocess.run([shellcheck, *scripts], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


# The change scripts of --replace on ovirt45-el9 (its day-1 steps of the tree run no gluster).
NEW_MACHINE_OR_DISK = ["04-rejoin-pool.sh", "05-replace-disk.sh", "07-reset-bricks.sh"]


def _hv2_bricks_empty(
    pool: GlusterPool, plan: confgen.Plan, tmp_path: Path, fstab_text: str
) -> tuple[list[str], Path]:
    """hv2's brick folders gone and made again empty, as TO's brick step makes them on a new
    filesystem (and below its CONFGEN_ROOT, as the scripts see them), its fstab `fstab_text`:
    the brick paths and the fstab."""
    paths = [b.path for v in plan.volumes for b in v.bricks if b.host == "hv2"]
    root = tmp_path / "a" / "hv2" / "root"
    for path in paths:
        _ok(pool.run("hv2", "rm", "-rf", path))
        _ok(pool.run("hv2", "mkdir", "-p", path))
        (root / path.lstrip("/")).mkdir(parents=True)
    fstab = root / "etc" / "fstab"
    fstab.parent.mkdir(parents=True)
    fstab.write_text(fstab_text)
    return paths, fstab


def _hv2_replaced(tmp_path: Path) -> tuple[confgen.ChangePlan, Path, list[tuple[str, Path]]]:
    """An el9 pool of three whose bricks are under the pool's own folder, `--replace hv2`:
    the change, FROM's tree (rendered) and the change scripts in order, with their hosts."""
    text = el9(3, mount_point=str(tmp_path / "a" / "bricks"))
    before = confgen.loads(text)
    from_out, change_out = tmp_path / "from", tmp_path / "change"
    confgen.write_tree(confgen.render(before), from_out)
    the_change = confgen.change(before, before, replace=["hv2"])
    confgen.write_tree(confgen.render_change(the_change), change_out)
    scripts = _change_scripts(change_out, the_change)
    assert [script.name for _, script in scripts] == NEW_MACHINE_OR_DISK
    return the_change, from_out, scripts


def test_replace_disk_on_real_glusterds(tmp_path: Path) -> None:
    """--replace hv2 with a new disk: its brick folders empty and without their volume's ID
    (as TO's brick step leaves a new filesystem), its glusterd and peers kept. The change
    scripts run on hv2 unchanged: the old disk's fstab line is commented out, each brick goes
    back with reset-brick start / commit force, the volumes heal to 0 entries; then every
    brick is online, the volumes are as before, and a rerun changes nothing. (A new machine
    of the same name: test_new_machine_on_real_glusterds.)"""
    the_change, from_out, scripts = _hv2_replaced(tmp_path)
    plan = the_change.after
    addresses, names = storage_pool_of(plan)
    with gluster_pool(tmp_path / "a", addresses, names, GROUPS) as pool:
        _day_one(pool, from_out, the_change.before)
        built = _state(pool, plan)
        # The new disk: the fstab line of the old one left behind.
        mount_point = plan.brick_storage["hv2"].volumes[0].mount_point
        stale = f"UUID=0e0e0e0e-dead-dead-dead-0e0e0e0e0e0e {mount_point} xfs inode64 0 0\n"
        paths, fstab = _hv2_bricks_empty(
            pool, plan, tmp_path, "/dev/vda1 / xfs defaults 0 0\n" + stale
        )
        dry = [_ok(pool.run_script(host, script, DRY_RUN="1")) for host, script in scripts]
        assert "nothing to do here" in dry[0], dry[0]  # its glusterd knows the pool
        assert "would run: gluster volume reset-brick engine" in dry[2], dry[2]
        assert fstab.read_text().endswith(stale)
        done = [_ok(pool.run_script(host, script)) for host, script in scripts]
        assert fstab.read_text() == (
            "/dev/vda1 / xfs defaults 0 0\n"
            f"# confgen change: the disk of this filesystem was replaced: {stale}"
        )
        for volume in ("engine", "data"):
            assert "volume reset-brick: success: reset-brick start operation successful" in done[2]
            assert (
                "Launching heal operation to perform full self heal on volume "
                f"{volume} has been successful" in done[2]
            ), done[2]
        assert done[2].count("reset-brick commit force operation successful") == 2, done[2]
        for path in paths:
            _ok(pool.run("hv2", "getfattr", "-n", "trusted.glusterfs.volume-id", path))
        status = pool.gluster("hv1", "volume", "status").stdout
        assert not re.search(r"^Brick .*\bN\s+N/A", status, re.MULTILINE), status
        assert _state(pool, plan) == built
        # The gluster stand-in answers reset-brick in glusterd's words: its success lines, and
        # its refusal of a commit while the brick's process runs.
        brick = f"10.20.0.12:{paths[0]}"
        volume = {"bricks": [brick], "replica": 3, "offline": []}
        stand_in = {"hosts": {"hv2": {"peer": "10.20.0.12"}}, "volumes": {"engine": volume}}
        refused = pool.gluster(
            "hv2", "volume", "reset-brick", "engine", brick, brick, "commit", "force"
        )
        commit = [brick, brick, "commit", "force"]
        assert (refused.returncode, refused.stderr) == _reset_brick(
            stand_in, "engine", volume, commit
        )[0::3]
        for words in ([brick, "start"], commit):
            assert _reset_brick(stand_in, "engine", volume, words)[1] in done[2]
        for host, script in scripts:
            again = _ok(pool.run_script(host, script))
            assert "volume reset-brick:" not in again, again
            assert "Launching heal" not in again, again


def test_new_machine_on_real_glusterds(tmp_path: Path) -> None:
    """--replace hv2 where hv2 is a new machine of the same name and address: its glusterd of a
    UUID of its own and no peer, its brick folders empty. The change's Gluster scripts run on
    it unchanged: the dry run changes nothing; the run gives glusterd the UUID the pool knows
    hv2 by, probes a member, restarts glusterd, and puts the bricks back; then the pool is as
    before, every brick online, and a rerun changes nothing. The gluster stand-in's answers to
    a new machine are held to the real ones on the way."""
    the_change, from_out, scripts = _hv2_replaced(tmp_path)
    plan = the_change.after
    addresses, names = storage_pool_of(plan)
    with gluster_pool(tmp_path / "a", addresses, names, GROUPS) as pool:
        _day_one(pool, from_out, the_change.before)
        built = _state(pool, plan)
        status = pool.gluster("hv1", "peer", "status").stdout
        old = re.search(r"Hostname: 10\.20\.0\.12\nUuid: (\S+)", status).group(1)  # type: ignore[union-attr]
        info = tmp_path / "a" / "hv2" / "lib" / "glusterd.info"

        pool.new_machine("hv2")
        _hv2_bricks_empty(pool, plan, tmp_path, "/dev/vda1 / xfs defaults 0 0\n")
        fresh = info.read_text()
        assert f"UUID={old}\n" not in fresh
        # What the stand-in says of a new machine, as the real glusterds say it.
        stand_in = {
            "target": "ovirt45-el9",
            "hosts": {
                name: {"peer": str(a.ip), "storage": str(a.ip), "active": ["glusterd"]}
                for name, a in addresses.items()
            },
            "first": "hv1",
            "peers": ["10.20.0.12", "10.20.0.13"],
            "volumes": {},
        }
        hosts: dict[str, dict[str, object]] = stand_in["hosts"]  # type: ignore[assignment]
        hv1, hv2 = hosts["hv1"], hosts["hv2"]
        hv2["new_glusterd"] = {"uuid": fresh.split("\n")[0].removeprefix("UUID=")}
        for words in (
            ["peer", "status"],
            ["peer", "probe", "10.20.0.11"],
            ["system::", "uuid", "get"],
        ):
            real = pool.run("hv2", "gluster", "--mode=script", *words)
            fake = answer(stand_in, hv2, words)
            assert (real.returncode, real.stdout, real.stderr) == (fake[0], fake[1], fake[3]), words
        # A member asked over the network, and an address where no glusterd answers.
        for remote in ("10.20.0.11", "10.20.0.99"):
            real = pool.run("hv2", "gluster", f"--remote-host={remote}", "peer", "status")
            fake = answer(stand_in, hv2, ["peer", "status"], remote=remote)
            assert (real.returncode, real.stderr) == (fake[0], fake[3]), remote
            if remote == "10.20.0.99":
                assert real.stdout == fake[1]
            else:
                assert f"Hostname: 10.20.0.12\nUuid: {old}\n" in real.stdout
        # Once hv1's glusterd has reconnected to the new one (it retries every few seconds):
        rejected = f"Hostname: 10.20.0.12\nUuid: {old}\nState: Peer Rejected (Connected)\n"
        for _ in range(60):
            if rejected in pool.gluster("hv1", "peer", "status").stdout:
                break
            time.sleep(1)
        assert rejected in pool.gluster("hv1", "peer", "status").stdout
        fake_status = answer(stand_in, hv1, ["peer", "status"])[1]
        assert "State: Peer Rejected (Connected)" in fake_status.split("Hostname: 10.20.0.12")[1]

        # The first script's dry run; the later ones read the pool the first gives back.
        dry = _ok(pool.run_script("hv2", scripts[0][1], DRY_RUN="1"))
        assert "would run: systemctl stop glusterd" in dry, dry
        assert "would run: gluster peer probe 10.20.0.11" in dry, dry
        assert info.read_text() == fresh
        done = [_ok(pool.run_script(host, script)) for host, script in scripts]
        assert f"10.20.0.11 knows hv2 as {old}" in done[0], done[0]
        assert info.read_text().startswith(f"UUID={old}\n"), info.read_text()
        assert done[2].count("reset-brick commit force operation successful") == 2, done[2]
        status = pool.gluster("hv1", "volume", "status").stdout
        assert not re.search(r"^Brick .*\bN\s+N/A", status, re.MULTILINE), status
        assert _state(pool, plan) == built
        for host, script in scripts:
            again = _ok(pool.run_script(host, script))
            assert "nothing to do here" in again or "volume reset-brick:" not in again, again
            assert "would run" not in again
        assert info.read_text().startswith(f"UUID={old}\n")


def _replica_2(text: str, *names: str) -> str:
    for name in names:
        text = text.replace(f'name = "{name}",', f'name = "{name}", replica = 2,')
    return text


def test_hosts_leave_on_real_glusterds(tmp_path: Path) -> None:
    """el7, four hosts to three: vm (2 x 2) loses its second replica set (host3, host4) by
    remove-brick start, status, commit; data (replica 3 on host1, host2, host4) drops to
    replica 2 without host4's brick (remove-brick replica 2 ... force); then host4 is
    detached. FROM is built with the gluster commands day 1 ends with (the el7 day-1 steps
    convert the seed's volumes, which a pool of fresh glusterds does not have). Before that,
    what the change avoids is refused by glusterd, in the stand-in's words: part of a replica
    set, and detaching a host that holds bricks."""
    import fakehost_gluster

    bricks = str(tmp_path / "a" / "bricks")
    seed = (("engine", (1, 2, 3), True), ("meta", (1, 2, 3), False))
    before = confgen.loads(
        _replica_2(
            el7(
                4,
                (*seed, ("data", (1, 2, 4), True), ("vm", (1, 2, 3, 4), False)),
                mount_point=bricks,
            ),
            "vm",
        )
    )
    after = confgen.loads(
        _replica_2(
            el7(
                3,
                (*seed, ("data", (1, 2), True), ("vm", (1, 2), False)),
                mount_point=bricks,
                retired=(4,),
            ),
            "vm",
            "data",
        )
    )
    the_change = confgen.change(before, after)
    change_out = tmp_path / "change"
    confgen.write_tree(confgen.render_change(the_change), change_out)
    gluster_steps = [s for s in the_change.steps if s.slug in ("remove-bricks", "gluster-detach")]
    scripts = [(h, change_out / "hosts" / h / s.script) for s in gluster_steps for h in s.hosts]
    assert [s.slug for s in gluster_steps] == ["remove-bricks", "gluster-detach"]
    from_plan, to_plan = the_change.before, the_change.after
    addresses, names = storage_pool_of(from_plan)
    first = from_plan.first.name
    host4 = from_plan.hosts[3].peer

    with gluster_pool(tmp_path / "a", addresses, names, GROUPS) as pool:
        for h in from_plan.hosts[1:]:
            _ok(pool.gluster(first, "peer", "probe", h.peer))
        for volume in from_plan.volumes:
            for brick in volume.bricks:
                _ok(pool.run(brick.host, "mkdir", "-p", brick.path))
            words = ["volume", "create", volume.name, "replica", str(volume.replica)]
            _ok(pool.gluster(first, "--mode=script", *words, *map(str, volume.bricks)))
            _ok(pool.gluster(first, "volume", "start", volume.name))
        # The stand-in's pool, as FROM: the same volumes and peers.
        state: dict[str, object] = {
            "target": "ovirt45-el9",  # glusterfs 10's words, as the real one here speaks
            "first": first,
            "peers": [h.peer for h in from_plan.hosts[1:]],
            "hosts": {h.name: {"peer": h.peer, "active": ["glusterd"]} for h in from_plan.hosts},
            "volumes": {
                v.name: {
                    "status": "Started",
                    "replica": v.replica,
                    "bricks": [str(b) for b in v.bricks],
                }
                for v in from_plan.volumes
            },
        }
        me = state["hosts"][first]  # type: ignore[index]
        data = next(v for v in from_plan.volumes if v.name == "data")
        vm = next(v for v in from_plan.volumes if v.name == "vm")
        refusals = [
            ["volume", "remove-brick", "data", str(data.bricks[2]), "start"],
            ["volume", "remove-brick", "vm", str(vm.bricks[3]), "start"],
            ["volume", "remove-brick", "vm", "replica", "1", str(vm.bricks[3]), "force"],
            ["peer", "detach", host4],
        ]
        for words in refusals:
            real = pool.gluster(first, "--mode=script", *words)
            code, _, _, err = fakehost_gluster.answer(state, me, words)  # type: ignore[arg-type]
            assert real.returncode != 0 and code != 0, (words, real.stdout, real.stderr)
            assert (real.returncode, real.stderr) == (code, err), words

        # A dry run changes nothing.
        dry = _ok(pool.run_script(*scripts[0], DRY_RUN="1"))
        assert "would run: gluster --mode=script volume remove-brick vm" in dry, dry
        assert "host4.example.com:" in pool.gluster(first, "volume", "info", "vm").stdout

        outs = [_ok(pool.run_script(host, script)) for host, script in scripts]
        # The commands' answers, in the scripts' order, as the stand-in gives them.
        removed = [str(b) for b in vm.bricks[2:]]
        for words, said in (
            (
                ["volume", "remove-brick", "data", "replica", "2", str(data.bricks[2]), "force"],
                outs[0],
            ),
            (["volume", "remove-brick", "vm", *removed, "start"], outs[0]),
            (["volume", "remove-brick", "vm", *removed, "status"], None),
            (["volume", "remove-brick", "vm", *removed, "commit"], outs[0]),
            (["peer", "detach", host4], outs[1]),
        ):
            code, out, _, _ = fakehost_gluster.answer(state, me, words)  # type: ignore[arg-type]
            assert code == 0, (words, out)
            if said is not None:  # but for the task's ID, which glusterd draws
                assert out.split("\nID: ")[0] in said, (words, out, said)

        changed = _state(pool, to_plan)
        for host, script in scripts:
            again = _ok(pool.run_script(host, script))
            for word in ("volume remove-brick", "peer detach:"):
                assert word not in again, again
        assert _state(pool, to_plan) == changed
    expected: dict[str, object] = {f"peers of {h.name}": 2 for h in to_plan.hosts}
    for v in sorted(to_plan.volumes, key=lambda v: v.name):
        sets = len(v.bricks) // v.replica
        expected[v.name] = (
            "Replicate" if sets == 1 else "Distributed-Replicate",
            [str(b) for b in v.bricks],
        )
    found = {k: (v["type"], v["bricks"]) if isinstance(v, dict) else v for k, v in changed.items()}
    assert found == expected


def test_the_fake_engines_peer_detach_finds_peers_as_real_glusterd_does(tmp_path: Path) -> None:
    """RemoveVds detaches a host by the name the engine has for it, through vdsm's `gluster
    --mode=script --xml peer detach NAME`, and takes opErrno 2 ("not part of cluster") as done
    (fakehost_engine.finds_peer). Real glusterd 10.3 finds the peer, or not, as the stand-in
    says: by the address it was probed by, by a name that resolves there in any case, not by
    a name of the host's other network; and answers a miss with exit 0, opRet -1, opErrno 2."""
    import fakehost_engine

    addresses = {"a": IPv4Interface("10.20.0.11/24"), "b": IPv4Interface("10.20.0.12/24")}
    names = {"hvb.lab.example": "10.10.0.12", "hvb-gluster.lab.example": "10.20.0.12"}
    with gluster_pool(tmp_path / "pool", addresses, names) as pool:
        _ok(pool.gluster("a", "peer", "probe", "10.20.0.12"))
        for name, found in (
            ("hvb.lab.example", False),
            ("10.20.0.13", False),
            ("HVB-Gluster.lab.example", True),
        ):
            resolved = names.get(name.lower(), name)
            assert fakehost_engine.finds_peer("10.20.0.12", "10.20.0.12", name, resolved) is found
            done = pool.gluster("a", "--mode=script", "--xml", "peer", "detach", name)
            assert done.returncode == 0, done.stdout + done.stderr
            if found:
                assert "<opRet>0</opRet>" in done.stdout, done.stdout
            else:
                assert "<opRet>-1</opRet>" in done.stdout, done.stdout
                assert "<opErrno>2</opErrno>" in done.stdout, done.stdout
                assert f"<opErrstr>{name} is not part of cluster</opErrstr>" in done.stdout
        assert "Number of Peers: 0" in _ok(pool.gluster("a", "peer", "status"))


def test_the_el7_step_reads_granular_entry_heal_as_glusterd_prints_it(tmp_path: Path) -> None:
    """ovirt35-el7's reset-bricks step stops before it marks anything on a volume that heals
    entries by name (its marks would heal their own names only). Its test, `by_name`, is run
    on a replica 3 volume of Debian's glusterd 10.3, which turns the option on for a new
    replica volume (glusterd 9.0 and later, shown "on"): it answers yes; after `heal VOL
    granular-entry-heal disable` (shown "disable"), no; after `... enable` ("enable"), yes.
    Its brick_connected and online (healed's) read `volume status VOL [BRICK] detail` there:
    three bricks online, then two and host2's not once reset-brick start has stopped it."""
    text = el7(3, mount_point=str(tmp_path / "a" / "bricks"))
    cluster = confgen.loads(text)
    the_change = confgen.change(cluster, cluster, replace=["host2"])
    tree = confgen.render_change(the_change)
    script = next(f.text for p, f in tree.items() if p.endswith("-reset-bricks.sh"))
    found = re.search(r"^by_name\(\) \{\n.*?^\}\n", script, re.MULTILINE | re.DOTALL)
    assert found is not None, script
    by_name = found.group(0)
    plan = the_change.before
    addresses, names = storage_pool_of(plan)
    first = plan.first.name
    with gluster_pool(tmp_path / "a", addresses, names, GROUPS) as pool:
        for h in plan.hosts[1:]:
            _ok(pool.gluster(first, "peer", "probe", h.peer))
        volume = next(v for v in plan.volumes if v.name == "engine")
        for brick in volume.bricks:
            _ok(pool.run(brick.host, "mkdir", "-p", brick.path))
        words = ["volume", "create", "engine", "replica", "3", *map(str, volume.bricks)]
        _ok(pool.gluster(first, "--mode=script", *words))
        _ok(pool.gluster(first, "volume", "start", "engine"))
        test = f"set -o pipefail\n{by_name}by_name engine"
        assert pool.run("host2", "bash", "-c", test).returncode == 0
        _ok(pool.gluster(first, "volume", "heal", "engine", "granular-entry-heal", "disable"))
        shown = _ok(pool.gluster(first, "volume", "get", "engine", "cluster.granular-entry-heal"))
        assert re.search(r"^cluster\.granular-entry-heal +disable +$", shown, re.MULTILINE), shown
        assert pool.run("host2", "bash", "-c", test).returncode == 1
        _ok(pool.gluster(first, "volume", "heal", "engine", "granular-entry-heal", "enable"))
        shown = _ok(pool.gluster(first, "volume", "get", "engine", "cluster.granular-entry-heal"))
        assert re.search(r"^cluster\.granular-entry-heal +enable +$", shown, re.MULTILINE), shown
        assert pool.run("host2", "bash", "-c", test).returncode == 0
        # The step's brick_connected and online read `volume status` as glusterd prints it.
        found = re.search(r"^online\(\) \{\n.*?^\}\n", script, re.MULTILINE | re.DOTALL)
        connected = re.search(
            r"^brick_connected\(\) \{\n.*?^\}\n", script, re.MULTILINE | re.DOTALL
        )
        assert found is not None and connected is not None, script
        functions = "set -o pipefail\n" + found.group(0) + connected.group(0)
        host2 = next(b for b in volume.bricks if b.host == "host2")
        up = pool.run(
            "host1", "bash", "-c", f"{functions}online engine; brick_connected engine {host2}"
        )
        assert (up.returncode, up.stdout) == (0, "3\n"), up.stdout + up.stderr
        # The gluster stand-in prints the lines the step reads as glusterd 10.3 prints them.
        bricks = [str(b) for b in volume.bricks]
        stand_in = {"volumes": {"engine": {"bricks": bricks, "replica": 3, "status": "Started"}}}
        asked = (["volume", "status", "engine"], ["volume", "status", "engine", str(host2)])
        for status in asked:
            real = _ok(pool.gluster(first, *status, "detail"))
            fake = answer(
                stand_in, {"peer": "host1.example.com", "active": ["glusterd"]}, [*status, "detail"]
            )[1]
            read = re.compile(r"^(Status of volume: .*|-+|(Brick|Online) +: .*)$", re.MULTILINE)
            assert read.findall(fake) == read.findall(real), (fake, real)
        _ok(pool.gluster(first, "volume", "reset-brick", "engine", str(host2), "start"))
        down = pool.run(
            "host1", "bash", "-c", f"{functions}online engine; brick_connected engine {host2}"
        )
        assert (down.returncode, down.stdout) == (1, "2\n"), down.stdout + down.stderr
        _ok(
            pool.gluster(
                first, "volume", "reset-brick", "engine", str(host2), str(host2), "commit", "force"
            )
        )
