"""Write: put a rendered tree on disk, whole or not at all. The only stage that writes files.

The new tree is built in a staging folder beside the target and swapped in with two renames,
so a failure (or a kill) while writing leaves the previous tree as it was. A manifest in the
tree records every file's sha256 and mode: it marks the folder as confgen's, and shows which
files were edited by hand since, which are then only overwritten with `force`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from confgen.errors import OutputError, Problem, error
from confgen.planner import Source
from confgen.records import record
from confgen.renderer import RenderedFile

MANIFEST = ".confgen-manifest.json"


@record
class _Entry:
    sha256: str
    mode: int


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest_text(entries: Mapping[str, _Entry], source: Source | None) -> str:
    """The manifest as `json.dumps(manifest, indent=1)` writes it, built line by line.

    With `indent`, json encodes in pure Python (its C encoder is only for compact output), which
    at thousands of files cost more than hashing them. Strings are encoded by json's own C
    function for them; a sha256 is hex and a mode octal digits, which JSON quotes as they are.
    """
    q = json.encoder.encode_basestring_ascii
    lines = ["{", f' "generator": {q("confgen")},']
    if source is not None:
        # Which cluster the tree was rendered from: the file's name, and the digest of the
        # cluster it describes (a comment or key order in the file does not change it).
        lines += [
            ' "source": {',
            f'  "name": {q(source.name)},',
            f'  "model_sha256": {q(source.model_sha256)}',
            " },",
        ]
    listed = [
        f'  {q(path)}: {{\n   "sha256": "{e.sha256}",\n   "mode": "{e.mode:04o}"\n  }}'
        for path, e in sorted(entries.items())
    ]
    lines.append(' "files": {\n' + ",\n".join(listed) + "\n }" if listed else ' "files": {}')
    lines.append("}")
    return "\n".join(lines) + "\n"


# Beside OUT: each render's own staging and previous-tree folders (named by its process and a
# random part, so two renders never share one), and the lock file every render of OUT holds
# from its first look at OUT to the end of the swap.
def _staging(root: Path, tag: str) -> Path:
    return root.parent / f".{root.name}.confgen-new-{tag}"


def _previous(root: Path, tag: str) -> Path:
    return root.parent / f".{root.name}.confgen-old-{tag}"


def _lock_path(root: Path) -> Path:
    return root.parent / f".{root.name}.confgen-lock"


def _leftovers(root: Path, kind: str) -> list[Path]:
    prefix = f".{root.name}.confgen-{kind}-"
    return sorted(p for p in root.parent.iterdir() if p.name.startswith(prefix) and p.is_dir())


def _recover(root: Path, report: Callable[[str], None]) -> None:
    """Finish what an interrupted render left, saying what was done. Called with the lock held,
    so every staging or previous folder beside OUT belongs to a render that is gone.

    Killed between the two renames of a swap, a render leaves no OUT and its previous tree:
    that tree is put back (the render that follows writes the new one again). Killed after the
    swap, or unable to remove the previous tree, it leaves that tree beside OUT: removed when
    it can be, else left and named, never in the way."""
    previous = _leftovers(root, "old")
    if not root.exists() and not root.is_symlink() and previous:
        os.rename(previous[-1], root)
        report(f"an interrupted render had moved {root} aside: put it back")
        previous = previous[:-1]
    for leftover in [*_leftovers(root, "new"), *previous]:
        try:
            shutil.rmtree(leftover)
            report(f"removed {leftover.name}, left by an interrupted render")
        except OSError as exc:
            report(f"cannot remove {leftover}, left by an earlier render: {_reason(exc)}")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


@contextlib.contextmanager
def _locked(root: Path, wait: bool, report: Callable[[str], None]) -> Iterator[None]:
    """Hold the lock of OUT: one render at a time writes it, the others wait or stop."""
    with open(_lock_path(root), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise OutputError(
                    [error("", f"another confgen render is writing {root}; try again later")]
                ) from None
            report(f"waiting for another confgen render to finish writing {root}")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


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


def _current(path: str) -> tuple[bytes, int | None]:
    """A file's bytes (through a symbolic link; b"" for anything else that is not a file), and
    its mode when it is a plain file, one whose inode a render may keep (None for the rest)."""
    info = os.lstat(path)
    if stat.S_ISREG(info.st_mode):
        with open(path, "rb") as file:
            return file.read(), stat.S_IMODE(info.st_mode)
    if os.path.isfile(path):  # a symbolic link to a file
        with open(path, "rb") as file:
            return file.read(), None
    return b"", None


class _Staging:
    """The new tree, built beside the old one; started only once something differs from it.

    Until then an unchanged file is only noted, so rendering an unchanged tree again creates
    nothing at all. Once started, each unchanged file is a hard link to the old one: same inode,
    so its mtime survives the swap.

    Paths inside are strings joined with "/" (the plan's relative paths, checked to stay within
    the tree): at thousands of files, pathlib's parsing cost more than the writing.
    """

    def __init__(self, root: Path, tag: str) -> None:
        self.root = root
        self.path = _staging(root, tag)
        self.started = False
        self._unchanged: list[str] = []
        self._folders: set[str] = {""}  # made in this staging folder, relative to it

    def keep(self, path: str) -> None:
        if self.started:
            self._link(path)
        else:
            self._unchanged.append(path)

    def write(self, path: str, data: bytes, mode: int) -> None:
        self.start()
        self._make_folder(path.rpartition("/")[0])
        _write_file(f"{self.path}/{path}", data, mode)

    def start(self) -> None:
        if not self.started:
            self.path.mkdir(parents=True)
            self.started = True
            for path in self._unchanged:
                self._link(path)
            self._unchanged.clear()

    def _make_folder(self, folder: str) -> None:
        # The staging folder starts empty: each folder is made once, after its parent.
        if folder not in self._folders:
            self._make_folder(folder.rpartition("/")[0])
            os.mkdir(f"{self.path}/{folder}")
            self._folders.add(folder)

    def _link(self, path: str) -> None:
        self._make_folder(path.rpartition("/")[0])
        old, new = f"{self.root}/{path}", f"{self.path}/{path}"
        try:
            os.link(old, new)
        except OSError:
            shutil.copy2(old, new)


def write_tree(
    files: Mapping[str, RenderedFile] | Iterable[tuple[str, RenderedFile]],
    out_dir: str | Path,
    *,
    force: bool = False,
    wait: bool = True,
    report: Callable[[str], None] | None = None,
    source: Source | None = None,
) -> list[str]:
    """Make `out_dir` hold exactly `files` and their manifest; return the paths written.

    `files` is a mapping or, to hold one file in memory at a time, an iterable of (path, file)
    pairs such as `render_files` yields. Unchanged files keep their inode and mtime; a tree with
    nothing to change is not touched. Refuses (`OutputError`, listing every file) to overwrite or
    remove hand-edited or foreign files unless `force`; then nothing is written.

    One render at a time writes a folder: another waits for the lock (or, without `wait`,
    raises `OutputError`). `report` hears what happened besides the writing: a wait, the
    recovery of an interrupted render, a previous tree that could not be removed. `source`,
    the cluster file the tree was rendered from, is recorded in the manifest.
    """
    root = Path(out_dir)
    say = report or (lambda _message: None)
    _refuse_link(root)
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        with _locked(root, wait, say):
            return _write_locked(files, root, force, say, source)
    except OSError as exc:
        raise OutputError(
            [error("", f"cannot write {exc.filename or root}: {_reason(exc)}")]
        ) from None


def _refuse_link(root: Path) -> None:
    # The swap renames OUT: a symbolic link would be replaced by a folder, not written behind.
    if root.is_symlink():
        raise OutputError(
            [
                error(
                    "",
                    f"{root} is a symbolic link; confgen swaps the whole folder in, so give the "
                    f"folder it points to ({os.path.realpath(root)}) instead",
                )
            ]
        )


def _write_locked(
    files: Mapping[str, RenderedFile] | Iterable[tuple[str, RenderedFile]],
    root: Path,
    force: bool,
    say: Callable[[str], None],
    source: Source | None,
) -> list[str]:
    pairs = files.items() if isinstance(files, Mapping) else files
    tag = f"{os.getpid()}-{os.urandom(4).hex()}"
    staging = _Staging(root, tag)
    try:
        _recover(root, say)
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
                current, mode = _current(f"{root}/{path}")
                if current == data and mode == file.mode:
                    staging.keep(path)
                    continue
                if current != data:
                    check(path, current, data)
            staging.write(path, data, file.mode)
            changed.append(path)
        removed = sorted(on_disk - written.keys())
        for path in removed:
            check(path, _current(f"{root}/{path}")[0], None)
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
        manifest_text = _manifest_text(written, source)
        if (
            manifest is not None
            and not changed
            and not removed
            and (root / MANIFEST).read_text(encoding="utf-8") == manifest_text
        ):
            return []
        staging.start()
        (staging.path / MANIFEST).write_text(manifest_text, encoding="utf-8")
        previous = _previous(root, tag)
        if root.exists():
            os.rename(root, previous)
        os.rename(staging.path, root)
        if previous.exists():
            try:
                shutil.rmtree(previous)
            except OSError as exc:  # the new tree is in place: say so, and what is left
                say(
                    f"the new tree is in {root}, but the previous one is left at {previous}: "
                    + _reason(exc)
                )
        return sorted(changed)
    finally:
        if staging.path.exists():
            shutil.rmtree(staging.path, ignore_errors=True)


def _write_file(path: str, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        rest = memoryview(data)
        while rest:  # write(2) may write less than asked
            rest = rest[os.write(fd, rest) :]
        os.fchmod(fd, mode)  # the mode exactly, whatever the umask
    finally:
        os.close(fd)


@record
class FileChange:
    """One file a render would add, change or remove, with its unified diff."""

    path: str
    kind: str  # "add", "change" or "remove"
    diff: str  # the unified diff, or for a change of mode only, one line saying so
    added: int  # lines added
    removed: int  # lines removed
    mode: str | None = None  # "0644 -> 0755" for a file whose text stays and mode changes


@record
class TreeDiff:
    """What writing a rendered tree into a folder would change there."""

    changes: tuple[FileChange, ...]  # in path order
    # Files a render would refuse to overwrite or remove without `force`, and why.
    refused: tuple[Problem, ...]

    def count(self, kind: str) -> int:
        return sum(1 for change in self.changes if change.kind == kind)

    @property
    def summary(self) -> str:
        """`3 to add, 5 to change, 1 to remove`, as terraform plan says it."""
        return (
            f"{self.count('add')} to add, {self.count('change')} to change, "
            f"{self.count('remove')} to remove"
        )

    def __bool__(self) -> bool:
        return bool(self.changes)


def diff_tree(files: Mapping[str, RenderedFile], out_dir: str | Path) -> TreeDiff:
    """What writing `files` into `out_dir` would change, file by file.

    Raises `OutputError`, as `write_tree` would, for a folder a render would refuse to touch
    (a symbolic link, a file, a folder confgen did not create, a damaged manifest). Files a
    render would refuse to overwrite or remove without `force` (edited by hand since confgen
    wrote them, or not confgen's) are in the result's `refused`."""
    root = Path(out_dir)
    try:
        _refuse_link(root)
        manifest = _read_manifest(root)
        present = _on_disk(root) if manifest is not None else set()
        return _diffs(files, root, present, manifest or {})
    except OSError as exc:
        raise OutputError(
            [error("", f"cannot read {exc.filename or root}: {_reason(exc)}")]
        ) from None


def _shown_text(path: Path) -> str:
    """What diff shows of a file in the tree: a symbolic link or other non-file as a line."""
    if path.is_symlink():
        return f"<symbolic link to {os.readlink(path)}>\n"
    if not path.is_file():
        return "<not a regular file>\n"
    return path.read_bytes().decode("utf-8", "replace")


def _diffs(
    files: Mapping[str, RenderedFile],
    root: Path,
    present: set[str],
    manifest: Mapping[str, _Entry],
) -> TreeDiff:
    import difflib  # here, not at the top: only `confgen diff` shows diffs

    changes = []
    refused = []
    for path in sorted(present | set(files)):
        target = root / path
        old = _shown_text(target) if path in present else ""
        new = files[path].text if path in files else ""
        kind = (
            "change" if path in present and path in files else "add" if path in files else "remove"
        )
        if old != new:
            lines = list(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    f"a/{path}" if path in present else "/dev/null",
                    f"b/{path}" if path in files else "/dev/null",
                )
            )
            body = [line for line in lines[2:] if not line.startswith("@@")]
            changes.append(
                FileChange(
                    path=path,
                    kind=kind,
                    diff="".join(lines),
                    added=sum(1 for line in body if line.startswith("+")),
                    removed=sum(1 for line in body if line.startswith("-")),
                )
            )
            if path in present:
                entry = manifest.get(path)
                action = "overwrite" if path in files else "remove"
                if entry is None:
                    refused.append(error(path, f"is not confgen's: a render would {action} it"))
                elif entry.sha256 != _sha256(_current(str(target))[0]):
                    refused.append(
                        error(
                            path, f"was edited since confgen wrote it: a render would {action} it"
                        )
                    )
        elif path in files and path in present and not target.is_symlink():
            mode = target.stat().st_mode & 0o7777
            if mode != files[path].mode:
                modes = f"{mode:04o} -> {files[path].mode:04o}"
                changes.append(
                    FileChange(
                        path=path,
                        kind=kind,
                        diff=f"mode of {path}: {modes}\n",
                        added=0,
                        removed=0,
                        mode=modes,
                    )
                )
    return TreeDiff(changes=tuple(changes), refused=tuple(refused))
