"""Redraw time of a graph page: pans and zooms in headless Chromium, median and p95 ms.

Opens a rendered page (e.g. the institutions overview of a 100,000-case build) from disk
with every non-file request blocked, waits until it is interactive, then N times moves the
view (pans by a fifth of the canvas, zooms in or out by 1.25, in a fixed cycle) and times
``network.redraw()`` with ``performance.now()`` around it (vis-network's drawing and the
page's own ``afterDrawing`` pass: highlight and label placement). A frame passes between two
steps, so a redraw the move itself asked for is not counted. Prints one line per page with
the load average before and after (the figures mean something only on a quiet machine: see
bench/quiet.sh). The issue's bar: at or under about 10 ms per redraw at 100,000 cases.

    nice .venv/bin/python bench/redraw.py /tmp/viewers3/o100k/institutions.html --steps 200
    flock /tmp/chuzhi-bench.lock bench/quiet.sh .venv/bin/python bench/redraw.py \\
        /tmp/viewers3/o100k/institutions.html --steps 200 --json bench/results/redraw.json
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

STEPS_JS = """async ([steps, expand]) => {
    const net = chuzhi.network, g = document.getElementById('graph'), frame = () =>
        new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    if (expand) {  // the biggest cluster opened, as a reader would
        const big = chuzhi.nodes.get().filter(n => n.id.startsWith('cluster:') && n.id !== 'cluster:~small')
            .sort((a, b) => b.size - a.size)[0];
        if (big) { chuzhi.state.expanded[big.id.slice(8)] = true; chuzhi.refresh(); }
    }
    net.fit({animation: false, maxZoomLevel: 1.6});
    await frame();
    const base = net.getScale(), moves = [[1, 0], [0, 1], [-1, 0], [0, -1]], out = [];
    for (let i = 0; i < steps; i++) {
        const at = net.getViewPosition(), s = net.getScale(), m = moves[i % 4];
        const scale = i % 8 < 4 ? Math.min(s * 1.25, base * 4) : Math.max(s / 1.25, base / 2);
        net.moveTo({position: {x: at.x + m[0] * g.clientWidth / 5 / s, y: at.y + m[1] * g.clientHeight / 5 / s},
                    scale: scale, animation: false});
        await frame();
        const t = performance.now();
        net.redraw();
        out.push(performance.now() - t);
    }
    return {ms: out, nodes: chuzhi.nodes.length, edges: chuzhi.edges.length, labels: chuzhi.labels().length};
}"""


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) by the nearest rank.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 0.95)
    4.0
    """
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, max(0, round(q * len(ranked) + 0.5) - 1))]


def measure(page_path: Path, steps: int, *, expand: bool = False, width: int = 1400,
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
        result = page.evaluate(STEPS_JS, [steps, expand])
        browser.close()
    ms = result["ms"]
    return {"page": str(page_path), "bytes": page_path.stat().st_size, "steps": steps, "expanded": expand,
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
    parser.add_argument("--expand", action="store_true", help="also measure with the biggest cluster opened")
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args(argv)
    rows = []
    for path in args.pages:
        for expand in (False, True) if args.expand else (False,):
            row = measure(path, args.steps, expand=expand)
            rows.append(row)
            print(f"{path.name}{' (biggest cluster open)' if expand else ''}: redraw median {row['median_ms']} ms, "
                  f"p95 {row['p95_ms']} ms, max {row['max_ms']} ms over {row['steps']} pans/zooms; "
                  f"{row['nodes_drawn']} nodes, {row['edges_drawn']} edges, {row['labels']} labels drawn; "
                  f"interactive in {row['ready_s']} s; load average {row['load_before']} -> {row['load_after']}",
                  flush=True)
    if args.json:
        tmp = args.json.with_suffix(".tmp")
        tmp.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        tmp.replace(args.json)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
