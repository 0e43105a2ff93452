"""Publish at scale: seconds, files and the largest page of the site at N cases.

Run from the repository root (the 100,000-case run takes many minutes; run it once)::

    .venv/bin/python bench/bench_publish.py --sizes 1000,10000,100000 --work /path/on/a/fast/disk

For each N it writes a synthetic corpus (``chuzhi-graph synth --cases N --editions 5 --seed 0``),
runs ``chuzhi-graph -v publish`` in a child process and records: wall seconds, CPU seconds of
the child (user + system), its peak resident memory, the number of files of the site, its size,
the largest HTML page apart from the interactive graphs (``largest_page_mb``) and the largest
graph page, and the load average before and after (the machine is shared: wall time grows
with the load, CPU time does not). The child's ``-v`` log (each step's time) is kept beside
the JSON. Rows go to ``bench/results/publish-DATE.json`` (merged with the sizes already there).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
CHUZHI = str(Path(sys.executable).with_name("chuzhi-graph"))


def measure(n_cases: int, work: Path, editions: int = 5, seed: int = 0) -> dict[str, Any]:
    """Synthesise N cases and publish them; the figures of one row."""
    folder = work / f"publish-{n_cases}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    subprocess.run([CHUZHI, "-q", "synth", "--cases", str(n_cases), "--editions", str(editions), "--seed",
                    str(seed), "--out", str(folder / "data")], check=True, stdout=subprocess.DEVNULL)
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with (folder / "publish.log").open("w", encoding="utf-8") as log:
        done = subprocess.run([CHUZHI, "-v", "publish", "--data", str(folder / "data"), "-o", str(folder / "site")],
                              stdout=subprocess.DEVNULL, stderr=log)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"publish failed at {n_cases} cases, see {folder / 'publish.log'}")
    site = folder / "site"
    files = [p for p in site.rglob("*") if p.is_file()]
    pages = [p for p in files if p.suffix == ".html" and "graphs" not in p.relative_to(site).parts]
    graphs = [p for p in files if p.suffix == ".html" and "graphs" in p.relative_to(site).parts]
    largest = max(pages, key=lambda p: p.stat().st_size)
    manifest = json.loads((site / "dataset" / "manifest.json").read_text(encoding="utf-8"))
    row = {
        "n_cases": n_cases, "step": "publish", "triples": manifest["counts"]["triples"],
        "seconds": round(seconds, 1),
        "cpu_seconds": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        "peak_mb": round(after.ru_maxrss / 1024, 1), "files": len(files),
        "site_mb": round(sum(p.stat().st_size for p in files) / 1e6, 1),
        "largest_page_mb": round(largest.stat().st_size / 1e6, 3),
        "largest_page": largest.relative_to(site).as_posix(),
        "largest_graph_page_mb": round(max((p.stat().st_size for p in graphs), default=0) / 1e6, 3),
        "load_before": round(load_before, 1), "load_after": round(os.getloadavg()[0], 1),
        "date": date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    shutil.copy2(folder / "publish.log", BENCH_DIR / "results" / f"publish-{n_cases}.log")
    return row


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--work", type=Path, default=Path("out/bench-publish"))
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / f"publish-{date.today().isoformat()}.json")
    parser.add_argument("--keep", action="store_true", help="Keep the corpora and sites.")
    args = parser.parse_args(argv)
    rows = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else []
    print("n_cases  triples    seconds  cpu_s   peak_mb  files    site_mb  largest_page_mb  load")
    for n in (int(s) for s in args.sizes.split(",") if s):
        row = measure(n, args.work)
        rows = [r for r in rows if r["n_cases"] != n] + [row]
        rows.sort(key=lambda r: r["n_cases"])
        args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{n:<8} {row['triples']:<10} {row['seconds']:<8} {row['cpu_seconds']:<7} {row['peak_mb']:<8} "
              f"{row['files']:<8} {row['site_mb']:<8} {row['largest_page_mb']:<16} "
              f"{row['load_before']}→{row['load_after']}", flush=True)
        if not args.keep:
            shutil.rmtree(args.work / f"publish-{n}", ignore_errors=True)
    return rows


if __name__ == "__main__":
    main()
