"""The fake cluster's stand-ins for the target ovirt45-el9, held to the real programs Debian has.

The el9 runbook runs on the fake cluster; then the calls its scripts made are replayed on the
real program and the exit status must agree call by call: gluster's volume commands on a real
glusterd (and the options each volume ends with, as `volume info` lists them), firewall-cmd's
on firewalld's own firewall-offline-cmd (the same options but --permanent, which it always
means; --reload only makes the daemon load that configuration), and mkfs.xfs on an image file.
Each replay adds calls the real program refuses, so that a stand-in that accepts everything
fails here.
"""

from __future__ import annotations

import copy
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import fakehost_el9
import fakehost_engine
import fakehost_gluster
from fakehost import FakeCluster
from golden_cases import GOLDEN, golden_cases
from test_real_programs import require, run
from test_stand_ins import RealGlusterd, _peers, _volume_calls

CASES = golden_cases("ovirt45-el9")


def _built(case: str, tmp: Path) -> FakeCluster:
    fake = FakeCluster.rendered(tmp, (GOLDEN / case / "cluster.toml").read_text())
    fake.run_through(fake.plan.steps[-1].number + 1)
    return fake


def _options(info: str) -> set[str]:
    """The "Options Reconfigured" lines of `gluster volume info`."""
    _, _, options = info.partition("Options Reconfigured:\n")
    return {line for line in options.splitlines() if ": " in line}


@pytest.mark.parametrize("case", CASES)
def test_the_volume_steps_calls_and_the_options_they_leave_are_glusterds(
    case: str, tmp_path: Path
) -> None:
    fake = _built(case, tmp_path / "fake")
    calls = _volume_calls(fake)
    assert any(words[1] == "set" for words, _ in calls)
    refused = [
        ["volume", "set", "engine", "no.such-option", "1"],
        ["volume", "set", "engine", "group", "no-such-group"],
        ["volume", "set", "missing", "storage.owner-uid", "36"],
    ]
    volumes = [v.name for v in fake.plan.volumes]
    real = RealGlusterd(tmp_path / "real", _peers(fake.plan))
    # The CLI reads a group's file where glusterd keeps its state: the packaged groups.
    shutil.copytree("/var/lib/glusterd/groups", real.work / "lib" / "groups")
    answers = real.replay(
        [w for w, _ in calls] + refused + [["volume", "info", v] for v in volumes]
    )
    for (words, fake_code), (real_code, real_out) in zip(calls, answers, strict=False):
        assert (fake_code == 0) == (real_code == 0), (words, fake_code, real_code, real_out)
    groups = fake.root(fake.plan.first.name) / "var/lib/glusterd/groups"
    for words, (real_code, real_out) in zip(refused, answers[len(calls) :], strict=False):
        fake_code = fakehost_gluster.answer(
            copy.deepcopy(fake.state), fake.state["hosts"][fake.plan.first.name], words, groups
        )[0]
        assert real_code != 0 and fake_code != 0, (words, real_code, real_out)
    for name, (code, info) in zip(volumes, answers[-len(volumes) :], strict=True):
        assert code == 0, info
        fake_options = {f"{k}: {v}" for k, v in fake.state["volumes"][name]["options"]}
        assert fake_options == _options(info), name


REPLAY_FIREWALL = r"""
set -u
mount --bind "$WORK/etc" /etc/firewalld
while IFS= read -r line; do
    eval "set -- $line"
    firewall-offline-cmd "$@" > "$WORK/last.out" 2>&1
    printf '@@rc %s %s\n' "$?" "$line"
    cat "$WORK/last.out"
done < "$WORK/commands"
"""


def _offline(args: list[str]) -> list[str] | None:
    """A firewall-cmd call as firewall-offline-cmd takes it; None for --reload."""
    if args == ["--reload"]:
        return None
    return [a for a in args if a != "--permanent"]


