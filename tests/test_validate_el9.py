"""The rules of the target ovirt45-el9 as a user meets them: an edit to its example, then the
exit code and the exact lines `confgen check` prints."""

from __future__ import annotations

from pathlib import Path

import pytest

import confgen
from confgen.cli import main

EXAMPLE = (
    Path(__file__).resolve().parents[1] / "golden" / "el9-3host" / "cluster.toml"
).read_text()
HE = "[hosted_engine]"

CASES = [
    (
        HE,
        '[ctdb]\nmount_hostname = "nfs.example.com"\n\n' + HE,
        1,
        [
            "cluster.toml:45: ctdb: this target has no CTDB: the hosted engine lives on a "
            "replica-3 GlusterFS storage domain, mounted with backup-volfile-servers, so no "
            "virtual IP is needed (Gluster's own NFS server is not built for EL9); remove [ctdb]",
        ],
    ),
    (
        HE,
        '[[gluster.volumes]]\nname = "engine"\n\n[[gluster.volumes]]\nname = "data"\nreplica = 2\n\n'
        + HE,
        1,
        [  # once: an error here, not also the warning of targets that allow it
            "cluster.toml:50: gluster.volumes[1].replica: volume 'data' is replica 2: oVirt "
            "stores VM images on replica 3 volumes (vdsm allows no other replicated count, and "
            "the virt group's options are for replicated volumes)",
        ],
    ),
    (
        'roles = ["management", "storage"]',
        'roles = ["management", "storage", "heartbeat"]',
        1,
        [
            "cluster.toml:18: networks[0].roles[2]: 'heartbeat' is not a role on target "
            "'ovirt45-el9': roles are 'management', 'storage'"
        ],
    ),
    (
        'fqdn = "engine.example.com"',
        'fqdn = "HOST2.example.com"',
        1,
        [
            "cluster.toml:47: hosted_engine.fqdn: 'HOST2.example.com' is a name of host "
            "'host2': the engine VM needs a name of its own"
        ],
    ),
    (
        'fqdn = "engine.example.com"',
        "",
        1,
        ["cluster.toml:45: hosted_engine.fqdn: required key is missing"],
    ),
    (
        HE,
        '[[gluster.volumes]]\nname = "engine"\nhosts = ["host1", "host2", "host3", "host3", '
        '"host2", "host1"]\n\n' + HE,
        1,
        [
            "cluster.toml:47: gluster.volumes[0].hosts: host 'host1' is listed twice: it would "
            "hold the brick /gluster_bricks/engine/brick twice; each brick of a volume must be on "
            "its own host",
            "cluster.toml:47: gluster.volumes[0].hosts: host 'host2' is listed twice: it would "
            "hold the brick /gluster_bricks/engine/brick twice; each brick of a volume must be on "
            "its own host",
            "cluster.toml:47: gluster.volumes[0].hosts: host 'host3' is listed twice: it would "
            "hold the brick /gluster_bricks/engine/brick twice; each brick of a volume must be on "
            "its own host",
            "cluster.toml:47: gluster.volumes[0].hosts: volume 'engine' holds the hosted engine "
            "and is one replica set: list exactly 3 hosts, found 6",
        ],
    ),
    (
        'brick_device = "/dev/vdb"',
        'brick_device = "/dev/gluster_vg/bricks"',
        1,
        [
            "cluster.toml:28: hosts[0].brick_device: /dev/gluster_vg/bricks is in the volume "
            "group /dev/gluster_vg/ the brick step makes on the device: name the disk it is to "
            "be made on"
        ],
    ),
    (
        HE,
        '[gluster]\nbrick_fs = { volume_group = "-vg" }\n\n[packages]\nrelease = ["a b"]\n'
        'install = ["tmux"]\n\n' + HE,
        1,
        [
            "cluster.toml:46: gluster.brick_fs.volume_group: '-vg' is not an LVM name: letters, "
            "digits and '_.+-', starting with a letter or digit",
            "cluster.toml:49: packages.release[0]: 'a b' is not a package name",
            "cluster.toml:50: packages.install: ovirt-hosted-engine-setup is missing: the "
            "scripts need hosted-engine; add it to the list",
            "cluster.toml:50: packages.install: glusterfs-server is missing: the scripts need "
            "glusterd, the gluster command and firewalld's glusterfs service; add it to the list",
            "cluster.toml:50: packages.install: policycoreutils-python-utils is missing: the "
            "scripts need semanage, which labels the bricks for SELinux; add it to the list",
            "cluster.toml:50: packages.install: chrony is missing: the scripts need chronyd, "
            "which keeps the hosts' clocks together; add it to the list",
        ],
    ),
    (
        HE,
        '[gluster]\nbrick_fs = { volume_group = "gluster_vg", logical_volume = "gluster_lv" }'
        "\n\n" + HE,
        1,
        [
            "cluster.toml:46: gluster.brick_fs.logical_volume: removed: the bricks no longer "
            "share one logical volume; each volume's brick has its own (gluster_lv_<volume>, "
            "mounted at <mount_point>/<volume>): the hosted engine's thick, the others thin in "
            "the pool that `thin_pool` names [gluster_thinpool], each sized by the volume's "
            "`size`; remove logical_volume",
        ],
    ),
    (
        HE,
        '[gluster]\nbrick_fs = { thin_pool = "pool_tmeta", thin_pool_metadata_size = "32G" }'
        '\n\n[[gluster.volumes]]\nname = "engine"\nsize = "100"\n\n[[gluster.volumes]]\n'
        'name = "data"\nsize = "200M"\nbrick_dir = "/gluster_bricks/engine/data"\n\n'
        '[[gluster.volumes]]\nname = "x_tmeta"\nhosts = ["host1", "host2", "host3"]\n'
        'brick_dir = "/gluster_bricks/x_tmeta"\n\n' + HE,
        1,
        [
            "cluster.toml:46: gluster.brick_fs.thin_pool: 'pool_tmeta' is a name LVM keeps for "
            "itself (no logical volume name may be snapshot or pvmove, or contain _cdata, "
            "_cmeta, _corig, _iorig, _mimage, _mlog, _pmspare, _rimage, _rmeta, _tdata, _tmeta, "
            "_vdata, _vorigin, _wcorig)",
            "cluster.toml:46: gluster.brick_fs.thin_pool_metadata_size: 32G is not a thin pool "
            "metadata size LVM makes: from 2M to 16G (lvmthin(7))",
            "cluster.toml:50: gluster.volumes[0].size: '100' is not a size: a number and its "
            "unit, k, m, g, t or p (powers of 1024, as lvcreate takes them), as 100G",
            "cluster.toml:54: gluster.volumes[1].size: 200M is too small for the XFS filesystem "
            "of the volume's brick: mkfs.xfs makes none under 300M",
            "cluster.toml:55: gluster.volumes[1].brick_dir: /gluster_bricks/engine/data is not "
            "in the filesystem of the brick of volume 'data', mounted at /gluster_bricks/data: "
            "each volume's bricks lie on a logical volume of its own; use a folder below "
            "/gluster_bricks/data",
            "cluster.toml:58: gluster.volumes[2].name: the logical volume of its brick would be "
            "gluster_lv_x_tmeta, and LVM refuses a name that contains _tmeta",
            "cluster.toml:60: gluster.volumes[2].brick_dir: /gluster_bricks/x_tmeta is where "
            "the filesystem of the brick of volume 'x_tmeta' is mounted: glusterd refuses a "
            "brick at a mount point; use a folder in it, as /gluster_bricks/x_tmeta/brick",
        ],
    ),
]


