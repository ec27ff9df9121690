"""SELinux: the mode a step leaves it in."""

from __future__ import annotations

from confgen.planner import Check


def mode(on: str, expected: str) -> Check:
    """getenforce(8) prints Enforcing, Permissive or Disabled."""
    return Check(on=on, command="getenforce", shows=(expected,))
