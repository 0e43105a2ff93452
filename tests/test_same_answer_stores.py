"""At 10,000 cases, every shipped question gives byte-identical sorted CSV from `query` (the embedded
store), from an Oxigraph server and from Virtuoso, each loaded by `push`; the parameterised questions
with a fixed sample of parameter values. (The shipped size on both servers: tests/test_remote.py;
rdflib's engine: tests/test_same_answer.py.)"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
import pytest
from test_remote import _oxigraph, _virtuoso

from chuzhi_graph.build import build
from chuzhi_graph.records.synth import generate
from chuzhi_graph.release.reader import Release
from chuzhi_graph.release.remote import RemoteEndpoint
from chuzhi_graph.site.publish import write_trig
from chuzhi_graph.sparql.query import format_result, run_query, shipped_queries
from chuzhi_graph.sparql.questions import names_of

pytestmark = pytest.mark.server
CASES = int(os.environ.get("CHUZHI_SAME_ANSWER_STORES_CASES", "10000"))
SAMPLES = 2  # parameter values per parameterised question


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """The 10,000-case build, without the query store: the test's in-memory store has `query`'s engine."""
    folder = tmp_path_factory.mktemp("synth10k")
    generate(folder / "data", cases=CASES, editions=5, seed=1)
    build(folder / "data", folder / "out", views=False, store=False)
    return folder / "out"


@pytest.fixture(scope="module")
def stores(tmp_path_factory, synthetic) -> Iterator[dict[str, RemoteEndpoint]]:
    """Both servers holding the named graphs of the synthetic build (as `push` sends them), each
    bulk-loaded: `push` through the Graph Store Protocol took 50 s into Oxigraph and 17.5 s into
    Virtuoso at 10,000 cases (load average 10); push itself is tested at the shipped size in
    tests/test_remote.py. The seconds of each step are printed."""
    t0 = time.perf_counter()
    layout = Release.open(synthetic).layout()
    folder = tmp_path_factory.mktemp("graphs")
    write_trig(layout, folder / "chuzhi.trig", {})
    t1 = time.perf_counter()
    oxigraph = _oxigraph(tmp_path_factory, load=folder / "chuzhi.trig")
    ox_url = next(oxigraph)
    t2 = time.perf_counter()
    info: dict[str, object] = {}
    virtuoso = _virtuoso(tmp_path_factory, info)
    try:
        vt_url = next(virtuoso)
        t3 = time.perf_counter()
        virtuoso_bulk_load(layout, Path(str(info["folder"])), int(str(info["sql"])))
        t4 = time.perf_counter()
        print(f"\n{CASES} cases: TriG written {t1 - t0:.1f} s, oxigraph loaded and started {t2 - t1:.1f} s, "
              f"virtuoso started {t3 - t2:.1f} s, bulk-loaded {t4 - t3:.1f} s")
        yield {"oxigraph": RemoteEndpoint(f"{ox_url}/query"), "virtuoso": RemoteEndpoint(f"{vt_url}/sparql")}
    finally:
        for server in (oxigraph, virtuoso):
            server.close()  # runs the generators' clean-up: the servers stop


def virtuoso_bulk_load(layout: dict[str, list[ox.Triple]], folder: Path, sql: int) -> None:
    """Virtuoso's bulk loader (``ld_dir``, ``rdf_loader_run``) over one N-Triples file per named graph."""
    script = []
    for number, (graph, triples) in enumerate(sorted(layout.items())):
        name = f"graph-{number}.nt"
        ox.serialize(triples, str(folder / name), ox.RdfFormat.N_TRIPLES)
        script.append(f"ld_dir('{folder}', '{name}', '{graph}');")
    script += ["rdf_loader_run();", "checkpoint;",
               "SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST WHERE ll_error IS NOT NULL;"]
    done = subprocess.run(["isql-vt", str(sql), "dba", "dba", "VERBOSE=OFF", "BANNER=OFF", "PROMPT=OFF",
                           "ERRORS=STDOUT", "EXEC=" + " ".join(script)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "Error" not in done.stdout and "graph-" not in done.stdout, done.stdout


def sample_params(store, query) -> list[dict[str, str]]:
    """A fixed sample: for the k-th of SAMPLES, each parameter takes the instance of its kind at
    (k + 1/2) / SAMPLES of the way through them by IRI, the j-th parameter one further (edition-diff:
    two editions)."""
    if not query.param_specs:
        return [{}]
    samples = []
    for k in range(SAMPLES):
        params = {}
        for j, spec in enumerate(query.param_specs):
            iris = sorted({iri for iri, _ in names_of(store, spec.cls)})
            params[spec.name] = f"<{iris[((2 * k + 1) * len(iris) // (2 * SAMPLES) + j) % len(iris)]}>"
        samples.append(params)
    return samples


def sorted_csv(text: str) -> str:
    header, _, rows = text.partition("\r\n")
    return header + "\r\n" + "".join(sorted(rows.splitlines(keepends=True)))


def test_every_shipped_question_gives_the_same_sorted_csv_on_three_stores(synthetic, stores):
    # the in-memory store of the dump: the engine and answers of `query`'s on-disk store, without its
    # load into RocksDB (a cost of the test, not of the comparison)
    store = Release.open(synthetic).store()
    targets = {"query": store, **stores}
    asks = [(query, params) for query in shipped_queries() for params in sample_params(store, query)]
    seconds = dict.fromkeys(targets, 0.0)
    slowest: list[tuple[float, str, str]] = []

    def answers(name: str) -> list[str]:  # one thread per store: the servers work while the others do
        out = []
        for query, params in asks:
            t0 = time.perf_counter()
            out.append(sorted_csv(format_result(run_query(targets[name], query, params), "csv")))
            slowest.append((time.perf_counter() - t0, name, query.name))
            seconds[name] += slowest[-1][0]
        return out

    with ThreadPoolExecutor(len(targets)) as pool:
        got = dict(zip(targets, pool.map(answers, targets), strict=True))
    print(", ".join(f"{name} {s:.1f} s" for name, s in seconds.items()))
    print("slowest:", ", ".join(f"{q} on {name} {s:.1f} s" for s, name, q in sorted(slowest, reverse=True)[:6]))
    differ = [f"{query.name} {params} on {name}" for name in stores
              for (query, params), mine, theirs in zip(asks, got["query"], got[name], strict=True) if theirs != mine]
    assert not differ
    rows: dict[str, int] = {}
    for (query, _), csv in zip(asks, got["query"], strict=True):
        rows[query.name] = rows.get(query.name, 0) + csv.count("\r\n") - 1
    assert set(rows) == {q.name for q in shipped_queries()}
    assert all(rows.values()), rows  # each question answers rows for one sample at least
