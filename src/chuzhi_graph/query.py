"""Running SPARQL over the built graph: a shipped question, a ``.rq`` file or inline text.

>>> from chuzhi_graph.store import open_store                 # doctest: +SKIP
>>> result = run_query(open_store("out"), "cases-per-domain")   # doctest: +SKIP
>>> print(format_result(result, "csv"))                         # doctest: +SKIP

A query is the name of a shipped query (``queries/*.rq`` in the package), the path of a
``.rq`` file, or inline SPARQL text. The chz: and data prefixes are predeclared.

The shipped questions and their declared parameters are in :mod:`chuzhi_graph.questions`, the
result object and its formats in :mod:`chuzhi_graph.results` (both re-exported here).

Columns come in the projected order: ``SELECT ?b ?a`` gives ``b, a``, and ``SELECT *`` the order in
which the variables first appear in the query (pyoxigraph sorts them by name).

Timeout design: pyoxigraph has no query timeout, and a query busy inside one engine step (a big
aggregate, a long property path) cannot be interrupted from Python. So with ``timeout`` set a
query on a pyoxigraph store runs in a worker process (``fork``) that is killed (SIGKILL) at the
deadline: the CPU is free again at once. A store from :func:`~chuzhi_graph.store.open_store` is
reopened read-only by the worker, which stays warm for the next query (``serve`` keeps one per
running query); any other store (in memory) is inherited by a one-shot fork, a snapshot taken when
the query starts. The worker writes the answer as W3C TSV (or N-Triples for graphs) and the caller
parses it, both in pyoxigraph's Rust code. Without ``timeout`` the query runs in this process
(the fast path, no copying). A remote endpoint has its own HTTP timeout; the deadline there only
stops the waiting.

``max_rows`` stops reading rows once one more than the limit was read (in the worker: once the
serialised answer has that many lines), so the caller can tell that the result is too large
without building it.
"""

from __future__ import annotations

import gc
import io
import itertools
import multiprocessing
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from chuzhi_graph.errors import QueryError
from chuzhi_graph.questions import (  # noqa: F401 (re-exported: the API of this module before the split)
    KINDS,
    ParamSpec,
    ShippedQuery,
    _execute,
    bind_params,
    complete,
    example_params,
    list_queries,
    lookup_by_label,
    parse_header,
    parse_params,
    queries_json,
    resolve_query,
    shipped_queries,
    shipped_query,
)
from chuzhi_graph.results import (  # noqa: F401 (re-exported)
    FORMATS,
    GRAPH_FORMATS,
    QueryResult,
    SparqlTarget,
    Term,
    _display_width,
    csv_for_excel,
    format_result,
    format_table,
    query_prefixes,
    results_json,
    short,
    term_json,
)
from chuzhi_graph.store import store_location

#: The one default time limit of a query, in seconds, for `query`, `serve` and `publish`.
DEFAULT_TIMEOUT = 60.0



def check_no_service(text: str, source: str = "inline query") -> None:
    """Refuse SERVICE: queries never fetch from the network.

    >>> check_no_service("SELECT * { ?s <http://e/SERVICE> 'SERVICE' }  # SERVICE")
    >>> check_no_service("SELECT * { SERVICE <http://e/> { ?s ?p ?o } }")
    Traceback (most recent call last):
    chuzhi_graph.errors.QueryError: inline query, line 1: SERVICE is refused: queries never reach out to other endpoints
    """
    for match in _TOKENS.finditer(text):
        if match.group("keyword") and match.group("keyword").upper() == "SERVICE":
            line = text.count("\n", 0, match.start()) + 1
            raise QueryError("SERVICE is refused: queries never reach out to other endpoints",
                             file=source, line=line)


_TOKENS = re.compile(
    r"""(?P<comment>\#[^\n]*)
      | (?P<string>'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
      | (?P<iri><[^<>"{}|^`\\\s]*>)
      | (?P<var>[?$][\w]+)
      | (?P<keyword>(?<![\w:.-])[A-Za-z_][\w-]*(?![\w:]))
    """,
    re.VERBOSE | re.DOTALL,
)

_POSITION = re.compile(r"^error at (\d+):(\d+):\s*(.*)$", re.DOTALL)


def syntax_error(exc: SyntaxError, text: str, source: str) -> QueryError:
    """A :class:`QueryError` with line, column and the offending text of a pyoxigraph error."""
    message = str(exc)
    match = _POSITION.match(message)
    if not match:
        return QueryError(f"SPARQL syntax error: {message}", file=source)
    line_no, col = int(match.group(1)), int(match.group(2))
    detail = " ".join(match.group(3).split())
    if len(detail) > 160:
        detail = detail[:160].rsplit(",", 1)[0] + ", …"
    lines = text.splitlines() or [""]
    line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
    near = line[col - 1:].strip()[:40] if col - 1 < len(line) else ""
    where = f"near {near!r}" if near else "at the end of the line"
    pointer = f"\n    {line}\n    {' ' * _display_width(line[:col - 1])}^"
    return QueryError(f"column {col}: SPARQL syntax error {where}: {detail}{pointer}", file=source, line=line_no)


