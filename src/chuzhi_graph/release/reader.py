"""One release of the graph: a build folder, a dump file or a published site, loaded lazily.

Every reader of a built graph goes through :class:`Release`: it finds the dump, knows its
format (:func:`chuzhi_graph.core.dump.find_dump` and :func:`~chuzhi_graph.core.dump.format_of`, the one
finder and the suffixes of the format registry), and gives the triples, an rdflib
graph, an in-memory or persistent pyoxigraph store, the named-graph layout (:func:`named_graphs`,
the graphs of the TriG dump and exactly what ``push`` sends) and the dataset description, each loaded at most once.

>>> release = Release.open("out")
>>> release                              # out/current, resolved once: the dump of one build
Release('out/builds/.../chuzhi.nt')
>>> len(release.triples()) > 1000
True

The notebook API (``chuzhi_graph.open``) is this class; see ``docs/api.md``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from chuzhi_graph.core.dump import (  # noqa: F401 (formats_by_suffix re-exported: readers find it here)
    DESCRIPTION_FILE,
    find_dump,
    format_of,
    formats_by_suffix,
    rdf_format,
)
from chuzhi_graph.core.prefixes import DEFAULT_BASE, PREFIXES
from chuzhi_graph.errors import DataError, EnvironmentProblem

if TYPE_CHECKING:
    import networkx as nx
    from rdflib import Graph

    from chuzhi_graph.sparql.query import QueryResult, ShippedQuery


# ---------------------------------------------------------------- named graphs


def graph_iri(base: str, part: str) -> str:
    """The IRI of one named graph: ``shared``, ``vocabulary`` or ``edition/ID``."""
    return f"{base}graph/{part}"


def named_graphs(triples: list[ox.Triple], base: str, vocabulary: set[ox.Triple]) -> dict[str, list[ox.Triple]]:
    """The one named-graph layout (TriG dump and ``push``): every triple in exactly one graph.

    - ``{base}graph/edition/{id}``: an edition, its award categories, its cases (with their
      applicant lists);
    - ``{base}graph/vocabulary``: the ontology and the SKOS schemes (the triples in ``vocabulary``);
    - ``{base}graph/shared``: everything used across editions (units, regions, sources).

    Blank nodes go to the graph of the IRI that reaches them.
    """
    from chuzhi_graph.core.namespace import CHZ  # rdflib: not imported by a query command

    rdf_type = ox.NamedNode(PREFIXES["rdf"] + "type")
    to_edition = {ox.NamedNode(str(CHZ.edition)), ox.NamedNode(str(CHZ.categoryEdition))}  # looked up once
    edition_class = ox.NamedNode(str(CHZ.Edition))
    edition_of: dict[Any, str] = {}
    referrer: dict[Any, Any] = {}
    for t in triples:
        p, o = t.predicate, t.object
        if p in to_edition:
            edition_of[t.subject] = o.value  # type: ignore[union-attr]
        elif p == rdf_type and o == edition_class:
            edition_of[t.subject] = t.subject.value  # type: ignore[union-attr]
        if isinstance(o, ox.BlankNode):
            referrer[o] = t.subject
    for node in referrer:  # applicant lists and their rdf:rest chains go with their owner
        owner: Any = node
        seen = set()
        while isinstance(owner, ox.BlankNode) and owner in referrer and owner not in seen:
            seen.add(owner)
            owner = referrer[owner]
        if owner in edition_of:
            edition_of[node] = edition_of[owner]
    graphs: dict[str, list[ox.Triple]] = defaultdict(list)
    vocab, shared = graph_iri(base, "vocabulary"), graph_iri(base, "shared")
    edition_graph = {iri: graph_iri(base, "edition/" + iri.rsplit("/", 1)[-1]) for iri in set(edition_of.values())}
    for t in triples:
        if t in vocabulary:
            graphs[vocab].append(t)
        else:
            edition = edition_of.get(t.subject)
            graphs[shared if edition is None else edition_graph[edition]].append(t)
    return dict(sorted(graphs.items()))


# ---------------------------------------------------------------- the release


class Release:
    """A built graph, opened lazily; each part is loaded at most once.

    ``loads`` counts what was read or made (``parse``, ``rdflib``, ``store``, ``description``,
    ``layout``): a test checks that publishing parses the dump once.
    """

    def __init__(self, dump: Path, *, base: str = DEFAULT_BASE, ontology_dir: str | Path | None = None,
                 triples: list[ox.Triple] | None = None) -> None:
        self.dump = dump
        self.format = format_of(dump)
        self.folder = dump.parent
        self.base = base
        self.ontology_dir = ontology_dir
        self.loads: Counter[str] = Counter()
        self._triples = triples
        self._graph: Graph | None = None
        self._store: ox.Store | None = None
        self._layout: dict[str, list[ox.Triple]] | None = None
        self._description: list[ox.Triple] | None = None

    @classmethod
    def open(cls, path: str | Path = "out", *, base: str = DEFAULT_BASE,
             ontology_dir: str | Path | None = None) -> Release:
        """The release at ``path``: a build folder, a dump file or a published site."""
        return cls(find_dump(path), base=base, ontology_dir=ontology_dir)

    def __repr__(self) -> str:
        return f"Release({str(self.dump)!r})"

    # -- the data, loaded once

    def triples(self) -> list[ox.Triple]:
        """Every triple of the dump (a quad dump is read as the union of its graphs)."""
        if self._triples is None:
            self.loads["parse"] += 1
            try:
                self._triples = [q.triple for q in ox.parse(path=str(self.dump), format=rdf_format(self.format))]
            except (SyntaxError, ValueError) as exc:
                raise DataError(f"cannot parse the graph dump: {exc}", file=self.dump) from None
        return self._triples

    def graph(self) -> Graph:
        """The triples as an rdflib graph (converted from :meth:`triples`, not parsed again)."""
        if self._graph is None:
            from chuzhi_graph.core.dump import to_rdflib
            from chuzhi_graph.core.prefixes import data_prefixes

            self.loads["rdflib"] += 1
            self._graph = to_rdflib(self.triples())
            for prefix, ns in data_prefixes(self.base).items():
                self._graph.bind(prefix, ns, replace=True)
        return self._graph

    def store(self, *, persistent: bool = False, timeout: float | None = None) -> ox.Store:
        """An in-memory pyoxigraph store of the triples, or (``persistent``) the build's
        on-disk store (``out/store``, reloaded when the dump changes; ``timeout`` bounds the load
        or the wait for another process's, see :func:`chuzhi_graph.sparql.store.open_store`)."""
        if persistent:
            from chuzhi_graph.sparql.store import open_store

            return open_store(self.folder, timeout=timeout)
        if self._store is None:
            self.loads["store"] += 1
            store = ox.Store()
            if self._triples is None and not self.format.quads:  # straight from the file: no Python triples
                try:
                    store.bulk_load(path=str(self.dump), format=rdf_format(self.format))
                except (SyntaxError, ValueError) as exc:
                    raise DataError(f"cannot parse the graph dump: {exc}", file=self.dump) from None
            else:
                store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                                  for t in self.triples())
            self._store = store
        return self._store

    def vocabulary(self) -> set[ox.Triple]:
        """The triples of the ontology and SKOS files, rebased to this release's base."""
        from chuzhi_graph.core.vocabulary import vocabulary_triples

        return set(vocabulary_triples(self.ontology_dir, self.base))

    def layout(self) -> dict[str, list[ox.Triple]]:
        """Graph IRI -> triples, the layout of :func:`named_graphs`."""
        if self._layout is None:
            self.loads["layout"] += 1
            self._layout = named_graphs(self.triples(), self.base, self.vocabulary())
        return self._layout

    def description(self) -> list[ox.Triple]:
        """The dataset description (VoID/DCAT) beside the dump; empty if there is none."""
        if self._description is None:
            self.loads["description"] += 1
            path = self.folder / DESCRIPTION_FILE
            self._description = ([q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]
                                 if path.is_file() else [])
        return self._description

    # -- questions

    def query(self, query: str | Path | ShippedQuery, params: Mapping[str, str] | None = None, *,
              timeout: float | None = None, **kw_params: str) -> Table:
        """Run a shipped query (by name), a ``.rq`` file or inline SPARQL; parameters by
        name (a unit or domain by its Chinese name, alias or IRI).

        >>> Release.open("out").query("unit-profile", unit="华中科技大学").variables
        ['unit', 'relation', 'value', 'valueLabel', 'through', 'throughLabel']
        """
        from chuzhi_graph.sparql.query import run_query

        result = run_query(self.store(), query, {**(params or {}), **kw_params}, timeout=timeout)
        return Table(result)

    def view(self, name: str, **filters: Any) -> nx.Graph:
        """The networkx view ``institutions``, ``cases``, ``domains`` or ``full`` (with the
        filters of :func:`chuzhi_graph.views.graphs.build_view`)."""
        from chuzhi_graph.views.graphs import build_view  # graphs reads through Release: here, not at import time

        return build_view(self.store(), name, **filters)

    def page(self, name: str, *, height: int = 640, **filters: Any) -> Any:
        """The interactive page of a view (or ``map``), shown inline in Jupyter: a
        :class:`chuzhi_graph.views.render.Page` (``.save(path)`` writes it)."""
        if name == "map":
            from chuzhi_graph.views.mapview import TITLE, html_page, map_data
            from chuzhi_graph.views.render import Page

            return Page(html_page(map_data(self.store(), **filters), TITLE), height=height)
        from chuzhi_graph.views.render import page

        return page(self.view(name, **filters), height=height)

    def draw(self, name: str, **filters: Any) -> Any:
        """A matplotlib figure of a view with Chinese labels (:func:`chuzhi_graph.views.render.draw`)."""
        from chuzhi_graph.views.render import draw

        return draw(self.view(name, **filters))


