"""The build: records -> checked -> mapped -> validated -> byte-stable dumps.

>>> result = build("data", "out")
>>> result.files["ttl"].name, result.triples > 0
('chuzhi.ttl', True)

Outputs in ``out_dir`` (written into a build folder of their own, ``out_dir/builds/NNNNNN/``,
made current by one rename of the link ``out_dir/current`` only when all, the HTML views
included, succeeded; ``out_dir/NAME`` is a link to ``current/NAME``; outputs of an earlier
build that this one does not write are removed; one build at a time per folder):

- ``chuzhi.ttl``: Turtle, subjects sorted, fixed predicate order, stable blank-node labels;
- ``chuzhi.nt``: N-Triples, lines sorted (``sort``-able, ``diff``-able);
- ``chuzhi.jsonld`` and ``chuzhi.context.jsonld``: JSON-LD and its context;
- ``void.ttl``: VoID/DCAT description of the dataset (title, licence, sources, counts);
- ``build.json``: the build record (:func:`build_record`): version, base, dates, validation,
  counts, the dumps' checksums, the source documents and the checksums of every input file:
  what ``publish -g`` needs besides the dumps (``docs/publish.md``, "The build record");
- with ``views=True``: ``institutions.html``, ``cases.html``, ``domains.html``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import astuple, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import cast

import pyoxigraph as ox
from rdflib import Graph

from chuzhi_graph import __version__
from chuzhi_graph import formats as registry
from chuzhi_graph.core.dump import BUILD_FILE, BUILD_RECORD_FORMAT, to_rdflib
from chuzhi_graph.core.fileio import AtomicFiles, FolderLock, StagedFolder
from chuzhi_graph.core.namespace import DEFAULT_BASE, PREFIXES, data_prefixes
from chuzhi_graph.core.progress import advance, counted, step
from chuzhi_graph.core.vocabulary import VOCABULARY_FILES
from chuzhi_graph.core.vocabulary import ontology_dir as resolve_ontology_dir
from chuzhi_graph.errors import DataError, UsageError
from chuzhi_graph.graph.mapping import Iris, case_blocks, map_dataset, other_blocks, paused_gc, serialized
from chuzhi_graph.graph.validate import check
from chuzhi_graph.records.budget import check_budget
from chuzhi_graph.records.tables import TABLES, Case, Dataset, load_dataset
from chuzhi_graph.sparql.store import refresh_store

log = logging.getLogger(__name__)

DUMP_NAME = "chuzhi"
CONTEXT_FILE = f"{DUMP_NAME}.context.jsonld"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
#: IANA media types as IRIs (DCAT 2: dcat:mediaType ranges over dct:MediaType)
MEDIA_TYPE_IRI = "https://www.iana.org/assignments/media-types/"
#: the vocabularies whose terms the dump uses (void:vocabulary); tests/test_ontology.py checks the list
VOCABULARIES = ("chz", "dct", "org", "owl", "prov", "rdf", "rdfs", "schema", "skos", "skosxl")



def dump_formats() -> tuple[registry.Format, ...]:
    """The dump formats a build writes: those of the registry with a writer (ttl, nt, jsonld).

    >>> [f.name for f in dump_formats()]
    ['ttl', 'nt', 'jsonld']
    """
    return tuple(f for f in registry.of("dump") if f.writer is not None)


def output_names() -> tuple[str, ...]:
    """Every file a build may write into ``out_dir``: those it does not write this time are removed."""
    return (*(f"{DUMP_NAME}{f.suffix}" for f in dump_formats()), CONTEXT_FILE, "void.ttl", BUILD_FILE,
            "institutions.html", "cases.html", "domains.html")


@dataclass
class BuildResult:
    """What a build wrote and counted."""

    out_dir: Path
    files: dict[str, Path]
    triples: int
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    cached_editions: list[str] = field(default_factory=list)  # editions read from the cache
    dataset: Dataset | None = None  # the records read


def check_base(base: str) -> str:
    """Refuse a base IRI that would make invalid or unstable IRIs."""
    try:
        ox.NamedNode(base + "x")
    except ValueError as exc:
        raise UsageError(f"invalid base IRI {base!r}: {exc}", field="--base") from None
    if not base.startswith(("http://", "https://")) or not base.endswith(("/", "#")):
        raise UsageError(f"base IRI must be http(s) and end with '/' or '#': {base!r}", field="--base")
    return base


def counts_of(dataset: Dataset) -> dict[str, int]:
    return {
        "cases": len(dataset.cases),
        "units": len(dataset.units),
        "applicants": len(dataset.applicant_units()),
        "editions": len(dataset.editions),
        "domains": len(dataset.vocabulary.domains),
        "regions": len(dataset.regions),
    }


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, in hex."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def source_hashes(data_dir: str | Path | None, onto_dir: Path) -> dict[str, str]:
    """SHA-256 of every record file and source document (``data/…``; none for ``data_dir=None``),
    and of the ontology files.

    The keys name the files as in a checkout (``data/cases.csv``, ``ontology/shapes.ttl``) whatever
    the folders are called, so that the same inputs give the same record.
    """
    out = {}
    if data_dir is not None:
        data_dir = Path(data_dir)
        for path in sorted(p for p in data_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
            out["data/" + path.relative_to(data_dir).as_posix()] = sha256_file(path)
    for name in (*VOCABULARY_FILES, "shapes.ttl"):
        if (onto_dir / name).is_file():
            out["ontology/" + name] = sha256_file(onto_dir / name)
    return out


def build_record(dataset: Dataset, data_dir: str | Path, ontology_dir: str | Path | None, base: str,
                 validated: str | None, created: str | None, n_triples: int, files: dict[str, Path],
                 stage: StagedFolder) -> dict[str, object]:
    """What ``build.json`` holds (:class:`chuzhi_graph.core.dump.BuildRecord`): no clock, no path
    outside the build, so the same inputs give the same bytes."""
    stated = created or os.environ.get("SOURCE_DATE_EPOCH")
    dumps = {}
    for path in sorted(files.values(), key=lambda p: p.name):
        staged = stage.path(path)
        dumps[path.name] = {"sha256": sha256_file(staged), "bytes": staged.stat().st_size}
    return {
        "format": BUILD_RECORD_FORMAT,
        "tool": f"chuzhi-graph {__version__}",
        "version": __version__,
        "base": base,
        "created": release_date(dataset, created) if stated else None,
        "date": release_date(dataset, created),
        "validated": validated,
        "counts": {**counts_of(dataset), "triples": n_triples},
        "files": dumps,
        "documents": [{"id": s.id, "title": s.title, "publisher": s.publisher, "issued": s.issued, "url": s.url}
                      for s in dataset.sources],
        "sources": source_hashes(data_dir, resolve_ontology_dir(ontology_dir)),
    }


def write_build_record(target: Path, stage: StagedFolder, record: dict[str, object]) -> Path:
    """``build.json`` into the build folder (UTF-8, keys in the order of :func:`build_record`)."""
    stage.path(target).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return target


#: ``validate=True`` ("auto") runs pySHACL up to this many triples, the compiled shapes above
SHACL_MAX_TRIPLES = 100_000
#: pySHACL also runs with RDFS inference up to this many triples (2.5 s at the 1,940 of 2022)
SHACL_RDFS_MAX_TRIPLES = 20_000
#: the default formats leave out JSON-LD above this many triples (rdflib's writer: minutes)
JSONLD_MAX_TRIPLES = 200_000
VALIDATORS = ("auto", "shacl", "compiled")


def build(
    data_dir: str | Path = "data",
    out_dir: str | Path = "out",
    base: str = DEFAULT_BASE,
    *,
    ontology_dir: str | Path | None = None,
    formats: tuple[str, ...] | None = None,
    validate: bool | str = True,
    created: str | None = None,
    cache: str | Path | None = None,
    views: bool = False,
    wait: float = 0.0,
    allow_empty: bool = False,
    store: bool = True,
    max_memory: int | None = None,  # bytes
) -> BuildResult:
    """Read, map, validate and write the dumps; nothing is written unless all succeeds.

    ``formats``: default :func:`dump_formats`, without JSON-LD above :data:`JSONLD_MAX_TRIPLES` triples.
    ``validate``: ``True``/``"auto"`` (pySHACL up to :data:`SHACL_MAX_TRIPLES` triples, the
    SHACL shapes compiled to a fast checker above), ``"shacl"``, ``"compiled"`` or ``False``.
    ``cache``: a folder where the triples of each edition's cases are kept, keyed by a hash
    of that edition's records; a rebuild maps only the editions whose records changed.
    ``views``: also draw the main HTML views (:func:`chuzhi_graph.views.render.render_main_views`),
    inside the same all-or-nothing write. ``wait``: seconds to wait for another build into
    ``out_dir`` to end; then (at once by default) :class:`~chuzhi_graph.errors.OutputError`.
    ``allow_empty``: build a graph without cases instead of refusing (:class:`DataError`).
    ``store``: load the query store after the write (``publish`` builds into a temporary
    folder and queries its own store, so it skips this). ``max_memory``: see :func:`check_budget`.

    Everything is written into a build folder of its own inside ``out_dir`` and made current by
    one rename at the end (:class:`~chuzhi_graph.core.fileio.StagedFolder`), under a lock on ``out_dir``.

    >>> build("data", "out", validate="compiled", cache="out/.cache").triples > 0
    True
    """
    out_dir = Path(out_dir)
    with FolderLock(out_dir, wait=wait), StagedFolder(out_dir, output_names()) as stage:
        result = _build(data_dir, out_dir, base, ontology_dir=ontology_dir, formats=formats, validate=validate,
                        created=created, cache=cache, stage=stage, max_memory=max_memory)
        if not result.counts["cases"] and not allow_empty:
            cases = next((p for p in (Path(data_dir) / "cases.csv", Path(data_dir) / "cases.xlsx") if p.is_file()),
                         Path(data_dir) / "cases.csv")
            raise DataError("no cases: the table has no rows (to build an empty graph anyway, give --allow-empty)",
                            file=cases)
        if views:
            from chuzhi_graph.views.render import MAIN_VIEWS, render_main_views

            step("interactive graphs", total=len(MAIN_VIEWS), unit="views")
            t0 = time.perf_counter()
            assert stage.staging is not None
            for path in render_main_views(stage.staging, base):
                result.files[path.stem] = out_dir / path.name
            result.seconds["views"] = time.perf_counter() - t0
        stage.commit()
        # after the commit, still under the folder's lock: the store loads the dump just written, so
        # the first query after a build does not pay the load (decisions 0004 and 0010)
        if store:
            _load_store(out_dir, result)
    return result


def _load_store(out_dir: Path, result: BuildResult) -> None:
    step("load the query store")  # one engine call (bulk load, then compaction): its clock
    t0 = time.perf_counter()
    if refresh_store(out_dir):
        result.seconds["store"] = time.perf_counter() - t0


def _build(  # noqa: PLR0915 (the build's steps in their order, each one call: read, map, validate, write, describe)
    data_dir: str | Path,
    out_dir: Path,
    base: str,
    *,
    ontology_dir: str | Path | None,
    formats: tuple[str, ...] | None,
    validate: bool | str,
    created: str | None,
    cache: str | Path | None,
    stage: StagedFolder,
    max_memory: int | None = None,
) -> BuildResult:
    """The build itself: the files go to ``stage`` (see :func:`build`)."""
    check_base(base)
    check_budget(data_dir, list(TABLES), max_memory)
    engine = "auto" if validate is True else validate
    if engine and engine not in VALIDATORS:
        raise UsageError(f"unknown validator {validate!r} (known: {', '.join(VALIDATORS)})", field="--validate")
    out_dir = Path(out_dir)
    timings: dict[str, float] = {}
    with paused_gc():
        t0 = time.perf_counter()
        dataset = load_dataset(data_dir, ontology_dir=ontology_dir)  # its steps: read the tables, check the rows
        timings["read"] = time.perf_counter() - t0

        step("map cases", total=len(dataset.cases), unit="cases")
        t0 = time.perf_counter()
        if cache is not None:
            mapped = _map_segmented(dataset, base, Path(cache))
        else:
            mapped = _Mapped(map_dataset(dataset, base))
        timings["map"] = time.perf_counter() - t0

        nt_lines: list[bytes] | None = None
        graph: Graph | None = None
        if engine == "auto":
            engine = "shacl" if mapped.n_triples <= SHACL_MAX_TRIPLES else "compiled"
        if engine:
            if engine == "shacl":  # pySHACL cannot count: its clock
                step(f"validate {mapped.n_triples} triples (shacl)")
            else:
                step("validate triples (compiled)", total=mapped.n_triples, unit="triples")
            t0 = time.perf_counter()
            from chuzhi_graph.graph.validate import check_ntriples, compile_shapes, shapes_graph

            shapes = shapes_graph(ontology_dir)
            if engine == "shacl":
                graph = mapped.rdflib_graph()
                rdfs = mapped.n_triples <= SHACL_RDFS_MAX_TRIPLES
                check(graph, shapes, inference=("none", "rdfs") if rdfs else ("none",))
            else:
                nt_lines = mapped.nt_lines()
                check_ntriples(nt_lines, compile_shapes(shapes))
            timings["validate"] = time.perf_counter() - t0

        if formats is None:
            formats = tuple(f.name for f in dump_formats()
                            if f.name != "jsonld" or mapped.n_triples <= JSONLD_MAX_TRIPLES)
            if "jsonld" not in formats:
                log.warning("JSON-LD left out: %d triples, above %d (the Turtle and N-Triples dumps hold the graph; "
                            "chuzhi_graph.build.build(formats=...) writes it)", mapped.n_triples, JSONLD_MAX_TRIPLES)
        t0 = time.perf_counter()
        prefixes = data_prefixes(base)
        files: dict[str, Path] = {}
        with nullcontext(stage) as atomic:  # the staging folder is the transaction
            writing = DumpWriting(mapped, prefixes, atomic, out_dir, files, nt_lines, graph)
            for fmt in formats:
                entry = registry.lookup("dump", fmt)
                if entry is None or entry.writer is None:
                    known = ", ".join(f.name for f in dump_formats())
                    raise UsageError(f"unknown output format {fmt!r} (known: {known})", field="--format")
                target = out_dir / f"{DUMP_NAME}{entry.suffix}"
                # the dump writers count the triples they write (rdflib's JSON-LD writer cannot: its clock)
                step(f"write {fmt}", total=None if fmt == "jsonld" else mapped.n_triples,
                     unit="" if fmt == "jsonld" else "triples")
                entry.write(writing, atomic.path(target))
                files[fmt] = target
            step("describe the dataset")
            counts = counts_of(dataset)
            void = out_dir / "void.ttl"
            void_triples = dataset_description(dataset, base, mapped.n_triples, counts, files, atomic, created)
            ox.serialize(void_triples, str(atomic.path(void)), ox.RdfFormat.TURTLE, prefixes=prefixes)
            files["void"] = void
            files["record"] = write_build_record(out_dir / BUILD_FILE, atomic, build_record(
                dataset, data_dir, ontology_dir, base, engine if isinstance(engine, str) else None, created,
                mapped.n_triples, files, atomic))
        timings["write"] = time.perf_counter() - t0
        if isinstance(mapped, _SegmentedMapped):
            mapped.save_cache()
    log.info("built %d triples from %d cases into %s", mapped.n_triples, counts["cases"], out_dir)
    result = BuildResult(out_dir, files, mapped.n_triples, counts, timings, dataset=dataset)
    if isinstance(mapped, _SegmentedMapped):
        result.cached_editions = mapped.hits
    return result


@dataclass
class DumpWriting:
    """What the dump writers of one build share: the mapped graph, and what validation already made of it."""

    mapped: _Mapped
    prefixes: dict[str, str]
    atomic: StagedFolder
    out_dir: Path
    files: dict[str, Path]
    nt_lines: list[bytes] | None = None
    graph: Graph | None = None


def write_turtle(writing: DumpWriting, path: Path) -> None:
    """The ``ttl`` dump writer (registry :mod:`chuzhi_graph.formats`): subjects sorted, stable blank nodes."""
    writing.mapped.write_turtle(path, writing.prefixes)


def write_ntriples(writing: DumpWriting, path: Path) -> None:
    """The ``nt`` dump writer: lines sorted (reusing the lines validation made)."""
    lines = writing.nt_lines if writing.nt_lines is not None else writing.mapped.nt_lines()
    lines.sort()
    with path.open("wb") as fh:
        fh.writelines(counted(lines, 50_000))


def write_jsonld(writing: DumpWriting, path: Path) -> None:
    """The ``jsonld`` dump writer, and its context beside it."""
    if writing.graph is None:
        writing.graph = writing.mapped.rdflib_graph()
    path.write_text(jsonld_text(writing.graph, writing.prefixes), encoding="utf-8")
    context = writing.out_dir / CONTEXT_FILE
    writing.atomic.path(context).write_text(
        json.dumps({"@context": writing.prefixes}, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    writing.files["context"] = context


class _Mapped:
    """The mapped graph as one sorted list of triples."""

    def __init__(self, triples: list[ox.Triple]) -> None:
        self.triples = triples

    @property
    def n_triples(self) -> int:
        return len(self.triples)

    def nt_lines(self) -> list[bytes]:
        return serialized(self.triples, ox.RdfFormat.N_TRIPLES).splitlines(keepends=True)

    def rdflib_graph(self) -> Graph:
        return to_rdflib(self.triples)

    def write_turtle(self, path: Path, prefixes: dict[str, str]) -> None:
        """Turtle in parts of whole subjects, written one after the other: the same bytes as one
        serialisation (as the per-edition cache relies on), and a count to show as it goes."""
        with path.open("wb") as fh:
            for i, part in enumerate(subject_runs(self.triples, TURTLE_PART)):
                data = serialized(part, ox.RdfFormat.TURTLE, prefixes)
                fh.write(data if i == 0 else _turtle_body(data))
                advance(len(part))


@dataclass
class _Segment:
    """The cases of one edition, mapped: Turtle statements (no prefix lines) and N-Triples lines."""

    edition: str
    key: str
    first: str
    last: str
    turtle: bytes
    nt: bytes
    n_triples: int


CACHE_VERSION = "1"


class _SegmentedMapped(_Mapped):
    """The graph as blocks before the cases, one segment per edition, blocks after the cases.

    Subject IRIs of cases share the prefix ``{base}case/``, so all case blocks form one run
    in subject order; when the editions' runs do not overlap, the dumps are the parts
    written one after the other, byte for byte what the unsegmented build writes.
    """

    def __init__(self, before: list[ox.Triple], segments: list[_Segment], after: list[ox.Triple],
                 cache_dir: Path, hits: list[str]) -> None:
        super().__init__([])
        self.before, self.segments, self.after = before, segments, after
        self.cache_dir, self.hits = cache_dir, hits

    @property
    def n_triples(self) -> int:
        return len(self.before) + len(self.after) + sum(s.n_triples for s in self.segments)

    def nt_lines(self) -> list[bytes]:
        lines = serialized(self.before, ox.RdfFormat.N_TRIPLES).splitlines(keepends=True)
        for seg in self.segments:
            lines += seg.nt.splitlines(keepends=True)
        lines += serialized(self.after, ox.RdfFormat.N_TRIPLES).splitlines(keepends=True)
        return lines

    def rdflib_graph(self) -> Graph:
        graph = Graph()
        graph.parse(data=b"".join(self.nt_lines()), format="nt")
        return graph

    def write_turtle(self, path: Path, prefixes: dict[str, str]) -> None:
        head = serialized(self.before, ox.RdfFormat.TURTLE, prefixes)
        tail = serialized(self.after, ox.RdfFormat.TURTLE, prefixes)
        with path.open("wb") as fh:
            fh.write(head)
            advance(len(self.before))
            for seg in self.segments:
                fh.write(seg.turtle)
                advance(seg.n_triples)
            fh.write(_turtle_body(tail) if head else tail)
            advance(len(self.after))

    def save_cache(self) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        for seg in self.segments:
            if seg.edition in self.hits:
                continue
            stem = self.cache_dir / _cache_stem(seg.edition)
            meta = {"key": seg.key, "first": seg.first, "last": seg.last, "triples": seg.n_triples}
            stem.with_suffix(".json").unlink(missing_ok=True)
            for suffix, data in ((".ttl", seg.turtle), (".nt", seg.nt),
                                 (".json", json.dumps(meta).encode())):  # json last: it validates the pair
                tmp = stem.with_suffix(suffix + ".tmp")
                tmp.write_bytes(data)
                os.replace(tmp, stem.with_suffix(suffix))


#: triples per part of the Turtle writer (about 0.1 s each): how often the count moves
TURTLE_PART = 50_000


def subject_runs(triples: list[ox.Triple], size: int) -> Iterator[list[ox.Triple]]:
    """``triples`` (sorted by subject) in parts of about ``size``, each ending with a whole subject.

    >>> a, b, p = ox.NamedNode("http://x/a"), ox.NamedNode("http://x/b"), ox.NamedNode("http://x/p")
    >>> [len(part) for part in subject_runs([ox.Triple(a, p, a), ox.Triple(a, p, b), ox.Triple(b, p, a)], 1)]
    [2, 1]
    """
    start = 0
    while start < len(triples):
        end = min(start + size, len(triples))
        while end < len(triples) and triples[end].subject == triples[end - 1].subject:
            end += 1
        yield triples[start:end]
        start = end


def _cache_stem(edition: str) -> str:
    return "edition-" + edition


def _turtle_body(data: bytes) -> bytes:
    """Turtle as pyoxigraph writes it, without its leading ``@prefix`` lines."""
    start = 0
    while data.startswith(b"@prefix ", start):
        start = data.index(b"\n", start) + 1
    return data[start:]


def edition_key(cases: list[Case], base: str) -> str:
    """Hash of what an edition's case triples depend on: the case records, base and code version."""
    from chuzhi_graph.graph import mapping

    digest = hashlib.sha256()
    digest.update(f"{CACHE_VERSION} {__version__} {base}\n".encode())
    digest.update(hashlib.sha256(Path(mapping.__file__).read_bytes()).digest())
    for case in cases:
        digest.update(repr(astuple(case)[:-1]).encode())  # all fields but the row number
    return digest.hexdigest()


