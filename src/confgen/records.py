"""`@record`: how confgen makes its typed records (models, plans, problems, rendered files).

A record is an attrs class, frozen and keyword-only, whose `repr`, `==` and `hash` are the
three functions below, shared by every record. attrs would write each class its own as Python
source and compile it when the class is made, that is at every start of confgen: for confgen's
records that was 9 of the 21 ms its own modules took to import, more than a small render's
whole work after loading (BENCHMARKS.md). These do what attrs' do, reading the fields at call
time: equal when of the same class with equal fields, hashed from the class and the fields,
shown as `Class(field=value, ...)`; `!=` is Python's own inverse of `==`.
"""

from __future__ import annotations

from typing import Any, TypeVar, dataclass_transform

import attrs

_Class = TypeVar("_Class", bound=type)


def _values(record: Any) -> tuple[Any, ...]:
    return tuple(getattr(record, field.name) for field in type(record).__attrs_attrs__)


def _repr(self: Any) -> str:
    fields = ", ".join(
        f"{field.name}={getattr(self, field.name)!r}" for field in type(self).__attrs_attrs__
    )
    return f"{type(self).__qualname__}({fields})"


def _eq(self: Any, other: object) -> object:  # a bool, or NotImplemented
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash((type(self), _values(self)))


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(attrs.field,))
def record(cls: _Class) -> _Class:
    """Make `cls` a record: `@record` above a class with annotated fields, as `@attrs.frozen`."""
    cls.__repr__ = _repr  # type: ignore[assignment]
    cls.__eq__ = _eq  # type: ignore[assignment]
    cls.__hash__ = _hash  # type: ignore[assignment]
    made: _Class = attrs.frozen(cls, kw_only=True, repr=False, eq=False)
    return made


_Record = TypeVar("_Record")


def replace(record: _Record, **changes: Any) -> _Record:
    """A copy of `record` with `changes` (`attrs.evolve`; mypy's attrs plugin does not know
    classes made by `@record`, a decorator of ours, for attrs classes)."""
    copy: _Record = attrs.evolve(record, **changes)  # type: ignore[misc]
    return copy


def asdict(record: object, **options: Any) -> dict[str, Any]:
    """`attrs.asdict` of a record, typed as `replace` is."""
    data: dict[str, Any] = attrs.asdict(record, **options)  # type: ignore[arg-type]
    return data
