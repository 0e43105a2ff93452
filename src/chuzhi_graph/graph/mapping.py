"""Map checked records to RDF triples under the chz: ontology.

The mapping builds pyoxigraph terms directly (no rdflib objects in between): that is
what keeps a build of 100,000 cases near the speed of a bare pyoxigraph load (docs/decisions/0002-fast-build.md).
Triples come out in *blocks*, one per subject, and the blocks are sorted by subject IRI,
so dumps are byte-stable and a diff of two dumps shows only real changes.

IRIs (``{base}`` defaults to ``https://w3id.org/chuzhi/``)::

    {base}case/{case id}                 {base}unit/{unit id}
    {base}edition/{edition id}           {base}award-category/{edition id}-{category id}
    {base}region/{GB/T 2260 code}        {base}domain/{notation}
    {base}unit-type/{notation}           {base}track/{notation}
    {base}source/{source id}             {base}announcement/{edition id}
    {base}unit/{unit id}/alias-{n}       {base}source/{source id}/author (and /publisher)
    {base}summary/domain-pair/{a}--{b}   {base}summary/sector-pair/{a}--{b}   (chuzhi_graph.graph.summary)

>>> from chuzhi_graph.records.tables import load_dataset
>>> triples = map_dataset(load_dataset("data"))
"""

from __future__ import annotations

import gc
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import pyoxigraph as ox

from chuzhi_graph.core.namespace import BASIS_BY_NOTATION, DEFAULT_BASE, OX, ox_iri
from chuzhi_graph.core.progress import counted
from chuzhi_graph.core.vocabulary import Concept, vocabulary_triples
from chuzhi_graph.graph.summary import STATEMENT_KINDS, summarise
from chuzhi_graph.records import series
from chuzhi_graph.records.tables import Case, Category, Dataset, Edition, Region, Source, Unit, normalise_name

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox_iri("rdf:type")
RDFS_LABEL = ox_iri("rdfs:label")
PREF = ox_iri("skos:prefLabel")
ALT = ox_iri("skos:altLabel")
NOTATION = ox_iri("skos:notation")
IN_SCHEME = ox_iri("skos:inScheme")
BROADER = ox_iri("skos:broader")
TOP_OF = ox_iri("skos:topConceptOf")
NOTE = ox_iri("skos:editorialNote")
TITLE = ox_iri("dct:title")
IDENT = ox_iri("dct:identifier")
ISSUED = ox_iri("dct:issued")
PUBLISHER = ox_iri("dct:publisher")
CREATOR = ox_iri("dct:creator")
DCT_SOURCE = ox_iri("dct:source")
DERIVED = ox_iri("prov:wasDerivedFrom")
ORG_TYPE = ox_iri("org:Organization")
SUB_ORG = ox_iri("org:subOrganizationOf")
FIRST = ox_iri("rdf:first")
REST = ox_iri("rdf:rest")
NIL = ox_iri("rdf:nil")
GENERATED_BY = ox_iri("prov:wasGeneratedBy")
XL_ALT = ox_iri("skosxl:altLabel")
XL_LABEL = ox_iri("skosxl:Label")
XL_FORM = ox_iri("skosxl:literalForm")
DCT_AGENT = ox_iri("dct:Agent")


def serialized(triples: Iterable[ox.Triple], fmt: ox.RdfFormat, prefixes: dict[str, str] | None = None) -> bytes:
    """The triples in ``fmt`` as bytes (pyoxigraph's writer without an output file)."""
    data = ox.serialize(triples, format=fmt, prefixes=prefixes)
    assert data is not None  # no output given: the bytes are returned
    return data


@cache
def _dt(name: str) -> ox.NamedNode:
    return ox.NamedNode(XSD + name)


def zh(text: str) -> ox.Literal:
    return ox.Literal(text, language="zh")


def en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


def typed(value: object, datatype: str) -> ox.Literal:
    return ox.Literal(str(value), datatype=_dt(datatype))