def test_the_example_has_no_problems() -> None:
    assert confgen.validate(confgen.loads(EXAMPLE)) == []


@pytest.mark.parametrize(
    ("old", "new", "code", "expected"), CASES, ids=[c[3][0][:70] for c in CASES]
)
def test_check_reports(
    old: str,
    new: str,
    code: int,
    expected: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert old in EXAMPLE, old
    (tmp_path / "cluster.toml").write_text(EXAMPLE.replace(old, new, 1))
    monkeypatch.chdir(tmp_path)
    assert (main(["check", "cluster.toml"]), capsys.readouterr().err.splitlines()) == (
        code,
        expected,
    )


def test_init_writes_the_targets_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--target", "ovirt45-el9", "cluster.toml"]) == 0
    assert (tmp_path / "cluster.toml").read_text() == EXAMPLE
    assert main(["check", "cluster.toml"]) == 0
    assert main(["render", "cluster.toml", "out"]) == 0
    assert (tmp_path / "out/hosts/host1/scripts/07-hosted-engine-deploy.sh").is_file()


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            'admin_user = "admin@internal"',
            "hosted_engine.admin_user: 'admin@internal' is of the profile internal, which the "
            "engine turns off with Keycloak (hosted_engine.keycloak is true): use "
            "admin@ovirt@internalsso, or set keycloak = false",
        ),
        (
            'keycloak = false\nadmin_user = "admin@ovirt@internalsso"',
            "hosted_engine.admin_user: 'admin@ovirt@internalsso' is of Keycloak's profile "
            "internalsso, and hosted_engine.keycloak is false: use admin@internal, or set "
            "keycloak = true",
        ),
        (
            'admin_user = "admin"',
            "hosted_engine.admin_user: 'admin' is not an engine user: name@profile, as "
            "admin@internal, or name@domain@profile, as admin@ovirt@internalsso",
        ),
    ],
)
def test_the_admin_user_matches_keycloak(keys: str, message: str) -> None:
    text = EXAMPLE.replace(HE, f"{HE}\n{keys}")
    found = [str(p) for p in confgen.validate(confgen.loads(text))]
    assert any(message in p for p in found), found


