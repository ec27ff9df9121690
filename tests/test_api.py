"""The library's public API: what `confgen` exports, loading from a mapping, rendering to
memory with the tree's target and source, and the command line as one more user of it."""

from __future__ import annotations

import ast
import tomllib
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import confgen
from confgen.records import replace
from strategies import clusters, el9_clusters, to_toml
from test_input_safety import mutated_files

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "golden"
SEED = GOLDEN / "seed-3host" / "cluster.toml"
EL9 = GOLDEN / "el9-3host" / "cluster.toml"


def test_the_public_api_is_this_list() -> None:
    """A name added to or taken from `confgen.__all__` is a change of the API other tools
    import: this list changes with it, on purpose."""
    assert sorted(confgen.__all__) == [
        "ChangeError",
        "ChangePlan",
        "Cluster",
        "ConfgenError",
        "FileChange",
        "FirewallRule",
        "Host",
        "Interface",
        "Interrupted",
        "LoadError",
        "Network",
        "OutputError",
        "Plan",
        "PlanCheckError",
        "PortRange",
        "Problem",
        "Protocol",
        "RenderStream",
        "RenderedFile",
        "RenderedTree",
        "Role",
        "Severity",
        "Source",
        "Target",
        "TreeDiff",
        "ValidationError",
        "Volume",
        "Written",
        "__version__",
        "change",
        "diff_tree",
        "json_schema",
        "load",
        "load_data",
        "loads",
        "plan",
        "printable",
        "render",
        "render_change",
        "render_files",
        "render_plan",
        "targets",
        "template_context",
        "validate",
        "write_tree",
    ]
    assert len(set(confgen.__all__)) == len(confgen.__all__)
    for name in confgen.__all__:
        assert hasattr(confgen, name), name


def _confgen_imports(tree: ast.Module) -> list[tuple[str, str | None]]:
    """Every (module, name) the module imports from confgen, at any depth of its code."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if module == "confgen" or module.startswith(("confgen.", ".")):
                found.extend((module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend(
                (alias.name, None)
                for alias in node.names
                if alias.name == "confgen" or alias.name.startswith("confgen.")
            )
    return found


def test_the_command_line_imports_only_the_public_api() -> None:
    """cli.py takes from confgen only names in `confgen.__all__`, and of a public module
    (`targets`) only names without a leading underscore: it is one more user of the library."""
    tree = ast.parse((ROOT / "src" / "confgen" / "cli.py").read_text(encoding="utf-8"))
    imports = _confgen_imports(tree)
    assert imports, "cli.py imports nothing from confgen: the test reads the wrong file"
    private = [(m, n) for m, n in imports if m != "confgen" or n not in confgen.__all__]
    assert private == []
    modules = {n for _, n in imports if isinstance(getattr(confgen, n or ""), types.ModuleType)}
    assert modules == {"targets"}
    used = {
        (node.value.id, node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in modules
    }
    assert used, "cli.py uses nothing of confgen.targets: the test reads the wrong names"
    assert [(m, a) for m, a in used if a.startswith("_")] == []


def test_the_import_check_sees_a_private_import() -> None:
    """The check above fails on each way of reaching past the public API."""
    for line in [
        "from confgen.loader import read",
        "from confgen import loader",
        "import confgen.writer",
        "from .planner import plan_validated",
        "def f():\n    from confgen.errors import printable",
    ]:
        found = _confgen_imports(ast.parse(line))
        assert [(m, n) for m, n in found if m != "confgen" or n not in confgen.__all__], line


# load_data: the mapping a cluster file parses to


def _problems(load: Any) -> list[confgen.Problem] | None:
    try:
        load()
    except confgen.LoadError as exc:
        return exc.problems
    return None


def _unlined(problems: list[confgen.Problem]) -> list[confgen.Problem]:
    """Problems without their lines, in one order; an empty file's said as a mapping's."""
    return sorted(
        (
            replace(p, line=None, message=p.message.replace("the file ", "the mapping ", 1))
            if p.path == "" and p.message.startswith("the file ")
            else replace(p, line=None)
            for p in problems
        ),
        key=lambda p: (p.path, p.message, p.severity.value),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=(clusters() | el9_clusters()).map(to_toml))
def test_a_mapping_loads_to_the_cluster_of_its_toml_text(text: str) -> None:
    cluster = confgen.loads(text)
    assert confgen.load_data(tomllib.loads(text)) == cluster
    # and renders to the same tree, once named as the file is
    named = confgen.load_data(tomllib.loads(text), source="cluster.toml")
    assert confgen.plan(named) == confgen.plan(cluster, confgen.Source.of("cluster.toml", cluster))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated_files())
def test_a_mapping_has_the_problems_of_its_toml_text_without_lines(text: str) -> None:
    """Every problem of loading and of validating, the same by key path and message."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return  # no mapping: the text is not TOML
    from_text = _problems(lambda: confgen.loads(text))
    from_data = _problems(lambda: confgen.load_data(data))
    if from_text is None or from_data is None:
        assert from_text is None and from_data is None, (from_text, from_data)
        assert confgen.load_data(data) == confgen.loads(text)
        validated = confgen.validate(confgen.load_data(data))
        assert [p.line for p in validated] == [None] * len(validated)
        assert _unlined(validated) == _unlined(confgen.validate(confgen.loads(text)))
        return
    assert [p.line for p in from_data] == [None] * len(from_data)
    assert _unlined(from_data) == _unlined(from_text)


