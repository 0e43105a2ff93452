"""Draw views: self-contained interactive HTML, png/svg pictures, graphml/gexf exports.

The HTML page (our data model and template, vis-network inlined) works opened from disk
with the network off: no CDN, no remote fonts. Names reach the page only as JSON data and
are put into the page with ``textContent``, never as HTML; a Content-Security-Policy allows
only the page's own scripts (by hash). Positions are computed in Python with a seeded
layout and stay put (no physics in the browser), so the same data gives the same picture
and hiding things never moves the others.

>>> from chuzhi_graph.views.graphs import build_view
>>> g = build_view("out", "institutions")                      # doctest: +SKIP
>>> render_html(g, "out/institutions.html", title="单位合作网络")  # doctest: +SKIP
PosixPath('out/institutions.html')
"""

from __future__ import annotations

import json
import logging
import math
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypedDict

import networkx as nx
import numpy as np

from chuzhi_graph import __version__, formats
from chuzhi_graph.core.assets import csp_hash, json_for_script, zero_runs
from chuzhi_graph.core.fileio import AtomicFiles, write_text_atomic
from chuzhi_graph.core.progress import advance
from chuzhi_graph.errors import EnvironmentProblem, UsageError
from chuzhi_graph.release.reader import Release
from chuzhi_graph.views.graphs import EDGE_KIND_LABELS, KIND_LABELS, build_view, paused_gc

log = logging.getLogger(__name__)

MAIN_VIEWS = ("institutions", "cases", "domains")
TITLES = {
    "institutions": "单位合作网络 / Who works with whom",
    "cases": "单位—案例—领域 / Units, cases and domains",
    "domains": "治理领域共现 / Domain co-occurrence",
    "full": "楚治案例知识图谱 / The whole graph",
}
DEFAULT_SEED = 7
#: From this many nodes on a component is laid out by :func:`fast_layout` (igraph, grid variant).
SPRING_LIMIT = 500
#: The main job skips a view above this many nodes (filter it with ``render --edition`` instead). The
#: 33,495-node institutions view of 100,000 cases opens in 2 s with its cluster overview
#: (docs/render.md), so it is drawn; the cases view of such a corpus (133k nodes) is not.
MAIN_VIEW_LIMIT = 40_000
#: Font families tried, in order, for Chinese labels in png/svg pictures.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Source Han Sans SC",
             "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback",
             "AR PL UMing CN")

# Okabe & Ito's palette (distinct under the common colour-vision deficiencies), with Paul
# Tol's for the rest; node kinds also differ by shape, so colour is never the only cue.
KIND_COLOURS = {
    "case": "#D55E00", "domain": "#332288", "region": "#997700", "edition": "#882255",
    "category": "#DDCC77", "unit-type": "#BBBBBB", "track": "#44AA99", "source": "#AA4499",
    "cluster": "#777777",
}
KIND_SHAPES = {
    "unit": "dot", "case": "square", "domain": "diamond", "region": "triangle", "edition": "star",
    "category": "triangleDown", "unit-type": "hexagon", "track": "hexagon", "source": "square",
}
UNIT_TYPE_COLOURS = {
    "party-government": "#0072B2", "public-institution": "#56B4E9",
    "enterprise": "#E69F00", "state-owned-enterprise": "#009E73", "private-enterprise": "#F0E442",
    "university-research": "#CC79A7", "media": "#999999",
}
FALLBACK_COLOURS = ("#88CCEE", "#117733", "#999933", "#CC6677", "#44AA99", "#DDDDDD")
#: Community colours, largest community first; the others are grey.
COMMUNITY_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
                     "#332288", "#117733", "#882255", "#44AA99", "#999933")
EDGE_STYLES = {
    "co-applicant": {"color": "#555555", "dashes": False, "arrows": ""},
    "parent": {"color": "#AA4499", "dashes": True, "arrows": "to"},
    "applicant": {"color": "#88AACC", "dashes": True, "arrows": ""},
    "lead-applicant": {"color": "#0072B2", "dashes": False, "arrows": ""},
    "domain": {"color": "#999933", "dashes": False, "arrows": ""},
    "co-occurrence": {"color": "#332288", "dashes": False, "arrows": ""},
}
PAGE_EDGE_LABELS = {**EDGE_KIND_LABELS, "applicant": "申报（非牵头）", "lead-applicant": "牵头申报",
                    "parent": "上级单位（箭头指向上级）"}
CONTINUOUS = "#aaaaaa"
#: Above this many nodes the page is a large view: clusters, community colours, isolates hidden.
LARGE_VIEW = 1000
#: In an overview, clusters of fewer members than this are one "N small groups" entry.
SMALL_GROUP = 5
#: Label sizes on screen in CSS px (cases have long titles and are many).
LABEL_PX = {"case": 11, "default": 13}


def group_colour(group: str) -> str:
    """The colour of a node group: ``unit:<type notation>`` or a kind.

    >>> group_colour("unit:state-owned-enterprise"), group_colour("case")
    ('#009E73', '#D55E00')
    """
    if group.startswith("unit:"):
        notation = group[5:]
        if notation in UNIT_TYPE_COLOURS:
            return UNIT_TYPE_COLOURS[notation]
        return FALLBACK_COLOURS[zlib.crc32(notation.encode()) % len(FALLBACK_COLOURS)]
    return KIND_COLOURS.get(group, FALLBACK_COLOURS[zlib.crc32(group.encode()) % len(FALLBACK_COLOURS)])


def group_label(graph: nx.Graph, group: str) -> str:
    """The legend text of a node group, from the data (the unit type's label)."""
    if group.startswith("unit:"):
        for _, attrs in graph.nodes(data=True):
            if attrs.get("group") == group:
                return f"单位：{attrs.get('unit_type') or group[5:] or '未分类'}"
    return KIND_LABELS.get(group, group)


# ---------------------------------------------------------------- layout


def fast_layout(graph: nx.Graph, seed: int = DEFAULT_SEED, iterations: int = 300) -> dict[object, tuple[float, float]]:
    """A Fruchterman-Reingold layout for thousands of nodes, in a few seconds (igraph's, grid variant).

    networkx's ``spring_layout`` takes minutes at 5,000 nodes; igraph's grid variant lays out
    the 2,624-node component of the 5,000-case corpus in 2.4 s where our earlier numpy
    version took 16 s (docs/render.md). Seeded: igraph draws from its own ``random.Random``.

    >>> pos = fast_layout(nx.path_graph(4), seed=1)
    >>> len(pos), pos == fast_layout(nx.path_graph(4), seed=1)
    (4, True)
    """
    import random

    from chuzhi_graph.views.stats import import_igraph

    igraph = import_igraph()
    nodes = list(graph)
    if not nodes:
        return {}
    index = {v: i for i, v in enumerate(nodes)}
    ig = igraph.Graph(n=len(nodes), edges=[(index[u], index[v]) for u, v in graph.edges() if u != v])
    igraph.set_random_number_generator(random.Random(seed))
    try:
        coords = ig.layout_fruchterman_reingold(niter=iterations, grid="grid")
    finally:
        igraph.set_random_number_generator(random)
    return {v: (float(x), float(y)) for v, (x, y) in zip(nodes, coords.coords, strict=True)}


