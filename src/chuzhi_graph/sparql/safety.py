"""What keeps a query from reaching the network or eating the machine.

>>> check_query("SELECT * WHERE { ?s ?p ?o }")
True
>>> check_query("SELECT * WHERE { {} .SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
Traceback (most recent call last):
chuzhi_graph.errors.QueryError: inline query, line 1: SERVICE is refused: queries never reach out to other endpoints

Two walls, because pyoxigraph fetches ``SERVICE`` IRIs over HTTP and offers no switch to stop it:

1. :func:`check_query` reads the **parsed** query (rdflib's SPARQL 1.1 parser, the same grammar
   as the W3C recommendation) and refuses a ``SERVICE`` pattern anywhere in it, and any update
   (``INSERT``, ``LOAD``…). It never looks at the text with a pattern: comments, strings, escapes
   (``\\u0023`` is ``#``) and odd spacing (``{} .SERVICE``) are the parser's business. A query
   rdflib cannot parse (a pyoxigraph extension, or a case where the two parsers differ) is not
   refused here, but it may only run behind the second wall (``False`` is returned). One shortcut
   looks at the text, and only to skip the parse: a text in which no spelling of the keyword can
   hide (:func:`keyword_free`: no ``SERVICE`` in any case, no update keyword, no ``\\u`` escape) holds
   no SERVICE pattern and no update, whatever a parser makes of it (the parse was about half of the
   CPU of a cheap query in ``serve``).
2. :func:`deny_network` runs in the forked query worker before it opens the store: a seccomp
   filter (libseccomp through ``pyseccomp``) makes ``socket()`` fail with EAFNOSUPPORT for every family
   but ``AF_UNIX`` (the pipe to the parent is a socket pair made before), and refuses io_uring,
   so neither pyoxigraph's Rust HTTP client nor anything else in the worker can open a connection.

:func:`limit_memory` bounds the worker's address space (``RLIMIT_AS``) by a budget on top of what
it inherited at the fork.
"""

from __future__ import annotations

import errno
import logging
import resource
import signal
import socket
import threading
from functools import lru_cache
from typing import Any

from chuzhi_graph.errors import QueryError

log = logging.getLogger(__name__)

SERVICE_REFUSED = "SERVICE is refused: queries never reach out to other endpoints"
UPDATE_REFUSED = "updates are refused: queries are read-only"
#: How a refused ``socket()`` reads in an engine error (EAFNOSUPPORT: no file operation gives it).
NETWORK_DENIED = "(os error 97)"

_parse_lock = threading.Lock()

#: Longest text the parse check reads (characters); a longer one is not parsed and runs walled.
MAX_PARSED = 100_000
#: Seconds the parse check may take in a query worker before the text is treated as unparsed.
PARSE_SECONDS = 2.0


class _ParseTimeout(Exception):
    """The parse check ran past its deadline (raised by SIGALRM in a worker)."""


def check_query(text: str, source: str = "inline query", deadline: float | None = None) -> bool:
    """Refuse SERVICE and updates in the parsed query; False if rdflib cannot parse it (run it walled).

    A text longer than :data:`MAX_PARSED` is not parsed (False). ``deadline`` (seconds) bounds the
    parse by SIGALRM, so only in the main thread of a process (the query worker); past it, False.
    """
    if len(text) > MAX_PARSED:
        return False
    if keyword_free(text):
        return True
    if deadline is not None and threading.current_thread() is threading.main_thread():
        verdict, line = _timed_verdict(text, deadline)
    else:
        verdict, line = _verdict(text)
    if verdict == "service":
        raise QueryError(SERVICE_REFUSED, file=source, line=line)
    if verdict == "update":
        raise QueryError(UPDATE_REFUSED, file=source)
    return verdict == "ok"


#: Words whose presence (as part of any word, in any case) sends a text to the parser.
_KEYWORDS = ("SERVICE", "INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH")


