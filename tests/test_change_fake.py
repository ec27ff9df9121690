"""`confgen change` on the fake cluster: FROM's whole runbook builds FROM on its hosts (the new
hosts fresh EL9 installs), then every step of the change in CHANGE.md's order runs unchanged,
each dry run first (it changes nothing and prints the commands the real run makes), each run
again at once (a no-op). The pool ends as TO's own runbook builds it, the engine with every
host, and the whole change run again changes nothing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import confgen
import fakehost_el9
import fakehost_engine
import fakehost_gluster
from change_pairs import el7, el9
from fakehost import COMMANDS, FakeCluster, preflight_facts
from test_change import EL7_REPLACED
from test_checks import _passes
from test_real_programs_change import REBALANCE_STARTED
from test_scripts import _normalised, _run_in_order, would_run


def _run(fake: FakeCluster, steps: list[tuple[str, str]], *, dry_first: bool) -> str:
    said = ""
    for host, script in steps:
        if dry_first:
            before, changes = fake.snapshot(), len(fake.changes())
            dry = fake.run(host, script, DRY_RUN="1")
            assert dry.returncode == 0, f"{host} {script} (dry run): {dry.stdout}{dry.stderr}"
            assert fake.changes()[changes:] == [], f"{host} {script}: dry run changed the host"
            assert fake.snapshot() == before, f"{host} {script}: dry run wrote a file"
            printed = [argv for argv in would_run(dry.stdout) if argv[0] in COMMANDS]
        changes = len(fake.changes())
        done = fake.run(host, script)
        assert done.returncode == 0, f"{host} {script}: {done.stdout}{done.stderr}"
        said += done.stdout
        if dry_first:
            # `heal VOL info` only reads: the state it changes is the self-heal daemon's work
            # (fakehost_gluster._heal_info), which no dry run prints.
            made = [
                _normalised(argv)
                for _, argv in fake.changes()[changes:]
                if argv[0] in COMMANDS and not (argv[2:3] == ["heal"] and argv[-1] == "info")
            ]
            assert made == printed, f"{host} {script}: the dry run printed other commands"
        after, changes = fake.snapshot(), len(fake.changes())
        again = fake.run(host, script)
        assert again.returncode == 0, f"{host} {script} (again): {again.stdout}{again.stderr}"
        assert fake.changes()[changes:] == [], f"{host} {script}: a rerun changed the host"
        assert fake.snapshot() == after, f"{host} {script}: a rerun wrote a file"
    return said


def _pool(fake: FakeCluster) -> dict[str, object]:
    state = fake.state
    volumes = {
        name: (v["status"], v["replica"], v["bricks"], sorted(map(tuple, v.get("options", []))))
        for name, v in state["volumes"].items()
    }
    return {
        "peers": sorted(state["peers"]),
        "volumes": volumes,
        "engine hosts": sorted(state["engine"]["hosts"]),
        "domains": sorted(state["engine"].get("storage_domains", {})),  # el9 only
    }


def _change_ends_as_tos_day_one(
    tmp_path: Path, before_text: str, after_text: str, replace: tuple[str, ...] = ()
) -> tuple[Any, str]:
    """FROM built by its own runbook on a fake cluster of TO's hosts and FROM's that leave
    (the replaced hosts' brick disks then dead, disk_died); every step of the change in
    CHANGE.md's order, each dry run first and run again at once; the whole change run again
    changes nothing, and the pool ends as TO's own runbook builds it. The change, and what its
    steps printed."""
    before, after = confgen.loads(before_text), confgen.loads(after_text)
    the_change = confgen.change(before, after, replace=list(replace))
    from_out, change_out = tmp_path / "from", tmp_path / "change"
    confgen.write_tree(confgen.render(before), from_out)
    confgen.write_tree(confgen.render_change(the_change), change_out)
    left = set(the_change.hosts.left)
    leaving = tuple(h for h in the_change.before.hosts if h.name in left)
    fake = FakeCluster(tmp_path / "fake", from_out, the_change.after, also=leaving)
    fake.plan = the_change.before
    _run(fake, [(h, s.script) for s in the_change.before.steps for h in s.hosts], dry_first=False)
    for name in replace:
        disk_died(fake, the_change.before, name, 1)
    fake.out, fake.plan = change_out, the_change.after
    # The change tree's scripts, relative to each host's scripts/ as the fake runs them.
    steps = _change_steps(the_change)
    said = _run(fake, steps, dry_first=True)
    changed = _pool(fake)
    before_rerun = fake.snapshot(), len(fake.changes())
    _run(fake, steps, dry_first=False)
    assert (fake.snapshot(), len(fake.changes())) == before_rerun

    built = FakeCluster.rendered(tmp_path / "to", after_text)
    _run_in_order(built, dry_first=False)
    assert changed == _pool(built)
    return the_change, said


def test_el9_three_to_six_hosts_on_the_fake_cluster(tmp_path: Path) -> None:
    # vm on a kept host too: its brick step, run again, adds that brick's storage alone.
    volumes = (("engine", (1, 2, 3)), ("data", (1, 2, 3, 4, 5, 6)), ("vm", (3, 4, 5)))
    _, said = _change_ends_as_tos_day_one(tmp_path, el9(3), el9(6, volumes))
    # The stand-in's answer to `rebalance data start`, as the real glusterd's in
    # test_real_programs_change.py, but for its task ID.
    assert REBALANCE_STARTED in said, said


def _change_on_fake(
    tmp_path: Path, before_text: str, after_text: str, replace: tuple[str, ...] = ()
) -> tuple[Any, FakeCluster]:
    """FROM built on a fake cluster of FROM's hosts by its own runbook, and the change tree
    (with --replace of each host of `replace`)."""
    before, after = confgen.loads(before_text), confgen.loads(after_text)
    the_change = confgen.change(before, after, replace=list(replace))
    from_out, change_out = tmp_path / "from", tmp_path / "change"
    confgen.write_tree(confgen.render(before), from_out)
    confgen.write_tree(confgen.render_change(the_change), change_out)
    fake = FakeCluster(tmp_path / "fake", from_out, the_change.before)
    _run_in_order(fake, dry_first=False)
    fake.out = change_out
    return the_change, fake


def _change_steps(the_change: Any) -> list[tuple[str, str]]:
    return [
        (h, s.script.removeprefix("scripts/") if s.day_one else f"../{s.script}")
        for s in the_change.steps
        for h in s.hosts
    ]


# data 2x3 on six hosts: the second replica set, on hv4..hv6, goes with its hosts.
SIX = (("engine", (1, 2, 3)), ("data", (1, 2, 3, 4, 5, 6)))


def test_el9_six_to_three_hosts_on_the_fake_cluster(tmp_path: Path) -> None:
    the_change, fake = _change_on_fake(tmp_path, el9(6, SIX), el9(3))
    assert [s.slug for s in the_change.steps] == [
        "remove-bricks",
        "engine-remove-hosts",
        "gluster-detach",
    ]
    leaving = ("hv4", "hv5", "hv6")
    assert all((fake.root(h) / fakehost_engine.HE_CONF).is_file() for h in leaving)
    steps = _change_steps(the_change)
    _run(fake, steps, dry_first=True)
    changed = _pool(fake)
    calls = [c["argv"] for c in fake.calls() if c["host"] == "engine"]
    for h in leaving:
        # Each leaving host through the engine's three calls, in their order.
        number = h[2]
        made = [a[1:] for a in calls if a[1] in ("POST", "DELETE") and f"host-{number}" in a[2]]
        assert made == [
            ["POST", f"/ovirt-engine/api/hosts/host-{number}/deactivate"],
            ["POST", f"/ovirt-engine/api/hosts/host-{number}/install"],
            ["DELETE", f"/ovirt-engine/api/hosts/host-{number}"],
        ]
        # Undeployed: no hosted-engine.conf, ovirt-ha-agent stopped (the undeploy stops it and
        # leaves it enabled; the removal's playbook acts only where hosted-engine.conf is).
        machine = fake.state["hosts"][h]
        assert not (fake.root(h) / fakehost_engine.HE_CONF).exists()
        assert "ovirt-ha-agent" not in machine["active"]
    # The storage network is not the management one: the engine's own detach, by the host's
    # FQDN, finds no peer, and the detach step takes them out.
    detached = [argv[-1] for host, argv in fake.changes() if argv[-2:-1] == ["detach"]]
    assert detached == [fake.state["hosts"][h]["peer"] for h in leaving]
    before_rerun = fake.snapshot(), len(fake.changes())
    _run(fake, steps, dry_first=False)
    assert (fake.snapshot(), len(fake.changes())) == before_rerun

    built = FakeCluster.rendered(tmp_path / "to", el9(3))
    _run_in_order(built, dry_first=False)
    assert changed == _pool(built)


def test_el9_a_host_leaves_while_a_volume_grows_on_the_fake_cluster(tmp_path: Path) -> None:
    # hv4 holds no brick and leaves; hv5..hv7 join and data grows to 2x3. The engine's and
    # the detach steps come before add-brick: they wait for no brick on a leaving host, not
    # for every volume to have TO's bricks already.
    after_text = re.sub(
        r"\[\[hosts\]\]\nname = \"hv4\".*?(?=\n\n)\n\n",
        "",
        el9(7, (("engine", (1, 2, 3)), ("data", (1, 2, 3, 5, 6, 7)))),
        flags=re.S,
    )
    the_change, _ = _change_ends_as_tos_day_one(tmp_path, el9(4), after_text)
    slugs = [s.slug for s in the_change.steps]
    assert slugs.index("engine-remove-hosts") < slugs.index("add-bricks"), slugs


def test_el9_leaving_steps_stop_while_a_leaving_host_holds_a_brick(tmp_path: Path) -> None:
    # The engine's and the detach step run before the remove-brick step: each stops, naming
    # the bricks still on hv4..hv6, and changes nothing.
    the_change, fake = _change_on_fake(tmp_path, el9(6, SIX), el9(3))
    for host, script in _change_steps(the_change)[1:]:
        for dry in ("1", "0"):
            before = len(fake.changes())
            done = fake.run(host, script, DRY_RUN=dry)
            assert done.returncode == 1, done.stdout
            # The peers are known by their storage addresses (a storage network of its own).
            still = " ".join(f"data:10.20.0.1{i}:/gluster_bricks/data/brick" for i in (4, 5, 6))
            assert (
                f"a volume still has a brick on a host that leaves (VOLUME:HOST:PATH): {still};"
                in (done.stderr)
            ), done.stderr
            assert fake.changes()[before:] == []


def test_el9_engine_step_stops_while_the_engine_vm_runs_on_a_leaving_host(tmp_path: Path) -> None:
    the_change, fake = _change_on_fake(tmp_path, el9(4), el9(3))
    assert [s.slug for s in the_change.steps] == ["engine-remove-hosts", "gluster-detach"]
    fake.state["engine"]["he_vm"]["host_id"] = 4
    fake.save()
    host, script = _change_steps(the_change)[0]
    for dry in ("1", "0"):
        before = len(fake.changes())
        done = fake.run(host, script, DRY_RUN=dry)
        assert done.returncode == 1
        assert "the engine's VM runs on hv4: move it away first" in done.stderr, done.stderr
        assert fake.changes()[before:] == []
    fake.load()
    assert "hv4" in fake.state["engine"]["hosts"]


def test_el7_volumes_firewall_and_vips_on_the_fake_cluster(tmp_path: Path) -> None:
    volumes = (
        ("engine", (1, 2, 3), True),
        ("data", (1, 2, 3, 4, 5, 6), True),
        ("meta", (1, 2, 3), False),
        ("vm", (4, 5, 6), False),
    )
    vips = (("192.168.122.200/24", "eth0"), ("192.168.122.201/24", "eth0"))
    the_change, fake = _change_on_fake(
        tmp_path, el7(6), el7(6, volumes, vips=vips, extra_ports=(9100,))
    )
    after = the_change.after.cluster
    steps = _change_steps(the_change)
    calls = len(fake.changes())
    _run(fake, steps, dry_first=True)
    reloads = [c for c in fake.changes()[calls:] if c[1][:2] == ["ctdb", "reloadips"]]
    assert reloads == [("host1", ["ctdb", "reloadips", "all"])], reloads
    first = the_change.after.first.name
    meta = fake.root(first) / after.ctdb.meta_dir.lstrip("/")  # type: ignore[attr-defined]
    assert (meta / "public_addresses").read_text() == "".join(f"{a} {n}\n" for a, n in vips)
    changed = {
        name: (v["status"], v["replica"], v["bricks"]) for name, v in fake.state["volumes"].items()
    }
    plan = the_change.after
    assert changed == {
        v.name: ("Started", v.replica, [str(b) for b in v.bricks]) for v in plan.volumes
    }
    iptables = (fake.root("host6") / "etc/sysconfig/iptables").read_text()
    assert "--dport 9100" in iptables


def _el9_hv2_replaced(
    tmp_path: Path,
) -> tuple[Any, FakeCluster, dict[str, object], list[tuple[str, str]]]:
    """el9's three hosts built on the fake cluster by FROM's runbook, and the change tree of
    --replace hv2 written: the change, the fake cluster, its pool as built, the change's
    scripts in order."""
    before = confgen.loads(el9(3))
    the_change = confgen.change(before, before, replace=["hv2"])
    from_out, change_out = tmp_path / "from", tmp_path / "change"
    confgen.write_tree(confgen.render(before), from_out)
    confgen.write_tree(confgen.render_change(the_change), change_out)
    fake = FakeCluster(tmp_path / "fake", from_out, the_change.before)
    _run(
        fake,
        [(h, s.script) for s in the_change.before.steps for h in s.hosts],
        dry_first=False,
    )
    fake.out = change_out
    return the_change, fake, _pool(fake), _change_steps(the_change)


def _hv2_bricks_down(fake: FakeCluster, missed: int) -> None:
    """hv2's bricks down in every volume, and `missed` writes of clients on hv1 and hv3 listed
    for each of them to heal."""
    for volume in fake.state["volumes"].values():
        volume["offline"] = [b for b in volume["bricks"] if b.startswith("10.20.0.12:")]
        volume["heal"] = {b: missed for b in volume["offline"]}
    fake.save()


def new_machine(fake: FakeCluster, plan: Any, name: str, missed: int) -> None:
    """ovirt45-el9 host `name` replaced by a new machine of its name and addresses: a minimal
    EL9 install (fakehost_el9.fresh_host: its brick disk empty, SSH host keys of its own, no
    VDSM of the engine's), its glusterd once installed and started of a UUID of its own and no
    peer; its bricks down, and `missed` writes of clients listed for each to heal."""
    peer = fake.state["hosts"][name]["peer"]
    member = next(h for h in plan.hosts if h.name == name)
    shutil.rmtree(fake.root(name))
    fake._make_root(member)
    fake.state["hosts"][name] = {
        **fakehost_el9.fresh_host(plan, member),
        **preflight_facts(plan, member),
        "new_glusterd": {},
    }
    for volume in fake.state["volumes"].values():
        down = [b for b in volume["bricks"] if b.split(":", 1)[0] == peer]
        volume["offline"] = [*volume.get("offline", []), *down]
        volume["heal"] = {**volume.get("heal", {}), **{b: missed for b in down}}
    fake.save()


def disk_died(fake: FakeCluster, plan: Any, name: str, missed: int) -> None:
    """Host `name`'s brick disk died and a new empty one took its place, the host booted with
    it: the storage stand-ins know no volume group, filesystem or signature of the old disk;
    its brick filesystems are not mounted, their mount points empty folders of the root disk;
    its bricks' processes down, and `missed` writes of clients listed for each to heal."""
    me = fake.state["hosts"][name]
    member = next(h for h in plan.hosts if h.name == name)
    if plan.cluster.target == "ovirt45-el9":
        storage = plan.brick_storage.get(name)
        mount_points = [v.mount_point for v in storage.volumes] if storage else []
        if storage is not None:
            me["volume_groups"] = {}
            me["devices"] = {storage.device: ""}
    else:
        device = member.host.brick_device
        mount_points = [plan.cluster.gluster.brick_fs.mount_point] if member.brick_dirs else []
        if device is not None:
            me["devices"] = {d: v for d, v in me["devices"].items() if not d.startswith("/dev/")}
            me["devices"][device] = ""
            me.get("children", {}).pop(device, None)
    me["uuids"] = {}
    for mount_point in mount_points:
        me["mounts"].pop(mount_point, None)
        me.get("mounted_devices", {}).pop(mount_point, None)
        folder = fake.root(name) / mount_point.lstrip("/")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for volume in plan.volumes:
        for brick in volume.bricks:
            if brick.host == name:
                me.get("xattrs", {}).pop(brick.path, None)
    for volume in fake.state["volumes"].values():
        volume["offline"] = [b for b in volume["bricks"] if b.split(":", 1)[0] == member.peer]
        volume["heal"] = {b: missed for b in volume["offline"] if missed}
    fake.save()


def test_el9_a_replaced_disk_and_its_volume_grown_in_one_change(tmp_path: Path) -> None:
    # hv2's disk replaced while data grows to 2x3: the bricks go back and heal on FROM's
    # three bricks of data (the heal waits on the bricks the volume has, not TO's six); the
    # add-brick comes after.
    the_change, _ = _change_ends_as_tos_day_one(tmp_path, el9(3), el9(6, SIX), ("hv2",))
    slugs = [s.slug for s in the_change.steps]
    assert slugs.index("reset-bricks") < slugs.index("add-bricks"), slugs


def test_el9_replaced_disk_on_the_fake_cluster(tmp_path: Path) -> None:
    """--replace hv2 after its brick disk died and a new one took its place: no volume group,
    no filesystem, the old UUIDs in fstab, the bricks down. The change's steps (each dry run
    first, run, run again) comment out the old fstab lines, make the storage anew, put each
    brick back and heal it; the pool ends as FROM's runbook built it."""
    the_change, fake, built, steps = _el9_hv2_replaced(tmp_path)
    fstab = fake.root("hv2") / "etc/fstab"
    old_lines = [line for line in fstab.read_text().splitlines() if "/gluster_bricks/" in line]
    assert len(old_lines) == 2, fstab.read_text()

    # The disk is gone, a new empty one in its place; clients wrote on while it was down:
    # hv1 and hv3 list the writes hv2 missed.
    disk_died(fake, the_change.before, "hv2", 4)
    paths = [b.path for v in the_change.after.volumes for b in v.bricks if b.host == "hv2"]
    certificate = fake.state["engine"]["hosts"]["hv2"]["certificate"]

    said = _run(fake, steps, dry_first=True)
    for line in old_lines:
        assert f"# confgen change: the disk of this filesystem was replaced: {line}\n" in (
            fstab.read_text()
        )
    made = [argv for _, argv in fake.changes() if argv[:3] == ["gluster", "volume", "reset-brick"]]
    assert [argv[3] for argv in made] == ["engine", "engine", "data", "data"], made
    assert "reset-brick commit force operation successful" in said
    # The same machine: the engine still reaches its VDSM, so nothing of the engine's changes.
    assert "the engine has hv2 up: the VDSM it deployed there answers, nothing to reinstall" in (
        said
    )
    assert fake.state["engine"]["hosts"]["hv2"]["certificate"] == certificate
    for path in paths:
        assert "trusted.glusterfs.volume-id" in fake.state["hosts"]["hv2"]["xattrs"][path]
    assert all(not v.get("offline") for v in fake.state["volumes"].values())
    assert _pool(fake) == built


@pytest.mark.parametrize(
    "seen_as",
    [
        None,  # "Peer Rejected (Connected)": the new glusterd has rejected the member
        ("Peer in Cluster", "Connected"),  # the member has reconnected, not yet rejected
        ("Peer in Cluster", "Disconnected"),  # the member has not reconnected yet
    ],
)
def test_el9_new_machine_on_the_fake_cluster(
    tmp_path: Path, seen_as: tuple[str, str] | None
) -> None:
    """--replace hv2 where hv2 is a new machine of the same name: a minimal EL9 install with
    the old addresses, its brick disk empty, its glusterd (once installed and started) of a
    UUID of its own and no peer; the pool knows the host by its old UUID, its bricks down, and
    shows it in any of the states a member goes through. Every step, dry run first, builds it,
    gives its glusterd the old UUID and the pool back, and its bricks back."""
    the_change, fake, built, steps = _el9_hv2_replaced(tmp_path)
    member = next(h for h in fake.hosts if h.name == "hv2")
    shutil.rmtree(fake.root("hv2"))
    fake._make_root(member)
    old_key = fake.state["engine"]["hosts"]["hv2"]["ssh_public_key"]
    fake.state["hosts"]["hv2"] = {
        **fakehost_el9.fresh_host(the_change.after, member),
        **preflight_facts(the_change.after, member),
        "new_glusterd": {} if seen_as is None else {"seen_as": list(seen_as)},
    }
    new_keys = fake.state["hosts"]["hv2"]["ssh_host_keys"]
    _hv2_bricks_down(fake, 2)
    said = _run(fake, steps, dry_first=True)
    # The engine's side: the engine no longer reaches a VDSM of its own on hv2; the step put
    # hv2 into maintenance and reinstalled it with its hosted engine deployed, giving the
    # engine the new machine's SSH host key of the type it held, shown first by fingerprint.
    engine_host = fake.state["engine"]["hosts"]["hv2"]
    kind = old_key.split()[0]
    new_key = f"{kind} {new_keys[kind]}"
    assert old_key != new_key
    assert engine_host["status"] == "up"
    assert engine_host["ssh_public_key"] == new_key
    assert f"{fakehost_engine.fingerprint(new_key)} no comment (RSA)" in said
    assert "the engine reinstalls hv2 with its hosted engine deployed" in said
    conf = (fake.root("hv2") / fakehost_engine.HE_CONF).read_text()
    assert f"host_id={engine_host['host_id']}\n" in conf
    assert "ovirt-ha-agent" in fake.state["hosts"]["hv2"]["active"]
    # CHANGE.md's check after the step, as the administrator types it.
    reinstall = next(s for s in the_change.steps if s.slug == "engine-reinstall")
    assert reinstall.checks and all(_passes(fake, "hv1", c) for c in reinstall.checks)
    assert "new_glusterd" not in fake.state["hosts"]["hv2"]
    shown = "Peer Rejected (Connected)" if seen_as is None else "{} ({})".format(*seen_as)
    assert f"10.20.0.11 knows hv2 as {fakehost_gluster.pool_uuid(fake.state, 'hv2')}: {shown}" in (
        said
    )
    info = (fake.root("hv2") / fakehost_gluster.INFO).read_text()
    assert info.startswith(f"UUID={fakehost_gluster.pool_uuid(fake.state, 'hv2')}\n"), info
    assert "operating-version=100000\n" in info
    probes = [argv for _, argv in fake.changes() if argv[:3] == ["gluster", "peer", "probe"]]
    assert probes[-1] == ["gluster", "peer", "probe", "10.20.0.11"], probes
    assert "reset-brick commit force operation successful" in said
    assert all(not v.get("offline") for v in fake.state["volumes"].values())
    assert _pool(fake) == built
    # Run again, nothing changes.
    calls = len(fake.changes())
    for host, script in steps:
        again = fake.run(host, script)
        assert again.returncode == 0, again.stdout + again.stderr
    assert fake.changes()[calls:] == []
    # A run of the rejoin step that stopped after its first restart: its marker left, glusterd
    # still with the pool's volumes as the pool sent them. Run again, it goes on from there.
    marker = fake.root("hv2") / "var/lib/confgen/rejoin-pool"
    marker.touch()
    fake.state["hosts"]["hv2"]["volumes_from_pool"] = True
    fake.save()
    rejoin = next((h, s) for h, s in steps if s.endswith("-rejoin-pool.sh"))
    again = fake.run(*rejoin)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "an earlier run of this step stopped before its end" in again.stdout
    assert not marker.exists()
    assert "volumes_from_pool" not in fake.state["hosts"]["hv2"]


def test_el9_the_first_host_a_new_machine_is_reinstalled_under_its_fqdn(tmp_path: Path) -> None:
    """--replace hv1 where hv1, the host the hosted engine was deployed from, is a new machine:
    the engine knows it by its FQDN (the deploy added it so). Its Gluster side comes back as
    any host's; the engine-reinstall step, run from hv2, reinstalls it with its hosted engine
    deployed, once the administrator has confirmed the old machine off where the engine still
    counts a VM on it; each step run again changes nothing."""
    before = confgen.loads(el9(3))
    the_change = confgen.change(before, before, replace=["hv1"])
    from_out, change_out = tmp_path / "from", tmp_path / "change"
    confgen.write_tree(confgen.render(before), from_out)
    confgen.write_tree(confgen.render_change(the_change), change_out)
    fake = FakeCluster(tmp_path / "fake", from_out, the_change.before)
    _run(fake, [(h, s.script) for s in the_change.before.steps for h in s.hosts], dry_first=False)
    built = _pool(fake)
    fake.out = change_out
    fqdn = the_change.after.first.host.fqdn
    member = next(h for h in fake.hosts if h.name == "hv1")
    shutil.rmtree(fake.root("hv1"))
    fake._make_root(member)
    fake.state["hosts"]["hv1"] = {
        **fakehost_el9.fresh_host(the_change.after, member),
        **preflight_facts(the_change.after, member),
        "new_glusterd": {},
    }
    for volume in fake.state["volumes"].values():
        volume["offline"] = [b for b in volume["bricks"] if b.startswith("10.20.0.11:")]
        volume["heal"] = {b: 2 for b in volume["offline"]}
    fake.save()
    steps = _change_steps(the_change)
    assert steps[-1][0] == "hv2" and steps[-1][1].endswith("-engine-reinstall.sh"), steps
    said = _run(fake, steps[:-1], dry_first=True)
    # The engine still counts a VM on the old machine: it refuses maintenance, and the step
    # stops saying what the administrator confirms first.
    fake.state["engine"]["hosts"][fqdn]["vm_count"] = 1
    fake.save()
    refused = fake.run(*steps[-1])
    assert refused.returncode == 1
    assert fakehost_engine.NOT_RESPONDING_WITH_VMS.replace("\n", " ") in refused.stderr
    assert "Confirm 'Host has been Rebooted'" in refused.stderr, refused.stderr
    assert (fake.root("hv1") / fakehost_engine.HE_CONF).exists() is False
    # Confirmed (FenceVdsManualyCommand clears the host's VMs): the step goes on.
    fake.state["engine"]["hosts"][fqdn]["vm_count"] = 0
    fake.save()
    said += _run(fake, steps[-1:], dry_first=True)
    assert "the engine reinstalls hv1 with its hosted engine deployed" in said
    engine_host = fake.state["engine"]["hosts"][fqdn]
    assert engine_host["status"] == "up"
    conf = (fake.root("hv1") / fakehost_engine.HE_CONF).read_text()
    assert "host_id=1\n" in conf
    assert _pool(fake) == built
    # A host an earlier install left install_failed is installed from there, as the engine
    # allows, without maintenance on the way.
    engine_host["status"] = "install_failed"
    fake.save()
    again = fake.run(*steps[-1])
    assert again.returncode == 0, again.stdout + again.stderr
    assert "the engine reinstalls hv1 with its hosted engine deployed" in again.stdout
    assert "goes into maintenance" not in again.stdout
    assert fake.state["engine"]["hosts"][fqdn]["status"] == "up"


MARK_MOUNT = "/var/lib/confgen/mark-mount"


def test_el7_replaced_disk_on_the_fake_cluster(tmp_path: Path) -> None:
    """el7, --replace host2 after its brick disk died and a new one took its place: the old
    fstab line commented out, the brick filesystem made anew by TO's brick step, each brick's
    copies marked through a client mount and the brick put back with `volume start VOL force`
    (glusterfs 3.6 has no reset-brick), each volume healed; the pool ends as FROM's runbook
    built it, and the whole change run again changes nothing."""
    before = confgen.loads(el7(3))
    the_change = confgen.change(before, before, replace=["host2"])
    assert [s.slug for s in the_change.steps] == EL7_REPLACED
    from_out, change_out = tmp_path / "from", tmp_path / "change"
    confgen.write_tree(confgen.render(before), from_out)
    confgen.write_tree(confgen.render_change(the_change), change_out)
    fake = FakeCluster(tmp_path / "fake", from_out, the_change.before)
    _run(fake, [(h, s.script) for s in the_change.before.steps for h in s.hosts], dry_first=False)
    built = _pool(fake)
    fs = before.gluster.brick_fs
    fstab = fake.root("host2") / "etc/fstab"
    old_line = next(
        line for line in fstab.read_text().splitlines() if f" {fs.mount_point} " in line
    )

    # The disk is gone, a new empty one in its place; the bricks down.
    disk_died(fake, the_change.before, "host2", 0)
    paths = [b.path for v in the_change.after.volumes for b in v.bricks if b.host == "host2"]

    fake.out = change_out
    steps = _change_steps(the_change)
    said = _run(fake, steps, dry_first=True)
    assert f"# confgen change: the disk of this filesystem was replaced: {old_line}\n" in (
        fstab.read_text()
    )
    starts = [argv for _, argv in fake.changes() if argv[:3] == ["gluster", "volume", "start"]]
    volumes = [v.name for v in the_change.after.volumes if any(b.host == "host2" for b in v.bricks)]
    assert starts[-len(volumes) :] == [["gluster", "volume", "start", v, "force"] for v in volumes]
    # Each volume's copies were marked through a client mount before its brick came back
    # (so heal info lists what the new brick lacks until it is healed), then it was started.
    calls = [argv for _, argv in fake.changes() if argv[0] in ("mount", "setfattr", "gluster")]
    for v in volumes:
        mount = calls.index(["mount", "-t", "glusterfs", f"host2.example.com:/{v}", MARK_MOUNT])
        assert calls[mount + 1][:2] == ["setfattr", "-n"], calls[mount:]
        assert calls.index(["gluster", "volume", "start", v, "force"]) > mount
    assert "Volume engine: heal the new brick" in said
    for path in paths:
        assert "trusted.glusterfs.volume-id" in fake.state["hosts"]["host2"]["xattrs"][path]
        # The folder glusterd makes for a brick it takes in, which start force does not make
        # and a brick of glusterfs 3.13 or later needs to start (the script's comment).
        folder = fake.root("host2") / path.lstrip("/") / ".glusterfs"
        assert folder.is_dir() and folder.stat().st_mode & 0o777 == 0o600, folder
    assert all(not v.get("offline") for v in fake.state["volumes"].values())
    assert _pool(fake) == built
    calls = len(fake.changes())
    for host, script in steps:
        again = fake.run(host, script)
        assert again.returncode == 0, again.stdout + again.stderr
    assert fake.changes()[calls:] == []

    # A brick with its volume ID that is down (it did not start, or a run stopped after the
    # start) is started again by a rerun of the step, with no second mark.
    fake.load()
    engine = fake.state["volumes"]["engine"]
    brick = next(b for b in engine["bricks"] if b.startswith("host2"))
    engine.setdefault("offline", []).append(brick)
    fake.save()
    host, script = next((h, s) for h, s in steps if s.endswith("-reset-bricks.sh"))
    again = fake.run(host, script)
    assert again.returncode == 0, again.stdout + again.stderr
    assert [argv for _, argv in fake.changes()[calls:]] == [
        ["gluster", "volume", "start", "engine", "force"],
        ["gluster", "volume", "heal", "engine", "full"],
    ]
    assert not fake.state["volumes"]["engine"].get("offline")


def test_el7_new_machine_on_the_fake_cluster(tmp_path: Path) -> None:
    """el7, --replace host2 where host2 is a new machine of the same name: a minimal CentOS 7
    install with the old addresses, its brick disk empty, its glusterd (once installed and
    started) of a UUID of its own and no peer; the pool knows the host by its old UUID, its
    bricks down; the engine still has the old host, and the HA metadata its ID. The steps up
    to the deploy (each dry run first) build it, give its glusterd the old UUID and the pool
    back, put its bricks back healed and start its CTDB node; the deploy fails at closing up
    until the administrator removes the old host in the engine, and then redeploys it under
    host ID 2. The cluster ends as FROM's runbook built it, and a rerun changes nothing."""
    before = confgen.loads(el7(3))
    the_change = confgen.change(before, before, replace=["host2"])
    from_out, change_out = tmp_path / "from", tmp_path / "change"
    confgen.write_tree(confgen.render(before), from_out)
    confgen.write_tree(confgen.render_change(the_change), change_out)
    fake = FakeCluster(tmp_path / "fake", from_out, the_change.before)
    _run(fake, [(h, s.script) for s in the_change.before.steps for h in s.hosts], dry_first=False)
    built, ctdb_built = _pool(fake), _ctdb(fake)
    engine_built = dict(fake.state["engine"])

    member = next(h for h in fake.hosts if h.name == "host2")
    shutil.rmtree(fake.root("host2"))
    fake._make_root(member)
    fake.state["hosts"]["host2"] = {**fake.fresh_el7_host(member), "new_glusterd": {}}
    for volume in fake.state["volumes"].values():
        volume["offline"] = [b for b in volume["bricks"] if b.startswith("host2.")]
        volume["heal"] = {b: 2 for b in volume["offline"]}
    fake.save()

    fake.out = change_out
    steps = _change_steps(the_change)
    deploy = next(i for i, (_, s) in enumerate(steps) if "hosted-engine-deploy" in s)
    said = _run(fake, steps[:deploy], dry_first=True)
    assert "its glusterd knows no pool: a new machine" in said
    info = (fake.root("host2") / fakehost_gluster.INFO).read_text()
    assert info.startswith(f"UUID={fakehost_gluster.pool_uuid(fake.state, 'host2')}\n"), info
    assert all(not v.get("offline") for v in fake.state["volumes"].values())
    assert _pool(fake) == built
    assert _ctdb(fake) == ctdb_built

    # The engine has the old machine's host: the deploy is refused at closing up, and the
    # step run again says what to do.
    host, script = steps[deploy]
    refused = fake.run(host, script)
    assert refused.returncode == 1
    assert "Host with the same address already exists" in refused.stderr, refused.stderr
    again = fake.run(host, script)
    assert again.returncode == 1
    assert "remove that host in the engine's web admin" in again.stderr, again.stderr
    # The administrator removes it there, and the deploy's file here; the step goes on.
    fake.load()
    fake.state["engine"]["in_engine"].remove("host2.example.com")
    fake.save()
    (fake.root("host2") / "etc/ovirt-hosted-engine/hosted-engine.conf").unlink()
    _run(fake, steps[deploy:], dry_first=True)
    assert fake.state["engine"]["hosts"] == engine_built["hosts"]
    assert sorted(fake.state["engine"]["in_engine"]) == sorted(engine_built["in_engine"])
    me = fake.state["hosts"]["host2"]
    assert {"ovirt-ha-agent", "ovirt-ha-broker", "ctdb"} <= set(me["active"])
    calls = len(fake.changes())
    for host, script in steps:
        rerun = fake.run(host, script)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert fake.changes()[calls:] == []


def _ctdb(fake: FakeCluster) -> dict[str, object]:
    """What CTDB runs: each host's ctdbd and the node map it has loaded, the nodes file."""
    hosts = fake.state["hosts"]
    return {
        name: ("ctdb" in h["active"], "ctdb" in h["enabled"], h.get("ctdb_nodes"))
        for name, h in sorted(hosts.items())
    }


def test_el7_three_to_four_hosts_on_the_fake_cluster(tmp_path: Path) -> None:
    # Replica 3 volumes on four hosts: the fourth alone is no replica set, so TO grows no
    # volume (its validation refuses one grown by a host); a new volume has a brick there.
    volumes = (
        ("engine", (1, 2, 3), True),
        ("data", (1, 2, 3), True),
        ("meta", (1, 2, 3), False),
        ("vm", (2, 3, 4), False),
    )
    before, after = confgen.loads(el7(3)), confgen.loads(el7(4, volumes))
    the_change = confgen.change(before, after)
    from_out, change_out = tmp_path / "from", tmp_path / "change"
    confgen.write_tree(confgen.render(before), from_out)
    confgen.write_tree(confgen.render_change(the_change), change_out)
    # A fake cluster of TO's hosts (host4 a fresh CentOS 7); FROM's runbook builds FROM.
    fake = FakeCluster(tmp_path / "fake", from_out, the_change.after)
    _run(fake, [(h, s.script) for s in the_change.before.steps for h in s.hosts], dry_first=False)
    three = [f"192.168.122.{10 + i}" for i in (1, 2, 3)]
    assert {n: c[2] for n, c in _ctdb(fake).items() if c[0]} == {
        f"host{i}": three for i in (1, 2, 3)
    }
    fake.out = change_out
    steps = _change_steps(the_change)
    calls = len(fake.changes())
    _run(fake, steps, dry_first=True)
    reloads = [c for c in fake.changes()[calls:] if c[1][:2] == ["ctdb", "reloadnodes"]]
    # Once, on a member, before the new node's ctdb starts; not again at the rerun.
    assert reloads == [("host1", ["ctdb", "reloadnodes"])], reloads
    changed = {**_pool(fake), "ctdb": _ctdb(fake)}
    before_rerun = fake.snapshot(), len(fake.changes())
    _run(fake, steps, dry_first=False)
    assert (fake.snapshot(), len(fake.changes())) == before_rerun

    # The cluster TO's day-1 runbook builds (the same comparison against a fake cluster built
    # by TO's runbook passes too, at twice this test's time): TO's peers and volumes, every
    # node with TO's nodes loaded and ctdb enabled, every host a hosted-engine host.
    plan = the_change.after
    assert changed["peers"] == sorted(h.peer for h in plan.hosts if not h.is_first)
    assert {n: v[:3] for n, v in changed["volumes"].items()} == {  # type: ignore[attr-defined]
        v.name: ("Started", v.replica, [str(b) for b in v.bricks]) for v in plan.volumes
    }
    four = [*three, "192.168.122.14"]
    assert changed["ctdb"] == {f"host{i}": (True, True, four) for i in (1, 2, 3, 4)}
    assert changed["engine hosts"] == [1, 2, 3, 4]
    assert (fake.root("host4") / "mnt/lock/nodes").read_text() == "".join(f"{a}\n" for a in four)


def _four_to_three(tmp_path: Path) -> tuple[confgen.ChangePlan, FakeCluster]:
    """host4 leaves an el7 cluster whose vm volume is 2 x 2 (host3 and host4 its second
    set): the change, and the fake cluster built by FROM's runbook, its out the change tree."""
    seed = (("engine", (1, 2, 3), True), ("data", (1, 2, 3), True), ("meta", (1, 2, 3), False))
    replica_2 = ('name = "vm",', 'name = "vm", replica = 2,')
    return _change_on_fake(
        tmp_path,
        el7(4, (*seed, ("vm", (1, 2, 3, 4), False))).replace(*replica_2),
        el7(3, (*seed, ("vm", (1, 2), False)), retired=(4,)).replace(*replica_2),
    )


def test_el7_four_to_three_hosts_on_the_fake_cluster(tmp_path: Path) -> None:
    """host4 leaves: the second replica set of vm (host3, host4) moves its files off and is
    taken out, host4's HA services and ctdb stop, the nodes file comments its line and is
    reloaded, and host4 is detached; the pool, the nodes file and ctdb's nodes end as TO's."""
    the_change, fake = _four_to_three(tmp_path)
    assert [(s.slug, s.hosts) for s in the_change.steps] == [
        ("remove-bricks", ("host1",)),
        ("leave-services", ("host4",)),
        ("ctdb-nodes", ("host1",)),
        ("gluster-detach", ("host1",)),
    ]
    steps = _change_steps(the_change)
    # While the engine's VM runs on host4, its step stops before it changes anything.
    engine = fake.state["engine"]
    was = engine["vm"], engine["runs_on"]
    engine["vm"], engine["runs_on"] = "up", 4
    fake.save()
    calls, files = len(fake.changes()), fake.snapshot()
    refused = fake.run("host4", f"../{the_change.steps[1].script}")
    assert refused.returncode != 0 and "the engine's VM runs on host4" in refused.stderr, refused
    assert (len(fake.changes()), fake.snapshot()) == (calls, files)
    engine = fake.state["engine"]
    engine["vm"], engine["runs_on"] = was
    fake.save()
    calls = len(fake.changes())
    _run(fake, steps, dry_first=True)
    made = [
        (host, argv)
        for host, argv in fake.changes()[calls:]
        if argv[0] in ("gluster", "ctdb") or argv[:2] == ["systemctl", "stop"]
    ]
    vm = [f"host{i}.example.com:/gluster/vm/brick" for i in (3, 4)]
    assert made == [
        ("host1", ["gluster", "--mode=script", "volume", "remove-brick", "vm", *vm, "start"]),
        ("host1", ["gluster", "--mode=script", "volume", "remove-brick", "vm", *vm, "commit"]),
        ("host4", ["systemctl", "stop", "ovirt-ha-agent"]),
        ("host4", ["systemctl", "stop", "ovirt-ha-broker"]),
        ("host4", ["systemctl", "stop", "ctdb"]),
        ("host1", ["ctdb", "reloadnodes"]),
        ("host1", ["gluster", "--mode=script", "peer", "detach", "host4.example.com"]),
    ], made
    plan = the_change.after
    assert {n: (v["replica"], v["bricks"]) for n, v in fake.state["volumes"].items()} == {
        v.name: (v.replica, [str(b) for b in v.bricks]) for v in plan.volumes
    }
    assert sorted(fake.state["peers"]) == ["host2.example.com", "host3.example.com"]
    meta = fake.root("host1") / the_change.after.cluster.ctdb.meta_dir.lstrip("/")  # type: ignore[attr-defined]
    nodes = "192.168.122.11\n192.168.122.12\n192.168.122.13\n# host ID 4: no host\n"
    assert (meta / "nodes").read_text() == nodes
    loaded = [*(f"192.168.122.1{i}" for i in (1, 2, 3)), "0.0.0.0"]
    assert [fake.state["hosts"][f"host{i}"]["ctdb_nodes"] for i in (1, 2, 3)] == [loaded] * 3
    assert not {"ctdb", "ovirt-ha-agent", "ovirt-ha-broker"} & set(
        fake.state["hosts"]["host4"]["active"] + fake.state["hosts"]["host4"]["enabled"]
    )


def test_a_remove_brick_start_that_glusterd_fails_once_is_tried_again(tmp_path: Path) -> None:
    """glusterd can fail `remove-brick ... start` while it attaches a restarted self-heal
    daemon ("Commit failed on localhost", seen with glusterfs 10.3 on a loaded machine, right
    after another volume's replica change): the step tries again 30 s later, and goes on."""
    the_change, fake = _four_to_three(tmp_path)
    # The first start (gluster --mode=script volume remove-brick VOL B1 B2 start) fails as
    # glusterd's did, before the stand-in sees it; every other call reaches the stand-in.
    gluster = fake.bin / "gluster"
    gluster.rename(fake.bin / "gluster.stand-in")
    gluster.write_text(
        "#!/bin/sh\n"
        f'if [ "$3 ${{7:-}}" = "remove-brick start" ] && [ ! -e {tmp_path}/failed-once ]; then\n'
        f"    touch {tmp_path}/failed-once\n"
        '    echo "volume remove-brick start: failed: Commit failed on localhost. Please check'
        ' log file for details." >&2\n'
        "    exit 1\n"
        "fi\n"
        f'exec {fake.bin}/gluster.stand-in "$@"\n'
    )
    gluster.chmod(0o755)
    step = the_change.steps[0]
    assert step.slug == "remove-bricks"
    done = fake.run("host1", f"../{step.script}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "failed-once").exists()
    assert "glusterd did not start it; trying again in 30 s" in done.stdout
    vm = next(v for v in the_change.after.volumes if v.name == "vm")
    assert fake.state["volumes"]["vm"]["bricks"] == [str(b) for b in vm.bricks]


def _shell_function(script: str, name: str) -> str:
    found = re.search(rf"^{name}\(\) \{{\n.*?^\}}\n", script, re.MULTILINE | re.DOTALL)
    assert found, f"no function {name} in the script"
    return found.group(0)


def test_el7_a_brick_that_is_down_is_not_healed_though_3_6_counts_it_0(tmp_path: Path) -> None:
    # glusterfs 3.6's heal info prints "Number of entries: 0" for a brick no self-heal daemon
    # gathered for, one that is down (fakehost_gluster._heal_info): the change scripts'
    # `healed` counts a brick only when `gluster volume status` also has it online.
    the_change, fake = _change_on_fake(tmp_path, el7(3), el7(3), ("host2",))
    host, script = next((h, s) for h, s in _change_steps(the_change) if "reset-bricks" in s)
    text = (fake.out / "hosts" / host / "scripts" / script).read_text()
    helpers = "".join(_shell_function(text, f) for f in ("online", "healed"))

    def healed() -> tuple[int, str]:
        done = subprocess.run(
            ["bash", "-c", helpers + "gluster volume heal engine info; healed engine 3"],
            capture_output=True,
            text=True,
            env={"PATH": f"{fake.bin}:{os.environ['PATH']}", **fake.host_env(host)},
        )
        return done.returncode, done.stdout

    code, info = healed()
    assert code == 0, info
    engine = fake.state["volumes"]["engine"]
    engine["offline"] = [b for b in engine["bricks"] if b.startswith("host2.")]
    fake.save()
    code, info = healed()
    assert info.count("\nNumber of entries: 0\n") == 3, info
    assert code == 1, info
