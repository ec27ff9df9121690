"""The undo scripts on the fake cluster: a volume step that failed half-way, its undo, and the
step passing after it; the undo refusing without confirmation; a dry run changing nothing; a
second undo finding nothing to do; the engine's volume kept while a hosted engine is deployed
on it. The gluster stand-in marks brick folders and refuses marked ones as glusterd does
(fakehost_gluster._stage_bricks; held to the real glusterd by tests/test_real_programs.py).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

import fakehost_gluster
from fakehost import FakeCluster
from golden_cases import GOLDEN

EL9 = (GOLDEN / "el9-3host" / "cluster.toml").read_text()
SEED = (GOLDEN / "seed-3host" / "cluster.toml").read_text()


def _marks(fake: FakeCluster) -> dict[str, dict[str, list[str]]]:
    """Each host's brick folders that carry a volume's marks: folder -> what it carries."""
    found: dict[str, dict[str, list[str]]] = {}
    for host in fake.plan.hosts:
        xattrs = fake.state["hosts"][host.name].get("xattrs", {})
        for folder, keys in xattrs.items():
            carried = sorted(keys)
            if (fake.root(host.name) / folder.lstrip("/") / ".glusterfs").exists():
                carried.append(".glusterfs")
            if carried:
                found.setdefault(host.name, {})[folder] = carried
    return found


def _undo_everywhere(fake: FakeCluster, slug: str) -> None:
    step = fake.plan.first_step(slug)
    failure = step.failure
    assert failure is not None and failure.scripts, slug
    for script in failure.scripts:
        result = fake.run_undo(script.host, step.script, CONFGEN_CONFIRM=script.host)
        assert result.returncode == 0, (script.host, result.stdout, result.stderr)


def _half_failed_volume_step(tmp_path: Path, text: str, slug: str) -> FakeCluster:
    """The volume step run once with a brick folder of the last planned volume marked by an
    earlier attempt, on a host but the first: glusterd refuses that create after the first
    host has staged (marked) its own brick of it, and the volumes before it exist."""
    fake = FakeCluster.rendered(tmp_path, text)
    step = fake.plan.first_step(slug)
    fake.run_through(step.number)
    last = fake.plan.new_volumes[-1]
    brick = next(b for b in last.bricks if b.host != fake.plan.first.name)
    fake.state["hosts"][brick.host].setdefault("xattrs", {})[brick.path] = {
        fakehost_gluster.VOLUME_ID: "an earlier attempt"
    }
    fake.save()
    result = fake.run(fake.plan.first.name, step.script)
    assert result.returncode != 0
    assert f"{brick.path} is already part of a volume" in result.stderr
    assert last.name not in fake.state["volumes"]
    first_brick = next(b for b in last.bricks if b.host == fake.plan.first.name)
    assert fakehost_gluster.VOLUME_ID in _marks(fake)[first_brick.host][first_brick.path]
    return fake


@pytest.mark.parametrize(("text", "slug"), [(EL9, "volumes"), (SEED, "new-volumes")])
def test_a_volume_step_failed_half_way_is_undone_and_then_passes(
    tmp_path: Path, text: str, slug: str
) -> None:
    fake = _half_failed_volume_step(tmp_path, text, slug)
    planned = {v.name for v in fake.plan.new_volumes}
    existing_before = {
        name: copy.deepcopy(v) for name, v in fake.state["volumes"].items() if name not in planned
    }
    _undo_everywhere(fake, slug)
    assert not planned & set(fake.state["volumes"]), fake.state["volumes"]
    # Part one's volumes are not the runbook's: untouched.
    assert {n: v for n, v in fake.state["volumes"].items()} == existing_before
    marked_bricks = {(b.host, b.path) for v in fake.plan.new_volumes for b in v.bricks} & {
        (h, f) for h, folders in _marks(fake).items() for f in folders
    }
    assert not marked_bricks
    step = fake.plan.first_step(slug)
    result = fake.run(fake.plan.first.name, step.script)
    assert result.returncode == 0, result.stderr
    assert planned <= set(fake.state["volumes"])
    assert all(fake.state["volumes"][n]["status"] == "Started" for n in planned)


def test_the_undo_refuses_without_confirmation(tmp_path: Path) -> None:
    fake = _half_failed_volume_step(tmp_path, EL9, "volumes")
    step = fake.plan.first_step("volumes")
    first = fake.plan.first.name
    before = copy.deepcopy(fake.state)
    no_terminal = fake.run_undo(first, step.script)
    assert no_terminal.returncode != 0
    assert f"CONFGEN_CONFIRM={first}" in no_terminal.stderr
    wrong = fake.run_undo(first, step.script, typed="yes")
    assert wrong.returncode != 0 and "not confirmed" in wrong.stderr
    other_word = fake.run_undo(first, step.script, CONFGEN_CONFIRM="host2")
    assert other_word.returncode != 0
    assert fake.state == before
    typed = fake.run_undo(first, step.script, typed=first)
    assert typed.returncode == 0, typed.stderr
    assert fake.state["volumes"] == {}


def test_a_dry_run_of_the_undo_changes_nothing(tmp_path: Path) -> None:
    fake = _half_failed_volume_step(tmp_path, EL9, "volumes")
    step = fake.plan.first_step("volumes")
    before, files, calls = copy.deepcopy(fake.state), fake.snapshot(), len(fake.changes())
    result = fake.run_undo(fake.plan.first.name, step.script, DRY_RUN="1")
    assert result.returncode == 0, result.stderr
    assert "would run: gluster --mode=script volume stop engine" in result.stdout
    assert "would run: gluster --mode=script volume delete engine" in result.stdout
    assert "would run: setfattr -x trusted.glusterfs.volume-id" in result.stdout
    assert fake.state == before and fake.snapshot() == files
    assert len(fake.changes()) == calls


def test_a_second_undo_finds_nothing_to_do(tmp_path: Path) -> None:
    fake = _half_failed_volume_step(tmp_path, EL9, "volumes")
    _undo_everywhere(fake, "volumes")
    step = fake.plan.first_step("volumes")
    before, files, calls = copy.deepcopy(fake.state), fake.snapshot(), len(fake.changes())
    for host in fake.plan.hosts:
        # Without a terminal and without CONFGEN_CONFIRM: nothing to destroy, nothing asked.
        result = fake.run_undo(host.name, step.script)
        assert result.returncode == 0, result.stderr
        assert "nothing to undo" in result.stdout
    assert fake.state == before and fake.snapshot() == files
    assert len(fake.changes()) == calls


def test_another_host_waits_until_the_first_deleted_the_volumes(tmp_path: Path) -> None:
    fake = _half_failed_volume_step(tmp_path, EL9, "volumes")
    step = fake.plan.first_step("volumes")
    before = copy.deepcopy(fake.state)
    result = fake.run_undo("host2", step.script, CONFGEN_CONFIRM="host2")
    assert result.returncode != 0
    assert "run undo/06-volumes.sh on host1 first" in result.stderr
    assert fake.state == before


def test_the_engine_volume_is_kept_while_a_hosted_engine_is_deployed_on_it(
    tmp_path: Path,
) -> None:
    fake = FakeCluster.rendered(tmp_path, EL9)
    deploy = fake.plan.first_step("hosted-engine-deploy")
    fake.run_through(deploy.number + 1)
    engine = fake.plan.cluster.hosted_engine.volume
    assert fake.state["volumes"][engine]["status"] == "Started"
    before = copy.deepcopy(fake.state)
    step = fake.plan.first_step("volumes")
    result = fake.run_undo(fake.plan.first.name, step.script, CONFGEN_CONFIRM="host1")
    assert result.returncode != 0
    assert f"a hosted engine is deployed on {engine}" in result.stderr
    assert fake.state == before


def test_a_deploy_undone_then_its_volumes_and_both_steps_run_again(tmp_path: Path) -> None:
    """undo/07 de-configures the host (ovirt-hosted-engine-cleanup -q: hosted-engine.conf
    gone, the HA services and vdsm stopped); the engine's volume may then go with undo/06, and
    steps 06 and 07 pass again. A second undo/07 finds nothing to do. (The fake cluster's
    glusterfs mount shows no files of a volume: emptying the engine's volume is not shown
    here.)"""
    fake = FakeCluster.rendered(tmp_path, EL9)
    deploy = fake.plan.first_step("hosted-engine-deploy")
    fake.run_through(deploy.number + 1)
    first = fake.plan.first.name
    conf = fake.root(first) / "etc/ovirt-hosted-engine/hosted-engine.conf"
    assert conf.exists()
    dry = fake.run_undo(first, deploy.script, DRY_RUN="1")
    assert dry.returncode == 0 and "would run: ovirt-hosted-engine-cleanup -q" in dry.stdout
    assert conf.exists()
    refused = fake.run_undo(first, deploy.script)
    assert refused.returncode != 0 and conf.exists()
    result = fake.run_undo(first, deploy.script, typed=first)
    assert result.returncode == 0, result.stderr
    assert not conf.exists()
    me = fake.state["hosts"][first]
    assert not {"ovirt-ha-agent", "ovirt-ha-broker", "vdsmd"} & set(me["active"])
    again = fake.run_undo(first, deploy.script)
    assert again.returncode == 0 and "nothing to undo" in again.stdout
    _undo_everywhere(fake, "volumes")
    assert fake.state["volumes"] == {}
    for slug in ("volumes", "hosted-engine-deploy"):
        step = fake.plan.first_step(slug)
        rerun = fake.run(first, step.script)
        assert rerun.returncode == 0, (slug, rerun.stdout, rerun.stderr)
    assert conf.exists()


@pytest.mark.parametrize("text", [EL9, SEED], ids=["el9", "seed"])
def test_every_step_has_its_failure_entry_and_each_undo_script_is_a_file_of_its_host(
    text: str,
) -> None:
    import confgen

    cluster = confgen.loads(text)
    plan = confgen.plan(cluster)
    tree = confgen.render(cluster)
    runbook = tree["RUNBOOK.md"].text
    files = {f.path: f for f in plan.files}
    section = runbook[runbook.index("## If a step fails") :]
    for step in plan.steps:
        failure = step.failure
        assert failure is not None
        assert failure.state and failure.retry and failure.undo
        heading = f"### {step.label} {step.slug} ({step.where})"
        assert heading in section, heading
        for script in failure.scripts:
            path = f"hosts/{script.host}/{script.path}"
            assert script.path == f"undo/{step.script}"
            assert files[path].mode == 0o755 and files[path].host == script.host
            assert f"`{path}`" in section
    undo_files = {p for p in files if "/undo/" in p}
    named = {f"hosts/{s.host}/{s.path}" for t in plan.steps if t.failure for s in t.failure.scripts}
    assert undo_files == named and undo_files
    # The volumes the runbook did not create are never in an undo script.
    for volume in plan.existing_volumes:
        for path in undo_files:
            assert f"volume info {volume.name} " not in tree[path].text
