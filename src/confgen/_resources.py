"""Find confgen's package data both in an installed wheel and in an editable checkout."""

from __future__ import annotations

from pathlib import Path

# The package's own folder. Not importlib.resources: it costs an import on every run, and the
# templates must be a real folder for Jinja2's loader anyway.
_PACKAGE = Path(__file__).resolve().parent


def templates_dir() -> Path:
    """The templates folder: `confgen/templates` in a wheel, `templates/` in a checkout."""
    packaged = _PACKAGE / "templates"
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE.parents[1] / "templates"
    if checkout.is_dir():
        return checkout
    raise RuntimeError(f"confgen's templates are missing: looked in {packaged} and {checkout}")


def compiled_dir() -> Path:
    """Where the package build put the compiled templates (see `confgen.templating`)."""
    return _PACKAGE / "_compiled"
