"""The stand-in for every host program a generated script calls (see fakehost.py).

It is installed under each program's name; it records the call, answers queries from the
shared state file and updates that state for calls that change a host.

A stand-in must answer as the real program does at the target's version (CentOS 7, oVirt 3.5),
not as the scripts expect: each behaviour below names where it comes from. "Seen with Debian's
glusterfs 10.3" means the real glusterd, run by tests/test_stand_ins.py, which also checks that
this stand-in refuses every volume command the real glusterd refuses.
"""

import marshal
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

STATE = Path(os.environ["FAKEHOST_STATE"])
HOST = os.environ["FAKEHOST_NAME"]
ROOT = Path(os.environ["FAKEHOST_ROOT"])
PROGRAM = os.environ["FAKEHOST_PROGRAM"]
ARGS = sys.argv[1:]

# marshal, not json: importing json costs more than the rest of a call's start.
state = marshal.loads(STATE.read_bytes())
me = state["hosts"][HOST]

# The packages that bring each systemd unit on EL7 (their RPMs' file lists): systemctl knows a
# unit only once its package is installed, or its file is in /etc/systemd/system.
UNIT_PACKAGES = {
    "iptables": "iptables-services",
    "glusterd": "glusterfs-server",
    "ctdb": "ctdb",
    "vdsmd": "vdsm",
    "ovirt-ha-agent": "ovirt-hosted-engine-ha",
    "ovirt-ha-broker": "ovirt-hosted-engine-ha",
    "firewalld": "firewalld",
    "NetworkManager": "NetworkManager",
    "chronyd": "chrony",
    "multipathd": "device-mapper-multipath",
}


def record(change, code=0):
    call = {"host": HOST, "argv": [PROGRAM, *ARGS], "change": change, "code": code}
    with open(os.environ["FAKEHOST_CALLS"], "a") as calls:
        calls.write(repr(call) + "\n")


def done(code=0, out="", change=False, err=""):
    record(change, code)
    if change:
        STATE.write_bytes(marshal.dumps(state))
    if out:
        sys.stdout.write(out)
    if err:
        sys.stderr.write(err)
    sys.exit(code)


def host_by_peer(peer):
    return next((name for name, h in state["hosts"].items() if h["peer"] == peer), None)


def pool():
    return [state["hosts"][state["first"]]["peer"], *state["peers"]]


def words(args):
    return [a for a in args if not a.startswith("-")]


def under_root(path, root=None):
    """A path of this host (or of the host whose root is `root`) as the scripts see it below
    CONFGEN_ROOT, following symlinks whose targets are absolute paths of the host (the CTDB
    links point at /mnt/lock/...)."""
    root = ROOT if root is None else root
    current = root / path.lstrip("/")
    for _ in range(10):
        if not current.is_symlink():
            return current
        target = os.readlink(current)
        current = root / target.lstrip("/") if target.startswith("/") else current.parent / target
    return current


def nodes_file(root):
    """The nodes file of the host whose root is `root`, as ctdbd reads it (ctdb_set_nlist,
    samba-team/samba samba-4.2.0 ctdb/server/ctdb_server.c:160-230): trailing empty lines
    dropped, each line's leading blanks stripped, an empty line skipped, a line that starts
    with '#' a deleted node at 0.0.0.0; the others' PNNs in order from 0."""
    current = root / "etc/ctdb/nodes"
    for _ in range(10):  # the link to the meta volume, as under_root follows it
        if not current.is_symlink():
            break
        target = os.readlink(current)
        current = root / target.lstrip("/") if target.startswith("/") else current.parent / target
    lines = current.read_text().split("\n") if current.is_file() else []
    while lines and lines[-1] == "":
        lines.pop()
    return [
        "0.0.0.0" if line.startswith("#") else line
        for line in (raw.lstrip(" \t") for raw in lines)
        if line
    ]


def ctdb_start(host, root):
    """ctdbd loads its nodes file when it starts, and again only at `ctdb reloadnodes`."""
    host["ctdb_nodes"] = nodes_file(root)