@dataclass(frozen=True)
class Iris:
    """IRI minting for one base. Every IRI of the dataset is made here."""

    base: str = DEFAULT_BASE

    def case(self, case_id: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}case/{case_id}")

    def unit(self, unit_id: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}unit/{unit_id}")

    def edition(self, edition_id: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}edition/{edition_id}")

    def category(self, edition_id: str, category_id: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}award-category/{edition_id}-{category_id}")

    def region(self, code: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}region/{code}")

    def domain(self, notation: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}domain/{notation}")

    def unit_type(self, notation: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}unit-type/{notation}")

    def track(self, notation: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}track/{notation}")

    def source(self, source_id: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}source/{source_id}")

    def announcement(self, edition_id: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}announcement/{edition_id}")

    def summary(self, kind: str, a: str, b: str) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}summary/{kind}/{a}--{b}")

    def dataset(self) -> ox.NamedNode:
        return ox.NamedNode(f"{self.base}dataset")


Block = tuple[str, list[ox.Triple]]


def _labelled(s: ox.NamedNode, predicates: tuple[ox.NamedNode, ...], text_zh: str, text_en: str) -> list[ox.Triple]:
    """The same label under each predicate, @zh first, then @en where given."""
    out = []
    for p in predicates:
        out.append(ox.Triple(s, p, zh(text_zh)))
        if text_en:
            out.append(ox.Triple(s, p, en(text_en)))
    return out


# The chz: terms used per case and per unit, looked up once: ``OX.<name>`` goes through
# rdflib's DefinedNamespace on every access, which costs seconds at 100,000 cases.
_CASE, _UNIT = OX.Case, OX.Unit
_EDITION, _AWCAT, _LISTPOS = OX.edition, OX.awardCategory, OX.listPosition
_LEAD, _APPLICANT, _APPLIST = OX.leadApplicant, OX.applicant, OX.applicantList
_DOMAIN, _DOMAIN_BASIS, _SOURCE_LINE = OX.domain, OX.domainBasis, OX.sourceLine
_UNIT_TYPE, _UNIT_TYPE_BASIS = OX.unitType, OX.unitTypeBasis
_REGION, _REGION_BASIS, _CO_APPLICANT = OX.region, OX.regionBasis, OX.coApplicant
_PARENT_BASIS, _BASIS, _NAME_BASIS = OX.parentBasis, OX.basis, OX.nameBasis


@cache
def _positive(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_dt("positiveInteger"))


class _Nodes(dict[str, ox.NamedNode]):
    """IRI -> node, made once: editions, categories and sources repeat across cases."""

    def __missing__(self, iri: str) -> ox.NamedNode:
        node = self[iri] = ox.NamedNode(iri)
        return node


_BASIS_NODES = _Nodes()


def case_block(
    case: Case,
    iris: Iris,
    *,
    domain_iri: dict[str, ox.NamedNode],
    unit_iri: dict[str, ox.NamedNode],
    nodes: dict[str, ox.NamedNode] | None = None,
) -> list[Block]:
    """The triples of one case: its own block and the blocks of its applicant list."""
    nodes = nodes if nodes is not None else _Nodes()
    base = iris.base
    s = ox.NamedNode(f"{base}case/{case.id}")
    triple = ox.Triple
    applicants = [unit_iri[u] for u in case.applicants]
    t = [triple(s, RDF_TYPE, _CASE), triple(s, IDENT, ox.Literal(case.id))]
    t += _labelled(s, (TITLE, RDFS_LABEL), case.title_zh, case.title_en)
    t += [
        triple(s, _EDITION, nodes[f"{base}edition/{case.edition}"]),
        triple(s, _AWCAT, nodes[f"{base}award-category/{case.edition}-{case.category}"]),
        triple(s, _LISTPOS, _positive(case.position)),
        triple(s, _LEAD, applicants[0]),
    ]
    t += [triple(s, _APPLICANT, u) for u in applicants]
    list_nodes = [ox.BlankNode(f"{case.id}-applicant-{i + 1}") for i in range(len(applicants))]
    t.append(triple(s, _APPLIST, list_nodes[0]))
    t += [triple(s, _DOMAIN, domain_iri[d]) for d in case.domains]
    t.append(triple(s, _DOMAIN_BASIS, _BASIS_NODES[str(BASIS_BY_NOTATION[case.domain_basis])]))
    if case.source:
        t.append(triple(s, DERIVED, nodes[f"{base}source/{case.source}"]))
    if case.source_line:
        t.append(triple(s, _SOURCE_LINE, _positive(case.source_line)))
    key = s.value
    blocks: list[Block] = [(key, t)]
    last = len(list_nodes) - 1
    for i, node in enumerate(list_nodes):
        rest = list_nodes[i + 1] if i < last else NIL
        blocks.append((f"{key} {i + 1:03d}", [triple(node, FIRST, applicants[i]), triple(node, REST, rest)]))
    return blocks


