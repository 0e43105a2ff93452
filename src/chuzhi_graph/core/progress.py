"""Progress of long work: the library reports steps and counts, whoever listens shows them.

Library code never prints: it calls :func:`step` when a step starts (with its size, when
known) and :func:`advance` as it goes. What happens then depends on the reporter installed
with :func:`reporting`: nothing (the default, and under ``-q`` or in a pipe), a bar on a
terminal (:class:`TerminalReporter`, tqdm on stderr), or one log line per step with its time
(:class:`LogReporter`, ``-v``).

>>> with reporting(RecordingReporter()) as rec:
...     step("pages", total=2)
...     advance(); advance()
...     step("checks")
>>> rec.events
[('step', 'pages', 2), ('advance', 1), ('advance', 1), ('step', 'checks', None), ('close',)]

The CLI picks the reporter (:func:`reporter_for`); tqdm was chosen over rich because it has no
dependencies, costs well under a microsecond per ``advance`` and writes a single line that it
erases at the end (nothing left on the terminal, nothing at all when stderr is not a terminal).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any, TypeVar

log = logging.getLogger("chuzhi_graph.core.progress")
T = TypeVar("T")


class Reporter:
    """Receives the steps of long work; this base class ignores them."""

    def step(self, name: str, total: int | None = None) -> None:
        """A new step starts (the previous one, if any, ends)."""

    def advance(self, n: int = 1) -> None:
        """``n`` more items of the current step are done."""

    def close(self) -> None:
        """The work is over (ends the last step)."""


class RecordingReporter(Reporter):
    """Keeps every event (for tests)."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def step(self, name: str, total: int | None = None) -> None:
        self.events.append(("step", name, total))

    def advance(self, n: int = 1) -> None:
        self.events.append(("advance", n))

    def close(self) -> None:
        self.events.append(("close",))


class LogReporter(Reporter):
    """One INFO log line per finished step: its name, count and time."""

    def __init__(self) -> None:
        self._name: str | None = None
        self._count = 0
        self._t0 = 0.0

    def step(self, name: str, total: int | None = None) -> None:  # noqa: ARG002 (the reporters' common signature)
        self._end()
        self._name, self._count, self._t0 = name, 0, time.perf_counter()

    def advance(self, n: int = 1) -> None:
        self._count += n

    def _end(self) -> None:
        if self._name is not None:
            count = f", {self._count} done" if self._count else ""
            log.info("%s: %.2f s%s", self._name, time.perf_counter() - self._t0, count)
            self._name = None

    def close(self) -> None:
        self._end()


class TerminalReporter(Reporter):
    """A tqdm bar (or a counter with elapsed time when the total is unknown) on ``stream``;
    erased when the step ends. With ``verbose``, each step's time is logged as well."""

    def __init__(self, stream: IO[str], *, verbose: bool = False, tick: float = 0.5) -> None:
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        self._tqdm = tqdm
        self._stream = stream
        self._bar: Any = None
        self._log = LogReporter() if verbose else None
        # log lines (warnings, -v step times) are printed above the bar, not through it
        self._redirect = logging_redirect_tqdm()
        self._redirect.__enter__()
        # a step without counts still shows its clock moving: refresh the bar every ``tick`` s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, args=(tick,), daemon=True)
        self._ticker.start()

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            with self._lock:
                if self._bar is not None:
                    self._bar.refresh()

    def step(self, name: str, total: int | None = None) -> None:
        self._end()
        if self._log is not None:
            self._log.step(name, total)
        try:
            width = os.get_terminal_size(self._stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            width = 0
        # a terminal that reports no size (a fresh pseudo-terminal) makes tqdm print nothing
        sized = {"dynamic_ncols": True} if width else {"ncols": 80, "nrows": 24}
        bar = self._tqdm(total=total, desc=name, file=self._stream, leave=False, **sized,
                               mininterval=0.2, unit="",
                               bar_format=None if total else "{desc}: {n_fmt} [{elapsed}]")
        with self._lock:
            self._bar = bar

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)
        if self._log is not None:
            self._log.advance(n)

    def _end(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
        if self._log is not None:
            self._log.close()

    def close(self) -> None:
        self._end()
        self._stop.set()
        self._redirect.__exit__(None, None, None)


_NOBODY = Reporter()
_current: ContextVar[Reporter | None] = ContextVar("chuzhi_graph_progress", default=None)


def current() -> Reporter:
    """The reporter installed by :func:`reporting` (one that ignores everything by default)."""
    return _current.get() or _NOBODY


def step(name: str, total: int | None = None) -> None:
    """Report that a step starts (ends the previous one)."""
    current().step(name, total)


def advance(n: int = 1) -> None:
    """Report ``n`` more items done in the current step."""
    current().advance(n)


def track(items: Iterable[T], name: str, total: int | None = None) -> Iterator[T]:
    """Iterate ``items`` as one step, advancing once per item."""
    reporter = current()
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    reporter.step(name, total)
    for item in items:
        yield item
        reporter.advance()


@contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Install ``reporter`` for the work done inside the block; closes it at the end."""
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        reporter.close()
        _current.reset(token)


def reporter_for(stream: IO[str], *, quiet: bool = False, verbose: int = 0) -> Reporter:
    """The reporter for a command: a terminal bar when ``stream`` is a terminal, step times
    in the log with ``verbose``, nothing under ``quiet`` or in a pipe."""
    if quiet:
        return Reporter()
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return TerminalReporter(stream, verbose=verbose > 0)
    return LogReporter() if verbose else Reporter()
