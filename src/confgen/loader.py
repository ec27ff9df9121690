"""Load: TOML text, or the mapping it parses to -> a target's `Cluster`, with every structural
problem reported by its key path (and its line, where there is text).

In two phases, as Butane reads `variant` and `version` first: `target` names the target, and
the rest of the file is read as that target's cluster (`confgen.targets`)."""

from __future__ import annotations

import collections.abc
import datetime
import enum
import functools
import os
import re
import stat
import sys
import tomllib
import types
import typing
import weakref
from collections.abc import Callable, Mapping
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from confgen import targets
from confgen.errors import LoadError, Problem, error, in_line_order, quoted
from confgen.locate import with_lines
from confgen.models import Cluster, PortRange, Protocol, Role
from confgen.records import record, replace

if TYPE_CHECKING:
    import cattrs
    from cattrs.errors import ForbiddenExtraKeysError


def _ip_hook(kind: type[Any], what: str) -> Any:
    def parse(value: object, _type: object) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"{quoted(value)} is not {what}")
        try:
            return kind(value)
        except ValueError:
            raise ValueError(f"{quoted(value)} is not {what}") from None

    return parse


def _str_hook(value: object, _type: object) -> str:
    # cattrs would turn 3 into "3"; a number where text belongs is a mistake worth reporting.
    if not isinstance(value, str):
        # TOML reads 1979-05-27 unquoted as a date, which a user rarely means.
        quote = "; put it in quotes" if isinstance(value, datetime.date | datetime.time) else ""
        raise ValueError(f"{quoted(value)} is not a string{quote}")
    return value