def unit_block(
    unit: Unit,
    iris: Iris,
    co_applicants: Iterable[str],
    alias_at: dict[tuple[str, str], tuple[str, int]] | None = None,
) -> Block:
    """A unit, with the basis of its type, region and parent, and one SKOS-XL label per alias.

    ``alias_at``: (unit id, alias) -> (source id, line) of the aliases a source uses
    (:func:`chuzhi_graph.records.provenance.alias_lines`).
    """
    s = iris.unit(unit.id)
    triple = ox.Triple
    t = [
        triple(s, RDF_TYPE, _UNIT),
        triple(s, RDF_TYPE, ORG_TYPE),
        triple(s, IDENT, ox.Literal(unit.id)),
    ]
    t += _labelled(s, (RDFS_LABEL, PREF), unit.name_zh, unit.name_en)
    t += [triple(s, ALT, zh(a)) for a in unit.aliases]
    if unit.source:
        t.append(triple(s, DCT_SOURCE, iris.source(unit.source)))
    if unit.source_line:
        t.append(triple(s, _SOURCE_LINE, _positive(unit.source_line)))
    elif unit.name_basis:
        t.append(triple(s, _NAME_BASIS, _BASIS_NODES[str(BASIS_BY_NOTATION[unit.name_basis])]))
    t.append(triple(s, _UNIT_TYPE, iris.unit_type(unit.type)))
    t.append(triple(s, _UNIT_TYPE_BASIS, _BASIS_NODES[str(BASIS_BY_NOTATION[unit.type_basis])]))
    if unit.region:
        t.append(triple(s, _REGION, iris.region(unit.region)))
        t.append(triple(s, _REGION_BASIS, _BASIS_NODES[str(BASIS_BY_NOTATION[unit.region_basis])]))
    if unit.parent:
        t.append(triple(s, SUB_ORG, iris.unit(unit.parent)))
        t.append(triple(s, _PARENT_BASIS, _BASIS_NODES[str(BASIS_BY_NOTATION[unit.parent_basis or "curator"])]))
    t += [triple(s, _CO_APPLICANT, iris.unit(other)) for other in co_applicants]
    if unit.note:
        t.append(triple(s, NOTE, ox.Literal(unit.note)))
    bases = unit.alias_basis or ["curator"] * len(unit.aliases)
    for i, (alias, basis) in enumerate(zip(unit.aliases, bases, strict=True), start=1):
        label = ox.NamedNode(f"{s.value}/alias-{i}")  # an IRI: JSON-LD keeps it stable, a blank node not
        t.append(triple(s, XL_ALT, label))
        t += [
            triple(label, RDF_TYPE, XL_LABEL),
            triple(label, XL_FORM, zh(alias)),
            triple(label, _BASIS, _BASIS_NODES[str(BASIS_BY_NOTATION[basis])]),
        ]
        where = (alias_at or {}).get((unit.id, alias))
        if where is not None:
            t += [triple(label, DCT_SOURCE, iris.source(where[0])), triple(label, _SOURCE_LINE, _positive(where[1]))]
    return s.value, t


