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

from chuzhi_graph.errors import OutputError

log = logging.getLogger(__name__)

#: marker written into a staging folder once it is complete: from then on it is moved in,
#: by this run or, if this run is killed while moving, by the next one
COMMIT_MARKER = ".commit"
#: system temp folders of ours that a killed run may leave (publish's work folder)
TEMP_PREFIXES = ("chuzhi-publish-",)
#: ... removed only when this old too: the system temp folder is shared with processes of
#: older versions, which did not claim their folders
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


def _is_abandoned(path: Path) -> bool:
    """Nobody holds a claim on ``path``: the run that made it is gone."""
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
    and every ``chuzhi-publish-*`` folder
    in the system temp folder (older than :data:`TEMP_MIN_AGE`) that no running process has
    claimed. A complete staging folder
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
                        if p.name.startswith(TEMP_PREFIXES) and p.is_dir() and p.stat().st_mtime < old)
    removed = []
    for path in found:
        if not _is_abandoned(path):
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
    """A claimed folder in the system temp folder, removed at the end (like ``TemporaryDirectory``)."""
    path = claim(tempfile.mkdtemp(prefix=prefix))
    try:
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


class StagedFolder:
    """Outputs written into a staging folder inside ``folder`` and moved in together.

    Nothing in ``folder`` changes until :meth:`commit`: then the staging folder is marked
    complete, each file is renamed over its target, and the names in ``owned`` that this
    run did not write (stale outputs of an earlier run) are removed. A run killed before
    the mark leaves the old outputs intact (and a staging folder that the next run removes);
    one killed while moving leaves a marked folder that the next run moves in. Hold a
    :class:`FolderLock` on ``folder`` around it.
    """

    def __init__(self, folder: str | Path, owned: Iterable[str]) -> None:
        self.folder = Path(folder)
        self.owned = tuple(owned)
        self.staging: Path | None = None

    def __enter__(self) -> StagedFolder:
        # its own staging folders and the temporary files of AtomicFiles for its outputs
        patterns = (".staging-*.tmp", *(f".{name}.*.tmp" for name in self.owned))
        clean_leftovers(self.folder, patterns=patterns, recover=finish_move)
        try:
            self.staging = claim(tempfile.mkdtemp(prefix=".staging-", suffix=".tmp", dir=self.folder))
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
        """Move every file written into place and remove stale outputs; the files, in place."""
        assert self.staging is not None
        written = sorted(p.name for p in self.staging.iterdir() if not p.name.startswith("."))
        for name in written:
            if (self.folder / name).is_dir():
                raise OutputError("cannot write: a folder has this name", file=self.folder / name)
        stale = sorted(n for n in self.owned if n not in written and (self.folder / n).is_file())
        marker = self.staging / COMMIT_MARKER
        tmp = self.staging / ".commit.tmp"
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                json.dump({"move": written, "remove": stale}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, marker)
            finish_move(self.staging)
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror}", file=self.folder) from None
        return [self.folder / n for n in written]

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.staging is not None:
            if not (self.staging / COMMIT_MARKER).is_file():
                shutil.rmtree(self.staging, ignore_errors=True)
            release(self.staging)


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
