"""What confgen reports about a user's input, and the exceptions that carry it."""

from __future__ import annotations

import datetime
import enum
import reprlib
from collections.abc import Iterable

from confgen.records import record


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@record
class Problem:
    """One thing wrong with the input: where (a key path such as `hosts[1].fqdn`) and what."""

    severity: Severity
    path: str
    message: str
    line: int | None = None  # where the key is in the cluster file, when it is there

    def __str__(self) -> str:
        # A key may hold any character, a NUL or a line break too: never printed raw.
        where = f"{printable(self.path)}: " if self.path else ""
        kind = "" if self.severity is Severity.ERROR else "warning: "
        return f"{kind}{where}{self.message}"


def printable(text: str) -> str:
    """`text` with each unprintable character (a control, a line break, a bidi override) as
    TOML escapes it, `\\u0000`: what a message prints of a key or a file name."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\u{ord(c):04X}" for c in text)


def in_line_order(problems: Iterable[Problem]) -> list[Problem]:
    """Problems as a reader meets them in the file: by line, those of the whole file (no line)
    first, in the order found where lines are equal."""
    return sorted(problems, key=lambda p: p.line if p.line is not None else 0)


class _Toml(reprlib.Repr):
    """repr, cut short, in TOML's words where Python's differ: true, a date, { key = value }."""

    def repr_bool(self, value: bool, level: int) -> str:
        return "true" if value else "false"

    def repr_datetime(self, value: datetime.datetime, level: int) -> str:
        return value.isoformat()

    def repr_date(self, value: datetime.date, level: int) -> str:
        return value.isoformat()

    def repr_time(self, value: datetime.time, level: int) -> str:
        return value.isoformat()

    def repr_dict(self, value: dict[object, object], level: int) -> str:
        if not value:
            return "{}"
        if level <= 0:
            return "{ ... }"
        items = [
            f"{k if isinstance(k, str) and k.isidentifier() else self.repr1(k, level - 1)} = "
            f"{self.repr1(v, level - 1)}"
            for k, v in list(value.items())[: self.maxdict]
        ]
        more = ", ..." if len(value) > self.maxdict else ""
        return "{ " + ", ".join(items) + more + " }"


_SHORT = _Toml()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 3, 6, 4


def quoted(value: object) -> str:
    """A value as a message quotes it: repr, cut short, so no message repeats a huge value or
    nests without end; in TOML's words (true, not True), a date said to be one."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        # str() of an integer over 4,300 digits raises; its length follows from its bits.
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, datetime.date | datetime.time):
        # TOML reads 1979-05-27 unquoted as a date: say so, not datetime.date(1979, 5, 27).
        return f"the {'time' if isinstance(value, datetime.time) else 'date'} {value.isoformat()}"
    return _SHORT.repr(value)


class ConfgenError(Exception):
    """A problem with the user's input or output tree; the CLI prints it without a traceback."""

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = problems
        self.source = source  # the file the problems are in, when there is one
        super().__init__("\n".join(_located(source, p) for p in problems))


def _located(source: str | None, problem: Problem) -> str:
    """`cluster.toml:12: hosts[0].fqdn: ...`, as compilers name a place in a file."""
    if source is None:
        return str(problem)
    source = printable(source)
    where = f"{source}:{problem.line}" if problem.line is not None else source
    return f"{where}: {problem}"


class LoadError(ConfgenError):
    """The cluster file could not be read, parsed or structured into models."""


class ValidationError(ConfgenError):
    """The cluster file parsed, but breaks a rule that relates its parts."""


class OutputError(ConfgenError):
    """The output tree could not be written."""


class PlanCheckError(Exception):
    """A bug in confgen: the plan of a valid cluster breaks a rule the target programs enforce.

    Not a ConfgenError: nothing in the user's file is wrong. It carries what broke and the
    cluster, so the report can be acted on.
    """

    def __init__(self, failures: list[str], cluster: object) -> None:
        self.failures = failures
        self.cluster = cluster
        super().__init__(
            "confgen planned what the target programs would refuse (a bug in confgen; please "
            "report it with your cluster file):\n" + "\n".join(f"  {f}" for f in failures)
        )


def error(path: str, message: str, *, line: int | None = None) -> Problem:
    return Problem(severity=Severity.ERROR, path=path, message=message, line=line)


def warning(path: str, message: str, *, line: int | None = None) -> Problem:
    return Problem(severity=Severity.WARNING, path=path, message=message, line=line)
