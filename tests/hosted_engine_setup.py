"""What `hosted-engine --deploy` of ovirt-hosted-engine-setup 2.7 does with an answer file,
for the fake cluster's stand-in (fakehost_engine.deploy) and its administrator (fakehost.py);
and which keys 1.2.6.1, ovirt35-el7's, reads (fakehost_el7._deploy).

Everything about the setup's keys comes from the tables tests/data/hosted-engine-setup/
extract.py makes from the upstream source (each one's "provenance" names the repository, tag
and commit), one a version (TABLES): answers.json for 2.7.2, the default, and
answers-1.2.6.1.json; nothing here lists keys by hand. table(), keys() and unread() take the
version; the questions and the dialog (questions(), converse(), open_questions()) are 2.7.2's
only: the el7 stand-in checks the keys and asks nothing. The
answer-file syntax and the dialog are otopi's (https://github.com/oVirt/otopi, tag
otopi-1.10.4, commit d6db3dc551f0016b65c7cd447bdd14a10ee84a87) and ovirt-setup-lib's
(https://github.com/oVirt/ovirt-setup-lib, tag ovirt-setup-lib-1.3.4), cited where used.

The questions are asked in the order of otopi's stages, then by plugin file and line. That
approximates the real order: within a stage otopi orders the plugins' methods by their
before/after/priority, which this does not follow. The table's conditions are evaluated as far
as they can be; a condition that cannot (a plugin attribute, a local variable the table kept
as written) counts as met, so the question is asked. Conditions on the typed answer itself
(`answer`) are the plugins' validation of it, not modelled beyond otopi's own (valid values,
no empty answer without a default).
"""

from __future__ import annotations

import ast
import configparser
import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "hosted-engine-setup"
# The setup's version -> its table (extract.py's output for tag ovirt-hosted-engine-setup-
# VERSION): 2.7.2 for ovirt45-el9, 1.2.6.1 for ovirt35-el7.
TABLES = {"2.7.2": DATA / "answers.json", "1.2.6.1": DATA / "answers-1.2.6.1.json"}
VERSION = "2.7.2"  # the default: ovirt45-el9's, whose deploy the dialog below follows
TABLE = TABLES[VERSION]

# otopi-1.10.4 src/otopi/plugin.py:60-200, Stages: the order otopi runs the stages in, and the
# description its "Failed to execute stage" message names.
STAGES = {
    "STAGE_BOOT": "Booting",
    "STAGE_INIT": "Initializing",
    "STAGE_SETUP": "Environment setup",
    "STAGE_INTERNAL_PACKAGES": "Environment packages setup",
    "STAGE_PROGRAMS": "Programs detection",
    "STAGE_LATE_SETUP": "Environment setup (late)",
    "STAGE_CUSTOMIZATION": "Environment customization",
    "STAGE_VALIDATION": "Setup validation",
    "STAGE_TRANSACTION_BEGIN": "Transaction setup",
    "STAGE_EARLY_MISC": "Misc configuration (early)",
    "STAGE_PACKAGES": "Package installation",
    "STAGE_MISC": "Misc configuration",
    "STAGE_TRANSACTION_END": "Transaction commit",
    "STAGE_CLOSEUP": "Closing up",
    "STAGE_CLEANUP": "Clean up",
    "STAGE_PRE_TERMINATE": "Pre-termination",
    "STAGE_TERMINATE": "Termination",
}
# otopi-1.10.4 src/otopi/constants.py:66-68: the sections of an answer (config) file otopi
# reads into the environment; src/plugins/otopi/core/config.py:161-168 and 195-198.
SECTIONS = ("environment:default", "environment:init", "environment:override")


class AnswerFileError(Exception):
    """What otopi or the stand-in says of an answer file it will not use."""


class DeployFailed(Exception):
    """The deploy stopped in its dialog: the message otopi prints."""


@cache
def table(version: str = VERSION) -> dict[str, Any]:
    """The table of the setup at `version` (a key of TABLES)."""
    loaded: dict[str, Any] = json.loads(TABLES[version].read_text())
    tag = loaded["provenance"]["tag"]
    if tag != f"ovirt-hosted-engine-setup-{version}":
        raise ValueError(f"{TABLES[version]} was extracted from {tag}, not {version}")
    return loaded


def keys(version: str = VERSION) -> dict[str, dict[str, Any]]:
    """Every key the setup at `version` reads, with its record."""
    return table(version)["keys"]  # type: ignore[no-any-return]


