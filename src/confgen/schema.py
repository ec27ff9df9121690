"""A JSON Schema of a target's cluster file, generated from its models.

Editors that read TOML with a JSON Schema (taplo, and Even Better TOML on it) complete and
check keys with it. Taplo supports JSON Schema up to draft 4, so that is the draft written
(`enum` of one value where later drafts have `const`). The schema holds the shape of the file
(keys, types, forms of values); the rules that relate values to each other stay in `confgen
check`.
"""

from __future__ import annotations

import copy
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any

import attrs

from confgen import targets
from confgen.loader import LEAVES
from confgen.models import Role

DRAFT = "http://json-schema.org/draft-04/schema#"


def _doc(kind: type) -> str | None:
    doc = kind.__doc__
    if not doc or doc.startswith(f"{kind.__name__}("):  # attrs' generated docstring
        return None
    return " ".join(doc.strip().split("\n\n")[0].split())


def _of(kind: Any, roles: tuple[Role, ...]) -> dict[str, Any]:
    """The schema of a field's type; `roles` are the network roles of the target."""
    if kind is Role:
        return {"enum": [role.value for role in roles]}
    leaf = LEAVES.get(kind)
    if leaf is not None and leaf.schema is not None:
        return copy.deepcopy(dict(leaf.schema))
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        # X | None: TOML has no null, so the key is simply left out.
        [inner] = [a for a in args if a is not type(None)]
        return _of(inner, roles)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": _of(args[0], roles)}
    if origin is Mapping or origin is typing.Mapping:
        return {"type": "object", "additionalProperties": _of(args[1], roles)}
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return {"enum": [member.value for member in kind]}
    if isinstance(kind, type) and attrs.has(kind):
        return _table(kind, roles)
    raise TypeError(f"no schema for {kind!r}")  # a model type this module does not know yet


def _plain(value: object) -> object:
    """A default as the TOML file would write it."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def _table(kind: type, roles: tuple[Role, ...]) -> dict[str, Any]:
    hints = typing.get_type_hints(kind)
    properties = {}
    required = []
    for field in attrs.fields(kind):
        schema = _of(hints[field.name], roles)
        default = field.default
        if default is attrs.NOTHING:
            required.append(field.name)
        elif not isinstance(default, attrs.Factory) and default is not None:  # type: ignore[arg-type]
            schema["default"] = _plain(default)
        properties[field.name] = schema
    table: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        table["required"] = required
    table["additionalProperties"] = False
    doc = _doc(kind)
    if doc:
        table["description"] = doc
    return table


def schema(name: str = targets.DEFAULT) -> dict[str, Any]:
    """The JSON Schema (draft 4) of a cluster file of the target `name`."""
    target = targets.get(name)
    table = _table(target.cluster, target.roles)
    if name != targets.DEFAULT:
        # A file without `target` is read as the default target's.
        table["required"] = ["target", *table.get("required", [])]
    return {"$schema": DRAFT, "title": f"confgen cluster file ({name})", **table}
