#!/usr/bin/env python3
"""The answer keys `hosted-engine --deploy` reads, extracted from ovirt-hosted-engine-setup.

    python tests/data/hosted-engine-setup/extract.py GIT_DIR TAG > tests/data/hosted-engine-setup/answers.json

GIT_DIR is a git directory (bare is fine) of https://github.com/oVirt/ovirt-hosted-engine-setup,
TAG one of its tags. Nothing is imported or run from that source: it is read with git and
parsed with Python's `ast`. The tables committed beside this script:

    answers.json           TAG ovirt-hosted-engine-setup-2.7.2    (ovirt45-el9)
    answers-1.2.6.1.json   TAG ovirt-hosted-engine-setup-1.2.6.1  (ovirt35-el7)

Python 2 source (1.2.x): a file Python 3's `ast` cannot parse (print statements, `except E,
e:`, `0644`) is first converted by lib2to3 with only the fixers that change syntax, not
meaning (print, except, raise, exec, repr, ne, numliterals, tuple_params: see PY2_FIXERS),
each of which rewrites within its own lines, so every path:line the table cites is the
line of the upstream file (the conversion is refused if the line count changes). A file
that parses as it is is used as it is: the 2.x tags, Python 3, are never converted. What a
Python 2 line means but Python 3 would read otherwise (`print (a, b)`, str and unicode) does
not matter here: only the keys' uses are read. The layout is the same at both: constants in
src/ovirt_hosted_engine_setup/constants.py, plugins under src/plugins/ (1.2.x: one
directory, src/plugins/ovirt-hosted-engine-setup/; 2.x: gr-he-common/, gr-he-ansiblesetup/
and others). lib2to3 ships with Python up to 3.12 (deprecated since 3.11, gone in 3.13) and is
only imported when a file needs converting.

What counts:

* A key is a string constant `OVEHOSTED_<SECTION>/<name>` of src/ovirt_hosted_engine_setup/
  constants.py, a class attribute (`TEMPDIR = 'OVEHOSTED_CORE/tempDir'`) or a method
  decorated with `@ohostedattrs(...)` that returns it (`def DOMAIN_TYPE(self): return
  'OVEHOSTED_STORAGE/domainType'`). The section is the string's, not the class's
  (StorageEnv.ENABLE_HC_GLUSTER_SERVICE is 'OVEHOSTED_ENGINE/enableHcGlusterService').
* A key is READ when a plugin (src/plugins/**.py) or a module the plugins call
  (src/ovirt_hosted_engine_setup/*.py) loads it: `self.environment[KEY]` as a value,
  `self.environment.get(KEY)`, `KEY in self.environment`, `queryEnvKey(key=KEY)`, or any other
  use of the constant that is not a store or a setdefault (in a tuple of dicts a loop then
  reads, say). Stores and `setdefault` alone are not reads: a key only ever given a default or
  written, and a key defined and never used, has no effect when an answer file gives it. Those
  are listed under "defined_never_read". Keys reached only by iterating over every constant
  (answerfile.py writes every `answerfile=True` key back out) are not reads either.
* A key is ASKED when a plugin stores the result of a dialog query into it: `self.environment[
  KEY] = self.dialog.queryString(...)`, through a local variable (`password = ...queryString(
  ...)` then `self.environment[KEY] = password`; `domain_type = self.environment[KEY]` then
  `domain_type = ...queryString(...)`), through a method of the plugin that returns a query,
  or with ovirt-setup-lib's `dialog.queryEnvKey(key=KEY)` / `dialog.queryBoolean`. Its record
  gives the prompt (the query's note, with otopi's @VALUES@ and @DEFAULT@ left in), the default,
  the valid values, whether the answer is hidden (a password), a second query the answer is
  compared with (a confirmation), the otopi stage of the plugin method, the conditions under
  which the query is reached (the enclosing `if`/`while` tests, plus the event's
  `condition=`), what is stored (`answer` is the typed line) and the tests after which the
  plugin aborts (`raise ...Abort(...)`). Conditions are Python expressions over `env['KEY']`
  and `answer`, with the constants and `_('...')` replaced by their values and single-assigned
  local variables inlined; what cannot be resolved stays as written.
* The type is told from what is stored (`queryBoolean`, `... == 'yes'`: bool; `int(...)`:
  int; a query: str) or from a literal `setdefault` default; else it is null.

The output is JSON: "provenance" (repository, tag, commit, this script), "keys" (one record a
line, sorted by key) and "defined_never_read" (key: constants.py line).
"""

from __future__ import annotations

import ast
import copy
import json
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from typing import Any

