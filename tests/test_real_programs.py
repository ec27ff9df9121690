"""Every generated artifact is accepted by the real program that reads it on a host.

The programs come from Debian's packages (iptables, nftables, shellcheck, ctdb, nfs-common;
systemd and util-linux are on the machine). Under CI=true a missing one fails the test;
elsewhere the test is skipped with the package to install. docs/verification.md says what
each check proves and what each program taught us.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import confgen
from fakehost import FakeCluster
from golden_cases import golden_cases
from strategies import clusters, to_toml

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = golden_cases("ovirt35-el7")
CONFIG_MIGRATE = Path("/usr/share/doc/ctdb/examples/config_migrate.sh")
CTDB_CONFIG = Path("/usr/libexec/ctdb/ctdb-config")

# The seed's ctdb.service runs /usr/sbin/ctdbd_wrapper, which ctdb >= 4.9 no longer ships: for
# the seed's target (EL7, ctdb 4.2 or older) this is the one line systemd-analyze may print.
SEED_UNIT_ALLOWED = (
    "ctdb.service: Command /usr/sbin/ctdbd_wrapper is not executable: No such file or directory"
)
# DeterministicIPs was removed from ctdb in 4.6; the seed's target still sets it.
SEED_MIGRATE_ALLOWED = '* Tunable "DeterministicIPs" is unknown'


# Daemons such as glusterd and ctdbd live in sbin folders, which a non-root PATH (and some
# shells' root PATH) leaves out: looking only on PATH once skipped the glusterd checks with
# "glusterd is missing" on a machine that had it. So the sbin folders are always searched.
SEARCHED = os.pathsep.join(
    [
        os.environ.get("PATH", ""),
        "/usr/local/sbin",
        "/usr/sbin",
        "/sbin",
        "/usr/local/bin",
        "/usr/bin",
    ]
)


def require(program: str, package: str) -> str:
    found = shutil.which(program, path=SEARCHED) or (program if Path(program).exists() else None)
    if found is None:
        message = f"{program} is not in {SEARCHED}: apt-get install {package}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def run(*argv: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, **kwargs)


def rendered(text: str, out: Path) -> confgen.Plan:
    cluster = confgen.loads(text)
    confgen.write_tree(confgen.render(cluster), out)
    return confgen.plan(cluster)


def host_dirs(out: Path) -> Iterator[Path]:
    yield from sorted((out / "hosts").iterdir())


# --- one check per program; each takes a rendered tree --------------------------------------


def check_units(out: Path, plan: confgen.Plan, tmp: Path) -> None:
    analyze = require("systemd-analyze", "systemd")
    for host in host_dirs(out):
        units = tmp / f"units-{host.name}"
        shutil.copytree(host / "files/etc/systemd/system", units)
        names = sorted(p.name for p in units.iterdir())
        assert plan.mount_unit in names and "ctdb.service" in names, names
        # Units the hosts get from packages, so Requires= finds them.
        (units / "glusterd.service").write_text(
            "[Unit]\nDescription=stub\n[Service]\nExecStart=/bin/true\n"
        )
        result = run(analyze, "verify", "--man=no", *[f"./{n}" for n in names], cwd=units)
        # verify exits 0 on unknown keys and bad values, printing a warning: any line fails.
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        assert [line for line in lines if line != SEED_UNIT_ALLOWED] == [], lines


def check_iptables(out: Path, plan: confgen.Plan, tmp: Path) -> None:
    unshare = require("unshare", "util-linux")
    for variant in ("legacy", "nft"):
        restore = require(f"iptables-{variant}-restore", "iptables")
        for host in host_dirs(out):
            rules = host / "files/etc/sysconfig/iptables"
            tested = run(restore, "--test", str(rules))
            assert (tested.returncode, tested.stderr) == (0, ""), (
                variant,
                host.name,
                tested.stderr,
            )
            # --test with nft misses a jump to a missing target: load it for real, in a private
            # network namespace, never in this machine's own firewall.
            loaded = run(
                unshare,
                "--net",
                "sh",
                "-c",
                f'{restore} "$1" && iptables-{variant} -S INPUT',
                "_",
                str(rules),
            )
            assert loaded.returncode == 0, (variant, host.name, loaded.stderr)
            accepts = [
                line
                for line in loaded.stdout.splitlines()
                if line.startswith("-A INPUT") and "ACCEPT" in line
            ]
            assert len(accepts) == 2 + len(plan.cluster.firewall.rules), loaded.stdout


def check_scripts(out: Path, plan: confgen.Plan, tmp: Path) -> None:
    shellcheck = require("shellcheck", "shellcheck")
    # The steps and the undo scripts.
    scripts = sorted(str(p) for p in (out / "hosts").glob("*/*/*.sh"))
    assert any("/undo/" in s for s in scripts) and any("/scripts/" in s for s in scripts)
    result = run(shellcheck, *scripts)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def check_fstab(out: Path, plan: confgen.Plan, tmp: Path) -> None:
    findmnt = require("findmnt", "util-linux")
    # The fstab line is written on the host, once blkid knows the UUID: take it from a run of
    # the brick-storage script on a fake host.
    fake = FakeCluster(tmp / "fake", out, plan)
    host = plan.hosts[1].name
    fake.run_through(plan.first_step("brick-storage").number)
    result = fake.run(host, plan.first_step("brick-storage").script)
    assert result.returncode == 0, result.stderr
    added = (fake.root(host) / "etc/fstab").read_text().splitlines()[1:]
    assert len(added) == 1, added
    source, target, *rest = added[0].split()
    # findmnt checks targets against this machine: point the line at a temporary directory.
    (tmp / "mnt" / target.lstrip("/")).mkdir(parents=True)
    tab = tmp / "fstab"
    tab.write_text(" ".join([source, str(tmp / "mnt" / target.lstrip("/")), *rest]) + "\n")
    verified = run(findmnt, "--verify", "--verbose", "--tab-file", str(tab))
    problems = [
        line.strip() for line in verified.stdout.splitlines() if line.strip().startswith("[")
    ]
    assert [p for p in problems if not p.startswith("[ ]")] == [
        f"[E] unreachable on boot required source: {source}"
    ]
    assert "0 parse errors, 1 error, 0 warnings" in verified.stderr + verified.stdout


def check_nfsmount(out: Path, plan: confgen.Plan, tmp: Path) -> None:
    nfsconf = require("nfsconf", "nfs-common")
    for host in host_dirs(out):
        dumped = run(nfsconf, "--file", str(host / "files/etc/nfsmount.conf"), "--dump")
        # nfsconf exits 0 on parse errors; they show on stderr.
        assert (dumped.returncode, dumped.stderr) == (0, "")
        # mount.nfs reads global options from [ NFSMount_Global_Options ]; nfsconf lowercases.
        assert dumped.stdout.split("\n")[:2] == ["[nfsmount_global_options]", " Lock = False"]


def check_ctdb(out: Path, plan: confgen.Plan, tmp: Path) -> None:
    require(str(CONFIG_MIGRATE), "ctdb")
    ctdb_config = require(str(CTDB_CONFIG), "ctdb")
    ctdb = require("ctdb", "ctdb")
    meta = out / "hosts" / plan.first.name / "files" / plan.cluster.ctdb.mount_point.lstrip("/")
    converted, base = tmp / "converted", tmp / "base"
    converted.mkdir()
    base.mkdir()
    migrated = run(
        "sh", str(CONFIG_MIGRATE), "-d", str(base), "-o", str(converted), str(meta / "ctdb")
    )
    assert migrated.returncode == 0, migrated.stderr
    warnings = (
        (converted / "README.warn").read_text().split("\n\n")
        if (converted / "README.warn").exists()
        else []
    )
    assert [w.strip() for w in warnings if w.strip()] == [SEED_MIGRATE_ALLOWED]
    tunables = (converted / "ctdb.tunables").read_text().split()
    expected = [f"{n}={v}" for n, v in plan.cluster.ctdb.all_tunables if n != "DeterministicIPs"]
    assert sorted(tunables) == sorted(expected)
    env = {**os.environ, "CTDB_BASE": str(converted), "CTDB_TEST_MODE": "yes"}
    valid = run(ctdb_config, "validate", env=env)
    assert (valid.returncode, valid.stderr) == (0, "")
    dump = run(ctdb_config, "dump", env=env).stdout
    assert f"\tcluster lock = {plan.cluster.ctdb.recovery_lock}\n" in dump
    shutil.copy(meta / "nodes", converted / "nodes")
    # `listnodes -X` prints "|PNN|ADDRESS|" for each node that is not deleted: ctdb reads a
    # line that starts with '#' as a deleted node, which keeps its PNN (the line number, from
    # 0) and is not listed (this ctdb prints so; ctdb/common/ctdb_util.c,
    # ctdb_read_nodes_file). So node PNN is the host of ID PNN+1.
    listed = run(ctdb, "listnodes", "-X", env=env)
    assert (listed.returncode, listed.stderr) == (0, "")
    assert listed.stdout.split() == [
        f"|{pnn}|{line}|" for pnn, line in enumerate(plan.nodes) if not line.startswith("#")
    ]
    assert [int(n.split("|")[1]) + 1 for n in listed.stdout.split()] == sorted(
        h.host.host_id for h in plan.hosts
    )


def test_the_unit_check_can_fail(tmp_path: Path) -> None:
    """systemd-analyze does read the units: a mount unit named against its Where= is refused."""
    analyze = require("systemd-analyze", "systemd")
    out = tmp_path / "out"
    plan = rendered((GOLDEN / "seed-3host" / "cluster.toml").read_text(), out)
    unit = out / "hosts/host1/files/etc/systemd/system" / plan.mount_unit
    wrong = tmp_path / "var-lock.mount"
    wrong.write_text(unit.read_text())
    result = run(analyze, "verify", "--man=no", f"./{wrong.name}", cwd=tmp_path)
    assert "Where= setting doesn't match unit name" in result.stdout + result.stderr


def test_the_ctdb_check_can_fail(tmp_path: Path) -> None:
    """A misspelt variable or an unknown tunable shows in config_migrate's warnings."""
    require(str(CONFIG_MIGRATE), "ctdb")
    sysconfig = tmp_path / "ctdb"
    sysconfig.write_text("CTDB_RECOVERY_LOKC=/mnt/lock/reclock\nCTDB_SET_MonitorIntervall=15\n")
    (tmp_path / "o").mkdir()
    run("sh", str(CONFIG_MIGRATE), "-d", str(tmp_path), "-o", str(tmp_path / "o"), str(sysconfig))
    warned = (tmp_path / "o" / "README.warn").read_text()
    assert 'Option "CTDB_RECOVERY_LOKC" is unknown' in warned
    assert 'Tunable "MonitorIntervall" is unknown' in warned


