"""Scale benchmark (decision 0002): our pipeline against the pyoxigraph floor and the naive rdflib pipeline.

Run from the repository root (minutes at 100,000 cases; the other steps are quick)::

    .venv/bin/python bench/run.py                       # N = 1,000, 10,000 and 100,000
    .venv/bin/python bench/run.py --sizes 1000,10000    # a quicker run

For each N it writes a synthetic corpus (``chuzhi_graph.records.synth``) and measures, each step in a
fresh child process so that ``peak_mb`` is that step's own peak resident memory:

- ``build``: read records, map, validate (compiled SHACL shapes), write Turtle + N-Triples;
  ``floor:build`` (pyoxigraph: create the same terms, ``bulk_extend`` a store, dump Turtle and
  N-Triples) and ``naive:build`` (rdflib: ``Graph.add`` per triple, rdflib's serializers);
- ``build:cache-cold`` / ``build:one-change``: the build with the per-edition cache, first on an
  empty cache, then after one case record changed;
- ``validate:compiled`` / ``validate:pyshacl``: the two validators on the same graph;
- ``load``: ``open_store`` (persistent store from ``chuzhi.nt``); floor: a bare ``bulk_load``;
  naive: rdflib parsing the N-Triples;
- ``query:<name>``: every shipped query via ``run_query``, the same text on the store directly
  (floor) and on rdflib's engine (naive, up to ``--rdflib-query-max`` cases);
- ``view:institutions``, ``stats``, ``render`` of the institutions view, and at ``--browser-at``
  the time until the page is interactive in headless Chromium (``bench/bench_render.py``).

It prints a table and writes the rows as JSON (a list of objects with ``n_cases``, ``step``,
``seconds``, ``peak_mb``, ``triples_per_s``, ``vs_floor`` = ours / floor, ``vs_naive`` =
naive / ours, plus ``date`` and ``machine``).
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import json
import multiprocessing as mp
import os
import platform
import queue as queue_module
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
Row = dict[str, Any]


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = func()
    return time.perf_counter() - t0, value


# ---------------------------------------------------------------- steps (each runs in a child)


def step_build(data: str, out: str) -> list[Row]:
    from chuzhi_graph.build import build

    seconds, result = timed(lambda: build(data, out, formats=("ttl", "nt"), validate="compiled"))
    parts = {k: round(v, 3) for k, v in result.seconds.items()}
    return [{"step": "build", "seconds": seconds, "triples": result.triples, "parts": parts, "peak_mb": peak_mb()}]


def step_incremental(data: str, changed: str, out: str, cache: str) -> list[Row]:
    from chuzhi_graph.build import build

    rows = []
    for step, folder in (("build:cache-cold", data), ("build:one-change", changed)):
        seconds, result = timed(lambda f=folder: build(f, out, formats=("ttl", "nt"), validate="compiled", cache=cache))
        parts = {k: round(v, 3) for k, v in result.seconds.items()}
        rows.append({"step": step, "seconds": seconds, "triples": result.triples, "parts": parts,
                     "cached_editions": len(result.cached_editions)})
    for row in rows:
        row["peak_mb"] = peak_mb()
    return rows


def _term_tuples(nt_path: str) -> list[tuple[tuple[str, ...], ...]]:
    """The triples of a dump as plain tuples, so the references start from the same data we do."""
    import pyoxigraph as ox

    def plain(term: Any) -> tuple[str, ...]:
        if isinstance(term, ox.NamedNode):
            return ("N", term.value)
        if isinstance(term, ox.BlankNode):
            return ("B", term.value)
        return ("L", term.value, term.datatype.value, term.language or "")

    return [(plain(t.subject), plain(t.predicate), plain(t.object))
            for t in ox.parse(path=nt_path, format=ox.RdfFormat.N_TRIPLES)]


def step_floor_build(nt_path: str, work: str) -> list[Row]:
    import pyoxigraph as ox

    data = [(*s, p[1], *o) if o[0] == "L" else (*s, p[1], *o, "", "")
            for s, p, o in _term_tuples(nt_path)]  # (s kind, s, p, o kind, o, datatype, language)
    before = peak_mb()

    def terms() -> list[ox.Quad]:
        """The tightest plain-Python loop we found: no calls but the constructors."""
        named, blank, literal, quad = ox.NamedNode, ox.BlankNode, ox.Literal, ox.Quad
        cache: dict[str, ox.NamedNode] = {}  # predicates and datatypes repeat
        out = []
        append = out.append
        for sk, sv, pv, ok, ov, dt, lang in data:
            p = cache.get(pv)
            if p is None:
                p = cache[pv] = named(pv)
            if ok == "L":
                if lang:
                    o = literal(ov, language=lang)
                else:
                    d = cache.get(dt)
                    if d is None:
                        d = cache[dt] = named(dt)
                    o = literal(ov, datatype=d)
            else:
                o = named(ov) if ok == "N" else blank(ov)
            append(quad(named(sv) if sk == "N" else blank(sv), p, o))
        return out

    parts: dict[str, float] = {}

    def run() -> None:
        gc.disable()  # as our build does: the floor gets every trick we use
        t0 = time.perf_counter()
        quads = terms()
        parts["terms"] = time.perf_counter() - t0
        store = ox.Store()
        store.bulk_extend(quads)
        parts["load"] = time.perf_counter() - t0 - parts["terms"]
        store.dump(str(Path(work) / "floor.ttl"), ox.RdfFormat.TURTLE, from_graph=ox.DefaultGraph())
        store.dump(str(Path(work) / "floor.nt"), ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
        parts["dump"] = time.perf_counter() - t0 - parts["terms"] - parts["load"]

    seconds, _ = timed(run)
    return [{"step": "floor:build", "seconds": seconds, "triples": len(data), "peak_mb": peak_mb(),
             "input_mb": before, "parts": {k: round(v, 3) for k, v in parts.items()}}]


def step_naive_build(nt_path: str, work: str) -> list[Row]:
    from rdflib import BNode, Graph, Literal, URIRef

    data = _term_tuples(nt_path)
    before = peak_mb()

    def node(t: tuple[str, ...]) -> Any:
        if t[0] == "N":
            return URIRef(t[1])
        if t[0] == "B":
            return BNode(t[1])
        return Literal(t[1], lang=t[3]) if t[3] else Literal(t[1], datatype=URIRef(t[2]))

    def run() -> None:
        graph = Graph()
        for s, p, o in data:
            graph.add((node(s), node(p), node(o)))
        graph.serialize(str(Path(work) / "naive.ttl"), format="turtle")
        graph.serialize(str(Path(work) / "naive.nt"), format="nt", encoding="utf-8")

    seconds, _ = timed(run)
    return [{"step": "naive:build", "seconds": seconds, "triples": len(data), "peak_mb": peak_mb(),
             "input_mb": before}]


def step_validate(data: str, shacl: bool) -> list[Row]:
    from chuzhi_graph.build import to_rdflib
    from chuzhi_graph.graph.mapping import map_dataset
    from chuzhi_graph.graph.validate import compile_shapes, shapes_graph, validate, validate_triples
    from chuzhi_graph.records.tables import load_dataset

    triples = map_dataset(load_dataset(data))
    shapes = shapes_graph()
    seconds, report = timed(lambda: validate_triples(triples, compile_shapes(shapes)))
    rows: list[Row] = [{"step": "validate:compiled", "seconds": seconds, "triples": len(triples),
                        "conforms": report.conforms}]
    if shacl:
        seconds, report = timed(lambda: validate(to_rdflib(triples), shapes))
        rows.append({"step": "validate:pyshacl", "seconds": seconds, "triples": len(triples),
                     "conforms": report.conforms})
    for row in rows:
        row["peak_mb"] = peak_mb()
    return rows


def _query_params(store: Any) -> dict[str, dict[str, str]]:
    """For each shipped query with parameters: the instance of the declared class used most; a
    second parameter of the same class gets the next one (edition-diff compares two editions, not
    one edition with itself)."""
    from chuzhi_graph.sparql.query import query_prefixes, shipped_queries

    prefixes = query_prefixes()
    out: dict[str, dict[str, str]] = {}
    for q in shipped_queries():
        params: dict[str, str] = {}
        for spec in q.param_specs:
            prefix, _, local = (spec.cls or "rdfs:Resource").partition(":")
            cls = prefixes.get(prefix, prefix + ":") + local
            text = (f"SELECT ?x (COUNT(?y) AS ?n) WHERE {{ ?x a <{cls}> . ?y ?p ?x }} "
                    f"GROUP BY ?x ORDER BY DESC(?n) STR(?x) LIMIT {len(params) + 1}")
            taken = set(params.values())
            free = [r[0].value for r in store.query(text) if r[0].value not in taken]
            if free:
                params[spec.name] = free[0]
        out[q.name] = params
    return out


def _median_time(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        seconds, value = timed(func)
        times.append(seconds)
    return statistics.median(times), value


def step_queries(out: str, work: str, repeat: int) -> list[Row]:
    import pyoxigraph as ox

    from chuzhi_graph.sparql.query import query_prefixes, run_query, shipped_queries
    from chuzhi_graph.sparql.store import open_store

    nt = str(Path(out) / "chuzhi.nt")
    seconds, store = timed(lambda: open_store(out))
    rows: list[Row] = [{"step": "load", "seconds": seconds, "triples": len(store)}]
    floor_dir = Path(work) / "floor-store"
    shutil.rmtree(floor_dir, ignore_errors=True)

    def floor_load() -> Any:
        raw = ox.Store(str(floor_dir))
        raw.bulk_load(path=nt, format=ox.RdfFormat.N_TRIPLES)
        raw.flush()
        return raw

    seconds, raw = timed(floor_load)
    rows.append({"step": "floor:load", "seconds": seconds})
    del raw
    params = _query_params(store)
    prefixes = query_prefixes()
    for q in shipped_queries():
        bound = params.get(q.name, {})
        subs = {ox.Variable(k): ox.NamedNode(v) for k, v in bound.items()}

        def ours(q: Any = q, bound: dict[str, str] = bound) -> int:
            return len(run_query(store, q, {k: f"<{v}>" for k, v in bound.items()}).rows)

        def floor(q: Any = q, subs: dict[Any, Any] = subs) -> int:
            result = store.query(q.text, prefixes=prefixes, substitutions=subs or None)
            return len(list(map(tuple, result)))

        ours()  # warm the store's caches once for both
        seconds, n = _median_time(ours, repeat)
        rows.append({"step": f"query:{q.name}", "seconds": seconds, "rows": n, "params": bound})
        seconds, n = _median_time(floor, repeat)
        rows.append({"step": f"floor:query:{q.name}", "seconds": seconds, "rows": n})
    for row in rows:
        row["peak_mb"] = peak_mb()
    return rows


def step_naive_query(out: str, name: str, params: dict[str, str]) -> list[Row]:
    """One shipped query on rdflib's engine over the N-Triples dump (parsed in this child)."""
    from rdflib import Graph, URIRef

    from chuzhi_graph.sparql.query import query_prefixes, shipped_query

    q = shipped_query(name)
    assert q is not None
    seconds, graph = timed(lambda: Graph().parse(str(Path(out) / "chuzhi.nt"), format="nt"))
    rows: list[Row] = [{"step": "naive:load", "seconds": seconds, "triples": len(graph)}]
    bindings = {k: URIRef(v) for k, v in params.items()}
    seconds, n = timed(lambda: len(list(graph.query(q.text, initNs=query_prefixes(), initBindings=bindings))))
    rows.append({"step": f"naive:query:{name}", "seconds": seconds, "rows": n})
    for row in rows:
        row["peak_mb"] = peak_mb()
    return rows


