"""The facts the plan gives the templates: step labels, the files each step installs, the
peers a host probes, the volumes growth spreads and the bricks an undo clears, each step's
failure. Each is computed once in Python; these hold the logic, the goldens hold the text."""

from __future__ import annotations

from typing import Any

import pytest

import confgen
from confgen.errors import PlanCheckError
from confgen.planner import Step, StepFailure, plan_validated, with_failures
from confgen.records import replace
from golden_cases import GOLDEN


def _plan(case: str) -> Any:
    return confgen.plan(confgen.loads((GOLDEN / case / "cluster.toml").read_text()))


def _data(case: str) -> Any:
    return confgen.template_context(_plan(case))["plan"]


def _step(number: int) -> Step:
    return Step(number=number, slug="firewall", title="", hosts=(), where="", after=(), template="")


@pytest.mark.parametrize(("number", "label"), [(0, "00"), (7, "07"), (12, "12"), (120, "120")])
def test_a_step_label_is_its_number_in_two_digits_at_least(number: int, label: str) -> None:
    assert _step(number).label == label
    assert _step(number).script == f"{label}-firewall.sh"


def test_first_and_last_step_name_the_steps_of_a_slug() -> None:
    plan = _plan("seed-3host")
    data = _data("seed-3host")
    ctdb = [s for s in plan.steps if s.slug == "ctdb"]
    assert len(ctdb) > 1  # one on the first host, then on the others
    assert data["first_step"]["ctdb"]["label"] == ctdb[0].label
    assert data["last_step"]["ctdb"]["label"] == ctdb[-1].label
    assert data["first_step"]["ctdb"]["script"] == ctdb[0].script
    # Each step's `after` carries the label of the step it waits for.
    for step in data["steps"]:
        for after in step["after"]:
            assert after["label"] == f"{after['number']:02d}"


def test_a_member_probes_every_other_member_and_never_itself() -> None:
    plan = _plan("split-6host")
    for host in plan.hosts:
        others = [h.peer for h in plan.hosts if h is not host]
        assert host.peers == tuple(others)
        assert host.peer not in host.peers
    # On a storage network of its own, a peer is its storage address, not its name.
    assert plan.first.peers[0] == "10.20.0.2"


def test_each_host_installs_only_in_the_steps_it_runs() -> None:
    plan = _plan("seed-3host")
    data = _data("seed-3host")
    files = {f.path: f for f in plan.files}
    for host in data["hosts"]:
        runs = {s.slug for s in plan.steps if host["name"] in s.hosts}
        assert set(host["installs"]) == runs
        for installs in host["installs"].values():
            for install in installs:
                tree_file = files[f"hosts/{host['name']}/{install['source']}"]
                assert install["source"] == f"files{install['target']}"
                assert f"{tree_file.mode:04o}" == install["mode"]
    first, *others = data["hosts"]
    # The rules go in at the firewall step, and again after each other host's deploy, which
    # replaced them; the first host deploys nothing.
    assert [i["mode"] for i in first["installs"]["firewall"]] == ["0600"]
    assert "restore-firewall" not in first["installs"]
    for host in others:
        assert host["installs"]["restore-firewall"] == host["installs"]["firewall"]
        # Only the first host writes CTDB's configuration onto the shared volume.
        assert host["installs"]["ctdb"] == []
    assert [i["target"].rsplit("/", 1)[1] for i in first["installs"]["ctdb"]] == [
        "ctdb",
        "nodes",
        "public_addresses",
    ]
    # In the order the step installs them: the mount before the units that need it.
    assert first["installs"]["systemd-units"][0]["target"].endswith(".mount")


def test_el9_installs_the_stream_repository_only_on_a_rhel_rebuild() -> None:
    rebuild = _plan("el9-6host")
    assert rebuild.cluster.packages.rhel_rebuild
    assert all(
        [i.steps for i in installs] == [("install-packages",)] * 2
        for installs in rebuild.installs.values()
    )
    plain = _plan("el9-3host")
    assert not plain.cluster.packages.rhel_rebuild
    assert plain.installs == {}
    assert not [f for f in plain.files if "/files/" in f.path]


