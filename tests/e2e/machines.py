"""Real machines for the end-to-end cluster: one systemd-nspawn container per host.

Each container boots Debian 12's systemd as PID 1 on an overlay of one cached debootstrap tree,
joins a private bridge per cluster network (inside one network namespace of its own, so no
address of the cluster ever reaches this machine's interfaces), and may get a loop device bound
in as its brick device. Nothing here knows the target: what a target's hosts have that Debian
lacks comes as an extra overlay layer (see targets.py).

Pitfalls met on these machines, and why the code is as it is:
- Without a systemd on the machine itself, every nspawn would share one cgroup and the
  containers would manage each other's services: each launcher moves itself into a cgroup of
  its own, in the `name=systemd` and the unified hierarchy, before it execs nspawn, which runs
  with `--keep-unit --register=no`.
- `ip netns exec` makes nspawn fail ("Failed to determine whether the unified cgroups hierarchy
  is used"): the launcher enters the network namespace with `nsenter --net` instead.
- A reboot inside nspawn ends nspawn with status 133 (systemd-nspawn(1)): the launcher starts
  the container again, as a real machine comes back from a reboot.
- Every call into a container goes through `timeout`: a hung program must not hang the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import attrs

SUITE = "bookworm"
# What each host runs for real. ethtool: ctdb's 10.interface event script calls it. firewalld:
# the target ovirt45-el9's firewall (installed, not enabled: a target enables what it uses);
# it needs polkitd, which needs a logind, which debootstrap cannot choose: libpam-systemd.
# udev: udevadm, which ovirt45-el9's brick step asks for a disk's WWID (udevd does not run in a
# container: its unit wants a writable /sys).
PACKAGES = (
    "systemd,systemd-sysv,dbus,iproute2,glusterfs-server,glusterfs-client,ctdb,xfsprogs,lvm2,"
    "iptables,procps,iputils-ping,ethtool,python3,firewalld,polkitd,libpam-systemd,udev"
)
# Units Debian's packages enable when installed that a freshly installed host of no target
# runs: each target's hosts start them as that target's install does (targets.py).
NOT_ENABLED = ("firewalld.service", "dbus-org.fedoraproject.FirewallD1.service")
CACHE = Path(os.environ.get("CONFGEN_E2E_CACHE", "/var/cache/confgen-e2e"))
# The programs the harness itself runs on this machine, and the Debian package of each.
PREREQUISITES = {
    "systemd-nspawn": "systemd-container",
    "debootstrap": "debootstrap",
    "nsenter": "util-linux",
    "losetup": "mount",
    "ip": "iproute2",
}
SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class MachineError(Exception):
    """This machine cannot run the containers (a missing program, no loop device, ...)."""


def missing_prerequisites() -> list[str]:
    """What this machine lacks to run the cluster, each as `program (apt-get install X)`."""
    missing = [
        f"{program} (apt-get install {package})"
        for program, package in PREREQUISITES.items()
        if shutil.which(program, path=SBIN_PATH + ":" + os.environ.get("PATH", "")) is None
    ]
    if os.geteuid() != 0:
        missing.append("root (containers, network namespaces and loop devices need it)")
    if (
        not Path("/sys/fs/cgroup/unified").is_dir()
        and not Path("/sys/fs/cgroup/cgroup.controllers").exists()
    ):
        missing.append("a unified cgroup hierarchy at /sys/fs/cgroup")
    return missing


def sh(*argv: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": SBIN_PATH + ":" + os.environ.get("PATH", "")}
    result = subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    if check and result.returncode != 0:
        raise MachineError(f"{shlex.join(argv)} exited {result.returncode}: {result.stderr}")
    return result


def debian_mirror() -> str:
    """The Debian mirror apt uses on this machine (deb822 or one-line sources)."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        match = re.search(r"^URIs:\s*(\S+)", sources.read_text(), re.M)
        if match:
            return match.group(1)
    listing = Path("/etc/apt/sources.list")
    if listing.exists():
        match = re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+\S+", listing.read_text(), re.M)
        if match:
            return match.group(1)
    return "http://deb.debian.org/debian"


