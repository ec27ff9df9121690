"""Stand-ins for the programs only the target ovirt45-el9's scripts call (see fakehost.py).

`answer(program, state, me, args, root)` returns (exit code, stdout, changed, stderr) and
updates the state for a call that changes the host, as fakehost_gluster does. Each behaviour
names where it comes from: a program's manual or source at the target's version (EL9:
dnf 4, firewalld 1.x, lvm2 2.03, xfsprogs 5.x/6.x, policycoreutils 3.x). Those Debian has
(firewall-offline-cmd, mkfs.xfs) are held to the stand-in by tests/test_stand_ins.py.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import struct
from pathlib import Path
from typing import Any

Answer = tuple[int, str, bool, str]

# The programs stood in for here (`answer`), installed under their names on the fake cluster.
PROGRAMS = frozenset(
    {
        "dnf",
        "subscription-manager",
        "firewall-cmd",
        "pvcreate",
        "vgcreate",
        "lvcreate",
        "vgs",
        "lvs",
        "mkfs.xfs",
        "semanage",
        "restorecon",
        "udevadm",
        "ovirt-hosted-engine-cleanup",
        "nmcli",
        "timedatectl",
        "ssh-keyscan",
    }
)

# What each package brings that a script relies on, from the packages' file lists and specs:
# glusterfs-server's %post reloads firewalld (%firewalld_reload, glusterfs.spec.in) so its
# service file glusterfs.xml is known at once, and it ships the option groups of
# /var/lib/glusterd/groups (extras/group-virt.example installed as groups/virt).
REQUIRES = {
    # ovirt-hosted-engine-setup.spec.in: Requires ovirt-hosted-engine-ha, vdsm (and through
    # it lvm2 and device-mapper-multipath: oVirt/vdsm v4.50.7 vdsm.spec.in:159,171). vdsm
    # requires python3-policycoreutils, not policycoreutils-python-utils, which holds
    # semanage: vdsm.spec.in:167 is its only policycoreutils line, and neither ovirt-host.spec
    # (ovirt-host-4.5.0-3) nor ovirt-hosted-engine-setup.spec.in (2.7.2) requires it.
    "ovirt-hosted-engine-setup": ["ovirt-hosted-engine-ha", "vdsm"],
    "vdsm": ["lvm2", "python3-policycoreutils", "device-mapper-multipath"],
    "vdsm-gluster": ["vdsm"],
}
# Where a package comes from: the base repositories of EL9 (BaseOS, AppStream), CentOS Stream's
# extras-common (where the centos-release-* packages are; a RHEL rebuild reaches it through
# the repo file the install step writes), the oVirt 4.5 repositories (centos-release-ovirt45)
# and the Storage SIG's GlusterFS 10 (centos-release-gluster10).
EXTRAS_COMMON = {"centos-release-ovirt45", "centos-release-gluster10"}
OVIRT = {"ovirt-hosted-engine-setup", "ovirt-hosted-engine-ha", "vdsm", "vdsm-gluster"}
GLUSTER = {"glusterfs-server"}
EXTRAS_REPO_FILE = "etc/yum.repos.d/CentOS-Stream-Extras-common.repo"

# firewalld's own service files (firewalld/firewalld: config/services/*.xml): every service the
# target opens but glusterfs, which glusterfs-server ships (research: "firewalld: services that
# exist and who ships them").
FIREWALLD_SERVICES = {
    "vdsm",
    "libvirt",
    "libvirt-tls",
    "snmp",
    "ovirt-imageio",
    "ovirt-vmconsole",
    "ovirt-storageconsole",
    "cockpit",
    "ssh",
    "ctdb",
    "nfs",
    "ipsec",
    "nrpe",
    "rpc-bind",
    "samba",
    "http",
    "https",
    "dhcpv6-client",
}
# firewalld's zones on EL9 (config/zones/*.xml); the default zone is public (firewalld.conf).
FIREWALLD_ZONES = [
    "block",
    "dmz",
    "drop",
    "external",
    "home",
    "internal",
    "nm-shared",
    "public",
    "trusted",
    "work",
]

# lvm2, tools/errors.h: ECMD_FAILED is 5, what the LVM commands exit with when they refuse.
ECMD_FAILED = 5
# vgcreate's default physical extent size, 4 MiB (vgcreate(8) at lvm2 v2_03_21, -s); the first
# MiB of a physical volume holds its label and metadata.
EXTENT = 4 << 20
# The brick disk of a fresh host.
DISK_SIZE = 2 << 40


def disk(device: str, host: str) -> dict[str, Any]:
    """What udev knows of a brick disk, by the kind its path names (udev's
    60-persistent-storage.rules: ID_SERIAL of a SCSI disk from scsi_id, an NAA WWID "3...",
    ID_WWN of an NVMe namespace; a virtio disk without a serial has neither), and its parent
    devices' subsystems as lsblk -o SUBSYSTEMS lists them (util-linux lsblk(8): the
    subsystems of the device chain, seen with util-linux 2.38: vda is block:virtio:pci)."""
    tag = hashlib.sha256(f"{host}{device}".encode()).hexdigest()
    name = device.rsplit("/", 1)[-1]
    if name.startswith("vd"):
        return {"size": DISK_SIZE, "subsystems": "block:virtio:pci", "properties": {}}
    if name.startswith("nvme"):
        properties = {"ID_WWN": f"eui.{tag[:16]}"}
        return {"size": DISK_SIZE, "subsystems": "block:nvme:pci", "properties": properties}
    wwn = name.removeprefix("wwn-0x") if name.startswith("wwn-0x") else f"6001405{tag[:25]}"
    properties = {"ID_BUS": "scsi", "ID_SERIAL": f"3{wwn}"}
    return {"size": DISK_SIZE, "subsystems": "block:scsi:pci", "properties": properties}


def fresh_host(plan: Any, host: Any) -> dict[str, Any]:
    """What a stand-in knows of one host of `plan` after a minimal EL9 install (CentOS Stream
    9, or a RHEL 9 rebuild when the cluster says so): firewalld and NetworkManager installed,
    enabled and running, firewalld's default zone public holding ssh and dhcpv6-client
    (firewalld's config/zones/public.xml; a distribution may add cockpit), SELinux enforcing,
    the brick device empty, multipathd installed with vdsm but not running before vdsm-tool
    configures it."""
    zones: dict[str, dict[str, list[str]]] = {
        z: {"services": [], "sources": [], "ports": []} for z in FIREWALLD_ZONES
    }
    zones["public"]["services"] = ["ssh", "dhcpv6-client"]
    return {
        "packages": ["firewalld", "NetworkManager", "xfsprogs", "policycoreutils"],
        # What EL9's BaseOS and AppStream hold of what the scripts install.
        "base_packages": [
            "firewalld",
            "NetworkManager",
            "tmux",
            "xfsprogs",
            "policycoreutils",
            "policycoreutils-python-utils",
            "python3-policycoreutils",
            "chrony",
        ],
        "rhel_rebuild": plan.cluster.packages.rhel_rebuild,
        "rhel_subscription": plan.cluster.packages.rhel_subscription,
        "repos": [],  # the repositories subscription-manager enabled on RHEL itself
        "enabled": ["firewalld", "NetworkManager"],
        "active": ["firewalld", "NetworkManager"],
        "mounts": {},
        "devices": {host.host.brick_device: ""} if host.host.brick_device else {},
        "disks": {host.host.brick_device: disk(host.host.brick_device, host.name)}
        if host.host.brick_device
        else {},
        "uuids": {},
        "volume_groups": {},
        "fcontext": [],
        "labels": {},
        "firewall": {
            "default_zone": "public",
            "permanent": zones,
            "runtime": {z: {k: list(v) for k, v in c.items()} for z, c in zones.items()},
        },
        "selinux": "Enforcing",
        "fqdn": host.host.fqdn,
        "management": str(host.management_address),
        "peer": host.peer,
        "storage": str(host.storage_address),
        "ssh_host_keys": ssh_host_keys(),
    }


def _ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def ssh_host_keys() -> dict[str, str]:
    """The SSH host keys a fresh install makes (sshd-keygen, once per machine): type -> the
    base64 of the key's blob in the SSH wire format (RFC 4253 6.6: string "ssh-rsa", mpint e,
    mpint n; RFC 8709 4: string "ssh-ed25519", string key). Random: a new machine of a host's
    name has other keys. Not real key pairs (no program here signs with them), but blobs that
    OpenSSH's ssh-keygen reads (tests/test_real_programs_el9.py)."""
    modulus = int.from_bytes(os.urandom(256), "big") | (1 << 2047) | 1
    rsa = (
        _ssh_string(b"ssh-rsa")
        + _ssh_string((65537).to_bytes(3, "big"))
        + _ssh_string(b"\x00" + modulus.to_bytes(256, "big"))
    )
    ed25519 = _ssh_string(b"ssh-ed25519") + _ssh_string(os.urandom(32))
    return {
        "ssh-rsa": base64.b64encode(rsa).decode(),
        "ssh-ed25519": base64.b64encode(ed25519).decode(),
    }


