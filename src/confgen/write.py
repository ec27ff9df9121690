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
from collections.abc import Iterable, Mapping
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


def _manifest_text(entries: Mapping[str, _Entry]) -> str:
    listed = {
        path: {"sha256": e.sha256, "mode": f"{e.mode:04o}"} for path, e in sorted(entries.items())
    }
    return json.dumps({"generator": "confgen", "files": listed}, indent=1) + "\n"


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
    """Every file and symlink below `root` but the manifest, as paths relative to it."""
    found: set[str] = set()
    folders = [""]
    while folders:
        folder = folders.pop()
        with os.scandir(root / folder) as entries:
            for entry in entries:
                path = f"{folder}{entry.name}"
                if entry.is_symlink() or entry.is_file(follow_symlinks=False):
                    found.add(path)
                elif entry.is_dir(follow_symlinks=False):
                    folders.append(f"{path}/")
    found.discard(MANIFEST)
    return found


def _current(path: Path) -> tuple[bytes, bool]:
    """A file's bytes (through a symlink; b"" for anything else that is not a file), and
    whether it is a plain file with exactly this content to keep."""
    if path.is_symlink():
        return (path.read_bytes() if path.is_file() else b""), False
    return (path.read_bytes() if path.is_file() else b""), True


class _Staging:
    """The new tree, built beside the old one; started only once something differs from it.

    Until then an unchanged file is only noted, so rendering an unchanged tree again creates
    nothing at all. Once started, each unchanged file is a hard link to the old one: same inode,
    so its mtime survives the swap.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = _staging(root)
        self.started = False
        self._unchanged: list[str] = []
        self._folders: set[Path] = set()

    def keep(self, path: str) -> None:
        if self.started:
            self._link(path)
        else:
            self._unchanged.append(path)

    def write(self, path: str, data: bytes, mode: int) -> None:
        self.start()
        _write_file(self._folder_of(path) / path.rsplit("/", 1)[-1], data, mode)

    def start(self) -> None:
        if not self.started:
            self.path.mkdir(parents=True)
            self.started = True
            for path in self._unchanged:
                self._link(path)
            self._unchanged.clear()

    def _folder_of(self, path: str) -> Path:
        folder = (self.path / path).parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        return folder

    def _link(self, path: str) -> None:
        new = self._folder_of(path) / path.rsplit("/", 1)[-1]
        try:
            os.link(self.root / path, new)
        except OSError:
            shutil.copy2(self.root / path, new)


def write_tree(
    files: Mapping[str, RenderedFile] | Iterable[tuple[str, RenderedFile]],
    out_dir: str | Path,
    *,
    force: bool = False,
) -> list[str]:
    """Make `out_dir` hold exactly `files` and their manifest; return the paths written.

    `files` is a mapping or, to hold one file in memory at a time, an iterable of (path, file)
    pairs such as `render_files` yields. Unchanged files keep their inode and mtime; a tree with
    nothing to change is not touched. Refuses (`OutputError`, listing every file) to overwrite or
    remove hand-edited or foreign files unless `force`; then nothing is written.
    """
    root = Path(out_dir)
    pairs = files.items() if isinstance(files, Mapping) else files
    staging = _Staging(root)
    try:
        _recover(root)
        manifest = _read_manifest(root)
        on_disk = _on_disk(root) if manifest is not None else set()
        written: dict[str, _Entry] = {}
        changed: list[str] = []
        conflicts: list[Problem] = []

        def check(path: str, current: bytes, wanted: bytes | None) -> None:
            entry = manifest.get(path) if manifest is not None else None
            action = "overwrite" if wanted is not None else "remove"
            if entry is None:
                conflicts.append(error(path, f"is not confgen's: a render would {action} it"))
            elif entry.sha256 != _sha256(current):
                conflicts.append(
                    error(path, f"was edited since confgen wrote it: a render would {action} it")
                )

        for path, file in pairs:
            data = file.text.encode()
            written[path] = _Entry(sha256=_sha256(data), mode=file.mode)
            if path in on_disk:
                current, plain = _current(root / path)
                if current == data and plain and _mode(root / path) == file.mode:
                    staging.keep(path)
                    continue
                if current != data:
                    check(path, current, data)
            staging.write(path, data, file.mode)
            changed.append(path)
        removed = sorted(on_disk - written.keys())
        for path in removed:
            check(path, _current(root / path)[0], None)
        if conflicts and not force:
            conflicts.sort(key=lambda p: p.path)
            raise OutputError(
                [
                    *conflicts,
                    error(
                        "", f"nothing was written to {root}; pass --force to replace those files"
                    ),
                ]
            )
        manifest_text = _manifest_text(written)
        if (
            manifest is not None
            and not changed
            and not removed
            and (root / MANIFEST).read_text(encoding="utf-8") == manifest_text
        ):
            return []
        staging.start()
        (staging.path / MANIFEST).write_text(manifest_text, encoding="utf-8")
        if root.exists():
            os.rename(root, _previous(root))
        os.rename(staging.path, root)
        if _previous(root).exists():
            shutil.rmtree(_previous(root))
        return sorted(changed)
    except OSError as exc:
        raise OutputError(
            [error("", f"cannot write {exc.filename or root}: {exc.strerror}")]
        ) from None
    finally:
        if staging.path.exists():
            shutil.rmtree(staging.path)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def _write_file(path: Path, data: bytes, mode: int) -> None:
    with open(path, "wb") as f:
        f.write(data)
        os.fchmod(f.fileno(), mode)


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
