"""The map page's numbers: counts per region for every filter the page offers, and the lists.

A page that embedded every case and unit grew with the corpus (56-63 MB at 100,000 cases).
Here the page gets, per map region and side group, the counts it can show, computed in
Python for every choice of its filters, so its weight depends on the number of regions and
facet values, not on the number of cases:

- **cases** per award category (a case has one, so an edition's or a track's count is the
  sum of its categories') and per *column*: all, each domain (a case counts under every
  domain it has, broader ones included), each unit type (cases with an applicant of that
  type in the region);
- **units** per *scope* (all, each track, each edition, each category: a unit with cases in
  two categories counts once in their edition, so these are not sums) and per column.

The domain and the unit-type filter are offered one at a time: their joint counts would
multiply the page by the number of unit types (docs/map.md).

The lists of a region's cases and units are the other part that grows; the single-file
page carries the first :data:`CAP` of each (the region's resource page has all), the
published site one small script per region, loaded when the region is opened.

>>> quantile_classes([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
[(1, 2), (3, 4), (5, 6), (7, 8), (9, 10)]
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from chuzhi_graph.core.assets import zero_runs

if TYPE_CHECKING:
    from chuzhi_graph.views.mapview import MapData

#: Rows of a region's case list and unit list in a single-file page.
CAP = 12
#: Colour classes at most (the palette's length).
CLASSES = 5
#: Key of the counts over every applicant, and of the cases outside any prefecture.
ALL, OUTSIDE = "*", "outside"


def quantile_classes(values: Iterable[int], k: int = CLASSES) -> list[tuple[int, int]]:
    """Classes ``(low, high)`` of the non-zero ``values``: quantiles, ties kept in one class.

    Each class holds about as many regions as the others, so a map of very unequal counts
    still shows ``k`` colours; classes are ranges of the values that occur.

    >>> quantile_classes([3, 3, 3])
    [(3, 3)]
    >>> quantile_classes([34, 40, 52, 60, 75, 90, 120, 300, 1320], 3)
    [(34, 52), (60, 90), (120, 1320)]
    """
    vals = sorted(v for v in values if v > 0)
    if not vals:
        return []
    distinct = sorted(set(vals))
    if len(distinct) <= k:
        return [(v, v) for v in distinct]
    out: list[tuple[int, int]] = []
    low = vals[0]
    for i in range(1, k + 1):
        high = vals[min(len(vals) - 1, math.ceil(i * len(vals) / k) - 1)]
        if high < low:
            continue
        out.append((low, high))
        above = [v for v in distinct if v > high]
        if not above:
            break
        low = above[0]
    return out


def _keys(unit: dict[str, object]) -> list[str]:
    """Where a unit counts: its prefecture and county (or the prefecture itself), or its group."""
    if unit["kind"] == "map":
        top, county = str(unit["top"]), str(unit.get("county") or "")
        return [top, county] if county else [top, f"own:{top}"]
    return [str(unit["group"])]


class Indexed:
    """The page's facet values by position, and how categories, editions and tracks nest."""

    def __init__(self, data: MapData) -> None:
        f = data.facets
        self.index = {k: {v: i for i, (v, _) in enumerate(f.get(k, []))} for k in
                      ("edition", "track", "category", "domain", "unitType")}
        self.n = {k: len(v) for k, v in self.index.items()}
        self.columns = 1 + self.n["domain"] + self.n["unitType"]
        self.cat_edition = [-1] * self.n["category"]
        self.edition_track = [-1] * self.n["edition"]
        for c in data.cases:
            e = self.index["edition"][str(c["edition"])]
            self.cat_edition[self.index["category"][str(c["category"])]] = e
            if c["track"]:
                self.edition_track[e] = self.index["track"][str(c["track"])]

    def scopes(self, case: dict[str, object]) -> list[int]:
        """The unit-count scopes a case is in: all, its track, its edition, its category."""
        n = self.n
        cat = self.index["category"][str(case["category"])]
        ed = self.index["edition"][str(case["edition"])]
        out = [0, 1 + n["track"] + ed, 1 + n["track"] + n["edition"] + cat]
        if case["track"]:
            out.append(1 + self.index["track"][str(case["track"])])
        return out

    def domain_columns(self, case: dict[str, object]) -> list[int]:
        return [1 + self.index["domain"][d] for d in cast("list[str]", case["domains"])]

    def type_column(self, unit: dict[str, object]) -> int | None:
        t = self.index["unitType"].get(str(unit["type"]))
        return None if t is None else 1 + self.n["domain"] + t

    @property
    def n_scopes(self) -> int:
        return 1 + self.n["track"] + self.n["edition"] + self.n["category"]


def _case_kinds(data: MapData, ix: Indexed) -> list[tuple[int, tuple[int, ...]]]:
    """Each case's category and domains, by index (what the filters ask of a case)."""
    cat, dom = ix.index["category"], ix.index["domain"]
    return [(cat[str(c["category"])], tuple(dom[d] for d in cast("list[str]", c["domains"]))) for c in data.cases]


def _unit_cases(data: MapData) -> dict[int, list[int]]:
    by_unit: dict[int, list[int]] = defaultdict(list)
    for ci, case in enumerate(data.cases):
        for ui in cast("list[int]", case["units"]):
            by_unit[ui].append(ci)
    return by_unit