def _int_hook(value: object, _type: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{quoted(value)} is not an integer")
    return value


def _bool_hook(value: object, _type: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{quoted(value)} is not true or false")
    return value


def _enum_hook(kind: type[enum.Enum]) -> Any:
    choices = ", ".join(repr(member.value) for member in kind)

    def parse(value: object, _type: object) -> enum.Enum:
        try:
            return kind(value)
        except ValueError:
            raise ValueError(f"{quoted(value)} is not one of {choices}") from None

    return parse


def _is_list_type(kind: Any) -> bool:
    args = typing.get_args(kind)
    return typing.get_origin(kind) is tuple and len(args) == 2 and args[1] is Ellipsis


def _is_table_type(kind: Any) -> bool:
    return typing.get_origin(kind) is collections.abc.Mapping


@record
class Leaf:
    """A type a value of the file is read into directly (not a list, a table or a record):
    how both readers below read it, and its JSON Schema (`confgen.schema`)."""

    read: Callable[[object, object], Any]
    # None for a role: its schema lists the roles of the target (`confgen.schema`).
    schema: Mapping[str, Any] | None


def _ip(kind: type[Any], what: str, schema: Mapping[str, Any]) -> Leaf:
    return Leaf(read=_ip_hook(kind, what), schema={**schema, "description": what})


_DOTTED_PREFIX = r"^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$"

# Every type a value of the file is read into directly: one table for reading and for the
# schema, so the two cannot drift.
LEAVES: dict[Any, Leaf] = {
    str: Leaf(read=_str_hook, schema={"type": "string"}),
    int: Leaf(read=_int_hook, schema={"type": "integer"}),
    bool: Leaf(read=_bool_hook, schema={"type": "boolean"}),
    IPv4Address: _ip(IPv4Address, "an IPv4 address", {"type": "string", "format": "ipv4"}),
    IPv4Network: _ip(
        IPv4Network,
        "an IPv4 network in CIDR form (10.0.0.0/24)",
        {"type": "string", "pattern": _DOTTED_PREFIX},
    ),
    IPv4Interface: _ip(
        IPv4Interface,
        "an IPv4 address with a prefix (10.0.0.5/24)",
        {"type": "string", "pattern": _DOTTED_PREFIX},
    ),
    Role: Leaf(read=lambda value, _type: Role(_str_hook(value, _type)), schema=None),
    Protocol: Leaf(
        read=_enum_hook(Protocol), schema={"enum": [member.value for member in Protocol]}
    ),
    PortRange: Leaf(
        read=lambda value, _type: PortRange.parse(value),
        schema={
            "description": 'a port (22) or a range ("5900:6923")',
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": 65535},
                {"type": "string", "pattern": r"^[0-9]{1,5}(:[0-9]{1,5})?$"},
            ],
        },
    ),
}


# Two readers of the same types with the same leaves. The plain one below reads a valid file
# in one pass and imports nothing; a file it refuses is read again by cattrs' detailed
# converter, which finds every problem and its key path. Valid files are the common case, and
# importing cattrs and building its structuring code for each class costs more than all the
# rest of loading a small cluster. The plain reader accepts no more than cattrs does, and reads
# what it accepts to the same cluster (tests/test_input_safety.py holds it to that).


def _is_a(value: object, kind: type) -> None:
    if not isinstance(value, kind):
        raise ValueError(f"{quoted(value)} is not a {kind.__name__}")


@functools.cache
def _reader(kind: Any) -> Callable[[Any], Any]:
    """A function reading a value of `kind`; it raises at the first thing cattrs refuses."""
    leaf = LEAVES.get(kind)
    args = typing.get_args(kind)
    if leaf is not None:
        read = leaf.read
        return lambda value: read(value, kind)
    if _is_list_type(kind):
        item = _reader(args[0])

        def read_list(value: Any) -> tuple[Any, ...]:
            _is_a(value, list)
            return tuple(item(v) for v in value)

        return read_list
    if _is_table_type(kind):
        key, item = _reader(args[0]), _reader(args[1])

        def read_table(value: Any) -> dict[Any, Any]:
            _is_a(value, dict)
            return {key(k): item(v) for k, v in value.items()}

        return read_table
    if typing.get_origin(kind) in (types.UnionType, typing.Union) and type(None) in args:
        (other,) = (arg for arg in args if arg is not type(None))
        read_other = _reader(other)
        return lambda value: None if value is None else read_other(value)
    if typing.get_origin(kind) is typing.Literal:

        def read_literal(value: Any) -> Any:
            if value not in args:
                raise ValueError(f"{quoted(value)} is not one of {args}")
            return value

        return read_literal
    if isinstance(kind, type) and attrs.has(kind):
        hints = typing.get_type_hints(kind)
        fields = [(f.name, f.alias, _reader(hints[f.name])) for f in attrs.fields(kind) if f.init]
        known = {name for name, _, _ in fields}

        def read_record(value: Any) -> Any:
            _is_a(value, dict)
            if value.keys() - known:
                raise ValueError("unknown keys")
            return kind(
                **{alias: read(value[name]) for name, alias, read in fields if name in value}
            )

        return read_record
    raise TypeError(f"confgen has no plain reader for {kind!r}")


class _TableForList(ValueError):
    """A table where a list belongs: `[hosts]` written for `[[hosts]]`; said with its key."""


def _shape_checked(factory: Any, expected: type, what: str) -> Any:
    """Wrap cattrs' own hook: it would read a string as a list of its characters."""

    def make(kind: Any, converter: cattrs.Converter) -> Any:
        inner = factory(kind, converter)

        def structure(value: object, _type: object) -> Any:
            if expected is list and isinstance(value, dict):
                raise _TableForList()
            if not isinstance(value, expected):
                raise ValueError(f"{quoted(value)} is not {what}")
            return inner(value, _type)

        return structure

    return make


@functools.cache
def _detailed() -> cattrs.Converter:
    """cattrs' converter that reports every problem of a file, each with its key path."""
    import cattrs
    from cattrs.cols import homogenous_tuple_structure_factory, mapping_structure_factory
    from cattrs.gen import make_dict_structure_fn

    def table_of_fields(kind: Any, converter: cattrs.Converter) -> Any:
        return make_dict_structure_fn(kind, converter, _cattrs_forbid_extra_keys=True)

    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    for kind, leaf in LEAVES.items():
        converter.register_structure_hook(kind, leaf.read)
    converter.register_structure_hook_factory(
        _is_list_type, _shape_checked(homogenous_tuple_structure_factory, list, "a list [...]")
    )
    converter.register_structure_hook_factory(
        _is_table_type, _shape_checked(mapping_structure_factory, dict, "a table {...}")
    )
    converter.register_structure_hook_factory(
        attrs.has, _shape_checked(table_of_fields, dict, "a table {...}")
    )
    return converter


def _read(data: dict[str, Any], kind: Any) -> Cluster:
    """The cluster of class `kind` in `data`; a `LoadError` with every problem (no lines yet)
    if it has any."""
    try:
        cluster: Cluster = _reader(kind)(data)
        return cluster
    except Exception:  # whatever it was, cattrs finds it again, and says where
        pass
    import cattrs
    from cattrs.errors import ForbiddenExtraKeysError

    try:
        cluster = _detailed().structure(data, kind)
    except (cattrs.BaseValidationError, ForbiddenExtraKeysError) as exc:
        # cattrs wraps every structuring failure; report them all. Anything else is a bug in
        # confgen, not a problem in the file: it goes up as it is.
        raise LoadError(_collect(exc)) from None
    return cluster


def _format_path(path: str) -> str:
    """`$.hosts[0].fqdn` -> `hosts[0].fqdn`; cattrs also writes mapping keys as `['key']`."""
    path = path.removeprefix("$").removeprefix(".")
    return path.replace("['", ".").replace("']", "")


def _describe(exc: BaseException, path: str) -> str:
    if isinstance(exc, _TableForList):
        return (
            f"is one table, where a list belongs: write [[{path}]] (two brackets) above each "
            f"entry, or {path} = [...]"
        )
    if isinstance(exc, KeyError):
        return "required key is missing"
    if isinstance(exc, ValueError) and str(exc):
        return str(exc)
    if isinstance(exc, TypeError | AttributeError):
        # cattrs raises these when a table is found where a list or value belongs, or the reverse.
        return "has the wrong type: a table, list or value is not where one belongs"
    return str(exc) or type(exc).__name__


def _unknown_keys(exc: ForbiddenExtraKeysError, path: str) -> list[Problem]:
    """One problem per unknown key, with the closest known key as a hint."""
    import difflib  # here, not at the top: only a file with an unknown key needs it

    known = [a.name for a in attrs.fields(exc.cl)]
    problems = []
    for key in sorted(exc.extra_fields):
        hint = difflib.get_close_matches(key, known, n=1)
        suggestion = f"did you mean '{hint[0]}'?" if hint else f"known keys: {', '.join(known)}"
        problems.append(error(_format_path(f"{path}.{key}"), f"unknown key; {suggestion}"))
    return problems


def _collect(exc: BaseException, path: str = "$") -> list[Problem]:
    """Flatten cattrs' tree of exceptions into problems, each tagged with its key path."""
    import cattrs
    from cattrs.errors import ForbiddenExtraKeysError

    if isinstance(exc, ForbiddenExtraKeysError):
        return _unknown_keys(exc, path)
    if isinstance(exc, cattrs.ClassValidationError | cattrs.IterableValidationError):
        with_notes, others = exc.group_exceptions()
        problems: list[Problem] = []
        for inner, note in with_notes:
            if isinstance(note, cattrs.errors.AttributeValidationNote):
                sub = f"{path}.{note.name}"
            elif isinstance(note.index, int):
                sub = f"{path}[{note.index}]"
            else:
                sub = f"{path}.{note.index}"
            problems.extend(_collect(inner, sub))
        for inner in others:
            problems.extend(_collect(inner, path))
        return problems
    if not isinstance(exc, ValueError | KeyError | TypeError | AttributeError):
        raise exc  # not bad data: a bug in confgen's hooks
    return [error(_format_path(path), _describe(exc, _format_path(path)))]


@record
class Origin:
    """Where a loaded cluster came from: its file's name (None for text given to `loads`, or a
    mapping given to `load_data` without a `source`) and its text (None for a mapping), so that
    `validate` finds lines and `render` names the file as the command does."""

    name: str | None
    text: str | None


# Each cluster the loader returned, by its id, while it lives: its Origin. Not a field of the
# cluster: equal clusters from two files are equal, and the digest is of the model alone.
_ORIGINS: dict[int, Origin] = {}


def origin(cluster: object) -> Origin | None:
    """The Origin of a cluster `load`, `loads` or `load_data` returned; None for one made
    otherwise."""
    return _ORIGINS.get(id(cluster))


def _remember(cluster: Cluster, name: str | None, text: str | None) -> None:
    _ORIGINS[id(cluster)] = Origin(name=name, text=text)
    weakref.finalize(cluster, _ORIGINS.pop, id(cluster), None)


# Bounds on the work of parsing, checked before tomllib reads a byte: its time grows with the
# square of a dotted key's length (a header of 100,000 parts takes seconds), and with the number
# of keys and values. confgen's own keys have at most 4 parts, and a 3,000-host cluster counts
# about 95,000 lines, keys and values.
MAX_KEY_PARTS = 32
MAX_ITEMS = 250_000
_KEY_PART = r"""(?:[A-Za-z0-9_-]++|"(?:[^"\\\n]|\\.)*+"|'[^'\n]*+')"""
_DEEP_KEY = re.compile(
    rf"(?:^[ \t]*\[{{0,2}}|[{{,])[ \t]*{_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART}){{{MAX_KEY_PARTS}}}",
    re.MULTILINE,
)


def _bounded(text: str) -> None:
    """Refuse a text whose parsing would take long, saying which limit it passes."""
    items = sum(map(text.count, "\n,=[{"))
    if items > MAX_ITEMS:
        raise LoadError(
            [
                error(
                    "",
                    f"too large to read: {items:,} lines, keys and values, more than the "
                    f"{MAX_ITEMS:,} confgen reads (a cluster of 3,000 hosts has about 95,000)",
                )
            ]
        )
    deep = _DEEP_KEY.search(text)
    if deep is not None:
        line = text.count("\n", 0, deep.start()) + 1
        raise LoadError(
            [
                error(
                    "",
                    f"a key of more than {MAX_KEY_PARTS} dotted parts: confgen reads keys of at "
                    f"most {MAX_KEY_PARTS} parts (its own have at most 4)",
                    line=line,
                )
            ]
        )


def loads(text: str | bytes) -> Cluster:
    """Parse cluster TOML text (a str, or bytes in UTF-8) into a `Cluster`; raise `LoadError`
    listing every problem, in the order of the file."""
    if isinstance(text, bytes | bytearray):
        text = _decode(bytes(text))
    elif not isinstance(text, str):
        raise TypeError(
            "loads() takes the text of a cluster file, as str or as UTF-8 bytes, not "
            f"{type(text).__name__}"
        )
    cluster = _loads(text)
    _remember(cluster, None, text)
    return cluster


def load_data(data: Mapping[str, Any], source: str | None = None) -> Cluster:
    """Read a cluster from the mapping its TOML text parses to (`tomllib.loads`; JSON's
    objects, arrays, strings, integers and booleans are the same); raise `LoadError` listing
    every problem, each by its key path, without lines (there is no text to count them in).

    The cluster is the one `loads` reads from the TOML text of that mapping. `source` names
    where the mapping came from: in a `LoadError` (`.source`), and as a loaded file's name is,
    in the scripts' headers and the manifest of its render."""
    if not isinstance(data, Mapping):
        raise TypeError(
            f"load_data() takes a mapping of a cluster file's keys, not {type(data).__name__}; "
            "loads() takes its text, load() its path"
        )
    try:
        problems = _key_problems(data)
        if problems:
            raise LoadError(problems)
        cluster = _from_data(dict(data), None)
    except LoadError as exc:
        raise LoadError(exc.problems, source=source) from None
    _remember(cluster, source, None)
    return cluster


def _key_problems(data: Mapping[str, Any]) -> list[Problem]:
    """A problem for each key in `data`, at any depth, that is not a string, as every key in
    TOML is; by the path of the table that holds it."""
    problems = []
    seen: set[int] = set()
    pending: list[tuple[str, Any]] = [("", data)]
    while pending:
        path, value = pending.pop()
        if id(value) in seen:  # walked already: a table listed twice, or within itself
            continue
        if isinstance(value, Mapping):
            seen.add(id(value))
            for key, item in value.items():
                if not isinstance(key, str):
                    problems.append(error(path, f"{quoted(key)} is a key that is not a string"))
                else:
                    pending.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            seen.add(id(value))
            pending.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    return problems


def _loads(text: str) -> Cluster:
    _bounded(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LoadError([_toml_problem(str(exc), text)]) from None
    except RecursionError:  # tomllib parses nested arrays and tables by recursion
        raise LoadError(
            [error("", "not valid TOML here: arrays or tables nested too deep")]
        ) from None
    except ValueError as exc:  # an integer of over 4,300 digits (Python's int limit)
        raise LoadError([error("", f"not valid TOML here: {exc}")]) from None
    return _from_data(data, text)


def _from_data(data: dict[str, Any], text: str | None) -> Cluster:
    """The cluster of parsed TOML (or a mapping of the same shape); its problems with lines
    when `text`, the TOML it was parsed from, is given."""

    def located(problems: list[Problem]) -> list[Problem]:
        if text is None:  # no line to point at, not even line 1 for a line to add
            return [replace(p, line=None) for p in problems]
        return in_line_order(with_lines(problems, text))

    target = _target(data, text)
    if not data.keys() - {"target"}:
        option = "" if target.name == targets.DEFAULT else f" --target {target.name}"
        empty = "is empty" if not data else "describes no cluster: it sets only its target"
        raise LoadError(
            [
                error(
                    "",
                    f"the {'file' if text is not None else 'mapping'} {empty}; "
                    f"`confgen init{option} cluster.toml` writes an example to start from",
                    line=None if text is None else 1,
                )
            ]
        )
    # Keys of another target are reported with why, together with the rest of the file's
    # problems, which are looked for without them.
    refused = []
    rest = data
    for key, why in target.refused.items():
        rest, found = _without(rest, key.split("."))
        if found:
            refused.append(error(key, why))
    try:
        cluster = _read(rest, target.cluster)
    except RecursionError:
        raise LoadError([error("", "values nested too deep to read")]) from None
    except LoadError as exc:
        raise LoadError(located(refused + exc.problems + _target_hint(data, target))) from None
    if refused:
        raise LoadError(located(refused + _target_hint(data, target)))
    return cluster


def _keys(data: dict[str, Any], kind: Any) -> dict[str, tuple[str, bool]]:
    """Every key of `data`, by its path with list indexes taken out (`gluster.volumes.size`):
    the first path with them (`gluster.volumes[0].size`), and whether the record class `kind`
    reads that key. Only the shape is read, no value; nothing below a key it does not read."""
    found: dict[str, tuple[str, bool]] = {}

    def walk(value: Any, kind: Any, path: str, bare: str) -> None:
        if typing.get_origin(kind) in (types.UnionType, typing.Union):
            kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
        args = typing.get_args(kind)
        if _is_list_type(kind) and isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, args[0], f"{path}[{i}]", bare)
        elif _is_table_type(kind) and isinstance(value, dict):
            for key, item in value.items():  # any key names an entry: interfaces.<network>
                walk(item, args[1], f"{path}.{key}", f"{bare}.{key}")
        elif isinstance(kind, type) and attrs.has(kind) and isinstance(value, dict):
            fields = {f.name for f in attrs.fields(kind) if f.init}
            hints = typing.get_type_hints(kind)
            for key, item in value.items():
                sub = f"{path}.{key}" if path else key
                sub_bare = f"{bare}.{key}" if bare else key
                found.setdefault(sub_bare, (sub, key in fields))
                if key in fields:
                    walk(item, hints[key], sub, sub_bare)

    walk(data, kind, "", "")
    return found


def _unknown(data: dict[str, Any], target: targets.Target) -> dict[str, str]:
    """The keys of `data` a file of `target` may not have, as `_keys` names them: those its
    model does not read, and those it refuses (another target's, or removed)."""
    return {
        bare: path
        for bare, (path, known) in _keys(data, target.cluster).items()
        if not known or any(bare == key or bare.startswith(f"{key}.") for key in target.refused)
    }


def _target_hint(data: dict[str, Any], target: targets.Target) -> list[Problem]:
    """For a file that does not load as its target: when its keys fit another target better
    (some of its unknown keys are that target's, and that target finds no key unknown that
    this one knows), one problem that says so and which `target` line to write."""
    mine = _unknown(data, target)
    if not mine:
        return []
    best: tuple[int, targets.Target, dict[str, str]] | None = None
    for name in targets.NAMES:
        if name == target.name:
            continue
        other = targets.get(name)
        theirs = _unknown(data, other)
        if theirs.keys() < mine.keys() and (best is None or len(theirs) < best[0]):
            best = (len(theirs), other, theirs)
    if best is None:
        return []
    _, other, theirs = best
    keys = [mine[bare] for bare in mine if bare not in theirs]
    shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
    are = "is a key" if len(keys) == 1 else "are keys"
    line = f'target = "{other.name}"'
    if "target" in data:
        said = f"this file's target is {target.name}"
        fix = f"change its target line to {line}"
    else:
        said = f"this file has no target line, so it is read as {target.name}, the default"
        fix = f"add the line {line} at the top"
    return [
        error(
            "target",
            f"{said}; but {shown} {are} of target {other.name}, not of {target.name}: if the "
            f"file is for {other.name}, {fix}",
            line=None if "target" in data else 1,
        )
    ]


def _toml_problem(message: str, text: str) -> Problem:
    """tomllib's message, said as TOML says things (`hosts`, not `('hosts',)`), with its line;
    and for `[hosts]` written for `[[hosts]]`, what to write instead."""
    at = re.search(r" \(at line (\d+), column \d+\)$", message)
    # tomllib says "at end of document" for a file cut short: that is its last line.
    line = int(at.group(1)) if at else max(1, len(text.rstrip("\n").split("\n")))
    detail = re.sub(r" \(at line \d+, column (\d+)\)$", r" (column \1)", message)
    detail = detail.removesuffix(" (at end of document)")
    detail = _KEY_TUPLE.sub(_dotted, detail)
    for said, meant in _TOML_SAID:
        detail = re.sub(said, meant, detail)
    single = _single_bracket_list(text)
    if single is not None and message.startswith(("Cannot declare", "Cannot overwrite a value")):
        name, header_line = single
        return error(
            "",
            f"[{name}] declares one table, but {name} is a list of tables: write [[{name}]] "
            "(two brackets) above each entry",
            line=header_line,
        )
    return error("", f"not valid TOML: {detail}", line=line)


# How tomllib names a key in a message: a tuple of its parts, ('gluster', 'volumes').
_KEY_TUPLE = re.compile(r"\((?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")(?:, [^)]*)?,?\)")

