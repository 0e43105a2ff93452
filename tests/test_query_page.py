"""The serve query page in headless Chromium (network blocked): a researcher's journey through it."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium import launched, only_to
from servers import serving

from chuzhi_graph.release.reader import Release
from chuzhi_graph.sparql.query import format_result, run_query
from chuzhi_graph.sparql.serve import ServeConfig, SparqlServer

pytestmark = [pytest.mark.browser, pytest.mark.server]
UNIT = "https://w3id.org/chuzhi/unit/"


@pytest.fixture(scope="module")
def server(built) -> Iterator[SparqlServer]:
    with serving(built.out_dir, ServeConfig(timeout=30.0, max_rows=5000)) as srv:
        yield srv


@pytest.fixture(scope="module")
def url(server) -> str:
    return f"http://127.0.0.1:{server.server_port}"


@pytest.fixture()
def browser_page(url):
    """A page whose every request off the server is blocked; yields (page, blocked, problems)."""
    blocked: list[str] = []
    problems: list[str] = []
    with launched() as browser:
        # the page's CSP forbids eval, which Playwright's wait_for_function uses: bypassed here; the
        # page under its CSP is test_serve.py's browser test (no console error, no CSP violation)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True,
                                      bypass_csp=True)
        only_to(context, url, blocked)
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        yield page, blocked, problems


def table(page) -> tuple[list[str], list[list[str]]]:
    """The visible header and rows: the full IRI (the cell's title) of an IRI cell, else its text."""
    header = page.eval_on_selector_all("#results thead th", "ths => ths.map(th => th.textContent)")
    rows = page.eval_on_selector_all(
        "#results tbody tr", "rows => rows.map(r => Array.from(r.cells).map(td => td.title || td.textContent))")
    return header, rows


def values(result) -> list[list[str]]:
    return [[t.value if t is not None else "" for t in row] for row in result.rows]


def type_query(page, text: str) -> None:
    """Replace the editor's text as a person would: select all, then type (paste) the new text."""
    page.click(".cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)


def run_and_wait(page) -> None:
    page.evaluate("document.getElementById('status').textContent = ''")
    page.click("#run")
    page.wait_for_function("document.getElementById('status').textContent !== '…' && "
                           "(document.getElementById('status').textContent !== '' || "
                           "!document.getElementById('error').hidden)")


def test_shipped_question_with_a_parameter_sort_page_download(built, url, browser_page, artefacts):  # noqa: PLR0915 (one journey through the page, step by step)
    page, blocked, problems = browser_page
    store = Release.open(built.out_dir).store()
    page.goto(url + "/", wait_until="networkidle")
    assert page.is_visible(".cm-editor")  # the CodeMirror editor, from the vendored bundle
    assert page.eval_on_selector_all("#prefixes tr td:first-child", "tds => tds.map(t => t.textContent)")[:2] == [
        "chz:", "dcat:"]

    # a shipped question with a declared parameter: the form field, completion over names and aliases
    page.select_option("#examples", "unit-profile")
    assert page.input_value("#param-unit") == "华中科技大学"  # the declared example
    page.fill("#param-unit", "华中科")
    page.wait_for_function("document.querySelectorAll('#param-unit-choices option').length > 0")
    choices = page.eval_on_selector_all("#param-unit-choices option", "os => os.map(o => o.value)")
    assert "华中科技大学" in choices and "华中科大" not in choices
    page.fill("#param-unit", "华中科大")  # the alias
    run_and_wait(page)
    expected = run_query(store, "unit-profile", {"unit": "华中科大"})
    header, rows = table(page)
    assert header == expected.variables == ["unit", "relation", "value", "valueLabel", "through", "throughLabel"]
    assert page.text_content("#status").startswith(f"{len(expected.rows)} 行 rows · ")
    assert rows == values(expected)
    # IRIs are shown by their labels and link to the resource's own view
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#results a')).some(a => a.textContent === '华中科技大学')")
    link = page.get_attribute(f"#results a[data-iri='{UNIT}hust']", "href")
    assert link.startswith("#query=")
    page.screenshot(path=str(artefacts / "query-page-parameter.png"), full_page=True)

    # the URL reproduces the query: a fresh page on it shows the same table
    shared = page.url
    assert "example=unit-profile" in shared and "param=unit%3D%E5%8D%8E%E4%B8%AD%E7%A7%91%E5%A4%A7" in shared
    other = page.context.new_page()
    other.goto(shared, wait_until="networkidle")
    # a link only fills the page: nothing runs before a click
    assert table(other) == ([], [])
    assert other.text_content("#status") == "运行以查看结果 / press Run"
    run_and_wait(other)
    assert table(other) == (header, rows)
    assert other.input_value("#param-unit") == "华中科大"
    other.close()

    # a column sorts by a click, numbers as numbers (not as text), and back by a second click
    page.select_option("#examples", "cases-per-category-unit-type")
    run_and_wait(page)
    big = run_query(store, "cases-per-category-unit-type")
    assert 10 < len(big.rows) <= 50  # one page; paging is the next test
    header, rows = table(page)
    assert header == big.variables
    assert rows == values(big)[:50]
    page.click("#results th:has-text('cases')")
    _, by_cases = table(page)
    counts = [int(r[header.index("cases")]) for r in by_cases]
    assert counts == sorted(int(v[header.index("cases")]) for v in values(big))[:len(counts)]
    page.click("#results th:has-text('cases')")
    _, descending = table(page)
    column = header.index("cases")
    assert [int(r[column]) for r in descending] == sorted((int(v[column]) for v in values(big)), reverse=True)
    assert page.get_attribute("#results th:has-text('cases')", "aria-sort") == "descending"

    # downloads named after the query: CSV with the byte-order mark, JSON as the W3C format
    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    assert download.suggested_filename == "cases-per-category-unit-type.csv"
    raw = Path(download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8") == "\ufeff" + format_result(big, "csv")
    with page.expect_download() as info:
        page.click("#download-json")
    assert info.value.suggested_filename == "cases-per-category-unit-type.json"
    assert json.loads(Path(info.value.path()).read_text("utf-8")) == json.loads(format_result(big, "json"))
    assert page.is_disabled("#download-turtle")

    assert problems == []
    assert blocked == []


def test_paging_and_errors_replace_results(built, url, browser_page, artefacts):
    page, blocked, problems = browser_page
    store = Release.open(built.out_dir).store()
    text = "SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(isIRI(?s) && !isBlank(?o)) } ORDER BY ?s ?p ?o LIMIT 120"
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "isIRI" in (r.post_data or "") else None)
    page.goto(url + "/#" + urllib.parse.urlencode({"query": text}), wait_until="networkidle")
    # a #query= link fills the editor but does not run it (any page could link here)
    page.wait_for_timeout(500)
    assert page.input_value("#query") == text
    assert table(page) == ([], []) and requests == []
    run_and_wait(page)
    page.wait_for_selector("#results tbody tr")
    assert len(requests) == 1
    expected = values(run_query(store, text))
    _, first = table(page)
    assert first == expected[:50]
    assert page.text_content("#page-info") == "第 1 / 3 页 · page 1 of 3"
    page.click("#next")
    page.click("#next")
    _, last = table(page)
    assert last == expected[100:]
    assert page.is_disabled("#next")
    page.select_option("#page-size", "500")
    assert len(table(page)[1]) == 120 and page.is_hidden("#pager")

    # SELECT * keeps the order of the query; a syntax error then replaces the table
    type_query(page, "SELECT * WHERE { ?case a chz:Case ; dct:title ?title } LIMIT 3")
    run_and_wait(page)
    assert table(page)[0] == ["case", "title"]
    type_query(page, "SELECT ?x WHERE { ?x ?y ) }")
    run_and_wait(page)
    assert page.is_visible("#error")
    assert page.text_content("#error").startswith("inline query, line 1: column 27: SPARQL syntax error")
    assert table(page) == ([], [])
    assert page.is_hidden("#pager")
    page.screenshot(path=str(artefacts / "query-page-error.png"), full_page=True)
    # a required parameter left empty: the server's usage message, no table
    page.select_option("#examples", "domain-cases")
    page.fill("#param-domain", "")
    run_and_wait(page)
    assert "needs the parameter domain" in page.text_content("#error")
    # the history keeps the queries run, newest first, in this browser
    history = page.eval_on_selector_all("#history option", "os => os.slice(1).map(o => o.textContent)")
    assert len(history) >= 3 and history[0].endswith("domain-cases")
    assert problems == [] or all("400" in p for p in problems)  # the failed fetches log a 400
    assert blocked == []


FORMULA_QUERY = ('SELECT ?cell WHERE { VALUES ?cell { "=HYPERLINK(\\"http://x\\",\\"y\\")" "-12.5" "楚治" } }'
                 " ORDER BY ?cell")


def test_csv_downloads_escape_formulas_and_the_protocol_does_not(url, browser_page):
    page, blocked, problems = browser_page
    page.goto(url + "/", wait_until="networkidle")
    type_query(page, FORMULA_QUERY)
    run_and_wait(page)
    page.wait_for_selector("#results tbody tr")
    with page.expect_download() as info:
        page.click("#download-csv")
    text = Path(info.value.path()).read_bytes().decode("utf-8")
    # a spreadsheet opening the download shows the formula as text; the number stays a number
    assert text == '\ufeffcell\r\n-12.5\r\n"\'=HYPERLINK(""http://x"",""y"")"\r\n楚治\r\n'
    # a SPARQL client gets the W3C CSV, cell as stored
    form = urllib.parse.urlencode({"query": FORMULA_QUERY, "format": "csv"}).encode()
    with urllib.request.urlopen(urllib.request.Request(url + "/sparql", data=form)) as answer:
        assert answer.read().decode("utf-8") == 'cell\r\n-12.5\r\n"=HYPERLINK(""http://x"",""y"")"\r\n楚治\r\n'
    assert problems == [] and blocked == []
