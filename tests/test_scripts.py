"""The generated scripts, run unchanged under bash on a fake cluster (see fakehost.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings

import confgen
from fakehost import COMMANDS, FakeCluster, would_run
from strategies import clusters, to_toml

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SEED = GOLDEN / "seed-3host" / "cluster.toml"
RELEASE = "http://resources.ovirt.org/pub/yum-repo/ovirt-release35.rpm"

# The calls the seed makes that change a host, in the seed's order; each is a prefix of the
# recorded call. Where confgen differs from the seed, the comment says why.
SEED_CALLS: list[tuple[str, list[str]]] = [
    *[(h, ["setenforce", "0"]) for h in ("host1", "host2", "host3")],
    ("host1", ["hosted-engine", "--set-maintenance", "--mode=global"]),
    ("host1", ["hosted-engine", "--vm-shutdown"]),
    ("host1", ["systemctl", "stop", "ovirt-ha-agent"]),
    ("host1", ["systemctl", "stop", "ovirt-ha-broker"]),
    ("host1", ["systemctl", "stop", "vdsmd"]),
    *[
        call
        for h in ("host2", "host3")
        for call in [
            (h, ["systemctl", "disable", "firewalld"]),
            (h, ["systemctl", "disable", "NetworkManager"]),
            (h, ["systemctl", "stop", "NetworkManager"]),
            (h, ["yum", "localinstall", "-y", RELEASE]),
            (h, ["yum", "install", "-y"]),
            # The seed enables iptables first; iptables.service exists only once installed.
            (h, ["systemctl", "enable", "iptables"]),
            (h, ["systemctl", "reboot"]),
        ]
    ],
    # The seed reloads; reload-or-restart also starts iptables where it is not running yet.
    *[(h, ["systemctl", "reload-or-restart", "iptables"]) for h in ("host1", "host2", "host3")],
    *[
        call
        for h in ("host2", "host3")
        for call in [
            (
                h,
                [
                    "ssm",
                    "create",
                    "-p",
                    "gluster",
                    "--fstype",
                    "xfs",
                    "-n",
                    "gluster",
                    "/gluster",
                    "/dev/vdb",
                ],
            ),
            (h, ["systemctl", "start", "glusterd"]),
            (h, ["systemctl", "enable", "glusterd"]),
        ]
    ],
    ("host1", ["gluster", "peer", "probe", "host2.osas.lab"]),
    ("host1", ["gluster", "peer", "probe", "host3.osas.lab"]),
    (
        "host1",
        [
            "gluster",
            "volume",
            "add-brick",
            "engine",
            "replica",
            "3",
            "host2.osas.lab:/gluster/engine/brick",
            "host3.osas.lab:/gluster/engine/brick",
        ],
    ),
    (
        "host1",
        [
            "gluster",
            "volume",
            "add-brick",
            "data",
            "replica",
            "3",
            "host2.osas.lab:/gluster/data/brick",
            "host3.osas.lab:/gluster/data/brick",
        ],
    ),
    ("host1", ["gluster", "volume", "heal", "engine", "full"]),
    # The seed mounts without -t (mount then guesses NFS); the native client does the lookup.
    ("host2", ["mount", "-t", "glusterfs", "localhost:engine"]),
    ("host2", ["umount"]),
    (
        "host1",
        [
            "gluster",
            "volume",
            "create",
            "meta",
            "replica",
            "3",
            "host1.osas.lab:/gluster/meta/brick",
            "host2.osas.lab:/gluster/meta/brick",
            "host3.osas.lab:/gluster/meta/brick",
        ],
    ),
    ("host1", ["gluster", "volume", "start", "meta"]),
    ("host1", ["mount", "-t", "glusterfs", "localhost:/meta", "/mnt/lock"]),
    ("host1", ["systemctl", "start", "ctdb"]),
    ("host1", ["systemctl", "enable", "ctdb"]),
    *[
        call
        for h in ("host2", "host3")
        for call in [
            (h, ["mount", "-t", "glusterfs", "localhost:/meta", "/mnt/lock"]),
            (h, ["systemctl", "start", "ctdb"]),
            (h, ["systemctl", "enable", "ctdb"]),
        ]
    ],
    ("host1", ["systemctl", "start", "ovirt-ha-agent"]),
    ("host1", ["systemctl", "start", "ovirt-ha-broker"]),
    ("host1", ["hosted-engine", "--set-maintenance", "--mode=none"]),
    ("host2", ["hosted-engine", "--deploy"]),
    ("host2", ["systemctl", "reload-or-restart", "iptables"]),
    ("host3", ["hosted-engine", "--deploy"]),
    ("host3", ["systemctl", "reload-or-restart", "iptables"]),
]


def _fake(tmp_path: Path, text: str) -> FakeCluster:
    return FakeCluster.rendered(tmp_path, text)


def _normalised(argv: list[str]) -> list[str]:
    return [re.sub(r"^/tmp/confgen-heal\.\w+$", "/tmp/confgen-heal.XXXXXX", a) for a in argv]


def _run_in_order(fake: FakeCluster, *, dry_first: bool) -> None:
    """Every script in runbook order, each host of a step in host-ID order; with dry_first,
    a DRY_RUN=1 run before each real one, which must change nothing and print the very
    commands the real run then makes."""
    for step in fake.plan.steps:
        for host in step.hosts:
            if dry_first:
                before, changes = fake.snapshot(), len(fake.changes())
                dry = fake.run(host, step.script, DRY_RUN="1")
                assert dry.returncode == 0, f"{host} {step.script} (dry run): {dry.stderr}"
                assert fake.changes()[changes:] == [], (
                    f"{host} {step.script}: dry run changed the host"
                )
                assert fake.snapshot() == before, f"{host} {step.script}: dry run wrote a file"
                printed = [argv for argv in would_run(dry.stdout) if argv[0] in COMMANDS]
            changes = len(fake.changes())
            result = fake.run(host, step.script)
            assert result.returncode == 0, f"{host} {step.script}: {result.stdout}{result.stderr}"
            if dry_first:
                # The engine's API is no command of the host: the dry run names those calls.
                made = [
                    _normalised(argv) for _, argv in fake.changes()[changes:] if argv[0] in COMMANDS
                ]
                assert made == printed, f"{host} {step.script}: the dry run printed other commands"
                # Run it again at once: it succeeds and changes nothing.
                after, changes = fake.snapshot(), len(fake.changes())
                again = fake.run(host, step.script)
                assert again.returncode == 0, f"{host} {step.script} (again): {again.stderr}"
                assert fake.changes()[changes:] == [], (
                    f"{host} {step.script}: a rerun changed the host"
                )
                assert fake.snapshot() == after, f"{host} {step.script}: a rerun wrote a file"


def _is_subsequence(
    expected: list[tuple[str, list[str]]], actual: list[tuple[str, list[str]]]
) -> list[Any]:
    """The expected calls (as prefixes) not found in order in the actual ones."""
    position = 0
    for i, (host, prefix) in enumerate(expected):
        while position < len(actual) and not (
            actual[position][0] == host and actual[position][1][: len(prefix)] == prefix
        ):
            position += 1
        if position == len(actual):
            return expected[i:]
        position += 1
    return []


def test_seed_runbook_makes_the_seeds_calls_in_order_and_a_rerun_changes_nothing(
    tmp_path: Path,
) -> None:
    fake = _fake(tmp_path, SEED.read_text())
    _run_in_order(fake, dry_first=True)
    assert _is_subsequence(SEED_CALLS, fake.changes()) == []

    # What the seed leaves behind, file by file.
    for host in ("host1", "host2", "host3"):
        root = fake.root(host)
        assert os.readlink(root / "etc/sysconfig/ctdb") == "/mnt/lock/ctdb"
        assert (root / "etc/sysconfig/ctdb.orig").read_text() == "# ctdb as packaged\n"
        assert os.readlink(root / "etc/ctdb/nodes") == "/mnt/lock/nodes"
        assert os.readlink(root / "etc/ctdb/public_addresses") == "/mnt/lock/public_addresses"
        rules = (fake.out / "hosts" / host / "files/etc/sysconfig/iptables").read_text()
        assert (root / "etc/sysconfig/iptables").read_text() == rules  # put back after deploy
        assert (root / "etc/selinux/config").read_text().startswith("SELINUX=permissive\n")
        assert "192.168.122.200 ovirtmount.osas.lab" in (root / "etc/hosts").read_text()
        assert (
            (root / "etc/nfsmount.conf")
            .read_text()
            .endswith("[ NFSMount_Global_Options ]\nLock=False\n")
        )
        assert (root / "etc/systemd/system/mnt-lock.mount").is_file()
        fstab = (root / "etc/fstab").read_text()
        assert len(re.findall(r"^UUID=\S+ /gluster xfs defaults 0 0$", fstab, re.MULTILINE)) == 1
    conf = (fake.root("host2") / "etc/ovirt-hosted-engine/hosted-engine.conf").read_text()
    assert "host_id=2" in conf.splitlines()
    assert sorted(fake.state["engine"]["hosts"]) == [1, 2, 3]
    assert fake.state["volumes"]["meta"]["status"] == "Started"
    assert len(fake.state["volumes"]["engine"]["bricks"]) == 3

    # A second run of every script, in order, changes nothing at all.
    before, changes = fake.snapshot(), len(fake.changes())
    _run_in_order(fake, dry_first=False)
    assert fake.changes()[changes:] == []
    assert fake.snapshot() == before


def test_dry_run_of_every_script_changes_nothing(tmp_path: Path) -> None:
    fake = _fake(tmp_path, SEED.read_text())
    before = fake.snapshot()
    for step in fake.plan.steps:
        for host in step.hosts:
            fake.run(host, step.script, DRY_RUN="1")  # later steps may stop at a precondition
    assert fake.changes() == []
    assert fake.snapshot() == before


def test_a_device_with_a_signature_is_not_formatted(tmp_path: Path) -> None:
    fake = _fake(tmp_path, SEED.read_text())
    fake.state["hosts"]["host2"]["devices"]["/dev/vdb"] = "xfs"
    fake.state["hosts"]["host2"]["packages"] += ["glusterfs-server", "system-storage-manager"]
    fake.save()
    result = fake.run("host2", "05-brick-storage.sh")
    assert result.returncode == 1
    assert "/dev/vdb is not empty (DEVNAME=/dev/vdb TYPE=xfs" in result.stderr
    assert "run again with CONFGEN_WIPE_DEVICE=/dev/vdb" in result.stderr
    assert fake.changes() == []

    wrong = fake.run("host2", "05-brick-storage.sh", CONFGEN_WIPE_DEVICE="/dev/vdc")
    assert wrong.returncode == 1 and fake.changes() == []
    allowed = fake.run("host2", "05-brick-storage.sh", CONFGEN_WIPE_DEVICE="/dev/vdb")
    assert allowed.returncode == 0, allowed.stderr
    made = [argv[:2] for _, argv in fake.changes()]
    assert made.index(["wipefs", "--all"]) < made.index(["ssm", "create"])


def test_a_script_on_the_wrong_host_stops_before_changing_anything(tmp_path: Path) -> None:
    fake = _fake(tmp_path, SEED.read_text())
    before = fake.snapshot()
    script = fake.out / "hosts" / "host2" / "scripts" / "01-selinux-and-hosts.sh"
    result = fake.run("host3", "../../host2/scripts/01-selinux-and-hosts.sh")
    assert script.exists()
    assert result.returncode == 1
    assert "this script is for host2 (host2.osas.lab), but this host is 'host3'" in result.stderr
    assert "CONFGEN_THIS_HOST=host2" in result.stderr
    assert fake.changes() == [] and fake.snapshot() == before
    renamed = fake.run(
        "host3", "../../host2/scripts/01-selinux-and-hosts.sh", CONFGEN_THIS_HOST="host2"
    )
    assert renamed.returncode == 0, renamed.stderr
    # Host names compare without regard to case, as DNS and /etc/hosts compare them.
    shouted = fake.run(
        "host3", "../../host2/scripts/01-selinux-and-hosts.sh", CONFGEN_THIS_HOST="HOST2"
    )
    assert shouted.returncode == 0, shouted.stderr


@pytest.mark.parametrize(
    ("host", "script", "message"),
    [
        (
            "host1",
            "06-peer-probe.sh",
            "glusterd does not answer on: host2.osas.lab host3.osas.lab; run step 05 there first",
        ),
        ("host1", "07-add-bricks.sh", "only 0 of 2 peers are connected: run step 06 first"),
        (
            "host2",
            "08-heal-workaround.sh",
            "engine has no brick on host2 yet: run step 07 on host1 first",
        ),
        ("host2", "12-ctdb.sh", "volume meta is not started: run step 10 on host1 first"),
        ("host1", "14-start-engine.sh", "ovirtmount.osas.lab resolves to '', not 192.168.122.200"),
        (
            "host3",
            "17-hosted-engine-deploy.sh",
            "this host cannot tell whether step 16 has finished on host2, and on host2 "
            "hosted-engine --vm-status lists Host 2",
        ),
    ],
)
def test_a_script_run_too_early_stops_and_says_what_to_do(
    tmp_path: Path, host: str, script: str, message: str
) -> None:
    fake = _fake(tmp_path, SEED.read_text())
    before = fake.snapshot()
    result = fake.run(host, script)
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert fake.changes() == [] and fake.snapshot() == before


# An example runs every step of every host twice and dry, about 2 minutes on CI's 2 cores:
# 2 of them keep CI within its 50 minutes beside the change properties and the real cluster's
# changes (tests/e2e/test_change_cluster.py).
@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=clusters())
def test_every_valid_cluster_runs_through_dry_run_and_rerun_without_change(
    data: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """check passes => render succeeds => every script of every host, in runbook order, runs
    to completion on the fake cluster; its dry run changes nothing and prints the commands the
    real run then makes; running it again at once, and the whole runbook again, changes
    nothing."""
    text = to_toml(data)
    cluster = confgen.loads(text)
    errors = [p for p in confgen.validate(cluster) if p.severity is confgen.Severity.ERROR]
    assume(not errors)
    fake = _fake(tmp_path_factory.mktemp("cluster"), text)
    _run_in_order(fake, dry_first=True)
    assert sorted(fake.state["engine"]["hosts"]) == sorted(h["host_id"] for h in data["hosts"])
    for volume in fake.plan.volumes:
        assert fake.state["volumes"][volume.name]["bricks"] == [str(b) for b in volume.bricks]
        assert fake.state["volumes"][volume.name]["status"] == "Started"
        if volume.existing and len(volume.bricks) > volume.replica:
            assert fake.state["volumes"][volume.name]["rebalanced"], volume.name
    for host in fake.plan.hosts:
        if not host.brick_dirs:  # its device is never formatted
            formatting = [
                a for h, a in fake.changes() if h == host.name and a[0] in ("ssm", "wipefs")
            ]
            assert formatting == [], host.name
    # ctdb takes its recovery lock in a folder it does not make: it must be on the volume.
    lock = fake.plan.cluster.ctdb.recovery_lock
    assert (fake.root(fake.plan.first.name) / lock.lstrip("/")).parent.is_dir(), lock
    before, changes = fake.snapshot(), len(fake.changes())
    _run_in_order(fake, dry_first=False)
    assert fake.changes()[changes:] == [] and fake.snapshot() == before


def test_a_mount_name_left_from_part_one_is_not_shadowed(tmp_path: Path) -> None:
    """Part one may have pointed the NFS mount name at the first host in /etc/hosts; the CTDB
    step must not add the VIP behind that line, which lookups would still find first."""
    fake = _fake(tmp_path, SEED.read_text())
    hosts = fake.root("host1") / "etc/hosts"
    hosts.write_text("127.0.0.1 localhost\n192.168.122.11 ovirtmount.osas.lab\n")
    fake.state["hosts"]["host1"]["mounts"]["/mnt/lock"] = "localhost:/meta"
    fake.state["hosts"]["host1"]["packages"].append("ctdb")  # step 03 installs it
    fake.save()
    result = fake.run("host1", "11-ctdb.sh")
    assert result.returncode == 1
    assert "/etc/hosts names ovirtmount.osas.lab on another line" in result.stderr
    assert hosts.read_text() == "127.0.0.1 localhost\n192.168.122.11 ovirtmount.osas.lab\n"
    hosts.write_text("127.0.0.1 localhost\n")
    again = fake.run("host1", "11-ctdb.sh")
    assert again.returncode == 0, again.stderr
    assert "192.168.122.200 ovirtmount.osas.lab\n" in hosts.read_text()


def test_an_existing_volume_unlike_the_plan_stops_the_add_brick_step(tmp_path: Path) -> None:
    fake = _fake(tmp_path, SEED.read_text())
    fake.run_through(fake.plan.first_step("add-bricks").number)
    # Part one put the engine's brick somewhere else than the cluster file says.
    fake.state["volumes"]["engine"]["bricks"] = ["host1.osas.lab:/srv/engine"]
    fake.save()
    changes = len(fake.changes())
    result = fake.run("host1", "07-add-bricks.sh")
    assert result.returncode == 1
    assert (
        "volume engine has the brick host1.osas.lab:/srv/engine where the cluster file places "
        "host1.osas.lab:/gluster/engine/brick"
    ) in result.stderr
    assert fake.changes()[changes:] == []


def test_a_partial_heal_does_not_skip_the_lookup_and_a_done_one_is_not_repeated(
    tmp_path: Path,
) -> None:
    fake = _fake(tmp_path, SEED.read_text())
    fake.run_through(fake.plan.first_step("heal-workaround").number)
    # Some entries reached host2's brick already, others not.
    (fake.root("host2") / "gluster/engine/brick/partly-healed").write_text("")
    result = fake.run("host2", "08-heal-workaround.sh")
    assert result.returncode == 0, result.stderr
    mounted = [a for h, a in fake.changes() if h == "host2" and a[0] == "mount"]
    assert [a[-2] for a in mounted] == ["localhost:engine", "localhost:data"]
    changes = len(fake.changes())
    again = fake.run("host2", "08-heal-workaround.sh")
    assert again.returncode == 0 and fake.changes()[changes:] == []


def test_a_full_heal_refused_while_the_self_heal_daemons_restart_is_tried_again(
    tmp_path: Path,
) -> None:
    """Seen on the real cluster: right after add-brick, `heal V full` failed with "Commit failed
    on <peer>" while the self-heal daemons restarted; the step stopped there."""
    fake = _fake(tmp_path, SEED.read_text())
    fake.run_through(fake.plan.first_step("add-bricks").number)
    fake.state["volumes"]["data"]["shd_restarting"] = "host3.osas.lab"
    fake.save()
    result = fake.run("host1", "07-add-bricks.sh")
    assert result.returncode == 0, result.stderr
    assert "Commit failed on host3.osas.lab" in result.stdout
    assert "trying again in 10s" in result.stdout
    heals = [c["argv"] for c in fake.calls() if c["argv"][:3] == ["gluster", "volume", "heal"]]
    heals = [argv for argv in heals if argv[-1] == "full"]
    assert heals == [["gluster", "volume", "heal", v, "full"] for v in ("engine", "data", "data")]
    assert not [c for c in fake.calls() if c["argv"][:3] == ["gluster", "volume", "start"]]


