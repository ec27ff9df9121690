"""Write: put a rendered tree on disk, whole or not at all. The only stage that writes files.

The new tree is built in a staging folder beside the target and swapped in with two renames,
so a failure (or a kill) while writing leaves the previous tree as it was. A manifest in the
tree records every file's sha256 and mode: it marks the folder as confgen's, and shows which
files were edited by hand since, which are then only overwritten with `force`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from attrs import frozen

from confgen.errors import OutputError, Problem, error
from confgen.render import RenderedFile

MANIFEST = ".confgen-manifest.json"


@frozen(kw_only=True)
class _Entry:
    sha256: str
    mode: int


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest_text(files: Mapping[str, RenderedFile]) -> str:
    entries = {
        path: {"sha256": _sha256(f.text.encode()), "mode": f"{f.mode:04o}"}
        for path, f in sorted(files.items())
    }
    return json.dumps({"generator": "confgen", "files": entries}, indent=1) + "\n"


def _staging(root: Path) -> Path:
    return root.parent / f".{root.name}.confgen-new"


def _previous(root: Path) -> Path:
    return root.parent / f".{root.name}.confgen-old"


def _recover(root: Path) -> None:
    """Finish what an interrupted write left: the old tree back in place, no staging folder."""
    if not root.exists() and _previous(root).is_dir():
        os.rename(_previous(root), root)
    for leftover in (_staging(root), _previous(root)):
        if leftover.exists():
            shutil.rmtree(leftover)


def _read_manifest(root: Path) -> dict[str, _Entry] | None:
    """The manifest of an existing tree; None for a folder that is missing or empty."""
    if not root.exists():
        return None
    if not root.is_dir():
        raise OutputError([error("", f"{root} exists and is not a folder")])
    manifest = root / MANIFEST
    if not manifest.is_file():
        if any(root.iterdir()):
            raise OutputError(
                [
                    error(
                        "",
                        f"{root} is not empty and confgen did not create it "
                        f"(it has no {MANIFEST}); choose another folder",
                    )
                ]
            )
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return {
            path: _Entry(sha256=entry["sha256"], mode=int(entry["mode"], 8))
            for path, entry in data["files"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        raise OutputError(
            [error("", f"{manifest} is damaged; move {root} aside and render again")]
        ) from None


def _on_disk(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()} - {
        MANIFEST
    }


def _conflicts(
    root: Path, files: Mapping[str, RenderedFile], manifest: dict[str, _Entry]
) -> list[Problem]:
    """Files a write would overwrite or remove that confgen did not write as they are now."""
    problems = []
    for path in sorted(_on_disk(root)):
        current = (root / path).read_bytes() if (root / path).is_file() else b""
        wanted = files[path].text.encode() if path in files else None
        if wanted == current:
            continue
        entry = manifest.get(path)
        if entry is None:
            problems.append(error(path, "is not confgen's: a render would remove it"))
        elif entry.sha256 != _sha256(current):
            action = "overwrite" if wanted is not None else "remove"
            problems.append(
                error(path, f"was edited since confgen wrote it: a render would {action} it")
            )
    return problems


def write_tree(
    files: Mapping[str, RenderedFile], out_dir: str | Path, *, force: bool = False
) -> list[str]:
    """Make `out_dir` hold exactly `files` and their manifest; return the paths written.

    Unchanged files keep their inode and mtime; a tree with nothing to change is not touched.
    Refuses (`OutputError`, listing every file) to overwrite or remove hand-edited or foreign
    files unless `force`.
    """
    root = Path(out_dir)
    try:
        _recover(root)
        manifest = _read_manifest(root)
        if manifest is not None:
            conflicts = _conflicts(root, files, manifest)
            if conflicts and not force:
                raise OutputError(
                    [
                        *conflicts,
                        error(
                            "",
                            f"nothing was written to {root}; pass --force to replace those files",
                        ),
                    ]
                )
        return _swap_in(root, files, manifest is not None)
    except OSError as exc:
        raise OutputError(
            [error("", f"cannot write {exc.filename or root}: {exc.strerror}")]
        ) from None


def _swap_in(root: Path, files: Mapping[str, RenderedFile], has_tree: bool) -> list[str]:
    manifest_text = _manifest_text(files)
    changed = [
        path for path, f in sorted(files.items()) if not _same(root / path, f.text.encode(), f.mode)
    ]
    unchanged = set(files) - set(changed)
    if (
        has_tree
        and not changed
        and _on_disk(root) == set(files)
        and (root / MANIFEST).read_text(encoding="utf-8") == manifest_text
    ):
        return []
    staging = _staging(root)
    try:
        for path, f in sorted(files.items()):
            _place(root / path, staging / path, f, unchanged=path in unchanged)
        (staging / MANIFEST).write_text(manifest_text, encoding="utf-8")
        if root.exists():
            os.rename(root, _previous(root))
        os.rename(staging, root)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    if _previous(root).exists():
        shutil.rmtree(_previous(root))
    return changed


def _same(path: Path, data: bytes, mode: int) -> bool:
    return (
        path.is_file()
        and not path.is_symlink()
        and path.stat().st_mode & 0o7777 == mode
        and path.read_bytes() == data
    )


def _place(old: Path, new: Path, file: RenderedFile, *, unchanged: bool) -> None:
    """Put one file into the staging tree: a hard link to the unchanged old file, or new bytes."""
    new.parent.mkdir(parents=True, exist_ok=True)
    if unchanged:
        try:
            os.link(old, new)  # same inode: its mtime survives the swap
            return
        except OSError:
            shutil.copy2(old, new)
            return
    _write_file(new, file.text.encode(), file.mode)


def _write_file(path: Path, data: bytes, mode: int) -> None:
    path.write_bytes(data)
    os.chmod(path, mode)


def diff_tree(files: Mapping[str, RenderedFile], out_dir: str | Path) -> list[str]:
    """Unified diffs of what writing `files` into `out_dir` would change; empty when nothing."""
    root = Path(out_dir)
    present = _on_disk(root) if root.is_dir() else set()
    chunks = []
    for path in sorted(present | set(files)):
        target = root / path
        old = target.read_bytes().decode("utf-8", "replace") if path in present else ""
        new = files[path].text if path in files else ""
        old_name = f"a/{path}" if path in present else "/dev/null"
        new_name = f"b/{path}" if path in files else "/dev/null"
        if old != new:
            chunks.append(
                "".join(
                    difflib.unified_diff(
                        old.splitlines(keepends=True),
                        new.splitlines(keepends=True),
                        old_name,
                        new_name,
                    )
                )
            )
        elif (
            path in files and path in present and target.stat().st_mode & 0o7777 != files[path].mode
        ):
            chunks.append(
                f"mode of {path}: {target.stat().st_mode & 0o7777:04o} -> {files[path].mode:04o}\n"
            )
    return chunks
