"""SPARQL over the built graph: shipped research questions, parameters, result formats.

>>> from chuzhi_graph.store import open_store                 # doctest: +SKIP
>>> result = run_query(open_store("out"), "cases-per-domain")   # doctest: +SKIP
>>> print(format_result(result, "csv"))                         # doctest: +SKIP

A query is the name of a shipped query (``queries/*.rq`` in the package), the path of a
``.rq`` file, or inline SPARQL text. The chz: and data prefixes are predeclared.

Parameters (``--param unit=华中科技大学``) are bound as RDF terms through pyoxigraph's
substitutions (SEP-0007), never pasted into the query text. A shipped query declares them in
its header (``# param: NAME CLASS help``); a value that is not an IRI (``<...>``, ``http...`` or
a prefixed name such as ``unit:hust``) is looked up among the labels, aliases, identifiers and
notations of that class. Other variables take ``<IRI>`` or else a plain string literal.

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

import io
import itertools
import json
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, Union

import pyoxigraph as ox

from chuzhi_graph.errors import QueryError
from chuzhi_graph.namespace import DEFAULT_BASE
from chuzhi_graph.safety import NETWORK_DENIED, check_query, clean_engine_error, network_is_denied
from chuzhi_graph.worker import DEFAULT_MEMORY, WORKERS, Ticket, timeout_error
from chuzhi_graph.worker import WorkerPool as WorkerPool  # re-exported (tests, callers of 0.1)

Term = Union[ox.NamedNode, ox.BlankNode, ox.Literal, ox.Triple]  # noqa: UP007 (a runtime alias, py3.10)
FORMATS = ("table", "csv", "tsv", "json", "xml")
GRAPH_FORMATS = ("turtle", "nt")
RESULTS_FORMATS = {
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
}
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


@cache
def query_prefixes(base: str = DEFAULT_BASE) -> dict[str, str]:
    """Prefixes predeclared for every query: the vocabularies and the data IRIs."""
    from chuzhi_graph.namespace import data_prefixes

    return data_prefixes(base)


# ---------------------------------------------------------------- shipped queries


@dataclass(frozen=True)
class ParamSpec:
    """A parameter a shipped query declares: ``# param: unit chz:Unit help text``."""

    name: str
    cls: str | None
    help: str


@dataclass(frozen=True)
class ShippedQuery:
    """A research question shipped as ``queries/NAME.rq``."""

    name: str
    question_zh: str
    question_en: str
    text: str
    param_specs: tuple[ParamSpec, ...] = ()

    @property
    def params(self) -> tuple[str, ...]:
        """The variables ``--param`` may bind."""
        return tuple(p.name for p in self.param_specs)


_HEADER = re.compile(r"^#\s*(zh|en|param):\s*(.*?)\s*$")


def parse_header(name: str, text: str) -> ShippedQuery:
    """Read the comment header (``# zh:``, ``# en:``, ``# param:``) of a ``.rq`` text.

    >>> q = parse_header("x", "# zh: 问题\\n# en: Question\\n# param: unit chz:Unit 单位\\nSELECT * {}")
    >>> q.question_en, q.params
    ('Question', ('unit',))
    """
    fields: dict[str, str] = {}
    specs: list[ParamSpec] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key == "param":
            parts = value.split(None, 2)
            cls = parts[1] if len(parts) > 1 and ":" in parts[1] else None
            help_text = parts[-1] if len(parts) > (2 if cls else 1) else ""
            specs.append(ParamSpec(parts[0].lstrip("?$"), cls, help_text))
        else:
            fields[key] = value
    return ShippedQuery(name, fields.get("zh", ""), fields.get("en", ""), text, tuple(specs))


@cache
def shipped_queries() -> list[ShippedQuery]:
    """The research questions shipped with the package, sorted by name.

    >>> "cases-per-domain" in [q.name for q in shipped_queries()]
    True
    """
    folder = resources.files("chuzhi_graph") / "queries"
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".rq") and item.is_file():
            found.append(parse_header(item.name[:-3], item.read_text(encoding="utf-8")))
    return sorted(found, key=lambda q: q.name)


def shipped_query(name: str) -> ShippedQuery | None:
    """The shipped query called ``name``, or None."""
    return next((q for q in shipped_queries() if q.name == name), None)