def _map_segmented(dataset: Dataset, base: str, cache_dir: Path) -> _Mapped:
    """Map with the per-edition cache: unchanged editions are read back, not mapped again."""
    by_edition: dict[str, list[Case]] = {}
    for case in dataset.cases:
        by_edition.setdefault(case.edition, []).append(case)
    prefixes = data_prefixes(base)
    segments, hits = [], []
    for edition, cases in by_edition.items():
        key = edition_key(cases, base)
        stem = cache_dir / _cache_stem(edition)
        segment = _load_segment(stem, edition, key)
        if segment is not None:
            hits.append(edition)
            advance(len(cases))
        else:
            blocks = case_blocks(dataset, cases, base)
            triples = [t for _, ts in blocks for t in ts]
            segment = _Segment(
                edition, key, blocks[0][0], blocks[-1][0],
                _turtle_body(serialized(triples, ox.RdfFormat.TURTLE, prefixes)),
                serialized(triples, ox.RdfFormat.N_TRIPLES), len(triples),
            )
        segments.append(segment)
    segments.sort(key=lambda s: s.first)
    if any(a.last >= b.first for a, b in itertools.pairwise(segments)):
        log.info("editions' case IRIs interleave: mapping every case (the cache is not used)")
        step("map cases (all again)", total=len(dataset.cases), unit="cases")
        return _Mapped(map_dataset(dataset, base))
    others = other_blocks(dataset, base)
    prefix = base + "case/"
    before = [t for k, ts in others if k < prefix for t in ts]
    after = [t for k, ts in others if k >= prefix for t in ts]
    log.info("cache: %d of %d editions unchanged", len(hits), len(segments))
    return _SegmentedMapped(before, segments, after, cache_dir, hits)


