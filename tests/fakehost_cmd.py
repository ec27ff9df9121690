"""The stand-in for every host program a generated script calls (see fakehost.py).

It is installed under each program's name; it records the call, answers queries from the
shared state file and updates that state for calls that change a host.
"""

import json
import os
import sys
from pathlib import Path

STATE = Path(os.environ["FAKEHOST_STATE"])
HOST = os.environ["FAKEHOST_NAME"]
ROOT = Path(os.environ["FAKEHOST_ROOT"])
PROGRAM = os.environ["FAKEHOST_PROGRAM"]
ARGS = sys.argv[1:]

state = json.loads(STATE.read_text())
me = state["hosts"][HOST]


def record(change):
    with open(os.environ["FAKEHOST_CALLS"], "a") as calls:
        calls.write(json.dumps({"host": HOST, "argv": [PROGRAM, *ARGS], "change": change}) + "\n")


def done(code=0, out="", change=False):
    record(change)
    if change:
        STATE.write_text(json.dumps(state))
    if out:
        sys.stdout.write(out)
    sys.exit(code)


def host_by_peer(peer):
    return next((name for name, h in state["hosts"].items() if h["peer"] == peer), None)


def pool():
    return [state["hosts"][state["first"]]["peer"], *state["peers"]]


def bricks_known(bricks):
    return all(b.split(":", 1)[0] in pool() for b in bricks)


def words(args):
    return [a for a in args if not a.startswith("-")]


if PROGRAM == "id":
    done(out="0\n")
if PROGRAM == "hostname":
    done(out=(me["fqdn"] if "-f" in ARGS or not ARGS else HOST) + "\n")
if PROGRAM == "sleep":
    done()
if PROGRAM == "rpm":
    package = words(ARGS)[0]
    done(
        0 if package in me["packages"] else 1,
        "" if package in me["packages"] else f"package {package} is not installed\n",
    )
if PROGRAM == "yum":
    verb, *rest = words(ARGS)
    for item in rest:
        me["packages"].append(
            item.rsplit("/", 1)[-1].removesuffix(".rpm") if verb == "localinstall" else item
        )
    done(change=True)
if PROGRAM == "systemctl":
    verb, *units = words(ARGS)
    if verb == "is-enabled":
        done(0 if units[0] in me["enabled"] else 1)
    if verb == "is-active":
        done(0 if units[0] in me["active"] else 1)
    for unit in units:
        if verb == "enable" and unit not in me["enabled"]:
            me["enabled"].append(unit)
        if verb == "disable" and unit in me["enabled"]:
            me["enabled"].remove(unit)
        if verb in ("start", "reload-or-restart") and unit not in me["active"]:
            me["active"].append(unit)
        if verb == "stop" and unit in me["active"]:
            me["active"].remove(unit)
            if unit == "vdsmd":  # vdsm unmounts the storage it mounted
                me["mounts"] = {k: v for k, v in me["mounts"].items() if not k.startswith("/rhev/")}
    if verb == "reboot":
        me["active"] = list(me["enabled"])
    done(change=True)
if PROGRAM == "getenforce":
    done(out=me["selinux"] + "\n")
if PROGRAM == "setenforce":
    me["selinux"] = "Permissive" if ARGS == ["0"] else "Enforcing"
    done(change=True)
if PROGRAM == "hosted-engine":
    engine = state["engine"]
    if ARGS == ["--vm-status"]:
        up = engine["vm"] == "up"
        lines = (
            ["!! Cluster is in GLOBAL MAINTENANCE mode !!", ""]
            if engine["global_maintenance"]
            else []
        )
        for host_id in engine["hosts"]:
            status = (
                '{"health": "good", "vm": "up", "detail": "up"}'
                if up and host_id == 1
                else '{"reason": "vm not running on this host", "health": "bad", "vm": "down", "detail": "unknown"}'
            )
            lines += [
                f"--== Host {host_id} status ==--",
                "",
                f"Host ID                            : {host_id}",
                f"Engine status                      : {status}",
                "",
            ]
        done(out="\n".join(lines) + "\n")
    if "--set-maintenance" in ARGS:
        engine["global_maintenance"] = "--mode=global" in ARGS
        if (
            not engine["global_maintenance"]
            and "ovirt-ha-agent" in state["hosts"][state["first"]]["active"]
        ):
            engine["vm"] = "up"
    if ARGS == ["--vm-shutdown"]:
        engine["vm"] = "down"
    if "--deploy" in ARGS:
        answers = Path(next(a for a in ARGS if a.startswith("--config-append=")).split("=", 1)[1])
        host_id = int(
            next(
                line
                for line in answers.read_text().splitlines()
                if line.startswith("OVEHOSTED_STORAGE/hostID=")
            ).split(":")[-1]
        )
        engine["hosts"].append(host_id)
        conf = ROOT / "etc/ovirt-hosted-engine/hosted-engine.conf"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(f"host_id={host_id}\n")
        # The installer replaces the firewall rules, keeping a dated copy of the old ones.
        rules = ROOT / "etc/sysconfig/iptables"
        (ROOT / "etc/sysconfig/iptables.20141112134450").write_bytes(rules.read_bytes())
        rules.write_text("# rules written by hosted-engine --deploy\n")
    done(change=True)
