"""A remote SPARQL 1.1 store: push the dumps (Graph Store Protocol), run the shipped queries there.

>>> push("out", "http://127.0.0.1:7878/store")                     # doctest: +SKIP
[PushedGraph(graph='https://w3id.org/chuzhi/graph/edition/bigdata-2022', triples=...), ...]
>>> endpoint = RemoteEndpoint("http://127.0.0.1:7878/query")      # doctest: +SKIP
>>> run_query(endpoint, "cases-per-domain")                        # doctest: +SKIP

Graphs: exactly the named graphs of the published ``chuzhi.trig``
(:meth:`chuzhi_graph.release.reader.Release.layout`): every edition gets its own named graph
``{base}graph/edition/ID`` holding the edition, its award categories and its cases (with their
applicant lists); the ontology and the SKOS schemes go to ``{base}graph/vocabulary``, what
editions share (units, regions, sources, co-applicant links) to ``{base}graph/shared``. The
dataset description (``void.ttl``) stays a file, as in the site. Each graph is sent with one
HTTP ``PUT``, which replaces it in one step; the graphs of an earlier push that the release does
not hold are deleted (the manifest graph ``{base}graph/manifest`` lists what push owns; a graph
it does not list is never touched), the counts are verified, and a push killed on the way is
marked in the manifest and repaired by the next (see :func:`push`). The queries read the union of the graphs, so the
store must use the union of its named graphs as the default graph (``oxigraph serve
--union-default-graph``, Fuseki ``tdb2:unionDefaultGraph true``; Virtuoso does so without
``FROM``); after the upload :func:`push` asks the store whether its default graph shows the cases,
and says how to enable the union default graph when it does not. See docs/remote.md.

Parameters cannot travel as substitutions over the protocol: :meth:`RemoteEndpoint.sparql`
adds them as a ``VALUES`` block at the start of the outer ``WHERE``, each value written by
pyoxigraph in N-Triples syntax (escaped), so a value can never change the query's structure.
"""

from __future__ import annotations

import contextlib
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from chuzhi_graph.core.faults import kill_point
from chuzhi_graph.core.prefixes import DEFAULT_BASE, ox_iri
from chuzhi_graph.errors import EnvironmentProblem, QueryError, QueryUsageError
from chuzhi_graph.formats import accept_header, by_media_type, media_type
from chuzhi_graph.release.reader import Release
from chuzhi_graph.sparql.query import TOKENS, Term, query_prefixes

log = logging.getLogger(__name__)

PASSWORD_ENV = "CHUZHI_GRAPH_PASSWORD"
#: For SELECT and ASK (the media types, here and below, are the format registry's).
ACCEPT = accept_header("result", "json", "xml")
#: For CONSTRUCT and DESCRIBE: Virtuoso would answer them as a result set of ?s ?p ?o if asked for JSON.
ACCEPT_GRAPH = accept_header("result-graph", "nt", "turtle")


def _opener(url: str, user: str | None) -> urllib.request.OpenerDirector:
    if not user:
        return urllib.request.build_opener()
    password = os.environ.get(PASSWORD_ENV, "")
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, url, user, password)
    return urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(manager), _PreemptiveDigest(manager))


class _PreemptiveDigest(urllib.request.HTTPDigestAuthHandler):
    """Digest auth that answers the last challenge up front.

    Without it every request is first sent without credentials; Virtuoso answers a large ``PUT``
    with 401 and closes the connection before the body is read, and the client sees a broken pipe.
    """

    _challenge: dict[str, str] | None = None

    def http_error_auth_reqed(self, auth_header: str, host: str, req: urllib.request.Request,
                              headers: Any) -> Any:
        challenge = headers.get(auth_header, "")
        scheme, _, rest = challenge.partition(" ")
        if scheme.lower() == "digest":
            self._challenge = urllib.request.parse_keqv_list(
                [part for part in urllib.request.parse_http_list(rest) if part])
        return super().http_error_auth_reqed(auth_header, host, req, headers)

    def http_request(self, req: urllib.request.Request) -> urllib.request.Request:
        if self._challenge is not None and not req.has_header(self.auth_header):
            auth = self.get_authorization(req, self._challenge)
            if auth:
                req.add_unredirected_header(self.auth_header, f"Digest {auth}")
        return req

    https_request = http_request