def naive_queries(out: str, params: dict[str, dict[str, str]], timeout: float, inline: bool) -> list[Row]:
    """Every shipped query on rdflib, each in its own child stopped after ``timeout`` seconds."""
    from chuzhi_graph.sparql.query import shipped_queries

    rows: list[Row] = []
    for q in shipped_queries():
        found = run_step(step_naive_query, out, q.name, params.get(q.name, {}), inline=inline,
                         timeout=timeout)
        if found is None:  # stopped: the query alone took at least the timeout less the parse
            parse = next((r["seconds"] for r in rows if r["step"] == "naive:load"), 0.0)
            rows.append({"step": f"naive:query:{q.name}", "seconds": timeout - parse, "timed_out": True})
            continue
        if not any(r["step"] == "naive:load" for r in rows):
            rows.append(found[0])
        rows.append(found[1])
    return rows


def step_render(out: str, work: str, browser: bool) -> list[Row]:
    """The institutions view of the build: view, ``stats``, ``render`` (layout included) and,
    with ``browser``, the time until the page is interactive in headless Chromium (measured by
    ``bench/bench_render.py``, the renderer's own benchmark)."""
    from chuzhi_graph.views.graphs import build_view
    from chuzhi_graph.views.render import render_html
    from chuzhi_graph.views.stats import compute_stats

    seconds, view = timed(lambda: build_view(out, "institutions"))
    size = {"nodes": view.number_of_nodes(), "edges": view.number_of_edges()}
    rows: list[Row] = [{"step": "view:institutions", "seconds": seconds, **size}]
    seconds, _ = timed(lambda: compute_stats(view))
    rows.append({"step": "stats", "seconds": seconds, **size})
    page = Path(work) / "institutions.html"
    seconds, _ = timed(lambda: render_html(view, page, title="institutions"))
    rows.append({"step": "render", "seconds": seconds, **size, "html_mb": round(page.stat().st_size / 1e6, 2)})
    if browser and (BENCH_DIR / "bench_render.py").is_file():
        sys.path.insert(0, str(BENCH_DIR))
        from bench_render import time_in_chromium  # type: ignore[import-not-found]

        label = max(view.nodes(data=True), key=lambda nd: (nd[1].get("cases", 0), str(nd[0])))[1]["label"]
        figures = time_in_chromium(page, str(label))
        rows.append({"step": "render:interactive", "seconds": figures["interactive_s"], **size, **figures})
    for row in rows:
        row["peak_mb"] = peak_mb()
    return rows


