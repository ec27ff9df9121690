"""Render: a plan -> the text and mode of every file of the output tree, in memory.

Rendering is pure: no clock, no host, no file written. The same plan gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from confgen._resources import compiled_dir, templates_dir
from confgen.context import template_context
from confgen.models import Cluster
from confgen.planner import Plan, Source, plan
from confgen.records import record

if TYPE_CHECKING:
    import jinja2


@record
class RenderedFile:
    text: str
    mode: int


class RenderedTree(dict[str, RenderedFile]):
    """What `render` returns: relative path -> text and mode, sorted by path; and the `source`
    it was rendered from, which `write_tree` records in the manifest when given this tree."""

    def __init__(
        self, files: Iterable[tuple[str, RenderedFile]], source: Source | None = None
    ) -> None:
        super().__init__(files)
        self.source = source


_ENV: jinja2.Environment | None = None


def _env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        # Imported here, not at the top: `confgen check` and other tooling that only loads and
        # validates never pay for Jinja2.
        from confgen import templating

        _ENV = templating.environment(templating.Loader(templates_dir(), compiled_dir()))
    return _ENV


def render_files(the_plan: Plan) -> Iterator[tuple[str, RenderedFile]]:
    """Render the files of a plan one by one, sorted by path: (relative path, text and mode).

    A template that reads neither `host` nor `step` gives the same text on every host (the
    /etc/hosts block, the iptables rules): it is rendered once and its text shared.
    """
    from confgen.templating import Loader

    env = _env()
    loader = env.loader
    assert isinstance(loader, Loader)
    shared = template_context(the_plan)
    hosts = {h["name"]: h for h in shared["plan"]["hosts"]}
    steps = {s["number"]: s for s in shared["plan"]["steps"]}
    same_everywhere: dict[str, str] = {}
    for file in the_plan.files:
        text = same_everywhere.get(file.template)
        if text is None:
            text = env.get_template(file.template).render(
                {
                    **shared,
                    "host": hosts[file.host] if file.host else None,
                    "step": steps[file.step] if file.step is not None else None,
                }
            )
            if not loader.reads(env, file.template):
                same_everywhere[file.template] = text
        yield file.path, RenderedFile(text=text, mode=file.mode)


def render_plan(the_plan: Plan) -> dict[str, RenderedFile]:
    """Render every file of a plan: relative path -> text and mode, sorted by path."""
    return dict(render_files(the_plan))


def render(cluster: Cluster, source: Source | None = None) -> RenderedTree:
    """Validate, plan and render a cluster: relative path -> text and mode.

    `source` names the cluster file in every script's header (its name and sha256); without
    it, a cluster `load` read is named by its file's name, as `confgen render` names it.

    Raises `ValidationError` when `validate` finds errors (`plan` checks); warnings do not
    stop it.
    """
    the_plan = plan(cluster, source)
    return RenderedTree(render_files(the_plan), source=the_plan.source)
