"""Shipped queries at scale on the store the CLI uses, with raw pyoxigraph beside it (issue 12).

Run from the repository root on a build (once; minutes at 100,000 cases)::

    .venv/bin/chuzhi-graph synth --cases 100000 --editions 10 --seed 1 --out /tmp/synth
    .venv/bin/chuzhi-graph build --data /tmp/synth --out /tmp/synth-out --no-views
    .venv/bin/python bench/queries_store.py /tmp/synth-out --label after
    .venv/bin/python bench/queries_store.py /tmp/synth-out --label before --queries /tmp/old-queries

Per shipped query (texts from the package, or ``--queries DIR`` of ``.rq`` files, e.g. the texts of
an older commit), median of ``--repeat`` runs after one warm-up:

- ``cli``: what ``chuzhi-graph query`` runs: ``run_query(open_store(OUT), ..., timeout=DEFAULT_TIMEOUT)``,
  i.e. a warm worker process on the store's read-only RocksDB snapshot, the answer sent back as TSV;
- ``raw_disk``: the same text on ``pyoxigraph.Store.read_only(snapshot)`` in this process, rows read;
- ``raw_memory``: the same text on an in-memory ``pyoxigraph.Store`` bulk-loaded from ``chuzhi.nt``
  (what ``serve`` could hold), rows read; its load time is reported once.

Parameters: the instance of the declared kind with the most links (as ``bench/run.py`` does). It
prints a table and writes ``bench/results/queries-store-DATE-LABEL.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent


def median_seconds(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    func()  # warm-up: caches, the worker process
    times, value = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="a build folder (chuzhi.nt)")
    parser.add_argument("--queries", type=Path, help="folder of .rq texts (default: the shipped ones)")
    parser.add_argument("--label", default="run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", help="comma-separated query names")
    parser.add_argument("--no-memory", action="store_true", help="skip the in-memory store")
    args = parser.parse_args(argv)

    import pyoxigraph as ox

    from chuzhi_graph.errors import QueryError
    from chuzhi_graph.query import DEFAULT_TIMEOUT, query_prefixes, run_query
    from chuzhi_graph.questions import parse_header, shipped_queries
    from chuzhi_graph.store import open_store, store_location

    if args.queries:
        queries = [parse_header(p.stem, p.read_text(encoding="utf-8")) for p in sorted(args.queries.glob("*.rq"))]
    else:
        queries = shipped_queries()
    if args.only:
        wanted = set(args.only.split(","))
        queries = [q for q in queries if q.name in wanted]
    t0 = time.perf_counter()
    store = open_store(args.out)
    open_seconds = time.perf_counter() - t0
    location = store_location(store)
    assert location is not None
    disk = ox.Store.read_only(str(location[0]))
    sys.path.insert(0, str(BENCH_DIR))
    from run import _query_params  # the parameters bench/run.py uses

    params = _query_params(store)
    memory = None
    load_seconds = None
    if not args.no_memory:
        t0 = time.perf_counter()
        memory = ox.Store()
        memory.bulk_load(path=str(args.out / "chuzhi.nt"), format=ox.RdfFormat.N_TRIPLES)
        load_seconds = time.perf_counter() - t0
    prefixes = query_prefixes()
    rows: list[dict[str, Any]] = []
    print(f"open_store {open_seconds:.2f} s; in-memory load {load_seconds or 0:.1f} s; {len(disk)} triples",
          file=sys.stderr)
    print(f"{'query':32} {'rows':>7} {'cli s':>8} {'raw disk s':>11} {'raw memory s':>13}")
    for q in queries:
        bound = {k: f"<{v}>" for k, v in params.get(q.name, {}).items()}
        subs = {ox.Variable(k): ox.NamedNode(v[1:-1]) for k, v in bound.items()}

        def raw(target: Any, q: Any = q, subs: dict[Any, Any] = subs) -> int:
            return len(list(map(tuple, target.query(q.text, prefixes=prefixes, substitutions=subs or None))))

        try:
            cli, n = median_seconds(lambda q=q, bound=bound: len(
                run_query(store, q, bound, timeout=DEFAULT_TIMEOUT).rows), args.repeat)
        except QueryError:  # the CLI's own time limit: the answer never comes
            cli, n = float("nan"), -1
        raw_disk, n_raw = median_seconds(lambda: raw(disk), args.repeat)
        n = n if n >= 0 else n_raw
        raw_memory = median_seconds(lambda: raw(memory), args.repeat)[0] if memory is not None else None
        stopped = f"> {DEFAULT_TIMEOUT:g} (stopped)"
        row = {"query": q.name, "rows": n, "cli": round(cli, 3) if cli == cli else stopped,
               "raw_disk": round(raw_disk, 3),
               "raw_memory": round(raw_memory, 3) if raw_memory is not None else None, "params": bound}
        rows.append(row)
        memory_text = f"{raw_memory:13.3f}" if raw_memory is not None else f"{'-':>13}"
        cli_text = f"{cli:8.3f}" if cli == cli else f"{'>' + format(DEFAULT_TIMEOUT, 'g'):>8}"
        print(f"{q.name:32} {n:7d} {cli_text} {raw_disk:11.3f} {memory_text}", flush=True)
    result = {"label": args.label, "date": date.today().isoformat(), "out": str(args.out),
              "triples": len(disk), "open_store_s": round(open_seconds, 2),
              "memory_load_s": round(load_seconds, 2) if load_seconds else None,
              "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, "
                         f"pyoxigraph {ox.__version__}", "queries": rows}
    target = BENCH_DIR / "results" / f"queries-store-{result['date']}-{args.label}.json"
    target.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(target, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