def ssh_keyscan(state: dict[str, Any], args: list[str], root: Path) -> Answer:
    """ssh-keyscan [-T TIMEOUT] HOST (OpenSSH 8.7p1, EL9's): HOST resolved as this host's
    resolver does (/etc/hosts, then DNS); each of the machine's host keys as a line of an
    ssh_known_hosts file, "HOST TYPE BASE64" (ssh-keyscan(1); sshd(8)), the server's banner
    as a comment on stderr ("# HOST:22 SSH-2.0-..."), one connection per key type; a host that
    does not answer prints nothing and exits 1 (Debian's ssh-keyscan 9.2p1 does both:
    tests/test_real_programs_el9.py)."""
    host = _words(args)[-1]
    address = _hosts_file_address(root, host) or state.get("dns", {}).get(host) or host
    machine = next(
        (
            m
            for m in state["hosts"].values()
            if address in (m["management"], m.get("peer"), m.get("storage"))
        ),
        None,
    )
    if machine is None or "before_reboot" in machine:
        return 1, "", False, ""
    keys = machine.get("ssh_host_keys", {})
    out = "".join(f"{host} {kind} {blob}\n" for kind, blob in sorted(keys.items()))
    err = "".join(f"# {host}:22 SSH-2.0-OpenSSH_8.7\n" for _ in keys)
    return (0 if keys else 1), out, False, err


