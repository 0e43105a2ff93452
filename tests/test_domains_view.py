"""The domains view at 5,000 cases: every name drawn, sizes from zero, widths by count, a
threshold, filters against SPARQL, and a page whose weight does not grow with the cases."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from chuzhi_graph.views.render import render_view

PREFIXES = """PREFIX chz: <https://w3id.org/chuzhi/def#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""


@pytest.fixture(scope="module")
def page(synth5k, tmp_path_factory) -> Path:
    return render_view(synth5k / "out", "domains", tmp_path_factory.mktemp("domains") / "domains.html")


@pytest.fixture(scope="module")
def sparql(synth5k):
    import pyoxigraph as ox

    store = ox.Store()
    store.bulk_load(path=str(synth5k / "out" / "chuzhi.nt"), format=ox.RdfFormat.N_TRIPLES)

    def run(query: str) -> list[tuple[str, ...]]:
        return [tuple(t.value for t in row) for row in store.query(PREFIXES + query)]
    return run


def co_occurrence(sparql, where: str = "") -> dict[frozenset[str], int]:
    """Cases with both domains, per pair, by SPARQL (``where`` restricts the cases ``?c``)."""
    rows = sparql(f"""SELECT ?a ?b (COUNT(DISTINCT ?c) AS ?n) WHERE {{
        ?c a chz:Case ; chz:domain ?a, ?b . FILTER(STR(?a) < STR(?b)) {where} }} GROUP BY ?a ?b""")
    return {frozenset((a, b)): int(n) for a, b, n in rows}


def test_page_weight_does_not_follow_the_cases(page) -> None:
    html = page.read_text("utf-8")
    data = json.loads(BeautifulSoup(html, "html.parser").find("script", id="graph-data").string)
    assert data["cases"] == [] and data["agg"]  # counts per category and domain filter, no case list
    assert page.stat().st_size < 1_000_000
    assert "巴东县" not in html  # no case title travels (they all name a place)


@pytest.fixture()
def opened(browser, page):
    tab = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    tab.goto(page.as_uri())
    tab.wait_for_function("window.chuzhi && window.chuzhi.ready === true", timeout=30_000)
    yield tab
    assert errors == []
    tab.close()


def edges_shown(tab) -> dict[frozenset[str], int]:
    return {frozenset((e["from"], e["to"])): e["weight"] for e in tab.evaluate("chuzhi.visibleEdges()")}


@pytest.mark.browser
def test_every_domain_named_sizes_from_zero(opened, sparql, artefacts) -> None:
    counts = {d: int(n) for d, n in sparql(
        "SELECT ?d (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a chz:Case ; chz:domain ?d } GROUP BY ?d")}
    assert len(counts) == 21
    labels = opened.evaluate("chuzhi.labels()")
    assert len(labels) == 21  # every name drawn, none over another
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert not (a["left"] < b["right"] and b["left"] < a["right"]
                        and a["top"] < b["bottom"] and b["top"] < a["bottom"]), (a["text"], b["text"])
    sizes = {n["id"]: n["size"] for n in opened.evaluate("chuzhi.nodes.get()")}
    top = max(counts.values())
    for d, n in counts.items():  # area in proportion to the cases, from zero
        assert sizes[d] == pytest.approx(max(3.0, 30 * math.sqrt(n / top)), abs=0.06)
    opened.screenshot(path=str(artefacts / "domains-5k.png"))


@pytest.mark.browser
def test_threshold_and_widths(opened, sparql) -> None:
    weights = co_occurrence(sparql)
    least = int(opened.input_value("#min-weight"))
    assert 1 < least and edges_shown(opened) == {k: w for k, w in weights.items() if w >= least}
    opened.fill("#min-weight", "1")
    assert edges_shown(opened) == weights and len(weights) == 210
    top = max(weights.values())
    for e in opened.evaluate("chuzhi.edges.get()"):  # width in proportion to the count, from zero
        w = weights[frozenset((e["from"], e["to"]))]
        assert e["width"] == pytest.approx(1 + 11 * w / top)


@pytest.mark.browser
def test_filters_against_sparql(opened, sparql) -> None:
    opened.fill("#min-weight", "1")
    label, edition = re.fullmatch(r"(.*)（(.*)）", opened.evaluate("chuzhi.data.categories[2].label")).groups()
    opened.select_option("#filter-category", "2")
    edition_iri = f"https://w3id.org/chuzhi/edition/{edition}"
    assert edges_shown(opened) == co_occurrence(
        sparql, f'?c chz:awardCategory ?k . ?k skos:prefLabel "{label}"@zh ; chz:categoryEdition <{edition_iri}> .')
    domain = "https://w3id.org/chuzhi/domain/social-governance"  # a broader domain: its narrower ones count
    index = opened.evaluate("d => chuzhi.data.domains.findIndex(x => x.label === d)", "社会治理")
    opened.select_option("#filter-domain", str(index))
    category = f'?c chz:awardCategory ?k . ?k skos:prefLabel "{label}"@zh ; chz:categoryEdition <{edition_iri}> .'
    expected = co_occurrence(sparql, f'{category} ?c chz:domain/skos:broader* <{domain}> .')
    assert expected and edges_shown(opened) == expected
    kept = {r[0] for r in sparql(f"""SELECT DISTINCT ?o WHERE {{ {category}
        ?c chz:domain/skos:broader* <{domain}> ; chz:domain ?o }}""")}
    assert set(opened.evaluate("chuzhi.visible().nodes")) == kept