def unit_known(unit):
    unit = unit.removesuffix(".service")
    if (ROOT / "etc/systemd/system" / unit).exists() or (
        ROOT / "etc/systemd/system" / f"{unit}.service"
    ).exists():
        return True
    return UNIT_PACKAGES.get(unit) in me["packages"]


if PROGRAM == "id":
    done(out="0\n")
if PROGRAM == "hostname":
    done(out=(me["fqdn"] if "-f" in ARGS or not ARGS else HOST) + "\n")
if PROGRAM == "sleep":
    done()
# The seed's own programs (fakehost_el7.py, which the containers of tests/e2e run too); rpm
# and getenforce answer alike on EL9.
if PROGRAM in ("rpm", "yum", "getenforce", "setenforce", "ssm", "hosted-engine", "timedatectl"):
    el9 = state.get("target") == "ovirt45-el9"
    if not el9 or PROGRAM in ("rpm", "getenforce"):
        import fakehost_el7

        code, out, change, err = fakehost_el7.answer(PROGRAM, state, me, ARGS, ROOT)
        me.pop("restarted", None)  # the units a call restarted: nothing to do here
        done(code, out.replace(".el7.", ".el9.") if el9 else out, change, err)
if PROGRAM == "systemctl":
    # systemctl(1), systemd 219 (EL7) and 252 (EL9): "is-active PATTERN...: Check whether any
    # of the specified units are active (i.e. running). Returns an exit code 0 if at least one
    # is active, or non-zero otherwise. Unless --quiet is specified, this will also print the
    # current unit state to standard output" (3 for inactive: systemctl(1) exit status
    # table); is-enabled alike, with "enabled" or "disabled" and 1 when none is.
    verb, *units = words(ARGS)
    quiet = "--quiet" in ARGS or "-q" in ARGS
    if verb in ("is-enabled", "is-active"):
        known = me["enabled"] if verb == "is-enabled" else me["active"]
        yes, no = ("enabled", "disabled") if verb == "is-enabled" else ("active", "inactive")
        names = [{unit, unit.removesuffix(".service")} for unit in units]
        states = [yes if forms & set(known) else no for forms in names]
        out = "" if quiet else "".join(f"{state}\n" for state in states)
        done((0 if yes in states else 1 if verb == "is-enabled" else 3), out=out)
    if verb == "reload" and not (unit_known(units[0]) and units[0] in me["active"]):
        # systemctl(1): reload asks a running unit to reload its configuration; systemd 252
        # refuses one not running ("Job for X.service failed", exit 1).
        done(1, err=f"Failed to reload {units[0]}.service: the unit is not active.\n")
    if verb == "reload":
        me.setdefault("reloaded", []).append(units[0])
        done(change=True)
    if verb == "reset-failed":
        # systemctl(1): resets a unit's failed state and its start rate limit counter; no unit
        # fails on the fake cluster, so there is nothing more to keep. A unit that is neither
        # running nor enabled is one systemd has unloaded, and refuses (seen with systemd 252
        # in the e2e containers, tests/e2e); one systemd does not know is not modelled.
        unit = units[0].removesuffix(".service")
        if not unit_known(unit):
            done(1, err=f"fakehost: systemctl reset-failed {unit}: not modelled\n")
        if unit not in me["active"] and unit not in me["enabled"]:
            done(
                1,
                err=f"Failed to reset failed state of unit {unit}.service: Unit {unit}.service "
                "not loaded.\n",
            )
        done(change=True)
    if verb in ("enable", "disable", "start", "stop", "restart", "reload-or-restart"):
        for unit in units:
            # systemctl(1): "Failed to start X.service: Unit not found.", exit 5 (systemd 219)
            if verb != "disable" and verb != "stop" and not unit_known(unit):
                done(5, err=f"Failed to {verb} unit: Unit {unit}.service not found.\n")
    for unit in units:
        if verb == "enable" and unit not in me["enabled"]:
            me["enabled"].append(unit)
        if verb == "disable" and unit in me["enabled"]:
            me["enabled"].remove(unit)
        if verb in ("start", "reload-or-restart") and unit not in me["active"]:
            me["active"].append(unit)
            if unit == "ctdb":
                ctdb_start(me, ROOT)
            if unit == "glusterd":
                import fakehost_gluster

                fakehost_gluster.glusterd_started(state, me, HOST, ROOT)
        if verb == "restart":
            # systemctl(1): "Stop and then start one or more units ... If the units are not
            # running yet, they will be started."
            if unit not in me["active"]:
                me["active"].append(unit)
            if unit == "glusterd":
                import fakehost_gluster

                fakehost_gluster.glusterd_started(state, me, HOST, ROOT)
        if verb == "stop" and unit in me["active"]:
            me["active"].remove(unit)
            if unit == "ctdb":
                me.pop("ctdb_nodes", None)
            # The seed: once ovirt-ha-agent, -broker and vdsmd are stopped, "you should end up
            # with your hosted engine volume unmounted".
            if unit == "vdsmd":
                me["mounts"] = {k: v for k, v in me["mounts"].items() if not k.startswith("/rhev/")}
    if verb == "reboot":  # the host comes back with its enabled units running
        me["active"] = list(me["enabled"])
        if "ctdb" in me["active"]:
            ctdb_start(me, ROOT)
    done(change=True)