def _hosts_file_address(root: Path, name: str) -> str | None:
    try:
        text = (root / "etc/hosts").read_text()
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) > 1 and name in fields[1:]:
            return fields[0]
    return None


def _fail(message: str, code: int = 1) -> Answer:
    return code, "", False, message + "\n"


def _ok(out: str = "", change: bool = False) -> Answer:
    return 0, out, change, ""


def _words(args: list[str]) -> list[str]:
    return [a for a in args if not a.startswith("-")]


def _option(args: list[str], name: str) -> str | None:
    """The value of --name=VALUE or of an option and the word after it."""
    for i, arg in enumerate(args):
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
        if arg == name and i + 1 < len(args):
            return args[i + 1]
    return None


def dnf(state: dict[str, Any], me: dict[str, Any], args: list[str], root: Path) -> Answer:
    """dnf(8) install -y PACKAGE...: the packages and what they require, from the repositories
    enabled on the host; a name no enabled repository has stops the whole transaction with
    "No match for argument" and exit 1, installing nothing."""
    verb, *names = _words(args)
    if verb == "makecache":
        # dnf --refresh makecache: every enabled repository's metadata expired and fetched
        # again, into --setopt=cachedir=DIR (dnf 4.10.0 dnf/cli/cli.py:731-733, dnf/base.py:
        # 358-371); one that does not answer stops it with "Error: Failed to download metadata
        # for repo ..." (libdnf's message, logged by dnf/cli/main.py:82-84) and exit 1.
        cache = _option(args, "--setopt")
        if not me.get("repos_reachable", True):
            return _fail(
                "Error: Failed to download metadata for repo 'appstream': Cannot download "
                "repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried"
            )
        if cache is not None and cache.startswith("cachedir="):
            folder = Path(cache.split("=", 1)[1], "appstream")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "repomd.xml").write_text("<repomd/>\n")
        return _ok("")
    if verb == "repolist" and "--enabled" in args:
        # dnf(8) repolist --enabled: a header, then one enabled repository a line, its id first.
        ids = list(me["repos"]) if me["rhel_subscription"] else ["baseos", "appstream"]
        return _ok("repo id   repo name\n" + "".join(f"{i}   {i}\n" for i in ids))
    if verb != "install":
        return _fail(f"fakehost: no stand-in behaviour for dnf {verb}", 2)
    if me["rhel_subscription"] and not set(RHEL_REPOSITORIES) <= set(me["repos"]):
        # RHEL without its CodeReady Builder and Resilient Storage repositories lacks what
        # oVirt's packages require (ovirt-release repoclosure-45.yml closes EL9 over crb and
        # resilientstorage): the transaction stops on the first such dependency.
        missing = [n for n in names if n not in me["packages"]]
        if any(n in OVIRT or n in GLUSTER or n in EXTRAS_COMMON for n in missing):
            return _fail(
                "Error:\n Problem: cannot install the best candidate for the job\n"
                "  - nothing provides a package of codeready-builder or resilientstorage"
            )
    reachable = set(me["base_packages"])
    if not me["rhel_rebuild"] or (root / EXTRAS_REPO_FILE).is_file():
        reachable |= EXTRAS_COMMON  # extras-common is enabled on CentOS Stream 9 itself
    if "centos-release-ovirt45" in me["packages"]:
        reachable |= OVIRT
    if "centos-release-gluster10" in me["packages"]:
        reachable |= GLUSTER
    missing = [n for n in names if n not in reachable and n not in me["packages"]]
    if missing:
        return _fail(
            "".join(f"No match for argument: {n}\n" for n in missing)
            + f"Error: Unable to find a match: {' '.join(missing)}"
        )
    queue = list(names)
    while queue:
        package = queue.pop(0)
        if package not in me["packages"]:
            me["packages"].append(package)
            queue += REQUIRES.get(package, [])
            if package == "glusterfs-server":
                groups = root / "var/lib/glusterd/groups"
                groups.mkdir(parents=True, exist_ok=True)
                (groups / "virt").write_text(state["virt_group"])
    return _ok("Complete!\n", True)


def _services_known(me: dict[str, Any]) -> set[str]:
    known = set(FIREWALLD_SERVICES)
    if "glusterfs-server" in me["packages"]:
        known.add("glusterfs")
    return known


