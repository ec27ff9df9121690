"""The table of ovirt-hosted-engine-setup's answer keys, and the fake cluster's hosted-engine
--deploy that follows it (hosted_engine_setup.py, fakehost_engine.deploy)."""

from __future__ import annotations

import ast
import importlib.util
import os
import pty
import subprocess
from pathlib import Path
from typing import Any

import pytest

import confgen
import fakehost_el7
import fakehost_engine
import hosted_engine_setup as hes
from fakehost import FakeCluster
from golden_cases import GOLDEN, golden_cases

DATA = Path(__file__).parent / "data" / "hosted-engine-setup"
MIRROR = Path(
    os.environ.get("HOSTED_ENGINE_SETUP_GIT", "/work/.mirror/oVirt+ovirt-hosted-engine-setup/repo")
)
THREE_HOSTS = (GOLDEN / "el9-3host" / "cluster.toml").read_text()
# The answers the scripts wrote before the keys were checked against the setup's source.
OLD_ANSWERS = """[environment:default]
OVEHOSTED_STORAGE/domainType=str:glusterfs
OVEHOSTED_STORAGE/storageDomainConnection=str:host1.example.com:/engine
OVEHOSTED_STORAGE/mntOptions=str:backup-volfile-servers=host2.example.com:host3.example.com
OVEHOSTED_STORAGE/storageDatacenterName=str:Default
OVEHOSTED_ENGINE/clusterName=str:Default
OVEHOSTED_NETWORK/fqdn=str:engine.example.com
OVEHOSTED_NETWORK/bridgeIf=str:eth0
"""
NEW_ANSWERS = """[environment:default]
OVEHOSTED_STORAGE/domainType=str:glusterfs
OVEHOSTED_STORAGE/storageDomainConnection=str:host1.example.com:/engine
OVEHOSTED_STORAGE/mntOptions=str:backup-volfile-servers=host2.example.com:host3.example.com
OVEHOSTED_ENGINE/datacenterName=str:dc1
OVEHOSTED_ENGINE/clusterName=str:cluster1
OVEHOSTED_ENGINE/enableHcGlusterService=bool:True
OVEHOSTED_CORE/enableKeycloak=bool:False
OVEHOSTED_NETWORK/forceIPv4=bool:True
OVEHOSTED_NETWORK/fqdn=str:engine.example.com
OVEHOSTED_VM/cloudinitInstanceHostName=str:engine.example.com
OVEHOSTED_NETWORK/bridgeIf=str:eth0
"""


