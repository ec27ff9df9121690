"""The Jinja2 environment that renders confgen's templates, and the templates compiled ahead.

Compiling the templates is most of what a small render costs (some 0.2 s for the 28 of them,
more than loading, validating and writing together). So the package build compiles them once
into Python modules (`compile_templates`, called by `hatch_build.py`), and the loader uses a
compiled module only while it is current: same template source, same Jinja2 version, same
version of this file (which sets every option that shapes the compiled code). Otherwise, as
after editing a template in a checkout, it compiles from the source as usual.

This module needs only Jinja2 and the standard library: the build hook loads it by its path,
before confgen's dependencies are installed.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta, nodes

INDEX = "index.json"

# What a template may read that differs from file to file: one that reads neither renders the
# same text for every host.
PER_FILE = frozenset({"host", "step"})


def _finalize(value: object) -> object:
    # A None reaching a template is a bug in the plan, never something to print as "None".
    if value is None:
        raise ValueError("a template tried to print None")
    return value


def shell_quote(value: object) -> str:
    """Quote a value as one shell word; plain words stay readable (eth0, /mnt/lock)."""
    return shlex.quote(str(value))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _generator() -> dict[str, str]:
    """What the compiled code depends on besides the template sources."""
    return {"jinja2": jinja2.__version__, "templating": _sha256(Path(__file__).read_text("utf-8"))}


def reads(env: jinja2.Environment, name: str) -> list[str]:
    """The per-file names a template reads; both for one that extends or includes another."""
    assert env.loader is not None
    ast = env.parse(env.loader.get_source(env, name)[0])
    if next(ast.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)), None):
        return sorted(PER_FILE)
    return sorted(PER_FILE & meta.find_undeclared_variables(ast))


class Loader(jinja2.FileSystemLoader):
    """confgen's templates: from the compiled modules where they are current, else the source."""

    def __init__(self, templates: Path, compiled: Path) -> None:
        super().__init__(str(templates))
        index = _read_index(compiled)
        self._compiled = jinja2.ModuleLoader(str(compiled)) if index else None
        self._entries: dict[str, Any] = index["templates"] if index else {}
        self._reads: dict[str, frozenset[str]] = {}

    def _current(self, env: jinja2.Environment, name: str) -> dict[str, Any] | None:
        entry: dict[str, Any] | None = self._entries.get(name)
        if entry is None or entry["sha256"] != _sha256(self.get_source(env, name)[0]):
            return None
        return entry

    def load(
        self,
        environment: jinja2.Environment,
        name: str,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        if self._compiled is not None and self._current(environment, name) is not None:
            return self._compiled.load(environment, name, globals)
        return super().load(environment, name, globals)

    def reads(self, env: jinja2.Environment, name: str) -> frozenset[str]:
        """The per-file names a template reads (`reads`), from the index where it is current."""
        if name not in self._reads:
            entry = self._current(env, name)
            self._reads[name] = frozenset(entry["reads"] if entry else reads(env, name))
        return self._reads[name]


def _read_index(compiled: Path) -> dict[str, Any] | None:
    try:
        index: object = json.loads((compiled / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(index, dict) or index.get("generator") != _generator():
        return None
    return index


def environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # These are configuration files and shell scripts, not HTML: escaping is the shell
        # filter's job, applied where a value lands in a script.
        autoescape=False,
        finalize=_finalize,
        # Templates are part of the installed package: no need to stat them before each use.
        auto_reload=False,
    )
    filters: dict[str, Callable[..., Any]] = {"sh": shell_quote}
    env.filters.update(filters)
    return env


def compile_templates(templates: Path, target: Path) -> None:
    """Compile every template into a module under `target`, with the index the loader checks."""
    loader = jinja2.FileSystemLoader(str(templates))
    env = environment(loader)
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("tmpl_*.py"):
        old.unlink()
    env.compile_templates(str(target), zip=None, ignore_errors=False)
    entries = {
        name: {"sha256": _sha256(loader.get_source(env, name)[0]), "reads": reads(env, name)}
        for name in env.list_templates()
    }
    index = {"generator": _generator(), "templates": entries}
    (target / INDEX).write_text(json.dumps(index, indent=1, sort_keys=True) + "\n", "utf-8")
