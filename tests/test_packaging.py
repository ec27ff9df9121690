"""The wheel carries the templates and the example, and confgen finds them there."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_templates_and_renders_from_them(tmp_path: Path) -> None:
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = (tmp_path / "dist").glob("confgen-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    templates = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.j2"))
    for template in templates:
        assert f"confgen/{template}" in names
    assert "confgen/targets/ovirt35_el7/example.toml" in names
    # The build hook compiled every template into the package (confgen/templating.py).
    assert "confgen/_compiled/index.json" in names
    modules = [n for n in names if n.startswith("confgen/_compiled/tmpl_") and n.endswith(".py")]
    assert len(modules) == len(templates)

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    out = tmp_path / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, confgen, confgen.cli; "
            "assert confgen.__file__.startswith(sys.argv[1]), confgen.__file__; "
            "sys.exit(confgen.cli.main(['render', sys.argv[2], sys.argv[3]]))",
            str(site),
            str(ROOT / "golden" / "seed-3host" / "cluster.toml"),
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
    )
    assert run.returncode == 0, run.stderr
    expected = ROOT / "golden" / "seed-3host" / "expected"
    for path in expected.rglob("*"):
        if path.is_file():
            assert (out / path.relative_to(expected)).read_bytes() == path.read_bytes()
