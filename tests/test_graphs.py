"""Views as networkx graphs, built from the RDF dump.

Expected figures are hand counts of data/cases.csv and data/units.csv (2022 list), and
cross-checks against the record tables read with the csv module: the views come from the
RDF dump through SPARQL, so the two paths are independent.
"""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from chuzhi_graph.build import build
from chuzhi_graph.errors import DataError, UsageError
from chuzhi_graph.views.graphs import VIEW_BUILDERS, build_view, load_store

BASE = "https://w3id.org/chuzhi/"
UNIT = BASE + "unit/"
CPSS_CASE_UNITS = {UNIT + "hust-cse-cpss-team", UNIT + "hubei-chutian-smart-transport",
                   UNIT + "hubei-chutian-expressway-digital"}


def rows(root: Path, name: str) -> list[dict[str, str]]:
    with open(root / "data" / f"{name}.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def store(built):
    return load_store(built.files["nt"])


@pytest.fixture(scope="module")
def unit_ids(root) -> dict[str, str]:
    """Unit name -> unit IRI, from units.csv."""
    out = {}
    for r in rows(root, "units"):
        out[r["name_zh"]] = UNIT + r["id"]
    return out


def test_institutions_hand_counts(store) -> None:
    g = build_view(store, "institutions")
    # 29 applicant units + 6 parents (国家电网, 中国电信, 华中科技大学网络空间安全学院,
    # 华中科技大学, 中国石化销售, 华北电力大学); 5 co-applicant ties + 8 parent links
    assert g.number_of_nodes() == 38  # 35 of 2022 and the series' 3 winners (docs/series.md)
    kinds = Counter(kind for *_, kind in g.edges(data="kind"))
    assert kinds == {"co-applicant": 5, "parent": 8}
    assert g.nodes[UNIT + "state-grid-hubei"]["label"] == "国网湖北省电力有限公司"
    assert g.nodes[UNIT + "state-grid-hubei"]["cases"] == 2
    assert g.nodes[UNIT + "state-grid-hubei"]["aliases"] == ["国网湖北电力"]
    assert g.nodes[UNIT + "state-grid-hubei"]["unit_type"] == "国有企业"
    assert g.edges[UNIT + "hust-cse-cpss-team", UNIT + "hust-cse"]["kind"] == "parent"
    assert g.edges[UNIT + "hust-cse", UNIT + "hust"]["kind"] == "parent"


def test_three_unit_case_is_a_triangle(store) -> None:
    g = build_view(store, "institutions", parents=False)
    sub = g.subgraph(CPSS_CASE_UNITS)
    assert sub.number_of_edges() == 3
    assert all(d["weight"] == 1 and d["kind"] == "co-applicant" for *_, d in sub.edges(data=True))
    assert nx.triangles(g, UNIT + "hust-cse-cpss-team") == 1


def test_co_applicant_edges_match_the_case_table(store, root, unit_ids) -> None:
    expected: Counter[frozenset[str]] = Counter()
    applicants = set()
    for r in rows(root, "cases"):
        names = r["applicants"].split("|")
        applicants.update(unit_ids[n] for n in names)
        for a, b in itertools.combinations(names, 2):
            expected[frozenset((unit_ids[a], unit_ids[b]))] += 1
    g = build_view(store, "institutions", parents=False)
    assert set(g) == applicants
    assert {frozenset((u, v)): w for u, v, w in g.edges(data="weight")} == dict(expected)


def test_weights_count_shared_cases(data_copy: Path, tmp_path: Path) -> None:
    cases = (data_copy / "cases.csv").read_text(encoding="utf-8")
    # 孝南区's case gets the two units of case gov-07 as applicants: that pair now shares two
    old = ",孝感市孝南区司法局,"
    assert old in cases
    cases = cases.replace(old, ",湖北省公安交通管理局|湖北交投高速公路运营集团有限公司,")
    (data_copy / "cases.csv").write_text(cases, encoding="utf-8")
    result = build(data_copy, tmp_path / "out", validate="compiled")
    g = build_view(result.out_dir, "institutions", parents=False)
    edge = g.edges[UNIT + "hubei-traffic-police", UNIT + "hubei-jiaotou-expressway-operation"]
    assert edge["weight"] == 2
    assert g.nodes[UNIT + "hubei-traffic-police"]["cases"] == 2


def test_cases_view_is_tripartite(store, root) -> None:
    g = build_view(store, "cases")
    table = rows(root, "cases")
    kinds = Counter(kind for _, kind in g.nodes(data="kind"))
    used_domains = {d for r in table for d in r["domains"].split("|")}
    assert kinds["case"] == len(table) == 30  # 27 of 2022 and the series' 3 (docs/series.md)
    assert kinds["unit"] == len({a for r in table for a in r["applicants"].split("|")}) == 32
    assert kinds["domain"] == len(used_domains)
    n_applicants = sum(len(r["applicants"].split("|")) for r in table)
    n_domains = sum(len(r["domains"].split("|")) for r in table)
    assert g.number_of_edges() == n_applicants + n_domains
    for u, v in g.edges():
        assert {g.nodes[u]["kind"], g.nodes[v]["kind"]} in ({"unit", "case"}, {"case", "domain"})
    case = g.nodes[BASE + "case/bigdata-2022-ent-06"]
    assert case["applicants"][0].startswith("华中科技大学网络空间安全学院")  # lead first, list order
    assert case["category"] == "十佳案例(企业及高校组)"


def test_domains_view_counts_co_occurrence(store, root) -> None:
    g = build_view(store, "domains")
    labels = {d: label for d, label in g.nodes(data="label")}
    by_label = {label: d for d, label in labels.items()}
    expected: Counter[frozenset[str]] = Counter()
    for r in rows(root, "cases"):
        for a, b in itertools.combinations(sorted(set(r["domains"].split("|"))), 2):
            expected[frozenset((by_label[a], by_label[b]))] += 1
    assert {frozenset((u, v)): w for u, v, w in g.edges(data="weight")} == dict(expected)
    assert g.nodes[by_label["平安法治"]]["cases"] == 5  # 4 of 2022, social-governance-2022-community-01


def test_full_view_has_every_resource(store, root) -> None:
    g = build_view(store, "full")
    assert isinstance(g, nx.MultiDiGraph)
    kinds = Counter(kind for _, kind in g.nodes(data="kind"))
    assert kinds["case"] == len(rows(root, "cases"))
    assert kinds["unit"] == len(rows(root, "units"))
    assert kinds["region"] == len(rows(root, "regions"))
    assert kinds["edition"] == 5 and kinds["category"] == 14  # the series (docs/series.md)
    case = BASE + "case/bigdata-2022-ent-06"
    assert g.has_edge(case, UNIT + "hust-cse-cpss-team", key="chz:leadApplicant")
    assert g.has_edge(case, UNIT + "hust-cse-cpss-team", key="chz:applicant")
    assert g.has_edge(case, BASE + "edition/bigdata-2022", key="chz:edition")
    assert g.edges[case, BASE + "edition/bigdata-2022", "chz:edition"]["label"] == "所属届次"


@pytest.mark.parametrize(("filters", "cases"), [
    ({"edition": "2022"}, 29),  # bigdata-2022 and social-governance-2022 (docs/series.md)
    ({"edition": "bigdata-2022"}, 27),
    ({"category": "gov"}, 10),
    ({"category": "十佳案例(企业及高校组)"}, 10),
    ({"category": ["excellent", "reference"]}, 7),
    ({"domain": "平安法治"}, 5),
    # top concept: 平安法治 and 社区治理 are narrower (gov-01, gov-06, gov-07, ent-02, excellent-04,
    # and the series' 3 winners)
    ({"domain": "social-governance"}, 8),
    ({"domain": "城市交通", "category": "ent"}, 2),
    ({"unit_type": "高等院校及科研团队"}, 3),
])
def test_filters(store, filters, cases) -> None:
    g = build_view(store, "cases", **filters)
    assert sum(1 for _, k in g.nodes(data="kind") if k == "case") == cases
    assert g.graph["filters"]


def test_unit_type_filter_keeps_units_of_the_type(store, root) -> None:
    g = build_view(store, "institutions", unit_type="state-owned-enterprise", parents=False)
    applicants = {a for r in rows(root, "cases") for a in r["applicants"].split("|")}
    soe = {r["name_zh"] for r in rows(root, "units") if r["type"] == "国有企业" and r["name_zh"] in applicants}
    assert {label for _, label in g.nodes(data="label")} == soe
    # the CPSS case keeps its two state-owned co-applicants, not the university team
    assert g.has_edge(UNIT + "hubei-chutian-smart-transport", UNIT + "hubei-chutian-expressway-digital")


def test_unknown_filter_value_names_the_known_ones(store) -> None:
    with pytest.raises(UsageError) as err:
        build_view(store, "institutions", domain="火星治理")
    assert err.value.field == "--domain"
    assert "unknown domain '火星治理'" in str(err.value)
    assert "平安法治" in str(err.value)


def test_unknown_view(store) -> None:
    with pytest.raises(UsageError, match=r"unknown view 'people' \(known: institutions, cases, domains, full\)"):
        build_view(store, "people")


def test_missing_dump(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        build_view(tmp_path, "cases")
    assert str(err.value) == (f"{tmp_path}: no built graph here: run `chuzhi-graph build` first (looked for "
                              "chuzhi.nt, chuzhi.ttl, chuzhi.trig or chuzhi.jsonld in the folder and in its dataset/)")


@pytest.mark.parametrize("view", list(VIEW_BUILDERS))
def test_turtle_and_ntriples_give_the_same_view(built, view) -> None:
    a = build_view(built.files["nt"], view)
    b = build_view(built.files["ttl"], view)
    assert nx.utils.graphs_equal(a, b)
