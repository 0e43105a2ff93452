"""The SPARQL 1.1 Service Description ``serve`` answers to a GET of its endpoint without a query.

Clients (Comunica, YASGUI, a researcher's crawler) read it to learn what the endpoint speaks: the
query language, the result formats (those of the format registry ``serve`` negotiates) and the
named graphs a request may build its dataset from (``default-graph-uri``/``named-graph-uri``).
https://www.w3.org/TR/sparql11-service-description/
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from chuzhi_graph import formats
from chuzhi_graph.core.prefixes import ox_iri

SD = "http://www.w3.org/ns/sparql-service-description#"
W3C_FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = ox_iri("rdf:type")


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def service_description(endpoint: str, graph_names: Iterable[str] = ()) -> list[ox.Triple]:
    """The description of a read-only endpoint at ``endpoint`` whose dataset may be built from ``graph_names``.

    >>> triples = service_description("http://127.0.0.1:7070/sparql", ["https://w3id.org/chuzhi/graph/shared"])
    >>> sorted(t.object.value.removeprefix(SD) for t in triples if t.predicate == _sd("supportedLanguage"))
    ['SPARQL11Query']
    >>> sum(t.predicate == _sd("name") for t in triples)
    1
    """
    service, graphs = ox.BlankNode("service"), ox.BlankNode("graphs")
    triples = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
    ]
    triples += [ox.Triple(service, _sd("resultFormat"), ox.NamedNode(W3C_FORMATS + f.w3c))
                for kind in ("result", "result-graph") for f in formats.of(kind) if f.negotiable and f.w3c]
    names = sorted(set(graph_names))
    if names:
        triples += [ox.Triple(service, _sd("availableGraphs"), graphs),
                    ox.Triple(graphs, RDF_TYPE, _sd("GraphCollection"))]
        for i, name in enumerate(names):
            graph = ox.BlankNode(f"g{i}")
            triples += [ox.Triple(graphs, _sd("namedGraph"), graph), ox.Triple(graph, RDF_TYPE, _sd("NamedGraph")),
                        ox.Triple(graph, _sd("name"), ox.NamedNode(name))]
    return triples