def _load_segment(stem: Path, edition: str, key: str) -> _Segment | None:
    try:
        meta = json.loads(stem.with_suffix(".json").read_bytes())
        if meta.get("key") != key:
            return None
        return _Segment(edition, key, meta["first"], meta["last"], stem.with_suffix(".ttl").read_bytes(),
                        stem.with_suffix(".nt").read_bytes(), int(meta["triples"]))
    except (OSError, ValueError, KeyError):
        return None


def jsonld_text(graph: Graph, prefixes: dict[str, str]) -> str:
    """Compact JSON-LD with the dataset's context, nodes sorted by ``@id``: byte-stable."""
    data = json.loads(graph.serialize(format="json-ld", context=prefixes, auto_compact=True))
    nodes = data.get("@graph", [data] if "@id" in data else [])
    nodes = [{k: v for k, v in n.items() if k != "@context"} for n in nodes]
    nodes.sort(key=lambda n: str(n.get("@id", "")))
    doc = {"@context": prefixes, "@graph": nodes}
    return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def release_date(dataset: Dataset, created: str | None) -> str:
    """The dataset's date: ``created``, else ``$SOURCE_DATE_EPOCH``, else the newest source date.

    Never the clock, so that the same input gives the same bytes.
    """
    if created:
        return created
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc).date().isoformat()
    dates = sorted(s.issued for s in dataset.sources if s.issued)
    return dates[-1] if dates else "1970-01-01"


