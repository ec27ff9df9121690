"""Hypothesis strategies of changes: a FROM drawn from the valid space (strategies.py), one or
more transitions applied to a copy of it, and the TO they give, as the dicts a user writes.

`ACCEPTED` lists, per target, the transitions `confgen change` takes today; `REFUSED` those it
refuses, each with the key path (and side) the refusal must name. A transition that lands (a
host leaving, --replace, an el7 host joining) moves from REFUSED to ACCEPTED here, and the
properties of test_change_properties.py then hold it to the same rules as the others.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from ipaddress import IPv4Network
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

import confgen
from strategies import clusters, el9_clusters, labels, to_toml

EL7, EL9 = "ovirt35-el7", "ovirt45-el9"
DRAW = {EL7: clusters, EL9: el9_clusters}


def valid(data: dict[str, Any]) -> bool:
    cluster = confgen.loads(to_toml(data))
    return not [p for p in confgen.validate(cluster) if p.severity is confgen.Severity.ERROR]


@st.composite
def valid_clusters(draw: st.DrawFn, target: str, max_hosts: int) -> dict[str, Any]:
    """A FROM: a cluster file of `target` that check accepts."""
    return draw(DRAW[target](max_hosts=max_hosts))


# --- reading and writing the drawn dicts ----------------------------------------------------


def _volumes(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The file's volume list, written out from the plan where the file leaves it to the
    target (the same volumes: `differences` compares the canonical clusters)."""
    gluster = data.setdefault("gluster", {})
    the_plan = confgen.plan(confgen.loads(to_toml(data)))
    planned = {v.name: v for v in the_plan.volumes}
    if "volumes" not in gluster:
        gluster["volumes"] = [
            {"name": v.name} | ({"existing": True} if v.existing else {}) for v in the_plan.volumes
        ]
    for volume in gluster["volumes"]:
        # Each volume's hosts (and el7's replica) written out as the target reads them.
        volume.setdefault("hosts", list(planned[volume["name"]].brick_hosts))
        if data["target"] == EL7:
            volume.setdefault("replica", planned[volume["name"]].replica)
    return gluster["volumes"]  # type: ignore[no-any-return]


def _holders(data: dict[str, Any]) -> list[str]:
    """The hosts that may hold a brick (they have a brick device), in host ID order."""
    hosts = sorted(data["hosts"], key=lambda h: h["host_id"])
    return [h["name"] for h in hosts if "brick_device" in h]


def _brick_root(data: dict[str, Any]) -> str:
    default = "/gluster" if data["target"] == EL7 else "/gluster_bricks"
    return str(data.get("gluster", {}).get("brick_fs", {}).get("mount_point", default))


def _index(data: dict[str, Any], name: str) -> int:
    return next(i for i, h in enumerate(data["hosts"]) if h["name"] == name)


def _replica(data: dict[str, Any], volume: dict[str, Any]) -> int:
    return int(volume.get("replica", 3))


def _free_address(data: dict[str, Any], network: dict[str, Any], start: int) -> str:
    used = {i["address"] for h in data["hosts"] for i in h["interfaces"].values()} | {
        v["address"].split("/")[0] for v in data.get("ctdb", {}).get("vips", [])
    }
    net = IPv4Network(network["cidr"])
    return next(str(net[n]) for n in range(start, 254) if str(net[n]) not in used)


Transition = Callable[[st.DrawFn, dict[str, Any], dict[str, Any]], Any]


# --- what confgen change takes today --------------------------------------------------------


def hosts_join(draw: st.DrawFn, before: dict[str, Any], after: dict[str, Any]) -> None:
    """One or two new hosts, each with a new ID and addresses; volumes may then grow."""
    domain = after["hosts"][0]["fqdn"].split(".", 1)[1]
    # Names, IDs and addresses of FROM's hosts too: a host that left keeps its ID's line in
    # CTDB's nodes file, and a new host with an old host's name or address is a rename.
    taken = {h["name"] for h in before["hosts"] + after["hosts"]}
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        both = {"hosts": before["hosts"] + after["hosts"], "ctdb": after.get("ctdb", {})}
        name = draw(labels.filter(lambda n: n not in taken))
        taken.add(name)
        # A host that joins takes an ID after every other (a lower unused ID would put it
        # among the first hosts by ID, where the volumes a file leaves out are laid).
        retired = [
            *before.get("ctdb", {}).get("retired_host_ids", ()),
            *after.get("ctdb", {}).get("retired_host_ids", ()),
        ]
        last = max(*(h["host_id"] for h in both["hosts"]), *retired)
        assume(last < 250)
        host_id = draw(st.integers(min_value=last + 1, max_value=250))
        interfaces = {}
        nics = {n: i["nic"] for n, i in after["hosts"][0]["interfaces"].items()}
        for network in after["networks"]:
            address = _free_address(both, network, 100)
            interfaces[network["name"]] = {"nic": nics[network["name"]], "address": address}
        after["hosts"].append(
            {
                "name": name,
                "fqdn": f"{name}.{domain}",
                "host_id": host_id,
                "brick_device": "/dev/vdb",
                "interfaces": interfaces,
            }
        )