REPOSITORY = "https://github.com/oVirt/ovirt-hosted-engine-setup"
CONSTANTS = "src/ovirt_hosted_engine_setup/constants.py"
KEY_RE = re.compile(r"^OVEHOSTED_[A-Z]+/\w+$")
QUERIES = {
    "queryString",
    "queryBoolean",
    "queryEnvKey",
    "queryPassword",
    "queryMultiString",
    "getHostname",
}
# ovirt-setup-lib's helpers that take the key: dialog.queryEnvKey(key=), dialog.queryPassword(
# key=), hostname.Hostname.getHostname(envkey=), which calls queryEnvKey(key=envkey, note=
# prompttext + ': ', name=dialog_name) (ovirt-setup-lib 1.3.4 src/ovirt_setup_lib/
# hostname.py:502-553).
KEY_KWARG = {"queryEnvKey": "key", "queryPassword": "key", "getHostname": "envkey"}
NOTE_KWARG = {"getHostname": "prompttext"}
NAME_KWARG = {"getHostname": "dialog_name"}
ENV_NAMES = {"environment", "env"}
# lib2to3's fixers that turn Python 2 syntax Python 3 cannot parse into Python 3 syntax, each
# within the lines it rewrites (see the docstring).
PY2_FIXERS = ("print", "except", "raise", "exec", "repr", "ne", "numliterals", "tuple_params")


def git(git_dir: str, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", git_dir, *args], capture_output=True, text=True, check=True
    ).stdout


def parse(path: str, source: str) -> ast.Module:
    """The source's tree; Python 2 source first converted to Python 3 (see the docstring)."""
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # lib2to3, since Python 3.11
        from lib2to3 import refactor
    tool = refactor.RefactoringTool([f"lib2to3.fixes.fix_{name}" for name in PY2_FIXERS])
    text = source if source.endswith("\n") else source + "\n"  # lib2to3 wants the newline
    converted = str(tool.refactor_string(text, path))
    if converted.count("\n") != text.count("\n"):
        raise ValueError(f"{path}: converting Python 2 source moved its lines")
    return ast.parse(converted, path)


# -- constants.py ------------------------------------------------------------------------------


def parse_constants(source: str) -> tuple[dict[str, Any], dict[str, int]]:
    """("Class.ATTR" -> literal value, "Class.ATTR" -> line) for every literal constant."""
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for cls in parse(CONSTANTS, source).body:
        if not isinstance(cls, ast.ClassDef):
            continue
        for stmt in cls.body:
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                try:
                    value = ast.literal_eval(stmt.value)
                except ValueError:
                    continue
                values[f"{cls.name}.{stmt.targets[0].id}"] = value
                lines[f"{cls.name}.{stmt.targets[0].id}"] = stmt.lineno
            elif isinstance(stmt, ast.FunctionDef):
                body = [s for s in stmt.body if not _is_docstring(s)]
                if (
                    len(body) == 1
                    and isinstance(body[0], ast.Return)
                    and isinstance(body[0].value, ast.Constant)
                ):
                    values[f"{cls.name}.{stmt.name}"] = body[0].value.value
                    lines[f"{cls.name}.{stmt.name}"] = body[0].lineno
    return values, lines


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


# -- one source file -----------------------------------------------------------------------


class Unresolved(Exception):
    pass


