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
  (``chz:winnersIn``, ``chz:winningUnitCount``).

Pairs are keyed by notation, the smaller first: the IRIs share their prefix, so that is the
order of ``STR(?a) < STR(?b)`` in SPARQL too. tests/test_summary.py checks every count
against the same count made from the cases by SPARQL.

>>> from chuzhi_graph.records import load_dataset
>>> s = summarise(load_dataset("data"))
>>> s.sector_pairs[("enterprise", "party-government")], sorted(s.region_editions["420700"])
(2, ['bigdata-2022', 'social-governance-2022'])
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

from chuzhi_graph.records import Dataset
from chuzhi_graph.vocabulary import Concept


@dataclass
class Summaries:
    """The corpus-wide counts of one dataset (see the module's docstring)."""

    domain_pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    sector_pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    region_editions: dict[str, set[str]] = field(default_factory=dict)
    region_units: Counter[str] = field(default_factory=Counter)


def top_concepts(scheme: dict[str, Concept]) -> dict[str, set[str]]:
    """Notation -> the notations of its top concepts (itself for a top concept), up skos:broader.

    >>> from chuzhi_graph.vocabulary import load_vocabulary
    >>> top_concepts(load_vocabulary().unit_types)["state-owned-enterprise"]
    {'enterprise'}
    """
    def tops(notation: str, seen: frozenset[str]) -> set[str]:
        above = [b for b in scheme[notation].broader if b in scheme and b not in seen]
        if not above:
            return {notation}
        return set().union(*(tops(b, seen | {b}) for b in above))

    return {n: tops(n, frozenset({n})) for n in scheme}


def summarise(dataset: Dataset) -> Summaries:
    """The counts of ``dataset``'s cases (see the module's docstring)."""
    out = Summaries()
    sector = top_concepts(dataset.vocabulary.unit_types)
    unit_type = {u.id: u.type for u in dataset.units}
    for case in dataset.cases:
        out.domain_pairs.update(combinations(sorted(set(case.domains)), 2))
        sectors = {s for u in case.applicants for s in sector.get(unit_type.get(u, ""), ())}
        out.sector_pairs.update(combinations(sorted(sectors), 2))
    parent = {r.code: r.parent for r in dataset.regions}
    editions_of: dict[str, set[str]] = {}
    for case in dataset.cases:
        for u in case.applicants:
            editions_of.setdefault(u, set()).add(case.edition)
    for unit in dataset.units:
        if unit.id not in editions_of or unit.region not in parent:
            continue
        code, seen = unit.region, set()
        while code in parent and code not in seen:
            seen.add(code)
            out.region_editions.setdefault(code, set()).update(editions_of[unit.id])
            out.region_units[code] += 1
            code = parent[code]
    return out
