"""Progress of long work: the library reports steps and counts, whoever listens shows them.

Library code never prints: it calls :func:`step` when a step starts (with its size and unit,
when known) and :func:`advance` as it goes (or iterates through :func:`counted`). What happens
then depends on the reporter installed with :func:`reporting`: nothing (the default, and under
``-q``), a bar with N/M and a rate on a terminal (:class:`TerminalReporter`, tqdm on stderr),
or one line per finished step with its time, count and rate when stderr is not a terminal
(:class:`LineReporter`: logs, pipes, CI).

>>> with reporting(RecordingReporter()) as rec:
...     step("pages", total=2)
...     advance(); advance()
...     step("checks")
>>> rec.events
[('step', 'pages', 2), ('advance', 1), ('advance', 1), ('step', 'checks', None), ('close',)]

The CLI picks the reporter (:func:`reporter_for`); tqdm was chosen over rich because it has no
dependencies, costs well under a microsecond per ``advance`` and writes a single line that it
erases at the end (nothing left on the terminal).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any, TypeVar

log = logging.getLogger("chuzhi_graph.core.progress")
T = TypeVar("T")


class Reporter:
    """Receives the steps of long work; this base class ignores them."""

    def step(self, name: str, total: int | None = None, unit: str = "") -> None:
        """A new step starts (the previous one, if any, ends): ``total`` items of ``unit`` when known."""

    def advance(self, n: int = 1) -> None:
        """``n`` more items of the current step are done."""

    def close(self) -> None:
        """The work is over (ends the last step)."""

    def abandon(self) -> None:
        """The current step failed: end it without reporting it as done."""


class RecordingReporter(Reporter):
    """Keeps every event (for tests); a step's unit only when one is given."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def step(self, name: str, total: int | None = None, unit: str = "") -> None:
        self.events.append(("step", name, total, unit) if unit else ("step", name, total))

    def advance(self, n: int = 1) -> None:
        self.events.append(("advance", n))

    def close(self) -> None:
        self.events.append(("close",))


def summary(name: str, seconds: float, count: int, total: int | None, unit: str) -> str:
    """One finished step as a line: its time, count (of the total) and rate.

    >>> summary("map cases", 4.0, 10000, 10000, "cases")
    'map cases: 4.00 s, 10000/10000 cases, 2500 cases/s'
    >>> summary("load the query store", 15.0, 0, None, "")
    'load the query store: 15.00 s'
    """
    line = f"{name}: {seconds:.2f} s"
    if count or total:
        what = f" {unit}" if unit else ""
        line += f", {count}/{total}{what}" if total is not None else f", {count}{what}"
        if count and seconds > 0:
            line += f", {count / seconds:.0f}{what or ' items'}/s"
    return line


class LineReporter(Reporter):
    """One line per finished step (:func:`summary`): on ``stream``, or as an INFO log record without one."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream
        self._name: str | None = None
        self._total: int | None = None
        self._unit = ""
        self._count = 0
        self._t0 = 0.0

    def step(self, name: str, total: int | None = None, unit: str = "") -> None:
        self._end()
        self._name, self._total, self._unit, self._count, self._t0 = name, total, unit, 0, time.perf_counter()

    def advance(self, n: int = 1) -> None:
        self._count += n

    def abandon(self) -> None:
        self._name = None

    def _end(self) -> None:
        if self._name is not None:
            line = summary(self._name, time.perf_counter() - self._t0, self._count, self._total, self._unit)
            if self._stream is None:
                log.info("%s", line)
            else:
                self._stream.write(line + "\n")
                self._stream.flush()
            self._name = None

    def close(self) -> None:
        self._end()


class LogReporter(LineReporter):
    """One INFO log line per finished step (beside a terminal bar, with ``-v``)."""

    def __init__(self) -> None:
        super().__init__(None)


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

    def step(self, name: str, total: int | None = None, unit: str = "") -> None:
        self._end()
        if self._log is not None:
            self._log.step(name, total, unit)
        try:
            width = os.get_terminal_size(self._stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            width = 0
        # a terminal that reports no size (a fresh pseudo-terminal) makes tqdm print nothing
        sized = {"dynamic_ncols": True} if width else {"ncols": 80, "nrows": 24}
        # N/M, the rate and the time left when the total is known; the count and rate when only the unit
        # is; the clock alone for a step that cannot count (an engine call)
        bar_format = ("{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_noinv_fmt}]" if total
                      else "{desc}: {n_fmt} [{elapsed}, {rate_noinv_fmt}]" if unit else "{desc} [{elapsed}]")
        bar = self._tqdm(total=total, desc=name, file=self._stream, leave=False, **sized, mininterval=0.2,
                         unit=f" {unit}" if unit else "", unit_scale=total is None or total >= 10_000,
                         bar_format=bar_format)
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
                self._bar.refresh()  # the last count is drawn once, even after a step shorter than mininterval
                self._bar.close()
                self._bar = None
        if self._log is not None:
            self._log.close()

    def abandon(self) -> None:
        if self._log is not None:
            self._log.abandon()

    def close(self) -> None:
        self._end()
        self._stop.set()
        self._redirect.__exit__(None, None, None)


_NOBODY = Reporter()
_current: ContextVar[Reporter | None] = ContextVar("chuzhi_graph_progress", default=None)


def current() -> Reporter:
    """The reporter installed by :func:`reporting` (one that ignores everything by default)."""
    return _current.get() or _NOBODY


def step(name: str, total: int | None = None, unit: str = "") -> None:
    """Report that a step starts (ends the previous one): ``total`` items of ``unit`` when known."""
    current().step(name, total, unit)


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


def counted(items: Iterable[T], every: int = 1000) -> Iterator[T]:
    """Iterate ``items``, advancing the current step by one per item (in batches of ``every``).

    A sequence is walked slice by slice through ``itertools.chain``: no Python frame per item, so
    a hot loop (validation, millions of lines) pays nothing measurable.

    >>> with reporting(RecordingReporter()) as rec:
    ...     step("lines", total=5, unit="lines")
    ...     sum(counted([1, 2, 3, 4, 5], every=2))
    15
    >>> rec.events
    [('step', 'lines', 5, 'lines'), ('advance', 2), ('advance', 2), ('advance', 1), ('close',)]
    """
    reporter = current()
    if reporter is _NOBODY:
        return iter(items)
    if isinstance(items, Sequence):
        return itertools.chain.from_iterable(_slices(items, every, reporter))
    return _batched(items, every, reporter)


def _slices(items: Sequence[T], every: int, reporter: Reporter) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), every):
        part = items[start:start + every]
        yield part
        reporter.advance(len(part))  # the consumer has walked the slice


def _batched(items: Iterable[T], every: int, reporter: Reporter) -> Iterator[T]:
    n = 0
    for item in items:
        yield item
        n += 1
        if n == every:
            reporter.advance(n)
            n = 0
    if n:
        reporter.advance(n)


@contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Install ``reporter`` for the work done inside the block; closes it at the end."""
    token = _current.set(reporter)
    try:
        yield reporter
    except BaseException:
        reporter.abandon()  # the failed step gets no line of its own: the error says what happened
        raise
    finally:
        reporter.close()
        _current.reset(token)


def reporter_for(stream: IO[str], *, quiet: bool = False, verbose: int = 0) -> Reporter:
    """The reporter for a command: a terminal bar when ``stream`` is a terminal (with ``verbose``, each
    step's line logged above it), one line per step with its time otherwise, nothing under ``quiet``."""
    if quiet:
        return Reporter()
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return TerminalReporter(stream, verbose=verbose > 0)
    return LineReporter(stream)