if PROGRAM == "hosted-engine" and state.get("target") == "ovirt45-el9":
    import fakehost_engine

    code, out, change, err = fakehost_engine.hosted_engine(state, me, HOST, ARGS, ROOT)
    done(code, out, change, err)
# findmnt(8): exit 1 when no filesystem matches (--source: what is mounted from there).
if PROGRAM == "findmnt":
    source = ARGS[ARGS.index("--source") + 1]
    done(0 if source in me["mounts"].values() else 1)
# lsblk(8): exit 32 for a path that is not a block device (held to util-linux by
# tests/test_stand_ins.py, as are blkid, wipefs, mountpoint and umount below).
# --output SUBSYSTEMS: the subsystems of the device and its parents, block:scsi:pci for a SCSI
# disk (util-linux 2.38 lsblk(8); see fakehost_el9.disk).
if PROGRAM == "lsblk":
    device = words(ARGS)[-1]
    if device not in me["devices"]:
        done(32, err=f"lsblk: {device}: not a block device\n")
    if "MOUNTPOINT" in ARGS:
        # lsblk --noheadings --output MOUNTPOINT DEVICE: a line for DEVICE and one for each
        # device on it (its partitions, the logical volumes of a volume group it holds), the
        # mount point or nothing (util-linux lsblk(8); held to util-linux by
        # tests/test_stand_ins_preflight.py).
        mounted = {d: m for m, d in me.get("mounted_devices", {}).items()}
        below = [device, *me.get("children", {}).get(device, [])]
        for group in me.get("volume_groups", {}).values():
            if group.get("pv") == device:
                below += [d for d in me["devices"] if d.startswith(f"/dev/{group['name']}/")]
        done(out="".join(f"{mounted.get(d, '')}\n" for d in below))
    if "SUBSYSTEMS" in ARGS:
        done(out=me.get("disks", {}).get(device, {}).get("subsystems", "block") + "\n")
    done(0)
if PROGRAM == "blkid" and "-U" in ARGS:
    # blkid -U UUID (util-linux blkid(8)): the device holding a filesystem of that UUID, exit 2
    # when none does.
    uuid = ARGS[ARGS.index("-U") + 1]
    held = [d for d, u in me.get("uuids", {}).items() if u == uuid and me["devices"].get(d)]
    done(0, f"{held[0]}\n") if held else done(2)
if PROGRAM == "blkid":
    # blkid(8): exit 2 when the device has no (or no matching) tag.
    # -s TAG -o value prints the tag's value alone (the brick step asks for TYPE and UUID).
    device = words(ARGS)[-1]
    kind = me["devices"].get(device, "")
    if "UUID" in ARGS:  # every signature blkid knows here (filesystems, swap, LVM) has one
        uuid = me.get("uuids", {}).get(device, "1b2c3d4e-fake-uuid")
        done(0, f"{uuid}\n") if kind else done(2)
    if "TYPE" in ARGS and "value" in ARGS:
        done(0, f"{kind}\n") if kind else done(2)
    done(0, f"DEVNAME={device}\nTYPE={kind}\n") if kind else done(2)