def dataset_description(  # long: one VoID/DCAT statement per line, a list to read top to bottom
    dataset: Dataset,
    base: str,
    n_triples: int,
    counts: dict[str, int],
    files: dict[str, Path],
    atomic: AtomicFiles | StagedFolder,  # noqa: ARG001 (unused; kept until the one VoID builder replaces this)
    created: str | None,
) -> list[ox.Triple]:
    """VoID and DCAT triples describing the dataset and its distributions."""
    from chuzhi_graph.core.namespace import ox_iri
    from chuzhi_graph.graph.mapping import RDF_TYPE, TITLE, en, typed, zh

    iris = Iris(base)
    ds = iris.dataset()
    nn = ox.NamedNode
    t = [
        ox.Triple(ds, RDF_TYPE, ox_iri("void:Dataset")),
        ox.Triple(ds, RDF_TYPE, ox_iri("dcat:Dataset")),
        ox.Triple(ds, TITLE, zh("楚治案例知识图谱")),
        ox.Triple(ds, TITLE, en("Chuzhi case knowledge graph")),
        ox.Triple(
            ds,
            ox_iri("dct:description"),
            zh("“楚治”系列评选获奖案例、申报单位、治理领域与行政区划的知识图谱，依据公开新闻稿整理。"),
        ),
        ox.Triple(
            ds,
            ox_iri("dct:description"),
            en(
                "Knowledge graph of the Chuzhi award cases, their applicant units, governance domains "
                "and regions, curated from public press releases."
            ),
        ),
        ox.Triple(ds, ox_iri("dct:license"), nn(LICENSE)),
        ox.Triple(ds, ox_iri("dct:conformsTo"), nn("https://w3id.org/chuzhi/def")),
        ox.Triple(ds, ox_iri("void:uriSpace"), ox.Literal(base)),
        ox.Triple(ds, ox_iri("void:triples"), typed(n_triples, "integer")),
        ox.Triple(ds, ox_iri("dct:hasVersion"), ox.Literal(__version__)),
    ]
    t += [ox.Triple(ds, ox_iri("void:vocabulary"), nn(PREFIXES[v])) for v in VOCABULARIES]
    # the release date only when one is given: the newest source's date is not when the data was made
    if created or os.environ.get("SOURCE_DATE_EPOCH"):
        t.append(ox.Triple(ds, ox_iri("dct:created"), typed(release_date(dataset, created), "date")))
    # the build is an activity that used the source documents and was run by the software
    run, tool = nn(f"{base}dataset/build"), nn(f"{base}dataset/tool/chuzhi-graph-{__version__}")
    t += [
        ox.Triple(ds, ox_iri("prov:wasGeneratedBy"), run),
        ox.Triple(run, RDF_TYPE, ox_iri("prov:Activity")),
        ox.Triple(run, ox_iri("rdfs:label"), en(f"chuzhi-graph {__version__} build")),
        ox.Triple(run, ox_iri("prov:wasAssociatedWith"), tool),
        ox.Triple(tool, RDF_TYPE, ox_iri("prov:SoftwareAgent")),
        ox.Triple(tool, ox_iri("rdfs:label"), ox.Literal(f"chuzhi-graph {__version__}")),
    ]
    for src in sorted(dataset.sources, key=lambda s: s.id):
        t.append(ox.Triple(ds, ox_iri("dct:source"), iris.source(src.id)))
        t.append(ox.Triple(run, ox_iri("prov:used"), iris.source(src.id)))
    for cls, key in (
        ("Case", "cases"),
        ("Unit", "units"),
        ("Edition", "editions"),
        ("Domain", "domains"),
        ("Region", "regions"),
    ):
        part = nn(f"{base}dataset/class/{cls}")
        t += [
            ox.Triple(ds, ox_iri("void:classPartition"), part),
            ox.Triple(part, ox_iri("void:class"), nn("https://w3id.org/chuzhi/def#" + cls)),
            ox.Triple(part, ox_iri("void:entities"), typed(counts[key], "integer")),
        ]
    for fmt, path in sorted(files.items()):
        entry = registry.lookup("dump", fmt)
        if entry is None:  # the context and the description are not distributions
            continue
        dist = nn(f"{base}dataset/{path.name}")
        t += [
            ox.Triple(ds, ox_iri("dcat:distribution"), dist),
            ox.Triple(dist, RDF_TYPE, ox_iri("dcat:Distribution")),
            ox.Triple(dist, TITLE, ox.Literal(path.name)),
            ox.Triple(dist, ox_iri("dcat:mediaType"), nn(MEDIA_TYPE_IRI + entry.media_type)),
            ox.Triple(dist, ox_iri("dcat:downloadURL"), nn(f"{base}dataset/{path.name}")),
            ox.Triple(ds, ox_iri("void:dataDump"), dist),
        ]
    t.sort(key=lambda tr: (cast("ox.NamedNode | ox.BlankNode", tr.subject).value, tr.predicate.value, str(tr.object)))
    return t