def new_volume(draw: st.DrawFn, before: dict[str, Any], after: dict[str, Any]) -> None:
    """A volume TO adds, of whole replica sets on hosts with a brick device."""
    volumes = _volumes(after)
    holders = _holders(after)
    replica = 3 if after["target"] == EL9 else draw(st.integers(min_value=1, max_value=3))
    assume(len(holders) >= replica)
    sets = draw(st.integers(min_value=1, max_value=len(holders) // replica))
    hosts = draw(st.permutations(holders))[: sets * replica]
    name = f"new{len(volumes)}"
    volume: dict[str, Any] = {"name": name, "hosts": hosts}
    if after["target"] == EL7:
        volume["replica"] = replica
    if draw(st.booleans()):
        volume["brick_dir"] = f"{_brick_root(after)}/{name}/b"
    volumes.append(volume)


def grow_volume(draw: st.DrawFn, before: dict[str, Any], after: dict[str, Any]) -> None:
    """A volume of both sides grown by whole replica sets on hosts it has no brick on."""
    volumes = _volumes(after)
    grown = [v for v in volumes if v["name"] != "engine"]
    assume(grown)
    volume = draw(st.sampled_from(grown))
    replica = _replica(after, volume)
    free = [h for h in _holders(after) if h not in volume["hosts"]]
    assume(len(free) >= replica)
    sets = draw(st.integers(min_value=1, max_value=len(free) // replica))
    volume["hosts"] = [*volume["hosts"], *draw(st.permutations(free))[: sets * replica]]


def firewall_rules(draw: st.DrawFn, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Firewall rules TO adds (el7 also takes them away: the rules file is installed whole)."""
    rules = after.setdefault("firewall", {}).setdefault("extra_rules", [])
    if after["target"] == EL7 and rules and draw(st.booleans()):
        del rules[draw(st.integers(min_value=0, max_value=len(rules) - 1))]
    ports = {r["ports"] for r in rules}
    port = draw(st.integers(min_value=50000, max_value=59999).filter(lambda p: p not in ports))
    rules.append({"service": f"added {port}", "protocol": "tcp", "ports": port})


def vips(draw: st.DrawFn, before: dict[str, Any], after: dict[str, Any]) -> None:
    """el7: a VIP added, or one after the first removed or moved to another prefix."""
    listed = after["ctdb"]["vips"]
    how = draw(st.sampled_from(["add", "remove", "move"] if len(listed) > 1 else ["add"]))
    if how == "add":
        j = draw(st.integers(min_value=0, max_value=len(after["networks"]) - 1))
        network = after["networks"][j]
        nic = after["hosts"][0]["interfaces"][network["name"]]["nic"]
        listed.append({"address": f"{_free_address(after, network, 210)}/24", "nic": nic})
    elif how == "remove":
        del listed[draw(st.integers(min_value=1, max_value=len(listed) - 1))]
    else:
        vip = listed[draw(st.integers(min_value=1, max_value=len(listed) - 1))]
        vip["address"] = vip["address"].replace("/24", "/25")


@st.composite
def accepted_changes(
    draw: st.DrawFn, target: str, max_hosts: int = 6
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(FROM, TO): a valid FROM and one or more of the target's accepted transitions."""
    before = draw(valid_clusters(target, max_hosts))
    after = copy.deepcopy(before)
    transitions = ACCEPTED[target]
    chosen = draw(st.sets(st.sampled_from(range(len(transitions))), min_size=1))
    for i in sorted(chosen):
        transitions[i](draw, before, after)
    assume(valid(after))
    return before, after


# --- what confgen change refuses, with the key path it names --------------------------------

Expected = tuple[str, str]  # (side, key path)


def _other(draw: st.DrawFn, data: dict[str, Any]) -> str:
    first = next(h["name"] for h in data["hosts"] if h.get("first"))
    return str(
        draw(st.sampled_from(sorted(h["name"] for h in data["hosts"] if h["name"] != first)))
    )


def host_renamed(draw: st.DrawFn, before: dict[str, Any], after: dict[str, Any]) -> Expected:
    old = _other(draw, after)
    taken = {h["name"] for h in after["hosts"]}
    new = draw(labels.filter(lambda n: n not in taken))
    after["hosts"][_index(after, old)]["name"] = new  # fqdn and addresses kept
    for volume in after.get("gluster", {}).get("volumes", []):
        if "hosts" in volume:
            volume["hosts"] = [new if h == old else h for h in volume["hosts"]]
    return "to", f"hosts[{_index(after, new)}].name"


def host_leaves(draw: st.DrawFn, before: dict[str, Any], after: dict[str, Any]) -> Expected:
    the_plan = confgen.plan(confgen.loads(to_toml(after)))
    holding = {b.host for v in the_plan.volumes for b in v.bricks}
    first = the_plan.first.name
    free = sorted(h["name"] for h in after["hosts"] if h["name"] not in holding | {first})
    if not free:  # a host with no brick joins FROM, then leaves
        hosts_join(draw, before, before)
        after["hosts"] = copy.deepcopy(before["hosts"])
        name = before["hosts"][-1]["name"]
        after["hosts"].pop()
        before["hosts"][-1].pop("brick_device")
    else:
        name = draw(st.sampled_from(free))
        after["hosts"].pop(_index(after, name))
    if "ctdb" in after:
        # CTDB's nodes file keeps the line of a host that leaves: TO lists its ID as retired
        # where it is the last line (any other ID stays a comment below TO's last line), and
        # may list it anyway.
        host_id = before["hosts"][_index(before, name)]["host_id"]
        retired = after["ctdb"].get("retired_host_ids", [])
        top = max(*(h["host_id"] for h in after["hosts"]), *retired)
        if host_id > top or draw(st.booleans()):
            after["ctdb"]["retired_host_ids"] = [*retired, host_id]
    return "from", f"hosts[{_index(before, name)}]"


def volume_renamed(draw: st.DrawFn, before: dict[str, Any], after: dict[str, Any]) -> Expected:
    new_volume(draw, before, before)
    after["gluster"] = copy.deepcopy(before["gluster"])
    volumes = _volumes(after)
    volumes[-1]["name"] = "renamed"
    return "to", f"gluster.volumes[{len(volumes) - 1}].name"


def volume_deleted(draw: st.DrawFn, before: dict[str, Any], after: dict[str, Any]) -> Expected:
    new_volume(draw, before, before)
    after["gluster"] = copy.deepcopy(before["gluster"])
    _volumes(after).pop()
    return "from", f"gluster.volumes[{len(_volumes(before)) - 1}]"


def brick_dir_changed(draw: st.DrawFn, before: dict[str, Any], after: dict[str, Any]) -> Expected:
    volumes = _volumes(after)
    _volumes(before)  # the same list, written out on both sides
    j = draw(st.integers(min_value=0, max_value=len(volumes) - 1))
    volumes[j]["brick_dir"] = f"{_brick_root(after)}/{volumes[j]['name']}/moved"
    return "to", f"gluster.volumes[{j}].brick_dir"


def replica_changed(draw: st.DrawFn, before: dict[str, Any], after: dict[str, Any]) -> Expected:
    volumes = _volumes(after)
    _volumes(before)
    changeable = [j for j, v in enumerate(volumes) if not v.get("existing") and v["replica"] > 1]
    assume(changeable)
    j = draw(st.sampled_from(changeable))
    volumes[j]["replica"] = 1
    return "to", f"gluster.volumes[{j}].replica"


def first_vip_moved(draw: st.DrawFn, before: dict[str, Any], after: dict[str, Any]) -> Expected:
    network = after["networks"][0]
    vip = after["ctdb"]["vips"][0]
    vip["address"] = f"{_free_address(after, network, 220)}/24"
    vip["nic"] = after["hosts"][0]["interfaces"][network["name"]]["nic"]
    return "to", "ctdb.vips[0].address"


def target_changed(draw: st.DrawFn, before: dict[str, Any], after: dict[str, Any]) -> Expected:
    other = EL9 if after["target"] == EL7 else EL7
    after.clear()
    after.update(draw(valid_clusters(other, 4)))
    return "to", "target"


def kept_address_changed(
    draw: st.DrawFn, before: dict[str, Any], after: dict[str, Any]
) -> Expected:
    name = _other(draw, after)
    host = after["hosts"][_index(after, name)]
    network = draw(st.sampled_from(after["networks"]))
    host["interfaces"][network["name"]]["address"] = _free_address(after, network, 150)
    return "to", f"hosts[{_index(after, name)}].interfaces.{network['name']}.address"


# The transitions confgen change takes, per target, in the order they are applied when a
# change draws several (hosts join before volumes grow onto them).
ACCEPTED: dict[str, list[Transition]] = {
    EL7: [host_leaves, hosts_join, new_volume, grow_volume, firewall_rules, vips],
    EL9: [host_leaves, hosts_join, new_volume, grow_volume, firewall_rules],
}


# The transitions confgen change refuses, per target; each says the key path refused. A
# transition that lands moves to ACCEPTED (and its refusal out of the refusal list).
REFUSED: dict[str, list[Transition]] = {
    EL7: [
        host_renamed,
        volume_renamed,
        volume_deleted,
        brick_dir_changed,
        replica_changed,
        first_vip_moved,
        target_changed,
        kept_address_changed,
    ],
    EL9: [
        host_renamed,
        volume_renamed,
        volume_deleted,
        brick_dir_changed,
        target_changed,
        kept_address_changed,
    ],
}


@st.composite
def refused_changes(
    draw: st.DrawFn, target: str, max_hosts: int = 6
) -> tuple[dict[str, Any], dict[str, Any], tuple[str, str]]:
    """(FROM, TO, (side, key path)): a valid pair the change refuses, and what it names."""
    before = draw(valid_clusters(target, max_hosts))
    after = copy.deepcopy(before)
    transition = draw(st.sampled_from(REFUSED[target]))
    expected = transition(draw, before, after)
    assume(valid(before) and valid(after))
    return before, after, expected
