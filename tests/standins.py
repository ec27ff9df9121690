"""Stand-ins for the programs a generated script runs on a host: each records its arguments.

They stand at the host boundary only (package manager, services, gluster, mounts); the scripts
run unchanged under bash, with these first on PATH.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# name -> bash body; "$@" are the arguments. The default answers "no" to every question
# (nothing installed, no unit enabled or active) and succeeds at every change.
DEFAULT = {
    "id": "echo 0",
    "rpm": "exit 1",
    "systemctl": 'case "$1" in is-enabled|is-active) exit 1 ;; esac',
    "yum": "",
    "getenforce": "echo Permissive",
    "setenforce": "",
    "hosted-engine": "",
    "gluster": "",
    "ssm": "",
    "blkid": "exit 2",
    "mount": "",
    "umount": "",
    "mountpoint": "exit 1",
    "sleep": "",
}

RECORD = 'printf "%s" "$(basename "$0")" >> "$CONFGEN_CALLS"; for a in "$@"; do printf "\\x1f%s" "$a" >> "$CONFGEN_CALLS"; done; printf "\\x1e" >> "$CONFGEN_CALLS"\n'


def install(bin_dir: Path, overrides: dict[str, str] | None = None) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, body in {**DEFAULT, **(overrides or {})}.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/bash\n{RECORD}{body}\n")
        path.chmod(0o755)


def run(
    script: Path, bin_dir: Path, calls: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "CONFGEN_CALLS": str(calls),
            **(env or {}),
        },
        timeout=60,
    )


def calls(path: Path) -> list[list[str]]:
    """Every recorded call, as [program, arg, ...]."""
    if not path.exists():
        return []
    return [record.split("\x1f") for record in path.read_text().split("\x1e") if record]
