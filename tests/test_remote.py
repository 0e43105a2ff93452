"""Push to two real SPARQL servers on loopback (`oxigraph serve`, Debian's Virtuoso), run every shipped query there."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chuzhi_graph.core.namespace import DEFAULT_BASE
from chuzhi_graph.errors import EnvironmentProblem, QueryUsageError
from chuzhi_graph.release.reader import Release
from chuzhi_graph.release.remote import PASSWORD_ENV, RemoteEndpoint, push, with_values
from chuzhi_graph.sparql.query import run_query, shipped_queries

pytestmark = pytest.mark.server
PARAMS = {"unit-profile": {"unit": "华中科技大学"}, "domain-cases": {"domain": "智慧城市"}}
OXIGRAPH = Path(sys.executable).with_name("oxigraph")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _oxigraph(tmp_path_factory, union: bool = True, load: Path | None = None) -> Iterator[str]:
    """``oxigraph serve`` on a free loopback port; ``load``: an RDF file bulk-loaded first (``oxigraph load``)."""
    binary = str(OXIGRAPH) if OXIGRAPH.exists() else shutil.which("oxigraph")
    if not binary:
        pytest.skip("the oxigraph server (PyPI package oxigraph) is not installed")
    port = free_port()
    location = tmp_path_factory.mktemp("oxigraph")
    if load is not None:
        subprocess.run([binary, "load", "--location", str(location), "--file", str(load)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    process = subprocess.Popen(
        [binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
         *(["--union-default-graph"] if union else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/query?query=ASK%7B%7D", timeout=1).read()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"oxigraph serve exited: {process.stderr.read().decode() if process.stderr else ''}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory) -> Iterator[str]:
    yield from _oxigraph(tmp_path_factory)


VIRTUOSO_INI = """[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
DirsAllowed = .
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {db}
ServerThreads = 4
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 120
"""


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory) -> Iterator[str]:
    yield from _virtuoso(tmp_path_factory)


def _virtuoso(tmp_path_factory, info: dict[str, object] | None = None) -> Iterator[str]:
    """Debian's Virtuoso (virtuoso-opensource) on free loopback ports with a new database (user dba/dba).

    ``info`` gets its ``folder`` (the database's, the one folder it may read files from) and ``sql`` port."""
    binary = shutil.which("virtuoso-t")
    if not binary:
        pytest.skip("Virtuoso is not installed (Debian package virtuoso-opensource)")
    folder = tmp_path_factory.mktemp("virtuoso")
    http, sql = free_port(), free_port()
    (folder / "virtuoso.ini").write_text(VIRTUOSO_INI.format(db=folder, sql=sql, http=http), encoding="utf-8")
    if info is not None:
        info.update(folder=folder, sql=sql)
    with (folder / "console.log").open("wb") as log:
        process = subprocess.Popen([binary, "+foreground", "+configfile", str(folder / "virtuoso.ini")],
                                   cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http}"
    try:
        deadline = time.monotonic() + 180  # a new database is set up on the first start (15-40 s here)
        while True:
            try:
                urllib.request.urlopen(f"{url}/sparql?query=ASK%7B%7D", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"virtuoso-t did not start: {(folder / 'console.log').read_text()[-2000:]}")
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Store:
    """A running SPARQL server: where to push (Graph Store Protocol), where to query, who to be."""

    name: str
    store_url: str
    query_url: str
    user: str | None = None
    password: str = ""


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def server(request) -> Store:
    if request.param == "oxigraph":
        url = request.getfixturevalue("oxigraph")
        return Store("oxigraph", f"{url}/store", f"{url}/query")
    url = request.getfixturevalue("virtuoso")
    return Store("virtuoso", f"{url}/sparql-graph-crud-auth", f"{url}/sparql", "dba", "dba")


@pytest.fixture(scope="module")
def pushed(server, built):
    with password(server.password):
        return push(built.out_dir, server.store_url, user=server.user)


@contextmanager
def password(value: str) -> Iterator[None]:
    old = os.environ.get(PASSWORD_ENV)
    os.environ[PASSWORD_ENV] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[PASSWORD_ENV]
        else:
            os.environ[PASSWORD_ENV] = old


def test_push_sends_the_named_graphs_of_the_trig_dump(pushed, server, built, tmp_path):
    """The store holds exactly the graphs of publish's chuzhi.trig, each with the same triples."""
    from chuzhi_graph.site.publish import write_trig

    graphs = {p.graph: p.triples for p in pushed}
    editions = ("bigdata-2022", "poverty-alleviation-2020", "social-governance-2020", "social-governance-2022",
                "social-governance-2023")  # the series (docs/series.md)
    assert set(graphs) == {f"{DEFAULT_BASE}graph/shared", f"{DEFAULT_BASE}graph/vocabulary",
                           *(f"{DEFAULT_BASE}graph/edition/{e}" for e in editions)}
    assert sum(graphs.values()) == built.triples
    trig = tmp_path / "chuzhi.trig"
    write_trig(Release.open(built.out_dir).layout(), trig, {})
    in_trig: dict[str, int] = {}
    for quad in ox.parse(path=str(trig), format=ox.RdfFormat.TRIG):
        in_trig[quad.graph_name.value] = in_trig.get(quad.graph_name.value, 0) + 1
    in_store = run_query(RemoteEndpoint(server.query_url), "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                         f"FILTER(STRSTARTS(STR(?g), '{DEFAULT_BASE}graph/')) }} GROUP BY ?g")
    in_store_graphs = {row[0].value: int(row[1].value) for row in in_store.rows}
    # and the manifest: the graphs push owns, with their counts, and its status (test_push_exact.py)
    assert in_store_graphs.pop(f"{DEFAULT_BASE}graph/manifest") == 1 + 2 * len(graphs)
    assert in_store_graphs == in_trig == graphs


@pytest.mark.parametrize("query", shipped_queries(), ids=lambda q: q.name)
@pytest.mark.usefixtures("pushed")
def test_every_shipped_query_gives_the_same_results_remotely(server, built, query):
    params = PARAMS.get(query.name, query.example_params())
    remote = run_query(RemoteEndpoint(server.query_url), query, params)
    embedded = run_query(Release.open(built.out_dir).store(), query, params)
    assert remote.variables == embedded.variables
    assert normalised(remote) == normalised(embedded)
    assert remote.rows


XSD = "http://www.w3.org/2001/XMLSchema#"
INTEGERS = {f"{XSD}{t}" for t in ("integer", "positiveInteger", "nonNegativeInteger")}


def normalised(result) -> list[tuple]:
    """Rows cell by cell, each literal by value.

    Virtuoso writes xsd:boolean as "1"/"0" (valid lexical forms of true/false) and keeps the derived integer
    datatypes of the data (xsd:positiveInteger, xsd:nonNegativeInteger) where the embedded store answers
    xsd:integer: the same values, so they are compared as values, not as spellings."""
    return [tuple(value(term) for term in row) for row in result.rows]


def value(term):
    if not isinstance(term, ox.Literal):
        return term
    if term.datatype.value == f"{XSD}boolean":
        return ox.Literal(str(term.value in ("true", "1")).lower(), datatype=term.datatype)
    if term.datatype.value in INTEGERS:
        return ox.Literal(str(int(term.value)), datatype=ox.NamedNode(f"{XSD}integer"))
    return term


def test_push_again_replaces_the_graphs(pushed, server, built):
    with password(server.password):
        again = push(built.out_dir, server.store_url, user=server.user)
    assert again == pushed
    endpoint = RemoteEndpoint(server.query_url)
    count = run_query(endpoint, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                                f"FILTER(STRSTARTS(STR(?g), '{DEFAULT_BASE}graph/') "
                                f"&& ?g != <{DEFAULT_BASE}graph/manifest>) }}")
    assert int(count.rows[0][0].value) == sum(p.triples for p in pushed)


@pytest.mark.usefixtures("pushed")
def test_construct_and_ask_remotely(server):
    endpoint = RemoteEndpoint(server.query_url)
    assert run_query(endpoint, "ASK { ?c a chz:Case }").boolean is True
    graph = run_query(endpoint, "CONSTRUCT { ?c chz:domain ?d } WHERE { ?c chz:domain ?d }")
    assert len(graph.triples) == 36  # 30 cases, 6 with two domains


@pytest.mark.usefixtures("pushed")
def test_a_required_parameter_is_asked_for_before_the_store_is(server):
    with pytest.raises(QueryUsageError, match="needs the parameter unit"):
        run_query(RemoteEndpoint(server.query_url), "unit-profile")
    alias = run_query(RemoteEndpoint(server.query_url), "unit-profile", {"unit": "华中科大"})
    assert {row[0].value for row in alias.rows} == {"https://w3id.org/chuzhi/unit/hust"}


def test_unreachable_store_is_an_environment_problem(built):
    with pytest.raises(EnvironmentProblem, match="cannot reach the store"):
        push(built.out_dir, f"http://127.0.0.1:{free_port()}/store")


@pytest.fixture(scope="module")
def oxigraph_without_union(tmp_path_factory) -> Iterator[str]:
    """An Oxigraph server whose default graph is its own graph, not the union of the named graphs."""
    yield from _oxigraph(tmp_path_factory, union=False)


def test_push_to_a_store_without_union_default_graph_says_how_to_enable_it(oxigraph_without_union, built):
    done = subprocess.run([CHUZHI, "push", "--endpoint", f"{oxigraph_without_union}/store",
                           "--out", str(built.out_dir)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 7
    assert done.stderr.startswith(
        f"Error: {oxigraph_without_union}/query: the graphs were pushed, but the store's default graph does not "
        "show them, so every shipped query would answer nothing: make the default graph the union of the named "
        "graphs (Oxigraph: `oxigraph serve --union-default-graph`; Fuseki: ")
    assert "Virtuoso: " in done.stderr
    assert done.stdout == ""
    graphs = run_query(RemoteEndpoint(f"{oxigraph_without_union}/query"),
                       "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g")
    sent = sorted([*Release.open(built.out_dir).layout(), f"{DEFAULT_BASE}graph/manifest"])
    assert [row[0].value for row in graphs.rows] == sent  # the graphs were sent; the check came after
    unchecked = subprocess.run([CHUZHI, "push", "--endpoint", f"{oxigraph_without_union}/store", "--no-check",
                                "--out", str(built.out_dir)], capture_output=True, text=True, timeout=120)
    assert unchecked.returncode == 0 and re.fullmatch(r"push: \d+\.\d\d s\n", unchecked.stderr)  # the step's line
    unknown = subprocess.run([CHUZHI, "push", "--endpoint", f"{oxigraph_without_union}/elsewhere",
                              "--out", str(built.out_dir)], capture_output=True, text=True, timeout=120)
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr == (f"Error: field --query-endpoint: cannot tell the query endpoint of the store "
                              f"{oxigraph_without_union}/elsewhere: give it with --query-endpoint (or --no-check)\n")


def test_layout_keeps_applicant_lists_with_their_case(built):
    layout = Release.open(built.out_dir).layout()
    assert sum(len(g) for g in layout.values()) == built.triples
    edition = layout[f"{DEFAULT_BASE}graph/edition/bigdata-2022"]
    assert not [t for t in layout[f"{DEFAULT_BASE}graph/shared"] if isinstance(t.subject, ox.BlankNode)]
    assert len([t for t in edition if isinstance(t.subject, ox.BlankNode)]) == 62
    assert len({t.subject for t in edition if str(t.subject).startswith(f"<{DEFAULT_BASE}case/")}) == 27


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=30))
def test_values_binding_cannot_change_the_query(text):
    store = ox.Store()
    query = "SELECT ?v ?n WHERE { BIND(1 AS ?n) }"
    bound = with_values(query, {ox.Variable("v"): ox.Literal(text)})
    rows = [tuple(s) for s in store.query(bound)]
    assert rows == [(ox.Literal(text), ox.Literal(1))]


# ---------------------------------------------------------------- the push and query --endpoint commands

CHUZHI = str(Path(sys.executable).with_name("chuzhi-graph"))


def test_push_command_then_query_endpoint(server, built):
    user = ["--user", server.user] if server.user else []
    env = {**os.environ, PASSWORD_ENV: server.password}
    done = subprocess.run([CHUZHI, "push", "--endpoint", server.store_url, *user, "--out", str(built.out_dir)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0 and re.fullmatch(r"push: \d+\.\d\d s\n", done.stderr)  # the check passed, silently
    expected = [f"{g}\t{len(t)}" for g, t in Release.open(built.out_dir).layout().items()]
    assert done.stdout.splitlines() == sorted(expected)
    for args in (["cases-per-domain"], ["cases-per-prefecture"], ["unit-profile", "--param", "unit=华中科大"]):
        remote = subprocess.run([CHUZHI, "query", *args, "--endpoint", server.query_url, "--format", "tsv"],
                                capture_output=True, text=True, timeout=60)
        local = subprocess.run([CHUZHI, "query", *args, "--out", str(built.out_dir), "--format", "tsv"],
                               capture_output=True, text=True, timeout=60)
        assert (remote.returncode, local.returncode) == (0, 0)
        # stores may hand an integer back under its derived type (xsd:positiveInteger as written in
        # the dump) or as xsd:integer: the same number, so compare numbers by value
        assert bare_integers(remote.stdout) == bare_integers(local.stdout)
        assert remote.stdout.count("\n") > 1


def bare_integers(tsv: str) -> str:
    """TSV with integer literals of any xsd integer type written bare."""
    return re.sub(r'"(-?\d+)"\^\^(?:<http://www\.w3\.org/2001/XMLSchema#|xsd:)'
                  r'(?:integer|positiveInteger|nonNegativeInteger|int|long)>?', r"\1", tsv)


def test_push_command_to_a_closed_port_exits_7(built):
    port = free_port()
    done = subprocess.run([CHUZHI, "push", "--endpoint", f"http://127.0.0.1:{port}/store",
                           "--out", str(built.out_dir)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 7
    graph = f"{DEFAULT_BASE}graph/manifest"  # the first request: what earlier pushes made
    assert done.stderr == (f"Error: http://127.0.0.1:{port}/store?graph={urllib.parse.quote(graph, safe='')}: "
                           f"read of graph <{graph}>: cannot reach the store: [Errno 111] Connection refused\n")
    assert done.stdout == ""
