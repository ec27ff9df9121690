"""A trusted pool of real glusterds (Debian's glusterfs-server), one per host of a plan.

Each host is a process in private mount and network namespaces (`unshare --mount --net`) that
runs glusterd: its own /var/lib/glusterd, /var/log/glusterfs, /run and /etc/hosts bind-mounted
from a folder of its own, a /tmp of its own (the pool folder's parent, which holds the test's
output tree, still seen at its path), a tmpfs for its bricks (glusterd refuses bricks on the root
filesystem without `force`, glusterfs v10.3 glusterd-utils.c:1587-1592, and `force` would skip
the checks a test wants to see), and one NIC, `eth0`, with its planned storage address. The
NICs are veth pairs whose other ends sit on a bridge in a namespace of their own, so the hosts
reach each other as separate machines on one storage network and glusterd's port 24007 is
every host's own. Nothing is left behind: the namespaces, and every process in them, go when
the pool is closed.

Commands run in a host with `nsenter` into its namespaces, so `gluster` there talks to that
host's glusterd through its /run/glusterd.socket, as on a real host.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Any

from confgen.components import gluster
from test_real_programs import SEARCHED, require

# The host's side: wait for the NIC the pool moves in, name it eth0, give it the address, then
# glusterd with everything from $WORK. `exec` makes glusterd this namespace's first process.
_HOST = r"""
set -eu
ip link set lo up
for _ in $(seq 1 100); do
    ip link show "$LINK" >/dev/null 2>&1 && break
    sleep 0.1
done
ip link set "$LINK" name eth0
ip addr add "$ADDRESS" dev eth0
ip link set eth0 up
mount --bind "$WORK/lib" /var/lib/glusterd
mount --bind "$WORK/log" /var/log/glusterfs
mount --bind "$WORK/run" /run
mount --bind "$WORK/hosts" /etc/hosts
# A /tmp of its own, as every host has (glusterd writes volfiles there to check them, under
# the volume's name: hosts sharing one /tmp fail each other's add-brick), with the test's
# folder (the output tree, this pool) seen through it at its usual path.
mount --bind "$SHARED" /mnt
mount -t tmpfs tmp /tmp
mkdir -p "$SHARED"
mount --bind /mnt "$SHARED"
umount /mnt
mount -t tmpfs bricks "$BRICKS"
systemctl start glusterd
# The namespaces live as long as this process: glusterd may be stopped and started again.
exec sleep infinity
"""

# `systemctl` in a host of the pool knows one unit, glusterd, as glusterfs's own unit runs it
# (glusterfs v10.3 extras/systemd/glusterd.service.in, the unit of the EL9 packages): Type=forking,
# `glusterd -p /run/glusterd.pid`, KillMode=process (a stop ends glusterd alone, its bricks run
# on), SuccessExitStatus=15 (SIGTERM is how it stops). start and stop do nothing when the unit
# is already so; is-active answers by exit code; reset-failed has no start limit to reset.
_SYSTEMCTL = r"""#!/bin/bash
set -eu
quiet=no
words=()
for word in "$@"; do
    case $word in
        -q|--quiet) quiet=yes ;;
        -*) ;;
        *) words+=("$word") ;;
    esac
done
[ "${#words[@]}" = 2 ] && [ "${words[1]%.service}" = glusterd ] || {
    echo "systemctl (real pool): only start, stop, restart, reset-failed and is-active of glusterd: $*" >&2
    exit 1
}
running() { [ -s /run/glusterd.pid ] && kill -0 "$(cat /run/glusterd.pid)" 2>/dev/null; }
stop() {
    running || return 0
    pid=$(cat /run/glusterd.pid)
    kill "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}
start() {
    running && return 0
    glusterd -p /run/glusterd.pid  # its log: /var/log/glusterfs/glusterd.log, the host's own
}
case ${words[0]} in
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    reset-failed) ;;  # no start rate limit here
    is-active)
        if running; then state=active; else state=inactive; fi
        [ "$quiet" = yes ] || echo "$state"
        [ "$state" = active ] ;;
    *) echo "systemctl (real pool): ${words[0]} is not known here" >&2; exit 1 ;;