def resolve_query(query: str | Path) -> tuple[str, ShippedQuery]:
    """``(source, query)`` for a shipped name, a ``.rq`` path or inline text."""
    if isinstance(query, str):
        shipped = shipped_query(query)
        if shipped is not None:
            return f"query {shipped.name}", shipped
    path = Path(query)
    looks_like_path = isinstance(query, Path) or (
        "\n" not in str(query) and len(str(query)) < 1000 and str(query).endswith(".rq")
    )
    if looks_like_path:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            names = ", ".join(q.name for q in shipped_queries())
            raise QueryError(f"no such query file (shipped queries: {names})", file=path) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise QueryError(f"cannot read the query: {exc}", file=path) from None
        return str(path), parse_header(path.stem, text)
    text = str(query)
    if re.fullmatch(r"[\w-]+", text.strip()):
        names = ", ".join(q.name for q in shipped_queries())
        raise QueryError(f"unknown query {text.strip()!r} (shipped queries: {names}; see --list)")
    return "inline query", parse_header("inline", text)


# ---------------------------------------------------------------- results


@dataclass
class QueryResult:
    """The answer of one query: ``variables``/``rows`` (SELECT), ``boolean`` (ASK) or ``triples``."""

    kind: str  # "select", "ask" or "graph"
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)
    seconds: float = 0.0


class SparqlTarget(Protocol):
    """Something run_query can ask besides a pyoxigraph store (a remote endpoint)."""

    def sparql(self, text: str, substitutions: dict[ox.Variable, Term]) -> Any: ...


def check_no_service(text: str, source: str = "inline query") -> bool:
    """Refuse SERVICE and updates on the parsed query (see :func:`chuzhi_graph.safety.check_query`).

    >>> check_no_service("SELECT * { ?s <http://e/SERVICE> 'SERVICE' }  # SERVICE")
    True
    >>> check_no_service("SELECT * { SERVICE <http://e/> { ?s ?p ?o } }")
    Traceback (most recent call last):
    chuzhi_graph.errors.QueryError: inline query, line 1: SERVICE is refused: queries never reach out to other endpoints
    """
    return check_query(text, source)


#: A SPARQL tokenizer (comments, strings, IRIs, variables, keywords) that remote.py uses to place a
#: VALUES block; never a safety check (that is chuzhi_graph.safety, on the parsed query).
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


def bind_params(
    store: ox.Store | SparqlTarget, shipped: ShippedQuery, params: Mapping[str, str | Term] | None,
) -> dict[ox.Variable, Term]:
    """Turn ``--param`` values into RDF terms (IRIs, or names looked up in the declared class)."""
    if not params:
        return {}
    specs = {p.name: p for p in shipped.param_specs}
    present = set(re.findall(r"[?$](\w+)", shipped.text))
    bound: dict[ox.Variable, Term] = {}
    for name, value in params.items():
        name = name.lstrip("?$")
        if name not in specs and name not in present:
            known = ", ".join(shipped.params) or "none"
            raise QueryError(f"the query has no variable ?{name} to bind (its parameters: {known})",
                             field=f"--param {name}")
        spec = specs.get(name)
        if isinstance(value, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple):
            bound[ox.Variable(name)] = value
            continue
        if spec is None or not spec.cls:
            # an undeclared parameter: <IRI> or a plain string literal
            wrapped = value.startswith("<") and value.endswith(">")
            bound[ox.Variable(name)] = _as_iri(value) if wrapped else ox.Literal(value)  # type: ignore[assignment]
            continue
        iri = _as_iri(value)
        bound[ox.Variable(name)] = iri if iri is not None else lookup_by_label(store, spec.cls, value, name)
    return bound


def _as_iri(value: str) -> ox.NamedNode | None:
    value = value.strip()
    try:
        if value.startswith("<") and value.endswith(">"):
            return ox.NamedNode(value[1:-1])
        if re.match(r"^https?://", value):
            return ox.NamedNode(value)
        prefix, sep, local = value.partition(":")
        if sep and prefix in query_prefixes() and re.fullmatch(r"[\w.-]+", local):
            return ox.NamedNode(query_prefixes()[prefix] + local)
    except ValueError:
        raise QueryError(f"not a valid IRI: {value!r}") from None
    return None