# ---------------------------------------------------------------- driver


def _child(queue: Any, func: Callable[..., list[Row]], args: tuple[Any, ...]) -> None:
    try:
        queue.put(("ok", func(*args)))
    except BaseException as exc:  # reported by the parent
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def run_step(func: Callable[..., list[Row]], *args: Any, inline: bool = False,
             timeout: float | None = None) -> list[Row]:
    """Run one step in a fresh interpreter (its own peak memory), or inline for smoke tests.

    With ``timeout``, a step still running after that many seconds is stopped (returns None).
    """
    if inline:
        return func(*args)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue, func, args))
    proc.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            status, value = queue.get(timeout=1.0)
            break
        except queue_module.Empty:
            if not proc.is_alive():
                raise RuntimeError(f"{func.__name__} died (exit code {proc.exitcode})") from None
            if deadline is not None and time.monotonic() > deadline:  # the step ran out of time
                proc.terminate()
                proc.join()
                return None  # type: ignore[return-value]
    proc.join()
    if status != "ok":
        raise RuntimeError(f"{func.__name__} failed: {value}")
    return value  # type: ignore[no-any-return]


def change_one_record(data: Path, target: Path) -> str:
    """Copy ``data`` to ``target`` with the title of the last case changed; returns its edition."""
    shutil.copytree(data, target)
    path = target / "cases.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows[-1]["title_zh"] += "(修订)"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return rows[-1]["edition"]


