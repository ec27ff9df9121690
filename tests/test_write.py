"""Writing the output tree: whole or not at all, never over a hand edit, diff before writing."""

from __future__ import annotations

import fcntl
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import confgen
from confgen import writer as write
from confgen.cli import main
from confgen.renderer import render_files

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SEED = GOLDEN / "seed-3host" / "cluster.toml"
SPLIT = GOLDEN / "split-6host" / "cluster.toml"


def _snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _files(path: Path) -> dict[str, confgen.RenderedFile]:
    return dict(confgen.render(confgen.load(path)))


@pytest.mark.parametrize("fail_after", [0, 1, 7, 30])
def test_a_failure_while_writing_leaves_the_previous_tree_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_after: int
) -> None:
    out = tmp_path / "out"
    write.write_tree(_files(SEED), out)
    before = _snapshot(out)
    written = []

    def failing_write(path: str, data: bytes, mode: int) -> None:
        if len(written) == fail_after:
            raise OSError(28, "No space left on device", path)
        written.append(path)
        Path(path).write_bytes(data)

    monkeypatch.setattr(write, "_write_file", failing_write)
    with pytest.raises(confgen.OutputError, match="No space left on device"):
        write.write_tree(_files(SPLIT), out)  # a different cluster: every file changes
    assert _snapshot(out) == before
    assert _beside(tmp_path) == ["out"]  # no staging folder left


def _beside(folder: Path) -> list[str]:
    """What a render leaves in OUT's parent, but the lock file every render of OUT uses."""
    return sorted(p.name for p in folder.iterdir() if p.name != ".out.confgen-lock")


def test_an_interrupted_swap_is_finished_by_the_next_write(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write.write_tree(_files(SEED), out)
    # A kill between the two renames leaves the old tree aside and no target, and the
    # staging folder of the render that was killed.
    out.rename(tmp_path / ".out.confgen-old-123-abcd")
    (tmp_path / ".out.confgen-new-123-abcd").mkdir()
    said: list[str] = []
    assert write.write_tree(_files(SEED), out, report=said.append) == []
    assert _beside(tmp_path) == ["out"]
    assert (out / "RUNBOOK.md").is_file()
    assert said == [
        f"an interrupted render had moved {out} aside: put it back",
        "removed .out.confgen-new-123-abcd, left by an interrupted render",
    ]


def test_manifest_lists_every_file_with_its_hash_and_mode(tmp_path: Path) -> None:
    files = _files(SEED)
    write.write_tree(files, tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / write.MANIFEST).read_text())
    assert sorted(manifest["files"]) == sorted(files)
    script = manifest["files"]["hosts/host1/scripts/02-stop-engine.sh"]
    assert script["mode"] == "0755"
    assert len(script["sha256"]) == 64


@given(
    entries=st.dictionaries(
        st.text(min_size=1),
        st.builds(
            write._Entry,
            sha256=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
            mode=st.integers(0, 0o7777),
        ),
        max_size=4,
    ),
    source=st.none() | st.builds(confgen.Source, name=st.text(), model_sha256=st.text()),
)
def test_the_manifest_is_written_as_json_dumps_with_indent_would(
    entries: dict[str, Any], source: confgen.Source | None
) -> None:
    """The manifest is built line by line for speed; its bytes are json's, any name in it."""
    listed = {p: {"sha256": e.sha256, "mode": f"{e.mode:04o}"} for p, e in sorted(entries.items())}
    expected: dict[str, object] = {"generator": "confgen"}
    if source is not None:
        expected["source"] = {"name": source.name, "model_sha256": source.model_sha256}
    expected["files"] = listed
    assert write._manifest_text(entries, source) == json.dumps(expected, indent=1) + "\n"