if PROGRAM == "findmnt":
    source = ARGS[ARGS.index("--source") + 1]
    done(0 if source in me["mounts"].values() else 1)
if PROGRAM == "lsblk":
    done(0 if words(ARGS)[0] in me["devices"] else 32)
if PROGRAM == "blkid":
    device = words(ARGS)[-1]
    if "UUID" in ARGS:
        done(0, "1b2c3d4e-fake-uuid\n") if any(
            v == "brick-fs" for v in me["mounts"].values()
        ) else done(2)
    kind = me["devices"].get(device, "")
    done(0, f"DEVNAME={device}\nTYPE={kind}\n") if kind else done(2)
if PROGRAM == "wipefs":
    device = words(ARGS)[-1]
    kind = me["devices"].get(device, "")
    done(0, f"DEVICE OFFSET TYPE UUID LABEL\n{device} 0x0 {kind}\n" if kind else "")
if PROGRAM == "ssm":
    device, mount_point = words(ARGS)[-1], words(ARGS)[-2]
    me["devices"][device] = "LVM2_member"
    me["mounts"][mount_point] = "brick-fs"
    done(change=True)
if PROGRAM == "mountpoint":
    done(0 if words(ARGS)[0] in me["mounts"] else 32)
if PROGRAM == "mount":
    source, target = words(ARGS)[-2], words(ARGS)[-1]
    volume = state["volumes"].get(source.split(":", 1)[1].lstrip("/"))
    if volume is None or volume["status"] != "Started":
        done(32, f"mount: {source} cannot be mounted\n", change=False)
    me["mounts"][target] = source
    for brick in volume["bricks"]:  # a lookup through a client mount replicates the entries
        peer, path = brick.split(":", 1)
        brick_dir = ROOT / path.lstrip("/")
        if peer == me["peer"] and brick_dir.is_dir() and not any(brick_dir.iterdir()):
            (brick_dir / "replicated-entry").write_text("")
    done(change=True)
if PROGRAM == "umount":
    me["mounts"].pop(words(ARGS)[0], None)
    done(change=True)
if PROGRAM == "timeout":  # the scripts' reachability probe: timeout 5 bash -c ... _ PEER
    peer_host = host_by_peer(ARGS[-1])
    done(0 if peer_host and "glusterd" in state["hosts"][peer_host]["active"] else 1)
if PROGRAM == "ctdb":
    done(0 if "ctdb" in me["active"] else 1)
if PROGRAM == "getent":
    name = words(ARGS)[-1]
    for line in (ROOT / "etc/hosts").read_text().splitlines():
        if name in line.split()[1:]:
            done(out=line + "\n")
    done(2)
if PROGRAM == "gluster":
    rest = words(ARGS)
    if rest[:2] == ["peer", "status"]:
        mine = me["peer"]
        peers = [p for p in pool() if p != mine] if mine in pool() else []
        out = f"Number of Peers: {len(peers)}\n"
        for peer in peers:
            connected = "glusterd" in state["hosts"][host_by_peer(peer)]["active"]
            out += f"\nHostname: {peer}\nUuid: 0000\nState: Peer in Cluster ({'Connected' if connected else 'Disconnected'})\n"
        done(out=out)
    if rest[:2] == ["peer", "probe"]:
        target = host_by_peer(rest[2])
        if not target or "glusterd" not in state["hosts"][target]["active"]:
            done(1, "peer probe: failed: Probe returned with Transport endpoint is not connected\n")
        if rest[2] not in state["peers"]:
            state["peers"].append(rest[2])
        done(change=True)
    if rest[0] == "volume":
        verb, name = rest[1], rest[2]
        volume = state["volumes"].get(name)
        if verb == "info":
            if volume is None:
                done(1, f"Volume {name} does not exist\n")
            out = f"Volume Name: {name}\nStatus: {volume['status']}\nBricks:\n"
            out += "".join(f"Brick{i}: {b}\n" for i, b in enumerate(volume["bricks"], 1))
            done(out=out)
        if verb == "heal" and rest[3] == "info":
            done(out="".join(f"Brick {b}\nNumber of entries: 0\n\n" for b in volume["bricks"]))
        bricks = [w for w in rest[3:] if ":" in w]
        if verb in ("create", "add-brick") and not bricks_known(bricks):
            done(1, "volume: failed: a brick's host is not in the trusted pool\n")
        if verb == "create":
            state["volumes"][name] = {"status": "Created", "bricks": bricks}
        if verb == "add-brick":
            volume["bricks"] += bricks
        if verb == "start":
            volume["status"] = "Started"
        done(change=True)
record(True)
sys.exit(f"fakehost: no stand-in behaviour for {PROGRAM} {ARGS}")
