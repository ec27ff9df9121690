#!/usr/bin/python3
"""Stand-ins for the EL7 and oVirt 3.5 programs Debian cannot have, on the end-to-end hosts.

Installed once and called under each program's name (a symlink in /usr/local/sbin): rpm,
yum, getenforce, setenforce, ssm, hosted-engine and timedatectl (systemd 219's, whose output
Debian's 252 does not give). Everything else the scripts call on these hosts is Debian's real
program: systemctl and systemd, gluster, mount, blkid, wipefs, mkfs.xfs, ctdb, iptables, ip.

The behaviours are those of the in-process fake cluster, fakehost_el7.py, which the harness
copies beside this file (their citations are there): one stand-in, two clusters. This file
only turns the host's real state into the stand-in's `me` before a call, and the changes the
call made to it into the host's after it:

- read from the host: the units running and enabled (systemd), the signature of the device
  ssm is given (wipefs);
- kept on the host's disk (/var/lib/el7-standin/state.json): the packages, whether the clock
  is synchronised and the repositories answer (true on a right host; a test may say
  otherwise); the SELinux mode in /run (lost at boot, as the kernel's is, which takes it
  from /etc/selinux/config);
- the hosted engine's HA metadata in /var/lib/ovirt-hosted-engine-ha/shared/engine.json,
  which the harness shares between every host as the real HA agents share theirs through
  the hosted-engine storage domain;
- done on the host after a call: units enabled, started or restarted as the stand-in says;
  each new package's units and configuration files installed; for ssm, the filesystem made
  and mounted.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import fakehost_el7  # noqa: E402 (beside this file, copied in by the harness)

PROGRAM = Path(sys.argv[0]).name
ARGS = sys.argv[1:]
STATE = Path("/var/lib/el7-standin/state.json")
SELINUX_NOW = Path("/run/el7-standin/selinux")
ENGINE = Path("/var/lib/ovirt-hosted-engine-ha/shared/engine.json")
# The units the stand-ins ask about or change.
UNITS = ("vdsmd", "ovirt-ha-broker", "ovirt-ha-agent", "iptables")

# The packages whose RPMs ship a unit (their file lists); Debian's own glusterd and ctdb units
# are already on the host, as Debian's packages of them are.
UNIT_PACKAGES = {
    "iptables-services": ["iptables"],
    "vdsm": ["vdsmd"],
    "ovirt-hosted-engine-ha": ["ovirt-ha-agent", "ovirt-ha-broker"],
    "firewalld": ["firewalld"],
    "NetworkManager": ["NetworkManager"],
}
# Configuration files the RPMs ship (%config(noreplace): an existing file is kept). EL7's
# /etc/sysconfig/iptables as iptables-services installs it, as `cat` shows it on CentOS 7.
PACKAGE_FILES = {"iptables-services": ["etc/sysconfig/iptables"]}


def systemctl(*args):
    return subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)


def units():
    """The units of UNITS running, and those enabled, as systemd says."""
    shown = systemctl("show", "-p", "Id,ActiveState,UnitFileState", *UNITS).stdout
    active, enabled = [], []
    for block in shown.strip().split("\n\n"):
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        unit = fields.get("Id", "").removesuffix(".service")
        if fields.get("ActiveState") == "active":
            active.append(unit)
        if fields.get("UnitFileState") == "enabled":
            enabled.append(unit)
    return active, enabled


def selinux():
    if SELINUX_NOW.exists():
        return SELINUX_NOW.read_text().strip()
    config = Path("/etc/selinux/config").read_text().splitlines()
    mode = next((line.split("=", 1)[1] for line in config if line.startswith("SELINUX=")), "")
    return {"enforcing": "Enforcing", "permissive": "Permissive"}.get(mode, "Disabled")


def signature(device):
    """What the stand-in knows of a device: "" empty, a signature's type, absent if none."""
    if not Path(device).exists():
        return None
    found = subprocess.run(
        ["wipefs", "--no-act", "--noheadings", "--output", "TYPE", device],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        return None
    return found.stdout.split()[0] if found.stdout.split() else ""


def host_me():
    kept = json.loads(STATE.read_text()) if STATE.exists() else {}
    active, enabled = units()
    me = {
        # The address hosted-engine's setup adds the host by (socket.gethostname(), which is
        # the FQDN on an EL7 host named as the seed names them).
        "fqdn": socket.getfqdn(),
        "packages": kept.get("packages", []),
        "clock_synced": kept.get("clock_synced", True),
        "repos_reachable": kept.get("repos_reachable", True),
        "selinux": selinux(),
        "active": active,
        "enabled": enabled,
        "devices": {},
        "mounts": {},
    }
    if PROGRAM == "ssm":
        device = [a for a in ARGS if not a.startswith("-")][-1]
        found = signature(device)
        if found is not None:
            me["devices"][device] = found
    return me


def apply(before, me):
    """Make the host what the stand-in's `me` says it became."""
    for package in me["packages"]:
        if package in before["packages"]:
            continue
        for unit in UNIT_PACKAGES.get(package, []):
            target = Path(f"/usr/lib/systemd/system/{unit}.service")
            target.write_bytes((HERE / "units" / f"{unit}.service").read_bytes())
        for path in PACKAGE_FILES.get(package, []):
            if not (Path("/") / path).exists():
                (Path("/") / path).parent.mkdir(parents=True, exist_ok=True)
                (Path("/") / path).write_bytes((HERE / "files" / path).read_bytes())
    if me["selinux"] != before["selinux"]:
        SELINUX_NOW.parent.mkdir(parents=True, exist_ok=True)
        SELINUX_NOW.write_text(me["selinux"] + "\n")
    if PROGRAM == "ssm" and me["mounts"]:
        make_brick_filesystem()
    for unit in me.pop("restarted", []):
        subprocess.run(["systemctl", "restart", unit], check=True)
    for unit in me["enabled"]:
        if unit not in before["enabled"]:
            subprocess.run(["systemctl", "enable", unit], check=True)
    for unit in me["active"]:
        if unit not in before["active"]:
            subprocess.run(["systemctl", "start", unit], check=True)
    kept = {k: me[k] for k in ("packages", "clock_synced", "repos_reachable")}
    STATE.parent.mkdir(parents=True, exist_ok=True)
    tmp = STATE.with_suffix(".new")
    tmp.write_text(json.dumps(kept))
    os.replace(tmp, STATE)


def make_brick_filesystem():
    """What ssm create made, for real: not LVM here, as device-mapper names are global to the
    kernel and the hosts' volume groups, all of one name, cannot coexist on one machine. The
    filesystem goes on DEVICE itself, and /dev/POOL/NAME points at it, made again at every
    boot as LVM's activation would; then it is mounted."""
    words = [a for a in ARGS if not a.startswith("-")]
    device, mount_point = words[-1], words[-2]
    pool, name = ARGS[ARGS.index("-p") + 1], ARGS[ARGS.index("-n") + 1]
    fstype = ARGS[ARGS.index("--fstype") + 1]
    subprocess.run([f"mkfs.{fstype}", "-q", device], check=True)
    Path(f"/etc/tmpfiles.d/ssm-{pool}-{name}.conf").write_text(
        f"L+ /dev/{pool}/{name} - - - - {device}\n"
    )
    subprocess.run(["systemd-tmpfiles", "--create", f"ssm-{pool}-{name}.conf"], check=True)
    subprocess.run(["mount", device, mount_point], check=True)


def main():
    me = host_me()
    before = json.loads(json.dumps(me))
    state = {"engine": json.loads(ENGINE.read_text()) if ENGINE.exists() else {"hosts": []}}
    code, out, changed, err = fakehost_el7.answer(PROGRAM, state, me, ARGS, Path("/"))
    if changed:
        apply(before, me)
        if ENGINE.exists():
            tmp = ENGINE.with_suffix(".new")
            tmp.write_text(json.dumps(state["engine"]))
            os.replace(tmp, ENGINE)
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


if __name__ == "__main__":
    sys.exit(main())
