"""Find the line of a key path (`hosts[1].fqdn`) in cluster TOML text, for error messages.

tomllib keeps no positions, so this reads the text the way a person does: table headers,
`[[array]]` headers and `key =` lines, with dotted keys. A path whose own key is not in the
file (a missing key, a default) gets the line of its nearest ancestor that is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from confgen.records import replace

if TYPE_CHECKING:
    from confgen.errors import Problem

# A part of a dotted key: bare, "basic" (with escapes, such as \u0000) or 'literal'.
_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_PART}(?:\s*\.\s*{_PART})*)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")


def _key_parts(key: str) -> list[str]:
    """The parts of a dotted key as TOML reads them: quotes gone, escapes read."""
    return [_unquoted(part) for part in re.findall(_PART, key)]


def _unquoted(part: str) -> str:
    if part.startswith("'"):
        return part[1:-1]
    if part.startswith('"'):
        if "\\" not in part:
            return part[1:-1]
        import tomllib

        try:
            value: str = tomllib.loads(f"k = {part}")["k"]
        except tomllib.TOMLDecodeError:
            return part[1:-1]
        return value
    return part


def index_lines(text: str) -> dict[str, int]:
    """Map each key path defined in the text to its 1-based line number."""
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    depth = 0  # open brackets of a multi-line array or inline table
    # TOML ends a line at LF (or CRLF) only; str.splitlines would also split at U+2028, U+0085
    # and others that a comment may hold, and every later line number would be off.
    for number, line in enumerate((raw.removesuffix("\r") for raw in text.split("\n")), start=1):
        if depth == 0:
            header = _HEADER.match(line)
            if header:
                name = ".".join(_key_parts(header.group(2)))
                if header.group(1) == "[[":
                    lines.setdefault(name, number)
                    counts[name] = counts.get(name, -1) + 1
                    table = f"{name}[{counts[name]}]"
                else:
                    table = name
                lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                path = ".".join(
                    [table, *_key_parts(key.group(1))] if table else _key_parts(key.group(1))
                )
                lines.setdefault(path, number)
        depth = max(0, depth + _bracket_balance(line if depth else line.partition("=")[2]))
    return lines


def _bracket_balance(value: str) -> int:
    """Open minus closed brackets outside strings and comments."""
    balance, quote = 0, ""
    for char in value:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            balance += 1
        elif char in "]}":
            balance -= 1
    return balance


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of `path`, or of its nearest ancestor that the file defines."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


def with_lines(problems: list[Problem], text: str) -> list[Problem]:
    """Give each problem the line of its key (or nearest ancestor) in the cluster file."""
    if all(p.line is not None for p in problems):
        return problems  # a valid file (no problems) is not read a second time
    lines = index_lines(text)
    return [p if p.line is not None else replace(p, line=line_of(lines, p.path)) for p in problems]
