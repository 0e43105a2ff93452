"""The query lanes of `serve` (decision 0003), on real processes standing in for query workers."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from chuzhi_graph.sparql.lanes import LONG_NICENESS, Busy, Lanes, shape


def state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@pytest.fixture()
def sleepers():
    procs = [subprocess.Popen(["sleep", "30"]) for _ in range(3)]
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def test_short_shapes_get_their_own_slots():
    lanes = Lanes(quick_slots=1, long_slots=1, quick=0.5, wait=0.2, short_slots=1)
    with lanes.ticket("SELECT ?t { <http://e/c1> <http://e/title> ?t }") as first:
        assert first.lane == "quick"  # an unknown shape
    # the same shape (another IRI) is now known to be short: its own slot, even when the quick
    # slot is taken by a long-running query
    slow = lanes.ticket("SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f }")
    with lanes.ticket("SELECT ?t { <http://e/c2> <http://e/title> ?t }") as second:
        assert second.lane == "short"
    with pytest.raises(Busy, match=r"^busy: 1 queries are running, try again later$"):
        lanes.ticket("ASK { ?s ?p 1 }")
    slow.release()
    assert shape("SELECT ?t { <http://e/c2> 'a' 3 }") == "SELECT ?t { _ _ _ }"


def test_long_queries_are_reniced_then_stopped_while_they_wait(sleepers):
    lanes = Lanes(quick_slots=2, long_slots=1, quick=0.1, wait=1.0, long_waiting=1)
    first, second = lanes.ticket("SELECT * { ?s ?p ?o }"), lanes.ticket("SELECT * { ?s ?p ?o }")
    deadline = time.monotonic() + 20
    first.demote(sleepers[0].pid, deadline)
    assert (first.lane, os.getpriority(os.PRIO_PROCESS, sleepers[0].pid)) == ("long", LONG_NICENESS)
    # the long lane is full: the second waits stopped, its quick slot already free for others
    waiter = threading.Thread(target=second.demote, args=(sleepers[1].pid, deadline))
    waiter.start()
    time.sleep(0.3)
    assert state(sleepers[1].pid) == "T"
    third = lanes.ticket("SELECT * { ?s ?p ?o }")  # a quick slot was freed by the waiting one
    with pytest.raises(Busy, match=r"^busy: 1 long queries are running and 1 waiting"):
        third.demote(sleepers[2].pid, deadline)
    third.release()
    first.release()  # the long slot frees: the waiting one goes on
    waiter.join(5)
    assert second.lane == "long" and state(sleepers[1].pid) != "T"  # continued (running or sleeping)
    second.release()


def test_known_long_shapes_queue_for_a_long_slot_within_a_bounded_wait(sleepers):
    lanes = Lanes(quick_slots=2, long_slots=1, quick=0.1, wait=1.0, long_waiting=0, long_wait=1.0)
    heavy = "SELECT ?d (COUNT(?c) AS ?n) { ?c <http://e/domain> ?d } GROUP BY ?d"
    lanes.learn(shape(heavy), 2.0)  # ran long before
    first = lanes.ticket(heavy)
    assert first.lane == "long"  # straight to the long lane, no quick slot taken
    first.begin(sleepers[0].pid)
    assert os.getpriority(os.PRIO_PROCESS, sleepers[0].pid) == LONG_NICENESS
    first.demote(sleepers[0].pid, time.monotonic() + 5)  # already there: nothing happens
    assert state(sleepers[0].pid) != "T"
    # the long slot is taken: the next one waits for it (not 503 at once) and gets it when it frees
    box = {}
    waiter = threading.Thread(target=lambda: box.update(ticket=lanes.ticket(heavy)))
    waiter.start()
    time.sleep(0.3)
    assert waiter.is_alive()
    with lanes.ticket("ASK { ?s ?p ?o }") as quick:  # the quick lane is free meanwhile
        assert quick.lane == "quick"
    first.release()
    waiter.join(2)
    assert box["ticket"].lane == "long"
    # past the bounded wait: 503
    t0 = time.monotonic()
    with pytest.raises(Busy, match=r"^busy: 1 long queries are running and others waited 1 s for a slot"):
        lanes.ticket(heavy)
    assert 0.9 < time.monotonic() - t0 < 2
    box["ticket"].release()
