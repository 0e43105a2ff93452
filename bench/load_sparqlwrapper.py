"""The load of bench/load_serve.py from an independent client: SPARQLWrapper in threads (or a
process per client, ``--processes``), against a `chuzhi-graph serve` started by hand (its own
connection per request, as SPARQLWrapper makes).

    chuzhi-graph serve -g /tmp/b10k --port 7399 --timeout 30 &
    python bench/load_sparqlwrapper.py --url http://127.0.0.1:7399/sparql --json bench/results/x.json

70% cheap (the title of one case), 30% heavier shipped questions (their text, as a researcher
copies it; bench/load_serve.py's SHIPPED list). Prints p50/p95/p99 of the 200 answers per kind, the
503 share per kind and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import threading
import time
import urllib.error
from pathlib import Path

from SPARQLWrapper import JSON, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import EndPointInternalError, SPARQLWrapperException

from chuzhi_graph.sparql.query import shipped_query

SHIPPED = ("cases-per-domain", "cases-per-category-unit-type", "cases-per-prefecture", "domain-co-occurrence",
           "cross-sector-collaborations", "provenance-summary", "regions-in-several-editions", "editions")
CHEAP = "PREFIX dct: <http://purl.org/dc/terms/> SELECT ?title WHERE {{ <{case}> dct:title ?title }}"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def status_of(client: SPARQLWrapper) -> int:
    try:
        client.query().convert()
        return 200
    except urllib.error.HTTPError as exc:
        return exc.code
    except EndPointInternalError:
        return 500
    except SPARQLWrapperException as exc:
        text = str(exc)
        return 503 if "503" in text else 400
    except OSError:
        return 0


def client(url: str, cases: list[str], heavy: list[str], cheap_share: float, seed: int, turn: int,
           stop_at: float) -> list[tuple[str, int, float]]:
    """One client's requests until ``stop_at`` (wall clock): (kind, status, seconds) each."""
    rng = random.Random(seed)
    records = []
    while time.time() < stop_at:
        sparql = SPARQLWrapper(url)
        sparql.setReturnFormat(JSON)
        sparql.setTimeout(60)
        if rng.random() < cheap_share:
            kind = "cheap"
            sparql.setQuery(CHEAP.format(case=rng.choice(cases)))
        else:
            kind = "heavy"
            sparql.setQuery(heavy[turn % len(heavy)])
            turn += 1
        t0 = time.perf_counter()
        status = status_of(sparql)
        records.append((kind, status, time.perf_counter() - t0))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--cheap-share", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--processes", action="store_true", help="a process per client instead of a thread")
    args = parser.parse_args()

    heavy = [shipped_query(name).text for name in SHIPPED]  # type: ignore[union-attr]
    probe = SPARQLWrapper(args.url)
    probe.setReturnFormat(JSON)
    probe.setQuery("SELECT ?c WHERE { ?c a <https://w3id.org/chuzhi/def#Case> } LIMIT 2000")
    cases = [b["c"]["value"] for b in probe.query().convert()["results"]["bindings"]]  # type: ignore[index]
    load_before = os.getloadavg()[0]
    stop_at = time.time() + args.seconds  # wall clock: the same instant in every process
    jobs = [(args.url, cases, heavy, args.cheap_share, args.seed * 1000 + i, i, stop_at)
            for i in range(args.clients)]
    t_start = time.monotonic()
    if args.processes:
        # one process per client: each has its own interpreter, as separate researchers' tools have,
        # so the figures are not the client's own GIL queue
        with multiprocessing.get_context("fork").Pool(args.clients) as pool:
            records = [r for part in pool.starmap(client, jobs) for r in part]
    else:
        parts: list[list[tuple[str, int, float]]] = [[] for _ in jobs]
        threads = [threading.Thread(target=lambda i=i: parts[i].extend(client(*jobs[i])), daemon=True)
                   for i in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        records = [r for part in parts for r in part]
    elapsed = time.monotonic() - t_start
    load_after = os.getloadavg()[0]
    figures: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d"), "clients": args.clients,
        "client": "SPARQLWrapper (" + ("processes" if args.processes else "threads") + ")",
        "seconds": round(elapsed, 1), "cheap_share": args.cheap_share, "requests": len(records),
        "requests_per_s": round(len(records) / elapsed, 1), "load_average_before": round(load_before, 2),
        "load_average_after": round(load_after, 2),
    }
    for kind in ("cheap", "heavy"):
        every = [r for r in records if r[0] == kind]
        ok = [r[2] * 1000 for r in every if r[1] == 200]
        busy = sum(1 for r in every if r[1] == 503)
        other = sorted({r[1] for r in every} - {200, 503})
        figures[kind] = {"n": len(every), "ok": len(ok), "share_503": round(busy / max(1, len(every)), 4),
                         "other_status": other,
                         **{f"p{q}_ms": round(percentile(ok, q), 1) for q in (50, 95, 99)}}
        print(f"{kind:6s} n={len(every):5d} ok={len(ok):5d} 503 {busy / max(1, len(every)):.1%}  "
              f"p50 {percentile(ok, 50):7.1f} ms  p95 {percentile(ok, 95):7.1f} ms  p99 {percentile(ok, 99):7.1f} ms"
              f"  other {other}")
    print(f"{len(records)} requests in {elapsed:.1f} s; load average (1 min) before {load_before:.2f}, "
          f"after {load_after:.2f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
