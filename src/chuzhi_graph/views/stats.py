"""Network measures of a view: size, components, degree, betweenness, communities.

All measures are networkx's, on the view as an undirected simple graph (parallel edges of
the ``full`` view merged, their weights summed):

- ``degree``: number of neighbours; ``weighted_degree``: sum of edge weights (shared cases
  on co-applicant and co-occurrence edges, 1 on every other edge);
- ``betweenness``: normalised betweenness centrality on hop counts (weights are tie
  strengths, not distances); exact up to :data:`EXACT_BETWEENNESS_MAX` nodes, above that
  estimated from :data:`BETWEENNESS_SAMPLE` seeded pivot nodes (exact betweenness is cubic
  in practice: 120 s on a 6,000-node view here, about an hour on 33,000 nodes); the
  summary says which (``betweenness_method``);
- ``community``: Louvain communities (weight-aware, seeded: same data, same communities),
  numbered from 1 by decreasing size.

>>> from chuzhi_graph.views.graphs import build_view
>>> s = compute_stats(build_view("out", "institutions"))
>>> s.summary["components"]
26
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from chuzhi_graph import formats
from chuzhi_graph.core.spreadsheet import escape_formula
from chuzhi_graph.errors import UsageError
from chuzhi_graph.views.graphs import paused_gc

MEASURES = ("degree", "weighted_degree", "betweenness")
EXACT_BETWEENNESS_MAX = 2000
BETWEENNESS_SAMPLE = 200
BETWEENNESS_SEED = 0
COMMUNITY_SEED = 1
#: From this many nodes on, betweenness and communities use igraph (C) instead of networkx:
#: on the 33,495-node view of 100,000 cases networkx takes 257 s (sampled betweenness) and
#: 18 s (Louvain), igraph 2.5 s and under 1 s (docs/stats.md). Betweenness is the same
#: number either way; communities come from another implementation of the same method.
IGRAPH_FROM = 1000


@dataclass
class NodeStats:
    """The measures of one node."""

    id: str
    label: str
    kind: str
    degree: int
    weighted_degree: float
    betweenness: float
    community: int


@dataclass
class GraphStats:
    """Figures of one view: a summary, per-node measures and the top N per measure."""

    view: str
    summary: dict[str, object]
    nodes: list[NodeStats]
    top: dict[str, list[NodeStats]] = field(default_factory=dict)


def _simple(graph: nx.Graph) -> nx.Graph:
    if not graph.is_directed() and not graph.is_multigraph():
        return graph
    simple = nx.Graph()
    simple.add_nodes_from(graph.nodes(data=True))
    for u, v, attrs in graph.edges(data=True):
        if u == v:
            continue
        weight = float(attrs.get("weight", 1) or 1)
        if simple.has_edge(u, v):
            simple[u][v]["weight"] += weight
        else:
            simple.add_edge(u, v, weight=weight)
    return simple


def _number(value: float) -> float | int:
    return int(value) if value == int(value) else round(value, 6)


def import_igraph() -> Any:
    """The ``igraph`` module, imported without its matplotlib drawing support.

    ``import igraph`` imports ``matplotlib.pyplot`` when matplotlib is installed (for its
    plotting, which we never use): 1.7-2.8 s of a 33,495-node ``stats`` run, against 0.1-0.2 s
    for igraph itself. Hiding matplotlib during that one import makes igraph fall back to its
    stand-in; matplotlib stays importable as before for everything else.
    """
    if "igraph" in sys.modules:
        return sys.modules["igraph"]
    hide = "matplotlib" not in sys.modules
    if hide:
        sys.modules["matplotlib"] = None  # type: ignore[assignment]
    try:
        import igraph
    finally:
        if hide:
            del sys.modules["matplotlib"]
    return igraph


def _igraph(g: nx.Graph) -> tuple[Any, list]:
    """``g`` as an igraph graph (with ``weight``) and its node list; converted once per graph."""
    cached = g.graph.get("_igraph")
    if cached is not None and cached[0] == (g.number_of_nodes(), g.number_of_edges()):
        return cached[1], cached[2]
    igraph = import_igraph()

    nodes = list(g)
    index = {v: i for i, v in enumerate(nodes)}
    ig = igraph.Graph(n=len(nodes), edges=[(index[u], index[v]) for u, v in g.edges()])
    ig.es["weight"] = [float(d.get("weight", 1) or 1) for _, _, d in g.edges(data=True)]
    return ig, nodes


def _with_igraph(g: nx.Graph) -> None:
    ig, nodes = _igraph(g)
    g.graph["_igraph"] = ((g.number_of_nodes(), g.number_of_edges()), ig, nodes)


def find_communities(g: nx.Graph) -> list[set]:
    """Louvain communities of the simple graph ``g`` (seeded), largest first, ties by name.

    networkx's Louvain up to :data:`IGRAPH_FROM` nodes, igraph's multilevel (the same
    method, another implementation, so another but equally good partition) beyond.
    """
    if not g.number_of_edges():
        return []
    if g.number_of_nodes() >= IGRAPH_FROM:
        import random

        igraph = import_igraph()
        ig, nodes = _igraph(g)
        random.seed(COMMUNITY_SEED)
        igraph.set_random_number_generator(random)
        parts = ig.community_multilevel(weights="weight")
        found = [{nodes[i] for i in part} for part in parts]
    else:
        found = nx.community.louvain_communities(g, weight="weight", seed=COMMUNITY_SEED)
    return sorted(found, key=lambda c: (-len(c), min(str(g.nodes[v].get("label", v)) for v in c)))


def _number_communities(g: nx.Graph, communities: list[set]) -> dict[object, int]:
    community_of = {v: i + 1 for i, c in enumerate(communities) for v in c}
    next_id = len(communities) + 1
    for v in sorted(g, key=lambda v: str(g.nodes[v].get("label", v))):  # edgeless graphs: singletons
        if v not in community_of:
            community_of[v] = next_id
            next_id += 1
    return community_of


def community_map(graph: nx.Graph) -> dict[object, int]:
    """Each node's community number (1 = the largest), as ``stats`` reports it.

    >>> community_map(nx.Graph([("a", "b"), ("c", "d"), ("d", "e")]))["e"]
    1
    """
    g = _simple(graph)
    return _number_communities(g, find_communities(g))


def exact_betweenness(g: nx.Graph) -> dict[object, float]:
    """networkx's normalised betweenness on hop counts, computed by igraph."""
    ig, nodes = _igraph(g)
    n = len(nodes)
    if n < 3:
        return dict.fromkeys(nodes, 0.0)
    raw = ig.betweenness(directed=False)
    return {v: 2 * raw[i] / ((n - 1) * (n - 2)) for i, v in enumerate(nodes)}


