"""Render: a plan -> the text and mode of every file of the output tree, in memory.

Rendering is pure: no clock, no host, no file written. The same plan gives the same bytes.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from attrs import frozen

from confgen._resources import templates_dir
from confgen.context import template_context
from confgen.errors import Severity, ValidationError
from confgen.models import Cluster
from confgen.plan import Plan, Source, plan
from confgen.validate import validate

if TYPE_CHECKING:
    import jinja2


@frozen(kw_only=True)
class RenderedFile:
    text: str
    mode: int


def _finalize(value: object) -> object:
    # A None reaching a template is a bug in the plan, never something to print as "None".
    if value is None:
        raise ValueError("a template tried to print None")
    return value


def _shell_quote(value: object) -> str:
    """Quote a value as one shell word; plain words stay readable (eth0, /mnt/lock)."""
    return shlex.quote(str(value))


def _environment() -> jinja2.Environment:
    # Imported here, not at the top: `confgen check` and other tooling that only loads and
    # validates never pay for Jinja2.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
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
    env.filters["sh"] = _shell_quote
    return env


_ENV: jinja2.Environment | None = None


def _env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = _environment()
    return _ENV


# What a template may read that differs from file to file (see `render_files`).
_PER_FILE = frozenset({"host", "step"})

# name -> the compiled template and the per-file names it reads.
_TEMPLATES: dict[str, tuple[jinja2.Template, frozenset[str]]] = {}


def _template(name: str) -> tuple[jinja2.Template, frozenset[str]]:
    """Compile a template, and learn from the same parse which per-file names it reads.

    One that extends or includes another is taken to read both. Parsing once matters: Jinja2
    spends most of a small render compiling templates.
    """
    if name not in _TEMPLATES:
        from jinja2 import meta, nodes

        env = _env()
        assert env.loader is not None
        source, filename, _ = env.loader.get_source(env, name)
        ast = env.parse(source, name, filename)
        if next(ast.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)), None):
            reads = _PER_FILE
        else:
            reads = _PER_FILE & meta.find_undeclared_variables(ast)
        code = env.compile(ast, name, filename)
        template = env.template_class.from_code(env, code, env.make_globals(None))
        _TEMPLATES[name] = (template, reads)
    return _TEMPLATES[name]


def render_files(the_plan: Plan) -> Iterator[tuple[str, RenderedFile]]:
    """Render the files of a plan one by one, sorted by path: (relative path, text and mode).

    A template that reads neither `host` nor `step` gives the same text on every host (the
    /etc/hosts block, the iptables rules): it is rendered once and its text shared.
    """
    shared = template_context(the_plan)
    hosts = {h["name"]: h for h in shared["plan"]["hosts"]}
    steps = shared["plan"]["steps"]
    same_everywhere: dict[str, str] = {}
    for file in the_plan.files:
        text = same_everywhere.get(file.template)
        if text is None:
            template, reads = _template(file.template)
            text = template.render(
                {
                    **shared,
                    "host": hosts[file.host] if file.host else None,
                    "step": steps[file.step - 1] if file.step else None,
                }
            )
            if not reads:
                same_everywhere[file.template] = text
        yield file.path, RenderedFile(text=text, mode=file.mode)


def render_plan(the_plan: Plan) -> dict[str, RenderedFile]:
    """Render every file of a plan: relative path -> text and mode, sorted by path."""
    return dict(render_files(the_plan))


def render(cluster: Cluster, source: Source | None = None) -> Mapping[str, RenderedFile]:
    """Validate, plan and render a cluster: relative path -> text and mode.

    `source` names the cluster file in every script's header (its name and sha256).

    Raises `ValidationError` when `validate` finds errors; warnings do not stop it.
    """
    errors = [p for p in validate(cluster) if p.severity is Severity.ERROR]
    if errors:
        raise ValidationError(errors)
    return render_plan(plan(cluster, source))
