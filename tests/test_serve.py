"""The read-only SPARQL endpoint, asked by an independent client (SPARQLWrapper)."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from SPARQLWrapper import CSV, JSON, POST, SPARQLWrapper

from chuzhi_graph.query import format_result, run_query, shipped_queries
from chuzhi_graph.serve import ServeConfig, SparqlServer, make_server, negotiate
from chuzhi_graph.store import open_store

pytestmark = pytest.mark.server
PLAIN = [q for q in shipped_queries() if not q.params]


@pytest.fixture(scope="module")
def server(built) -> Iterator[SparqlServer]:
    srv = make_server(built.out_dir, "127.0.0.1", 0, ServeConfig(timeout=1.0, max_rows=500))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def url(server) -> str:
    return f"http://127.0.0.1:{server.server_port}"


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type"), response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type"), exc.read().decode("utf-8")


@pytest.mark.parametrize("query", PLAIN, ids=lambda q: q.name)
def test_sparqlwrapper_gets_the_same_results_as_query(built, url, query):
    client = SPARQLWrapper(f"{url}/sparql")
    client.setQuery(query.text)
    client.setReturnFormat(JSON)
    answer = client.query().convert()
    embedded = json.loads(format_result(run_query(open_store(built.out_dir), query.name), "json"))
    assert answer == embedded
    assert answer["results"]["bindings"]


def test_get_with_accept_csv_and_post_body(built, url):
    text = next(q for q in PLAIN if q.name == "cases-per-prefecture").text
    status, ctype, body = fetch(f"{url}/sparql?" + urllib.parse.urlencode({"query": text}),
                                headers={"Accept": "text/csv"})
    assert (status, ctype) == (200, "text/csv; charset=utf-8")
    assert body.splitlines()[0] == "prefecture,prefectureLabel,provinceLabel,cases"
    assert "武汉市,湖北省,8" in body
    status, ctype, body = fetch(f"{url}/sparql", data=text.encode("utf-8"),
                                headers={"Content-Type": "application/sparql-query",
                                         "Accept": "application/sparql-results+xml"})
    assert (status, ctype) == (200, "application/sparql-results+xml; charset=utf-8")
    assert "<literal xml:lang=\"zh\">恩施土家族苗族自治州</literal>" in body


def test_sparqlwrapper_csv(url):
    client = SPARQLWrapper(f"{url}/sparql")
    client.setQuery("SELECT (COUNT(?c) AS ?n) WHERE { ?c a chz:Case }")
    client.setReturnFormat(CSV)
    assert client.query().convert().decode("utf-8") == "n\r\n27\r\n"


def test_construct_gives_turtle(url):
    query = "CONSTRUCT { ?c chz:domain ?d } WHERE { ?c chz:domain ?d }"
    status, ctype, body = fetch(f"{url}/sparql?" + urllib.parse.urlencode({"query": query}))
    assert (status, ctype) == (200, "text/turtle; charset=utf-8")
    assert "@prefix chz: <https://w3id.org/chuzhi/def#> ." in body


def test_update_is_refused(url):
    client = SPARQLWrapper(f"{url}/sparql")
    client.setMethod(POST)
    client.setQuery("INSERT DATA { <http://e/s> <http://e/p> <http://e/o> }")
    with pytest.raises(urllib.error.HTTPError) as err:
        client.query()
    assert err.value.code == 403
    status, _, body = fetch(f"{url}/sparql", data=b"DROP ALL", headers={"Content-Type": "application/sparql-update"})
    assert (status, body) == (403, "updates are refused: this endpoint is read-only\n")
    status, _, _ = fetch(f"{url}/sparql", data=b"x", method="PUT")
    assert status == 403
    status, _, body = fetch(f"{url}/sparql?query=" + urllib.parse.quote("ASK { <http://e/s> ?p ?o }"))
    assert body == '{"head": {}, "boolean": false}\n'


def test_service_is_refused(url):
    query = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    status, _, body = fetch(f"{url}/sparql?" + urllib.parse.urlencode({"query": query}))
    assert status == 400
    assert body == ("inline query, line 1: SERVICE is refused: queries never reach out to other endpoints\n")


def test_time_and_size_are_bounded(url):
    # hours of work on the 2022 data: the worker is killed after 1 s
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    t0 = time.perf_counter()
    status, _, body = fetch(f"{url}/sparql?" + urllib.parse.urlencode({"query": slow}))
    assert time.perf_counter() - t0 < 5
    assert (status, body) == (400, "the query ran longer than the timeout of 1 s and was stopped "
                                   "(raise it with --timeout)\n")
    # millions of rows: reading stops at row 501, long before the timeout
    huge = "SELECT * { ?a ?b ?c . ?d ?e ?f }"
    status, _, body = fetch(f"{url}/sparql?" + urllib.parse.urlencode({"query": huge}))
    assert (status, body) == (413, "the result has more than 500 rows: add a LIMIT\n")
    status, _, body = fetch(f"{url}/sparql?" + urllib.parse.urlencode({"query": "SELECT * { ?s ?p ?o } LIMIT 500"}))
    assert status == 200
    assert len(json.loads(body)["results"]["bindings"]) == 500


def test_query_page_is_offline(url):
    status, ctype, page = fetch(f"{url}/")
    assert (status, ctype) == (200, "text/html; charset=utf-8")
    assets = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert assets == ["/static/sparql.css", "/static/editor.js", "/static/sparql.js"]
    for asset in assets:
        status, _, text = fetch(url + asset)
        assert status == 200
        assert not re.search(r"(?:src|href|url|import|fetch)\W+['\"(]?(?:https?:)?//", text), asset
    status, _, listing = fetch(f"{url}/queries.json")
    assert [q["name"] for q in json.loads(listing)] == [q.name for q in shipped_queries()]
    assert fetch(f"{url}/static/../serve.py")[0] == 404


def test_binds_to_loopback_by_default(built):
    import inspect

    assert inspect.signature(make_server).parameters["host"].default == "127.0.0.1"


def test_negotiation():
    assert negotiate("application/sparql-results+xml;q=0.5, text/csv", "select") == "csv"
    assert negotiate("text/turtle", "select") == "json"
    assert negotiate("application/n-triples, text/turtle;q=0.5", "graph") == "nt"
    assert negotiate("*/*", "ask") == "json"


# ---------------------------------------------------------------- `chuzhi-graph serve` as a real process

CHUZHI = str(Path(sys.executable).with_name("chuzhi-graph"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_cpu_ticks(pid: int) -> int:
    """CPU ticks used so far by a process and its live children."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total


