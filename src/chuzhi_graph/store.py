"""The embedded SPARQL store: a persistent pyoxigraph store beside the build's dumps.

>>> store = open_store("out")                                   # doctest: +SKIP
>>> len(store) > 0                                              # doctest: +SKIP
True

The store lives in ``out_dir/store/db`` (RocksDB). ``out_dir/store/dump.json`` records the
SHA-256 (and size and mtime) of the dump it was loaded from; when ``chuzhi.nt`` changes, the
next :func:`open_store` empties the store and bulk-loads the new dump. After a load the store
writes a checkpoint ``out_dir/store/snapshot-HASH/`` (hard links) that nobody writes: query
worker processes and other processes open it read-only. Opening is cached per process, and falls
back to that read-only snapshot when another process (``serve``) holds the write lock and the
store is current.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
from pathlib import Path

import pyoxigraph as ox

from chuzhi_graph.errors import EnvironmentProblem, NotBuiltError

log = logging.getLogger(__name__)

STORE_DIR = "store"
#: Dumps the store can load, preferred first (N-Triples parses fastest).
DUMPS = (("chuzhi.nt", ox.RdfFormat.N_TRIPLES), ("chuzhi.ttl", ox.RdfFormat.TURTLE))

_open: dict[Path, ox.Store] = {}
_readers: dict[Path, tuple[str, ox.Store]] = {}
#: id(store) -> (store, read-only snapshot folder, dump hash) of every store opened here; a query
#: worker process opens the snapshot (see chuzhi_graph.query). The store is kept so ids stay unique.
_on_disk: dict[int, tuple[ox.Store, Path, str]] = {}
_lock = threading.Lock()


def store_location(store: ox.Store) -> tuple[Path, str] | None:
    """``(read-only snapshot folder, sha256 of the loaded dump)`` of a store from :func:`open_store`."""
    entry = _on_disk.get(id(store))
    return (entry[1], entry[2]) if entry is not None and entry[0] is store else None


def find_dump(out_dir: str | Path) -> tuple[Path, ox.RdfFormat]:
    """The dump the store is loaded from; :class:`NotBuiltError` (exit 3) if nothing was built yet."""
    out_dir = Path(out_dir)
    for name, fmt in DUMPS:
        if (out_dir / name).is_file():
            return out_dir / name, fmt
    raise NotBuiltError(
        "no built graph to query: run `chuzhi-graph build` first "
        f"(looked for {' or '.join(n for n, _ in DUMPS)})",
        file=out_dir,
    )


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


def open_store(out_dir: str | Path) -> ox.Store:
    """The persistent store of the build in ``out_dir``, (re)loaded if the dump changed.

    >>> store = open_store("out")                                # doctest: +SKIP
    >>> bool(store.query("ASK { ?s a <https://w3id.org/chuzhi/def#Case> }"))  # doctest: +SKIP
    True
    """
    out_dir = Path(out_dir).resolve()
    dump, fmt = find_dump(out_dir)
    folder = out_dir / STORE_DIR
    record = folder / "dump.json"
    with _lock:
        previous = _read_record(record)
        finger = dump_fingerprint(dump, previous)
        current = previous is not None and previous.get("sha256") == finger["sha256"]
        store = _open.get(folder)
        if store is None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                store = ox.Store(str(folder / "db"))
            except OSError as exc:
                if not current:
                    raise EnvironmentProblem(
                        f"cannot open the store for loading (is `chuzhi-graph serve` running?): {exc}",
                        file=folder,
                    ) from None
                # Another process (e.g. `serve`) holds the write lock: read the current snapshot.
                cached = _readers.get(folder)
                if cached is not None and cached[0] == finger["sha256"]:
                    return cached[1]
                snapshot = snapshot_dir(folder, str(finger["sha256"]))
                location = snapshot if snapshot.is_dir() else folder / "db"
                try:
                    reader = ox.Store.read_only(str(location))
                except OSError as exc2:
                    raise EnvironmentProblem(f"cannot open the store: {exc2}", file=folder) from None
                _on_disk[id(reader)] = (reader, location, str(finger["sha256"]))
                _readers[folder] = (str(finger["sha256"]), reader)
                return reader
            _open[folder] = store
        sha = str(finger["sha256"])
        if not current:
            log.info("loading %s into the store %s", dump.name, folder)
            record.unlink(missing_ok=True)  # an interrupted load is redone next time
            store.clear()
            store.bulk_load(path=str(dump), format=fmt)
            store.flush()
            record.write_text(json.dumps(finger, sort_keys=True) + "\n", encoding="utf-8")
        snapshot = snapshot_dir(folder, sha)
        if not snapshot.is_dir():
            _make_snapshot(store, folder, snapshot)
        _on_disk[id(store)] = (store, snapshot, sha)
        return store


def snapshot_dir(folder: Path, sha256: str) -> Path:
    """The read-only snapshot of the store loaded from the dump with this hash."""
    return folder / f"snapshot-{sha256[:16]}"


def _make_snapshot(store: ox.Store, folder: Path, target: Path) -> None:
    # RocksDB may still compact the freshly loaded db in the background, and opening a db
    # read-only while its owner changes it is undefined: readers (query workers, other
    # processes) open this checkpoint instead, which nobody writes (hard links, cheap).
    tmp = folder / f".snapshot-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        store.backup(str(tmp))
        tmp.rename(target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise EnvironmentProblem(f"cannot write the read-only snapshot of the store: {exc}", file=target) from None
    for old in folder.glob("snapshot-*"):
        if old != target:
            shutil.rmtree(old, ignore_errors=True)


def memory_store(out_dir: str | Path) -> ox.Store:
    """An in-memory store of the dump in ``out_dir`` (for tests and benchmarks).

    >>> len(memory_store("out")) > 0                             # doctest: +SKIP
    True
    """
    dump, fmt = find_dump(out_dir)
    store = ox.Store()
    store.bulk_load(path=str(dump), format=fmt)
    return store
