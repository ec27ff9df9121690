"""Build a real cluster from a cluster file with the generated scripts, check it, and break it.

    python -m tests.e2e.cluster CLUSTER.toml [--keep]

renders the file, boots one container per host (machines.py), makes the state part one of the
procedure leaves (targets.py), copies each host's folder in and runs its scripts unchanged, in
the runbook's order, each on its own host. Then it checks the cluster through the real
programs, runs every script again and checks that nothing changed, cuts the power of the node
holding the VIP, brings it back, and power-cycles every host. It ends with `N passed, M failed`
and exits 0 only when nothing failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

import confgen
from confgen.planner import PREFLIGHT

from .machines import Container, MachineError, Machines, missing_prerequisites, rootfs
from .targets import TARGETS

# How long the cluster may take, in seconds, for what the runbook promises.
VIP_MOVES_WITHIN = 120  # ctdb: KeepaliveInterval x KeepaliveLimit, then a recovery
HEALED_WITHIN = 300
BOOT_SETTLES_WITHIN = 300
# The test's own limits, not the product's: this machine's hard open-file limit is 20,000,
# below what Debian's glusterd unit asks for (65,536) and systemd's default hard limit.
NOFILE = "[Service]\nLimitNOFILE=16384\n"
COPY_DIR = "/root/confgen"
DNS_SERVER = Path(__file__).with_name("dns.py")
# The CPU flags of a host with VT-x. The containers share this machine's CPU, which may lack
# it (a CI VM without nested virtualization): at boot each host sees, as LXCFS gives a
# container its own /proc/cpuinfo, the machine's with vmx added where neither vmx nor svm is
# (Linux arch/x86/kernel/cpu/proc.c prints them among the "flags" line's names). Step 00
# checks that line (templates/common/_preflight.sh.j2). el7's step 00 also asks for /dev/kvm,
# which a container's private /dev lacks (systemd-nspawn makes only the basic nodes): the
# unit puts a name there, which is all that check reads (`[ -e ]`); no program opens it here.
CPU_UNIT = (
    "[Unit]\nDescription=The CPU flags of a host with VT-x\nDefaultDependencies=no\n"
    "Before=sysinit.target\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\n"
    'ExecStart=/bin/sh -c \'grep -qwE "vmx|svm" /proc/cpuinfo || '
    '{ sed "/^flags/s/$/ vmx/" /proc/cpuinfo > /run/confgen-e2e-cpuinfo'
    " && mount --bind /run/confgen-e2e-cpuinfo /proc/cpuinfo; }'\n"
    "ExecStart=/bin/sh -c '[ -e /dev/kvm ] || touch /dev/kvm'\n"
)


@attrs.define
class Report:
    """Every check, in order, with what went wrong."""

    results: list[tuple[str, bool, str]] = attrs.Factory(list)
    echo: Callable[[str], None] = print

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.results.append((name, ok, detail))
        self.echo(
            f"{'PASS' if ok else 'FAIL'} {name}" + (f"\n    {detail}" if detail and not ok else "")
        )
        return ok

    @property
    def failed(self) -> list[tuple[str, bool, str]]:
        return [r for r in self.results if not r[1]]

    def summary(self) -> str:
        return f"{len(self.results) - len(self.failed)} passed, {len(self.failed)} failed"


def wait_for(seconds: float, probe: Callable[[], bool], every: float = 2) -> float | None:
    """Seconds until `probe` held, or None when it did not within `seconds`."""
    start = time.monotonic()
    while True:
        try:
            if probe():
                return time.monotonic() - start
        except MachineError:
            pass
        if time.monotonic() - start > seconds:
            return None
        time.sleep(every)


class Cluster:
    def __init__(self, text: str, work: Path, report: Report) -> None:
        self.cluster = confgen.loads(text)
        self.plan = confgen.plan(self.cluster)
        self.report = report
        self.work = work
        self.out = work / "out"
        confgen.write_tree(confgen.render(self.cluster), self.out)
        self.target = TARGETS[self.cluster.target](self.plan)
        self.shared = work / "shared"
        self.shared.mkdir()
        self.machines = Machines(work / "hosts", [n.name for n in self.cluster.networks])

    def serve_dns(self) -> str:
        """The cluster's DNS, as the administrator set it up before the runbook: every name
        step 00 checks, forward to its planned address and, where it checks the reverse,
        back; the engine VM's name (which has no address in the cluster file) to a free
        address of the management network. Served from the last address of that network, on
        its bridge; the address is returned, for the hosts' resolv.conf."""
        first = self.plan.first
        network = next(n for n in self.cluster.networks if first.management_address in n.cidr)
        names = self.dns_names()
        taken = {a for n in names for a in n.addresses}
        free = [a for a in reversed(list(network.cidr.hosts())) if a not in taken]
        server, spare = free[0], free[1]
        records: dict[str, dict[str, str]] = {"a": {}, "ptr": {}}
        for name in names:
            address = str(name.addresses[0]) if name.addresses else str(spare)
            records["a"][name.name] = address
            if name.reverse:
                records["ptr"][address] = name.name
        path = self.work / "dns.json"
        path.write_text(json.dumps(records))
        self.machines.serve(
            network.name,
            f"{server}/{network.cidr.prefixlen}",
            [sys.executable, str(DNS_SERVER), str(path), str(server)],
        )
        return str(server)

    def dns_names(self) -> tuple[confgen.planner.NameCheck, ...]:
        """The names the cluster's DNS answers."""
        return tuple(self.plan.names)

    def machine_hosts(self) -> tuple[confgen.planner.HostPlan, ...]:
        """The hosts a container is laid out for."""
        return tuple(self.plan.hosts)

    def devices(self, host: confgen.planner.HostPlan) -> list[str]:
        """The block devices the host's container is given."""
        return self.target.devices(host)

    def target_for(self, host: str) -> Any:
        """The target's harness that answers for `host` as it is first installed."""
        return self.target

    def lay_out(self) -> None:
        """A container for each host, on its disk what the host has before it first boots."""
        self.nameserver = self.serve_dns()
        base = rootfs()
        for host in self.machine_hosts():
            container = self.machines.add(
                host.name,
                {network: interface.nic for network, interface in host.host.interfaces.items()},
                [self.target.layer, base],
                self.devices(host),
            )
            self.prepare(container, host)

    @property
    def hosts(self) -> dict[str, Container]:
        return self.machines.containers

    def prepare(self, container: Container, host: confgen.planner.HostPlan) -> None:
        """The host's name, its addresses on each network, its DNS server, and the test's own
        limits."""
        container.write("/etc/hostname", f"{host.name}\n")
        container.write("/etc/resolv.conf", f"nameserver {self.nameserver}\n")
        container.write("/etc/hosts", "127.0.0.1 localhost\n")
        networks = {n.name: n for n in self.cluster.networks}
        for network, interface in sorted(host.host.interfaces.items()):
            prefix = networks[network].cidr.prefixlen
            # 10-*: Debian's 80-container-host0.network would otherwise claim the NIC.
            container.write(
                f"/etc/systemd/network/10-{interface.nic}.network",
                f"[Match]\nName={interface.nic}\n\n[Network]\n"
                f"Address={interface.address}/{prefix}\nLinkLocalAddressing=no\n",
            )
        wants = container.merged / "etc/systemd/system/multi-user.target.wants"
        wants.mkdir(parents=True, exist_ok=True)
        for unit in ("systemd-networkd.service", "systemd-networkd-wait-online.service"):
            link = wants / unit
            if not link.is_symlink():
                link.symlink_to(f"/lib/systemd/system/{unit}")
        # systemd skips fstab's device entries in a container (fstab-generator.c: "Running in a
        # container, ignoring fstab device entry"); a real host mounts them before
        # local-fs.target. This unit does that with mount -a, reading the fstab the scripts wrote.
        container.write(
            "/etc/systemd/system/confgen-e2e-fstab-devices.service",
            "[Unit]\nDescription=Mount the device entries of /etc/fstab, as on a real host\n"
            "DefaultDependencies=no\nAfter=local-fs-pre.target\nBefore=local-fs.target\n\n"
            "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/mount -a -O no_netdev\n",
        )
        local_fs = container.merged / "etc/systemd/system/local-fs.target.wants"
        local_fs.mkdir(parents=True, exist_ok=True)
        link = local_fs / "confgen-e2e-fstab-devices.service"
        if not link.is_symlink():
            link.symlink_to("/etc/systemd/system/confgen-e2e-fstab-devices.service")
        container.write("/etc/systemd/system/confgen-e2e-cpu.service", CPU_UNIT)
        sysinit = container.merged / "etc/systemd/system/sysinit.target.wants"
        sysinit.mkdir(parents=True, exist_ok=True)
        if not (sysinit / "confgen-e2e-cpu.service").is_symlink():
            (sysinit / "confgen-e2e-cpu.service").symlink_to(
                "/etc/systemd/system/confgen-e2e-cpu.service"
            )
        for unit in ("glusterd", "ctdb"):
            container.write(f"/etc/systemd/system/{unit}.service.d/confgen-e2e-limits.conf", NOFILE)
        container.write(
            "/etc/systemd/system.conf.d/confgen-e2e-limits.conf",
            "[Manager]\nDefaultLimitNOFILE=1024:16384\n",
        )
        shared = container.merged / self.target.shared_dir.lstrip("/")
        shared.mkdir(parents=True, exist_ok=True)
        container.extra_binds.append((str(self.shared), self.target.shared_dir))

    # -- building ---------------------------------------------------------------------------

    def build(self) -> bool:
        self.lay_out()
        for container in self.hosts.values():
            container.boot()
        for name, container in self.hosts.items():
            self.target_for(name).installed(container)
        self.target.part_one(self.hosts[self.plan.first.name], self.shared)
        for host in self.plan.hosts:
            target = self.hosts[host.name].merged / COPY_DIR.lstrip("/")
            shutil.copytree(self.out / host.dir, target)
        self.check_preflight_finds_a_wrong_address()
        return self.run_runbook("runbook")

    def check_preflight_finds_a_wrong_address(self) -> None:
        """Step 00 on a host whose management NIC holds another address than planned: it
        fails, naming that NIC and both addresses, and nothing else. The address is put back
        after; the runbook's own step 00 then passes on that host."""
        host = self.plan.others[0] if self.plan.others else self.plan.first
        check = next(
            c
            for c in self.plan.preflight[host.name].nics
            if c.address.ip == host.management_address
        )
        network = check.address.network
        taken = {a for n in self.plan.names for a in n.addresses} | {
            i.address for h in self.plan.hosts for i in h.host.interfaces.values()
        }
        wrong = next(a for a in network.hosts() if a not in taken and a != check.address.ip)
        wrong_address = f"{wrong}/{network.prefixlen}"
        container = self.hosts[host.name]
        nic = shlex.quote(check.nic)
        container.run(
            f"ip addr del {check.address} dev {nic} && ip addr add {wrong_address} dev {nic}"
        )
        try:
            script = next(s for s in self.plan.steps if s.slug == PREFLIGHT).script
            result = container.run(f"bash {COPY_DIR}/scripts/{script}", check=False)
        finally:
            container.run(
                f"ip addr del {wrong_address} dev {nic} && ip addr add {check.address} dev {nic}"
            )
        problems = [line for line in result.stderr.splitlines() if line.startswith("PROBLEM ")]
        expected = (
            f"PROBLEM NIC {check.nic}: {check.nic} holds {wrong_address}, not {check.address}"
            f" (network {check.network})."
        )
        self.report.check(
            f"preflight: step 00 on {host.name} fails naming {check.nic}'s wrong address",
            result.returncode != 0 and len(problems) == 1 and problems[0].startswith(expected),
            result.stdout[-2000:] + result.stderr,
        )

    def run_step(self, host: str, script: str) -> tuple[bool, str]:
        """Run `script` (its path in the host's folder) on `host`, as the administrator does."""
        container = self.hosts[host]
        old_init = container.init_pid()
        env = self.target.admin_env(host, script, self.shared)
        result = container.run(f"bash {COPY_DIR}/{script}", timeout=1800, check=False, env=env)
        output = result.stdout + result.stderr
        if "==> Reboot" in result.stdout and old_init is not None:
            # The script rebooted the host: as an administrator would, wait until it is back.
            container.wait_rebooted(old_init)
            return True, output
        return result.returncode == 0, output

    def run_runbook(self, label: str) -> bool:
        for step in self.target.steps():
            for host in step.hosts:
                ok, output = self.run_step(host, f"scripts/{step.script}")
                tail = "\n    ".join(output.strip().splitlines()[-15:])
                if not self.report.check(f"{label}: step {step.script} on {host}", ok, tail):
                    return False
        return True

    # -- checking -------------------------------------------------------------------------

    def on(self, host: str, command: str, timeout: float = 120) -> str:
        return self.hosts[host].run(command, timeout=timeout).stdout

    def live(self) -> list[str]:
        """The hosts of the cluster file whose container runs (a host that has yet to join, or
        that left, is not one)."""
        return [h.name for h in self.plan.hosts if self.hosts[h.name].init_pid() is not None]

    def check_cluster(self, label: str) -> None:
        first = self.plan.first.name
        check = self.report.check
        peers = self.on(first, "gluster peer status")
        connected = peers.count("State: Peer in Cluster (Connected)")
        check(
            f"{label}: every peer connected",
            connected == len(self.plan.hosts) - 1,
            f"{connected} connected:\n{peers}",
        )
        for volume in self.plan.volumes:
            info = self.on(first, f"gluster volume info {shlex.quote(volume.name)}")
            bricks = re.findall(r"^Brick\d+: (\S+)$", info, re.M)
            expected = [str(b) for b in volume.bricks]
            sets = len(expected) // volume.replica
            shape = (
                f"Number of Bricks: {sets} x {volume.replica} = {len(expected)}"
                if volume.replica > 1 and sets > 1
                else f"Number of Bricks: 1 x {volume.replica} = {len(expected)}"
                if volume.replica > 1
                else f"Number of Bricks: {len(expected)}"
            )
            kind = (
                "Distribute"
                if volume.replica == 1
                else "Distributed-Replicate"
                if sets > 1
                else "Replicate"
            )
            check(
                f"{label}: volume {volume.name} is {kind}, {shape.split(': ')[1]}, bricks in order, started",
                bricks == expected
                and f"Type: {kind}\n" in info
                and shape in info
                and "Status: Started" in info,
                info,
            )
        self.check_files_shared(label)
        self.target.check_built(self, label)

    def check_meta_and_vip(self, label: str) -> None:
        """The seed's CTDB side: the meta volume mounted by its unit on every host, ctdb all
        OK with each VIP on one node, the NFS mount name resolving to the VIP."""
        check = self.report.check
        meta = self.cluster.ctdb.mount_point
        unit = self.plan.mount_unit
        for host in self.plan.hosts:
            state = self.hosts[host.name].run(
                f"systemctl is-active {shlex.quote(unit)} && findmnt -n -o FSTYPE,SOURCE {shlex.quote(meta)}",
                check=False,
            )
            check(
                f"{label}: {host.name} has the meta volume at {meta} through {unit}",
                state.returncode == 0 and "fuse.glusterfs" in state.stdout,
                state.stdout + state.stderr,
            )
        self.check_ctdb(label)
        vip = str(self.cluster.ctdb.vips[0].address.ip)
        name = self.cluster.ctdb.mount_hostname
        for host in self.plan.hosts:
            resolved = (
                self.hosts[host.name].run(f"getent hosts {shlex.quote(name)}", check=False).stdout
            )
            check(
                f"{label}: {name} resolves to {vip} on {host.name}",
                resolved.split()[:1] == [vip],
                resolved,
            )

    def check_bricks_and_firewall(self, label: str) -> None:
        """EL9's side: on every host firewalld running with the planned services (and zone
        sources) live, and each brick filesystem mounted at its mount point from a device of
        its own; every volume with
        oVirt's options."""
        check = self.report.check
        plan: Any = self.plan
        zone = plan.firewall_zone or "public"
        for host in self.plan.hosts:
            live = self.hosts[host.name].run(
                f"firewall-cmd --state && firewall-cmd --zone={zone} --list-services"
                f" && firewall-cmd --zone={zone} --list-sources"
                f" && firewall-cmd --zone={zone} --list-ports",
                check=False,
            )
            lines = live.stdout.splitlines()
            services = set(lines[1].split()) if len(lines) > 1 else set()
            check(
                f"{label}: firewalld on {host.name} serves the planned services in zone {zone}",
                live.returncode == 0
                and set(plan.firewall_services) <= services
                and sorted(lines[2].split()) == sorted(plan.firewall_sources)
                and sorted(lines[3].split()) == sorted(plan.firewall_ports),
                live.stdout + live.stderr,
            )
            sources = []
            for brick in plan.brick_storage[host.name].volumes:
                mounted = self.hosts[host.name].run(
                    f"findmnt -n -o FSTYPE,SOURCE {shlex.quote(brick.mount_point)}", check=False
                )
                fields = mounted.stdout.split()
                check(
                    f"{label}: {host.name} has the XFS filesystem of {brick.volume}'s brick at "
                    f"{brick.mount_point}",
                    fields[:1] == ["xfs"],
                    mounted.stdout + mounted.stderr,
                )
                sources.append(fields[1:])
            check(
                f"{label}: each brick filesystem of {host.name} on a device of its own",
                len({tuple(s) for s in sources}) == len(sources),
                str(sources),
            )
        # The firewall is in force between the hosts: glusterd's port answers the first host,
        # a port nothing opened is rejected by firewalld (an ICMP "administratively
        # prohibited", which bash reports as "No route to host"), not refused by the host.
        first = self.plan.first.name
        for host in self.plan.others:
            probe = (
                "for port in 24007 1; do timeout 5 bash -c "
                "'exec 3<>/dev/tcp/$0/$1 && echo open' "
                f"{shlex.quote(host.peer)} $port 2>&1 || true; done"
            )
            answers = self.hosts[first].run(probe, check=False).stdout
            check(
                f"{label}: {host.name}'s firewall lets glusterd through and rejects port 1",
                answers.startswith("open") and "No route to host" in answers,
                answers,
            )
        for volume in self.plan.volumes:
            info = self.on(self.plan.first.name, f"gluster volume info {shlex.quote(volume.name)}")
            check(
                f"{label}: volume {volume.name} has the virt group and oVirt's options",
                "features.shard: on" in info
                and "storage.owner-uid: 36" in info
                and "network.remote-dio: off" in info,
                info,
            )

    def check_files_shared(self, label: str, writers: list[str] | None = None) -> None:
        """A file written through one host's client mount of each volume is read on the others."""
        live = self.live()
        for volume in self.plan.volumes:
            writer = (writers or live)[0]
            token = re.sub(r"[^\w.-]", "-", f"{label}-{volume.name}-{time.monotonic_ns()}")
            with self.mounted(writer, volume.name) as mount:
                wrote = self.hosts[writer].run(
                    f"echo {token} > {mount}/e2e-{token}", check=False, timeout=120
                )
            readers = [h for h in live if h != writer]
            seen = []
            if wrote.returncode == 0:
                for reader in readers:
                    with self.mounted(reader, volume.name) as mount:
                        read = self.hosts[reader].run(f"cat {mount}/e2e-{token}", check=False)
                    seen.append(read.stdout.strip() == token)
            self.report.check(
                f"{label}: a file written to {volume.name} on {writer} is read on every other host",
                wrote.returncode == 0 and all(seen),
                wrote.stderr + f" read back on {sum(seen)} of {len(readers)}",
            )

    @contextmanager
    def mounted(self, host: str, volume: str) -> Iterator[str]:
        mount = f"/tmp/e2e-{volume}"
        self.hosts[host].run(
            f"mkdir -p {mount} && (mountpoint -q {mount} || "
            f"mount -t glusterfs localhost:/{shlex.quote(volume)} {mount})",
            check=False,
        )
        try:
            yield mount
        finally:
            self.hosts[host].run(f"umount {mount}; rmdir {mount}", check=False)

    def ctdb_ok(self, hosts: list[str]) -> bool:
        status = self.hosts[hosts[0]].run("timeout 20 ctdb status", check=False).stdout
        oks = len(re.findall(r"^pnn:\d+ \S+\s+OK", status, re.M))
        return oks == len(hosts)

    def vip_holders(self, vip: str) -> list[str]:
        holders = []
        for name in self.live():
            addresses = self.hosts[name].run("ip -o -4 addr show", check=False).stdout
            if re.search(rf"\binet {re.escape(vip)}/", addresses):
                holders.append(name)
        return holders

    def check_ctdb(self, label: str, within: float = 60) -> None:
        live = self.live()
        took = wait_for(within, lambda: self.ctdb_ok(live))
        status = self.hosts[live[0]].run("timeout 20 ctdb status", check=False).stdout
        self.report.check(
            f"{label}: ctdb status shows every running node OK", took is not None, status
        )
        for vip in self.cluster.ctdb.vips:
            address = str(vip.address.ip)
            took = wait_for(within, lambda a=address: len(self.vip_holders(a)) == 1)
            self.report.check(
                f"{label}: exactly one node holds {address}",
                took is not None,
                f"held by {self.vip_holders(address)}",
            )

    def check_ctdb_after_boot(self, label: str) -> None:
        self.check_ctdb(label, within=BOOT_SETTLES_WITHIN)

    # -- running it again -------------------------------------------------------------------

    def fingerprint(self, host: str) -> str:
        """What a rerun must leave as it was: files of /etc and confgen's state, enabled and
        running units with the moment each started, mounts, volumes and the engine's state."""
        command = r"""
find /etc /var/lib/confgen /usr/lib/systemd/system -xdev \( -type f -o -type l \) \
    -newer /run/e2e-stamp -print 2>/dev/null | sort
systemctl list-unit-files --state=enabled --no-legend | sort
systemctl show -p Id -p ActiveState -p ActiveEnterTimestampMonotonic \
    glusterd ctdb iptables vdsmd ovirt-ha-agent ovirt-ha-broker
findmnt -rn -o TARGET,SOURCE,FSTYPE | grep -v '^/tmp' | sort
"""
        return self.on(host, command)

    def check_rerun(self) -> None:
        before = {}
        for host in self.hosts:
            self.on(host, "touch /run/e2e-stamp; sleep 1")
            before[host] = self.fingerprint(host)
        volumes = self.on(self.plan.first.name, "gluster volume info")
        engine_file = self.shared / "engine.json"
        engine = engine_file.read_text() if engine_file.exists() else ""
        if not self.run_runbook("rerun"):
            return
        for host in self.hosts:
            after = self.fingerprint(host)
            self.report.check(
                f"rerun: nothing changed on {host}",
                after == before[host],
                diff_lines(before[host], after),
            )
        self.report.check(
            "rerun: volumes and the hosted engine as they were",
            self.on(self.plan.first.name, "gluster volume info") == volumes
            and (engine_file.read_text() if engine_file.exists() else "") == engine,
        )

    # -- breaking it ------------------------------------------------------------------------

    def break_vip_holder(self) -> None:
        check = self.report.check
        vip = str(self.cluster.ctdb.vips[0].address.ip)
        holders = self.vip_holders(vip)
        if not check("failure: one node holds the VIP before", len(holders) == 1, str(holders)):
            return
        victim = holders[0]
        self.hosts[victim].power_off(hard=True)
        survivors = self.live()
        took = wait_for(VIP_MOVES_WITHIN, lambda: len(self.vip_holders(vip)) == 1)
        check(
            f"failure: {vip} moves off {victim} within {VIP_MOVES_WITHIN}s",
            took is not None,
            f"held by {self.vip_holders(vip)}",
        )
        self.check_ctdb("failure")
        self.check_writable_without(victim, survivors)
        self.hosts[victim].boot()
        took = wait_for(BOOT_SETTLES_WITHIN, lambda: self.ctdb_ok(self.live()))
        check(f"failure: {victim} rejoins ctdb after it boots", took is not None)
        self.check_healed_after(victim)

    def break_a_brick_host(self) -> None:
        """A host holding bricks of every volume loses power, and comes back."""
        holders = [
            h.name for h in self.plan.hosts if h.brick_dirs and h.name != self.plan.first.name
        ]
        victim = holders[0] if holders else self.plan.hosts[-1].name
        self.hosts[victim].power_off(hard=True)
        self.check_writable_without(victim, self.live())
        self.hosts[victim].boot()
        self.check_healed_after(victim)

    def check_writable_without(self, victim: str, survivors: list[str]) -> None:
        for volume in self.plan.volumes:
            if volume.replica < 3:
                continue  # a replica set that loses one of two copies goes read-only by design
            writer = survivors[0]
            with self.mounted(writer, volume.name) as mount:
                wrote = self.hosts[writer].run(
                    f"echo degraded > {mount}/e2e-degraded-{victim}", check=False, timeout=180
                )
            self.report.check(
                f"failure: {volume.name} stays writable without {victim}",
                wrote.returncode == 0,
                wrote.stderr,
            )

    def check_healed_after(self, victim: str) -> None:
        check = self.report.check
        for volume in self.plan.volumes:
            if volume.replica < 2:
                continue
            took = wait_for(HEALED_WITHIN, lambda v=volume.name: self.heal_pending(v) == 0, every=5)
            check(
                f"failure: {volume.name} heals to 0 pending entries after {victim} returns",
                took is not None,
                self.on(self.plan.first.name, f"gluster volume heal {volume.name} info"),
            )

    def heal_pending(self, volume: str) -> int:
        info = self.hosts[self.live()[0]].run(
            f"gluster volume heal {shlex.quote(volume)} info", check=False
        )
        counts = re.findall(r"^Number of entries: (\d+)", info.stdout, re.M)
        bricks = len(re.findall(r"^Brick ", info.stdout, re.M))
        if info.returncode != 0 or len(counts) != bricks or bricks == 0:
            return -1
        return sum(int(c) for c in counts)

    def power_cycle(self) -> None:
        """Every host off, cleanly, then on again; nothing is typed after."""
        for container in self.hosts.values():
            container.power_off(hard=False)
        for container in self.hosts.values():
            container.boot(wait=False)
        for container in self.hosts.values():
            container.wait_booted()
        order = self.target.boot_order()
        for name in self.hosts:
            came_back = wait_for(
                BOOT_SETTLES_WITHIN,
                lambda n=name: (
                    self.hosts[n]
                    .run(f"systemctl is-active {shlex.join(order)}", check=False)
                    .returncode
                    == 0
                ),
            )
            shown = (
                self.hosts[name]
                .run(
                    "systemctl show -p Id -p ActiveState -p ActiveEnterTimestampMonotonic "
                    + shlex.join(order),
                    check=False,
                )
                .stdout
            )
            started = [int(v) for v in re.findall(r"ActiveEnterTimestampMonotonic=(\d+)", shown)]
            self.report.check(
                f"power cycle: {name} brings up {', '.join(order)} by itself, in that order",
                came_back is not None and len(started) == len(order) and started == sorted(started),
                shown,
            )
        self.target.check_cycled(self)
        self.check_files_shared("power cycle")

    def close(self) -> None:
        hold = os.environ.get("CONFGEN_E2E_HOLD")
        if hold:  # for a person to look around: the run waits until that file exists
            print(f"holding the cluster until {hold} exists", flush=True)
            while not Path(hold).exists():
                time.sleep(2)
        self.machines.close()