def parse_typed(value: str) -> Any:
    """otopi's `type:value` (otopi-1.10.4 src/otopi/common.py:22-45, parseTypedValue; the
    type names are constants.py:54-58): none, bool (true unless 0/f/F/false/False), int, str,
    multi-str (split into lines). otopi's own lines:

        vtype, value = value.split(':', 1)
        ...
        elif vtype == constants.Types.BOOLEAN:
            value = value not in (0, 'f', 'F', 'false', 'False')
    """
    try:
        vtype, value = value.split(":", 1)
    except ValueError:
        raise ValueError("Missing variable type") from None
    if vtype == "none":
        return None
    if vtype == "bool":
        return value not in ("0", "f", "F", "false", "False")
    if vtype == "int":
        return int(value)
    if vtype == "str":
        return value
    if vtype == "multi-str":
        return value.splitlines()
    raise KeyError(f"Invalid variable type {vtype}")


def read_answers(text: str) -> dict[str, Any]:
    """An answer file as otopi reads it: configparser.RawConfigParser with case kept
    (otopi-1.10.4 src/plugins/otopi/core/config.py:85-86), its [environment:default], :init
    and :override sections (config.py:161-168, 195-198), each value through parseTypedValue
    (config.py:48-63, whose message this raises for a bad value).

    otopi-1.3.2, which ovirt-hosted-engine-setup 1.2.6.1 requires (its spec's Requires: otopi >=
    1.3.2), reads the same sections with the same parseTypedValue and message (src/plugins/
    otopi/core/config.py:59-83, 136-143, 170-173; src/otopi/common.py:34-57), but with
    ConfigParser, Python 2's under EL7 (src/otopi/__init__.py:33-34), which interpolates
    `%(name)s` in a value and strips a ` ;` comment after one (Python 2.7 Lib/ConfigParser.py,
    ConfigParser.items and RawConfigParser._read): neither is in the answers the scripts
    write."""
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    answers: dict[str, Any] = {}
    for section in SECTIONS:
        if not parser.has_section(section):
            continue
        for name, value in parser.items(section):
            try:
                answers[name] = parse_typed(value)
            except Exception as e:
                raise AnswerFileError(
                    f"Cannot parse configuration file key {name} at section {section}: {e}"
                ) from None
    return answers


def unread(answers: Mapping[str, Any], version: str = VERSION) -> list[str]:
    """The answers the setup at `version` never reads: not keys of its table. The real setup
    keeps them in its environment and goes on; the stand-ins refuse them (see
    fakehost_engine.deploy, fakehost_el7._deploy)."""
    read = keys(version)
    return [k for k in answers if k not in read]


# -- the questions ---------------------------------------------------------------------------


@dataclass
class Question:
    key: str
    ask: dict[str, Any]
    aborts_if: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.ask['file']}:{self.ask['line']}"

    @property
    def order(self) -> tuple[int, str, int]:
        return (
            list(STAGES).index(self.ask["stage"] or "STAGE_CUSTOMIZATION"),
            self.ask["file"],
            self.ask["line"],
        )


@cache
def questions() -> list[Question]:
    """Every key the setup asks for when it is missing, in the order they are asked here."""
    found = [
        Question(key, record["ask"], [a.split("  # ")[0] for a in record.get("aborts_if", [])])
        for key, record in keys().items()
        if record.get("asked")
    ]
    return sorted(found, key=lambda q: q.order)


@cache
def _plugin_sets() -> list[tuple[tuple[int, str, int], str, Any, list[str]]]:
    """The values plugins set whatever the answers said (the table's set_by_plugin)."""
    sets = []
    for key, record in keys().items():
        for s in record.get("set_by_plugin", []):
            order = (list(STAGES).index(s["stage"]), s["file"], s["line"])
            sets.append((order, key, s["value"], s["conditions"]))
    return sorted(sets, key=lambda s: s[0])


class Unknown(Exception):
    pass


