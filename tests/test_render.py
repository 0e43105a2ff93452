"""Rendering views: offline HTML (checked in headless Chromium), pictures, Gephi exports (issue 5)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from pathlib import Path

import networkx as nx
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chuzhi_graph import render as render_mod
from chuzhi_graph.build import build
from chuzhi_graph.cli import cli
from chuzhi_graph.errors import EnvironmentProblem
from chuzhi_graph.graphs import KIND_LABELS, build_view
from chuzhi_graph.render import (
    MAIN_VIEWS,
    PHYSICS_LIMIT,
    cjk_font,
    html_page,
    layout,
    page_data,
    render,
    render_html,
    render_main_views,
)

UNIT = "https://w3id.org/chuzhi/unit/"
CHROMIUM = "/usr/bin/chromium"
XSS_NAME = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def pages(built, tmp_path_factory) -> dict[str, Path]:
    """The main views rendered from a copy of the shipped build."""
    out = tmp_path_factory.mktemp("render")
    shutil.copy(built.files["nt"], out / "chuzhi.nt")
    return {p.stem: p for p in render_main_views(out, "https://w3id.org/chuzhi/")}


def data_block(html: str) -> dict:
    soup = BeautifulSoup(html, "html.parser")
    return json.loads(soup.find("script", id="graph-data").string)


# ---------------------------------------------------------------- the page, without a browser


def test_main_views_are_written(pages) -> None:
    assert sorted(pages) == sorted(MAIN_VIEWS)
    for path in pages.values():
        assert path.read_bytes().decode("utf-8")  # UTF-8


def test_page_is_self_contained(pages) -> None:
    html = pages["institutions"].read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("meta", charset="utf-8") is not None
    assert soup.find("link") is None
    assert not soup.find_all(src=True)
    assert not [t for t in soup.find_all(href=True)]
    css = " ".join(s.string or "" for s in soup.find_all("style"))
    assert "@import" not in css and "@font-face" not in css
    assert all(u.startswith(("data:", '"data:', "'data:")) for u in re.findall(r"url\(([^)]*)\)", css))
    assert not re.search(r"https?://[a-z0-9.-]*(cdn|jsdelivr|unpkg|googleapis|cloudflare|bootstrap)", html, re.I)


def test_csp_allows_exactly_the_inline_scripts(pages) -> None:
    soup = BeautifulSoup(pages["cases"].read_text(encoding="utf-8"), "html.parser")
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    scripts = [s for s in soup.find_all("script") if s.get("type") != "application/json"]
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(s.string.encode()).digest()).decode() + "'"
              for s in scripts}
    assert len(scripts) == 2
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert set(directives["script-src"].split()) == hashes
    assert directives["default-src"] == "'none'" and directives["connect-src"] == "'none'"


def test_page_data_matches_the_graph(built, pages) -> None:
    g = build_view(built.out_dir, "institutions")
    data = data_block(pages["institutions"].read_text(encoding="utf-8"))
    assert len(data["nodes"]) == g.number_of_nodes() and len(data["edges"]) == g.number_of_edges()
    node = next(n for n in data["nodes"] if n["id"] == UNIT + "state-grid-hubei")
    assert node["names"] == ["国网湖北省电力有限公司", "国网湖北电力"]
    assert ["案例（2）", ["国网湖北电力打造现代供电服务指挥体系",
                       "国网湖北电力“电碳地图”助力湖北实现“双碳”目标"]] in node["tip"]
    assert {e["label"] for e in data["legend"]["edges"]} == {"共同申报", "上级单位"}
    assert "十佳案例(政务服务组)" in data["facets"]["categories"]
    assert data["options"]["physics"]["enabled"] is True


def test_same_data_same_page(built, tmp_path) -> None:
    g = build_view(built.out_dir, "cases")
    a = render_html(g, tmp_path / "a.html", title="t").read_bytes()
    b = render_html(build_view(built.out_dir, "cases"), tmp_path / "b.html", title="t").read_bytes()
    assert a == b
    assert layout(g, seed=1) != layout(g, seed=2)


def test_large_graphs_get_precomputed_positions_without_physics() -> None:
    g = nx.barabasi_albert_graph(PHYSICS_LIMIT * 2, 2, seed=3)
    data = page_data(g)
    assert data["options"]["physics"]["enabled"] is False
    xy = [(n["x"], n["y"]) for n in data["nodes"]]
    assert len(set(xy)) == len(xy)
    assert data == page_data(g)
    assert page_data(nx.path_graph(5))["options"]["physics"]["enabled"] is True


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=1, max_size=40))
def test_any_name_stays_data(name: str) -> None:
    g = nx.Graph()
    g.add_node("n1", label=name, kind="unit", group="unit:x", aliases=[name + "</script>"])
    g.add_node("n2", label="其他", kind="case", group="case")
    g.add_edge("n1", "n2", kind="applicant")
    html = html_page(g, title=name)
    block = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', html, re.S)
    assert block is not None
    assert "<" not in block.group(1) and ">" not in block.group(1)
    data = json.loads(block.group(1))
    assert data["nodes"][0]["label"] == name and data["nodes"][0]["names"][1] == name + "</script>"
    soup = BeautifulSoup(html, "html.parser")
    shown = " ".join("".join(c if c.isprintable() or c.isspace() else " " for c in name).split())
    assert soup.title.get_text() == shown


# ---------------------------------------------------------------- pictures and exports


def test_png_and_svg(built, tmp_path) -> None:
    g = build_view(built.out_dir, "domains")
    png = render(g, tmp_path / "d.png", "png")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    svg1 = render(g, tmp_path / "d1.svg", "svg").read_bytes()
    svg2 = render(g, tmp_path / "d2.svg", "svg").read_bytes()
    assert svg1 == svg2
    assert b"<svg" in svg1[:600]


def test_missing_cjk_font_names_the_package(built, tmp_path, monkeypatch) -> None:
    with pytest.raises(EnvironmentProblem, match="install the Debian package fonts-noto-cjk"):
        cjk_font(("No Such Font",))
    monkeypatch.setattr(render_mod, "CJK_FONTS", ("No Such Font",))
    result = CliRunner().invoke(cli, ["render", "domains", "--graph", str(built.out_dir), "--format", "png",
                                      "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 7
    assert result.stderr.endswith(
        "Error: field --format: no font with Chinese glyphs found for png/svg pictures: install the "
        "Debian package fonts-noto-cjk (apt-get install fonts-noto-cjk), then remove "
        "~/.cache/matplotlib\n")
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_gephi_exports_keep_attributes(built, tmp_path, fmt) -> None:
    g = build_view(built.out_dir, "institutions")
    path = render(g, tmp_path / f"i.{fmt}", fmt)
    back = nx.read_graphml(path) if fmt == "graphml" else nx.read_gexf(path)
    assert set(back) == set(g) and back.number_of_edges() == g.number_of_edges()
    node = back.nodes[UNIT + "state-grid-hubei"]
    assert node["label"] == "国网湖北省电力有限公司"
    assert node["aliases"] == "国网湖北电力"
    assert node["unit_type"] == "国有企业"
    assert int(node["cases"]) == 2


def test_cli_render_writes_beside_the_dump(built, tmp_path) -> None:
    shutil.copy(built.files["nt"], tmp_path / "chuzhi.nt")
    result = CliRunner().invoke(cli, ["render", "institutions", "--graph", str(tmp_path),
                                      "--category", "gov", "--no-parents"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{tmp_path / 'institutions.html'}\n"
    data = data_block((tmp_path / "institutions.html").read_text(encoding="utf-8"))
    assert len(data["nodes"]) == 11 and len(data["edges"]) == 1  # gov cases: 11 units, one pair


def test_main_job_skips_huge_views(built, tmp_path, monkeypatch, caplog) -> None:
    shutil.copy(built.files["nt"], tmp_path / "chuzhi.nt")
    monkeypatch.setattr(render_mod, "MAIN_VIEW_LIMIT", 30)  # institutions 35 nodes, cases 72, domains 16
    assert render_main_views(tmp_path, "https://w3id.org/chuzhi/") == [tmp_path / "domains.html"]
    assert "institutions view skipped: 38 nodes (more than 30)" in caplog.text  # 35 of 2022, 3 of the series


def test_main_job_prints_the_pages(tmp_path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for view in MAIN_VIEWS:
        assert f"{out / view}.html\n" in result.stdout
        assert (out / f"{view}.html").is_file()


# ---------------------------------------------------------------- in headless Chromium


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


class Opened:
    """A page opened from disk with every non-file request blocked and recorded."""

    def __init__(self, browser, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                        else route.abort())
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.chuzhi && window.chuzhi.ready === true", timeout=30_000)

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def search(self, text: str) -> list[str]:
        self.page.fill("#search", text)
        self.page.press("#search", "Enter")
        return self.js("chuzhi.network.getSelectedNodes()")

    def hover_node(self, node_id: str) -> None:
        x, y = self.js("""id => { const p = chuzhi.network.canvasToDOM(chuzhi.network.getPosition(id));
            const r = document.getElementById('graph').getBoundingClientRect();
            return [r.left + p.x, r.top + p.y]; }""", node_id)
        self.page.mouse.move(x, y)

    def click_node(self, node_id: str) -> None:
        self.hover_node(node_id)
        self.page.mouse.down()
        self.page.mouse.up()


def expected_legend(g: nx.Graph) -> set[str]:
    out = set()
    for _, attrs in g.nodes(data=True):
        out.add(f"单位：{attrs['unit_type']}" if attrs["kind"] == "unit" else KIND_LABELS[attrs["kind"]])
    return out


@pytest.mark.browser
@pytest.mark.parametrize(("view", "target", "target_id"), [
    ("institutions", "国网湖北省电力有限公司", UNIT + "state-grid-hubei"),
    ("cases", "国网湖北省电力有限公司", UNIT + "state-grid-hubei"),
    ("domains", "平安法治", "https://w3id.org/chuzhi/domain/public-safety-law"),
])
def test_page_in_chromium(browser, built, pages, artefacts, view, target, target_id) -> None:
    g = build_view(built.out_dir, view)
    opened = Opened(browser, pages[view])
    counts = opened.js("[chuzhi.network.body.data.nodes.length, chuzhi.network.body.data.edges.length]")
    assert counts == [g.number_of_nodes(), g.number_of_edges()]
    legend = opened.page.text_content("#legend")
    for label in expected_legend(g):
        assert label in legend
    assert opened.search(target) == [target_id]
    assert opened.page.text_content("#status") == f"找到 / found: {target}"
    opened.page.screenshot(path=str(artefacts / f"render-{view}.png"))
    assert opened.errors == []
    assert opened.requests == [pages[view].as_uri()]
    opened.page.close()


@pytest.mark.browser
def test_interactions_in_chromium(browser, built, pages) -> None:
    g = build_view(built.out_dir, "institutions")
    opened = Opened(browser, pages["institutions"])
    # alias search
    assert opened.search("国网湖北电力") == [UNIT + "state-grid-hubei"]
    # click: neighbours keep their colour, the others are dimmed
    opened.js("chuzhi.network.moveTo({position: chuzhi.network.getPosition(arguments[0]), scale: 1})"
              .replace("arguments[0]", json.dumps(UNIT + "hust")))
    opened.click_node(UNIT + "hust")
    colours = opened.js("Object.fromEntries(chuzhi.nodes.get().map(n => [n.id, n.color]))")
    near = set(g.neighbors(UNIT + "hust")) | {UNIT + "hust"}
    assert all(not str(colours[v]).startswith("rgba(190") for v in near)
    assert all(str(colours[v]).startswith("rgba(190") for v in g if v not in near)
    # parent edges can be switched off in the legend
    opened.page.uncheck("input[data-edge-kind=parent]")
    assert opened.js("chuzhi.network.body.data.edges.length") == 5
    # the category filter keeps units of that category (and parents, which have none)
    opened.page.select_option("#filter-category", "十佳案例(政务服务组)")
    keep = [v for v, c in g.nodes(data="categories") if not c or "十佳案例(政务服务组)" in c]
    assert opened.js("chuzhi.network.body.data.nodes.length") == len(keep)
    assert opened.errors == []


@pytest.mark.browser
def test_hostile_name_is_shown_as_text(browser, data_copy, tmp_path, artefacts) -> None:
    for name in ("units.csv", "cases.csv"):
        path = data_copy / name
        path.write_text(path.read_text(encoding="utf-8").replace("英山县学生资助管理中心", XSS_NAME),
                        encoding="utf-8")
    result = build(data_copy, tmp_path / "out")
    page_path = render_main_views(result.out_dir, "https://w3id.org/chuzhi/")[0]
    assert "<img" not in page_path.read_text(encoding="utf-8")
    opened = Opened(browser, page_path)
    node_id = UNIT + "yingshan-student-aid-centre"
    assert opened.search(XSS_NAME) == [node_id]
    assert opened.page.text_content("#status") == f"找到 / found: {XSS_NAME}"
    opened.hover_node(node_id)
    opened.page.wait_for_selector("div.vis-tooltip", state="visible", timeout=5_000)
    assert XSS_NAME in opened.page.text_content("div.vis-tooltip")
    opened.page.screenshot(path=str(artefacts / "render-xss.png"))
    assert opened.js("document.querySelectorAll('img').length") == 0
    assert opened.dialogs == []
    assert opened.errors == []
    assert opened.requests == [page_path.as_uri()]