def sampled_betweenness(g: nx.Graph) -> dict[object, float]:
    """networkx's sampled betweenness (same pivots, same scaling), computed by igraph.

    The pivots are the ones ``nx.betweenness_centrality(k=..., seed=...)`` draws; igraph's
    subset betweenness from them (which counts each undirected path once, networkx twice)
    is rescaled as networkx 3.6 does, pivots apart from the others, so the figures agree to
    rounding (``tests/test_stats.py``).
    """
    import random

    ig, nodes = _igraph(g)
    n = len(nodes)
    index = {v: i for i, v in enumerate(nodes)}
    pivots = random.Random(BETWEENNESS_SEED).sample(nodes, BETWEENNESS_SAMPLE)
    raw = ig.betweenness(directed=False, sources=[index[p] for p in pivots])
    k = BETWEENNESS_SAMPLE
    chosen = set(pivots)
    return {v: 2 * raw[i] / ((k - 1 if v in chosen else k) * (n - 2)) for i, v in enumerate(nodes)}


def compute_stats(graph: nx.Graph, top: int = 10) -> GraphStats:
    """The figures of ``graph`` with the ``top`` nodes per measure (ties broken by label).

    >>> g = nx.Graph([("a", "b", {"weight": 2}), ("b", "c", {"weight": 1})])
    >>> s = compute_stats(g, top=1)
    >>> s.summary["edges"], s.top["weighted_degree"][0].id, s.top["betweenness"][0].betweenness
    (2, 'b', 1.0)
    """
    if top < 1:
        raise UsageError(f"--top must be at least 1, not {top}", field="--top")
    with paused_gc():
        return _compute_stats(graph, top)