if PROGRAM == "wipefs":
    device = words(ARGS)[-1]
    if device not in me["devices"]:
        done(1, err=f"wipefs: error: {device}: probing initialization failed: No such file\n")
    kind = me["devices"].get(device, "")
    if "--all" in ARGS or "-a" in ARGS:  # wipefs(8): erase every signature found
        me["devices"][device] = ""
        done(change=True)
    done(0, f"DEVICE OFFSET TYPE UUID LABEL\n{device} 0x0 {kind}\n" if kind else "")
# mountpoint(1): exit 0 for a mount point, 32 otherwise.
if PROGRAM == "mountpoint":
    # mountpoint(1), util-linux: exit 0 for a mount point, 32 otherwise; without -q it says
    # "PATH is a mountpoint" or "PATH is not a mountpoint" (sys-utils/mountpoint.c).
    path = words(ARGS)[0]
    mounted = path in me["mounts"]
    said = "" if "-q" in ARGS else f"{path} is {'' if mounted else 'not '}a mountpoint\n"
    done(0 if mounted else 32, out=said)
if PROGRAM == "mount" and len(words(ARGS)) == 1:
    # mount(8) with a mount point alone mounts what /etc/fstab names for it: "can't find in
    # /etc/fstab" (exit 1) when no line does; UUID=... is the device holding that UUID; the
    # mount point must be a folder (exit 32, MNT_EX_FAIL). A fresh XFS root carries no
    # SELinux label yet (unlabeled_t) until restorecon gives it one.
    target = words(ARGS)[0]
    entry = next(
        (
            line.split()
            for line in (ROOT / "etc/fstab").read_text().splitlines()
            if line.split()[1:2] == [target] and not line.startswith("#")
        ),
        None,
    )
    if entry is None:
        done(1, err=f"mount: {target}: can't find in /etc/fstab.\n")
    source = entry[0]
    uuids = me.get("uuids", {})
    device = next((d for d, u in uuids.items() if f"UUID={u}" == source), source)
    if me["devices"].get(device) != entry[2]:
        done(32, err=f"mount: {target}: special device {source} does not exist.\n")
    if not (ROOT / target.lstrip("/")).is_dir():
        done(32, err=f"mount: {target}: mount point does not exist.\n")
    me["mounts"][target] = "brick-fs"
    me.setdefault("mounted_devices", {})[target] = device
    if "labels" in me:
        me["labels"] = {p: t for p, t in me["labels"].items() if not p.startswith(target + "/")}
        me["labels"][target] = "unlabeled_t"
    done(change=True)
if PROGRAM == "mount":
    # mount.glusterfs fetches the volume file from the server it names (localhost here): the
    # local glusterd must run and the volume be started (mount.glusterfs(8)), and the mount
    # point must exist.
    source, target = words(ARGS)[-2], words(ARGS)[-1]
    volume = state["volumes"].get(source.split(":", 1)[1].lstrip("/"))
    target_dir = Path(target) if target.startswith("/tmp/") else ROOT / target.lstrip("/")
    # mount.glusterfs (glusterfs-client) exits 1 on either failure.
    if not target_dir.is_dir():
        done(1, err="ERROR: Mount point does not exist\n")
    if "glusterd" not in me["active"] or volume is None or volume["status"] != "Started":
        done(1, err=f"Mounting glusterfs on {target} failed.\n")
    me["mounts"][target] = source
    for brick in volume["bricks"]:  # a lookup through a client mount replicates the entries
        peer, path = brick.split(":", 1)
        brick_dir = ROOT / path.lstrip("/")
        if brick in volume.get("offline", []):
            continue  # to a brick that is up
        if peer == me["peer"] and brick_dir.is_dir() and not any(brick_dir.iterdir()):
            (brick_dir / "replicated-entry").write_text("")
    done(change=True)
