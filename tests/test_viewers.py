"""Viewers on a phone and with a keyboard, the site's search, and an accessibility scan (axe-core).

Every journey runs in headless Chromium with non-file requests blocked; axe-core (npm, vendored in
tests/vendor/axe-core for the tests only) is injected by Playwright.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chuzhi_graph.site.publish import PublishResult
from chuzhi_graph.views.render import render_main_views

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
UNIT = "https://w3id.org/chuzhi/unit/"
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pages(built, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("viewers")
    shutil.copy(built.files["nt"], out / "chuzhi.nt")
    return {p.stem: p for p in render_main_views(out, "https://w3id.org/chuzhi/")}


@pytest.fixture(scope="module")
def site(published) -> PublishResult:
    """The shipped data's site (the run's shared publish: conftest)."""
    return published


def open_page(browser, path: Path | str, *, touch: bool = False, csp: bool = True, **viewport):
    """A page from disk, every non-file request aborted; returns (page, errors)."""
    page = browser.new_page(viewport=viewport or {"width": 1400, "height": 900}, has_touch=touch,
                            is_mobile=touch, bypass_csp=not csp)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(path if isinstance(path, str) else path.as_uri())
    page.wait_for_load_state("load")
    if page.query_selector("#graph-data"):
        page.wait_for_function("window.chuzhi && window.chuzhi.ready === true", timeout=30_000)
    return page, errors


# ---------------------------------------------------------------- phone


def test_graph_page_on_a_phone(browser, pages, artefacts) -> None:
    page, errors = open_page(browser, pages["institutions"], touch=True, **PHONE)
    width, canvas, scroll, below = page.evaluate("""(() => { const g = document.getElementById('graph');
        const side = document.getElementById('side').getBoundingClientRect().top;
        return [document.documentElement.clientWidth, g.clientWidth, document.documentElement.scrollWidth,
                side >= g.getBoundingClientRect().bottom]; })()""")
    assert canvas >= 0.9 * width and scroll <= width and below  # the legend and panel under the canvas
    page.screenshot(path=str(artefacts / "viewers-phone-institutions.png"), full_page=True)
    # a full-page screenshot resizes the viewport, and vis-network scales its view with the canvas (once a
    # loaded run read 18.8, above its maximum zoom of 10): the view fitted again, as the F key does
    page.evaluate("new Promise(done => requestAnimationFrame(() => { chuzhi.fit(); done(); }))")
    assert page.evaluate("chuzhi.network.getScale()") <= 1.6  # fit's maxZoomLevel: room to pinch
    # touch: one finger pans, two fingers pinch-zoom (vis-network's own touch handling)
    cdp = page.context.new_cdp_session(page)
    left, top, w, h = page.evaluate("""(() => { const r = document.getElementById('graph').getBoundingClientRect();
        return [r.left, r.top, r.width, r.height]; })()""")
    cx, cy = left + w / 2, top + h / 2

    def touch(kind: str, points: list[tuple[float, float]]) -> None:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
            {"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]})

    before = page.evaluate("[chuzhi.network.getViewPosition(), chuzhi.network.getScale()]")
    touch("touchStart", [(cx, cy)])
    for k in range(1, 11):
        touch("touchMove", [(cx + 8 * k, cy + 4 * k)])
        page.wait_for_timeout(16)
    touch("touchEnd", [])
    moved = page.evaluate("[chuzhi.network.getViewPosition(), chuzhi.network.getScale()]")
    assert (before[0]["x"] - moved[0]["x"]) * moved[1] == pytest.approx(80, abs=4)  # followed the finger
    touch("touchStart", [(cx - 20, cy), (cx + 20, cy)])
    for k in range(1, 11):
        touch("touchMove", [(cx - 20 - 8 * k, cy), (cx + 20 + 8 * k, cy)])
        page.wait_for_timeout(16)
    touch("touchEnd", [])
    assert page.evaluate("chuzhi.network.getScale()") > 2 * moved[1]
    assert errors == []
    page.close()


@pytest.mark.parametrize("name", ["index.html", "queries.html", "units.html", "cases.html", "def.html",
                                  "dataset.html", "unit/hust.html", "graphs.html"])
def test_site_pages_do_not_scroll_sideways_on_a_phone(browser, site, name) -> None:
    page, errors = open_page(browser, site.site / name, **PHONE)
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client == PHONE["width"]
    assert errors == []
    page.close()


# ---------------------------------------------------------------- keyboard


def test_keyboard_journey_on_a_graph_page(browser, pages) -> None:
    page, errors = open_page(browser, pages["institutions"])
    page.keyboard.press("Tab")  # the first control: the search box
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.type("华中科大")
    page.keyboard.press("Enter")
    assert page.evaluate("chuzhi.network.getSelectedNodes()") == [UNIT + "hust"]
    # to the canvas, then the panel's cases
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "graph":
            break
    assert page.evaluate("document.activeElement.id") == "graph"
    at, scale = page.evaluate("[chuzhi.network.getViewPosition(), chuzhi.network.getScale()]")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    moved = page.evaluate("chuzhi.network.getViewPosition()")
    assert moved["x"] > at["x"] and moved["y"] > at["y"]
    page.keyboard.press("+")
    assert page.evaluate("chuzhi.network.getScale()") == pytest.approx(scale * 1.25)
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert page.evaluate("chuzhi.network.getScale()") == pytest.approx(scale * 1.25 * 0.8 * 0.8)
    for _ in range(5):  # the panel's cases come next (vis-network's own frame may take one stop)
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('#panel-cases') !== null"):
            break
    assert page.evaluate("document.activeElement.closest('#panel-cases') !== null")
    page.keyboard.press("Escape")
    assert page.evaluate("chuzhi.state.selected") is None and page.is_hidden("#panel")
    page.keyboard.press("f")
    assert page.evaluate("chuzhi.network.getScale()") == pytest.approx(page.evaluate("chuzhi.initialScale"), rel=0.02)
    assert errors == []
    page.close()


def test_keyboard_journey_on_the_site(browser, site) -> None:
    """Search by keyboard, open the hit, then sort and filter a list and reach its rows."""
    page, errors = open_page(browser, site.site / "index.html")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "site-search-box":
            break
    page.keyboard.type("华中科大")
    page.keyboard.press("Enter")
    page.wait_for_selector("#site-search-results a")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "unit/hust.html"
    page.keyboard.press("Enter")
    page.wait_for_url("**/unit/hust.html")
    page.goto((site.site / "units.html").as_uri())
    rows = page.evaluate("document.querySelectorAll('table.list tbody tr').length")
    page.focus("table.list thead th:nth-child(4) button")  # 申报案例数 / cases
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # descending
    counts = page.evaluate("""Array.from(document.querySelectorAll('table.list tbody tr'))
        .map(r => Number(r.cells[3].textContent.trim()))""")
    assert counts == sorted(counts, reverse=True) and len(counts) == rows and counts[0] > counts[-1]
    page.focus(".list-filter input")
    page.keyboard.type("华中科技")
    shown = page.evaluate("""Array.from(document.querySelectorAll('table.list tbody tr')).filter(r => !r.hidden)
        .map(r => r.cells[0].textContent.trim())""")
    assert shown and all("华中科技" in s for s in shown)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('thead') !== null")  # the sort buttons next
    page.focus("table.list tbody tr:not([hidden])")
    assert page.evaluate("document.activeElement.tagName") == "TR"  # rows take the focus
    assert errors == []
    page.close()


# ---------------------------------------------------------------- the site's search


def test_site_search_finds_a_unit_by_its_alias_offline(browser, site) -> None:
    page, errors = open_page(browser, site.site / "cases.html")
    page.fill("#site-search-box", "华中科大")
    page.press("#site-search-box", "Enter")
    page.wait_for_selector("body[data-search-done]", state="attached")
    took = page.evaluate("chuzhiSearch.took") / 1000  # from the query to the results shown
    hits = page.evaluate("""Array.from(document.querySelectorAll('#site-search-results a'))
        .map(a => [a.textContent, a.getAttribute('href')])""")
    assert hits == [["华中科技大学", "unit/hust.html"]]
    assert took < 1.0
    page.click("#site-search-results a")
    page.wait_for_url("**/unit/hust.html")
    assert page.title().startswith("华中科技大学")
    # a case title, from a page one folder down (links relative to it)
    page.fill("#site-search-box", "城市智脑")
    page.press("#site-search-box", "Enter")
    page.wait_for_selector("#site-search-results a[href='../case/bigdata-2022-excellent-03.html']")
    page.fill("#site-search-box", "不存在的名字")
    page.press("#site-search-box", "Enter")
    page.wait_for_selector("#site-search-status >> text=未找到 / nothing found")
    assert errors == []
    page.close()


# ---------------------------------------------------------------- accessibility


def axe(page) -> list[tuple[str, str, list[str]]]:
    page.add_script_tag(path=str(AXE))
    return [tuple(v) for v in page.evaluate("""axe.run(document, {resultTypes: ['violations']}).then(r =>
        r.violations.map(v => [v.id, v.impact, v.nodes.map(n => n.target.join(' '))]))""")]


def serious(violations) -> list:
    return [v for v in violations if v[1] in ("serious", "critical")]


def test_axe_finds_what_it_should(browser, pages) -> None:
    """The scan can fail: a search box without its label is a critical violation."""
    page, _ = open_page(browser, pages["institutions"], csp=False)
    page.evaluate("""(() => { const s = document.getElementById('search');
        s.removeAttribute('placeholder'); s.parentNode.replaceWith(s); })()""")
    assert "label" in {v[0] for v in serious(axe(page))}
    page.close()


@pytest.mark.parametrize("view", ["institutions", "cases", "domains"])
def test_graph_pages_pass_axe(browser, pages, view) -> None:
    page, _ = open_page(browser, pages[view], csp=False)
    assert serious(axe(page)) == []
    page.fill("#search", "国网湖北省电力有限公司")  # with the panel open
    page.press("#search", "Enter")
    assert serious(axe(page)) == []
    page.close()


@pytest.mark.parametrize("name", ["index.html", "queries.html", "units.html", "cases.html", "def.html",
                                  "unit/hust.html", "graphs.html", "graphs/institutions.html"])
def test_site_pages_pass_axe(browser, site, name) -> None:
    page, _ = open_page(browser, site.site / name, csp=False)
    if page.query_selector("#site-search-box"):  # with the search's results open
        page.fill("#site-search-box", "华中")
        page.press("#site-search-box", "Enter")
        page.wait_for_selector("body[data-search-done]", state="attached")
    assert serious(axe(page)) == []
    page.close()