def _compute_stats(graph: nx.Graph, top: int) -> GraphStats:
    g = _simple(graph)
    n = g.number_of_nodes()
    if n >= IGRAPH_FROM:
        _with_igraph(g)
    if n >= IGRAPH_FROM and n > EXACT_BETWEENNESS_MAX:
        betweenness = sampled_betweenness(g)
        method = f"sampled: {BETWEENNESS_SAMPLE} pivots, seed {BETWEENNESS_SEED} (igraph)"
    elif n >= IGRAPH_FROM:
        betweenness = exact_betweenness(g)
        method = "exact (igraph)"
    elif n > EXACT_BETWEENNESS_MAX:
        betweenness = nx.betweenness_centrality(g, k=BETWEENNESS_SAMPLE, normalized=True, seed=BETWEENNESS_SEED)
        method = f"sampled: {BETWEENNESS_SAMPLE} pivots, seed {BETWEENNESS_SEED}"
    else:
        betweenness = nx.betweenness_centrality(g, normalized=True) if n else {}
        method = "exact"
    communities = find_communities(g)
    community_of = _number_communities(g, communities)
    if n >= IGRAPH_FROM:
        # the same counts and sums as networkx's (weights are whole numbers of cases), in C
        ig, nodes = _igraph(g)
        degree = dict(zip(nodes, ig.degree(), strict=True))
        weighted = dict(zip(nodes, ig.strength(weights="weight"), strict=True))
        sizes = ig.connected_components().sizes()
        index = {v: i for i, v in enumerate(nodes)}
        membership = [0] * n
        for k, members in enumerate(communities):
            for v in members:
                membership[index[v]] = k
        modularity = ig.modularity(membership, weights="weight") if communities else 0.0
    else:
        degree = dict(g.degree())
        weighted = dict(g.degree(weight="weight"))
        sizes = [len(c) for c in nx.connected_components(g)]
        modularity = nx.community.modularity(g, communities, weight="weight") if communities else 0.0
    g.graph.pop("_igraph", None)
    rows = [NodeStats(str(v), str(attrs.get("label", v)), str(attrs.get("kind", "")),
                      degree[v], _number(weighted[v]), round(betweenness.get(v, 0.0), 6),
                      community_of[v]) for v, attrs in g.nodes(data=True)]
    rows.sort(key=lambda r: (r.label, r.id))
    summary: dict[str, object] = {
        "view": graph.graph.get("view", ""),
        "filters": graph.graph.get("filters", ""),
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "components": len(sizes),
        "largest_component": max(sizes, default=0),
        "isolated_nodes": sum(1 for v in g if degree[v] == 0),
        "density": round(nx.density(g), 6) if g.number_of_nodes() > 1 else 0.0,
        "communities": len(set(community_of.values())),
        "modularity": round(modularity, 6),
        "betweenness_method": method,
    }

    def ranked(measure: str) -> list[NodeStats]:
        return sorted(rows, key=lambda r: (-getattr(r, measure), r.label, r.id))[:top]

    tops = {m: ranked(m) for m in MEASURES}
    return GraphStats(str(summary["view"]), summary, rows, tops)


def stats_json(stats: GraphStats, *, escape: bool = False) -> str:  # noqa: ARG001 (a registry writer: JSON needs no escape)
    """The figures as JSON (UTF-8 text, Chinese names as they are)."""
    doc = {
        "summary": stats.summary,
        "top": {m: [r.__dict__ for r in rows] for m, rows in stats.top.items()},
        "nodes": [r.__dict__ for r in stats.nodes],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def stats_csv(stats: GraphStats, *, escape: bool = False) -> str:
    """One row per node with every measure, by decreasing weighted degree.

    ``escape``: names a spreadsheet would run as a formula get a leading ``'`` (``escape_formula``).
    """
    cell = escape_formula if escape else str
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "label", "kind", "degree", "weighted_degree", "betweenness", "community"])
    for r in sorted(stats.nodes, key=lambda r: (-r.weighted_degree, -r.degree, r.label, r.id)):
        writer.writerow([cell(r.id), cell(r.label), r.kind, r.degree, r.weighted_degree, r.betweenness, r.community])
    return out.getvalue()


def stats_table(stats: GraphStats, *, escape: bool = False) -> str:  # noqa: ARG001 (a registry writer: a table is read, not opened)
    """A plain-text report: the summary, then the top nodes per measure."""
    lines = [f"{key}: {value}" for key, value in stats.summary.items() if value != ""]
    titles = {"degree": "degree (度)", "weighted_degree": "weighted degree (加权度)",
              "betweenness": "betweenness (介数中心性)"}
    for measure, rows in stats.top.items():
        lines += ["", f"top {len(rows)} by {titles[measure]}:"]
        for rank, r in enumerate(rows, 1):
            lines.append(f"{rank:>3}  {getattr(r, measure):>10}  {r.label}  [{r.kind}, community {r.community}]")
    return "\n".join(lines) + "\n"


def format_stats(stats: GraphStats, fmt: str = "table", *, escape: bool = False) -> str:
    """The figures in ``fmt``: ``table``, ``csv`` (``escape``: for spreadsheets) or ``json`` (the ``stats``
    formats of the registry, :mod:`chuzhi_graph.formats`)."""
    entry = formats.lookup("stats", fmt)
    if entry is None:
        raise UsageError(f"unknown stats format {fmt!r} (known: {', '.join(formats.names('stats'))})", field="--format")
    return str(entry.write(stats, escape=escape))
