"""The target ovirt45-el9's artifacts, accepted by the real programs from Debian's packages.

firewalld's own firewall-offline-cmd runs the generated firewall step, mkfs.xfs and mount take
the brick filesystem's options and fstab line, a real glusterd runs the generated volume step,
shellcheck reads every script. Each runs in private namespaces: this machine's firewall, fstab
and glusterd are untouched. What stands in for what, and why, is said where it is done.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

import confgen
from fakehost import restamp
from golden_cases import GOLDEN, golden_cases
from real_pool import gluster_pool, storage_pool_of
from strategies import el9_clusters, to_toml
from test_real_programs import (
    check_scripts,
    rendered,
    require,
    run,
)

CASES = golden_cases("ovirt45-el9")
BIN = "/usr/bin:/bin:/usr/sbin:/sbin"


def _write_tool(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("#!/bin/bash\n" + text)
    (folder / name).chmod(0o755)


def _script(out: Path, plan: confgen.Plan, host: str, slug: str) -> Path:
    return out / "hosts" / host / "scripts" / plan.first_step(slug).script


# firewall-cmd talks to the running firewalld; firewall-offline-cmd changes the same permanent
# configuration without it and takes the same options but --permanent, which is what it always
# changes (firewall-offline-cmd(1)). --reload only makes firewalld load that configuration.
FIREWALL_CMD = r"""
printf '%s\n' "$*" >> "$CALLS"
args=()
for arg in "$@"; do
    case $arg in
        --permanent) ;;
        --reload) exit 0 ;;
        *) args+=("$arg") ;;
    esac