if PROGRAM == "umount":
    target = words(ARGS)[0]
    if target not in me["mounts"]:
        done(32, err=f"umount: {target}: not mounted\n")
    me["mounts"].pop(target)
    done(change=True)
# The scripts' reachability probe, `timeout 5 bash -c 'exec 3<>/dev/tcp/ADDRESS/24007' _ ADDRESS`:
# the connection opens while glusterd runs on the host that has ADDRESS (it listens on 24007 of
# every address, glusterd(8), and the cluster's firewall lets that port through). A VIP is an
# address of a node running ctdb. ICMP echo gets no answer from another host: the firewall
# rejects it ("Destination Host Prohibited", seen on the real cluster of tests/e2e), so no
# script pings.
if PROGRAM == "timeout":
    address = ARGS[-1]
    # The VIPs: the public addresses of the nodes whose ctdbd runs, each node's own
    # /etc/ctdb/public_addresses ("ADDRESS/MASK NIC" a line, ctdb(7) PUBLIC ADDRESSES).
    running = [name for name, h in state["hosts"].items() if "ctdb" in h["active"]]
    vips = set()
    for name in running:
        listed = under_root("/etc/ctdb/public_addresses", Path(state["roots"]) / name)
        if listed.is_file():
            lines = [line.split() for line in listed.read_text().splitlines()]
            vips |= {f[0].split("/")[0] for f in lines if f and not f[0].startswith("#")}
    holders = (
        [state["hosts"][name] for name in running]
        if address in vips
        else [h for name, h in state["hosts"].items() if name == host_by_peer(address)]
    )
    done(0 if any("glusterd" in h["active"] for h in holders[:1]) else 1)