@pytest.mark.parametrize(
    ("keys", "user"),
    [("", "admin@ovirt@internalsso"), ("keycloak = false", "admin@internal")],
)
def test_the_api_user_follows_keycloak_and_the_answers_say_so(keys: str, user: str) -> None:
    text = EXAMPLE.replace(HE, f"{HE}\n{keys}")
    files = confgen.render(confgen.loads(text))
    answers = files["hosts/host1/data/hosted-engine-answers.conf"].text
    keycloak = "False" if keys else "True"
    assert f"OVEHOSTED_CORE/enableKeycloak=bool:{keycloak}\n" in answers
    assert "OVEHOSTED_ENGINE/datacenterName=str:Default\n" in answers
    assert "OVEHOSTED_ENGINE/enableHcGlusterService=bool:True\n" in answers
    assert "storageDatacenterName" not in answers
    add_hosts = next(p for p in files if p.endswith("-add-hosts.sh"))
    assert f"--data-urlencode username={user} " in files[add_hosts].text


def test_more_hosts_than_an_engine_data_center_takes_is_a_warning(tmp_path: Path) -> None:
    """oVirt Engine 4.5's MaxNumberOfHostsInStoragePool is 250 (0000_config.sql:335 at
    ovirt-engine-4.5.7); AddVdsSpmIdCommand refuses the 251st host of a data center."""
    import subprocess
    import sys

    bench = Path(__file__).resolve().parents[1] / "bench" / "gen.py"
    for count, warned in ((250, False), (251, True)):
        path = tmp_path / f"h{count}.toml"
        subprocess.run(
            [sys.executable, str(bench), "--target", "ovirt45-el9", str(count), str(path)],
            check=True,
        )
        problems = confgen.validate(confgen.load(path))
        said = [str(p) for p in problems if p.path == "hosts"]
        if warned:
            assert said == [
                "warning: hosts: 251 hosts: oVirt Engine 4.5 takes at most 250 hosts in a data "
                "center (MaxNumberOfHostsInStoragePool): adding host 251 and after fails; keep "
                "one cluster file to 250 hosts"
            ]
            assert main(["check", "--strict", str(path)]) == 1
        else:
            assert said == []


def test_a_volume_list_in_the_file_is_the_whole_list() -> None:
    """An el9 file that lists engine and vmstore gets no `data` volume or storage domain."""
    text = EXAMPLE + (
        '\n[[gluster.volumes]]\nname = "engine"\n\n[[gluster.volumes]]\nname = "vmstore"\n'
    )
    plan = confgen.plan(confgen.loads(text))
    assert [v.name for v in plan.volumes] == ["engine", "vmstore"]
    assert [d.name for d in plan.data_domains] == ["vmstore"]  # type: ignore[attr-defined]
    without = EXAMPLE + '\n[[gluster.volumes]]\nname = "vmstore"\n'
    problems = [str(p) for p in confgen.validate(confgen.loads(without))]
    assert any(
        "no Gluster volume named 'engine' for the hosted engine; volumes are: vmstore; the "
        "file's gluster.volumes is the whole list: add it there" in p
        for p in problems
    ), problems


