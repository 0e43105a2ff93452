"""The ontology holds under a reasoner: OWL 2 RL closure, SHACL with RDFS inference, SKOS integrity.

Researchers load the dump into stores that reason. These tests do what such a store does:
owlrl computes the OWL 2 RL closure of the dump together with the axioms of the W3C
vocabularies it reuses (``ontology/w3c/``: PROV-O's disjoint Activity and Entity, the domains
and ranges of PROV, ORG, SKOS, SKOS-XL, DCTERMS, DCAT and VoID), and pySHACL validates with
RDFS inference. Each defect found by the ontology's audit has a test here that fails on it.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import owlrl
import pytest
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, Namespace, URIRef

from chuzhi_graph.build import MEDIA_TYPE_IRI, VOCABULARIES, BuildResult, build
from chuzhi_graph.core.namespace import CHZ, CHZ_IRI, PREFIXES
from chuzhi_graph.core.vocabulary import VOCABULARY_FILES, ontology_dir
from chuzhi_graph.graph.validate import preserved_literal_conversions, shapes_graph, validate

W3C = ontology_dir() / "w3c"
PROV = Namespace(PREFIXES["prov"])
DCT = Namespace(PREFIXES["dct"])
DCAT = Namespace(PREFIXES["dcat"])
VOID = Namespace(PREFIXES["void"])
ERR = Namespace("http://www.daml.org/2002/03/agents/agent-ont#")  # where owlrl reports inconsistencies
BASE = "https://w3id.org/chuzhi/"
COUNT_CASES = f"SELECT (COUNT(DISTINCT ?c) AS ?n) {{ ?c a <{CHZ_IRI}Case> }}"

#: chz: class -> the IRI prefix of every instance it may have after reasoning
INSTANCE_PREFIX = {
    "Case": BASE + "case/", "Unit": BASE + "unit/", "Edition": BASE + "edition/",
    "ResultAnnouncement": BASE + "announcement/", "SourceDocument": BASE + "source/",
    "AwardCategory": BASE + "award-category/", "Region": BASE + "region/", "Domain": BASE + "domain/",
    "UnitType": BASE + "unit-type/", "Track": BASE + "track/", "Basis": CHZ_IRI,
    "SourceReliability": CHZ_IRI,  # the series (docs/series.md)
    "Summary": BASE + "summary/", "DomainPair": BASE + "summary/domain-pair/",
    "SectorPair": BASE + "summary/sector-pair/", "ProvenanceCount": BASE + "summary/provenance/",
}


def w3c_axioms() -> Graph:
    graph = Graph()
    for path in sorted(W3C.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def ontology() -> Graph:
    graph = Graph()
    for name in VOCABULARY_FILES:
        graph.parse(ontology_dir() / name, format="turtle")
    return graph


def closure(graph: Graph) -> tuple[Graph, list[str]]:
    """The OWL 2 RL closure of ``graph`` (a copy) and the inconsistencies owlrl found."""
    out = Graph()
    for t in graph:
        out.add(t)
    with preserved_literal_conversions():
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(out)
    errors = sorted(str(out.value(m, ERR.error)) for m in out.subjects(RDF.type, ERR.ErrorMessage))
    return out, errors


def instances(graph: Graph) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for s, cls in graph.subject_objects(RDF.type):
        if isinstance(cls, URIRef) and str(cls).startswith(CHZ_IRI):
            out[str(cls)[len(CHZ_IRI):]].add(str(s))
    return out


@pytest.fixture(scope="module")
def dump(built: BuildResult) -> Graph:
    graph = Graph().parse(built.files["ttl"], format="turtle")
    graph.parse(built.files["void"], format="turtle")
    return graph


@pytest.fixture(scope="module")
def reasoned(dump: Graph) -> tuple[Graph, Graph, list[str]]:
    """(as stated, OWL RL closure, inconsistencies) of ontology + dump + VoID + W3C axioms."""
    stated = ontology() + dump + w3c_axioms()
    inferred, errors = closure(stated)
    return stated, inferred, errors


# ---------------------------------------------------------------- OWL 2 RL


def test_owl_rl_closure_is_consistent(reasoned) -> None:
    _, _, errors = reasoned
    assert errors == []


def test_case_count_is_27_before_and_after_closure(reasoned) -> None:
    # 27 cases of the 2022 big-data edition and the 3 winners of the series named in prose
    stated, inferred, _ = reasoned
    assert int(next(iter(stated.query(COUNT_CASES)))[0]) == 30
    assert int(next(iter(inferred.query(COUNT_CASES)))[0]) == 30


def test_reasoning_adds_no_member_to_any_chz_class(reasoned) -> None:
    stated, inferred, _ = reasoned
    before, after = instances(stated), instances(inferred)
    assert after == before
    for cls, members in after.items():
        assert all(m.startswith(INSTANCE_PREFIX[cls]) for m in members), cls


def test_activities_and_entities_are_what_the_model_says(reasoned) -> None:
    _, inferred, _ = reasoned
    activities = {str(s) for s in inferred.subjects(RDF.type, PROV.Activity)}
    entities = {str(s) for s in inferred.subjects(RDF.type, PROV.Entity)}
    editions = ("bigdata-2022", "poverty-alleviation-2020", "social-governance-2020", "social-governance-2022",
                "social-governance-2023")
    assert activities == {*(BASE + "edition/" + e for e in editions), BASE + "dataset/build"}
    assert BASE + "announcement/bigdata-2022" in entities
    assert BASE + "source/jingchu-2022-09-20" in entities
    assert not activities & entities


def test_the_old_edition_model_is_caught_by_the_disjointness_of_prov() -> None:
    """The 0.1 dump put prov:wasDerivedFrom on the edition (a prov:Activity): owlrl must object."""
    graph = ontology() + w3c_axioms()
    edition, source = URIRef(BASE + "edition/x"), URIRef(BASE + "source/y")
    graph.add((edition, RDF.type, CHZ.Edition))
    graph.add((edition, PROV.wasDerivedFrom, source))
    _, errors = closure(graph)
    assert any("prov#Activity" in e and "prov#Entity" in e and "edition/x" in e for e in errors), errors


def test_a_source_line_makes_nothing_a_case() -> None:
    """chz:sourceLine had rdfs:domain chz:Case and was used on editions and categories."""
    graph = ontology() + w3c_axioms()
    category = URIRef(BASE + "award-category/x")
    graph.add((category, RDF.type, CHZ.AwardCategory))
    graph.add((category, CHZ.sourceLine, Literal(8)))
    inferred, errors = closure(graph)
    assert errors == []
    assert (category, RDF.type, CHZ.Case) not in inferred


# ---------------------------------------------------------------- SHACL with and without RDFS inference


@pytest.mark.parametrize("inference", ["none", "rdfs"])
def test_dump_conforms_to_the_shapes(dump: Graph, inference: str) -> None:
    report = validate(dump, shapes_graph(), inference)
    assert report.conforms, [str(v) for v in report.violations[:5]]


def test_rdfs_inference_catches_a_property_used_outside_its_domain(dump: Graph) -> None:
    graph = Graph()
    for t in dump:
        graph.add(t)
    graph.add((URIRef(BASE + "unit/hust"), CHZ.domainBasis, CHZ.CuratorJudgement))  # rdfs:domain chz:Case
    assert validate(graph, shapes_graph(), "none").conforms
    report = validate(graph, shapes_graph(), "rdfs")
    assert not report.conforms
    assert {v.focus for v in report.violations} == {BASE + "unit/hust"}


# ---------------------------------------------------------------- SKOS integrity


@pytest.fixture(scope="module")
def labelled(reasoned) -> Graph:
    """The reasoned graph: every concept typed skos:Concept, every scheme membership stated."""
    return reasoned[1]


def test_s13_pref_alt_and_hidden_labels_are_disjoint(labelled: Graph) -> None:
    clashes = []
    for s in set(labelled.subjects(SKOS.prefLabel, None)):
        pref = set(labelled.objects(s, SKOS.prefLabel))
        alt = set(labelled.objects(s, SKOS.altLabel))
        hidden = set(labelled.objects(s, SKOS.hiddenLabel))
        for kind, overlap in (("pref/alt", pref & alt), ("pref/hidden", pref & hidden), ("alt/hidden", alt & hidden)):
            clashes += [f"{s} {kind} {o}" for o in overlap]
    assert clashes == []


def test_s14_one_pref_label_per_language(labelled: Graph) -> None:
    seen: dict[tuple[URIRef, str], list[str]] = defaultdict(list)
    for s, o in labelled.subject_objects(SKOS.prefLabel):
        seen[(s, o.language or "")].append(str(o))
    assert {k: v for k, v in seen.items() if len(v) > 1} == {}


def test_no_label_names_two_concepts_of_one_scheme(labelled: Graph) -> None:
    """基层治理 was a hidden label of 社会治理 and an alternative label of 社区治理."""
    owners: dict[tuple[URIRef, str, str], set[URIRef]] = defaultdict(set)
    for c in set(labelled.subjects(RDF.type, SKOS.Concept)):
        # award categories are named per edition: 十佳案例 of two editions are two categories
        edition = str(labelled.value(c, CHZ.categoryEdition) or "")
        for scheme in labelled.objects(c, SKOS.inScheme):
            for p in (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel):
                for label in labelled.objects(c, p):
                    owners[(scheme, str(label), edition)].add(c)
    assert {k: sorted(v) for k, v in owners.items() if len(v) > 1} == {}


def test_every_concept_is_in_a_scheme_and_reachable_from_its_top(labelled: Graph) -> None:
    orphans = []
    for c in sorted(set(labelled.subjects(RDF.type, SKOS.Concept))):
        schemes = set(labelled.objects(c, SKOS.inScheme))
        if not schemes:
            orphans.append(f"{c}: in no scheme")
        for scheme in schemes:
            top = (c, SKOS.topConceptOf, scheme) in labelled
            placed = any((b, SKOS.inScheme, scheme) in labelled for b in labelled.objects(c, SKOS.broader))
            if not (top or placed):
                orphans.append(f"{c}: orphan in {scheme}")
    assert orphans == []


# ---------------------------------------------------------------- every term labelled and defined


def test_every_class_property_and_scheme_has_zh_and_en_label_and_definition() -> None:
    graph = Graph().parse(ontology_dir() / "chuzhi.ttl", format="turtle")
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, SKOS.ConceptScheme)
    terms = {s for k in kinds for s in graph.subjects(RDF.type, k) if str(s).startswith(CHZ_IRI)}
    assert len(terms) > 40
    missing = []
    for term in sorted(terms):
        for p in (RDFS.label, SKOS.definition):
            langs = {o.language for o in graph.objects(term, p) if isinstance(o, Literal)}
            if not {"zh", "en"} <= langs:
                missing.append(f"{term} {p}")
    assert missing == []


# ---------------------------------------------------------------- VoID and DCAT


def test_void_types_media_types_vocabularies_and_generation(built: BuildResult, dump: Graph) -> None:
    void = Graph().parse(built.files["void"], format="turtle")
    ds = URIRef(BASE + "dataset")
    media = set(void.objects(None, DCAT.mediaType))
    assert media == {URIRef(MEDIA_TYPE_IRI + m) for m in ("text/turtle", "application/n-triples",
                                                          "application/ld+json")}
    used = set()
    for _, p, o in Graph().parse(built.files["ttl"], format="turtle"):
        for term in (p, o if p == RDF.type else None):
            if isinstance(term, URIRef):
                used.add(str(term).rsplit("#", 1)[0] + "#" if "#" in str(term) else str(term).rsplit("/", 1)[0] + "/")
    declared = {str(v) for v in void.objects(ds, VOID.vocabulary)}
    assert declared == {PREFIXES[v] for v in VOCABULARIES}
    assert used <= declared | {"http://www.w3.org/2001/XMLSchema#"}
    run = void.value(ds, PROV.wasGeneratedBy)
    assert isinstance(run, URIRef) and (run, RDF.type, PROV.Activity) in void
    sources = ("jingchu-2022-09-20", "jingchu-2021-11-23", "jingchu-2022-11-21", "jingchu-2023-02-20-echeng",
               "jingchu-2024-03-28-minquan")  # the series' sources too (docs/series.md)
    assert set(void.objects(run, PROV.used)) == {URIRef(BASE + "source/" + s) for s in sources}
    assert void.value(ds, DCT.created) is None  # no date given: none made up
    source = URIRef(BASE + "source/jingchu-2022-09-20")
    assert dump.value(source, DCT.publisher) == URIRef(BASE + "unit/jingchu-net")
    author = dump.value(source, DCT.creator)
    assert isinstance(author, URIRef) and str(dump.value(author, RDFS.label)) == "李媛荣"


def test_void_created_only_when_given(tmp_path: Path, root: Path) -> None:
    result = build(root / "data", tmp_path, created="2026-11-29", formats=("nt",), validate=False)
    void = Graph().parse(result.files["void"], format="turtle")
    assert str(void.value(URIRef(BASE + "dataset"), DCT.created)) == "2026-11-29"
