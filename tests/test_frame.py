"""Each script carries the helpers of the frame it calls, and no other
(templates/common/script.sh.j2; `called_by` in confgen/templating.py).

The frame's whole text is checked here once: a step that calls every helper renders to
tests/data/frame/every-helper.sh. Every golden script, and those of generated clusters of both
targets, is read by bash (`bash -n`) and by shfmt's parser (mvdan/sh: `shfmt --to-json` gives
each command's words): each command that names a helper of the frame finds it defined in the
script, a command at the top level after the definition, and each function a script defines
is called in it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jinja2
import pytest

import confgen
from confgen import templating
from confgen._resources import templates_dir
from golden_cases import golden_cases

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "golden"
FRAME_DATA = ROOT / "tests" / "data" / "frame"
FRAME = templates_dir() / "common" / "script.sh.j2"
sys.path.insert(0, str(ROOT / "bench"))

from gen import cluster_toml  # noqa: E402

# The frame's helpers that run their arguments as a command (their "$@"), and which argument
# is the command: run COMMAND..., wait_until DESCRIPTION SECONDS COMMAND...
RUNNERS = {"run": 1, "wait_until": 3}


def frame_helpers() -> list[str]:
    """The functions the frame's helpers block defines, in its order, from its source."""
    source = FRAME.read_text(encoding="utf-8")
    block = source.split("{% set helpers %}\n", 1)[1].split("{% endset %}", 1)[0]
    return re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)\(\) \{$", block, re.MULTILINE)


def program(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        message = f"{name} is missing: apt-get install {package}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _literal(word: dict[str, Any]) -> str | None:
    """A word's text when it has no expansion (plain, or quoted as a whole), else None."""
    text = []
    for part in word.get("Parts", []):
        if part["Type"] in ("Lit", "SglQuoted"):
            text.append(part.get("Value", ""))
        elif part["Type"] == "DblQuoted" and all(p["Type"] == "Lit" for p in part.get("Parts", [])):
            text.extend(p["Value"] for p in part.get("Parts", []))
        else:
            return None
    return "".join(text)


def problems(text: str) -> list[str]:
    """What is wrong with a script's functions: a helper called but not defined, a function
    called at the top level before its definition, a function defined but not called."""
    bash, shfmt = program("bash", "bash"), program("shfmt", "shfmt")
    parsed = subprocess.run([bash, "-n"], input=text, capture_output=True, text=True)
    if parsed.returncode != 0:
        return [f"bash -n: {parsed.stderr.strip()}"]
    tree = subprocess.run(
        [shfmt, "--language-dialect", "bash", "--to-json"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    defined: dict[str, tuple[int, int]] = {}  # name -> its definition's start and end
    calls: list[tuple[str, int, bool]] = []  # name, where, whether at the top level

    def visit(node: Any, top: bool) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item, top)
            return
        if not isinstance(node, dict):
            return
        if node.get("Type") == "FuncDecl":
            defined[node["Name"]["Value"]] = (node["Pos"]["Offset"], node["End"]["Offset"])
            visit(node["Body"], False)
            return
        if node.get("Type") == "CallExpr" and node.get("Args"):
            words = [_literal(word) for word in node["Args"]]
            at = node["Pos"]["Offset"]
            if words[0]:
                calls.append((words[0], at, top))
                runs = RUNNERS.get(words[0])
                if runs is not None and len(words) > runs and words[runs]:
                    calls.append((words[runs], at, top))
        for value in node.values():
            visit(value, top)

    visit(json.loads(tree.stdout), True)
    found = []
    helpers = set(frame_helpers())
    for name, at, top in calls:
        if name in helpers and name not in defined:
            found.append(f"calls {name}, not defined")
        elif top and name in defined and at < defined[name][1]:
            found.append(f"calls {name} at the top level before its definition")
    for name, (start, end) in defined.items():
        if not any(n == name and not start <= at < end for n, at, _ in calls):
            found.append(f"defines {name}, never called")
    return sorted(set(found))


def each_problems(scripts: dict[str, str]) -> dict[str, list[str]]:
    """`problems` of each script that has any, by its path; bash and shfmt run a few at once."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = dict(zip(scripts, pool.map(problems, scripts.values()), strict=True))
    return {path: p for path, p in sorted(found.items()) if p}


def _context(case: str, host: int = 0) -> dict[str, Any]:
    """What the renderer gives a host's step of a golden case."""
    cluster = confgen.load(GOLDEN / case / "cluster.toml")
    the_plan = confgen.plan(cluster, confgen.Source.of("cluster.toml", cluster))
    shared = confgen.template_context(the_plan)
    me = shared["plan"]["hosts"][host]
    step = next(s for s in shared["plan"]["steps"] if me["name"] in s["hosts"])
    return {**shared, "host": me, "step": step}


def _env(**templates: str) -> jinja2.Environment:
    return templating.environment(
        jinja2.ChoiceLoader(
            [
                jinja2.DictLoader(templates),
                jinja2.FileSystemLoader([str(templates_dir()), str(FRAME_DATA)]),
            ]
        )
    )


def test_the_frame_whole_in_a_step_that_calls_every_helper(update_golden: bool) -> None:
    text = _env().get_template("every-helper.sh.j2").render(_context("seed-3host"))
    expected = FRAME_DATA / "every-helper.sh"
    if update_golden:
        expected.write_text(text, encoding="utf-8")
    assert text == expected.read_text(encoding="utf-8")
    # Every helper is in it, in the frame's order, and it is a script the checks accept.
    assert re.findall(r"^([A-Za-z_]\w*)\(\) \{$", text, re.MULTILINE) == frame_helpers()
    assert {"step", "die", "run", "install_file", "check_render"} <= set(frame_helpers())
    assert problems(text) == []


def _scripts(tree: dict[str, str]) -> dict[str, str]:
    return {path: text for path, text in tree.items() if path.endswith(".sh")}


@pytest.mark.parametrize("case", golden_cases())
def test_each_golden_script_defines_the_helpers_it_calls_and_no_other(case: str) -> None:
    expected = GOLDEN / case / "expected"
    tree = {str(p.relative_to(expected)): p.read_text() for p in expected.rglob("*.sh")}
    assert tree
    assert each_problems(tree) == {}


@pytest.mark.parametrize(("target", "hosts"), [("ovirt35-el7", 4), ("ovirt45-el9", 4)])
def test_each_script_of_a_generated_cluster_defines_the_helpers_it_calls(
    target: str, hosts: int
) -> None:
    # Four hosts: the fourth holds no data brick (bench/gen.py), a branch no golden case takes.
    rendered = confgen.render(confgen.loads(cluster_toml(hosts, target)))
    tree = _scripts({path: f.text for path, f in rendered.items()})
    assert tree
    assert each_problems(tree) == {}


def test_the_checks_find_a_missing_helper_an_unused_function_and_an_early_call() -> None:
    assert problems("#!/bin/bash\nrun true\n") == ["calls run, not defined"]
    # A helper named as the command `run` and `wait_until` run is called too.
    assert problems('run() { "$@"; }\nrun make_dir /x\n') == ["calls make_dir, not defined"]
    assert problems("f() { :; }\ng() { f; }\n") == ["defines g, never called"]
    # Calling itself is not being called.
    assert problems("f() { f; }\n") == ["defines f, never called"]
    assert problems("note x\nnote() { :; }\n") == [
        "calls note at the top level before its definition"
    ]
    assert problems('x() { :; }\ny="$(x)"\n') == []
    assert problems("if then\n")[0].startswith("bash -n:")


NAMES = frozenset({"run", "note", "make_dir", "wait_until", "backup"})


@pytest.mark.parametrize(
    ("script", "calls"),
    [
        ("run true\nnote hi\n", {"run", "note"}),
        # Quoted and commented: words of a message, not of code.
        ("printf '%s' 'run'\necho \"run this\" # run\n# make_dir\n", set()),
        ("echo $'it\\'s run'\n", set()),
        # A command substitution in double quotes, nested, and in backquotes, is code.
        ('echo "a $(note "b $(run x)") c"\n', {"note", "run"}),
        ("x=`backup y`\n", {"backup"}),
        # A quote opened on one line is closed on another: what lies between is a message.
        ('die "one\nrun two\nthree" && note x\n', {"note"}),
        ("awk '\n  run\n' file\nmake_dir /x\n", {"make_dir"}),
        # Across blank lines too.
        ('die "one\n\nrun\n\n\nthree" && note x\n\nbackup\n', {"note", "backup"}),
        ("cat <<'EOF'\n\nrun\n\nEOF\n\nnote\n", {"note"}),
        ("cat <<''\nrun\n\nnote\n", {"note"}),
        # `#` is a comment only where a word starts.
        ("n=${#run}; x=a#run; note ${x%#*}\n", {"note"}),
        # A here-document: quoted, its body is text; unquoted, its substitutions are code.
        ("cat <<'EOF'\nrun\n$(note)\nEOF\nwait_until a 1 b\n", {"wait_until"}),
        ("cat <<EOF | backup\nrun $(note)\nEOF\n", {"backup", "note"}),
        ("cat <<-EOF\n\trun\n\tEOF\nrun\n", {"run"}),
        # In arithmetic, << shifts: no here-document starts.
        ("x=$((1 << 2)); (( y <<= z ))\nrun\nz\n", {"run"}),
        ("x=$(( $(note) << 1 ))\n", {"note"}),
        # A name inside a longer word is not the helper.
        ("running note_x make_dir2 --run $run\n", set()),
        ("(run); { note; }; ! backup|make_dir&&wait_until\n", NAMES),
    ],
)
def test_called_by_finds_the_words_of_code(script: str, calls: set[str]) -> None:
    helpers = "\n\n".join(f"{name}() {{\n    :\n}}" for name in sorted(NAMES))
    kept = templating.called_by(helpers, script)
    assert re.findall(r"^(\w+)\(\)", kept, re.MULTILINE) == sorted(calls)


def test_called_by_keeps_the_helpers_a_kept_helper_calls_in_their_order() -> None:
    helpers = (
        "# c: the last.\nc() {\n    :\n}\n\n"
        "b() {\n    c\n}\n\n"
        "# a calls b.\na() {\n    b x\n}\n\n"
        "unused() {\n    a\n}\n"
    )
    assert templating.called_by(helpers, "a\n") == (
        "# c: the last.\nc() {\n    :\n}\n\nb() {\n    c\n}\n\n# a calls b.\na() {\n    b x\n}\n\n"
    )
    assert templating.called_by(helpers, 'echo "a"\n') == ""
    with pytest.raises(ValueError, match="defines"):
        templating.called_by("a() {\n}\nb() {\n}\n", "a\n")


@pytest.mark.parametrize(("command", "kept"), [("wait_until ready 10 true", True), ("true", False)])
def test_a_helper_only_a_value_calls_is_kept(command: str, kept: bool) -> None:
    env = _env(
        step="{% extends 'common/script.sh.j2' %}"
        "{% block needs %}true{% endblock %}{% block body %}\n{{ command }}\n{% endblock %}"
    )
    text = env.get_template("step").render({**_context("el9-3host"), "command": command})
    assert ("\nwait_until() {\n" in text) is kept
    assert problems(text) == []