#: Layout spacing: about one node per this many screen units, so that a small view opens
#: at a zoom near 1 and its 12-13 px labels fit between the nodes.
SPACING = 110.0


def _label_width(label: str, kind: str) -> float:
    """Screen width of a node's shown label (CJK glyphs are about one em wide)."""
    return LABEL_PX.get(kind, LABEL_PX["default"]) * min(len(label), 12 if kind == "case" else 16)


def _tiny_layout(nodes: list) -> dict[object, tuple[float, float]]:
    """A component of one node, or two side by side."""
    if len(nodes) == 1:
        return {nodes[0]: (0.0, 0.0)}
    return {nodes[0]: (-SPACING * 0.6, 0.0), nodes[1]: (SPACING * 0.6, 0.0)}


def _component_layout(sub: nx.Graph, seed: int) -> dict[object, tuple[float, float]]:
    nodes = list(sub)
    n = len(nodes)
    if n <= 2:
        return _tiny_layout(nodes)
    if n >= SPRING_LIMIT:  # networkx lays out 500 nodes and more with scipy, which is not a dependency
        raw = fast_layout(sub, seed=seed)
    else:
        # weights stay out of the layout: heavy ties would pull nodes onto each other
        raw = {v: (float(x), float(y)) for v, (x, y) in
               nx.spring_layout(sub, seed=seed, weight=None).items()}
    lengths = [math.dist(raw[u], raw[v]) for u, v in sub.edges() if u != v]
    unit = max(float(np.median(lengths)) if lengths else 1.0, 1e-9)
    xy = np.array([raw[v] for v in nodes]) / unit * SPACING
    xy -= xy.mean(axis=0)
    # turn the component's long axis horizontal: screens are wider than high
    _, vectors = np.linalg.eigh(np.cov(xy.T))
    xy = xy @ vectors[:, ::-1]
    xy[:, 0] *= 1 if vectors[0, 1] >= 0 else -1  # a fixed orientation, not the solver's sign
    return {v: (float(x), float(y)) for v, (x, y) in zip(nodes, xy, strict=True)}


def _spread(pts: dict[object, tuple[float, float]], radius: dict) -> dict[object, tuple[float, float]]:
    """Scale a component out until no two discs of ``radius`` overlap (with a gap for labels)."""
    keys = list(pts)
    if len(keys) < 2 or len(keys) > 3000:
        return pts
    xy = np.array([pts[k] for k in keys])
    r = np.array([float(radius.get(k, 0.0)) for k in keys])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    need = r[:, None] + r[None, :] + 40.0
    np.fill_diagonal(d, np.inf)
    factor = max(1.0, float((need / np.maximum(d, 1e-9)).max()))
    return {k: (x * factor, y * factor) for k, (x, y) in zip(keys, xy, strict=True)}


def layout(graph: nx.Graph, seed: int = DEFAULT_SEED,
           radius: dict | None = None) -> dict[object, tuple[float, float]]:
    """Seeded node positions in screen units: same data, same picture.

    Each connected component is laid out on its own (spring layout, or :func:`fast_layout`
    above :data:`SPRING_LIMIT` nodes) with about :data:`SPACING` units per edge, and the
    components are packed in rows, largest first, into a box about 1.5 times as wide as
    high, leaving room for the labels: no ring of isolated nodes, no empty margins.

    >>> layout(nx.path_graph(3), seed=1) == layout(nx.path_graph(3), seed=1)
    True
    """
    plain = nx.Graph(graph.to_undirected()) if graph.is_directed() or graph.is_multigraph() else graph
    if plain.number_of_nodes() == 0:
        return {}
    # nodes and edges in a canonical order: the picture must not depend on how the graph was
    # assembled (set iteration follows PYTHONHASHSEED, which differs between processes)
    # (only names and links: the layout reads no other attribute)
    simple = nx.Graph()
    simple.add_nodes_from(sorted(plain, key=str))
    simple.add_edges_from(sorted((tuple(sorted((u, v), key=str)) for u, v in plain.edges()),
                                 key=lambda e: (str(e[0]), str(e[1]))))
    width = {v: _label_width(str(attrs.get("label", v)), str(attrs.get("kind", "")))
             for v, attrs in plain.nodes(data=True)}
    order = {v: i for i, v in enumerate(simple)}
    comps = sorted((sorted(c, key=order.__getitem__) for c in nx.connected_components(simple)),
                   key=lambda c: (-len(c), order[c[0]]))
    boxes = []
    for comp in comps:
        if len(comp) <= 2:  # most components of a large view: no graph of their own needed
            pts = _tiny_layout(comp)
        else:
            # a copy in ``comp``'s order: a subgraph view iterates its node *set* (hash order)
            sub = nx.Graph()
            sub.add_nodes_from(comp)
            ties = (tuple(sorted(e, key=order.__getitem__)) for e in simple.subgraph(comp).edges())
            sub.add_edges_from(sorted(ties, key=lambda e: (order[e[0]], order[e[1]])))
            pts = _component_layout(sub, seed)
        if radius:
            pts = _spread(pts, radius)
        labels = max(width[v] for v in comp)
        pad = max((radius or {}).get(v, 0.0) for v in comp) + labels / 2 + 10
        xs = [p[0] for p in pts.values()]
        ys = [p[1] for p in pts.values()]
        boxes.append((pts, min(xs) - pad, min(ys) - 30, max(xs) + pad, max(ys) + 45))
    corners = _pack([(x1 - x0, y1 - y0) for _, x0, y0, x1, y1 in boxes])
    out: dict[object, tuple[float, float]] = {}
    taken: set[tuple[float, float]] = set()
    for (pts, x0, y0, _x1, _y1), (x, y) in zip(boxes, corners, strict=True):
        for v, (px, py) in pts.items():
            spot = (round(px - x0 + x, 1), round(py - y0 + y, 1))
            while spot in taken:  # the grid layout can stack two leaves: set them side by side
                spot = (round(spot[0] + SPACING / 8, 1), spot[1])
            taken.add(spot)
            out[v] = spot
    return out


#: The canvas the packing aims at (a 1400x900 window less the header and side panel).
CANVAS = (1150.0, 790.0)


def _shelves(sizes: list[tuple[float, float]], width: float) -> tuple[list[tuple[float, float]], float, float]:
    """Rows of boxes, left to right, no wider than ``width``: corners, total width and height."""
    corners = []
    x = y = row = used = 0.0
    for w, h in sizes:
        if x > 0 and x + w > width:
            x, y, row = 0.0, y + row, 0.0
        corners.append((x, y))
        x += w
        used = max(used, x)
        row = max(row, h)
    return corners, used, y + row


