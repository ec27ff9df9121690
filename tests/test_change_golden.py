"""Golden change trees: golden/change-<case>/ holds FROM (from.toml), TO (to.toml), the hosts
named by --replace if any (replace, one a line) and the change tree they give (expected/): every path, every file's bytes and its executable bit.
`pytest tests/test_change_golden.py --update-golden` rewrites expected/; read the diff."""

from __future__ import annotations

import difflib
import shutil

import pytest

import confgen
from golden_cases import GOLDEN

CASES = sorted(p.name for p in GOLDEN.glob("change-*") if (p / "to.toml").is_file())


def test_there_is_a_change_case_of_each_target() -> None:
    targets = {confgen.load(str(GOLDEN / c / "to.toml")).target for c in CASES}
    assert targets == {"ovirt35-el7", "ovirt45-el9"}


@pytest.mark.parametrize("case", CASES)
def test_change_tree_is_golden(case: str, update_golden: bool) -> None:
    folder = GOLDEN / case
    replace = (folder / "replace").read_text().split() if (folder / "replace").is_file() else []
    the_change = confgen.change(
        confgen.load(str(folder / "from.toml")),
        confgen.load(str(folder / "to.toml")),
        replace=replace,
    )
    tree = confgen.render_change(the_change)
    expected = folder / "expected"
    if update_golden:
        shutil.rmtree(expected, ignore_errors=True)
        confgen.write_tree(tree, expected)
        (expected / ".confgen-manifest.json").unlink()
    found = sorted(str(p.relative_to(expected)) for p in expected.rglob("*") if p.is_file())
    assert found == sorted(tree), case
    for path, file in tree.items():
        on_disk = expected / path
        text = on_disk.read_text()
        diff = "".join(
            difflib.unified_diff(
                text.splitlines(True), file.text.splitlines(True), f"expected/{path}", path
            )
        )
        assert not diff, diff
        assert bool(on_disk.stat().st_mode & 0o111) == bool(file.mode & 0o111), path
