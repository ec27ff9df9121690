"""What confgen reports about a user's input, and the exceptions that carry it."""

from __future__ import annotations

import enum
import reprlib

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
        where = f"{self.path}: " if self.path else ""
        kind = "" if self.severity is Severity.ERROR else "warning: "
        return f"{kind}{where}{self.message}"


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 3, 6, 4


def quoted(value: object) -> str:
    """A value as a message quotes it: repr, cut short, so no message repeats a huge value or
    nests without end."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        # str() of an integer over 4,300 digits raises; its length follows from its bits.
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
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