def edition_block(ed: Edition, iris: Iris) -> Block:
    s = iris.edition(ed.id)
    t = [
        ox.Triple(s, RDF_TYPE, OX.Edition),
        ox.Triple(s, IDENT, ox.Literal(ed.id)),
    ]
    t += _labelled(s, (TITLE, RDFS_LABEL), ed.title_zh, ed.title_en)
    t += [
        ox.Triple(s, OX.track, iris.track(ed.track)),
        ox.Triple(s, OX.year, typed(ed.year, "gYear")),
    ]
    if ed.launched:
        t.append(ox.Triple(s, OX.launched, typed(ed.launched, "gYearMonth" if len(ed.launched) == 7 else "date")))
    if ed.meeting_date:
        t.append(ox.Triple(s, OX.awardMeetingDate, typed(ed.meeting_date, "date")))
    if ed.meeting_place:
        t.append(ox.Triple(s, OX.awardMeetingPlace, iris.region(ed.meeting_place)))
    t += [ox.Triple(s, OX.organiser, iris.unit(u)) for u in ed.organisers]
    t += [ox.Triple(s, OX.coOrganiser, iris.unit(u)) for u in ed.co_organisers]
    for prop, value in (
        (OX.submissionCount, ed.submissions),
        (OX.onlineVoteCount, ed.online_vote),
        (OX.awardedCount, ed.awarded),
    ):
        if value is not None:
            t.append(ox.Triple(s, prop, typed(value, "nonNegativeInteger")))
    t += series.edition_triples(ed, iris)
    return s.value, t


def announcement_block(ed: Edition, iris: Iris) -> Block:
    """The result announcement an edition generated: the entity its facts are recorded from.

    An edition is a ``prov:Activity``; PROV-O makes activities and entities disjoint, so the
    source document and line are stated on this entity, not on the edition.
    """
    s = iris.announcement(ed.id)
    t = [
        ox.Triple(s, RDF_TYPE, OX.ResultAnnouncement),
        ox.Triple(s, IDENT, ox.Literal(ed.id)),
        ox.Triple(s, RDFS_LABEL, zh(f"结果公布：{ed.result_title or ed.title_zh}")),
        ox.Triple(s, RDFS_LABEL, en(f"Result announcement: {ed.title_en or ed.id}")),
        ox.Triple(s, GENERATED_BY, iris.edition(ed.id)),
    ]
    if ed.announced:
        t.append(ox.Triple(s, ISSUED, typed(ed.announced, "date")))
    if ed.source:
        t.append(ox.Triple(s, DERIVED, iris.source(ed.source)))
    if ed.source_line:
        t.append(ox.Triple(s, OX.sourceLine, typed(ed.source_line, "positiveInteger")))
    t += series.announcement_triples(ed, s)
    return s.value, t


def category_block(cat: Category, iris: Iris, source: str = "") -> Block:
    """An award category: a top concept of the category scheme, citing the edition's source."""
    s = iris.category(cat.edition, cat.id)
    t = [
        ox.Triple(s, RDF_TYPE, OX.AwardCategory),
        ox.Triple(s, IN_SCHEME, OX.AwardCategoryScheme),
        ox.Triple(s, TOP_OF, OX.AwardCategoryScheme),
        ox.Triple(s, NOTATION, ox.Literal(cat.id)),
    ]
    t += _labelled(s, (PREF, RDFS_LABEL), cat.label_zh, cat.label_en)
    t += [
        ox.Triple(s, OX.categoryEdition, iris.edition(cat.edition)),
        ox.Triple(s, OX.listPosition, typed(cat.position, "positiveInteger")),
    ]
    if cat.stated_count is not None:
        t.append(ox.Triple(s, OX.statedCaseCount, typed(cat.stated_count, "nonNegativeInteger")))
    if source:
        t.append(ox.Triple(s, DCT_SOURCE, iris.source(source)))
    if cat.source_line:
        t.append(ox.Triple(s, OX.sourceLine, typed(cat.source_line, "positiveInteger")))
    return s.value, t