# tomllib's words for a key or table given twice, as a user would understand them.
_TOML_SAID = (
    (r"^Cannot declare (.+) twice", r"[\1] is declared twice (TOML allows each table once)"),
    (r"^Cannot overwrite a value", "this key is set above already (TOML allows each key once)"),
    (
        r"^Cannot mutate immutable namespace (\S+)",
        r"\1 is written whole above (a value, a list or an inline table): nothing can be added "
        "to it here",
    ),
)


def _dotted(match: re.Match[str]) -> str:
    import ast  # here: only a file tomllib refuses needs it

    try:
        parts = ast.literal_eval(match.group(0))
    except (ValueError, SyntaxError):
        return match.group(0)
    return ".".join(str(part) for part in parts) if isinstance(parts, tuple) else match.group(0)


def _single_bracket_list(text: str) -> tuple[str, int] | None:
    """A `[name]` header whose name is a list of tables in a target's model, and its line."""
    lists = _lists_of_tables()
    for number, line in enumerate(text.split("\n"), start=1):
        header = re.match(r"\s*\[\s*([A-Za-z0-9_.\s-]+?)\s*\]\s*(#.*)?$", line)
        if header is not None:
            name = re.sub(r"\s*\.\s*", ".", header.group(1))
            if name in lists:
                return name, number
    return None


