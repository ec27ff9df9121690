#!/usr/bin/python3
"""Stand-ins for the EL7 and oVirt 3.5 programs Debian cannot have, on the end-to-end hosts.

Installed once and called under each program's name (a symlink in /usr/local/sbin). Everything
else the scripts call on these hosts is Debian's real program: systemctl and systemd, gluster,
mount, blkid, wipefs, mkfs.xfs, ctdb, iptables. Each behaviour below names where it comes from;
the same behaviours answer on the in-process fake cluster (tests/fakehost_cmd.py), whose
citations they share.

State lives where the real programs keep theirs: the package list on the host's disk, the
SELinux mode in /run (lost at boot, as the kernel's is), the hosted engine's state in
/var/lib/ovirt-hosted-engine-ha/shared, which the harness shares between every host as the
real HA agents share their metadata through the hosted-engine storage domain.
"""

import json
import subprocess
import sys
from pathlib import Path

PROGRAM = Path(sys.argv[0]).name
ARGS = sys.argv[1:]
HERE = Path(__file__).resolve().parent
PACKAGES = Path("/var/lib/el7-standin/packages")
SELINUX_NOW = Path("/run/el7-standin/selinux")
ENGINE = Path("/var/lib/ovirt-hosted-engine-ha/shared/engine.json")
CONF = Path("/etc/ovirt-hosted-engine/hosted-engine.conf")

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
# Packages the seed's list pulls in as dependencies (their RPMs' Requires).
DEPENDS = {
    "ovirt-hosted-engine-setup": ["ovirt-hosted-engine-ha", "vdsm"],
    "vdsm-gluster": ["vdsm", "glusterfs-server"],
}


def words(args):
    return [a for a in args if not a.startswith("-")]


def fail(code, message):
    sys.stderr.write(message + "\n")
    sys.exit(code)


def active(unit):
    return subprocess.run(["systemctl", "is-active", "--quiet", unit], check=False).returncode == 0


def installed():
    return PACKAGES.read_text().split() if PACKAGES.exists() else []


def install(names):
    """yum(8): install the packages and what they require; a package's units come with it."""
    have = installed()
    for name in names:
        for package in [name, *DEPENDS.get(name, [])]:
            if package in have:
                continue
            have.append(package)
            for unit in UNIT_PACKAGES.get(package, []):
                target = Path(f"/usr/lib/systemd/system/{unit}.service")
                target.write_bytes((HERE / "units" / f"{unit}.service").read_bytes())
            for path in PACKAGE_FILES.get(package, []):
                if not (Path("/") / path).exists():
                    (Path("/") / path).parent.mkdir(parents=True, exist_ok=True)
                    (Path("/") / path).write_bytes((HERE / "files" / path).read_bytes())
    PACKAGES.parent.mkdir(parents=True, exist_ok=True)
    PACKAGES.write_text("".join(f"{p}\n" for p in have))


def rpm():
    # rpm -q exits 1 and says "package X is not installed" for a missing package (rpm(8)).
    package = words(ARGS)[0]
    if package not in installed():
        print(f"package {package} is not installed")
        sys.exit(1)
    print(f"{package}-0-0.el7.x86_64")


def yum():
    # yum(8): install and localinstall install the named packages (localinstall a package file,
    # named by the file) and the packages they require; exit 0.
    verb, *rest = words(ARGS)
    if verb not in ("install", "localinstall"):
        fail(1, f"No such command: {verb}")
    install(
        [i.rsplit("/", 1)[-1].removesuffix(".rpm") if verb == "localinstall" else i for i in rest]
    )


def getenforce():
    # getenforce(8): the running mode; at boot the kernel takes it from /etc/selinux/config.
    if SELINUX_NOW.exists():
        print(SELINUX_NOW.read_text().strip())
        return
    config = Path("/etc/selinux/config").read_text().splitlines()
    mode = next((line.split("=", 1)[1] for line in config if line.startswith("SELINUX=")), "")
    print({"enforcing": "Enforcing", "permissive": "Permissive"}.get(mode, "Disabled"))


def setenforce():
    # setenforce(8): 0 or Permissive, 1 or Enforcing.
    if ARGS not in (["0"], ["1"], ["Permissive"], ["Enforcing"]):
        fail(1, "usage:  setenforce [ Enforcing | Permissive | 1 | 0 ]")
    SELINUX_NOW.parent.mkdir(parents=True, exist_ok=True)
    SELINUX_NOW.write_text("Permissive\n" if ARGS[0] in ("0", "Permissive") else "Enforcing\n")


def ssm():
    """ssm create -p POOL --fstype FS -n NAME MOUNT DEVICE (ssm(8)): the volume group POOL on
    DEVICE, the logical volume /dev/POOL/NAME with FS on it, mounted at MOUNT.

    Not LVM here: device-mapper names are global to the kernel, so the hosts' volume groups,
    all of one name, cannot coexist on one machine. The filesystem goes on DEVICE itself, and
    /dev/POOL/NAME points at it, made again at every boot as LVM's activation would."""
    if words(ARGS)[:1] != ["create"]:
        fail(2, f"ssm: stand-in knows only create, not {ARGS}")
    device, mount_point = words(ARGS)[-1], words(ARGS)[-2]
    pool, name = ARGS[ARGS.index("-p") + 1], ARGS[ARGS.index("-n") + 1]
    fstype = ARGS[ARGS.index("--fstype") + 1]
    # pvcreate, which ssm runs first, stops at any signature it finds on the device.
    found = subprocess.run(["wipefs", "--no-act", "--noheadings", device], capture_output=True)
    if found.returncode != 0 or found.stdout.strip():
        fail(1, f"SSM Error (2012): {device} is not a free device")
    if not Path(mount_point).is_dir():
        fail(1, f"SSM Error (2001): mount point {mount_point} does not exist")
    subprocess.run([f"mkfs.{fstype}", "-q", device], check=True)
    Path(f"/etc/tmpfiles.d/ssm-{pool}-{name}.conf").write_text(
        f"L+ /dev/{pool}/{name} - - - - {device}\n"
    )
    subprocess.run(["systemd-tmpfiles", "--create", f"ssm-{pool}-{name}.conf"], check=True)
    subprocess.run(["mount", device, mount_point], check=True)


