"""Network figures of the views, checked against hand counts of the 2022 data."""

from __future__ import annotations

import csv
import io
import json
import re

import networkx as nx
import pytest
from click.testing import CliRunner

from chuzhi_graph.cli import cli
from chuzhi_graph.errors import UsageError
from chuzhi_graph.views.graphs import build_view
from chuzhi_graph.views.stats import compute_stats, format_stats

UNIT = "https://w3id.org/chuzhi/unit/"
TRIANGLE = ("hust-cse-cpss-team", "hubei-chutian-smart-transport", "hubei-chutian-expressway-digital")


@pytest.fixture(scope="module")
def institutions(built):
    return build_view(built.out_dir, "institutions")


def by_id(stats):
    return {r.id: r for r in stats.nodes}


def test_co_applicants_only(built) -> None:
    s = compute_stats(build_view(built.out_dir, "institutions", parents=False))
    # 29 applicant units of 2022 and 3 of the series (isolated: docs/series.md); ties: one
    # triangle (case ent-06) and two pairs (gov-07, ent-02)
    assert {k: s.summary[k] for k in ("nodes", "edges", "components", "largest_component",
                                      "isolated_nodes", "communities")} == {
        "nodes": 32, "edges": 5, "components": 28, "largest_component": 3, "isolated_nodes": 25,
        "communities": 28}
    rows = by_id(s)
    for unit in TRIANGLE:
        assert rows[UNIT + unit].degree == 2
        assert rows[UNIT + unit].weighted_degree == 2
        assert rows[UNIT + unit].betweenness == 0  # a triangle has no broker
    assert len({rows[UNIT + u].community for u in TRIANGLE}) == 1
    assert [r.id for r in s.top["degree"][:3]] == sorted(
        (UNIT + u for u in TRIANGLE), key=lambda i: rows[i].label)


def test_with_parent_organisations(institutions) -> None:
    s = compute_stats(institutions)
    # components: HUST (CPSS team, 2 楚天 firms, 网安学院, 华中科大, 计算机学院: 6),
    # 中国电信 (鹤峰 branch, 鹤峰政法委, 中国电信, 武汉 branch: 4), four pairs, 17 isolated units
    # of 2022 and the series' 3 winners (docs/series.md), isolated too
    assert (s.summary["nodes"], s.summary["edges"]) == (38, 13)
    assert (s.summary["components"], s.summary["largest_component"]) == (26, 6)
    assert s.summary["isolated_nodes"] == 20
    rows = by_id(s)
    # betweenness, normalised by (n-1)(n-2)/2 = 666 pairs (38 nodes with the series): 华中科大 lies on the paths from
    # 计算机学院 to the 4 others of its component; the CPSS team and 网安学院 on 2 x 3 paths
    assert rows[UNIT + "hust"].betweenness == round(4 / 666, 6)
    assert rows[UNIT + "hust-cse-cpss-team"].betweenness == round(6 / 666, 6)
    assert rows[UNIT + "hust-cse"].betweenness == round(6 / 666, 6)
    # tie at 6/666 broken by label: the shorter name sorts first
    assert [r.label for r in s.top["betweenness"][:2]] == [
        "华中科技大学网络空间安全学院", "华中科技大学网络空间安全学院人机物系统与安全(CPSS)研究团队"]
    assert rows[UNIT + "china-telecom"].degree == 2


def test_weighted_degree_sums_weights() -> None:
    g = nx.Graph()
    g.add_edge("a", "b", weight=3)
    g.add_edge("b", "c", weight=1)
    g.add_node("d")
    for v in g:
        g.nodes[v]["label"] = v.upper()
    s = compute_stats(g, top=2)
    assert by_id(s)["b"].weighted_degree == 4 and by_id(s)["b"].degree == 2
    assert [r.id for r in s.top["weighted_degree"]] == ["b", "a"]
    assert s.summary["components"] == 2 and s.summary["isolated_nodes"] == 1


def test_multigraph_edges_are_merged(built) -> None:
    full = build_view(built.out_dir, "full")
    s = compute_stats(full)
    assert s.summary["edges"] == full.number_of_edges()
    case = by_id(s)["https://w3id.org/chuzhi/case/bigdata-2022-ent-06"]
    # one neighbour per linked resource, however many predicates link them
    assert case.degree == len(set(full.successors(case.id)) | set(full.predecessors(case.id)))


def test_communities_are_stable(institutions) -> None:
    a, b = compute_stats(institutions), compute_stats(institutions)
    assert [r.community for r in a.nodes] == [r.community for r in b.nodes]


def test_formats(institutions) -> None:
    s = compute_stats(institutions, top=3)
    doc = json.loads(format_stats(s, "json"))
    assert doc["summary"]["components"] == 26
    assert len(doc["top"]["degree"]) == 3
    assert "国网湖北省电力有限公司" in {n["label"] for n in doc["nodes"]}
    table = list(csv.reader(io.StringIO(format_stats(s, "csv"))))
    assert table[0] == ["id", "label", "kind", "degree", "weighted_degree", "betweenness", "community"]
    assert len(table) == 1 + 38
    text = format_stats(s, "table")
    assert "components: 26\n" in text
    assert "top 3 by betweenness (介数中心性):" in text
    with pytest.raises(UsageError, match="unknown stats format 'xml'"):
        format_stats(s, "xml")


