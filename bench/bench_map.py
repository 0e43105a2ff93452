"""Benchmark of the map page: its weight and the time to drill into 武汉市, in Chromium.

For each built corpus (``--graph DIR``) it reads the map's data once, writes the single-file
page (``render map``) and the published one (lists in ``map-data/``), and opens each three
times in headless Chromium (1400×860, network blocked): the time from the click on 武汉市 to
the first frame painted with its districts coloured and its list of cases shown (measured in
the page with ``performance.now()``), and the number of
fill colours among the 17 prefectures. Targets: page ≤ 2 MB, drill-down < 1 s.

    .venv/bin/python bench/bench_map.py --graph /tmp/out5k /tmp/out100k --json bench/results/map.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from chuzhi_graph.core.fileio import AtomicFiles
from chuzhi_graph.views.mapview import html_page, list_scripts, map_data

CHROMIUM = "/usr/bin/chromium"


def drill(browser, page: Path) -> dict[str, object]:
    times = []
    colours = 0
    for _ in range(3):
        tab = browser.new_page(viewport={"width": 1400, "height": 860})
        tab.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
        tab.goto(page.as_uri())
        tab.wait_for_selector("body[data-ready='1']", timeout=60_000)
        colours = len(set(tab.eval_on_selector_all("#layer-top path", "ps => ps.map(p => p.style.fill)")))
        # in the page: from the click to the first frame painted with the list of cases shown
        # (Playwright's own click waits for actionability, which a loaded machine stretches)
        times.append(round(tab.evaluate("""async () => {
            const start = performance.now();
            document.querySelector("#layer-top path[data-code='420100']").dispatchEvent(new MouseEvent("click"));
            while (!document.querySelector("#detail-cases li")) { await new Promise(r => setTimeout(r, 5)); }
            await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
            return performance.now() - start; }""")))
        tab.close()
    return {"bytes": page.stat().st_size, "drill_ms": times, "colours": colours}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", nargs="+", type=Path, required=True, help="built corpora")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="chuzhi-map-") as tmp:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        for graph in args.graph:
            start = time.perf_counter()
            data = map_data(graph)
            read = time.perf_counter() - start
            folder = Path(tmp) / graph.name
            single = folder / "map.html"
            site = folder / "graphs" / "map.html"
            start = time.perf_counter()
            with AtomicFiles() as files:
                files.path(single).write_text(html_page(data), encoding="utf-8")
                for name, text in list_scripts(data).items():
                    files.path(site.parent / "map-data" / name).write_text(text, encoding="utf-8")
                files.path(site).write_text(html_page(data, list_dir="map-data"), encoding="utf-8")
            write = time.perf_counter() - start
            row = {"graph": str(graph), "cases": len(data.cases), "map_data_s": round(read, 1),
                   "pages_s": round(write, 1), "single": drill(browser, single), "site": drill(browser, site)}
            print(json.dumps(row, ensure_ascii=False), flush=True)
            results.append(row)
        browser.close()
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