def _pack(sizes: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Corners for boxes (biggest first) that fill a :data:`CANVAS`-shaped area best.

    The first box stands alone; the others are packed in rows either beside it or below it,
    at the row width that lets the whole be drawn at the largest zoom on the canvas.
    """
    if not sizes:
        return []
    (w0, h0), rest = sizes[0], sizes[1:]

    def zoom(width: float, height: float) -> float:
        return min(CANVAS[0] / max(width, 1.0), CANVAS[1] / max(height, 1.0))

    total = sum(w for w, _ in rest)
    widest = max((w for w, _ in rest), default=0.0)
    best: tuple[float, list[tuple[float, float]]] = (-1.0, [])
    for step in range(1, 41):
        width = widest + (total - widest) * step / 40 if rest else 0.0
        corners, used, height = _shelves(rest, width) if rest else ([], 0.0, 0.0)
        beside = zoom(w0 + used, max(h0, height))
        if beside > best[0]:
            best = (beside, [(0.0, 0.0)] + [(w0 + x, y) for x, y in corners])
        below_corners, used, height = _shelves(rest, max(width, w0)) if rest else ([], 0.0, 0.0)
        below = zoom(max(w0, used), h0 + height)
        if below > best[0]:
            best = (below, [(0.0, 0.0)] + [(x, h0 + y) for x, y in below_corners])
        if not rest:
            break
    return best[1]


# ---------------------------------------------------------------- page data


@dataclass(frozen=True)
class SiteLinks:
    """Where a graph page sits in a published site: links to resource pages and the index.

    ``root`` is the site's root relative to the page (``"../"`` for ``graphs/x.html``),
    ``base`` the data's base IRI; a resource ``{base}unit/x`` has its page at
    ``{root}unit/x.html``.

    >>> SiteLinks("../", "https://w3id.org/chuzhi/").href("https://w3id.org/chuzhi/unit/hust")
    '../unit/hust.html'
    """

    root: str
    base: str

    def href(self, iri: str) -> str | None:
        if not iri.startswith(self.base):
            return None
        local = iri[len(self.base):]
        if not local or local.endswith("/") or "#" in local or "?" in local or "." in local.rsplit("/", 1)[-1]:
            return None
        return f"{self.root}{local}.html"

    @property
    def index(self) -> str:
        return f"{self.root}index.html"


def size_values(graph: nx.Graph, size_by: str) -> dict[object, float]:
    """The measure that sizes the nodes: ``degree`` or ``cases`` (case count)."""
    if size_by == "degree":
        return {v: float(d) for v, d in graph.degree()}
    if size_by == "cases":
        return {v: float(graph.nodes[v].get("cases", 0) or 0) for v in graph}
    raise UsageError(f"unknown size measure {size_by!r} (known: degree, cases)", field="--size-by")


def default_size_by(graph: nx.Graph) -> str:
    return "cases" if graph.graph.get("view") in ("institutions", "domains") else "degree"


SIZE_KEYS = {"cases": "节点大小 = 案例数 / node size = number of cases",
             "degree": "节点大小 = 连接数 / node size = number of links"}
WIDTH_KEYS = {"co-applicant": "线宽 = 共同申报的案例数 / line width = cases applied for together",
              "co-occurrence": "线宽 = 同时涉及两个领域的案例数 / line width = cases with both domains"}


def node_tip(attrs: dict) -> list[list[object]]:
    """Fact lines ``[key, value]`` of a node (its cases are added by the page); shown as text."""
    lines: list[list[object]] = []
    kind = attrs.get("kind", "")
    lines.append(["类型", attrs.get("unit_type") or KIND_LABELS.get(kind, kind)])
    if attrs.get("aliases"):
        lines.append(["简称", "、".join(attrs["aliases"])])
    if attrs.get("region"):
        lines.append(["地区", attrs["region"]])
    if kind == "case":
        lines.append(["奖项类别", attrs.get("category", "")])
        applicants = list(attrs.get("applicants", []))
        if applicants:
            applicants[0] = f"{applicants[0]}（牵头 / lead）"
        lines.append(["申报单位", applicants])
        if attrs.get("domains"):
            lines.append(["治理领域", "、".join(attrs["domains"])])
    return lines


def _edge_kind(attrs: dict) -> str:
    kind = str(attrs.get("kind", "link"))
    return "lead-applicant" if kind == "applicant" and attrs.get("lead") else kind


def _group_of(attrs: dict) -> str:
    return str(attrs.get("group") or attrs.get("kind") or "node")


#: A node or edge of the page (JSON-ready; keys as in :func:`page_data`).
Row = dict[str, Any]


class PageData(TypedDict):
    """The data block of a graph page (see :func:`page_data`)."""

    view: str
    large: bool
    clusters: dict[str, dict[str, list[float]]]
    cases: list[list[Any]]
    categories: list[dict[str, Any]]
    editions: list[dict[str, Any]]
    domains: list[dict[str, Any]]
    nodes: list[Row]
    edges: list[Row]
    legend: dict[str, list[Row]]
    keys: dict[str, Any]
    labelPx: dict[str, int]
    smallGroup: int
    communityColours: list[str]
    site: dict[str, str] | None
    agg: dict[str, Any] | None
    options: dict[str, Any]


def page_data(graph: nx.Graph, *, size_by: str | None = None, seed: int = DEFAULT_SEED,  # noqa: PLR0915 (the page's data, one block per part it shows)
              site: SiteLinks | None = None, communities: dict[object, int] | None = None) -> PageData:
    """The page's data: cases, domain tree, nodes, edges, legend, keys and vis-network options.

    Nodes and edges refer to cases by index, so the page filters by case and re-weights
    edges to the cases that pass. Above :data:`LARGE_VIEW` nodes the page opens as an
    overview (communities collapsed, isolated nodes hidden); ``communities`` defaults to
    :func:`chuzhi_graph.views.stats.community_map` there.
    """
    n = graph.number_of_nodes()
    large = n > LARGE_VIEW
    domains_view = graph.graph.get("view") == "domains"
    pos = domain_layout(graph) if domains_view else layout(graph, seed)
    values = size_values(graph, size_by or default_size_by(graph))
    top = max(values.values(), default=0) or 1.0
    table = graph.graph.get("case_table") or {"cases": {}, "domains": {}, "categories": {}, "editions": {}}
    case_ids = list(table["cases"])
    case_index = {c: i for i, c in enumerate(case_ids)}
    editions, categories, ed_index, cat_index = _editions_and_categories(table)
    dom_ids = _domain_tree(table["domains"])
    dom_index = {d: i for i, d in enumerate(dom_ids)}
    cases = [[t[0], cat_index[t[1]], [dom_index[d] for d in t[2] if d in dom_index], ed_index[t[3]]]
             for t in table["cases"].values()]
    domains = [{"label": table["domains"][d][0],
                "parent": dom_index.get(table["domains"][d][1], -1)} for d in dom_ids]
    if large and communities is None:
        from chuzhi_graph.views.stats import community_map

        communities = community_map(graph)
    nodes: list[Row] = []
    position = {str(v): i for i, v in enumerate(graph)}
    for v, attrs in graph.nodes(data=True):
        kind = str(attrs.get("kind", ""))
        x, y = pos[v]
        node: Row = {
            "id": str(v), "label": str(attrs.get("label", v)), "kind": kind, "group": _group_of(attrs),
            "x": x, "y": y, "size": _node_size(values[v], top, domains_view),
            "names": [str(attrs.get("label", v)), *map(str, attrs.get("aliases", []))],
            "cases": [case_index[c] for c in attrs.get("case_ids", ()) if c in case_index],
            "tip": node_tip(attrs),
        }
        if attrs.get("sub_case_ids"):  # cases of its sub-units: [case, sub-unit node, ...] flat
            node["via"] = [k for c, u in attrs["sub_case_ids"] if c in case_index and str(u) in position
                           for k in (case_index[c], position[str(u)])]
        if attrs.get("region"):
            node["region"] = str(attrs["region"])
        if communities is not None:
            node["comm"] = communities.get(v, 0)
        href = site.href(str(v)) if site else None
        if href:
            node["href"] = href
        nodes.append(node)
    index = {str(v): i for i, v in enumerate(graph)}
    edges: list[Row] = []
    edge_iter = (graph.edges(keys=True, data=True) if graph.is_multigraph()
                 else ((u, v, None, d) for u, v, d in graph.edges(data=True)))
    for u, v, _key, attrs in edge_iter:
        kind = _edge_kind(attrs)
        a, b = str(u), str(v)
        if kind == "parent" and attrs.get("sub") and str(attrs["sub"]) != a:
            a, b = b, a  # parent edges point from the unit to its parent
        edge: Row = {"from": index[a], "to": index[b], "kind": kind,
                                   "cases": [case_index[c] for c in attrs.get("case_ids", ()) if c in case_index]}
        if attrs.get("label"):
            edge["label"] = str(attrs["label"])
        if graph.is_directed():
            edge["arrows"] = "to"
        edges.append(edge)
    groups = Counter(str(nd["group"]) for nd in nodes)
    kinds = Counter(str(e["kind"]) for e in edges)
    clusters = _cluster_places(nodes, edges, seed) if large else {}
    legend_nodes = [{"key": g, "label": group_label(graph, g), "color": group_colour(g),
                     "shape": KIND_SHAPES.get("unit" if g.startswith("unit:") else g, "dot"), "count": c}
                    for g, c in sorted(groups.items(), key=lambda gc: (not gc[0].startswith("unit:"), gc[0]))]
    legend_edges = [{"key": k, "label": PAGE_EDGE_LABELS.get(k) or _edge_label(graph, k),
                     "color": EDGE_STYLES.get(k, {"color": CONTINUOUS})["color"],
                     "dashes": EDGE_STYLES.get(k, {"dashes": False})["dashes"],
                     "arrows": EDGE_STYLES.get(k, {"arrows": ""})["arrows"], "count": c}
                    for k, c in sorted(kinds.items())]
    weights = [len(e["cases"]) for e in edges if e["kind"] in WIDTH_KEYS]
    measure = size_by or default_size_by(graph)
    keys: dict[str, Any] = {"size": SIZE_KEYS[measure], "size_range": [min(values.values(), default=0), top]}
    if weights:
        keys["width"] = WIDTH_KEYS[next(str(e["kind"]) for e in edges if e["kind"] in WIDTH_KEYS)]
        keys["width_range"] = [min(weights), max(weights)]
    agg = None
    if domains_view:  # counts per category and domain filter instead of every case (docs/render.md)
        agg = domain_counts(nodes, edges, cases, len(categories), len(domains))
        ranked = sorted(weights, reverse=True)
        keys["min_weight"] = ranked[3 * n - 1] if len(ranked) > 3 * n else 1
        keys["size"] = "节点面积 = 案例数（从零起）/ node area = number of cases (from zero)"
        for row in nodes:
            row["total"] = len(row["cases"])
            row["cases"] = []
        for row in edges:
            row["cases"] = []
        cases = []
    return {
        "view": graph.graph.get("view", ""), "large": large, "clusters": clusters,
        "cases": cases, "categories": categories, "editions": editions, "domains": domains,
        "nodes": nodes, "edges": edges,
        "legend": {"nodes": legend_nodes, "edges": legend_edges}, "keys": keys,
        "labelPx": LABEL_PX, "communityColours": list(COMMUNITY_COLOURS), "smallGroup": SMALL_GROUP,
        "site": {"index": site.index} if site else None, "agg": agg,
        "options": {
            "autoResize": True,
            "layout": {"improvedLayout": False, "randomSeed": seed},
            "physics": {"enabled": False},
            "nodes": {"borderWidth": 1, "font": {"size": 0}},
            "edges": {"smooth": False, "selectionWidth": 1.5, "arrowStrikethrough": False},
            "interaction": {"hover": True, "tooltipDelay": 3_600_000, "hideEdgesOnDrag": large,
                            "hideEdgesOnZoom": large, "navigationButtons": False, "keyboard": False},
        },
    }


def _editions_and_categories(table: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                            dict[str, int], dict[str, int]]:
    """The page's editions (by year, then identifier) and award categories (by edition, then
    label), each category labelled with its edition's identifier, and their indexes by IRI.

    >>> eds, cats, _, _ = _editions_and_categories({"editions": {"e": ("楚治 2022", "bigdata-2022", "2022")},
    ...                                            "categories": {"c": ("十佳案例", "e")}})
    >>> cats
    [{'label': '十佳案例（bigdata-2022）', 'edition': 0}]
    """
    ed_ids = sorted(table.get("editions", {}), key=lambda e: (table["editions"][e][2], table["editions"][e][1], e))
    ed_index = {e: i for i, e in enumerate(ed_ids)}
    editions = [{"label": table["editions"][e][0], "id": table["editions"][e][1], "year": table["editions"][e][2]}
                for e in ed_ids]
    cats = table.get("categories", {})
    cat_ids = sorted(cats, key=lambda c: (ed_index[cats[c][1]], cats[c][0], c))
    categories = [{"label": f"{cats[c][0]}（{editions[ed_index[cats[c][1]]]['id']}）", "edition": ed_index[cats[c][1]]}
                  for c in cat_ids]
    return editions, categories, ed_index, {c: i for i, c in enumerate(cat_ids)}


def _node_size(value: float, top: float, from_zero: bool) -> float:
    """A node's radius: area in proportion to ``value`` (from zero, at least 3 px to stay
    visible) in the domains view, else 8-30 px."""
    if from_zero:
        return round(max(3.0, 30 * math.sqrt(max(value, 0) / top)), 1)
    return round(8 + 22 * math.sqrt(max(value, 0) / top), 1)


def domain_layout(graph: nx.Graph) -> dict[object, tuple[float, float]]:
    """The domains on an ellipse in the order of the domain tree (a broader domain, then its
    narrower ones), about :data:`SPACING` × 1.4 apart: every name has room, related domains sit
    side by side, and the co-occurrence edges cross the middle, where their widths compare.

    >>> g = nx.Graph(); g.add_nodes_from("abc"); len(domain_layout(g))
    3
    """
    table = (graph.graph.get("case_table") or {}).get("domains", {})
    order = {d: i for i, d in enumerate(_domain_tree(table))}
    nodes = sorted(graph, key=lambda v: (order.get(v, len(order)), str(graph.nodes[v].get("label", v)), str(v)))
    if len(nodes) <= 2:
        return _tiny_layout(nodes)
    ratio = CANVAS[0] / CANVAS[1]
    # the ellipse's perimeter (Ramanujan) with half-axes ratio*b and b: n steps of the spacing
    b = len(nodes) * SPACING * 1.4 / (math.pi * (3 * (ratio + 1) - math.sqrt((3 * ratio + 1) * (ratio + 3))))
    return {v: (round(ratio * b * math.cos(2 * math.pi * i / len(nodes) - math.pi / 2), 1),
                round(b * math.sin(2 * math.pi * i / len(nodes) - math.pi / 2), 1))
            for i, v in enumerate(nodes)}


def domain_counts(nodes: list[Row], edges: list[Row], cases: list[list[Any]], n_categories: int,
                  n_domains: int) -> dict[str, Any]:
    """The domains view's numbers without its cases: per award category, for no domain filter
    and for each domain of the filter (cases with it or a narrower one), each node's cases and
    each edge's weight. Categories add up (a case has one), domain filters do not. The page's
    weight then depends on the number of categories and domains, not of cases (8.5 MB at
    100,000 cases with every case embedded).
    """
    per_case_nodes: dict[int, list[int]] = {}
    per_case_edges: dict[int, list[int]] = {}
    for i, nd in enumerate(nodes):
        for c in nd["cases"]:
            per_case_nodes.setdefault(c, []).append(i)
    for i, e in enumerate(edges):
        for c in e["cases"]:
            per_case_edges.setdefault(c, []).append(i)
    nn, ne, options = len(nodes), len(edges), n_domains + 1
    node_counts = [[0] * (options * nn) for _ in range(n_categories)]
    edge_counts = [[0] * (options * ne) for _ in range(n_categories)]
    for c, (_title, cat, doms, *_edition) in enumerate(cases):
        ncount, ecount = node_counts[cat], edge_counts[cat]
        for o in (0, *(1 + d for d in doms)):
            for i in per_case_nodes.get(c, ()):
                ncount[o * nn + i] += 1
            for i in per_case_edges.get(c, ()):
                ecount[o * ne + i] += 1
    return {"nodes": [zero_runs(a) for a in node_counts], "edges": [zero_runs(a) for a in edge_counts]}


def _cluster_places(nodes: list[Row], edges: list[Row], seed: int) -> dict[str, dict[str, list[float]]]:
    """Where each cluster sits when collapsed, for each way of clustering a large view.

    The clusters (communities, regions or unit types with two members or more) are laid out
    as a graph of their own, linked where their members are; an expanded cluster shows its
    members around that place, as they lie in the full layout. Per key: ``[x, y, centroid x,
    centroid y, members]``.
    """
    out: dict[str, dict[str, list[float]]] = {}
    for by in ("comm", "region", "group"):
        members: dict[str, list[Row]] = {}
        radius: dict[str, float] = {}
        for nd in nodes:
            if nd.get(by) not in (None, ""):
                members.setdefault(str(nd[by]), []).append(nd)
        quotient = nx.Graph()
        for key, group in members.items():
            if len(group) > 1:
                best = max(group, key=lambda nd: (nd["size"], nd["label"]))
                quotient.add_node(key, label=f"{best['label']}（{len(group)}）", kind="cluster")
                radius[key] = min(12 + 6 * math.sqrt(len(group)), 90)
        for e in edges:
            a, b = nodes[e["from"]].get(by), nodes[e["to"]].get(by)
            if a is not None and b is not None and str(a) != str(b) and str(a) in quotient and str(b) in quotient:
                quotient.add_edge(str(a), str(b))
        places = layout(quotient, seed, radius)
        out[by] = {}
        for place, (x, y) in places.items():
            group = members[str(place)]
            out[by][str(place)] = [x, y,
                            round(sum(nd["x"] for nd in group) / len(group), 1),
                            round(sum(nd["y"] for nd in group) / len(group), 1), len(group)]
    return out


def _domain_tree(domains: dict[str, tuple[str, str]]) -> list[str]:
    """Domain IRIs in tree order: each broader domain followed by its narrower ones, by label."""
    children: dict[str, list[str]] = {}
    for d, (_label, parent) in domains.items():
        children.setdefault(parent if parent in domains else "", []).append(d)
    out: list[str] = []

    def walk(parent: str) -> None:
        for d in sorted(children.get(parent, []), key=lambda d: (domains[d][0], d)):
            out.append(d)
            walk(d)

    walk("")
    return out


def _edge_label(graph: nx.Graph, kind: str) -> str:
    for *_, attrs in graph.edges(data=True):
        if attrs.get("kind") == kind and attrs.get("label"):
            return f"{attrs['label']} ({kind})"
    return kind


@cache
def _asset(name: str) -> str:
    return resources.files("chuzhi_graph").joinpath(name).read_text("utf-8")


def _columns(rows: list[Row], drop_names: bool = False) -> dict[str, object]:
    """Rows of dicts as one list per key (``null`` where a row has none), which the page turns
    back into rows: a quarter less JSON to parse on a 33,495-node page than repeated keys.
    A node's ``names`` is left out when it is just its label; a column of few distinct
    strings travels as a dictionary and codes, a column of IRIs as prefixes, codes and the
    rest (:func:`_encode_column`).

    >>> _columns([{"a": 1}, {"a": 2, "b": 3}])
    {'keys': ['a', 'b'], 'cols': {'a': [1, 2], 'b': [None, 3]}}
    """
    keys: list[str] = []
    for row in rows:
        for key in row:
            if key not in keys:
                keys.append(key)
    cols: dict[str, list[object]] = {k: [] for k in keys}
    for row in rows:
        for key in keys:
            value = row.get(key)
            if drop_names and key == "names" and value == [row.get("label")]:
                value = None
            cols[key].append(value)
    return {"keys": keys, "cols": {k: _encode_column(v) for k, v in cols.items()}}


def _encode_column(values: list[object]) -> object:
    """A column as it travels: plain, ``{"dict", "codes"}``, ``{"prefix", "codes", "rest"}``
    or, for lists of lines, ``{"lines", "codes"}`` (each row a list of line numbers).

    >>> _encode_column(["unit", "unit", None, "case"] * 3)["dict"]
    ['unit', 'case']
    >>> _encode_column([f"https://x.org/unit/u{i}" for i in range(8)])["prefix"]
    ['https://x.org/unit/']
    """
    strings = [v for v in values if v is not None]
    if len(values) >= 8 and strings and all(isinstance(v, list) and all(isinstance(x, list) for x in v)
                                            for v in strings):
        # lists of lines (a node's facts): each distinct line once ("类型: 事业单位" 10,000 times)
        line_code: dict[str, int] = {}
        lines: list[object] = []
        tips: list[object] = []
        for v in values:
            if not isinstance(v, list):
                tips.append(None)
                continue
            codes = []
            for line in v:
                key = json.dumps(line, ensure_ascii=False)
                if key not in line_code:
                    line_code[key] = len(lines)
                    lines.append(line)
                codes.append(line_code[key])
            tips.append(codes)
        if len(lines) * 2 <= sum(len(t) for t in tips if isinstance(t, list)):
            return {"lines": lines, "codes": tips}
        return values
    if len(values) < 8 or not strings or not all(isinstance(v, str) for v in strings):
        return values
    distinct = list(dict.fromkeys(strings))
    if len(distinct) * 4 <= len(values):
        code = {v: i for i, v in enumerate(distinct)}
        return {"dict": distinct, "codes": [None if v is None else code[v] for v in values]}
    heads = [str(v).rsplit("/", 1)[0] + "/" if v is not None and "/" in str(v) else "" for v in values]
    prefixes = list(dict.fromkeys(heads))
    if len(prefixes) * 4 <= len(values):
        code = {p: i for i, p in enumerate(prefixes)}
        return {"prefix": prefixes, "codes": [code[h] for h in heads],
                "rest": [None if v is None else str(v)[len(h):] for v, h in zip(values, heads, strict=True)]}
    return values


def html_page(graph: nx.Graph, title: str, *, size_by: str | None = None, seed: int = DEFAULT_SEED,
              site: SiteLinks | None = None) -> str:
    """The self-contained HTML page of ``graph`` (see :func:`render_html`)."""
    from jinja2 import Environment, select_autoescape

    with paused_gc():
        data = page_data(graph, size_by=size_by, seed=seed, site=site)
    block = {**data, "nodes": _columns(data["nodes"], drop_names=True), "edges": _columns(data["edges"])}
    vis_js = _asset("static/vis/vis-network.min.js")
    app_js = _asset("static/vis/chuzhi-view.js")
    csp = ("default-src 'none'; "
           f"script-src {csp_hash(vis_js)} {csp_hash(app_js)}; "
           "style-src 'unsafe-inline'; img-src data:; font-src 'none'; connect-src 'none'; "
           "object-src 'none'; base-uri 'none'; form-action 'none'")
    env = Environment(autoescape=select_autoescape(default=True), keep_trailing_newline=True)
    template = env.from_string(_asset("templates/graph.html"))
    filters = graph.graph.get("filters", "")
    footer = ((f"filters: {filters} · " if filters else "")
              + f"chuzhi-graph {__version__} · vis-network 9.1.2 (Apache-2.0/MIT)")
    # a page title is one line: HTML folds CR/LF and tabs anyway, so fold them here, visibly
    title = " ".join("".join(ch if ch.isprintable() or ch.isspace() else " " for ch in title).split())
    return template.render(title=title, csp=csp, version=__version__, footer=footer,
                           total=f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges",
                           index_href=site.index if site else None, large=data["large"],
                           min_weight=data["keys"].get("min_weight") if data["agg"] else None,
                           max_weight=(data["keys"].get("width_range") or [1, 1])[1],
                           vis_css=_asset("static/vis/vis-network.css"), vis_js=vis_js,
                           app_js=app_js, data_json=json_for_script(block))


def render_html(graph: nx.Graph, path: str | Path, title: str = "楚治案例知识图谱", *,
                size_by: str | None = None, seed: int = DEFAULT_SEED, site: SiteLinks | None = None) -> Path:
    """Write ``graph`` as one self-contained interactive HTML file (UTF-8) and return its path.

    ``size_by`` is ``degree`` or ``cases`` (default: cases for the institutions and domains
    views). With ``site`` the page links each node to its resource page and back to the
    site's index (relative links); without it the panel shows the IRI as plain text.

    >>> render_html(nx.path_graph(3), "/tmp/path.html", title="path")  # doctest: +SKIP
    PosixPath('/tmp/path.html')
    """
    return write_text_atomic(path, html_page(graph, title, size_by=size_by, seed=seed, site=site))


# ---------------------------------------------------------------- notebooks


class Page:
    """An interactive page for a notebook: Jupyter shows it inline, offline, in an iframe
    whose ``srcdoc`` is the whole page (the same file ``render`` writes).

    >>> page(nx.path_graph(3), "path")._repr_html_().startswith("<iframe")  # doctest: +SKIP
    True
    """

    def __init__(self, html: str, height: int = 640) -> None:
        self.html = html
        self.height = height

    def _repr_html_(self) -> str:
        import html as html_lib

        return (f'<iframe srcdoc="{html_lib.escape(self.html, quote=True)}" sandbox="allow-scripts" '
                f'style="width:100%;height:{int(self.height)}px;border:1px solid #ddd" '
                f'title="chuzhi-graph"></iframe>')

    def save(self, path: str | Path) -> Path:
        """Write the page as a file (what ``chuzhi-graph render`` writes)."""
        return write_text_atomic(path, self.html)


def page(graph: nx.Graph, title: str | None = None, *, height: int = 640, **kwargs: Any) -> Page:
    """The interactive page of ``graph`` as a :class:`Page` (shown inline in Jupyter).

    >>> page(build_view("out", "domains"))  # doctest: +SKIP
    """
    title = title or TITLES.get(graph.graph.get("view", ""), "楚治案例知识图谱")
    return Page(html_page(graph, title, **kwargs), height=height)


def draw(graph: nx.Graph, title: str = "", **kwargs: Any) -> Any:
    """A matplotlib ``Figure`` of ``graph`` with Chinese labels (the CJK font of :func:`cjk_font`;
    without one, :class:`~chuzhi_graph.errors.EnvironmentProblem` names the package to install).

    In a notebook the figure shows inline; the notebook's matplotlib backend is kept.

    >>> fig = draw(build_view("out", "institutions"))  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    figure = draw_picture(graph, title, **kwargs).figure
    plt.close(figure)  # type: ignore[arg-type]  # shown once, as the cell's value (a closed figure still draws)
    return figure


