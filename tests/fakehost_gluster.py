"""The gluster stand-in: the trusted pool and its volumes, as glusterd keeps and checks them.

`answer` takes the fake cluster's state, the calling host and the command's words (options
left out) and returns (exit code, stdout, changed, stderr), updating the state for a command
that changes it. What it refuses, and the messages, are glusterd's: seen with Debian's
glusterfs 10.3 (tests/test_stand_ins.py runs every volume command of the scripts, and every
refusal below, on the real glusterd and compares) and found in the GlusterFS 3.6 sources the
target ran (cli/src/cli-cmd-parser.c for the command-line checks; glusterd-volume-ops.c,
glusterd-brick-ops.c and glusterd-utils.c for the rest).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

Answer = tuple[int, str, bool, str]


def _ok(out: str = "", change: bool = False) -> Answer:
    return 0, out, change, ""


def _fail(message: str, code: int = 1) -> Answer:
    return code, "", False, message + "\n"


def _host_of(state: dict[str, Any], peer: str) -> str | None:
    return next((name for name, h in state["hosts"].items() if h["peer"] == peer), None)


def _pool(state: dict[str, Any]) -> list[str]:
    return [state["hosts"][state["first"]]["peer"], *state["peers"]]


def bricks_on(state: dict[str, Any], peer: str) -> list[str]:
    """The bricks of every volume that the peer serves."""
    return [b for v in state["volumes"].values() for b in v["bricks"] if b.split(":", 1)[0] == peer]


def _glusterfs_10(state: dict[str, Any]) -> bool:
    """The target of ovirt45-el9 runs glusterfs 10; the seed's, glusterfs 3.6."""
    return state.get("target") == "ovirt45-el9"


def _probed(state: dict[str, Any], message: str) -> str:
    """What `peer probe` prints on success: glusterfs 3.6 "peer probe: success. MESSAGE"
    (cli/src/cli-rpc-ops.c:151 at v3.6.0, gf_cli_probe_cbk), glusterfs 10 "peer probe: MESSAGE"
    with "success" for none (v10.3 cli-rpc-ops.c:141,180), as the real 10.3 prints in
    tests/test_real_programs_pool.py."""
    if _glusterfs_10(state):
        return f"peer probe: {message or 'success'}\n"
    return f"peer probe: success. {message}\n"


def _known_by(state: dict[str, Any], probed: str, prober: dict[str, Any]) -> str:
    """The name the probed host's glusterd gives a new peer that probed it.

    glusterfs 3.6 takes the connection's address as it is (glusterd-utils.c:6406 at v3.6.0,
    glusterd_remote_hostname_get). glusterfs 10 resolves it back first: getnameinfo(3) without
    NI_NAMEREQD (libglusterfs/src/common-utils.c:3406-3466 at v10.3, gf_get_hostname_from_ip,
    called by glusterd_remote_hostname_get, glusterd-utils.c:5779-5806, from the probe
    handler, glusterd-handler.c:2921-2941), which gives the host's hosts file's name for the
    address, else its DNS PTR record, else the address.
    """
    address = prober["storage"]
    if not _glusterfs_10(state):
        return address
    hosts = Path(state["roots"]) / probed / "etc" / "hosts"
    for line in hosts.read_text().splitlines() if hosts.is_file() else []:
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and fields[0] == address:
            return str(fields[1])
    return str(state.get("ptr", {}).get(address, address))


def _within(path: str, other: str) -> bool:
    return path == other or path.startswith(other.rstrip("/") + "/")


def _check_bricks(state: dict[str, Any], verb: str, name: str, bricks: list[str]) -> Answer | None:
    """The checks glusterd makes of new bricks, in its order; None when they pass."""
    seen = set()
    for brick in bricks:
        # cli-cmd-parser.c, cli_cmd_bricks_parse: "Found duplicate exports HOST:PATH".
        if brick in seen:
            return _fail(f"Found duplicate exports {brick}")
        seen.add(brick)
    for brick in bricks:
        peer, path = brick.split(":", 1)
        host = _host_of(state, peer)
        # glusterd-utils.c, glusterd_new_brick_validate: the brick's host must be this node or
        # a connected peer.
        if host is None or peer not in _pool(state):
            return _fail(
                f"volume {verb}: {name}: failed: Host {peer} is not in 'Peer in Cluster' state"
            )
        if "glusterd" not in state["hosts"][host]["active"]:
            return _fail(f"volume {verb}: {name}: failed: Host {peer} not connected")
        # glusterd_is_brickpath_available: no brick inside, or holding, another brick.
        for volume in state["volumes"].values():
            for existing in volume["bricks"]:
                other_peer, other_path = existing.split(":", 1)
                if other_peer == peer and (_within(path, other_path) or _within(other_path, path)):
                    return _fail(
                        f"volume {verb}: {name}: failed: Brick: {brick} not available. Brick may "
                        "be containing or be contained by an existing brick."
                    )
        # glusterd makes a brick's folder but not its parents: "Failed to create brick
        # directory ... No such file or directory" (seen with glusterfs 10.3).
        if (
            "roots" in state
            and not (Path(state["roots"]) / host / path.lstrip("/")).parent.is_dir()
        ):
            return _fail(
                f"volume {verb}: {name}: failed: Failed to create brick directory for brick "
                f"{brick}. Reason : No such file or directory"
            )
        # glusterd refuses a brick on the root filesystem without 'force': the brick must lie
        # on a filesystem mounted for it (the brick filesystem of step 05).
        mounts = state["hosts"][host]["mounts"]
        if not any(kind == "brick-fs" and _within(path, point) for point, kind in mounts.items()):
            return _fail(
                f"volume {verb}: {name}: failed: The brick {brick} is being created in the root "
                "partition. It is recommended that you don't use the system's root partition for "
                "storage backend. Or use 'force' at the end of the command if you want to "
                "override this behavior."
            )
    return None


# The extended attributes glusterd refuses a brick for, on its folder or any parent: "PATH is
# already part of a volume" (glusterfs v10.3 xlators/mgmt/glusterd/src/glusterd-utils.c:
# 8243-8311, glusterd_is_path_in_use; the keys GFID_XATTR_KEY and GF_XATTR_VOL_ID_KEY of
# libglusterfs/src/glusterfs/glusterfs.h:104,134).
VOLUME_ID = "trusted.glusterfs.volume-id"
GFID = "trusted.gfid"