@pytest.mark.parametrize("case", CASES)
def test_firewall_cmd_answers_as_firewalld_does(case: str, tmp_path: Path) -> None:
    require("firewall-offline-cmd", "firewalld")
    unshare = require("unshare", "util-linux")
    fake = FakeCluster.rendered(tmp_path / "fake", (GOLDEN / case / "cluster.toml").read_text())
    fake.run_through(3)  # packages and firewall, everywhere
    host = fake.plan.first.name
    calls = [
        (c["argv"][1:], c["code"])
        for c in fake.calls()
        if c["host"] == host and c["argv"][0] == "firewall-cmd"
    ]
    zone = fake.plan.firewall_zone or "public"  # type: ignore[attr-defined]
    probes = [
        ["--permanent", "--add-service=no-such-service"],
        ["--permanent", "--zone=no-such-zone", "--query-service=ssh"],
        ["--permanent", f"--new-zone={zone}"],
        ["--permanent", f"--zone={zone}", "--query-service=nfs"],
        ["--permanent", f"--zone={zone}", "--query-port=1/tcp"],
        ["--permanent", f"--zone={zone}", "--add-service=vdsm"],
    ]
    me = copy.deepcopy(fake.state["hosts"][host])
    fake_probes = [fakehost_el9.firewall_cmd(me, args)[0] for args in probes]
    work = tmp_path / "real"
    shutil.copytree("/etc/firewalld", work / "etc")
    lines = [
        shlex.join(offline)
        for args, _ in calls + [(p, 0) for p in probes]
        if (offline := _offline(args)) is not None
    ]
    (work / "commands").write_text("".join(f"{line}\n" for line in lines))
    result = run(
        unshare,
        "--mount",
        "--propagation",
        "private",
        "bash",
        "-c",
        REPLAY_FIREWALL,
        env={**os.environ, "WORK": str(work)},
    )
    real = [int(chunk.split(" ", 1)[0]) for chunk in result.stdout.split("@@rc ")[1:]]
    assert len(real) == len(lines), result.stdout + result.stderr
    fake_codes = [code for args, code in calls if _offline(args) is not None] + fake_probes
    disagree = [(line, f, r) for line, f, r in zip(lines, fake_codes, real, strict=True) if f != r]
    assert disagree == [], result.stdout
    assert sum(code != 0 for code in real) >= 4, real  # the probes hold refusals


def test_mkfs_xfs_answers_as_xfsprogs_does(tmp_path: Path) -> None:
    """On an image file: the generated options (-K: no discard first), then the same again on
    what is now XFS (refused without -f, with -K or not), then sizes mkfs.xfs refuses."""
    mkfs = require("mkfs.xfs", "xfsprogs")
    image = tmp_path / "brick.img"
    with image.open("wb") as file:
        file.truncate(512 << 20)
    device = str(image)
    me: dict[str, Any] = {"devices": {device: ""}, "uuids": {}}
    calls = [
        ["-K", "-i", "size=512", "-n", "size=8192", device],
        ["-K", "-i", "size=512", "-n", "size=8192", device],
        ["-i", "size=512", "-n", "size=8192", device],
        ["-f", "-i", "size=300", device],
        ["-f", "-n", "size=2048", device],
        ["-f", "-i", "size=1024", "-n", "size=16384", device],
    ]
    for args in calls:
        real = run(mkfs, *args).returncode
        fake = fakehost_el9.mkfs_xfs(me, args)[0]
        assert (real == 0) == (fake == 0), (args, real, fake)
    assert me["devices"][device] == "xfs"


def test_mount_by_its_fstab_line_fails_where_mount_does(tmp_path: Path) -> None:
    """`mount MOUNT_POINT`, as the brick step mounts: with no fstab line for it, and with a line
    whose UUID no device has, the real mount fails (in a private mount namespace, with the
    fstab bound over /etc/fstab), and so must the stand-in."""
    unshare = require("unshare", "util-linux")
    fake = FakeCluster.rendered(
        tmp_path / "fake", (GOLDEN / "el9-3host" / "cluster.toml").read_text()
    )
    env = {**os.environ, **fake.host_env("host1")}
    mount_point = tmp_path / "bricks"
    mount_point.mkdir()
    (fake.root("host1") / mount_point.relative_to("/")).mkdir(parents=True)
    cases = [
        "/dev/mapper/cs-root / xfs defaults 0 0\n",
        f"UUID=00000000-0000-4000-8000-00000000abcd {mount_point} xfs inode64 0 0\n",
    ]
    for fstab in cases:
        (tmp_path / "fstab").write_text(fstab)
        (fake.root("host1") / "etc/fstab").write_text(fstab)
        real = run(
            unshare,
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount --bind "$1" /etc/fstab && exec mount "$2"',
            "_",
            str(tmp_path / "fstab"),
            str(mount_point),
        )
        stand_in = run(str(fake.bin / "mount"), str(mount_point), env=env)
        assert real.returncode != 0, real.stderr
        assert stand_in.returncode != 0, (fstab, stand_in.stdout)


