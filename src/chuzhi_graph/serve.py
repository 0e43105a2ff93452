"""A read-only SPARQL 1.1 Protocol endpoint over the built graph, with an offline query page.

>>> server = make_server("out", port=0)                            # doctest: +SKIP
>>> server.serve_forever()                                          # doctest: +SKIP

- ``GET /sparql?query=...``, ``POST /sparql`` (form ``query=`` or ``application/sparql-query``);
  results by ``Accept`` (SPARQL JSON, XML, CSV, TSV; Turtle or N-Triples for graphs) or by the
  ``format`` parameter (``json``, ``xml``, ``csv``, ``tsv``, ``turtle``, ``nt``);
- updates (``update=``, ``application/sparql-update``) are refused with 403, ``SERVICE`` with 400;
- every query runs in a worker process killed at the time limit (``timeout``, see
  :mod:`chuzhi_graph.query`); reading stops at the first row past ``max_rows`` (413); at most
  ``max_running`` queries run at once, others get 503;
- ``/`` is the query page (``static/sparql/``, no network needed), ``/queries.json`` the shipped queries
  with their parameters, ``/complete.json?kind=unit&q=…`` names for a parameter field,
  ``/prefixes.json`` the predeclared prefixes; ``param=NAME=VALUE`` beside ``query`` binds a parameter;
- binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import pyoxigraph as ox

from chuzhi_graph.errors import EnvironmentProblem, QueryError
from chuzhi_graph.query import QueryResult, format_result, run_query
from chuzhi_graph.questions import complete, parse_params, queries_json
from chuzhi_graph.results import query_prefixes
from chuzhi_graph.store import open_store

log = logging.getLogger(__name__)

MEDIA = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "nt": "application/n-triples",
}
STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@dataclass
class ServeConfig:
    """Limits of the endpoint."""

    timeout: float = 60.0  # chuzhi_graph.query.DEFAULT_TIMEOUT
    max_rows: int = 10_000
    max_running: int = 2


def negotiate(accept: str, kind: str, explicit: str | None = None) -> str:
    """The results format for an ``Accept`` header (or an explicit ``format``), by query kind.

    >>> negotiate("text/csv, */*;q=0.1", "select"), negotiate("", "graph"), negotiate("", "ask", "xml")
    ('csv', 'turtle', 'xml')
    """
    graph = kind == "graph"
    if explicit:
        return explicit
    ranked = []
    for index, part in enumerate(accept.split(",")):
        fields = part.strip().split(";")
        mime = fields[0].strip().lower()
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranked.append((-q, index, mime))
    aliases = {"application/json": "json", "application/xml": "xml", "text/xml": "xml",
               "application/x-turtle": "turtle"}
    for _, _, mime in sorted(ranked):
        fmt = aliases.get(mime) or next((f for f, m in MEDIA.items() if m == mime), None)
        if fmt is None:
            continue
        if graph and fmt in ("turtle", "nt"):
            return fmt
        if not graph and fmt in ("json", "xml", "csv", "tsv"):
            return fmt
    return "turtle" if graph else "json"


class SparqlServer(ThreadingHTTPServer):
    """The HTTP server holding the store, the limits and the query slots."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: ox.Store, config: ServeConfig) -> None:
        super().__init__(address, SparqlHandler)
        self.store = store
        self.config = config
        self.slots = threading.BoundedSemaphore(config.max_running)


