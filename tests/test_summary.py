"""The summaries the build materialises (chuzhi_graph.graph.summary) equal the same counts made from
the cases by SPARQL (tests/summary/*.rq), on the shipped data and on a synthetic corpus."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from chuzhi_graph.build import BuildResult, build
from chuzhi_graph.core.vocabulary import Concept
from chuzhi_graph.graph.summary import summarise, top_concepts
from chuzhi_graph.records.synth import generate
from chuzhi_graph.release.reader import Release

FROM_CASES = Path(__file__).resolve().parent / "summary"
CHZ = "https://w3id.org/chuzhi/def#"


def rows(store: ox.Store, text: str) -> set[tuple[str, ...]]:
    return {tuple(t.value for t in r) for r in store.query(text)}  # type: ignore[union-attr]


def from_cases(store: ox.Store, name: str) -> set[tuple[str, ...]]:
    found = rows(store, (FROM_CASES / f"{name}.rq").read_text(encoding="utf-8"))
    if name == "region-winners":  # the editions as a set: GROUP_CONCAT has no order
        return {(r, " ".join(sorted(e.split())), n) for r, e, n in found}
    return found


def materialised(store: ox.Store, name: str) -> set[tuple[str, ...]]:
    if name == "region-winners":
        found = rows(store, f"""
            SELECT ?region (GROUP_CONCAT(STR(?e); separator=" ") AS ?editions) (SAMPLE(?units) AS ?n)
            WHERE {{ ?region <{CHZ}winnersIn> ?e ; <{CHZ}winningUnitCount> ?units }} GROUP BY ?region""")
        return {(r, " ".join(sorted(e.split())), n) for r, e, n in found}
    cls = {"domain-pairs": "DomainPair", "sector-pairs": "SectorPair"}[name]
    return rows(store, f"""
        SELECT ?a ?b ?n WHERE {{ ?p a <{CHZ}{cls}> ; <{CHZ}pairMember> ?a , ?b ; <{CHZ}caseCount> ?n .
                                 FILTER(STR(?a) < STR(?b)) }}""")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """1,500 cases over 4 editions of several tracks: many pairs, regions in several editions."""
    folder = tmp_path_factory.mktemp("summary")
    generate(folder / "data", cases=1500, editions=4, seed=5)
    # pySHACL on 42,000 triples: minutes; the tests read the N-Triples dump into memory: no JSON-LD, no
    # query store (5 and 1 s)
    return build(folder / "data", folder / "out", validate="compiled", formats=("nt",), store=False)


@pytest.mark.parametrize("name", ["domain-pairs", "sector-pairs", "region-winners"])
def test_the_summaries_equal_the_counts_made_from_the_cases(built: BuildResult, synthetic: BuildResult,
                                                            name: str) -> None:
    # every pair of the 5 sectors occurs in the synthetic corpus
    at_least = {"domain-pairs": 100, "sector-pairs": 10, "region-winners": 20}[name]
    for result, least in ((built, 2), (synthetic, at_least)):
        store = Release.open(result.out_dir).store()
        expected = from_cases(store, name)
        assert len(expected) >= least  # the corpus has something to count
        assert materialised(store, name) == expected


@pytest.mark.parametrize(("name", "least"), [("provenance-summary", 10), ("cases-per-prefecture", 5)])
def test_a_question_read_from_summaries_answers_what_its_old_text_counted(built: BuildResult, synthetic: BuildResult,
                                                                         name: str, least: int) -> None:
    """The shipped text (from the summaries) and its old text (tests/summary/, from the data) give the
    same rows in the same order."""
    old = "provenance" if name == "provenance-summary" else name
    text = (FROM_CASES / f"{old}.rq").read_text(encoding="utf-8")
    for result in (built, synthetic):
        release = Release.open(result.out_dir)
        expected = release.query(text)
        assert len(expected.rows) >= least
        assert release.query(name).rows == expected.rows


def test_a_pair_node_has_two_members_a_label_and_a_count(built: BuildResult) -> None:
    store = Release.open(built.out_dir).store()
    pair = ox.NamedNode("https://w3id.org/chuzhi/summary/sector-pair/enterprise--party-government")
    facts = {(t.predicate.value, t.object.value) for t in store.quads_for_pattern(pair, None, None)}
    assert facts == {
        ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", CHZ + "SectorPair"),
        ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", CHZ + "Summary"),
        ("http://www.w3.org/2000/01/rdf-schema#label", "企业 × 党政机关"),
        ("http://www.w3.org/2000/01/rdf-schema#label", "Enterprise × Party and government body"),
        (CHZ + "pairMember", "https://w3id.org/chuzhi/unit-type/enterprise"),
        (CHZ + "pairMember", "https://w3id.org/chuzhi/unit-type/party-government"),
        (CHZ + "caseCount", "2"),
    }


def test_a_concept_below_two_tops_counts_for_both() -> None:
    scheme = {n: Concept(n, n, n, broader=b) for n, b in
              (("a", ()), ("b", ()), ("ab", ("a", "b")), ("under-ab", ("ab",)), ("loop", ("loop",)))}
    assert top_concepts(scheme) == {"a": {"a"}, "b": {"b"}, "ab": {"a", "b"}, "under-ab": {"a", "b"},
                                    "loop": {"loop"}}


def test_a_corpus_without_cases_has_no_case_counts(built: BuildResult) -> None:
    from dataclasses import replace

    assert built.dataset is not None
    counts = summarise(replace(built.dataset, cases=[]))
    assert (counts.domain_pairs, counts.sector_pairs, counts.region_editions, counts.region_units) == ({}, {}, {}, {})
    assert {kind for kind, _ in counts.provenance} == {"edition", "award-category", "unit", "unit-type",
                                                       "unit-region", "unit-parent", "unit-alias"}
