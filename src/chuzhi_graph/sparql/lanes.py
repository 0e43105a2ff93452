"""Two lanes for the queries of ``serve``, so that short queries are not stuck behind long ones.

>>> lanes = Lanes(quick_slots=2, long_slots=1, quick=0.5, wait=1.0)
>>> with lanes.ticket("SELECT * { <http://e/a> ?p ?o }") as ticket:
...     ticket.lane
'quick'
>>> with lanes.ticket("SELECT * { <http://e/b> ?p ?o }") as ticket:  # the same shape ran short
...     ticket.lane
'short'

Nobody knows how long a SPARQL query will run before it runs, so every query starts in the quick
lane (``quick_slots`` at once; a query waits up to ``wait`` seconds for a slot, then :class:`Busy`).
A query still running after ``quick`` seconds is moved to the long lane: it gives its quick slot
to the next query and takes one of ``long_slots``; its worker process is reniced (``nice`` 10) so
that the kernel gives the CPU to the quick lane first. When the long lane is full the worker is
stopped (SIGSTOP) until a long slot frees, within its deadline; when ``long_waiting`` queries
already wait, the query is stopped and answered 503 (:class:`Busy`). This is a two-level feedback queue: short queries
finish in the quick lane, while at most ``long_slots`` long ones share what the quick lane leaves.
A shape whose moving average (of CPU seconds) is past ``quick`` does not start in the quick lane at all: it
queues for a long slot (no worker runs while it waits) for up to ``long_wait`` seconds, then 503.

A query whose *shape* (its text with IRIs, strings and numbers blanked) took at most ``SHORT``
seconds last time goes to ``short_slots`` of its own, which other queries cannot fill. The others
wait for a quick slot, unknown shapes before known-slow ones, first come first served within each.
Only the order depends on the text; what runs, and for how long, does not.
"""

from __future__ import annotations

import heapq
import itertools
import os
import re
import signal
import threading
import time
from collections import OrderedDict
from types import TracebackType

#: How much nicer a demoted worker runs (the kernel gives a nice-10 process about a tenth of a
#: nice-0 one's share of a busy CPU).
LONG_NICENESS = 10


#: A shape is "short" when its runs took at most this many CPU seconds (a lookup: ~1 ms; an aggregate
#: over 10,000 cases: 20-40 ms, which must not take the lookups' slots: docs/serve.md, load test).
SHORT = 0.02
_LITERALS = re.compile(r"<[^<>\s]*>|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\b\d+(?:\.\d+)?\b")


def shape(text: str) -> str:
    """The text of a query with IRIs, strings and numbers blanked (queries that differ only there).

    >>> shape("SELECT ?t { <http://e/c1> dct:title ?t } LIMIT 5")
    'SELECT ?t { _ dct:title ?t } LIMIT _'
    """
    return " ".join(_LITERALS.sub("_", text).split())


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except OSError:  # the worker has finished or died meanwhile
        pass


class Busy(Exception):
    """No slot for the query: answered 503 with this message."""


class Lanes:
    """The slots of the quick and the long lane (see the module docstring)."""

    def __init__(self, quick_slots: int = 6, long_slots: int = 2, quick: float = 0.5, wait: float = 5.0,
                 short_slots: int = 4, long_waiting: int = 2, long_wait: float = 10.0) -> None:
        self.quick_slots, self.long_slots, self.short_slots = quick_slots, long_slots, short_slots
        self.long_wait = long_wait
        #: a shape whose moving average (CPU seconds) is past this goes straight to the long lane's queue
        self.long_start = quick
        self.long_waiting = long_waiting
        self._waiting_long = 0
        self._short = threading.BoundedSemaphore(short_slots)
        self.quick, self.wait = quick, wait
        self._free = quick_slots
        self._waiting: list[tuple[int, int]] = []  # heap of (class, arrival)
        self._arrivals = itertools.count()
        self._cond = threading.Condition()
        self._long = threading.BoundedSemaphore(long_slots)
        self._lock = threading.Lock()
        self._took: OrderedDict[str, float] = OrderedDict()
        self.counts = {"quick": 0, "long": 0, "busy": 0}

    def predicted(self, key: str) -> int:
        """0: known short, 1: unknown, 2: known long."""
        with self._lock:
            took = self._took.get(key)
        return 1 if took is None else (0 if took <= SHORT else 2 if took > self.quick else 1)

    def took(self, key: str) -> float:
        """How long the last query of this shape took (0 when unknown)."""
        with self._lock:
            return self._took.get(key, 0.0)

    def learn(self, key: str, seconds: float) -> None:
        """Remember how long a query of this shape took (the last 4096 shapes)."""
        with self._lock:
            # a moving average: one run slowed by a busy machine does not reclassify a shape
            before = self._took.get(key)
            self._took[key] = seconds if before is None else 0.8 * before + 0.2 * seconds
            self._took.move_to_end(key)
            while len(self._took) > 4096:
                self._took.popitem(last=False)

    def ticket(self, text: str = "") -> Ticket:
        """A quick-lane slot (waiting up to ``wait`` s, short shapes first); :class:`Busy` if none frees."""
        key = shape(text)
        kind = self.predicted(key)
        if kind == 0:
            if not self._short.acquire(timeout=self.wait):
                self._count("busy")
                raise Busy(f"busy: {self.short_slots} short queries are running, try again later")
            ticket = Ticket(self, key)
            ticket.lane = "short"
            return ticket
        if kind == 2 and self.took(key) > self.long_start:
            # a shape known to run long queues for a long slot before it starts (no worker, no CPU
            # while it waits) instead of taking a quick slot and being stopped or refused after it
            if not self._long.acquire(timeout=self.long_wait):
                self._count("busy")
                raise Busy(f"busy: {self.long_slots} long queries are running and others waited "
                           f"{self.long_wait:g} s for a slot, try again later")
            ticket = Ticket(self, key)
            ticket.lane = "long"
            self._count("long")
            return ticket
        me = (kind, next(self._arrivals))
        deadline = time.monotonic() + self.wait
        with self._cond:
            heapq.heappush(self._waiting, me)
            while not (self._free > 0 and self._waiting[0] == me):
                left = deadline - time.monotonic()
                if left <= 0:
                    self._waiting.remove(me)
                    heapq.heapify(self._waiting)
                    self._cond.notify_all()
                    self._count("busy")
                    raise Busy(f"busy: {self.quick_slots} queries are running, try again later")
                self._cond.wait(left)
            heapq.heappop(self._waiting)
            self._free -= 1
            self._cond.notify_all()
        return Ticket(self, key)

    def _release_quick(self) -> None:
        with self._cond:
            self._free += 1
            self._cond.notify_all()

    def _count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1


