"""Load test of `chuzhi-graph serve` (decision 0003): cheap and medium queries from many clients, loopback only.

    .venv/bin/chuzhi-graph synth --cases 10000 --out /tmp/d10k
    .venv/bin/chuzhi-graph build --data /tmp/d10k --out /tmp/o10k --no-views --validate compiled
    .venv/bin/python bench/load_serve.py --out /tmp/o10k            # 20 clients, 60 s

Starts `chuzhi-graph serve` on a free 127.0.0.1 port, then ``--clients`` threads, each with one
keep-alive HTTP/1.1 connection, send queries back to back until ``--seconds`` have passed (bounded
in time; every request has a 60 s client timeout). A request is *cheap* (``--cheap-share``, default
70%: the title of one case, a different case each time) or *medium* (a shipped aggregate over all
cases, in turn). Prints requests/s, p50/p95/p99 per kind, the share of 503 answers, connections
dropped (a reset or closed connection without an answer), and the resident memory of the server
and its query workers before, at the peak, and after. Nothing but 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

#: medium: aggregates over all cases, 50-300 ms each alone at 10,000 cases (a shipped one among them)
MEDIUM = {
    "domain-counts": "SELECT ?d (COUNT(?c) AS ?n) WHERE { ?c chz:domain ?d } GROUP BY ?d",
    "cases-per-edition": "SELECT ?e (COUNT(?c) AS ?n) WHERE { ?c a chz:Case ; chz:edition ?e } GROUP BY ?e",
    "cases-per-domain": None,  # the shipped query's text
}
CHEAP = "SELECT ?title WHERE {{ <{case}> dct:title ?title }}"
#: ``--heavy shipped``: the heavier shipped questions, asked by name (``question=``), whose answers
#: stay under serve's 10,000 rows at 10,000 cases
SHIPPED = ("cases-per-domain", "cases-per-category-unit-type", "cases-per-prefecture", "domain-co-occurrence",
           "cross-sector-collaborations", "provenance-summary", "regions-in-several-editions", "editions")


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, MB (from /proc)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            stat = (status.parent / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(status.parent.name) == pid or int(stat[1]) == pid:
            for line in text.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of a process, of its live children and of the children it reaped
    (``/proc/PID/stat`` fields utime, stime, cutime, cstime): a figure of work done that does not
    depend on how busy the machine is, unlike latency."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat_file.parent.name) == pid:
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        elif int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:  # noqa: PLR0915 (a benchmark's main: arguments, set-up, run, report, in order)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="a built folder (chuzhi.nt)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--cheap-share", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--heavy", choices=("inline", "shipped"), default="inline",
                        help="the 30%%: inline aggregates (with cases-per-domain) or shipped questions by name")
    args = parser.parse_args()

    from chuzhi_graph.sparql.query import shipped_query

    medium = [text or shipped_query(name).text for name, text in MEDIUM.items()]  # type: ignore[union-attr]
    # a request's query part after "/sparql?format=json&": the text, or the shipped question's name
    asks = ([f"question={name}" for name in SHIPPED] if args.heavy == "shipped"
            else ["query=" + urllib.parse.quote(text) for text in medium])

    load_before = os.getloadavg()[0]  # figures mean little on a busy machine: reported beside them
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chuzhi = str(Path(sys.executable).with_name("chuzhi-graph"))
    server = subprocess.Popen([chuzhi, "serve", "-g", args.out, "--port", str(port), "--timeout", "30"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        server.stderr.readline()  # the "SPARQL endpoint: ..." line: listening
        root = "/sparql?format=json&"
        base = root + "query="
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", base + urllib.parse.quote("SELECT ?c WHERE { ?c a chz:Case } LIMIT 2000"))
        cases = [b["c"]["value"] for b in json.loads(conn.getresponse().read())["results"]["bindings"]]
        for ask in asks:  # warm a worker and the parse cache once
            conn.request("GET", root + ask)
            conn.getresponse().read()
        conn.close()
        rss_before = tree_rss_mb(server.pid)
        rss_peak = rss_before
        records: list[tuple[str, int, float]] = []
        dropped = [0]
        reasons: Counter[tuple[str, int, str]] = Counter()
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds

        def client(index: int) -> None:
            rng = random.Random(args.seed * 1000 + index)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            turn = index
            while time.monotonic() < stop_at:
                if rng.random() < args.cheap_share:
                    kind, text = "cheap", CHEAP.format(case=rng.choice(cases))
                else:
                    kind, text = "medium", asks[turn % len(asks)]
                    turn += 1
                t0 = time.perf_counter()
                try:
                    conn.request("GET", base + urllib.parse.quote(text) if kind == "cheap" else root + text)
                    answer = conn.getresponse()
                    body = answer.read()
                    status = answer.status
                except (OSError, http.client.HTTPException):
                    with lock:
                        dropped[0] += 1
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    continue
                with lock:
                    records.append((kind, status, time.perf_counter() - t0))
                    if status != 200:
                        reasons[(kind, status, body[:60].decode("utf-8", "replace"))] += 1
                if answer.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.close()

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
        cpu_before = tree_cpu_seconds(server.pid)
        t_start = time.monotonic()
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            rss_peak = max(rss_peak, tree_rss_mb(server.pid))
            time.sleep(1.0)
        elapsed = time.monotonic() - t_start
        cpu = tree_cpu_seconds(server.pid) - cpu_before
        time.sleep(2.0)
        rss_after = tree_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stderr.close()

    total = len(records)
    print(f"clients {args.clients}, {elapsed:.1f} s, cheap share {args.cheap_share:.0%}, build {args.out}")
    print(f"requests {total}  ({total / elapsed:.1f} req/s)  dropped connections {dropped[0]}")
    busy = sum(1 for r in records if r[1] == 503)
    print(f"503 answers {busy} ({busy / max(total, 1):.1%})  other non-200: "
          f"{sorted({r[1] for r in records} - {200, 503})}")
    ok_ms = {kind: [r[2] * 1000 for r in records if r[0] == kind and r[1] == 200] for kind in ("cheap", "medium")}
    for kind in ("cheap", "medium"):
        ok = ok_ms[kind]
        every = [r for r in records if r[0] == kind]
        print(f"{kind:6s} n={len(every):5d} ok={len(ok):5d}  p50 {percentile(ok, 50):7.1f} ms  "
              f"p95 {percentile(ok, 95):7.1f} ms  p99 {percentile(ok, 99):7.1f} ms  "
              f"mean {statistics.fmean(ok) if ok else float('nan'):7.1f} ms")
    for (kind, status, text), n in sorted(reasons.items()):
        print(f"  {n:5d} x {kind} {status} {text.strip()}")
    print(f"server and workers CPU: {cpu:.1f} s, {1000 * cpu / max(total, 1):.2f} ms per request")
    print(f"server RSS (with workers): before {rss_before:.0f} MB, peak {rss_peak:.0f} MB, after {rss_after:.0f} MB")
    load_after = os.getloadavg()[0]
    print(f"load average (1 min) before the run {load_before:.2f}, after {load_after:.2f}")
    share = {kind: sum(1 for r in records if r[0] == kind and r[1] == 503) / max(1, sum(1 for r in records
                                                                                      if r[0] == kind))
             for kind in ("cheap", "medium")}
    print(f"503 share: cheap {share['cheap']:.1%}, medium {share['medium']:.1%}")
    if args.json:
        figures = {
            "date": time.strftime("%Y-%m-%d"), "build": args.out, "clients": args.clients,
            "seconds": round(elapsed, 1), "cheap_share": args.cheap_share, "requests": total,
            "requests_per_s": round(total / elapsed, 1),
            "cpu_s": round(cpu, 2), "cpu_ms_per_request": round(1000 * cpu / max(total, 1), 2),
            "dropped_connections": dropped[0],
            "share_503": round(busy / max(total, 1), 4), "load_average_before": round(load_before, 2),
            "load_average_after": round(load_after, 2), "heavy": args.heavy,
            "share_503_by_kind": {kind: round(value, 4) for kind, value in share.items()},
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
            "rss_mb": {"before": round(rss_before), "peak": round(rss_peak), "after": round(rss_after)},
            **{kind: {f"p{q}_ms": round(percentile(ok_ms[kind], q), 1) for q in (50, 95, 99)}
               for kind in ("cheap", "medium")},
        }
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
