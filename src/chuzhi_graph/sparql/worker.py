"""Query worker processes: a deadline, a memory bound and no network for every query they run.

>>> pool = WorkerPool()
>>> pool.run(ox.Store(), "ASK {}", {}, timeout=10, limit=None).boolean
True

pyoxigraph has no query timeout, and a query busy inside one engine step cannot be interrupted
from Python, so a query with a deadline runs in a worker process (``fork``) that is killed
(SIGKILL) at the deadline. Before it does anything else a worker closes the descriptors it
inherited, denies itself the network (:func:`chuzhi_graph.sparql.safety.deny_network`) and limits its
address space to what it inherited plus ``memory`` bytes (:func:`~chuzhi_graph.sparql.safety.limit_memory`).
A worker over its memory dies (the engine aborts when an allocation fails) or raises
``MemoryError``; both are reported as :func:`~chuzhi_graph.sparql.safety.memory_error`.

A store from :func:`~chuzhi_graph.sparql.store.open_store` is reopened read-only by the worker, which
stays warm for the next query; any other store (in memory) is inherited by a one-shot fork. The
worker writes the answer as W3C TSV (N-Triples for graphs) and the caller parses it.

A :class:`Ticket` (from ``serve``'s lanes) is told when a query has run for ``ticket.quick``
seconds, so that long queries move out of the way of short ones.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, Union, cast

import pyoxigraph as ox

from chuzhi_graph.errors import ChuzhiError, QueryError
from chuzhi_graph.sparql.limits import DEFAULT_MAX_MEMORY_MB
from chuzhi_graph.sparql.safety import (
    PARSE_SECONDS,
    check_query,
    clean_engine_error,
    deny_network,
    limit_memory,
    memory_error,
)
from chuzhi_graph.sparql.store import store_location

Term = Union[ox.NamedNode, ox.BlankNode, ox.Literal, ox.Triple]  # noqa: UP007 (a runtime alias, py3.10)

#: Default address-space budget of a worker beyond what it inherits (``--max-memory``), bytes.
DEFAULT_MEMORY = DEFAULT_MAX_MEMORY_MB * 2**20


class WorkerFailed(ChuzhiError):
    """A query worker died for a reason that is not the query's (a bug, or killed from outside)."""

    exit_code = 1


class Ticket(Protocol):
    """Told once a query has run for ``quick`` seconds (see :mod:`chuzhi_graph.sparql.lanes`)."""

    quick: float
    reniced: bool
    #: CPU seconds the worker spent on the query (set when it answers): what the lanes learn from
    cpu: float | None

    def begin(self, pid: int) -> None: ...

    def demote(self, pid: int, deadline: float) -> None: ...


def timeout_error(timeout: float) -> QueryError:
    """The error of a query stopped at its deadline."""
    return QueryError(f"the query ran longer than the timeout of {timeout:g} s and was stopped "
                      "(raise it with --timeout)")


class _Enough(Exception):
    """The answer has passed its row limit."""


class _LineBuffer(io.RawIOBase):
    """Collects a serialised answer; stops (raises :class:`_Enough`) after ``header + limit`` lines."""

    def __init__(self, header: int, limit: int | None) -> None:
        super().__init__()
        self.data = bytearray()
        self.lines = 0
        self.cap = None if limit is None else header + limit

    def writable(self) -> bool:
        return True

    def write(self, chunk: Any) -> int:
        chunk = bytes(chunk)
        self.data += chunk
        if self.cap is not None:
            self.lines += chunk.count(b"\n")
            if self.lines > self.cap:
                cut = -1
                for _ in range(self.cap):
                    cut = self.data.index(b"\n", cut + 1)
                del self.data[cut + 1:]
                raise _Enough
        return len(chunk)


def _answer(store: ox.Store, text: str, prefixes: dict[str, str], subs: dict[ox.Variable, Term],
            limit: int | None, check: str | None = None, walled: bool = True) -> tuple[str, Any]:
    """Run a query in the worker; the answer as ``(kind, TSV/N-Triples bytes or bool)``.

    ``check`` (the query's source): run the SERVICE check here first, bounded by its own deadline
    and this worker's limits instead of in the server's threads.
    """
    if check is not None:
        try:
            parsed = check_query(text, check, deadline=PARSE_SECONDS)
        except QueryError as exc:
            return "refused", (exc.message, exc.line)
        if not parsed and not walled:
            return "refused", ("the query cannot be checked for SERVICE (rdflib cannot parse it) and no worker "
                               "without network can run it here: refused", None)
    raw = store.query(text, prefixes=prefixes, substitutions=subs or None)
    if isinstance(raw, ox.QueryBoolean | bool):
        return "ask", bool(raw)
    out = _LineBuffer(1 if isinstance(raw, ox.QuerySolutions) else 0, limit)
    try:
        if isinstance(raw, ox.QuerySolutions):
            raw.serialize(cast(IO[bytes], out), format=ox.QueryResultsFormat.TSV)
        else:
            ox.serialize(raw, cast(IO[bytes], out), format=ox.RdfFormat.N_TRIPLES)
    except _Enough:
        pass
    return ("select" if isinstance(raw, ox.QuerySolutions) else "graph"), bytes(out.data)


