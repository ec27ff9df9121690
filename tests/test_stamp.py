"""Each host folder's stamp (`paths.STAMP`, render.sha256) and the check every script makes of
its folder against it, run on the fake cluster with the real sha256sum and awk of this machine.

A folder that is not one whole render stops every script before it does anything, dry run
too, naming each file of another render, each changed and each missing one. The older render
here is a real one: the golden cluster, followed by a render of it with the host IDs of host2
and host3 swapped, which gives host2 other steps (the seed's per-host deploy steps renumbered,
el9's peer-probe-back moved to host3), so a copy over its folder leaves the older scripts
there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import confgen
from confgen.paths import STAMP
from fakehost import FakeCluster
from golden_cases import GOLDEN

CLUSTERS = {
    "seed": (GOLDEN / "seed-3host" / "cluster.toml").read_text(),
    "el9": (GOLDEN / "el9-3host" / "cluster.toml").read_text(),
}
HOST = "host2"


def _swapped_ids(text: str) -> str:
    """The cluster with host2 and host3 trading their host IDs."""
    assert text.count("host_id = 2\n") == 1 and text.count("host_id = 3\n") == 1
    return (
        text.replace("host_id = 2\n", "host_id = @\n")
        .replace("host_id = 3\n", "host_id = 2\n")
        .replace("host_id = @\n", "host_id = 3\n")
    )


def _scripts(fake: FakeCluster) -> list[str]:
    return sorted(p.name for p in (fake.out / "hosts" / HOST / "scripts").iterdir())


def _every_script_stops(fake: FakeCluster, listed: list[str]) -> None:
    """Every script of the folder stops at the check, naming exactly `listed`, and changes
    nothing: on a dry run too."""
    before = fake.snapshot()
    folder = fake.out / "hosts" / HOST
    fqdn = next(h.host.fqdn for h in fake.plan.hosts if h.name == HOST)
    for script in _scripts(fake):
        for env in ({}, {"DRY_RUN": "1"}):
            result = fake.run(HOST, script, **env)
            assert result.returncode == 1, (script, result.stdout)
            said = result.stderr.splitlines()
            assert said[0] == (
                f'{script}: stopped at "Check that this folder holds one render of '
                f'hosts/{HOST}, whole": {folder} is not hosts/{HOST} of one render:'
            )
            assert said[1 : 1 + len(listed)] == listed, result.stderr
            assert said[1 + len(listed)].startswith(f"Copy hosts/{HOST} of the output tree")
            assert said[2 + len(listed)] == (
                f"    rsync -a --no-owner --no-group --delete hosts/{HOST}/ root@{fqdn}:{folder}/"
            )
            assert "==> Check that this is" not in result.stdout
    assert fake.changes() == [] and fake.snapshot() == before


@pytest.mark.parametrize("target", sorted(CLUSTERS))
def test_a_copy_over_an_older_render_leaves_its_scripts_and_every_script_stops(
    tmp_path: Path, target: str
) -> None:
    text = CLUSTERS[target]
    fake = FakeCluster.rendered(tmp_path, _swapped_ids(text))
    new = _scripts(fake)
    older = confgen.render(confgen.loads(text))
    # What `scp -r hosts/host2 root@host2:confgen` did over a folder holding the older render:
    # the new files, and the older render's files the new one does not have, still there.
    folder = fake.out / "hosts" / HOST
    left = []
    for path, file in older.items():
        name = path.removeprefix(f"hosts/{HOST}/")
        if name != path and not (folder / name).exists():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(file.text)
            left.append(name)
    assert left and all(name.startswith("scripts/") for name in left), left
    assert set(_scripts(fake)) - set(new) == {name.removeprefix("scripts/") for name in left}
    _every_script_stops(fake, [f"    not of this render: {name}" for name in sorted(left)])


@pytest.mark.parametrize("target", sorted(CLUSTERS))
def test_a_changed_or_missing_file_stops_every_script(tmp_path: Path, target: str) -> None:
    fake = FakeCluster.rendered(tmp_path, CLUSTERS[target])
    folder = fake.out / "hosts" / HOST
    hosts_block = folder / "blocks/etc/hosts/cluster-hosts"
    with hosts_block.open("a") as block:
        block.write("192.0.2.9 intruder\n")
    last = _scripts(fake)[-1]
    (folder / "scripts" / last).unlink()
    _every_script_stops(
        fake,
        ["    changed: blocks/etc/hosts/cluster-hosts", f"    missing: scripts/{last}"],
    )


def test_files_the_render_did_not_write_are_named_however_they_are_named(
    tmp_path: Path,
) -> None:
    """Dot-files, blanks, a symbolic link (not followed) and a file in a folder of its own."""
    fake = FakeCluster.rendered(tmp_path, CLUSTERS["el9"])
    folder = fake.out / "hosts" / HOST
    # Each stray file in scripts/ is a copy of a script, so that it runs the check too.
    script = (folder / "scripts" / "01-install-packages.sh").read_text()
    (folder / ".hidden").write_text("")
    (folder / "scripts" / "01-install packages.sh").write_text(script)
    (folder / "scripts" / "10-link.sh").symlink_to("01-install-packages.sh")
    (folder / "old" / "scripts").mkdir(parents=True)
    (folder / "old" / "scripts" / "04-peer-probe.sh").write_text("")
    (folder / "scripts" / "..x").write_text(script)
    # A folder of its own in the way of nothing, and empty, is no file: it is not named.
    (folder / "empty").mkdir()
    _every_script_stops(
        fake,
        [
            "    not of this render: .hidden",
            "    not of this render: old/scripts/04-peer-probe.sh",
            "    not of this render: scripts/..x",
            "    not of this render: scripts/01-install packages.sh",
            "    not of this render: scripts/10-link.sh",
        ],
    )


def test_a_folder_without_its_stamp_stops_every_script(tmp_path: Path) -> None:
    fake = FakeCluster.rendered(tmp_path, CLUSTERS["seed"])
    (fake.out / "hosts" / HOST / STAMP).unlink()
    _every_script_stops(fake, [f"    missing: {STAMP}"])


@pytest.mark.parametrize("target", sorted(CLUSTERS))
def test_a_rendered_folder_passes_the_check_and_sha256sum_checks_the_stamp(
    tmp_path: Path, target: str
) -> None:
    fake = FakeCluster.rendered(tmp_path, CLUSTERS[target])
    for host in fake.plan.hosts:
        folder = fake.out / "hosts" / host.name
        # The stamp as GNU sha256sum reads it: its '#' lines pass --strict, and it lists
        # every other file of the folder.
        checked = subprocess.run(
            ["sha256sum", "--check", "--strict", STAMP],
            cwd=folder,
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert sorted(checked.stdout.splitlines()) == sorted(
            f"{p.relative_to(folder)}: OK"
            for p in folder.rglob("*")
            if p.is_file() and p.name != STAMP
        )
        # Every script passes the check and goes on to the next.
        for script in sorted((folder / "scripts").iterdir()):
            result = fake.run(host.name, script.name, DRY_RUN="1")
            assert result.stdout.startswith(
                f"==> Check that this folder holds one render of hosts/{host.name}, whole\n"
                f"==> Check that this is {host.name}, as root"
            ), result.stderr
    # The same check refuses a changed file, as the scripts do.
    folder = fake.out / "hosts" / HOST
    with (folder / "blocks/etc/hosts/cluster-hosts").open("a") as block:
        block.write("192.0.2.9 intruder\n")
    checked = subprocess.run(
        ["sha256sum", "--check", "--strict", STAMP], cwd=folder, capture_output=True, text=True
    )
    assert checked.returncode == 1
    assert "blocks/etc/hosts/cluster-hosts: FAILED" in checked.stdout


def test_a_copy_of_the_folder_elsewhere_checks_from_where_it_is(tmp_path: Path) -> None:
    """The check reads the folder the script is in ($HOST_DIR), wherever it was copied to,
    and the command it gives copies to that folder."""
    fake = FakeCluster.rendered(tmp_path, CLUSTERS["seed"])
    copy = tmp_path / "elsewhere" / "con fgen"
    shutil.copytree(fake.out / "hosts" / HOST, copy)
    (copy / "scripts" / "99-old.sh").write_text("")
    script = sorted((copy / "scripts").iterdir())[0]
    result = fake.run(HOST, os.path.relpath(script, fake.out / "hosts" / HOST / "scripts"))
    assert result.returncode == 1
    assert "    not of this render: scripts/99-old.sh" in result.stderr
    # The folder's path as the shell quotes it (printf %q): the command is safe to paste.
    quoted = str(copy).replace(" ", "\\ ")
    assert f"--delete hosts/{HOST}/ root@host2.osas.lab:{quoted}/\n" in result.stderr


def test_a_name_sha256sum_escapes_is_listed_and_checked_as_sha256sum_reads_it(
    tmp_path: Path,
) -> None:
    """systemd escapes the '-' of a mount point in its unit's name (\\x2d); sha256sum writes
    such a name with its backslash doubled, on a line that starts with a backslash."""
    text = CLUSTERS["seed"].replace("[ctdb]\n", '[ctdb]\nmount_point = "/mnt/lock-meta"\n', 1)
    fake = FakeCluster.rendered(tmp_path, text)
    folder = fake.out / "hosts" / HOST
    name = "files/etc/systemd/system/mnt-lock\\x2dmeta.mount"
    assert (folder / name).is_file()
    summed = subprocess.run(
        ["sha256sum", name], cwd=folder, capture_output=True, text=True, check=True
    ).stdout
    assert summed.startswith("\\") and summed in (folder / STAMP).read_text()
    checked = subprocess.run(
        ["sha256sum", "--check", "--strict", STAMP], cwd=folder, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for script in _scripts(fake):
        result = fake.run(HOST, script, DRY_RUN="1")
        assert "==> Check that this is host2" in result.stdout, result.stderr
    with (folder / name).open("a") as unit:
        unit.write("# changed\n")
    (folder / "scripts" / "a\\b.sh").write_text(
        (folder / "scripts" / _scripts(fake)[0]).read_text()
    )
    _every_script_stops(fake, [f"    changed: {name}", "    not of this render: scripts/a\\b.sh"])