def _extract_module() -> Any:
    spec = importlib.util.spec_from_file_location("he_extract", DATA / "extract.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not MIRROR.is_dir(), reason=f"no git directory of the setup at {MIRROR}")
@pytest.mark.parametrize("version", sorted(hes.TABLES))
def test_the_table_is_what_the_script_extracts_from_the_tag(version: str) -> None:
    """CI has no network: there the committed table is what the tests use. 2.7.2's for
    ovirt45-el9; 1.2.6.1's (Python 2 source, converted before it is parsed) for ovirt35-el7."""
    provenance = hes.table(version)["provenance"]
    assert provenance["tag"] == f"ovirt-hosted-engine-setup-{version}"
    extract = _extract_module()
    text = extract.dumps(extract.extract(str(MIRROR), provenance["tag"]))
    assert text == hes.TABLES[version].read_text()


def test_python_2_source_is_parsed_with_its_lines_kept() -> None:
    """extract.py converts what Python 3 cannot parse (1.2.6.1's print statements, `except E,
    e:`, `0644`) within its lines, so the table's path:line citations are the upstream's."""
    source = (
        "def f(self):\n"
        "    print 'x'\n"
        "    try:\n"
        "        os.chmod(p, 0644)\n"
        "    except OSError, e:\n"
        "        raise RuntimeError, e\n"
        "    return self.environment[ohostedcons.StorageEnv.HOST_ID]\n"
    )
    tree = _extract_module().parse("plugin.py", source)
    returned = next(n for n in ast.walk(tree) if isinstance(n, ast.Return))
    assert returned.lineno == 7
    assert ast.unparse(returned) == "return self.environment[ohostedcons.StorageEnv.HOST_ID]"
    python3 = "print('x', end='')\n"  # Python 3 source is parsed as it is
    assert ast.dump(_extract_module().parse("x.py", python3)) == ast.dump(ast.parse(python3))


def _el7_answers() -> dict[str, str]:
    """Every hosted-engine answer file the el7 cases render (the seed's target)."""
    found = {}
    for case in golden_cases("ovirt35-el7"):
        cluster = confgen.loads((GOLDEN / case / "cluster.toml").read_text())
        for path, rendered in confgen.render(cluster).items():
            if path.endswith("hosted-engine-answers.conf"):
                found[f"{case}/{path}"] = rendered.text
    return found


def test_every_key_the_el7_answers_write_is_read_by_1_2_6_1() -> None:
    """The keys ovirt35-el7's answers give, each read by ovirt-hosted-engine-setup 1.2.6.1
    (answers-1.2.6.1.json): additionalHostReDeployment at storage.py:74 and :91 (the
    validation's _re_deploying_host, reached at :294), hostID at storage.py:124-165 and
    core/conf.py:76 (hosted-engine.conf's host_id)."""
    files = _el7_answers()
    assert files
    keys = hes.keys("1.2.6.1")
    for name, text in files.items():
        answers = hes.read_answers(text)
        assert hes.unread(answers, version="1.2.6.1") == [], name
        assert {"OVEHOSTED_STORAGE/hostID", "OVEHOSTED_CORE/additionalHostReDeployment"} <= set(
            answers
        ), name
    storage = "src/plugins/ovirt-hosted-engine-setup/storage/storage.py"
    redeploy = keys["OVEHOSTED_CORE/additionalHostReDeployment"]
    assert f"{storage}:74 load" in redeploy["reads"] and redeploy["type"] == "bool"
    assert f"{storage}:291 load" in keys["OVEHOSTED_STORAGE/hostID"]["reads"]


@pytest.mark.parametrize(
    "key",
    [
        "OVEHOSTED_STORAGE/storageType",  # defined in 1.2.6.1's constants.py, read nowhere
        "OVEHOSTED_STORAGE/mntOptions",  # 2.7's, unknown to 1.2.6.1
    ],
)
def test_the_el7_stand_in_refuses_a_key_1_2_6_1_never_reads(tmp_path: Path, key: str) -> None:
    assert key not in hes.keys("1.2.6.1")
    answers = tmp_path / "answers.conf"
    answers.write_text(
        "[environment:default]\nOVEHOSTED_STORAGE/hostID=int:3\n"
        f"OVEHOSTED_CORE/additionalHostReDeployment=bool:True\n{key}=str:x\n"
    )
    root = tmp_path / "root"
    state: dict[str, Any] = {"engine": {"hosts": [1, 2], "in_engine": ["host1.example.com"]}}
    me: dict[str, Any] = {"fqdn": "host3.example.com", "enabled": [], "active": []}
    args = ["--deploy", f"--config-append={answers}"]
    code, _, changed, err = fakehost_el7.answer("hosted-engine", state, me, args, root)
    assert (code, changed) == (1, False)
    assert err == (
        f"[ ERROR ] {key} in {answers}: ovirt-hosted-engine-setup "
        "ovirt-hosted-engine-setup-1.2.6.1 never reads it, so it has no effect\n"
    )
    assert not root.exists() and state["engine"]["hosts"] == [1, 2] and me["active"] == []


def test_the_table_has_the_keys_the_scripts_answer() -> None:
    keys = hes.keys()
    never = hes.table()["defined_never_read"]
    assert "OVEHOSTED_STORAGE/storageDatacenterName" in never
    assert "OVEHOSTED_STORAGE/storageDatacenterName" not in keys
    assert keys["OVEHOSTED_ENGINE/datacenterName"]["asked"]
    assert not keys["OVEHOSTED_ENGINE/enableHcGlusterService"]["asked"]
    keycloak = keys["OVEHOSTED_CORE/enableKeycloak"]
    assert keycloak["type"] == "bool" and keycloak["ask"]["default"] == "Yes"
    assert keys["OVEHOSTED_ENGINE/adminPassword"]["ask"]["hidden"]


def test_otopi_value_syntax() -> None:
    answers = hes.read_answers(
        "[environment:default]\nA/b=bool:False\nA/c=int:3\nA/d=none:\nA/e=str:x:y=z\n"
        "A/f=bool:yes\n[other]\nA/g=str:ignored\n"
    )
    assert answers == {"A/b": False, "A/c": 3, "A/d": None, "A/e": "x:y=z", "A/f": True}
    with pytest.raises(hes.AnswerFileError, match="Cannot parse configuration file key A/x"):
        hes.read_answers("[environment:default]\nA/x=novalue\n")


@pytest.fixture
def fake(tmp_path: Path) -> FakeCluster:
    """The fake cluster before the deploy, its engine volume started on host1."""
    fake = FakeCluster.rendered(tmp_path, THREE_HOSTS)
    fake.state["volumes"]["engine"] = {"status": "Started", "bricks": [], "replica": 3}
    fake.save()
    return fake


def _deploy(
    fake: FakeCluster, answers: str, typed: list[str] | None
) -> subprocess.CompletedProcess[str]:
    """The stand-in on host1 with `answers`; with `typed`, at a terminal holding those lines,
    else with no terminal."""
    path = fake.base / "answers.conf"
    path.write_text(answers)
    command: dict[str, Any] = {
        "args": [str(fake.bin / "hosted-engine"), "--deploy", f"--config-append={path}"],
        "capture_output": True,
        "text": True,
        "timeout": 60,
        "env": {"PATH": f"{fake.bin}:{os.environ['PATH']}", **fake.host_env("host1")},
    }
    if typed is None:
        result = subprocess.run(stdin=subprocess.DEVNULL, **command)
    else:
        primary, secondary = pty.openpty()
        try:
            os.write(primary, "".join(f"{line}\n" for line in typed).encode())
            result = subprocess.run(stdin=secondary, **command)
        finally:
            os.close(secondary)
            os.close(primary)
    fake.load()
    return result


def _typed(answers: str, env: dict[str, str]) -> list[str]:
    lines = []
    for question in hes.open_questions(hes.read_answers(answers), env):
        line = fakehost_engine.ADMIN_PASSWORD if question.ask.get("hidden") else ""
        lines += [line] * (2 if question.ask.get("confirm_prompt") else 1)
    return lines


def test_the_old_answers_are_refused_naming_the_key(fake: FakeCluster) -> None:
    result = _deploy(fake, OLD_ANSWERS, typed=_typed(NEW_ANSWERS, {}))
    assert result.returncode == 1
    assert "OVEHOSTED_STORAGE/storageDatacenterName" in result.stderr
    assert "never reads it" in result.stderr
    assert not fake.state["engine"]["deployed"]


def test_an_open_question_without_a_terminal_fails_as_otopi_does(fake: FakeCluster) -> None:
    result = _deploy(fake, NEW_ANSWERS, typed=None)
    assert result.returncode == 1
    # The first open question is the deploy's confirmation, in otopi's setup stage.
    assert "Are you sure you want to continue?" in result.stdout
    assert "Failed to execute stage 'Environment setup': End of file" in result.stderr
    assert not fake.state["engine"]["deployed"]


def test_at_a_terminal_it_asks_and_takes_the_defaults(fake: FakeCluster) -> None:
    result = _deploy(fake, NEW_ANSWERS, typed=_typed(NEW_ANSWERS, {}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Enter engine admin password:" in result.stdout
    assert "Confirm engine admin password:" in result.stdout
    assert "Data center" not in result.stdout  # answered
    engine = fake.state["engine"]
    assert engine["data_centers"] == {"dc1": "dc-1"}
    assert engine["clusters"] == {"cluster1": {"data_center": "dc1", "gluster_service": True}}
    assert engine["keycloak"] is False and engine["admin_user"] == "admin@internal"
    assert engine["admin_password"] == fakehost_engine.ADMIN_PASSWORD


def test_keycloak_unanswered_is_asked_and_its_default_is_yes(fake: FakeCluster) -> None:
    answers = NEW_ANSWERS.replace("OVEHOSTED_CORE/enableKeycloak=bool:False\n", "")
    typed = _typed(answers, {})
    assert len(typed) == len(_typed(NEW_ANSWERS, {})) + 1
    result = _deploy(fake, answers, typed=typed)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configure Keycloak integration on the engine(Yes, No) [Yes]:" in result.stdout
    engine = fake.state["engine"]
    assert engine["keycloak"] is True and engine["admin_user"] == "admin@ovirt@internalsso"


def test_the_default_no_of_the_ip_question_aborts(fake: FakeCluster) -> None:
    """Without --4/--6 (forceIPv4/forceIPv6) 2.7 asks whether to go on, default No, and
    aborts on No (src/plugins/gr-he-common/core/shell.py:112-140)."""
    answers = NEW_ANSWERS.replace("OVEHOSTED_NETWORK/forceIPv4=bool:True\n", "")
    result = _deploy(fake, answers, typed=_typed(answers, {}))
    assert result.returncode == 1
    assert 'without the "--4" or "--6" option' in result.stdout
    assert "[WARNING] Aborted" in result.stderr
