"""The benchmark's pieces stay honest: its clusters are valid, and the floor, a separate
hand-written renderer of the same templates, writes exactly confgen's tree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import confgen
from confgen.paths import STAMP

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "golden"
sys.path.insert(0, str(ROOT / "bench"))

from gen import cluster_toml  # noqa: E402

# The one line of a host folder's stamp the floor does not write: the digest of confgen's
# model of the cluster (the floor has no model, and writes no manifest, which records it too).
MODEL_LINE = re.compile(rb"^# Cluster model sha256 .*\n", re.MULTILINE)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): _unmodelled(p.name, p.read_bytes())
        for p in root.rglob("*")
        if p.is_file() and p.name != ".confgen-manifest.json"
    }


def _unmodelled(name: str, data: bytes) -> bytes:
    return MODEL_LINE.sub(b"", data) if name == STAMP else data


@pytest.fixture(autouse=True, scope="module")
def _compiled_as_the_templates_are() -> None:
    """The floor renders the modules the build compiled into src/confgen/_compiled (an
    editable install compiles them once): after a template is edited they are stale, and the
    floor would render the old text. Compiled again here, as the build does (each module moved
    into place whole, so a worker rendering meanwhile reads old or new)."""
    from confgen import templating

    templating.compile_templates(ROOT / "templates", ROOT / "src" / "confgen" / "_compiled")


def _floor(cluster: Path, out: Path) -> dict[str, bytes]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "floor.py"), str(cluster), str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return _tree(out)


@pytest.mark.parametrize("case", ["seed-3host", "split-6host"])
def test_the_floor_writes_the_golden_tree(tmp_path: Path, case: str) -> None:
    assert _floor(GOLDEN / case / "cluster.toml", tmp_path / "out") == _tree(
        GOLDEN / case / "expected"
    )


@pytest.mark.parametrize("hosts", [3, 4, 5, 7])
def test_generated_clusters_are_valid_and_the_floor_agrees(tmp_path: Path, hosts: int) -> None:
    cluster = tmp_path / "cluster.toml"
    cluster.write_text(cluster_toml(hosts), encoding="utf-8")
    loaded = confgen.load(cluster)
    assert [p for p in confgen.validate(loaded) if p.severity is confgen.Severity.ERROR] == []
    assert len(loaded.hosts) == hosts
    source = confgen.Source.of(cluster.name, loaded)
    mine = {
        path: _unmodelled(path.rsplit("/", 1)[-1], f.text.encode())
        for path, f in confgen.render(loaded, source).items()
    }
    assert _floor(cluster, tmp_path / "out") == mine


@pytest.mark.parametrize("hosts", [3, 7])
def test_generated_el9_clusters_are_valid(hosts: int) -> None:
    cluster = confgen.loads(cluster_toml(hosts, "ovirt45-el9"))
    assert cluster.target == "ovirt45-el9" and len(cluster.hosts) == hosts
    assert [p for p in confgen.validate(cluster) if p.severity is confgen.Severity.ERROR] == []
