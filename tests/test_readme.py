"""The README's library example runs as written."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

import pytest

from confgen import cli, targets

ROOT = Path(__file__).resolve().parents[1]


def test_library_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text()
    [code] = re.findall(r"## As a library\n\n```python\n(.*?)```", readme, re.DOTALL)
    assert len(code.strip().splitlines()) <= 12
    (tmp_path / "golden" / "seed-3host").mkdir(parents=True)
    (tmp_path / "golden" / "seed-3host" / "cluster.toml").write_text(
        (ROOT / "golden" / "seed-3host" / "cluster.toml").read_text()
    )
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "192.168.122.11\n192.168.122.12\n192.168.122.13" in printed
    assert "['00-preflight.sh', '01-selinux-and-hosts.sh', '02-stop-engine.sh']" in printed
    assert (tmp_path / "out" / "RUNBOOK.md").is_file()
    assert os.access(
        tmp_path / "out" / "hosts" / "host1" / "scripts" / "01-selinux-and-hosts.sh", os.X_OK
    )


def test_setup_lines_install_and_test() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"## Set-up\n.*?```sh\n(.*?)\n```\n\n```sh\n(.*?)\n```", readme, re.DOTALL)
    [(render_line, test_line)] = blocks
    assert "confgen render" in render_line and "pip install" in render_line
    assert "python -m pytest -q" in test_line and "[test]" in test_line


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    [(_, test_line)] = re.findall(
        r"## Set-up\n.*?```sh\n(.*?)\n```\n\n```sh\n(.*?)\n```", readme, re.DOTALL
    )
    assert test_line in (ROOT / ".ci" / "run").read_text().splitlines()


def test_setup_line_renders_todays_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The set-up line's confgen commands, run as written, render today's example: the target
    the README lists first, which is not the one a file without `target` gets."""
    readme = (ROOT / "README.md").read_text()
    [(render_line, _)] = re.findall(
        r"## Set-up\n.*?```sh\n(.*?)\n```\n\n```sh\n(.*?)\n```", readme, re.DOTALL
    )
    first = re.findall(r"^- `([a-z0-9-]+)`:", readme, re.MULTILINE)
    assert first[:2] == ["ovirt45-el9", "ovirt35-el7"]
    assert first[0] != targets.DEFAULT
    commands = [
        shlex.split(part.strip())[1:]
        for part in render_line.split("&&")
        if part.strip().startswith(".venv/bin/confgen ")
    ]
    assert [c[0] for c in commands] == ["init", "render"]
    monkeypatch.chdir(tmp_path)
    for argv in commands:
        assert cli.main(argv) == 0, capsys.readouterr().err
    manifest = json.loads((tmp_path / "out" / ".confgen-manifest.json").read_text())
    assert manifest["target"] == first[0]
    assert (tmp_path / "out" / "RUNBOOK.md").is_file()