# Kills every process of the private network namespace the calling script runs in, but itself:
# what daemons leave behind (brick processes, self-heal daemon) goes too.
KILL_NAMESPACE = r"""
kill_namespace() {
    own=$(readlink /proc/$$/ns/net)
    for proc in /proc/[0-9]*; do
        [ "${proc#/proc/}" = "$$" ] && continue
        [ "$(readlink "$proc/ns/net" 2>/dev/null)" = "$own" ] && kill -9 "${proc#/proc/}" 2>/dev/null
    done
    return 0
}
"""

LIVE_CTDB = (
    KILL_NAMESPACE
    + r"""
set -u
nodes=$1
ip link set lo up
stop() {
    for base in "$CLUSTER"/node.*; do
        CTDB_BASE=$base timeout 10 ctdb shutdown >/dev/null 2>&1
    done
    kill_namespace
}
trap stop EXIT
for base in "$CLUSTER"/node.*; do
    CTDB_BASE=$base ctdbd || exit 1
done
for _ in $(seq 1 60); do
    ok=$(CTDB_BASE="$CLUSTER/node.0" ctdb status 2>/dev/null | grep -c '^pnn:.* OK')
    [ "$ok" -eq "$nodes" ] && break
    sleep 1
done
CTDB_BASE="$CLUSTER/node.0" ctdb status
echo "--- ip"
for _ in $(seq 1 30); do
    unhosted=$(CTDB_BASE="$CLUSTER/node.0" ctdb ip | awk 'NR > 1 && $2 < 0' | wc -l)
    [ "$unhosted" -eq 0 ] && break
    sleep 1
done
CTDB_BASE="$CLUSTER/node.0" ctdb ip
echo "--- vars"
while IFS== read -r name _; do
    CTDB_BASE="$CLUSTER/node.0" ctdb getvar "$name"
done < "$CLUSTER/node.0/ctdb.tunables"
"""
)