def _close_inherited(keep: int) -> None:
    # A forked worker holds copies of every descriptor of its parent: the server's sockets (a
    # client would wait for a close that never comes), pipes to other programs (a browser
    # driver), the store's files. Keep only stdio and the pipe to the parent. Objects that own
    # the closed descriptors are frozen so that no finaliser closes a reused number.
    gc.freeze()
    try:
        top = os.sysconf("SC_OPEN_MAX")
    except (OSError, ValueError):
        top = 65536
    os.closerange(3, keep)
    os.closerange(keep + 1, top)


def _worker_main(conn: Any, store: ox.Store | None, location: Path | None, memory: int | None,
                 errors: int | None = None) -> None:
    """The loop of a worker process: answer ``(text, prefixes, substitutions, limit, check)`` until ``None``."""
    # The engine prints "memory allocation of N bytes failed" or "has overflowed its stack" when it
    # aborts; that goes to ``errors`` (a file the parent reads to name the cause in one line).
    quiet = errors if errors is not None else os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    os.close(quiet)
    _close_inherited(conn.fileno())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    walled = deny_network()
    if memory is not None:
        limit_memory(memory)
    try:
        if location is not None:
            store = ox.Store.read_only(str(location))
        assert store is not None
        while True:
            request = conn.recv()
            if request is None:
                return
            started = time.process_time()
            try:
                text, prefixes, subs, limit, check = request
                reply: tuple[str, Any] = _answer(store, text, prefixes, subs, limit, check, walled)
            except MemoryError:
                reply = ("memory", None)
            except SyntaxError as exc:
                reply = ("syntax", str(exc))
            except OSError as exc:
                reply = ("oserror", clean_engine_error(exc))
            except Exception as exc:  # re-raised by the caller as a failure
                reply = ("failed", f"{type(exc).__name__}: {clean_engine_error(exc)}")
            conn.send((*reply, time.process_time() - started))
    except MemoryError:
        os._exit(3)
    except (EOFError, BrokenPipeError):
        return


def _result(kind: str, payload: Any) -> Any:
    from chuzhi_graph.sparql.results import QueryResult

    if kind == "ask":
        return QueryResult("ask", boolean=bool(payload))
    if kind == "select":
        parsed = ox.parse_query_results(payload, format=ox.QueryResultsFormat.TSV)
        assert isinstance(parsed, ox.QuerySolutions)  # TSV holds solutions, never a boolean
        return QueryResult("select", [v.value for v in parsed.variables], list(map(tuple, parsed)))
    return QueryResult("graph", triples=[q.triple for q in ox.parse(payload, format=ox.RdfFormat.N_TRIPLES)])


def private_memory(pid: int) -> int:
    """Bytes of resident memory of a process not shared with others (``/proc/PID/statm``), 0 if unknown.

    >>> private_memory(os.getpid()) > 0
    True
    """
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            fields = fh.read().split()
        return max(0, int(fields[1]) - int(fields[2])) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class _Worker:
    process: Any
    conn: Any
    key: tuple[Path, str, int | None] | None  # (snapshot, dump hash, memory) of a warm worker; None: one-shot
    demoted: bool = False
    errors: IO[bytes] | None = None  # the worker's stderr
    memory: int = 0  # private bytes when it was last given back (an idle worker does not grow)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()
        if self.errors is not None:
            self.errors.close()

    def last_words(self) -> str:
        """The end of what the worker wrote to stderr (read before :meth:`stop`)."""
        if self.errors is None:
            return ""
        try:
            self.errors.seek(0, os.SEEK_END)
            size = self.errors.tell()
            self.errors.seek(max(0, size - 4096))
            return self.errors.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""


def _crash(worker: _Worker, memory: int | None) -> ChuzhiError:
    """What a worker that died while answering is reported as (it is stopped here)."""
    worker.process.join(1.0)
    words = worker.last_words()
    worker.stop()
    code = worker.process.exitcode
    # at RLIMIT_AS the engine's allocation fails and it aborts (SIGABRT, "memory allocation of N
    # bytes failed"); a segmentation fault is the guard page below its stack: deep nesting
    if code == -signal.SIGSEGV or "overflowed its stack" in words:
        return QueryError("the query is nested too deeply: the engine ran out of stack and stopped "
                          "(write it with fewer nested groups, UNIONs or parentheses)")
    if memory is not None and code in (-signal.SIGABRT, 3):
        return memory_error(memory)
    return WorkerFailed(f"the query worker stopped unexpectedly (exit code {code})")


