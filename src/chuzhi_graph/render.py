"""Draw views: self-contained interactive HTML, png/svg pictures, graphml/gexf exports.

The HTML page (pyvis data model, our own template, vis-network inlined) works opened from
disk with the network off: no CDN, no remote fonts. Names reach the page only as JSON data
and are put into the page with ``textContent``, never as HTML; a Content-Security-Policy
allows only the page's own scripts (by hash). Positions are computed in Python with a
seeded layout, so the same data gives the same picture; beyond
:data:`PHYSICS_LIMIT` nodes the browser's physics is off.

>>> from chuzhi_graph.graphs import build_view
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
from pathlib import Path

import networkx as nx
import numpy as np

from chuzhi_graph import __version__, formats
from chuzhi_graph.assets import asset as _asset
from chuzhi_graph.assets import csp_hash as _sha256
from chuzhi_graph.assets import json_for_script as _json_for_script
from chuzhi_graph.errors import EnvironmentProblem, OutputError, QueryError
from chuzhi_graph.fileio import AtomicFiles, write_text_atomic
from chuzhi_graph.graphs import EDGE_KIND_LABELS, KIND_LABELS, build_view, find_dump

log = logging.getLogger(__name__)

FORMATS = formats.PICTURE
MAIN_VIEWS = ("institutions", "cases", "domains")
TITLES = {
    "institutions": "单位合作网络 / Who works with whom",
    "cases": "单位—案例—领域 / Units, cases and domains",
    "domains": "治理领域共现 / Domain co-occurrence",
    "full": "楚治案例知识图谱 / The whole graph",
}
DEFAULT_SEED = 7
#: Above this many nodes the page opens with physics off and the precomputed positions.
PHYSICS_LIMIT = 300
#: Above this many nodes the layout is the grid-approximated force layout (:func:`fast_layout`).
SPRING_LIMIT = 500
#: The main job skips a view above this many nodes (a page that big helps nobody; filter it).
MAIN_VIEW_LIMIT = 20_000
#: Font families tried, in order, for Chinese labels in png/svg pictures.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Source Han Sans SC",
             "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback",
             "AR PL UMing CN")

KIND_COLOURS = {
    "case": "#e15759", "domain": "#59a14f", "region": "#9c755f", "edition": "#b07aa1",
    "category": "#f28e2b", "unit-type": "#bab0ac", "track": "#76b7b2", "source": "#edc948",
}
UNIT_TYPE_COLOURS = {
    "party-government": "#4e79a7", "public-institution": "#17becf",
    "enterprise": "#8cd17d", "state-owned-enterprise": "#1f9e89", "private-enterprise": "#bcbd22",
    "university-research": "#9467bd", "media": "#ff9da7",
}
FALLBACK_COLOURS = ("#79706e", "#d37295", "#a0cbe8", "#ffbe7d", "#86bcb6", "#f1ce63")
EDGE_STYLES = {
    "co-applicant": {"color": "#7f7f7f", "dashes": False},
    "parent": {"color": "#b07aa1", "dashes": True},
    "applicant": {"color": "#8fb3d9", "dashes": False},
    "domain": {"color": "#9fd39a", "dashes": False},
    "co-occurrence": {"color": "#59a14f", "dashes": False},
}
CONTINUOUS = "#aaaaaa"


def group_colour(group: str) -> str:
    """The colour of a node group: ``unit:<type notation>`` or a kind.

    >>> group_colour("unit:state-owned-enterprise"), group_colour("case")
    ('#1f9e89', '#e15759')
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


