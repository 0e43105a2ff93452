"""Mapping: free-text names and titles always give valid, round-tripping RDF."""

from __future__ import annotations

import dataclasses

import pyoxigraph as ox
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef

from chuzhi_graph.graph.mapping import Iris, co_applicant_map, map_dataset
from chuzhi_graph.records.tables import Case, load_dataset

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=60
).filter(lambda s: s.strip() != "")


_DATASET = load_dataset("data")


CASE = "https://w3id.org/chuzhi/case/bigdata-2022-gov-01"
UNIT = "https://w3id.org/chuzhi/unit/wuhan-wuchang-zhengfawei"


@settings(max_examples=40, deadline=None)
@given(title=TEXT, name=TEXT)
def test_free_text_round_trips_through_turtle_and_ntriples(title: str, name: str) -> None:
    """Mapped as the build maps the records; only the two subjects holding the text are written and read
    back (serialising and re-parsing the whole graph per example cost 44 s for the same check)."""
    case, unit = _DATASET.cases[0], _DATASET.units[0]
    assert (case.id, unit.id) == (CASE.rsplit("/", 1)[1], UNIT.rsplit("/", 1)[1])
    ds = dataclasses.replace(_DATASET, cases=[dataclasses.replace(case, title_zh=title), *_DATASET.cases[1:]],
                             units=[dataclasses.replace(unit, name_zh=name), *_DATASET.units[1:]])
    triples = [t for t in map_dataset(ds, include_vocabulary=False) if t.subject.value in (CASE, UNIT)]
    for fmt, name_ in ((ox.RdfFormat.TURTLE, "turtle"), (ox.RdfFormat.N_TRIPLES, "nt")):
        data = ox.serialize(triples, format=fmt)
        graph = Graph().parse(data=data.decode("utf-8"), format=name_)
        assert Literal(title, lang="zh") in set(graph.objects(URIRef(CASE), URIRef("http://purl.org/dc/terms/title")))
        assert Literal(name, lang="zh") in set(graph.objects(URIRef(UNIT),
                                                             URIRef("http://www.w3.org/2004/02/skos/core#prefLabel")))


def test_iris_are_minted_from_ids() -> None:
    iris = Iris("https://w3id.org/chuzhi/")
    assert iris.case("bigdata-2022-gov-01").value == "https://w3id.org/chuzhi/case/bigdata-2022-gov-01"
    assert iris.category("bigdata-2022", "gov").value == "https://w3id.org/chuzhi/award-category/bigdata-2022-gov"
    assert iris.region("420106").value == "https://w3id.org/chuzhi/region/420106"


def test_same_unit_in_two_editions_keeps_one_iri() -> None:
    ds = load_dataset("data")
    later = Case(
        id="bigdata-2023-gov-01", edition="bigdata-2022", category="gov", position=11,
        title_zh="假设的后续案例", applicants=["state-grid-hubei"], domains=["smart-power"],
    )
    ds.cases.append(later)
    triples = map_dataset(ds, include_vocabulary=False)
    subjects = {t.subject.value for t in triples if t.subject.value.endswith("/unit/state-grid-hubei")}
    assert subjects == {"https://w3id.org/chuzhi/unit/state-grid-hubei"}


def test_co_applicants_are_symmetric_and_sorted() -> None:
    cases = [
        Case("a", "e", "c", 1, "t", ["x", "y", "z"], ["d"]),
        Case("b", "e", "c", 2, "t", ["y", "w"], ["d"]),
        Case("c", "e", "c", 3, "t", ["v"], ["d"]),
    ]
    assert co_applicant_map(cases) == {"x": ["y", "z"], "y": ["w", "x", "z"], "z": ["x", "y"], "w": ["y"]}