def _parents(path: str) -> list[str]:
    """PATH, then each folder above it up to /, as glusterd_is_path_in_use walks them."""
    found = [path]
    while path != "/":
        path = path.rsplit("/", 1)[0] or "/"
        found.append(path)
    return found


def _stage_bricks(
    state: dict[str, Any], me: dict[str, Any], verb: str, name: str, bricks: list[str]
) -> str | None:
    """What glusterd does to each brick folder while it stages a create or add-brick
    (glusterd_validate_and_create_brickpath, glusterd-utils.c:1455-1630, from
    glusterd-volume-ops.c:1056 and glusterd-brick-ops.c:1559): refuse a folder that it or a
    parent marks as part of a volume, else set trusted.glusterfs.volume-id on it and make its
    .glusterfs folder. The node the command runs on stages its own bricks first, then each
    peer its own; a refusal stops the command, and the bricks staged before it keep their
    marks (seen with glusterfs 10.3, tests/test_real_programs.py). Returns the refusal."""
    mine = [b for b in bricks if b.split(":", 1)[0] == me["peer"]]
    for brick in mine + [b for b in bricks if b not in mine]:
        peer, path = brick.split(":", 1)
        host = _host_of(state, peer)
        assert host is not None  # _check_bricks found it
        xattrs = state["hosts"][host].setdefault("xattrs", {})
        for folder in _parents(path):
            if VOLUME_ID in xattrs.get(folder, {}) or GFID in xattrs.get(folder, {}):
                where = f"{path} is" if folder == path else f"parent directory {folder} is"
                return f"volume {verb}: {name}: failed: {where} already part of a volume"
        xattrs.setdefault(path, {})[VOLUME_ID] = name
        if "roots" in state:
            (Path(state["roots"]) / host / path.lstrip("/") / ".glusterfs").mkdir(
                parents=True, exist_ok=True
            )
    return None


def _same_server(bricks: list[str], replica: int) -> bool:
    """glusterd-volume-ops.c: two bricks of one replica set on one server need 'force'."""
    for start in range(0, len(bricks), replica):
        hosts = [b.split(":", 1)[0] for b in bricks[start : start + replica]]
        if len(set(hosts)) < len(hosts):
            return True
    return False


def _type(volume: dict[str, Any]) -> tuple[str, str]:
    count, replica = len(volume["bricks"]), volume["replica"]
    sets = count // replica
    if replica == 1:
        return "Distribute", str(count)
    kind = "Replicate" if sets == 1 else "Distributed-Replicate"
    return kind, f"{sets} x {replica} = {count}"


def _info(name: str, volume: dict[str, Any]) -> str:
    kind, number = _type(volume)
    out = f" \nVolume Name: {name}\nType: {kind}\nStatus: {volume['status']}\n"
    out += f"Number of Bricks: {number}\nTransport-type: tcp\nBricks:\n"
    out += "".join(f"Brick{i}: {b}\n" for i, b in enumerate(volume["bricks"], 1))
    options = volume.get("options", [])
    if options:
        out += "Options Reconfigured:\n" + "".join(f"{k}: {v}\n" for k, v in options)
    return out


def _created_options(replica: int) -> list[tuple[str, str]]:
    """The options glusterd 10.3 sets on a new volume, as `volume info` lists them (seen with
    Debian's glusterfs 10.3: a replicated volume gets granular entry heal and client I/O
    threads off as well)."""
    common = [
        ("storage.fips-mode-rchecksum", "on"),
        ("transport.address-family", "inet"),
        ("nfs.disable", "on"),
    ]
    if replica > 1:
        return [
            ("cluster.granular-entry-heal", "on"),
            *common,
            ("performance.client-io-threads", "off"),
        ]
    return common


def _set_option(volume: dict[str, Any], key: str, value: str) -> None:
    """glusterd keeps a volume's options in a dict whose listing shows a new key first and an
    existing key where it was (seen with glusterfs 10.3)."""
    options = volume.setdefault("options", [])
    for i, (existing, _) in enumerate(options):
        if existing == key:
            options[i] = (key, value)
            return
    options.insert(0, (key, value))


# Keys `volume set` takes besides those of the group files: glusterd refuses a key it does not
# know ("volume set: failed: option : KEY does not exist"). The stand-in knows these, the
# options glusterd sets itself and every key of the calling host's group files.
KNOWN_OPTIONS = {
    "storage.owner-uid",
    "storage.owner-gid",
    "network.ping-timeout",
    "performance.strict-o-direct",
    "network.remote-dio",
    "cluster.granular-entry-heal",
    "storage.fips-mode-rchecksum",
    "transport.address-family",
    "nfs.disable",
    "performance.client-io-threads",
}


def _group_names(groups: Path | None) -> list[str]:
    return (
        sorted(p.name for p in groups.iterdir()) if groups is not None and groups.is_dir() else []
    )


def _group_options(groups: Path | None, group: str) -> list[tuple[str, str]] | None:
    """The KEY=VALUE lines of a group file, or None when there is no such file. The CLI reads
    the file on the host it runs on (cli-cmd-parser.c, cli_add_key_group)."""
    if groups is None or not (groups / group).is_file():
        return None
    pairs = []
    for line in (groups / group).read_text().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            pairs.append((key.strip(), value.strip()))
    return pairs


def _replica(words: list[str]) -> tuple[int | None, list[str]] | str:
    """`replica N` and the bricks after it; an error message for a bad count."""
    if "replica" not in words:
        return None, [w for w in words if ":" in w]
    count = words[words.index("replica") + 1]
    if not count.isdigit():
        return "replica count should be greater than 1"
    # cli-cmd-parser.c: "replica count should be greater than 1" (create); add-brick takes 1.
    return int(count), [w for w in words if ":" in w]


