"""Find confgen's package data both in an installed wheel and in an editable checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def templates_dir() -> Path:
    """The templates folder: `confgen/templates` in a wheel, `templates/` in a checkout."""
    packaged = Path(str(resources.files("confgen"))) / "templates"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if checkout.is_dir():
        return checkout
    raise RuntimeError(f"confgen's templates are missing: looked in {packaged} and {checkout}")


def example_text() -> str:
    """The built-in example cluster file that `confgen init` writes."""
    return resources.files("confgen").joinpath("example.toml").read_text(encoding="utf-8")
