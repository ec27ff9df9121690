"""Write: put a rendered tree on disk, whole or not at all. The only stage that writes files.

The new tree is built in a staging folder beside the target and swapped in: in one step
(`renameat2` with `RENAME_EXCHANGE`) where the kernel and filesystem allow it, else with two
renames, so a failure (or a kill) while writing leaves the previous tree as it was. A manifest
in the tree records every file's sha256 and mode, the version of confgen that wrote it, and the
target and cluster it was rendered from: it marks the folder as confgen's, and shows which files
were edited by hand since, which are then only overwritten with `force`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import signal
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from confgen._version import __version__
from confgen.errors import OutputError, Problem, error
from confgen.planner import Source
from confgen.records import record
from confgen.renderer import RenderedFile, RenderedTree, RenderStream

MANIFEST = ".confgen-manifest.json"


@record
class _Entry:
    sha256: str
    mode: int


@record
class _Manifest:
    """What the manifest of an existing tree says: its files, and the target and cluster file
    it was rendered from (None in a manifest that does not say). A manifest of confgen 0.1.0
    before it recorded its version has the target in its source (`source.target`)."""

    files: Mapping[str, _Entry]
    target: str | None
    source: str | None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest_text(entries: Mapping[str, _Entry], target: str | None, source: Source | None) -> str:
    """The manifest as `json.dumps(manifest, indent=1)` writes it, built line by line.

    With `indent`, json encodes in pure Python (its C encoder is only for compact output), which
    at thousands of files cost more than hashing them. Strings are encoded by json's own C
    function for them; a sha256 is hex and a mode octal digits, which JSON quotes as they are.
    """
    q = json.encoder.encode_basestring_ascii
    lines = ["{", f' "generator": {q("confgen")},', f' "version": {q(__version__)},']
    if target is not None:
        lines.append(f' "target": {q(target)},')
    if source is not None:
        # Which cluster the tree was rendered from: the file's name and the digest of the
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


class Written(list[str]):
    """What `write_tree` did: the paths it wrote (added or changed), sorted, as a list; and
    apart, the paths it `added`, `changed` (there before, with other bytes or mode) and
    `removed` (there before, not in the new tree), and the paths of the tree it left
    `unchanged`."""

    def __init__(
        self,
        added: Iterable[str] = (),
        changed: Iterable[str] = (),
        removed: Iterable[str] = (),
        unchanged: Iterable[str] = (),
    ) -> None:
        self.added = tuple(sorted(added))
        self.changed = tuple(sorted(changed))
        self.removed = tuple(sorted(removed))
        self.unchanged = tuple(sorted(unchanged))
        super().__init__(sorted([*self.added, *self.changed]))


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) while `write_tree` held OUT; its message says what OUT holds now, always
    a whole tree: the previous one, or the new one."""


# Beside OUT: each render's own staging and previous-tree folders (named by its process and a
# random part, so two renders never share one). Nothing else: the lock is held on OUT's parent
# folder itself (see _locked).
def _staging(root: Path, tag: str) -> Path:
    return root.parent / f".{root.name}.confgen-new-{tag}"


def _previous(root: Path, tag: str) -> Path:
    return root.parent / f".{root.name}.confgen-old-{tag}"


def _lock_path(root: Path) -> Path:
    """The lock file, only where a folder cannot be locked (see _locked)."""
    return root.parent / f".{root.name}.confgen-lock"


def _leftovers(root: Path, kind: str) -> list[Path]:
    prefix = f".{root.name}.confgen-{kind}-"
    return sorted(
        p
        for p in root.parent.iterdir()
        if p.name.startswith(prefix) and p.is_dir() and not p.is_symlink()
    )


def _recover(root: Path, report: Callable[[str], None]) -> None:
    """Finish what an interrupted render left, saying what was done. Called with the lock held,
    so every staging or previous folder beside OUT belongs to a render that is gone.

    Killed between the two renames of a swap (where the kernel cannot exchange two folders in
    one step), a render leaves no OUT and its previous tree: that tree is put back (the render
    that follows writes the new one again). Killed after the swap, or unable to remove the
    previous tree, it leaves that tree beside OUT: removed when it can be, else left and named,
    never in the way."""
    previous = _leftovers(root, "old")
    if not root.exists() and not root.is_symlink() and previous:
        os.rename(previous[-1], root)
        report(f"an interrupted render had moved {root} aside: put it back")
        previous = previous[:-1]
    for leftover in [*_leftovers(root, "new"), *previous]:
        try:
            remove_tree(leftover)
            report(f"removed {leftover.name}, left by an interrupted render")
        except OSError as exc:
            report(f"cannot remove {leftover}, left by an earlier render: {_reason(exc)}")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _shown(path: object) -> str:
    """A path as a message shows it: one of a tree nested thousands deep is cut short."""
    text = str(path)
    return text if len(text) <= 200 else f"{text[:120]}...{text[-60:]} ({len(text):,} characters)"


