"""Atomic file output: write beside the target, then rename over it.

An interrupted or failed run never leaves a half-written file, and the previous
version of every output stays intact until the new one is complete.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with AtomicFiles() as files:
...     _ = files.path(d / "a.txt").write_text("hello", encoding="utf-8")
>>> (d / "a.txt").read_text(encoding="utf-8")
'hello'
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType

from chuzhi_graph.errors import OutputError


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
        os.close(fd)
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