def region_block(region: Region, iris: Iris, editions: Iterable[str] = (), units: int = 0, cases: int = 0,
                 direct_cases: int = 0) -> Block:
    """A region; ``editions``, ``units``, ``cases`` and ``direct_cases``: its summary
    (:mod:`chuzhi_graph.graph.summary`)."""
    s = iris.region(region.code)
    t = [
        ox.Triple(s, RDF_TYPE, OX.Region),
        ox.Triple(s, IN_SCHEME, OX.RegionScheme),
        ox.Triple(s, NOTATION, ox.Literal(region.code)),
    ]
    t += _labelled(s, (PREF, RDFS_LABEL), region.name_zh, region.name_en)
    t.append(ox.Triple(s, OX.adminLevel, ox.Literal(region.level)))
    if region.parent:
        t.append(ox.Triple(s, BROADER, iris.region(region.parent)))
    else:
        t.append(ox.Triple(s, TOP_OF, OX.RegionScheme))
    t += [ox.Triple(s, OX.winnersIn, iris.edition(e)) for e in sorted(editions)]
    if units:
        t.append(ox.Triple(s, OX.winningUnitCount, _positive(units)))
    if cases:
        t.append(ox.Triple(s, OX.winningCaseCount, _positive(cases)))
    if direct_cases:
        t.append(ox.Triple(s, OX.directCaseCount, _positive(direct_cases)))
    return s.value, t


def track_bases(vocabulary: list[Block]) -> dict[str, str]:
    """Track IRI -> the basis notation of its name: its chz:basis, else "source" where it has a
    source line, else "" (what ``provenance-summary`` counts for tracks)."""
    notation = {str(iri).strip("<>"): n for n, iri in BASIS_BY_NOTATION.items()}
    out = {}
    for _, triples in vocabulary:
        if any(t.predicate == RDF_TYPE and t.object == OX.Track for t in triples):
            given = [notation[t.object.value] for t in triples if t.predicate == OX.basis]  # type: ignore[union-attr]
            lined = any(t.predicate == _SOURCE_LINE for t in triples)
            out[triples[0].subject.value] = given[0] if given else "source" if lined else ""  # type: ignore[union-attr]
    return out


def provenance_blocks(counts: Counter[tuple[str, str]], iris: Iris) -> list[Block]:
    """One ``chz:ProvenanceCount`` per kind of statement and basis (``"" -> none``)."""
    blocks = []
    for (kind, basis), n in sorted(counts.items()):
        s = iris.summary("provenance", kind, basis or "none")
        name = STATEMENT_KINDS[kind]
        t = [ox.Triple(s, RDF_TYPE, OX.ProvenanceCount), ox.Triple(s, RDF_TYPE, OX.Summary)]
        t += _labelled(s, (RDFS_LABEL,), f"陈述出处统计：{name}（{basis or 'none'}）",
                       f"Provenance count: {name} ({basis or 'none'})")
        t.append(ox.Triple(s, OX.statementKind, ox.Literal(name)))
        if basis:
            t.append(ox.Triple(s, OX.countedBasis, _BASIS_NODES[str(BASIS_BY_NOTATION[basis])]))
        t.append(ox.Triple(s, OX.statementCount, _positive(n)))
        blocks.append((s.value, t))
    return blocks


def pair_blocks(pairs: Counter[tuple[str, str]], scheme: dict[str, Concept], kind: str, cls: ox.NamedNode,
                iri_of: Callable[[str], ox.NamedNode], iris: Iris) -> list[Block]:
    """One ``chz:Summary`` node per pair of concepts: its two members, a label and the case count."""
    blocks = []
    member, count = OX.pairMember, OX.caseCount
    for (a, b), n in sorted(pairs.items()):
        s = iris.summary(kind, a, b)
        ca, cb = scheme[a], scheme[b]
        en_label = f"{ca.pref_en} × {cb.pref_en}" if ca.pref_en and cb.pref_en else ""
        t = [ox.Triple(s, RDF_TYPE, cls), ox.Triple(s, RDF_TYPE, OX.Summary)]  # stated: the dump is closed under RDFS
        t += _labelled(s, (RDFS_LABEL,), f"{ca.pref_zh} × {cb.pref_zh}", en_label)
        t += [ox.Triple(s, member, iri_of(a)), ox.Triple(s, member, iri_of(b)), ox.Triple(s, count, _positive(n))]
        blocks.append((s.value, t))
    return blocks