def rootfs() -> Path:
    """The cached Debian tree every container's overlay starts from; built when missing.

    Its folder is named by what it holds, so a changed package list builds a new one. It is
    built beside the cache and renamed into place, so an interrupted build is never used."""
    key = hashlib.sha256(f"{SUITE} {PACKAGES} {NOT_ENABLED}".encode()).hexdigest()[:12]
    tree = CACHE / f"{SUITE}-{key}"
    if (tree / "etc/os-release").exists():
        return tree
    CACHE.mkdir(parents=True, exist_ok=True)
    building = CACHE / f".building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    sh(
        "debootstrap",
        "--variant=minbase",
        f"--include={PACKAGES}",
        SUITE,
        str(building),
        debian_mirror(),
        timeout=1200,
    )
    for link in (building / "etc/systemd/system").rglob("*"):
        if link.name in NOT_ENABLED and link.is_symlink():
            link.unlink()
    building.rename(tree)
    return tree


@attrs.define
class Link:
    """One NIC of a container on one bridge: `nic` inside, `outside` in the namespace."""

    nic: str
    bridge: str
    outside: str


@attrs.define
class Container:
    """One host: its overlay, its links, its brick device and its running nspawn."""

    name: str
    work: Path
    netns: str
    links: list[Link]
    layers: list[Path]  # lower layers, topmost first
    devices: dict[str, str] = attrs.Factory(dict)  # path inside -> loop device outside
    extra_binds: list[tuple[str, str]] = attrs.Factory(list)  # (folder outside, path inside)
    launcher: subprocess.Popen[bytes] | None = None

    @property
    def merged(self) -> Path:
        return self.work / "merged"

    @property
    def log(self) -> Path:
        return self.work / "console.log"

    def mount_overlay(self) -> None:
        for folder in ("upper", "overlay-work", "merged"):
            (self.work / folder).mkdir(parents=True, exist_ok=True)
        lower = ":".join(str(layer) for layer in self.layers)
        sh(
            "mount",
            "-t",
            "overlay",
            "overlay",
            "-o",
            f"lowerdir={lower},upperdir={self.work / 'upper'},workdir={self.work / 'overlay-work'}",
            str(self.merged),
        )

    def write(self, path: str, text: str, mode: int = 0o644) -> None:
        """Write a file into the host's disk (before it boots, or while it is off)."""
        target = self.merged / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_text(text)
        target.chmod(mode)

    def boot(self, *, wait: bool = True) -> None:
        """Start the container; with `wait`, return once its systemd reports the boot done."""
        cgroup = f"confgen-e2e-{self.netns}-{self.name}"
        argv = [
            "systemd-nspawn",
            "--keep-unit",
            "--register=no",
            "--quiet",
            f"--directory={self.merged}",
            f"--machine={self.name}",
            # The machine ID names the host in the journal; fixed, so a reboot keeps it.
            f"--uuid={hashlib.md5(self.name.encode()).hexdigest()}",
            "--capability=CAP_SYS_ADMIN,CAP_NET_ADMIN,CAP_MKNOD",
            "--bind=/dev/fuse",
            # The host's /etc/resolv.conf is the one on its disk (the harness writes it).
            "--resolv-conf=off",
            *(f"--network-veth-extra={link.outside}:{link.nic}" for link in self.links),
            *(f"--bind={outside}:{inside}" for inside, outside in self.devices.items()),
            # blkid finds a filesystem by UUID by scanning /proc/partitions, which names the
            # loop device: it must exist under that name too.
            *(f"--bind={outside}" for outside in sorted(set(self.devices.values()))),
            *(f"--bind={outside}:{inside}" for outside, inside in self.extra_binds),
            "--boot",
        ]
        # The launcher restarts nspawn after a reboot (exit 133) and stops on anything else.
        script = f"""
for hierarchy in systemd unified; do
    if [ -d /sys/fs/cgroup/$hierarchy ]; then
        mkdir -p /sys/fs/cgroup/$hierarchy/{cgroup}
        echo $$ > /sys/fs/cgroup/$hierarchy/{cgroup}/cgroup.procs
    fi
done
while true; do
    nsenter --net=/run/netns/{self.netns} {shlex.join(argv)} </dev/null
    status=$?
    echo "confgen-e2e: nspawn exited $status" >&2
    [ "$status" = 133 ] || exit "$status"
done
"""
        with open(self.log, "ab") as log:
            self.launcher = subprocess.Popen(
                ["sh", "-c", script],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                env={"PATH": SBIN_PATH},
            )
        # The links join their bridges at once: a host that waits at boot for its peers (as
        # the meta volume's mount does) must not wait for the harness to notice it booted.
        deadline = time.monotonic() + 30
        while self.init_pid() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        self.join_bridges()
        if wait:
            self.wait_booted()

    def nspawn_pid(self) -> int | None:
        if self.launcher is None or self.launcher.poll() is not None:
            return None
        for child in children(self.launcher.pid):
            if _command_of(child) == "systemd-nspawn":
                return child
        return None

    def init_pid(self) -> int | None:
        """The container's PID 1, as this machine numbers it; None while it is down."""
        nspawn = self.nspawn_pid()
        if nspawn is None:
            return None
        for child in children(nspawn):
            return child
        return None

    def wait_booted(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.launcher is not None and self.launcher.poll() is not None:
                raise MachineError(f"{self.name}: nspawn ended; see {self.log}")
            if self.init_pid() is not None:
                self.join_bridges()
                state = self.run("systemctl is-system-running --wait", timeout=60, check=False)
                if state.stdout.strip() in ("running", "degraded"):
                    return
            time.sleep(0.5)
        raise MachineError(f"{self.name}: no boot within {seconds}s; see {self.log}")

    def join_bridges(self) -> None:
        """Put the machine's end of each link on its bridge, once nspawn has made it."""
        deadline = time.monotonic() + 30
        for link in self.links:
            while True:
                joined = sh(
                    "ip",
                    "-n",
                    self.netns,
                    "link",
                    "set",
                    link.outside,
                    "master",
                    link.bridge,
                    "up",
                    check=False,
                )
                if joined.returncode == 0:
                    break
                if time.monotonic() > deadline:
                    raise MachineError(f"{self.name}: no link {link.outside}: {joined.stderr}")
                time.sleep(0.2)

    def run(
        self,
        command: str,
        *,
        timeout: float = 120,
        check: bool = True,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `command` with bash on the host, as root logged in over SSH would: in a scope of
        the host's own systemd (so what it starts outlives it, and a shutdown stops it), with a
        login's environment."""
        pid = self.init_pid()
        if pid is None:
            raise MachineError(f"{self.name} is not running")
        variables = {"PATH": SBIN_PATH, "HOME": "/root", "LANG": "C.UTF-8", "USER": "root"}
        variables.update(env or {})
        argv = [
            "timeout",
            "--kill-after=5",
            str(timeout),
            "nsenter",
            f"--target={pid}",
            "--all",
            "env",
            "-i",
            *(f"{key}={value}" for key, value in variables.items()),
            "systemd-run",
            "--quiet",
            "--scope",
            "--",
            "bash",
            "-c",
            f"cd /root && {command}",
        ]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise MachineError(
                f"{self.name}: {command} exited {result.returncode}:\n{result.stdout}{result.stderr}"
            )
        return result

    def power_off(self, *, hard: bool) -> None:
        """Turn the host off: cleanly (systemctl poweroff), or as if its power were cut."""
        pid = self.init_pid()
        if pid is not None:
            if hard:
                os.kill(pid, signal.SIGKILL)  # the kernel ends every process of the host
            else:
                self.run("systemctl poweroff", check=False, timeout=30)
        if self.launcher is not None:
            try:
                self.launcher.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(self.launcher.pid, signal.SIGKILL)
                self.launcher.wait()
        self.launcher = None

    def wait_rebooted(self, old_init: int, seconds: float = 120) -> None:
        """After a reboot from inside: wait for a new PID 1, then for its boot to finish."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pid = self.init_pid()
            if pid is not None and pid != old_init:
                self.wait_booted(max(1.0, deadline - time.monotonic()))
                return
            if self.launcher is None or self.launcher.poll() is not None:
                raise MachineError(f"{self.name}: nspawn ended instead of rebooting")
            time.sleep(0.5)
        raise MachineError(f"{self.name}: did not reboot within {seconds}s")


def _command_of(pid: int) -> str | None:
    """The process's command name; None once it has ended (it may, between listing and
    reading: a launcher's short-lived children do)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # the task may end meanwhile
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


class Machines:
    """A network namespace with a bridge per network, and the containers on it."""

    def __init__(self, work: Path, networks: Sequence[str]) -> None:
        self.work = work
        self.netns = f"ce2e{os.getpid()}"
        self.networks = {name: f"br{i}" for i, name in enumerate(networks)}
        self.containers: dict[str, Container] = {}
        self.loops: list[str] = []
        self.services: list[subprocess.Popen[bytes]] = []
        self.work.mkdir(parents=True, exist_ok=True)
        sh("ip", "netns", "add", self.netns)
        for bridge in self.networks.values():
            sh("ip", "-n", self.netns, "link", "add", bridge, "type", "bridge")
            sh("ip", "-n", self.netns, "link", "set", bridge, "up")

    def add(
        self,
        name: str,
        nics: dict[str, str],  # network name -> NIC name inside
        layers: Sequence[Path],
        devices: Sequence[str] = (),
        device_size: int = 512 << 20,
    ) -> Container:
        index = len(self.containers)
        links = [
            Link(nic=nic, bridge=self.networks[network], outside=f"h{index}n{i}")
            for i, (network, nic) in enumerate(sorted(nics.items()))
        ]
        container = Container(
            name=name, work=self.work / name, netns=self.netns, links=links, layers=list(layers)
        )
        container.mount_overlay()
        for inside in devices:
            container.devices[inside] = self._disk(device_size)
        self.containers[name] = container
        return container

    def _disk(self, size: int) -> str:
        """A new empty disk of `size` bytes: a loop device on a file of its own."""
        image = self.work / f"disk-{len(self.loops)}.img"
        with open(image, "wb") as disk:
            disk.truncate(size)
        loop = sh("losetup", "--find", "--show", str(image)).stdout.strip()
        self.loops.append(loop)
        return loop

    def new_disks(self, name: str, device_size: int = 512 << 20) -> None:
        """Every device of host `name` dies and a new empty one takes its place, as when a
        brick disk is replaced. The host must be off: it finds them when it boots."""
        container = self.containers[name]
        if container.init_pid() is not None:
            raise MachineError(f"{name}: its disks are changed while it is off")
        for inside in container.devices:
            container.devices[inside] = self._disk(device_size)

    def new_root(self, name: str) -> None:
        """Host `name`'s root filesystem as it was before the host first booted: what it wrote
        since (its overlay's upper layer) is gone, as when a machine is reinstalled. The host
        must be off."""
        container = self.containers[name]
        if container.init_pid() is not None:
            raise MachineError(f"{name}: its root is reinstalled while it is off")
        sh("umount", str(container.merged))
        for folder in ("upper", "overlay-work"):
            shutil.rmtree(container.work / folder)
        container.mount_overlay()

    def serve(self, network: str, address: str, argv: Sequence[str]) -> None:
        """Give `address` (ADDRESS/PREFIX) to the bridge of `network` and run `argv` in the
        containers' network namespace, beside them on that network, until close()."""
        sh("ip", "-n", self.netns, "addr", "add", address, "dev", self.networks[network])
        with open(self.work / f"service-{len(self.services)}.log", "ab") as log:
            self.services.append(
                subprocess.Popen(
                    ["nsenter", f"--net=/run/netns/{self.netns}", *argv],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                    env={"PATH": SBIN_PATH},
                )
            )

    def close(self) -> None:
        """Stop every container and give back what the run took from this machine."""
        for service in self.services:
            service.kill()
            service.wait()
        for container in self.containers.values():
            if container.launcher is not None:
                with contextlib.suppress(MachineError, OSError, subprocess.SubprocessError):
                    container.power_off(hard=True)
        for container in self.containers.values():
            sh("umount", "--lazy", str(container.merged), check=False)
        for loop in self.loops:
            sh("losetup", "--detach", loop, check=False)
        sh("ip", "netns", "delete", self.netns, check=False)
        for container in self.containers.values():
            for hierarchy in ("systemd", "unified"):
                cgroup = Path(
                    f"/sys/fs/cgroup/{hierarchy}/confgen-e2e-{self.netns}-{container.name}"
                )
                if cgroup.exists():
                    with contextlib.suppress(OSError):  # still busy: left for the machine
                        cgroup.rmdir()
