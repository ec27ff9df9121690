"""Render: a plan -> the text and mode of every file of the output tree, in memory.

Rendering is pure: no clock, no host, no file written. The same plan gives the same bytes.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from confgen._resources import compiled_dir, templates_dir
from confgen.context import template_context
from confgen.errors import PlanCheckError
from confgen.models import Cluster
from confgen.paths import STAMP
from confgen.planner import Plan, Source, plan
from confgen.records import record

if TYPE_CHECKING:
    import jinja2


@record
class RenderedFile:
    text: str
    mode: int


@record
class RenderedTree(Mapping[str, RenderedFile]):
    """A rendered output tree in memory, as `render` and `render_plan` return it: a mapping of
    relative path -> text and mode (`files`, sorted by path), and what `write_tree` records in
    the tree's manifest: the `target` and the `source` (the cluster file, when it is named)."""

    files: Mapping[str, RenderedFile]
    target: str
    source: Source | None

    def __getitem__(self, path: str) -> RenderedFile:
        return self.files[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


class RenderStream(Iterable[tuple[str, RenderedFile]]):
    """A plan's files rendered as they are iterated, as `render_files` returns them: (relative
    path, text and mode) pairs, sorted by path, one host's folder in memory at a time; and the
    `target` and `source` that `write_tree` records in the manifest. Each iteration renders
    again."""

    def __init__(self, the_plan: Plan) -> None:
        self.plan = the_plan
        self.target: str = the_plan.cluster.target
        self.source: Source | None = the_plan.source

    def __iter__(self) -> Iterator[tuple[str, RenderedFile]]:
        return _render_files(self.plan)


_ENV: jinja2.Environment | None = None


def _env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        # Imported here, not at the top: `confgen check` and other tooling that only loads and
        # validates never pay for Jinja2.
        from confgen import templating

        _ENV = templating.environment(templating.Loader(templates_dir(), compiled_dir()))
    return _ENV


def _host_folder(path: str, folders: frozenset[str]) -> str | None:
    """The host folder (`hosts/NAME`) a path of the output tree lies in, or None."""
    kind, _, rest = path.partition("/")
    name, _, inner = rest.partition("/")
    folder = f"{kind}/{name}"
    return folder if inner and folder in folders else None


# The first lines of a stamp. sha256sum --check skips a line that starts with '#', with
# --strict too (coreutils, src/md5sum.c:528 at v8.22 (EL7), src/md5sum.c:704 at v8.32 (EL9),
# src/digest.c:1077 at v9.1): the stamp is checked by sha256sum as it is.
_STAMP_HEAD = """\
# {folder} of one render by confgen: the sha256 of every other file of this folder.
# Each script stops before doing anything unless its folder holds exactly these files,
# with this content. `sha256sum --check --strict {stamp}`, run in this folder, checks
# the content too.
# Rendered from {source}, target {target}.
"""
# The digest of the cluster the tree was rendered from, as the tree's manifest records it.
_STAMP_MODEL = "# Cluster model sha256 (as in .confgen-manifest.json): {digest}\n"


def _stamp(folder: str, files: list[tuple[str, RenderedFile]], the_plan: Plan) -> str:
    """The stamp of a host folder: its files' sha256, as `sha256sum` writes them."""
    source = the_plan.source
    name = source.name if source is not None else "a cluster description"
    head = _STAMP_HEAD.format(
        folder=folder, stamp=STAMP, source=name, target=the_plan.cluster.target
    )
    if source is not None:
        head += _STAMP_MODEL.format(digest=source.model_sha256)
    lines = [head]
    start = len(folder) + 1
    for path, file in files:
        relative = path[start:]
        digest = hashlib.sha256(file.text.encode()).hexdigest()
        if "\\" in relative:
            # A systemd unit's name escapes '-' as \x2d. sha256sum writes such a name with each
            # backslash doubled, after a backslash that starts the line, and --check reads it
            # back so (coreutils src/md5sum.c at v8.22: needs_escape :837, the line's backslash
            # :855, print_filename :661, split_3 :322 and filename_unescape :230; at v8.32:
            # :1064, :550, :419 and :312).
            relative = relative.replace("\\", "\\\\")
            digest = f"\\{digest}"
        if "\n" in relative or "\r" in relative:
            # Escaped differently by coreutils 8 and 9; never in a validated name or path.
            raise PlanCheckError([f"{path}: a line break in a file's name"], the_plan.cluster)
        lines.append(f"{digest}  {relative}\n")
    return "".join(lines)


def _with_stamp(
    folder: str, files: list[tuple[str, RenderedFile]], the_plan: Plan
) -> list[tuple[str, RenderedFile]]:
    """A host folder's files and its stamp, in order of path."""
    stamp = (f"{folder}/{STAMP}", RenderedFile(text=_stamp(folder, files, the_plan), mode=0o644))
    bisect.insort(files, stamp, key=lambda item: item[0])
    return files


def render_files(the_plan: Plan) -> RenderStream:
    """Render the files of a plan one by one as they are iterated, sorted by path: (relative
    path, text and mode) pairs, that `write_tree` writes holding one host's folder in memory
    at a time. The plan is not validated again: `plan` made it of a valid cluster."""
    return RenderStream(the_plan)


def _render_files(the_plan: Plan) -> Iterator[tuple[str, RenderedFile]]:
    """The files of a plan, rendered one by one, sorted by path.

    A template that reads neither `host` nor `step` gives the same text on every host (the
    /etc/hosts block, the iptables rules): it is rendered once and its text shared.

    Each host folder gets its stamp (`paths.STAMP`), computed here from the bytes just
    rendered: a host's files are held until its folder is complete (sorted paths keep each
    folder's files together), then given out with the stamp in its place.
    """
    from confgen.templating import Loader

    env = _env()
    loader = env.loader
    assert isinstance(loader, Loader)
    shared = template_context(the_plan)
    hosts = {h["name"]: h for h in shared["plan"]["hosts"]}
    steps = {s["number"]: s for s in shared["plan"]["steps"]}
    same_everywhere: dict[str, str] = {}
    folders = frozenset(h.dir for h in the_plan.hosts)
    folder: str | None = None  # the host folder whose files are held
    held: list[tuple[str, RenderedFile]] = []
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
        rendered = (file.path, RenderedFile(text=text, mode=file.mode))
        here = _host_folder(file.path, folders)
        if here != folder:
            if folder is not None:
                yield from _with_stamp(folder, held, the_plan)
            folder, held = here, []
        if here is None:
            yield rendered
        else:
            held.append(rendered)
    if folder is not None:
        yield from _with_stamp(folder, held, the_plan)


def render_plan(the_plan: Plan) -> RenderedTree:
    """Render every file of a plan, in memory: relative path -> text and mode, sorted by path,
    with the plan's target and source. The plan is not validated again."""
    return RenderedTree(
        files=dict(_render_files(the_plan)),
        target=the_plan.cluster.target,
        source=the_plan.source,
    )


def render(cluster: Cluster, source: Source | None = None) -> RenderedTree:
    """Validate, plan and render a cluster, in memory: relative path -> text and mode.

    `source` names the cluster file: by its name in every script's header, by its name and the
    digest of its model in each host folder's stamp and in the manifest. Without it, a cluster
    `load` read is named by its file's name, as `confgen render` names it.

    Raises `ValidationError` when `validate` finds errors (`plan` checks); warnings do not
    stop it. To render a plan already made, `render_plan`.
    """
    return render_plan(plan(cluster, source))