class _Missing(Exception):
    """The store answered 404: it does not hold the graph."""


def _send(opener: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float | None,
          what: str, *, missing: bool = False) -> tuple[bytes, str]:
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        if missing and exc.code == 404:
            raise _Missing from None
        body = exc.read().decode("utf-8", "replace").strip()
        raise QueryError(f"{what}: the store answered HTTP {exc.code}: {body[:300]}", file=request.full_url) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EnvironmentProblem(f"{what}: cannot reach the store: {reason}", file=request.full_url) from None


class RemoteEndpoint:
    """A SPARQL 1.1 Protocol query endpoint that :func:`~chuzhi_graph.sparql.query.run_query` can use.

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
        accept = ACCEPT_GRAPH if query_form(text) in ("CONSTRUCT", "DESCRIBE") else ACCEPT
        request = urllib.request.Request(self.url, data=data, method="POST", headers={
            "Accept": accept, "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        body, ctype = _send(self._opener, request, self.timeout, "query")
        mime = ctype.split(";")[0].strip().lower()
        results = by_media_type("result", mime)
        if results is not None and results.name in ("json", "xml"):
            return _ask_as_boolean(ox.parse_query_results(body, format=getattr(ox.QueryResultsFormat, results.engine)))
        graph = by_media_type("result-graph", mime)
        if graph is not None and graph.name in ("nt", "turtle"):
            return [q.triple for q in ox.parse(body, format=getattr(ox.RdfFormat, graph.engine))]
        raise QueryError(f"the store answered with an unexpected content type {ctype!r}", file=self.url)


def query_form(text: str) -> str | None:
    """``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE``: the first such keyword outside comments and strings.

    >>> query_form("# SELECT in a comment\\nPREFIX a: <http://e/> CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    'CONSTRUCT'
    """
    for match in TOKENS.finditer(text):
        keyword = (match.group("keyword") or "").upper()
        if keyword in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
            return keyword
    return None


def _ask_as_boolean(parsed: Any) -> Any:
    """Virtuoso answers ASK as a one-row result set of ``?__ASK_RETVAL`` (1 or 0): make it a boolean."""
    if isinstance(parsed, ox.QuerySolutions) and [v.value for v in parsed.variables] == ["__ASK_RETVAL"]:
        rows = list(parsed)
        return bool(rows) and rows[0][0] is not None and rows[0][0].value not in ("0", "false")
    return parsed


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
    for match in TOKENS.finditer(text):
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


#: Graph Store Protocol path -> query path of the stores documented in docs/remote.md.
_QUERY_PATHS = (("/sparql-graph-crud-auth", "/sparql"), ("/sparql-graph-crud", "/sparql"),  # Virtuoso
                ("/store", "/query"),  # Oxigraph
                ("/data", "/sparql"))  # Fuseki

#: How to make the default graph the union of the named graphs, per store.
UNION_HOWTO = (
    "Oxigraph: `oxigraph serve --union-default-graph`; "
    "Fuseki: a TDB2 dataset with `tdb2:unionDefaultGraph true` (or `--set tdb:unionDefaultGraph=true`); "
    "Virtuoso: the default without FROM is already the union (check that no default graph is set "
    "for the endpoint); others: see docs/remote.md"
)


def query_endpoint_for(store_url: str) -> str | None:
    """The query endpoint beside a Graph Store Protocol endpoint, for the stores we know.

    >>> query_endpoint_for("http://127.0.0.1:7878/store"), query_endpoint_for("http://h:8890/sparql-graph-crud-auth")
    ('http://127.0.0.1:7878/query', 'http://h:8890/sparql')
    >>> query_endpoint_for("http://h/ds/data"), query_endpoint_for("http://h/elsewhere")
    ('http://h/ds/sparql', None)
    """
    parts = urllib.parse.urlsplit(store_url)
    for store_path, query_path in _QUERY_PATHS:
        if parts.path.endswith(store_path):
            path = parts.path[: -len(store_path)] + query_path
            return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    return None


def check_default_graph(query_url: str, *, user: str | None = None, timeout: float | None = 60) -> None:
    """Raise :class:`EnvironmentProblem` unless the store's default graph shows the pushed cases.

    The shipped queries read the default graph; a store that keeps it apart from the named graphs
    would answer every one of them with nothing, silently.
    """
    endpoint = RemoteEndpoint(query_url, user=user, timeout=timeout)
    case = "<https://w3id.org/chuzhi/def#Case>"
    if _ask(endpoint, f"ASK {{ ?c a {case} }}"):
        return
    if _ask(endpoint, f"ASK {{ GRAPH ?g {{ ?c a {case} }} }}"):
        raise EnvironmentProblem(
            "the graphs were pushed, but the store's default graph does not show them, so every shipped "
            f"query would answer nothing: make the default graph the union of the named graphs ({UNION_HOWTO})",
            file=query_url)
    raise EnvironmentProblem("the graphs were pushed, but the store shows no case in them; is this the query "
                             "endpoint of the same store? (give it with --query-endpoint)", file=query_url)


def _ask(endpoint: RemoteEndpoint, text: str) -> bool:
    answer = endpoint.sparql(text, {})
    return bool(answer)


def push(out_dir: str | Path, endpoint: str, base: str = DEFAULT_BASE, *, user: str | None = None,
         timeout: float | None = 300, query_endpoint: str | None = None, check: bool = True) -> list[PushedGraph]:
    """Make the store's graphs of the dataset equal the build in ``out_dir``.

    The steps (docs/remote.md): read the manifest graph ``{base}graph/manifest`` (the graphs
    earlier pushes made); mark it *in progress*, listing those and this release's graphs; ``PUT``
    each graph of the release; ``DELETE`` the listed graphs the release does not hold (never a
    graph the manifest does not list); with ``check``, count each graph's triples on the store's
    query endpoint (``query_endpoint``, else the one beside ``endpoint``, see
    :func:`query_endpoint_for`) and compare; mark the manifest *complete*, listing this release's
    graphs only; and ask whether the default graph shows the data. A push killed on the way leaves
    the mark, and the next push removes what the killed one left.

    >>> push("out", "http://127.0.0.1:7878/store")                    # doctest: +SKIP
    """
    query_url = query_endpoint or query_endpoint_for(endpoint)
    if check and query_url is None:
        raise QueryUsageError(f"cannot tell the query endpoint of the store {endpoint}: give it with "
                              "--query-endpoint (or --no-check)", field="--query-endpoint")
    graphs = Release.open(out_dir, base=base).layout()  # the named graphs of chuzhi.trig, no other
    store = GraphStore(endpoint, user=user, timeout=timeout)
    manifest = f"{base}graph/manifest"
    owned, complete = read_manifest(store.get(manifest), manifest)
    if not complete:
        log.warning("the last push to this store did not finish: this push repairs it")
    sent = {graph: len(members) for graph, members in graphs.items()}
    stale = sorted(set(owned) - set(sent) - {manifest})
    store.put(manifest, manifest_triples(manifest, {**dict.fromkeys(owned, 0), **sent}, complete=False))
    kill_point("push")
    pushed = []
    for graph, members in graphs.items():
        store.put(graph, members)
        pushed.append(PushedGraph(graph, len(members)))
        kill_point("push")
    for graph in stale:
        store.delete(graph)
        log.warning("removed the graph <%s>: the release does not hold it", graph)
        kill_point("push")
    if check and query_url is not None:
        verify_counts(query_url, {**sent, **dict.fromkeys(stale, 0)}, user=user)
    store.put(manifest, manifest_triples(manifest, sent, complete=True))
    kill_point("push")
    if check and query_url is not None:
        check_default_graph(query_url, user=user)
    return pushed


class GraphStore:
    """A Graph Store Protocol endpoint: get, put and delete named graphs.

    >>> GraphStore("http://127.0.0.1:7878/store").url_of("http://e/g")
    'http://127.0.0.1:7878/store?graph=http%3A%2F%2Fe%2Fg'
    """

    def __init__(self, url: str, *, user: str | None = None, timeout: float | None = 300) -> None:
        self.url, self.timeout = url, timeout
        self._opener = _opener(url, user)

    def url_of(self, graph: str) -> str:
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}{urllib.parse.urlencode({'graph': graph})}"

    def get(self, graph: str) -> list[ox.Triple] | None:
        """The triples of ``graph``; None when the store does not hold it."""
        request = urllib.request.Request(self.url_of(graph), headers={"Accept": ACCEPT_GRAPH})
        try:
            body, ctype = _send(self._opener, request, self.timeout, f"read of graph <{graph}>", missing=True)
        except _Missing:
            return None
        answered = by_media_type("result-graph", ctype.split(";")[0].strip())
        engine = answered.engine if answered is not None and answered.name == "turtle" else "N_TRIPLES"
        fmt = getattr(ox.RdfFormat, engine)
        try:
            return [q.triple for q in ox.parse(body, format=fmt)]
        except (SyntaxError, ValueError) as exc:
            raise QueryError(f"read of graph <{graph}>: cannot parse the store's answer: {exc}",
                             file=self.url) from None

    def put(self, graph: str, triples: list[ox.Triple]) -> None:
        """Replace ``graph`` by ``triples`` in one request."""
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        request = urllib.request.Request(self.url_of(graph), data=body, method="PUT",
                                         headers={"Content-Type": media_type("result-graph", "nt")})
        _send(self._opener, request, self.timeout, f"push of graph <{graph}>")

    def delete(self, graph: str) -> None:
        """Drop ``graph``; a graph the store does not hold is not an error."""
        request = urllib.request.Request(self.url_of(graph), method="DELETE")
        with contextlib.suppress(_Missing):
            _send(self._opener, request, self.timeout, f"removal of graph <{graph}>", missing=True)


_PART = ox_iri("dct:hasPart")
_TRIPLES = ox_iri("void:triples")
_STATUS = ox_iri("schema:actionStatus")
_DONE, _ACTIVE = ox_iri("schema:CompletedActionStatus"), ox_iri("schema:ActiveActionStatus")


def manifest_triples(manifest: str, graphs: dict[str, int], *, complete: bool) -> list[ox.Triple]:
    """The manifest graph: the graphs a push owns (``dct:hasPart``), their triple counts, its status.

    >>> [str(t) for t in manifest_triples("http://e/m", {"http://e/g": 2}, complete=True)][0]
    '<http://e/m> <https://schema.org/actionStatus> <https://schema.org/CompletedActionStatus>'
    """
    node = ox.NamedNode(manifest)
    triples = [ox.Triple(node, _STATUS, _DONE if complete else _ACTIVE)]
    for graph, count in sorted(graphs.items()):
        triples.append(ox.Triple(node, _PART, ox.NamedNode(graph)))
        if complete:
            triples.append(ox.Triple(ox.NamedNode(graph), _TRIPLES, ox.Literal(str(count), datatype=_INTEGER)))
    return triples


_INTEGER = ox_iri("xsd:integer")


def read_manifest(triples: list[ox.Triple] | None, manifest: str) -> tuple[list[str], bool]:
    """``(the graphs the manifest lists, whether the last push completed)``; a store without one owns none.

    >>> read_manifest(None, "http://e/m")
    ([], True)
    """
    if not triples:
        return [], True
    node = ox.NamedNode(manifest)
    owned = sorted(t.object.value for t in triples
                   if t.subject == node and t.predicate == _PART and isinstance(t.object, ox.NamedNode))
    complete = ox.Triple(node, _STATUS, _DONE) in triples
    return owned, complete


def verify_counts(query_url: str, expected: dict[str, int], *, user: str | None = None,
                  timeout: float | None = 120) -> None:
    """:class:`EnvironmentProblem` unless each graph holds ``expected[graph]`` triples (0: absent)."""
    endpoint = RemoteEndpoint(query_url, user=user, timeout=timeout)
    values = " ".join(f"<{graph}>" for graph in sorted(expected))
    answer = endpoint.sparql(f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
                             "GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", {})
    found = {row[0].value: int(row[1].value) for row in answer if row[0] is not None}
    wrong = [f"<{g}> holds {found.get(g, 0)} triples, {n} were pushed" if n else f"<{g}> is still there"
             for g, n in sorted(expected.items()) if found.get(g, 0) != n]
    if wrong:
        raise EnvironmentProblem(f"the store does not hold what was pushed: {'; '.join(wrong[:3])}"
                                 f"{f' (and {len(wrong) - 3} more)' if len(wrong) > 3 else ''}; push again",
                                 file=query_url)