def test_a_mapping_with_a_problem_names_its_source_and_gives_no_line() -> None:
    data = tomllib.loads(SEED.read_text())
    data["hosts"][1]["fqdn"] = 7
    data["hosts"][2]["fqnd"] = "x"
    with pytest.raises(confgen.LoadError) as raised:
        confgen.load_data(data, source="inventory.json")
    assert raised.value.source == "inventory.json"
    assert [(p.path, p.message, p.line) for p in raised.value.problems] == [
        ("hosts[1].fqdn", "7 is not a string", None),
        ("hosts[2].fqnd", "unknown key; did you mean 'fqdn'?", None),
    ]
    assert str(raised.value).splitlines()[0] == "inventory.json: hosts[1].fqdn: 7 is not a string"


def test_a_mapping_of_another_target_is_told_which_target_line_to_write() -> None:
    data = tomllib.loads(EL9.read_text())
    del data["target"]
    problems = _problems(lambda: confgen.load_data(data))
    assert problems is not None
    [hint] = [p for p in problems if p.path == "target"]
    assert hint.line is None  # the text's hint points at line 1; a mapping has none
    assert 'add the line target = "ovirt45-el9" at the top' in hint.message


def test_a_key_that_is_not_a_string_is_a_problem_by_its_path() -> None:
    data = tomllib.loads(SEED.read_text())
    data["hosts"][0][3] = "x"
    data["gluster"] = {None: 1}
    problems = _problems(lambda: confgen.load_data(data))
    assert problems is not None
    assert sorted((p.path, p.message) for p in problems) == [
        ("gluster", "None is a key that is not a string"),
        ("hosts[0]", "3 is a key that is not a string"),
    ]


def test_a_mapping_that_holds_itself_is_a_problem_not_a_hang() -> None:
    data = tomllib.loads(SEED.read_text())
    data["hosts"][0]["interfaces"] = data
    loop: list[Any] = []
    loop.append(loop)
    data["networks"] = loop
    problems = _problems(lambda: confgen.load_data(data))
    assert problems, "a cluster that holds itself loaded"


@pytest.mark.parametrize("data", [{}, {"target": "ovirt45-el9"}])
def test_an_empty_mapping_points_to_confgen_init(data: dict[str, Any]) -> None:
    problems = _problems(lambda: confgen.load_data(data))
    assert problems is not None
    [problem] = problems
    assert problem.line is None
    assert problem.message.startswith("the mapping ")
    assert "`confgen init" in problem.message


def test_load_data_takes_a_mapping_and_says_what_else_it_takes() -> None:
    with pytest.raises(TypeError, match=r"load_data\(\) takes a mapping .* not str; loads\(\)"):
        confgen.load_data(SEED.read_text())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"load_data\(\) the mapping it parses to"):
        confgen.load(tomllib.loads(SEED.read_text()))  # type: ignore[arg-type]


def test_validate_gives_lines_where_the_loader_had_text_and_none_where_it_had_not(
    tmp_path: Path,
) -> None:
    text = SEED.read_text().replace('fqdn = "host2.osas.lab"', 'fqdn = "host1.osas.lab"')
    (tmp_path / "cluster.toml").write_text(text)
    lined = confgen.validate(confgen.loads(text))
    assert lined and all(p.line is not None for p in lined)
    assert confgen.validate(confgen.load(tmp_path / "cluster.toml")) == lined
    assert confgen.validate(confgen.loads(text), text) == lined
    unlined = confgen.validate(confgen.load_data(tomllib.loads(text)))
    assert [p.line for p in unlined] == [None] * len(lined)
    assert _unlined(unlined) == _unlined(lined)


# Rendering to memory, and what the writer records of it


def test_a_rendered_tree_carries_its_target_and_source(tmp_path: Path) -> None:
    cluster = confgen.load(EL9)
    tree = confgen.render(cluster)
    assert tree.target == "ovirt45-el9"
    assert tree.source == confgen.Source.of("cluster.toml", cluster)
    assert list(tree) == sorted(tree) and len(tree) == len(tree.files)
    assert tree["RUNBOOK.md"] is tree.files["RUNBOOK.md"]
    # A cluster made in code has no source, and its tree still has its target.
    made = confgen.load_data(tomllib.loads(EL9.read_text()))
    bare = confgen.render(made)
    assert (bare.target, bare.source) == ("ovirt45-el9", None)


def test_render_plan_and_render_files_give_the_tree_render_gives(tmp_path: Path) -> None:
    cluster = confgen.load(SEED)
    the_plan = confgen.plan(cluster)
    tree = confgen.render_plan(the_plan)
    assert tree == confgen.render(cluster)
    stream = confgen.render_files(the_plan)
    assert (stream.target, stream.source) == (tree.target, tree.source)
    assert dict(stream) == dict(tree.files)
    assert dict(stream) == dict(tree.files)  # iterated again: rendered again
    confgen.write_tree(tree, tmp_path / "a")
    confgen.write_tree(stream, tmp_path / "b")
    manifest = (tmp_path / "a" / ".confgen-manifest.json").read_text()
    assert manifest == (tmp_path / "b" / ".confgen-manifest.json").read_text()


def test_the_library_and_the_command_write_the_same_tree(tmp_path: Path) -> None:
    from confgen.cli import main

    assert main(["render", str(SEED), str(tmp_path / "cli")]) == 0
    confgen.write_tree(confgen.render(confgen.load(SEED)), tmp_path / "lib")
    named = confgen.load_data(tomllib.loads(SEED.read_text()), source=SEED.name)
    confgen.write_tree(confgen.render(named), tmp_path / "data")
    trees = [
        {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
        for root in (tmp_path / "cli", tmp_path / "lib", tmp_path / "data")
    ]
    assert trees[0] == trees[1] == trees[2]
