"""`push` makes the store equal the release: other builds' graphs go, a killed push is repaired.

On real servers on loopback (`oxigraph serve`, Debian's Virtuoso), started as in test_remote.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from phases import without_progress
from test_remote import PARAMS, _oxigraph, normalised, password
from test_remote import virtuoso as virtuoso  # the fixture, used by name

import chuzhi_graph.release.remote as remote
from chuzhi_graph.build import build
from chuzhi_graph.cli import cli
from chuzhi_graph.core.namespace import DEFAULT_BASE
from chuzhi_graph.errors import EnvironmentProblem
from chuzhi_graph.records.synth import generate
from chuzhi_graph.release.reader import Release
from chuzhi_graph.release.remote import PASSWORD_ENV, GraphStore, RemoteEndpoint, push, read_manifest
from chuzhi_graph.sparql.query import run_query, shipped_queries

pytestmark = pytest.mark.server
MANIFEST = f"{DEFAULT_BASE}graph/manifest"
CHUZHI = str(Path(sys.executable).with_name("chuzhi-graph"))


@pytest.fixture(scope="module")
def oxigraph_exact(tmp_path_factory) -> Iterator[str]:
    yield from _oxigraph(tmp_path_factory)


def synth_build(tmp_path_factory, cases: int, editions: int) -> Path:
    data = tmp_path_factory.mktemp(f"synth{cases}") / "data"
    generate(data, cases=cases, editions=editions, seed=1)
    out = data.parent / "out"
    build(data, out, formats=("nt",), validate="compiled", store=False)
    return out


@pytest.fixture(scope="module")
def build5k(synth5k) -> Path:
    """`chuzhi-graph synth --cases 5000 --editions 5 --seed 1`, built (the run's shared build: conftest)."""
    return synth5k / "out"


@pytest.fixture(scope="module")
def build200(tmp_path_factory) -> Path:
    return synth_build(tmp_path_factory, 200, 4)


def store_graphs(query_url: str) -> dict[str, int]:
    """Every named graph of the store with its triple count, the manifest left out."""
    rows = run_query(RemoteEndpoint(query_url),
                     "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    graphs = {row[0].value: int(row[1].value) for row in rows.rows}
    graphs.pop(MANIFEST, None)
    return {g: n for g, n in graphs.items() if g.startswith(f"{DEFAULT_BASE}graph/")}


def layout_counts(out: Path) -> dict[str, int]:
    return {g: len(ts) for g, ts in Release.open(out).layout().items()}


def cases_in_store(query_url: str) -> int:
    answer = run_query(RemoteEndpoint(query_url), "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a chz:Case }")
    return int(answer.rows[0][0].value)


def manifest_state(store_url: str, user: str | None = None) -> tuple[list[str], bool]:
    return read_manifest(GraphStore(store_url, user=user).get(MANIFEST), MANIFEST)


class CliResult:
    """The JSON answer of `chuzhi-graph query ... --format json`, as rows of terms."""

    def __init__(self, args: list[str]) -> None:
        done = CliRunner().invoke(cli, ["query", *args, "--format", "json"])
        assert done.exit_code == 0, done.output
        parsed = ox.parse_query_results(done.stdout.encode(), format=ox.QueryResultsFormat.JSON)
        self.variables = [v.value for v in parsed.variables]
        self.rows = [tuple(s) for s in parsed]


def test_push_5k_then_the_shipped_build_leaves_the_shipped_build(oxigraph_exact, build5k, built):
    store, query = f"{oxigraph_exact}/store", f"{oxigraph_exact}/query"
    push(build5k, store)
    assert cases_in_store(query) == 5000
    assert store_graphs(query) == layout_counts(build5k)
    pushed = push(built.out_dir, store)
    assert cases_in_store(query) == 30
    assert store_graphs(query) == {p.graph: p.triples for p in pushed} == layout_counts(built.out_dir)
    assert manifest_state(store) == (sorted(layout_counts(built.out_dir)), True)
    for shipped in shipped_queries():
        params = [f"--param={k}={v}" for k, v in PARAMS.get(shipped.name, shipped.example_params()).items()]
        remote_answer = CliResult([shipped.name, *params, "--endpoint", query])
        local_answer = CliResult([shipped.name, *params, "--graph", str(built.out_dir)])
        assert remote_answer.variables == local_answer.variables, shipped.name
        assert normalised(remote_answer) == normalised(local_answer), shipped.name
        assert local_answer.rows, shipped.name


def test_a_push_killed_after_seconds_is_repaired_by_a_push_of_another_build(oxigraph_exact, build5k, built):
    store, query = f"{oxigraph_exact}/store", f"{oxigraph_exact}/query"
    push(built.out_dir, store)
    proc = subprocess.Popen([CHUZHI, "push", "--endpoint", store, "--graph", str(build5k)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    started = time.monotonic()
    deadline = started + 300
    while time.monotonic() < deadline and proc.poll() is None:  # the push has sent a graph of the 5k build
        if cases_in_store(query) > 30:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the push ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_after = time.monotonic() - started
    owned, complete = manifest_state(store)
    assert not complete and set(owned) >= set(layout_counts(build5k))
    mixed = store_graphs(query)
    print(f"killed after {killed_after:.1f} s; the store then held {len(mixed)} graphs, {cases_in_store(query)} cases")
    push(built.out_dir, store)
    assert store_graphs(query) == layout_counts(built.out_dir)
    assert cases_in_store(query) == 30
    assert manifest_state(store) == (sorted(layout_counts(built.out_dir)), True)


class Killed(BaseException):
    """Stands for SIGKILL at a kill point (the store sees the same requests)."""


def killing_at(step: int):
    calls = {"n": 0}

    def kill_point(name: str) -> None:
        assert name == "push"
        calls["n"] += 1
        if calls["n"] == step:
            raise Killed

    return kill_point


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def server(request, tmp_path_factory):
    """(store URL, query URL, user, password) of a fresh server for the kill tests."""
    if request.param == "oxigraph":
        started = _oxigraph(tmp_path_factory)
        url = next(started)
        yield f"{url}/store", f"{url}/query", None, ""
        started.close()  # stops the server
        return
    url = request.getfixturevalue("virtuoso")
    yield f"{url}/sparql-graph-crud-auth", f"{url}/sparql", "dba", "dba"


def test_a_push_killed_at_every_step_is_repaired_by_a_push_of_another_build(server, build200, built, monkeypatch):
    store, query, user, secret = server
    expected = layout_counts(built.out_dir)
    with password(secret):
        push(built.out_dir, store, user=user)
        steps = 1 + len(layout_counts(build200)) + len(set(expected) - set(layout_counts(build200))) + 1
        for step in range(1, steps + 1):
            monkeypatch.setattr(remote, "kill_point", killing_at(step))
            with pytest.raises(Killed):
                push(build200, store, user=user)
            monkeypatch.undo()
            owned, complete = manifest_state(store, user)
            assert complete == (step == steps), step  # the mark stays until the last step
            if not complete:  # and it lists what both builds may have left
                assert set(owned) == set(expected) | set(layout_counts(build200)), step
            push(built.out_dir, store, user=user)
            assert store_graphs(query) == expected, step
            assert cases_in_store(query) == 30, step
            assert manifest_state(store, user) == (sorted(expected), True)
        # and a push that ran to its end: the other build exactly
        push(build200, store, user=user)
        assert store_graphs(query) == layout_counts(build200)
        assert cases_in_store(query) == 200
        push(built.out_dir, store, user=user)
        assert store_graphs(query) == expected


def test_push_never_removes_a_graph_it_does_not_own(oxigraph_exact, built):
    store, query = f"{oxigraph_exact}/store", f"{oxigraph_exact}/query"
    theirs = f"{DEFAULT_BASE}graph/someone-elses"
    GraphStore(store).put(theirs, [ox.Triple(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal("o"))])
    push(built.out_dir, store)
    assert store_graphs(query)[theirs] == 1
    GraphStore(store).delete(theirs)


def test_a_store_that_drops_triples_fails_the_verification(oxigraph_exact, built, monkeypatch):
    """A store that answers 2xx but keeps less than it was sent: exit 7, and the mark stays."""
    store = f"{oxigraph_exact}/store"
    real_put = GraphStore.put

    def lossy_put(self, graph, triples):
        return real_put(self, graph, triples[:-1] if graph.endswith("/shared") else triples)

    monkeypatch.setattr(GraphStore, "put", lossy_put)
    with pytest.raises(EnvironmentProblem, match=r"graph/shared> holds (\d+) triples, \d+ were pushed; push again"):
        push(built.out_dir, store)
    monkeypatch.undo()
    assert manifest_state(store)[1] is False
    push(built.out_dir, store)
    assert manifest_state(store)[1] is True


def test_push_command_reports_a_killed_push(oxigraph_exact, built, build200):
    store = f"{oxigraph_exact}/store"
    env = {**os.environ, "CHUZHI_GRAPH_KILL_AT": "push:3"}
    killed = subprocess.run([CHUZHI, "push", "--endpoint", store, "--graph", str(build200)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    done = subprocess.run([CHUZHI, "push", "--endpoint", store, "--graph", str(built.out_dir)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, PASSWORD_ENV: ""})
    assert done.returncode == 0, done.stderr
    lines = without_progress(done.stderr).splitlines()
    assert lines[0] == "WARNING: the last push to this store did not finish: this push repairs it"
    assert all(line.startswith("WARNING: removed the graph <") for line in lines[1:]) and lines[1:]
    assert json.dumps(manifest_state(store)) == json.dumps([sorted(layout_counts(built.out_dir)), True])
