"""Views of the knowledge graph as networkx graphs, for drawing and measuring.

Every view is built from the RDF dump (never from the record tables) by the SPARQL
queries in ``queries/views/*.rq``, run on an in-memory pyoxigraph store:

- ``institutions``: applicant units; ``co-applicant`` edges weighted by the number of
  shared cases, and ``parent`` edges (``org:subOrganizationOf``) to parent units, which are
  added as nodes;
- ``cases``: the tripartite graph unit - case - domain;
- ``domains``: two domains are linked when one case has both, weighted by such cases;
- ``full``: every case, unit, domain, region, edition, award category, unit type, track and
  source document with its typed links (a ``MultiDiGraph``, one edge per triple).

Filters (each a value or a list of values; values of one filter are alternatives, different
filters must all hold): ``edition`` (id, year or label), ``category`` (notation such as
``gov``, id or label), ``domain`` (notation or label; narrower domains match too) and
``unit_type`` (notation or label). A case filter keeps the cases that pass; a unit-type
filter keeps the units of that type and the cases one of them applied for.

>>> g = build_view("out/chuzhi.nt", "institutions", edition="2022")
>>> g.nodes["https://w3id.org/chuzhi/unit/state-grid-hubei"]["label"]
'国网湖北省电力有限公司'
"""

from __future__ import annotations

import gc
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import cast

import networkx as nx
import pyoxigraph as ox

from chuzhi_graph.errors import QueryError, UsageError
from chuzhi_graph.release.reader import Release

#: Node kinds: class local name -> kind, in drawing order.
KIND_OF_CLASS = {
    "Case": "case", "Unit": "unit", "Domain": "domain", "Region": "region",
    "Edition": "edition", "AwardCategory": "category", "UnitType": "unit-type",
    "Track": "track", "SourceDocument": "source",
}
KIND_LABELS = {
    "case": "案例", "unit": "单位", "domain": "治理领域", "region": "行政区划",
    "edition": "届次", "category": "奖项类别", "unit-type": "单位类型", "track": "评选赛道",
    "source": "来源文献",
}
EDGE_KIND_LABELS = {
    "co-applicant": "共同申报", "parent": "上级单位", "applicant": "申报",
    "domain": "治理领域", "co-occurrence": "同案共现",
}
CHZ = "https://w3id.org/chuzhi/def#"


@dataclass(frozen=True)
class Filters:
    """View filters; each holds alternatives, an empty tuple means no filter."""

    edition: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    domain: tuple[str, ...] = ()
    unit_type: tuple[str, ...] = ()

    def active(self) -> bool:
        return any((self.edition, self.category, self.domain, self.unit_type))

    def describe(self) -> str:
        """``edition=2022; domain=平安法治``, or an empty string."""
        parts = [f"{name}={'|'.join(values)}" for name, values in (
            ("edition", self.edition), ("category", self.category),
            ("domain", self.domain), ("unit-type", self.unit_type)) if values]
        return "; ".join(parts)