_LOOKUP = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT DISTINCT ?x ?label ?cls ?value WHERE {
  ?x a ?cls ; ?p ?name .
  VALUES ?p { rdfs:label skos:prefLabel skos:altLabel dct:identifier skos:notation }
  FILTER(STR(?name) = ?value)
  OPTIONAL { ?x rdfs:label ?label FILTER(LANG(?label) = "zh") }
} ORDER BY STR(?x)
"""


def lookup_by_label(store: ox.Store | SparqlTarget, cls: str, value: str, name: str) -> ox.NamedNode:
    """The one instance of ``cls`` whose label, alias, identifier or notation is ``value``."""
    cls_iri = _as_iri(cls)
    assert cls_iri is not None, cls
    subs: dict[ox.Variable, Term] = {ox.Variable("cls"): cls_iri, ox.Variable("value"): ox.Literal(value.strip())}
    rows = [tuple(s) for s in _execute(store, _LOOKUP, subs)]
    if len(rows) == 1:
        return rows[0][0]  # type: ignore[return-value]
    if not rows:
        raise QueryError(f"no {cls} is called {value!r} (give a name, alias, identifier or IRI)",
                         field=f"--param {name}")
    options = "; ".join(f"{r[0].value} ({r[1].value if r[1] else ''})" for r in rows)  # type: ignore[union-attr]
    raise QueryError(f"{value!r} names several {cls}: {options}; give the IRI", field=f"--param {name}")


def _execute(store: ox.Store | SparqlTarget, text: str, subs: dict[ox.Variable, Term]) -> Any:
    if isinstance(store, ox.Store):
        return store.query(text, prefixes=query_prefixes(), substitutions=subs or None)
    return store.sparql(text, subs)


def run_query(
    store: ox.Store | SparqlTarget,
    query: str | Path | ShippedQuery,
    params: Mapping[str, str | Term] | None = None,
    timeout: float | None = None,
    *,
    max_rows: int | None = None,
    memory: int | None = DEFAULT_MEMORY,
    ticket: Ticket | None = None,
    since: float | None = None,
) -> QueryResult:
    """Run a shipped query, a ``.rq`` file or inline SPARQL; rows as pyoxigraph terms.

    With ``timeout`` (seconds) the query runs in a worker process killed at the deadline, with at
    most ``memory`` bytes more address space and no network (:mod:`chuzhi_graph.worker`); with
    ``max_rows`` at most ``max_rows + 1`` rows (or triples) are read. A query the SERVICE check
    cannot parse (:func:`chuzhi_graph.safety.check_query`) always runs in a walled worker.
    ``since`` (a ``time.monotonic()`` value): the timeout counts from then (the command's start).

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
    checked = check_no_service(text, source)
    local = isinstance(store, ox.Store)
    if local and not checked:
        if not (WORKERS.available and network_is_denied()):
            raise QueryError("the query cannot be checked for SERVICE (rdflib cannot parse it) and no worker "
                             "without network can run it here: refused", file=source)
        timeout = timeout if timeout is not None else UNCHECKED_TIMEOUT
    t0 = time.perf_counter()
    subs = bind_params(store, shipped, params)
    limit = None if max_rows is None else max_rows + 1
    try:
        if timeout is None:
            result = _materialise(_execute(store, text, subs), None, limit)
        elif local and WORKERS.available:
            left = timeout if since is None else max(0.05, timeout - (time.monotonic() - since))
            result = WORKERS.run(store, text, subs, left, limit,  # type: ignore[arg-type]
                                 prefixes=query_prefixes(), memory=memory, ticket=ticket, shown=timeout)
        else:
            result = _with_deadline(store, text, subs, timeout, limit)
    except SyntaxError as exc:
        raise syntax_error(exc, text, source) from None
    except OSError as exc:
        if NETWORK_DENIED in str(exc):
            raise QueryError("the query tried to open a network connection, which is refused "
                             "(SERVICE is refused: queries never reach out to other endpoints)", file=source) from None
        raise QueryError(f"the query failed: {clean_engine_error(exc)}", file=source) from None
    result.seconds = time.perf_counter() - t0
    return result


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


# ---------------------------------------------------------------- worker processes: chuzhi_graph.worker


# ---------------------------------------------------------------- formats


def term_json(term: Term) -> dict[str, str]:
    """A term in the SPARQL 1.1 JSON results format."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": {  # type: ignore[dict-item]
        "subject": term_json(term.subject), "predicate": term_json(term.predicate),
        "object": term_json(term.object)}}


def results_json(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results JSON of a SELECT or ASK result."""
    if result.kind == "ask":
        return json.dumps({"head": {}, "boolean": result.boolean})
    variables = result.variables
    bindings = [
        {var: term_json(term) for var, term in zip(variables, row, strict=True) if term is not None}
        for row in result.rows
    ]
    return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}}, ensure_ascii=False)


