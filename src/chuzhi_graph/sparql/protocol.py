"""Content negotiation of the SPARQL 1.1 Protocol: which format answers a request.

The formats, their media types and the ``format``/``output`` values that ask for them are the
negotiable ``result`` (SELECT, ASK) and ``result-graph`` (CONSTRUCT, DESCRIBE) formats of the
registry, :mod:`chuzhi_graph.formats`; this module only chooses among them.

>>> choose("text/csv, */*;q=0.1", "select"), choose("", "graph"), choose("", "ask", ["xml"])
('csv', 'turtle', 'xml')
>>> choose("application/x-nothing", "select") is None      # 406
True
>>> choose("", "graph", ["xml"]), choose("", "select", ["n3"])   # SPARQLWrapper's format=
('rdfxml', 'json')

A client's ``format``/``output`` parameter (SPARQLWrapper sends ``format=xml`` with every query,
Virtuoso and Fuseki read it) is honoured when it names a format of the answer's kind and ignored
otherwise, never an error. Without one, the ``Accept`` header decides; a header naming nothing this
endpoint can write (and no ``*/*``) is 406. A wildcard (``text/*``, ``application/*``) takes the first
format of the kind, in registry order, with that top type.
"""

from __future__ import annotations

from collections.abc import Iterable

from chuzhi_graph import formats


def registry_kind(kind: str) -> formats.Kind:
    """The registry's kind of formats for an answer of ``kind`` (``select``, ``ask``, ``graph``)."""
    return "result-graph" if kind == "graph" else "result"


def negotiable(kind: str) -> tuple[formats.Format, ...]:
    """The formats ``serve`` answers ``kind`` in, in registry order (read when asked).

    >>> [f.name for f in negotiable("select")]
    ['csv', 'tsv', 'json', 'xml']
    """
    return tuple(f for f in formats.of(registry_kind(kind)) if f.negotiable)


def default_format(kind: str) -> str:
    """The format of an answer of ``kind`` when the client states no preference."""
    found = negotiable(kind)
    return next((f for f in found if f.preferred), found[0]).name


def media_type(fmt: str, kind: str = "select") -> str:
    """The ``Content-Type`` of the format ``fmt`` of an answer of ``kind`` (without charset).

    >>> media_type("json"), media_type("n3", "graph")
    ('application/sparql-results+json', 'text/n3')
    """
    return formats.media_type(registry_kind(kind), fmt)


def described(kind: str) -> str:
    """The media types ``serve`` answers ``kind`` in, for a 406's message."""
    return ", ".join(f.media_type for f in negotiable(kind))


def from_param(values: Iterable[str], kind: str) -> str | None:
    """The first ``format``/``output`` value that names a format of ``kind``; None: none does."""
    found = negotiable(kind)
    for value in values:
        key = value.strip().lower()
        fmt = next((f for f in found if key == f.name or key in f.params), None) or _by_media(key, found)
        if fmt is not None:
            return fmt.name
    return None


def _by_media(mime: str, found: tuple[formats.Format, ...]) -> formats.Format | None:
    return next((f for f in found if mime == f.media_type or mime in f.accept), None)


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
    found = negotiable(kind)
    for _, _, mime in _ranked(accept):
        if mime in ("*/*", "*"):
            return default_format(kind)
        if mime.endswith("/*"):
            top = mime[:-2]
            wild = next((f for f in found if f.media_type.startswith(top + "/")), None)
            if wild is not None:
                return wild.name
            continue
        fmt = _by_media(mime, found)
        if fmt is not None:
            return fmt.name
    return None