def test_growth_spreads_a_volume_only_by_a_further_replica_set() -> None:
    plan = _plan("split-6host")
    data = _data("split-6host")
    assert plan.volume("data").spreads  # two replica sets: one more after the first
    assert not plan.volume("engine").spreads  # one set: growth only adds its replicas
    assert data["spread_volumes"] == ["data"]
    assert _data("seed-3host")["spread_volumes"] == []
    assert plan.volume("vmstore").brick_hosts == ("hv4", "hv5", "hv6")


def test_an_undo_clears_only_the_hosts_own_bricks_of_new_volumes() -> None:
    plan = _plan("split-6host")
    new_bricks = _data("split-6host")["new_bricks"]
    # meta is new on the first three, vmstore on the other three; engine and data existed.
    assert [b["volume"] for b in new_bricks["hv1"]] == ["meta"]
    assert [b["volume"] for b in new_bricks["hv4"]] == ["vmstore"]
    assert new_bricks["hv4"][0]["path"] == plan.volume("vmstore").brick_dir


def _with_broken_plan(cluster: Any, broken_plan: Any) -> None:
    """plan_validated of `cluster`, with its target's plan made by `broken_plan`."""
    from confgen import targets

    target = targets.of(cluster)
    original = targets.get
    try:
        targets.get = lambda name: replace(target, plan=broken_plan)  # type: ignore[assignment]
        plan_validated(cluster)
    finally:
        targets.get = original  # type: ignore[assignment]


def test_a_file_installed_by_a_step_the_plan_lacks_is_a_bug() -> None:
    plan = _plan("seed-3host")
    typo = {
        host: tuple(replace(i, steps=("firewal",)) for i in installs)
        for host, installs in plan.installs.items()
    }
    with pytest.raises(PlanCheckError, match="is installed by firewal, which is no step"):
        _with_broken_plan(plan.cluster, lambda c, s: replace(plan, installs=typo))


def test_each_step_carries_its_failure_and_one_without_is_a_bug() -> None:
    plan = _plan("seed-3host")
    assert all(s.failure is not None for s in plan.steps)
    failure = StepFailure(state="s", retry="r", undo="u")
    with pytest.raises(ValueError):
        with_failures(plan.steps, [failure])  # fewer failures than steps
    without = tuple(replace(st, failure=None) for st in plan.steps)
    with pytest.raises(PlanCheckError, match="step 00 has no failure entry"):
        _with_broken_plan(plan.cluster, lambda c, s: replace(plan, steps=without))


def test_the_ctdb_nodes_file_keeps_a_commented_line_for_an_unused_host_id() -> None:
    # A host that left the cluster leaves its ID unused; ctdbd numbers nodes by line, so the
    # line stays, commented out, and the next host keeps its node number.
    text = (GOLDEN / "seed-3host" / "cluster.toml").read_text()
    assert text.count("host_id = 3") == 1
    cluster = confgen.loads(text.replace("host_id = 3", "host_id = 5"))
    kept = {h.name: h for h in cluster.hosts}
    nodes = confgen.template_context(confgen.plan(cluster))["plan"]["nodes"]
    assert len(nodes) == 5
    assert nodes[2] == "# host ID 3: no host"
    assert nodes[3] == "# host ID 4: no host"
    assert nodes[4] == str(kept["host3"].interfaces["lan"].address)
    assert nodes[0] == str(kept["host1"].interfaces["lan"].address)


def test_the_ctdb_nodes_file_reaches_the_highest_retired_host_id() -> None:
    # The host of ID 5 left: its line stays, commented, past every host's, and a host that
    # joins later takes line 6.
    text = (GOLDEN / "seed-3host" / "cluster.toml").read_text()
    cluster = confgen.loads(text.replace("[ctdb]\n", "[ctdb]\nretired_host_ids = [5]\n", 1))
    nodes = confgen.template_context(confgen.plan(cluster))["plan"]["nodes"]
    assert nodes[3:] == ["# host ID 4: no host", "# host ID 5: no host"]
    assert len(nodes) == 5
