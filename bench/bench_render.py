"""Benchmark of `chuzhi-graph render`: render time, file size and time until interactive.

With ``--graph DIR`` (a built corpus, e.g. ``synth --cases 5000 --editions 3 --seed 1``
then ``build --no-views``) it measures the real institutions view of that corpus: building
the main job's pages (``render_main_views``: the store, the facts, the three main views,
those above the size limit skipped, as ``build`` and ``publish`` pay it), the view, ``stats``,
rendering the page, its size, the time until it is interactive in
headless Chromium and the latency of one search inside the page (``performance.now()``
around ``chuzhi.search``); targets: a 30,000-node view interactive in under 3 s, a search
in under 200 ms, stats in under 10 s.

    .venv/bin/python bench/bench_render.py --graph /tmp/out5000 /tmp/out100000 --json bench/results/viewers.json

Synthetic institutions-like views (units of seven types, co-applicant edges weighted by
shared cases, a few parent links, award categories and domains for the page filters) of
1,000 and 5,000 nodes are laid out and written as HTML; each page is then opened from disk
in headless Chromium with every non-file request blocked, and the time from navigation to
the first drawing of the network (``window.chuzhi.readyAt``) is read, then the time one
search takes.

    .venv/bin/python bench/bench_render.py                 # 1,000 and 5,000 nodes
    .venv/bin/python bench/bench_render.py --nodes 20000 --json bench/results/render.json

Target (decision 0005): a 5,000-node view renders in under 10 s (layout included) and is
interactive in Chromium within a few seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx

from chuzhi_graph.views.render import layout, render_html

CHROMIUM = "/usr/bin/chromium"
OPENINGS = 3
TYPES = {"party-government": "党政机关", "public-institution": "事业单位", "enterprise": "企业",
         "state-owned-enterprise": "国有企业", "private-enterprise": "民营企业",
         "university-research": "高等院校及科研团队", "media": "新闻媒体"}
CATEGORIES = ["十佳案例(政务服务组)", "十佳案例(企业及高校组)", "优秀案例", "“他山之玉”参考案例"]
DOMAINS = ["平安法治", "社区治理", "人才服务", "智慧政务", "气象服务", "农业农村", "城市交通",
           "监督审计", "教育", "税收征管", "智慧电力", "文化旅游", "智慧城市", "产业数字化"]


def synthetic_view(n: int, seed: int = 0) -> nx.Graph:
    """An institutions-like view of ``n`` units: a few large clusters, pairs, many loners."""
    rng = random.Random(seed)
    g = nx.Graph(view="institutions", filters="")
    types = sorted(TYPES)
    for i in range(n):
        t = rng.choice(types)
        k = rng.choice((1, 1, 1, 2, 2, 3, 5))
        g.add_node(f"https://example.org/unit/u{i}", kind="unit", label=f"测试单位{i:05d}号有限公司",
                   group=f"unit:{t}", unit_type=TYPES[t], aliases=[f"单位{i}"], cases=k,
                   case_titles=[f"案例{i}-{j}" for j in range(k)],
                   categories=sorted(set(rng.sample(CATEGORIES, min(k, 2)))),
                   domains=sorted(set(rng.sample(DOMAINS, min(k, 3)))))
    nodes = list(g)
    core = nodes[: n // 2]  # half the units in a sparse, clustered co-applicant network
    sub = nx.powerlaw_cluster_graph(len(core), 1, 0.3, seed=seed)
    for a, b in sub.edges():
        g.add_edge(core[a], core[b], kind="co-applicant", weight=rng.choice((1, 1, 1, 2, 3)))
    rest = nodes[n // 2:]
    for i in range(0, len(rest) // 3, 2):  # pairs; the others stay alone
        g.add_edge(rest[i], rest[i + 1], kind="co-applicant", weight=1)
    for _ in range(n // 50):
        a, b = rng.sample(nodes, 2)
        if not g.has_edge(a, b):
            g.add_edge(a, b, kind="parent", weight=1)
    return g


def time_in_chromium(path: Path, search: str) -> dict[str, float]:
    """Seconds until the network is drawn, and for one search, in headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        leaks: list[str] = []
        readies, walls = [], []
        for _ in range(OPENINGS):  # the median of a few openings: one is at the mercy of the machine
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                       else (leaks.append(r.request.url), r.abort()))
            t0 = time.perf_counter()
            page.goto(path.as_uri())
            page.wait_for_function("window.chuzhi && window.chuzhi.ready === true", timeout=120_000)
            walls.append(time.perf_counter() - t0)
            readies.append(page.evaluate("window.chuzhi.readyAt") / 1000)
            if len(readies) < OPENINGS:
                page.close()
        ready, wall = statistics.median(readies), statistics.median(walls)
        t0 = time.perf_counter()
        page.fill("#search", search)
        page.press("#search", "Enter")
        page.wait_for_function("chuzhi.network.getSelectedNodes().length === 1", timeout=60_000)
        found = time.perf_counter() - t0
        # from the query to the next frame drawn with the hit selected
        in_page = page.evaluate("""async q => { chuzhi.fit(); chuzhi.refresh();
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            const t = performance.now(); chuzhi.search(q);
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            return performance.now() - t; }""", search)
        browser.close()
    if leaks:
        raise SystemExit(f"requests left the file: {leaks}")
    return {"interactive_s": round(ready, 2), "interactive_runs_s": [round(r, 2) for r in readies],
            "open_wall_s": round(wall, 2), "search_s": round(found, 2),
            "search_ms_in_page": round(in_page, 1)}