def run_query(
    store: ox.Store | SparqlTarget,
    query: str | Path | ShippedQuery,
    params: Mapping[str, str | Term] | None = None,
    timeout: float | None = None,
    *,
    max_rows: int | None = None,
) -> QueryResult:
    """Run a shipped query, a ``.rq`` file or inline SPARQL; rows as pyoxigraph terms.

    With ``timeout`` (seconds) the query runs in a worker process killed at the deadline; with
    ``max_rows`` at most ``max_rows + 1`` rows (or triples) are read.

    >>> from chuzhi_graph.store import open_store                          # doctest: +SKIP
    >>> r = run_query(open_store("out"), "unit-profile", {"unit": "华中科技大学"})  # doctest: +SKIP
    >>> r.variables                                                          # doctest: +SKIP
    ['relation', 'value', 'valueLabel']
    """
    if isinstance(query, ShippedQuery):
        source, shipped = f"query {query.name}", query
    else:
        source, shipped = resolve_query(query)
    text = shipped.text
    check_no_service(text, source)
    t0 = time.perf_counter()
    subs = bind_params(store, shipped, params)
    limit = None if max_rows is None else max_rows + 1
    try:
        if timeout is None:
            result = _materialise(_execute(store, text, subs), None, limit)
        elif isinstance(store, ox.Store) and WORKERS.available:
            result = WORKERS.run(store, text, subs, timeout, limit)
        else:
            result = _with_deadline(store, text, subs, timeout, limit)
    except SyntaxError as exc:
        raise syntax_error(exc, text, source) from None
    except OSError as exc:
        raise QueryError(f"the query failed: {exc}", file=source) from None
    if result.kind == "select":
        _project(result, text)
    result.seconds = time.perf_counter() - t0
    return result


def star_order(text: str) -> list[str] | None:
    """For ``SELECT *``, the variables in the order they first appear after it; else None.

    >>> star_order("SELECT * WHERE { ?s ?p ?o . BIND(1 AS ?n) }")
    ['s', 'p', 'o', 'n']
    >>> star_order("SELECT ?o ?s WHERE { ?s ?p ?o }") is None
    True
    """
    tokens = [m for m in _TOKENS.finditer(text) if not m.group("comment")]
    for index, match in enumerate(tokens):
        keyword = match.group("keyword")
        if not keyword or keyword.upper() != "SELECT":
            continue
        after = match.end()
        nxt = tokens[index + 1] if index + 1 < len(tokens) else None
        if nxt is not None and (nxt.group("keyword") or "").upper() in ("DISTINCT", "REDUCED"):
            after = nxt.end()
        if not re.match(r"\s*\*", text[after:]):
            return None
        order: list[str] = []
        for later in tokens[index + 1:]:
            var = later.group("var")
            if var and var[1:] not in order:
                order.append(var[1:])
        return order
    return None


def _project(result: QueryResult, text: str) -> None:
    """Put the columns of a ``SELECT *`` answer in the order of the query (in place)."""
    order = star_order(text)
    if not order or len(result.variables) < 2:
        return
    rank = {name: i for i, name in enumerate(order)}
    wanted = sorted(range(len(result.variables)), key=lambda i: (rank.get(result.variables[i], len(rank)), i))
    if wanted == list(range(len(result.variables))):
        return
    result.variables = [result.variables[i] for i in wanted]
    result.rows = [tuple(row[i] for i in wanted) for row in result.rows]


def timeout_error(timeout: float) -> QueryError:
    """The error of a query stopped at its deadline."""
    return QueryError(f"the query ran longer than the timeout of {timeout:g} s and was stopped "
                      "(raise it with --timeout)")


def _materialise(raw: Any, cancel: threading.Event | None, limit: int | None = None) -> QueryResult:
    if isinstance(raw, ox.QuerySolutions):
        variables = [v.value for v in raw.variables]
        if cancel is None:
            rows = list(map(tuple, raw if limit is None else itertools.islice(raw, limit)))
        else:
            rows = []
            for solution in raw:
                if cancel.is_set() or (limit is not None and len(rows) >= limit):
                    break
                rows.append(tuple(solution))
        return QueryResult("select", variables, rows)
    if isinstance(raw, ox.QueryBoolean | bool):
        return QueryResult("ask", boolean=bool(raw))
    triples = []
    for triple in raw:
        if (cancel is not None and cancel.is_set()) or (limit is not None and len(triples) >= limit):
            break
        triples.append(triple)
    return QueryResult("graph", triples=triples)


