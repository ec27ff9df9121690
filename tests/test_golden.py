"""Each golden/<case>/cluster.toml renders to exactly golden/<case>/expected/.

A failure shows a unified diff per file. After a deliberate change, run
`pytest tests/test_golden.py --update-golden` and review `git diff golden/` line by line.
"""

from __future__ import annotations

import difflib
import shutil
import stat
from pathlib import Path

import pytest

import confgen
from confgen import targets
from golden_cases import GOLDEN, golden_cases

CASES = golden_cases()


def _tree(root: Path) -> dict[str, tuple[bytes, bool]]:
    return {
        str(path.relative_to(root)): (path.read_bytes(), bool(path.stat().st_mode & stat.S_IXUSR))
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _source(case: str) -> tuple[confgen.Cluster, confgen.Source]:
    cluster = confgen.loads((GOLDEN / case / "cluster.toml").read_text())
    return cluster, confgen.Source.of("cluster.toml", cluster)


def _render(case: str) -> confgen.RenderedTree:
    """Render a case as `confgen render` does, naming its cluster file in the scripts."""
    return confgen.render(*_source(case))


def _rendered(case: str, out: Path) -> dict[str, tuple[bytes, bool]]:
    """The tree a render writes, manifest included (its target and source from the tree)."""
    confgen.write_tree(_render(case), out)
    return _tree(out)


@pytest.mark.parametrize("case", CASES)
def test_golden_tree(case: str, update_golden: bool, tmp_path: Path) -> None:
    expected_dir = GOLDEN / case / "expected"
    actual = _rendered(case, tmp_path / "out")
    if update_golden:
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(tmp_path / "out", expected_dir)
    expected = _tree(expected_dir)

    assert sorted(actual) == sorted(expected), "the set of paths differs"
    diffs = []
    for path, (data, executable) in actual.items():
        want, want_executable = expected[path]
        if data != want:
            diffs.append(
                "".join(
                    difflib.unified_diff(
                        want.decode().splitlines(keepends=True),
                        data.decode().splitlines(keepends=True),
                        fromfile=f"golden/{case}/expected/{path}",
                        tofile=f"rendered/{path}",
                    )
                )
            )
        if executable != want_executable:
            diffs.append(f"{path}: executable bit is {executable}, golden has {want_executable}")
    assert not diffs, "\n".join(diffs)


# Each target's built-in example is a golden case, so what `confgen init` writes stays true:
# found among the golden cases of that target, so a new target needs no entry here.
@pytest.mark.parametrize("name", targets.NAMES)
def test_each_targets_example_is_a_golden_case(name: str) -> None:
    text = targets.get(name).example.read_text()
    cases = [c for c in golden_cases(name) if (GOLDEN / c / "cluster.toml").read_text() == text]
    assert cases, f"no golden/<case>/cluster.toml is the example of {name}: add one"
    assert confgen.loads(text).target == name


def test_write_tree_reproduces_golden_modes(tmp_path: Path) -> None:
    confgen.write_tree(_render("seed-3host"), tmp_path)
    for path in _tree(tmp_path):
        mode = (tmp_path / path).stat().st_mode & 0o777
        if path.endswith(".sh"):
            assert mode == 0o755, path
        elif path.endswith("sysconfig/iptables"):
            assert mode == 0o600, path
        else:
            assert mode == 0o644, path