def test_refuses_a_folder_confgen_did_not_create(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    assert main(["render", str(SEED), str(out)]) == 1
    err = capsys.readouterr().err
    assert "is not empty and confgen did not create it" in err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_an_empty_folder_is_fine(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    assert main(["render", str(SEED), str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "RUNBOOK.md").is_file()


def test_refuses_to_overwrite_hand_edits_and_lists_them_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    edited = out / "hosts/host1/files/etc/nfsmount.conf"
    edited.write_text(edited.read_text() + "Proto=Tcp\n")
    (out / "hosts/host2/notes.txt").write_text("mine\n")
    before = _snapshot(out)
    capsys.readouterr()

    assert main(["render", str(SPLIT), str(out)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{out}: hosts/host1/files/etc/nfsmount.conf: was edited since confgen wrote it: "
        "a render would remove it",
        f"{out}: hosts/host2/notes.txt: is not confgen's: a render would remove it",
        f"{out}: nothing was written to {out}; pass --force to replace those files",
    ]
    assert _snapshot(out) == before

    assert main(["render", str(SEED), str(out)]) == 1
    assert (
        "hosts/host1/files/etc/nfsmount.conf: was edited since confgen wrote it: "
        "a render would overwrite it" in capsys.readouterr().err
    )

    assert main(["render", "--force", str(SEED), str(out)]) == 0
    assert not (out / "hosts/host2/notes.txt").exists()
    assert "Proto=Tcp" not in edited.read_text()


def test_diff_shows_what_a_render_would_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["diff", str(SEED), str(out)]) == 4  # nothing there yet: every file is new
    shown = capsys.readouterr().out
    assert "+++ b/RUNBOOK.md" in shown
    assert shown.endswith(f"{out}: 58 to add, 0 to change, 0 to remove\n")
    assert main(["render", str(SEED), str(out)]) == 0
    capsys.readouterr()
    assert main(["diff", str(SEED), str(out)]) == 0
    assert capsys.readouterr().out == f"{out}: no differences\n"

    nodes = out / "hosts/host1/files/mnt/lock/nodes"
    nodes.write_text("192.168.122.11\n")
    before = _snapshot(out)
    assert main(["diff", str(SEED), str(out)]) == 4
    captured = capsys.readouterr()
    assert "--- a/hosts/host1/files/mnt/lock/nodes" in captured.out
    assert "+192.168.122.12\n+192.168.122.13\n" in captured.out
    assert captured.out.endswith(f"{out}: 0 to add, 1 to change, 0 to remove\n")
    # A render would refuse the hand edit: diff says so, and why.
    assert captured.err.splitlines() == [
        f"{out}: hosts/host1/files/mnt/lock/nodes: was edited since confgen wrote it: a render "
        "would overwrite it",
        f"{out}: a render would refuse these without --force (it lists them and writes nothing)",
    ]
    assert _snapshot(out) == before  # diff writes nothing


def test_diff_reports_mode_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    (out / "hosts/host1/scripts/02-stop-engine.sh").chmod(0o644)
    capsys.readouterr()
    assert main(["diff", str(SEED), str(out)]) == 4
    assert capsys.readouterr().out == (
        "mode of hosts/host1/scripts/02-stop-engine.sh: 0644 -> 0755\n"
        f"{out}: 0 to add, 1 to change, 0 to remove\n"
    )
    assert main(["diff", "--stat", str(SEED), str(out)]) == 4
    assert capsys.readouterr().out == (
        "change  hosts/host1/scripts/02-stop-engine.sh | mode 0644 -> 0755\n"
        f"{out}: 0 to add, 1 to change, 0 to remove\n"
    )


def test_a_comment_or_the_order_of_keys_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Scripts name the cluster file; the digest of what it describes is in the manifest
    only, and is of the model: a comment, key order or a default written out is no change."""
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    edited = tmp_path / SEED.name
    text = SEED.read_text().replace(
        'fqdn = "host2.osas.lab"\nhost_id = 2', 'host_id = 2\nfqdn = "host2.osas.lab"'
    )
    assert text != SEED.read_text()
    edited.write_text("# a comment\n" + text + '\n[hosted_engine]\ndomain_type = "nfs3"\n')
    capsys.readouterr()
    assert main(["diff", str(edited), str(out)]) == 0
    assert capsys.readouterr().out == f"{out}: no differences\n"
    manifest = json.loads((out / ".confgen-manifest.json").read_text())
    cluster = confgen.load(SEED)
    assert manifest["source"] == {
        "name": SEED.name,
        "model_sha256": confgen.Source.of(SEED.name, cluster).model_sha256,
    }
    assert confgen.Source.of("x", confgen.load(edited)) == confgen.Source.of("x", cluster)


def test_one_changed_address_changes_only_the_files_that_name_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    edited = tmp_path / SEED.name
    edited.write_text(SEED.read_text().replace('"192.168.122.13"', '"192.168.122.14"'))
    capsys.readouterr()
    assert main(["diff", "--stat", str(edited), str(out)]) == 4
    assert capsys.readouterr().out.splitlines() == [
        "change  RUNBOOK.md | +1 -1",
        "change  hosts/host1/blocks/etc/hosts/cluster-hosts | +1 -1",
        "change  hosts/host1/files/mnt/lock/nodes | +1 -1",
        "change  hosts/host2/blocks/etc/hosts/cluster-hosts | +1 -1",
        "change  hosts/host3/blocks/etc/hosts/cluster-hosts | +1 -1",
        f"{out}: 0 to add, 5 to change, 0 to remove",
    ]


def test_diff_tells_invalid_input_from_differences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    broken = tmp_path / "broken.toml"
    broken.write_text(SEED.read_text().replace('"192.168.122.13"', '"192.168.122.300"'))
    assert main(["diff", str(broken), str(out)]) == 1
    assert main(["diff", str(SEED), str(tmp_path)]) == 1  # a folder render would refuse
    assert main(["diff", str(SEED), str(out)]) == 0


def test_a_render_that_fails_midway_leaves_the_previous_tree_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write.write_tree(_files(SEED), out)
    before = _snapshot(out)

    def failing_render() -> Iterator[tuple[str, confgen.RenderedFile]]:
        yield from list(_files(SPLIT).items())[:5]
        raise RuntimeError("a template failed")

    with pytest.raises(RuntimeError, match="a template failed"):
        write.write_tree(failing_render(), out)
    assert _snapshot(out) == before
    assert _beside(tmp_path) == ["out"]


def test_an_unchanged_tree_is_not_even_staged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    plan = confgen.plan(confgen.load(SEED))
    write.write_tree(render_files(plan), out)

    def no_writes(*args: object) -> None:
        raise AssertionError("wrote or linked a file of an unchanged tree")

    monkeypatch.setattr(write, "_write_file", no_writes)
    monkeypatch.setattr(write.os, "link", no_writes)
    monkeypatch.setattr(write.os, "rename", no_writes)
    assert write.write_tree(render_files(plan), out) == []
    assert _beside(tmp_path) == ["out"]


def test_writes_below_a_folder_that_does_not_exist_yet(tmp_path: Path) -> None:
    out = tmp_path / "not" / "yet" / "out"
    assert write.write_tree(_files(SEED), out)
    assert (out / "RUNBOOK.md").is_file()


def _whole(out: Path) -> set[str]:
    """The files of a tree, after checking each against its manifest: a broken tree fails."""
    manifest = json.loads((out / write.MANIFEST).read_text())["files"]
    on_disk = {
        str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != write.MANIFEST
    }
    assert on_disk == set(manifest)
    for path, entry in manifest.items():
        assert hashlib.sha256((out / path).read_bytes()).hexdigest() == entry["sha256"], path
    return on_disk


def test_two_renders_at_once_leave_one_whole_tree_and_both_succeed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    split = GOLDEN / "split-6host" / "cluster.toml"
    trees = {frozenset(_files(SEED)), frozenset(_files(split))}
    for _ in range(5):
        renders = [
            subprocess.Popen(
                [sys.executable, "-m", "confgen", "render", str(cluster), str(out)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for cluster in (SEED, split)
        ]
        results = [(r.wait(timeout=120), r.stderr.read() if r.stderr else "") for r in renders]
        assert [code for code, _ in results] == [0, 0], results
        assert frozenset(_whole(out)) in trees
        assert _beside(tmp_path) == ["out"]


def test_a_render_that_may_not_wait_stops_while_another_holds_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write.write_tree(_files(SEED), out)
    with open(tmp_path / ".out.confgen-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(
            [sys.executable, "-m", "confgen", "render", "--no-wait", str(SEED), str(out)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"another confgen render is writing {out}" in result.stderr


def test_a_symbolic_link_as_out_is_refused_and_leaves_nothing_behind(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    out = tmp_path / "out"
    out.symlink_to(real)
    for call in (write.write_tree, write.diff_tree):
        with pytest.raises(confgen.OutputError) as raised:
            call(_files(SEED), out)
        assert "is a symbolic link" in str(raised.value) and str(real) in str(raised.value)
    assert out.is_symlink() and list(real.iterdir()) == []
    assert _beside(tmp_path) == ["out", "real"]
    write.write_tree(_files(SEED), real)  # the folder behind it is fine


def test_a_previous_tree_that_cannot_be_removed_neither_fails_the_render_nor_blocks_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write.write_tree(_files(SEED), out)
    removing = write.shutil.rmtree

    def immutable(path: Any, *args: Any, **kwargs: Any) -> None:
        if ".confgen-old-" in str(path):
            raise PermissionError(1, "Operation not permitted", str(path))
        removing(path, *args, **kwargs)

    monkeypatch.setattr(write.shutil, "rmtree", immutable)
    said: list[str] = []
    changed = write.write_tree(
        _files(GOLDEN / "split-6host" / "cluster.toml"), out, report=said.append
    )
    assert changed and len(said) == 1 and said[0].startswith(f"the new tree is in {out}, but")
    assert "hv1" in {p.name for p in (out / "hosts").iterdir()}
    monkeypatch.setattr(write.shutil, "rmtree", removing)
    said.clear()
    write.write_tree(_files(SEED), out, report=said.append)
    assert [s.split(",")[0] for s in said] == [said[0].split(",")[0]]
    assert said[0].startswith("removed .out.confgen-old-")
    assert _beside(tmp_path) == ["out"]


@pytest.mark.parametrize("kind", ["dangling", "folder", "loop"])
def test_diff_shows_a_symbolic_link_in_the_tree_without_a_traceback(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    write.write_tree(_files(SEED), out)
    runbook = out / "RUNBOOK.md"
    runbook.unlink()
    target = {"dangling": tmp_path / "gone", "folder": tmp_path, "loop": runbook}[kind]
    runbook.symlink_to(target)
    assert main(["diff", str(SEED), str(out)]) == 4
    shown = capsys.readouterr().out
    assert f"<symbolic link to {target}>" in shown


def test_a_link_to_a_file_of_the_same_text_is_replaced_and_what_it_points_to_is_untouched(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    files = _files(SEED)
    write.write_tree(files, out)
    elsewhere = tmp_path / "elsewhere.md"
    elsewhere.write_text(files["RUNBOOK.md"].text)
    (out / "RUNBOOK.md").unlink()
    (out / "RUNBOOK.md").symlink_to(elsewhere)
    assert write.write_tree(files, out) == ["RUNBOOK.md"]
    assert not (out / "RUNBOOK.md").is_symlink()
    assert (out / "RUNBOOK.md").read_text() == elsewhere.read_text() == files["RUNBOOK.md"].text


def test_every_byte_is_written_when_the_system_writes_less_than_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = write.os.write
    monkeypatch.setattr(write.os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    files = _files(SEED)
    write.write_tree(files, tmp_path / "out")
    monkeypatch.undo()
    on_disk = _snapshot(tmp_path / "out")
    del on_disk[write.MANIFEST]
    assert {p: (text, mode & 0o7777) for p, (text, mode, _) in on_disk.items()} == {
        p: (f.text.encode(), f.mode) for p, f in files.items()
    }
