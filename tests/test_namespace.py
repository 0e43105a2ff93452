"""The Python namespace module agrees with the ontology's Turtle, the source of truth."""

from __future__ import annotations

from rdflib import RDF, Graph
from rdflib.namespace import OWL

from chuzhi_graph.core.namespace import CHZ, CHZ_IRI, OX
from chuzhi_graph.core.vocabulary import ontology_dir


def _declared_terms() -> set[str]:
    graph = Graph().parse(ontology_dir() / "chuzhi.ttl")
    return {str(s)[len(CHZ_IRI) :] for s in graph.subjects() if str(s).startswith(CHZ_IRI)}


def _python_terms() -> set[str]:
    return set(CHZ.__annotations__)


def test_every_python_term_is_declared_in_the_ontology() -> None:
    assert _python_terms() - _declared_terms() == set()


def test_every_ontology_term_has_a_python_name() -> None:
    assert _declared_terms() - _python_terms() == set()


def test_every_declared_term_has_zh_and_en_labels() -> None:
    graph = Graph().parse(ontology_dir() / "chuzhi.ttl")
    from rdflib import RDFS, SKOS

    missing = []
    for name in sorted(_declared_terms()):
        term = CHZ[name]
        langs = {o.language for p in (RDFS.label, SKOS.prefLabel) for o in graph.objects(term, p)}
        if not {"zh", "en"} <= langs:
            missing.append(name)
    assert missing == []


def test_classes_and_properties_are_typed() -> None:
    graph = Graph().parse(ontology_dir() / "chuzhi.ttl")
    assert (CHZ.Case, RDF.type, OWL.Class) in graph
    assert (CHZ.coApplicant, RDF.type, OWL.SymmetricProperty) in graph
    assert (CHZ.leadApplicant, RDF.type, OWL.ObjectProperty) in graph


def test_ox_terms_match_rdflib_terms() -> None:
    assert OX.coApplicant.value == str(CHZ.coApplicant)


def test_unknown_term_is_refused() -> None:
    import pytest

    with pytest.raises(AttributeError):
        _ = CHZ.NoSuchTerm