def diff_lines(before: str, after: str) -> str:
    gone = sorted(set(before.splitlines()) - set(after.splitlines()))
    new = sorted(set(after.splitlines()) - set(before.splitlines()))
    return "\n    ".join([*(f"- {line}" for line in gone), *(f"+ {line}" for line in new)])


def run(text: str, work: Path, report: Report) -> Report:
    """The whole run for one cluster file; `report` gathers every check."""
    cluster = Cluster(text, work, report)
    try:
        if not cluster.build():
            return report
        cluster.check_cluster("built")
        cluster.check_rerun()
        cluster.target.break_one(cluster)
        cluster.power_cycle()
    except MachineError as error:
        report.check("the machines kept running", False, str(error))
    except Exception:  # a bug of the harness: still a failure in the summary, with its trace
        report.check("the harness ran to its end", False, traceback.format_exc())
    finally:
        cluster.close()
    return report


def run_in_work_folder(run: Callable[[Path, Report], Report], keep: bool) -> int:
    """A command line's run: in a new work folder under /var/tmp, each check printed as it
    is made, then `N passed, M failed`; the folder kept (logs, disks) with `keep`. Exits 0
    when every check passed, 1 when one failed, 2 when the machine cannot run containers."""
    missing = missing_prerequisites()
    if missing:
        print("cannot run: missing " + "; ".join(missing), file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="confgen-e2e-", dir="/var/tmp"))
    report = run(work, Report(echo=print))
    print(report.summary())
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"work folder: {work}")
    return 0 if not report.failed else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.e2e.cluster",
        description="Build a real cluster of containers from CLUSTER with confgen's scripts, "
        "check it, break it, and print `N passed, M failed`.",
    )
    parser.add_argument("cluster", type=Path, help="a cluster file of up to six hosts")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, disks)")
    args = parser.parse_args(argv)
    text = args.cluster.read_text()
    return run_in_work_folder(lambda work, report: run(text, work, report), args.keep)


if __name__ == "__main__":
    sys.exit(main())