class FileScan:
    """The reads and asks of one source file."""

    def __init__(self, path: str, source: str, constants: dict[str, Any]) -> None:
        self.path = path
        self.tree = parse(path, source)
        self.constants = constants
        self.keys = {v for v in constants.values() if isinstance(v, str) and KEY_RE.match(v)}
        self.aliases = self._constants_aliases()
        self.reads: list[tuple[str, int, str]] = []  # (key, line, how)
        self.setdefaults: dict[str, Any] = {}
        self.asks: list[dict[str, Any]] = []
        self.aborts: list[tuple[str, str, int]] = []  # (key, test, line)
        self.overwrites: list[tuple[str, dict[str, Any]]] = []
        for cls in [n for n in ast.walk(self.tree) if isinstance(n, ast.ClassDef)]:
            self.helpers = self._query_helpers(cls)
            self._scan_functions([f for f in cls.body if isinstance(f, ast.FunctionDef)])
        self.helpers = {}
        self._scan_functions([f for f in self.tree.body if isinstance(f, ast.FunctionDef)])

    def _scan_functions(self, defs: list[ast.FunctionDef]) -> None:
        """Scan each function; a method that is no event (a helper) gets the stage and the
        conditions of the first event method that calls it (`self.helper(...)`), found over a
        few rounds so a helper's helper gets them too."""
        functions = [Function(self, fn) for fn in defs]
        by_name = {f.fn.name: f for f in functions}
        for _ in range(3):
            for caller in functions:
                if caller.stage is None:
                    continue
                top = [caller.event_condition] if caller.event_condition is not None else []
                for stmt, conds, bindings in caller.walk(caller.fn.body, top, {}):
                    for node in caller.own_nodes(stmt):
                        if (
                            isinstance(node, ast.Call)
                            and isinstance(node.func, ast.Attribute)
                            and isinstance(node.func.value, ast.Name)
                            and node.func.value.id == "self"
                            and node.func.attr in by_name
                        ):
                            callee = by_name[node.func.attr]
                            if callee.stage is None:
                                callee.stage = caller.stage
                                callee.outer = caller.outer + [
                                    caller.condition(c, bindings) for c in conds
                                ]
                                callee.called_from = f"{caller.fn.name}:{node.lineno}"
        for function in functions:
            function.scan()

    def _constants_aliases(self) -> set[str]:
        """Names the file gives ovirt_hosted_engine_setup.constants."""
        names = set()
        for node in ast.walk(self.tree):
            # `from ovirt_hosted_engine_setup import constants as X`, or in the package
            # itself `from . import constants as X`.
            if isinstance(node, ast.ImportFrom) and (
                node.module == "ovirt_hosted_engine_setup" or (node.module is None and node.level)
            ):
                for alias in node.names:
                    if alias.name == "constants":
                        names.add(alias.asname or alias.name)
        return names

    def constant(self, node: ast.AST) -> Any:
        """The value of `ohostedcons.Class.ATTR`, else Unresolved."""
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and isinstance(node.value.value, ast.Name)
            and node.value.value.id in self.aliases
        ):
            name = f"{node.value.attr}.{node.attr}"
            if name in self.constants:
                return self.constants[name]
        raise Unresolved

    def _query_helpers(self, cls: ast.ClassDef) -> dict[str, ast.Call]:
        """Methods of the plugin that return what a query returns: name -> the query."""
        helpers = {}
        for fn in cls.body:
            if not isinstance(fn, ast.FunctionDef):
                continue
            assigned = {}
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Assign)
                    and isinstance(node.targets[0], ast.Name)
                    and direct_query(node.value)
                ):
                    assigned.setdefault(node.targets[0].id, node.value)
            for node in ast.walk(fn):
                if isinstance(node, ast.Return) and node.value is not None:
                    if direct_query(node.value):
                        helpers.setdefault(fn.name, node.value)
                    elif isinstance(node.value, ast.Name) and node.value.id in assigned:
                        helpers.setdefault(fn.name, assigned[node.value.id])
                    elif isinstance(node.value, ast.Tuple) and node.value.elts:
                        first = node.value.elts[0]
                        if isinstance(first, ast.Name) and first.id in assigned:
                            helpers.setdefault(fn.name, assigned[first.id])
        return helpers


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def direct_query(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _call_name(node) in QUERIES


def is_env(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr in ENV_NAMES) or (
        isinstance(node, ast.Name) and node.id in ENV_NAMES
    )


class Function:
    """One function (a plugin method): its reads, asks and aborts."""

    def __init__(self, scan: FileScan, fn: ast.FunctionDef) -> None:
        self.scan_ = scan
        self.fn = fn
        self.stage = self._stage()
        self.event_condition = self._event_condition()
        self.outer: list[str] = []  # a helper's caller's conditions
        self.called_from: str | None = None
        assigns: dict[str, list[ast.expr]] = {}
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigns.setdefault(target.id, []).append(node.value)
            elif isinstance(node, (ast.AugAssign, ast.For)) and isinstance(node.target, ast.Name):
                assigns.setdefault(node.target.id, []).extend([node.target, node.target])
        self.assigns = assigns
        # A local that holds a key's value: `x = self.environment[KEY]`.
        self.alias: dict[str, str] = {}
        for name, values in assigns.items():
            for value in values:
                key = self.env_key(value, {})
                if key is not None:
                    self.alias.setdefault(name, key)
                    break
        # A local that holds a query's answer: `x = self.dialog.queryString(...)`.
        self.query_vars: dict[str, ast.Call] = {}
        for name, values in assigns.items():
            for value in values:
                found = self.find_query(value)
                if found is not None:
                    self.query_vars.setdefault(name, found[0])
                    break

    # -- the event -----------------------------------------------------------------------

    def _event_kwargs(self) -> dict[str, ast.expr]:
        for deco in self.fn.decorator_list:
            if isinstance(deco, ast.Call) and _call_name(deco) == "event":
                return {k.arg: k.value for k in deco.keywords if k.arg}
        return {}

    def _stage(self) -> str | None:
        stage = self._event_kwargs().get("stage")
        return stage.attr if isinstance(stage, ast.Attribute) else None

    def _event_condition(self) -> ast.expr | None:
        condition = self._event_kwargs().get("condition")
        return condition.body if isinstance(condition, ast.Lambda) else None

    # -- resolving ---------------------------------------------------------------------------

    def env_key(self, node: ast.AST, bindings: dict[str, ast.Dict]) -> str | None:
        """The key of `self.environment[KEY]`, else None."""
        if isinstance(node, ast.Subscript) and is_env(node.value):
            return self.key(node.slice, bindings)
        return None

    def key(self, node: ast.AST, bindings: dict[str, ast.Dict]) -> str | None:
        try:
            value = self.value(node, bindings)
        except Unresolved:
            return None
        return value if isinstance(value, str) and value in self.scan_.keys else None

    def value(self, node: ast.AST, bindings: dict[str, ast.Dict], depth: int = 0) -> Any:
        """A constant value of an expression, else Unresolved."""
        if depth > 4:
            raise Unresolved
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Attribute):
            return self.scan_.constant(node)
        if isinstance(node, ast.Call) and _call_name(node) == "_" and len(node.args) == 1:
            return self.value(node.args[0], bindings, depth + 1)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("lower", "upper")
            and not node.args
        ):
            inner = self.value(node.func.value, bindings, depth + 1)
            if isinstance(inner, str):
                return inner.lower() if node.func.attr == "lower" else inner.upper()
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.value(node.left, bindings, depth + 1)
            right = self.value(node.right, bindings, depth + 1)
            if isinstance(left, str) and isinstance(right, str):
                return left + right
        if isinstance(node, ast.Subscript):
            looked = self.lookup(node, bindings, depth)
            if looked is not None:
                return self.value(looked, bindings, depth + 1)
        if isinstance(node, (ast.Tuple, ast.List)):
            return [self.value(e, bindings, depth + 1) for e in node.elts]
        if isinstance(node, ast.Name) and len(self.assigns.get(node.id, [])) == 1:
            return self.value(self.assigns[node.id][0], bindings, depth + 1)
        raise Unresolved

    def lookup(self, node: ast.Subscript, bindings: dict[str, ast.Dict], depth: int) -> Any:
        """`item['k']` of a loop over dict literals, or `d[k]` of a local dict literal."""
        if not isinstance(node.value, ast.Name):
            return None
        table = bindings.get(node.value.id)
        if table is None and len(self.assigns.get(node.value.id, [])) == 1:
            single = self.assigns[node.value.id][0]
            table = single if isinstance(single, ast.Dict) else None
        if table is None:
            return None
        try:
            wanted = self.value(node.slice, bindings, depth + 1)
        except Unresolved:
            return None
        for k, v in zip(table.keys, table.values, strict=False):
            if k is None:
                continue
            try:
                if self.value(k, bindings, depth + 1) == wanted:
                    return v
            except Unresolved:
                continue
        return None

    def string(self, node: ast.AST | None, bindings: dict[str, ast.Dict]) -> str | None:
        if node is None:
            return None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
        ):
            return self.string(node.func.value, bindings)
        try:
            value = self.value(node, bindings)
        except Unresolved:
            return None
        return value if isinstance(value, str) else None

    def find_query(self, node: ast.AST) -> tuple[ast.Call, ast.Call] | None:
        """(the query call, the call in `node` that makes it) for the first query in node."""
        for sub in ast.walk(node):
            if direct_query(sub):
                return sub, sub
            if (
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Attribute)
                and isinstance(sub.func.value, ast.Name)
                and sub.func.value.id == "self"
                and sub.func.attr in self.scan_.helpers
            ):
                return self.scan_.helpers[sub.func.attr], sub
        return None

    def condition(self, node: ast.expr, bindings: dict[str, ast.Dict]) -> str:
        return ast.unparse(Substitute(self, bindings).visit(copy.deepcopy(node)))

    # -- walking ----------------------------------------------------------------------------

    def walk(
        self, stmts: list[ast.stmt], conds: list[ast.expr], bindings: dict[str, ast.Dict]
    ) -> Iterator[tuple[ast.stmt, list[ast.expr], dict[str, ast.Dict]]]:
        for stmt in stmts:
            yield stmt, conds, bindings
            if isinstance(stmt, ast.If):
                yield from self.walk(stmt.body, [*conds, stmt.test], bindings)
                negated = ast.UnaryOp(op=ast.Not(), operand=stmt.test)
                yield from self.walk(stmt.orelse, [*conds, negated], bindings)
            elif isinstance(stmt, ast.While):
                # A loop's test is a condition only when it tests a key (`while
                # self.environment[KEY] is None:`); `while not valid:` runs once at least.
                keep = [stmt.test] if self.tests_key(stmt.test, bindings) else []
                yield from self.walk(stmt.body, [*conds, *keep], bindings)
                yield from self.walk(stmt.orelse, conds, bindings)
            elif isinstance(stmt, ast.For):
                items = self.dict_items(stmt.iter)
                if isinstance(stmt.target, ast.Name) and items:
                    for item in items:
                        yield from self.walk(stmt.body, conds, {**bindings, stmt.target.id: item})
                else:
                    yield from self.walk(stmt.body, conds, bindings)
                yield from self.walk(stmt.orelse, conds, bindings)
            elif isinstance(stmt, ast.Try):
                yield from self.walk(stmt.body, conds, bindings)
                for handler in stmt.handlers:
                    yield from self.walk(handler.body, conds, bindings)
                yield from self.walk(stmt.orelse, conds, bindings)
                yield from self.walk(stmt.finalbody, conds, bindings)
            elif isinstance(stmt, ast.With):
                yield from self.walk(stmt.body, conds, bindings)

    def dict_items(self, node: ast.expr) -> list[ast.Dict]:
        if isinstance(node, ast.Name) and len(self.assigns.get(node.id, [])) == 1:
            node = self.assigns[node.id][0]
        if isinstance(node, (ast.Tuple, ast.List)) and all(
            isinstance(e, ast.Dict) for e in node.elts
        ):
            return list(node.elts)  # type: ignore[arg-type]
        return []

    def tests_key(self, node: ast.expr, bindings: dict[str, ast.Dict]) -> bool:
        return "env[" in self.condition(node, bindings)

    def scan(self) -> None:
        top = [self.event_condition] if self.event_condition is not None else []
        if self.event_condition is not None:  # `condition=lambda self: ...` reads too
            self._reads(ast.Expr(value=self.event_condition), {})
        for stmt in self.fn.body:
            self._literal_store(stmt)
        for stmt, conds, bindings in self.walk(self.fn.body, top, {}):
            self._reads(stmt, bindings)
            self._asks(stmt, conds, bindings)
            self._aborts(stmt, bindings)

    def own_nodes(self, stmt: ast.stmt) -> Iterator[ast.AST]:
        """The nodes of a statement that are not in a statement nested in it."""
        todo: list[ast.AST] = [stmt]
        while todo:
            node = todo.pop()
            yield node
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, ast.stmt):
                    todo.append(child)

    def _literal_store(self, stmt: ast.stmt) -> None:
        """`self.environment[KEY] = <constant>` in the body of an event method, not under an
        `if`: the plugin sets the key whatever the answer file said."""
        if self.stage is None or self.outer:
            return
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            key = self.env_key(stmt.targets[0], {})
            if key is None:
                return
            try:
                value = self.value(stmt.value, {})
            except Unresolved:
                return
            self.scan_.overwrites.append(
                (
                    key,
                    {
                        "file": self.scan_.path,
                        "line": stmt.lineno,
                        "stage": self.stage,
                        "value": value,
                        "conditions": [self.condition(self.event_condition, {})]
                        if self.event_condition is not None
                        else [],
                    },
                )
            )

    def _reads(self, stmt: ast.stmt, bindings: dict[str, ast.Dict]) -> None:
        scan = self.scan_
        classified: set[int] = set()
        for node in self.own_nodes(stmt):
            if isinstance(node, ast.Subscript) and is_env(node.value):
                key = self.key(node.slice, bindings)
                if key is not None:
                    how = "store" if isinstance(node.ctx, (ast.Store, ast.Del)) else "load"
                    scan.reads.append((key, node.lineno, how))
                    classified.update(id(n) for n in ast.walk(node.slice))
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and is_env(node.func.value)
                and node.func.attr in ("get", "setdefault")
                and node.args
            ):
                key = self.key(node.args[0], bindings)
                if key is not None:
                    how = "get" if node.func.attr == "get" else "setdefault"
                    scan.reads.append((key, node.lineno, how))
                    classified.update(id(n) for n in ast.walk(node.args[0]))
                    if how == "setdefault" and len(node.args) > 1:
                        try:
                            default = {"value": self.value(node.args[1], bindings)}
                        except Unresolved:
                            default = {"source": ast.unparse(node.args[1])}
                        scan.setdefaults.setdefault(key, default)
            elif (
                isinstance(node, ast.Compare)
                and len(node.ops) == 1
                and isinstance(node.ops[0], (ast.In, ast.NotIn))
                and is_env(node.comparators[0])
            ):
                key = self.key(node.left, bindings)
                if key is not None:
                    scan.reads.append((key, node.lineno, "in"))
                    classified.update(id(n) for n in ast.walk(node.left))
            elif isinstance(node, ast.Call) and _call_name(node) in KEY_KWARG:
                for kw in node.keywords:
                    if kw.arg == KEY_KWARG[_call_name(node) or ""]:
                        key = self.key(kw.value, bindings)
                        if key is not None:
                            scan.reads.append((key, node.lineno, _call_name(node) or ""))
                            classified.update(id(n) for n in ast.walk(kw.value))
        for node in self.own_nodes(stmt):
            if isinstance(node, ast.Attribute) and id(node) not in classified:
                try:
                    value = scan.constant(node)
                except Unresolved:
                    continue
                if isinstance(value, str) and value in scan.keys:
                    scan.reads.append((value, node.lineno, "reference"))

    def _asks(self, stmt: ast.stmt, conds: list[ast.expr], bindings: dict[str, ast.Dict]) -> None:
        if isinstance(stmt, ast.Assign):
            target = stmt.targets[0]
            if isinstance(target, ast.Tuple) and target.elts:
                target = target.elts[0]
            key = self.env_key(target, bindings)
            if key is None and isinstance(target, ast.Name):
                key = self.alias.get(target.id)
            if key is None:
                return
            found = self.find_query(stmt.value)
            if found is not None:
                query, made = found
                store = self._store(stmt.value, made, query, bindings)
            elif isinstance(stmt.value, ast.Name) and stmt.value.id in self.query_vars:
                query = self.query_vars[stmt.value.id]
                made, store = query, "answer"
            else:
                return
            self._ask(key, query, made, store, stmt, conds, bindings)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            if _call_name(call) in KEY_KWARG:
                kwarg = KEY_KWARG[_call_name(call) or ""]
                key = next(
                    (self.key(k.value, bindings) for k in call.keywords if k.arg == kwarg), None
                )
                if key is not None:
                    # ovirt-setup-lib dialog.queryEnvKey asks only when `key not in env or
                    # env[key] is None`.
                    guard = ast.parse(f"self.environment[{key!r}] is None", mode="eval").body
                    self._ask(key, call, call, "answer", stmt, [*conds, guard], bindings)

    def _store(
        self, value: ast.expr, made: ast.Call, query: ast.Call, bindings: dict[str, ast.Dict]
    ) -> str:
        """What is stored, as an expression of `answer`."""
        answer: ast.expr = ast.Name(id="answer", ctx=ast.Load())
        if _call_name(query) == "queryBoolean" and made is query:
            # ovirt-setup-lib dialog.queryBoolean: queryString(...) != false.lower(), false
            # being _('No') unless given.
            false = self._keyword(query, "false")
            no = self.string(false, bindings) if false is not None else "No"
            answer = ast.Compare(
                left=answer, ops=[ast.NotEq()], comparators=[ast.Constant((no or "No").lower())]
            )

        if value is made:
            replaced: ast.AST = answer
        else:
            # The same node of a copy: ast.walk visits a copy in the same order.
            replaced = copy.deepcopy(value)
            position = next(i for i, n in enumerate(ast.walk(value)) if n is made)
            target = list(ast.walk(replaced))[position]
            for parent in ast.walk(replaced):
                for field, child in ast.iter_fields(parent):
                    if child is target:
                        setattr(parent, field, answer)
                    elif isinstance(child, list) and target in child:
                        child[child.index(target)] = answer
        return ast.unparse(Substitute(self, bindings).visit(replaced))

    @classmethod
    def _flag(cls, call: ast.Call, name: str, default: bool) -> bool:
        node = cls._keyword(call, name)
        return node.value if isinstance(node, ast.Constant) else default

    @staticmethod
    def _keyword(call: ast.Call, name: str) -> ast.expr | None:
        return next((k.value for k in call.keywords if k.arg == name), None)

    def _ask(
        self,
        key: str,
        query: ast.Call,
        made: ast.Call,
        store: str,
        stmt: ast.stmt,
        conds: list[ast.expr],
        bindings: dict[str, ast.Dict],
    ) -> None:
        scan = self.scan_
        kind = _call_name(query)
        default_node = self._keyword(query, "default")
        record: dict[str, Any] = {
            "file": scan.path,
            "line": query.lineno,
            "function": self.fn.name,
            "stage": self.stage,
            "query": kind,
            "name": self.string(self._keyword(query, NAME_KWARG.get(kind or "", "name")), bindings),
            "prompt": self.string(
                self._keyword(query, NOTE_KWARG.get(kind or "", "note")), bindings
            ),
            "hidden": self._flag(query, "hidden", False),
            "case_sensitive": self._flag(query, "caseSensitive", True),
            "store": store,
            "conditions": self.outer + [self.condition(c, bindings) for c in conds],
        }
        if self.called_from is not None:
            record["called_from"] = self.called_from
        if kind == "getHostname" and record["prompt"] is not None:
            if self._flag(query, "supply_default", True) is False:
                record["prompt"] += ": "
            else:
                record["prompt"] += " [@DEFAULT@]: "
                record["default_source"] = "socket.getfqdn()"
        if made is not query:
            record["via"] = f"self.{made.func.attr}() at line {made.lineno}"  # type: ignore[union-attr]
        valid = self._keyword(query, "validValues")
        if kind == "queryBoolean":
            record["valid_values"] = ["Yes", "No"]
            record["case_sensitive"] = False
        elif valid is not None:
            try:
                record["valid_values"] = self.value(valid, bindings)
            except Unresolved:
                record["valid_values_source"] = ast.unparse(valid)
        if default_node is not None:
            try:
                default = self.value(default_node, bindings)
                if kind == "queryBoolean":
                    default = "Yes" if default else "No"
                record["default"] = None if default is None else str(default)
            except Unresolved:
                record["default_source"] = self.condition(default_node, bindings)
        confirm = self._confirmation(query)
        if confirm is not None:
            record["confirm_prompt"] = self.string(self._keyword(confirm, "note"), bindings)
        if not any(a["file"] == scan.path and a["key"] == key for a in scan.asks):
            scan.asks.append({"key": key, **record})

    def _confirmation(self, query: ast.Call) -> ast.Call | None:
        """A second query whose answer the first's is compared with (a password typed twice)."""
        first = next((n for n, q in self.query_vars.items() if q is query), None)
        if first is None:
            return None
        for node in ast.walk(self.fn):
            if isinstance(node, ast.Compare) and len(node.ops) == 1:
                names = {n.id for n in (node.left, *node.comparators) if isinstance(n, ast.Name)}
                if first in names and len(names) == 2:
                    other = (names - {first}).pop()
                    if other in self.query_vars:
                        return self.query_vars[other]
        return None

    def _aborts(self, stmt: ast.stmt, bindings: dict[str, ast.Dict]) -> None:
        if not isinstance(stmt, ast.If):
            return
        raises = [
            s
            for s in stmt.body
            if isinstance(s, ast.Raise)
            and isinstance(s.exc, ast.Call)
            and isinstance(s.exc.func, ast.Attribute)
            and s.exc.func.attr == "Abort"
        ]
        if not raises:
            return
        test = self.condition(stmt.test, bindings)
        for key in sorted(self.scan_.keys):
            if f"env[{key!r}]" in test:
                self.scan_.aborts.append((key, test, stmt.lineno))


