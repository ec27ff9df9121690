#!/usr/bin/python3
"""Stand-ins for the EL9 programs Debian cannot have, on the end-to-end hosts of ovirt45-el9.

Installed once and called under each program's name (a symlink in /usr/local/sbin): dnf and
rpm (EL9's packages), getenforce, semanage and restorecon (no SELinux kernel here), nmcli (no
NetworkManager here: it answers from the host's real addresses, as `ip` shows them, which
systemd-networkd gave the NICs), timedatectl (the containers share this machine's kernel
clock, whose synchronisation is this machine's business, not the host's: a right host's is
synchronised, as fakehost_el9.timedatectl answers from the state), and LVM's
pvcreate, vgcreate, lvcreate, vgs and lvs (device-mapper names are global to the machine, so
the containers cannot each have a volume group of the same name). Everything else the scripts
call here is Debian's real program: systemctl and systemd, firewalld and firewall-cmd, gluster,
mkfs.xfs, blkid, wipefs, lsblk, mount.

The behaviours are those of the in-process fake cluster, fakehost_el9.py, which the harness
copies beside this file (their citations are there): one stand-in, two clusters. Its state is
the host's own, on the host's disk. Each logical volume is a device the harness binds in
at /dev/confgen-e2e/LV (a thin pool is none); lvcreate, and the activation unit at boot,
link /dev/VG/LV to it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import fakehost_el9  # noqa: E402 (beside this file, copied in by the harness)

PROGRAM = Path(sys.argv[0]).name
ARGS = sys.argv[1:]
STATE = Path("/var/lib/el9-standin/state.json")
LV_DEVICES = Path("/dev/confgen-e2e")


def activate(me):
    """Link each logical volume to the device that stands for it (lvm2's activation)."""
    for group, content in me["volume_groups"].items():
        for volume, lv in content["lvs"].items():
            if lv["attr"] == "t":
                continue  # a thin pool has no device of its own
            link = Path(f"/dev/{group}/{volume}")
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.is_symlink():
                link.symlink_to(LV_DEVICES / volume)


def nics():
    """Each NIC's IPv4 addresses, ADDRESS/PREFIX, as `ip -4 -o addr show` lists them: one line
    an address, the NIC's name its second field, ADDRESS/PREFIX its fourth (iproute2,
    ip-address(8))."""
    shown = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True)
    found = {}
    for line in shown.stdout.splitlines():
        fields = line.split()
        found.setdefault(fields[1].split("@")[0], []).append(fields[3])
    return found


def main():
    state = json.loads(STATE.read_text())
    me = state["me"]
    if PROGRAM == "el9.py" and ARGS == ["activate"]:
        activate(me)
        return 0
    if PROGRAM == "rpm":
        # rpm -q exits 1 and says "package X is not installed" for a missing package (rpm(8)).
        package = next(a for a in ARGS if not a.startswith("-"))
        if package not in me["packages"]:
            print(f"package {package} is not installed")
            return 1
        print(f"{package}-0-0.el9.x86_64")
        return 0
    if PROGRAM == "getenforce":
        print(me["selinux"])
        return 0
    if PROGRAM == "nmcli":
        me["nics"] = nics()
    code, out, changed, err = fakehost_el9.answer(PROGRAM, state, me, ARGS, Path("/"))
    if changed:
        if PROGRAM == "lvcreate":
            activate(me)
        tmp = STATE.with_suffix(".new")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, STATE)
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


if __name__ == "__main__":
    sys.exit(main())