def _heal_info(state: dict[str, Any], name: str, volume: dict[str, Any]) -> Answer:
    """`volume heal V info`: each brick's entries still to heal. For each brick, glusterfs
    v10.3 prints "Brick HOST:PATH", then each entry to heal on it, one a line (a path, or
    <gfid:UUID> for one it cannot name), then its status and count (heal/src/glfs-heal.c:1006,
    :1010 with :141, :1043 with :472). A brick that is down (a host rebooting,
    fakehost_engine.py) cannot be asked ("Status: Transport endpoint is not connected",
    "Number of entries: -", :467). glusterfs v3.6.0 has glusterd ask each self-heal daemon:
    "Gathering list of entries to be healed on volume V has been successful " (cli/src/
    cli-rpc-ops.c:7353-7372, the blank of its empty last %s kept), then for every brick a blank
    line, "Brick HOST:PATH", "Number of entries: N" and the entries after it, no status
    (:7146-7201); a brick no daemon gathered for, one that is down, has no count and prints 0
    (:7179-7181; every brick's name is in the answer, glusterd-volume-ops.c:492); a brick whose
    host's daemon does not run prints "Status: self-heal-daemon is not running on UUID" and no
    count (glusterd-op-sm.c:5501, :5530-5545). A brick that came back has its missed writes
    listed on the other bricks of its replica set, which hold the good copies. The self-heal
    daemon heals them once this look has shown them: the state changes by its work, not the
    caller's, and is saved."""
    offline = volume.get("offline", [])
    pending = volume.get("heal", {})
    replica = volume["replica"]
    old = state.get("gluster") == "3.6"
    out = (
        f"Gathering list of entries to be healed on volume {name} has been successful \n"
        if old
        else ""
    )
    for i, brick in enumerate(volume["bricks"]):
        start = i - i % replica
        members = volume["bricks"][start : start + replica]
        entries = sum(pending.get(b, 0) for b in members if b != brick)
        listed = "".join(f"<gfid:00000000-0000-4000-8000-{n:012d}>\n" for n in range(entries))
        if old:
            host = _host_of(state, brick.split(":", 1)[0])
            if volume.get("shd_offline") == brick.split(":", 1)[0] and host is not None:
                out += f"\nBrick {brick}\nStatus: self-heal-daemon is not running on "
                out += f"{pool_uuid(state, host)}\n"
            elif brick in offline:
                out += f"\nBrick {brick}\nNumber of entries: 0\n"
            else:
                out += f"\nBrick {brick}\nNumber of entries: {entries}\n{listed}"
        elif brick in offline:
            out += f"Brick {brick}\nStatus: Transport endpoint is not connected\n"
            out += "Number of entries: -\n\n"
        else:
            out += f"Brick {brick}\n{listed}Status: Connected\nNumber of entries: {entries}\n\n"
    healed = {}
    for sink, entries in pending.items():
        start = volume["bricks"].index(sink) - volume["bricks"].index(sink) % replica
        sources = [
            b for b in volume["bricks"][start : start + replica] if b != sink and b not in offline
        ]
        if sink in offline or not sources:  # not yet: nothing to heal to, or from
            healed[sink] = entries
    if healed != pending:
        volume["heal"] = healed
        return _ok(out, True)
    return _ok(out)


def _has_quorum(replica_set: list[str], offline: list[str]) -> bool:
    """Whether a replica set takes writes with the bricks of `offline` down, as the virt
    group's cluster.quorum-type auto decides: more than half of it up, or exactly half with its
    first brick (glusterfs v3.6.0 xlators/cluster/afr/src/afr-transaction.c:429-461; the same
    rule at v10.3, afr_has_quorum)."""
    up = [b for b in replica_set if b not in offline]
    if len(replica_set) % 2 == 0 and len(up) == len(replica_set) // 2:
        return replica_set[0] in up
    return len(up) >= len(replica_set) // 2 + 1


def _brick_status(
    state: dict[str, Any], name: str, volume: dict[str, Any], bricks: list[str]
) -> Answer:
    """`volume status V [BRICK] detail`: "Status of volume: V", then for each brick a line of
    dashes and its fields, "%-20s : %-20s": "Brick" (with "Brick HOST:PATH"), its ports
    ("Port" in 3.6, "TCP Port" and "RDMA Port" in 10.3), "Online" Y or N, "Pid" (glusterfs
    v10.3 cli/src/cli-rpc-ops.c:7478, :7520-7522, :7550-7553, cli/src/cli-cmd-volume.c:
    2396-2408; v3.6.0 cli-cmd-volume.c:1993-2000). Not modelled, as no script reads them: the
    fields after Pid (the brick's filesystem). Held to glusterd 10.3's lines by
    tests/test_real_programs_change.py."""
    out = f"Status of volume: {name}\n"
    for brick in bricks:
        if brick not in volume["bricks"]:
            return _fail(f"fakehost: no stand-in behaviour for the status of {brick}", 2)
        online = brick not in volume.get("offline", [])
        port, pid = ("49152", "1234") if online else ("N/A", "N/A")
        if state.get("gluster") == "3.6":
            ports = [("Port", port)]
        else:
            ports = [("TCP Port", port), ("RDMA Port", "0" if online else "N/A")]
        fields = [("Brick", f"Brick {brick}"), *ports]
        fields += [("Online", "Y" if online else "N"), ("Pid", pid)]
        out += "-" * 78 + "\n" + "".join(f"{key:<20} : {value:<20}\n" for key, value in fields)
    return _ok(out)


def client_write(volume: dict[str, Any], mount: str) -> tuple[int, str]:
    """A metadata write on a volume's root through a client mount (setfattr): the bricks that
    are up mark it pending for each brick of their replica set that is down, which heal info
    then lists and the self-heal daemon heals once that brick is back (glusterdocs, commit
    a94c987 "Administrator Guide/Managing Volumes.md":384-418). A replica set without quorum
    fails the write with EROFS (afr-transaction.c:978-979), which setfattr prints
    as "setfattr: PATH: MESSAGE", exit 1 (the format seen with Debian's attr 2.5.1)."""
    offline = volume.get("offline", [])
    replica = volume["replica"]
    sets = [volume["bricks"][i : i + replica] for i in range(0, len(volume["bricks"]), replica)]
    if not all(_has_quorum(s, offline) for s in sets):
        return 1, f"setfattr: {mount}: Read-only file system\n"
    heal = volume.setdefault("heal", {})
    for brick in offline:
        heal[brick] = max(heal.get(brick, 0), 1)
    return 0, ""


