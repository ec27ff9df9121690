"""Step 00, the preflight, on the fake cluster of each target: it passes on a right fresh host
(and, through the run-through tests of test_scripts*.py, on a built one), and for each fact
made wrong it fails naming that fact, on one line, changing nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fakehost import CPUINFO, FakeCluster
from golden_cases import GOLDEN

SEED = (GOLDEN / "seed-3host" / "cluster.toml").read_text()
EL9 = (GOLDEN / "el9-3host" / "cluster.toml").read_text()
SCRIPT = "00-preflight.sh"

Wrong = Callable[[FakeCluster, dict[str, Any], Path], None]


def _dns(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    fake.state.setdefault("dns", {})["host3.osas.lab"] = "192.168.122.99"
    fake.state["dns"]["host3.example.com"] = "192.168.122.99"


def _stale_hosts_line(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    (root / "etc/hosts").write_text(
        "127.0.0.1 localhost\n192.168.122.99 host3.osas.lab host3.example.com\n"
    )


def _no_reverse(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    fake.state["ptr"].pop("192.168.122.13")


def _other_reverse(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n192.168.122.13 old-name.osas.lab\n")


def _no_nic(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    me["nics"] = {"ens3": ["192.168.122.12/24"]}


def _other_address(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    me["nics"] = {"eth0": ["10.0.0.5/8"]}


def _other_prefix(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    me["nics"] = {"eth0": ["192.168.122.12/16"]}


def _clock(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    me["clock_synced"] = False


def _repositories(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    me["repos_reachable"] = False


def _no_device(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    me["devices"] = {}


def _mounted_device(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    me["devices"]["/dev/vdb"] = "xfs"
    me["mounts"]["/srv/data"] = "local"
    me["mounted_devices"] = {"/srv/data": "/dev/vdb"}


def _signature(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    me["devices"]["/dev/vdb"] = "xfs"


def _no_vmx(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    (root / "proc/cpuinfo").write_text(CPUINFO.replace(" vmx ", " "))


def _no_kvm(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    (root / "dev/kvm").unlink()


def _no_space(fake: FakeCluster, me: dict[str, Any], root: Path) -> None:
    me["free_kib"] = {"/": 4 << 20}


# (target's cluster, host, how the fact is made wrong, the line that must name it)
CASES: list[tuple[str, str, str, Wrong, str]] = [
    (
        "el9-dns-address",
        EL9,
        "host2",
        _dns,
        "PROBLEM names: host3.example.com resolves to 192.168.122.99 in DNS, not 192.168.122.13.",
    ),
    (
        "el9-no-reverse",
        EL9,
        "host2",
        _no_reverse,
        "PROBLEM names: 192.168.122.13 resolves back to nothing in DNS, not host3.example.com.",
    ),
    (
        "el7-dns-address",
        SEED,
        "host2",
        _dns,
        "PROBLEM names: host3.osas.lab resolves to 192.168.122.99 in DNS, not 192.168.122.13.",
    ),
    (
        "el7-stale-hosts-line",
        SEED,
        "host2",
        _stale_hosts_line,
        "PROBLEM names: host3.osas.lab resolves to 192.168.122.99 in /etc/hosts, "
        "not 192.168.122.13.",
    ),
    (
        "el7-other-reverse",
        SEED,
        "host2",
        _other_reverse,
        "PROBLEM names: 192.168.122.13 resolves back to old-name.osas.lab in /etc/hosts, "
        "not host3.osas.lab.",
    ),
    *[
        (f"{name}-no-nic", text, "host2", _no_nic, "PROBLEM NIC eth0: there is no NIC eth0")
        for name, text in (("el9", EL9), ("el7", SEED))
    ],
    *[
        (
            f"{name}-other-address",
            text,
            "host2",
            _other_address,
            "PROBLEM NIC eth0: eth0 holds 10.0.0.5/8, not 192.168.122.12/24 (network lan).",
        )
        for name, text in (("el9", EL9), ("el7", SEED))
    ],
    (
        "el9-other-prefix",
        EL9,
        "host2",
        _other_prefix,
        "PROBLEM NIC eth0: eth0 holds 192.168.122.12/16, not 192.168.122.12/24 (network lan).",
    ),
    (
        "el9-clock",
        EL9,
        "host2",
        _clock,
        "PROBLEM clock: the system clock is not synchronised (NTPSynchronized=no).",
    ),
    (
        "el7-clock",
        SEED,
        "host2",
        _clock,
        "PROBLEM clock: the system clock is not synchronised (NTP synchronized: no).",
    ),
    (
        "el9-repositories",
        EL9,
        "host2",
        _repositories,
        "PROBLEM repositories: dnf --refresh makecache failed: Error: Failed to download "
        "metadata for repo 'appstream'",
    ),
    (
        "el7-repositories",
        SEED,
        "host2",
        _repositories,
        "PROBLEM repositories: yum makecache fast failed: ",
    ),
    *[
        (
            f"{name}-no-device",
            text,
            "host2",
            _no_device,
            "PROBLEM brick device: /dev/vdb is not a block device: set brick_device of host2",
        )
        for name, text in (("el9", EL9), ("el7", SEED))
    ],
    *[
        (
            f"{name}-mounted-device",
            text,
            "host2",
            _mounted_device,
            "PROBLEM brick device: /dev/vdb is in use, mounted at /srv/data:",
        )
        for name, text in (("el9", EL9), ("el7", SEED))
    ],
    *[
        (
            f"{name}-signature",
            text,
            "host2",
            _signature,
            "PROBLEM brick device: /dev/vdb is not empty (DEVNAME=/dev/vdb TYPE=xfs",
        )
        for name, text in (("el9", EL9), ("el7", SEED))
    ],
    *[
        (
            f"{name}-no-vmx",
            text,
            "host2",
            _no_vmx,
            "PROBLEM CPU virtualization: /proc/cpuinfo lists neither vmx nor svm",
        )
        for name, text in (("el9", EL9), ("el7", SEED))
    ],
    # The seed's kernel lists vmx when the firmware disabled it: /dev/kvm tells.
    (
        "el7-no-kvm",
        SEED,
        "host2",
        _no_kvm,
        "PROBLEM CPU virtualization: /dev/kvm is missing: the kernel did not enable KVM",
    ),
    (
        "el9-space",
        EL9,
        "host1",
        _no_space,
        "PROBLEM free space in /var/tmp: 4096 MiB free, 5120 MiB needed: hosted-engine "
        "--deploy extracts the engine appliance there.",
    ),
]


def _problems(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("PROBLEM ")]


@pytest.mark.parametrize("text", [SEED, EL9], ids=["el7", "el9"])
def test_a_right_fresh_host_passes_and_a_dry_run_is_the_same(tmp_path: Path, text: str) -> None:
    fake = FakeCluster.rendered(tmp_path, text)
    before = fake.snapshot()
    for host in fake.plan.hosts:
        for env in ({}, {"DRY_RUN": "1"}):
            result = fake.run(host.name, SCRIPT, **env)
            assert result.returncode == 0, result.stdout + result.stderr
            assert _problems(result.stderr) == []
            assert "every check passed" in result.stdout
    assert fake.changes() == [] and fake.snapshot() == before


@pytest.mark.parametrize(
    ("text", "host", "wrong", "line"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_wrong_fact_is_named_on_a_line_of_its_own(
    tmp_path: Path, text: str, host: str, wrong: Wrong, line: str
) -> None:
    fake = FakeCluster.rendered(tmp_path, text)
    wrong(fake, fake.state["hosts"][host], fake.root(host))
    fake.save()
    before = fake.snapshot()
    for env in ({}, {"DRY_RUN": "1"}):
        result = fake.run(host, SCRIPT, **env)
        assert result.returncode == 1, result.stdout + result.stderr
        problems = _problems(result.stderr)
        assert len(problems) == 1 and problems[0].startswith(line), result.stderr
        assert "1 problem(s), each on a line beginning PROBLEM above" in result.stderr
    assert fake.changes() == [] and fake.snapshot() == before


@pytest.mark.parametrize("text", [SEED, EL9], ids=["el7", "el9"])
def test_two_wrong_facts_are_both_named(tmp_path: Path, text: str) -> None:
    fake = FakeCluster.rendered(tmp_path, text)
    me = fake.state["hosts"]["host2"]
    _clock(fake, me, fake.root("host2"))
    _other_address(fake, me, fake.root("host2"))
    fake.save()
    result = fake.run("host2", SCRIPT)
    assert result.returncode == 1
    problems = _problems(result.stderr)
    assert [p.split(":", 1)[0] for p in problems] == ["PROBLEM NIC eth0", "PROBLEM clock"]
    assert "2 problem(s)" in result.stderr


@pytest.mark.parametrize("text", [SEED, EL9], ids=["el7", "el9"])
def test_a_device_the_administrator_lets_go_passes(tmp_path: Path, text: str) -> None:
    """CONFGEN_WIPE_DEVICE lets the brick step wipe a device with a signature: the preflight
    then passes, as the step would; a mounted device stays a problem."""
    fake = FakeCluster.rendered(tmp_path, text)
    _signature(fake, fake.state["hosts"]["host2"], fake.root("host2"))
    fake.save()
    assert fake.run("host2", SCRIPT, CONFGEN_WIPE_DEVICE="/dev/vdb").returncode == 0
    assert fake.run("host2", SCRIPT, CONFGEN_WIPE_DEVICE="/dev/vdc").returncode == 1
    _mounted_device(fake, fake.state["hosts"]["host2"], fake.root("host2"))
    fake.save()
    mounted = fake.run("host2", SCRIPT, CONFGEN_WIPE_DEVICE="/dev/vdb")
    assert mounted.returncode == 1 and "is in use, mounted at /srv/data" in mounted.stderr


def test_the_brick_step_refuses_a_mounted_device_even_when_told_to_wipe(tmp_path: Path) -> None:
    fake = FakeCluster.rendered(tmp_path, EL9)
    brick = fake.plan.first_step("brick-storage")
    fake.run_through(brick.number)
    _mounted_device(fake, fake.state["hosts"]["host2"], fake.root("host2"))
    fake.save()
    changes = len(fake.changes())
    result = fake.run("host2", brick.script, CONFGEN_WIPE_DEVICE="/dev/vdb")
    assert result.returncode == 1
    assert "/dev/vdb is in use, mounted at /srv/data" in result.stderr
    assert fake.changes()[changes:] == []


@pytest.mark.parametrize("text", [SEED, EL9], ids=["el7", "el9"])
def test_a_built_host_passes(tmp_path: Path, text: str) -> None:
    """After the brick step, the device holds what that step made, and /etc/hosts the
    cluster's names: the preflight passes again."""
    fake = FakeCluster.rendered(tmp_path, text)
    fake.run_through(fake.plan.first_step("brick-storage").number + 1)
    for host in fake.plan.hosts:
        result = fake.run(host.name, SCRIPT)
        assert result.returncode == 0, result.stdout + result.stderr
        if host.brick_dirs:
            assert "leaves /dev/vdb as it is" in result.stdout
