"""Every test of the real cluster needs root, systemd-nspawn and debootstrap (CI installs
them): without them it fails under CI=true and is skipped elsewhere, naming what is missing."""

from __future__ import annotations

import os

import pytest

from .machines import missing_prerequisites


@pytest.fixture(autouse=True)
def _machines_can_run() -> None:
    missing = missing_prerequisites()
    if missing:
        message = "the real cluster needs " + "; ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
