"""Content negotiation of the SPARQL 1.1 Protocol: which format answers a request, in one table.

>>> choose("text/csv, */*;q=0.1", "select"), choose("", "graph"), choose("", "ask", ["xml"])
('csv', 'turtle', 'xml')
>>> choose("application/x-nothing", "select") is None      # 406
True
>>> choose("", "graph", ["xml"]), choose("", "select", ["n3"])   # SPARQLWrapper's format=
('rdfxml', 'json')

A client's ``format``/``output`` parameter (SPARQLWrapper sends ``format=xml`` with every query,
Virtuoso and Fuseki read it) is honoured when it names a format of the answer's kind and ignored
otherwise, never an error. Without one, the ``Accept`` header decides; a header naming nothing this
endpoint can write (and no ``*/*``) is 406.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

#: format -> (media type, kinds it answers). The first format of a kind is its default; wildcards
#: (``text/*``, ``application/*``) take the first of the kind with that top type.
MEDIA: dict[str, tuple[str, tuple[str, ...]]] = {
    "json": ("application/sparql-results+json", ("select", "ask")),
    "xml": ("application/sparql-results+xml", ("select", "ask")),
    "csv": ("text/csv", ("select", "ask")),
    "tsv": ("text/tab-separated-values", ("select", "ask")),
    "turtle": ("text/turtle", ("graph",)),
    "nt": ("application/n-triples", ("graph",)),
    "rdfxml": ("application/rdf+xml", ("graph",)),
    "jsonld": ("application/ld+json", ("graph",)),
    "n3": ("text/n3", ("graph",)),
}

#: Other names of the media types above in ``Accept``.
MEDIA_ALIASES = {
    "application/json": "json", "application/xml": "xml", "text/xml": "xml", "application/x-turtle": "turtle",
    "text/plain": "nt", "application/x-ntriples": "nt", "application/sparql-results+json; charset=utf-8": "json",
    "text/rdf+n3": "n3",
}

#: Values of a ``format``/``output`` parameter, by the kind of answer (as SPARQLWrapper, Virtuoso
#: and Fuseki spell them; a media type works too). A value not listed for the kind is ignored.
PARAM_VALUES: dict[str, dict[str, str]] = {
    "select": {"json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv"},
    "graph": {"xml": "rdfxml", "rdf": "rdfxml", "rdf+xml": "rdfxml", "rdfxml": "rdfxml",
              "turtle": "turtle", "ttl": "turtle", "n3": "n3", "nt": "nt", "n-triples": "nt",
              "ntriples": "nt", "json-ld": "jsonld", "jsonld": "jsonld", "json": "jsonld"},
}
PARAM_VALUES["ask"] = PARAM_VALUES["select"]

#: Graph formats written here (the rest by :func:`chuzhi_graph.sparql.results.format_result`).
GRAPH_WRITERS = {"rdfxml": ox.RdfFormat.RDF_XML, "jsonld": ox.RdfFormat.JSON_LD, "n3": ox.RdfFormat.TURTLE}


def default_format(kind: str) -> str:
    """The format of an answer of ``kind`` when the client states no preference."""
    return next(f for f, (_, kinds) in MEDIA.items() if kind in kinds)


def media_type(fmt: str) -> str:
    """The ``Content-Type`` of a format (without charset)."""
    return MEDIA[fmt][0]


def from_param(values: Iterable[str], kind: str) -> str | None:
    """The first ``format``/``output`` value that names a format of ``kind``; None: none does."""
    table = PARAM_VALUES[kind]
    for value in values:
        key = value.strip().lower()
        if key in table:
            return table[key]
        fmt = _by_media(key)
        if fmt is not None and kind in MEDIA[fmt][1]:
            return fmt
    return None


def _by_media(mime: str) -> str | None:
    return MEDIA_ALIASES.get(mime) or next((f for f, (m, _) in MEDIA.items() if m == mime), None)


def _ranked(accept: str) -> list[tuple[float, int, str]]:
    ranked = []
    for index, part in enumerate(accept.split(",")):
        fields = part.strip().split(";")
        mime = fields[0].strip().lower()
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if mime and q > 0:
            ranked.append((-q, index, mime))
    return sorted(ranked)


def choose(accept: str, kind: str, params: Iterable[str] = ()) -> str | None:
    """The format of an answer: a ``format`` parameter of the kind, else ``Accept``; None: 406."""
    explicit = from_param(params, kind)
    if explicit is not None:
        return explicit
    if not accept.strip():
        return default_format(kind)
    for _, _, mime in _ranked(accept):
        if mime == "*/*" or mime == "*":
            return default_format(kind)
        if mime.endswith("/*"):
            top = mime[:-2]
            found = next((f for f, (m, kinds) in MEDIA.items() if kind in kinds and m.startswith(top + "/")), None)
            if found is not None:
                return found
            continue
        fmt = _by_media(mime)
        if fmt is not None and kind in MEDIA[fmt][1]:
            return fmt
    return None


def write_graph(triples: list[ox.Triple], fmt: str, prefixes: dict[str, str] | None = None) -> bytes:
    """A graph answer as RDF/XML, JSON-LD or N3 (Turtle is N3) bytes."""
    target = GRAPH_WRITERS[fmt]
    if target == ox.RdfFormat.JSON_LD:
        return ox.serialize(triples, format=target) or b""
    return ox.serialize(triples, format=target, prefixes=prefixes or {}) or b""