def source_block(src: Source, iris: Iris, unit_names: dict[str, str] | None = None) -> Block:
    """A source document. Its publisher is the unit of that name when there is one
    (``unit_names``: normalised name or alias -> unit id), else an agent node with the name;
    its author an agent node with the name."""
    s = iris.source(src.id)
    assert src.path is not None
    digest = hashlib.sha256(src.path.read_bytes()).hexdigest()
    t = [
        ox.Triple(s, RDF_TYPE, OX.SourceDocument),
        ox.Triple(s, IDENT, ox.Literal(src.id)),
        ox.Triple(s, TITLE, zh(src.title)),
        ox.Triple(s, RDFS_LABEL, zh(src.title)),
    ]
    agents: list[ox.Triple] = []  # after the document's own triples: one Turtle statement each
    publisher_unit = (unit_names or {}).get(normalise_name(src.publisher))
    if publisher_unit:
        t.append(ox.Triple(s, PUBLISHER, iris.unit(publisher_unit)))
    else:
        node = ox.NamedNode(f"{s.value}/publisher")
        t.append(ox.Triple(s, PUBLISHER, node))
        agents += _agent(node, src.publisher)
    if src.author:
        node = ox.NamedNode(f"{s.value}/author")
        t.append(ox.Triple(s, CREATOR, node))
        agents += _agent(node, src.author)
    if src.issued:
        t.append(ox.Triple(s, ISSUED, typed(src.issued, "date")))
    if src.url:
        t.append(ox.Triple(s, DCT_SOURCE, ox.NamedNode(src.url)))
    if src.captured_from:
        t.append(ox.Triple(s, NOTE, ox.Literal(src.captured_from)))
    t.append(ox.Triple(s, OX.sha256, ox.Literal(digest)))
    t += series.source_triples(src, iris)
    return s.value, t + agents


def _agent(node: ox.NamedNode, name: str) -> list[ox.Triple]:
    """``node`` a ``dct:Agent`` named ``name``: a person or a body that is no unit of the data."""
    return [
        ox.Triple(node, RDF_TYPE, DCT_AGENT),
        ox.Triple(node, RDFS_LABEL, zh(name)),
    ]


def unit_name_index(units: Iterable[Unit]) -> dict[str, str]:
    """Normalised name and alias -> unit id (names win over aliases)."""
    out: dict[str, str] = {}
    units = list(units)
    for u in units:
        for alias in u.aliases:
            out.setdefault(normalise_name(alias), u.id)
    for u in units:
        out[normalise_name(u.name_zh)] = u.id
    return out


def co_applicant_map(cases: Iterable[Case]) -> dict[str, list[str]]:
    """Unit id -> sorted ids of the units it applied with (the symmetric closure)."""
    pairs: dict[str, set[str]] = {}
    for case in cases:
        if len(case.applicants) > 1:
            for a in case.applicants:
                others = pairs.setdefault(a, set())
                others.update(b for b in case.applicants if b != a)
    return {k: sorted(v) for k, v in pairs.items()}


def vocabulary_blocks(dataset: Dataset, base: str) -> list[Block]:
    """The ontology and vocabulary triples, grouped by subject, predicates and objects sorted."""
    groups: dict[str, list[ox.Triple]] = {}
    for q in vocabulary_triples(dataset.vocabulary.directory, base):
        groups.setdefault(str(q.subject), []).append(ox.Triple(q.subject, q.predicate, q.object))
    blocks = []
    for key, triples in groups.items():
        triples.sort(key=lambda t: (t.predicate != RDF_TYPE, t.predicate.value, str(t.object)))
        blocks.append((key.strip("<>") if key.startswith("<") else "~" + key, triples))
    return blocks


