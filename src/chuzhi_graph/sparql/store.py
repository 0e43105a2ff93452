"""The embedded SPARQL store: a persistent pyoxigraph store beside the build's dumps.

>>> store = open_store("out")
>>> len(store) > 0
True

The store lives in ``out_dir/store/db`` (RocksDB). ``out_dir/store/dump.json`` records the
SHA-256 (and size and mtime) of the dump it was loaded from; when ``chuzhi.nt`` changes, the
next :func:`open_store` empties the store and bulk-loads the new dump. After a load the store
writes a checkpoint ``out_dir/store/snapshot-HASH-vN/`` (hard links) that nobody writes: query
worker processes and other processes open it read-only. Opening is cached per process, and falls
back to that read-only snapshot when another process (``serve``) holds the write lock and the
store is current. When that process is loading a new dump (or is about to: ``serve`` checks every
second), :func:`open_store` waits for its snapshot instead of failing, within ``timeout``.

``build`` calls :func:`refresh_store` at its end, so that the first query after a build does not
pay the load. :class:`StoreWatch` is the store of a long-running process (``serve``): it notices a
new build and loads it while the previous snapshot keeps answering, then switches at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path

import pyoxigraph as ox

from chuzhi_graph.core.dump import find_dump, format_of, rdf_format, release_home
from chuzhi_graph.errors import EnvironmentProblem, NotBuiltError, OutputError, QueryError

#: How long :func:`open_store` waits for another process's load when no timeout is given.
DEFAULT_WAIT = 300.0
#: The layout of a loaded store, recorded with the dump's hash: a store recorded under an older
#: layout is loaded again (2: compacted after the load).
STORE_VERSION = 2
_POLL = 0.1

log = logging.getLogger(__name__)

STORE_DIR = "store"

_open: dict[Path, ox.Store] = {}
_readers: dict[Path, tuple[str, ox.Store]] = {}
#: id(store) -> (store, read-only snapshot folder, dump hash) of every store opened here; a query
#: worker process opens the snapshot (see chuzhi_graph.sparql.query). The store is kept so ids stay unique.
_on_disk: dict[int, tuple[ox.Store, Path, str]] = {}
_lock = threading.Lock()


def store_location(store: ox.Store) -> tuple[Path, str] | None:
    """``(read-only snapshot folder, sha256 of the loaded dump)`` of a store from :func:`open_store`."""
    entry = _on_disk.get(id(store))
    return (entry[1], entry[2]) if entry is not None and entry[0] is store else None


def dump_fingerprint(path: Path, previous: dict[str, object] | None = None) -> dict[str, object]:
    """Size, mtime and SHA-256 of ``path``; the hash is reused when size and mtime are unchanged."""
    stat = path.stat()
    finger: dict[str, object] = {"file": path.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    if previous and all(previous.get(k) == finger[k] for k in ("file", "size", "mtime_ns")):
        finger["sha256"] = previous.get("sha256")
        return finger
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    finger["sha256"] = digest.hexdigest()
    return finger


def _read_record(record: Path) -> dict[str, object] | None:
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def open_store(out_dir: str | Path, timeout: float | None = None, *, wait: bool = True) -> ox.Store:
    """The persistent store of the build in ``out_dir``, (re)loaded if the dump changed.

    ``timeout`` bounds the whole call: a load of our own, or the wait for another process that
    holds the store and loads the new dump (:class:`QueryError` when it runs out). ``wait=False``:
    do not wait for another process (:class:`EnvironmentProblem` at once).

    >>> store = open_store("out")
    >>> bool(store.query("ASK { ?s a <https://w3id.org/chuzhi/def#Case> }"))
    True
    """
    started = time.monotonic()
    limit = timeout if timeout is not None else DEFAULT_WAIT
    dump = find_dump(Path(out_dir).resolve())  # `current` resolved once: the dump of one build
    fmt = rdf_format(format_of(dump))
    folder = release_home(dump) / STORE_DIR  # beside the builds: one store per graph folder
    record = folder / "dump.json"
    with _lock:
        previous = _read_record(record)
        finger = dump_fingerprint(dump, previous)
        sha = str(finger["sha256"])
        while True:
            current = (previous is not None and previous.get("sha256") == sha
                       and previous.get("version") == STORE_VERSION)
            store = _open.get(folder)
            if store is not None:
                break
            try:
                folder.mkdir(parents=True, exist_ok=True)
                store = ox.Store(str(folder / "db"))
            except OSError as exc:
                # Another process (e.g. `serve`) holds the write lock: read its snapshot of this
                # dump, or wait while it loads the dump and writes the snapshot. Never open its
                # live db: a reader of a db its owner is still writing (the load, then RocksDB's
                # compaction) can find the MANIFEST half-written.
                snapshot = snapshot_dir(folder, sha)
                if snapshot.is_dir():
                    return _reader(folder, snapshot, sha)
                if not _writable(folder):
                    raise OutputError(f"the graph folder is read-only ({exc.strerror or exc}): a query writes "
                                      f"its store in {STORE_DIR}/ there; query a writable copy",
                                      file=folder.parent) from None
                if not wait:
                    raise EnvironmentProblem(f"another process holds the store: {exc}", file=folder) from None
                if time.monotonic() - started + _POLL > limit:
                    raise _waited_too_long(folder, timeout, exc) from None
                time.sleep(_POLL)
                previous = _read_record(record)
                continue
            _open[folder] = store
            break
        if not current:
            _load(store, dump, fmt, record, finger, None if timeout is None else started + timeout)
        snapshot = snapshot_dir(folder, sha)
        if not snapshot.is_dir():
            _make_snapshot(store, folder, snapshot, keep=store_location(store))
        _on_disk[id(store)] = (store, snapshot, sha)
        return store


def _writable(folder: Path) -> bool:
    """Whether this process may write ``folder`` (or create it): False on a read-only mount, an
    immutable folder (``chattr +i``) or missing permissions, which no wait for another process cures."""
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return os.access(folder, os.W_OK)


def _reader(folder: Path, location: Path, sha: str) -> ox.Store:
    cached = _readers.get(folder)
    if cached is not None and cached[0] == sha:
        return cached[1]
    try:
        reader = ox.Store.read_only(str(location))
    except OSError as exc:
        raise EnvironmentProblem(f"cannot open the store: {exc}", file=folder) from None
    _on_disk[id(reader)] = (reader, location, sha)
    _readers[folder] = (sha, reader)
    return reader


def _waited_too_long(folder: Path, timeout: float | None, exc: OSError) -> Exception:
    if timeout is not None:
        return QueryError(f"another process holds the store and had not loaded the new build when the timeout "
                          f"of {timeout:g} s ran out (raise it with --timeout)", file=folder)
    return EnvironmentProblem(f"another process holds the store and did not load the new build within "
                              f"{DEFAULT_WAIT:g} s (is an old `chuzhi-graph serve` running?): {exc}", file=folder)


def _load(store: ox.Store, dump: Path, fmt: ox.RdfFormat, record: Path, finger: dict[str, object],
          deadline: float | None) -> None:
    """Empty the store and bulk-load ``dump``; :class:`QueryError` if ``deadline`` passes first."""
    log.info("loading %s into the store %s", dump.name, record.parent)
    record.unlink(missing_ok=True)  # an interrupted load is redone next time

    def work() -> None:
        store.clear()
        if fmt in (ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS):  # the queries read the default graph: the union
            store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object) for q in ox.parse(path=str(dump), format=fmt))
        else:
            store.bulk_load(path=str(dump), format=fmt)
        store.flush()
        # compact the bulk-loaded files into one sorted run per level: index look-ups and string
        # reads touch fewer files (at 100,000 cases 5 s more per load; domain-cases 1.28 → 0.80 s)
        store.optimize()

    if deadline is None:
        work()
    else:
        # the engine releases the GIL while loading: wait with the deadline, and if it passes
        # leave the loader behind (the command exits; the next open reloads)
        box: dict[str, BaseException] = {}

        def guarded() -> None:
            try:
                work()
            except BaseException as exc:  # handed to the waiting caller
                box["error"] = exc

        loader = threading.Thread(target=guarded, name="store-load", daemon=True)
        loader.start()
        loader.join(max(0.0, deadline - time.monotonic()))
        if loader.is_alive():
            _open.pop(record.parent, None)  # half loaded: nobody here may use it
            raise QueryError("loading the new build into the store took longer than the timeout "
                             "(raise it with --timeout; the next query loads it again)", file=dump)
        if "error" in box:
            raise box["error"]
    record.write_text(json.dumps({**finger, "version": STORE_VERSION}, sort_keys=True) + "\n", encoding="utf-8")


def refresh_store(out_dir: str | Path) -> bool:
    """Load the store of a fresh build now (``build`` calls it); False if another process holds it.

    That process (``serve``) notices the new dump itself; a later query waits for it.
    """
    try:
        open_store(out_dir, wait=False)
    except (QueryError, NotBuiltError, EnvironmentProblem) as exc:
        log.info("the store is not refreshed now: %s", exc)
        return False
    return True


def snapshot_dir(folder: Path, sha256: str) -> Path:
    """The read-only snapshot of the store loaded from the dump with this hash (in this layout)."""
    return folder / f"snapshot-{sha256[:16]}-v{STORE_VERSION}"


def _make_snapshot(store: ox.Store, folder: Path, target: Path, keep: tuple[Path, str] | None = None) -> None:
    # RocksDB may still compact the freshly loaded db in the background, and opening a db
    # read-only while its owner changes it is undefined: readers (query workers, other
    # processes) open this checkpoint instead, which nobody writes (hard links, cheap).
    tmp = folder / f".snapshot-{os.getpid()}"
    for left in folder.glob(".snapshot-*"):  # of killed loads: only the store's holder (us) makes them
        shutil.rmtree(left, ignore_errors=True)
    try:
        store.backup(str(tmp))
        tmp.rename(target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise EnvironmentProblem(f"cannot write the read-only snapshot of the store: {exc}", file=target) from None
    # the previous snapshot stays one round: workers of `serve` may still be answering from it
    for old in folder.glob("snapshot-*"):
        if old != target and (keep is None or old != keep[0]):
            shutil.rmtree(old, ignore_errors=True)


class StoreWatch:
    """The store of a build folder for a long-running process: a new build is loaded, then switched to.

    :meth:`check` (``serve`` calls it every second) compares the dump's size, mtime and inode with
    the ones loaded; on a change it reloads the store in the calling thread. Query workers keep
    answering from the previous snapshot until the new one is written, then the next query takes
    the new one: no query sees a half-loaded graph. :meth:`note` says which graph answers meanwhile.
    """

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self._seen = self._stat()
        self.store = open_store(self.out_dir)
        self.loading = False

    def _stat(self) -> tuple[int, int, int]:
        stat = find_dump(self.out_dir).stat()
        return stat.st_size, stat.st_mtime_ns, stat.st_ino

    def check(self) -> bool:
        """Load a new build if there is one; True when the graph was switched."""
        try:
            seen = self._stat()
        except (QueryError, NotBuiltError, OSError):
            return False  # between a build's renames: look again next time
        if seen == self._seen:
            return False
        self.loading = True
        log.warning("a new build in %s: loading it; answering from the previous one meanwhile", self.out_dir)
        try:
            self.store = open_store(self.out_dir)
        finally:
            self.loading = False
        self._seen = seen
        log.warning("now answering from the new build in %s", self.out_dir)
        return True

    def note(self) -> str:
        """``previous-build; loading the new one`` while a new build loads, else empty."""
        return "previous-build; loading the new one" if self.loading else ""
