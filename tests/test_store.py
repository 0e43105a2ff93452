"""The persistent embedded store: loading, reloading when the dump changes, read-only fallback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from chuzhi_graph.errors import NotBuiltError
from chuzhi_graph.sparql.store import STORE_DIR, open_store

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@pytest.fixture()
def out(built, tmp_path) -> Path:
    target = tmp_path / "out"
    target.mkdir()
    shutil.copy(built.files["nt"], target / "chuzhi.nt")
    return target


def count(store) -> int:
    return int(next(iter(store.query(COUNT)))[0].value)


def test_no_build_is_a_clear_error(tmp_path):
    with pytest.raises(NotBuiltError) as err:
        open_store(tmp_path)
    assert str(err.value) == (f"{tmp_path}: no built graph here: run `chuzhi-graph build` first (looked for "
                              "chuzhi.nt, chuzhi.ttl, chuzhi.trig or chuzhi.jsonld in the folder and in its dataset/)")


def test_loads_once_and_records_the_dump_hash(out, built):
    store = open_store(out)
    assert count(store) == built.triples
    record = json.loads((out / STORE_DIR / "dump.json").read_text(encoding="utf-8"))
    import hashlib

    assert record["sha256"] == hashlib.sha256((out / "chuzhi.nt").read_bytes()).hexdigest()
    assert open_store(out) is store


def test_reloads_when_the_dump_changes(out, built):
    store = open_store(out)
    lines = (out / "chuzhi.nt").read_bytes().splitlines(keepends=True)
    (out / "chuzhi.nt").write_bytes(b"".join(lines[:100]))
    again = open_store(out)
    assert count(again) == 100
    (out / "chuzhi.nt").write_bytes(b"".join(lines))
    assert count(open_store(out)) == built.triples
    assert again is store


def test_persistent_and_readable_while_another_process_holds_it(out, built):
    open_store(out)  # this process now holds the write lock, like `serve` would
    code = ("import sys; from chuzhi_graph.sparql.store import open_store; s = open_store(sys.argv[1]); "
            "print(len(s))")
    done = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == built.triples


def test_readers_get_a_snapshot_replaced_on_reload(out):
    from chuzhi_graph.sparql.store import snapshot_dir, store_location

    store = open_store(out)
    record = json.loads((out / STORE_DIR / "dump.json").read_text(encoding="utf-8"))
    snapshot, sha = store_location(store)
    assert (snapshot, sha) == (snapshot_dir(out.resolve() / STORE_DIR, record["sha256"]), record["sha256"])
    assert count(ox.Store.read_only(str(snapshot))) == count(store)
    lines = (out / "chuzhi.nt").read_bytes().splitlines(keepends=True)
    (out / "chuzhi.nt").write_bytes(b"".join(lines[:50]))
    again = open_store(out)
    newer, _ = store_location(again)
    # the previous snapshot stays for one round (serve's workers may still answer from it)
    assert newer != snapshot and snapshot.exists()
    assert count(ox.Store.read_only(str(newer))) == 50
    (out / "chuzhi.nt").write_bytes(b"".join(lines[:60]))
    third, _ = store_location(open_store(out))
    assert sorted(p.name for p in (out / STORE_DIR).glob("snapshot-*")) == sorted([newer.name, third.name])
    assert store_location(ox.Store()) is None


# ---------------------------------------------------------------- the store during a rebuild (decision 0004)

CHUZHI = str(Path(sys.executable).with_name("chuzhi-graph"))
CLI_COUNT = ["query", COUNT, "--format", "csv", "--no-bom"]


@pytest.fixture(scope="module")
def big_nt(synth5k) -> Path:
    """The N-Triples dump of a 5,000-case synthetic build (about 130,000 triples; the run's shared build)."""
    return synth5k / "out" / "chuzhi.nt"


def test_concurrent_queries_right_after_a_build_wait_for_one_load(big_nt, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(big_nt, out / "chuzhi.nt")  # a dump no store was loaded from yet
    expected = len(big_nt.read_bytes().splitlines())
    runs = [subprocess.Popen([CHUZHI, *CLI_COUNT, "--out", str(out)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(6)]
    results = [(run.wait(timeout=180), run.stdout.read(), run.stderr.read()) for run in runs]
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    assert [r[0] for r in results] == [0] * 6, [r[2] for r in results]
    assert {r[1] for r in results} == {f"n\n{expected}\n"}  # text mode: CRLF read as LF


def test_timeout_covers_the_store_load(big_nt, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(big_nt, out / "chuzhi.nt")
    t0 = time.perf_counter()
    done = subprocess.run([CHUZHI, *CLI_COUNT, "--timeout", "0.2", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - t0
    assert done.returncode == 5, done.stderr
    assert done.stderr == (f"Error: {out / 'chuzhi.nt'}: loading the new build into the store took longer than "
                           "the timeout (raise it with --timeout; the next query loads it again)\n")
    assert elapsed < 8  # start-up and imports; the load itself was left behind at 0.2 s
    # the next query without a tight timeout loads it and answers
    again = subprocess.run([CHUZHI, *CLI_COUNT, "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert again.stdout == f"n\n{len(big_nt.read_bytes().splitlines())}\n", again.stderr


def test_build_leaves_a_loaded_store(built):
    import hashlib

    from chuzhi_graph.sparql.store import snapshot_dir

    record = json.loads((built.out_dir / STORE_DIR / "dump.json").read_text(encoding="utf-8"))
    # the dump this build wrote, not the one before it (the load runs after the outputs are moved in)
    assert record["sha256"] == hashlib.sha256(built.files["nt"].read_bytes()).hexdigest()
    assert snapshot_dir((built.out_dir / STORE_DIR).resolve(), record["sha256"]).is_dir()


def test_a_rebuild_with_a_change_loads_the_new_dump_before_the_first_query(tmp_path):
    import hashlib

    from chuzhi_graph.build import build

    data = tmp_path / "data"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data", data)
    out = tmp_path / "out"
    build(data, out, formats=("nt",), validate=False)
    cases = data / "cases.csv"
    text = cases.read_text(encoding="utf-8")
    cases.write_text(text.replace(",平安法治|社区治理,", ",平安法治,", 1), encoding="utf-8")  # one domain less
    result = build(data, out, formats=("nt",), validate=False)
    record = json.loads((out / STORE_DIR / "dump.json").read_text(encoding="utf-8"))
    assert record["sha256"] == hashlib.sha256((out / "chuzhi.nt").read_bytes()).hexdigest()
    assert result.seconds["store"] > 0


@pytest.mark.server
def test_serve_switches_to_a_rebuild_and_queries_wait(out, built):
    import socket
    import urllib.parse
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    serve = subprocess.Popen([CHUZHI, "serve", "--out", str(out), "--port", str(port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/sparql?format=csv&query=" + urllib.parse.quote(COUNT)

    def served() -> str:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.read().decode("utf-8")

    try:
        serve.stderr.readline()
        assert served() == f"n\r\n{built.triples}\r\n"
        # a rebuild: the dump is replaced (renamed over, as build does)
        lines = (out / "chuzhi.nt").read_bytes().splitlines(keepends=True)
        (out / "chuzhi.nt.tmp").write_bytes(b"".join(lines[:200]))
        (out / "chuzhi.nt.tmp").rename(out / "chuzhi.nt")
        # a query while serve holds the store waits for serve's reload instead of failing
        done = subprocess.run([CHUZHI, *CLI_COUNT, "--out", str(out)], capture_output=True, text=True, timeout=60)
        assert (done.returncode, done.stdout) == (0, "n\n200\n"), done.stderr
        deadline = time.monotonic() + 10
        while served() != "n\r\n200\r\n" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert served() == "n\r\n200\r\n"
    finally:
        serve.terminate()
        serve.wait(timeout=10)
        log = serve.stderr.read()
        serve.stderr.close()
    assert f"a new build in {out}: loading it; answering from the previous one meanwhile" in log
    assert f"now answering from the new build in {out}" in log


def test_a_store_of_an_older_layout_is_loaded_again(tmp_path):
    from chuzhi_graph.sparql.store import STORE_VERSION, snapshot_dir

    out = tmp_path / "out"
    out.mkdir()
    (out / "chuzhi.nt").write_text('<http://e/a> <http://e/p> "1" .\n', encoding="utf-8")
    open_store(out)
    record = out / STORE_DIR / "dump.json"
    data = json.loads(record.read_text(encoding="utf-8"))
    assert data["version"] == STORE_VERSION
    assert snapshot_dir(out.resolve() / STORE_DIR, data["sha256"]).name.endswith(f"-v{STORE_VERSION}")
    del data["version"]  # as a store loaded before compaction recorded it
    record.write_text(json.dumps(data), encoding="utf-8")
    store = open_store(out)
    assert json.loads(record.read_text(encoding="utf-8"))["version"] == STORE_VERSION
    assert len(store) == 1