def bench_corpus(graph: Path, folder: Path, browser: bool) -> dict[str, object]:
    """The institutions view of a built corpus: view, stats, render, size, Chromium timings."""
    from chuzhi_graph.views.graphs import build_view, load_store
    from chuzhi_graph.views.render import render_main_views
    from chuzhi_graph.views.stats import compute_stats

    load = os.getloadavg()[0]
    main = folder / f"{graph.name}-main"
    main.mkdir(exist_ok=True)
    dump = graph / "chuzhi.nt"
    (main / dump.name).unlink(missing_ok=True)
    (main / dump.name).symlink_to(dump.resolve())
    t0 = time.perf_counter()  # what build and publish pay: the store, the facts, the main views
    written = render_main_views(main, "https://w3id.org/chuzhi/")
    main_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    store = load_store(graph)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()  # another store: its facts are read again
    g = build_view(store, "institutions")
    view_s = time.perf_counter() - t0
    del store
    t0 = time.perf_counter()
    compute_stats(g)
    stats_s = time.perf_counter() - t0
    path = folder / f"{graph.name}-institutions.html"
    t0 = time.perf_counter()
    render_html(g, path, title=f"institutions {graph.name}")
    render_s = time.perf_counter() - t0
    row: dict[str, object] = {"corpus": str(graph), "load_1min": round(load, 2),
                              "main_views_s": round(main_s, 2), "main_views": [p.stem for p in written],
                              "nodes": g.number_of_nodes(), "edges": g.number_of_edges(),
                              "load_s": round(load_s, 2), "view_s": round(view_s, 2), "stats_s": round(stats_s, 2),
                              "render_s": round(render_s, 2), "html_mb": round(path.stat().st_size / 1e6, 2)}
    if browser and Path(CHROMIUM).exists():
        label = max(g.nodes(data=True), key=lambda nd: (nd[1].get("cases", 0), str(nd[0])))[1]["label"]
        row.update(time_in_chromium(path, str(label)))
    return row


def bench(n: int, folder: Path, browser: bool) -> dict[str, object]:
    g = synthetic_view(n)
    t0 = time.perf_counter()
    layout(g)
    layout_s = time.perf_counter() - t0
    path = folder / f"synthetic-{n}.html"
    t0 = time.perf_counter()
    render_html(g, path, title=f"synthetic {n}")
    render_s = time.perf_counter() - t0
    row: dict[str, object] = {
        "nodes": g.number_of_nodes(), "edges": g.number_of_edges(),
        "layout_s": round(layout_s, 2), "render_s": round(render_s, 2),  # render_s: layout included
        "html_mb": round(path.stat().st_size / 1e6, 2),
    }
    if browser and Path(CHROMIUM).exists():
        row.update(time_in_chromium(path, "测试单位00042号有限公司"))
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--graph", type=Path, nargs="+", help="Built corpora to measure instead.")
    parser.add_argument("--no-browser", action="store_true", help="Skip the Chromium timing.")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    parser.add_argument("--keep", type=Path, help="Keep the pages in this folder.")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for item in args.graph or args.nodes:
            row = (bench_corpus(item, folder, not args.no_browser) if args.graph
                   else bench(item, folder, not args.no_browser))
            rows.append(row)
            print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