def firewall_cmd(me: dict[str, Any], args: list[str]) -> Answer:
    """firewall-cmd(1) with --permanent, as the firewall step calls it. It talks to the running
    firewalld over D-Bus: without it, "FirewallD is not running" and exit 252 (NOT_RUNNING).
    Queries exit 0 for yes and 1 for no; an add of what is there already warns
    (ALREADY_ENABLED) and exits 0; errors exit with firewalld's codes (firewall/errors.py):
    INVALID_SERVICE 101, INVALID_ZONE 112, NAME_CONFLICT 26, ZONE_CONFLICT 110."""
    if "firewalld" not in me["active"]:
        return _fail("FirewallD is not running", 252)
    firewall = me["firewall"]
    if args == ["--reload"]:
        firewall["runtime"] = {
            z: {k: list(v) for k, v in c.items()} for z, c in firewall["permanent"].items()
        }
        return _ok("success\n", True)
    if "--list-services" in args:
        # [--permanent] [--zone=Z] --list-services: the zone's services, sorted, on one line
        # (firewalld 1.3 src/firewall-cmd.in: `" ".join(sorted(l))`, runtime and permanent).
        zones = firewall["permanent" if "--permanent" in args else "runtime"]
        zone = _option(args, "--zone") or firewall["default_zone"]
        if zone not in zones:
            return _fail(f"Error: INVALID_ZONE: {zone}", 112)
        return _ok(" ".join(sorted(zones[zone]["services"])) + "\n")
    if "--permanent" not in args:
        return _fail(f"fakehost: no stand-in behaviour for firewall-cmd {' '.join(args)}", 2)
    zones = firewall["permanent"]
    if "--get-zones" in args:
        return _ok(" ".join(sorted(zones)) + "\n")
    new_zone = _option(args, "--new-zone")
    if new_zone is not None:
        if new_zone in zones:
            return _fail(f"Error: NAME_CONFLICT: new_zone(): '{new_zone}'", 26)
        zones[new_zone] = {"services": [], "sources": [], "ports": []}
        return _ok("success\n", True)
    zone = _option(args, "--zone") or firewall["default_zone"]
    if zone not in zones:
        return _fail(f"Error: INVALID_ZONE: {zone}", 112)
    config = zones[zone]
    for kind, key in (("service", "services"), ("source", "sources"), ("port", "ports")):
        query, add = _option(args, f"--query-{kind}"), _option(args, f"--add-{kind}")
        value = query if query is not None else add
        if value is None:
            continue
        if kind == "service" and value not in _services_known(me):
            return _fail(f"Error: INVALID_SERVICE: '{value}' not among existing services", 101)
        if kind == "port" and not re.fullmatch(r"\d+(-\d+)?/(tcp|udp|sctp|dccp)", value):
            return _fail(f"Error: INVALID_PORT: '{value}'", 102)
        if query is not None:
            return (0, "yes\n", False, "") if value in config[key] else (1, "no\n", False, "")
        if kind == "source":
            other = next((z for z, c in zones.items() if value in c["sources"] and z != zone), None)
            if other is not None:
                return _fail(f"Error: ZONE_CONFLICT: '{value}' already bound to '{other}'", 110)
        if value in config[key]:
            return 0, "success\n", False, f"Warning: ALREADY_ENABLED: {value}\n"
        config[key].append(value)
        return _ok("success\n", True)
    return _fail(f"fakehost: no stand-in behaviour for firewall-cmd {' '.join(args)}", 2)


# What the engine's host deploy opens on a host of a cluster with the virt and the Gluster
# service (oVirt/ovirt-engine ovirt-engine-4.5.6, packaging/ansible-runner-service-project/
# project/roles/ovirt-host-deploy-firewalld): tasks/main.yml:21-26 the SSH port; vars/
# firewalld_rules_common.yml:1-8, firewalld_rules_virt.yml:1-7, firewalld_rules_gluster.yml:
# 1-17. No task names a zone: every rule goes to firewalld's default zone, permanent and
# immediate (tasks/firewalld.yml:15-22).
HOST_DEPLOY_SERVICES = (
    "cockpit",
    "libvirt-tls",
    "snmp",
    "vdsm",
    "ovirt-imageio",
    "ipsec",
    "ovirt-vmconsole",
    "ctdb",
    "glusterfs",
    "nfs",
    "nrpe",
    "ovirt-storageconsole",
    "rpc-bind",
    "samba",
)
HOST_DEPLOY_PORTS = ("22/tcp", "6081/udp", "8080/tcp", "963/udp", "965/tcp")


def engine_host_deploy_firewall(me: dict[str, Any]) -> None:
    """The engine's host deploy on this host: its rules in the default zone."""
    firewall = me["firewall"]
    zone = firewall["default_zone"]
    for config in (firewall["permanent"][zone], firewall["runtime"][zone]):
        for key, values in (("services", HOST_DEPLOY_SERVICES), ("ports", HOST_DEPLOY_PORTS)):
            config[key] += [v for v in values if v not in config[key]]


def zone_of_source(me: dict[str, Any], address: str) -> str:
    """The zone firewalld applies to a packet from `address`: the zone a source holding it is
    bound to, else the default zone (the hosts' interfaces are in no zone of their own).
    firewalld 1.x dropped AllowZoneDrifting: a packet of a source-bound zone that zone does
    not accept is not passed on to the interface's zone (firewalld doc/xml/firewalld.conf.xml)."""
    import ipaddress

    runtime = me["firewall"]["runtime"]
    for zone, config in runtime.items():
        for source in config["sources"]:
            if ipaddress.ip_address(address) in ipaddress.ip_network(source, strict=False):
                return str(zone)
    return str(me["firewall"]["default_zone"])


# Options of the LVM commands that take a value (lvcreate(8), lvs(8) at lvm2 v2_03_21).
_LVM_VALUES = {
    "-n": "--name",
    "--name": "--name",
    "-L": "--size",
    "--size": "--size",
    "-l": "--extents",
    "--extents": "--extents",
    "-V": "--virtualsize",
    "--virtualsize": "--virtualsize",
    "--type": "--type",
    "--thinpool": "--thinpool",
    "-c": "--chunksize",
    "--chunksize": "--chunksize",
    "--poolmetadatasize": "--poolmetadatasize",
    "-Z": "--zero",
    "--zero": "--zero",
    "-o": "--options",
    "--options": "--options",
    "--dataalignment": "--dataalignment",
    "-s": "--physicalextentsize",
}