def evaluate(
    text: str, env: Mapping[str, Any], environ: Mapping[str, str], answer: Any = None
) -> Any:
    """A condition of the table: env['KEY'], `answer`, constants, comparisons, not/and/or,
    os.getenv (the stand-in's own environment is the one the real setup would see), and a few
    str methods. Anything else is Unknown."""

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name) and node.id == "answer":
            return answer
        if isinstance(node, (ast.Tuple, ast.List)):
            return [ev(e) for e in node.elts]
        if isinstance(node, ast.Subscript):
            if (
                isinstance(node.value, ast.Name)
                and node.value.id == "env"
                and isinstance(node.slice, ast.Constant)
            ):
                return env.get(node.slice.value)
            if isinstance(node.value, (ast.Tuple, ast.List, ast.Constant)):
                return ev(node.value)[ev(node.slice)]
            raise Unknown
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not ev(node.operand)
        if isinstance(node, ast.BoolOp):
            values = [ev(v) for v in node.values]
            if isinstance(node.op, ast.And):
                return all(values)
            return any(values)
        if isinstance(node, ast.IfExp):
            return ev(node.body) if ev(node.test) else ev(node.orelse)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right, op = ev(node.left), ev(node.comparators[0]), node.ops[0]
            compare: dict[type, Callable[[Any, Any], bool]] = {
                ast.Eq: lambda a, b: a == b,
                ast.NotEq: lambda a, b: a != b,
                ast.Is: lambda a, b: a is b,
                ast.IsNot: lambda a, b: a is not b,
                ast.In: lambda a, b: a in b,
                ast.NotIn: lambda a, b: a not in b,
            }
            if type(op) in compare:
                return compare[type(op)](left, right)
            raise Unknown
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "os"
                and func.attr == "getenv"
            ):
                return environ.get(*[ev(a) for a in node.args])
            if isinstance(func, ast.Attribute) and func.attr in ("strip", "lower", "upper"):
                value = ev(func.value)
                if isinstance(value, str):
                    return getattr(value, func.attr)()
            if isinstance(func, ast.Name) and func.id in ("int", "str") and len(node.args) == 1:
                return {"int": int, "str": str}[func.id](ev(node.args[0]))
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "env"
                and func.attr == "get"
            ):
                return env.get(*[ev(a) for a in node.args])
        raise Unknown

    return ev(ast.parse(text, mode="eval").body)


def _met(conditions: list[str], env: Mapping[str, Any], environ: Mapping[str, str]) -> bool:
    for condition in conditions:
        names = {
            n.id for n in ast.walk(ast.parse(condition, mode="eval")) if isinstance(n, ast.Name)
        }
        if "answer" in names:
            continue  # the plugin's check of the typed answer
        try:
            if not evaluate(condition, env, environ):
                return False
        except Unknown:
            continue  # counted as met: the question is asked
        except Exception:
            continue
    return True


def prompt(question: Question, default: str | None) -> str:
    """The note otopi shows: @VALUES@ and @DEFAULT@ replaced (otopi-1.10.4
    src/otopi/dialog.py:281-310); a question without a note gets "Please specify 'NAME'"."""
    ask = question.ask
    note = ask["prompt"]
    valid = ask.get("valid_values")
    if note is None:
        note = f"\nPlease specify '{ask['name']}'"
        if valid is not None:
            note += " (@VALUES@)"
        if default is not None:
            note += " [@DEFAULT@]"
    if valid is not None:
        note = note.replace("@VALUES@", ", ".join(str(v) for v in valid))
    if default is not None:
        note = note.replace("@DEFAULT@", default)
    return str(note)


def default_of(
    question: Question, env: Mapping[str, Any], environ: Mapping[str, str]
) -> str | None:
    """The default the query offers. One the host computes (the gateway, the memory, a random
    MAC) the table gives as source: the fake host offers `<source>` as its value."""
    ask = question.ask
    if "default" in ask:
        return ask["default"]  # type: ignore[no-any-return]
    source = ask.get("default_source")
    if source is None:
        return None
    try:
        value = evaluate(source, env, environ)
    except Exception:
        value = None
    # None too: what the host or the appliance gives (env['OVEHOSTED_VM/applianceVCpus'] is
    # read from the appliance's OVF).
    return f"<{source}>" if value is None else str(value)


