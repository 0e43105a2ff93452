"""The IRIs the package is built on, without rdflib: namespaces, prefixes, the data's base.

The vocabulary's *terms* are in :mod:`chuzhi_graph.core.namespace` (``CHZ``, ``OX``); this module holds
only the strings every reader needs, so that a query command never imports rdflib (about 0.3 s of
start-up). :mod:`chuzhi_graph.core.namespace` re-exports all of it.

>>> PREFIXES["chz"] == CHZ_IRI
True
>>> ox_iri("skos:prefLabel").value
'http://www.w3.org/2004/02/skos/core#prefLabel'
"""

from __future__ import annotations

from functools import cache

import pyoxigraph as ox

CHZ_IRI = "https://w3id.org/chuzhi/def#"
ONTOLOGY_IRI = "https://w3id.org/chuzhi/def"
DEFAULT_BASE = "https://w3id.org/chuzhi/"

PREFIXES: dict[str, str] = {
    "chz": CHZ_IRI,
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "org": "http://www.w3.org/ns/org#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "schema": "https://schema.org/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "skosxl": "http://www.w3.org/2008/05/skos-xl#",
    "void": "http://rdfs.org/ns/void#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def data_prefixes(base: str) -> dict[str, str]:
    """Prefixes for dumps and queries: the vocabularies plus one per kind of data IRI (as ``Iris`` mints).

    >>> data_prefixes("https://w3id.org/chuzhi/")["unit"]
    'https://w3id.org/chuzhi/unit/'
    """
    prefixes = dict(PREFIXES)
    for name, path in (
        ("case", "case/"),
        ("unit", "unit/"),
        ("edition", "edition/"),
        ("awcat", "award-category/"),
        ("region", "region/"),
        ("domain", "domain/"),
        ("utype", "unit-type/"),
        ("track", "track/"),
        ("source", "source/"),
        ("announcement", "announcement/"),
    ):
        prefixes[name] = base + path
    return prefixes


@cache
def ox_iri(prefixed: str) -> ox.NamedNode:
    """A pyoxigraph node for a prefixed name such as ``"skos:prefLabel"``.

    >>> ox_iri("rdf:type").value
    'http://www.w3.org/1999/02/22-rdf-syntax-ns#type'
    """
    prefix, local = prefixed.split(":", 1)
    return ox.NamedNode(PREFIXES[prefix] + local)
