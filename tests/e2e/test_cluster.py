"""A real cluster for each golden cluster file, built and broken by cluster.py.

Needs root, systemd-nspawn and debootstrap (conftest.py). The Debian tree the containers boot
is cached outside the repository (machines.CACHE).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from golden_cases import GOLDEN, golden_cases

from .cluster import Report, run
from .targets import TARGETS

# The golden clusters of every target the harness can build.
CASES = [case for name in TARGETS for case in golden_cases(name)]


@pytest.mark.parametrize("case", CASES)
def test_the_golden_cluster_is_built_and_survives_failures(case: str, tmp_path: Path) -> None:
    lines: list[str] = []
    report = run((GOLDEN / case / "cluster.toml").read_text(), tmp_path, Report(echo=lines.append))
    assert not report.failed, "\n".join([*lines, report.summary()])
    # Every promise was checked: step 00 finding a wrong address, the runbook, the cluster, the
    # rerun, the failure, the cycle.
    for phase in ("preflight:", "runbook:", "built:", "rerun:", "failure:", "power cycle:"):
        assert any(name.startswith(phase) for name, _, _ in report.results), phase
