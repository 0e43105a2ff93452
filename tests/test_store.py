"""The persistent embedded store: loading, reloading when the dump changes, read-only fallback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from chuzhi_graph.errors import NotBuiltError
from chuzhi_graph.store import STORE_DIR, open_store

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
    assert str(err.value) == (f"{tmp_path}: no built graph to query: run `chuzhi-graph build` first "
                              "(looked for chuzhi.nt or chuzhi.ttl)")


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
    code = ("import sys; from chuzhi_graph.store import open_store; s = open_store(sys.argv[1]); "
            "print(len(s))")
    done = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == built.triples


def test_readers_get_a_snapshot_replaced_on_reload(out):
    from chuzhi_graph.store import snapshot_dir, store_location

    store = open_store(out)
    record = json.loads((out / STORE_DIR / "dump.json").read_text(encoding="utf-8"))
    snapshot, sha = store_location(store)
    assert (snapshot, sha) == (snapshot_dir(out.resolve() / STORE_DIR, record["sha256"]), record["sha256"])
    assert count(ox.Store.read_only(str(snapshot))) == count(store)
    lines = (out / "chuzhi.nt").read_bytes().splitlines(keepends=True)
    (out / "chuzhi.nt").write_bytes(b"".join(lines[:50]))
    again = open_store(out)
    newer, _ = store_location(again)
    assert newer != snapshot and not snapshot.exists()
    assert count(ox.Store.read_only(str(newer))) == 50
    assert [p.name for p in (out / STORE_DIR).glob("snapshot-*")] == [newer.name]
    assert store_location(ox.Store()) is None
