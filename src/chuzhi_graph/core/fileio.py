"""Safe file output: atomic files, staged folders, folder locks and the clean-up of killed runs.

An interrupted or failed run never leaves a half-written file, and the previous
version of every output stays intact until the new one is complete.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with AtomicFiles() as files:
...     _ = files.path(d / "a.txt").write_text("hello", encoding="utf-8")
>>> (d / "a.txt").read_text(encoding="utf-8")
'hello'

Every temporary file or folder a run makes is named ``.NAME.*.tmp`` (in the system temp
folder: ``chuzhi-*``) and *claimed*: the run holds an ``flock`` on it until it is renamed
or removed. The lock goes with the process, so an entry that nobody holds a lock on was
left by a killed run, and :func:`clean_leftovers` removes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType

from chuzhi_graph.core.faults import kill_point
from chuzhi_graph.errors import OutputError

log = logging.getLogger(__name__)

#: marker written into a staging folder once it is complete: from then on it is moved in,
#: by this run or, if this run is killed while moving, by the next one
COMMIT_MARKER = ".commit"
#: system temp folders of ours that a killed run may leave (publish's work folder)
TEMP_PREFIXES = ("chuzhi-publish-",)
#: ... removed at once when they hold this file (made by :func:`claimed_tempdir`: the folder was
#: claimed, so an unlocked one is a killed run's), else only when :data:`TEMP_MIN_AGE` old: the
#: system temp folder is shared with processes of older versions, which did not claim their folders
CLAIMED_MARK = ".chuzhi-claimed"
TEMP_MIN_AGE = 3600.0

_claims: dict[str, int] = {}


def claim(path: str | Path) -> Path:
    """Hold an ``flock`` on the file or folder ``path`` until :func:`release` (or process exit)."""
    path = Path(path)
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    _claims[str(path)] = fd
    return path


def release(path: str | Path) -> None:
    """Drop the claim on ``path`` (it may have been renamed or removed since)."""
    fd = _claims.pop(str(path), None)
    if fd is not None:
        os.close(fd)


def _claimed_here(fd: int) -> bool:
    """This process claimed the file or folder open as ``fd``."""
    st = os.fstat(fd)
    for held in _claims.values():
        other = os.fstat(held)
        if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
            return True
    return False


def is_abandoned(path: Path) -> bool:
    """Nobody holds a claim on ``path``: the run that made it is gone.

    A symlink cannot be claimed: ours (a link being renamed over ``current`` or a stable name)
    live for a moment under the folder's lock, so a leftover one is abandoned.
    """
    if path.is_symlink():
        return True
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def _remove(path: Path) -> int:
    """Remove a file or folder; the bytes it held."""
    size = 0
    try:
        if path.is_dir() and not path.is_symlink():
            size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
            shutil.rmtree(path, ignore_errors=True)
        else:
            size = path.lstat().st_size
            path.unlink(missing_ok=True)
    except OSError:
        pass
    return size


def clean_leftovers(folder: str | Path, *, patterns: Iterable[str] = (".*.tmp",),
                    recover: Callable[[Path], None] | None = None) -> list[Path]:
    """Remove what killed runs left in ``folder`` and in the system temp folder.

    That is every file or folder in ``folder`` whose name matches one of ``patterns`` (globs
    of temporary names: give only the names the caller makes, ``folder`` may be anybody's)
    and every ``chuzhi-publish-*`` folder in the system temp folder that no running process has
    claimed (made by :func:`claimed_tempdir`, or older than :data:`TEMP_MIN_AGE`). A complete staging folder
    (one holding :data:`COMMIT_MARKER`) is handed to ``recover`` to be moved in; without
    ``recover`` it is left for the run that owns the folder. Returns what was removed.
    """
    folder = Path(folder)
    found: list[Path] = []
    if folder.is_dir():
        found += sorted({p for pattern in patterns for p in folder.glob(pattern)})
    tmp = Path(tempfile.gettempdir())
    old = time.time() - TEMP_MIN_AGE
    with contextlib.suppress(OSError):
        found += sorted(p for p in tmp.iterdir()
                        if p.name.startswith(TEMP_PREFIXES) and p.is_dir() and not p.is_symlink()
                        and ((p / CLAIMED_MARK).is_file() or p.stat().st_mtime < old))
    removed = []
    for path in found:
        if not is_abandoned(path):
            continue
        if (path / COMMIT_MARKER).is_file():
            if recover is None:
                continue
            log.warning("finishing the interrupted move of %s into %s", path.name, path.parent)
            try:
                recover(path)
            except (OSError, ValueError, KeyError) as exc:
                raise OutputError(f"cannot finish the interrupted move of {path.name}: {exc}", file=folder) from None
            continue
        size = _remove(path)
        log.info("removed %s (%d bytes) left by a killed run", path, size)
        removed.append(path)
    return removed


@contextlib.contextmanager
def claimed_tempdir(prefix: str) -> Iterator[str]:
    """A claimed folder in the system temp folder, removed at the end (like ``TemporaryDirectory``).

    It holds :data:`CLAIMED_MARK`, so that once its process is gone the next run removes it at once.
    """
    path = claim(tempfile.mkdtemp(prefix=prefix))
    try:
        (path / CLAIMED_MARK).touch()
        yield str(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)
        release(path)


class FolderLock:
    """An exclusive ``flock`` on a folder (created if missing) for one writer at a time.

    ``wait``: seconds to wait for another holder; after that (at once by default)
    :class:`OutputError` (exit 6) says who is in the way. A folder this lock created is
    removed again on failure when it is still empty.
    """

    def __init__(self, folder: str | Path, *, wait: float = 0.0, what: str = "`chuzhi-graph build`") -> None:
        self.folder, self.wait, self.what = Path(folder), wait, what
        self._fd: int | None = None
        self._created = False

    def __enter__(self) -> FolderLock:
        self._created = not self.folder.exists()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror}", file=self.folder) from None
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if _claimed_here(fd):  # e.g. publish's work folder, claimed by this process
                    break
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise OutputError(
                        f"another {self.what} is writing this folder; wait for it to end "
                        f"(or give --wait SECONDS){f' (waited {self.wait:g} s)' if self.wait else ''}",
                        file=self.folder) from None
                time.sleep(0.1)
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if exc_type is not None and self._created:
            with contextlib.suppress(OSError):
                self.folder.rmdir()


#: the build folders inside a graph folder, and the link to the one readers see
BUILDS_DIR = "builds"
CURRENT = "current"
#: builds kept in ``builds/``: the current one and the one before it (a reader that resolved
#: ``current`` just before a swap still finds its files)
KEEP_BUILDS = 2


class StagedFolder:
    """Outputs written into a build folder of their own and made current by one ``rename(2)``.

    ``folder`` holds ``builds/NNNNNN/`` (one per build), ``current`` (a symlink to the one readers
    see) and, at the names in ``owned``, stable links ``NAME -> current/NAME``. A run writes into a
    new ``builds/NNNNNN/``, which nobody reads; :meth:`commit` then swaps ``current`` to it with one
    rename, the single step that changes what readers see: before it they read the whole old
    build, after it the whole new one. Then the stable links are put right (names of this build
    that are still regular files of an older layout, names it did not write), and builds beyond
    the last :data:`KEEP_BUILDS` are removed. Every step after the swap is redone by the next run
    when this one is killed. Hold a :class:`FolderLock` on ``folder`` around it.
    """

    def __init__(self, folder: str | Path, owned: Iterable[str]) -> None:
        self.folder = Path(folder)
        self.owned = tuple(owned)
        self.staging: Path | None = None

    def __enter__(self) -> StagedFolder:
        # staging folders of the older layout, its AtomicFiles temps, half-made links of ours
        patterns = (".staging-*.tmp", *(f".{name}.*.tmp" for name in self.owned), f".{CURRENT}.*.tmp")
        clean_leftovers(self.folder, patterns=patterns, recover=finish_move)
        builds = self.folder / BUILDS_DIR
        try:
            builds.mkdir(exist_ok=True)
            prune_builds(self.folder)  # builds of killed runs (never current) and old ones
            numbers = [int(p.name) for p in builds.iterdir() if p.name.isdigit()]
            staging = builds / f"{max(numbers, default=0) + 1:06d}"
            staging.mkdir()
            self.staging = claim(staging)
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror}", file=self.folder) from None
        return self

    def path(self, target: str | Path) -> Path:
        """Where to write the output ``target`` (a name, or a path in the folder) during the run."""
        target = Path(target)
        assert self.staging is not None and target.parent in (Path(), self.folder), target
        return self.staging / target.name

    def target(self, name: str) -> Path:
        return self.folder / name

    def commit(self) -> list[Path]:
        """Make this build the current one; the outputs, at their stable paths."""
        assert self.staging is not None
        written = sorted(p.name for p in self.staging.iterdir() if not p.name.startswith("."))
        for name in written:
            path = self.folder / name
            if path.is_dir() and not path.is_symlink():
                raise OutputError("cannot write: a folder has this name", file=path)
        try:
            kill_point("commit")
            for name in written:  # new names: a link that shows nothing until the swap
                if not os.path.lexists(self.folder / name):
                    _symlink(f"{CURRENT}/{name}", self.folder / name)
                    kill_point("commit")
            _symlink(f"{BUILDS_DIR}/{self.staging.name}", self.folder / CURRENT)  # the commit
            kill_point("commit")
            self.finish(written)
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror}", file=self.folder) from None
        return [self.folder / n for n in written]

    def finish(self, written: list[str]) -> None:
        """After the swap: every stable link right, stale names gone, old builds pruned."""
        for name in written:
            if not _links_to(self.folder / name, f"{CURRENT}/{name}"):  # a file of the older layout
                _symlink(f"{CURRENT}/{name}", self.folder / name)
                kill_point("commit")
        for name in self.owned:
            path = self.folder / name
            if name not in written and os.path.lexists(path) and not (path.is_dir() and not path.is_symlink()):
                path.unlink()
                kill_point("commit")
        prune_builds(self.folder)
        kill_point("commit")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.staging is not None:
            if current_build(self.folder) != self.staging:
                shutil.rmtree(self.staging, ignore_errors=True)
                with contextlib.suppress(OSError):  # a first build that failed leaves no folder
                    self.staging.parent.rmdir()
            release(self.staging)


def current_build(folder: str | Path) -> Path | None:
    """The build folder ``folder/current`` points to, read once; None without one.

    ``out/builds/000003`` for ``out`` (the link is relative, so is the answer for a relative folder).

    >>> current_build("/nonexistent") is None
    True
    """
    link = Path(folder) / CURRENT
    try:
        target = Path(folder) / os.readlink(link)
    except OSError:
        return None
    return target if target.is_dir() else None


def prune_builds(folder: str | Path, keep: int = KEEP_BUILDS) -> list[Path]:
    """Remove the builds of ``folder/builds`` but the current one and the ``keep - 1`` before it.

    A build newer than the current one was left by a killed run (never current): it goes too,
    unless a running process claims it.
    """
    builds = Path(folder) / BUILDS_DIR
    current = current_build(folder)
    if not builds.is_dir():
        return []
    entries = sorted(builds.iterdir())
    kept = {current} if current is not None else set()
    if current is not None:
        older = [p for p in entries if p.name.isdigit() and p.name < current.name]
        kept.update(older[len(older) - (keep - 1):] if keep > 1 else [])
    removed = []
    for path in entries:
        if path not in kept and is_abandoned(path):
            _remove(path)
            removed.append(path)
    return removed


def _symlink(target: str, link: Path) -> None:
    """Point ``link`` at ``target`` in one step: a new link under a temporary name, renamed over it."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _links_to(path: Path, target: str) -> bool:
    return path.is_symlink() and os.readlink(path) == target


def finish_move(staging: Path) -> None:
    """Move a complete (marked) staging folder's files into its parent; remove the stale ones."""
    plan = json.loads((staging / COMMIT_MARKER).read_text(encoding="utf-8"))
    folder = staging.parent
    for name in plan["move"]:
        if (staging / name).exists():  # not yet moved (a killed move is redone)
            os.replace(staging / name, folder / name)
    for name in plan["remove"]:
        if "/" not in name and not name.startswith("."):
            with contextlib.suppress(FileNotFoundError):
                (folder / name).unlink()
    shutil.rmtree(staging, ignore_errors=True)


class AtomicFiles:
    """Collect temporary files and move them all into place only if the block succeeds."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def path(self, target: str | Path) -> Path:
        """A temporary path in the target's folder; renamed to ``target`` on success."""
        target = Path(target)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror}", file=target) from None
        fcntl.flock(fd, fcntl.LOCK_EX)  # claimed: not a leftover while this run lives
        _claims[tmp] = fd
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        self._pending.append((Path(tmp), target))
        return Path(tmp)

    def __enter__(self) -> AtomicFiles:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            for tmp, target in self._pending:
                try:
                    os.replace(tmp, target)
                except OSError as err:
                    self._discard()
                    raise OutputError(f"cannot write: {err.strerror}", file=target) from None
        self._discard()

    def _discard(self) -> None:
        for tmp, _ in self._pending:
            tmp.unlink(missing_ok=True)
            release(tmp)
        self._pending.clear()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(target: str | Path, text: str) -> Path:
    """Write UTF-8 text to ``target`` atomically.

    >>> import tempfile, pathlib
    >>> p = write_text_atomic(pathlib.Path(tempfile.mkdtemp()) / "x.txt", "楚治")
    >>> p.read_text(encoding="utf-8")
    '楚治'
    """
    with AtomicFiles() as files:
        files.path(target).write_text(text, encoding="utf-8", newline="\n")
    return Path(target)


def make_readable(root: str | Path, *, dirs: int = 0o755, files: int = 0o644) -> None:
    """Set the modes of a folder tree, e.g. for a web server that runs as another user."""
    for folder, subdirs, names in os.walk(root):
        os.chmod(folder, dirs)
        for name in names:
            path = Path(folder, name)
            if not path.is_symlink():
                os.chmod(path, files)
        subdirs[:] = [d for d in subdirs if not Path(folder, d).is_symlink()]


def csv_for_excel(text: str) -> str:
    """CSV with a UTF-8 byte-order mark, so that Excel shows the Chinese text (``--bom``).

    >>> csv_for_excel("a,b\\n").encode("utf-8")[:3]
    b'\\xef\\xbb\\xbf'
    """
    return "\ufeff" + text