class Substitute(ast.NodeTransformer):
    """Rewrite a condition: `self.environment[K]` and its locals as env['KEY'], constants and
    `_('x')` as their values, single-assigned locals inlined (a few levels deep)."""

    def __init__(self, fn: Function, bindings: dict[str, ast.Dict], depth: int = 0) -> None:
        self.fn, self.bindings, self.depth = fn, bindings, depth

    def _env(self, key: str) -> ast.expr:
        return ast.Subscript(
            value=ast.Name(id="env", ctx=ast.Load()), slice=ast.Constant(key), ctx=ast.Load()
        )

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        key = self.fn.env_key(node, self.bindings)
        if key is not None:
            return self._env(key)
        looked = self.fn.lookup(node, self.bindings, 0)
        if looked is not None:
            return self.visit(copy.deepcopy(looked))
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if (
            isinstance(node.func, ast.Attribute)
            and is_env(node.func.value)
            and node.func.attr == "get"
            and node.args
        ):
            key = self.fn.key(node.args[0], self.bindings)
            if key is not None:
                call = ast.Call(
                    func=ast.Attribute(
                        value=ast.Name(id="env", ctx=ast.Load()), attr="get", ctx=ast.Load()
                    ),
                    args=[ast.Constant(key), *node.args[1:]],
                    keywords=[],
                )
                return self.generic_visit(call)
        try:
            value = self.fn.value(node, self.bindings)
            if isinstance(value, (str, int, bool)) or value is None:
                return ast.Constant(value)
        except Unresolved:
            pass
        return self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        try:
            return ast.Constant(self.fn.scan_.constant(node))
        except Unresolved:
            return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == "answer":
            return node
        key = self.fn.alias.get(node.id)
        if key is not None:
            return self._env(key)
        if node.id in self.fn.query_vars:  # what the query returned: the typed answer
            return ast.Name(id="answer", ctx=ast.Load())
        values = self.fn.assigns.get(node.id, [])
        if len(values) == 1 and self.depth < 3:
            return Substitute(self.fn, self.bindings, self.depth + 1).visit(
                copy.deepcopy(values[0])
            )
        return node


