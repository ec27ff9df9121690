"""The package manager (yum on EL7, dnf on EL9): the packages a cluster installs, of which the
scripts need some."""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Sequence

from confgen.errors import Problem, error
from confgen.planner import Check
from confgen.validator import form


def names(key: str, packages: Sequence[str]) -> Iterator[Problem]:
    """Each package of the list at `key` is a package name."""
    for i, package in enumerate(packages):
        yield from form(f"{key}[{i}]", package, "package")


def required(install: Sequence[str], needed: Sequence[tuple[str, str]]) -> Iterator[Problem]:
    """`packages.install` keeps each package of `needed` (package, what the scripts need of
    it)."""
    for package, brings in needed:
        if package not in install:
            yield error(
                "packages.install",
                f"{package} is missing: the scripts need {brings}; add it to the list",
            )


def installed(on: str, install: Sequence[str]) -> Check:
    """rpm -q names each package it finds and says "package X is not installed" of the
    others (rpm(8))."""
    return Check(
        on=on,
        command=shlex.join(["rpm", "-q", *install]),
        not_shows=("is not installed",),
    )