def _lvm_args(args: list[str]) -> tuple[dict[str, str], list[str]]:
    """LVM's options by their long names (a flag's value is ""), and the other words."""
    options: dict[str, str] = {}
    words: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        name, _, value = arg.partition("=")
        if name in _LVM_VALUES:
            if not value:
                i += 1
                value = args[i]
            options[_LVM_VALUES[name]] = value
        elif arg.startswith("-"):
            options[arg] = ""
        else:
            words.append(arg)
        i += 1
    return options, words


def lvm_size(text: str, unit: str = "m") -> int:
    """Bytes of an LVM size: a number and a unit of bBsSkKmMgGtTpP, each a power of 1024
    whatever its case, `unit` when none is written (lvcreate(8), "Size[UNIT]")."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([bBsSkKmMgGtTpPeE]?)", text)
    if match is None:
        raise ValueError(text)
    number, letter = match.groups()
    scale = {"b": 1, "s": 512} | {u: 1024 ** (i + 1) for i, u in enumerate("kmgtpe")}
    return int(float(number) * scale[(letter or unit).lower()])


def _extents(size: int) -> int:
    """Logical volumes are whole extents: a size is rounded up (lvcreate rounds up to the
    extent size, "Rounding up size to full physical extent")."""
    return -(-size // EXTENT)


_ATTRS = {"-": "-wi-a-----", "t": "twi-a-tz--", "V": "Vwi-a-tz--"}


def _lvcreate(me: dict[str, Any], args: list[str]) -> Answer:
    """lvcreate(8) as the brick step calls it: a thick LV (-L SIZE), a thin pool
    (--type thin-pool -l 100%FREE --chunksize --poolmetadatasize --zero n) or a thin LV in it
    (-V SIZE --thinpool POOL, or -T VG/POOL -V SIZE); lvm2 v2_03_21's refusals, each exit 5:
    an unknown volume group, a name in use (lib/metadata/lv_manip.c:9044), too little free
    space (lv_manip.c:9311; a pool by 100%FREE needs more than twice its metadata, which it
    keeps once for itself and once as a spare, tools/lvcreate.c:430-437), a thin pool chunk
    size outside 64K..1G or no multiple of 64K (lib/metadata/thin_manip.c:987-995), a pool to
    put a thin LV in that is missing or no thin pool (tools/lvcreate.c:1596-1610). A thin LV
    takes no room; when the thin LVs of a pool outgrow it, lvcreate warns and succeeds
    (lib/metadata/thin_manip.c:414)."""
    options, words = _lvm_args(args)
    target = words[-1] if words else ""
    group_name, _, pool_name = target.partition("/")
    pool_name = options.get("--thinpool", pool_name)
    group = me["volume_groups"].get(group_name)
    if group is None:
        return _fail(
            f'  Volume group "{group_name}" not found\n  Cannot process volume group {group_name}',
            ECMD_FAILED,
        )
    lvs = group["lvs"]
    name = options.get("--name", "")
    if name in lvs:
        return _fail(
            f'  Logical Volume "{name}" already exists in volume group "{group_name}"',
            ECMD_FAILED,
        )
    free = group["extents"] - sum(lv["extents"] for lv in lvs.values())
    thin_pool = options.get("--type") == "thin-pool"
    thin = "--virtualsize" in options and not thin_pool
    warning = ""
    if thin:
        pool = lvs.get(pool_name)
        if pool is None:
            return _fail(f"  Pool {pool_name} not found in Volume group {group_name}.", ECMD_FAILED)
        if pool["attr"] != "t":
            return _fail(
                f"  Logical volume {group_name}/{pool_name} is not a thin pool.", ECMD_FAILED
            )
        size = lvm_size(options["--virtualsize"])
        lv = {"attr": "V", "extents": 0, "size": size, "pool": pool_name}
        virtual = size + sum(v["size"] for v in lvs.values() if v.get("pool") == pool_name)
        if virtual > pool["size"]:
            warning = (
                "  WARNING: Sum of all thin volume sizes exceeds the size of thin pool "
                f"{group_name}/{pool_name}.\n"
            )
    else:
        if "--extents" in options:
            percent = options["--extents"]
            if percent != "100%FREE":
                return _fail(f"fakehost: no stand-in behaviour for -l {percent}", 2)
            extents = free
        else:
            extents = _extents(lvm_size(options["--size"]))
        if thin_pool:
            chunk = lvm_size(options.get("--chunksize", "64k"), "k")
            if not (64 << 10) <= chunk <= (1 << 30) or chunk % (64 << 10):
                return _fail(
                    f"  Thin pool chunk size {chunk >> 10}.00 KiB is not in the range 64.00 KiB "
                    "to 1.00 GiB or not a multiple of 64.00 KiB.",
                    ECMD_FAILED,
                )
            metadata = _extents(min(lvm_size(options.get("--poolmetadatasize", "128m")), 16 << 30))
            if "--extents" in options:
                if extents <= 2 * metadata:
                    return _fail("  Not enough space for thin pool creation.", ECMD_FAILED)
                extents -= 2 * metadata
            needed = extents + 2 * metadata
        else:
            metadata, needed = 0, extents
        if needed > free:
            return _fail(
                f'  Volume group "{group_name}" has insufficient free space ({free} extents): '
                f"{needed} required.",
                ECMD_FAILED,
            )
        lv = {
            "attr": "t" if thin_pool else "-",
            "extents": needed,
            "size": extents * EXTENT,
            "pool": None,
        }
    lvs[name] = lv
    if lv["attr"] != "t":  # a thin pool is no device of its own
        me["devices"][f"/dev/{group_name}/{name}"] = ""
    return 0, f'  Logical volume "{name}" created.\n', True, warning


def lvm(program: str, me: dict[str, Any], args: list[str]) -> Answer:
    """pvcreate(8), vgcreate(8), lvcreate(8), vgs(8), lvs(8) as the brick step calls them.
    They refuse with ECMD_FAILED: a device that holds a signature (pvcreate asks to wipe it,
    and with no terminal the answer is no), a volume group or logical volume that exists.
    `lvs --noheadings -o lv_attr VG/LV` prints the LV's attributes, the first its type: '-'
    a plain LV, 't' a thin pool, 'V' a thin volume (lvs(8) at lvm2 v2_03_21, NOTES); an LV
    that is not there is "Failed to find logical volume" (tools/toollib.c:3534)."""
    groups = me["volume_groups"]
    options, words = _lvm_args(args)
    if program == "vgs":
        if words[0] in groups:
            return _ok(f"  VG #PV #LV\n  {words[0]} 1 {len(groups[words[0]]['lvs'])}\n")
        return _fail(f'  Volume group "{words[0]}" not found', ECMD_FAILED)
    if program == "lvs":
        group, _, volume = words[0].partition("/")
        if group not in groups:
            return _fail(f'  Volume group "{group}" not found', ECMD_FAILED)
        lv = groups[group]["lvs"].get(volume)
        if lv is None:
            return _fail(f'  Failed to find logical volume "{words[0]}"', ECMD_FAILED)
        if options.get("--options") == "lv_attr":
            return _ok(f"  {_ATTRS[lv['attr']]}\n")
        heading = "" if "--noheadings" in options else "  LV VG Attr\n"
        return _ok(f"{heading}  {volume} {group} {_ATTRS[lv['attr']]}\n")
    if program == "pvcreate":
        device = words[-1]
        if device not in me["devices"]:
            return _fail(f"  No device found for {device}.", ECMD_FAILED)
        kind = me["devices"][device]
        if kind == "LVM2_member":
            return _ok(f'  Physical volume "{device}" successfully created.\n', True)
        if kind:
            return _fail(
                f"WARNING: {kind} signature detected on {device} at offset 0. Wipe it? [y/n]: "
                f"[n]\n  Aborted wiping of {kind}.\n  1 existing signature left on the device.",
                ECMD_FAILED,
            )
        me["devices"][device] = "LVM2_member"
        return _ok(f'  Physical volume "{device}" successfully created.\n', True)
    if program == "vgcreate":
        group, device = words[0], words[1]
        if group in groups:
            return _fail(f"  A volume group called {group} already exists.", ECMD_FAILED)
        if me["devices"].get(device) != "LVM2_member":
            return _fail(f"  No device found for {device}.", ECMD_FAILED)
        size = me.get("disks", {}).get(device, {}).get("size", DISK_SIZE)
        groups[group] = {
            "extents": (size - (1 << 20)) // EXTENT,
            "lvs": {},
            "name": group,
            "pv": device,
        }
        return _ok(f'  Volume group "{group}" successfully created\n', True)
    if program == "lvcreate":
        return _lvcreate(me, args)
    return _fail(f"fakehost: no stand-in behaviour for {program}", 2)


def mkfs_xfs(me: dict[str, Any], args: list[str]) -> Answer:
    """mkfs.xfs(8): refuses a device that holds a signature unless -f ("appears to contain an
    existing filesystem", exit 1); an inode size from 256 to 2048 bytes and a directory block
    size from the filesystem block size (4096) to 65536, powers of two. -K only leaves out
    discarding the device first (held to xfsprogs by tests/test_stand_ins_el9.py)."""
    device = args[-1]
    if device not in me["devices"]:
        return _fail(f"mkfs.xfs: cannot open {device}: No such file or directory")
    for flag, low, high in (("-i", 256, 2048), ("-n", 4096, 65536)):
        value = _option(args, flag)
        if value is not None:
            size = int(value.removeprefix("size="))
            if not low <= size <= high or size & (size - 1):
                return _fail(f"mkfs.xfs: illegal {flag} size {size}")
    kind = me["devices"][device]
    if kind and "-f" not in args:
        return _fail(
            f"mkfs.xfs: {device} appears to contain an existing filesystem ({kind}).\n"
            "mkfs.xfs: Use the -f option to force overwrite."
        )
    me["devices"][device] = "xfs"
    me["uuids"][device] = f"00000000-0000-4000-8000-{len(me['uuids']) + 1:012d}"
    return _ok(f"meta-data={device} isize=512\n", True)


def semanage(me: dict[str, Any], args: list[str]) -> Answer:
    """semanage-fcontext(8): --list --locallist prints the local rules, one a line, the spec
    first (policycoreutils, python/semanage/seobject.py, fcontextRecords.list); --add of a spec
    that has a local rule already fails ("File context for SPEC already defined", exit 1)."""
    rules = me["fcontext"]
    if "--list" in args:
        out = "SELinux fcontext                                   type               Context\n\n"
        for spec, kind in rules:
            out += f"{spec:<50} all files          system_u:object_r:{kind}:s0\n"
        return _ok(out)
    if "--add" in args:
        kind, spec = _option(args, "--type"), _words(args)[-1]
        if any(s == spec for s, _ in rules):
            return _fail(f"ValueError: File context for {spec} already defined")
        rules.append((spec, kind))
        return _ok("", True)
    return _fail(f"fakehost: no stand-in behaviour for semanage {' '.join(args)}", 2)


def _wanted_label(me: dict[str, Any], path: str) -> str:
    """The type restorecon gives a path: that of the last local rule matching it whole, else
    what the policy gives a folder it does not name (default_t)."""
    wanted = "default_t"
    for spec, kind in me["fcontext"]:
        if re.fullmatch(spec, path):
            wanted = kind
    return wanted


def label_of(me: dict[str, Any], path: str) -> str:
    """A file's type: the one given it, else its folder's (a new file takes its folder's type
    where the policy has no transition for it); / is root_t."""
    while path not in me["labels"]:
        if path == "/":
            return "root_t"
        path = str(Path(path).parent)
    return me["labels"][path]


def restorecon(me: dict[str, Any], args: list[str], root: Path) -> Answer:
    """restorecon(8) -R [-n -v] PATH: relabels every file below PATH whose type differs from
    what the rules give it; with -n -v it changes nothing and prints "Would relabel PATH from
    OLD to NEW" for each (policycoreutils, restorecon.c / libselinux selinux_restorecon)."""
    top = _words(args)[-1]
    base = root / top.lstrip("/")
    if not base.exists():
        return _fail(f"restorecon: lstat({top}) failed: No such file or directory", 255)
    paths = [
        top,
        *sorted("/" + str(p.relative_to(root)) for p in base.rglob("*") if not p.is_symlink()),
    ]
    wrong = [(p, label_of(me, p), _wanted_label(me, p)) for p in paths]
    wrong = [(p, old, new) for p, old, new in wrong if old != new]
    if "-n" in args:
        shown = "".join(f"Would relabel {p} from {old} to {new}\n" for p, old, new in wrong)
        return _ok(shown if "-v" in args else "")
    for path, _, new in wrong:
        me["labels"][path] = new
    return _ok("", bool(wrong))


# RHEL 9's repositories oVirt needs, by the ids subscription-manager enables (install_on_rhel.md).
RHEL_REPOSITORIES = (
    "rhel-9-for-x86_64-baseos-rpms",
    "rhel-9-for-x86_64-appstream-rpms",
    "codeready-builder-for-rhel-9-x86_64-rpms",
    "rhel-9-for-x86_64-resilientstorage-rpms",
)


def subscription_manager(me: dict[str, Any], args: list[str]) -> Answer:
    """subscription-manager(8) repos --enable=REPO: enables the repository for this system;
    enabling an enabled one changes nothing."""
    repo = _option(args, "--enable")
    if _words(args)[:1] != ["repos"] or repo is None:
        return _fail(f"fakehost: no stand-in behaviour for subscription-manager {args}", 2)
    if repo not in RHEL_REPOSITORIES:
        return _fail(f"Error: '{repo}' does not match a valid repository ID.", 1)
    change = repo not in me["repos"]
    if change:
        me["repos"].append(repo)
    return _ok(f"Repository '{repo}' is enabled for this system.\n", change)


# The package that installs each program on EL9 (the packages' file lists): semanage is in
# policycoreutils-python-utils, restorecon in policycoreutils, the LVM commands in lvm2,
# mkfs.xfs in xfsprogs. Without its package, bash finds no such command (exit 127).
PACKAGE_OF = {
    "semanage": "policycoreutils-python-utils",
    "restorecon": "policycoreutils",
    "pvcreate": "lvm2",
    "vgcreate": "lvm2",
    "lvcreate": "lvm2",
    "vgs": "lvm2",
    "lvs": "lvm2",
    "mkfs.xfs": "xfsprogs",
    "ovirt-hosted-engine-cleanup": "ovirt-hosted-engine-setup",
}


# What ovirt-hosted-engine-cleanup removes of a host (ovirt-hosted-engine-setup 2.7.2
# src/bin/ovirt-hosted-engine-cleanup:121-141), below the host's root.
CLEANUP_FILES = (
    "etc/ovirt-hosted-engine/answers.conf",
    "etc/ovirt-hosted-engine/hosted-engine.conf",
    "etc/vdsm/vdsm.conf",
    "etc/pki/vdsm/*/*.pem",
    "etc/pki/CA/cacert.pem",
    "var/tmp/localvm*",
)


def hosted_engine_cleanup(
    state: dict[str, Any], me: dict[str, Any], args: list[str], root: Path
) -> Answer:
    """ovirt-hosted-engine-cleanup [-q] (2.7.2 src/bin/ovirt-hosted-engine-cleanup): without
    -q it asks "Are you sure you want to proceed? [y/n]" and dies on anything but y (:10-21);
    it powers the engine VM off and undefines it (:80-87), stops ovirt-ha-agent and
    ovirt-ha-broker (:90-91), disconnects the hosted-engine storage (:97), stops vdsmd,
    supervdsmd, libvirtd, momd and sanlock (:107-112) and removes its files (:121-141). Every
    command of it runs whatever the one before did: it exits 0."""
    if args != ["-q"]:
        return _fail("fakehost: ovirt-hosted-engine-cleanup is only run with -q here", 2)
    state["engine"]["deployed"] = False
    for unit in ("ovirt-ha-agent", "ovirt-ha-broker", "vdsmd", "supervdsmd", "libvirtd"):
        if unit in me["active"]:
            me["active"].remove(unit)
    me["mounts"] = {k: v for k, v in me["mounts"].items() if not k.startswith("/rhev/")}
    for pattern in CLEANUP_FILES:
        for path in root.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    return _ok(
        " -=== Destroy hosted-engine VM ===- \n -=== Removing configuration files ===- \n",
        True,
    )


def udevadm(me: dict[str, Any], args: list[str]) -> Answer:
    """udevadm info --query=property DEVICE: the device's udev properties, KEY=value a line
    (udevadm(8)), as udev's rules set them for the brick disk (see `disk`)."""
    words = _words(args)
    if words[:1] != ["info"] or "--query=property" not in args or len(words) != 2:
        return _fail(f"fakehost: no stand-in behaviour for udevadm {' '.join(args)}", 2)
    device = words[1]
    known = me.get("disks", {}).get(device)
    if known is None:
        return _fail(f"fakehost: no disk {device} on this host", 1)
    properties = {"DEVTYPE": "disk", "SUBSYSTEM": "block", **known["properties"]}
    return _ok("".join(f"{key}={value}\n" for key, value in sorted(properties.items())))


def nmcli(me: dict[str, Any], args: list[str]) -> Answer:
    """nmcli -g IP4.ADDRESS device show NIC (NetworkManager 1.36 on EL9): the values alone,
    several joined by " | " (src/nmcli/utils.c:1114), an empty line for a NIC without IPv4
    address; "Error: Device 'NIC' not found." and exit 10 for a NIC NetworkManager does not
    know (src/nmcli/devices.c:1158, NMC_RESULT_ERROR_NOT_FOUND in src/nmcli/nmcli.h:49);
    without a running NetworkManager "Error: NetworkManager is not running." and exit 8
    (NMC_RESULT_ERROR_NM_NOT_RUNNING). me["nics"]: each NIC's addresses, ADDRESS/PREFIX."""
    if args[:4] != ["-g", "IP4.ADDRESS", "device", "show"] or len(args) != 5:
        return _fail(f"fakehost: no stand-in behaviour for nmcli {args}", 2)
    if "NetworkManager" not in me["active"]:
        return _fail("Error: NetworkManager is not running.", 8)
    nics = me.get("nics", {})
    if args[4] not in nics:
        return _fail(f"Error: Device '{args[4]}' not found.", 10)
    return _ok(" | ".join(nics[args[4]]) + "\n")


def timedatectl(me: dict[str, Any], args: list[str]) -> Answer:
    """systemd 252 (EL9): `timedatectl show -p NTPSynchronized --value` prints yes or no
    (redhat-plumbers/systemd-rhel9 v252 src/timedate/timedatectl.c, show_properties); an
    operation it does not know: "Unknown command verb X.", exit 1. Whether the clock is
    synchronised is the host's state (me["clock_synced"])."""
    if args != ["show", "-p", "NTPSynchronized", "--value"]:
        return _fail(f"fakehost: no stand-in behaviour for timedatectl {' '.join(args)}", 2)
    return _ok("yes\n" if me.get("clock_synced", True) else "no\n")


def answer(
    program: str, state: dict[str, Any], me: dict[str, Any], args: list[str], root: Path
) -> Answer:
    package = PACKAGE_OF.get(program)
    if package is not None and package not in me["packages"]:
        return _fail(f"bash: {program}: command not found", 127)
    if program == "dnf":
        return dnf(state, me, args, root)
    if program == "subscription-manager":
        return subscription_manager(me, args)
    if program == "firewall-cmd":
        return firewall_cmd(me, args)
    if program in ("pvcreate", "vgcreate", "lvcreate", "vgs", "lvs"):
        return lvm(program, me, args)
    if program == "mkfs.xfs":
        return mkfs_xfs(me, args)
    if program == "semanage":
        return semanage(me, args)
    if program == "restorecon":
        return restorecon(me, args, root)
    if program == "udevadm":
        return udevadm(me, args)
    if program == "ovirt-hosted-engine-cleanup":
        return hosted_engine_cleanup(state, me, args, root)
    if program == "nmcli":
        return nmcli(me, args)
    if program == "timedatectl":
        return timedatectl(me, args)
    if program == "ssh-keyscan":
        return ssh_keyscan(state, args, root)
    return _fail(f"fakehost: no stand-in behaviour for {program}", 2)
