"""Shipped queries at scale on the store the CLI uses, with raw pyoxigraph beside it.

Run from the repository root on a build (once; many minutes at 100,000 cases)::

    .venv/bin/chuzhi-graph synth --cases 100000 --editions 10 --seed 1 --out /tmp/synth
    .venv/bin/chuzhi-graph build --data /tmp/synth --out /tmp/synth-out --no-views
    git show OLD:src/chuzhi_graph/queries/NAME.rq > /tmp/old/NAME.rq     # for each query
    .venv/bin/python bench/queries_store.py /tmp/synth-out --texts after=shipped --texts before=/tmp/old --memory

For every set of texts (``LABEL=DIR`` of ``.rq`` files, or ``LABEL=shipped`` for the package's) and
every query, one run after a warm-up of the worker (the machine is shared: see the load average
printed with the results):

- ``cli``: what ``chuzhi-graph query`` runs: ``run_query(open_store(OUT), ..., timeout=DEFAULT_TIMEOUT)``,
  a warm worker process on the store's read-only RocksDB snapshot, the answer sent back as TSV;
  a query stopped at the time limit is reported as such; with ``--repeat N`` the median of N runs
  (all N in ``cli_runs``);
- ``command`` (with ``--command``): the whole command a user types, ``chuzhi-graph query NAME -g OUT``
  (a ``.rq`` path for other texts) in a fresh process: start-up, store open, worker, answer, output;
- ``raw_disk``: the same text on ``pyoxigraph.Store.read_only(snapshot)`` in this process, rows read
  (not run when the CLI was stopped at its time limit: the two run the same engine on the same files);
- ``raw_memory`` (with ``--memory``, first set of texts only): the same text on an in-memory
  ``pyoxigraph.Store`` bulk-loaded from ``chuzhi.nt`` (the option of holding the graph in memory;
  its load time is reported).

Parameters: the instance of the declared kind with the most links (as ``bench/run.py`` does). It
prints a table and writes ``bench/results/queries-store-DATE.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent


def seconds(func: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = func()
    return time.perf_counter() - t0, value


def run_command(out: Path, query: str, bound: dict[str, str]) -> float | None:
    """Seconds of ``chuzhi-graph query QUERY -g OUT`` in a fresh process; None if it failed."""
    exe = Path(sys.executable).with_name("chuzhi-graph")
    argv = [str(exe), "query", query, "-g", str(out), "--format", "tsv"]
    for name, value in bound.items():
        argv += ["--param", f"{name}={value[1:-1]}"]
    t0 = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode:
        print(f"{query}: exit {done.returncode}: {done.stderr.decode(errors='replace').strip()}", file=sys.stderr)
        return None
    return elapsed


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 (a benchmark's main: arguments, set-up, runs, report, in order)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="a build folder (chuzhi.nt)")
    parser.add_argument("--texts", action="append", default=[], metavar="LABEL=DIR",
                        help="a set of .rq texts (DIR, or 'shipped'); repeatable (default: after=shipped)")
    parser.add_argument("--only", help="comma-separated query names")
    parser.add_argument("--memory", action="store_true", help="also the in-memory store (first set of texts)")
    parser.add_argument("--command", action="store_true", help="also the whole `chuzhi-graph query` command")
    parser.add_argument("--tag", default="", help="added to the result file's name")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run the cli measurement N times (all times and the median are recorded)")
    args = parser.parse_args(argv)

    import pyoxigraph as ox

    from chuzhi_graph.errors import QueryError
    from chuzhi_graph.sparql.query import DEFAULT_TIMEOUT, query_prefixes, run_query
    from chuzhi_graph.sparql.questions import parse_header, shipped_queries
    from chuzhi_graph.sparql.store import open_store, store_location

    sets: list[tuple[str, list[Any], Path | None]] = []
    for spec in args.texts or ["after=shipped"]:
        label, _, folder = spec.partition("=")
        if folder == "shipped":
            queries = shipped_queries()
        else:
            queries = [parse_header(p.stem, p.read_text(encoding="utf-8")) for p in sorted(Path(folder).glob("*.rq"))]
        if args.only:
            queries = [q for q in queries if q.name in set(args.only.split(","))]
        sets.append((label, queries, None if folder == "shipped" else Path(folder)))
    open_s, store = seconds(lambda: open_store(args.out))
    location = store_location(store)
    assert location is not None
    disk = ox.Store.read_only(str(location[0]))
    sys.path.insert(0, str(BENCH_DIR))
    from run import _query_params  # the parameters bench/run.py uses

    params = _query_params(store)
    prefixes = query_prefixes()
    memory, load_s = None, None
    if args.memory:
        memory = ox.Store()
        load_s, _ = seconds(lambda: memory.bulk_load(path=str(args.out / "chuzhi.nt"), format=ox.RdfFormat.N_TRIPLES))
    run_query(store, "ASK { ?s ?p ?o }", timeout=DEFAULT_TIMEOUT)  # start the warm worker
    print(f"open_store {open_s:.1f} s; in-memory load {load_s or 0:.1f} s; {len(disk)} triples; "
          f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    print(f"{'texts':7} {'query':30} {'rows':>7} {'cli s':>8} {'command s':>10} {'raw disk s':>11} "
          f"{'raw memory s':>13}")
    rows: list[dict[str, Any]] = []
    for index, (label, queries, folder_of) in enumerate(sets):
        for q in queries:
            bound = {k: f"<{v}>" for k, v in params.get(q.name, {}).items()}
            subs = {ox.Variable(k): ox.NamedNode(v[1:-1]) for k, v in bound.items()}

            def raw(target: Any, q: Any = q, subs: dict[Any, Any] = subs) -> int:
                return len(list(map(tuple, target.query(q.text, prefixes=prefixes, substitutions=subs or None))))

            cli: float | None
            runs: list[float] = []
            try:
                for _ in range(max(1, args.repeat)):
                    took, _ = seconds(lambda q=q, bound=bound: run_query(store, q, bound, timeout=DEFAULT_TIMEOUT))
                    runs.append(took)
                cli = statistics.median(runs)
            except QueryError:  # stopped at the CLI's time limit: the answer never comes
                cli = None
            command = None
            if args.command:
                command = run_command(args.out, q.name if folder_of is None else str(folder_of / f"{q.name}.rq"), bound)
            raw_disk, n_raw = (None, None) if cli is None else seconds(lambda: raw(disk))
            raw_memory = None
            if memory is not None and index == 0:
                raw_memory, _ = seconds(lambda: raw(memory))
            row = {"texts": label, "query": q.name, "rows": n_raw, "cli": round(cli, 3) if cli is not None else None,
                   "cli_runs": [round(t, 3) for t in runs] if cli is not None and len(runs) > 1 else None,
                   "cli_stopped_at": DEFAULT_TIMEOUT if cli is None else None,
                   "command": round(command, 3) if command is not None else None,
                   "raw_disk": round(raw_disk, 3) if raw_disk is not None else None,
                   "raw_memory": round(raw_memory, 3) if raw_memory is not None else None, "params": bound,
                   "load_average": round(os.getloadavg()[0], 1)}
            rows.append(row)
            cli_text = f"{cli:8.3f}" if cli is not None else f"{'>' + format(DEFAULT_TIMEOUT, 'g'):>8}"
            memory_text = f"{raw_memory:13.3f}" if raw_memory is not None else f"{'-':>13}"
            command_text = f"{command:10.3f}" if command is not None else f"{'-':>10}"
            disk_text = f"{raw_disk:11.3f}" if raw_disk is not None else f"{'-':>11}"
            rows_text = f"{n_raw:7d}" if n_raw is not None else f"{'?':>7}"
            print(f"{label:7} {q.name:30} {rows_text} {cli_text} {command_text} {disk_text} {memory_text}", flush=True)
    result = {"date": date.today().isoformat(), "out": str(args.out), "triples": len(disk),
              "open_store_s": round(open_s, 1), "memory_load_s": round(load_s, 1) if load_s else None,
              "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
                         f"Python {platform.python_version()}, pyoxigraph {ox.__version__}", "queries": rows}
    target = BENCH_DIR / "results" / f"queries-store-{result['date']}{'-' + args.tag if args.tag else ''}.json"
    target.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(target, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