def machine() -> str:
    import pyoxigraph
    import rdflib

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, {mem:.0f} GiB RAM, "
            f"Python {platform.python_version()}, pyoxigraph {pyoxigraph.__version__}, rdflib {rdflib.__version__}")


def run_size(n: int, work: Path, args: argparse.Namespace, log: Callable[[str], None]) -> list[Row]:
    from chuzhi_graph.records.synth import generate

    inline = args.inline
    folder = work / str(n)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    data, out = folder / "data", folder / "out"
    seconds, summary = timed(lambda: generate(data, cases=n, editions=args.editions, seed=args.seed))
    rows: list[Row] = [{"step": "synth", "seconds": seconds, "units": summary.units, "peak_mb": peak_mb()}]
    log(f"N={n}: synthetic corpus in {seconds:.1f} s")
    steps: list[tuple[str, Callable[..., list[Row]], tuple[Any, ...]]] = [
        ("build", step_build, (str(data), str(out))),
    ]
    changed = folder / "data-changed"
    change_one_record(data, changed)
    steps.append(("incremental", step_incremental,
                  (str(data), str(changed), str(folder / "out-cached"), str(folder / "cache"))))
    steps.append(("floor", step_floor_build, (str(out / "chuzhi.nt"), str(folder))))
    if n <= args.naive_max:
        steps.append(("naive", step_naive_build, (str(out / "chuzhi.nt"), str(folder))))
    steps.append(("validate", step_validate, (str(data), n <= args.shacl_max)))
    steps.append(("queries", step_queries, (str(out), str(folder), args.repeat)))
    for name, func, fargs in steps:
        log(f"N={n}: {name} ...")
        found = run_step(func, *fargs, inline=inline)
        rows += found
        log("   " + "; ".join(f"{r['step']} {r['seconds']:.2f} s" for r in found))
    params = {r["step"][6:]: r.get("params", {}) for r in rows if r["step"].startswith("query:")}
    if n <= args.rdflib_query_max:
        log(f"N={n}: rdflib queries ...")
        found = naive_queries(str(out), params, args.rdflib_timeout, inline)
        rows += found
        log("   " + "; ".join(f"{r['step']} {r['seconds']:.2f} s" + (" (stopped)" if r.get("timed_out") else "")
                             for r in found))
    if n <= args.render_max:
        log(f"N={n}: render ...")
        rows += run_step(step_render, str(out), str(folder), n in args.browser_at, inline=inline)
    for row in rows:
        row["n_cases"] = n
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


