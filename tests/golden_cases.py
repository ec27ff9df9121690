"""The golden cases, by the target their cluster file is written for."""

from __future__ import annotations

import tomllib
from pathlib import Path

from confgen import targets

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def golden_cases(target: str | None = None) -> list[str]:
    """The names of golden/<case>/ with a cluster file, of one target or of every one."""
    found = []
    for case in sorted(GOLDEN.iterdir()):
        cluster = case / "cluster.toml"
        if cluster.is_file():
            name = tomllib.loads(cluster.read_text()).get("target", targets.DEFAULT)
            if target is None or name == target:
                found.append(case.name)
    return found