if PROGRAM == "ctdb":
    # ctdb talks to the local ctdbd; without it: "connect() failed", exit 1 (ctdb/tools/ctdb.c).
    if "ctdb" not in me["active"]:
        done(1, err="connect() failed, errno=2\n")

    if words(ARGS)[:1] == ["ip"]:
        # control_ip: "Public IPs on node N", then "ADDRESS PNN" for each public address the
        # node knows, PNN -1 while no node holds it. PNNs are the line numbers of the nodes file,
        # read as ctdb_read_nodes_file reads it (samba ctdb/common/ctdb_util.c): blank lines
        # skipped, each line stripped, one that starts with '#' a deleted node at 0.0.0.0.
        nodes = nodes_file(ROOT)
        running = [
            i
            for i, address in enumerate(nodes)
            for h in state["hosts"].values()
            if h["heartbeat"] == address and "ctdb" in h["active"]
        ]
        mine = next(i for i, a in enumerate(nodes) if a == me["heartbeat"])
        out = f"Public IPs on node {mine}\n"
        for line in under_root("/etc/ctdb/public_addresses").read_text().splitlines():
            address = line.split("/")[0]
            out += f"{address} {running[0] if running else -1}\n"
        done(out=out)
    # The node map of this node's ctdbd: its nodes file when it started or last reloaded it.
    loaded = me["ctdb_nodes"]

    def holder(address):
        """The host whose ctdbd runs as the node of `address`, or None."""
        return next(
            (
                h
                for h in state["hosts"].values()
                if h["heartbeat"] == address and "ctdb" in h["active"]
            ),
            None,
        )

    def connected(address, view=None):
        """A node is connected, in the view of `view` (this host's ctdbd by default), when its
        ctdbd runs and each side has the other in its node map: ctdbd connects to every node
        of its map and refuses a connection from an address that is not in it ("Refused
        connection from unknown node", samba-4.2.0 ctdb/tcp/tcp_connect.c:242-265,
        ctdb_listen_event)."""
        view = me if view is None else view
        other = holder(address)
        if address == view["heartbeat"]:
            return True
        return (
            other is not None
            and address in view["ctdb_nodes"]
            and view["heartbeat"] in (other.get("ctdb_nodes") or [])
        )

    # -n PNN: the node that answers (parse_nodestring, samba-4.2.0 ctdb/tools/ctdb.c:200-300):
    # "Node %u does not exist" (exit 21, ERR_NONODE) past this node's map, "Node %u has status
    # %s" (exit 22, ERR_DISNODE) for one disconnected or deleted.
    node = next((ARGS[i + 1] for i, a in enumerate(ARGS[:-1]) if a == "-n"), None)
    asked = me
    if node is not None:
        pnn = int(node)
        if pnn >= len(loaded):
            done(21, err=f"Node {pnn} does not exist\n")
        if loaded[pnn] == "0.0.0.0" or not connected(loaded[pnn]):
            # A deleted node is DELETED|DISCONNECTED (ctdb_add_deleted_node).
            flags = (
                "DISCONNECTED|DELETED|INACTIVE"
                if loaded[pnn] == "0.0.0.0"
                else "DISCONNECTED|UNHEALTHY|INACTIVE"
            )
            done(22, err=f"Node {pnn} has status {flags}\n")
        asked = holder(loaded[pnn])
    verb = [w for w in words(ARGS) if w != node][:1]
    if verb == ["status"]:
        # control_status (samba-4.2.0 ctdb/tools/ctdb.c:1030-1114), the node map of the node
        # asked (-n) or this one: "Number of nodes:%d", with " (including %d deleted nodes)"
        # when some are, then "pnn:%d %-16s %s%s" for each node not deleted, its flags joined
        # by '|' or "OK" (pretty_print_flags, :131-165; a node not connected is
        # DISCONNECTED|UNHEALTHY from ctdb_add_node, and INACTIVE is the mask of DELETED,
        # DISCONNECTED, BANNED and STOPPED, ctdb/include/ctdb_protocol.h:573-580), " (THIS
        # NODE)" on this one; then the VNN map and the recovery state.
        nodes = asked["ctdb_nodes"]
        deleted = nodes.count("0.0.0.0")
        out = f"Number of nodes:{len(nodes)}"
        out += f" (including {deleted} deleted nodes)\n" if deleted else "\n"
        present = [pnn for pnn, address in enumerate(nodes) if address != "0.0.0.0"]
        for pnn in present:
            address = nodes[pnn]
            flags = "OK" if connected(address, asked) else "DISCONNECTED|UNHEALTHY|INACTIVE"
            this = " (THIS NODE)" if address == me["heartbeat"] else ""
            out += f"pnn:{pnn} {address:<16} {flags}{this}\n"
        out += f"Generation:1\nSize:{len(present)}\n"
        out += "".join(f"hash:{i} lmaster:{pnn}\n" for i, pnn in enumerate(present))
        out += f"Recovery mode:NORMAL (0)\nRecovery master:{present[0]}\n"
        done(out=out)
    if words(ARGS)[:1] == ["reloadnodes"]:
        # control_reload_nodes_file (samba-4.2.0 ctdb/tools/ctdb.c:6189-6232): every other
        # node of this node's map is asked to reload its nodes file, then this node, then a
        # recovery; a node that cannot be asked gets "ERROR: Failed to reload nodes file on
        # node %u. You MUST fix that node manually!" (DEBUG_ERR), and the command goes on and
        # exits 0. It checks nothing of the files first (4.3 added that). The progress lines
        # are DEBUG_NOTICE, below the tool's default level ERR (ctdb/common/cmdline.c:40),
        # so a success prints nothing. Each ctdbd reloads from its own /etc/ctdb/nodes
        # (ctdb/server/ctdb_recover.c:191-252).
        err = ""
        for pnn, address in enumerate(loaded):
            if address == me["heartbeat"]:
                continue
            other = holder(address)
            if address == "0.0.0.0" or other is None or not connected(address):
                err += (
                    f"ERROR: Failed to reload nodes file on node {pnn}. "
                    "You MUST fix that node manually!\n"
                )
                continue
            ctdb_start(other, Path(state["roots"]) / other["name"])
        ctdb_start(me, ROOT)
        done(0, err=err, change=True)
    if words(ARGS)[:1] == ["reloadips"]:
        # control_reloadips: every node of the PNN-LIST ("all") reloads its public_addresses
        # and the addresses are reassigned (samba-4.2.0 ctdb/tools/ctdb.c:4541-4560; ctdb.1
        # reloadips). The stand-in's `ctdb ip` reads the file itself, so a reload changes the
        # state only as a call the host made.
        done(0, change=True)
    done(0)
