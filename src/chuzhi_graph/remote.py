"""A remote SPARQL 1.1 store: push the dumps (Graph Store Protocol), run the shipped queries there.

>>> push("out", "http://127.0.0.1:7878/store")                     # doctest: +SKIP
[PushedGraph(graph='https://w3id.org/chuzhi/graph/common', triples=...), ...]
>>> endpoint = RemoteEndpoint("http://127.0.0.1:7878/query")      # doctest: +SKIP
>>> run_query(endpoint, "cases-per-domain")                        # doctest: +SKIP

Graphs: every edition gets its own named graph ``{base}graph/edition/ID`` holding the
edition, its award categories and its cases (with their applicant lists); what editions
share (ontology, vocabularies, regions, units, sources, co-applicant links) goes to
``{base}graph/common``, and ``void.ttl`` to ``{base}graph/void``. Each graph is sent with one
HTTP ``PUT``, which replaces it in one step. The queries read the union of the graphs, so the
store must use the union of its named graphs as the default graph (``oxigraph serve
--union-default-graph``, Fuseki ``tdb2:unionDefaultGraph true``; Virtuoso does so without
``FROM``). See docs/remote.md.

Parameters cannot travel as substitutions over the protocol: :meth:`RemoteEndpoint.sparql`
adds them as a ``VALUES`` block at the start of the outer ``WHERE``, each value written by
pyoxigraph in N-Triples syntax (escaped), so a value can never change the query's structure.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from chuzhi_graph.errors import EnvironmentProblem, QueryError
from chuzhi_graph.namespace import DEFAULT_BASE, OX
from chuzhi_graph.query import _TOKENS, Term, query_prefixes
from chuzhi_graph.store import find_dump

PASSWORD_ENV = "CHUZHI_GRAPH_PASSWORD"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
ACCEPT = ("application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8, "
          "application/sparql-results+xml;q=0.5")


def _opener(url: str, user: str | None) -> urllib.request.OpenerDirector:
    if not user:
        return urllib.request.build_opener()
    password = os.environ.get(PASSWORD_ENV, "")
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, url, user, password)
    return urllib.request.build_opener(
        urllib.request.HTTPBasicAuthHandler(manager), urllib.request.HTTPDigestAuthHandler(manager))


def _send(opener: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float | None,
          what: str) -> tuple[bytes, str]:
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace").strip()
        raise QueryError(f"{what}: the store answered HTTP {exc.code}: {body[:300]}", file=request.full_url) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EnvironmentProblem(f"{what}: cannot reach the store: {reason}", file=request.full_url) from None


class RemoteEndpoint:
    """A SPARQL 1.1 Protocol query endpoint that :func:`~chuzhi_graph.query.run_query` can use.

    >>> RemoteEndpoint("http://127.0.0.1:7878/query").url
    'http://127.0.0.1:7878/query'
    """

    def __init__(self, url: str, *, user: str | None = None, timeout: float | None = None) -> None:
        self.url = url
        self.timeout = timeout
        self._opener = _opener(url, user)

    def sparql(self, text: str, substitutions: dict[ox.Variable, Term]) -> Any:
        """Send the query; SELECT/ASK answers parsed by pyoxigraph, graphs as a list of triples."""
        text = with_prefixes(with_values(text, substitutions))
        data = urllib.parse.urlencode({"query": text}).encode("utf-8")
        request = urllib.request.Request(self.url, data=data, method="POST", headers={
            "Accept": ACCEPT, "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        body, ctype = _send(self._opener, request, self.timeout, "query")
        mime = ctype.split(";")[0].strip().lower()
        if mime == "application/sparql-results+json":
            return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        if mime in ("application/sparql-results+xml", "application/xml"):
            return ox.parse_query_results(body, format=ox.QueryResultsFormat.XML)
        formats = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/turtle": ox.RdfFormat.TURTLE}
        if mime in formats:
            return [q.triple for q in ox.parse(body, format=formats[mime])]
        raise QueryError(f"the store answered with an unexpected content type {ctype!r}", file=self.url)


def with_prefixes(text: str, base: str = DEFAULT_BASE) -> str:
    """Declare the predeclared prefixes in the text, on its first line (line numbers stay)."""
    declared = "".join(f"PREFIX {p}: <{iri}> " for p, iri in sorted(query_prefixes(base).items()))
    return declared + text


def with_values(text: str, substitutions: dict[ox.Variable, Term]) -> str:
    """Bind variables with a ``VALUES`` block opening the outer ``WHERE`` group.

    >>> with_values("SELECT ?u WHERE { ?u ?p ?o }", {ox.Variable("u"): ox.NamedNode("http://e/u")})
    'SELECT ?u WHERE { VALUES (?u) { (<http://e/u>) } ?u ?p ?o }'
    """
    if not substitutions:
        return text
    names = " ".join(f"?{v.value}" for v in substitutions)
    values = " ".join(str(t) for t in substitutions.values())
    block = f" VALUES ({names}) {{ ({values}) }}"
    brace = _first_brace_after_where(text)
    if brace < 0:
        raise QueryError("cannot bind parameters remotely: the query has no WHERE clause")
    return text[:brace + 1] + block + text[brace + 1:]


def _first_brace_after_where(text: str) -> int:
    where_end = -1
    for match in _TOKENS.finditer(text):
        keyword = match.group("keyword")
        if keyword and keyword.upper() == "WHERE":
            where_end = match.end()
            break
    if where_end < 0:
        return -1
    return text.find("{", where_end)


# ---------------------------------------------------------------- push


@dataclass(frozen=True)
class PushedGraph:
    """One named graph sent to the store."""

    graph: str
    triples: int


def split_by_edition(triples: list[ox.Triple], base: str = DEFAULT_BASE) -> dict[str, list[ox.Triple]]:
    """Graph IRI -> triples: one graph per edition, the shared rest in ``{base}graph/common``."""
    edition_of: dict[Term, ox.NamedNode] = {}
    for t in triples:
        if t.predicate == OX.edition or t.predicate == OX.categoryEdition:
            edition_of[t.subject] = t.object  # type: ignore[assignment]
        elif t.predicate == RDF_TYPE and t.object == OX.Edition:
            edition_of[t.subject] = t.subject  # type: ignore[assignment]
    # blank nodes (applicant lists) go with the subject that refers to them
    referrer = {t.object: t.subject for t in triples if isinstance(t.object, ox.BlankNode)}
    for node in referrer:
        owner: Term = node
        seen = set()
        while isinstance(owner, ox.BlankNode) and owner in referrer and owner not in seen:
            seen.add(owner)
            owner = referrer[owner]
        if owner in edition_of:
            edition_of[node] = edition_of[owner]
    common = f"{base}graph/common"
    graphs: dict[str, list[ox.Triple]] = defaultdict(list)
    for t in triples:
        edition = edition_of.get(t.subject)
        if edition is None:
            graphs[common].append(t)
        else:
            local = edition.value[len(base):] if edition.value.startswith(base) else urllib.parse.quote(
                edition.value, safe="")
            graphs[f"{base}graph/{local}"].append(t)
    return dict(sorted(graphs.items()))


def push(out_dir: str | Path, endpoint: str, base: str = DEFAULT_BASE, *, user: str | None = None,
         timeout: float | None = 300) -> list[PushedGraph]:
    """Upload the build in ``out_dir`` to a Graph Store Protocol endpoint, one named graph per edition.

    >>> push("out", "http://127.0.0.1:7878/store")                    # doctest: +SKIP
    """
    out_dir = Path(out_dir)
    dump, fmt = find_dump(out_dir)
    triples = [q.triple for q in ox.parse(path=str(dump), format=fmt)]
    graphs = split_by_edition(triples, base)
    void = out_dir / "void.ttl"
    if void.is_file():
        graphs[f"{base}graph/void"] = [q.triple for q in ox.parse(path=str(void), format=ox.RdfFormat.TURTLE)]
    opener = _opener(endpoint, user)
    pushed = []
    for graph, members in graphs.items():
        body = ox.serialize(members, format=ox.RdfFormat.N_TRIPLES)
        sep = "&" if "?" in endpoint else "?"
        url = f"{endpoint}{sep}{urllib.parse.urlencode({'graph': graph})}"
        request = urllib.request.Request(url, data=body, method="PUT",
                                         headers={"Content-Type": "application/n-triples"})
        _send(opener, request, timeout, f"push of graph <{graph}>")
        pushed.append(PushedGraph(graph, len(members)))
    return pushed
