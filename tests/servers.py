"""A real `serve` in a thread of the test process, on a free loopback port (the tests' one way to start it)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chuzhi_graph.sparql.serve import ServeConfig, SparqlServer, make_server


@contextmanager
def serving(out_dir: Path, config: ServeConfig, **options: Any) -> Iterator[SparqlServer]:
    """``make_server(out_dir, "127.0.0.1", 0, config, **options)`` answering until the block ends.

    >>> from chuzhi_graph.sparql.serve import ServeConfig
    >>> with serving(Path("tests/golden/out"), ServeConfig()) as server:  # doctest: +SKIP
    ...     server.server_port > 0
    True
    """
    server = make_server(out_dir, "127.0.0.1", 0, config, **options)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