def map_dataset(dataset: Dataset, base: str = DEFAULT_BASE, *, include_vocabulary: bool = True) -> list[ox.Triple]:
    """All triples of the dataset, sorted by subject and in a fixed order within a subject.

    >>> from chuzhi_graph.records.tables import load_dataset
    >>> len(map_dataset(load_dataset("data"))) > 1000
    True
    """
    with paused_gc():
        return _map_dataset(dataset, base, include_vocabulary)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of acyclic objects are made.

    With the collector on, each generation-2 pass walks every live term, so mapping 100,000
    cases took 3x longer (41 s against 13 s, measured); the terms hold no reference cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _map_dataset(dataset: Dataset, base: str, include_vocabulary: bool) -> list[ox.Triple]:
    blocks = case_blocks(dataset, dataset.cases, base)
    blocks += other_blocks(dataset, base, include_vocabulary=include_vocabulary)
    blocks.sort(key=lambda b: b[0])
    return [t for _, triples in blocks for t in triples]


def case_blocks(dataset: Dataset, cases: Iterable[Case], base: str = DEFAULT_BASE) -> list[Block]:
    """The blocks of ``cases`` (each case and its applicant list), sorted by subject.

    A case's triples depend only on its own record and ``base``: the build caches them
    per edition (see ``build(cache=...)``).
    """
    iris = Iris(base)
    domain_iri = {n: iris.domain(n) for n in dataset.vocabulary.domains}
    unit_iri = _Nodes()
    for u in dataset.units:
        unit_iri[u.id] = iris.unit(u.id)
    nodes = _Nodes()
    blocks: list[Block] = []
    with paused_gc():
        for case in counted(cases):  # N/M on a terminal: the build's step counts the cases
            blocks += case_block(case, iris, domain_iri=domain_iri, unit_iri=unit_iri, nodes=nodes)
    blocks.sort(key=lambda b: b[0])
    return blocks


def other_blocks(dataset: Dataset, base: str = DEFAULT_BASE, *, include_vocabulary: bool = True) -> list[Block]:
    """Every block that is not a case's: units, editions, categories, regions, sources, vocabulary."""
    from chuzhi_graph.records.provenance import alias_lines

    iris = Iris(base)
    co = co_applicant_map(dataset.cases)
    alias_at = alias_lines(dataset)
    edition_source = {e.id: e.source for e in dataset.editions}
    names = unit_name_index(dataset.units)
    with paused_gc():
        blocks = [unit_block(u, iris, co.get(u.id, ()), alias_at) for u in dataset.units]
        blocks += [edition_block(e, iris) for e in dataset.editions]
        blocks += [announcement_block(e, iris) for e in dataset.editions]
        blocks += [category_block(c, iris, edition_source.get(c.edition, "")) for c in dataset.categories]
        vocabulary = vocabulary_blocks(dataset, base) if include_vocabulary else []
        counts = summarise(dataset, track_bases(vocabulary))
        blocks += [region_block(r, iris, counts.region_editions.get(r.code, ()), counts.region_units[r.code],
                                counts.region_cases[r.code], counts.region_direct_cases[r.code])
                   for r in dataset.regions]
        vocab = dataset.vocabulary
        blocks += pair_blocks(counts.domain_pairs, vocab.domains, "domain-pair", OX.DomainPair, iris.domain, iris)
        blocks += pair_blocks(counts.sector_pairs, vocab.unit_types, "sector-pair", OX.SectorPair, iris.unit_type, iris)
        blocks += provenance_blocks(counts.provenance, iris)
        blocks += [source_block(s, iris, names) for s in dataset.sources]
        blocks += vocabulary
    blocks.sort(key=lambda b: b[0])
    return blocks
