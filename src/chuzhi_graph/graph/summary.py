"""Counts over the whole corpus, made from the case records at build time.

A question such as "which domains occur together" joins every case with every pair of its
domains: over a million intermediate rows at 100,000 cases, more than a second on the
on-disk store however the SPARQL is written (docs/decisions/0010-query-speed.md). The build
already holds the records, so it counts here once and writes the counts as a few hundred
``chz:Summary`` triples (ontology/chuzhi.ttl, "summaries") that the shipped questions read:

- ``domain_pairs``: (domain, domain) -> the number of cases tagged with both (``chz:DomainPair``);
- ``sector_pairs``: (sector, sector) -> the number of cases applied for by units of both, a
  sector being a top concept of the unit-type scheme (``chz:SectorPair``);
- ``region_editions`` and ``region_units``: per region, the editions in which a unit of the
  region or of a region below it applied for a case, and how many such units there are
  (``chz:winnersIn``, ``chz:winningUnitCount``);
- ``region_cases`` and ``region_direct_cases``: per region, how many cases have an applicant in
  the region or a region below it, and how many have one in the region itself
  (``chz:winningCaseCount``, ``chz:directCaseCount``: ``cases-per-prefecture``);
- ``provenance``: (kind of statement, basis notation or "") -> how many resources state that
  kind on that basis, "" for neither a source line nor a basis (``chz:ProvenanceCount``).

Pairs are keyed by notation, the smaller first: the IRIs share their prefix, so that is the
order of ``STR(?a) < STR(?b)`` in SPARQL too. tests/test_summary.py checks every count
against the same count made from the cases by SPARQL.

>>> from chuzhi_graph.records.tables import load_dataset
>>> s = summarise(load_dataset("data"))
>>> s.sector_pairs[("enterprise", "party-government")], sorted(s.region_editions["420700"])
(2, ['bigdata-2022', 'social-governance-2022'])
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

from chuzhi_graph.core.vocabulary import Concept
from chuzhi_graph.records.tables import Dataset


@dataclass
class Summaries:
    """The corpus-wide counts of one dataset (see the module's docstring)."""

    domain_pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    sector_pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    region_editions: dict[str, set[str]] = field(default_factory=dict)
    region_units: Counter[str] = field(default_factory=Counter)
    region_cases: Counter[str] = field(default_factory=Counter)
    region_direct_cases: Counter[str] = field(default_factory=Counter)
    provenance: Counter[tuple[str, str]] = field(default_factory=Counter)


#: The kinds of statement of ``provenance-summary``: the slug of their summary IRI -> the name
#: the question shows. Each kind is stated once per resource: the resource's own facts (with or
#: without a source line), or one fact with a basis.
STATEMENT_KINDS: dict[str, str] = {
    "case": "case: title, applicants, group",
    "case-domains": "case: domains",
    "edition": "edition: organisers, dates, counts",
    "award-category": "award category: name, count",
    "track": "track: name",
    "unit": "unit: name",
    "unit-type": "unit: type",
    "unit-region": "unit: region",
    "unit-parent": "unit: parent organisation",
    "unit-alias": "unit: alias",
}


def top_concepts(scheme: dict[str, Concept]) -> dict[str, set[str]]:
    """Notation -> the notations of its top concepts (itself for a top concept), up skos:broader.

    >>> from chuzhi_graph.core.vocabulary import load_vocabulary
    >>> top_concepts(load_vocabulary().unit_types)["state-owned-enterprise"]
    {'enterprise'}
    """
    def tops(notation: str, seen: frozenset[str]) -> set[str]:
        above = [b for b in scheme[notation].broader if b in scheme and b not in seen]
        if not above:
            return {notation}
        return set().union(*(tops(b, seen | {b}) for b in above))

    return {n: tops(n, frozenset({n})) for n in scheme}


def summarise(dataset: Dataset, tracks: dict[str, str] | None = None) -> Summaries:
    """The counts of ``dataset``'s cases (see the module's docstring).

    ``tracks``: track IRI -> the basis notation of its name ("source" where a source line gives
    it, "" where nothing does), from the vocabulary's triples; tracks are not records.
    """
    out = Summaries()
    _provenance(dataset, tracks or {}, out.provenance)
    # each count collects its items in a list first and counts them once (Counter's C loop):
    # one Counter.update per case took 2 s at 100,000 cases
    sector = {n: sorted(tops) for n, tops in top_concepts(dataset.vocabulary.unit_types).items()}
    sectors_of = {u.id: sector.get(u.type, ()) for u in dataset.units}
    parent = {r.code: r.parent for r in dataset.regions}
    above: dict[str, list[str]] = {}  # a unit's region and every region above it
    for unit in dataset.units:
        code, seen = unit.region, []
        while code in parent and code not in seen:
            seen.append(code)
            code = parent[code]
        if seen:
            above[unit.id] = seen
    domain_pairs: list[tuple[str, str]] = []
    sector_pairs: list[tuple[str, str]] = []
    within: list[str] = []
    direct: list[str] = []
    editions_of: dict[str, set[str]] = {}
    for case in dataset.cases:
        domains = case.domains
        if len(domains) > 1:
            domain_pairs += combinations(sorted(set(domains)), 2)
        applicants = case.applicants
        if len(applicants) > 1:
            sector_pairs += combinations(sorted({s for u in applicants for s in sectors_of.get(u, ())}), 2)
        located = [above[u] for u in applicants if u in above]
        within += {code for regions in located for code in regions}
        direct += {regions[0] for regions in located}
        for u in applicants:
            editions_of.setdefault(u, set()).add(case.edition)
    out.domain_pairs.update(domain_pairs)
    out.sector_pairs.update(sector_pairs)
    out.region_cases.update(within)
    out.region_direct_cases.update(direct)
    units: list[str] = []
    for unit_id, editions in editions_of.items():
        for code in above.get(unit_id, ()):
            out.region_editions.setdefault(code, set()).update(editions)
            units.append(code)
    out.region_units.update(units)
    return out


def _provenance(dataset: Dataset, tracks: dict[str, str], out: Counter[tuple[str, str]]) -> None:
    """Per kind of statement, how many resources state it on each basis (as the mapping writes them)."""
    stated = "source"
    for case in dataset.cases:
        out["case", stated if case.source_line else ""] += 1
        out["case-domains", case.domain_basis] += 1
    for ed in dataset.editions:
        out["edition", stated if ed.source_line else ""] += 1
    for cat in dataset.categories:
        out["award-category", stated if cat.source_line else ""] += 1
    for basis in tracks.values():
        out["track", basis] += 1
    for unit in dataset.units:
        out["unit", stated if unit.source_line else unit.name_basis] += 1
        out["unit-type", unit.type_basis] += 1
        if unit.region:
            out["unit-region", unit.region_basis] += 1
        if unit.parent:
            out["unit-parent", unit.parent_basis or "curator"] += 1
        for basis in unit.alias_basis or ["curator"] * len(unit.aliases):
            out["unit-alias", basis] += 1
