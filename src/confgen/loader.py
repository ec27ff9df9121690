"""Load: TOML text -> a target's `Cluster`, with every structural problem reported by its key path.

In two phases, as Butane reads `variant` and `version` first: `target` names the target, and
the rest of the file is read as that target's cluster (`confgen.targets`)."""

from __future__ import annotations

import collections.abc
import enum
import functools
import os
import re
import stat
import sys
import tomllib
import types
import typing
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from confgen import targets
from confgen.errors import LoadError, Problem, error, quoted
from confgen.locate import with_lines
from confgen.models import Cluster, PortRange, Protocol, Role

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
        raise ValueError(f"{quoted(value)} is not a string")
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


# How each value that is not a list, table or record is read, for both readers below.
_LEAVES: dict[Any, Callable[[object, object], Any]] = {
    str: _str_hook,
    int: _int_hook,
    bool: _bool_hook,
    IPv4Address: _ip_hook(IPv4Address, "an IPv4 address"),
    IPv4Network: _ip_hook(IPv4Network, "an IPv4 network in CIDR form (10.0.0.0/24)"),
    IPv4Interface: _ip_hook(IPv4Interface, "an IPv4 address with a prefix (10.0.0.5/24)"),
    Role: _enum_hook(Role),
    Protocol: _enum_hook(Protocol),
    PortRange: lambda value, _type: PortRange.parse(value),
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
    leaf = _LEAVES.get(kind)
    args = typing.get_args(kind)
    if leaf is not None:
        return lambda value: leaf(value, kind)
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


def _shape_checked(factory: Any, expected: type, what: str) -> Any:
    """Wrap cattrs' own hook: it would read a string as a list of its characters."""

    def make(kind: Any, converter: cattrs.Converter) -> Any:
        inner = factory(kind, converter)

        def structure(value: object, _type: object) -> Any:
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
    for kind, hook in _LEAVES.items():
        converter.register_structure_hook(kind, hook)
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


def _describe(exc: BaseException) -> str:
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
    return [error(_format_path(path), _describe(exc))]


def loads(text: str) -> Cluster:
    """Parse cluster TOML text into a `Cluster`; raise `LoadError` listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+)", str(exc))
        # tomllib says "at end of document" for a file cut short: that is its last line.
        line = int(at.group(1)) if at else max(1, len(text.rstrip("\n").split("\n")))
        raise LoadError([error("", f"not valid TOML: {exc}", line=line)]) from None
    except RecursionError:  # tomllib parses nested arrays and tables by recursion
        raise LoadError(
            [error("", "not valid TOML here: arrays or tables nested too deep")]
        ) from None
    except ValueError as exc:  # an integer of over 4,300 digits (Python's int limit)
        raise LoadError([error("", f"not valid TOML here: {exc}")]) from None
    target = _target(data, text)
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
        raise LoadError(with_lines(refused + exc.problems, text)) from None
    if refused:
        raise LoadError(with_lines(refused, text))
    return cluster


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


def _target(data: dict[str, Any], text: str) -> targets.Target:
    """Phase one: the target the file names (`target`), or the default one."""
    name = data.get("target", targets.DEFAULT)
    if not isinstance(name, str) or name not in targets.NAMES:
        choices = ", ".join(repr(n) for n in targets.NAMES)
        problem = error("target", f"{quoted(name)} is not one of {choices}")
        raise LoadError(with_lines([problem], text))
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
    """Read and parse a cluster file; a `LoadError` names it (`.source`, and in its message)."""
    try:
        return loads(read(path))
    except LoadError as exc:
        raise LoadError(exc.problems, source=str(path)) from None