# ---------------------------------------------------------------- pictures and exports


def cjk_font(candidates: tuple[str, ...] | None = None) -> str:
    """The first installed font family of ``candidates`` (default :data:`CJK_FONTS`).

    Raises :class:`EnvironmentProblem` naming the Debian package to install when none is.
    """
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS if candidates is None else candidates:
        if name in installed:
            return name
    raise EnvironmentProblem(
        "no font with Chinese glyphs found for png/svg pictures: install the Debian package "
        "fonts-noto-cjk (apt-get install fonts-noto-cjk), then remove ~/.cache/matplotlib",
        field="--format")


MARKERS = {"dot": "o", "square": "s", "diamond": "D", "triangle": "^", "star": "*",
           "triangleDown": "v", "hexagon": "h"}
#: Most labels a picture tries to place (the biggest nodes first).
PICTURE_LABELS = 300
PICTURE_DPI = 150


@dataclass
class Picture:
    """A drawn figure and, in display pixels, where its labels, edges and nodes are."""

    figure: object
    labels: list[tuple[str, tuple[float, float, float, float]]]
    segments: np.ndarray
    discs: np.ndarray
    omitted: int


def _segments_hit(box: tuple[float, float, float, float], p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Which segments ``p``-``q`` cross the rectangle ``box`` (Liang-Barsky, vectorised)."""
    x0, y0, x1, y1 = box
    d = q - p
    t0 = np.zeros(len(p))
    t1 = np.ones(len(p))
    ok = np.ones(len(p), dtype=bool)
    for pk, qk in ((-d[:, 0], p[:, 0] - x0), (d[:, 0], x1 - p[:, 0]),
                   (-d[:, 1], p[:, 1] - y0), (d[:, 1], y1 - p[:, 1])):
        zero = pk == 0
        ok &= ~(zero & (qk < 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(zero, 0.0, qk / np.where(zero, 1.0, pk))
        t0 = np.where(pk < 0, np.maximum(t0, r), t0)
        t1 = np.where(pk > 0, np.minimum(t1, r), t1)
    return ok & (t0 <= t1)


def _box_free(box: tuple[float, float, float, float], placed: list[tuple[float, float, float, float]],
              segments: np.ndarray, discs: np.ndarray, frame: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = box
    if x0 < frame[0] or y0 < frame[1] or x1 > frame[2] or y1 > frame[3]:
        return False
    if any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in placed):
        return False
    if len(discs):
        dx = np.maximum(np.maximum(x0 - discs[:, 0], 0), discs[:, 0] - x1)
        dy = np.maximum(np.maximum(y0 - discs[:, 1], 0), discs[:, 1] - y1)
        if np.any(dx * dx + dy * dy < discs[:, 2] ** 2):
            return False
    return not (len(segments) and _segments_hit(box, segments[:, 0], segments[:, 1]).any())


def draw_picture(graph: nx.Graph, title: str = "", *, size_by: str | None = None,  # noqa: PLR0915 (a straight sequence of matplotlib calls)
                 seed: int = DEFAULT_SEED) -> Picture:
    """The matplotlib figure of ``graph`` with labels placed clear of every edge, node and label.

    Labels are tried, biggest node first, at eight places around their node and then further
    out; a label that fits nowhere is left out (the count is in :attr:`Picture.omitted`; the
    interactive page shows every name). Unlike an iterative repulsion such as adjustText,
    this guarantees that no label covers an edge, a node or another label.
    """
    import matplotlib

    if "inline" not in matplotlib.get_backend():  # a notebook keeps its backend; else no display needed
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    font = cjk_font()
    data = page_data(graph, size_by=size_by, seed=seed)
    nodes = data["nodes"]
    legend = {item["key"]: item for item in data["legend"]["nodes"]}
    pos = {i: (nd["x"], -nd["y"]) for i, nd in enumerate(nodes)}  # screen y grows downwards
    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    span_x, span_y = max(xs) - min(xs) + SPACING, max(ys) - min(ys) + SPACING
    width = min(max(6.0, span_x / 110), 30.0)
    height = min(max(4.0, width * span_y / span_x), 30.0)
    plt.rcParams["svg.fonttype"] = "none"
    with plt.rc_context({"font.family": [font], "svg.hashsalt": "chuzhi-graph", "svg.fonttype": "none",
                         "axes.unicode_minus": False}):
        fig = plt.figure(figsize=(width + 3.2, height + 0.6), dpi=PICTURE_DPI)
        ax = fig.add_axes((0.01, 0.01, width / (width + 3.2), height / (height + 0.6)))
        ax.set_xlim(min(xs) - SPACING / 2, max(xs) + SPACING / 2)
        ax.set_ylim(min(ys) - SPACING / 2, max(ys) + SPACING / 2)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_axis_off()
        for kind in sorted({str(e["kind"]) for e in data["edges"]}):
            style = EDGE_STYLES.get(kind, {"color": CONTINUOUS, "dashes": False, "arrows": ""})
            ends = [(pos[e["from"]], pos[e["to"]]) for e in data["edges"] if e["kind"] == kind]
            widths = [min(1 + 1.5 * (len(e["cases"]) - 1), 8) * 0.7 if e["cases"] else 0.9
                      for e in data["edges"] if e["kind"] == kind]
            ax.add_collection(LineCollection(ends, colors=style["color"], linewidths=widths, alpha=0.8,
                                             linestyles="--" if style["dashes"] else "-", zorder=1))
            if style["arrows"]:
                for (a, b), e in zip(ends, [e for e in data["edges"] if e["kind"] == kind], strict=True):
                    r = nodes[e["to"]]["size"] * 0.45 + 2
                    ax.annotate("", xy=b, xytext=a, zorder=1, arrowprops={
                        "arrowstyle": "-|>", "color": style["color"], "shrinkA": 0, "shrinkB": r,
                        "lw": 0, "mutation_scale": 9})
        for group, item in legend.items():
            members = [i for i, nd in enumerate(nodes) if nd["group"] == group]
            ax.scatter([pos[i][0] for i in members], [pos[i][1] for i in members],
                       s=[(nodes[i]["size"] * 0.9) ** 2 for i in members], zorder=2,
                       marker=MARKERS.get(str(item["shape"]), "o"), c=str(item["color"]),
                       edgecolors="#333", linewidths=0.5)
        handles = [Line2D([], [], marker=MARKERS.get(str(item["shape"]), "o"), linestyle="", color=item["color"],
                          markeredgecolor="#333", label=f"{item['label']} ({item['count']})")
                   for item in legend.values()]
        handles += [Line2D([], [], color=item["color"], linestyle="--" if item["dashes"] else "-",
                           label=f"{item['label']} ({item['count']})") for item in data["legend"]["edges"]]
        keys = data["keys"]
        handles.append(Line2D([], [], linestyle="", label=str(keys["size"])))
        if "width" in keys:
            handles.append(Line2D([], [], linestyle="", label=str(keys["width"])))
        fig.legend(handles=handles, loc="upper right", fontsize=7, frameon=False)
        fig.suptitle(title, x=0.01, ha="left", fontsize=11)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        to_px = ax.transData.transform
        px_per_pt = PICTURE_DPI / 72
        centres = to_px(np.array([pos[i] for i in range(len(nodes))])) if nodes else np.zeros((0, 2))
        discs = np.column_stack([centres, [nd["size"] * 0.45 * px_per_pt + 1 for nd in nodes]]) \
            if nodes else np.zeros((0, 3))
        segments = np.array([[centres[e["from"]], centres[e["to"]]] for e in data["edges"]]
                            ).reshape(-1, 2, 2)
        frame = tuple(ax.bbox.extents)
        placed: list[tuple[float, float, float, float]] = []
        labels: list[tuple[str, tuple[float, float, float, float]]] = []
        order = sorted(range(len(nodes)), key=lambda i: (-nodes[i]["size"], nodes[i]["label"]))
        omitted = max(len(nodes) - PICTURE_LABELS, 0)
        to_data = ax.transData.inverted().transform
        for i in order[:PICTURE_LABELS]:
            nd = nodes[i]
            text = _short(str(nd["label"]), str(nd["kind"]))
            t = ax.text(0, 0, text, fontsize=7 if nd["kind"] == "case" else 8, zorder=3, ha="left", va="baseline")
            ext = t.get_window_extent(renderer)
            w, h = ext.width, ext.height
            ax0, ay0 = to_px((0.0, 0.0))
            off_x, off_y = ext.x0 - ax0, ext.y0 - ay0  # the box's corner relative to the text's anchor
            cx, cy = centres[i]
            spot = None
            for reach in (1.0, 1.9, 2.8):
                r = discs[i][2] * reach + 3
                for bx, by in ((cx - w / 2, cy + r), (cx - w / 2, cy - r - h), (cx + r, cy - h / 2),
                               (cx - r - w, cy - h / 2), (cx + r * 0.7, cy + r * 0.7), (cx - r * 0.7 - w, cy + r * 0.7),
                               (cx + r * 0.7, cy - r * 0.7 - h), (cx - r * 0.7 - w, cy - r * 0.7 - h)):
                    box = (bx - 1, by - 1, bx + w + 1, by + h + 1)
                    if _box_free(box, placed, segments, discs, frame):  # type: ignore[arg-type]
                        spot = (bx, by)
                        break
                if spot:
                    break
            if spot is None:
                t.remove()
                omitted += 1
                continue
            t.set_position(tuple(to_data((spot[0] - off_x, spot[1] - off_y))))
            final = t.get_window_extent(renderer)
            placed.append((final.x0 - 1, final.y0 - 1, final.x1 + 1, final.y1 + 1))
            labels.append((text, (final.x0, final.y0, final.x1, final.y1)))
    return Picture(fig, labels, segments, discs, omitted)


def _short(label: str, kind: str) -> str:
    limit = 12 if kind == "case" else 16
    return label if len(label) <= limit else label[: limit - 1] + "…"


def render_picture(graph: nx.Graph, path: str | Path, fmt: str, title: str = "", *,
                   size_by: str | None = None, seed: int = DEFAULT_SEED) -> Path:
    """A static png or svg picture of ``graph`` (matplotlib); SVG labels are real ``<text>``."""
    import matplotlib.pyplot as plt

    picture = draw_picture(graph, title, size_by=size_by, seed=seed)
    fig = picture.figure
    path = Path(path)
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "chuzhi-graph"}), AtomicFiles() as files:
        tmp = files.path(path)
        fig.savefig(tmp, format=fmt, dpi=PICTURE_DPI,  # type: ignore[attr-defined]
                    metadata={"Date": None} if fmt == "svg" else None)
    plt.close(fig)  # type: ignore[arg-type]
    return path


def export_graph(graph: nx.Graph, path: str | Path, fmt: str, *, seed: int = DEFAULT_SEED) -> Path:
    """GraphML or GEXF for Gephi: node attributes (lists joined by ``|``), positions, colours."""
    pos = layout(graph, seed)
    out = graph.copy()
    out.graph = {k: v for k, v in graph.graph.items() if isinstance(v, (str, int, float, bool))}
    for _u, _v, attrs in out.edges(data=True):
        for key, value in list(attrs.items()):
            if isinstance(value, (list, tuple, set)):
                attrs[key] = "|".join(map(str, value))
    for v, attrs in out.nodes(data=True):
        for key, value in list(attrs.items()):
            if isinstance(value, (list, tuple, set)):
                attrs[key] = "|".join(map(str, value))
            elif value is None:
                del attrs[key]
        x, y = pos[v]
        if fmt == "gexf":
            colour = group_colour(str(attrs.get("group", "")))
            attrs["viz"] = {"position": {"x": x, "y": -y, "z": 0.0},
                            "color": {"r": int(colour[1:3], 16), "g": int(colour[3:5], 16),
                                      "b": int(colour[5:7], 16), "a": 1.0}}
        else:
            attrs["x"], attrs["y"] = x, y
    path = Path(path)
    with AtomicFiles() as files:
        tmp = files.path(path)
        if fmt == "graphml":
            nx.write_graphml(out, tmp, encoding="utf-8", prettyprint=True)
        else:
            nx.write_gexf(out, tmp, encoding="utf-8", prettyprint=True)
    return path


def write_html(graph: nx.Graph, path: str | Path, fmt: formats.Format, title: str,  # noqa: ARG001 (a registry writer)
               **options: Any) -> Path:
    """The ``html`` writer of the registry (:mod:`chuzhi_graph.formats`): :func:`render_html`."""
    return render_html(graph, path, title, **options)


def write_picture(graph: nx.Graph, path: str | Path, fmt: formats.Format, title: str, *,
                  site: SiteLinks | None = None, **options: Any) -> Path:  # noqa: ARG001 (a registry writer)
    """The ``png``/``svg`` writers: :func:`render_picture` (a picture has no links, ``site`` is not used)."""
    return render_picture(graph, path, fmt.name, title, **options)


def write_export(graph: nx.Graph, path: str | Path, fmt: formats.Format, title: str, *,  # noqa: ARG001 (a registry writer)
                 seed: int = DEFAULT_SEED, **options: Any) -> Path:
    """The ``graphml``/``gexf`` writers: :func:`export_graph` (no title, links or sizes in an export)."""
    return export_graph(graph, path, fmt.name, seed=seed)


def render(graph: nx.Graph, path: str | Path, fmt: str = "html", title: str | None = None, *,
           size_by: str | None = None, seed: int = DEFAULT_SEED, site: SiteLinks | None = None) -> Path:
    """Write ``graph`` in ``fmt`` (html, png, svg, graphml, gexf: the ``picture`` formats of the registry) to ``path``.

    >>> render(g, "out/domains.svg", "svg")      # doctest: +SKIP
    PosixPath('out/domains.svg')
    """
    title = title or TITLES.get(graph.graph.get("view", ""), "楚治案例知识图谱")
    entry = formats.lookup("picture", fmt)
    if entry is None:
        raise UsageError(f"unknown format {fmt!r} (known: {', '.join(formats.names('picture'))})", field="--format")
    return Path(entry.write(graph, path, entry, title, size_by=size_by, seed=seed, site=site))


def render_view(source: str | Path, view: str, path: str | Path, *, site_root: str | None = None,
                base: str = "https://w3id.org/chuzhi/", title: str | None = None, **filters: object) -> Path:
    """Build ``view`` from the dump ``source`` and write its HTML page to ``path``.

    ``site_root`` is the published site's root relative to the page (e.g. ``"../"``): then
    the page links nodes to their resource pages and back to the site's index.

    >>> render_view("out", "institutions", "site/graphs/institutions.html", site_root="../")  # doctest: +SKIP
    PosixPath('site/graphs/institutions.html')
    """
    graph = build_view(source, view, **filters)  # type: ignore[arg-type]
    site = SiteLinks(site_root, base) if site_root is not None else None
    return render_html(graph, path, title or TITLES.get(view, view), site=site)


def render_main_views(out_dir: Path, base: str, *, site_root: str | None = None) -> list[Path]:
    """The main job's pages: institutions, cases and domains as HTML in ``out_dir``.

    Built from ``out_dir/chuzhi.nt`` (or ``.ttl``). With ``site_root`` (the site's root
    relative to where the pages will sit, e.g. ``"../"`` for ``site/graphs/``) the pages link
    to the resource pages under ``base`` and to the site's index. A view of more than
    :data:`MAIN_VIEW_LIMIT` nodes is skipped with a warning: draw it filtered with ``render``.

    >>> render_main_views(Path("out"), "https://w3id.org/chuzhi/")   # doctest: +SKIP
    [PosixPath('out/institutions.html'), PosixPath('out/cases.html'), PosixPath('out/domains.html')]
    """
    from chuzhi_graph.views.graphs import view_node_count

    out_dir = Path(out_dir)
    store = Release.open(out_dir).store()
    site = SiteLinks(site_root, base) if site_root is not None else None
    paths = []
    for view in MAIN_VIEWS:
        size = view_node_count(store, view)
        graph = build_view(store, view) if size is None or size <= MAIN_VIEW_LIMIT else None
        advance()
        if graph is None or graph.number_of_nodes() > MAIN_VIEW_LIMIT:
            log.warning("%s view skipped: %d nodes (more than %d); draw it filtered, e.g. "
                        "`chuzhi-graph render %s --edition YEAR`", view,
                        size if graph is None else graph.number_of_nodes(), MAIN_VIEW_LIMIT, view)
            continue
        paths.append(render_html(graph, out_dir / f"{view}.html", TITLES[view], site=site))
        log.info("rendered %s: %d nodes, %d edges", view, graph.number_of_nodes(), graph.number_of_edges())
    return paths