def remove_tree(path: str | Path) -> None:
    """`rm -rf path`, for a tree of any depth: each folder's subfolders are moved up to the top
    before it is emptied, so no path grows long and nothing recurses (shutil.rmtree recurses,
    and a tree nested a few thousand deep, as a tampered OUT may be, exceeds Python's limit).
    Symbolic links are removed, never followed."""
    top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        tag, moved = os.urandom(4).hex(), 0
        pending = ["."]
        while pending:
            name = pending.pop()
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top)
            try:
                with os.scandir(fd) as scan:
                    entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in scan]
                for entry, is_folder in entries:
                    if is_folder:
                        moved += 1
                        up = f".confgen-rm-{tag}-{moved}"
                        os.rename(entry, up, src_dir_fd=fd, dst_dir_fd=top)
                        pending.append(up)
                    else:
                        os.unlink(entry, dir_fd=fd)
            finally:
                os.close(fd)
            if name != ".":
                os.rmdir(name, dir_fd=top)
    finally:
        os.close(top)
    os.rmdir(path)


@contextlib.contextmanager
def _locked(
    root: Path, *, shared: bool, wait: bool, report: Callable[[str], None]
) -> Iterator[None]:
    """Hold the lock of OUT: one render at a time writes it, the others wait or stop; a diff
    (`shared`) reads it while no render writes it.

    The lock is `flock` on OUT's parent folder, which no render renames: it leaves no file
    behind, and it ends with the process however that ends. Renders of two folders in the same
    parent take turns, which is safe, and rare. Where a folder cannot be locked (NFS emulates
    `flock` with locks that need a file open for writing), a lock file beside OUT is used
    instead, and removed by its holder before it lets go (see _lock_file)."""
    kind = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    fd = os.open(root.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            _flock(fd, kind, root, wait, report)
        except OSError as exc:
            if exc.errno not in (errno.EBADF, errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            with _lock_file(root, wait, report):
                yield
            return
        yield
    finally:
        os.close(fd)


def _flock(fd: int, kind: int, root: Path, wait: bool, report: Callable[[str], None]) -> None:
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        if not wait:
            raise OutputError(
                [
                    error(
                        "",
                        f"another confgen render or diff is using {root.parent}; try again later",
                    )
                ]
            ) from None
        if kind == fcntl.LOCK_SH:  # only a render holds it exclusively
            report(f"waiting for a confgen render to finish writing in {root.parent}")
        else:
            report(f"waiting for another confgen render or diff in {root.parent} to finish")
        fcntl.flock(fd, kind)


@contextlib.contextmanager
def _lock_file(root: Path, wait: bool, report: Callable[[str], None]) -> Iterator[None]:
    """An exclusive lock on `.OUT.confgen-lock`, removed by its holder before it lets go. A
    waiter that then holds the lock of a removed file sees that the name is no longer its file,
    and tries again: so only one holds the lock of the file of that name at a time."""
    path = _lock_path(root)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            _flock(fd, fcntl.LOCK_EX, root, wait, report)
            held = os.fstat(fd)
            try:
                now = os.stat(path)
            except FileNotFoundError:
                continue
            if (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):
                continue
            try:
                yield
            finally:
                os.unlink(path)
            return
        finally:
            os.close(fd)


@contextlib.contextmanager
def _interrupts_held() -> Iterator[list[int]]:
    """Hold Ctrl-C (SIGINT) back while the trees are swapped. The list it gives holds the
    SIGINT that came meanwhile, for the caller to act on once it knows what OUT holds."""
    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held  # only the main thread receives signals
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.default_int_handler:
        yield held  # SIGINT does not raise KeyboardInterrupt here: nothing to hold back
        return
    signal.signal(signal.SIGINT, lambda signum, _frame: held.append(signum))
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous)


# renameat2(2) flags; the kernel and glibc (2.28) define them, Python's os module does not.
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_renameat2: list[Any] = []  # the C function once looked up; [None] where libc has none


def _exchange(one: Path, other: Path) -> bool:
    """Swap two folders in one step; False where the kernel, libc or filesystem cannot."""
    if not _renameat2:
        import ctypes  # here: only a render that changes something swaps

        libc = ctypes.CDLL(None, use_errno=True)
        function = getattr(libc, "renameat2", None)
        if function is not None:
            function.argtypes = [ctypes.c_int, ctypes.c_char_p] * 2 + [ctypes.c_uint]
            function.restype = ctypes.c_int
        _renameat2.append(function)
    function = _renameat2[0]
    if function is None:
        return False
    if function(_AT_FDCWD, bytes(one), _AT_FDCWD, bytes(other), _RENAME_EXCHANGE) == 0:
        return True
    import ctypes

    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False  # an old kernel, or a filesystem that does not exchange
    raise OSError(code, os.strerror(code), str(other))


def _read_manifest(root: Path) -> _Manifest | None:
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
        source = data.get("source") or {}
        target, name = data.get("target", source.get("target")), source.get("name")
        return _Manifest(
            files={
                path: _Entry(sha256=entry["sha256"], mode=int(entry["mode"], 8))
                for path, entry in data["files"].items()
            },
            target=target if isinstance(target, str) else None,
            source=name if isinstance(name, str) else None,
        )
    # RecursionError: json reads nested arrays and objects by recursion, and a tampered
    # manifest may nest them thousands deep.
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise OutputError(
            [error("", f"{manifest} is damaged; move {root} aside and render again")]
        ) from None


def _other_target(root: Path, manifest: _Manifest | None, target: str | None) -> Problem | None:
    """A tree of another target is not this cluster's to replace without `force`."""
    if manifest is None or manifest.target is None or target is None:
        return None
    if manifest.target == target:
        return None
    came = f" from {manifest.source}" if manifest.source else ""
    return error(
        "",
        f"{root} holds a tree of target {manifest.target}{came}, and this cluster is of "
        f"target {target}: a render would replace all of it. Choose another folder, "
        "or pass --force to replace it",
    )


def _unsafe(path: object) -> str | None:
    """Why `path` is no path of a file inside the tree, or None when it is one: a relative
    path of names joined by single slashes, none of them `.` or `..`, and not the manifest's."""
    if not isinstance(path, str):
        return f"is a {type(path).__name__}, not a path"
    if path.startswith("/"):
        return "is absolute: a path in the tree is relative to its top"
    if "\0" in path:
        return "holds a NUL character, which no file name can"
    parts = path.split("/")
    if "" in parts:
        return "has an empty part (two slashes together, or a slash at its end)"
    if "." in parts or ".." in parts:
        return "has a part '.' or '..': a path in the tree names each folder on its way"
    if path == MANIFEST:
        return "is the manifest's own name"
    return None


def _unsafe_problem(path: object, why: str) -> Problem:
    return error(path if isinstance(path, str) else repr(path), why)


def _refuse(unsafe: list[Problem]) -> None:
    """Raise `OutputError` listing every path that is no file's inside the tree, if any."""
    if unsafe:
        raise OutputError(
            [*unsafe, error("", "nothing was written: each file's path must stay in the tree")]
        )


def _meant(files: object) -> tuple[str | None, Source | None]:
    """The target and source a rendered tree records in its manifest; None for files given
    as a plain mapping or pairs, which do not say."""
    if isinstance(files, RenderedTree | RenderStream):
        return files.target, files.source
    return None, None


# No tree confgen writes nests folders this deep; a deeper folder is listed as one entry (not
# confgen's), so that no path to a file below it grows past what the system takes (PATH_MAX).
_MAX_DEPTH = 64


def _on_disk(root: Path) -> set[str]:
    """Every file and symlink below `root` but the manifest, as paths relative to it; a folder
    nested deeper than _MAX_DEPTH as itself."""
    found: set[str] = set()
    folders = [("", 0)]
    while folders:
        folder, depth = folders.pop()
        with os.scandir(root / folder) as entries:
            for entry in entries:
                path = f"{folder}{entry.name}"
                if entry.is_symlink() or entry.is_file(follow_symlinks=False):
                    found.add(path)
                elif entry.is_dir(follow_symlinks=False):
                    if depth + 1 < _MAX_DEPTH:
                        folders.append((f"{path}/", depth + 1))
                    else:
                        found.add(path)
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

    Paths inside are strings joined with "/" (relative paths that `_unsafe` checked stay within
    the tree before any is written): at thousands of files, pathlib's parsing cost more than
    the writing.
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


def _out_path(out_dir: str | Path) -> Path:
    """OUT as a path whose parent is the folder it is swapped in, refusing what cannot be."""
    if str(out_dir) == "":
        raise OutputError([error("", "the output folder's name is empty; name a folder (out/)")])
    root, absolute = Path(out_dir), Path(os.path.abspath(out_dir))
    # The swap renames OUT: a symbolic link would be replaced by a folder, not written behind.
    if Path(out_dir).is_symlink():
        raise OutputError(
            [
                error(
                    "",
                    f"{out_dir} is a symbolic link; confgen swaps the whole folder in, so give "
                    f"the folder it points to ({os.path.realpath(out_dir)}) instead",
                )
            ]
        )
    if absolute == absolute.parent or os.path.ismount(absolute):
        raise OutputError(
            [
                error(
                    "",
                    f"{out_dir} is a mount point; confgen swaps the whole folder in, which a "
                    f"mount point cannot be: give a folder inside it ({Path(out_dir) / 'out'})",
                )
            ]
        )
    here = Path.cwd()
    if here == absolute or absolute in here.parents:
        raise OutputError(
            [
                error(
                    "",
                    f"{out_dir} is the current folder or holds it; confgen swaps the whole "
                    "folder in, and this shell would be left in the old one: run confgen from "
                    "outside it",
                )
            ]
        )
    return root


def write_tree(
    files: Mapping[str, RenderedFile] | Iterable[tuple[str, RenderedFile]],
    out_dir: str | Path,
    *,
    force: bool = False,
    wait: bool = True,
    report: Callable[[str], None] | None = None,
) -> Written:
    """Make `out_dir` hold exactly `files` and their manifest; return what was written
    (`Written`: the paths written, as a list, and which were added, changed, removed and left
    unchanged).

    `files` is what `render` or `render_plan` returns (a `RenderedTree`), what `render_files`
    returns (a `RenderStream`, rendered as it is written: one host's folder in memory at a
    time), or any mapping or iterable of (relative path, file) pairs. The manifest records
    confgen's version, and the target and source of a `RenderedTree` or `RenderStream`. Each
    path is relative, without `.` or `..` parts or empty ones (else `OutputError`, and nothing
    is written). Unchanged files keep their inode and mtime; a tree with nothing to change is not
    touched. Refuses (`OutputError`, listing every file) to overwrite or remove hand-edited or
    foreign files, or to replace a tree of another target, unless `force`; then nothing is
    written.

    One render at a time writes a folder: another waits for the lock (or, without `wait`,
    raises `OutputError`). `report` hears what happened besides the writing: a wait, the
    recovery of an interrupted render, a previous tree that could not be removed.

    Ctrl-C raises `Interrupted` (a KeyboardInterrupt) saying which whole tree OUT holds.
    """
    target, source = _meant(files)
    say = report or (lambda _message: None)
    root = _out_path(out_dir)
    try:
        if not root.parent.is_dir():
            root.parent.mkdir(parents=True, exist_ok=True)
        with _locked(root, shared=False, wait=wait, report=say):
            return _write_locked(files, root, force, say, target, source)
    except OSError as exc:
        raise OutputError(
            [error("", f"cannot write {_shown(exc.filename or root)}: {_reason(exc)}")]
        ) from None


def _write_locked(
    files: Mapping[str, RenderedFile] | Iterable[tuple[str, RenderedFile]],
    root: Path,
    force: bool,
    say: Callable[[str], None],
    target: str | None,
    source: Source | None,
) -> Written:
    pairs = files.items() if isinstance(files, Mapping) else files
    tag = f"{os.getpid()}-{os.urandom(4).hex()}"
    staging = _Staging(root, tag)
    try:
        _recover(root, say)
        manifest = _read_manifest(root)
        other = _other_target(root, manifest, target)
        if other is not None and not force:
            raise OutputError([other])
        known = manifest.files if manifest is not None else {}
        on_disk = _on_disk(root) if manifest is not None else set()
        written: dict[str, _Entry] = {}
        added: list[str] = []
        changed: list[str] = []
        unchanged: list[str] = []
        unsafe: list[Problem] = []
        conflicts: list[Problem] = []

        def check(path: str, current: bytes | None, wanted: bytes | None) -> None:
            entry = known.get(path)
            action = "overwrite" if wanted is not None else "remove"
            if entry is None:
                conflicts.append(error(path, f"is not confgen's: a render would {action} it"))
            elif entry.sha256 != _sha256(current or _current(f"{root}/{path}")[0]):
                conflicts.append(
                    error(path, f"was edited since confgen wrote it: a render would {action} it")
                )

        for path, file in pairs:
            why = "is given twice" if path in written else _unsafe(path)
            if why is not None:  # not written: the staging folder holds only the tree's files
                unsafe.append(_unsafe_problem(path, why))
                continue
            data = file.text.encode()
            written[path] = _Entry(sha256=_sha256(data), mode=file.mode)
            if path in on_disk:
                current, mode = _current(f"{root}/{path}")
                if current == data and mode == file.mode:
                    staging.keep(path)
                    unchanged.append(path)
                    continue
                if current != data:
                    check(path, current, data)
                changed.append(path)
            else:
                added.append(path)
            staging.write(path, data, file.mode)
        _refuse(unsafe)
        removed = sorted(on_disk - written.keys())
        for path in removed:
            check(path, None, None)
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
        manifest_text = _manifest_text(written, target, source)
        if (
            manifest is not None
            and not added
            and not changed
            and not removed
            and (root / MANIFEST).read_text(encoding="utf-8") == manifest_text
        ):
            return Written(unchanged=unchanged)
        staging.start()
        (staging.path / MANIFEST).write_text(manifest_text, encoding="utf-8")
        with _interrupts_held() as held:
            old = _swap(staging.path, root, tag)
    except KeyboardInterrupt:
        raise Interrupted(f"nothing was written; {root} is as it was") from None
    finally:
        if staging.path.exists() and not staging.path.is_symlink():
            _remove_quietly(staging.path)
    result = Written(added=added, changed=changed, removed=removed, unchanged=unchanged)
    try:
        if held:
            raise KeyboardInterrupt
        if old is not None:
            remove_tree(old)
    except KeyboardInterrupt:
        left = f"; the next render removes the previous one, left at {old.name}" if old else ""
        raise Interrupted(f"{root} holds the new tree{left}") from None
    except OSError as exc:  # the new tree is in place: say so, and what is left
        say(f"the new tree is in {root}, but the previous one is left at {old}: {_reason(exc)}")
    return result


def _swap(staging: Path, root: Path, tag: str) -> Path | None:
    """Put the staging folder in OUT's place; return where the previous tree now is, if any.

    In one step where the kernel can exchange the two folders; elsewhere with two renames,
    between which OUT is missing (a render killed there is undone by the next: _recover)."""
    if not root.exists():
        os.rename(staging, root)
        return None
    previous = _previous(root, tag)
    if _exchange(staging, root):
        os.rename(staging, previous)  # the previous tree, now at the staging path
    else:
        os.rename(root, previous)
        os.rename(staging, root)
    return previous


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        remove_tree(path)


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


def diff_tree(
    files: Mapping[str, RenderedFile],
    out_dir: str | Path,
    *,
    report: Callable[[str], None] | None = None,
) -> TreeDiff:
    """What writing `files` (a `RenderedTree`, or any mapping of relative path -> file) into
    `out_dir` would change, file by file.

    Raises `OutputError`, as `write_tree` would, for a path that is not a file's inside the
    tree, and for a folder a render would refuse to touch (a symbolic link, a file, a folder
    confgen did not create, a damaged manifest). Files a render would refuse to overwrite or
    remove without `force` (edited by hand since confgen wrote them, or not confgen's), and a
    tree of another target than a `RenderedTree`'s, are in the result's `refused`. It reads OUT
    under the lock renders take, shared: while a render writes OUT it waits (and tells
    `report`)."""
    _refuse([_unsafe_problem(p, why) for p in files if (why := _unsafe(p)) is not None])
    target, _ = _meant(files)
    root = _out_path(out_dir)
    try:
        if not root.parent.is_dir():  # nothing there yet, and nothing to lock
            return _diffs(files, root, set(), None, target)
        with _locked(root, shared=True, wait=True, report=report or (lambda _message: None)):
            manifest = _read_manifest(root)
            present = _on_disk(root) if manifest is not None else set()
            return _diffs(files, root, present, manifest, target)
    except OSError as exc:
        raise OutputError(
            [error("", f"cannot read {_shown(exc.filename or root)}: {_reason(exc)}")]
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
    read: _Manifest | None,
    rendered_target: str | None,
) -> TreeDiff:
    import difflib  # here, not at the top: only `confgen diff` shows diffs

    manifest = read.files if read is not None else {}
    changes = []
    other = _other_target(root, read, rendered_target)
    refused = [other] if other is not None else []
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
