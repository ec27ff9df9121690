"""A fake cluster of hosts for running the generated scripts unchanged.

Every program a script calls that touches a host (package manager, systemd, gluster, mounts,
hosted-engine, ...) is replaced, first on PATH, by `fakehost_cmd.py`, which records each call
and keeps just enough state to answer the scripts' queries. Files the scripts write land under
a root folder per host (the scripts' CONFGEN_ROOT). Nothing here touches the real machine.
"""

from __future__ import annotations

import ast
import marshal
import os
import pty
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import confgen
import fakehost_el9
import fakehost_engine
import hosted_engine_setup
from confgen.components import ctdb
from confgen.paths import STAMP

COMMANDS = [
    "id",
    "hostname",
    "rpm",
    "yum",
    "systemctl",
    "getenforce",
    "setenforce",
    "hosted-engine",
    "findmnt",
    "lsblk",
    "blkid",
    "wipefs",
    "ssm",
    "mountpoint",
    "mount",
    "umount",
    "gluster",
    "timeout",
    "ctdb",
    "getent",
    "sleep",
    "getfattr",
    "setfattr",
    # What step 00 asks: the NICs' addresses (ip on EL7, nmcli on EL9), the clock, free space.
    "ip",
    "nmcli",
    "timedatectl",
    "df",
    # The target ovirt45-el9's; curl is the real one (fakehost_engine.py).
    *sorted(fakehost_el9.PROGRAMS),
]
# The virt group as glusterfs-server ships it (/var/lib/glusterd/groups/virt): Debian's
# glusterfs 10.3 has the file GlusterFS 10 on EL9 has.
VIRT_GROUP = Path("/var/lib/glusterd/groups/virt")


SHELL_STAND_INS = {
    # id(1): the scripts ask `id -u`; they run as root.
    "id": "echo 0",
    # hostname(1): the short name, or with -f the FQDN.
    "hostname": 'if [ "${1:-}" = -f ]; then echo "$FAKEHOST_FQDN"; else echo "$FAKEHOST_NAME"; fi',
    # Waiting takes no time on the fake cluster.
    "sleep": ":",
}


# What /proc/cpuinfo of a host with Intel VT-x shows of one CPU (Linux
# arch/x86/kernel/cpu/proc.c: "name\t: value" lines; the flags are the names of
# arch/x86/include/asm/cpufeatures.h, vmx for X86_FEATURE_VMX). Step 00 reads it below the
# host's root. A line as this machine's kernel prints it is held to the real file by
# tests/test_stand_ins_preflight.py.
CPUINFO = (
    "processor\t: 0\n"
    "vendor_id\t: GenuineIntel\n"
    "cpu family\t: 6\n"
    "model name\t: Intel Xeon Processor (Cascadelake)\n"
    "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 "
    "clflush mmx fxsr sse sse2 ss syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl "
    "xtopology cpuid tsc_known_freq pni pclmulqdq vmx ssse3 fma cx16 pcid sse4_1 sse4_2 "
    "x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm\n"
    "\n"
)


def preflight_facts(plan: confgen.Plan, host: confgen.planner.HostPlan) -> dict[str, Any]:
    """What a right host shows step 00, from its cluster file: each NIC holds its address with
    its network's prefix, the clock is synchronised, the repositories answer, 50 GiB free."""
    cidrs = {n.name: n.cidr for n in plan.cluster.networks}
    nics: dict[str, list[str]] = {}
    for network, interface in sorted(host.host.interfaces.items()):
        address = f"{interface.address}/{cidrs[network].prefixlen}"
        nics.setdefault(interface.nic, []).append(address)
    return {
        "nics": nics,
        "clock_synced": True,
        "repos_reachable": True,
        "free_kib": {"/": 50 << 20},
    }