def _reset_brick(
    state: dict[str, Any], name: str, volume: dict[str, Any], rest: list[str]
) -> Answer:
    """`volume reset-brick V B start` stops the brick's process (the brick is offline until
    the commit); `volume reset-brick V B B commit force` refuses while that process runs, and
    otherwise takes the brick's folder back into the volume (its volume ID set,
    glusterd_validate_and_create_brickpath) and starts it; the other bricks of its replica
    set then list the entries to heal to it (glusterfs v10.3
    xlators/mgmt/glusterd/src/glusterd-reset-brick.c:30-190; the messages seen with Debian's
    glusterfs 10.3 in tests/test_real_programs_change.py's replay of the same commands)."""
    brick = rest[0]
    if brick not in volume["bricks"]:  # not modelled: the scripts name the volume's bricks
        return _fail(f"fakehost: no stand-in behaviour for reset-brick of {brick}", 2)
    offline = volume.setdefault("offline", [])
    if rest[1:] == ["start"]:
        if brick not in offline:
            offline.append(brick)
        return _ok("volume reset-brick: success: reset-brick start operation successful\n", True)
    if rest[1:] == [brick, "commit", "force"]:
        if brick not in offline:
            return _fail(
                "volume reset-brick: failed: Source brick must be stopped. Please use gluster "
                "volume reset-brick <volname> <dst-brick> start."
            )
        peer, path = brick.split(":", 1)
        host = _host_of(state, peer)
        assert host is not None
        if state["hosts"][host].get("volumes_from_pool"):
            # The brick's glusterd has the volume from the pool, not yet from its store (a new
            # machine back in the pool, glusterd not started since: glusterd_started below).
            return _fail(
                "volume reset-brick: failed: When destination brick is new, please use gluster "
                "volume replace-brick <volname> <src-brick> <dst-brick> commit force"
            )
        state["hosts"][host].setdefault("xattrs", {}).setdefault(path, {})[VOLUME_ID] = name
        offline.remove(brick)
        volume.setdefault("heal", {})[brick] = 1
        return _ok(
            "volume reset-brick: success: reset-brick commit force operation successful\n", True
        )
    return _fail(
        f"fakehost: no stand-in behaviour for gluster volume reset-brick {' '.join(rest)}", 2
    )


def pool_uuid(state: dict[str, Any], host: str) -> str:
    """The UUID the pool knows a host's glusterd by: one per host, fixed for the fake cluster."""
    number = list(state["hosts"]).index(host) + 1
    return f"{number:08x}-0000-4000-8000-{number:012x}"


# A new machine under an old name: its glusterd has a UUID of its own, made and written into
# /var/lib/glusterd/glusterd.info when it is first asked for (glusterfs v10.3 MY_UUID,
# glusterd.h:800-810; seen missing right after a first start in the e2e containers), and no
# peer. The host's "new_glusterd" holds the UUID it runs with and the
# member that accepted its probe; the rest of the pool still knows the host by its old UUID.
# Seen with Debian's glusterd 10.3 (tests/test_real_programs_change.py): the pool shows it as
# "Peer Rejected (Connected)"; its probe of a member fails while its UUID is new ("is either
# already part of another cluster or having volumes configured"); with the old UUID in
# glusterd.info and glusterd started again, the probe succeeds, both show "Accepted peer request
# (Connected)", and a restart of its glusterd makes it a peer in the cluster of every member,
# with the pool's volumes.
FRESH_UUID = "f7e5a0c2-9d1b-4c3e-8a6f-5b4d3c2b1a09"
INFO = Path("var/lib/glusterd/glusterd.info")


def glusterd_started(state: dict[str, Any], me: dict[str, Any], host: str, root: Path) -> None:
    """systemctl start (or restart) glusterd: on a new machine, the UUID of glusterd.info, a new
    one written on the first start; with the old UUID and a member's acceptance, the host is
    back in the pool, and has the pool's volumes as the pool sent them, which it loads from its
    own store at its next start (glusterd-store.c:2573-2603): until then it refuses to reset
    its bricks of them, taking them for new bricks (glusterd-reset-brick.c:83-90)."""
    me.pop("volumes_from_pool", None)
    new = me.get("new_glusterd")
    if new is None:
        return
    info = root / INFO
    lines = info.read_text().splitlines() if info.is_file() else []
    new["uuid"] = next((line[5:] for line in lines if line.startswith("UUID=")), None)
    if new.get("accepted") and new["uuid"] == pool_uuid(state, host):
        del me["new_glusterd"]
        me["volumes_from_pool"] = True


# The CLI when no glusterd answers it (the connection refused): the message on standard output
# (cli_out), exit 1 (glusterfs v10.3 cli/src/cli.c:313-321; seen with glusterd 10.3,
# --remote-host included). A host that drops the packets instead makes it wait 120 s and exit
# 110 (cli-cmd.c:123-129): not modelled, no fake host drops packets.
NOT_CONNECTED: Answer = (
    1,
    "Connection failed. Please check if gluster daemon is operational.\n",
    False,
    "",
)


def _remote(state: dict[str, Any], remote: str) -> tuple[str, dict[str, Any]] | None:
    """The host whose glusterd `gluster --remote-host=REMOTE` reaches: its storage address or
    the name it was probed by."""
    for name, h in state["hosts"].items():
        if remote in (h["storage"], h["peer"]) and "glusterd" in h["active"]:
            return name, h
    return None