@pytest.fixture(scope="module")
def release(synth5k):
    from chuzhi_graph.release.reader import Release

    return Release.open(synth5k / "out")


def drawn(tab) -> None:
    """Wait for the next drawing (labels are placed while drawing)."""
    tab.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def shown_sizes(tab) -> dict[str, float]:
    return {n["id"]: n["size"] for n in tab.evaluate("chuzhi.nodes.get()")}


@pytest.mark.browser
def test_edition_filter_against_sparql_and_back(opened, release, artefacts) -> None:
    """One edition: the domains drawn, their sizes (area from zero, by the largest shown) and
    the co-occurrence weights are that edition's by SPARQL (the library's query API on the same
    build); Back restores the view before the choice."""
    editions = opened.evaluate("chuzhi.data.editions")
    assert len(editions) == 5
    chosen = 3
    edition = f"https://w3id.org/chuzhi/edition/{editions[chosen]['id']}"
    where = f"?c chz:awardCategory/chz:categoryEdition <{edition}> ."
    counts = {r["d"]: r["n"] for r in release.query(PREFIXES + f"""SELECT ?d (COUNT(DISTINCT ?c) AS ?n) WHERE {{
        ?c a chz:Case ; chz:domain ?d . {where} }} GROUP BY ?d""")}
    pairs = {frozenset((r["a"], r["b"])): r["n"] for r in release.query(PREFIXES + f"""
        SELECT ?a ?b (COUNT(DISTINCT ?c) AS ?n) WHERE {{
        ?c a chz:Case ; chz:domain ?a, ?b . FILTER(STR(?a) < STR(?b)) {where} }} GROUP BY ?a ?b""")}
    assert counts and pairs
    # the link threshold follows the filters until the reader moves it (3n-th heaviest link)
    whole = int(opened.input_value("#min-weight"))
    opened.select_option("#filter-edition", str(chosen))
    ranked = sorted(pairs.values(), reverse=True)
    least = ranked[3 * len(counts) - 1] if len(ranked) > 3 * len(counts) else 1
    assert int(opened.input_value("#min-weight")) == least < whole
    assert edges_shown(opened) == {k: w for k, w in pairs.items() if w >= least}
    assert "weight=" not in opened.evaluate("location.hash")
    drawn(opened)
    opened.screenshot(path=str(artefacts / "domains-5k-edition-threshold.png"))
    opened.go_back()
    opened.wait_for_function("document.getElementById('filter-edition').value === '-1'")
    assert int(opened.input_value("#min-weight")) == whole
    opened.fill("#min-weight", "1")  # moved: it stays where it was put
    before = {"edges": edges_shown(opened), "sizes": shown_sizes(opened),
              "nodes": opened.evaluate("chuzhi.visible().nodes"), "labels": len(opened.evaluate("chuzhi.labels()"))}
    opened.select_option("#filter-edition", str(chosen))
    assert opened.evaluate("chuzhi.visible().nodes") == sorted(counts)
    assert edges_shown(opened) == pairs and pairs != before["edges"]
    top = max(counts.values())
    sizes = shown_sizes(opened)
    for d, n in counts.items():
        assert sizes[d] == pytest.approx(max(3.0, 30 * math.sqrt(n / top)), abs=0.06), d
    top_pair = max(pairs.values())
    for e in opened.evaluate("chuzhi.edges.get()"):  # widths by the heaviest link shown
        assert e["width"] == pytest.approx(1 + 11 * pairs[frozenset((e["from"], e["to"]))] / top_pair)
    drawn(opened)
    assert len(opened.evaluate("chuzhi.labels()")) == len(counts)  # every name still drawn
    name = opened.evaluate("chuzhi.data.nodes[0].label")
    node = opened.evaluate("chuzhi.data.nodes[0].id")
    opened.fill("#search", name)
    opened.press("#search", "Enter")
    assert f"案例 / cases：{counts[node]} / " in opened.inner_text("#panel")  # the panel says the edition's count
    opened.screenshot(path=str(artefacts / "domains-5k-edition.png"))
    opened.go_back()  # the search
    opened.go_back()  # the edition
    opened.wait_for_function("document.getElementById('filter-edition').value === '-1'")
    assert edges_shown(opened) == before["edges"]
    assert shown_sizes(opened) == before["sizes"]
    assert opened.evaluate("chuzhi.visible().nodes") == before["nodes"]
    assert opened.evaluate("chuzhi.state.selected") is None
    opened.evaluate("chuzhi.network.fit({animation: false, maxZoomLevel: 1.6})")  # the search zoomed in
    drawn(opened)
    assert len(opened.evaluate("chuzhi.labels()")) == before["labels"] == 21
