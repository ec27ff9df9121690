"""`confgen change` on the fake cluster: FROM's whole runbook builds FROM on its hosts (the new
hosts fresh EL9 installs), then every step of the change in CHANGE.md's order runs unchanged,
each dry run first (it changes nothing and prints the commands the real run makes), each run
again at once (a no-op). The pool ends as TO's own runbook builds it, the engine with every
host, and the whole change run again changes nothing."""

from __future__ import annotations

from pathlib import Path

import confgen
from change_pairs import el7, el9
from fakehost import COMMANDS, FakeCluster
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
            made = [
                _normalised(argv) for _, argv in fake.changes()[changes:] if argv[0] in COMMANDS
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
        "domains": sorted(state["engine"]["storage_domains"]),
    }


def test_el9_three_to_six_hosts_on_the_fake_cluster(tmp_path: Path) -> None:
    # vm on a kept host too: its brick step, run again, adds that brick's storage alone.
    volumes = (("engine", (1, 2, 3)), ("data", (1, 2, 3, 4, 5, 6)), ("vm", (3, 4, 5)))
    before, after = confgen.loads(el9(3)), confgen.loads(el9(6, volumes))
    the_change = confgen.change(before, after)
    from_out, change_out = tmp_path / "from", tmp_path / "change"
    confgen.write_tree(confgen.render(before), from_out)
    confgen.write_tree(confgen.render_change(the_change), change_out)
    # A fake cluster of TO's hosts; FROM's runbook, run on FROM's hosts, builds FROM.
    fake = FakeCluster(tmp_path / "fake", from_out, the_change.after)
    _run(
        fake,
        [(h, s.script) for s in the_change.before.steps for h in s.hosts],
        dry_first=False,
    )
    fake.out = change_out
    # The change tree's scripts, relative to each host's scripts/ as the fake runs them.
    steps = [
        (h, s.script.removeprefix("scripts/") if s.day_one else f"../{s.script}")
        for s in the_change.steps
        for h in s.hosts
    ]
    said = _run(fake, steps, dry_first=True)
    # The stand-in's answer to `rebalance data start`, as the real glusterd's in
    # test_real_programs_change.py, but for its task ID.
    assert REBALANCE_STARTED in said, said
    changed = _pool(fake)
    before_rerun = fake.snapshot(), len(fake.changes())
    _run(fake, steps, dry_first=False)
    assert (fake.snapshot(), len(fake.changes())) == before_rerun

    built = FakeCluster.rendered(tmp_path / "to", el9(6, volumes))
    _run_in_order(built, dry_first=False)
    assert changed == _pool(built)


def test_el7_volumes_firewall_and_vips_on_the_fake_cluster(tmp_path: Path) -> None:
    volumes = (
        ("engine", (1, 2, 3), True),
        ("data", (1, 2, 3, 4, 5, 6), True),
        ("meta", (1, 2, 3), False),
        ("vm", (4, 5, 6), False),
    )
    vips = (("192.168.122.200/24", "eth0"), ("192.168.122.201/24", "eth0"))
    before_text = el7(6)
    after_text = el7(6, volumes, vips=vips, extra_ports=(9100,))
    before, after = confgen.loads(before_text), confgen.loads(after_text)
    the_change = confgen.change(before, after)
    from_out, change_out = tmp_path / "from", tmp_path / "change"
    confgen.write_tree(confgen.render(before), from_out)
    confgen.write_tree(confgen.render_change(the_change), change_out)
    fake = FakeCluster(tmp_path / "fake", from_out, the_change.before)
    _run_in_order(fake, dry_first=False)
    fake.out = change_out
    steps = [
        (h, s.script.removeprefix("scripts/") if s.day_one else f"../{s.script}")
        for s in the_change.steps
        for h in s.hosts
    ]
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


def test_el7_four_to_three_hosts_on_the_fake_cluster(tmp_path: Path) -> None:
    """host4 leaves: the second replica set of vm (host3, host4) moves its files off and is
    taken out, host4's HA services and ctdb stop, the nodes file comments its line and is
    reloaded, and host4 is detached; the pool, the nodes file and ctdb's nodes end as TO's."""
    seed = (("engine", (1, 2, 3), True), ("data", (1, 2, 3), True), ("meta", (1, 2, 3), False))
    before_text = el7(4, (*seed, ("vm", (1, 2, 3, 4), False))).replace(
        'name = "vm",', 'name = "vm", replica = 2,'
    )
    after_text = el7(3, (*seed, ("vm", (1, 2), False))).replace(
        'name = "vm",', 'name = "vm", replica = 2,'
    )
    before, after = confgen.loads(before_text), confgen.loads(after_text)
    the_change = confgen.change(before, after)
    assert [(s.slug, s.hosts) for s in the_change.steps] == [
        ("remove-bricks", ("host1",)),
        ("leave-services", ("host4",)),
        ("ctdb-nodes", ("host1",)),
        ("gluster-detach", ("host1",)),
    ]
    from_out, change_out = tmp_path / "from", tmp_path / "change"
    confgen.write_tree(confgen.render(before), from_out)
    confgen.write_tree(confgen.render_change(the_change), change_out)
    fake = FakeCluster(tmp_path / "fake", from_out, the_change.before)
    _run_in_order(fake, dry_first=False)
    fake.out = change_out
    steps = [(h, f"../{s.script}") for s in the_change.steps for h in s.hosts]
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
    meta = fake.root("host1") / after.ctdb.meta_dir.lstrip("/")  # type: ignore[attr-defined]
    nodes = "192.168.122.11\n192.168.122.12\n192.168.122.13\n# host ID 4: no host\n"
    assert (meta / "nodes").read_text() == nodes
    assert fake.state["ctdb_nodes"] == [*(f"192.168.122.1{i}" for i in (1, 2, 3)), "0.0.0.0"]
    assert not {"ctdb", "ovirt-ha-agent", "ovirt-ha-broker"} & set(
        fake.state["hosts"]["host4"]["active"] + fake.state["hosts"]["host4"]["enabled"]
    )
