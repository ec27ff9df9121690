"""The `sh` filter confgen's templates use: one shell word, as confgen's renderer quotes it."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any


def _sh(value: object) -> str:
    return shlex.quote(str(value))


class FilterModule:
    def filters(self) -> dict[str, Callable[[Any], str]]:
        return {"sh": _sh}
