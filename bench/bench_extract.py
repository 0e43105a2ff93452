"""Benchmark of reading HTML announcements: time against nesting depth and file size.

Pages of N nested ``<div>``s (text at every level) and of N nested inline ``<span>``s in one
paragraph are read with :func:`chuzhi_graph.extract.announcement.html_lines`; the figure is the time per
element, which stays flat when reading is linear in the input size.

    .venv/bin/python bench/bench_extract.py                          # 1,000 .. 100,000
    .venv/bin/python bench/bench_extract.py --depths 8000,100000

Target: linear; 8,000 nested divs took 15.9 s and 100,000 did not finish in 300 s
before the fix.
"""

from __future__ import annotations

import argparse
import time

from chuzhi_graph.extract.announcement import html_lines


def divs(n: int) -> str:
    return "<html><body>" + "<div>x" * n + "</div>" * n + "</body></html>"


def spans(n: int) -> str:
    return "<html><body><p>" + "<span>x" * n + "</span>" * n + "</p></body></html>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--depths", default="1000,8000,25000,50000,100000")
    args = parser.parse_args()
    print(f"{'page':<7} {'depth':>8} {'bytes':>10} {'lines':>7} {'seconds':>8} {'µs/element':>11}")
    for n in (int(x) for x in args.depths.split(",")):
        for kind, make in (("divs", divs), ("spans", spans)):
            page = make(n)
            t0 = time.perf_counter()
            _, lines = html_lines(page)
            seconds = time.perf_counter() - t0
            print(f"{kind:<7} {n:>8,} {len(page.encode()):>10,} {len(lines):>7,} {seconds:>8.2f} "
                  f"{seconds / n * 1e6:>11.1f}", flush=True)


if __name__ == "__main__":
    main()