def check_live_ctdb(out: Path, plan: confgen.Plan, tmp: Path) -> None:
    """Start one ctdbd per node from the generated configuration and watch them form a cluster.

    What is rewritten, and why: every node runs on this machine, so the heartbeat addresses of
    `nodes` become 127.0.0.1, .2, ... in the same order (its comment lines kept); the NIC of each public address becomes
    `lo`, the one interface of the private network namespace; and the recovery lock, on the meta
    volume on the hosts, becomes one shared temporary file. Everything else, the tunables
    included, is what confgen wrote, converted by ctdb's own config_migrate.sh.
    """
    require("ctdbd", "ctdb")
    require(str(CONFIG_MIGRATE), "ctdb")
    unshare = require("unshare", "util-linux")
    require("ip", "iproute2")
    meta = out / "hosts" / plan.first.name / "files" / plan.cluster.ctdb.mount_point.lstrip("/")
    cluster = tmp / "live"
    converted = tmp / "live-converted"
    converted.mkdir(parents=True)
    run("sh", str(CONFIG_MIGRATE), "-d", str(converted), "-o", str(converted), str(meta / "ctdb"))
    conf = (converted / "ctdb.conf").read_text()
    assert f"cluster lock = {plan.cluster.ctdb.recovery_lock}" in conf
    lines = (meta / "nodes").read_text().splitlines()
    assert lines == list(plan.nodes)
    # A node per address line, at its own line (its PNN); the comment lines of unused host IDs
    # stay, deleted nodes to ctdbd.
    real = [pnn for pnn, line in enumerate(lines) if not line.startswith("#")]
    loopback = [f"127.0.0.{k + 1}" for k in range(len(real))]
    as_loopback = dict(zip(real, loopback, strict=True))
    nodes = "".join(f"{as_loopback.get(pnn, line)}\n" for pnn, line in enumerate(lines))
    vips = [line.split()[0] for line in (meta / "public_addresses").read_text().splitlines()]
    for i, address in enumerate(loopback):
        base = cluster / f"node.{i}"
        for folder in ("db/volatile", "db/persistent", "db/state", "events/legacy", "run"):
            (base / folder).mkdir(parents=True)
        (base / "nodes").write_text(nodes)
        (base / "public_addresses").write_text("".join(f"{v} lo\n" for v in vips))
        shutil.copy(converted / "ctdb.tunables", base / "ctdb.tunables")
        (base / "ctdb.conf").write_text(
            f"[logging]\n\tlocation = file:{base}/log.ctdb\n\tlog level = NOTICE\n"
            f"[cluster]\n\tcluster lock = {cluster}/reclock\n\tnode address = {address}\n"
            f"[database]\n\tvolatile database directory = {base}/db/volatile\n"
            f"\tpersistent database directory = {base}/db/persistent\n"
            f"\tstate database directory = {base}/db/state\n"
        )
    result = run(
        unshare,
        "--net",
        "sh",
        "-c",
        LIVE_CTDB,
        "_",
        str(len(loopback)),
        env={**os.environ, "CTDB_TEST_MODE": "yes", "CLUSTER": str(cluster)},
    )
    status, _, rest = result.stdout.partition("--- ip\n")
    ips, _, variables = rest.partition("--- vars\n")
    assert status.count(" OK") == len(loopback), result.stdout + result.stderr
    # The form the start-engine step reads, and the fake cluster's ctdb prints: a header, then
    # "ADDRESS PNN" for each public address.
    assert re.fullmatch(r"Public IPs on node \d+", ips.splitlines()[0]), ips
    hosted = {line.split()[0]: int(line.split()[1]) for line in ips.splitlines()[1:]}
    assert {vip.split("/")[0] for vip in vips} == set(hosted), ips
    assert all(node >= 0 for node in hosted.values()), ips
    # The running daemons took the generated tunables.
    expected = {n: v for n, v in plan.cluster.ctdb.all_tunables if n != "DeterministicIPs"}
    running = {
        name.strip(): int(value)
        for name, value in (line.split("=") for line in variables.splitlines())
    }
    assert running == expected, variables