def _scatter(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    return np.stack([np.bincount(index, values[:, 0], minlength=n),
                     np.bincount(index, values[:, 1], minlength=n)], axis=1)


def fast_layout(graph: nx.Graph, seed: int = DEFAULT_SEED, iterations: int = 50,
                grid: int = 20) -> dict[object, tuple[float, float]]:
    """A Fruchterman-Reingold layout for thousands of nodes, in a few seconds.

    networkx's ``spring_layout`` takes minutes at 5,000 nodes; here the far-field repulsion
    comes from the centroids of a coarse grid and the near-field repulsion from a k-d tree
    of close pairs (the grid variant of Fruchterman and Reingold), all vectorised.

    >>> pos = fast_layout(nx.path_graph(4), seed=1)
    >>> len(pos)
    4
    """
    from scipy.spatial import cKDTree

    nodes = list(graph)
    n = len(nodes)
    if n == 0:
        return {}
    index = {v: i for i, v in enumerate(nodes)}
    ends = np.array([(index[u], index[v]) for u, v in graph.edges() if u != v],
                    dtype=np.int64).reshape(-1, 2)
    rng = np.random.default_rng(seed)
    side = math.sqrt(n)
    pos = rng.uniform(0, side, (n, 2))
    k = 1.0
    step = side / 8
    for _ in range(iterations):
        disp = np.zeros((n, 2))
        lo = pos.min(axis=0)
        span = np.maximum(pos.max(axis=0) - lo, 1e-9)
        cell = np.minimum(((pos - lo) / span * grid).astype(np.int64), grid - 1)
        cid = cell[:, 0] * grid + cell[:, 1]
        mass = np.bincount(cid, minlength=grid * grid).astype(float)
        used = mass > 0
        cent = np.stack([np.bincount(cid, pos[:, 0], minlength=grid * grid)[used] / mass[used],
                         np.bincount(cid, pos[:, 1], minlength=grid * grid)[used] / mass[used]], axis=1)
        dx = pos[:, 0, None] - cent[None, :, 0]
        dy = pos[:, 1, None] - cent[None, :, 1]
        w = (k * k) * mass[used][None, :] / np.maximum(dx * dx + dy * dy, (span.max() / grid) ** 2)
        disp[:, 0] += (w * dx).sum(1)
        disp[:, 1] += (w * dy).sum(1)
        pairs = cKDTree(pos).query_pairs(2 * k, output_type="ndarray")
        if len(pairs):
            d = pos[pairs[:, 0]] - pos[pairs[:, 1]]
            f = (k * k / np.maximum((d * d).sum(1), 1e-4))[:, None] * d
            disp += _scatter(pairs[:, 0], f, n) - _scatter(pairs[:, 1], f, n)
        if len(ends):
            d = pos[ends[:, 0]] - pos[ends[:, 1]]
            f = (np.maximum(np.hypot(d[:, 0], d[:, 1]), 0.01) / k)[:, None] * d
            disp += _scatter(ends[:, 1], f, n) - _scatter(ends[:, 0], f, n)
        disp -= (pos - pos.mean(axis=0)) * 0.02
        length = np.maximum(np.hypot(disp[:, 0], disp[:, 1]), 1e-9)
        pos += disp / length[:, None] * np.minimum(length, step)[:, None]
        step = max(step * 0.93, 0.02)
    pos -= pos.mean(axis=0)
    return {v: (float(x), float(y)) for v, (x, y) in zip(nodes, pos, strict=True)}


def layout(graph: nx.Graph, seed: int = DEFAULT_SEED) -> dict[object, tuple[float, float]]:
    """Seeded node positions in screen units (about 80 per node spacing): same data, same picture.

    >>> layout(nx.path_graph(3), seed=1) == layout(nx.path_graph(3), seed=1)
    True
    """
    simple = nx.Graph(graph.to_undirected()) if graph.is_directed() or graph.is_multigraph() else graph
    n = simple.number_of_nodes()
    if n == 0:
        return {}
    if n > SPRING_LIMIT:
        raw = fast_layout(simple, seed=seed)
        scale = 70.0
    else:
        # weights stay out of the layout: heavy ties would pull nodes onto each other
        raw = {v: (float(x), float(y)) for v, (x, y) in
               nx.spring_layout(simple, seed=seed, weight=None, k=1.6 / math.sqrt(n)).items()}
        scale = 90.0 * math.sqrt(n) / 2
    return {v: (round(x * scale, 1), round(y * scale, 1)) for v, (x, y) in raw.items()}


# ---------------------------------------------------------------- page data


def size_values(graph: nx.Graph, size_by: str) -> dict[object, float]:
    """The measure that sizes the nodes: ``degree`` or ``cases`` (case count)."""
    if size_by == "degree":
        return {v: float(d) for v, d in graph.degree()}
    if size_by == "cases":
        return {v: float(graph.nodes[v].get("cases", 0) or 0) for v in graph}
    raise QueryError(f"unknown size measure {size_by!r} (known: degree, cases)", field="--size-by")


def default_size_by(graph: nx.Graph) -> str:
    return "cases" if graph.graph.get("view") in ("institutions", "domains") else "degree"


def node_tip(attrs: dict) -> list[list[object]]:
    """Tooltip lines ``[key, value]`` of a node; the page shows them as text."""
    lines: list[list[object]] = [["", attrs.get("label", "")]]
    kind = attrs.get("kind", "")
    lines.append(["类型", attrs.get("unit_type") or KIND_LABELS.get(kind, kind)])
    if attrs.get("aliases"):
        lines.append(["简称", "、".join(attrs["aliases"])])
    if attrs.get("region"):
        lines.append(["地区", attrs["region"]])
    if kind == "case":
        lines.append(["奖项类别", attrs.get("category", "")])
        lines.append(["申报单位", list(attrs.get("applicants", []))])
        if attrs.get("domains"):
            lines.append(["治理领域", "、".join(attrs["domains"])])
    elif attrs.get("case_titles"):
        lines.append([f"案例（{len(attrs['case_titles'])}）", list(attrs["case_titles"])])
    return lines


def _edge_tip(kind: str, attrs: dict) -> list[list[object]]:
    label = attrs.get("label") or EDGE_KIND_LABELS.get(kind, kind)
    weight = attrs.get("weight", 1)
    if kind in ("co-applicant", "co-occurrence"):
        return [[label, f"{weight} 个案例"]]
    return [["", label]]


def page_data(graph: nx.Graph, *, size_by: str | None = None, seed: int = DEFAULT_SEED,
              physics: bool | None = None) -> dict[str, object]:
    """Nodes, edges, legend, facets and vis-network options of the page."""
    from pyvis.network import Network

    n = graph.number_of_nodes()
    physics = n <= PHYSICS_LIMIT if physics is None else physics
    pos = layout(graph, seed)
    values = size_values(graph, size_by or default_size_by(graph))
    top = max(values.values(), default=0) or 1.0
    net = Network(directed=graph.is_directed(), cdn_resources="in_line")
    # pyvis's add_node/from_nx are quadratic: fill its node and edge lists directly
    for v, attrs in graph.nodes(data=True):
        group = str(attrs.get("group") or attrs.get("kind") or "node")
        x, y = pos[v]
        net.nodes.append({
            "id": str(v), "label": str(attrs.get("label", v)), "group": group,
            "color": group_colour(group), "x": x, "y": y,
            "size": round(8 + 22 * math.sqrt(max(values[v], 0) / top), 1),
            "names": [str(attrs.get("label", v)), *map(str, attrs.get("aliases", []))],
            "categories": list(attrs.get("categories", [])), "domains": list(attrs.get("domains", [])),
            "tip": node_tip(attrs),
        })
    edge_iter = (graph.edges(keys=True, data=True) if graph.is_multigraph()
                 else ((u, v, None, d) for u, v, d in graph.edges(data=True)))
    for i, (u, v, _key, attrs) in enumerate(edge_iter):
        kind = str(attrs.get("kind", "link"))
        style = EDGE_STYLES.get(kind, {"color": CONTINUOUS, "dashes": False})
        weight = float(attrs.get("weight", 1) or 1)
        edge = {"id": i, "from": str(u), "to": str(v), "kind": kind,
                "color": {"color": style["color"], "opacity": 0.8}, "dashes": style["dashes"],
                "width": round(min(1 + 1.5 * (weight - 1), 8), 1), "tip": _edge_tip(kind, attrs)}
        if graph.is_directed():
            edge["arrows"] = "to"
        net.edges.append(edge)
    net.options = {
        "autoResize": True,
        "layout": {"improvedLayout": False, "randomSeed": seed},
        "physics": {"enabled": physics, "stabilization": {"enabled": physics, "iterations": 150,
                                                         "fit": True},
                    "barnesHut": {"gravitationalConstant": -3000, "springLength": 120,
                                  "avoidOverlap": 0.2}},
        "nodes": {"shape": "dot", "font": {"size": 14, "color": "#222", "face": "sans-serif"},
                  "borderWidth": 1, "scaling": {"label": {"drawThreshold": 6}}},
        "edges": {"smooth": False, "selectionWidth": 2},
        "interaction": {"hover": True, "tooltipDelay": 150, "hideEdgesOnDrag": n > PHYSICS_LIMIT,
                        "navigationButtons": False, "keyboard": False},
    }
    nodes, edges, *_rest, options = net.get_network_data()
    groups = Counter(nd["group"] for nd in nodes)
    kinds = Counter(e["kind"] for e in edges)
    legend_nodes = [{"key": g, "label": group_label(graph, g), "color": group_colour(g), "count": c}
                    for g, c in sorted(groups.items(), key=lambda gc: (gc[0].startswith("unit:") is False,
                                                                        gc[0]))]
    legend_edges = [{"key": k, "label": EDGE_KIND_LABELS.get(k) or _edge_label(graph, k),
                     "color": EDGE_STYLES.get(k, {"color": CONTINUOUS})["color"],
                     "dashes": EDGE_STYLES.get(k, {"dashes": False})["dashes"], "count": c}
                    for k, c in sorted(kinds.items())]
    return {
        "nodes": nodes, "edges": edges, "options": json.loads(options),
        "legend": {"nodes": legend_nodes, "edges": legend_edges},
        "facets": {"categories": sorted({c for nd in nodes for c in nd["categories"]}),
                   "domains": sorted({d for nd in nodes for d in nd["domains"]})},
    }


def _edge_label(graph: nx.Graph, kind: str) -> str:
    for *_, attrs in graph.edges(data=True):
        if attrs.get("kind") == kind and attrs.get("label"):
            return f"{attrs['label']} ({kind})"
    return kind


def html_page(graph: nx.Graph, title: str, *, size_by: str | None = None, seed: int = DEFAULT_SEED,
              physics: bool | None = None) -> str:
    """The self-contained HTML page of ``graph`` (see :func:`render_html`)."""
    from jinja2 import Environment, select_autoescape

    data = page_data(graph, size_by=size_by, seed=seed, physics=physics)
    vis_js = _asset("static/vis/vis-network.min.js")
    app_js = _asset("static/vis/chuzhi-view.js")
    csp = ("default-src 'none'; "
           f"script-src {_sha256(vis_js)} {_sha256(app_js)}; "
           "style-src 'unsafe-inline'; img-src data:; font-src 'none'; connect-src 'none'; "
           "object-src 'none'; base-uri 'none'; form-action 'none'")
    env = Environment(autoescape=select_autoescape(default=True), keep_trailing_newline=True)
    template = env.from_string(_asset("templates/graph.html"))
    filters = graph.graph.get("filters", "")
    footer = (f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges"
              + (f"; filters: {filters}" if filters else "")
              + f" · chuzhi-graph {__version__} · vis-network 9.1.2 (Apache-2.0/MIT)")
    # a page title is one line: HTML folds CR/LF and tabs anyway, so fold them here, visibly
    title = " ".join("".join(ch if ch.isprintable() or ch.isspace() else " " for ch in title).split())
    return template.render(title=title, csp=csp, version=__version__, footer=footer,
                           vis_css=_asset("static/vis/vis-network.css"), vis_js=vis_js,
                           app_js=app_js, data_json=_json_for_script(data))


def render_html(graph: nx.Graph, path: str | Path, title: str = "楚治案例知识图谱", *,
                size_by: str | None = None, seed: int = DEFAULT_SEED,
                physics: bool | None = None) -> Path:
    """Write ``graph`` as one self-contained interactive HTML file (UTF-8) and return its path.

    ``size_by`` is ``degree`` or ``cases`` (default: cases for the institutions and domains
    views); ``physics`` defaults to on up to :data:`PHYSICS_LIMIT` nodes.

    >>> render_html(nx.path_graph(3), "/tmp/path.html", title="path")  # doctest: +SKIP
    PosixPath('/tmp/path.html')
    """
    return write_text_atomic(path, html_page(graph, title, size_by=size_by, seed=seed, physics=physics))


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


def render_picture(graph: nx.Graph, path: str | Path, fmt: str, title: str = "", *,
                   size_by: str | None = None, seed: int = DEFAULT_SEED) -> Path:
    """A static png or svg picture of ``graph`` (matplotlib), with Chinese labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    font = cjk_font()
    data = page_data(graph, size_by=size_by, seed=seed, physics=False)
    pos = {nd["id"]: (nd["x"], -nd["y"]) for nd in data["nodes"]}  # screen y grows downwards
    n = len(pos)
    side = min(max(6.0, math.sqrt(n) * 1.6), 30.0)
    with plt.rc_context({"font.family": [font], "svg.hashsalt": "chuzhi-graph",
                         "svg.fonttype": "path", "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(side + 3, side))
        for e in data["edges"]:
            (x1, y1), (x2, y2) = pos[e["from"]], pos[e["to"]]
            ax.plot([x1, x2], [y1, y2], color=e["color"]["color"], alpha=0.7, zorder=1,
                    linewidth=e["width"] * 0.6, linestyle="--" if e["dashes"] else "-")
        xs = [pos[nd["id"]][0] for nd in data["nodes"]]
        ys = [pos[nd["id"]][1] for nd in data["nodes"]]
        ax.scatter(xs, ys, s=[(nd["size"] * 0.9) ** 2 for nd in data["nodes"]], zorder=2,
                   c=[nd["color"] for nd in data["nodes"]], edgecolors="#444", linewidths=0.5)
        if n <= 200:
            for nd in data["nodes"]:
                x, y = pos[nd["id"]]
                ax.annotate(nd["label"], (x, y), fontsize=7, ha="center", va="bottom", zorder=3,
                            xytext=(0, nd["size"] * 0.45 + 2), textcoords="offset points")
        handles = [Line2D([], [], marker="o", linestyle="", color=item["color"],
                          label=f"{item['label']} ({item['count']})") for item in data["legend"]["nodes"]]
        handles += [Line2D([], [], color=item["color"], linestyle="--" if item["dashes"] else "-",
                           label=f"{item['label']} ({item['count']})") for item in data["legend"]["edges"]]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
        ax.set_title(title)
        ax.set_axis_off()
        fig.tight_layout()
        path = Path(path)
        with AtomicFiles() as files:
            tmp = files.path(path)
            fig.savefig(tmp, format=fmt, dpi=150, metadata={"Date": None} if fmt == "svg" else None)
        plt.close(fig)
    return path


def export_graph(graph: nx.Graph, path: str | Path, fmt: str, *, seed: int = DEFAULT_SEED) -> Path:
    """GraphML or GEXF for Gephi: node attributes (lists joined by ``|``), positions, colours."""
    pos = layout(graph, seed)
    out = graph.copy()
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


def render(graph: nx.Graph, path: str | Path, fmt: str = "html", title: str | None = None, *,
           size_by: str | None = None, seed: int = DEFAULT_SEED) -> Path:
    """Write ``graph`` in ``fmt`` (html, png, svg, graphml, gexf) to ``path``.

    >>> render(g, "out/domains.svg", "svg")      # doctest: +SKIP
    PosixPath('out/domains.svg')
    """
    title = title or TITLES.get(graph.graph.get("view", ""), "楚治案例知识图谱")
    if fmt == "html":
        return render_html(graph, path, title, size_by=size_by, seed=seed)
    if fmt in ("png", "svg"):
        return render_picture(graph, path, fmt, title, size_by=size_by, seed=seed)
    if fmt in ("graphml", "gexf"):
        return export_graph(graph, path, fmt, seed=seed)
    raise OutputError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})", field="--format")


def render_main_views(out_dir: Path, base: str) -> list[Path]:  # noqa: ARG001 (unused base: callers in flight pass it)
    """The main job's pages: institutions, cases and domains as HTML in ``out_dir``.

    Built from ``out_dir/chuzhi.nt`` (or ``.ttl``); ``base`` is the data's base IRI, kept for
    the build's call signature (the view queries do not depend on it). A view of more than
    :data:`MAIN_VIEW_LIMIT` nodes is skipped with a warning: draw it filtered with ``render``.

    >>> render_main_views(Path("out"), "https://w3id.org/chuzhi/")   # doctest: +SKIP
    [PosixPath('out/institutions.html'), PosixPath('out/cases.html'), PosixPath('out/domains.html')]
    """
    from chuzhi_graph.graphs import load_store

    out_dir = Path(out_dir)
    store = load_store(find_dump(out_dir))
    paths = []
    for view in MAIN_VIEWS:
        graph = build_view(store, view)
        if graph.number_of_nodes() > MAIN_VIEW_LIMIT:
            log.warning("%s view skipped: %d nodes (more than %d); draw it filtered, e.g. "
                        "`chuzhi-graph render %s --edition YEAR`", view, graph.number_of_nodes(),
                        MAIN_VIEW_LIMIT, view)
            continue
        paths.append(render_html(graph, out_dir / f"{view}.html", TITLES[view]))
        log.info("rendered %s: %d nodes, %d edges", view, graph.number_of_nodes(), graph.number_of_edges())
    return paths
