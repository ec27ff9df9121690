"""Writing the output tree: whole or not at all, never over a hand edit, diff before writing."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
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
    """What a render leaves in OUT's parent: OUT alone (no lock file, no staging folder)."""
    return sorted(p.name for p in folder.iterdir())


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
    target=st.none() | st.text(),
    source=st.none()
    | st.builds(confgen.Source, name=st.text(), model_sha256=st.text(), target=st.text()),
)
def test_the_manifest_is_written_as_json_dumps_with_indent_would(
    entries: dict[str, Any], target: str | None, source: confgen.Source | None
) -> None:
    """The manifest is built line by line for speed; its bytes are json's, any name in it."""
    listed = {p: {"sha256": e.sha256, "mode": f"{e.mode:04o}"} for p, e in sorted(entries.items())}
    expected: dict[str, object] = {"generator": "confgen", "version": confgen.__version__}
    if target is not None:
        expected["target"] = target
    if source is not None:
        expected["source"] = {"name": source.name, "model_sha256": source.model_sha256}
    expected["files"] = listed
    assert write._manifest_text(entries, target, source) == json.dumps(expected, indent=1) + "\n"


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
    # 64 rendered from templates (the undo scripts and step 00 among them), and a stamp for
    # each of the three hosts.
    assert shown.endswith(f"{out}: 67 to add, 0 to change, 0 to remove\n")
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
    assert manifest["target"] == "ovirt35-el7"
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
        # Each host's stamp: the model's digest, and the sha256 of each file that changed.
        "change  hosts/host1/render.sha256 | +4 -4",
        # Step 00 checks every name's address, and host3's NIC's.
        "change  hosts/host1/scripts/00-preflight.sh | +2 -2",
        "change  hosts/host2/blocks/etc/hosts/cluster-hosts | +1 -1",
        "change  hosts/host2/render.sha256 | +3 -3",
        "change  hosts/host2/scripts/00-preflight.sh | +2 -2",
        "change  hosts/host3/blocks/etc/hosts/cluster-hosts | +1 -1",
        "change  hosts/host3/render.sha256 | +3 -3",
        "change  hosts/host3/scripts/00-preflight.sh | +3 -3",
        f"{out}: 0 to add, 11 to change, 0 to remove",
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
    lock = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(
            [sys.executable, "-m", "confgen", "render", "--no-wait", str(SEED), str(out)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(lock)
    assert result.returncode == 1
    assert f"another confgen render or diff is using {tmp_path}" in result.stderr


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
    removing = write.remove_tree

    def immutable(path: Any) -> None:
        if ".confgen-old-" in str(path):
            raise PermissionError(1, "Operation not permitted", str(path))
        removing(path)

    monkeypatch.setattr(write, "remove_tree", immutable)
    said: list[str] = []
    changed = write.write_tree(
        _files(GOLDEN / "split-6host" / "cluster.toml"), out, report=said.append
    )
    assert changed and len(said) == 1 and said[0].startswith(f"the new tree is in {out}, but")
    assert "hv1" in {p.name for p in (out / "hosts").iterdir()}
    monkeypatch.setattr(write, "remove_tree", removing)
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


EL9 = GOLDEN / "el9-3host" / "cluster.toml"


def _nested(top: Path, depth: int) -> None:
    """A folder `a` nested `depth` deep below `top`, a file at the bottom; made by file
    descriptors, as no path that long could name it."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir("a", dir_fd=fd)
        inner = os.open("a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(os.open("deep.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
    os.close(fd)


@pytest.mark.parametrize("nested", ["[" * 100_000, '{"a": ' * 100_000])
def test_a_manifest_nested_thousands_deep_is_damaged_not_a_traceback(
    tmp_path: Path, nested: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    (out / write.MANIFEST).write_text('{"files": ' + nested)
    capsys.readouterr()
    for argv in (["render"], ["render", "--force"], ["diff"]):
        assert main([*argv, str(SEED), str(out)]) == 1
        err = capsys.readouterr().err
        assert (
            err == f"{out}: {out / write.MANIFEST} is damaged; move {out} aside and render again\n"
        )


def test_a_tree_nested_thousands_deep_is_replaced_with_force_and_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """shutil.rmtree recurses (Python 3.11): a tampered OUT nested deeper than its limit."""
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    _nested(out / "hosts", 3000)
    assert main(["render", str(SEED), str(out)]) == 1  # not confgen's: refused, and said so
    assert "is not confgen's: a render would remove it" in capsys.readouterr().err
    assert main(["render", "--force", str(SEED), str(out)]) == 0
    assert not (out / "hosts" / "a").exists()
    assert _beside(tmp_path) == ["out"]
    write.remove_tree(out)
    assert _beside(tmp_path) == []


def test_ctrl_c_while_writing_leaves_the_previous_tree_says_one_line_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    before = _snapshot(out)
    capsys.readouterr()
    writing = write._write_file
    count = []

    def interrupted(path: str, data: bytes, mode: int) -> None:
        count.append(path)
        if len(count) == 5:
            raise KeyboardInterrupt
        writing(path, data, mode)

    monkeypatch.setattr(write, "_write_file", interrupted)
    assert main(["render", str(SPLIT), str(out)]) == 130
    captured = capsys.readouterr()
    assert captured.err == f"confgen: interrupted; nothing was written; {out} is as it was\n"
    assert _snapshot(out) == before
    assert _beside(tmp_path) == ["out"]


def test_ctrl_c_during_the_swap_waits_for_it_and_says_the_new_tree_is_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Ctrl-C raises KeyboardInterrupt, as in a terminal, even where the test run itself was
    # started with SIGINT ignored (a background job of a shell without job control).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    capsys.readouterr()
    swapping = write._swap

    def interrupted_swap(staging: Path, root: Path, tag: str) -> Path | None:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, as the terminal sends it
        return swapping(staging, root, tag)

    monkeypatch.setattr(write, "_swap", interrupted_swap)
    assert main(["render", str(SPLIT), str(out)]) == 130
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"confgen: interrupted; {out} holds the new tree; the next render")
    assert _whole(out) == set(_files(SPLIT))
    monkeypatch.undo()
    assert main(["render", str(SPLIT), str(out)]) == 0
    assert _beside(tmp_path) == ["out"]


def test_ctrl_c_at_any_moment_of_a_real_render_leaves_a_whole_tree(tmp_path: Path) -> None:
    """SIGINT sent to `confgen render` itself at several moments once it writes (before, it is
    Python still importing): no traceback, one line, exit 130 (or 0 when it came too late),
    OUT the previous tree or the new one."""
    big = tmp_path / "big.toml"
    subprocess.run(
        [sys.executable, str(GOLDEN.parent / "bench" / "gen.py"), "60", str(big)], check=True
    )
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    trees = {frozenset(_files(SEED)), frozenset(_files(big))}
    for delay in (0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8):
        render = subprocess.Popen(
            [sys.executable, "-m", "confgen", "render", "--force", str(big), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        while render.poll() is None and not list(tmp_path.glob(".out.confgen-new-*")):
            time.sleep(0.001)
        time.sleep(delay)
        render.send_signal(signal.SIGINT)
        _, err = render.communicate(timeout=120)
        # -SIGINT: the signal came before the interpreter installed its own handler, at its
        # very start (a loaded machine delays that start); nothing was written then.
        assert render.returncode in (0, 130, -signal.SIGINT), err
        if render.returncode == 130:
            assert err.startswith("confgen: interrupted") and err.count("\n") == 1, err
        assert frozenset(_whole(out)) in trees
        # Interrupted while removing the previous tree, it leaves it for the next render.
        left = [p for p in _beside(tmp_path) if p not in ("out", "big.toml")]
        assert left == [] or "holds the new tree" in err, (left, err)
        assert main(["render", "--force", str(SEED), str(out)]) == 0
        assert _beside(tmp_path) == ["big.toml", "out"]


def test_diff_waits_while_a_render_writes_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write.write_tree(_files(SEED), out)
    lock = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(lock, fcntl.LOCK_EX)  # as a render holds it
    try:
        diff = subprocess.Popen(
            [sys.executable, "-m", "confgen", "diff", str(SEED), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2)
        assert diff.poll() is None  # still waiting
    finally:
        os.close(lock)
    output, err = diff.communicate(timeout=60)
    assert diff.returncode == 0, err
    assert err == f"confgen: waiting for a confgen render to finish writing in {tmp_path}\n"
    assert output == f"{out}: no differences\n"


def test_a_diff_during_renders_never_sees_a_half_written_tree(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write.write_tree(_files(SEED), out)
    renders = [
        subprocess.Popen([sys.executable, "-m", "confgen", "render", str(c), str(out)])
        for c in (SPLIT, SEED, SPLIT, SEED)
    ]
    diffs = [
        subprocess.run(
            [sys.executable, "-m", "confgen", "diff", "--stat", str(SEED), str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        for _ in range(4)
    ]
    assert [r.wait(timeout=120) for r in renders] == [0, 0, 0, 0]
    for diff in diffs:
        assert diff.returncode in (0, 4), diff.stderr
        assert "edited since" not in diff.stderr and "cannot read" not in diff.stderr


def test_no_lock_file_is_left_beside_out_after_a_render_or_a_refusal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    assert main(["diff", str(SEED), str(out)]) == 0
    assert _beside(tmp_path) == ["out"]
    plain = tmp_path / "plain"
    plain.write_text("a file\n")
    assert main(["render", str(SEED), str(plain)]) == 1
    assert main(["render", str(SEED), str(tmp_path)]) == 1  # not confgen's
    assert _beside(tmp_path) == ["out", "plain"]
    assert not [p for p in tmp_path.parent.iterdir() if p.name.startswith(f".{tmp_path.name}.")]


def test_where_a_folder_cannot_be_locked_a_lock_file_is_used_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NFS emulates flock with locks that need a file open for writing: not a folder."""
    locking = fcntl.flock
    seen: list[str] = []

    def nfs_flock(fd: int, operation: int) -> None:
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            raise OSError(errno.EBADF, "Bad file descriptor")
        seen.append(os.readlink(f"/proc/self/fd/{fd}"))
        locking(fd, operation)

    monkeypatch.setattr(write.fcntl, "flock", nfs_flock)
    out = tmp_path / "out"
    assert write.write_tree(_files(SEED), out)
    assert write.diff_tree(_files(SEED), out).summary == "0 to add, 0 to change, 0 to remove"
    assert seen and all(p == str(tmp_path / ".out.confgen-lock") for p in seen)
    assert _beside(tmp_path) == ["out"]


def test_the_swap_never_leaves_out_missing_where_the_kernel_exchanges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write.write_tree(_files(SEED), out)
    renaming = os.rename
    missing: list[str] = []

    def watched(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        renaming(src, dst, *args, **kwargs)
        if not out.is_dir():
            missing.append(f"{src} -> {dst}")

    monkeypatch.setattr(write.os, "rename", watched)
    assert write.write_tree(_files(SPLIT), out)
    assert missing == []
    assert _whole(out) == set(_files(SPLIT))
    # Where it cannot (an old kernel, a filesystem without it), two renames still swap.
    monkeypatch.setattr(write, "_exchange", lambda one, other: False)
    assert write.write_tree(_files(SEED), out)
    assert len(missing) == 1  # OUT was missing between the two: what the exchange avoids
    assert _whole(out) == set(_files(SEED))
    assert _beside(tmp_path) == ["out"]


def test_an_empty_out_name_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["render", str(SEED), ""])
    assert exited.value.code == 2
    assert "OUT is empty: name the output folder" in capsys.readouterr().err
    with pytest.raises(confgen.OutputError, match="the output folder's name is empty"):
        write.write_tree(_files(SEED), "")


@pytest.mark.parametrize("name", [".", "..", "out/..", "/"])
def test_out_that_holds_the_current_folder_or_is_the_root_is_refused(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path / "out" if name != "out/.." else tmp_path)
    with pytest.raises(confgen.OutputError, match=r"current folder|mount point"):
        write.write_tree(_files(SEED), name)


def test_out_that_is_a_mount_point_is_refused_with_what_to_do(tmp_path: Path) -> None:
    """In a private mount namespace (unshare), a tmpfs mounted at OUT: a render would fail with
    a bare 'Device or resource busy' at the swap."""
    out = tmp_path / "out"
    out.mkdir()
    script = (
        f"mount -t tmpfs tmpfs {out} && {sys.executable} -m confgen render {SEED} {out}; echo rc=$?"
    )
    try:
        result = subprocess.run(
            ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except FileNotFoundError:
        pytest.skip("no unshare")
    if "rc=" not in result.stdout:
        pytest.skip(f"cannot mount in a user namespace here: {result.stderr.strip()}")
    assert result.stdout.strip().endswith("rc=1"), result
    assert result.stderr == (
        f"{out}: {out} is a mount point; confgen swaps the whole folder in, which a mount point "
        f"cannot be: give a folder inside it ({out / 'out'})\n"
    )


def test_a_render_of_another_cluster_says_what_it_added_changed_and_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    assert capsys.readouterr().out == (
        f"{out}: 67 files, 67 added; start with {out / 'RUNBOOK.md'}\n"
    )
    assert main(["render", str(SPLIT), str(out)]) == 0
    seed, split = set(_files(SEED)), set(_files(SPLIT))
    added, removed = len(split - seed), len(seed - split)
    said = capsys.readouterr().out
    assert said.startswith(f"{out}: {len(split)} files, {added} added, ")
    assert f" changed, {removed} removed; start with" in said
    assert main(["render", str(SPLIT), str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"{out}: {len(split)} files, none changed;")


def test_a_tree_of_another_target_is_replaced_only_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    before = _snapshot(out)
    capsys.readouterr()
    refusal = (
        f"{out}: {out} holds a tree of target ovirt35-el7 from cluster.toml, and this cluster "
        "is of target ovirt45-el9: a render would replace all of it. Choose another folder, or "
        "pass --force to replace it\n"
    )
    assert main(["render", str(EL9), str(out)]) == 1
    assert capsys.readouterr().err == refusal
    assert _snapshot(out) == before
    assert main(["diff", "--stat", str(EL9), str(out)]) == 4
    assert capsys.readouterr().err.startswith(refusal)
    assert main(["render", "--force", str(EL9), str(out)]) == 0
    said = capsys.readouterr().out
    assert f"{len(_files(SEED))} removed" in said or " removed;" in said
    assert _whole(out) == set(_files(EL9))


def test_the_readme_snippet_after_a_command_render_rewrites_nothing(tmp_path: Path) -> None:
    """The library names a loaded cluster's file in headers and manifest as the command does."""
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    assert confgen.write_tree(confgen.render(confgen.load(SEED)), out) == []
    text = confgen.render(confgen.load(SEED))["hosts/host1/scripts/02-stop-engine.sh"].text
    assert f"# Generated by confgen from {SEED.name}:" in text


def test_the_manifest_records_confgens_version_and_the_target(tmp_path: Path) -> None:
    """As copier's answers file records what produced a tree: the version that wrote it, and
    the target even of a cluster made without a file (no source)."""
    made = confgen.load_data(json.loads(json.dumps(_toml(SEED))))
    tree = confgen.render(made)
    assert tree.source is None
    confgen.write_tree(tree, tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / write.MANIFEST).read_text())
    assert [k for k in manifest if k != "files"] == ["generator", "version", "target"]
    assert (manifest["version"], manifest["target"]) == (confgen.__version__, "ovirt35-el7")
    # The target alone keeps a tree from being replaced by one of another target.
    with pytest.raises(confgen.OutputError, match="holds a tree of target ovirt35-el7, and"):
        confgen.write_tree(confgen.render(confgen.load(EL9)), tmp_path / "out")
    # Files given as a plain mapping say neither target nor source.
    confgen.write_tree(dict(tree), tmp_path / "plain")
    manifest = json.loads((tmp_path / "plain" / write.MANIFEST).read_text())
    assert [k for k in manifest if k != "files"] == ["generator", "version"]


def _toml(path: Path) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(path.read_text())


def _as_the_previous_version_wrote_it(out: Path, *, source: bool = True) -> None:
    """Rewrite a tree's manifest as confgen wrote it before it recorded its version (main at
    662924e, writer.py `_manifest_text`): the target inside `source`, next to the file's name
    and the model's digest; or, older still, no `source` at all."""
    data = json.loads((out / write.MANIFEST).read_text())
    old: dict[str, Any] = {"generator": "confgen"}
    if source:
        old["source"] = {
            "name": data["source"]["name"],
            "target": data["target"],
            "model_sha256": data["source"]["model_sha256"],
        }
    old["files"] = data["files"]
    (out / write.MANIFEST).write_text(json.dumps(old, indent=1) + "\n")


def test_a_tree_the_previous_version_wrote_is_read_and_its_manifest_brought_up_to_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    new_manifest = (out / write.MANIFEST).read_text()
    _as_the_previous_version_wrote_it(out)
    edited = out / "hosts" / "host1" / "scripts" / "02-stop-engine.sh"
    edited.write_text(edited.read_text() + "# edited\n")
    capsys.readouterr()
    # Its file hashes: a hand edit is found. Its target, inside its source: another target's
    # render is refused, naming the file the tree came from.
    assert main(["render", str(SEED), str(out)]) == 1
    assert "02-stop-engine.sh: was edited since confgen wrote it" in capsys.readouterr().err
    assert main(["render", str(EL9), str(out)]) == 1
    assert "holds a tree of target ovirt35-el7 from cluster.toml, and" in capsys.readouterr().err
    assert main(["render", "--force", str(SEED), str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"{out}: 67 files, 1 changed;")
    _as_the_previous_version_wrote_it(out)
    before = _snapshot(out)
    # Nothing else differs: the files stay as they are (inode, mtime), the manifest is
    # rewritten as this version writes it.
    assert confgen.write_tree(confgen.render(confgen.load(SEED)), out) == []
    after = _snapshot(out)
    del before[write.MANIFEST], after[write.MANIFEST]
    assert after == before
    assert (out / write.MANIFEST).read_text() == new_manifest


def test_a_tree_of_a_manifest_without_source_is_still_confgens(tmp_path: Path) -> None:
    out = tmp_path / "out"
    confgen.write_tree(confgen.render(confgen.load(SEED)), out)
    _as_the_previous_version_wrote_it(out, source=False)
    assert confgen.write_tree(confgen.render(confgen.load(SEED)), out) == []
    assert json.loads((out / write.MANIFEST).read_text())["target"] == "ovirt35-el7"
    # No target said: nothing to refuse a tree of another target by; it is replaced.
    _as_the_previous_version_wrote_it(out, source=False)
    written = confgen.write_tree(confgen.render(confgen.load(EL9)), out)
    assert written.removed and written.added


def test_a_render_killed_in_a_tree_the_previous_version_wrote_is_recovered(
    tmp_path: Path,
) -> None:
    """The previous version's leftovers are named as this version's: its recovery is this one's."""
    out = tmp_path / "out"
    confgen.write_tree(confgen.render(confgen.load(SEED)), out)
    _as_the_previous_version_wrote_it(out)
    old_manifest = (out / write.MANIFEST).read_text()
    out.rename(tmp_path / ".out.confgen-old-77-0a0b")
    (tmp_path / ".out.confgen-new-77-0a0b").mkdir()
    said: list[str] = []
    assert confgen.write_tree(confgen.render(confgen.load(SEED)), out, report=said.append) == []
    assert said == [
        f"an interrupted render had moved {out} aside: put it back",
        "removed .out.confgen-new-77-0a0b, left by an interrupted render",
    ]
    assert _beside(tmp_path) == ["out"]
    assert (out / write.MANIFEST).read_text() != old_manifest
    assert _whole(out) == set(_files(SEED))


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("../escaped", "has a part '.' or '..'"),
        ("hosts/../../escaped", "has a part '.' or '..'"),
        ("./RUNBOOK.md", "has a part '.' or '..'"),
        ("/tmp/escaped", "is absolute"),
        ("hosts//host1/x", "has an empty part"),
        ("hosts/host1/", "has an empty part"),
        ("", "has an empty part"),
        ("a\0b", "holds a NUL character"),
        (write.MANIFEST, "is the manifest's own name"),
    ],
)
def test_a_path_that_is_no_file_inside_the_tree_is_refused_and_nothing_written(
    tmp_path: Path, path: str, why: str
) -> None:
    out = tmp_path / "out"
    confgen.write_tree(_files(SEED), out)
    before = _snapshot(out)
    files = {**_files(SPLIT), path: confgen.RenderedFile(text="x\n", mode=0o644)}
    with pytest.raises(confgen.OutputError) as raised:
        confgen.write_tree(files, out)
    [problem, nothing] = raised.value.problems
    assert (problem.path, nothing.path) == (path, "")
    assert problem.message.startswith(why), problem.message
    assert nothing.message.startswith("nothing was written")
    with pytest.raises(confgen.OutputError, match="nothing was written"):
        confgen.diff_tree(files, out)
    assert _snapshot(out) == before
    assert _beside(tmp_path) == ["out"]  # nothing escaped beside it, no staging left
    assert not Path("/tmp/escaped").exists()


def test_a_path_given_twice_is_refused(tmp_path: Path) -> None:
    file = confgen.RenderedFile(text="x\n", mode=0o644)
    with pytest.raises(confgen.OutputError) as raised:
        confgen.write_tree([("a", file), ("b/c", file), ("a", file)], tmp_path / "out")
    first = raised.value.problems[0]
    assert (first.path, first.message) == ("a", "is given twice")
    assert _beside(tmp_path) == []


def test_written_lists_the_files_it_left_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "out"
    confgen.write_tree(_files(SEED), out)
    files = _files(SEED)
    files["RUNBOOK.md"] = confgen.RenderedFile(text="other\n", mode=0o644)
    written = confgen.write_tree(files, out, force=True)
    assert written == list(written.changed) == ["RUNBOOK.md"]
    assert set(written.unchanged) == set(files) - {"RUNBOOK.md"}
    again = confgen.write_tree(files, out)
    assert again == [] and set(again.unchanged) == set(files)
