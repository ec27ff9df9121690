"""No module of confgen imports one that imports it back, by any way: at the top, inside a
function, or under TYPE_CHECKING. The pipeline reads from the file names (load, validate,
plan, render, write); components import the core, targets import components, and the core
finds a target through the registry by name, never by an import of it."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import confgen

SOURCE = Path(confgen.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """confgen's own modules (not the templates compiled into _compiled), by dotted name."""
    return {
        _module_name(path): path
        for path in sorted(SOURCE.rglob("*.py"))
        if "_compiled" not in path.relative_to(SOURCE).parts
    }


def _imported(tree: ast.AST, package: str, known: Mapping[str, Path]) -> Iterator[str]:
    """Every confgen module a module's code imports, wherever the import statement is."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package up
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            # `from a import b` imports the module a.b when there is one, else a name of a.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        yield from (name for name in names if name in known)


def import_graph() -> dict[str, set[str]]:
    """Each confgen module -> the confgen modules it imports."""
    known = modules()
    graph = {}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[name] = set(_imported(tree, package, known)) - {name}
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = import_graph()
    # The walk sees the modules that matter: a mistake here would pass an empty graph.
    assert {"confgen.planner", "confgen.targets", "confgen.components.gluster"} <= graph.keys()
    assert "confgen.targets" in graph["confgen.planner"]
    assert "confgen.planner" in graph["confgen.components.gluster"]
    assert cycles(graph) == []


def test_a_cycle_is_found_however_it_is_imported(tmp_path: Path) -> None:
    """The graph takes imports in functions and under TYPE_CHECKING, and `cycles` finds a
    loop of any length."""
    code = (
        "from typing import TYPE_CHECKING\n"
        "def f():\n    from confgen import planner\n"
        "if TYPE_CHECKING:\n    from confgen.targets import Target\n"
    )
    known = {"confgen.planner": tmp_path, "confgen.targets": tmp_path, "confgen": tmp_path}
    assert set(_imported(ast.parse(code), "confgen", known)) == {
        "confgen.planner",
        "confgen.targets",
    }
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
