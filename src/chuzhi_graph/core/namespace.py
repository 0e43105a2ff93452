"""The chz: vocabulary, in one place.

``ontology/chuzhi.ttl`` is the source of truth; :class:`CHZ` mirrors its terms for rdflib
code and ``tests/test_namespace.py`` checks that the two agree. :data:`OX` gives the same
terms as pyoxigraph nodes for the fast mapping path.

>>> str(CHZ.Case)
'https://w3id.org/chuzhi/def#Case'
>>> OX.Case.value
'https://w3id.org/chuzhi/def#Case'
"""

from __future__ import annotations

from functools import cache

import pyoxigraph as ox
from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

from chuzhi_graph.core.prefixes import (  # noqa: F401 (re-exported: the vocabulary's strings, rdflib-free)
    CHZ_IRI,
    DEFAULT_BASE,
    ONTOLOGY_IRI,
    PREFIXES,
    data_prefixes,
    ox_iri,
)

ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("https://schema.org/")


class CHZ(DefinedNamespace):
    """Terms of the chuzhi-graph ontology (``chz:``)."""

    _NS = Namespace(CHZ_IRI)
    _fail = True

    # classes
    Case: URIRef
    Unit: URIRef
    Edition: URIRef
    ResultAnnouncement: URIRef
    SourceDocument: URIRef
    Domain: URIRef
    UnitType: URIRef
    AwardCategory: URIRef
    Track: URIRef
    Region: URIRef
    Basis: URIRef
    # concept schemes
    DomainScheme: URIRef
    UnitTypeScheme: URIRef
    AwardCategoryScheme: URIRef
    TrackScheme: URIRef
    RegionScheme: URIRef
    BasisScheme: URIRef
    # bases of statements
    StatedInSource: URIRef
    DerivedFromName: URIRef
    CuratorJudgement: URIRef
    AutomaticSuggestion: URIRef
    # case properties
    edition: URIRef
    awardCategory: URIRef
    listPosition: URIRef
    applicant: URIRef
    leadApplicant: URIRef
    applicantList: URIRef
    domain: URIRef
    domainBasis: URIRef
    # unit properties
    coApplicant: URIRef
    unitType: URIRef
    unitTypeBasis: URIRef
    region: URIRef
    regionBasis: URIRef
    parentBasis: URIRef
    nameBasis: URIRef
    # edition and category properties
    track: URIRef
    year: URIRef
    launched: URIRef
    awardMeetingDate: URIRef
    awardMeetingPlace: URIRef
    organiser: URIRef
    coOrganiser: URIRef
    submissionCount: URIRef
    onlineVoteCount: URIRef
    awardedCount: URIRef
    statedCaseCount: URIRef
    categoryEdition: URIRef
    # provenance
    sourceLine: URIRef
    basis: URIRef
    sha256: URIRef
    adminLevel: URIRef
    # the series (docs/series.md)
    runBy: URIRef
    completeList: URIRef
    announcementEvent: URIRef
    announcedAs: URIRef
    callDocument: URIRef
    callSourceLine: URIRef
    launchedSourceLine: URIRef
    issuedSourceLine: URIRef
    SourceReliability: URIRef
    reliability: URIRef
    SourceReliabilityScheme: URIRef
    PublisherPage: URIRef
    OrganiserPage: URIRef
    ThirdPartyMirror: URIRef
    # summaries materialised by the build (chuzhi_graph.graph.summary)
    Summary: URIRef
    DomainPair: URIRef
    SectorPair: URIRef
    pairMember: URIRef
    caseCount: URIRef
    winnersIn: URIRef
    winningUnitCount: URIRef
    winningCaseCount: URIRef
    directCaseCount: URIRef
    ProvenanceCount: URIRef
    statementKind: URIRef
    countedBasis: URIRef
    statementCount: URIRef


#: Basis notation used in the record files -> basis concept.
BASIS_BY_NOTATION: dict[str, URIRef] = {
    "source": CHZ.StatedInSource,
    "name": CHZ.DerivedFromName,
    "curator": CHZ.CuratorJudgement,
    "suggested": CHZ.AutomaticSuggestion,
}


#: ``sources.reliability`` in the record files -> reliability concept.
RELIABILITY_BY_NOTATION: dict[str, URIRef] = {
    "publisher": CHZ.PublisherPage,
    "organiser": CHZ.OrganiserPage,
    "mirror": CHZ.ThirdPartyMirror,
}


class _OxTerms:
    """``OX.Case`` etc.: the chz: terms as cached pyoxigraph ``NamedNode`` objects."""

    def __getattr__(self, name: str) -> ox.NamedNode:
        return _ox_chz(str(getattr(CHZ, name)))


@cache
def _ox_chz(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


OX = _OxTerms()
