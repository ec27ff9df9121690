"""Properties of `confgen change` over drawn pairs (change_strategies.py), both targets: the
same pair gives the same bytes; every change the strategy calls accepted is planned and its
tree renders; every refused pair raises ChangeError naming, per side, key paths that exist in
that side's file (the one drawn among them), and the command exits 1 without a traceback."""

from __future__ import annotations

import contextlib
import io
import subprocess
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import confgen
from change_strategies import EL7, EL9, accepted_changes, refused_changes
from confgen.change import FROM, TO
from confgen.cli import main
from strategies import to_toml

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)


def _pair(before: dict[str, Any], after: dict[str, Any]) -> tuple[confgen.Cluster, ...]:
    return confgen.loads(to_toml(before)), confgen.loads(to_toml(after))


def _tree(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[str, int]]:
    tree = confgen.render_change(confgen.change(*_pair(before, after)))
    return {path: (f.text, f.mode) for path, f in tree.items()}


def exists(data: Any, path: str) -> bool:
    """Whether the key path (`hosts[2].interfaces.mgmt.address`) is in the file's data, or
    names keys the file leaves to their defaults below a part that is (`gluster.volumes` of
    a file with no volume list): the error then points at that part's line, as confgen.locate
    does for every key path. An index past a list's end is never there."""
    for part in path.replace("[", ".[").split("."):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(data, list) or index >= len(data):
                return False
            data = data[index]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, dict):
            data = {}  # a key left to its default: only keys may follow
        else:
            return False
    return True


@pytest.mark.parametrize("target", [EL7, EL9])
@SETTINGS
@given(data=st.data())
def test_an_accepted_change_is_planned_renders_and_gives_the_same_bytes_twice(
    target: str, data: Any
) -> None:
    before, after = data.draw(accepted_changes(target))
    first = _tree(before, after)
    assert first == _tree(before, after)
    assert "CHANGE.md" in first
    for path, (text, _mode) in first.items():
        assert "{{" not in text and "{%" not in text, path
        if path.endswith(".sh"):
            parsed = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
            assert parsed.returncode == 0, (path, parsed.stderr)


@pytest.mark.parametrize("target", [EL7, EL9])
@SETTINGS
@given(data=st.data())
def test_a_refused_change_names_key_paths_of_its_sides(target: str, data: Any) -> None:
    before, after, expected = data.draw(refused_changes(target))
    with pytest.raises(confgen.ChangeError) as caught:
        confgen.change(*_pair(before, after))
    found = list(zip(caught.value.sides, (p.path for p in caught.value.problems), strict=True))
    files = {FROM: tomllib.loads(to_toml(before)), TO: tomllib.loads(to_toml(after))}
    for side, path in found:
        assert side in files, found
        assert exists(files[side], path), (side, path, found)
    assert expected in found, found


@settings(SETTINGS, max_examples=10)
@given(target=st.sampled_from([EL7, EL9]), data=st.data())
def test_the_command_refuses_with_exit_1_naming_the_file_and_key(target: str, data: Any) -> None:
    before, after, (side, path) = data.draw(refused_changes(target))
    with tempfile.TemporaryDirectory() as tmp:
        files = {FROM: Path(tmp) / "from.toml", TO: Path(tmp) / "to.toml"}
        files[FROM].write_text(to_toml(before))
        files[TO].write_text(to_toml(after))
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["change", str(files[FROM]), str(files[TO]), str(Path(tmp) / "out")])
        assert code == 1, err.getvalue()
        assert "Traceback" not in err.getvalue()
        assert f"{files[side]}:" in err.getvalue() and path in err.getvalue(), err.getvalue()
        assert not (Path(tmp) / "out").exists()


def test_exists_takes_defaults_below_a_table_and_no_index_past_the_end() -> None:
    data = {"target": "x", "hosts": [{"name": "a"}]}
    assert exists(data, "hosts[0].name") and exists(data, "target")
    assert exists(data, "gluster.volumes")  # a file with no volume list: the defaults
    assert exists(data, "hosts[0].interfaces.mgmt.address")
    assert not exists(data, "hosts[1]") and not exists(data, "gluster.volumes[0].name")
    assert not exists(data, "target.name")