def _new_machine(state: dict[str, Any], me: dict[str, Any], words: list[str]) -> Answer:
    """What a new machine's glusterd answers: no peer until a member accepted its probe, no
    volume; a call the scripts do not make there is not modelled, and fails saying so."""
    new = me["new_glusterd"]
    if words[:2] == ["system::", "uuid"]:
        # `system:: uuid get` answers MY_UUID, which a glusterd that has none yet makes and
        # writes into glusterd.info with its operating-version (glusterd.h:800-810,
        # glusterd.c:141-183, glusterd-handler.c:1677; "UUID: %s", cli-rpc-ops.c:1209).
        made = new.get("uuid") is None
        if made:
            info = Path(state["roots"]) / _host_of(state, me["peer"]) / INFO  # type: ignore[operator]
            info.parent.mkdir(parents=True, exist_ok=True)
            info.write_text(f"UUID={FRESH_UUID}\noperating-version=100000\n")
            new["uuid"] = FRESH_UUID
        return _ok(f"UUID: {new['uuid']}\n", change=made)
    if words[:2] == ["peer", "status"]:
        member = new.get("accepted")
        if member is None:
            return _ok("Number of Peers: 0\n")
        host = _host_of(state, member)
        assert host is not None
        return _ok(
            f"Number of Peers: 1\n\nHostname: {member}\nUuid: {pool_uuid(state, host)}\n"
            "State: Accepted peer request (Connected)\n"
        )
    if words[:2] == ["peer", "probe"]:
        target = words[2]
        host = _host_of(state, target)
        if host is None or "glusterd" not in state["hosts"][host]["active"]:
            return _fail(
                "peer probe: failed: Probe returned with Transport endpoint is not connected"
            )
        if new.get("uuid") != pool_uuid(state, _host_of(state, me["peer"]) or ""):
            return _fail(
                f"peer probe: failed: {target} is either already part of another cluster or "
                "having volumes configured"
            )
        new["accepted"] = target
        return _ok(_probed(state, ""), change=True)
    if words[:2] == ["volume", "info"]:
        return 0, "", False, "No volumes present\n"
    return _fail(f"fakehost: gluster {' '.join(words)} on a new machine is not modelled")