def test_cli_stats(built) -> None:
    result = CliRunner().invoke(cli, ["stats", "institutions", "--graph", str(built.out_dir),
                                      "--no-parents", "--format", "json", "--top", "2"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["summary"]["edges"] == 5
    # stderr is not a terminal here: a line per phase with its time, beside the command's own line
    lines = result.stderr.splitlines()
    assert lines[0] == "institutions: 32 nodes, 5 edges"
    assert [re.sub(r"\d+\.\d\d s", "T s", line) for line in lines[1:]] == ["institutions view: T s", "measures: T s"]


def test_cli_stats_filter_and_bad_value(built) -> None:
    ok = CliRunner().invoke(cli, ["stats", "domains", "--graph", str(built.out_dir), "--category", "gov",
                                  "--format", "csv"])
    assert ok.exit_code == 0, ok.output
    assert "domains: " in ok.stderr
    bad = CliRunner().invoke(cli, ["stats", "cases", "--graph", str(built.out_dir), "--unit-type", "外星机构"])
    assert bad.exit_code == 2
    assert bad.stderr.startswith("Error: field --unit-type: unknown unit type '外星机构' (known: ")


def test_large_views_use_seeded_sampled_betweenness() -> None:
    import networkx as nx

    from chuzhi_graph.views.stats import EXACT_BETWEENNESS_MAX, compute_stats

    g = nx.path_graph(EXACT_BETWEENNESS_MAX + 101)
    first, second = compute_stats(g, top=3), compute_stats(g, top=3)
    assert first.summary["betweenness_method"] == "sampled: 200 pivots, seed 0 (igraph)"
    assert [r.betweenness for r in first.nodes] == [r.betweenness for r in second.nodes]
    ends = {r.id: r.betweenness for r in first.nodes}
    assert ends["0"] == 0.0 and ends[str(len(g) // 2)] > 0.3
    small = compute_stats(nx.path_graph(5))
    assert small.summary["betweenness_method"] == "exact"


def test_igraph_gives_networkx_figures(monkeypatch) -> None:
    """Above IGRAPH_FROM nodes igraph computes the sampled betweenness: the same numbers."""
    from chuzhi_graph.views import stats as stats_mod

    g = nx.barabasi_albert_graph(400, 1, seed=2)
    g.add_edges_from([(0, 5), (7, 9), (11, 40)])
    g.add_nodes_from([1000, 1001])  # isolates
    monkeypatch.setattr(stats_mod, "BETWEENNESS_SAMPLE", 30)
    ours = stats_mod.sampled_betweenness(g)
    theirs = nx.betweenness_centrality(g, k=30, normalized=True, seed=stats_mod.BETWEENNESS_SEED)
    assert set(ours) == set(theirs)
    assert all(abs(ours[v] - theirs[v]) < 1e-12 for v in g)
    exact = stats_mod.exact_betweenness(g)
    assert all(abs(exact[v] - b) < 1e-12 for v, b in nx.betweenness_centrality(g, normalized=True).items())
    # communities: another implementation of the same method, a partition as good
    monkeypatch.setattr(stats_mod, "IGRAPH_FROM", 100)
    fast = stats_mod.find_communities(g)
    assert set().union(*fast) == set(g)
    slow = nx.community.louvain_communities(g, seed=stats_mod.COMMUNITY_SEED)
    assert nx.community.modularity(g, fast) == pytest.approx(nx.community.modularity(g, slow), abs=0.02)


def test_igraph_path_gives_the_networkx_figures(monkeypatch) -> None:
    """Above IGRAPH_FROM nodes degree, weighted degree, components, betweenness and modularity
    come from igraph: the same figures as networkx gives for the same partition."""
    from chuzhi_graph.views import stats as stats_mod

    g = nx.barabasi_albert_graph(300, 1, seed=3)
    for i, (u, v) in enumerate(sorted(g.edges())):
        g[u][v]["weight"] = 1 + i % 4
    g.add_edges_from([(0, 5, {"weight": 2}), (7, 9, {"weight": 1}), (500, 501, {"weight": 3})])
    g.add_nodes_from([1000, 1001])  # isolates
    partition = sorted(nx.community.louvain_communities(g, weight="weight", seed=1),
                       key=lambda c: (-len(c), min(map(str, c))))
    monkeypatch.setattr(stats_mod, "find_communities", lambda _g: partition)
    monkeypatch.setattr(stats_mod, "IGRAPH_FROM", 10**9)
    slow = stats_mod.compute_stats(g, top=5)
    monkeypatch.setattr(stats_mod, "IGRAPH_FROM", 100)
    fast = stats_mod.compute_stats(g, top=5)
    assert fast.summary["betweenness_method"] == "exact (igraph)" and slow.summary["betweenness_method"] == "exact"
    assert {k: v for k, v in fast.summary.items() if k != "betweenness_method"} == \
        {k: v for k, v in slow.summary.items() if k != "betweenness_method"}
    assert (fast.summary["components"], fast.summary["isolated_nodes"]) == (nx.number_connected_components(g), 2)
    assert [(r.id, r.degree, r.weighted_degree, r.community) for r in fast.nodes] == \
        [(r.id, r.degree, r.weighted_degree, r.community) for r in slow.nodes]
    assert all(abs(a.betweenness - b.betweenness) <= 1e-6 for a, b in zip(fast.nodes, slow.nodes, strict=True))


def test_igraph_is_imported_without_matplotlib() -> None:
    """igraph's own import pulls in matplotlib.pyplot (seconds); ours does not, in a fresh process."""
    import subprocess
    import sys

    code = ("import sys; from chuzhi_graph.views.stats import import_igraph; ig = import_igraph(); "
            "g = ig.Graph(n=3, edges=[(0, 1)]); print(len(g.connected_components()), "
            "'matplotlib.pyplot' in sys.modules, 'matplotlib' in sys.modules); import matplotlib")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "False", "False"]