def filter_values(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """A filter's alternatives: one value or several, blank ones dropped.

    >>> filter_values("2022"), filter_values(["gov", " "]), filter_values(None)
    (('2022',), ('gov',), ())
    """
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    return tuple(v for v in value if v and v.strip())


@cache
def view_query(name: str) -> str:
    """The text of ``queries/views/NAME.rq``."""
    return resources.files("chuzhi_graph").joinpath(f"queries/views/{name}.rq").read_text("utf-8")


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside: building a view allocates millions of small
    objects and none of them is garbage, yet every collection walks them all (at 100,000
    cases a third of the layout's time). Collection resumes, as it was, on the way out.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load_store(source: str | Path | ox.Store | Release) -> ox.Store:
    """The in-memory pyoxigraph store of ``source``: a dump file or folder (through
    :class:`~chuzhi_graph.release.reader.Release`), a release, or a store (returned as it is).

    >>> store = load_store("out/chuzhi.nt")
    """
    if isinstance(source, ox.Store):
        return source
    release = source if isinstance(source, Release) else Release.open(source)
    return release.store()


def view_rows(store: ox.Store, name: str) -> list[dict[str, str]]:
    """Solutions of a view query as dicts of plain strings (IRIs and literal values)."""
    try:
        solutions = store.query(view_query(name))
    except (SyntaxError, OSError) as exc:  # pragma: no cover - the shipped queries are tested
        raise QueryError(f"view query failed: {exc}", file=f"queries/views/{name}.rq") from None
    names = [v.value for v in solutions.variables]  # type: ignore[union-attr]
    out = []
    for solution in solutions:  # type: ignore[union-attr]
        row = {}
        for var in names:
            term = solution[var]
            if term is not None:
                row[var] = term.value
        out.append(row)
    return out


@dataclass
class Facts:
    """What the views need, read from the store once."""

    units: dict[str, dict[str, object]] = field(default_factory=dict)
    cases: dict[str, dict[str, object]] = field(default_factory=dict)
    applicants: dict[str, list[str]] = field(default_factory=dict)
    case_domains: dict[str, list[str]] = field(default_factory=dict)
    domains: dict[str, dict[str, object]] = field(default_factory=dict)
    ancestors: dict[str, set[str]] = field(default_factory=dict)


def read_facts(store: ox.Store) -> Facts:
    """Units, cases, applicants and domains of the graph, through the view queries.

    The queries are kept simple (no joins through editions or categories, no list paths)
    and joined here: at 100,000 cases that is several times faster than one joined query.
    """
    facts = Facts()
    for r in view_rows(store, "units"):
        facts.units[r["unit"]] = {
            "label": r["name"], "aliases": sorted(a for a in r.get("aliases", "").split("|") if a),
            "unit_type": r.get("typeLabel", ""), "unit_type_id": r.get("typeNotation", ""),
            "region": r.get("regionLabel", ""), "parent": r.get("parent", ""),
        }
    editions = {r["edition"]: r for r in view_rows(store, "editions")}
    categories = {r["category"]: r for r in view_rows(store, "categories")}
    for r in view_rows(store, "cases"):
        e, c = editions.get(r["edition"]), categories.get(r["category"])
        if e is None or c is None:  # as the joined query did: a case without them is not drawn
            continue
        facts.cases[r["case"]] = {
            "label": r["title"], "edition": r["edition"], "edition_id": e["editionId"],
            "edition_label": e["editionLabel"], "year": e["year"], "category": r["category"],
            "category_id": c["categoryNotation"], "category_label": c["categoryLabel"],
        }
    cells = {r["cell"]: (r["unit"], r["next"]) for r in view_rows(store, "applicant-cells")}
    for r in view_rows(store, "applicants"):
        members: list[str] = []
        cell = r["list"]
        while cell in cells and len(members) <= len(cells):  # bounded: a cyclic list ends
            unit, cell = cells[cell]
            if unit not in members:
                members.append(unit)
        if members:
            facts.applicants[r["case"]] = members
    for r in view_rows(store, "case-domains"):
        facts.case_domains.setdefault(r["case"], []).append(r["domain"])
    for r in view_rows(store, "domains"):
        facts.domains[r["domain"]] = {"label": r["label"], "notation": r["notation"]}
        facts.ancestors.setdefault(r["domain"], set()).add(r["ancestor"])
    return facts


#: The last store whose facts were read, its size then, and the facts: the main job and
#: publish build three views of one store, and reading the facts is most of a view's time.
_last_facts: list[tuple[ox.Store, int, Facts]] = []


def facts_of(store: ox.Store) -> Facts:
    """:func:`read_facts` of ``store``, read again only when the store is another or has changed size."""
    size = len(store)
    if _last_facts and _last_facts[0][0] is store and _last_facts[0][1] == size:
        return _last_facts[0][2]
    facts = read_facts(store)
    _last_facts[:] = [(store, size, facts)]
    return facts


def _tail(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _match(values: tuple[str, ...], known: dict[str, set[str]], what: str, option: str) -> set[str]:
    """IRIs named by ``values``; ``known`` maps each accepted name to IRIs."""
    out: set[str] = set()
    for value in values:
        hits = known.get(value.strip()) or known.get(value.strip().casefold())
        if not hits:
            names = sorted({n for n in known if not n.startswith("http")})
            raise UsageError(f"unknown {what} {value!r} (known: {', '.join(names[:30])})",
                             field=option)
        out |= hits
    return out


def _index(items: Iterable[tuple[str, Iterable[str]]]) -> dict[str, set[str]]:
    index: dict[str, set[str]] = defaultdict(set)
    for iri, names in items:
        for name in names:
            if name:
                index[name].add(iri)
                index[name.casefold()].add(iri)
    return index


def select(facts: Facts, filters: Filters) -> tuple[set[str], set[str]]:
    """The cases and units that pass ``filters``."""
    cases = set(facts.cases)
    if filters.edition:
        names = ("edition", "edition_id", "year", "edition_label")
        known = _index((str(c["edition"]), tuple(str(c[k] or "") for k in names)) for c in facts.cases.values())
        wanted = _match(filters.edition, known, "edition", "--edition")
        cases = {c for c in cases if facts.cases[c]["edition"] in wanted}
    if filters.category:
        known = _index((c["category"], (c["category"], _tail(str(c["category"])), c["category_id"],
                                         c["category_label"])) for c in facts.cases.values())  # type: ignore[misc]
        wanted = _match(filters.category, known, "award category", "--category")
        cases = {c for c in cases if facts.cases[c]["category"] in wanted}
    if filters.domain:
        known = _index((d, (d, str(v["notation"]), str(v["label"]))) for d, v in facts.domains.items())
        wanted = _match(filters.domain, known, "domain", "--domain")
        cases = {c for c in cases
                 if any(facts.ancestors.get(d, {d}) & wanted for d in facts.case_domains.get(c, ()))}
    units = {u for c in cases for u in facts.applicants.get(c, ())}
    if filters.unit_type:
        known = _index((str(u["unit_type_id"]), (str(u["unit_type_id"]), str(u["unit_type"])))
                       for u in facts.units.values())
        wanted = _match(filters.unit_type, known, "unit type", "--unit-type")
        units = {u for u in units if facts.units[u]["unit_type_id"] in wanted}
        cases = {c for c in cases if set(facts.applicants.get(c, ())) & units}
    return cases, units


def _case_node(facts: Facts, case: str) -> dict[str, object]:
    c = facts.cases[case]
    return {
        "kind": "case", "label": c["label"], "group": "case", "aliases": [],
        "edition": c["edition_label"], "category": c["category_label"],
        "categories": [c["category_label"]],
        "domains": [facts.domains[d]["label"] for d in facts.case_domains.get(case, ())],
        "applicants": [facts.units[u]["label"] for u in facts.applicants.get(case, ())],
        "cases": 1, "case_ids": [case],
    }


def _unit_node(facts: Facts, unit: str, cases: Sequence[str],
               sub_cases: Sequence[tuple[str, str]] = ()) -> dict[str, object]:
    """A unit's node; ``sub_cases`` are ``(case, sub-unit that applied)`` pairs rolled up from
    its sub-units: ``cases`` counts both (distinct cases), ``case_ids`` holds its own only."""
    u = facts.units[unit]
    every = list(dict.fromkeys([*cases, *(c for c, _ in sub_cases)]))
    node: dict[str, object] = {
        "kind": "unit", "label": u["label"], "group": f"unit:{u['unit_type_id']}",
        "aliases": list(cast("list[str]", u["aliases"])),  # a copy: the facts are shared between views
        "unit_type": u["unit_type"], "region": u["region"],
        "cases": len(every), "case_titles": [facts.cases[c]["label"] for c in cases],
        "case_ids": list(cases),
        "categories": sorted({str(facts.cases[c]["category_label"]) for c in every}),
        "domains": sorted({str(facts.domains[d]["label"]) for c in every
                           for d in facts.case_domains.get(c, ())}),
    }
    if sub_cases:
        node["direct_cases"] = len(cases)
        node["sub_case_ids"] = [list(pair) for pair in sub_cases]
    return node


def sub_unit_cases(facts: Facts, by_unit: dict[str, list[str]]) -> dict[str, list[tuple[str, str]]]:
    """For each parent organisation, the cases of its sub-units (at any depth) as
    ``(case, sub-unit that applied)`` pairs, sorted.

    >>> sub_unit_cases(Facts(units={"u": {"parent": "p"}, "p": {"parent": ""}}), {"u": ["c"]})
    {'p': [('c', 'u')]}
    """
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for unit, cases in by_unit.items():
        seen = {unit}
        parent = str(facts.units.get(unit, {}).get("parent", "") or "")
        while parent and parent in facts.units and parent not in seen:  # a cycle ends
            seen.add(parent)
            out[parent].update((c, unit) for c in cases)
            parent = str(facts.units[parent].get("parent", "") or "")
    return {p: sorted(pairs) for p, pairs in sorted(out.items())}


def _domain_node(facts: Facts, domain: str, cases: Sequence[str]) -> dict[str, object]:
    d = facts.domains[domain]
    return {
        "kind": "domain", "label": d["label"], "group": "domain", "aliases": [],
        "cases": len(cases), "case_titles": [facts.cases[c]["label"] for c in cases],
        "case_ids": list(cases),
        "categories": sorted({str(facts.cases[c]["category_label"]) for c in cases}),
        "domains": [d["label"]],
    }


def _cases_of(facts: Facts, cases: set[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    by_unit: dict[str, list[str]] = defaultdict(list)
    by_domain: dict[str, list[str]] = defaultdict(list)
    for case in sorted(cases):
        for u in facts.applicants.get(case, ()):
            by_unit[u].append(case)
        for d in facts.case_domains.get(case, ()):
            by_domain[d].append(case)
    return by_unit, by_domain


def institutions_view(facts: Facts, cases: set[str], units: set[str], *, parents: bool = True) -> nx.Graph:
    """Units linked by shared cases (weight = number of cases) and to their parents."""
    g = nx.Graph()
    by_unit, _ = _cases_of(facts, cases)
    kept = {u: cs for u, cs in by_unit.items() if u in units}
    rolled = sub_unit_cases(facts, kept) if parents else {}
    for unit in sorted(units, key=lambda u: (facts.units[u]["label"], u)):
        g.add_node(unit, **_unit_node(facts, unit, by_unit.get(unit, []), rolled.get(unit, ())))
    ties: dict[tuple[str, str], list[str]] = defaultdict(list)
    for case in sorted(cases):
        members = sorted(u for u in facts.applicants.get(case, ()) if u in units)
        for pair in itertools.combinations(members, 2):
            ties[pair].append(case)
    for (a, b), shared in sorted(ties.items()):
        g.add_edge(a, b, kind="co-applicant", weight=len(shared), case_ids=shared)
    if parents:
        todo = sorted(units)
        while todo:
            unit = todo.pop()
            parent = str(facts.units[unit]["parent"])
            if not parent or parent not in facts.units:
                continue
            if parent not in g:
                g.add_node(parent, **_unit_node(facts, parent, by_unit.get(parent, []), rolled.get(parent, ())))
                todo.append(parent)
            if not g.has_edge(unit, parent):
                g.add_edge(unit, parent, kind="parent", weight=1, sub=unit, case_ids=[])
    return g


def cases_view(facts: Facts, cases: set[str], units: set[str]) -> nx.Graph:
    """The tripartite graph: units - cases (applicant) - domains."""
    g = nx.Graph()
    by_unit, by_domain = _cases_of(facts, cases)
    for case in sorted(cases):
        g.add_node(case, **_case_node(facts, case))
    for unit in sorted(units):
        g.add_node(unit, **_unit_node(facts, unit, by_unit.get(unit, [])))
    for domain in sorted(by_domain):
        g.add_node(domain, **_domain_node(facts, domain, by_domain[domain]))
    for case in sorted(cases):
        applicants = facts.applicants.get(case, [])
        for i, unit in enumerate(applicants):
            if unit in units:
                g.add_edge(unit, case, kind="applicant", lead=i == 0, weight=1, case_ids=[case])
        for domain in facts.case_domains.get(case, ()):
            g.add_edge(case, domain, kind="domain", weight=1, case_ids=[case])
    return g


def domains_view(facts: Facts, cases: set[str]) -> nx.Graph:
    """Domains linked when one case has both, weighted by the number of such cases."""
    g = nx.Graph()
    _, by_domain = _cases_of(facts, cases)
    for domain in sorted(by_domain):
        g.add_node(domain, **_domain_node(facts, domain, by_domain[domain]))
    ties: dict[tuple[str, str], list[str]] = defaultdict(list)
    for case in sorted(cases):
        for pair in itertools.combinations(sorted(set(facts.case_domains.get(case, ()))), 2):
            ties[pair].append(case)
    for (a, b), shared in sorted(ties.items()):
        g.add_edge(a, b, kind="co-occurrence", weight=len(shared), case_ids=shared)
    return g


def full_view(store: ox.Store, facts: Facts, cases: set[str], units: set[str],
              filters: Filters) -> nx.MultiDiGraph:
    """Every resource of the view kinds with its typed links, one edge per triple."""
    g = nx.MultiDiGraph()
    by_unit, by_domain = _cases_of(facts, cases)
    for r in view_rows(store, "resources"):
        iri, kind = r["resource"], KIND_OF_CLASS[_tail(r["class"])]
        if filters.active() and ((kind == "case" and iri not in cases)
                                 or (kind == "unit" and filters.unit_type and iri not in units)):
            continue
        if kind == "case":
            attrs = _case_node(facts, iri)
        elif kind == "unit":
            attrs = _unit_node(facts, iri, by_unit.get(iri, []))
        elif kind == "domain":
            attrs = _domain_node(facts, iri, by_domain.get(iri, []))
        else:
            attrs = {"kind": kind, "label": r.get("label", _tail(iri)), "group": kind, "aliases": [],
                     "categories": [], "domains": [], "cases": 0, "case_ids": []}
        g.add_node(iri, **attrs)
    for r in view_rows(store, "links"):
        s, p, o = r["s"], r["p"], r["o"]
        if s in g and o in g:
            prefixed = "chz:" + p[len(CHZ):] if p.startswith(CHZ) else p
            g.add_edge(s, o, key=prefixed, kind=prefixed, label=r.get("label", _tail(p)), weight=1)
    return g


@dataclass(frozen=True)
class ViewInput:
    """What a view builder gets: the store, the facts, and the cases and units that pass."""

    store: ox.Store
    facts: Facts
    cases: set[str]
    units: set[str]
    filters: Filters
    parents: bool = True


#: View builders by name, the one list of views: ``build_view``, ``render``, ``stats`` and the command line's
#: choices read it. Another module adds a view with ``VIEW_BUILDERS["name"] = builder`` (a function of
#: :class:`ViewInput` returning a networkx graph).
VIEW_BUILDERS: dict[str, Callable[[ViewInput], nx.Graph]] = {
    "institutions": lambda v: institutions_view(v.facts, v.cases, v.units, parents=v.parents),
    "cases": lambda v: cases_view(v.facts, v.cases, v.units),
    "domains": lambda v: domains_view(v.facts, v.cases),
    "full": lambda v: full_view(v.store, v.facts, v.cases, v.units, v.filters),
}


def build_view(
    source: str | Path | ox.Store,
    view: str,
    *,
    edition: str | Iterable[str] | None = None,
    category: str | Iterable[str] | None = None,
    domain: str | Iterable[str] | None = None,
    unit_type: str | Iterable[str] | None = None,
    parents: bool = True,
) -> nx.Graph:
    """The networkx graph of ``view`` over the dump ``source`` (file, folder or store).

    Nodes are IRIs with the attributes ``kind``, ``label`` (Chinese), ``group`` (colour
    class), ``aliases``, ``cases`` and the lists ``categories``/``domains`` used by the
    page filters; edges carry ``kind`` and ``weight``. ``parents`` adds parent-organisation
    edges to the institutions view.

    >>> g = build_view("out", "domains")
    >>> sorted(g.nodes(data="label"))[0]
    ('https://w3id.org/chuzhi/domain/agriculture-rural', '农业农村')
    """
    if view not in VIEW_BUILDERS:
        raise UsageError(f"unknown view {view!r} (known: {', '.join(VIEW_BUILDERS)})", field="VIEW")
    filters = Filters(filter_values(edition), filter_values(category), filter_values(domain), filter_values(unit_type))
    store = load_store(source)
    with paused_gc():
        facts = facts_of(store)
        cases, units = select(facts, filters)
        graph: nx.Graph
        graph = VIEW_BUILDERS[view](ViewInput(store, facts, cases, units, filters, parents))
        graph.graph.update(view=view, filters=filters.describe(), case_table=case_table(facts, cases))
        return _canonical(graph)


def view_node_count(source: str | Path | ox.Store, view: str) -> int | None:
    """How many nodes the unfiltered ``view`` has, without building it (None: not known here).

    The main job skips views above a size; at 100,000 cases building the cases view (133,000
    nodes) only to count them took longer than reading the facts.

    >>> view_node_count("out", "domains")
    16
    """
    if view not in ("institutions", "cases", "domains"):
        return None
    facts = facts_of(load_store(source))
    cases, units = select(facts, Filters())
    domains = {d for c in cases for d in facts.case_domains.get(c, ())}
    if view == "domains":
        return len(domains)
    if view == "cases":
        return len(cases) + len(units) + len(domains)
    nodes, todo = set(units), list(units)
    while todo:  # parent organisations, as institutions_view adds them
        parent = str(facts.units[todo.pop()]["parent"])
        if parent and parent in facts.units and parent not in nodes:
            nodes.add(parent)
            todo.append(parent)
    return len(nodes)


def _canonical(graph: nx.Graph) -> nx.Graph:
    """The same graph with nodes and edges in sorted order.

    The builders walk sets of IRIs, whose order follows PYTHONHASHSEED and so differs between
    processes; pages, pictures and layouts follow node order, and must be byte-identical.
    """
    out = graph.__class__()
    out.graph.update(graph.graph)
    out.add_nodes_from(sorted(graph.nodes(data=True), key=lambda nd: str(nd[0])))
    if graph.is_multigraph():
        out.add_edges_from(sorted(graph.edges(keys=True, data=True), key=lambda e: (str(e[0]), str(e[1]), str(e[2]))))
    else:
        out.add_edges_from(sorted(graph.edges(data=True), key=lambda e: (str(e[0]), str(e[1]))))
    return out


def case_table(facts: Facts, cases: Iterable[str]) -> dict[str, object]:
    """What a page needs to filter by case: each case's title, award category, domains and edition.

    ``cases`` maps a case IRI to ``(title, category IRI, [domain IRI, ...], edition IRI)`` with
    every broader domain included, so that choosing a broad domain keeps the cases of its
    narrower ones; ``domains`` maps each of those domains to ``(label, broader IRI or "")``;
    ``categories`` maps a category to ``(label, edition IRI)`` (categories of different
    editions share labels: 十佳案例) and ``editions`` an edition to ``(label, identifier, year)``.

    >>> case_table(Facts(), [])
    {'cases': {}, 'domains': {}, 'categories': {}, 'editions': {}}
    """
    table: dict[str, tuple[str, str, list[str], str]] = {}
    used: set[str] = set()
    categories: dict[str, tuple[str, str]] = {}
    editions: dict[str, tuple[str, str, str]] = {}
    for case in sorted(cases):
        c = facts.cases[case]
        domains = sorted({a for d in facts.case_domains.get(case, ()) for a in facts.ancestors.get(d, {d})})
        used.update(domains)
        edition, category = str(c["edition"]), str(c["category"])
        table[case] = (str(c["label"]), category, domains, edition)
        categories[category] = (str(c["category_label"]), edition)
        editions[edition] = (str(c["edition_label"]), str(c["edition_id"]), str(c["year"]))
    domains_out: dict[str, tuple[str, str]] = {}
    for d in sorted(used):
        broader = sorted(a for a in facts.ancestors.get(d, ()) if a != d and a in used
                         and len(facts.ancestors.get(a, ())) == len(facts.ancestors.get(d, ())) - 1)
        domains_out[d] = (str(facts.domains[d]["label"]) if d in facts.domains else _tail(d),
                          broader[0] if broader else "")
    return {"cases": table, "domains": domains_out, "categories": dict(sorted(categories.items())),
            "editions": dict(sorted(editions.items()))}