def answer(
    state: dict[str, Any],
    me: dict[str, Any],
    words: list[str],
    groups: Path | None = None,
    remote: str | None = None,
) -> Answer:
    """`groups` is the calling host's /var/lib/glusterd/groups, for `volume set V group G`;
    `remote` the glusterd that `--remote-host=REMOTE` asks instead of the local one."""
    if remote is not None:
        # glusterd serves the CLI on its TCP port only its read-only queries (glusterfs v10.3
        # glusterd-handler.c:6551-6575, gd_svc_cli_trusted_actors): `peer status` is the one
        # the scripts ask.
        reached = _remote(state, remote)
        if reached is None:
            return NOT_CONNECTED
        if words[:2] != ["peer", "status"]:
            return _fail(f"fakehost: gluster --remote-host {' '.join(words)} is not modelled")
        me = reached[1]
    if "glusterd" not in me["active"]:
        # The CLI talks to the local glusterd only.
        return NOT_CONNECTED
    if "new_glusterd" in me:
        return _new_machine(state, me, words)
    if words[:2] == ["peer", "status"]:
        mine = me["peer"]
        peers = [p for p in _pool(state) if p != mine] if mine in _pool(state) else []
        out = f"Number of Peers: {len(peers)}\n"
        for peer in peers:
            host = _host_of(state, peer)
            connected = host is not None and "glusterd" in state["hosts"][host]["active"]
            state_name = "Connected" if connected else "Disconnected"
            in_cluster = "Peer in Cluster"
            if host is not None and "new_glusterd" in state["hosts"][host]:
                new = state["hosts"][host]["new_glusterd"]
                in_cluster = "Accepted peer request" if new.get("accepted") else "Peer Rejected"
                if "seen_as" in new and not new.get("accepted"):
                    # A member's view of a new machine before it has rejected the member:
                    # "Peer in Cluster (Disconnected)" until the member's reconnection, tried
                    # every 3 s (glusterfs v10.3 rpc/rpc-lib/src/rpc-clnt.c:393), reaches it;
                    # "Connected" from then (glusterd-handler.c:6274), "Peer in Cluster" until
                    # the new glusterd's answer to its friend request (glusterd-sm.c:1250,
                    # :1260). Seen in the e2e containers.
                    in_cluster, state_name = new["seen_as"]
            # A peer that probed others is known to them by the address it came from until
            # one of them probes it back by name; then the address is one of its "Other names"
            # (glusterd-handler.c, __glusterd_handle_cli_probe -> glusterd_peer_hostname_update;
            # glusterdocs Quick-Start-Guide: the first server is probed back by name).
            # Probed back by name, the name is added after the address, and peer status shows
            # the first of a peer's names as its Hostname, the others under "Other names:"
            # (glusterfs v10.5 glusterd-peer-utils.c:624, :916; cli/src/cli-rpc-ops.c:252-270).
            address = state["hosts"][host]["storage"] if host is not None else peer
            known_by_address = peer in state.get("by_address", []) or peer in state.get(
                "renamed", []
            )
            shown = address if known_by_address else peer
            uuid = (
                pool_uuid(state, host)
                if host is not None
                else "00000000-0000-0000-0000-000000000000"
            )
            out += f"\nHostname: {shown}\nUuid: {uuid}\nState: {in_cluster} ({state_name})\n"
            if peer in state.get("renamed", []) and address != peer:
                out += f"Other names:\n{peer}\n"
        return _ok(out)
    if words[:2] == ["peer", "probe"]:
        target = words[2]
        if target == me["peer"]:
            return _ok(_probed(state, "Probe on localhost not needed"))
        host = _host_of(state, target)
        if host is None or "glusterd" not in state["hosts"][host]["active"]:
            return _fail(
                "peer probe: failed: Probe returned with Transport endpoint is not connected"
            )
        if target in _pool(state):
            # Probing back by name a peer the pool knows by address adds the name.
            named = target in state.get("by_address", [])
            if named:
                state["by_address"].remove(target)
                state.setdefault("renamed", []).append(target)
            return _ok(
                _probed(state, f"Host {target} port 24007 already in peer list"),
                change=named,
            )
        if me["peer"] not in state.setdefault("named", []):
            # The probed host learns the prober by the address of the connection, or, with
            # glusterfs 10, by the name that address resolves back to (below).
            if _known_by(state, host, me) != me["peer"]:
                state.setdefault("by_address", []).append(me["peer"])
            state["named"].append(me["peer"])
        state["named"].append(target)
        state["peers"].append(target)
        return _ok(_probed(state, ""), change=True)
    if words[:2] == ["peer", "detach"]:
        return _detach(state, me, words[2])
    if words[0] != "volume":
        return _fail(f"unrecognized word: {words[0]}")
    if words[1:] == ["info"]:
        # Every volume, one after another; "No volumes present" without any (seen with
        # glusterfs 10.3, tests/test_real_programs.py).
        if not state["volumes"]:
            return 0, "", False, "No volumes present\n"  # on standard error, exit 0
        return _ok("".join(_info(n, v) for n, v in state["volumes"].items()))
    if words[1] == "get":
        if state.get("gluster") == "3.6":
            # 3.6's CLI has no `volume get` (it came with 3.7): "unrecognized word", on
            # standard output, exit 1 (glusterfs v3.6.0 cli/src/cli-cmd.c:115-118, input.c:34-37).
            return 1, "unrecognized word: get (position 1)\n", False, ""
        return _fail("fakehost: volume get is not modelled for glusterfs 10.3", 2)
    verb, name = words[1], words[2]
    volume = state["volumes"].get(name)
    if verb == "info":
        # volume info [all|<VOLNAME>]: one name at most, else the usage (glusterfs v10.5
        # cli/src/cli-cmd-volume.c:3004 and cli_cmd_volume_info_cbk, cli_usage_out).
        if len(words) > 3:
            return _fail("Usage: volume info [all|<VOLNAME>]")
        if volume is None:
            return _fail(f"Volume {name} does not exist")
        return _ok(_info(name, volume))
    if verb == "create":
        if name == "all":  # cli-cmd-parser.c
            return _fail('"all" cannot be the name of a volume.')
        parsed = _replica(words[3:])
        if isinstance(parsed, str):
            return _fail(parsed)
        replica, bricks = parsed
        if replica is not None and replica < 2:
            return _fail("replica count should be greater than 1")
        replica = replica or 1
        if len(bricks) % replica:
            return _fail("number of bricks is not a multiple of replica count")
        refused = _check_bricks(state, "create", name, bricks)
        if refused:
            return refused
        if volume is not None:
            return _fail(f"volume create: {name}: failed: Volume {name} already exists")
        if _same_server(bricks, replica) and "force" not in words:
            return _fail(
                f"volume create: {name}: failed: Multiple bricks of a replicate volume are "
                "present on the same server. This setup is not optimal. Use 'force' at the end "
                "of the command if you want to override this behavior."
            )
        staged = _stage_bricks(state, me, "create", name, bricks)
        if staged:
            return 1, "", True, staged + "\n"  # the marks of the bricks staged stay
        state["volumes"][name] = {
            "status": "Created",
            "bricks": bricks,
            "replica": replica,
            "rebalanced": False,
            "options": _created_options(replica),
        }
        return _ok(
            f"volume create: {name}: success: please start the volume to access data\n", True
        )
    if verb == "set" and words[3:4] == ["group"]:
        pairs = _group_options(groups, words[4])
        if pairs is None:  # the CLI stops before it asks glusterd
            return _fail(
                f"Unable to open file '/var/lib/glusterd/groups/{words[4]}'. Error: No such "
                "file or directory"
            )
        if volume is None:
            return _fail(f"volume set: failed: Volume {name} does not exist")
        for key, value in pairs:
            _set_option(volume, key, value)
        return _ok("volume set: success\n", True)
    if verb == "set":
        if volume is None:
            return _fail(f"volume set: failed: Volume {name} does not exist")
        key, value = words[3], words[4]
        known = KNOWN_OPTIONS | {
            k for g in _group_names(groups) for k, _ in _group_options(groups, g) or []
        }
        if key not in known:
            return _fail(f"volume set: failed: option : {key} does not exist")
        _set_option(volume, key, value)
        return _ok("volume set: success\n", True)
    if volume is None:
        return _fail(f"volume {verb}: {name}: failed: Volume {name} does not exist")
    if verb == "add-brick":
        parsed = _replica(words[3:])
        if isinstance(parsed, str):
            return _fail(parsed)
        replica, bricks = parsed
        current = volume["replica"]
        replica = replica or current
        if replica < current:
            return _fail("volume add-brick: failed: Replica count can't be reduced")
        if replica > current:
            # glusterd-brick-ops.c: raising the replica count adds one brick to each set.
            sets = len(volume["bricks"]) // current
            if len(bricks) != sets * (replica - current):
                return _fail(
                    f"volume add-brick: failed: Incorrect number of bricks supplied "
                    f"{len(bricks)} with count {replica}"
                )
        elif len(bricks) % replica:
            return _fail(
                f"volume add-brick: failed: Incorrect number of bricks supplied {len(bricks)} "
                f"with count {replica}"
            )
        refused = _check_bricks(state, "add-brick", name, bricks)
        if refused:
            return refused
        staged = _stage_bricks(state, me, "add-brick", name, bricks)
        if staged:
            return 1, "", True, staged + "\n"  # the marks of the bricks staged stay
        if replica > current:
            sets = len(volume["bricks"]) // current
            grown = []
            for i in range(sets):
                grown += volume["bricks"][i * current : (i + 1) * current]
                grown += bricks[i * (replica - current) : (i + 1) * (replica - current)]
            volume["bricks"] = grown
        else:
            volume["bricks"] = volume["bricks"] + bricks
        if _same_server(volume["bricks"], replica) and "force" not in words:
            return _fail(
                "volume add-brick: failed: Multiple bricks of a replicate volume are present "
                "on the same server. This setup is not optimal. Use 'force' at the end of the "
                "command if you want to override this behavior."
            )
        volume["replica"] = replica
        return _ok("volume add-brick: success\n", True)
    if verb == "start":
        if words[3:] == ["force"] and volume["status"] == "Started":
            # A brick folder that exists and lacks the volume's ID is given it, and the bricks
            # that are down are started (glusterfs v3.6.0 glusterd-volume-ops.c:1044-1065,
            # the same at v10.3 :1293-1320); the writes they missed are healed only where the
            # bricks up marked them (client_write).
            offline = volume.get("offline", [])
            for brick in list(offline):
                peer, path = brick.split(":", 1)
                host = _host_of(state, peer)
                if host is None or "glusterd" not in state["hosts"][host]["active"]:
                    continue
                folder = Path(state["roots"]) / host / path.lstrip("/")
                if folder.is_dir():
                    xattrs = state["hosts"][host].setdefault("xattrs", {}).setdefault(path, {})
                    xattrs.setdefault(VOLUME_ID, name)
                    offline.remove(brick)
            # Every glusterd starts its self-heal daemon of the volume again (glusterd_svcs_
            # manager: v10.3 glusterd-volume-ops.c:2412 with glusterd-shd-svc.c:334-338).
            volume.pop("shd_offline", None)
            return _ok(f"volume start: {name}: success\n", True)
        if volume["status"] == "Started":
            return _fail(f"volume start: {name}: failed: Volume {name} already started")
        volume["status"] = "Started"
        # Each brick's process sets trusted.gfid on its folder, the volume's root (seen with
        # glusterfs 10.3: 0x00..01 after start).
        for brick in volume["bricks"]:
            peer, path = brick.split(":", 1)
            host = _host_of(state, peer)
            if host is not None:
                state["hosts"][host].setdefault("xattrs", {}).setdefault(path, {})[GFID] = "1"
        return _ok(f"volume start: {name}: success\n", True)
    # glusterfs v10.3 glusterd-volume-ops.c:1389 (stage stop), :1474-1502 (stage delete); the
    # messages seen with glusterfs 10.3. Neither touches the brick folders.
    if verb == "stop":
        if volume["status"] != "Started":
            return _fail(f"volume stop: {name}: failed: Volume {name} is not in the started state")
        volume["status"] = "Stopped"
        return _ok(f"volume stop: {name}: success\n", True)
    if verb == "delete":
        if volume["status"] == "Started":
            return _fail(
                f"volume delete: {name}: failed: Volume {name} has been started.Volume needs "
                "to be stopped before deletion."
            )
        del state["volumes"][name]
        return _ok(f"volume delete: {name}: success\n", True)
    if verb == "heal":
        if volume["replica"] < 2:
            return _fail(f"Volume {name} is not of type replicate/disperse\nVolume heal failed.")
        if volume["status"] != "Started":
            return _fail(f"Volume {name} is not started.")
        if words[3:] == ["info"]:
            return _heal_info(state, name, volume)
        # Right after add-brick, while the self-heal daemons restart with the new layout, a
        # full heal may fail on a peer (seen on the real cluster of tests/e2e, glusterfs 10.3);
        # a test sets `shd_restarting` on a peer's name to stand for that moment, once.
        if words[3:] == ["full"] and volume.get("shd_restarting"):
            peer = volume.pop("shd_restarting")  # kept: the next try finds the daemons up
            return (
                1,
                "",
                True,
                f"Launching heal operation to perform full self heal on volume {name} has been"
                f" unsuccessful:\nCommit failed on {peer}. Please check log file for details.\n",
            )
        # A self-heal daemon whose volume failed to attach stays offline, and its glusterd
        # refuses the staging of every heal until something starts the daemon again (glusterfs
        # v10.3 glusterd-svc-helper.c:694-706, glusterd-volume-ops.c:1594-1598; the CLI's
        # lines cli-rpc-ops.c:8118-8122, the peer's part glusterd-syncop.c:60-80; seen on the
        # real cluster of tests/e2e). A test sets `shd_offline` on a peer's name.
        if words[3:] == ["full"] and volume.get("shd_offline"):
            return (
                1,
                "",
                False,
                f"Launching heal operation to perform full self heal on volume {name} has been"
                f" unsuccessful:\nStaging failed on {volume['shd_offline']}. Error: Self-heal "
                "daemon is not running. Check self-heal daemon log file.\n",
            )
        if words[3:] == ["full"]:
            return _ok(
                f"Launching heal operation to perform full self heal on volume {name} has been successful \n",
                True,
            )
    if verb == "status" and words[-1] == "detail" and len(words) in (4, 5) and volume:
        return _brick_status(state, name, volume, words[3:-1] or volume["bricks"])
    if verb == "reset-brick":
        return _reset_brick(state, name, volume, words[3:])
    if verb == "remove-brick":
        return _remove_brick(state, name, volume, words[3:])
    if verb == "rebalance":
        if len(volume["bricks"]) // volume["replica"] < 2:
            return _fail(
                f"volume rebalance: {name}: failed: Volume {name} is not a distribute volume "
                "or contains only 1 brick.\nNot performing rebalance"
            )
        if words[3:] == ["status"]:
            if not volume["rebalanced"]:
                return _fail(
                    f"volume rebalance: {name}: failed: Rebalance not started for volume {name}."
                )
            return _ok(
                f"localhost fix-layout completed 0:00:00\nvolume rebalance: {name}: success\n"
            )
        if words[3:] in (["fix-layout", "start"], ["start"]):
            if volume["status"] != "Started":
                return _fail(
                    f"volume rebalance: {name}: failed: Volume {name} needs to be started to perform rebalance"
                )
            volume["rebalanced"] = True
            if words[3:] == ["start"]:
                # glusterfs v10.3 cli/src/cli-rpc-ops.c:1759-1765 (gf_cli_defrag_volume_cbk):
                # "Rebalance on %s has been started successfully. Use rebalance status command
                # to check status of the rebalance process.\nID: %s"; the ID is glusterd's task
                # UUID, a fixed one here.
                return _ok(
                    f"volume rebalance: {name}: success: Rebalance on {name} has been started "
                    "successfully. Use rebalance status command to check status of the "
                    "rebalance process.\nID: 00000000-0000-0000-0000-000000000000\n",
                    True,
                )
            return _ok(
                f"volume rebalance: {name}: success: Rebalance on {name} has been started successfully.\n",
                True,
            )
    return _fail(f"fakehost: no stand-in behaviour for gluster {' '.join(words)}", 2)


