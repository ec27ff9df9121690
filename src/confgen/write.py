"""Write: put a rendered tree on disk. The only stage that touches the file system."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from confgen.errors import OutputError, error
from confgen.render import RenderedFile


def write_tree(files: Mapping[str, RenderedFile], out_dir: str | Path) -> list[str]:
    """Write every file under `out_dir`; return the relative paths whose bytes changed.

    A file whose content and mode are already right is left alone, so its mtime stays.
    """
    root = Path(out_dir)
    changed = []
    try:
        for relative, file in sorted(files.items()):
            target = root / relative
            data = file.text.encode("utf-8")
            if target.is_file() and target.read_bytes() == data:
                if target.stat().st_mode & 0o7777 != file.mode:
                    os.chmod(target, file.mode)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            os.chmod(target, file.mode)
            changed.append(relative)
    except OSError as exc:
        raise OutputError(
            [error("", f"cannot write {exc.filename or root}: {exc.strerror}")]
        ) from None
    return changed