class FakeCluster:
    """State, stand-ins and per-host roots for one rendered cluster tree."""

    def __init__(
        self,
        base: Path,
        out: Path,
        plan: confgen.Plan,
        also: Sequence[confgen.planner.HostPlan] = (),
    ) -> None:
        """The hosts of `plan`, laid out as its target finds them before its steps, and
        `also` hosts of another plan of the same cluster laid out alike (a change where some
        hosts join and others leave runs on both)."""
        self.base, self.out, self.plan = base, out, plan
        self.hosts = (*plan.hosts, *also)
        self.bin = base / "bin"
        self.state_file = base / "state.marshal"
        self.calls_file = base / "calls.txt"  # one repr() of a dict a line
        self.bin.mkdir(parents=True)
        tool = Path(__file__).with_name("fakehost_cmd.py")
        # Read-only programs with nothing to look up are shell scripts: they are called in every
        # script, and a Python start costs more than all the rest of their work.
        for name, body in SHELL_STAND_INS.items():
            (self.bin / name).write_text(f"#!/bin/sh\n{body}\n")
            (self.bin / name).chmod(0o755)
        for name in sorted(set(COMMANDS) - set(SHELL_STAND_INS)):
            # Imported, not run as a script, so Python reuses its compiled bytecode: every
            # call of a script's host programs starts one of these.
            (self.bin / name).write_text(
                f"#!{sys.executable} -S\nimport os, sys\n"
                f"os.environ['FAKEHOST_PROGRAM'] = {name!r}\n"
                f"sys.path.insert(0, {str(tool.parent)!r})\n"
                "import fakehost_cmd\n"
            )
            (self.bin / name).chmod(0o755)
        self.el9 = plan.cluster.target == "ovirt45-el9"
        if self.el9:
            self.state: dict[str, Any] = self._fresh_el9()
        else:
            self.state = self._part_one_done()
        self.save()
        for host in self.hosts:
            self._make_root(host)

    @classmethod
    def rendered(cls, base: Path, text: str) -> FakeCluster:
        """Render a cluster file into `base`/out and lay the fake cluster out for it."""
        cluster = confgen.loads(text)
        out = base / "out"
        confgen.write_tree(confgen.render(cluster), out)
        return cls(base / "fake", out, confgen.plan(cluster))

    def host_env(self, host: str) -> dict[str, str]:
        """What the stand-ins need to answer as `host`."""
        return {
            "FAKEHOST_STATE": str(self.state_file),
            "FAKEHOST_CALLS": str(self.calls_file),
            "FAKEHOST_NAME": host,
            "FAKEHOST_FQDN": self.state["hosts"][host]["fqdn"],
            "FAKEHOST_ROOT": str(self.root(host)),
        }

    def root(self, host: str) -> Path:
        return self.base / "roots" / host

    def _part_one_done(self) -> dict[str, Any]:
        """The state part one of the seed leaves: host1 runs everything, the others are new.

        Every host is a minimal CentOS 7 install, which has firewalld and NetworkManager. Part
        one installed the seed's packages but ctdb on host1 (with what they require), made its
        brick filesystem with ssm and its single-brick volumes, and deployed the hosted engine.
        """
        plan = self.plan
        first = plan.first
        fs = plan.cluster.gluster.brick_fs
        minimal = ["firewalld", "NetworkManager"]
        hosts: dict[str, Any] = {}
        for h in self.hosts:
            if h.is_first:
                hosts[h.name] = {
                    "packages": minimal
                    + [p for p in plan.cluster.packages.install if p != "ctdb"]
                    + [plan.cluster.packages.release_package, "vdsm", "ovirt-hosted-engine-ha"],
                    "enabled": [
                        "iptables",
                        "glusterd",
                        "vdsmd",
                        "ovirt-ha-agent",
                        "ovirt-ha-broker",
                    ],
                    "active": [
                        "iptables",
                        "glusterd",
                        "vdsmd",
                        "ovirt-ha-agent",
                        "ovirt-ha-broker",
                    ],
                    "mounts": {
                        fs.mount_point: "brick-fs",
                        "/rhev/data-center/mnt/engine": plan.engine_storage,
                    },
                    "devices": {h.host.brick_device: "LVM2_member", fs.device: "xfs"},
                    # ssm made the brick filesystem on the device, mounted (part one).
                    "children": {h.host.brick_device: [fs.device]},
                    "mounted_devices": {fs.mount_point: fs.device},
                }
                hosts[h.name].update(self._el7_host_facts(h))
            else:
                hosts[h.name] = self.fresh_el7_host(h)
        return {
            "gluster": "3.6",  # the seed's (oVirt 3.5's repositories)
            "hosts": hosts,
            "first": first.name,
            "peers": [],
            "volumes": {
                v.name: {
                    "status": "Started",
                    "bricks": [str(v.bricks[0])],
                    "replica": 1,
                    "rebalanced": False,
                }
                for v in plan.existing_volumes
            },
            # The HA metadata's host IDs, and the hosts the engine has, by address: part
            # one deployed the first host.
            "engine": {
                "hosts": [1],
                "in_engine": [plan.first.host.fqdn],
                "vm": "up",
                "global_maintenance": False,
                "runs_on": 1,
            },
            "roots": str(self.base / "roots"),
        }

    def _fresh_el9(self) -> dict[str, Any]:
        """Every host a minimal EL9 install (CentOS Stream 9, or a RHEL 9 rebuild when the
        cluster says so): firewalld and NetworkManager installed, enabled and running with
        firewalld's default zone public holding ssh and dhcpv6-client (firewalld's
        config/zones/public.xml; a distribution may add cockpit), SELinux enforcing, the brick device empty. No engine yet."""
        if not VIRT_GROUP.is_file():
            raise RuntimeError(f"{VIRT_GROUP} is missing: apt-get install glusterfs-server")
        plan = self.plan
        cert, key, ca_pem = fakehost_engine.certificates(
            self.base.parent / "engine-certs", plan.cluster.hosted_engine.fqdn
        )
        self.engine_cert, self.engine_key = cert, key
        hosts = {h.name: fakehost_el9.fresh_host(plan, h) for h in self.hosts}
        for h in self.hosts:
            hosts[h.name].update(preflight_facts(plan, h))
        return {
            "target": plan.cluster.target,
            "hosts": hosts,
            "first": plan.first.name,
            "peers": [],
            "volumes": {},
            "virt_group": VIRT_GROUP.read_text(),
            "engine": {
                "deployed": False,
                "admin_password": fakehost_engine.ADMIN_PASSWORD,
                "ca_pem": ca_pem,
                "hosts": {},
                "data_centers": {},
                "clusters": {},
                "storage_domains": {},
            },
            "roots": str(self.base / "roots"),
            # The administrator puts the engine's name and every host's in DNS, forward and
            # reverse, before the deploy (RUNBOOK.md).
            "dns": {
                plan.cluster.hosted_engine.fqdn: "192.0.2.10",
                **{h.host.fqdn: str(h.management_address) for h in self.hosts},
            },
            "ptr": {
                "192.0.2.10": plan.cluster.hosted_engine.fqdn,
                **{str(h.management_address): h.host.fqdn for h in self.hosts},
            },
        }

    def fresh_el7_host(self, h: confgen.planner.HostPlan) -> dict[str, Any]:
        """A minimal CentOS 7 install of host `h`, which has firewalld and NetworkManager,
        its brick device empty."""
        return {
            "packages": ["firewalld", "NetworkManager"],
            "enabled": ["firewalld", "NetworkManager"],
            "active": ["firewalld", "NetworkManager"],
            "mounts": {},
            "devices": {h.host.brick_device: ""},
            **self._el7_host_facts(h),
        }

    def _el7_host_facts(self, h: confgen.planner.HostPlan) -> dict[str, Any]:
        return {
            **preflight_facts(self.plan, h),
            "selinux": "Enforcing",
            "name": h.name,
            "fqdn": h.host.fqdn,
            "peer": h.peer,
            "storage": str(h.storage_address),
            "heartbeat": str(h.addresses[ctdb.HEARTBEAT]),
        }

    def _make_root(self, host: confgen.planner.HostPlan) -> None:
        root = self.root(host.name)
        (root / "proc").mkdir(parents=True)
        (root / "proc/cpuinfo").write_text(CPUINFO)
        # The kernel enabled KVM (the el7 step 00 asks for it, _preflight.sh.j2): a plain file
        # stands for the character device, which a test run as another user could not make.
        (root / "dev").mkdir()
        (root / "dev/kvm").write_text("")
        if self.el9:
            for folder in ("etc/yum.repos.d", "tmp", "var/tmp"):
                (root / folder).mkdir(parents=True, exist_ok=True)
            (root / "etc/hosts").write_text("127.0.0.1 localhost\n")
            (root / "etc/fstab").write_text("/dev/mapper/cs-root / xfs defaults 0 0\n")
            return
        for folder in ("etc/sysconfig", "etc/ctdb", "etc/selinux", "etc/systemd/system", "tmp"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        (root / "etc/hosts").write_text("127.0.0.1 localhost\n")
        (root / "etc/selinux/config").write_text("SELINUX=enforcing\nSELINUXTYPE=targeted\n")
        (root / "etc/nfsmount.conf").write_text("# nfsmount.conf as packaged\n")
        (root / "etc/sysconfig/ctdb").write_text("# ctdb as packaged\n")
        (root / "etc/sysconfig/iptables").write_text("# iptables as packaged\n")
        fstab = "/dev/mapper/root / xfs defaults 0 0\n"
        if host.is_first:  # part one made the brick filesystem and its volumes' bricks
            fstab += f"UUID=0000-part-one {self.plan.cluster.gluster.brick_fs.mount_point} xfs defaults 0 0\n"
            for volume in self.plan.existing_volumes:
                brick = root / volume.brick_dir.lstrip("/")
                (brick / "de38fb3c-6eb4-4241-9ca8-45793d864033").mkdir(parents=True)
                (brick / "__DIRECT_IO_TEST__").write_text("")
        (root / "etc/fstab").write_text(fstab)
        if host.is_first:  # part one deployed the hosted engine here as host ID 1
            conf = root / "etc/ovirt-hosted-engine"
            conf.mkdir(parents=True)
            (conf / "hosted-engine.conf").write_text(
                "vmid=00000000-0000-0000-0000-000000000001\n"
                "conf=/etc/ovirt-hosted-engine/vm.conf\nhost_id=1\n"
            )
            (conf / "vm.conf").write_text("vmId=00000000-0000-0000-0000-000000000001\n")
        # The meta volume is one Gluster volume: every host's mount point shows the same files.
        shared = self.base / "meta-volume"
        shared.mkdir(exist_ok=True)
        meta = root / self.plan.cluster.ctdb.mount_point.lstrip("/")
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.symlink_to(shared)

    def restamp(self, host: str) -> None:
        """`restamp` the folder of `host`."""
        restamp(self.out / "hosts" / host)

    def save(self) -> None:
        self.state_file.write_bytes(marshal.dumps(self.state))

    def load(self) -> None:
        self.state = marshal.loads(self.state_file.read_bytes())

    def previous_deployed(self, host: str) -> str | None:
        """What the administrator confirms before the deploy step of `host`: the name of the
        host before it by ID, once hosted-engine --vm-status there lists it and the engine is
        up (the check the step asks for), else None. Host IDs may have gaps: the host before
        is the one with the next lower ID, as the step names it (context.py, `previous`)."""
        plan_host = next(h for h in self.plan.hosts if h.name == host)
        lower = [h for h in self.plan.hosts if h.host.host_id < plan_host.host.host_id]
        if not lower:
            return None
        previous = max(lower, key=lambda h: h.host.host_id)
        conf = self.root(previous.name) / "etc/ovirt-hosted-engine/hosted-engine.conf"
        engine = self.state["engine"]
        if conf.exists() and previous.host.host_id in engine["hosts"] and engine["vm"] == "up":
            return previous.name
        return None

    def run(
        self, host: str, script: str, *, admin: bool = True, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run one generated script of `host` as that host, with the stand-ins first on PATH.

        With `admin`, the administrator answers what a script asks to be confirmed, after
        checking it as the script says (only the deploy step asks)."""
        path = self.out / "hosts" / host / "scripts" / script
        if admin and not self.el9 and "hosted-engine-deploy" in script:
            confirmed = self.previous_deployed(host)
            if confirmed is not None:
                env = {"CONFGEN_PREVIOUS_DEPLOYED": confirmed, **env}
        command = {
            "args": ["bash", str(path)],
            "capture_output": True,
            "text": True,
            "timeout": 120,
            "env": {
                "PATH": f"{self.bin}:{os.environ['PATH']}",
                "HOME": str(self.base),
                **self.host_env(host),
                "CONFGEN_ROOT": str(self.root(host)),
                "CONFGEN_WITHOUT_SCREEN": "1",
                "TMPDIR": str(self.root(host) / "tmp"),
                **env,
            },
        }
        if not self.el9:
            result = subprocess.run(stdin=subprocess.DEVNULL, **command)
        else:
            typed = self._typed(host, script, command["env"], admin)
            result = self._run_at_terminal(command, typed=typed)
        self.load()
        return result

    def run_undo(
        self, host: str, script: str, *, typed: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run one undo script of `host` (its folder's undo/). With `typed`, at a terminal where
        the administrator types that line at the confirmation; without it, with no terminal,
        as from cron or a pipe."""
        path = self.out / "hosts" / host / "undo" / script
        environ = {
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "HOME": str(self.base),
            **self.host_env(host),
            "CONFGEN_ROOT": str(self.root(host)),
            "TMPDIR": str(self.root(host) / "tmp"),
            **env,
        }
        command: dict[str, Any] = {
            "args": ["bash", str(path)],
            "capture_output": True,
            "text": True,
            "timeout": 120,
            "env": environ,
        }
        if typed is None:
            result = subprocess.run(stdin=subprocess.DEVNULL, **command)
        else:
            primary, secondary = pty.openpty()
            os.write(primary, f"{typed}\n".encode())
            try:
                result = subprocess.run(stdin=secondary, **command)
            finally:
                os.close(secondary)
                os.close(primary)
        self.load()
        return result

    def _typed(self, host: str, script: str, environ: dict[str, str], admin: bool) -> list[str]:
        """What the administrator types at the el9 steps' prompts. At the deploy: a line for
        each question the rendered answers leave open, found from the setup's own table
        (hosted_engine_setup.py): the default (an empty line), or at a hidden one (a password)
        the engine's admin password. At the other steps: the engine's admin password, then
        each host's root password (one for all on the fake cluster)."""
        if not admin:
            return []
        if "hosted-engine-deploy" in script:
            answers_file = self.out / "hosts" / host / "data" / "hosted-engine-answers.conf"
            answers = hosted_engine_setup.read_answers(answers_file.read_text())
            typed = []
            for question in hosted_engine_setup.open_questions(answers, environ):
                line = fakehost_engine.ADMIN_PASSWORD if question.ask.get("hidden") else ""
                typed += [line, line] if question.ask.get("confirm_prompt") else [line]
            return typed
        return [fakehost_engine.ADMIN_PASSWORD] + [fakehost_engine.ROOT_PASSWORD] * len(
            self.plan.hosts
        )

    def _run_at_terminal(
        self, command: dict[str, Any], typed: list[str]
    ) -> subprocess.CompletedProcess[str]:
        """Run with a terminal as standard input, as an administrator runs the el9 steps that
        ask questions (the deploy, the passwords), with `typed` waiting in it, while the engine
        answers on the address the fake cluster's .curlrc gives curl."""
        primary, secondary = pty.openpty()
        os.write(primary, "".join(f"{line}\n" for line in typed).encode())
        fqdn = self.plan.cluster.hosted_engine.fqdn
        try:
            with fakehost_engine.serving(self, fqdn, self.engine_cert, self.engine_key) as port:
                (self.base / ".curlrc").write_text(f'connect-to = "{fqdn}:443:127.0.0.1:{port}"\n')
                return subprocess.run(stdin=secondary, **command)
        finally:
            os.close(secondary)
            os.close(primary)

    def run_through(self, number: int) -> None:
        """Run every step before step `number`, in runbook order, as the runbook says."""
        for step in self.plan.steps:
            if step.number >= number:
                return
            for host in step.hosts:
                result = self.run(host, step.script)
                assert result.returncode == 0, f"{host} {step.script}: {result.stderr}"

    def calls(self) -> list[dict[str, Any]]:
        if not self.calls_file.exists():
            return []
        return [ast.literal_eval(line) for line in self.calls_file.read_text().splitlines()]

    def changes(self) -> list[tuple[str, list[str]]]:
        """Every recorded call that changed a host: (host, argv)."""
        return [(c["host"], c["argv"]) for c in self.calls() if c["change"]]

    def snapshot(self) -> dict[str, tuple[int, bytes] | str]:
        """Every file and symlink under the hosts' roots, to tell whether a run wrote any: a
        file rewritten with the same bytes counts, by its modification time."""
        found: dict[str, tuple[int, bytes] | str] = {}
        for path in sorted((self.base / "roots").rglob("*")):
            key = str(path.relative_to(self.base))
            if path.is_symlink():
                found[key] = "-> " + os.readlink(path)
            elif path.is_file():
                found[key] = (path.stat().st_mtime_ns, path.read_bytes())
            else:
                found[key] = "dir"
        return found


def restamp(folder: Path) -> None:
    """Make a host folder's stamp (paths.STAMP) list the folder as it is now, with the sha256
    the real sha256sum gives each file. Every script refuses a folder its stamp does not list
    exactly: a test that runs a script of its own making, or one it changed, for an
    experiment, says so by calling this first, as an administrator would have to."""
    stamp = folder / STAMP
    names = sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p != stamp
    )
    summed = subprocess.run(
        ["sha256sum", "--", *names], cwd=folder, capture_output=True, text=True, check=True
    )
    comments = [line for line in stamp.read_text().splitlines(True) if line.startswith("#")]
    stamp.write_text("".join(comments) + summed.stdout)


def would_run(stdout: str) -> list[list[str]]:
    """The commands a DRY_RUN=1 run printed, as argv lists."""
    prefix = "    would run: "
    return [
        shlex.split(line[len(prefix) :]) for line in stdout.splitlines() if line.startswith(prefix)
    ]