@functools.cache
def _lists_of_tables() -> frozenset[str]:
    """The key paths of every target's lists of tables: hosts, networks, gluster.volumes..."""
    found: set[str] = set()

    def walk(kind: Any, path: str) -> None:
        if not (isinstance(kind, type) and attrs.has(kind)):
            return
        hints = typing.get_type_hints(kind)
        for field in attrs.fields(kind):
            hint = hints[field.name]
            name = f"{path}{field.name}"
            if _is_list_type(hint):
                item = typing.get_args(hint)[0]
                if isinstance(item, type) and attrs.has(item):
                    found.add(name)
            else:
                walk(hint, f"{name}.")

    for name in targets.NAMES:
        walk(targets.get(name).cluster, "")
    return frozenset(found)


def _without(data: dict[str, Any], path: list[str]) -> tuple[dict[str, Any], bool]:
    """`data` without the key at `path` (a key of tables within tables), and whether it was
    there; the tables on the way are copied, not changed."""
    head, *rest = path
    if head not in data:
        return data, False
    if not rest:
        return {k: v for k, v in data.items() if k != head}, True
    inner = data[head]
    if not isinstance(inner, dict):
        return data, False
    changed, found = _without(inner, rest)
    return ({**data, head: changed} if found else data), found


def _target(data: dict[str, Any], text: str | None) -> targets.Target:
    """Phase one: the target the file names (`target`), or the default one."""
    name = data.get("target", targets.DEFAULT)
    if not isinstance(name, str) or name not in targets.NAMES:
        choices = ", ".join(repr(n) for n in targets.NAMES)
        problem = error("target", f"{quoted(name)} is not one of {choices}")
        raise LoadError([problem] if text is None else with_lines([problem], text))
    return targets.get(name)


