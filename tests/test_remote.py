"""Push to a real `oxigraph serve` on loopback and run every shipped query there."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chuzhi_graph.errors import EnvironmentProblem
from chuzhi_graph.namespace import DEFAULT_BASE
from chuzhi_graph.query import run_query, shipped_queries
from chuzhi_graph.remote import RemoteEndpoint, push, split_by_edition, with_values
from chuzhi_graph.store import memory_store

pytestmark = pytest.mark.server
PARAMS = {"unit-profile": {"unit": "华中科技大学"}, "domain-cases": {"domain": "智慧城市"}}
OXIGRAPH = Path(sys.executable).with_name("oxigraph")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory) -> Iterator[str]:
    binary = str(OXIGRAPH) if OXIGRAPH.exists() else shutil.which("oxigraph")
    if not binary:
        pytest.skip("the oxigraph server (PyPI package oxigraph) is not installed")
    port = free_port()
    location = tmp_path_factory.mktemp("oxigraph")
    process = subprocess.Popen(
        [binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
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
def pushed(oxigraph, built):
    return push(built.out_dir, f"{oxigraph}/store")


def test_push_one_graph_per_edition(pushed, built):
    graphs = {p.graph: p.triples for p in pushed}
    editions = ("bigdata-2022", "poverty-alleviation-2020", "social-governance-2020", "social-governance-2022",
                "social-governance-2023")  # the series (docs/series.md)
    assert set(graphs) == {f"{DEFAULT_BASE}graph/common", f"{DEFAULT_BASE}graph/void",
                           *(f"{DEFAULT_BASE}graph/edition/{e}" for e in editions)}
    assert sum(n for g, n in graphs.items() if g != f"{DEFAULT_BASE}graph/void") == built.triples


@pytest.mark.parametrize("query", shipped_queries(), ids=lambda q: q.name)
@pytest.mark.usefixtures("pushed")
def test_every_shipped_query_gives_the_same_results_remotely(oxigraph, built, query):
    remote = run_query(RemoteEndpoint(f"{oxigraph}/query"), query, PARAMS.get(query.name))
    embedded = run_query(memory_store(built.out_dir), query, PARAMS.get(query.name))
    assert remote.variables == embedded.variables
    assert normalised(remote) == normalised(embedded)
    assert remote.rows


def normalised(result) -> list[tuple]:
    """Rows with the GROUP_CONCAT lists sorted (SPARQL leaves their order to the engine)."""
    concat = [i for i, v in enumerate(result.variables) if v.endswith("Ids")]
    rows = []
    for row in result.rows:
        row = list(row)
        for i in concat:
            row[i] = ox.Literal(" ".join(sorted(row[i].value.split())))
        rows.append(tuple(row))
    return rows


def test_push_again_replaces_the_graphs(pushed, oxigraph, built):
    again = push(built.out_dir, f"{oxigraph}/store")
    assert again == pushed
    endpoint = RemoteEndpoint(f"{oxigraph}/query")
    count = run_query(endpoint, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert int(count.rows[0][0].value) == sum(p.triples for p in pushed)


@pytest.mark.usefixtures("pushed")
def test_construct_and_ask_remotely(oxigraph):
    endpoint = RemoteEndpoint(f"{oxigraph}/query")
    assert run_query(endpoint, "ASK { ?c a chz:Case }").boolean is True
    graph = run_query(endpoint, "CONSTRUCT { ?c chz:domain ?d } WHERE { ?c chz:domain ?d }")
    assert len(graph.triples) == 36  # 30 cases, 6 with two domains


def test_unreachable_store_is_an_environment_problem(built):
    with pytest.raises(EnvironmentProblem, match="cannot reach the store"):
        push(built.out_dir, f"http://127.0.0.1:{free_port()}/store")


def test_split_keeps_applicant_lists_with_their_case(built):
    triples = [q.triple for q in ox.parse(path=str(built.files["nt"]), format=ox.RdfFormat.N_TRIPLES)]
    graphs = split_by_edition(triples)
    assert sum(len(g) for g in graphs.values()) == len(triples)
    edition = graphs[f"{DEFAULT_BASE}graph/edition/bigdata-2022"]
    assert not [t for t in graphs[f"{DEFAULT_BASE}graph/common"] if isinstance(t.subject, ox.BlankNode)]
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


def test_push_command_then_query_endpoint(oxigraph, built):
    done = subprocess.run([CHUZHI, "push", "--endpoint", f"{oxigraph}/store", "--out", str(built.out_dir)],
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, "")
    triples = [q.triple for q in ox.parse(path=str(built.files["nt"]), format=ox.RdfFormat.N_TRIPLES)]
    graphs = split_by_edition(triples)
    void = len(list(ox.parse(path=str(built.out_dir / "void.ttl"), format=ox.RdfFormat.TURTLE)))
    expected = [f"{g}\t{len(t)}" for g, t in graphs.items()] + [f"{DEFAULT_BASE}graph/void\t{void}"]
    assert done.stdout.splitlines() == sorted(expected)
    for name in ("cases-per-domain", "cases-per-prefecture"):
        remote = subprocess.run([CHUZHI, "query", name, "--endpoint", f"{oxigraph}/query", "--format", "tsv"],
                                capture_output=True, text=True, timeout=60)
        local = subprocess.run([CHUZHI, "query", name, "--out", str(built.out_dir), "--format", "tsv"],
                               capture_output=True, text=True, timeout=60)
        assert (remote.returncode, local.returncode) == (0, 0)
        assert remote.stdout == local.stdout
        assert remote.stdout.count("\n") > 1


def test_push_command_to_a_closed_port_exits_7(built):
    port = free_port()
    done = subprocess.run([CHUZHI, "push", "--endpoint", f"http://127.0.0.1:{port}/store",
                           "--out", str(built.out_dir)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 7
    graph = f"{DEFAULT_BASE}graph/common"
    assert done.stderr == (f"Error: http://127.0.0.1:{port}/store?graph={urllib.parse.quote(graph, safe='')}: "
                           f"push of graph <{graph}>: cannot reach the store: [Errno 111] Connection refused\n")
    assert done.stdout == ""
