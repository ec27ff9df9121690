"""The filters confgen's templates use: `sh`, one shell word, as confgen's renderer quotes it;
`called_by`, the frame's helpers a script calls, by confgen's own function
(`confgen/templating.py`, loaded by its path, as bench/floor.py loads it)."""

from __future__ import annotations

import importlib.util
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

_TEMPLATING = Path(__file__).resolve().parents[3] / "src" / "confgen" / "templating.py"


def _sh(value: object) -> str:
    return shlex.quote(str(value))


def _templating() -> Any:
    spec = importlib.util.spec_from_file_location("confgen_templating", _TEMPLATING)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FilterModule:
    def filters(self) -> dict[str, Callable[..., str]]:
        return {"sh": _sh, "called_by": _templating().called_by}
