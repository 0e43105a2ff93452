"""Tests of chuzhi_graph.site.publish: the static dataset site."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
import pyoxigraph as ox
import pytest
from bs4 import BeautifulSoup
from chromium import launched
from click.testing import CliRunner
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from chuzhi_graph.build import LICENSE, build
from chuzhi_graph.cli import cli
from chuzhi_graph.core.namespace import CHZ_IRI, DEFAULT_BASE
from chuzhi_graph.errors import ValidationError
from chuzhi_graph.site.publish import PublishResult, publish

#: Elements whose URL attributes load a resource (must never be remote).
RESOURCE_ATTRS = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src",
                  "video": "src", "embed": "src", "object": "data", "link": "href", "input": "src"}


@pytest.fixture(scope="module")
def site(published: PublishResult) -> PublishResult:
    """The shipped data's site (the run's shared publish: conftest)."""
    return published


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_checksums_and_manifest(site: PublishResult, root: Path) -> None:
    ds = site.site / "dataset"
    sums = [line.split("  ") for line in (ds / "SHA256SUMS").read_text(encoding="utf-8").splitlines()]
    assert {name for _, name in sums} == {"chuzhi.ttl", "chuzhi.nt", "chuzhi.jsonld", "chuzhi.context.jsonld",
                                          "chuzhi.trig", "void.ttl"}
    for digest, name in sums:
        assert _sha(ds / name) == digest, name
    manifest = json.loads((ds / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tool"].startswith("chuzhi-graph ")
    assert manifest["date"] == "2023-02-20"  # the newest source date (the series' 2023-02-20 report)
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == {f"dataset/{n}": d for d, n in sums}
    assert all(f["bytes"] == (site.site / f["path"]).stat().st_size for f in manifest["files"])
    assert manifest["sources"]["data/cases.csv"] == _sha(root / "data" / "cases.csv")
    assert manifest["sources"]["ontology/shapes.ttl"] == _sha(root / "ontology" / "shapes.ttl")
    assert sum(manifest["graphs"].values()) == manifest["counts"]["triples"] == site.triples
    assert manifest["counts"]["cases"] == 30


def test_dumps_parse_with_an_independent_parser(site: PublishResult) -> None:
    ds = site.site / "dataset"
    reference = Graph().parse(ds / "chuzhi.nt", format="nt")  # written by pyoxigraph, read by rdflib
    assert len(reference) == site.triples
    assert isomorphic(Graph().parse(ds / "chuzhi.ttl", format="turtle"), reference)
    # JSON-LD is written by rdflib: read it with pyoxigraph
    jsonld = ox.parse(path=str(ds / "chuzhi.jsonld"), format=ox.RdfFormat.JSON_LD)
    as_nt = ox.serialize([q.triple for q in jsonld], format=ox.RdfFormat.N_TRIPLES)
    assert isomorphic(Graph().parse(data=as_nt, format="nt"), reference)
    # TriG is written by pyoxigraph: read it with rdflib, one graph per edition plus two
    trig = Dataset()
    trig.parse(ds / "chuzhi.trig", format="trig")
    names = {str(g.identifier): len(g) for g in trig.graphs() if len(g)}
    assert names == site.graphs
    editions = ("bigdata-2022", "poverty-alleviation-2020", "social-governance-2020", "social-governance-2022",
                "social-governance-2023")
    assert set(names) == {*(f"{DEFAULT_BASE}graph/edition/{e}" for e in editions), f"{DEFAULT_BASE}graph/shared",
                          f"{DEFAULT_BASE}graph/vocabulary"}
    union = Graph()
    for s, p, o, _ in trig.quads((None, None, None, None)):
        union.add((s, p, o))
    assert isomorphic(union, reference)
    edition = trig.graph(URIRef(f"{DEFAULT_BASE}graph/edition/bigdata-2022"))
    assert len(set(edition.subjects(URIRef(CHZ_IRI + "edition"), None))) == 27
    json.loads((ds / "chuzhi.context.jsonld").read_text(encoding="utf-8"))


def test_void_and_dcat(site: PublishResult) -> None:
    void = Graph().parse(site.site / "dataset" / "void.ttl", format="turtle")
    ds = URIRef(f"{DEFAULT_BASE}dataset")
    dists = set(void.objects(ds, URIRef("http://www.w3.org/ns/dcat#distribution")))
    assert {str(d).rsplit("/", 1)[-1] for d in dists} == {"chuzhi.ttl", "chuzhi.nt", "chuzhi.jsonld", "chuzhi.trig"}
    spdx = "http://spdx.org/rdf/terms#"
    for d in dists:
        checksum = void.value(d, URIRef(spdx + "checksum"))
        value = str(void.value(checksum, URIRef(spdx + "checksumValue")))
        assert value == _sha(site.site / "dataset" / str(d).rsplit("/", 1)[-1])
    subsets = {str(s): int(void.value(s, URIRef("http://rdfs.org/ns/void#triples")))
               for s in void.objects(ds, URIRef("http://rdfs.org/ns/void#subset"))}
    assert subsets == site.graphs


def test_every_dataset_iri_has_a_page_and_turtle(site: PublishResult) -> None:
    g = Graph().parse(site.site / "dataset" / "chuzhi.nt", format="nt")
    subjects = {str(s) for s in g.subjects() if isinstance(s, URIRef) and str(s).startswith(DEFAULT_BASE)
                and not str(s).startswith(CHZ_IRI) and str(s) != DEFAULT_BASE + "def"}
    assert len(subjects) > 100
    for iri in subjects:
        local = iri[len(DEFAULT_BASE):]
        assert (site.site / f"{local}.html").is_file(), iri
        ttl = site.site / f"{local}.ttl"
        parsed = {q.triple for q in ox.parse(path=str(ttl), format=ox.RdfFormat.TURTLE)}  # independent parser
        own = {(str(p), str(o)) for p, o in g.predicate_objects(URIRef(iri)) if isinstance(o, URIRef)}
        got = {(t.predicate.value, t.object.value) for t in parsed
               if t.subject == ox.NamedNode(iri) and isinstance(t.object, ox.NamedNode)}
        assert own == got, iri
    for kind in ("case", "unit", "domain", "edition"):
        assert any(p.suffix == ".html" for p in (site.site / kind).iterdir())
    assert (site.site / "dataset.html").is_file() and (site.site / "def.html").is_file()


def _pages(site_dir: Path) -> list[Path]:
    return sorted(site_dir.rglob("*.html"))


def test_links_resolve_and_nothing_is_remote(site: PublishResult, root: Path) -> None:
    with (root / "data" / "sources.csv").open(encoding="utf-8") as f:
        allowed_remote = {LICENSE} | {row["url"] for row in csv.DictReader(f) if row["url"]}
    docs = {page: _html(page) for page in _pages(site.site)}  # lxml: BeautifulSoup took 9 s over the pages
    ids = {page: {str(i) for i in doc.xpath("//@id")} for page, doc in docs.items()}
    checked = 0
    for page, doc in docs.items():
        for tag, attr in RESOURCE_ATTRS.items():
            for el in doc.iter(tag):
                url = el.get(attr)
                if url:
                    assert not urlsplit(url).scheme and not url.startswith("//"), f"{page}: remote {url}"
        for style in doc.iter("style"):
            assert "url(http" not in style.text_content() and "@import" not in style.text_content(), page
        for href in doc.xpath("//a/@href"):
            parts = urlsplit(href)
            if parts.scheme:
                assert href in allowed_remote, f"{page}: remote link {href}"
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert target.is_file(), f"{page.relative_to(site.site)}: broken link {href}"
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in ids[target], f"{page.relative_to(site.site)}: missing anchor {href}"
            checked += 1
    css = (site.site / "static" / "site.css").read_text(encoding="utf-8")
    assert "http" not in css and "@import" not in css
    assert checked > 1000


def test_index_content(site: PublishResult) -> None:
    index = BeautifulSoup((site.site / "index.html").read_text(encoding="utf-8"), "html.parser")
    text = index.get_text(" ")
    assert index.html["lang"] == "zh"
    for needle in ("楚治案例知识图谱", "Chuzhi case knowledge graph", "CC BY 4.0", "@misc{", "SHA-256"):
        assert needle in text, needle
    counts = {tr.th.get_text(" ").split()[0]: tr.td.get_text() for tr in index.select("table.counts tr")}
    assert counts["案例"] == "30" and counts["三元组"] == str(site.triples)
    onto = BeautifulSoup((site.site / "def.html").read_text(encoding="utf-8"), "html.parser")
    case = onto.find(id="Case")
    assert case is not None and case.h3.get_text(" ").split() == ["案例", "Case", "chz:Case"]
    assert "CaseShape" in case.get_text()
    assert onto.find(id="DomainScheme") is not None and onto.find(id="coApplicant") is not None


def test_refuses_invalid_graph_and_keeps_the_old_site(tmp_path: Path, root: Path, published: PublishResult) -> None:
    target = tmp_path / "site"
    shutil.copytree(published.site, target, symlinks=True)  # a site `publish` wrote (the run's shared one)
    before = (target / "index.html").read_bytes()
    onto = tmp_path / "ontology"
    shutil.copytree(root / "ontology", onto)
    shapes = onto / "shapes.ttl"
    shapes.write_text(shapes.read_text(encoding="utf-8").replace(
        "[ sh:path chz:edition ; sh:minCount 1 ;", "[ sh:path chz:edition ; sh:minCount 2 ;"), encoding="utf-8")
    with pytest.raises(ValidationError):
        publish("data", target, ontology_dir_=onto)
    assert (target / "index.html").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ontology", "site"]  # no half-written staging left


def test_cli_and_changes(tmp_path: Path, built, data_copy: Path) -> None:
    runner = CliRunner()
    not_a_site = tmp_path / "mine"
    not_a_site.mkdir()
    (not_a_site / "notes.txt").write_text("keep", encoding="utf-8")
    result = runner.invoke(cli, ["publish", "--output-dir", str(not_a_site)])
    assert result.exit_code == 6
    assert result.stderr == (f"Error: {not_a_site}: refusing to replace a folder that is not a published site "
                             "(no dataset/manifest.json)\n")
    path = data_copy / "cases.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "武昌区打造“平安指数”助力基层治理现代化", "武昌区平安指数（新）"), encoding="utf-8")
    out = tmp_path / "site"
    result = runner.invoke(cli, ["publish", "--data", str(data_copy), "--output-dir", str(out),
                                 "--previous", str(built.files["nt"])])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out / 'index.html'}\n"
    assert "changes: cases: 0 added, 0 removed, 1 changed; units: 0 added, 0 removed, 0 changed; triples: +2 -2" \
        in result.stderr
    changes = (out / "changes.html").read_text(encoding="utf-8")
    assert "武昌区平安指数（新）" in changes and "武昌区打造“平安指数”助力基层治理现代化" in changes
    assert len(Graph().parse(out / "changes.ttl", format="turtle")) > 0


@pytest.mark.browser
def test_pages_open_in_headless_chromium(site: PublishResult, artefacts: Path) -> None:
    unit_page = sorted((site.site / "unit").glob("*.html"))[0]
    with launched() as browser:
        page = browser.new_page()
        remote: list[str] = []
        errors: list[str] = []

        def route(r) -> None:  # network blocked: only file:// may load
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                remote.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(r.url))
        page.goto((site.site / "index.html").as_uri())
        assert page.title().startswith("首页")
        assert page.locator("h1").inner_text().startswith("楚治案例知识图谱")
        assert page.evaluate("getComputedStyle(document.querySelector('header.site')).display") == "flex"
        page.screenshot(path=str(artefacts / "publish-index.png"), full_page=False)
        page.goto(unit_page.as_uri())
        assert page.locator("table.facts tr").count() > 3
        page.screenshot(path=str(artefacts / "publish-unit.png"), full_page=False)
        assert remote == [] and errors == []


def test_site_holds_the_graphs_and_the_query_results(site: PublishResult) -> None:
    from chuzhi_graph.sparql.query import shipped_queries

    graphs = BeautifulSoup((site.site / "graphs.html").read_text(encoding="utf-8"), "html.parser")
    linked = {a["href"] for a in graphs.find_all("a", href=True) if a["href"].startswith("graphs/")}
    assert linked == {"graphs/institutions.html", "graphs/cases.html", "graphs/domains.html", "graphs/map.html"}
    for name in linked:
        page = (site.site / name).read_text(encoding="utf-8")
        assert "<meta charset=\"utf-8\">" in page
        assert ('id="map-data"' if name == "graphs/map.html" else 'id="graph-data"') in page
    queries = BeautifulSoup((site.site / "queries.html").read_text(encoding="utf-8"), "html.parser")
    text = queries.get_text(" ")
    for q in shipped_queries():
        assert q.question_zh in text
        assert (site.site / "queries" / f"{q.name}.rq").read_text(encoding="utf-8") == q.text
    assert "湖北省数字产业发展集团有限公司" in text


def test_parameterised_questions_are_shown_for_their_example(site: PublishResult, built) -> None:
    from chuzhi_graph.release.reader import Release
    from chuzhi_graph.sparql.query import run_query, shipped_queries

    queries = BeautifulSoup((site.site / "queries.html").read_text(encoding="utf-8"), "html.parser")
    section = queries.find("section", id="unit-profile")
    assert "参数 parameter unit = 华中科技大学" in " ".join(section.get_text(" ").split())
    units = {a["href"] for a in section.select("tbody tr td:first-child a")}
    assert units == {"unit/hust.html"}  # one unit, never the whole graph
    expected = run_query(Release.open(built.out_dir).store(), "unit-profile", {"unit": "华中科技大学"})
    assert len(section.select("tbody tr")) == min(len(expected.rows), 10)  # the first rows; the page has all
    for q in shipped_queries():
        if q.param_specs:
            assert queries.find("section", id=q.name).find("p", class_="params"), q.name


def test_publish_parses_the_dump_once(site: PublishResult) -> None:
    assert site.loads == {"parse": 1, "layout": 1, "store": 1}


# ---------------------------------------------------------------- a corpus above 200,000 triples


def _html(page: Path) -> lxml.html.HtmlElement:
    """The page parsed by lxml (libxml2): BeautifulSoup took 18 s over the 16 case list pages of 8,000 rows."""
    return lxml.html.document_fromstring(page.read_text(encoding="utf-8"))


#: the CSS selector ``table.list tbody tr`` as XPath
LIST_ROWS = "//table[contains(concat(' ', normalize-space(@class), ' '), ' list ')]//tbody//tr"


def _links_resolve(site_dir: Path, pages: list[Path]) -> int:  # noqa: ARG001 (site_dir: the page links are relative)
    checked = 0
    for page in pages:
        for href in _html(page).xpath("//a/@href"):
            parts = urlsplit(href)
            if parts.scheme or not parts.path:
                continue
            assert (page.parent / unquote(parts.path)).resolve().is_file(), f"{page}: broken link {href}"
            checked += 1
    return checked


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> PublishResult:
    from chuzhi_graph.records.synth import generate

    folder = tmp_path_factory.mktemp("large")
    generate(folder / "data", cases=8000, editions=5, seed=1)
    # built with the compiled shapes, then published from the build (publish -g): validation is not the
    # subject here, and pySHACL on 200,000 triples took about 40 s of this fixture's 66 s
    build(folder / "data", folder / "out", validate="compiled", views=False, store=False)
    return publish(graph=folder / "out", out_dir=folder / "site")


def test_publishes_a_corpus_above_200k_triples(large: PublishResult) -> None:
    site = large.site
    assert large.triples > 200_000
    assert large.loads == {"parse": 1, "layout": 1, "store": 1}
    # JSON-LD is left out at this size, and every list of files says so consistently
    ds = site / "dataset"
    sums = {line.split("  ")[1] for line in (ds / "SHA256SUMS").read_text(encoding="utf-8").splitlines()}
    assert sums == {"chuzhi.ttl", "chuzhi.nt", "chuzhi.trig", "void.ttl"}
    assert not (ds / "chuzhi.jsonld").exists()
    assert {f["path"] for f in large.manifest["files"]} == {f"dataset/{n}" for n in sums}
    void = Graph().parse(ds / "void.ttl", format="turtle")
    dists = set(void.objects(URIRef(f"{DEFAULT_BASE}dataset"), URIRef("http://www.w3.org/ns/dcat#distribution")))
    assert {str(d).rsplit("/", 1)[-1] for d in dists} == {"chuzhi.ttl", "chuzhi.nt", "chuzhi.trig"}
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "no JSON-LD dump" in index
    # no page but the interactive graphs over 2 MB
    sizes = {p: p.stat().st_size for p in site.rglob("*.html") if "graphs" not in p.relative_to(site).parts}
    biggest = max(sizes, key=sizes.get)
    assert sizes[biggest] < 2_000_000, (biggest, sizes[biggest])
    # the case list is paginated and holds every case once
    case_pages = sorted(site.glob("cases*.html"))
    assert len(case_pages) == -(-large.manifest["counts"]["cases"] // 500)
    rows = sum(len(_html(page).xpath(LIST_ROWS)) for page in case_pages)
    assert rows == large.manifest["counts"]["cases"] == 8000
    # query results: a first page in HTML, the whole result as CSV
    page = BeautifulSoup((site / "queries" / "co-applicant-pairs.html").read_text(encoding="utf-8"), "html.parser")
    shown = len(page.select("table.list tbody tr"))
    with (site / "queries" / "co-applicant-pairs.csv").open(encoding="utf-8", newline="") as f:
        total = sum(1 for _ in csv.reader(f)) - 1
    assert shown == 200 < total
    sample = [site / "index.html", site / "cases.html", case_pages[-1], site / "units.html", site / "queries.html",
              site / "resources.html", *sorted((site / "unit").glob("*.html"))[:50]]
    assert _links_resolve(site, sample) > 2000


# ---------------------------------------------------------------- every page in Chromium, and the zh/en switch


@pytest.mark.browser
def test_every_page_loads_in_chromium_and_the_language_switch_works(site: PublishResult, artefacts: Path) -> None:  # noqa: PLR0915 (one browser journey)
    pages = [p for p in _pages(site.site) if "graphs" not in p.relative_to(site.site).parts]
    assert len(pages) > 100
    # the network is a dead proxy (nothing leaves) and every request not to a file is reported: a
    # listener, not a route, which would send each of the ~1,000 requests through Python (46 s -> 40 s alone)
    with launched("--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>") as browser:
        context = browser.new_context()
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
        page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
        page.on("requestfailed", lambda r: errors.append(f"failed {r.url}"))
        page.on("request", lambda r: None if r.url.startswith(("file://", "data:", "blob:")) else
                errors.append(f"remote {r.url}"))
        for path in pages:
            page.goto(path.as_uri())
            # one evaluate, not a locator: a locator injects Playwright's selector engine into every
            # new document (0.06 s a page, 0.22 -> 0.16 s); the pages have no shadow DOM to pierce
            assert page.evaluate("document.querySelectorAll('h1').length") == 1, path
        assert errors == []

        # the switch changes the page language as a whole, and is remembered across pages
        page.goto((site.site / "index.html").as_uri())
        h1 = page.locator("h1")
        assert (page.evaluate("document.documentElement.lang"), h1.inner_text()) == ("zh", "楚治案例知识图谱")
        nav = page.locator("header.site nav").inner_text()
        assert "案例" in nav and "Cases" not in nav
        page.screenshot(path=str(artefacts / "publish-index-zh.png"))
        page.click("#lang-switch")
        assert (page.evaluate("document.documentElement.lang"), h1.inner_text()) == (
            "en", "Chuzhi case knowledge graph")
        assert [h.inner_text() for h in page.locator("h2").all()][:3] == ["Counts", "Source documents", "Licence"]
        nav = page.locator("header.site nav").inner_text()
        assert "Cases" in nav and "案例" not in nav
        page.screenshot(path=str(artefacts / "publish-index-en.png"))

        page.goto((site.site / "unit" / "hust.html").as_uri())  # English kept on the next page
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.locator("p.kind").inner_text() == "Unit"
        h1 = page.locator("h1 .fallback")  # no English name: the Chinese one, visibly marked
        assert h1.is_visible() and h1.inner_text() == "华中科技大学"
        assert page.locator("table.facts").first.inner_text().count("Hongshan District") == 1
        headings = [h.inner_text() for h in page.locator("section.people h2").all()]
        assert headings == ["Sub-units and their cases 5", "All cases, with the sub-units' 2"]
        cases = page.locator("#all-cases > ul > li").all_inner_texts()
        assert len(cases) == 2 and any("城市智脑" in c for c in cases)
        assert page.locator("details.raw pre").is_visible() is False  # the raw triples are folded
        page.screenshot(path=str(artefacts / "publish-unit-en.png"), full_page=True)
        page.click("#lang-switch")
        assert page.locator("h1").inner_text() == "华中科技大学"
        assert page.locator("section.people h2").first.inner_text() == "下级单位及其案例 5"
        assert page.locator("table.facts").first.inner_text().count("洪山区") == 1
        page.screenshot(path=str(artefacts / "publish-unit-zh.png"), full_page=True)

        page.goto((site.site / "graphs.html").as_uri())
        cards = page.locator("section.card")
        assert cards.count() == 4  # three graphs and the map
        assert all(img.evaluate("i => i.complete && i.naturalWidth > 0") for img in page.locator("img.thumb").all())
        page.screenshot(path=str(artefacts / "publish-graphs.png"), full_page=True)
        page.goto((site.site / "def.html").as_uri())
        assert page.locator("img.diagram").evaluate("i => i.complete && i.naturalWidth > 0")
        assert page.locator("#Case").inner_text().count("in domain of") == 0  # zh page: Chinese names
        assert "作为定义域" in page.locator("#Case").inner_text()
        assert errors == []
