"""The runbooks' checks between steps, run on the fake cluster: before a step, what its check
looks for is not all there; after it, on every host the check names, it is.

A check is run as the administrator types it, with the fake cluster's stand-ins first on PATH
(a file it reads is read below the host's root). The stand-ins answer as the real programs do
(each cites its source), so a check that names the wrong words for a program fails here.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from fakehost import FakeCluster
from golden_cases import GOLDEN

# Checks no stand-in can answer, with why; every other check is run.
NOT_RUN = {
    # The rules iptables holds: the fake cluster loads none (the real iptables-restore checks
    # the rules file in test_real_programs.py); `-S` prints them in the file's form (iptables(8)).
    "iptables",
    # Looked at in the Administration Portal: no command.
    "",
}
# A check with nothing to look for in the output (only a note for the reader) is not run.
# Steps whose checks already pass before them on the fake cluster, and why: the seed's heal
# workaround follows the full heal of step add-bricks, which the fake cluster's heal finishes
# at once (the workaround is for a real heal that leaves entries).
DONE_BEFORE = {"heal-workaround"}
# A step may find its work done by an earlier one on a real cluster, and then changes nothing:
# el9's probe back, when glusterfs 10 already named the first host by what its address
# resolves back to (fakehost_gluster._known_by; the runbook asks DNS to resolve it). Its check
# may pass before it only if the step then makes no change.
NO_OP_WHEN_DONE = {"peer-probe-back"}


def _outcome(fake: FakeCluster, host: str, command: str) -> tuple[int, str]:
    argv = shlex.split(command)
    root = fake.root(host)
    # A file the command names is the host's, below its root.
    argv = [str(root / a.lstrip("/")) if a.startswith("/etc/") else a for a in argv]
    assert (fake.bin / argv[0]).exists() or argv[0] == "grep", f"no stand-in for {argv[0]}"
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": f"{fake.bin}:{os.environ['PATH']}",
            "HOME": str(fake.base),
            **fake.host_env(host),
        },
    )
    return result.returncode, result.stdout + result.stderr


def _passes(fake: FakeCluster, host: str, check: object) -> bool:
    _, output = _outcome(fake, host, check.command)  # type: ignore[attr-defined]
    lines = output.splitlines()
    shown = all(any(s in line for line in lines) for s in check.shows)  # type: ignore[attr-defined]
    hidden = not any(s in output for s in check.not_shows)  # type: ignore[attr-defined]
    return shown and hidden


@pytest.mark.parametrize("case", ["seed-3host", "el9-3host"])
def test_each_steps_check_fails_before_it_and_passes_after_it(tmp_path: Path, case: str) -> None:
    fake = FakeCluster.rendered(tmp_path, (GOLDEN / case / "cluster.toml").read_text())
    checked = 0
    for step in fake.plan.steps:
        runnable = [
            c
            for c in step.checks
            if c.command.split(" ")[0] not in NOT_RUN and (c.shows or c.not_shows)
        ]
        hosts = {c: step.hosts if c.on == "each host" else (c.on,) for c in runnable}
        before = [(c, host) for c in runnable for host in hosts[c] if not _passes(fake, host, c)]
        changes = len(fake.changes())
        for host in step.hosts:
            result = fake.run(host, step.script)
            assert result.returncode == 0, f"{host} {step.script}: {result.stderr}"
        if runnable and not before and step.slug in NO_OP_WHEN_DONE:
            assert fake.changes()[changes:] == [], f"step {step.script} changed a host"
        elif runnable and step.slug not in DONE_BEFORE:
            assert before, f"step {step.script}: its checks pass before it ran"
        for check in runnable:
            for host in hosts[check]:
                code, output = _outcome(fake, host, check.command)
                assert _passes(fake, host, check), (
                    f"step {step.script} on {host}: `{check.command}` exited {code} with\n"
                    f"{output}\nnot showing {check.shows} / showing one of {check.not_shows}"
                )
                checked += 1
    assert checked >= len(fake.plan.steps) - 2
