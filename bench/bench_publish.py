"""Publish at scale: seconds, files and the largest page of the site at N cases.

Run from the repository root (the 100,000-case run takes many minutes; run it once)::

    .venv/bin/python bench/bench_publish.py --sizes 1000,10000,100000 --work /path/on/a/fast/disk

For each N it writes a synthetic corpus (``chuzhi-graph synth --cases N --editions 10 --seed 1``,
or reuses ``--corpora/cN`` when it is there), runs ``chuzhi-graph -v publish`` in a child process
(``--src`` runs another checkout's ``src`` instead, e.g. the code before a change) and records:
wall seconds, CPU seconds of
the child (user + system), its peak resident memory, the number of files of the site, its size,
the largest HTML page apart from the interactive graphs (``largest_page_mb``) and the largest
graph page, and the load average before and after (the machine is shared: wall time grows
with the load, CPU time does not). The child's ``-v`` log (each step's time) is kept beside
the JSON. Rows go to ``bench/results/publish-DATE.json`` (merged with the sizes already there;
``--label`` keeps rows of different code apart). A run longer than ``--timeout`` seconds is
stopped and recorded as such, with the steps it finished. Take the figures under the shared lock::

    flock /tmp/chuzhi-bench.lock sh -c 'uptime; .venv/bin/python bench/bench_publish.py ...'
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
#: A step's time in the ``-v`` log: ``INFO: resource pages: 12.34 s, 500 done``.
STEP_LINE = re.compile(r"^INFO: (.+?): (\d+\.\d+) s\b", re.MULTILINE)
CHUZHI = str(Path(sys.executable).with_name("chuzhi-graph"))


def measure(n_cases: int, work: Path, editions: int = 10, seed: int = 1, *, corpora: Path | None = None,
            src: Path | None = None, timeout: float | None = None, label: str = "") -> dict[str, Any]:
    """Synthesise N cases (or reuse them) and publish them; the figures of one row."""
    folder = work / f"publish-{n_cases}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    data = corpora / f"c{n_cases}" if corpora is not None else folder / "data"
    if not (data / "cases.csv").is_file():
        subprocess.run([CHUZHI, "-q", "synth", "--cases", str(n_cases), "--editions", str(editions), "--seed",
                        str(seed), "--out", str(data)], check=True, stdout=subprocess.DEVNULL)
    command, env = [CHUZHI], dict(os.environ)
    if src is not None:  # another checkout: its package, its ontology
        command = [sys.executable, "-m", "chuzhi_graph"]
        env["PYTHONPATH"] = str(src.resolve())
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with (folder / "publish.log").open("w", encoding="utf-8") as log:
        try:
            done = subprocess.run([*command, "-v", "publish", "--data", str(data),
                                   "--output-dir", str(folder / "site")],
                                  stdout=subprocess.DEVNULL, stderr=log, env=env, timeout=timeout)
            code: int | None = done.returncode
        except subprocess.TimeoutExpired:
            code = None
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    steps = {m.group(1): float(m.group(2)) for m in STEP_LINE.finditer((folder / "publish.log").read_text("utf-8"))}
    common = {"n_cases": n_cases, "step": "publish", "label": label, "seconds": round(seconds, 1),
              "cpu_seconds": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
              "steps": steps, "load_before": round(load_before, 1), "load_after": round(os.getloadavg()[0], 1),
              "date": date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores"}
    shutil.copy2(folder / "publish.log", BENCH_DIR / "results" / f"publish-{n_cases}{'-' + label if label else ''}.log")
    if code is None:
        return {**common, "stopped_after_timeout": timeout}
    if code:
        raise SystemExit(f"publish failed at {n_cases} cases, see {folder / 'publish.log'}")
    site = folder / "site"
    files = [p for p in site.rglob("*") if p.is_file()]
    pages = [p for p in files if p.suffix == ".html" and "graphs" not in p.relative_to(site).parts]
    graphs = [p for p in files if p.suffix == ".html" and "graphs" in p.relative_to(site).parts]
    largest = max(pages, key=lambda p: p.stat().st_size)
    manifest = json.loads((site / "dataset" / "manifest.json").read_text(encoding="utf-8"))
    row = {
        **common, "triples": manifest["counts"]["triples"],
        "peak_mb": round(after.ru_maxrss / 1024, 1), "files": len(files),
        "site_mb": round(sum(p.stat().st_size for p in files) / 1e6, 1),
        "largest_page_mb": round(largest.stat().st_size / 1e6, 3),
        "largest_page": largest.relative_to(site).as_posix(),
        "largest_graph_page_mb": round(max((p.stat().st_size for p in graphs), default=0) / 1e6, 3),
    }
    return row


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--work", type=Path, default=Path("out/bench-publish"))
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / f"publish-{date.today().isoformat()}.json")
    parser.add_argument("--keep", action="store_true", help="Keep the corpora and sites.")
    parser.add_argument("--corpora", type=Path, help="Folder of synthetic corpora cN/ to reuse (made if missing).")
    parser.add_argument("--editions", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--src", type=Path, help="Run the package of this src folder (e.g. the code before a change).")
    parser.add_argument("--label", default="", help="Name of the code measured (rows of other labels are kept).")
    parser.add_argument("--timeout", type=float, help="Stop a publish after this many seconds.")
    args = parser.parse_args(argv)
    rows = json.loads(args.out.read_text(encoding="utf-8")) if args.out.is_file() else []
    print("n_cases  triples    seconds  cpu_s   peak_mb  files    site_mb  largest_page_mb  load")
    for n in (int(s) for s in args.sizes.split(",") if s):
        row = measure(n, args.work, args.editions, args.seed, corpora=args.corpora, src=args.src,
                      timeout=args.timeout, label=args.label)
        rows = [r for r in rows if (r["n_cases"], r.get("label", "")) != (n, args.label)] + [row]
        rows.sort(key=lambda r: (r.get("label", ""), r["n_cases"]))
        args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        if "stopped_after_timeout" in row:
            print(f"{n:<8} stopped after {row['seconds']} s; steps done: {row['steps']}", flush=True)
            continue
        print(f"{n:<8} {row['triples']:<10} {row['seconds']:<8} {row['cpu_seconds']:<7} {row['peak_mb']:<8} "
              f"{row['files']:<8} {row['site_mb']:<8} {row['largest_page_mb']:<16} "
              f"{row['load_before']}→{row['load_after']}", flush=True)
        if not args.keep:
            shutil.rmtree(args.work / f"publish-{n}", ignore_errors=True)
    return rows


if __name__ == "__main__":
    main()
