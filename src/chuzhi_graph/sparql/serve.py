"""A read-only SPARQL 1.1 Protocol endpoint over the built graph, with an offline query page.

>>> server = make_server("out", port=0)                            # doctest: +SKIP
>>> server.serve_forever()                                          # doctest: +SKIP

- ``GET /sparql?query=...``, ``POST /sparql`` (form ``query=`` or ``application/sparql-query``);
  results by ``Accept`` or by the ``format``/``output`` parameter, in the formats the registry
  (:mod:`chuzhi_graph.formats`) marks negotiable, chosen by :mod:`chuzhi_graph.sparql.protocol`;
- updates (``update=``, ``application/sparql-update``) are refused with 403, ``SERVICE`` with 400
  (on the parsed query, and the workers have no network: :mod:`chuzhi_graph.sparql.safety`);
- every query runs in a worker process killed at the time limit (``timeout``) or its memory bound
  (``max_memory``), see :mod:`chuzhi_graph.sparql.worker`; reading stops at the first row past
  ``max_rows`` (413); queries go through two lanes (:mod:`chuzhi_graph.sparql.lanes`), 503 when full;
- ``/`` is the query page (``static/sparql/``, no network needed), ``/queries.json`` the shipped queries
  with their parameters, ``/complete.json?kind=unit&q=…`` names for a parameter field,
  ``/prefixes.json`` the predeclared prefixes; ``param=NAME=VALUE`` beside ``query`` binds a parameter;
- binds to 127.0.0.1 unless told otherwise; requests must name a loopback ``Host`` (or the bound
  address) and come from the page's own origin or an ``allow_origins`` one (CORS), so that no web
  page can make a browser use the endpoint;
- a new build in ``out_dir`` is noticed and loaded in the background; meanwhile answers come from
  the previous one, saying so in an ``X-Chuzhi-Graph`` header.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import pyoxigraph as ox

from chuzhi_graph.core.dump import find_dump, release_home
from chuzhi_graph.errors import ChuzhiError, EnvironmentProblem, QueryError
from chuzhi_graph.sparql.description import service_description
from chuzhi_graph.sparql.lanes import Busy, Lanes
from chuzhi_graph.sparql.protocol import choose, described, media_type
from chuzhi_graph.sparql.query import QueryResult, format_result, run_query
from chuzhi_graph.sparql.questions import complete, parse_params, queries_json, shipped_query, unknown_query
from chuzhi_graph.sparql.results import query_prefixes
from chuzhi_graph.sparql.safety import network_is_denied
from chuzhi_graph.sparql.store import StoreWatch
from chuzhi_graph.sparql.worker import DEFAULT_MEMORY, WORKERS, WorkerFailed

log = logging.getLogger(__name__)

STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


#: Largest request body read (a query text; bigger is 413).
MAX_BODY = 1_000_000
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")


@dataclass
class ServeConfig:
    """Limits of the endpoint."""

    timeout: float = 60.0  # chuzhi_graph.sparql.query.DEFAULT_TIMEOUT
    max_rows: int = 10_000
    #: queries in the quick lane at once (every query not known to be short starts there)
    max_running: int = 3  # 6 let heavier queries crowd out the cheap ones on 2 cores (docs/serve.md)
    #: queries of a shape that ran short last time, at once (slots of their own)
    max_short: int = 4
    #: queries past ``quick_seconds`` at once (the long lane)
    max_long: int = 2
    #: long queries stopped (SIGSTOP) while they wait for a long-lane slot; more get 503
    max_long_waiting: int = 2
    quick_seconds: float = 0.5
    #: how long a query may wait for a quick-lane slot before 503
    queue_wait: float = 5.0
    #: how long a query of a shape known to run long may wait for a long-lane slot before 503
    long_wait: float = 10.0
    #: address-space budget of each query worker, bytes
    max_memory: int = DEFAULT_MEMORY
    #: origins (``http://host:port``) whose pages may use the endpoint (CORS)
    allow_origins: tuple[str, ...] = ()
    #: more ``Host`` names accepted besides loopback and the bound address
    allow_hosts: tuple[str, ...] = ()
    #: seconds a client may take to send a request's line and headers, and again its body (in all,
    #: however it trickles them), and each write of an answer
    socket_timeout: float = 10.0
    #: connections served at once; more are answered 503 at once
    max_connections: int = 64
    #: connections of one client address at once; more are answered 503 at once
    max_per_client: int = 48
    #: seconds between checks for a new build
    watch_interval: float = 1.0
    extra: dict[str, str] = field(default_factory=dict)


#: The page loads only its own files and talks only to its own server; no page may frame it.
#: (CodeMirror writes its styles into the page, hence ``'unsafe-inline'`` for styles only.)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class _DeadlineReader(io.RawIOBase):
    """Reads a socket within a deadline set by :meth:`start`: a client sending a byte a second
    cannot stretch a request past it (each read waits at most what is left)."""

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        super().__init__()
        self.sock, self.seconds = sock, seconds
        self.deadline: float | None = None

    def start(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def stop(self) -> None:
        self.deadline = None
        self.sock.settimeout(self.seconds)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the client took too long to send its request")
            self.sock.settimeout(left)
        return self.sock.recv_into(buffer)


class SparqlServer(ThreadingHTTPServer):
    """The HTTP server holding the store, the limits and the query lanes."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], watch: StoreWatch, config: ServeConfig,
                 graphs: Callable[[], Mapping[str, list[ox.Triple]]] | None = None) -> None:
        self._stop_watching = threading.Event()
        self.graphs = graphs
        self._datasets: dict[tuple[int, tuple[str, ...], tuple[str, ...]], ox.Store] = {}
        self._layout: tuple[int, Mapping[str, list[ox.Triple]]] | None = None
        self._dataset_lock = threading.Lock()
        super().__init__(address, SparqlHandler)
        self.watch = watch
        self.config = config
        self.lanes = Lanes(config.max_running, config.max_long, config.quick_seconds, config.queue_wait,
                           config.max_short, config.max_long_waiting, config.long_wait)
        self.connections = threading.BoundedSemaphore(config.max_connections)
        self._per_client: dict[str, int] = {}
        self._clients_lock = threading.Lock()
        WORKERS.keep = max(WORKERS.keep, config.max_running + config.max_short)
        host = address[0]
        self.hosts = {h.lower() for h in (*LOOPBACK_HOSTS, *config.allow_hosts)}
        if host not in ("", "0.0.0.0", "::"):
            self.hosts.add(host.lower())
        self._watcher = threading.Thread(target=self._watch_loop, name="store-watch", daemon=True)
        self._watcher.start()

    @property
    def store(self) -> ox.Store:
        """The store answering now (the previous build while a new one loads)."""
        return self.watch.store

    def dataset(self, default_graphs: list[str], named_graphs: list[str]) -> ox.Store:
        """The store a query runs on: the whole graph, or the dataset of ``default-graph-uri`` and
        ``named-graph-uri`` built from the named graphs of the TriG dump (an unknown IRI is an empty graph)."""
        if not default_graphs and not named_graphs:
            return self.store
        if self.graphs is None:
            raise QueryError("default-graph-uri and named-graph-uri are not available on this server")
        current = id(self.watch.store)
        key = (current, tuple(sorted(set(default_graphs))), tuple(sorted(set(named_graphs))))
        with self._dataset_lock:
            if key in self._datasets:
                return self._datasets[key]
            layout = self._current_layout()
            store = ox.Store()
            store.bulk_extend([ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                               for iri in key[1] for t in layout.get(iri, [])]
                              + [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(iri))
                                 for iri in key[2] for t in layout.get(iri, [])])
            if len(self._datasets) >= 8:
                self._datasets.pop(next(iter(self._datasets)))
            self._datasets[key] = store
            return store

    def graph_names(self) -> list[str]:
        """The IRIs of the named graphs a request may build its dataset from (none without ``graphs``)."""
        if self.graphs is None:
            return []
        with self._dataset_lock:
            return sorted(self._current_layout())

    def _current_layout(self) -> Mapping[str, list[ox.Triple]]:
        """The layout of the graph now served (made again after a reload); under ``_dataset_lock``."""
        assert self.graphs is not None
        current = id(self.watch.store)
        if self._layout is None or self._layout[0] != current:
            self._layout = (current, self.graphs())
            self._datasets.clear()
        return self._layout[1]

    def _watch_loop(self) -> None:
        while not self._stop_watching.wait(self.config.watch_interval):
            try:
                self.watch.check()
            except ChuzhiError as exc:
                log.error("cannot load the new build (still serving the previous one): %s", exc)
            except Exception as exc:  # the endpoint keeps serving what it has
                log.error("cannot load the new build (still serving the previous one): %r", exc)

    def server_close(self) -> None:
        self._stop_watching.set()
        super().server_close()

    def origin_allowed(self, origin: str) -> bool:
        """Whether a page from ``origin`` may use the endpoint: its own page, or ``allow_origins``."""
        if origin in self.config.allow_origins or "*" in self.config.allow_origins:
            return True
        parts = urllib.parse.urlsplit(origin)
        return parts.scheme == "http" and (parts.hostname or "") in {h.strip("[]") for h in self.hosts} \
            and parts.port == self.server_port

    def _admit_client(self, address: str) -> bool:
        with self._clients_lock:
            held = self._per_client.get(address, 0)
            if held >= self.config.max_per_client:
                return False
            self._per_client[address] = held + 1
            return True

    def _release_client(self, address: str) -> None:
        with self._clients_lock:
            held = self._per_client.get(address, 1) - 1
            if held > 0:
                self._per_client[address] = held
            else:
                self._per_client.pop(address, None)

    def process_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        if not self._admit_client(client_address[0]):
            return self._refuse(request, b"busy: too many connections from your address, try again later\n")
        if not self.connections.acquire(blocking=False):
            self._release_client(client_address[0])
            return self._refuse(request, b"busy: too many connections, try again later\n")
        super().process_request(request, client_address)

    def _refuse(self, request: socket.socket, body: bytes) -> None:
        # answered, not dropped: a short 503 on the fresh connection, then closed
        try:
            request.settimeout(1.0)
            request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                            b"Connection: close\r\nRetry-After: 1\r\nContent-Length: %d\r\n\r\n%s"
                            % (len(body), body))
        except OSError:
            pass
        self.shutdown_request(request)

    def process_request_thread(self, request: socket.socket, client_address: tuple[str, int]) -> None:  # type: ignore[override]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release()
            self._release_client(client_address[0])

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:  # noqa: ARG002 (socketserver's signature)
        import sys

        log.error("%s: connection failed: %r", client_address[0], sys.exc_info()[1])


