"""confgen's version: the package's (hatch reads it here), the CLI's `--version`, and what the
manifest of every tree it writes records."""

__version__ = "0.1.0"
