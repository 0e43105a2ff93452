"""SPARQL results: the answer of a query and its formats (table, W3C CSV/TSV/JSON/XML, Turtle).

>>> result = QueryResult("select", ["n"], [(ox.Literal("楚治"),)])
>>> format_result(result, "csv")
'n\\r\\n楚治\\r\\n'

CSV and TSV meant for spreadsheets (``escape=True``: the CLI's default) write a value that a
spreadsheet would run as a formula with a leading ``'`` (:mod:`chuzhi_graph.core.spreadsheet`).
XML results replace the characters XML 1.0 cannot hold (U+0001 … U+001F but tab and line breaks,
U+FFFE, U+FFFF) by U+FFFD; JSON, CSV and TSV carry every string exactly.

The prefixes predeclared for every query live here too: the table writes IRIs with them.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol, Union

import pyoxigraph as ox

from chuzhi_graph import formats
from chuzhi_graph.core.prefixes import DEFAULT_BASE
from chuzhi_graph.core.spreadsheet import escape_formula
from chuzhi_graph.errors import QueryUsageError

Term = Union[ox.NamedNode, ox.BlankNode, ox.Literal, ox.Triple]  # noqa: UP007 (a runtime alias, py3.10)
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
#: characters XML 1.0 cannot hold, even as a character reference
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@cache
def query_prefixes(base: str = DEFAULT_BASE) -> dict[str, str]:
    """Prefixes predeclared for every query: the vocabularies and the data IRIs."""
    from chuzhi_graph.core.prefixes import data_prefixes

    return data_prefixes(base)


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


def _text(data: bytes | None) -> str:
    """pyoxigraph's writer output (bytes, as no file was given) as text."""
    assert data is not None
    return data.decode("utf-8")


def _literals(result: QueryResult, change: Callable[[str], str]) -> QueryResult:
    """``result`` with ``change`` applied to the text of every literal (language and datatype kept)."""
    def term(t: Term | None) -> Term | None:
        if not isinstance(t, ox.Literal):
            return t
        value = change(t.value)
        if value == t.value:
            return t
        if t.language:
            return ox.Literal(value, language=t.language)
        return ox.Literal(value, datatype=t.datatype)

    rows = [tuple(term(t) for t in row) for row in result.rows]
    return QueryResult(result.kind, result.variables, rows, result.boolean, result.triples, result.seconds)


def format_result(result: QueryResult, fmt: str = "table", base: str = DEFAULT_BASE, *, escape: bool = False) -> str:
    """The result as text in a format of the registry (:mod:`chuzhi_graph.formats`): ``table``,
    W3C ``csv``/``tsv``/``json``/``xml`` for SELECT and ASK; Turtle (or ``nt``, ...) for graphs.

    ``escape``: CSV and TSV for spreadsheets, a value read as a formula gets a leading ``'``.

    >>> format_result(QueryResult("select", ["n"], [(ox.Literal("楚治"),)]), "csv")
    'n\\r\\n楚治\\r\\n'
    >>> format_result(QueryResult("select", ["n"], [(ox.Literal("=1+1"),)]), "csv", escape=True)
    "n\\r\\n'=1+1\\r\\n"
    """
    kind: formats.Kind = "result-graph" if result.kind == "graph" else "result"
    entry = formats.lookup(kind, fmt)
    if entry is None:
        if result.kind == "graph" and formats.lookup("result", fmt) is not None:
            raise QueryUsageError(f"CONSTRUCT and DESCRIBE give RDF: use --format {' or '.join(formats.names(kind))}, "
                                  f"not {fmt}", field="--format")
        raise QueryUsageError(f"unknown format {fmt!r} (known: {', '.join(formats.names(kind))})", field="--format")
    return str(entry.write(result, entry, base, escape=escape))


def table_result(result: QueryResult, fmt: formats.Format, base: str, *,  # noqa: ARG001 (a registry writer)
                 escape: bool = False) -> str:  # noqa: ARG001
    """The ``table`` writer: :func:`format_table` (a table is read, not opened: ``escape`` does nothing)."""
    return format_table(result, base)


def json_result(result: QueryResult, fmt: formats.Format, base: str, *,  # noqa: ARG001 (a registry writer)
                escape: bool = False) -> str:  # noqa: ARG001
    """The ``json`` writer: SPARQL 1.1 Query Results JSON."""
    return results_json(result) + "\n"


def w3c_result(result: QueryResult, fmt: formats.Format, base: str, *,  # noqa: ARG001 (a registry writer)
               escape: bool = False) -> str:
    """The W3C ``csv``/``tsv``/``xml`` writers: pyoxigraph's, fed with the JSON of :func:`results_json`.

    ``escape``: CSV and TSV for spreadsheets; XML gets U+FFFD for the characters XML 1.0 cannot hold.
    """
    if result.kind == "ask" and fmt.engine == "TSV":
        return ("true" if result.boolean else "false") + "\n"
    if escape and fmt.engine in ("CSV", "TSV"):
        result = _literals(result, escape_formula)
    if fmt.engine == "XML":
        result = _literals(result, lambda text: NOT_XML.sub("\ufffd", text))
    # One hand-written writer (JSON); pyoxigraph's W3C writers give CSV, TSV and XML from it.
    parsed = ox.parse_query_results(results_json(result).encode("utf-8"), format=ox.QueryResultsFormat.JSON)
    text = _text(parsed.serialize(format=getattr(ox.QueryResultsFormat, fmt.engine)))
    return text if text.endswith("\n") else text + ("\r\n" if fmt.engine == "CSV" else "\n")


def rdf_result(result: QueryResult, fmt: formats.Format, base: str, *,
               escape: bool = False) -> str:  # noqa: ARG001
    """The writers of graphs (CONSTRUCT, DESCRIBE): pyoxigraph's, with the query prefixes where the format has them."""
    rdf = getattr(ox.RdfFormat, fmt.engine)
    # N-Triples has no prefixes; pyoxigraph's JSON-LD writer takes none
    plain = rdf in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS, ox.RdfFormat.JSON_LD)
    text = _text(ox.serialize(result.triples, format=rdf, prefixes=None if plain else query_prefixes(base)))
    return text if not text or text.endswith("\n") else text + "\n"  # JSON-LD and RDF/XML end without one


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


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def format_table(result: QueryResult, base: str = DEFAULT_BASE) -> str:
    """An aligned text table (Chinese characters count two columns) with a row count."""
    if result.kind == "ask":
        return ("true" if result.boolean else "false") + "\n"
    header = list(result.variables)
    cells = [[short(t, base).replace("\n", " ") for t in row] for row in result.rows]
    widths = [max([display_width(h)] + [display_width(r[i]) for r in cells]) for i, h in enumerate(header)]
    out = io.StringIO()
    out.write("  ".join(_pad(h, w) for h, w in zip(header, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells:
        out.write("  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    n = len(cells)
    out.write(f"({n} row{'s' if n != 1 else ''})\n")
    return out.getvalue()


from chuzhi_graph.core.fileio import csv_for_excel as csv_for_excel  # noqa: E402 (re-exported)
