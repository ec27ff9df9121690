"""The confgen command as a user runs it: exit codes, messages, and what it writes."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from confgen.cli import main

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SEED = GOLDEN / "seed-3host" / "cluster.toml"


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "confgen", *args], capture_output=True, text=True, cwd=cwd
    )


def test_render_writes_the_golden_tree(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run("render", str(SEED), str(out))
    assert result.returncode == 0, result.stderr
    assert "RUNBOOK.md" in result.stdout
    expected = GOLDEN / "seed-3host" / "expected"
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == sorted(
        str(p.relative_to(expected)) for p in expected.rglob("*") if p.is_file()
    )
    for path in written:
        assert (out / path).read_bytes() == (expected / path).read_bytes(), path


def test_rerender_rewrites_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["render", str(SEED), str(out)]) == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    for p in before:  # push every mtime into the past, so a rewrite would show
        os.utime(p, ns=(1_000_000_000, 1_000_000_000))
    assert main(["render", str(SEED), str(out)]) == 0
    assert all(p.stat().st_mtime_ns == 1_000_000_000 for p in before)


def test_init_writes_the_example_and_refuses_to_overwrite(tmp_path: Path) -> None:
    result = _run("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cluster.toml").read_text() == SEED.read_text()
    again = _run("init", cwd=tmp_path)
    assert again.returncode == 1
    assert "exists" in again.stderr and "--force" in again.stderr
    assert _run("init", "--force", cwd=tmp_path).returncode == 0


def test_initialised_file_renders(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path / "c.toml")]) == 0
    assert main(["render", str(tmp_path / "c.toml"), str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "RUNBOOK.md").is_file()


def test_check_reports_every_problem_with_its_path(tmp_path: Path) -> None:
    bad = (
        SEED.read_text()
        .replace("host_id = 3", "host_id = 2")
        .replace('address = "192.168.122.13"', 'address = "10.0.0.13"')
    )
    (tmp_path / "c.toml").write_text(bad)
    result = _run("check", str(tmp_path / "c.toml"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert any(
        "hosts[2].interfaces.lan.address: 10.0.0.13 is outside 192.168.122.0/24" in line
        for line in lines
    )
    assert any("hosts[2].host_id: 2 is used by another host" in line for line in lines)
    assert not (tmp_path / "out").exists()


def test_render_writes_nothing_for_an_invalid_file(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(SEED.read_text().replace("first = true\n", ""))
    result = _run("render", str(tmp_path / "c.toml"), str(tmp_path / "out"))
    assert result.returncode == 1
    assert "no host has first = true" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "content",
    ["", "not toml at all [", "hosts = 3", "\x00\x01binary", "[[hosts]]\nname = 1\n"],
)
def test_broken_input_is_an_error_not_a_traceback(tmp_path: Path, content: str) -> None:
    (tmp_path / "c.toml").write_text(content)
    result = _run("check", str(tmp_path / "c.toml"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{tmp_path / 'c.toml'}:")


def test_a_directory_or_missing_file_is_an_error(tmp_path: Path) -> None:
    for target in (tmp_path, tmp_path / "missing.toml"):
        result = _run("check", str(target))
        assert result.returncode == 1
        assert "cannot read" in result.stderr and "Traceback" not in result.stderr


def test_usage_errors_exit_2() -> None:
    assert _run().returncode == 2
    assert _run("render", str(SEED)).returncode == 2
    assert _run("frobnicate").returncode == 2


def test_help_explains_every_command() -> None:
    top = _run("--help")
    assert top.returncode == 0
    for command in ("render", "check", "init"):
        assert command in top.stdout
    render = _run("render", "--help").stdout
    assert "RUNBOOK.md" in render and "scripts/NN-" in render
    assert "example" in _run("init", "--help").stdout
    assert "write nothing" in _run("check", "--help").stdout


def test_help_says_what_each_target_sets_up_and_the_core_names_none() -> None:
    from confgen import cli, targets

    top = " ".join(_run("--help").stdout.split())
    for name, registered in targets.TARGETS.items():
        assert f"{name} {registered.summary}" in top
        assert f"sets up: {registered.sets_up}" in top
    # The core's own words are of targets in general: what one sets up is its own line.
    for program in ("CTDB", "Gluster", "oVirt", "hosted-engine", "iptables", "firewalld"):
        assert program not in cli._DESCRIPTION, program


def test_version() -> None:
    import confgen

    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"confgen {confgen.__version__}"


def test_a_binary_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_bytes(b"\xff\xfe\x00garbage\x80")
    result = _run("check", str(tmp_path / "c.toml"))
    assert result.returncode == 1
    assert "cannot read: not UTF-8 text" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_output_path_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")
    result = _run("render", str(SEED), str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr == f"{tmp_path / 'out'}: {tmp_path / 'out'} exists and is not a folder\n"


@pytest.mark.parametrize(
    "argv",
    [["check", str(SEED)], ["--help"], ["--version"], ["check", "--help"], ["render", "--help"]],
)
def test_commands_that_render_nothing_do_not_import_jinja2(argv: list[str]) -> None:
    # Tooling runs `confgen check` in loops, and --help and --version should answer at once:
    # none of them may pay for the template engine. The command runs as `python -m confgen`
    # does, in a fresh interpreter (this test process has long imported Jinja2 for the others).
    code, printed, loaded = _loaded(argv, "jinja2")
    assert code == 0
    assert printed.strip(), "the command printed nothing"
    assert loaded == []


def _loaded(argv: list[str], package: str) -> tuple[int, str, list[str]]:
    """Run the command in a fresh interpreter: its exit status, what it printed and the
    modules of `package` it loaded, whatever way it ended."""
    code = (
        "import sys, atexit\n"
        "atexit.register(lambda: print(sorted(m for m in sys.modules"
        f" if m.split('.')[0] == {package!r}), file=sys.stderr))\n"
        "from confgen.cli import main\n"
        f"sys.exit(main({argv!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return result.returncode, result.stdout, ast.literal_eval(result.stderr.splitlines()[-1])


def test_a_valid_file_is_read_without_cattrs_and_an_invalid_one_with_it(tmp_path: Path) -> None:
    # cattrs' detailed converter only reads a file the plain reader refuses, to say what is
    # wrong where (confgen/loader.py); importing it is a tenth of a small render.
    assert _loaded(["render", str(SEED), str(tmp_path / "out")], "cattrs")[::2] == (0, [])
    assert _loaded(["check", str(SEED)], "cattrs")[::2] == (0, [])
    bad = tmp_path / "bad.toml"
    bad.write_text(SEED.read_text().replace("host_id = 2", 'host_id = "2"'))
    code, _, loaded = _loaded(["check", str(bad)], "cattrs")
    assert code == 1 and "cattrs" in loaded