# A real glusterd in the private namespaces `unshare --mount --net` gives: the addresses in
# $ADDRESSES on lo, its state, logs, sockets and name lookups all from the folder $WORK.
START_GLUSTERD = (
    KILL_NAMESPACE
    + r"""
set -u
ip link set lo up
for address in $ADDRESSES; do
    ip addr add "$address/32" dev lo
done
mount --bind "$WORK/lib" /var/lib/glusterd
mount --bind "$WORK/log" /var/log/glusterfs
mount --bind "$WORK/run" /run
mount --bind "$WORK/hosts" /etc/hosts
glusterd --no-daemon --log-file="$WORK/log/glusterd.log" &
trap kill_namespace EXIT
for _ in $(seq 1 30); do
    gluster --mode=script pool list >/dev/null 2>&1 && break
    sleep 1
done
"""
)


def glusterd_work(tmp: Path, names: dict[str, str]) -> Path:
    """The folder a namespaced glusterd keeps everything in; `names` (host name -> address)
    go into its /etc/hosts, addresses standing for themselves."""
    work = tmp / "glusterd"
    for folder in ("lib", "log", "run", "bricks"):
        (work / folder).mkdir(parents=True)
    (work / "hosts").write_text(
        "127.0.0.1 localhost\n"
        + "".join(f"{a} {n}\n" for n, a in names.items() if not n[0].isdigit())
    )
    return work


