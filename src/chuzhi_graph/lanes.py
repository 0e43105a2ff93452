"""Two lanes for the queries of ``serve``, so that short queries are not stuck behind long ones.

>>> lanes = Lanes(quick_slots=2, long_slots=1, quick=0.5, wait=1.0)
>>> with lanes.ticket() as ticket:
...     ticket.lane
'quick'

Nobody knows how long a SPARQL query will run before it runs, so every query starts in the quick
lane (``quick_slots`` at once; a query waits up to ``wait`` seconds for a slot, then :class:`Busy`).
A query still running after ``quick`` seconds is moved to the long lane: it gives its quick slot
to the next query and takes one of ``long_slots``; its worker process is reniced (``nice`` 10) so
that the kernel gives the CPU to the quick lane first. When the long lane is full the query is
stopped and answered 503 (:class:`Busy`). This is a two-level feedback queue: short queries
finish in the quick lane, while at most ``long_slots`` long ones share what the quick lane leaves.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType

#: How much nicer a demoted worker runs (the kernel gives a nice-10 process about a tenth of a
#: nice-0 one's share of a busy CPU).
LONG_NICENESS = 10


class Busy(Exception):
    """No slot for the query: answered 503 with this message."""


class Lanes:
    """The slots of the quick and the long lane (see the module docstring)."""

    def __init__(self, quick_slots: int = 4, long_slots: int = 2, quick: float = 0.5, wait: float = 5.0) -> None:
        self.quick_slots, self.long_slots = quick_slots, long_slots
        self.quick, self.wait = quick, wait
        self._quick = threading.BoundedSemaphore(quick_slots)
        self._long = threading.BoundedSemaphore(long_slots)
        self._lock = threading.Lock()
        self.counts = {"quick": 0, "long": 0, "busy": 0}

    def ticket(self) -> Ticket:
        """A quick-lane slot (waiting up to ``wait`` s); :class:`Busy` if none frees in time."""
        if not self._quick.acquire(timeout=self.wait):
            self._count("busy")
            raise Busy(f"busy: {self.quick_slots} queries are running, try again later")
        return Ticket(self)

    def _count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1


class Ticket:
    """A query's place in the lanes; the worker pool calls :meth:`demote` after ``quick`` seconds."""

    def __init__(self, lanes: Lanes) -> None:
        self.lanes = lanes
        self.quick = lanes.quick
        self.lane: str | None = "quick"

    def demote(self, pid: int) -> None:
        """Move to the long lane and renice the worker ``pid``; :class:`Busy` if the long lane is full."""
        lanes = self.lanes
        if not lanes._long.acquire(blocking=False):
            lanes._count("busy")
            raise Busy(f"busy: {lanes.long_slots} long queries are running, try again later "
                       f"(a query past {lanes.quick:g} s needs a long-query slot)")
        lanes._quick.release()
        self.lane = "long"
        lanes._count("long")
        try:
            os.setpriority(os.PRIO_PROCESS, pid, LONG_NICENESS)
        except OSError:  # the worker may have finished meanwhile
            pass

    def release(self) -> None:
        """Give the slot back (once)."""
        if self.lane == "quick":
            self.lanes._count("quick")
            self.lanes._quick.release()
        elif self.lane == "long":
            self.lanes._long.release()
        self.lane = None

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