@pytest.fixture()
def private_out(built, tmp_path) -> Path:
    """A copy of the build: the serve process holds its store's write lock."""
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(built.files["nt"], out / "chuzhi.nt")
    return out


def test_serve_command_end_to_end(private_out):
    port = free_port()
    process = subprocess.Popen([CHUZHI, "serve", "--out", str(private_out), "--port", str(port), "--timeout", "1",
                                "--max-rows", "100"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stderr.readline()
        assert first == (f"SPARQL endpoint: http://127.0.0.1:{port}/sparql  query page: "
                         f"http://127.0.0.1:{port}/  (Ctrl+C to stop)\n")
        url = f"http://127.0.0.1:{port}"
        # the same answer as `chuzhi-graph query`
        cli = subprocess.run([CHUZHI, "query", "cases-per-prefecture", "--format", "csv", "--no-bom",
                              "--out", str(private_out)], capture_output=True, text=True, timeout=60)
        assert cli.returncode == 0, cli.stderr
        text = next(q for q in shipped_queries() if q.name == "cases-per-prefecture").text
        status, _, body = fetch(f"{url}/sparql?" + urllib.parse.urlencode({"query": text}),
                                headers={"Accept": "text/csv"})
        assert (status, body.replace("\r\n", "\n")) == (200, cli.stdout.replace("\r\n", "\n"))
        # a second server on the same port: exit code 7 and why
        clash = subprocess.run([CHUZHI, "serve", "--out", str(private_out), "--port", str(port)],
                               capture_output=True, text=True, timeout=60)
        assert clash.returncode == 7
        assert clash.stderr == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
        # a slow query is stopped, its worker killed: the server's CPU is free again
        slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        status, _, body = fetch(f"{url}/sparql?" + urllib.parse.urlencode({"query": slow}))
        assert (status, body) == (400, "the query ran longer than the timeout of 1 s and was stopped "
                                       "(raise it with --timeout)\n")
        ticks = tree_cpu_ticks(process.pid)
        time.sleep(1.0)
        assert tree_cpu_ticks(process.pid) - ticks <= 5  # 50 ms of CPU in 1 s at most: nothing runs on
        status, _, body = fetch(f"{url}/sparql?" + urllib.parse.urlencode({"query": "SELECT * { ?s ?p ?o }"}))
        assert (status, body) == (413, "the result has more than 100 rows: add a LIMIT\n")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == 0


# ---------------------------------------------------------------- the query page in headless Chromium

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.mark.browser
def test_query_page_runs_a_shipped_example_offline(built, url, artefacts):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    name = "cases-per-prefecture"
    expected = run_query(open_store(built.out_dir), name)
    blocked: list[str] = []
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})

            def route(request_route):
                if request_route.request.url.startswith(url + "/"):
                    request_route.continue_()
                else:
                    blocked.append(request_route.request.url)
                    request_route.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(url + "/", wait_until="networkidle")
            page.select_option("#examples", name)
            assert page.input_value("#query") == next(q.text for q in shipped_queries() if q.name == name)
            page.click("#run")
            page.wait_for_selector("#results tbody tr")
            page.wait_for_function("document.getElementById('status').textContent.includes('ms')")
            header = page.eval_on_selector_all("#results thead th", "ths => ths.map(th => th.textContent)")
            # a cell shows an IRI shortened, with the full IRI as its title; a literal as its text
            cells = page.eval_on_selector_all(
                "#results tbody tr",
                "rows => rows.map(r => Array.from(r.cells).map(td => td.title || td.textContent))")
            status = page.text_content("#status")
            assert page.is_hidden("#error")
            page.screenshot(path=str(artefacts / "serve-query-page.png"), full_page=True)
        finally:
            browser.close()
    assert header == expected.variables
    assert cells == [[t.value if t is not None else "" for t in row] for row in expected.rows]
    assert status.startswith(f"{len(expected.rows)} 行 rows · ")
    assert problems == []
    assert blocked == []