def test_a_self_heal_daemon_that_stays_down_is_started_again(tmp_path: Path) -> None:
    """Seen on the real cluster: a self-heal daemon whose volume failed to attach refuses
    every heal ("Self-heal daemon is not running") until something starts it again; after
    three refusals the step runs `volume start VOL force`, then the heal is launched."""
    fake = _fake(tmp_path, SEED.read_text())
    fake.run_through(fake.plan.first_step("add-bricks").number)
    fake.state["volumes"]["data"]["shd_offline"] = "host3.osas.lab"
    fake.save()
    result = fake.run("host1", "07-add-bricks.sh")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Error: Self-heal daemon is not running.") == 3, result.stdout
    gluster = [c["argv"][2:] for c in fake.calls() if c["argv"][:2] == ["gluster", "volume"]]
    data = [argv for argv in gluster if argv[1:2] == ["data"] and argv[0] != "info"]
    assert [a for a in data if a[0] in ("heal", "start") and a[-1] in ("full", "force")] == [
        *[["heal", "data", "full"]] * 3,
        ["start", "data", "force"],
        ["heal", "data", "full"],
    ]
    assert "shd_offline" not in fake.state["volumes"]["data"]


def test_a_deploy_that_failed_at_closing_up_is_not_taken_for_done(tmp_path: Path) -> None:
    """ovirt-hosted-engine-setup 1.2 writes hosted-engine.conf before it adds the host to the
    engine and starts the HA services; a deploy refused there leaves host_id in the file. The
    step asks hosted-engine --vm-status, which does not list the host, and stops."""
    fake = _fake(tmp_path, SEED.read_text())
    deploy = next(s for s in fake.plan.steps if s.slug == "hosted-engine-deploy")
    fake.run_through(deploy.number)
    fake.state["engine"]["deploy_fails"] = "host2"
    fake.save()
    first = fake.run("host2", deploy.script)
    assert first.returncode == 1
    assert "Cannot add the host to cluster Default" in first.stderr
    conf = fake.root("host2") / "etc/ovirt-hosted-engine/hosted-engine.conf"
    assert "host_id=2" in conf.read_text().splitlines()
    before, changes = fake.snapshot(), len(fake.changes())
    again = fake.run("host2", deploy.script)
    assert again.returncode == 1
    assert (
        "the deploy on host2 did not finish: /etc/ovirt-hosted-engine/hosted-engine.conf has "
        "host_id=2, but hosted-engine --vm-status does not list Host 2 (Cannot connect to the "
        "HA daemon, please check the logs.)" in again.stderr
    ), again.stderr
    assert fake.changes()[changes:] == [] and fake.snapshot() == before
    # Done, the step is a no-op.
    fake.state["engine"]["deploy_fails"] = None
    fake.state["engine"]["hosts"].append(2)
    for key in ("enabled", "active"):
        fake.state["hosts"]["host2"][key] += ["ovirt-ha-agent", "ovirt-ha-broker"]
    fake.save()
    done = fake.run("host2", deploy.script)
    assert done.returncode == 0, done.stderr
    assert "hosted-engine --vm-status lists Host 2: already deployed" in done.stdout


def test_the_host_before_is_the_next_lower_id_where_ids_have_gaps(tmp_path: Path) -> None:
    """Found by the property above once host IDs had gaps: the administrator confirms the host
    the deploy step names (the one before by ID, not ID - 1)."""
    text = (
        SEED.read_text().replace("host_id = 2", "host_id = 5").replace("host_id = 3", "host_id = 9")
    )
    fake = _fake(tmp_path, text)
    deploy = next(
        s.script for s in fake.plan.steps if "hosted-engine-deploy" in s.slug and "host3" in s.hosts
    )
    script = (fake.out / "hosts/host3/scripts" / deploy).read_text()
    assert "Confirm that host2 is a hosted-engine host" in script
    conf = fake.root("host2") / "etc/ovirt-hosted-engine/hosted-engine.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text("host_id=5\n")
    fake.state["engine"]["hosts"].append(5)
    fake.state["engine"]["vm"] = "up"
    assert fake.previous_deployed("host3") == "host2"
