"""Build hook: compile confgen's templates into Python modules inside the package.

Runs for the wheel and for editable installs alike (`pip install -e .`), writing
`src/confgen/_compiled/`, which git ignores and the wheel ships. See `confgen/templating.py`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileTemplates(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        # Loaded by its path: importing the confgen package would need its dependencies,
        # which the build environment does not have.
        spec = importlib.util.spec_from_file_location(
            "_confgen_templating", root / "src" / "confgen" / "templating.py"
        )
        assert spec is not None and spec.loader is not None
        templating = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(templating)
        templating.compile_templates(root / "templates", root / "src" / "confgen" / "_compiled")
