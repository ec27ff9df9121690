"""The stand-ins for what step 00 asks, against the real programs Debian has: glibc's getent
(through a bind-mounted /etc/hosts in a private mount namespace), iproute2's ip, coreutils'
df, util-linux's lsblk on a mounted loop device, and this machine's /proc/cpuinfo. Each
compares what the script reads: the output, byte for byte, and the exit status.

timedatectl (no systemd runs here) and nmcli (no NetworkManager) are not on this machine:
their stand-ins cite systemd's and NetworkManager's sources instead (fakehost_el7.py,
fakehost_el9.py).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fakehost import CPUINFO, FakeCluster
from golden_cases import GOLDEN
from test_real_programs import require, run

HOSTS = (
    "127.0.0.1 localhost\n"
    "192.0.2.5 host1.example.com host1\n"
    "192.0.2.6 host1.example.com\n"
    "192.0.2.7 other.example.com # a comment\n"
)
GETENT_QUERIES = [
    ["-s", "files", "ahostsv4", "host1.example.com"],
    ["-s", "files", "ahostsv4", "HOST1.Example.COM"],
    ["-s", "files", "ahostsv4", "other.example.com"],
    ["-s", "files", "ahostsv4", "no-such-name.example.com"],
    ["-s", "files", "hosts", "192.0.2.5"],
    ["-s", "files", "hosts", "192.0.2.6"],
    ["-s", "files", "hosts", "192.0.2.99"],
    ["-s", "files", "hosts", "host1"],
]


def _fake(tmp_path: Path) -> tuple[FakeCluster, dict[str, str]]:
    fake = FakeCluster.rendered(
        tmp_path / "fake", (GOLDEN / "el9-3host" / "cluster.toml").read_text()
    )
    return fake, {**os.environ, **fake.host_env("host1")}


def _answer(result: subprocess.CompletedProcess[str]) -> tuple[int, str]:
    return result.returncode, result.stdout


def test_getent_by_service_answers_as_glibc_does(tmp_path: Path) -> None:
    unshare = require("unshare", "util-linux")
    getent = require("getent", "libc-bin")
    fake, env = _fake(tmp_path)
    hosts = tmp_path / "hosts"
    hosts.write_text(HOSTS)
    (fake.root("host1") / "etc/hosts").write_text(HOSTS)
    differ = []
    for query in GETENT_QUERIES:
        real = run(
            unshare,
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount --bind "$1" /etc/hosts && shift && exec "$@"',
            "_",
            str(hosts),
            getent,
            *query,
        )
        if real.returncode not in (0, 2):
            pytest.skip(f"no private mount namespace here: {real.stderr.strip()}")
        stand_in = run(str(fake.bin / "getent"), *query, env=env)
        if _answer(real) != _answer(stand_in):
            differ.append((query, _answer(real), _answer(stand_in)))
    assert differ == []
    # Worth something only if glibc both found and missed among them.
    codes = {run(str(fake.bin / "getent"), *q, env=env).returncode for q in GETENT_QUERIES}
    assert codes == {0, 2}


def test_ip_addr_answers_as_iproute2_does(tmp_path: Path) -> None:
    ip = require("ip", "iproute2")
    fake, env = _fake(tmp_path)
    real_lo = run(ip, "-4", "-o", "addr", "show", "dev", "lo")
    if real_lo.returncode != 0 or not real_lo.stdout:
        pytest.skip("no IPv4 loopback address here")
    addresses = [line.split()[3] for line in real_lo.stdout.splitlines()]
    fake.state["hosts"]["host1"]["nics"] = {"lo": addresses, "eth0": ["192.168.122.11/24"]}
    fake.save()
    stand_in = run(str(fake.bin / "ip"), "-4", "-o", "addr", "show", "dev", "lo", env=env)
    assert _answer(stand_in) == _answer(real_lo)
    missing = ["-4", "-o", "addr", "show", "dev", "confgen-none0"]
    real, fake_missing = run(ip, *missing), run(str(fake.bin / "ip"), *missing, env=env)
    assert (real.returncode, real.stderr) == (fake_missing.returncode, fake_missing.stderr)
    assert real.returncode != 0


def test_df_avail_answers_as_coreutils_does(tmp_path: Path) -> None:
    require("df", "coreutils")
    df = "df"  # by its name, which its messages begin with
    fake, env = _fake(tmp_path)
    real = run(df, "-k", "--output=avail", str(tmp_path))
    assert real.returncode == 0, real.stderr
    fake.state["hosts"]["host1"]["free_kib"] = {"/": int(real.stdout.split()[-1])}
    fake.save()
    stand_in = run(str(fake.bin / "df"), "-k", "--output=avail", str(tmp_path), env=env)
    assert _answer(stand_in) == _answer(real)
    missing = str(tmp_path / "no-such-folder")
    real = run(df, "-k", "--output=avail", missing)
    stand_in = run(str(fake.bin / "df"), "-k", "--output=avail", missing, env=env)
    assert (real.returncode, real.stderr) == (stand_in.returncode, stand_in.stderr)
    assert real.returncode != 0


def test_lsblk_mount_points_answer_as_util_linux_does(tmp_path: Path) -> None:
    """A device's mount points, empty and mounted (in a private mount namespace, which lsblk
    reads through /proc/self/mountinfo)."""
    losetup = require("losetup", "mount")
    unshare = require("unshare", "util-linux")
    mkfs = require("mkfs.ext4", "e2fsprogs")
    image = tmp_path / "disk.img"
    image.write_bytes(b"\0" * (16 << 20))
    attached = run(losetup, "--find", "--show", str(image))
    if attached.returncode != 0:
        pytest.skip(f"no loop device: {attached.stderr.strip()}")
    device = attached.stdout.strip()
    try:
        fake, env = _fake(tmp_path)
        me: dict[str, Any] = fake.state["hosts"]["host1"]
        query = ["--noheadings", "--output", "MOUNTPOINT", device]
        me["devices"] = {device: ""}
        fake.save()
        real = run("lsblk", *query)
        assert _answer(run(str(fake.bin / "lsblk"), *query, env=env)) == _answer(real)
        assert run(mkfs, "-q", device).returncode == 0
        folder = tmp_path / "mounted"
        folder.mkdir()
        real = run(
            unshare,
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount "$1" "$2" && shift 2 && exec lsblk "$@"',
            "_",
            device,
            str(folder),
            *query,
        )
        if real.returncode != 0:
            pytest.skip(f"cannot mount here: {real.stderr.strip()}")
        me["devices"] = {device: "ext4"}
        me["mounted_devices"] = {str(folder): device}
        fake.save()
        assert _answer(run(str(fake.bin / "lsblk"), *query, env=env)) == _answer(real)
        assert real.stdout == f"{folder}\n"
    finally:
        run(losetup, "--detach", device)


def test_the_cpuinfo_of_the_fake_hosts_is_laid_out_as_linux_lays_it_out() -> None:
    """Step 00 reads the flags line of /proc/cpuinfo: "flags", tabs, ": ", the flags."""
    real = Path("/proc/cpuinfo").read_text()
    layout = re.compile(r"^flags\t+: [a-z0-9_ ]+$", re.M)
    assert layout.search(real), real[:500]
    assert layout.search(CPUINFO)
    assert set(re.findall(r"^([a-z ]+?)\t+: ", CPUINFO, re.M)) <= set(
        re.findall(r"^([a-z ]+?)\t+: ", real, re.M)
    )