def _detach(state: dict[str, Any], me: dict[str, Any], peer: str) -> Answer:
    """`peer detach HOST` (--mode=script: no question). glusterd refuses a host that is not a
    peer and one that holds a brick of any volume (glusterd-handler.c, GF_DEPROBE_NOT_FRIEND
    and GF_DEPROBE_BRICK_EXIST: v10.3 :4000-4012, v3.6.0 :3489-3497, each version's words
    below); else the peer leaves the pool, "peer detach: success" (cli-rpc-ops.c:205-208 at
    v3.6.0; the words seen with glusterfs 10.3 in tests/test_real_programs_change.py)."""
    if peer not in _pool(state) or peer == me["peer"]:
        return _fail(f"peer detach: failed: {peer} is not part of cluster")
    if any(b.split(":", 1)[0] == peer for v in state["volumes"].values() for b in v["bricks"]):
        if _glusterfs_10(state):
            return _fail(
                f"peer detach: failed: Peer {peer} hosts one or more bricks. If the peer is in "
                "not recoverable state then use either replace-brick or remove-brick command "
                "with force to remove all bricks from the peer and attempt the peer detach "
                "again.",
                255,
            )
        return _fail(f"peer detach: failed: Brick(s) with the peer {peer} exist in cluster")
    if peer == state["hosts"][state["first"]]["peer"]:
        return _fail("fakehost: the stand-in does not detach the first host", 2)
    state["peers"].remove(peer)
    return _ok("peer detach: success\n", True)


