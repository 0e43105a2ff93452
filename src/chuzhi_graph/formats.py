"""The output formats: one registry, each format declared once with its suffix, media type and writer.

Every list of formats in the package is read from :data:`REGISTRY` when it is needed: the
command line's ``--format`` choices (``cli.RegistryChoice``), ``serve``'s content negotiation,
the formats ``build`` writes and the media types ``build`` and ``publish`` describe, and the
writer each library function calls. Adding a format is one :class:`Format` entry (or one
:func:`register` call) and its writer.

A writer is named by ``"module:function"`` and imported only when first used, so this module
imports nothing and the command line reads it without loading an engine; a higher module may
also :func:`register` an entry holding the function itself. What a writer of each kind takes:

- ``result`` (SELECT/ASK) and ``result-graph`` (CONSTRUCT/DESCRIBE): ``(result, fmt, base, *, escape) -> str``
  (``escape``: CSV for spreadsheets)
- ``picture``: ``(graph, path, fmt, title, *, size_by, seed, site) -> Path``
- ``map``: ``(data, path, fmt, title, *, colour_by, region) -> Path``
- ``stats``: ``(stats, *, escape) -> str``; ``diff``: ``(diff) -> str``
- ``dump``: ``(writing, path) -> None`` (``build``'s dump files; a dump without a writer is only read)

where ``fmt`` is the :class:`Format` entry itself.

>>> "csv" in names("result") and "csv" in names("stats")
True
>>> [name for name in names("picture") if name not in names("map")]
['graphml', 'gexf']
>>> lookup("dump", "ttl").media_type, lookup("result", "json").negotiable
('text/turtle', True)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["result", "result-graph", "picture", "map", "stats", "diff", "dump"]
KINDS: tuple[Kind, ...] = ("result", "result-graph", "picture", "map", "stats", "diff", "dump")


@dataclass(frozen=True)
class Format:
    """One output format of one kind: its ``--format`` name, file suffixes, media type and writer.

    ``writer`` is ``"module:function"`` (imported at first use) or the function; ``negotiable``:
    ``serve`` answers it by ``Accept`` (``accept`` lists further media types that ask for it) and by
    a ``format=``/``output=`` parameter naming it (``params``: further values that do, as SPARQLWrapper,
    Virtuoso and Fuseki spell them); ``preferred``: ``serve``'s answer when the client states no
    preference (else the first negotiable format of the kind); ``aliases`` are further names the
    library accepts but the command line does not offer; ``engine`` names pyoxigraph's format
    (``RdfFormat``/``QueryResultsFormat``) where one is used; ``w3c``: the format's name among
    the W3C's (``http://www.w3.org/ns/formats/``), where it has one (the service description);
    ``suffixes[0]`` is the suffix written, the others are read as the same format.
    """

    kind: Kind
    name: str
    suffixes: tuple[str, ...]
    media_type: str
    writer: str | Callable[..., Any] | None = None
    negotiable: bool = False
    accept: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    preferred: bool = False
    aliases: tuple[str, ...] = ()
    engine: str = ""
    quads: bool = False
    w3c: str = ""
    resolved: list[Callable[..., Any]] = field(default_factory=list, compare=False, repr=False)

    @property
    def suffix(self) -> str:
        """The suffix a file of this format is written with."""
        return self.suffixes[0]

    def write(self, *args: Any, **kwargs: Any) -> Any:
        """Call the writer (importing it the first time)."""
        return self.function()(*args, **kwargs)

    def function(self) -> Callable[..., Any]:
        """The writer itself; a ``LookupError`` when the format has none."""
        if not self.resolved:
            if self.writer is None:
                raise LookupError(f"the {self.kind} format {self.name!r} has no writer")
            if callable(self.writer):
                self.resolved.append(self.writer)
            else:
                module, _, name = self.writer.partition(":")
                self.resolved.append(getattr(importlib.import_module(module), name))
        return self.resolved[0]


def _f(kind: Kind, name: str, suffixes: str, media_type: str, writer: str | None = None, **more: Any) -> Format:
    return Format(kind, name, tuple(suffixes.split()), media_type, writer, **more)


_RESULTS = "chuzhi_graph.sparql.results"
_RENDER = "chuzhi_graph.views.render"
_MAP = "chuzhi_graph.views.mapview"
#: Every format, in the order the command line offers them (the first of a kind is not a default).
REGISTRY: list[Format] = [
    # query results of SELECT and ASK: a text table or a W3C SPARQL results format
    _f("result", "table", ".txt", "text/plain", f"{_RESULTS}:table_result"),
    _f("result", "csv", ".csv", "text/csv", f"{_RESULTS}:w3c_result", negotiable=True, engine="CSV",
       w3c="SPARQL_Results_CSV"),
    _f("result", "tsv", ".tsv", "text/tab-separated-values", f"{_RESULTS}:w3c_result", negotiable=True,
       engine="TSV", w3c="SPARQL_Results_TSV"),
    _f("result", "json", ".srj .json", "application/sparql-results+json", f"{_RESULTS}:json_result",
       negotiable=True, accept=("application/json",), preferred=True, engine="JSON", w3c="SPARQL_Results_JSON"),
    _f("result", "xml", ".srx .xml", "application/sparql-results+xml", f"{_RESULTS}:w3c_result",
       negotiable=True, accept=("application/xml", "text/xml"), engine="XML", w3c="SPARQL_Results_XML"),
    # query results of CONSTRUCT and DESCRIBE: a graph
    _f("result-graph", "turtle", ".ttl", "text/turtle", f"{_RESULTS}:rdf_result", negotiable=True,
       accept=("application/x-turtle",), params=("ttl",), aliases=("ttl", "table"), engine="TURTLE", w3c="Turtle"),
    _f("result-graph", "nt", ".nt", "application/n-triples", f"{_RESULTS}:rdf_result", negotiable=True,
       accept=("text/plain", "application/x-ntriples"), params=("n-triples", "ntriples"), aliases=("ntriples",),
       engine="N_TRIPLES", w3c="N-Triples"),
    _f("result-graph", "rdfxml", ".rdf", "application/rdf+xml", f"{_RESULTS}:rdf_result", negotiable=True,
       params=("xml", "rdf", "rdf+xml"), engine="RDF_XML", w3c="RDF_XML"),
    _f("result-graph", "jsonld", ".jsonld", "application/ld+json", f"{_RESULTS}:rdf_result", negotiable=True,
       params=("json-ld", "json"), engine="JSON_LD", w3c="JSON-LD"),
    _f("result-graph", "n3", ".n3", "text/n3", f"{_RESULTS}:rdf_result", negotiable=True,  # Turtle is N3
       accept=("text/rdf+n3",), engine="TURTLE", w3c="N3"),
    # render: the interactive page, pictures, Gephi exports
    _f("picture", "html", ".html", "text/html", f"{_RENDER}:write_html"),
    _f("picture", "png", ".png", "image/png", f"{_RENDER}:write_picture"),
    _f("picture", "svg", ".svg", "image/svg+xml", f"{_RENDER}:write_picture"),
    _f("picture", "graphml", ".graphml", "application/graphml+xml", f"{_RENDER}:write_export"),
    _f("picture", "gexf", ".gexf", "application/gexf+xml", f"{_RENDER}:write_export"),
    # render map: the map has no network to export
    _f("map", "html", ".html", "text/html", f"{_MAP}:write_html"),
    _f("map", "png", ".png", "image/png", f"{_MAP}:write_picture"),
    _f("map", "svg", ".svg", "image/svg+xml", f"{_MAP}:write_picture"),
    # stats
    _f("stats", "table", ".txt", "text/plain", "chuzhi_graph.views.stats:stats_table"),
    _f("stats", "csv", ".csv", "text/csv", "chuzhi_graph.views.stats:stats_csv"),
    _f("stats", "json", ".json", "application/json", "chuzhi_graph.views.stats:stats_json"),
    # diff: the text report, JSON, or a Turtle changeset
    _f("diff", "text", ".txt", "text/plain", "chuzhi_graph.release.diff:to_text"),
    _f("diff", "json", ".json", "application/json", "chuzhi_graph.release.diff:to_json"),
    _f("diff", "turtle", ".ttl", "text/turtle", "chuzhi_graph.release.diff:to_turtle"),
    # the dump files: build writes those with a writer, every one is read by its suffix
    _f("dump", "ttl", ".ttl", "text/turtle", "chuzhi_graph.build:write_turtle", engine="TURTLE"),
    _f("dump", "nt", ".nt", "application/n-triples", "chuzhi_graph.build:write_ntriples", engine="N_TRIPLES"),
    _f("dump", "jsonld", ".jsonld .json", "application/ld+json", "chuzhi_graph.build:write_jsonld",
       engine="JSON_LD"),
    _f("dump", "trig", ".trig", "application/trig", engine="TRIG", quads=True),  # publish writes it, by graph
    _f("dump", "nq", ".nq", "application/n-quads", engine="N_QUADS", quads=True),
    _f("dump", "rdf", ".rdf .owl", "application/rdf+xml", engine="RDF_XML"),
]


def of(kind: Kind) -> tuple[Format, ...]:
    """The formats of ``kind``, in registry order."""
    return tuple(f for f in REGISTRY if f.kind == kind)


def names(*kinds: Kind) -> tuple[str, ...]:
    """The ``--format`` names of ``kinds`` (aliases left out), in registry order, each once.

    >>> names("result", "result-graph")
    ('table', 'csv', 'tsv', 'json', 'xml', 'turtle', 'nt', 'rdfxml', 'jsonld', 'n3')
    """
    return tuple(dict.fromkeys(f.name for kind in kinds for f in of(kind)))


def lookup(kind: Kind, name: str) -> Format | None:
    """The format of ``kind`` called ``name`` (or an alias of it); ``None`` when there is none."""
    return next((f for f in of(kind) if name == f.name or name in f.aliases), None)


def by_media_type(kind: Kind, media_type: str) -> Format | None:
    """The negotiable format of ``kind`` a media type (``Accept``) asks for; ``None`` for another one.

    >>> by_media_type("result", "application/json").name
    'json'
    """
    media_type = media_type.lower()
    return next((f for f in of(kind) if f.negotiable and media_type in (f.media_type, *f.accept)), None)


def media_type(kind: Kind, name: str) -> str:
    """The media type of the format ``name`` of ``kind``; a ``LookupError`` when there is none.

    >>> media_type("result-graph", "nt")
    'application/n-triples'
    """
    fmt = lookup(kind, name)
    if fmt is None:
        raise LookupError(f"no {kind} format {name!r}")
    return fmt.media_type


def accept_header(kind: Kind, *names: str) -> str:
    """An ``Accept`` header asking for the formats ``names`` of ``kind``, in order of preference.

    >>> accept_header("result-graph", "nt", "turtle")
    'application/n-triples, text/turtle;q=0.9'
    """
    return ", ".join(f"{media_type(kind, name)}{f';q={1 - i / 10:g}' if i else ''}" for i, name in enumerate(names))


def register(fmt: Format) -> Format:
    """Add ``fmt`` to the registry (replacing a format of the same kind and name): from a higher module."""
    REGISTRY[:] = [f for f in REGISTRY if (f.kind, f.name) != (fmt.kind, fmt.name)] + [fmt]
    return fmt


__all__ = ["KINDS", "REGISTRY", "Format", "Kind", "accept_header", "by_media_type", "lookup", "media_type",
           "names", "of", "register"]