class WorkerPool:
    """Worker processes running queries under a deadline, a memory bound and without network."""

    def __init__(self, keep: int = 4, idle_memory: int = 512 * 2**20) -> None:
        self.available = "fork" in multiprocessing.get_all_start_methods()
        self.keep = keep
        #: private memory (bytes) the idle warm workers may hold together; a worker returned past it stops
        self.idle_memory = idle_memory
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def _start(self, store: ox.Store | None, key: tuple[Path, str, int | None] | None,
               memory: int | None = None) -> _Worker:
        context = multiprocessing.get_context("fork")
        parent, child = context.Pipe()
        errors = tempfile.TemporaryFile()
        process = context.Process(target=_worker_main,
                                  args=(child, store, key[0] if key else None, memory, errors.fileno()),
                                  name="chuzhi-sparql-worker", daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent, key, errors=errors)

    def _take(self, key: tuple[Path, str, int | None]) -> _Worker:
        with self._lock:
            stale = [w for w in self._idle if w.key is not None and w.key[0].parent == key[0].parent
                     and w.key[:2] != key[:2]]
            self._idle = [w for w in self._idle if w not in stale]
            found = next((w for w in self._idle if w.key == key and w.process.is_alive()), None)
            if found is not None:
                self._idle.remove(found)
        for worker in stale:
            worker.stop()
        return found if found is not None else self._start(None, key, key[2])

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if worker.demoted:
                # a reniced worker is reused only if it may be made nice again (needs privileges)
                try:
                    os.setpriority(os.PRIO_PROCESS, worker.process.pid, 0)
                    worker.demoted = False
                except OSError:
                    pass
            if worker.key is not None and not worker.demoted and len(self._idle) < self.keep:
                worker.memory = private_memory(worker.process.pid)
                if sum(w.memory for w in self._idle) + worker.memory <= self.idle_memory:
                    self._idle.append(worker)
                    return
        worker.stop()

    def run(self, store: ox.Store, text: str, subs: dict[ox.Variable, Term], timeout: float,
            limit: int | None, *, prefixes: dict[str, str] | None = None, memory: int | None = DEFAULT_MEMORY,
            ticket: Ticket | None = None, shown: float | None = None, check: str | None = None) -> Any:
        """Answer a query in a worker; kill it and raise :class:`QueryError` at the deadline or memory bound.

        ``check``: the query's source; the worker runs the SERVICE check before the query.
        """
        if check is not None:  # the SERVICE check in the worker: its time on top of the query's, at most doubling it
            timeout += min(PARSE_SECONDS, timeout)
        deadline = time.monotonic() + timeout
        location = store_location(store)
        if location is not None:
            worker = self._take((location[0], location[1], memory))
        else:
            worker = self._start(store, None, memory)
        if ticket is not None:
            ticket.begin(worker.process.pid)
        try:
            worker.conn.send((text, prefixes or {}, subs, limit, check))
            ready = worker.conn.poll(min(timeout, ticket.quick) if ticket is not None else timeout)
            if not ready and ticket is not None and time.monotonic() < deadline:
                try:
                    ticket.demote(worker.process.pid, deadline)
                except BaseException:
                    worker.stop()
                    raise
                ready = worker.conn.poll(max(0.0, deadline - time.monotonic()))
            reply = worker.conn.recv() if ready else None
        except (EOFError, OSError):
            raise _crash(worker, memory) from None
        if reply is None:
            worker.stop()
            raise timeout_error(shown if shown is not None else timeout)
        worker.demoted = ticket is not None and ticket.reniced
        kind, payload, cpu = reply
        if ticket is not None:
            ticket.cpu = cpu
        if kind == "memory":
            worker.stop()  # its heap may be fragmented up to the limit
            raise memory_error(memory or 0)
        self._give_back(worker)
        if kind == "refused":
            raise QueryError(payload[0], file=check, line=payload[1])
        if kind == "syntax":
            raise SyntaxError(payload)
        if kind == "oserror":
            raise OSError(payload)
        if kind == "failed":
            raise WorkerFailed(f"the query worker failed: {payload}")
        return _result(kind, payload)

    def close(self) -> None:
        """Stop the warm workers."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


#: The workers of this process.
WORKERS = WorkerPool()
