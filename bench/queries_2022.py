"""Shipped queries on the real 2022 data: our path, raw pyoxigraph and rdflib's engine.

The synthetic sizes are in ``bench/run.py``; this adds the curated data (1,755 triples):

    .venv/bin/python bench/queries_2022.py [--data data] [--repeat 5] [--out FILE.json]

Prints one line per query (ours / floor / rdflib, medians) and writes JSON rows in the format
of ``bench/run.py`` (``n_cases``, ``step``, ``seconds``, ``vs_floor``, ``vs_naive``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import _query_params, machine  # bench/run.py, imported as a script module


def main() -> None:
    import pyoxigraph as ox
    from rdflib import Graph, URIRef

    from chuzhi_graph.build import build
    from chuzhi_graph.sparql.query import query_prefixes, run_query, shipped_queries
    from chuzhi_graph.sparql.store import open_store

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", help="JSON file for the rows")
    args = parser.parse_args()

    def median(func) -> tuple[float, int]:  # type: ignore[no-untyped-def]
        func()  # warm-up
        times, n = [], 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            n = func()
            times.append(time.perf_counter() - t0)
        return statistics.median(times), n

    with tempfile.TemporaryDirectory() as tmp:
        result = build(args.data, tmp, formats=("ttl", "nt"))
        store = open_store(tmp)
        graph = Graph().parse(str(Path(tmp) / "chuzhi.nt"), format="nt")
        params = _query_params(store)
        prefixes = query_prefixes()
        rows = []
        print(f"{'query':32} {'rows':>5} {'ours':>9} {'floor':>9} {'rdflib':>9} {'rdflib/ours':>11}", file=sys.stderr)
        for q in shipped_queries():
            bound = params.get(q.name, {})
            subs = {ox.Variable(k): ox.NamedNode(v) for k, v in bound.items()}
            ours, n = median(lambda q=q, bound=bound: len(run_query(
                store, q, {k: f"<{v}>" for k, v in bound.items()}).rows))
            floor, _ = median(lambda q=q, subs=subs: len(list(map(tuple, store.query(
                q.text, prefixes=prefixes, substitutions=subs or None)))))
            naive, _ = median(lambda q=q, bound=bound: len(list(graph.query(
                q.text, initNs=prefixes, initBindings={k: URIRef(v) for k, v in bound.items()}))))
            print(f"{q.name:32} {n:5d} {ours * 1e3:7.2f}ms {floor * 1e3:7.2f}ms {naive * 1e3:7.2f}ms "
                  f"{naive / ours:10.1f}x", file=sys.stderr)
            common = {"n_cases": result.counts["cases"], "data": args.data, "rows": n}
            rows += [
                {**common, "step": f"query:{q.name}", "seconds": ours, "vs_floor": ours / floor,
                 "vs_naive": naive / ours},
                {**common, "step": f"floor:query:{q.name}", "seconds": floor},
                {**common, "step": f"naive:query:{q.name}", "seconds": naive},
            ]
        doc = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "rows": rows}
        text = json.dumps(doc, ensure_ascii=False, indent=1)
        if args.out:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
        else:
            print(text)


if __name__ == "__main__":
    main()