class Table:
    """Rows of a SELECT result as plain Python values (IRIs as strings, numbers as numbers).

    Iterating gives one ``dict`` per row; :meth:`to_pandas` a DataFrame (pandas optional).
    """

    def __init__(self, result: QueryResult) -> None:
        self.result = result
        self.kind = result.kind
        self.variables = [str(v).lstrip("?") for v in result.variables]
        self.rows = [tuple(python_value(c) for c in row) for row in result.rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return (dict(zip(self.variables, row, strict=True)) for row in self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return dict(zip(self.variables, self.rows[i], strict=True))

    def __repr__(self) -> str:
        return f"<Table {len(self.rows)} rows: {', '.join(self.variables)}>"

    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (needs pandas: the ``notebook`` extra)."""
        try:
            import pandas as pd
        except ImportError:  # the notebook extra is not installed (tests/test_release.py)
            raise EnvironmentProblem("to_pandas needs pandas: pip install 'chuzhi-graph[notebook]'") from None
        return pd.DataFrame(self.rows, columns=self.variables)


_NUMBERS: dict[str, type[int] | type[float]] = {
    PREFIXES["xsd"] + n: int for n in ("integer", "int", "long", "nonNegativeInteger", "gYear")}
_NUMBERS.update({PREFIXES["xsd"] + n: float for n in ("decimal", "double", "float")})


def python_value(term: Any) -> Any:
    """A result cell as a Python value: IRI → str, number literal → int/float, literal → str.

    >>> python_value(ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))
    3
    >>> python_value(ox.NamedNode("https://w3id.org/chuzhi/unit/hust"))
    'https://w3id.org/chuzhi/unit/hust'
    """
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        cast = _NUMBERS.get(term.datatype.value)
        if cast is not None:
            try:
                return cast(term.value)
            except ValueError:
                return term.value
        return term.value
    if isinstance(term, ox.NamedNode):
        return term.value
    return str(term)
