"""`serve` asked by Comunica (npm @comunica/query-sparql 4.x, tests/clients; installed by tests/run.sh
with `npm ci`): SELECT of a shipped question sent as text, ASK and CONSTRUCT, each compared with the
CLI's answer."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from servers import serving
from test_protocol import HUST, unit_profile_with_values

from chuzhi_graph.release.reader import Release
from chuzhi_graph.sparql.query import run_query
from chuzhi_graph.sparql.serve import ServeConfig

pytestmark = pytest.mark.server
COMUNICA = Path(__file__).with_name("clients") / "node_modules" / ".bin" / "comunica-sparql"
CHZ = "PREFIX chz: <https://w3id.org/chuzhi/def#>\n"


@pytest.fixture(scope="module")
def endpoint(built) -> Iterator[str]:
    if shutil.which("node") is None or not COMUNICA.exists():
        pytest.skip("Comunica is not installed (tests/run.sh: npm ci in tests/clients)")
    with serving(built.out_dir, ServeConfig(timeout=30.0, max_rows=5000)) as server:
        yield f"http://127.0.0.1:{server.server_port}/sparql"


def comunica(endpoint: str, query: str, media_type: str) -> bytes:
    """What ``comunica-sparql sparql@ENDPOINT -q QUERY -t MEDIA_TYPE`` prints (``sparql@``: the source is a
    SPARQL endpoint, so Comunica sends the query there instead of probing the URL first)."""
    done = subprocess.run(["node", str(COMUNICA), f"sparql@{endpoint}", "-q", query, "-t", media_type],
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    return done.stdout


def results(out: bytes) -> ox.QuerySolutions | ox.QueryBoolean:
    """Comunica's SPARQL JSON results, read by pyoxigraph.

    Comunica 4 writes a member ``"metadata": {"httpRequests": N}`` after ``"results"``, which pyoxigraph
    refuses, so it is dropped here (language tags: see the overrides in tests/clients/package.json)."""
    document = json.loads(out)
    document.pop("metadata", None)
    return ox.parse_query_results(json.dumps(document).encode(), format=ox.QueryResultsFormat.JSON)


def cli(built, query, params=None):
    return run_query(Release.open(built.out_dir).store(persistent=True), query, params)


def test_comunica_select_of_a_shipped_question_sent_as_text(built, endpoint):
    answer = results(comunica(endpoint, unit_profile_with_values(), "application/sparql-results+json"))
    assert isinstance(answer, ox.QuerySolutions)
    expected = cli(built, "unit-profile", {"unit": HUST})
    assert [v.value for v in answer.variables] == expected.variables
    rows = [tuple(solution) for solution in answer]
    assert len(rows) > 5
    assert rows == expected.rows  # cell by cell, in the question's order


def test_comunica_ask(endpoint):
    for text, truth in ((f"{CHZ}ASK {{ ?c a chz:Case }}", True), (f"{CHZ}ASK {{ ?c a chz:Nothing }}", False)):
        answer = results(comunica(endpoint, text, "application/sparql-results+json"))
        assert isinstance(answer, ox.QueryBoolean)
        assert bool(answer) is truth


def test_comunica_construct(built, endpoint):
    text = f"{CHZ}CONSTRUCT {{ ?c chz:domain ?d }} WHERE {{ ?c chz:domain ?d }}"
    out = comunica(endpoint, text, "application/n-triples")
    triples = {quad.triple for quad in ox.parse(out, format=ox.RdfFormat.N_TRIPLES)}
    expected = cli(built, text)
    assert len(triples) == 36  # 30 cases, 6 with two domains
    assert triples == {ox.Triple(*t) for t in expected.triples}
