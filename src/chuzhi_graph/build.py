"""The build: records -> checked -> mapped -> validated -> byte-stable dumps.

>>> result = build("data", "out")                      # doctest: +SKIP
>>> result.files["ttl"].name, result.triples > 0        # doctest: +SKIP
('chuzhi.ttl', True)

Outputs in ``out_dir`` (all written atomically, only after validation succeeded):

- ``chuzhi.ttl``: Turtle, subjects sorted, fixed predicate order, stable blank-node labels;
- ``chuzhi.nt``: N-Triples, lines sorted (``sort``-able, ``diff``-able);
- ``chuzhi.jsonld`` and ``chuzhi.context.jsonld``: JSON-LD and its context;
- ``void.ttl``: VoID/DCAT description of the dataset (title, licence, sources, counts).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from chuzhi_graph import __version__
from chuzhi_graph.errors import DataError
from chuzhi_graph.fileio import AtomicFiles
from chuzhi_graph.mapping import Iris, map_dataset
from chuzhi_graph.namespace import DEFAULT_BASE, PREFIXES
from chuzhi_graph.records import Dataset, load_dataset
from chuzhi_graph.validate import check

log = logging.getLogger(__name__)

DUMP_NAME = "chuzhi"
FORMATS = ("ttl", "nt", "jsonld")
LICENSE = "https://creativecommons.org/licenses/by/4.0/"


@dataclass
class BuildResult:
    """What a build wrote and counted."""

    out_dir: Path
    files: dict[str, Path]
    triples: int
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)


def data_prefixes(base: str) -> dict[str, str]:
    """Prefixes for dumps: the vocabularies plus one per kind of data IRI."""
    prefixes = dict(PREFIXES)
    for name, path in (
        ("case", "case/"),
        ("unit", "unit/"),
        ("edition", "edition/"),
        ("awcat", "award-category/"),
        ("region", "region/"),
        ("domain", "domain/"),
        ("utype", "unit-type/"),
        ("track", "track/"),
        ("source", "source/"),
    ):
        prefixes[name] = base + path
    return prefixes


def check_base(base: str) -> str:
    """Refuse a base IRI that would make invalid or unstable IRIs."""
    try:
        ox.NamedNode(base + "x")
    except ValueError as exc:
        raise DataError(f"invalid base IRI {base!r}: {exc}", field="--base") from None
    if not base.startswith(("http://", "https://")) or not base.endswith(("/", "#")):
        raise DataError(f"base IRI must be http(s) and end with '/' or '#': {base!r}", field="--base")
    return base


def to_rdflib(triples: list[ox.Triple]) -> Graph:
    """An rdflib graph of the triples (through N-Triples: exact, and fast enough for validation)."""
    graph = Graph()
    graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return graph


def serialize_ntriples(triples: list[ox.Triple]) -> bytes:
    """Sorted N-Triples: one line per triple, in byte order."""
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    lines = data.splitlines(keepends=True)
    lines.sort()
    return b"".join(lines)


def counts_of(dataset: Dataset) -> dict[str, int]:
    return {
        "cases": len(dataset.cases),
        "units": len(dataset.units),
        "applicants": len(dataset.applicant_units()),
        "editions": len(dataset.editions),
        "domains": len(dataset.vocabulary.domains),
        "regions": len(dataset.regions),
    }


def build(
    data_dir: str | Path = "data",
    out_dir: str | Path = "out",
    base: str = DEFAULT_BASE,
    *,
    ontology_dir: str | Path | None = None,
    formats: tuple[str, ...] = FORMATS,
    validate: bool = True,
    created: str | None = None,
) -> BuildResult:
    """Read, map, validate and write the dumps; nothing is written unless all succeeds."""
    check_base(base)
    out_dir = Path(out_dir)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    dataset = load_dataset(data_dir, ontology_dir=ontology_dir)
    timings["read"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    triples = map_dataset(dataset, base)
    timings["map"] = time.perf_counter() - t0

    graph: Graph | None = None
    if validate:
        t0 = time.perf_counter()
        from chuzhi_graph.validate import shapes_graph

        graph = to_rdflib(triples)
        check(graph, shapes_graph(ontology_dir))
        timings["validate"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    prefixes = data_prefixes(base)
    files: dict[str, Path] = {}
    with AtomicFiles() as atomic:
        for fmt in formats:
            target = out_dir / f"{DUMP_NAME}.{fmt}"
            tmp = atomic.path(target)
            if fmt == "ttl":
                ox.serialize(triples, str(tmp), ox.RdfFormat.TURTLE, prefixes=prefixes)
            elif fmt == "nt":
                tmp.write_bytes(serialize_ntriples(triples))
            elif fmt == "jsonld":
                graph = graph if graph is not None else to_rdflib(triples)
                tmp.write_text(jsonld_text(graph, prefixes), encoding="utf-8")
                context = out_dir / f"{DUMP_NAME}.context.jsonld"
                atomic.path(context).write_text(
                    json.dumps({"@context": prefixes}, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                    encoding="utf-8",
                )
                files["context"] = context
            else:
                raise DataError(f"unknown output format {fmt!r} (known: {', '.join(FORMATS)})", field="--format")
            files[fmt] = target
        counts = counts_of(dataset)
        void = out_dir / "void.ttl"
        void_triples = dataset_description(dataset, base, len(triples), counts, files, atomic, created)
        ox.serialize(void_triples, str(atomic.path(void)), ox.RdfFormat.TURTLE, prefixes=prefixes)
        files["void"] = void
    timings["write"] = time.perf_counter() - t0
    log.info("built %d triples from %d cases into %s", len(triples), counts["cases"], out_dir)
    return BuildResult(out_dir, files, len(triples), counts, timings)


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


def dataset_description(
    dataset: Dataset,
    base: str,
    n_triples: int,
    counts: dict[str, int],
    files: dict[str, Path],
    atomic: AtomicFiles,
    created: str | None,
) -> list[ox.Triple]:
    """VoID and DCAT triples describing the dataset and its distributions."""
    from chuzhi_graph.mapping import RDF_TYPE, TITLE, en, typed, zh
    from chuzhi_graph.namespace import ox_iri

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
        ox.Triple(ds, ox_iri("dct:created"), typed(release_date(dataset, created), "date")),
        ox.Triple(ds, ox_iri("dct:conformsTo"), nn("https://w3id.org/chuzhi/def")),
        ox.Triple(ds, ox_iri("void:vocabulary"), nn("https://w3id.org/chuzhi/def#")),
        ox.Triple(ds, ox_iri("void:uriSpace"), ox.Literal(base)),
        ox.Triple(ds, ox_iri("void:triples"), typed(n_triples, "integer")),
        ox.Triple(ds, ox_iri("dct:hasVersion"), ox.Literal(__version__)),
        ox.Triple(ds, ox_iri("prov:wasGeneratedBy"), ox.Literal(f"chuzhi-graph {__version__}")),
    ]
    for src in sorted(dataset.sources, key=lambda s: s.id):
        t.append(ox.Triple(ds, ox_iri("dct:source"), iris.source(src.id)))
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
    media = {"ttl": "text/turtle", "nt": "application/n-triples", "jsonld": "application/ld+json"}
    for fmt, path in sorted(files.items()):
        if fmt not in media:
            continue
        dist = nn(f"{base}dataset/{path.name}")
        t += [
            ox.Triple(ds, ox_iri("dcat:distribution"), dist),
            ox.Triple(dist, RDF_TYPE, ox_iri("dcat:Distribution")),
            ox.Triple(dist, TITLE, ox.Literal(path.name)),
            ox.Triple(dist, ox_iri("dcat:mediaType"), ox.Literal(media[fmt])),
            ox.Triple(dist, ox_iri("dcat:downloadURL"), nn(f"{base}dataset/{path.name}")),
            ox.Triple(ds, ox_iri("void:dataDump"), dist),
        ]
    t.sort(key=lambda tr: (tr.subject.value, tr.predicate.value, str(tr.object)))
    return t


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