REFERENCES = {"build": "build", "load": "load"}


def add_ratios(rows: list[Row]) -> list[Row]:
    """``vs_floor`` = ours / floor and ``vs_naive`` = naive / ours, where the reference was measured."""
    index = {(r["n_cases"], r["step"]): r for r in rows}
    for row in rows:
        step = row["step"]
        if step.startswith(("floor:", "naive:")) or step == "synth":
            continue
        key = REFERENCES.get(step, step)
        floor = index.get((row["n_cases"], f"floor:{key}"))
        naive = index.get((row["n_cases"], f"naive:{key}"))
        if floor and floor["seconds"] > 0:
            row["vs_floor"] = round(row["seconds"] / floor["seconds"], 2)
        if naive and row["seconds"] > 0:
            row["vs_naive"] = round(naive["seconds"] / row["seconds"], 1)
            if naive.get("timed_out"):
                row["vs_naive_at_least"] = True
        if row.get("triples") and row["seconds"] > 0:
            row["triples_per_s"] = round(row["triples"] / row["seconds"])
    for row in rows:
        if row["step"].startswith(("floor:", "naive:")) and row.get("triples") and row["seconds"] > 0:
            row["triples_per_s"] = round(row["triples"] / row["seconds"])
        row["seconds"] = round(row["seconds"], 4)
    return rows


def table(rows: list[Row]) -> str:
    """The rows as a fixed-width text table."""
    head = f"{'N':>7}  {'step':<42} {'seconds':>9} {'triples/s':>10} {'peak MB':>8} {'vs floor':>8} {'vs naive':>8}"
    lines = [head, "-" * len(head)]
    for r in rows:
        tps = f"{r['triples_per_s']:,}" if r.get("triples_per_s") else ""
        floor = f"{r['vs_floor']:.2f}x" if "vs_floor" in r else ""
        naive = f"{'>' if r.get('vs_naive_at_least') else ''}{r['vs_naive']:.1f}x" if "vs_naive" in r else ""
        secs = f"{'>' if r.get('timed_out') else ''}{r['seconds']:.3f}"
        lines.append(f"{r['n_cases']:>7}  {r['step'][:42]:<42} {secs:>9} {tps:>10} "
                     f"{r.get('peak_mb', 0):>8.0f} {floor:>8} {naive:>8}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated numbers of cases")
    parser.add_argument("--editions", type=int, default=10, help="editions of the synthetic corpus")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--naive-max", type=int, default=100_000, help="largest N for the rdflib build")
    parser.add_argument("--rdflib-query-max", type=int, default=10_000,
                        help="largest N for rdflib's query engine (34 s for one query at 100,000)")
    parser.add_argument("--rdflib-timeout", type=float, default=60.0,
                        help="seconds after which one rdflib query is stopped (its ratio is then a lower bound)")
    parser.add_argument("--shacl-max", type=int, default=10_000, help="largest N for pySHACL")
    parser.add_argument("--render-max", type=int, default=100_000,
                        help="largest N for stats and render (stats: 54 s at 100,000 cases with sampled betweenness)")
    parser.add_argument("--browser-at", default="10000",
                        help="N at which to time the rendered page in headless Chromium (comma-separated; '' for none)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per query (median)")
    parser.add_argument("--out", type=Path, help="JSON file (default: bench/results/bench-DATE.json)")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch files")
    parser.add_argument("--inline", action="store_true", help="no child processes (smoke tests)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.browser_at = {int(s) for s in args.browser_at.split(",") if s.strip()}
    target = args.out or BENCH_DIR / "results" / f"bench-{date.today().isoformat()}.json"

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    work = args.work or Path(tempfile.mkdtemp(prefix="chuzhi-bench-"))
    rows: list[Row] = []
    try:
        for n in sizes:
            rows += run_size(n, work, args, log)
            partial = target.with_suffix(".partial.json")  # what is done survives a stopped run
            partial.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    finally:
        if args.work is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    rows = add_ratios(rows)
    stamp, desc = date.today().isoformat(), machine()
    for row in rows:
        row["date"], row["machine"] = stamp, desc
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    target.with_suffix(".partial.json").unlink(missing_ok=True)
    print(f"# {stamp}, {desc}")
    print(table(rows))
    log(f"wrote {target}")
    return rows


if __name__ == "__main__":
    main()
