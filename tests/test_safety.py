"""No query reaches the network (two walls) and no query eats the machine (decision 0003)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chuzhi_graph.errors import QueryError
from chuzhi_graph.sparql import worker as worker_module
from chuzhi_graph.sparql.query import WORKERS, check_no_service, run_query, shipped_queries
from chuzhi_graph.sparql.safety import _verdict, check_query, keyword_free

CHUZHI = str(Path(sys.executable).with_name("chuzhi-graph"))
REFUSED = "SERVICE is refused: queries never reach out to other endpoints"
WALLED = ("the query tried to open a network connection, which is refused "
          "(SERVICE is refused: queries never reach out to other endpoints)")


class Listener:
    """A loopback TCP listener that records every connection (and answers with a secret body)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(65536) or b"(connected)")
                    body = b"SECRET-REMOTE-BODY"
                    conn.sendall(b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                except OSError:
                    self.received.append(b"(connected)")

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    item = Listener()
    yield item
    item.close()


def bypasses(port: int) -> dict[str, str]:
    """The two known bypasses of a text check and other spellings of SERVICE."""
    url = f"http://127.0.0.1:{port}/x"
    return {
        "dot-before-service": f"SELECT * WHERE {{ {{}} .SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "escape-then-hash": (f"SELECT * {{ {{ ?s <http://e/\\u0041#x> ?o }} "
                             f"UNION {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}"),
        "lower-case-silent": f"select * where {{ service silent <{url}> {{ ?s ?p ?o }} }}",
        "escaped-keyword": f"SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",
        "in-a-subquery": f"SELECT * {{ {{ SELECT * {{ OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }} }}",
        "comment-splits-it": f"SELECT * WHERE {{ #x\nSERVICE#y\n<{url}> {{ ?s ?p ?o }} }}",
    }


def test_the_parsed_query_decides_not_the_text():
    # SERVICE as a word in strings, IRIs and comments is no SERVICE clause
    assert check_query("SELECT * { ?s <http://e/SERVICE> 'SERVICE' } # SERVICE <http://e/>") is True
    with pytest.raises(QueryError) as err:
        check_query("SELECT * WHERE {\n  {} .SERVICE <http://127.0.0.1:9/x> { ?s ?p ?o } }", "q.rq")
    assert str(err.value) == f"q.rq, line 2: {REFUSED}"
    for update in ("INSERT DATA { <http://e/s> <http://e/p> 1 }", "LOAD <http://127.0.0.1:9/x>",
                   "DROP ALL", "CLEAR DEFAULT"):
        with pytest.raises(QueryError, match=r"^inline query: updates are refused: queries are read-only$"):
            check_query(update)
    # rdflib's parser gives up on this one (a `#` inside an IRI): not refused here, but walled (below)
    assert check_query(bypasses(9)["escape-then-hash"]) is False


def test_only_a_text_where_no_keyword_can_hide_skips_the_parse(monkeypatch):
    # the spellings of SERVICE and the updates all go to the parser
    for text in [*bypasses(9).values(), "select * { ſervice <http://e/> { ?s ?p ?o } }",
                 "INSERT DATA { <http://e/s> <http://e/p> 1 }", "load <http://e/>", "DROP ALL"]:
        assert not keyword_free(text), text
    # a cheap query is answered without rdflib's parser
    import chuzhi_graph.sparql.safety as safety

    def no_parse(text: str) -> tuple[str, int | None]:  # noqa: ARG001 (_verdict's signature)
        raise AssertionError("parsed")

    monkeypatch.setattr(safety, "_verdict", no_parse)
    assert check_query("SELECT ?t WHERE { <https://w3id.org/chuzhi/case/x> dct:title ?t }") is True


@pytest.mark.parametrize("spelling", ["SERVICE", "service", "SeRvIcE", "ſervice", "SERVICE SILENT", "\\u0053ERVICE",
                                      "\\u0073ervice", "\\U00000053ERVICE", "S\\u0045RVICE", "GRAPH", "S ERVICE"])
def test_a_text_that_skips_the_parse_holds_no_service(spelling):
    """Wherever the parser finds a SERVICE pattern, the shortcut does not skip it."""
    text = f"SELECT * WHERE {{ {spelling} <http://127.0.0.1:9/x> {{ ?s ?p ?o }} }}"
    verdict = _verdict(text)[0]
    assert not (keyword_free(text) and verdict == "service"), (text, verdict)
    assert keyword_free(text) == (spelling in ("GRAPH", "S ERVICE"))


@pytest.mark.server
@pytest.mark.parametrize("name", list(bypasses(9)))
def test_no_spelling_of_service_reaches_a_listener(name, listener):
    store = memory_store_of_a_few_triples()
    text = bypasses(listener.port)[name]
    with pytest.raises(QueryError) as err:
        run_query(store, text, timeout=20)
    time.sleep(0.3)
    assert listener.received == []
    assert str(err.value) in (f"inline query, line 1: {REFUSED}", f"inline query, line 2: {REFUSED}",
                              f"inline query: {WALLED}")
    assert "SECRET" not in str(err.value)


def memory_store_of_a_few_triples():
    import pyoxigraph as ox

    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal("o")))
    return store


@pytest.mark.server
def test_second_wall_alone_stops_the_engine(listener, monkeypatch):
    """With the parse check switched off, the worker itself cannot connect; without both, it can."""
    store = memory_store_of_a_few_triples()
    text = bypasses(listener.port)["dot-before-service"]
    url = f"http://127.0.0.1:{listener.port}/x"
    monkeypatch.setattr("chuzhi_graph.sparql.query.check_no_service", lambda text, source="": True)
    # with a timeout the check runs in the worker: switched off there too
    monkeypatch.setattr(worker_module, "check_query", lambda text, source="", deadline=None: True)
    with pytest.raises(QueryError) as err:
        run_query(store, text, timeout=20)
    assert str(err.value) == f"inline query: {WALLED}"
    time.sleep(0.3)
    assert listener.received == []
    # the control: without the seccomp wall too, the engine does connect (so the test can fail),
    # and the error still does not echo what the remote server answered
    monkeypatch.setattr(worker_module, "deny_network", lambda: False)
    with pytest.raises(QueryError) as err:
        run_query(store, text, timeout=20)
    time.sleep(0.3)
    assert len(listener.received) == 1 and listener.received[0].startswith(b"POST /x HTTP/1.1")
    assert "SECRET" not in str(err.value)
    assert str(err.value) == f"inline query: the query failed: Error 500 Internal Server Error returned by {url}"


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([CHUZHI, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def private_out(built, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("safety") / "out"
    out.mkdir()
    shutil.copy(built.files["nt"], out / "chuzhi.nt")
    return out


@pytest.mark.server
def test_cli_query_both_bypasses_refused(private_out, listener):
    queries = bypasses(listener.port)
    first = cli("query", queries["dot-before-service"], "--out", str(private_out))
    assert (first.returncode, first.stderr) == (5, f"Error: inline query, line 1: {REFUSED}\n")
    second = cli("query", queries["escape-then-hash"], "--out", str(private_out))
    assert (second.returncode, second.stderr) == (5, f"Error: inline query: {WALLED}\n")
    time.sleep(0.3)
    assert listener.received == []


# ---------------------------------------------------------------- memory (break 2)

CROSS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 1"


@pytest.fixture(scope="module")
def synthetic_out(tmp_path_factory) -> Path:
    """A 2,000-case synthetic build: its cross product does not fit in 200 MB."""
    from chuzhi_graph.build import build
    from chuzhi_graph.records.synth import generate

    folder = tmp_path_factory.mktemp("synth")
    generate(folder / "data", cases=2000)
    build(folder / "data", folder / "out", formats=("nt",), validate=False)
    return folder / "out"


@pytest.mark.server
def test_cross_product_is_stopped_at_the_memory_bound(synthetic_out):
    t0 = time.perf_counter()
    done = cli("query", CROSS, "--max-memory", "200", "--timeout", "100", "--out", str(synthetic_out))
    assert done.returncode == 5, done.stderr
    assert done.stderr == ("Error: the query needed more than 200 MB of memory and was stopped (add a LIMIT "
                           "or a more selective pattern, or raise it with --max-memory)\n")
    assert time.perf_counter() - t0 < 90  # stopped by memory, not by the timeout


def test_memory_bound_of_a_library_call():
    import pyoxigraph as ox

    store = ox.Store()
    store.extend(ox.Quad(ox.NamedNode(f"http://e/s{i}"), ox.NamedNode("http://e/p"), ox.Literal(i), ox.DefaultGraph())
                 for i in range(3000))
    with pytest.raises(QueryError) as err:
        run_query(store, CROSS, timeout=60, memory=64 * 2**20)
    assert str(err.value) == ("the query needed more than 64 MB of memory and was stopped (add a LIMIT "
                              "or a more selective pattern, or raise it with --max-memory)")
    # the same query on a tenth of the data fits: the bound is on the worker, not a refusal
    small = ox.Store()
    small.extend(list(store)[:300])
    assert len(run_query(small, CROSS, timeout=60, memory=64 * 2**20).rows) == 1
    assert WORKERS.available


@pytest.mark.parametrize("query", shipped_queries(), ids=lambda q: q.name)
def test_shipped_texts_pass_the_parsed_check_they_skip(query):
    # check_no_service lets the package's own texts through without a parse: they must pass it
    assert check_query(query.text, f"query {query.name}") is True
    assert check_no_service(query.text) is True


def test_a_changed_shipped_text_is_parsed_again():
    text = shipped_queries()[0].text.replace("WHERE {", "WHERE { {} .SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } ", 1)
    with pytest.raises(QueryError, match="SERVICE is refused"):
        check_no_service(text)
