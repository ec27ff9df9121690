"""A real cluster changed: FROM built by its runbook, then each change of a chain of cluster
files run as CHANGE.md orders it, while a client writes to a replica-3 volume.

    python -m tests.e2e.change FROM.toml TO.toml [MORE.toml ...] [--new-disk HOST] [--keep]

Every host of every file has a container from the start (a host that joins is a fresh install
until its steps run; DNS knows every name, as the administrator sets it up before a change).
After each change the cluster is checked as a day-1 build of TO is (cluster.py's checks: peers,
each volume's bricks in order, files shared, the meta volume, ctdb and the VIPs), and more: every
file TO's render installs reads on its host as TO's render has it; the files written before the
change read the same; the client's files are all there, none lost; the whole change run again
changes nothing.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import attrs

import confgen

from .cluster import COPY_DIR, Cluster, Report, diff_lines, run_in_work_folder
from .machines import MachineError
from .targets import TARGETS

# Where the client that writes through a change mounts its volume, and what it leaves.
WRITER_MOUNT = "/tmp/e2e-writer"
WRITER_STOP = "/tmp/e2e-writer.stop"
WRITER_ERRORS = "/tmp/e2e-writer.errors"


@attrs.frozen
class NewDisks:
    """A link of a chain: the cluster file stays, the brick disks of `hosts` die and new empty
    ones take their place (each host off meanwhile), then `confgen change --replace` for each.
    With `new_machine`, each host is a new machine of its name and addresses: its root
    reinstalled as well (a minimal install, as before day 1)."""

    hosts: tuple[str, ...]
    new_machine: bool = False


ChainLink = str | NewDisks


def texts_of(chain: list[ChainLink]) -> list[str]:
    """The cluster file after each link: a disk replaced keeps the file before it."""
    texts: list[str] = []
    for link in chain:
        texts.append(link if isinstance(link, str) else texts[-1])
    return texts


class ChangingCluster(Cluster):
    def __init__(self, chain: list[ChainLink], work: Path, report: Report) -> None:
        texts = texts_of(chain)
        super().__init__(texts[0], work, report)
        self.texts = texts
        self.plans = [confgen.plan(confgen.loads(t)) for t in texts]
        self.kept_files: dict[str, str] = {}  # volume -> token, written before the first change
        self.writer_folder = ""

    def dns_names(self) -> tuple[confgen.planner.NameCheck, ...]:
        """Every name of every file of the chain (a name keeps its address along a chain that
        confgen change takes: renames and a kept host's new address are refused)."""
        names = {n.name: n for plan in reversed(self.plans) for n in plan.names}
        return tuple(names.values())

    def machine_hosts(self) -> tuple[confgen.planner.HostPlan, ...]:
        hosts = {h.name: h for plan in reversed(self.plans) for h in plan.hosts}
        return tuple(hosts.values())

    def devices(self, host: confgen.planner.HostPlan) -> list[str]:
        """The devices the host has in any file of the chain (a new volume's logical volume
        is a device of its own on EL9)."""
        devices: list[str] = []
        for plan in self.plans:
            for h in plan.hosts:
                if h.name == host.name:
                    devices += TARGETS[plan.cluster.target](plan).devices(h)
        return list(dict.fromkeys(devices))

    def target_for(self, host: str) -> Any:
        """A host is installed as the first file it is in has it."""
        plan = next(p for p in self.plans if host in {h.name for h in p.hosts})
        return TARGETS[plan.cluster.target](plan)

    # -- what a change must keep ------------------------------------------------------------

    def write_kept_files(self) -> None:
        first = self.plan.first.name
        for volume in self.plan.volumes:
            token = f"kept-{volume.name}-{time.monotonic_ns()}"
            with self.mounted(first, volume.name) as mount:
                self.hosts[first].run(f"echo {token} > {mount}/e2e-{token}")
            self.kept_files[volume.name] = token

    def check_kept_files(self, label: str) -> None:
        reader = self.plan.first.name
        for volume, token in self.kept_files.items():
            with self.mounted(reader, volume) as mount:
                read = self.hosts[reader].run(f"cat {mount}/e2e-{token}", check=False)
            self.report.check(
                f"{label}: the file written to {volume} before the changes reads the same",
                read.stdout.strip() == token,
                read.stdout + read.stderr,
            )

    def writer_volume(self) -> str | None:
        """A replica-3 volume on hosts that every file of the chain keeps."""
        kept = set.intersection(*({h.name for h in p.hosts} for p in self.plans))
        for volume in self.plan.volumes:
            if volume.replica == 3 and {b.host for b in volume.bricks} <= kept:
                return volume.name
        return None

    def start_writer(self, volume: str, folder: str) -> None:
        """A client on the first host writes file N with N in it into `folder` of `volume`,
        one after another, until told to stop; a write that fails is noted."""
        first = self.hosts[self.plan.first.name]
        self.writer_folder = f"{WRITER_MOUNT}/{folder}"
        first.run(
            f"rm -f {WRITER_STOP} {WRITER_ERRORS} && mkdir -p {WRITER_MOUNT} && "
            f"(mountpoint -q {WRITER_MOUNT} || "
            f"mount -t glusterfs localhost:/{shlex.quote(volume)} {WRITER_MOUNT}) && "
            f"mkdir {self.writer_folder}"
        )
        loop = (
            f"i=0; while [ ! -e {WRITER_STOP} ]; do i=$((i + 1)); "
            f"echo $i > {self.writer_folder}/$i || echo $i >> {WRITER_ERRORS}; "
            "sleep 0.2; done; echo $i > /tmp/e2e-writer.last"
        )
        # Its own session, every descriptor on /dev/null: the login that starts it ends at once
        # (Container.run waits for its output to close), the loop goes on in the host.
        first.run(f"exec >/dev/null 2>&1 </dev/null; setsid -f bash -c {shlex.quote(loop)}")

    def check_writer(self, label: str) -> None:
        first = self.hosts[self.plan.first.name]
        first.run(f"touch {WRITER_STOP}")
        first.run("for _ in $(seq 1 30); do [ -e /tmp/e2e-writer.last ] && break; sleep 1; done")
        last = first.run("cat /tmp/e2e-writer.last", check=False).stdout.strip()
        errors = first.run(f"cat {WRITER_ERRORS} 2>/dev/null", check=False).stdout.split()
        # Every file the client wrote reads back with its number in it.
        read = first.run(
            f'cd {self.writer_folder} && for f in *; do [ "$(cat "$f")" = "$f" ] || '
            'echo "$f"; done; ls | wc -l',
            check=False,
            timeout=300,
        )
        lines = read.stdout.split()
        wrong, count = lines[:-1], lines[-1:] or ["0"]
        self.report.check(
            f"{label}: the client wrote {last or '?'} files through the change, none failed, "
            "each reads back",
            last.isdigit()
            and int(last) > 0
            and not errors
            and not wrong
            and count == [last]
            and read.returncode == 0,
            f"last {last!r}, failed {errors[:20]}, wrong {wrong[:20]}, listed {count}",
        )
        first.run(f"umount {WRITER_MOUNT}; rm -f /tmp/e2e-writer.last", check=False)

    def check_installed_files(self, label: str) -> None:
        """Each file TO's steps install on a host (those this harness runs) reads there as
        TO's render has it."""
        tree = confgen.render(self.cluster)
        ran = {step.slug for step in self.target.steps()}
        for host in self.plan.hosts:
            differ = []
            for install in self.plan.installs.get(host.name, ()):
                if not ran & set(install.steps):
                    continue
                source = tree[f"hosts/{host.name}/{install.source}"].text
                read = self.hosts[host.name].run(f"cat {shlex.quote(install.target)}", check=False)
                if read.returncode != 0 or read.stdout != source:
                    differ.append(install.target)
            self.report.check(
                f"{label}: every file TO installs on {host.name} is TO's", not differ, str(differ)
            )

    # -- changing it ------------------------------------------------------------------------

    def copy_in(self, out: Path) -> None:
        """Each host folder of the change tree replaces the host's copy, as CHANGE.md's rsync
        --delete does."""
        for folder in sorted((out / "hosts").iterdir()):
            target = self.hosts[folder.name].merged / COPY_DIR.lstrip("/")
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(folder, target)

    def run_change(self, label: str, steps: list[tuple[str, str]]) -> bool:
        for host, script in steps:
            ok, output = self.run_step(host, script)
            tail = "\n    ".join(output.strip().splitlines()[-15:])
            if not self.report.check(f"{label}: {script} on {host}", ok, tail):
                return False
        return True

    def replace_disks(self, link: NewDisks) -> None:
        """Each host loses power, its disks are swapped for new empty ones, and it boots: its
        fstab still names the old filesystems, its bricks cannot start. A new machine boots
        from a root as it was before day 1, its disks empty."""
        for name in link.hosts:
            container = self.hosts[name]
            container.power_off(hard=True)
            self.machines.new_disks(name)
            if link.new_machine:
                member = next(h for h in self.plan.hosts if h.name == name)
                self.machines.new_root(name)
                self.prepare(container, member)
                container.boot()
                self.target_for(name).installed(container)
                self.target_for(name).engine_forgets(self.shared, member)
            else:
                self.target_for(name).disks_replaced(container)
                container.boot()

    def brick_listing(self, host: str, path: str) -> list[str]:
        """Every path a brick holds, but Gluster's own (.glusterfs, the anonymous-inode
        folder): what a heal copies."""
        found = self.hosts[host].run(
            f"cd {shlex.quote(path)} && find . -path ./.glusterfs -prune -o "
            "-name '.glusterfs-anonymous-inode-*' -prune -o -print | LC_ALL=C sort",
            timeout=300,
        )
        return found.stdout.splitlines()

    def check_new_bricks_hold_kept_files(self, label: str, hosts: tuple[str, ...]) -> None:
        """The files written before the changes are on each new brick of a volume that is one
        replica set (every brick holds every file): the heal copied them onto the new disk. And
        each new brick holds every path another brick of its replica set holds."""
        for volume in self.plan.volumes:
            for i, brick in enumerate(volume.bricks):
                if brick.host not in hosts:
                    continue
                first = i - i % volume.replica
                others = volume.bricks[first : first + volume.replica]
                other = next((b for b in others if b.host not in hosts), None)
                if other is None:
                    continue
                mine = self.brick_listing(brick.host, brick.path)
                theirs = self.brick_listing(other.host, other.path)
                self.report.check(
                    f"{label}: {brick.host}'s new brick of {volume.name} holds every path "
                    f"{other.host}'s holds",
                    mine == theirs,
                    f"missing {sorted(set(theirs) - set(mine))[:20]}, "
                    f"extra {sorted(set(mine) - set(theirs))[:20]}",
                )
        for volume in self.plan.volumes:
            if volume.name not in self.kept_files or len(volume.bricks) != volume.replica:
                continue
            token = self.kept_files[volume.name]
            for brick in (b for b in volume.bricks if b.host in hosts):
                read = self.hosts[brick.host].run(
                    f"cat {shlex.quote(brick.path)}/e2e-{token}", check=False
                )
                self.report.check(
                    f"{label}: {brick.host}'s new brick of {volume.name} holds the file written "
                    "before the changes",
                    read.stdout.strip() == token,
                    read.stdout + read.stderr,
                )

    def change(self, label: str, link: ChainLink) -> bool:
        if isinstance(link, NewDisks):
            self.replace_disks(link)
            after, replace = self.cluster, list(link.hosts)
        else:
            after, replace = confgen.loads(link), []
        the_change = confgen.change(self.cluster, after, replace=replace)
        out = self.work / re.sub(r"\W+", "-", label)
        confgen.write_tree(confgen.render_change(the_change), out)
        self.copy_in(out)
        # The administrator answers from TO (the host before a joining host by ID).
        self.target = TARGETS[after.target](the_change.after)
        steps = self.target.change_steps(the_change)
        volume = self.writer_volume()
        if volume is not None:
            self.start_writer(volume, f"e2e-writer-{out.name}")
        if not self.run_change(label, steps):
            return False
        self.cluster, self.plan = after, the_change.after
        if volume is not None:
            self.check_writer(label)
        self.check_cluster(label)
        self.target.as_the_targets_gluster(self)
        self.check_installed_files(label)
        self.check_kept_files(label)
        self.check_new_bricks_hold_kept_files(label, tuple(replace))
        # Run again, the change is a no-op.
        before = {}
        for host in self.hosts:
            self.on(host, "touch /run/e2e-stamp; sleep 1")
            before[host] = self.fingerprint(host)
        if not self.run_change(f"{label} again", steps):
            return False
        for host in self.hosts:
            now = self.fingerprint(host)
            self.report.check(
                f"{label} again: nothing changed on {host}",
                now == before[host],
                diff_lines(before[host], now),
            )
        return True


def run_chain(chain: list[ChainLink], work: Path, report: Report) -> Report:
    """Build the first file's cluster, then change it along the chain; `report` gathers
    every check."""
    first, *links = chain
    if not isinstance(first, str):
        raise ValueError("a chain starts with a cluster file")
    cluster = ChangingCluster(chain, work, report)
    try:
        if not cluster.build():
            return report
        cluster.check_cluster("built")
        cluster.target.as_the_targets_gluster(cluster)
        cluster.write_kept_files()
        for i, link in enumerate(links, 1):
            if not cluster.change(f"change {i}", link):
                return report
    except MachineError as error:
        report.check("the machines kept running", False, str(error))
    except Exception:  # a bug of the harness: still a failure in the summary, with its trace
        report.check("the harness ran to its end", False, traceback.format_exc())
    finally:
        cluster.close()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.e2e.change",
        description="Build FROM on a real cluster of containers with confgen's scripts, "
        "replace the disks of each --new-disk host and each --new-machine host whole (confgen "
        "change --replace), run the change "
        "into each next file, check the cluster after each, and print `N passed, M failed`.",
    )
    parser.add_argument("files", type=Path, nargs="+", help="cluster files, FROM first")
    parser.add_argument(
        "--new-disk",
        action="append",
        default=[],
        metavar="HOST",
        help="after FROM is built, HOST's brick disk dies and a new empty one takes its place",
    )
    parser.add_argument(
        "--new-machine",
        action="append",
        default=[],
        metavar="HOST",
        help="then HOST is a new machine of its name and addresses (root and disks new)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, disks)")
    args = parser.parse_args(argv)
    chain: list[ChainLink] = [args.files[0].read_text()]
    if args.new_disk:
        chain.append(NewDisks(tuple(args.new_disk)))
    if args.new_machine:
        chain.append(NewDisks(tuple(args.new_machine), new_machine=True))
    chain += [f.read_text() for f in args.files[1:]]
    if len(chain) < 2:
        parser.error(
            "give FROM and at least one file to change it into, or --new-disk/--new-machine"
        )
    return run_in_work_folder(lambda work, report: run_chain(chain, work, report), args.keep)


if __name__ == "__main__":
    sys.exit(main())
