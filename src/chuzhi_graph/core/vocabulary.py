"""The ontology files and the controlled vocabularies (SKOS schemes) they hold.

``ontology/chuzhi.ttl`` defines the classes and properties; ``domains.ttl``,
``unit-types.ttl`` and ``tracks.ttl`` hold the concepts; ``shapes.ttl`` the SHACL shapes.
Concept IRIs are written under the default base ``https://w3id.org/chuzhi/`` and rebased
when a build uses another base.

>>> vocab = load_vocabulary()
>>> vocab.domain("智慧电力"), vocab.domain("电力"), vocab.unit_type("国有企业")
('smart-power', 'smart-power', 'state-owned-enterprise')
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, SKOS, Graph, Literal, URIRef

from chuzhi_graph.core.namespace import CHZ, CHZ_IRI, DEFAULT_BASE, ONTOLOGY_IRI
from chuzhi_graph.errors import DataError

#: Ontology files that go into every dump (the shapes do not).
VOCABULARY_FILES = ("chuzhi.ttl", "domains.ttl", "unit-types.ttl", "tracks.ttl")
SHAPES_FILE = "shapes.ttl"


def ontology_dir(override: str | Path | None = None) -> Path:
    """The folder of the ontology files: ``override``, ``$CHUZHI_ONTOLOGY_DIR``, or the repo's."""
    if override is not None:
        return Path(override)
    env = os.environ.get("CHUZHI_ONTOLOGY_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "ontology"


@dataclass(frozen=True)
class Concept:
    """One SKOS concept of a scheme, with the labels used for matching."""

    notation: str
    iri: str
    pref_zh: str
    pref_en: str = ""
    alt: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    broader: tuple[str, ...] = ()  # notations


@dataclass
class Vocabulary:
    """Lookups over the domain, unit-type and track schemes."""

    domains: dict[str, Concept]
    unit_types: dict[str, Concept]
    tracks: dict[str, Concept]
    directory: Path
    _index: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, scheme in (("domain", self.domains), ("unit_type", self.unit_types), ("track", self.tracks)):
            index: dict[str, str] = {}
            for c in scheme.values():  # alt labels first so that pref labels win on a clash
                for label in c.alt:
                    index.setdefault(label, c.notation)
            for c in scheme.values():
                index[c.notation] = c.notation
                index[c.pref_zh] = c.notation
                if c.pref_en:
                    index[c.pref_en] = c.notation
            self._index[name] = index

    def domain(self, text: str) -> str | None:
        """The notation of the domain named ``text`` (notation, label or synonym), or None."""
        return self._index["domain"].get(text.strip())

    def unit_type(self, text: str) -> str | None:
        """The notation of the unit type named ``text``, or None."""
        return self._index["unit_type"].get(text.strip())

    def track(self, text: str) -> str | None:
        """The notation of the track named ``text``, or None."""
        return self._index["track"].get(text.strip())

    def unit_type_labels(self) -> list[str]:
        return [c.pref_zh for c in self.unit_types.values()]


def _labels(graph: Graph, subject: URIRef, predicate: URIRef, lang: str | None = "zh") -> list[str]:
    return sorted(
        str(o)
        for o in graph.objects(subject, predicate)
        if isinstance(o, Literal) and (lang is None or o.language == lang)
    )


def _scheme(graph: Graph, cls: URIRef) -> dict[str, Concept]:
    out: dict[str, Concept] = {}
    for s in sorted(graph.subjects(RDF.type, cls), key=str):  # URIRefs: their own order is str's
        assert isinstance(s, URIRef)
        notation = str(graph.value(s, SKOS.notation) or "")
        pref_zh = _labels(graph, s, SKOS.prefLabel)
        pref_en = _labels(graph, s, SKOS.prefLabel, "en")
        broader = tuple(sorted(str(graph.value(b, SKOS.notation)) for b in graph.objects(s, SKOS.broader)))
        if not notation or not pref_zh:
            raise DataError(f"concept {s} needs a skos:notation and a skos:prefLabel@zh")
        out[notation] = Concept(
            notation,
            str(s),
            pref_zh[0],
            pref_en[0] if pref_en else "",
            tuple(_labels(graph, s, SKOS.altLabel)),
            tuple(_labels(graph, s, SKOS.hiddenLabel)),
            broader,
        )
    return out


@cache
def _load(directory: Path) -> Vocabulary:
    graph = ontology_graph(directory)
    return Vocabulary(
        domains=_scheme(graph, CHZ.Domain),
        unit_types=_scheme(graph, CHZ.UnitType),
        tracks=_scheme(graph, CHZ.Track),
        directory=directory,
    )


def load_vocabulary(directory: str | Path | None = None) -> Vocabulary:
    """Load (once per folder) the schemes from the ontology folder."""
    return _load(ontology_dir(directory).resolve())


def ontology_graph(directory: str | Path | None = None, *, shapes: bool = False) -> Graph:
    """The ontology and vocabularies as one rdflib graph (with the shapes if asked)."""
    folder = ontology_dir(directory)
    graph = Graph()
    files = (*VOCABULARY_FILES, SHAPES_FILE) if shapes else VOCABULARY_FILES
    for name in files:
        path = folder / name
        if not path.is_file():
            raise DataError("ontology file not found", file=path)
        graph.parse(path, format="turtle")
    return graph


def rebase_iri(iri: str, base: str) -> str:
    """Move a data IRI written under the default base to ``base`` (ontology terms stay).

    >>> rebase_iri("https://w3id.org/chuzhi/domain/education", "http://example.org/kg/")
    'http://example.org/kg/domain/education'
    >>> rebase_iri("https://w3id.org/chuzhi/def#Case", "http://example.org/kg/")
    'https://w3id.org/chuzhi/def#Case'
    """
    if base == DEFAULT_BASE or not iri.startswith(DEFAULT_BASE):
        return iri
    if iri.startswith(CHZ_IRI) or iri == ONTOLOGY_IRI:
        return iri
    return base + iri[len(DEFAULT_BASE) :]


def vocabulary_triples(directory: str | Path | None = None, base: str = DEFAULT_BASE) -> list[ox.Triple]:
    """The ontology and vocabulary files as pyoxigraph triples, rebased to ``base``."""
    folder = ontology_dir(directory)
    out: list[ox.Triple] = []
    for name in VOCABULARY_FILES:
        path = folder / name
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            s, p, o = t.subject, t.predicate, t.object
            if base != DEFAULT_BASE:
                if isinstance(s, ox.NamedNode):
                    s = ox.NamedNode(rebase_iri(s.value, base))
                if isinstance(o, ox.NamedNode):
                    o = ox.NamedNode(rebase_iri(o.value, base))
            out.append(ox.Triple(s, p, o))
    return out