def format_result(result: QueryResult, fmt: str = "table", base: str = DEFAULT_BASE) -> str:
    """The result as text: ``table``, W3C ``csv``/``tsv``/``json``/``xml``; Turtle (or ``nt``) for graphs.

    >>> format_result(QueryResult("select", ["n"], [(ox.Literal("楚治"),)]), "csv")
    'n\\r\\n楚治\\r\\n'
    """
    if result.kind == "graph":
        if fmt in ("table", "turtle", "ttl"):
            return ox.serialize(result.triples, format=ox.RdfFormat.TURTLE,
                                prefixes=query_prefixes(base)).decode("utf-8")
        if fmt in ("nt", "ntriples"):
            return ox.serialize(result.triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
        raise QueryError(f"CONSTRUCT and DESCRIBE give RDF: use --format turtle or nt, not {fmt}", field="--format")
    if fmt == "table":
        return format_table(result, base)
    if fmt == "json":
        return results_json(result) + "\n"
    if fmt in RESULTS_FORMATS:
        if result.kind == "ask" and fmt == "tsv":
            return ("true" if result.boolean else "false") + "\n"
        # One hand-written writer (JSON); pyoxigraph's W3C writers give CSV, TSV and XML from it.
        parsed = ox.parse_query_results(results_json(result).encode("utf-8"), format=ox.QueryResultsFormat.JSON)
        text = parsed.serialize(format=RESULTS_FORMATS[fmt]).decode("utf-8")
        return text if text.endswith("\n") else text + ("\r\n" if fmt == "csv" else "\n")
    raise QueryError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})", field="--format")


def short(term: Term | None, base: str = DEFAULT_BASE) -> str:
    """A term as a person reads it: prefixed names for IRIs, the text of literals."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for prefix, ns in sorted(query_prefixes(base).items(), key=lambda kv: -len(kv[1])):
            if term.value.startswith(ns) and re.fullmatch(r"[\w.-]*", term.value[len(ns):]):
                return f"{prefix}:{term.value[len(ns):]}"
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))


def format_table(result: QueryResult, base: str = DEFAULT_BASE) -> str:
    """An aligned text table (Chinese characters count two columns) with a row count."""
    if result.kind == "ask":
        return ("true" if result.boolean else "false") + "\n"
    header = list(result.variables)
    cells = [[short(t, base).replace("\n", " ") for t in row] for row in result.rows]
    widths = [max([_display_width(h)] + [_display_width(r[i]) for r in cells]) for i, h in enumerate(header)]
    out = io.StringIO()
    out.write("  ".join(_pad(h, w) for h, w in zip(header, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells:
        out.write("  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    n = len(cells)
    out.write(f"({n} row{'s' if n != 1 else ''})\n")
    return out.getvalue()


def parse_params(pairs: Iterable[str]) -> dict[str, str]:
    """``["unit=华中科技大学"]`` -> ``{"unit": "华中科技大学"}``.

    >>> parse_params(["unit=华中科技大学", "x=a=b"])
    {'unit': '华中科技大学', 'x': 'a=b'}
    """
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise QueryError(f"--param needs NAME=VALUE, got {pair!r}", field="--param")
        out[name.strip().lstrip("?$")] = value
    return out


def list_queries() -> str:
    """The shipped queries with their questions, for ``query --list``."""
    lines = []
    for q in shipped_queries():
        params = "".join(f" --param {p.name}=…" for p in q.param_specs)
        lines.append(f"{q.name}{params}\n    {q.question_zh}\n    {q.question_en}")
    return "\n".join(lines) + "\n"


def csv_for_excel(text: str) -> str:
    """CSV with a UTF-8 byte-order mark, so that Excel shows the Chinese text."""
    return "\ufeff" + text


__all__ = [
    "FORMATS", "ParamSpec", "QueryResult", "ShippedQuery", "format_result", "list_queries",
    "parse_params", "run_query", "shipped_queries",
]