# -- the table ------------------------------------------------------------------------------


def _type(key: str, asks: list[dict[str, Any]], setdefaults: dict[str, Any]) -> str | None:
    for ask in asks:
        store = ask["store"]
        if store == "answer" and ask["query"] in ("queryString", "queryEnvKey", "queryPassword"):
            return "str"
        if re.fullmatch(r"answer (==|!=) '\w+'", store):
            return "bool"
        if store == "int(answer)":
            return "int"
    default = setdefaults.get(key, {}).get("value")
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, str):
        return "str"
    return None


def extract(git_dir: str, tag: str) -> dict[str, Any]:
    commit = git(git_dir, "rev-parse", f"{tag}^{{commit}}").strip()
    files = git(git_dir, "ls-tree", "-r", "--name-only", commit, "--", "src").split()
    constants, constant_lines = parse_constants(git(git_dir, "show", f"{commit}:{CONSTANTS}"))
    defined = {
        value: constant_lines[name]
        for name, value in constants.items()
        if isinstance(value, str) and KEY_RE.match(value)
    }
    sources = [
        f
        for f in files
        if f.endswith(".py")
        and (
            f.startswith("src/plugins/")
            or (f.startswith("src/ovirt_hosted_engine_setup/") and f.count("/") == 2)
        )
        and f != CONSTANTS
    ]
    reads: dict[str, list[tuple[str, int, str]]] = {}
    asks: dict[str, list[dict[str, Any]]] = {}
    aborts: dict[str, list[str]] = {}
    setdefaults: dict[str, Any] = {}
    overwrites: dict[str, list[dict[str, Any]]] = {}
    for path in sources:
        scan = FileScan(path, git(git_dir, "show", f"{commit}:{path}"), constants)
        for key, line, how in scan.reads:
            reads.setdefault(key, []).append((path, line, how))
        for ask in scan.asks:
            asks.setdefault(ask.pop("key"), []).append(ask)
        for key, test, line in scan.aborts:
            aborts.setdefault(key, []).append(f"{test}  # {path}:{line}")
        for key, store in scan.overwrites:
            overwrites.setdefault(key, []).append(store)
        for key, value in scan.setdefaults.items():
            setdefaults.setdefault(key, value)
    records = {}
    for key in sorted(defined):
        loads = [r for r in reads.get(key, []) if r[2] not in ("store", "setdefault")]
        if not loads:
            continue
        record: dict[str, Any] = {
            "constant": next(n for n, v in constants.items() if v == key),
            "reads": [f"{p}:{line} {how}" for p, line, how in sorted(set(loads))],
            "type": _type(key, asks.get(key, []), setdefaults),
            "asked": bool(asks.get(key)),
        }
        if "value" in setdefaults.get(key, {}):
            record["setdefault"] = setdefaults[key]["value"]
        elif key in setdefaults:
            record["setdefault_source"] = setdefaults[key]["source"]
        if asks.get(key):
            record["ask"] = asks[key][0]
            if len(asks[key]) > 1:
                record["also_asked_at"] = [f"{a['file']}:{a['line']}" for a in asks[key][1:]]
        if aborts.get(key):
            record["aborts_if"] = aborts[key]
        if overwrites.get(key):
            record["set_by_plugin"] = overwrites[key]
        records[key] = record
    never = {
        key: f"{CONSTANTS}:{line}" for key, line in sorted(defined.items()) if key not in records
    }
    return {
        "provenance": {
            "repository": REPOSITORY,
            "tag": tag,
            "commit": commit,
            "produced_by": "tests/data/hosted-engine-setup/extract.py (do not edit by hand: "
            "run it again)",
        },
        "keys": records,
        "defined_never_read": never,
    }


def dumps(table: dict[str, Any]) -> str:
    """JSON with one record a line, sorted by key."""
    lines = ["{"]
    lines.append(f' "provenance": {json.dumps(table["provenance"], sort_keys=True)},')
    lines.append(' "keys": {')
    keys = list(table["keys"].items())
    for i, (key, record) in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        lines.append(f"  {json.dumps(key)}: {json.dumps(record, sort_keys=True)}{comma}")
    lines.append(" },")
    lines.append(' "defined_never_read": {')
    never = list(table["defined_never_read"].items())
    for i, (key, where) in enumerate(never):
        comma = "," if i < len(never) - 1 else ""
        lines.append(f"  {json.dumps(key)}: {json.dumps(where)}{comma}")
    lines.append(" }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.splitlines()[2].strip(), file=sys.stderr)
        return 2
    sys.stdout.write(dumps(extract(argv[1], argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