def in_glusterd_namespace(
    script: str, *args: str, work: Path, addresses: list[str], **env: str
) -> subprocess.CompletedProcess[str]:
    """Run a script that begins with START_GLUSTERD in private mount and network namespaces."""
    glusterd = require("glusterd", "glusterfs-server")
    unshare = require("unshare", "util-linux")
    require("ip", "iproute2")
    return run(
        unshare,
        "--mount",
        "--net",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "_",
        *args,
        env={
            **os.environ,
            "WORK": str(work),
            "ADDRESSES": " ".join(sorted(set(addresses))),
            "PATH": f"{Path(glusterd).parent}:{os.environ['PATH']}",
            **env,
        },
    )


GLUSTERD = (
    START_GLUSTERD
    + r"""
"$@" || exit 1
gluster --mode=script volume start "$VOLUME" || exit 1
echo "--- info"
gluster --mode=script volume info "$VOLUME"
"""
)


def check_glusterd(out: Path, plan: confgen.Plan, tmp: Path) -> None:
    """Create and start the meta volume with the generated command, on a real glusterd.

    glusterd runs in private mount and network namespaces: its state, logs and sockets live in
    a temporary folder bind-mounted over /var/lib/glusterd, /var/log/glusterfs and /run, and
    this machine's own files are untouched. The volume's brick hosts all become addresses of
    one dummy interface there (named through a bind-mounted /etc/hosts), so every brick is
    local. What is rewritten, and why: brick paths move into the temporary folder, and `force`
    is added, since glusterd rightly refuses a replica set whose bricks share one server.
    """
    volume = plan.volume(plan.cluster.ctdb.meta_volume)
    script = (
        out / "hosts" / plan.first.name / "scripts" / plan.first_step("new-volumes").script
    ).read_text()
    [line] = [
        line.strip()
        for line in script.splitlines()
        if line.strip().startswith(f"run gluster volume create {volume.name} ")
    ]
    argv = shlex.split(line)[1:]
    peers = {p.peer: p for p in plan.hosts}
    work = glusterd_work(tmp, {p: str(h.storage_address) for p, h in peers.items()})
    moved = []
    for i, word in enumerate(argv):
        if ":" in word and word.split(":", 1)[1].startswith("/"):
            host, path = word.split(":", 1)
            brick = work / "bricks" / f"{i}{path.replace('/', '_')}"
            brick.mkdir()
            argv[i] = f"{host}:{brick}"
            moved.append((host, str(brick)))
    result = in_glusterd_namespace(
        GLUSTERD,
        *argv,
        "--mode=script",
        "force",
        work=work,
        addresses=[str(peers[host].storage_address) for host, _ in moved],
        VOLUME=volume.name,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    info = result.stdout.partition("--- info\n")[2]
    assert f"Volume Name: {volume.name}\n" in info
    assert "Status: Started\n" in info
    count, sets = len(volume.bricks), len(volume.bricks) // volume.replica
    if volume.replica == 1:  # created without the replica keyword: a distribute volume
        assert "Type: Distribute\n" in info and f"Number of Bricks: {count}\n" in info
    else:
        kind = "Replicate" if sets == 1 else "Distributed-Replicate"
        assert f"Type: {kind}\n" in info, info
        assert f"Number of Bricks: {sets} x {volume.replica} = {count}\n" in info, info
    assert re.findall(r"^Brick\d+: (.*)$", info, re.MULTILINE) == [f"{h}:{b}" for h, b in moved]
    assert [h for h, _ in moved] == [b.peer for b in volume.bricks]


CHECKS = [
    check_units,
    check_iptables,
    check_scripts,
    check_fstab,
    check_nfsmount,
    check_ctdb,
    check_live_ctdb,
    check_glusterd,
]


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
@pytest.mark.parametrize("case", CASES)
def test_golden_artifacts(case: str, check: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    plan = rendered((GOLDEN / case / "cluster.toml").read_text(), out)
    check(out, plan, tmp_path)


# One drawn cluster a run (about a minute on CI's 2 cores, within its 50 minutes); the golden
# clusters' artifacts go through the same programs (test_golden_artifacts).
@settings(
    max_examples=1,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=clusters())
def test_generated_artifacts(
    data: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("generated")
    plan = rendered(to_toml(data), tmp / "out")
    for check in CHECKS:
        work = tmp / check.__name__
        work.mkdir()
        check(tmp / "out", plan, work)
