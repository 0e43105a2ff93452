"""Redraw time of a graph page: pans and zooms in headless Chromium, median and p95 ms.

Opens a rendered page (e.g. the institutions overview of a 100,000-case build) from disk
with every non-file request blocked, waits until it is interactive, then N times moves the
view (around the fitted view's centre, zooming between 1 and 2.4 times, in a fixed cycle that
keeps the drawing on screen) and times
``network.redraw()`` with ``performance.now()`` around it (vis-network's drawing and the
page's own ``afterDrawing`` pass: highlight and label placement). A frame passes between two
steps, so a redraw the move itself asked for is not counted. Prints one line per page with
the load average before and after (the figures mean something only on a quiet machine: see
bench/quiet.sh). The issue's bar: at or under about 10 ms per redraw at 100,000 cases.

    nice .venv/bin/python bench/redraw.py /tmp/viewers3/o100k/institutions.html --steps 200
    flock /tmp/chuzhi-bench.lock bench/quiet.sh .venv/bin/python bench/redraw.py \\
        /tmp/viewers3/o100k/institutions.html --steps 200 --modes overview,open,all \\
        --json bench/results/redraw.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"

#: What is drawn while timing: the page as it opens, its biggest cluster opened, or every node
#: (no clusters, isolates shown: the figure of "about 10 ms at 33k nodes and 63k edges").
MODES = ("overview", "open", "all")

STEPS_JS = """async ([steps, mode]) => {
    const net = chuzhi.network, g = document.getElementById('graph'), frame = () =>
        new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    if (mode === 'open') {  // the biggest cluster opened, as a reader would
        const big = chuzhi.nodes.get().filter(n => n.id.startsWith('cluster:') && n.id !== 'cluster:~small')
            .sort((a, b) => b.size - a.size)[0];
        if (big) { chuzhi.state.expanded[big.id.slice(8)] = true; chuzhi.refresh(); }
    } else if (mode === 'all') {
        chuzhi.state.clusterBy = ''; chuzhi.state.hideIsolates = false; chuzhi.refresh();
    }
    net.fit({animation: false, maxZoomLevel: 1.6});
    await frame();
    // around the fitted view's centre on an ellipse a quarter of the view wide, zoom going
    // 1, 1.25, ..., 1.25^4 and back: the drawing stays on screen, nothing drifts away
    const base = net.getScale(), c = net.getViewPosition(), w = g.clientWidth / base, h = g.clientHeight / base;
    const out = [];
    for (let i = 0; i < steps; i++) {
        const a = 2 * Math.PI * i / 16, k = 4 - Math.abs(4 - i % 8);
        net.moveTo({position: {x: c.x + 0.25 * w * Math.cos(a), y: c.y + 0.25 * h * Math.sin(a)},
                    scale: base * Math.pow(1.25, k), animation: false});
        await frame();
        const t = performance.now();
        net.redraw();
        out.push(performance.now() - t);
    }
    net.fit({animation: false, maxZoomLevel: 1.6});
    await frame();
    return {ms: out, nodes: chuzhi.nodes.length, edges: chuzhi.edges.length, labels: chuzhi.labels().length};
}"""


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) by the nearest rank.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 0.95)
    4.0
    """
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, max(0, round(q * len(ranked) + 0.5) - 1))]


def measure(page_path: Path, steps: int, *, mode: str = "overview", width: int = 1400,
            height: int = 900) -> dict[str, object]:
    """Open ``page_path`` in headless Chromium and time ``steps`` redraws after pans and zooms."""
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": width, "height": height})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
        start = time.perf_counter()
        page.goto(page_path.resolve().as_uri())
        page.wait_for_function("window.chuzhi && window.chuzhi.ready === true", timeout=300_000)
        ready = time.perf_counter() - start
        result = page.evaluate(STEPS_JS, [steps, mode])
        browser.close()
    ms = result["ms"]
    return {"page": str(page_path), "bytes": page_path.stat().st_size, "steps": steps, "mode": mode,
            "ready_s": round(ready, 2), "median_ms": round(statistics.median(ms), 2),
            "p95_ms": round(percentile(ms, 0.95), 2), "max_ms": round(max(ms), 2),
            "nodes_drawn": result["nodes"], "edges_drawn": result["edges"], "labels": result["labels"],
            "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()],
            "date": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), "machine": platform.node(),
            "cpus": os.cpu_count()}


def main(argv: list[str] | None = None) -> list[dict[str, object]]:
    """Measure each page given; print a line each; optionally write the rows as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="+", type=Path, help="rendered graph pages (HTML)")
    parser.add_argument("--steps", type=int, default=100, help="pans/zooms per page (default 100)")
    parser.add_argument("--modes", default="overview",
                        help="comma-separated, of: overview (as it opens), open (its biggest cluster opened), "
                             "all (every node, no clusters); default overview")
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args(argv)
    rows = []
    for path in args.pages:
        for mode in args.modes.split(","):
            if mode not in MODES:
                parser.error(f"unknown mode {mode!r} (one of {', '.join(MODES)})")
            row = measure(path, args.steps, mode=mode)
            rows.append(row)
            print(f"{path.name} ({mode}): redraw median {row['median_ms']} ms, "
                  f"p95 {row['p95_ms']} ms, max {row['max_ms']} ms over {row['steps']} pans/zooms; "
                  f"{row['nodes_drawn']} nodes, {row['edges_drawn']} edges, {row['labels']} labels at the fitted view; "
                  f"interactive in {row['ready_s']} s; load average {row['load_before']} -> {row['load_after']}",
                  flush=True)
    if args.json:
        tmp = args.json.with_suffix(".tmp")
        tmp.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        tmp.replace(args.json)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