class Ticket:
    """A query's place in the lanes; the worker pool calls :meth:`demote` after ``quick`` seconds."""

    def __init__(self, lanes: Lanes, key: str = "") -> None:
        self.lanes = lanes
        self.key = key
        self.quick = lanes.quick
        self.lane: str | None = "quick"
        self.started = time.monotonic()
        self.reniced = False
        #: CPU seconds of the query in its worker (set by the worker pool); None: it did not answer
        self.cpu: float | None = None

    def begin(self, pid: int) -> None:
        """The query starts in worker ``pid``; one queued for the long lane runs there reniced.

        (Running known-slow shapes nicer *in the quick lane* was tried: on a loaded machine it made
        them cross ``quick`` and filled the long lane, more 503 answers, cheap queries no faster.)
        """
        if self.lane == "long" and not self.reniced:
            self.reniced = True
            try:
                os.setpriority(os.PRIO_PROCESS, pid, LONG_NICENESS)
            except OSError:
                pass

    def demote(self, pid: int, deadline: float) -> None:
        """Move to the long lane and renice the worker ``pid``.

        When the long lane is full the worker is stopped (SIGSTOP: no CPU) and waits for a long
        slot until ``deadline``, at most ``long_waiting`` of them; :class:`Busy` past either.
        """
        lanes = self.lanes
        if self.lane == "long":
            return  # queued for the long lane from the start
        if not lanes._long.acquire(blocking=False):
            with lanes._lock:
                waiting = lanes._waiting_long < lanes.long_waiting
                if waiting:
                    lanes._waiting_long += 1
            if not waiting:
                lanes._count("busy")
                raise Busy(f"busy: {lanes.long_slots} long queries are running and {lanes.long_waiting} "
                           f"waiting, try again later (a query past {lanes.quick:g} s needs a long-query slot)")
            self._leave_quick()
            try:
                _signal(pid, signal.SIGSTOP)
                got = lanes._long.acquire(timeout=max(0.0, deadline - time.monotonic()))
                _signal(pid, signal.SIGCONT)
            finally:
                with lanes._lock:
                    lanes._waiting_long -= 1
            if not got:
                return  # the deadline has passed: the caller stops the worker and says so
        else:
            self._leave_quick()
        self.lane = "long"
        self.reniced = True
        lanes._count("long")
        try:
            os.setpriority(os.PRIO_PROCESS, pid, LONG_NICENESS)
        except OSError:  # the worker may have finished meanwhile
            pass

    def _leave_quick(self) -> None:
        if self.lane == "short":
            self.lanes._short.release()
        elif self.lane == "quick":
            self.lanes._release_quick()
        self.lane = None

    def release(self) -> None:
        """Give the slot back (once) and remember how long the query took."""
        if self.lane is not None:
            # the CPU the query took, not the time it waited for the CPU: on a busy machine a cheap
            # shape stays cheap (its wall time is learned only when it did not answer: a timeout)
            self.lanes.learn(self.key, self.cpu if self.cpu is not None else time.monotonic() - self.started)
        if self.lane == "short":
            self.lanes._count("quick")
            self.lanes._short.release()
        elif self.lane == "quick":
            self.lanes._count("quick")
            self.lanes._release_quick()
        elif self.lane == "long":
            self.lanes._long.release()
        self.lane = None

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