def test_lvm_answers_as_lvm2_2_03_does() -> None:
    """lvm2 cannot run here (it needs device-mapper), so the LVM stand-in is held to lvm2's
    source at v2_03_21, call by call as the brick step makes them, and the refusals cited in
    fakehost_el9._lvcreate: a thick volume, a thin pool of what is left less twice its
    metadata, thin volumes in it (their sum may outgrow it, with a warning), and the calls
    lvm2 refuses with exit 5."""
    disk = 1 << 40
    me: dict[str, Any] = {"devices": {"/dev/sdb": ""}, "disks": {"/dev/sdb": {"size": disk}}}
    me["volume_groups"] = {}
    lvm = fakehost_el9.lvm

    def code(*args: str) -> int:
        return lvm(args[0], me, list(args[1:]))[0]

    assert code("pvcreate", "--dataalignment", "256K", "/dev/sdb") == 0
    assert code("vgcreate", "gluster_vg", "/dev/sdb") == 0
    free = (disk - (1 << 20)) // fakehost_el9.EXTENT
    assert code("lvs", "--noheadings", "-o", "lv_attr", "gluster_vg/gluster_thinpool") == 5
    assert code("lvcreate", "--yes", "--size", "100G", "--name", "e", "gluster_vg") == 0
    assert code("lvcreate", "--yes", "--size", "1G", "--name", "e", "gluster_vg") == 5
    assert code("lvcreate", "--yes", "--size", "2T", "--name", "big", "gluster_vg") == 5
    assert code("lvcreate", "--yes", "-V", "1G", "--thinpool", "pool", "-n", "t", "gluster_vg") == 5
    pool = ["--type", "thin-pool", "--extents", "100%FREE", "--poolmetadatasize", "16G"]
    assert code("lvcreate", "--yes", *pool, "--chunksize", "96K", "-n", "p", "gluster_vg") == 5
    assert code("lvcreate", "--yes", *pool, "--chunksize", "256K", "-n", "pool", "gluster_vg") == 0
    lvs = me["volume_groups"]["gluster_vg"]["lvs"]
    metadata = (16 << 30) // fakehost_el9.EXTENT
    assert lvs["pool"]["size"] == (free - 25600 - 2 * metadata) * fakehost_el9.EXTENT
    assert lvm("lvs", me, ["--noheadings", "-o", "lv_attr", "gluster_vg/pool"])[1] == (
        "  twi-a-tz--\n"
    )
    assert code("lvcreate", "--yes", "--size", "4M", "--name", "more", "gluster_vg") == 5
    assert code("lvcreate", "--yes", "-V", "1G", "--thinpool", "e", "-n", "t", "gluster_vg") == 5
    _, _, changed, warning = lvm(
        "lvcreate", me, ["--yes", "-V", "900G", "--thinpool", "pool", "-n", "t", "gluster_vg"]
    )
    assert changed and "Sum of all thin volume sizes" in warning
    assert me["devices"]["/dev/gluster_vg/t"] == "" and "/dev/gluster_vg/pool" not in me["devices"]
    assert lvm("lvs", me, ["--noheadings", "-o", "lv_attr", "gluster_vg/t"])[1] == (
        "  Vwi-a-tz--\n"
    )


def _step_functions(names: list[str]) -> str:
    """The bash functions of those names, as the engine-reinstall step of a rendered change
    writes them."""
    import confgen
    from change_pairs import el9

    before = confgen.loads(el9(3))
    tree = confgen.render_change(confgen.change(before, before, replace=["hv2"]))
    script = next(f.text for p, f in tree.files.items() if p.endswith("-engine-reinstall.sh"))
    return "\n".join(
        script[script.index(f"{name}() {{") :].split("\n}\n", 1)[0] + "\n}" for name in names
    )


