"""Running SPARQL over the built graph: a shipped question, a ``.rq`` file or inline text.

>>> from chuzhi_graph.sparql.store import open_store                 # doctest: +SKIP
>>> result = run_query(open_store("out"), "cases-per-domain")   # doctest: +SKIP
>>> print(format_result(result, "csv"))                         # doctest: +SKIP

A query is the name of a shipped query (``queries/*.rq`` in the package), the path of a
``.rq`` file, or inline SPARQL text. The chz: and data prefixes are predeclared.

The shipped questions and their declared parameters are in :mod:`chuzhi_graph.sparql.questions`, the
result object and its formats in :mod:`chuzhi_graph.sparql.results` (both re-exported here).

Columns come in the projected order: ``SELECT ?b ?a`` gives ``b, a``, and ``SELECT *`` the order in
which the variables first appear in the query (pyoxigraph sorts them by name).

Timeout design: pyoxigraph has no query timeout, and a query busy inside one engine step (a big
aggregate, a long property path) cannot be interrupted from Python. So with ``timeout`` set a
query on a pyoxigraph store runs in a worker process (``fork``) that is killed (SIGKILL) at the
deadline: the CPU is free again at once. A store from :func:`~chuzhi_graph.sparql.store.open_store` is
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

import functools
import itertools
import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from chuzhi_graph.errors import QueryError
from chuzhi_graph.sparql.limits import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from chuzhi_graph.sparql.questions import (  # noqa: F401 (re-exported: the API of this module before the split)
    KINDS,
    ParamSpec,
    ShippedQuery,
    bind_params,
    complete,
    example_params,
    execute,
    list_queries,
    lookup_by_label,
    parse_header,
    parse_params,
    queries_json,
    resolve_query,
    shipped_queries,
    shipped_query,
)
from chuzhi_graph.sparql.results import (  # noqa: F401 (re-exported)
    QueryResult,
    SparqlTarget,
    Term,
    csv_for_excel,
    display_width,
    format_result,
    format_table,
    query_prefixes,
    results_json,
    short,
    term_json,
)
from chuzhi_graph.sparql.safety import NETWORK_DENIED, check_query, clean_engine_error, network_is_denied
from chuzhi_graph.sparql.worker import DEFAULT_MEMORY, WORKERS, Ticket, timeout_error
from chuzhi_graph.sparql.worker import WorkerPool as WorkerPool  # re-exported (tests, callers of 0.1)


@functools.cache
def _packaged_texts() -> frozenset[str]:
    return frozenset(q.text for q in shipped_queries())


def check_no_service(text: str, source: str = "inline query") -> bool:
    """Refuse SERVICE and updates on the parsed query (see :func:`chuzhi_graph.sparql.safety.check_query`).

    The texts shipped in the package pass without a parse (tests check each of them): parsing with
    rdflib is about half a second of every `chuzhi-graph query NAME`. Any other text is parsed.

    >>> check_no_service("SELECT * { ?s <http://e/SERVICE> 'SERVICE' }  # SERVICE")
    True
    >>> check_no_service("SELECT * { SERVICE <http://e/> { ?s ?p ?o } }")
    Traceback (most recent call last):
    chuzhi_graph.errors.QueryError: inline query, line 1: SERVICE is refused: queries never reach out to other endpoints
    """
    if text in _packaged_texts():
        return True
    return check_query(text, source)


#: A SPARQL tokenizer (comments, strings, IRIs, variables, keywords) that remote.py uses to place a
#: VALUES block; never a safety check (that is chuzhi_graph.sparql.safety, on the parsed query).
TOKENS = re.compile(
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
    pointer = f"\n    {line}\n    {' ' * display_width(line[:col - 1])}^"
    return QueryError(f"column {col}: SPARQL syntax error {where}: {detail}{pointer}", file=source, line=line_no)


def run_query(  # long: one query's path (check, parameters, worker or deadline thread, errors) read in order
    store: ox.Store | SparqlTarget,
    query: str | Path | ShippedQuery,
    params: Mapping[str, str | Term] | None = None,
    timeout: float | None = None,
    *,
    max_rows: int | None = None,
    memory: int | None = DEFAULT_MEMORY,
    ticket: Ticket | None = None,
    since: float | None = None,
    require: bool = True,
) -> QueryResult:
    """Run a shipped query, a ``.rq`` file or inline SPARQL; rows as pyoxigraph terms.

    With ``timeout`` (seconds) the query runs in a worker process killed at the deadline, with at
    most ``memory`` bytes more address space and no network (:mod:`chuzhi_graph.sparql.worker`); with
    ``max_rows`` at most ``max_rows + 1`` rows (or triples) are read. A query the SERVICE check
    cannot parse (:func:`chuzhi_graph.sparql.safety.check_query`) always runs in a walled worker.
    ``since`` (a ``time.monotonic()`` value): the timeout counts from then (the command's start).
    ``require=False``: a parameter the text declares required may be left out (SPARQL Protocol
    text from a client binds its variables itself, e.g. with ``VALUES``).

    >>> from chuzhi_graph.sparql.store import open_store                          # doctest: +SKIP
    >>> r = run_query(open_store("out"), "unit-profile", {"unit": "华中科技大学"})  # doctest: +SKIP
    >>> r.variables                                                          # doctest: +SKIP
    ['unit', 'relation', 'value', 'valueLabel', 'through', 'throughLabel']
    """
    if isinstance(query, ShippedQuery):
        source, shipped = f"query {query.name}", query
    else:
        source, shipped = resolve_query(query)
    text = shipped.text
    local = isinstance(store, ox.Store)
    # in a worker the check runs there: under the query's deadline and memory, with its own parse
    # deadline, and outside this process's parse lock (one hostile text cannot hold other queries)
    deferred = (local and timeout is not None and WORKERS.available and network_is_denied()
                and text not in _packaged_texts())
    checked = True if deferred else check_no_service(text, source)
    if local and not checked:
        if not (WORKERS.available and network_is_denied()):
            raise QueryError("the query cannot be checked for SERVICE (rdflib cannot parse it) and no worker "
                             "without network can run it here: refused", file=source)
        timeout = timeout if timeout is not None else UNCHECKED_TIMEOUT
    t0 = time.perf_counter()
    subs = bind_params(store, shipped, params, require=require)
    limit = None if max_rows is None else max_rows + 1
    try:
        if timeout is None:
            result = _materialise(execute(store, text, subs), None, limit)
        elif local and WORKERS.available:
            left = timeout if since is None else max(0.05, timeout - (time.monotonic() - since))
            result = WORKERS.run(store, text, subs, left, limit,  # type: ignore[arg-type]
                                 prefixes=query_prefixes(), memory=memory, ticket=ticket, shown=timeout,
                                 check=source if deferred else None)
        else:
            result = _with_deadline(store, text, subs, timeout, limit)
    except SyntaxError as exc:
        raise syntax_error(exc, text, source) from None
    except OSError as exc:
        if NETWORK_DENIED in str(exc):
            raise QueryError("the query tried to open a network connection, which is refused "
                             "(SERVICE is refused: queries never reach out to other endpoints)", file=source) from None
        raise QueryError(f"the query failed: {clean_engine_error(exc)}", file=source) from None
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
    tokens = [m for m in TOKENS.finditer(text) if not m.group("comment")]
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


#: The deadline of a query without one that must run in a worker (it could not be checked).
UNCHECKED_TIMEOUT = 3600.0


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
    triples: list[ox.Triple] = []
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
            box["result"] = _materialise(execute(store, text, subs), cancel, limit)
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
    return box["result"]


# ---------------------------------------------------------------- worker processes: chuzhi_graph.sparql.worker


__all__ = [
    "DEFAULT_TIMEOUT", "ParamSpec", "QueryResult", "ShippedQuery", "format_result", "list_queries",
    "parse_params", "run_query", "shipped_queries",
]