# getent(1) DATABASE KEY, DATABASE hosts or ahostsv4, through the services of nsswitch.conf's
# "hosts: files dns" in order, the first that knows KEY answering; `-s SERVICE` ("Override all
# databases with the specified service") asks that one alone; exit 2 when none knows it.
# files is the host's /etc/hosts: `hosts NAME|ADDRESS` the first line naming it or for it
# (glibc nss/nss_files/files-hosts.c), `ahostsv4 NAME` the addresses of every line naming it
# (_nss_files_gethostbyname4_r reads the whole file). dns is the fake cluster's DNS: its
# forward records, names to addresses, and its reverse (PTR) records, addresses to names. A name is looked up without regard to
# case (RFC 4343). Printed as glibc nss/getent.c prints them: `hosts` the address, the
# canonical name and its aliases; `ahostsv4` each address once per socket type, the first
# line with the canonical name ("%-15s %-6s %s\n", ahosts_keys_int). Held to glibc's getent
# by tests/test_stand_ins_preflight.py.
if PROGRAM == "getent":
    service = next(
        (a.split("=", 1)[1] for a in ARGS if a.startswith("--service=")),
        next((ARGS[i + 1] for i in range(len(ARGS) - 1) if ARGS[i] == "-s"), None),
    )
    rest = [
        a for i, a in enumerate(ARGS) if not a.startswith("-") and (i == 0 or ARGS[i - 1] != "-s")
    ]
    database, key = rest[0], rest[-1]

    def hosts_file():
        entries = []
        for line in (ROOT / "etc/hosts").read_text().splitlines():
            fields = line.split("#", 1)[0].split()
            if len(fields) >= 2:
                entries.append((fields[0], fields[1:]))
        return entries

    def dns_entries():
        return [(address, [name]) for name, address in state.get("dns", {}).items()]

    def lookup(entries):
        """(addresses, names) for KEY in one service's entries, or None."""
        if database == "hosts" and any(key == a for a, _ in entries):
            address, names = next((a, n) for a, n in entries if a == key)
            return [address], names
        named = [(a, n) for a, n in entries if key.lower() in (x.lower() for x in n)]
        if not named:
            return None
        addresses = list(dict.fromkeys(a for a, _ in named))
        return (addresses[:1] if database == "hosts" else addresses), named[0][1]

    def dns_lookup():
        """DNS holds forward records (`dns`) and, apart, reverse ones (`ptr`, address to
        name; without it, each forward record's)."""
        ptr = state.get("ptr")
        if database == "hosts" and ptr is not None and key not in state.get("dns", {}):
            return ([key], [ptr[key]]) if key in ptr else None
        return lookup(dns_entries())

    found = None
    for each in [service] if service else ["files", "dns"]:
        found = lookup(hosts_file()) if each == "files" else dns_lookup()
        if found is not None:
            break
    if found is None:
        done(2)
    addresses, names = found
    if database == "ahostsv4":
        out = ""
        for i, address in enumerate(addresses):
            out += f"{address:<15} STREAM {names[0] if i == 0 else ''}\n"
            out += f"{address:<15} DGRAM  \n{address:<15} RAW    \n"
        done(out=out)
    done(out=f"{addresses[0]:<15} {' '.join(names)}\n")