class SparqlHandler(BaseHTTPRequestHandler):
    """GET/HEAD/POST/OPTIONS ``/sparql``, the query page and its files."""

    server: SparqlServer
    server_version = "chuzhi-graph"
    protocol_version = "HTTP/1.1"
    # keep-alive: headers and body are two writes; with Nagle's algorithm the second waits for
    # the client's delayed ACK (40 ms per answer)
    disable_nagle_algorithm = True

    def setup(self) -> None:
        self.timeout = self.server.config.socket_timeout  # type: ignore[misc]  # each read and write of this connection
        super().setup()
        self._reader = _DeadlineReader(self.connection, self.server.config.socket_timeout)
        self.rfile = io.BufferedReader(self._reader)

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s " + format, self.address_string(), *args)

    def handle_one_request(self) -> None:
        self._sent = False
        self._cors: str | None = None
        self._reader.start()  # the request line and headers, however slowly they come, within one deadline
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # our own failure: a 500 and a one-line log, never a dropped connection
            log.error("%s: internal error on %s: %r", self.address_string(), getattr(self, "requestline", ""), exc)
            self.close_connection = True
            if not self._sent:
                try:
                    self.send_text(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error: see the server's log\n")
                except OSError:
                    pass

    # ------------------------------------------------------------ checks before any work

    def admitted(self) -> bool:
        """Host and Origin checks (DNS rebinding, cross-site pages); False when refused (answered)."""
        self._reader.stop()
        if len(self.headers.get_all("Host") or []) > 1:
            self.close_connection = True
            self.send_text(HTTPStatus.BAD_REQUEST, "more than one Host header\n")
            return False
        host = (self.headers.get("Host") or "").strip().lower()
        if host:
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.server.hosts:
                self.send_text(HTTPStatus.FORBIDDEN, f"Host {host!r} is refused: use http://127.0.0.1 or "
                                                     "start serve with --allow-host\n")
                return False
        origin = self.headers.get("Origin")
        if origin is not None:
            if not self.server.origin_allowed(origin):
                self.send_text(HTTPStatus.FORBIDDEN, f"cross-origin request from {origin!r} is refused "
                                                     "(start serve with --allow-origin to allow it)\n")
                return False
            self._cors = origin
        elif (self.headers.get("Sec-Fetch-Site") or "") in ("cross-site", "same-site"):
            self.send_text(HTTPStatus.FORBIDDEN, "cross-site request is refused\n")
            return False
        return True

    def body(self) -> bytes | None:
        """The request body, or None when refused (answered): bad, missing or too large Content-Length."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self.send_text(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length\n")
            return None
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        if not raw.strip().isdigit() or not raw.isascii():
            self.close_connection = True
            self.send_text(HTTPStatus.BAD_REQUEST, "bad Content-Length: not a whole number of bytes\n")
            return None
        length = int(raw)
        if length > MAX_BODY:
            self.close_connection = True
            self.send_text(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request too large (more than {MAX_BODY} bytes)\n")
            self._discard(length)
            return None
        self._reader.start()  # the body: a deadline of its own
        try:
            data = self.rfile.read(length)
        finally:
            self._reader.stop()
        if len(data) < length:
            self.close_connection = True
            return None  # the client went away or stalled past the socket timeout: nobody to answer
        return data

    def _discard(self, length: int) -> None:
        # read what the client still sends (up to 64 MB, within the socket timeout) so that it
        # sees the answer instead of a reset connection
        left = min(length, 64 * 2**20)
        try:
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass

    # ------------------------------------------------------------ methods

    def do_GET(self) -> None:
        if not self.admitted():
            return
        url = urllib.parse.urlsplit(self.path)
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if url.path == "/sparql":
            if "update" in params:
                return self.refuse_update()
            return self.answer(None, params)
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

    do_HEAD = do_GET

    def do_POST(self) -> None:
        if not self.admitted():
            self.close_connection = True
            return
        url = urllib.parse.urlsplit(self.path)
        raw = self.body()
        if raw is None:
            return
        if url.path != "/sparql":
            return self.send_text(HTTPStatus.NOT_FOUND, "not found\n")
        ctype, _, rest = (self.headers.get("Content-Type") or "").partition(";")
        ctype = ctype.strip().lower()
        charset = next((v.strip().strip('"').lower() for k, _, v in (p.partition("=") for p in rest.split(";"))
                        if k.strip().lower() == "charset"), "utf-8")
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if ctype == "application/sparql-update":
            return self.refuse_update()
        if ctype not in ("application/sparql-query", "application/x-www-form-urlencoded") and (raw or ctype):
            return self.send_text(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"unsupported Content-Type {ctype!r}: send "
                                  "application/sparql-query or application/x-www-form-urlencoded\n")
        if charset not in ("utf-8", "utf8"):
            return self.send_text(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"unsupported charset {charset!r}: send UTF-8\n")
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return self.send_text(HTTPStatus.BAD_REQUEST, "the body is not UTF-8\n")
        if ctype == "application/sparql-query":
            return self.answer(body, params)
        form = urllib.parse.parse_qs(body, keep_blank_values=True)
        if "update" in form or "update" in params:
            return self.refuse_update()
        for key, values in form.items():
            params.setdefault(key, []).extend(values)
        return self.answer(None, params)

    def do_OPTIONS(self) -> None:
        if not self.admitted():
            return
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Allow", "GET, HEAD, POST, OPTIONS")
        if self._cors:
            self.send_header("Access-Control-Allow-Origin", self._cors)
            self.send_header("Vary", "Origin")
            self.send_header("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Content-Type, Accept")
            self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_PUT(self) -> None:
        if self.admitted() and self.body() is not None:
            self.refuse_update()

    do_DELETE = do_PUT
    do_PATCH = do_PUT

    # ------------------------------------------------------------ helpers

    def refuse_update(self) -> None:
        self.send_text(HTTPStatus.FORBIDDEN, "updates are refused: this endpoint is read-only\n")

    def answer(self, text: str | None, params: dict[str, list[str]]) -> None:
        """Answer ``query`` (or a direct POST body ``text``) or a shipped ``question`` by name."""
        config = self.server.config
        texts = ([text] if text is not None else []) + params.get("query", [])
        questions = params.get("question", [])
        if len(texts) + len(questions) > 1:
            return self.send_text(HTTPStatus.BAD_REQUEST, "give one query (or one question), not several\n")
        formats = params.get("format", []) + params.get("output", [])
        accept = self.headers.get("Accept") or ""
        if not texts and not questions:
            if self.command in ("GET", "HEAD"):  # the endpoint itself: its service description
                return self.describe(accept, formats)
            return self.send_text(HTTPStatus.BAD_REQUEST, "missing the query parameter\n")
        if all(choose(accept, kind, formats) is None for kind in ("select", "graph")):
            return self.not_acceptable(accept)
        try:
            # a question asked by name enforces its declared parameters; protocol text binds its own
            query = texts[0] if texts else (shipped_query(questions[0]) or _raise(unknown_query(questions[0])))
            # param=NAME=VALUE (the page's parameter form): bound like `query --param`
            bindings = parse_params(params.get("param", []))
            store = self.server.dataset(params.get("default-graph-uri", []), params.get("named-graph-uri", []))
            with self.server.lanes.ticket(query if isinstance(query, str) else query.text) as ticket:
                result = run_query(store, query, bindings, timeout=config.timeout, max_rows=config.max_rows,
                                   memory=config.max_memory, ticket=ticket, require=not texts)
        except Busy as exc:
            return self.send_text(HTTPStatus.SERVICE_UNAVAILABLE, f"{exc}\n", {"Retry-After": "1"})
        except WorkerFailed as exc:
            log.error("%s: %s", self.address_string(), exc)
            return self.send_text(HTTPStatus.INTERNAL_SERVER_ERROR, f"{exc}\n")
        except QueryError as exc:
            return self.send_text(HTTPStatus.BAD_REQUEST, f"{exc}\n")
        size = len(result.rows) if result.kind == "select" else len(result.triples)
        if size > config.max_rows:  # reading stopped at the first row past the limit
            return self.send_text(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                  f"the result has more than {config.max_rows} rows: add a LIMIT\n")
        fmt = choose(accept, result.kind, formats)
        if fmt is None:
            return self.not_acceptable(accept)
        # escape=formulas (the page's downloads): CSV/TSV cells a spreadsheet would run get a leading '
        self.send_result(result, fmt, escape="formulas" in params.get("escape", []))

    def describe(self, accept: str, formats: list[str]) -> None:
        """The SPARQL 1.1 Service Description of this endpoint, in the RDF format the client asks for."""
        fmt = choose(accept, "graph", formats)
        if fmt is None:
            return self.not_acceptable(accept)
        local = self.connection.getsockname()  # an HTTP/1.0 client may send no Host
        host = self.headers.get("Host") or f"{local[0]}:{local[1]}"
        triples = service_description(f"http://{host}/sparql", self.server.graph_names())
        self.send_result(QueryResult("graph", triples=triples), fmt)

    def not_acceptable(self, accept: str) -> None:
        self.send_text(HTTPStatus.NOT_ACCEPTABLE, f"cannot answer in any type of Accept: {accept[:200]!r} "
                       f"(results: {described('select')}; graphs: {described('graph')})\n")

    def send_result(self, result: QueryResult, fmt: str, *, escape: bool = False) -> None:
        body = format_result(result, fmt, escape=escape).encode("utf-8")
        self.send_body(HTTPStatus.OK, body, f"{media_type(fmt, result.kind)}; charset=utf-8")

    def send_static(self, name: str) -> None:
        folder = resources.files("chuzhi_graph") / "static" / "sparql"
        if "/" in name or name.startswith(".") or Path(name).suffix not in STATIC_TYPES:
            return self.send_text(HTTPStatus.NOT_FOUND, "not found\n")
        item = folder / name
        if not item.is_file():
            return self.send_text(HTTPStatus.NOT_FOUND, "not found\n")
        self.send_body(HTTPStatus.OK, item.read_bytes(), f"{STATIC_TYPES[Path(name).suffix]}; charset=utf-8")

    def send_text(self, status: HTTPStatus, text: str, headers: dict[str, str] | None = None) -> None:
        self.send_body(status, text.encode("utf-8"), "text/plain; charset=utf-8", headers)

    def send_body(self, status: HTTPStatus, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self._sent = True
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Frame-Options", "DENY")
        if self._cors:
            self.send_header("Access-Control-Allow-Origin", self._cors)
            self.send_header("Vary", "Origin")
        note = self.server.watch.note()
        if note:
            self.send_header("X-Chuzhi-Graph", note)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        # headers and body in one write: one segment and one wake-up of the client instead of two
        # HTTP/0.9 has no headers (no buffer): the body alone, as end_headers does
        buffer: list[bytes] = getattr(self, "_headers_buffer", [])
        if self.request_version != "HTTP/0.9":
            buffer.append(b"\r\n")
        if self.command != "HEAD":
            buffer.append(body)
        self.wfile.write(b"".join(buffer))
        buffer.clear()


def _raise(exc: Exception) -> NoReturn:
    raise exc


def make_server(out_dir: str | Path, host: str = "127.0.0.1", port: int = 7070,
                config: ServeConfig | None = None,
                graphs: Callable[[], Mapping[str, list[ox.Triple]]] | None = None) -> SparqlServer:
    """A ready server over the build in ``out_dir`` (``port=0``: any free port; see ``server_port``).

    ``graphs``: the named-graph layout of the build (graph IRI -> triples, the CLI passes
    ``Release.open(out_dir).layout``) for ``default-graph-uri``/``named-graph-uri``.

    >>> server = make_server("out", port=0)
    >>> server.server_port > 0
    True
    >>> server.server_close()
    """
    watch = StoreWatch(release_home(find_dump(out_dir)))
    # the query workers run the SERVICE check (rdflib's parser); imported once here, their forks have it
    import rdflib.plugins.sparql.parser  # noqa: F401

    if not network_is_denied():
        log.warning("libseccomp is missing: query workers are not walled off the network "
                    "(SERVICE is still refused on the parsed query)")
    try:
        return SparqlServer((host, port), watch, config or ServeConfig(), graphs)
    except OSError as exc:
        raise EnvironmentProblem(f"cannot listen on {host}:{port}: {exc.strerror}") from None
