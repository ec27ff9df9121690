"""Templates compiled ahead of time: used while current, never at the cost of a wrong byte."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import confgen
from confgen import renderer as render
from confgen import templating
from confgen._resources import templates_dir

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "golden"


def _golden(case: str) -> dict[str, str]:
    expected = GOLDEN / case / "expected"
    return {
        str(p.relative_to(expected)): p.read_text(encoding="utf-8")
        for p in expected.rglob("*")
        if p.is_file() and p.name != ".confgen-manifest.json"
    }


def _render_with(
    loader: templating.Loader, case: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.setattr(render, "_ENV", templating.environment(loader))
    cluster = GOLDEN / case / "cluster.toml"
    loaded = confgen.load(cluster)
    source = confgen.Source.of(cluster.name, loaded)
    return {p: f.text for p, f in confgen.render(loaded, source).items()}


def _loaded_from(env: object, name: str) -> str:
    template = env.get_template(name)  # type: ignore[attr-defined]
    return str(template.root_render_func.__code__.co_filename)


@pytest.mark.parametrize("case", ["seed-3host", "split-6host"])
def test_compiled_templates_are_used_and_render_the_golden_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    compiled = tmp_path / "compiled"
    templating.compile_templates(templates_dir(), compiled)
    loader = templating.Loader(templates_dir(), compiled)
    env = templating.environment(loader)
    for name in loader.list_templates():
        assert _loaded_from(env, name).startswith(str(compiled)), name
    assert _render_with(loader, case, monkeypatch) == _golden(case)


def test_without_compiled_templates_the_source_renders_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loader = templating.Loader(templates_dir(), tmp_path / "nothing-here")
    env = templating.environment(loader)
    assert _loaded_from(env, "ovirt35-el7/iptables.j2").startswith(str(templates_dir()))
    assert _render_with(loader, "seed-3host", monkeypatch) == _golden("seed-3host")


def test_an_edited_template_is_compiled_from_its_source(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(templates_dir(), templates)
    templating.compile_templates(templates, tmp_path / "compiled")
    nfsmount = templates / "ovirt35-el7" / "nfsmount.conf.j2"
    nfsmount.write_text(nfsmount.read_text() + "# edited after the build\n")
    env = templating.environment(templating.Loader(templates, tmp_path / "compiled"))
    assert (
        env.get_template("ovirt35-el7/nfsmount.conf.j2")
        .render()
        .endswith("# edited after the build\n")
    )
    assert _loaded_from(env, "ovirt35-el7/iptables.j2").startswith(str(tmp_path / "compiled"))


def test_templates_compiled_by_another_jinja2_are_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templating.compile_templates(templates_dir(), tmp_path / "compiled")
    monkeypatch.setattr(templating.jinja2, "__version__", "0.0-other")
    env = templating.environment(templating.Loader(templates_dir(), tmp_path / "compiled"))
    assert _loaded_from(env, "ovirt35-el7/iptables.j2").startswith(str(templates_dir()))


def test_per_file_names_come_from_the_index_and_match_the_source(tmp_path: Path) -> None:
    templating.compile_templates(templates_dir(), tmp_path / "compiled")
    loader = templating.Loader(templates_dir(), tmp_path / "compiled")
    env = templating.environment(loader)
    for name in loader.list_templates():
        assert loader.reads(env, name) == frozenset(templating.reads(env, name)), name
    # The files that are the same on every host, and a script, which reads both.
    assert loader.reads(env, "common/hosts.j2") == frozenset()
    assert loader.reads(env, "ovirt35-el7/iptables.j2") == frozenset()
    assert loader.reads(env, "ovirt35-el7/firewall.sh.j2") == {"host", "step"}
    assert loader.reads(env, "ovirt35-el7/hosted-engine-answers.conf.j2") == {"host"}