def converse(
    answers: Mapping[str, Any],
    environ: Mapping[str, str],
    read_line: Callable[[bool], str],
    write: Callable[[str], None],
    asked: list[Question] | None = None,
) -> dict[str, Any]:
    """Run the setup's dialog over the answers: the environment it ends with and the questions
    it asked, appended to `asked`. `read_line(hidden)` gives one typed line, or raises EOFError; `write` shows text.
    Raises DeployFailed with otopi's message where the real one stops."""
    env: dict[str, Any] = {}
    # Plugins' setdefault() runs at their init; otopi reads [environment:default] before
    # (otopi-1.10.4 src/plugins/otopi/core/config.py:89-97, priority HIGH - 10), so the answers
    # win over the defaults.
    for key, record in keys().items():
        if "setdefault" in record:
            env[key] = record["setdefault"]
    env.update(answers)
    events: list[tuple[tuple[int, str, int], Any]] = [(q.order, q) for q in questions()]
    events += [(order, (key, value, conds)) for order, key, value, conds in _plugin_sets()]
    asked = [] if asked is None else asked
    for _order, event in sorted(events, key=lambda e: e[0]):
        if not isinstance(event, Question):
            key, value, conds = event
            if _met(conds, env, environ):
                env[key] = value
            continue
        question = event
        if not _met(question.ask["conditions"], env, environ):
            continue
        asked.append(question)
        answer = _query(question, env, environ, read_line, write)
        try:
            env[question.key] = evaluate(question.ask["store"], env, environ, answer)
        except Unknown:
            env[question.key] = answer
        for test in question.aborts_if:
            try:
                aborted = evaluate(test, env, environ)
            except Unknown:
                aborted = False
            if aborted:
                # otopi-1.10.4 src/otopi/context.py:147-149: an Abort is logged as a warning.
                raise DeployFailed("[WARNING] Aborted")
    return env


def _query(
    question: Question,
    env: Mapping[str, Any],
    environ: Mapping[str, str],
    read_line: Callable[[bool], str],
    write: Callable[[str], None],
) -> str:
    """otopi's human dialog queryString (otopi-1.10.4 src/plugins/otopi/dialog/human.py:
    164-241): show the note, read a line; an empty line takes the default; without
    caseSensitive the answer is lowercased; a value not among the valid ones is "Invalid value",
    an empty one without a default "Please specify value", and it asks again. A question the
    plugin confirms (a password) is asked twice and must match (ovirt-hosted-engine-setup
    src/plugins/gr-he-common/engine/ca.py:96-119)."""
    ask = question.ask
    default = default_of(question, env, environ)
    case_sensitive = ask.get("case_sensitive", True)
    valid = ask.get("valid_values")
    if valid is not None and not case_sensitive:
        valid = [str(v).lower() for v in valid]
    while True:
        value = _line(prompt(question, default), ask, read_line, write)
        if not value and default is not None:
            value = default
        if not case_sensitive:
            value = value.lower()
        if valid is not None and value not in valid:
            write("[ ERROR ] Invalid value\n")
            continue
        if not value and value != default:
            write("[ ERROR ] Please specify value\n")
            continue
        if ask.get("confirm_prompt"):
            again = _line(ask["confirm_prompt"], ask, read_line, write)
            if again != value:
                write("[ ERROR ] Passwords do not match\n")
                continue
        return value


def _line(
    note: str, ask: dict[str, Any], read_line: Callable[[bool], str], write: Callable[[str], None]
) -> str:
    # otopi's human dialog note(): each line after nine spaces and one more
    # (src/plugins/otopi/dialog/human.py:121-162), the last without a newline (prompt=True).
    lines = note.split("\n")
    write("".join(f"          {line}\n" if line else "\n" for line in lines[:-1]))
    write(f"          {lines[-1]}")
    try:
        return read_line(bool(ask.get("hidden")))
    except EOFError:
        # otopi-1.10.4 src/otopi/dialog.py:245-248: readline() at the end of standard input
        # raises IOError('End of file'), which context.py:150-156 reports as a failed stage.
        stage = STAGES.get(ask["stage"] or "", "Environment customization")
        raise DeployFailed(f"[ ERROR ] Failed to execute stage '{stage}': End of file") from None


def open_questions(answers: Mapping[str, Any], environ: Mapping[str, str]) -> list[Question]:
    """The questions a deploy with these answers asks when each is given its default (what
    the fake cluster's administrator does, typing the password at a hidden one)."""

    lines = 0

    def typed(hidden: bool) -> str:
        nonlocal lines
        lines += 1
        if lines > 4 * len(questions()):  # a default the dialog refuses, asked again and again
            raise EOFError
        return "password" if hidden else ""

    asked: list[Question] = []

    def write(_text: str) -> None:
        pass

    with contextlib.suppress(DeployFailed):  # the questions up to where it stops
        converse(answers, environ, typed, write, asked)
    return asked
