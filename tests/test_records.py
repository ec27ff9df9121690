"""`@record` (confgen/records.py) against the attrs class it stands for, and every record of
confgen made with it."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import confgen
from confgen import records
from confgen.records import record

values = st.none() | st.integers() | st.text(max_size=3) | st.tuples(st.integers())


@record
class Pair:
    left: Any
    right: Any = 0


@attrs.frozen(kw_only=True)
class AttrsPair:
    left: Any
    right: Any = 0


@given(values, values, values, values)
def test_a_record_compares_hashes_and_shows_as_attrs_would(a: Any, b: Any, c: Any, d: Any) -> None:
    ours, theirs = (
        (Pair(left=a, right=b), Pair(left=c, right=d)),
        (
            AttrsPair(left=a, right=b),
            AttrsPair(left=c, right=d),
        ),
    )
    assert (ours[0] == ours[1]) == (theirs[0] == theirs[1])
    assert (ours[0] != ours[1]) == (theirs[0] != theirs[1])
    if ours[0] == ours[1]:
        assert hash(ours[0]) == hash(ours[1])
    assert repr(ours[0]) == repr(theirs[0]).replace("AttrsPair(", "Pair(", 1)


def test_a_record_is_frozen_keyword_only_slotted_and_unequal_to_other_classes() -> None:
    pair = Pair(left=1)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        pair.left = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        Pair(1, 2)  # type: ignore[misc]
    assert not hasattr(pair, "__dict__")
    assert pair != AttrsPair(left=1)
    assert pair == records.replace(Pair(left=0), left=1)
    assert records.asdict(pair) == {"left": 1, "right": 0}


def _modules() -> list[str]:
    return [
        info.name
        for info in pkgutil.walk_packages(confgen.__path__, "confgen.")
        if "._compiled" not in info.name and not info.name.endswith("__main__")
    ]


def test_every_attrs_class_of_confgen_is_a_record() -> None:
    """A class made with attrs' own decorator would work, and quietly cost its compile again."""
    found = []
    for name in _modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == name and attrs.has(value):
                found.append(value)
                assert value.__eq__ is records._eq, value
                assert value.__repr__ is records._repr, value
    assert len(found) > 30