def _remove_brick(
    state: dict[str, Any], name: str, volume: dict[str, Any], words: list[str]
) -> Answer:
    """`volume remove-brick VOL [replica N] BRICK... start|status|commit|force`, as glusterd
    checks it (glusterd-brick-ops.c at v10.3 and v3.6.0: whole replica sets unless the replica
    count is lowered, :750 and :799 "Remove brick incorrect brick count of %d for %s %d", and
    none of a volume of one replica set, :732-741 at v10.3 and :786 at v3.6.0; a
    lower count takes one brick of each set, :335 at v3.6.0 "need %d(xN) bricks for reducing
    replica count of the volume from %d to %d"; commit only of bricks whose data was moved,
    :1664-1670 at v10.3, "is not decommissioned. Use start or force option"). The words of
    each answer as glusterfs 10.3 prints them (tests/test_real_programs_change.py replays each
    command the scripts send, and these refusals). The data moves at once here: `status`
    after `start` shows each node of the bricks `completed`."""
    action = words[-1]
    parsed = _replica(words[:-1])
    if isinstance(parsed, str):
        return _fail(parsed)
    replica, bricks = parsed
    current = volume["replica"]
    verb = "commit force" if action == "force" else action
    task = volume.get("removing")
    if action == "status":
        if task is None:
            if len(volume["bricks"]) // current < 2:
                return _fail(
                    f"volume remove-brick status: failed: Volume {name} is not a distribute "
                    "volume or contains only 1 brick.\nNot performing rebalance"
                )
            if _glusterfs_10(state):
                return _fail(
                    "volume remove-brick status: failed: remove-brick not started for volume "
                    f"{name}."
                )
            return _fail("volume remove-brick status: failed: remove-brick not started.")
        if sorted(bricks) != sorted(task):
            return _fail(f"volume remove-brick status: failed: Incorrect brick for volume {name}")
        out = (
            f"{'Node':>40} {'Rebalanced-files':>16} {'size':>13} {'scanned':>13} "
            f"{'failures':>13} {'skipped':>13} {'status':>20} {'run time in h:m:s':>18}\n"
            f"{'---------':>40} {'-----------':>16} {'-----------':>13} {'-----------':>13} "
            f"{'-----------':>13} {'-----------':>13} {'------------':>20} "
            f"{'--------------':>18}\n"
        )
        for node in dict.fromkeys(b.split(":", 1)[0] for b in task):
            out += (
                f"{node:>40} {0:>16} {'0Bytes':>13} {0:>13} {0:>13} {0:>13} "
                f"{'completed':>20} {'0:00:00':>18}\n"
            )
        return _ok(out)
    if any(b not in volume["bricks"] for b in bricks):
        missing = next(b for b in bricks if b not in volume["bricks"])
        return _fail(
            f"volume remove-brick {verb}: failed: Incorrect brick {missing} for volume {name}"
        )
    if replica is not None and replica < current:
        sets = len(volume["bricks"]) // current
        if len(bricks) != sets * (current - replica):
            return _fail(
                f"volume remove-brick {verb}: failed: need {sets}(xN) bricks for reducing "
                f"replica count of the volume from {current} to {replica}"
            )
        if action != "force":
            return _fail(
                f"volume remove-brick {verb}: failed: number of bricks provided ({len(bricks)}) "
                f"is not valid. need at least {current} (or {current}xN)"
            )
        volume["bricks"] = [b for b in volume["bricks"] if b not in bricks]
        volume["replica"] = replica
        return _ok(f"volume remove-brick {verb}: success\n", True)
    if current > 1 and len(volume["bricks"]) == current:
        # One replica set: bricks go only with a lower replica count (v10.3 :732-741).
        return _fail(
            f"volume remove-brick {verb}: failed: Removing bricks from replicate configuration "
            "is not allowed without reducing replica count explicitly."
        )
    if current > 1 and len(bricks) % current:
        return _fail(
            f"volume remove-brick {verb}: failed: Remove brick incorrect brick count of "
            f"{len(bricks)} for replica {current}"
        )
    sets = [volume["bricks"][i : i + current] for i in range(0, len(volume["bricks"]), current)]
    if any(0 < len(set(s) & set(bricks)) < current for s in sets):
        return _fail(f"volume remove-brick {verb}: failed: Bricks not from same subvol for replica")
    if action == "start":
        if task is not None:
            return _fail(
                f"volume remove-brick start: failed: An earlier remove-brick task exists for "
                f"volume {name}. Either commit it or stop it before starting a new task."
            )
        volume["removing"] = list(bricks)
        return _ok(
            "volume remove-brick start: success\nID: 00000000-0000-0000-0000-000000000000\n", True
        )
    if action == "commit":
        if task is None or sorted(task) != sorted(bricks):
            return _fail(
                f"volume remove-brick commit: failed: Brick {bricks[0]} is not decommissioned. "
                "Use start or force option"
            )
        volume.pop("removing")
        volume["bricks"] = [b for b in volume["bricks"] if b not in bricks]
        return _ok(
            "volume remove-brick commit: success\nCheck the removed bricks to ensure all files "
            "are migrated.\nIf files with data are found on the brick path, copy them via a "
            "gluster mount point before re-purposing the removed brick. \n",
            True,
        )
    return _fail(f"fakehost: no stand-in behaviour for gluster volume remove-brick {action}", 2)