def region_counts(data: MapData, ix: Indexed) -> dict[str, list[list[int]]]:  # noqa: C901 (one pass over cases, one over units, each key and column of the page)
    """Per key (region code, ``own:CODE``, side group, :data:`ALL`, :data:`OUTSIDE`): the
    case counts (category × column) and unit counts (scope × column), run-length coded."""
    ncol, nd = ix.columns, ix.n["domain"]
    cases: dict[str, list[int]] = defaultdict(lambda: [0] * (ix.n["category"] * ncol))
    units: dict[str, list[int]] = defaultdict(lambda: [0] * (ix.n_scopes * ncol))
    kinds = _case_kinds(data, ix)
    unit_type = [ix.index["unitType"].get(str(u["type"])) for u in data.units]
    unit_keys = [_keys(u) for u in data.units]
    on_map = [u["kind"] == "map" for u in data.units]
    for ci, case in enumerate(data.cases):
        cat, doms = kinds[ci]
        row = cat * ncol
        cols: dict[str, set[int]] = defaultdict(set)
        on: set[int] = set()
        off: set[int] = set()
        for ui in cast("list[int]", case["units"]):
            t = unit_type[ui]
            types = {0} if t is None else {0, 1 + nd + t}
            (on if on_map[ui] else off).update(types)
            for key in unit_keys[ui]:
                cols[key].update(types)
            cols[ALL].update(types)
        outside = ({0} if off and 0 not in on else set()) | {t for t in off - on if t}
        if outside:  # no applicant on the map (whatever the domain), or none of that type
            cols[OUTSIDE] = outside
        dcols = [row + 1 + d for d in doms]
        for key, present in cols.items():
            counts = cases[key]
            for c in present:
                counts[row + c] += 1
            if 0 in present:
                for c in dcols:
                    counts[c] += 1
    scope_of: dict[int, list[int]] = {}  # category -> its scopes (all, track, edition, category)
    for one in data.cases:
        index = ix.index["category"][str(one["category"])]
        if index not in scope_of:
            scope_of[index] = ix.scopes(one)
    pairs_of: dict[tuple[int, tuple[int, ...]], set[int]] = {}
    by_unit = _unit_cases(data)
    for ui in range(len(data.units)):
        t = unit_type[ui]
        pairs: set[int] = set()
        for kind in {kinds[ci] for ci in by_unit.get(ui, ())}:
            if kind not in pairs_of:
                columns = [0, *(1 + d for d in kind[1])]
                pairs_of[kind] = {s * ncol + c for s in scope_of[kind[0]] for c in columns}
            pairs |= pairs_of[kind]
            if t is not None:
                pairs.update(s * ncol + 1 + nd + t for s in scope_of[kind[0]])
        for key in [*unit_keys[ui], ALL]:
            counts = units[key]
            for p in pairs:
                counts[p] += 1
    return {key: [zero_runs(cases.get(key, [])), zero_runs(units.get(key, []))]
            for key in sorted(set(cases) | set(units))}


def region_lists(data: MapData, ix: Indexed) -> dict[str, dict[str, list[list[Any]]]]:
    """Per key, its cases ``[title, link, category, [domains], [unit types in the key]]`` and
    units ``[name, link, unit type, region, [[category, [domains]] per kind of case]]``, in IRI order.

    A case row is listed under unit type ``t`` when ``t`` is in its list; ``-1`` lists it when
    no type is chosen (in :data:`OUTSIDE`: when none of its applicants is on the map).
    """
    kinds = _case_kinds(data, ix)
    unit_type = [ix.index["unitType"].get(str(u["type"]), -1) for u in data.units]
    unit_keys = [_keys(u) for u in data.units]
    out: dict[str, dict[str, list[list[Any]]]] = defaultdict(lambda: {"cases": [], "units": []})
    for ci, case in enumerate(data.cases):
        cat, doms = kinds[ci]
        types: dict[str, set[int]] = defaultdict(lambda: {-1})  # -1: listed when no type is chosen
        on: set[int] = set()
        off: set[int] = set()
        for ui in cast("list[int]", case["units"]):
            t = unit_type[ui]
            (on if data.units[ui]["kind"] == "map" else off).add(t)
            for key in unit_keys[ui]:
                types[key].add(t)
        outside = ({-1} if off and not on else set()) | {t for t in off - on if t >= 0}
        if outside:
            types[OUTSIDE] = outside
        link = case.get("href") or case["id"]
        for key, ts in types.items():
            out[key]["cases"].append([case["title"], link, cat, list(doms), sorted(ts)])
    if OUTSIDE in out:  # the cases outside with no type chosen first: a capped list shows them
        out[OUTSIDE]["cases"].sort(key=lambda row: -1 not in row[4])
    by_unit = _unit_cases(data)
    for ui, unit in enumerate(data.units):
        mine = sorted({kinds[ci] for ci in by_unit.get(ui, ())})
        row = [unit["name"], unit.get("href") or unit["id"], unit_type[ui], unit["region"],
               [[c, list(d)] for c, d in mine]]
        for key in unit_keys[ui]:
            out[key]["units"].append(row)
    return dict(out)