def _with_deadline(store: ox.Store | SparqlTarget, text: str, subs: dict[ox.Variable, Term],
                   timeout: float, limit: int | None) -> QueryResult:
    """A thread with a cancel flag: for remote endpoints and where no fork is possible."""
    cancel = threading.Event()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = _materialise(_execute(store, text, subs), cancel, limit)
        except BaseException as exc:  # handed to the waiting caller
            box["error"] = exc

    worker = threading.Thread(target=work, name="sparql-query", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        cancel.set()
        raise timeout_error(timeout)
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- worker processes


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


def _answer(store: ox.Store, text: str, subs: dict[ox.Variable, Term], limit: int | None) -> tuple[str, Any]:
    """Run a query in the worker; the answer as ``(kind, TSV/N-Triples bytes or bool)``."""
    raw = store.query(text, prefixes=query_prefixes(), substitutions=subs or None)
    if isinstance(raw, ox.QueryBoolean | bool):
        return "ask", bool(raw)
    out = _LineBuffer(1 if isinstance(raw, ox.QuerySolutions) else 0, limit)
    try:
        if isinstance(raw, ox.QuerySolutions):
            raw.serialize(out, format=ox.QueryResultsFormat.TSV)
        else:
            ox.serialize(raw, out, format=ox.RdfFormat.N_TRIPLES)
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


def _worker_main(conn: Any, store: ox.Store | None, location: Path | None) -> None:
    """The loop of a worker process: answer ``(text, substitutions, limit)`` requests until ``None``."""
    _close_inherited(conn.fileno())
    try:
        if location is not None:
            store = ox.Store.read_only(str(location))
        assert store is not None
        while True:
            request = conn.recv()
            if request is None:
                return
            try:
                reply: tuple[str, Any] = _answer(store, *request)
            except Exception as exc:  # re-raised by the caller
                reply = ("raise", exc)
            conn.send(reply)
    except (EOFError, KeyboardInterrupt, BrokenPipeError):
        return


def _result(kind: str, payload: Any) -> QueryResult:
    if kind == "ask":
        return QueryResult("ask", boolean=bool(payload))
    if kind == "select":
        parsed = ox.parse_query_results(payload, format=ox.QueryResultsFormat.TSV)
        return QueryResult("select", [v.value for v in parsed.variables], list(map(tuple, parsed)))
    return QueryResult("graph", triples=[q.triple for q in ox.parse(payload, format=ox.RdfFormat.N_TRIPLES)])


@dataclass
class _Worker:
    process: Any
    conn: Any
    key: tuple[Path, str] | None  # (RocksDB folder, dump hash) of a warm worker; None: one-shot

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


class WorkerPool:
    """Worker processes running queries under a deadline (see the module docstring).

    >>> pool = WorkerPool()
    >>> result = pool.run(ox.Store(), "ASK {}", {}, timeout=10, limit=None)
    >>> result.boolean
    True
    """

    def __init__(self, keep: int = 4) -> None:
        self.available = "fork" in multiprocessing.get_all_start_methods()
        self.keep = keep
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def _start(self, store: ox.Store | None, key: tuple[Path, str] | None) -> _Worker:
        context = multiprocessing.get_context("fork")
        parent, child = context.Pipe()
        process = context.Process(target=_worker_main, args=(child, store, key[0] if key else None),
                                  name="chuzhi-sparql-worker", daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent, key)

    def _take(self, key: tuple[Path, str]) -> _Worker:
        with self._lock:
            stale = [w for w in self._idle if w.key is not None and w.key[0] == key[0] and w.key != key]
            self._idle = [w for w in self._idle if w not in stale]
            found = next((w for w in self._idle if w.key == key and w.process.is_alive()), None)
            if found is not None:
                self._idle.remove(found)
        for worker in stale:
            worker.stop()
        return found if found is not None else self._start(None, key)

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if worker.key is not None and len(self._idle) < self.keep:
                self._idle.append(worker)
                return
        worker.stop()

    def run(self, store: ox.Store, text: str, subs: dict[ox.Variable, Term], timeout: float,
            limit: int | None) -> QueryResult:
        """Answer a query in a worker; kill the worker and raise :class:`QueryError` at the deadline."""
        location = store_location(store)
        worker = self._take(location) if location is not None else self._start(store, None)
        try:
            worker.conn.send((text, subs, limit))
            ready = worker.conn.poll(timeout)
            reply = worker.conn.recv() if ready else None
        except (EOFError, OSError):
            worker.stop()
            raise QueryError(f"the query worker stopped unexpectedly (exit code {worker.process.exitcode})") from None
        if reply is None:
            worker.stop()
            raise timeout_error(timeout)
        self._give_back(worker)
        kind, payload = reply
        if kind == "raise":
            raise payload
        return _result(kind, payload)

    def close(self) -> None:
        """Stop the warm workers."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


#: The workers of this process.
WORKERS = WorkerPool()


__all__ = [
    "DEFAULT_TIMEOUT", "FORMATS", "ParamSpec", "QueryResult", "ShippedQuery", "format_result", "list_queries",
    "parse_params", "run_query", "shipped_queries",
]