# ip(8) -4 -o addr show dev NIC (iproute2, ip-address(8)): a line per IPv4 address of NIC,
# "INDEX: NIC    inet ADDRESS/PREFIX [brd BROADCAST] scope SCOPE NIC\       valid_lft ...";
# 'Device "NIC" does not exist.' and exit 1 for a NIC the host has not (held to iproute2 by
# tests/test_stand_ins_preflight.py). The host's NICs hold what its state says.
if PROGRAM == "ip":
    if ARGS[:4] != ["-4", "-o", "addr", "show"] or ARGS[4:5] != ["dev"]:
        done(2, err=f"fakehost: no stand-in behaviour for ip {ARGS}\n")
    nic = ARGS[5]
    nics = me.get("nics", {})
    if nic not in nics:
        done(1, err=f'Device "{nic}" does not exist.\n')
    import ipaddress

    out = ""
    # The interface's index: lo is 1, the others follow in name order here.
    index = 1 if nic == "lo" else sorted(n for n in nics if n != "lo").index(nic) + 2
    for address in nics[nic]:
        interface = ipaddress.IPv4Interface(address)
        if interface.ip.is_loopback:
            where = "scope host"
        else:
            where = f"brd {interface.network.broadcast_address} scope global"
        out += (
            f"{index}: {nic}    inet {address} {where} {nic}\\"
            "       valid_lft forever preferred_lft forever\n"
        )
    done(out=out)
# df -k --output=avail PATH (coreutils df(1)): a header "Avail", then the KiB available on the
# filesystem that holds PATH, each right-aligned to the wider of the two; a PATH that does
# not exist: "df: PATH: No such file or directory", exit 1 (held to coreutils by
# tests/test_stand_ins_preflight.py). The free space of each folder is the host's state (the
# longest folder of it that holds PATH).
if PROGRAM == "df":
    if ARGS[:2] != ["-k", "--output=avail"] or len(ARGS) != 3:
        done(2, err=f"fakehost: no stand-in behaviour for df {ARGS}\n")
    path = ARGS[2]
    if not Path(path).exists():
        done(1, err=f"df: {path}: No such file or directory\n")
    inside = "/" + str(Path(path).relative_to(ROOT)) if path.startswith(str(ROOT)) else path
    free = me.get("free_kib", {"/": 50 << 20})
    holder = max(
        (f for f in free if inside == f or inside.startswith(f.rstrip("/") + "/")), key=len
    )
    width = max(len("Avail"), len(str(free[holder])))
    done(out=f"{'Avail':>{width}}\n{free[holder]:>{width}}\n")
# getfattr(1) -n KEY and setfattr(1) -x KEY (attr 2.5) on the extended attributes the gluster
# stand-in keeps for a brick folder (fakehost_gluster.VOLUME_ID, GFID). A missing attribute:
# "No such attribute", exit 1 (seen with Debian's attr 2.5.1 on glusterd's brick folders).
if PROGRAM == "setfattr" and ARGS[-1] in me["mounts"] and ":" in me["mounts"][ARGS[-1]]:
    import fakehost_gluster

    # An attribute set or removed on a Gluster volume's root through a client mount.
    volume = state["volumes"][me["mounts"][ARGS[-1]].split(":", 1)[1].lstrip("/")]
    code, err = fakehost_gluster.client_write(volume, ARGS[-1])
    done(code, change=code == 0, err=err)
if PROGRAM in ("getfattr", "setfattr"):
    key = ARGS[ARGS.index("-n" if PROGRAM == "getfattr" else "-x") + 1]
    target = ARGS[-1]
    path = "/" + str(Path(target).relative_to(ROOT)) if target.startswith(str(ROOT)) else target
    path = path.rstrip("/") if path != "/" else path
    held = me.setdefault("xattrs", {}).get(path, {})
    if key not in held:
        done(1, err=f"{PROGRAM}: {target}: No such attribute\n")
    if PROGRAM == "getfattr":
        done(out=held[key] + "\n")
    del held[key]
    done(change=True)
if PROGRAM == "gluster":
    import fakehost_gluster

    groups = ROOT / "var/lib/glusterd/groups"
    remote = next((a.split("=", 1)[1] for a in ARGS if a.startswith("--remote-host=")), None)
    code, out, change, err = fakehost_gluster.answer(state, me, words(ARGS), groups, remote)
    done(code, out, change, err)
import fakehost_el9  # noqa: E402 (here, last: the seed's stand-ins never pay for it)

if PROGRAM in fakehost_el9.PROGRAMS:
    code, out, change, err = fakehost_el9.answer(PROGRAM, state, me, ARGS, ROOT)
    done(code, out, change, err)
record(True)
sys.exit(f"fakehost: no stand-in behaviour for {PROGRAM} {ARGS}")