def test_the_default_engine_volume_given_up_for_another_is_a_warning() -> None:
    text = EXAMPLE.replace("[hosted_engine]", '[hosted_engine]\nvolume = "he"') + (
        '\n[[gluster.volumes]]\nname = "he"\n\n[[gluster.volumes]]\nname = "engine"\n'
    )
    problems = [str(p) for p in confgen.validate(confgen.loads(text))]
    assert any(
        "warning: gluster.volumes[1]: volume 'engine' is no longer the hosted engine's "
        "(hosted_engine.volume is 'he'): it becomes a data storage domain" in p
        for p in problems
    ), problems


# A file whose keys are of another target than the one it is read as: the report says which
# target they are of and the `target` line to write, once, beside each error as it was.
SEED = (Path(__file__).resolve().parents[1] / "golden" / "seed-3host" / "cluster.toml").read_text()
NO_TARGET = EXAMPLE.replace('target = "ovirt45-el9"\n', "", 1)


def _check(text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    (tmp_path / "cluster.toml").write_text(text)
    assert main(["check", str(tmp_path / "cluster.toml")]) == 1
    return [line.replace(f"{tmp_path}/", "") for line in capsys.readouterr().err.splitlines()]


def test_a_file_without_target_with_this_targets_keys_is_told_to_add_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "target = " not in NO_TARGET
    assert _check(NO_TARGET, tmp_path, capsys) == [
        "cluster.toml: ctdb: required key is missing",
        "cluster.toml:1: target: this file has no target line, so it is read as ovirt35-el7, "
        "the default; but hosted_engine.fqdn is a key of target ovirt45-el9, not of "
        'ovirt35-el7: if the file is for ovirt45-el9, add the line target = "ovirt45-el9" at '
        "the top",
        "cluster.toml:46: hosted_engine.fqdn: unknown key; known keys: volume, domain_type",
    ]
    with pytest.raises(confgen.LoadError) as raised:
        confgen.loads(NO_TARGET)
    assert [(p.path, p.line) for p in raised.value.problems] == [
        ("ctdb", None),
        ("target", 1),
        ("hosted_engine.fqdn", 46),
    ]
    # The line it says to add is the whole fix.
    fixed = f'target = "ovirt45-el9"\n{NO_TARGET}'
    assert confgen.validate(confgen.loads(fixed)) == []


def test_a_seed_file_given_this_target_is_told_its_keys_are_the_seeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SEED.replace('target = "ovirt35-el7"', 'target = "ovirt45-el9"', 1)
    reported = _check(text, tmp_path, capsys)
    assert reported[:2] == [
        "cluster.toml: hosted_engine: required key is missing",
        "cluster.toml:9: target: this file's target is ovirt45-el9; but ctdb is a key of "
        "target ovirt35-el7, not of ovirt45-el9: if the file is for ovirt35-el7, change its "
        'target line to target = "ovirt35-el7"',
    ]
    assert reported[2].startswith("cluster.toml:43: ctdb: this target has no CTDB")
    assert len(reported) == 3


def test_many_keys_of_the_other_target_are_named_three_at_most(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = NO_TARGET.replace(
        HE,
        '[gluster.brick_fs]\nvolume_group = "vg"\nthin_pool = "pool"\n\n'
        "[packages]\nrhel_rebuild = true\n\n" + HE,
        1,
    )
    [hint] = [line for line in _check(text, tmp_path, capsys) if ": target: " in line]
    assert (
        "but gluster.brick_fs.volume_group, gluster.brick_fs.thin_pool, packages.rhel_rebuild "
        "and 1 more are keys of target ovirt45-el9, not of ovirt35-el7" in hint
    )


@pytest.mark.parametrize(
    ("text", "typo"),
    [
        (SEED, ('name = "host2"', 'nam = "host2"')),
        (SEED.replace('target = "ovirt35-el7"\n', "", 1), ("[ctdb]", "[ctbd]")),
        (EXAMPLE, ('fqdn = "engine.example.com"', 'fdqn = "engine.example.com"')),
        # A key of the other target in a file that is otherwise this one's is a mistake in
        # that key, not in the file's target.
        (SEED, ("[ctdb]", '[hosted_engine]\nfqdn = "engine.osas.lab"\n\n[ctdb]')),
        (EXAMPLE, ("[hosted_engine]", '[gluster.brick_fs]\npool = "gluster"\n\n[hosted_engine]')),
    ],
)
def test_a_file_with_typos_gets_no_target_hint(
    text: str, typo: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert typo[0] in text
    reported = _check(text.replace(*typo, 1), tmp_path, capsys)
    assert reported and not [line for line in reported if ": target: " in line], reported