class SparqlHandler(BaseHTTPRequestHandler):
    """GET/POST ``/sparql``, the query page and its files."""

    server: SparqlServer
    server_version = "chuzhi-graph"

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if url.path == "/sparql":
            if "update" in params:
                return self.refuse_update()
            if "query" not in params:
                return self.send_text(HTTPStatus.BAD_REQUEST, "missing the query parameter\n")
            return self.answer(params["query"][0], params)
        if url.path == "/queries.json":  # the shipped queries with their parameter declarations
            body = json.dumps(queries_json(), ensure_ascii=False, indent=1)
            return self.send_body(HTTPStatus.OK, body.encode("utf-8"), "application/json; charset=utf-8")
        if url.path == "/prefixes.json":  # the prefixes predeclared for every query
            body = json.dumps(query_prefixes(), ensure_ascii=False, indent=1)
            return self.send_body(HTTPStatus.OK, body.encode("utf-8"), "application/json; charset=utf-8")
        if url.path == "/complete.json":  # the form's completion: ?kind=unit&q=华中
            try:
                found = complete(self.server.store, (params.get("kind") or [""])[0], (params.get("q") or [""])[0])
            except QueryError as exc:
                return self.send_text(HTTPStatus.BAD_REQUEST, f"{exc}\n")
            body = json.dumps(found, ensure_ascii=False)
            return self.send_body(HTTPStatus.OK, body.encode("utf-8"), "application/json; charset=utf-8")
        name = "index.html" if url.path in ("/", "/index.html") else url.path.removeprefix("/static/")
        return self.send_static(name)

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/sparql":
            return self.send_text(HTTPStatus.NOT_FOUND, "not found\n")
        length = int(self.headers.get("Content-Length") or 0)
        if length > 1_000_000:
            return self.send_text(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large\n")
        body = self.rfile.read(length).decode("utf-8", "replace")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if ctype == "application/sparql-update":
            return self.refuse_update()
        if ctype == "application/sparql-query":
            return self.answer(body, params)
        form = urllib.parse.parse_qs(body, keep_blank_values=True)
        if "update" in form or "update" in params:
            return self.refuse_update()
        params.update(form)
        if "query" not in params:
            return self.send_text(HTTPStatus.BAD_REQUEST, "missing the query parameter\n")
        return self.answer(params["query"][0], params)

    def do_PUT(self) -> None:
        self.refuse_update()

    do_DELETE = do_PUT
    do_PATCH = do_PUT

    # ------------------------------------------------------------ helpers

    def refuse_update(self) -> None:
        self.send_text(HTTPStatus.FORBIDDEN, "updates are refused: this endpoint is read-only\n")

    def answer(self, text: str, params: dict[str, list[str]]) -> None:
        config = self.server.config
        if not self.server.slots.acquire(timeout=1.0):
            return self.send_text(HTTPStatus.SERVICE_UNAVAILABLE,
                                  f"busy: {config.max_running} queries are running, try again later\n")
        try:
            # param=NAME=VALUE (the page's parameter form): bound like `query --param`
            bindings = parse_params(params.get("param", []))
            result = run_query(self.server.store, text, bindings, timeout=config.timeout, max_rows=config.max_rows)
        except QueryError as exc:
            return self.send_text(HTTPStatus.BAD_REQUEST, f"{exc}\n")
        finally:
            self.server.slots.release()
        size = len(result.rows) if result.kind == "select" else len(result.triples)
        if size > config.max_rows:  # reading stopped at the first row past the limit
            return self.send_text(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                  f"the result has more than {config.max_rows} rows: add a LIMIT\n")
        explicit = (params.get("format") or [None])[0]
        if explicit and explicit not in MEDIA:
            return self.send_text(HTTPStatus.BAD_REQUEST, f"unknown format {explicit!r}\n")
        fmt = negotiate(self.headers.get("Accept") or "", result.kind, explicit)
        self.send_result(result, fmt)

    def send_result(self, result: QueryResult, fmt: str) -> None:
        try:
            body = format_result(result, fmt).encode("utf-8")
        except QueryError as exc:
            return self.send_text(HTTPStatus.NOT_ACCEPTABLE, f"{exc}\n")
        self.send_body(HTTPStatus.OK, body, f"{MEDIA[fmt]}; charset=utf-8")

    def send_static(self, name: str) -> None:
        folder = resources.files("chuzhi_graph") / "static" / "sparql"
        if "/" in name or name.startswith(".") or Path(name).suffix not in STATIC_TYPES:
            return self.send_text(HTTPStatus.NOT_FOUND, "not found\n")
        item = folder / name
        if not item.is_file():
            return self.send_text(HTTPStatus.NOT_FOUND, "not found\n")
        self.send_body(HTTPStatus.OK, item.read_bytes(), f"{STATIC_TYPES[Path(name).suffix]}; charset=utf-8")

    def send_text(self, status: HTTPStatus, text: str) -> None:
        self.send_body(status, text.encode("utf-8"), "text/plain; charset=utf-8")

    def send_body(self, status: HTTPStatus, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def make_server(out_dir: str | Path, host: str = "127.0.0.1", port: int = 7070,
                config: ServeConfig | None = None) -> SparqlServer:
    """A ready server over the build in ``out_dir`` (``port=0``: any free port; see ``server_port``).

    >>> server = make_server("out", port=0)                        # doctest: +SKIP
    >>> server.server_port > 0                                     # doctest: +SKIP
    True
    """
    store = open_store(out_dir)
    try:
        return SparqlServer((host, port), store, config or ServeConfig())
    except OSError as exc:
        raise EnvironmentProblem(f"cannot listen on {host}:{port}: {exc.strerror}") from None