esac
"""

_SWITCH = "ip link set lo up; ip link add br0 type bridge; ip link set br0 up; exec sleep 3600"


class GlusterPool:
    """Hosts by name, each a glusterd on its own address; `run` and `gluster` act on one."""

    def __init__(
        self,
        work: Path,
        addresses: Mapping[str, IPv4Interface],
        names: str,
        groups: Path | None = None,
    ) -> None:
        self.work = work
        self.addresses = dict(addresses)
        self._names = names  # the /etc/hosts every host reads
        self._groups = groups
        self._pids: dict[str, int] = {}
        self._processes: list[subprocess.Popen[bytes]] = []
        self._switch: int | None = None

    @property
    def bricks(self) -> Path:
        """Where every host has a tmpfs of its own for its bricks: one path, as a cluster's
        brick mount point is, and each host sees its own filesystem there."""
        return self.work / "bricks"

    def run(
        self, host: str, *argv: str, stdin: str = "", env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command on the host; standard error is kept apart from standard output."""
        return subprocess.run(
            ["nsenter", "-t", str(self._pids[host]), "-m", "-n", *argv],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,  # a step waits for glusterd, in 10 s polls, several times
            env={**os.environ, "PATH": self._path, **(env or {})},
        )

    def run_script(self, host: str, script: Path, **env: str) -> subprocess.CompletedProcess[str]:
        """A generated script of the host's folder, run unchanged as that host (the frame's
        CONFGEN_THIS_HOST, and CONFGEN_ROOT a folder of its own for the files it reads and
        writes, where var/lib/glusterd is that host's glusterd's)."""
        return self.run(
            host,
            "bash",
            str(script),
            env={"CONFGEN_THIS_HOST": host, "CONFGEN_ROOT": str(self.work / host / "root"), **env},
        )

    def gluster(self, host: str, *words: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """`gluster WORDS` on the host, as an administrator types it (no --mode=script), so a
        question the command asks is answered from `stdin`."""
        return self.run(host, "gluster", *words, stdin=stdin)

    @property
    def _path(self) -> str:
        """Each host's PATH: its systemctl first."""
        return f"{self.work / 'bin'}{os.pathsep}{SEARCHED}"

    def _start(self) -> None:
        self.bricks.mkdir(parents=True)
        (self.work / "bin").mkdir()
        (self.work / "bin" / "systemctl").write_text(_SYSTEMCTL)
        (self.work / "bin" / "systemctl").chmod(0o755)
        switch = subprocess.Popen(["unshare", "--net", "sh", "-c", _SWITCH])
        self._processes.append(switch)
        self._switch = switch.pid
        self._wait(lambda: self._in_switch("ip", "link", "show", "br0").returncode == 0, "bridge")
        for i, (host, address) in enumerate(self.addresses.items()):
            folder = self.work / host
            for sub in ("lib", "log", "run"):
                (folder / sub).mkdir(parents=True)
            (folder / "hosts").write_text(self._names)
            # The files a script reads below CONFGEN_ROOT: glusterd's state is the host's own.
            (folder / "root" / "var" / "lib").mkdir(parents=True)
            (folder / "root" / "var" / "lib" / "glusterd").symlink_to(folder / "lib")
            if self._groups is not None:
                shutil.copytree(self._groups, folder / "lib" / "groups")
            link = f"cg{i}"
            process = subprocess.Popen(
                ["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", _HOST],
                env={
                    **os.environ,
                    "PATH": self._path,
                    "WORK": str(folder),
                    "BRICKS": str(self.bricks),
                    "SHARED": str(self.work.parent),
                    "LINK": link,
                    "ADDRESS": str(address),
                },
            )
            self._processes.append(process)
            self._pids[host] = process.pid
            for words in (
                ("ip", "link", "add", f"br-{link}", "type", "veth", "peer", "name", link),
                ("ip", "link", "set", link, "netns", str(process.pid)),
                ("ip", "link", "set", f"br-{link}", "master", "br0", "up"),
            ):
                done = self._in_switch(*words)
                assert done.returncode == 0, (words, done.stderr)
        for host in self.addresses:
            self._wait(
                lambda h=host: (
                    self.run(h, "gluster", "--mode=script", "pool", "list").returncode == 0
                ),
                f"glusterd on {host}",
            )

    def _in_switch(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["nsenter", "-t", str(self._switch), "-n", *argv],
            capture_output=True,
            text=True,
            timeout=30,
        )

    @staticmethod
    def _wait(ready: Callable[[], bool], what: str) -> None:
        for _ in range(300):
            if ready():
                return
            time.sleep(0.1)
        raise AssertionError(f"{what} did not come up in 30 s")

    def new_machine(self, host: str) -> None:
        """The host dies and a new machine of its name and address takes its place: every
        process of the host killed but the one that holds its namespaces (glusterd, its bricks
        and self-heal daemon), its glusterd's state gone but the option groups its package
        ships, and its glusterd started afresh (a UUID of its own, no peer)."""
        self._kill({os.readlink(f"/proc/{self._pids[host]}/ns/net")}, spare=self._pids[host])
        lib = self.work / host / "lib"
        for entry in lib.iterdir():
            if entry.name != "groups":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        for entry in (self.work / host / "run").iterdir():
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        started = self.run(host, "systemctl", "start", "glusterd")
        assert started.returncode == 0, started.stderr
        self._wait(
            lambda: self.run(host, "gluster", "--mode=script", "pool", "list").returncode == 0,
            f"glusterd on the new {host}",
        )

    def close(self) -> None:
        """Kill every process in the pool's network namespaces (glusterd, the bricks and
        self-heal daemons it started, the switch); their namespaces and mounts go with them."""
        namespaces = set()
        for process in self._processes:
            with suppress(OSError):
                namespaces.add(os.readlink(f"/proc/{process.pid}/ns/net"))
        self._kill(namespaces)
        for process in self._processes:
            process.wait(timeout=30)

    @staticmethod
    def _kill(namespaces: set[str], spare: int | None = None) -> None:
        """SIGKILL every process in those network namespaces but `spare`, and wait until
        they are gone."""
        own = os.readlink("/proc/self/ns/net")
        killed = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == spare:
                continue
            try:
                namespace = os.readlink(entry / "ns" / "net")
            except OSError:
                continue
            if namespace in namespaces and namespace != own:
                with suppress(ProcessLookupError):
                    os.kill(int(entry.name), signal.SIGKILL)
                    killed.append(entry)
        for _ in range(300):
            if not any(entry.exists() and _alive(entry) for entry in killed):
                return
            time.sleep(0.1)


def _alive(entry: Path) -> bool:
    """A process that is not yet reaped shows as a zombie ("Z" in /proc/PID/stat) once dead."""
    try:
        return (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@contextmanager
def gluster_pool(
    work: Path,
    addresses: Mapping[str, IPv4Interface],
    names: Mapping[str, str],
    groups: Path | None = None,
) -> Iterator[GlusterPool]:
    """A pool of glusterds, one per host (name -> address with the network's prefix), not yet
    probed into one trusted pool; `names` (name -> address) go into every host's /etc/hosts;
    `groups`, a folder of option groups, into every host's /var/lib/glusterd/groups."""
    for program, package in (
        ("glusterd", "glusterfs-server"),
        ("unshare", "util-linux"),
        ("nsenter", "util-linux"),
        ("ip", "iproute2"),
    ):
        require(program, package)
    hosts = "127.0.0.1 localhost\n" + "".join(f"{a} {n}\n" for n, a in names.items())
    pool = GlusterPool(work, addresses, hosts, groups)
    try:
        pool._start()
        yield pool
    finally:
        pool.close()


def storage_pool_of(plan: Any) -> tuple[dict[str, IPv4Interface], dict[str, str]]:
    """A plan's hosts as a pool gives them: each host's storage address with its network's
    prefix, and the names Gluster knows them by (a peer known by its address needs none)."""
    cidr = next(n.cidr for n in plan.cluster.networks if gluster.STORAGE in n.roles)
    addresses = {h.name: IPv4Interface(f"{h.storage_address}/{cidr.prefixlen}") for h in plan.hosts}
    names = {h.peer: str(h.storage_address) for h in plan.hosts if not _is_address(h.peer)}
    return addresses, names


def _is_address(name: str) -> bool:
    try:
        IPv4Address(name)
    except ValueError:
        return False
    return True