def keyword_free(text: str) -> bool:
    """Whether ``text`` cannot hold a SERVICE pattern or an update: none of their keywords appears in
    it anywhere, in any case (``ſ`` upper-cased is ``S``), and no ``\\u``/``\\U`` escape could spell one.

    >>> keyword_free("SELECT ?t WHERE { <https://w3id.org/chuzhi/case/x> dct:title ?t }")
    True
    >>> keyword_free("SELECT * { ?s <http://e/service> ?o }"), keyword_free("SELECT * { \\u0053ERVICE <x> {} }")
    (False, False)
    """
    if "\\u" in text or "\\U" in text:
        return False
    upper, folded = text.upper(), text.casefold().upper()
    return not any(word in upper or word in folded for word in _KEYWORDS)


def _timed_verdict(text: str, deadline: float) -> tuple[str, int | None]:
    import rdflib.plugins.sparql.parser  # noqa: F401 (imported before the clock starts: the deadline is the parse's)

    def alarm(signum: int, frame: Any) -> None:  # noqa: ARG001 (signal handler)
        raise _ParseTimeout

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, deadline)
    try:
        return _verdict(text)
    except _ParseTimeout:
        return "unparsed", None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@lru_cache(maxsize=512)
def _verdict(text: str) -> tuple[str, int | None]:
    from rdflib.plugins.sparql.parser import expandUnicodeEscapes, parseQuery, parseUpdate

    with _parse_lock:  # pyparsing's packrat cache is shared by all threads
        try:
            tree: Any = parseQuery(text)
        except _ParseTimeout:
            raise
        except Exception:  # RecursionError too: a deeply nested text is left to the walled worker
            try:
                parseUpdate(text)
            except _ParseTimeout:
                raise
            except Exception:
                return "unparsed", None
            return "update", None
    service = _find(tree, "ServiceGraphPattern")
    if service is None:
        return "ok", None
    # the decision is the parse tree's; the text only places the line in the message
    expanded = expandUnicodeEscapes(text)
    found = expanded.find(str(service.get("service_string") or ""))
    return "service", (expanded.count("\n", 0, found) + 1 if found >= 0 else None)


def _find(node: Any, name: str) -> Any:
    """The first CompValue called ``name`` in an rdflib parse tree, depth first."""
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            if item.name == name:
                return item
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple) or type(item).__name__ == "ParseResults":
            stack.extend(item)
    return None


def deny_network() -> bool:
    """Make ``socket()`` fail (EAFNOSUPPORT) in this process for anything but AF_UNIX; False if not possible.

    Irreversible: only for a forked worker. Threads started afterwards inherit the filter.
    """
    try:
        import pyseccomp as sc
    except (ImportError, RuntimeError, OSError) as exc:  # RuntimeError: libseccomp is missing
        log.warning("query workers can reach the network: no seccomp (%s)", exc)
        return False
    try:
        rules = sc.SyscallFilter(sc.ALLOW)
        rules.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
        rules.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "io_uring_setup")
        rules.load()
    except (OSError, RuntimeError, ValueError) as exc:
        log.warning("query workers can reach the network: seccomp filter refused (%s)", exc)
        return False
    return True


def network_is_denied() -> bool:
    """Whether :func:`deny_network` can work here (libseccomp present)."""
    try:
        import pyseccomp  # noqa: F401
    except (ImportError, RuntimeError, OSError):
        return False
    return True


def address_space() -> int:
    """The virtual memory size of this process in bytes (``/proc/self/statm``), 0 if unknown."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def limit_memory(budget: int) -> None:
    """Let this process grow by at most ``budget`` bytes of address space beyond its size now."""
    limit = address_space() + budget
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def memory_error(budget: int) -> QueryError:
    """The error of a query stopped at its memory limit."""
    return QueryError(f"the query needed more than {budget / 2**20:g} MB of memory and was stopped "
                      "(add a LIMIT or a more selective pattern, or raise it with --max-memory)")


def clean_engine_error(exc: BaseException) -> str:
    """The first line of an engine error, without what a remote server answered."""
    text = str(exc).split("\n", 1)[0]
    text = text.split(" with payload", 1)[0]
    return text[:200]
