"""A smoke run of the scale benchmark at a tiny N (no timing assertions)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from chuzhi_graph.sparql.query import shipped_queries

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


def test_bench_smoke_run_writes_rows_and_prints_the_table(bench, tmp_path: Path, capsys) -> None:
    out = tmp_path / "result.json"
    rows = bench.main(["--sizes", "60", "--editions", "2", "--repeat", "1", "--shacl-max", "0",
                       "--browser-at", "", "--inline", "--out", str(out), "--work", str(tmp_path / "work")])
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved == json.loads(json.dumps(rows))
    steps = {r["step"]: r for r in saved}
    for row in saved:
        assert {"n_cases", "step", "seconds", "peak_mb", "date", "machine"} <= set(row)
        assert row["n_cases"] == 60
    expected = {"build", "floor:build", "naive:build", "build:cache-cold", "build:one-change", "load",
                "floor:load", "naive:load", "validate:compiled", "view:institutions", "stats", "render"}
    expected |= {f"{kind}query:{q.name}" for q in shipped_queries() for kind in ("", "floor:", "naive:")}
    assert expected <= set(steps)
    assert "validate:pyshacl" not in steps  # --shacl-max 0
    assert "render:interactive" not in steps  # --browser-at ''
    assert steps["render"]["nodes"] == steps["stats"]["nodes"] > 0
    # the ratios come from unrounded times, the JSON keeps seconds to 4 places: allow that rounding
    # (relative to a floor of a few milliseconds it is not small) and the ratio's own 2 places
    build_s, floor_s = steps["build"]["seconds"], steps["floor:build"]["seconds"]
    assert steps["build"]["vs_floor"] == pytest.approx(
        build_s / floor_s, abs=0.006 + build_s / floor_s * (0.00005 / floor_s + 0.00005 / build_s))
    assert steps["build"]["vs_naive"] == pytest.approx(
        steps["naive:build"]["seconds"] / steps["build"]["seconds"], abs=0.11)
    assert steps["build:one-change"]["cached_editions"] == 1  # of 2 editions, the unchanged one
    assert steps["validate:compiled"]["conforms"] is True
    for q in shipped_queries():  # the three engines agree on the number of answers
        assert steps[f"query:{q.name}"]["rows"] == steps[f"floor:query:{q.name}"]["rows"]
        assert steps[f"query:{q.name}"]["rows"] == steps[f"naive:query:{q.name}"]["rows"]
    printed = capsys.readouterr().out
    assert "vs floor" in printed and "floor:build" in printed
    assert not (tmp_path / "work" / "60").exists()


def test_ratios(bench) -> None:
    rows = [
        {"n_cases": 5, "step": "build", "seconds": 3.0, "triples": 300},
        {"n_cases": 5, "step": "floor:build", "seconds": 2.0, "triples": 300},
        {"n_cases": 5, "step": "naive:build", "seconds": 30.0, "triples": 300},
        {"n_cases": 5, "step": "query:x", "seconds": 0.5},
    ]
    out = {r["step"]: r for r in bench.add_ratios(rows)}
    assert out["build"]["vs_floor"] == 1.5 and out["build"]["vs_naive"] == 10.0
    assert out["build"]["triples_per_s"] == 100
    assert "vs_floor" not in out["query:x"] and "vs_naive" not in out["query:x"]
