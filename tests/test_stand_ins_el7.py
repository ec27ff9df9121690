"""The seed target's stand-ins (fakehost_el7.py), one for the fake cluster and the containers:
each behaviour where the two used to disagree, as its program's source says (cited in
fakehost_el7.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import fakehost_el7

STAND_INS = Path(__file__).resolve().parent / "e2e" / "standins"


def _me(**extra: Any) -> dict[str, Any]:
    me: dict[str, Any] = {
        "fqdn": "host2.example.com",
        "packages": [],
        "enabled": [],
        "active": [],
        "selinux": "Enforcing",
        "devices": {},
        "mounts": {},
    }
    me.update(extra)
    return me


def test_the_containers_run_the_fake_clusters_stand_ins() -> None:
    """Every program the el7 overlay stands in for is answered by fakehost_el7.answer, which
    its el7.py calls: no second implementation."""
    overlay = STAND_INS / "ovirt35-el7/usr/local/sbin"
    linked = {p.name for p in overlay.iterdir() if p.is_symlink()}
    assert linked == set(fakehost_el7.PROGRAMS) | {"getenforce"}
    adapter = (STAND_INS / "ovirt35-el7/usr/local/lib/el7-standin/el7.py").read_text()
    assert "fakehost_el7.answer(PROGRAM" in adapter


@pytest.mark.parametrize(
    ("argument", "mode"),
    [
        ("0", "Permissive"),
        ("1", "Enforcing"),
        ("permissive", "Permissive"),
        ("Permissive", "Permissive"),
        ("ENFORCING", "Enforcing"),
        ("Enforcing", "Enforcing"),
    ],
)
def test_setenforce_takes_what_libselinux_2_5_takes(argument: str, mode: str) -> None:
    me = _me(selinux="Permissive" if mode == "Enforcing" else "Enforcing")
    code, _, changed, _ = fakehost_el7.answer("setenforce", {}, me, [argument], Path("/"))
    assert (code, changed, me["selinux"]) == (0, True, mode)


@pytest.mark.parametrize("args", [[], ["2"], ["00"], ["yes"], ["0", "1"]])
def test_setenforce_refuses_anything_else_with_its_usage(args: list[str]) -> None:
    me = _me()
    code, _, changed, err = fakehost_el7.answer("setenforce", {}, me, args, Path("/"))
    assert (code, changed, me["selinux"]) == (1, False, "Enforcing")
    assert err == "usage:  setenforce [ Enforcing | Permissive | 1 | 0 ]\n"


def test_setenforce_on_a_host_without_selinux() -> None:
    code, _, _, err = fakehost_el7.answer(
        "setenforce", {}, _me(selinux="Disabled"), ["0"], Path("/")
    )
    assert (code, err) == (1, "setenforce: SELinux is disabled\n")


def test_yum_installs_what_a_package_requires_and_knows_no_other_verb() -> None:
    me = _me()
    code, _, changed, _ = fakehost_el7.answer(
        "yum", {}, me, ["install", "-y", "vdsm-gluster"], Path("/")
    )
    assert (code, changed) == (0, True)
    assert me["packages"] == ["vdsm-gluster", "vdsm", "glusterfs-server"]
    code, _, changed, err = fakehost_el7.answer("yum", {}, me, ["remove", "-y", "vdsm"], Path("/"))
    assert (code, changed) == (1, False)
    assert err == "No such command: remove. Please use /usr/bin/yum --help\n"
    assert "vdsm" in me["packages"]


def test_yum_makecache_fast_fails_when_a_repository_does_not_answer(tmp_path: Path) -> None:
    args = ["-q", f"--setopt=cachedir={tmp_path}", "makecache", "fast"]
    assert fakehost_el7.answer("yum", {}, _me(), args, Path("/"))[0] == 0
    assert (tmp_path / "base/repomd.xml").is_file()
    code, _, _, err = fakehost_el7.answer("yum", {}, _me(repos_reachable=False), args, Path("/"))
    assert code == 1 and "Cannot retrieve repository metadata (repomd.xml)" in err


def _deployed(root: Path, host_id: int) -> None:
    conf = root / fakehost_el7.CONF
    conf.parent.mkdir(parents=True)
    conf.write_text(
        f"vmid={fakehost_el7.VM_ID}\nconf=/etc/ovirt-hosted-engine/vm.conf\nhost_id={host_id}\n"
    )
    (conf.parent / "vm.conf").write_text("vmId=x\n")


def _engine(**extra: Any) -> dict[str, Any]:
    engine = {
        "hosts": [1, 2],
        "in_engine": ["host1.example.com"],  # host2 in the HA metadata, removed from the engine
        "vm": "down",
        "global_maintenance": True,
        "runs_on": 1,
    }
    engine.update(extra)
    return {"engine": engine}


def test_leaving_global_maintenance_starts_the_engine_where_an_agent_runs(tmp_path: Path) -> None:
    """Any host of the best score may start the VM (agent/states.py:447-459): the host that
    asked, whose agent runs; with its agent stopped the VM stays down."""
    _deployed(tmp_path, 2)
    state = _engine()
    me = _me(active=["ovirt-ha-broker"])
    args = ["--set-maintenance", "--mode=none"]
    assert fakehost_el7.answer("hosted-engine", state, me, args, tmp_path)[0] == 0
    assert (state["engine"]["vm"], state["engine"]["global_maintenance"]) == ("down", False)
    me["active"].append("ovirt-ha-agent")
    assert fakehost_el7.answer("hosted-engine", state, me, args, tmp_path)[0] == 0
    assert (state["engine"]["vm"], state["engine"]["runs_on"]) == ("up", 2)
    code, out, _, _ = fakehost_el7.answer("hosted-engine", state, me, ["--vm-status"], tmp_path)
    host2 = out.split("--== Host 2 status ==--")[1]
    assert (
        code == 0
        and '"health": "good"' in host2
        and '"health": "good"' not in out.split("--== Host 2 status ==--")[0]
    )


def test_a_maintenance_mode_is_checked_before_the_deploy(tmp_path: Path) -> None:
    """hosted-engine.in:347-367: the mode first, on standard output, exit 1."""
    code, out, _, _ = fakehost_el7.answer(
        "hosted-engine", _engine(), _me(), ["--set-maintenance", "--mode=off"], tmp_path
    )
    assert (code, out) == (1, "Invalid value 'off' for --mode\n")
    code, out, _, _ = fakehost_el7.answer(
        "hosted-engine", _engine(), _me(), ["--set-maintenance", "--mode=global"], tmp_path
    )
    assert (code, out) == (0, "You must run deploy first\n")


@pytest.mark.parametrize(
    ("redeploy", "error"),
    [
        (None, "End of file"),
        ("bool:False", "Invalid value for Host ID: already used"),
        ("bool:True", None),
    ],
)
def test_a_deploy_with_a_host_id_in_use(
    tmp_path: Path, redeploy: str | None, error: str | None
) -> None:
    """storage.py:290-298: a used host ID is refused unless the answers say it is a
    re-deployment; without the answer the setup asks, and finds no one to answer."""
    answers = tmp_path / "answers.conf"
    lines = ["[environment:default]", "OVEHOSTED_STORAGE/hostID=int:2"]
    if redeploy is not None:
        lines.append(f"OVEHOSTED_CORE/additionalHostReDeployment={redeploy}")
    answers.write_text("\n".join(lines) + "\n")
    root = tmp_path / "root"
    (root / "etc/sysconfig").mkdir(parents=True)
    (root / "etc/sysconfig/iptables").write_text("# as packaged\n")
    state = _engine()
    me = _me()
    args = ["--deploy", f"--config-append={answers}"]
    code, _, changed, err = fakehost_el7.answer("hosted-engine", state, me, args, root)
    if error is None:
        assert (code, changed) == (0, True)
        assert "host_id=2" in (root / fakehost_el7.CONF).read_text()
        assert state["engine"]["hosts"] == [1, 2]
        assert {"vdsmd", "ovirt-ha-agent", "ovirt-ha-broker"} <= set(me["active"])
    else:
        assert (code, changed) == (1, False)
        assert err == f"[ ERROR ] Failed to execute stage 'Setup validation': {error}\n"
        assert not (root / fakehost_el7.CONF).exists() and me["active"] == []


def test_a_redeploy_while_the_engine_has_the_host_fails_at_closing_up(tmp_path: Path) -> None:
    """engine/add_host.py:628-670: the host is added by its address at closing up; the engine
    refuses an address it has (the old machine of the same name, not removed), the setup
    logs why and fails the stage, hosted-engine.conf written, the HA services not started."""
    answers = tmp_path / "answers.conf"
    answers.write_text(
        "[environment:default]\nOVEHOSTED_STORAGE/hostID=int:2\n"
        "OVEHOSTED_CORE/additionalHostReDeployment=bool:True\n"
    )
    root = tmp_path / "root"
    (root / "etc/sysconfig").mkdir(parents=True)
    (root / "etc/sysconfig/iptables").write_text("# as packaged\n")
    state = _engine(in_engine=["host1.example.com", "host2.example.com"])
    me = _me()
    args = ["--deploy", f"--config-append={answers}"]
    code, _, changed, err = fakehost_el7.answer("hosted-engine", state, me, args, root)
    assert (code, changed) == (1, True)
    assert "Cannot add Host. Host with the same address already exists.\n" in err
    assert err.endswith(
        "Failed to execute stage 'Closing up': Cannot add the host to cluster Default\n"
    )
    assert "host_id=2" in (root / fakehost_el7.CONF).read_text()
    assert "ovirt-ha-agent" not in me["active"]
    assert state["engine"]["in_engine"] == ["host1.example.com", "host2.example.com"]