# No cluster file comes near this: a 3,000-host file is about 1 MiB.
MAX_BYTES = 16 << 20


def read(path: str | Path) -> str:
    """The text of a cluster file, `-` for standard input; an unreadable file is reported like
    any other problem. Only a regular file (or a pipe on standard input) of at most MAX_BYTES
    is read: a FIFO would hang, /dev/zero never ends, a folder is no file."""
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            # O_NONBLOCK: opening a FIFO must not wait for a writer before fstat refuses it.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            kind = os.fstat(fd).st_mode
            if not stat.S_ISREG(kind):
                os.close(fd)
                raise LoadError([error("", f"cannot read: not a regular file ({_kind(kind)})")])
            with os.fdopen(fd, "rb") as file:
                data = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise LoadError([error("", f"cannot read: {exc.strerror or exc}")]) from None
    if len(data) > MAX_BYTES:
        raise LoadError([error("", f"cannot read: larger than {MAX_BYTES >> 20} MiB")])
    return _decode(data)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(
            [error("", f"cannot read: not UTF-8 text ({exc.reason} at byte {exc.start})")]
        ) from None


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"


def load(path: str | Path) -> Cluster:
    """Read and parse a cluster file (`-`: standard input); a `LoadError` names it (`.source`,
    and in its message)."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"load() takes the path of a cluster file (str or Path), not {type(path).__name__}; "
            "loads() takes its text, load_data() the mapping it parses to"
        )
    try:
        text = read(path)
        cluster = _loads(text)
    except LoadError as exc:
        raise LoadError(exc.problems, source=str(path)) from None
    _remember(cluster, name_of(path), text)
    return cluster


def name_of(path: str | Path) -> str:
    """How messages and script headers name a cluster file; `-` is standard input."""
    return "<stdin>" if str(path) == "-" else Path(path).name