done
exec firewall-offline-cmd "${args[@]}"
"""
# firewalld's unit state is not what this check is about: it is enabled and running.
SYSTEMCTL = 'printf "%s\\n" "systemctl $*" >> "$CALLS"\n'

RUN_FIREWALL = r"""
set -u
mount --bind "$WORK/etc" /etc/firewalld
bash "$SCRIPT" > "$WORK/first.log" 2>&1 || { cat "$WORK/first.log"; exit 1; }
: > "$CALLS"
bash "$SCRIPT" > "$WORK/second.log" 2>&1 || { cat "$WORK/second.log"; exit 1; }
echo "--- zone"
firewall-offline-cmd --get-default-zone 2>/dev/null
echo "--- services"
firewall-offline-cmd ${ZONE:+--zone=$ZONE} --list-services 2>/dev/null
echo "--- ports"
firewall-offline-cmd ${ZONE:+--zone=$ZONE} --list-ports 2>/dev/null
echo "--- sources"
firewall-offline-cmd ${ZONE:+--zone=$ZONE} --list-sources 2>/dev/null
echo "--- check"
firewall-offline-cmd --check-config 2>&1
"""


def check_firewall(out: Path, plan: confgen.Plan, tmp: Path) -> None:
    """Run the firewall step twice against firewalld's real configuration tools."""
    require("firewall-offline-cmd", "firewalld")
    unshare = require("unshare", "util-linux")
    host = plan.first.name
    tools = tmp / "bin"
    _write_tool(tools, "firewall-cmd", FIREWALL_CMD)
    _write_tool(tools, "systemctl", SYSTEMCTL)
    _write_tool(tools, "hostname", "echo localhost\n")
    shutil.copytree("/etc/firewalld", tmp / "etc")
    calls = tmp / "calls"
    result = run(
        unshare,
        "--mount",
        "--propagation",
        "private",
        "bash",
        "-c",
        RUN_FIREWALL,
        env={
            **os.environ,
            "PATH": f"{tools}:{BIN}",
            "WORK": str(tmp),
            "CALLS": str(calls),
            "SCRIPT": str(_script(out, plan, host, "firewall")),
            "CONFGEN_THIS_HOST": host,
            "ZONE": plan.firewall_zone or "",  # type: ignore[attr-defined]
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sections = dict(re.findall(r"--- (\w+)\n(.*?)(?=\n--- |\Z)", result.stdout, re.DOTALL))
    services = sections["services"].split()
    assert set(plan.firewall_services) <= set(services), services  # type: ignore[attr-defined]
    assert sorted(sections["ports"].split()) == sorted(plan.firewall_ports)  # type: ignore[attr-defined]
    assert sorted(sections["sources"].split()) == sorted(plan.firewall_sources)  # type: ignore[attr-defined]
    assert "success" in sections["check"] or sections["check"].strip() == "", sections["check"]
    # The second run changed nothing: it only asked.
    second = calls.read_text().splitlines()
    assert [c for c in second if re.search(r"--(add|new|remove)-|--reload", c)] == [], second


def check_xfs(out: Path, plan: confgen.Plan, tmp: Path) -> None:
    """mkfs.xfs with the generated options on a loop device, then the generated fstab line
    mounts it, in a private mount namespace."""
    mkfs = require("mkfs.xfs", "xfsprogs")
    losetup = require("losetup", "mount")
    unshare = require("unshare", "util-linux")
    blkid = require("blkid", "util-linux")
    script = _script(out, plan, plan.first.name, "brick-storage").read_text()
    [options] = set(re.findall(r'run mkfs\.xfs (.*) "\$device"', script))
    [mount_options] = re.findall(
        r"printf 'UUID=%s %s xfs %s 0 0\\n' \"\$uuid\" \"\$mount_point\" (\S+)", script
    )
    image = tmp / "brick.img"
    with image.open("wb") as file:
        file.truncate(512 << 20)  # mkfs.xfs wants 300 MiB at least
    attached = run(losetup, "--find", "--show", str(image))
    if attached.returncode != 0:
        message = f"no loop device: {attached.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    device = attached.stdout.strip()
    try:
        made = run(mkfs, *options.split(), device)
        assert made.returncode == 0, made.stderr
        assert re.search(r"isize=512\b", made.stdout), made.stdout
        uuid = run(blkid, "-s", "UUID", "-o", "value", device).stdout.strip()
        mount_point = tmp / "gluster_bricks"
        mount_point.mkdir()
        fstab = tmp / "fstab"
        fstab.write_text(f"UUID={uuid} {mount_point} xfs {mount_options} 0 0\n")
        mounted = run(
            unshare,
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount --bind "$1" /etc/fstab && mount "$2" && grep " $2 " /proc/self/mounts',
            "_",
            str(fstab),
            str(mount_point),
        )
        assert mounted.returncode == 0, mounted.stderr
        fields = mounted.stdout.split()
        assert fields[2] == "xfs", mounted.stdout
        assert {"noatime", "inode64"} <= set(fields[3].split(",")), mounted.stdout
    finally:
        run(losetup, "--detach", device)


def check_volumes(out: Path, plan: confgen.Plan, tmp: Path) -> None:
    """The peer steps, then the volume step twice, each run unchanged on its host of a pool of
    real glusterds, one per host (tests/real_pool.py), with Debian's option groups; the brick
    filesystem moved to where the pool gives each host a tmpfs of its own (a variant of the
    cluster rendered for it). No `force` and no --mode=script: the replica sets span hosts."""
    groups = Path("/var/lib/glusterd/groups")
    if not (groups / "virt").is_file():
        pytest.fail(f"{groups}/virt is missing: apt-get install glusterfs-server")
    work = tmp / "pool"
    cluster = plan.cluster
    gluster = cluster.gluster  # type: ignore[attr-defined]
    root = gluster.brick_fs.mount_point.rstrip("/")
    bricks = str(work / "bricks")
    fs = attrs.evolve(gluster.brick_fs, mount_point=bricks)
    # A volume's own brick folder lies on the brick filesystem: it moves with it.
    volumes = tuple(
        attrs.evolve(v, brick_dir=bricks + v.brick_dir[len(root) :])
        if v.brick_dir is not None
        else v
        for v in gluster.all_volumes
    )
    moved = attrs.evolve(cluster, gluster=attrs.evolve(gluster, brick_fs=fs, volumes=volumes))
    variant = tmp / "out"
    confgen.write_tree(confgen.render(moved), variant)
    the_plan = confgen.plan(moved)
    addresses, names = storage_pool_of(the_plan)
    with gluster_pool(work, addresses, names, groups) as pool:
        for volume in the_plan.volumes:
            for brick in volume.bricks:
                made = pool.run(brick.host, "mkdir", "-p", brick.path)
                assert made.returncode == 0, made.stderr
        for step in the_plan.steps:
            if step.slug in ("peer-probe", "peer-probe-back"):
                for host in step.hosts:
                    done = pool.run_script(host, _script(variant, the_plan, host, step.slug))
                    assert done.returncode == 0, done.stdout + done.stderr
        first = the_plan.first.name
        script = _script(variant, the_plan, first, "volumes")
        done = pool.run_script(first, script)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "volume create: " in done.stdout, done.stdout
        again = pool.run_script(first, script)
        assert again.returncode == 0, again.stdout + again.stderr
        # gluster says "volume create: NAME: success", "volume set: success", "volume start:
        # NAME: success" for each change: run again, the step makes none.
        assert "success" not in again.stdout, again.stdout
        infos = {
            v.name: pool.gluster(first, "volume", "info", v.name).stdout for v in the_plan.volumes
        }
    virt = dict(
        line.split("=", 1) for line in (groups / "virt").read_text().splitlines() if "=" in line
    )
    for volume in the_plan.volumes:
        info = infos[volume.name]
        assert "Status: Started\n" in info, info
        sets = len(volume.bricks) // volume.replica
        kind = "Replicate" if sets == 1 else "Distributed-Replicate"
        assert f"Type: {kind}\n" in info, info
        listed = re.findall(r"^Brick\d+: (.*)$", info, re.MULTILINE)
        assert listed == [str(b) for b in volume.bricks], info
        for key, value in {
            **virt,
            "storage.owner-uid": "36",
            "storage.owner-gid": "36",
            "network.ping-timeout": "30",
            "performance.strict-o-direct": "on",
            "network.remote-dio": "off",
            "cluster.granular-entry-heal": "enable",
        }.items():
            assert f"\n{key}: {value}\n" in info, (key, value, info)


CHECKS = [check_scripts, check_firewall, check_xfs, check_volumes]


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
@pytest.mark.parametrize("case", CASES)
def test_golden_artifacts(case: str, check: object, tmp_path: Path) -> None:
    out = tmp_path / "out"
    plan = rendered((GOLDEN / case / "cluster.toml").read_text(), out)
    check(out, plan, tmp_path)  # type: ignore[operator]


def test_the_firewall_check_can_fail(tmp_path: Path) -> None:
    """A service firewalld does not know stops the step: the check sees what firewalld says."""
    out = tmp_path / "out"
    plan = rendered((GOLDEN / CASES[0] / "cluster.toml").read_text(), out)
    script = _script(out, plan, plan.first.name, "firewall")
    script.write_text(script.read_text().replace("services=(vdsm ", "services=(no-such-service "))
    # The changed step runs as if the render had written it: its folder's stamp says so.
    restamp(script.parent.parent)
    with pytest.raises(AssertionError, match="INVALID_SERVICE"):
        check_firewall(out, plan, tmp_path / "check")


# One drawn cluster a run (about a minute on CI's 2 cores, within its 50 minutes); the golden
# clusters' artifacts go through the same programs (test_golden_artifacts).
@settings(
    max_examples=1,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=el9_clusters())
def test_generated_artifacts(
    data: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("generated")
    plan = rendered(to_toml(data), tmp / "out")
    for check in CHECKS:
        work = tmp / check.__name__
        work.mkdir()
        check(tmp / "out", plan, work)