def engine_state():
    return json.loads(ENGINE.read_text())


def save_engine(state):
    ENGINE.write_text(json.dumps(state))


def hosted_engine():
    # ovirt-hosted-engine-setup 1.2 (oVirt 3.5), src/bin/hosted-engine.in: the command sources
    # /etc/ovirt-hosted-engine/hosted-engine.conf, which only a deploy writes. Without it,
    # --vm-status, --vm-shutdown and --set-maintenance print "You must run deploy first" and
    # exit 0, doing nothing.
    command = ARGS[0] if ARGS else ""
    if command in ("--vm-status", "--vm-shutdown", "--set-maintenance") and not CONF.exists():
        print("You must run deploy first")
        return
    if command == "--deploy":
        deploy()
        return
    # vm_status.py and set_maintenance.py talk to the HA broker; without it they print
    # "Cannot connect to the HA daemon, please check the logs." and exit 1.
    if command in ("--vm-status", "--set-maintenance") and not active("ovirt-ha-broker"):
        fail(1, "Cannot connect to the HA daemon, please check the logs.")
    state = engine_state()
    if command == "--vm-status":
        if state["global_maintenance"]:
            print("\n\n!! Cluster is in GLOBAL MAINTENANCE mode !!\n")
        for host_id in state["hosts"]:
            # ovirt-hosted-engine-ha 1.2 stores the engine status as json.dumps of a dict
            # (agent/hosted_engine.py), which vm_status.py prints as it is.
            status = (
                '{"health": "good", "vm": "up", "detail": "up"}'
                if state["vm"] == "up" and host_id == state["runs_on"]
                else '{"reason": "vm not running on this host", "health": "bad", "vm": "down", "detail": "unknown"}'
            )
            print(f"\n\n--== Host {host_id} status ==--\n")
            print(f"{'Host ID':35}: {host_id}")
            print(f"{'Engine status':35}: {status}")
        return
    if command == "--set-maintenance":
        mode = ARGS[1].removeprefix("--mode=") if len(ARGS) > 1 else ""
        if mode not in ("global", "local", "none"):
            fail(1, f"Invalid value '{mode}' for --mode")
        state["global_maintenance"] = mode == "global"
        # Out of global maintenance, the HA agent of this host starts the engine VM.
        if mode == "none" and active("ovirt-ha-agent"):
            state["vm"] = "up"
            state["runs_on"] = host_id_here()
        save_engine(state)
        return
    if command == "--vm-shutdown":
        # vdsClient shutdown <vmid>: vdsClient fails when vdsmd does not answer.
        if not active("vdsmd"):
            fail(1, "Connection to localhost:54321 refused")
        state["vm"] = "down"
        save_engine(state)
        return
    fail(1, f"Invalid option '{command}'")


def host_id_here():
    for line in CONF.read_text().splitlines():
        if line.startswith("host_id="):
            return int(line.split("=", 1)[1])
    return 0


def deploy():
    """hosted-engine --deploy --config-append=ANSWERS on an additional host.

    What the 1.2 installer leaves, as far as the scripts see it: hosted-engine.conf with the
    host ID (templates/hosted-engine.conf.in, one key a line), the host in the HA metadata,
    vdsmd and the HA services enabled and running, and /etc/sysconfig/iptables replaced by its
    own rules with a dated copy of the old file kept (the seed: "the installer replaces
    /etc/sysconfig/iptables"), loaded at once."""
    append = next((a for a in ARGS if a.startswith("--config-append=")), None)
    if append is None:
        fail(1, "the stand-in deploys additional hosts only, from an answer file")
    answers = dict(
        line.split("=", 1)
        for line in Path(append.split("=", 1)[1]).read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    host_id = int(answers["OVEHOSTED_STORAGE/hostID"].split(":", 1)[1])
    state = engine_state()
    if host_id in state["hosts"]:
        fail(1, f"Host ID {host_id} is already in use by another hosted-engine host")
    state["hosts"].append(host_id)
    save_engine(state)
    CONF.parent.mkdir(parents=True, exist_ok=True)
    CONF.write_text(
        "vmid=00000000-0000-0000-0000-000000000001\n"
        f"conf=/etc/ovirt-hosted-engine/vm.conf\nhost_id={host_id}\n"
    )
    (CONF.parent / "vm.conf").write_text("vmId=00000000-0000-0000-0000-000000000001\n")
    rules = Path("/etc/sysconfig/iptables")
    Path("/etc/sysconfig/iptables.20141112134450").write_bytes(rules.read_bytes())
    rules.write_text(
        "# written by hosted-engine --deploy\n*filter\n:INPUT ACCEPT [0:0]\n"
        ":FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
    )
    subprocess.run(["systemctl", "restart", "iptables"], check=True)
    for unit in ("vdsmd", "ovirt-ha-broker", "ovirt-ha-agent"):
        subprocess.run(["systemctl", "enable", "--now", unit], check=True)


{
    "rpm": rpm,
    "yum": yum,
    "getenforce": getenforce,
    "setenforce": setenforce,
    "ssm": ssm,
    "hosted-engine": hosted_engine,
}[PROGRAM]()
sys.exit(0)