def test_ssh_keyscan_and_ssh_keygen_read_as_the_reinstall_step_reads_them(tmp_path: Path) -> None:
    """The engine-reinstall step reads a new machine's SSH host key with ssh-keyscan and shows
    its fingerprint with ssh-keygen. Debian's OpenSSH: an sshd on a port of its own with an
    RSA and an Ed25519 key, read through the step's own host_key; ssh-keyscan of a port where
    nothing answers prints nothing and exits 1. The fake cluster's ssh-keyscan prints its
    keys as the real one does (the same lines, comments on stderr), its keys' blobs are ones
    the real ssh-keygen reads, and the fake engine's fingerprint is ssh-keygen's."""
    sshd = require("/usr/sbin/sshd", "openssh-server")
    keyscan = require("ssh-keyscan", "openssh-client")
    keygen = require("ssh-keygen", "openssh-client")
    keys = {}
    for kind, name in (("rsa", "ssh-rsa"), ("ed25519", "ssh-ed25519")):
        path = tmp_path / f"ssh_host_{kind}_key"
        made = run(keygen, "-q", "-t", kind, "-N", "", "-f", str(path))
        assert made.returncode == 0, made.stderr
        keys[name] = path.with_suffix(".pub").read_text().split()[1]
    port = 20000 + os.getpid() % 20000
    config = tmp_path / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nPidFile none\n"
        f"HostKey {tmp_path}/ssh_host_rsa_key\nHostKey {tmp_path}/ssh_host_ed25519_key\n"
    )
    os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation folder
    server = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    try:
        scanned = ""
        for _ in range(50):
            answer = run(keyscan, "-T", "5", "-p", str(port), "127.0.0.1")
            scanned = answer.stdout
            if scanned:
                break
            time.sleep(0.1)
        # An ssh_known_hosts line names a host on another port than 22 as [HOST]:PORT
        # (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT); on 22, as the step scans, as HOST.
        assert sorted(scanned.splitlines()) == sorted(
            f"[127.0.0.1]:{port} {kind} {blob}" for kind, blob in keys.items()
        ), scanned
        assert all(line.startswith("# 127.0.0.1:") for line in answer.stderr.splitlines())
        # The step's host_key, with this port (ssh-keyscan as a function that adds it).
        for kind, blob in keys.items():
            read = run(
                "bash",
                "-c",
                f'ssh-keyscan() {{ {keyscan} -p {port} "$@"; }}\n'
                + _step_functions(["host_key"])
                + f"\nhost_key 127.0.0.1 {kind}",
            )
            assert read.stdout == f"{kind} {blob}\n", read
        # ssh-keygen -l -f - of that line, as the step runs it.
        shown = run(keygen, "-l", "-f", "-", input=f"ssh-ed25519 {keys['ssh-ed25519']}")
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.split()[1] == fakehost_engine.fingerprint(
            f"ssh-ed25519 {keys['ssh-ed25519']}"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    # Where nothing answers: no line, exit 1.
    nothing = run(keyscan, "-T", "2", "-p", str(port), "127.0.0.1")
    assert (nothing.stdout, nothing.returncode) == ("", 1)
    # The stand-in: the same shape, and blobs the real ssh-keygen reads.
    machine = {
        "management": "10.20.0.12",
        "peer": "10.20.0.12",
        "storage": "10.20.0.12",
        "ssh_host_keys": fakehost_el9.ssh_host_keys(),
    }
    state = {"hosts": {"hv2": machine}, "dns": {"hv2.lab.example": "10.20.0.12"}}
    code, out, _, err = fakehost_el9.ssh_keyscan(state, ["-T", "10", "hv2.lab.example"], tmp_path)
    assert code == 0
    assert sorted(out.splitlines()) == sorted(
        f"hv2.lab.example {kind} {blob}" for kind, blob in machine["ssh_host_keys"].items()
    )
    assert all(line.startswith("# hv2.lab.example:22 SSH-2.0-") for line in err.splitlines())
    for kind, blob in machine["ssh_host_keys"].items():
        shown = run(keygen, "-l", "-f", "-", input=f"{kind} {blob}")
        assert shown.returncode == 0, shown.stderr
        bits = "2048" if kind == "ssh-rsa" else "256"
        label = "RSA" if kind == "ssh-rsa" else "ED25519"
        expected = f"{bits} {fakehost_engine.fingerprint(f'{kind} {blob}')} no comment ({label})\n"
        assert shown.stdout == expected
    machine["before_reboot"] = []
    assert fakehost_el9.ssh_keyscan(state, ["hv2.lab.example"], tmp_path)[:2] == (1, "")
