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
import os
import re
import shlex
import tempfile
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


# Which shell functions a script calls. The frame (templates/common/script.sh.j2) holds every
# helper; a script keeps those it calls (`called_by`). It is decided on the rendered text, so
# that a call only a value brings (a command the plan gives) is found as surely as one written
# in a template, and a branch a render leaves out calls nothing. A script's text is read as
# bash reads its quotes (bash(1), QUOTING, Command Substitution, Here Documents and COMMENTS):
# a helper is called where its name is a word of code, outside quotes and comments or inside a
# $( ) or `` in double quotes or an unquoted here-document. A word is counted wherever it
# stands in the code (`[ "$x" = run ]` counts `run`), so a helper is kept rather than missed;
# tests/test_frame.py reads every golden script with bash and with shfmt's parser.

# What ends a word of code: blanks and the metacharacters, as bash(1), DEFINITIONS, lists them.
_EDGE = r"\s;&|()<>`"
# Inside double quotes, a here-document that expands, and a line of one.
_DOUBLE = re.compile(r"(?P<double>\")|(?P<escape>\\.)|(?P<open>\$\()|(?P<tick>`)")
_EXPANDING = re.compile(r"(?P<escape>\\.)|(?P<open>\$\()|(?P<tick>`)")
_ANSI_END = re.compile(r"(?:[^'\\]|\\.)*'")
_DEFINES = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\(\) \{$", re.MULTILINE)
# The state at the start of a line: a stack of the quotes, substitutions and here-documents
# open there, innermost last. Code at the top is ("code",).
_State = tuple[Any, ...]
_TOP: _State = ("code",)
# Scanned paragraphs and lines, per state: the scripts of a tree repeat most of theirs (the
# frame's; the lists of every host each host's step holds). Bounded, so that a process
# rendering many trees does not grow with them.
_PARAGRAPHS_LIMIT = 1 << 12
_MEMO_LIMIT = 1 << 16


class _Scanner:
    """Finds which of some names are words of code in a script."""

    def __init__(self, names: frozenset[str]) -> None:
        words = "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))
        self._code = re.compile(
            r"(?P<single>\$?')|(?P<double>\")|(?P<escape>\\.)"
            r"|(?P<comment>(?:^|(?<=[\s;&|()<>]))\#)"
            r"|(?P<doc>(?<!<)<<(?!<)(?P<strip>-?)[ \t]*"
            r"(?:'(?P<quoted>[^']*)'|\"(?P<dquoted>[^\"]*)\"|\\?(?P<bare>[^\s;&|()<>'\"]+)))"
            # Arithmetic, whole where it holds no substitution: its << is a shift.
            r"|(?P<arithmetic>\$?\(\((?:[^()$]|\$(?!\()|\([^()]*\))*\)\))"
            r"|(?P<open>\$?\()|(?P<close>\))|(?P<tick>`)"
            rf"|(?P<word>(?<![^{_EDGE}])(?:{words})(?![^{_EDGE}]))"
        )
        self._lines: dict[tuple[_State, str], tuple[frozenset[str], _State]] = {}
        self._paragraphs: dict[tuple[_State, str], tuple[frozenset[str], _State]] = {}

    def calls(self, text: str) -> set[str]:
        """The names `text` holds as words of code."""
        found: set[str] = set()
        state = _TOP
        memo = self._paragraphs
        if len(memo) > _PARAGRAPHS_LIMIT:
            memo.clear()
        # Paragraph by paragraph, each followed by the blank line between two.
        for paragraph in text.split("\n\n"):
            seen = memo.get((state, paragraph))
            if seen is None:
                seen = memo[(state, paragraph)] = self._lines_of(paragraph, state)
            if seen[0]:
                found |= seen[0]
            state = self._after_blank(seen[1])
        return found

    def _lines_of(self, paragraph: str, state: _State) -> tuple[frozenset[str], _State]:
        """The names a paragraph holds as words of code, and the state after its last line."""
        found: set[str] = set()
        memo = self._lines
        if len(memo) > _MEMO_LIMIT:
            memo.clear()
        for line in paragraph.split("\n"):
            seen = memo.get((state, line))
            if seen is None:
                seen = memo[(state, line)] = self._line(line, state)
            if seen[0]:
                found |= seen[0]
            state = seen[1]
        return frozenset(found), state

    def _after_blank(self, state: _State) -> _State:
        """The state after the blank line between two paragraphs."""
        return state if state == _TOP else self._line("", state)[1]

    def _line(self, line: str, state: _State) -> tuple[frozenset[str], _State]:
        """The names one line holds as words of code, and the state after its newline."""
        found: set[str] = set()
        stack = list(state)
        docs: list[tuple[str, str, bool, bool]] = []  # here-documents this line starts
        if isinstance(stack[-1], tuple):  # a line of a here-document
            _, delimiter, strip, expands = stack[-1]
            if (line.lstrip("\t") if strip else line) == delimiter:
                stack.pop()
                return frozenset(), tuple(stack)
            if not expands:
                return frozenset(), state
            stack.append("expanding")
        pos = 0
        while True:
            top = stack[-1]
            if top == "single":
                end = line.find("'", pos)
                if end < 0:
                    break
                stack.pop()
                pos = end + 1
                continue
            if top == "ansi":
                ansi = _ANSI_END.match(line, pos)
                if ansi is None:
                    break
                stack.pop()
                pos = ansi.end()
                continue
            if top in ("code", "tick"):
                pattern = self._code
            else:
                pattern = _DOUBLE if top == "double" else _EXPANDING
            event = pattern.search(line, pos)
            if event is None:
                break
            pos = event.end()
            kind = event.lastgroup
            if kind == "word":
                found.add(event.group())
            elif kind == "single":
                stack.append("single" if event.group() == "'" else "ansi")
            elif kind == "double":
                if top == "double":
                    stack.pop()
                else:
                    stack.append("double")
            elif kind == "comment":
                break
            elif kind == "open":
                stack.append("code")
            elif kind == "close":
                if top == "code" and len(stack) > 1:
                    stack.pop()
            elif kind == "tick":
                if top == "tick":
                    stack.pop()
                else:
                    stack.append("tick")
            elif kind in ("doc", "strip", "quoted", "dquoted", "bare"):
                bare = event.group("bare")
                delimiter = bare if bare is not None else event.group("quoted")
                if delimiter is None:
                    delimiter = event.group("dquoted")
                docs.append(("doc", delimiter, event.group("strip") == "-", bare is not None))
        if stack[-1] == "expanding":
            stack.pop()
        # The first here-document's body comes first: it is pushed last.
        stack.extend(reversed(docs))
        return frozenset(found), tuple(stack)


class _Helpers:
    """The helpers of a frame: each definition with its comment, in order, and which of the
    others each one calls."""

    def __init__(self, text: str) -> None:
        self.chunks: list[tuple[str, str]] = []
        for chunk in text.rstrip("\n").split("\n\n"):
            names = _DEFINES.findall(chunk)
            if len(names) != 1:
                raise ValueError(
                    f"a helper of the frame defines {names or 'no function'}:\n{chunk}"
                )
            self.chunks.append((names[0], chunk))
        self.names = frozenset(name for name, _ in self.chunks)
        scanner = _SCANNERS.get(self.names)
        if scanner is None:
            scanner = _SCANNERS[self.names] = _Scanner(self.names)
        self.scanner = scanner
        self.calls = {name: scanner.calls(chunk) & self.names for name, chunk in self.chunks}


_SCANNERS: dict[frozenset[str], _Scanner] = {}
# The frames' helpers, by their text (which names the host: a few per host).
_HELPERS: dict[str, _Helpers] = {}


def called_by(helpers: str, script: str) -> str:
    """The definitions in `helpers` (shell functions, each with its comment, a blank line between
    them) that `script` calls, directly or through another of them, each followed by a blank
    line, in their order."""
    frame = _HELPERS.get(helpers)
    if frame is None:
        if len(_HELPERS) > 256:
            _HELPERS.clear()
        frame = _HELPERS[helpers] = _Helpers(helpers)
    wanted = frame.scanner.calls(script) & frame.names
    todo = list(wanted)
    while todo:
        more = frame.calls[todo.pop()] - wanted
        wanted |= more
        todo.extend(more)
    return "".join(f"{chunk}\n\n" for name, chunk in frame.chunks if name in wanted)


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
    filters: dict[str, Callable[..., Any]] = {"sh": shell_quote, "called_by": called_by}
    env.filters.update(filters)
    return env


def compile_templates(templates: Path, target: Path) -> None:
    """Compile every template into a module under `target`, with the index the loader checks."""
    loader = jinja2.FileSystemLoader(str(templates))
    env = environment(loader)
    target.mkdir(parents=True, exist_ok=True)
    # A build may run while confgen renders from this folder (an editable install, the tests'
    # wheel build): each module is compiled aside and moved into place whole, then the index,
    # then the modules of templates gone are removed. A reader sees an old module with the old
    # index or a new one (the index names each template's source, and a module whose source
    # differs is not used), never a half-written one.
    with tempfile.TemporaryDirectory(prefix=".compile-", dir=target) as scratch:
        env.compile_templates(scratch, zip=None, ignore_errors=False)
        made = sorted(Path(scratch).glob("tmpl_*.py"))
        for module in made:
            os.replace(module, target / module.name)
        entries = {
            name: {"sha256": _sha256(loader.get_source(env, name)[0]), "reads": reads(env, name)}
            for name in env.list_templates()
        }
        index = {"generator": _generator(), "templates": entries}
        written = Path(scratch) / INDEX
        written.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n", "utf-8")
        os.replace(written, target / INDEX)
    kept = {module.name for module in made}
    for stale in target.glob("tmpl_*.py"):
        if stale.name not in kept:
            stale.unlink(missing_ok=True)
