"""Publish a release: a static dataset site with dumps, checksums, manifest and docs.

>>> result = publish("data", "out/site")                     # doctest: +SKIP
>>> (result.site / "index.html").is_file(), result.pages > 100   # doctest: +SKIP
(True, True)
>>> result = publish(out_dir="out/site", graph="out")      # the build in out/, data/ not read  # doctest: +SKIP

The site (layout in ``docs/publish.md``) is built in a temporary folder beside the target
and swapped in only when complete, so a failed run leaves the previous site intact. A site
is always written from a build folder and its record (``build.json``,
:class:`chuzhi_graph.core.dump.BuildRecord`): the one ``build`` wrote (``graph``), or one made
from the records into a temporary folder (validated: :func:`chuzhi_graph.build.build` refuses a
graph that breaks the shapes); :func:`check_build` refuses a build that is not what publishing
its records would publish. Every IRI under the base gets ``<path>.html`` and ``<path>.ttl``:
served at the base with an extension rewrite, every IRI of the dataset resolves.

The dump is parsed once, through :class:`chuzhi_graph.release.reader.Release`; the named graphs of
the TriG dump are :func:`chuzhi_graph.release.reader.named_graphs`. Which optional parts a release
has (JSON-LD, the interactive graphs, the changes) is decided in one place, :func:`plan_parts`.
Every page is a Jinja template with autoescaping; Python hands the templates data, never HTML.
Lists and query results are paginated so that no page but the interactive graphs grows
past about 1 MB at 100,000 cases.
"""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from jinja2 import Environment, FileSystemLoader, select_autoescape

from chuzhi_graph import __version__
from chuzhi_graph.build import (
    CONTEXT_FILE,
    DUMP_NAME,
    LICENSE,
    MEDIA_TYPE_IRI,
    build,
    check_base,
    data_prefixes,
    dump_formats,
    sha256_file,
    source_hashes,
)
from chuzhi_graph.core.dump import BuildRecord, read_build_record
from chuzhi_graph.core.faults import kill_point
from chuzhi_graph.core.namespace import CHZ_IRI, DEFAULT_BASE, ONTOLOGY_IRI, PREFIXES, ox_iri
from chuzhi_graph.core.progress import advance, step
from chuzhi_graph.core.vocabulary import ontology_dir
from chuzhi_graph.errors import DataError, OutputError, QueryError, StaleBuildError, UsageError
from chuzhi_graph.graph.mapping import paused_gc
from chuzhi_graph.release.reader import Release, format_of
from chuzhi_graph.site.ontodoc import SHAPES_IRI, ontology_doc, ontology_turtle
from chuzhi_graph.site.search import write_search_index

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parents[1]  # the package folder (templates/, static/)
TEMPLATES = HERE / "templates" / "site"
STATIC = HERE / "static" / "site"
SPDX = "http://spdx.org/rdf/terms#"


def dump_files() -> dict[str, str]:
    """The dumps a release may hold -> media type, in site order: those ``build`` writes, the JSON-LD
    context, the TriG by named graph and the description (names and media types from the format registry).
    """
    names = (*(f"{DUMP_NAME}{f.suffix}" for f in dump_formats()), CONTEXT_FILE, f"{DUMP_NAME}.trig", "void.ttl")
    return {name: format_of(name).media_type for name in names}

#: Rows per page of a list (cases, units, ...) and of a query result; items per section of a resource page.
LIST_PAGE_ROWS = 500
QUERY_PAGE_ROWS = 200
#: Largest result written to a query's CSV/JSON download (an unbound parameterised query can be huge).
QUERY_MAX_ROWS = 100_000
#: Seconds a shipped query may run while publishing; one that takes longer is listed with the
#: command that runs it, not its result (a slow question must not stop or stall a release).
QUERY_BUDGET = 120.0
RESOURCE_ITEMS = 200

RDF_TYPE = ox_iri("rdf:type")
RDF_FIRST, RDF_REST, RDF_NIL = ox_iri("rdf:first"), ox_iri("rdf:rest"), ox_iri("rdf:nil")
_LABEL_PREDICATES = (ox_iri("skos:prefLabel"), ox_iri("rdfs:label"), ox_iri("dct:title"))
#: Names of properties and classes outside the chz: ontology (the ontology's own come from the graph).
OTHER_LABELS = {
    "rdf:type": ("类型", "type"), "skos:prefLabel": ("名称", "name"), "skos:altLabel": ("别名", "alias"),
    "rdfs:label": ("标签", "label"), "dct:title": ("标题", "title"), "skos:notation": ("代码", "notation"),
    "skos:broader": ("上位", "broader"), "skos:narrower": ("下位", "narrower"),
    "skos:inScheme": ("所属体系", "in scheme"), "skos:definition": ("定义", "definition"),
    "org:subOrganizationOf": ("上级单位", "parent organisation"), "prov:wasDerivedFrom": ("来源", "source"),
    "dct:publisher": ("发布者", "publisher"), "dct:issued": ("发布日期", "issued"),
    "dct:description": ("描述", "description"), "dct:source": ("来源", "source"),
    "schema:url": ("网址", "URL"), "dct:license": ("许可", "licence"), "void:triples": ("三元组数", "triples"),
    "void:subset": ("子集", "subset"), "dcat:distribution": ("分发", "distribution"),
    "void:dataDump": ("数据转储", "data dump"), "dcat:byteSize": ("字节数", "bytes"),
    "dcat:mediaType": ("媒体类型", "media type"), "dct:created": ("创建日期", "created"),
    "dct:modified": ("修改日期", "modified"), "void:entities": ("实体数", "entities"),
    "void:class": ("类", "class"), "void:classPartition": ("类划分", "class partition"),
    "dct:identifier": ("标识", "identifier"), "skos:editorialNote": ("编辑注记", "editorial note"),
    "skos:hiddenLabel": ("检索用名", "hidden label"), "dcat:downloadURL": ("下载地址", "download URL"),
    "dcat:landingPage": ("首页", "landing page"), "spdx:checksum": ("校验和", "checksum"),
    "void:sparqlEndpoint": ("SPARQL 端点", "SPARQL endpoint"), "void:vocabulary": ("词表", "vocabulary"),
    "dct:conformsTo": ("遵循", "conforms to"), "dct:language": ("语言", "language"),
    "void:uriSpace": ("IRI 空间", "URI space"), "void:exampleResource": ("示例资源", "example resource"),
    "void:distinctSubjects": ("不同主语数", "distinct subjects"), "dct:temporal": ("时间范围", "temporal"),
}
#: Property order on resource pages (others follow by name).
PROPERTY_ORDER = ("rdf:type", "dct:title", "skos:prefLabel", "skos:altLabel", "skos:notation", "chz:edition",
                  "chz:awardCategory", "chz:listPosition", "chz:applicantList", "chz:leadApplicant",
                  "chz:applicant", "chz:domain", "chz:unitType", "chz:region", "org:subOrganizationOf",
                  "chz:coApplicant", "skos:broader", "chz:year", "chz:track")
#: The list pages: class -> (file stem, zh, en).
@dataclass
class PublishResult:
    """What a publish wrote."""

    site: Path
    files: dict[str, str]  # dump path in the site -> sha256
    pages: int
    triples: int
    graphs: dict[str, int]
    manifest: dict[str, Any]
    changes: str = ""  # the diff's summary line, if a previous release was given
    loads: dict[str, int] = field(default_factory=dict)  # what the release loaded (each at most once)


# ---------------------------------------------------------------- optional parts, decided once


@dataclass(frozen=True)
class Parts:
    """Which optional parts this release has; every writer asks here, nothing checks files."""

    dumps: tuple[str, ...]  # the dump files present, in dump_files() order
    graphs: bool  # the interactive graphs (chuzhi_graph.views.render importable)
    changes: bool  # changes.html/.ttl (a previous release was given)

    @property
    def distributions(self) -> tuple[str, ...]:
        """The dumps described as DCAT distributions (the data, not its context or description)."""
        return tuple(n for n in self.dumps if n not in ("chuzhi.context.jsonld", "void.ttl"))


def plan_parts(work: Path, previous: object) -> Parts:
    """Decide the optional parts: the build leaves JSON-LD out of large graphs, ``render``
    may be missing, ``--previous`` is optional."""
    try:
        import chuzhi_graph.views.render  # noqa: F401
        graphs = True
    except ImportError:  # pragma: no cover - render needs matplotlib/numpy
        graphs = False
    dumps = tuple(n for n in dump_files() if n in (f"{DUMP_NAME}.trig", "void.ttl") or (work / n).is_file())
    return Parts(dumps, graphs, previous is not None)


# ---------------------------------------------------------------- named graphs


def write_trig(graphs: dict[str, list[ox.Triple]], path: Path, prefixes: dict[str, str]) -> None:
    with paused_gc():
        quads = [ox.Quad(t.subject, t.predicate, t.object, node)
                 for g, triples in graphs.items() for node in (ox.NamedNode(g),) for t in triples]
    ox.serialize(quads, str(path), ox.RdfFormat.TRIG, prefixes=prefixes)


# ---------------------------------------------------------------- dataset description


def describe(void: list[ox.Triple], base: str, dataset_dir: Path, graphs: dict[str, list[ox.Triple]],
             parts: Parts) -> list[ox.Triple]:
    """The build's VoID/DCAT description plus TriG, byte sizes, checksums and graph subsets."""
    nn, lit = ox.NamedNode, ox.Literal
    xsd = PREFIXES["xsd"]
    triples = list(void)
    ds = nn(f"{base}dataset")

    def p(prefixed: str) -> ox.NamedNode:
        prefix, local = prefixed.split(":", 1)
        return nn({**PREFIXES, "spdx": SPDX}[prefix] + local)

    trig = nn(f"{base}dataset/chuzhi.trig")
    triples += [
        ox.Triple(ds, p("dcat:distribution"), trig),
        ox.Triple(ds, p("void:dataDump"), trig),
        ox.Triple(trig, p("rdf:type"), p("dcat:Distribution")),
        ox.Triple(trig, p("dct:title"), lit("chuzhi.trig")),
        ox.Triple(trig, p("dcat:mediaType"), nn(MEDIA_TYPE_IRI + format_of("chuzhi.trig").media_type)),
        ox.Triple(trig, p("dcat:downloadURL"), trig),
        ox.Triple(ds, p("dcat:landingPage"), nn(base)),
    ]
    for name in parts.distributions:
        dist = nn(f"{base}dataset/{name}")
        file = dataset_dir / name
        checksum = ox.BlankNode("sha256-" + name.replace(".", "-"))
        triples += [
            ox.Triple(dist, p("dcat:byteSize"), lit(str(file.stat().st_size), datatype=nn(xsd + "nonNegativeInteger"))),
            ox.Triple(dist, p("spdx:checksum"), checksum),
            ox.Triple(checksum, p("rdf:type"), p("spdx:Checksum")),
            ox.Triple(checksum, p("spdx:algorithm"), p("spdx:checksumAlgorithm_sha256")),
            ox.Triple(checksum, p("spdx:checksumValue"), lit(sha256_file(file), datatype=nn(xsd + "hexBinary"))),
        ]
    for name, graph_triples in graphs.items():
        g = nn(name)
        kind = name[len(base) + len("graph/"):]
        triples += [
            ox.Triple(ds, p("void:subset"), g),
            ox.Triple(g, p("rdf:type"), p("void:Dataset")),
            ox.Triple(g, p("dct:title"), ox.Literal(f"命名图 {kind}", language="zh")),
            ox.Triple(g, p("dct:title"), ox.Literal(f"named graph {kind}", language="en")),
            ox.Triple(g, p("void:triples"), lit(str(len(graph_triples)), datatype=nn(xsd + "integer"))),
            ox.Triple(g, p("void:dataDump"), trig),
        ]
    triples.sort(key=lambda t: (str(t.subject), t.predicate.value, str(t.object)))
    return triples


# ---------------------------------------------------------------- pages


def _root_of(path: str) -> str:
    return "../" * path.count("/")


def _page_name(stem: str, page: int) -> str:
    """``cases.html``, ``cases-2.html``, ...: the pages of one paginated list."""
    return f"{stem}.html" if page == 1 else f"{stem}-{page}.html"


def paginate(rows: list[Any], per_page: int) -> list[list[Any]]:
    """Rows split into pages (at least one, possibly empty).

    >>> [len(p) for p in paginate(list(range(5)), 2)]
    [2, 2, 1]
    """
    return [rows[i:i + per_page] for i in range(0, len(rows), per_page)] or [[]]


class Site:
    """The rendering context: indexes of the triples, page paths, labels and link rules.

    Everything is plain dicts over pyoxigraph terms, built in one pass, so that a page costs
    lookups, not queries: 170,000 pages at 100,000 cases.
    """

    def __init__(self, triples: Iterable[ox.Triple], base: str, remote_ok: set[str]) -> None:
        self.base = base
        self.remote_ok = remote_ok
        self.prefixes = {**data_prefixes(base), "spdx": SPDX}
        self._by_ns = sorted(self.prefixes.items(), key=lambda kv: -len(kv[1]))
        self.out: dict[Any, list[tuple[ox.NamedNode, Any]]] = defaultdict(list)
        self.into: dict[Any, list[tuple[ox.NamedNode, Any]]] = defaultdict(list)
        self.names: dict[Any, dict[str, str]] = {}
        out, into, label_predicates = self.out, self.into, set(_LABEL_PREDICATES)
        with paused_gc():  # millions of acyclic tuples: no collector passes over them
            for t in triples:
                s, p, o = t.subject, t.predicate, t.object
                out[s].append((p, o))
                if isinstance(o, ox.NamedNode):
                    if p != RDF_TYPE:
                        into[o].append((p, s))
                elif p in label_predicates and isinstance(o, ox.Literal):
                    names = self.names.setdefault(s, {})
                    names.setdefault(o.language or "", o.value)
        self.pages: dict[str, str] = {}  # IRI -> site path of its page
        for s in self.out:
            if isinstance(s, ox.NamedNode):
                local = self.local(s.value)
                if local is not None:
                    self.pages[s.value] = local + ".html"
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(
            enabled_extensions=("html", "svg"), default_for_string=True), keep_trailing_newline=True,
            trim_blocks=True, lstrip_blocks=True, auto_reload=False)  # no stat of base.html per page
        self._templates: dict[str, Any] = {}
        self.dumps = dump_files()
        # Memos: a page costs lookups. The same units, domains and editions appear on thousands
        # of pages, so a link is made (and drawn by the ``value`` macro) once per page depth.
        self._short: dict[str, str] = {}
        self._links: dict[tuple[str, str], dict[str, Any]] = {}
        self._kinds: dict[Any, tuple[str, str, str]] = {}
        self._case_keys: dict[Any, tuple[str, int, str]] = {}
        self._prefixes_of: dict[str, tuple[str, ...]] = {}
        self._dirs: set[Path] = set()
        self._macros: Any = None

    # -- names and links

    def local(self, iri: str) -> str | None:
        """The site path (without extension) of a dataset IRI that gets its own page."""
        if not iri.startswith(self.base) or iri.startswith((CHZ_IRI, SHAPES_IRI)) or iri == ONTOLOGY_IRI:
            return None
        local = iri[len(self.base):]
        if not local or "#" in local or "?" in local or local.rsplit("/", 1)[-1].count(".") or local.endswith("/"):
            return None
        return local

    def short(self, iri: str) -> str:
        hit = self._short.get(iri)
        if hit is None:
            hit = iri
            for prefix, ns in self._by_ns:
                if iri.startswith(ns) and len(iri) > len(ns):
                    hit = f"{prefix}:{iri[len(ns):]}"
                    break
            self._short[iri] = hit
        return hit

    def prefixes_of(self, iri: str) -> tuple[str, ...]:
        """The prefixes whose namespace the IRI starts with (a page's Turtle declares those)."""
        hit = self._prefixes_of.get(iri)
        if hit is None:
            hit = self._prefixes_of[iri] = tuple(p for p, ns in self.prefixes.items() if iri.startswith(ns))
        return hit

    def labels(self, node: Any) -> tuple[str, str]:
        """(Chinese, English) name; the Chinese falls back to an untagged one, then to ``""``."""
        names = self.names.get(node)
        if names is None:
            if isinstance(node, ox.NamedNode):
                return OTHER_LABELS.get(self.short(node.value), ("", ""))
            return "", ""
        return names.get("zh") or names.get("") or "", names.get("en", "")

    def href(self, iri: str, root: str) -> str | None:
        """A link to the IRI: a page of the site, the ontology page, or an allowed remote page."""
        if iri in self.pages:
            return root + self.pages[iri]
        if iri.startswith(CHZ_IRI):
            return f"{root}def.html#{iri[len(CHZ_IRI):]}"
        if iri == ONTOLOGY_IRI:
            return root + "def.html"
        if iri.startswith(SHAPES_IRI):
            return f"{root}def.html#{iri[len(SHAPES_IRI):]}"
        if iri.startswith(self.base + "dataset/") and iri[len(self.base) + len("dataset/"):] in self.dumps:
            return root + iri[len(self.base):]
        if iri == self.base:
            return root + "index.html"
        if iri in self.remote_ok and _is_web_url(iri):  # never javascript:, data:, ...
            return iri
        return None

    def link(self, node: Any, root: str) -> dict[str, Any]:
        """A named thing for the ``link`` macro: its page, Chinese and English names, short IRI,
        and ``html``, what the ``value`` macro draws for it (drawn once; do not change the dict)."""
        iri = node.value
        hit = self._links.get((iri, root))
        if hit is None:
            zh, en = self.labels(node)
            hit = {"t": "link", "href": self.href(iri, root), "zh": zh, "en": en, "code": self.short(iri), "iri": iri}
            if self._macros is None:
                self._macros = self.env.get_template("macros.html").module
            hit["html"] = self._macros.value(hit)
            self._links[(iri, root)] = hit
        return hit

    def value(self, node: Any, root: str, depth: int = 0) -> dict[str, Any]:
        """One value of a table cell, for the ``value`` macro."""
        if isinstance(node, ox.NamedNode):
            return self.link(node, root)
        if isinstance(node, ox.Literal):
            dt = node.datatype.value
            plain = node.language or dt.endswith(("#string", "#langString"))
            return {"t": "lit", "text": node.value, "lang": node.language or "",
                    "dt": "" if plain else self.short(dt)}
        if isinstance(node, ox.BlankNode) and depth < 3:
            items = self.rdf_list(node)
            if items is not None:
                return {"t": "list", "items": [self.value(x, root, depth + 1) for x in items]}
        return {"t": "lit", "text": str(node), "lang": "", "dt": ""}

    def rdf_list(self, node: Any) -> list[Any] | None:
        items, seen = [], set()
        while node != RDF_NIL:
            if node in seen:
                return None
            seen.add(node)
            props = dict(self.out.get(node, ()))
            if RDF_FIRST not in props:
                return None
            items.append(props[RDF_FIRST])
            node = props.get(RDF_REST, RDF_NIL)
        return items

    def kind(self, s: Any) -> tuple[str, str, str]:
        """(zh, en, class short name) of the resource's main class."""
        hit = self._kinds.get(s)
        if hit is None:
            hit = self._kinds[s] = self._kind(s)
        return hit

    def _kind(self, s: Any) -> tuple[str, str, str]:
        classes = sorted((o for p, o in self.out.get(s, ()) if p == RDF_TYPE), key=lambda o: o.value)
        for cls in classes:
            if cls.value.startswith(CHZ_IRI):
                zh, en = self.labels(cls)
                return zh, en, self.short(cls.value)
        for cls in classes:
            zh, en = self.labels(cls)
            return zh or self.short(cls.value), en, self.short(cls.value)
        return "", "", ""

    def rows(self, pairs: list[tuple[Any, Any]], root: str, limit: int = RESOURCE_ITEMS) -> list[dict[str, Any]]:
        """Property rows: ``{"prop": link, "vals": [value], "more": n}``, in reading order."""
        grouped: dict[Any, list[Any]] = defaultdict(list)
        for p, o in pairs:
            grouped[p].append(o)

        def order(p: Any) -> tuple[int, str]:
            short = self.short(p.value)
            return (PROPERTY_ORDER.index(short) if short in PROPERTY_ORDER else len(PROPERTY_ORDER), short)

        out = []
        for p in sorted(grouped, key=order):
            values = sorted(grouped[p], key=_value_key)
            out.append({"prop": self.link(p, root), "vals": [self.value(o, root) for o in values[:limit]],
                        "more": max(0, len(values) - limit)})
        return out

    def cbd(self, s: Any) -> list[ox.Triple]:
        """The resource's triples and those of the blank nodes it reaches."""
        out: list[ox.Triple] = []
        todo, seen = [s], set()
        while todo:
            cur = todo.pop()
            if cur in seen:
                continue
            seen.add(cur)
            for p, o in self.out.get(cur, ()):
                out.append(ox.Triple(cur, p, o))
                if isinstance(o, ox.BlankNode):
                    todo.append(o)
        return out

    def render(self, template: str, target: Path, root: str, **ctx: Any) -> None:
        tpl = self._templates.get(template)
        if tpl is None:
            tpl = self._templates[template] = self.env.get_template(template)
        self.write(target, tpl.render(root=root, **ctx))

    def write(self, target: Path, text: str) -> None:
        """Write a page (UTF-8, ``\\n``), making its folder the first time."""
        folder = target.parent
        if folder not in self._dirs:
            folder.mkdir(parents=True, exist_ok=True)
            self._dirs.add(folder)
        with open(target, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)

    def objects(self, s: Any, p: ox.NamedNode) -> list[Any]:
        return [o for q, o in self.out.get(s, ()) if q == p]

    def subjects(self, p: ox.NamedNode, o: Any) -> list[Any]:
        return [s for q, s in self.into.get(o, ()) if q == p]

    def first(self, s: Any, p: ox.NamedNode) -> Any:
        for q, o in self.out.get(s, ()):
            if q == p:
                return o
        return None

    def of_class(self, cls: str) -> list[ox.NamedNode]:
        node = ox.NamedNode(CHZ_IRI + cls)
        return sorted((s for p, s in self.into_types.get(node, ()) if isinstance(s, ox.NamedNode)),
                      key=lambda s: s.value) if hasattr(self, "into_types") else []

    def index_types(self) -> None:
        """rdf:type index (class -> members), kept apart from ``into`` (which skips rdf:type)."""
        self.into_types: dict[Any, list[tuple[Any, Any]]] = defaultdict(list)
        for s, pairs in self.out.items():
            for p, o in pairs:
                if p == RDF_TYPE:
                    self.into_types[o].append((p, s))


def _value_key(o: Any) -> tuple[int, str]:
    if isinstance(o, ox.Literal):
        return (0 if o.language == "zh" else 1 if o.language == "en" else 2, o.value)
    return (3, str(o))


_C = {name: ox_iri("chz:" + name) for name in (
    "applicant", "applicantList", "coApplicant", "domain", "edition", "awardCategory", "listPosition", "region",
    "unitType", "year", "track", "categoryEdition", "awardedCount", "completeList")}
_SUB_ORG, _BROADER, _DERIVED = ox_iri("org:subOrganizationOf"), ox_iri("skos:broader"), ox_iri("prov:wasDerivedFrom")


def case_sort_key(site: Site, c: Any) -> tuple[str, int, str]:
    """Edition, then the published list order (category, position)."""
    hit = site._case_keys.get(c)
    if hit is None:
        cat = site.first(c, _C["awardCategory"])
        cat_pos = site.first(cat, _C["listPosition"]) if cat is not None else None
        pos = site.first(c, _C["listPosition"])
        edition = site.first(c, _C["edition"])
        hit = site._case_keys[c] = (edition.value if edition is not None else "", _int(cat_pos) * 1000 + _int(pos),
                                    c.value)
    return hit


def _int(node: Any) -> int:
    try:
        return int(node.value) if node is not None else 0
    except ValueError:
        return 0


def _section(key: str, zh: str, en: str, items: list[dict[str, Any]], limit: int = RESOURCE_ITEMS) -> dict[str, Any]:
    return {"id": key, "zh": zh, "en": en, "items": items[:limit], "total": len(items)}


def descendants(site: Site, unit: Any) -> list[Any]:
    """Every unit below ``unit`` along ``org:subOrganizationOf`` (sub-units of sub-units too)."""
    seen: dict[Any, None] = {}
    todo = [unit]
    while todo:
        for sub in site.subjects(_SUB_ORG, todo.pop()):
            if sub not in seen and sub != unit:
                seen[sub] = None
                todo.append(sub)
    return sorted(seen, key=lambda u: u.value)


def people_sections(site: Site, s: Any, root: str) -> tuple[list[dict[str, Any]], set[Any], set[Any]]:  # noqa: PLR0915 (one section per kind of person, in page order)
    """What a reader wants on a resource page, by kind; the incoming properties the sections
    cover, and the outgoing ones they show (both left out of the tables; the Turtle has all)."""
    _, _, cls = site.kind(s)
    covered: set[Any] = set()
    hidden: set[Any] = set()
    sections: list[dict[str, Any]] = []

    def case_item(c: Any) -> dict[str, Any]:
        edition = site.first(c, _C["edition"])
        return {"link": site.link(c, root), "note": site.link(edition, root) if edition is not None else None}

    def cases(nodes: Iterable[Any]) -> list[dict[str, Any]]:
        return [case_item(c) for c in sorted(set(nodes), key=lambda c: case_sort_key(site, c))]

    if cls == "chz:Case" and site.first(s, _C["applicantList"]) is not None:
        hidden |= {_C["applicant"], ox_iri("chz:leadApplicant")}  # the ordered list says it all
    if cls == "chz:Unit":
        hidden |= {_C["coApplicant"], _SUB_ORG}
        own = site.subjects(_C["applicant"], s)
        covered |= {_C["applicant"], ox_iri("chz:leadApplicant"), _C["coApplicant"], _SUB_ORG}
        sections.append(_section("cases", "申报案例", "Cases applied for", cases(own)))
        partners = sorted(set(site.objects(s, _C["coApplicant"])), key=lambda u: u.value)
        sections.append(_section("co-applicants", "共同申报单位", "Co-applicants",
                                 [{"link": site.link(u, root), "note": None} for u in partners]))
        parents = site.objects(s, _SUB_ORG)
        if parents:
            sections.append(_section("parent", "上级单位", "Parent organisation",
                                     [{"link": site.link(u, root), "note": None} for u in parents]))
        subs = descendants(site, s)
        if subs:
            items = [{"link": site.link(u, root), "note": None,
                      "sub": cases(site.subjects(_C["applicant"], u))[:RESOURCE_ITEMS]} for u in subs]
            sections.append(_section("sub-units", "下级单位及其案例", "Sub-units and their cases", items))
            below = [c for u in subs for c in site.subjects(_C["applicant"], u)]
            sections.append(_section("all-cases", "本单位及下级单位的全部案例", "All cases, with the sub-units'",
                                     cases([*own, *below])))
    elif cls == "chz:Domain":
        covered |= {_C["domain"], _BROADER}
        sections.append(_section("cases", "本领域案例", "Cases in this domain", cases(site.subjects(_C["domain"], s))))
        narrower = sorted(set(site.subjects(_BROADER, s)), key=lambda d: d.value)
        if narrower:
            sections.append(_section("narrower", "下位领域", "Narrower domains",
                                     [{"link": site.link(d, root), "note": None} for d in narrower]))
    elif cls in ("chz:Edition", "chz:AwardCategory"):
        covered |= {_C["edition"], _C["awardCategory"], _C["categoryEdition"]}
        prop = _C["edition"] if cls == "chz:Edition" else _C["awardCategory"]
        if cls == "chz:Edition":
            cats = sorted(set(site.subjects(_C["categoryEdition"], s)), key=lambda c: (_int(site.first(
                c, _C["listPosition"])), c.value))
            sections.append(_section("categories", "奖项类别", "Award categories",
                                     [{"link": site.link(c, root), "note": None} for c in cats]))
        sections.append(_section("cases", "案例", "Cases", cases(site.subjects(prop, s))))
    elif cls == "chz:Region":
        covered |= {_C["region"], _BROADER}
        units = sorted(set(site.subjects(_C["region"], s)), key=lambda u: u.value)
        sections.append(_section("units", "本地区单位", "Units in this region",
                                 [{"link": site.link(u, root), "note": None} for u in units]))
        below = sorted(set(site.subjects(_BROADER, s)), key=lambda r: r.value)
        if below:
            sections.append(_section("narrower", "下辖区划", "Regions within",
                                     [{"link": site.link(r, root), "note": None} for r in below]))
    elif cls == "chz:SourceDocument":
        covered |= {_DERIVED}
        sections.append(_section("cases", "出自本文献的记录", "Records derived from it",
                                 cases(site.subjects(_DERIVED, s))))
    elif cls in ("chz:UnitType", "chz:Track"):
        prop = _C["unitType"] if cls == "chz:UnitType" else _C["track"]
        covered |= {prop}
        members = sorted(set(site.subjects(prop, s)), key=lambda u: u.value)
        sections.append(_section("members", "属于此类", "Of this kind",
                                 [{"link": site.link(u, root), "note": None} for u in members]))
    return [sec for sec in sections if sec["total"]], covered, hidden


def write_resource_pages(site: Site, out: Path, common: dict[str, Any]) -> int:
    """One ``.html`` and one ``.ttl`` per IRI of the dataset (see :class:`ResourcePages`)."""
    return ResourcePages(site, out, common).wait()


#: Above this many pages, forked workers write them while the parent writes the rest of the site.
PARALLEL_PAGES = 5000


class ResourcePages:
    """The resource pages, written while the caller goes on with the rest of the site.

    Above :data:`PARALLEL_PAGES` pages, forked worker processes (one per core, at most 4) each
    write every n-th page from the indexes they share with the parent (copy-on-write); the
    parent meanwhile writes the lists, queries and graphs, so both cores stay busy. Below it,
    the pages are written at once, in this process. The pages do not depend on each other or
    on the order of writing: the site is the same bytes either way. :meth:`wait` returns the
    page count, or raises the first worker's error.
    """

    def __init__(self, site: Site, out: Path, common: dict[str, Any]) -> None:
        self.iris = list(site.pages)
        self.procs: list[tuple[Any, Any]] = []
        self.done: Any = None
        workers = min(os.cpu_count() or 1, 4)
        self.frozen = False
        if workers > 1 and len(self.iris) > PARALLEL_PAGES and "fork" in mp.get_all_start_methods():
            ctx = mp.get_context("fork")
            # The indexes are millions of objects that live as long as the site: out of the
            # collector's sight, so that no pass walks them (nor copies their memory pages
            # into the workers by touching them)
            gc.collect()
            gc.freeze()
            self.frozen = True
            self.done = ctx.Value("l", 0)
            for i in range(workers):
                parent, child = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_pages_worker, args=(site, out, common, self.iris[i::workers], self.done,
                                                                child), name="chuzhi-publish-pages", daemon=True)
                proc.start()
                child.close()
                self.procs.append((proc, parent))
        else:
            step("resource pages", total=len(self.iris), unit="pages")
            for i in range(0, len(self.iris), 500):
                advance(_write_pages(site, out, common, self.iris[i:i + 500]))

    def wait(self) -> int:
        """Wait for the workers (progress as they go); the number of pages."""
        if not self.procs:
            return len(self.iris)
        step("resource pages", total=len(self.iris), unit="pages")
        shown, took = 0, 0.0
        try:
            for proc, conn in self.procs:
                while not conn.poll(0.2):
                    shown = self._advance(shown)
                    if not proc.is_alive() and not conn.poll():
                        raise OutputError(f"a page worker stopped unexpectedly (exit code {proc.exitcode})")
                kind, detail = conn.recv()
                if kind != "ok":
                    raise OutputError(f"writing the resource pages failed: {detail}")
                took = max(took, detail)
            self._advance(shown)
            log.info("resource pages: %d by %d workers in %.1f s, beside the rest of the site",
                     len(self.iris), len(self.procs), took)
        finally:
            self.stop()
        return len(self.iris)

    def _advance(self, shown: int) -> int:
        now = self.done.value
        if now > shown:
            advance(now - shown)
        return now

    def stop(self) -> None:
        """End the workers (at once if they are still running: the caller failed)."""
        for proc, conn in self.procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()
            conn.close()
        self.procs = []
        if self.frozen:
            gc.unfreeze()  # the site's objects may be freed once the caller drops them
            self.frozen = False


def _pages_worker(site: Site, out: Path, common: dict[str, Any], iris: list[str], done: Any, conn: Any) -> None:
    """A forked page writer: reports ``("ok", seconds)`` or ``("error", message)`` on ``conn``."""
    t0 = time.perf_counter()
    try:
        for i in range(0, len(iris), 200):
            n = _write_pages(site, out, common, iris[i:i + 200])
            with done.get_lock():
                done.value += n
        conn.send(("ok", time.perf_counter() - t0))
    except BaseException as exc:  # any failure goes to the parent, which raises it
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _used(site: Site, triples: list[ox.Triple]) -> dict[str, str]:
    """The prefixes the triples use (a page's Turtle declares only those)."""
    iris = {t.predicate.value for t in triples}
    for t in triples:
        for n in (t.subject, t.object):
            if isinstance(n, ox.NamedNode):
                iris.add(n.value)
            elif isinstance(n, ox.Literal):
                iris.add(n.datatype.value)
    used = {p for i in iris for p in site.prefixes_of(i)}
    return {p: ns for p, ns in site.prefixes.items() if p in used}


def _write_pages(site: Site, out: Path, common: dict[str, Any], iris: list[str]) -> int:
    for iri in iris:
        page = site.pages[iri]
        s = ox.NamedNode(iri)
        root = _root_of(page)
        cbd = site.cbd(s)
        turtle = (ox.serialize(cbd, format=ox.RdfFormat.TURTLE, prefixes=_used(site, cbd)) or b"").decode("utf-8")
        ttl_path = out / (page[: -len(".html")] + ".ttl")
        site.write(ttl_path, turtle)
        zh, en = site.labels(s)
        kind_zh, kind_en, _ = site.kind(s)
        sections, covered, hidden = people_sections(site, s, root)
        facts = [(p, o) for p, o in site.out.get(s, ())
                 if p not in _LABEL_PREDICATES and p != RDF_TYPE and p not in hidden]
        inverse = [(p, o) for p, o in site.into.get(s, ())  # list cells (rdf:first) are in their owner's row
                   if p not in covered and isinstance(o, ox.NamedNode)]
        site.render(
            "resource.html", out / page, root, title=zh or en or site.short(iri), label_zh=zh, label_en=en,
            short=site.short(iri), iri=iri, ttl=ttl_path.name, kind_zh=kind_zh, kind_en=kind_en,
            facts=site.rows(facts, root), sections=sections, inverse=site.rows(inverse, root),
            turtle=turtle if len(turtle) < 200_000 else "", **common,
        )
    return len(iris)


def write_paginated(site: Site, out: Path, stem: str, template: str, rows: list[Any], per_page: int,
                    common: dict[str, Any], **ctx: Any) -> int:
    """``stem.html``, ``stem-2.html``, ...; each page knows its neighbours. Returns the page count."""
    pages = paginate(rows, per_page)
    for number, chunk in enumerate(pages, 1):
        pager = {"page": number, "pages": len(pages), "total": len(rows), "first": (number - 1) * per_page + 1,
                 "prev": _page_name(stem, number - 1) if number > 1 else None,
                 "next": _page_name(stem, number + 1) if number < len(pages) else None,
                 "all": [_page_name(stem, i) for i in range(1, len(pages) + 1)]}
        site.render(template, out / _page_name(stem, number), _root_of(stem), rows=chunk, pager=pager,
                    **ctx, **common)
    return len(pages)


def write_list_pages(site: Site, out: Path, common: dict[str, Any]) -> None:
    """cases.html, units.html, domains.html, editions.html and resources.html, paginated."""
    step("list pages")
    link = (lambda n: site.link(n, ""))  # noqa: E731 - a short local helper

    def opt(n: Any) -> list[dict[str, Any]]:
        return [link(n)] if n is not None else []

    cases = sorted(site.of_class("Case"), key=lambda c: case_sort_key(site, c))
    rows = []
    for c in cases:
        lst = site.first(c, _C["applicantList"])
        apps = (site.rdf_list(lst) if lst is not None else None) or sorted(site.objects(c, _C["applicant"]),
                                                                            key=lambda u: u.value)
        pos = site.first(c, _C["listPosition"])
        rows.append([opt(site.first(c, _C["awardCategory"])), [{"t": "lit", "text": pos.value if pos else ""}],
                     [link(c)], [link(u) for u in apps],
                     [link(d) for d in sorted(site.objects(c, _C["domain"]), key=lambda d: d.value)]])
    write_paginated(site, out, "cases", "list.html", rows, LIST_PAGE_ROWS, common, kind="cases",
                    heading=("案例", "Cases"),
                    header=[("奖项类别", "category"), ("序号", "no."), ("案例", "case"), ("申报单位", "applicants"),
                            ("治理领域", "domains")],
                    note=("名单“排名不分先后”，序号不表示名次。", "The lists are unranked."))

    rows = [[[link(u)], opt(site.first(u, _C["unitType"])), opt(site.first(u, _C["region"])),
             [{"t": "lit", "text": str(len(set(site.subjects(_C["applicant"], u))))}]]
            for u in site.of_class("Unit")]
    write_paginated(site, out, "units", "list.html", rows, LIST_PAGE_ROWS, common, kind="units",
                    heading=("单位", "Units"),
                    header=[("单位", "unit"), ("类型", "type"), ("行政区划", "region"), ("申报案例数", "cases")],
                    note=None)

    rows = [[[link(d)], [link(b) for b in site.objects(d, _BROADER)],
             [{"t": "lit", "text": str(len(site.subjects(_C["domain"], d)))}]] for d in site.of_class("Domain")]
    write_paginated(site, out, "domains", "list.html", rows, LIST_PAGE_ROWS, common, kind="domains",
                    heading=("治理领域", "Governance domains"),
                    header=[("领域", "domain"), ("上位", "broader"), ("案例数", "cases")], note=None)

    write_edition_list(site, out, common)
    write_resource_lists(site, out, common)


def write_edition_list(site: Site, out: Path, common: dict[str, Any]) -> None:
    """editions.html: each edition, its cases in the graph, the count its source states, completeness."""
    link = (lambda n: site.link(n, ""))  # noqa: E731 - a short local helper

    def opt(n: Any) -> list[dict[str, Any]]:
        return [link(n)] if n is not None else []

    def completeness(e: Any) -> str:
        """The series (docs/series.md): whether the graph holds an edition's whole list, said plainly."""
        value = site.first(e, _C["completeList"])
        if value is None:
            return "未知 not known"
        if value.value == "true":
            return "完整 complete"
        return "不完整：仅含来源提及的案例 partial: only the cases a source names"

    def lit(text: str) -> list[dict[str, Any]]:
        return [{"t": "lit", "text": text}]

    rows = [[[link(e)], lit((site.first(e, _C["year"]) or ox.Literal("")).value), opt(site.first(e, _C["track"])),
             lit(str(len(site.subjects(_C["edition"], e)))),
             lit((site.first(e, _C["awardedCount"]) or ox.Literal("—")).value), lit(completeness(e))]
            for e in site.of_class("Edition")]
    write_paginated(site, out, "editions", "list.html", rows, LIST_PAGE_ROWS, common, kind="editions",
                    heading=("届次", "Editions"),
                    header=[("届次", "edition"), ("年份", "year"), ("赛道", "track"),
                            ("图中案例数", "cases in the graph"), ("来源所称获奖数", "awarded (stated)"),
                            ("名单", "list")], note=None)


def write_resource_lists(site: Site, out: Path, common: dict[str, Any]) -> None:
    """resources.html and resources-N.html: every resource page, one list per kind."""
    link = (lambda n: site.link(n, ""))  # noqa: E731 - a short local helper
    by_kind: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for iri in site.pages:
        by_kind[site.kind(ox.NamedNode(iri))].append(iri)
    kinds = []
    for i, ((zh, en, short), iris) in enumerate(sorted(by_kind.items())):
        stem = f"resources-{i + 1}"
        rows = [[[link(ox.NamedNode(iri))]] for iri in sorted(iris)]
        write_paginated(site, out, stem, "list.html", rows, LIST_PAGE_ROWS, common, kind="resources",
                        heading=(f"全部资源：{zh}", f"All resources: {en or zh}"), header=[("资源", "resource")],
                        note=None)
        kinds.append({"zh": zh, "en": en, "code": short, "page": f"{stem}.html", "count": len(iris)})
    site.render("resources.html", out / "resources.html", "", title="全部资源 All resources", kinds=kinds, **common)


def write_ontology(out: Path, onto_dir: Path, site: Site, common: dict[str, Any]) -> None:
    step("ontology page")
    doc = ontology_doc(onto_dir)

    def link(value: str) -> dict[str, Any]:
        iri = value
        for prefix, ns in PREFIXES.items():
            if value.startswith(prefix + ":"):
                iri = ns + value[len(prefix) + 1:]
        node = ox.NamedNode(iri) if "://" in iri else None
        zh, en = site.labels(node) if node is not None else ("", "")
        return {"t": "link", "href": site.href(iri, ""), "zh": "", "en": "", "code": site.short(iri), "iri": iri,
                "title_zh": zh, "title_en": en}

    site.render("ontology.html", out / "def.html", "", title=doc.title_zh or "本体", doc=doc, ref=link, **common)
    if doc.diagram is not None:
        site.render("diagram.svg", out / "def-diagram.svg", "", d=doc.diagram)
    (out / "def.ttl").write_text(ontology_turtle(onto_dir), encoding="utf-8", newline="\n")
    (out / "shapes.ttl").write_text(ontology_turtle(onto_dir, shapes=True), encoding="utf-8", newline="\n")


def write_queries(out: Path, release: Release, site: Site, common: dict[str, Any]) -> None:
    """queries.html (every shipped query, its size and first rows) and one page per query with
    the first :data:`QUERY_PAGE_ROWS` rows, the whole result as CSV and SPARQL JSON."""
    from chuzhi_graph.sparql.query import format_result, run_query, shipped_queries
    from chuzhi_graph.sparql.questions import example_params

    queries = shipped_queries()
    step("queries", total=len(queries), unit="queries")
    items: list[dict[str, Any]] = []
    folder = out / "queries"
    folder.mkdir(parents=True, exist_ok=True)
    store = release.store()
    for q in queries:
        (folder / f"{q.name}.rq").write_text(q.text, encoding="utf-8", newline="\n")
        item: dict[str, Any] = {"name": q.name, "question_zh": q.question_zh, "question_en": q.question_en,
                                "text": q.text, "params": list(q.params), "variables": [], "rows": [], "count": 0,
                                "truncated": False, "page": f"queries/{q.name}.html", "ran": True}
        # a parameterised question is shown for its declared example (named on the page), never unbound
        params = example_params(store, q)
        item["bound"] = [{"name": p.name, "kind": p.kind, "help": p.help, "value": params.get(p.name, "")}
                         for p in q.param_specs]
        t0 = time.monotonic()
        try:  # a broken query stops the release; a slow one is listed as not run
            result = run_query(store, q, params, timeout=QUERY_BUDGET, max_rows=QUERY_MAX_ROWS)
        except QueryError:
            if time.monotonic() - t0 < QUERY_BUDGET * 0.99:
                raise
            log.warning("query %s: stopped after %g s, not in the site", q.name, QUERY_BUDGET)
            item.update(ran=False, stopped=QUERY_BUDGET)
            site.render("query.html", folder / f"{q.name}.html", "../", title=q.question_zh, q=item,
                        shown=QUERY_PAGE_ROWS, **common)
            items.append(item)
            advance()
            continue
        item["truncated"] = len(result.rows) > QUERY_MAX_ROWS
        del result.rows[QUERY_MAX_ROWS:]
        (folder / f"{q.name}.csv").write_text(format_result(result, "csv", site.base, escape=True),
                                              encoding="utf-8", newline="")
        (folder / f"{q.name}.json").write_text(format_result(result, "json", site.base), encoding="utf-8")
        item["variables"] = [str(v).lstrip("?") for v in result.variables]
        item["count"] = len(result.rows)
        item["rows"] = [[_cell(site, c, "../") for c in row] for row in result.rows[:QUERY_PAGE_ROWS]]
        item["top"] = [[_cell(site, c, "") for c in row] for row in result.rows[:10]]
        site.render("query.html", folder / f"{q.name}.html", "../", title=q.question_zh, q=item,
                    shown=QUERY_PAGE_ROWS, **common)
        items.append({**item, "rows": item.get("top", [])})
        advance()
    site.render("queries.html", out / "queries.html", "", title="SPARQL 查询", queries=items, **common)


#: Longest literal shown in a result cell (a GROUP_CONCAT grows with the corpus; the CSV has it whole).
CELL_MAX = 300


def _cell(site: Site, term: Any, root: str) -> dict[str, Any]:
    """A result cell for the page; long literals cut at :data:`CELL_MAX` characters.

    >>> _cell(None, ox.Literal("x" * 400), "")["text"][-3:], len(_cell(None, ox.Literal("x" * 400), "")["text"])
    ('xx…', 301)
    """
    if term is None:
        return {"t": "lit", "text": "", "lang": "", "dt": ""}
    if isinstance(term, ox.Literal):
        text = term.value if len(term.value) <= CELL_MAX else term.value[:CELL_MAX] + "…"
        return {"t": "lit", "text": text, "lang": "", "dt": ""}
    return site.value(term, root)


#: The interactive graphs: view -> (zh title, en title, zh description, en description).
VIEW_TEXT = {
    "institutions": ("单位合作网络", "Who works with whom",
                     "申报单位之间的共同申报关系（边的粗细为共同申报的案例数）及其上级单位。",
                     "Applicant units linked when they applied together (thicker: more shared cases), "
                     "with their parent organisations."),
    "cases": ("单位—案例—领域", "Units, cases and domains",
              "每个案例连接其申报单位和治理领域。", "Every case linked to its applicant units and governance domains."),
    "domains": ("治理领域共现", "Domain co-occurrence",
                "两个治理领域出现在同一案例中即相连（边的粗细为此类案例数）。",
                "Two domains are linked when one case has both (thicker: more such cases)."),
}


def write_graphs(out: Path, release: Release, site: Site, common: dict[str, Any]) -> None:
    """graphs.html (title, description, counts and a thumbnail per graph) and the graph pages."""
    from chuzhi_graph.views.graphs import build_view
    from chuzhi_graph.views.render import (
        MAIN_VIEW_LIMIT,
        MAIN_VIEWS,
        TITLES,
        SiteLinks,
        render_html,
    )

    step("interactive graphs", total=len(MAIN_VIEWS), unit="views")
    graphs: list[dict[str, Any]] = []
    target = out / "graphs"
    target.mkdir(parents=True, exist_ok=True)
    # every case is a node of the cases view: past the limit it is not drawn, so not built either
    # (building it costs about a minute at 100,000 cases)
    at_least = {"cases": len(site.of_class("Case"))}
    for view in MAIN_VIEWS:
        zh, en, desc_zh, desc_en = VIEW_TEXT.get(view, (view, view, "", ""))
        if at_least.get(view, 0) > MAIN_VIEW_LIMIT:
            graphs.append({"name": view, "zh": zh, "en": en, "desc_zh": desc_zh, "desc_en": desc_en, "nodes": None,
                           "edges": None, "path": None, "thumb": None, "limit": MAIN_VIEW_LIMIT})
            advance()
            continue
        graph = build_view(release.store(), view)
        item: dict[str, Any] = {"name": view, "zh": zh, "en": en, "desc_zh": desc_zh, "desc_en": desc_en,
                                "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(), "path": None,
                                "thumb": None, "limit": MAIN_VIEW_LIMIT}
        if graph.number_of_nodes() <= MAIN_VIEW_LIMIT:
            # the pages sit in graphs/: they link up to the resource pages and the index
            render_html(graph, target / f"{view}.html", TITLES[view], site=SiteLinks("../", site.base))
            item["path"] = f"graphs/{view}.html"
            if graph.number_of_nodes() <= 2000:  # a thumbnail of a bigger graph is a grey blot
                _thumbnail(site, graph, target / f"{view}.svg", en)
                item["thumb"] = f"graphs/{view}.svg"
        graphs.append(item)
        advance()
    from chuzhi_graph.views.mapview import render_map  # the map, linking to the resource pages

    # each region's lists in graphs/map-data/, loaded when opened: the page's weight stays that of the counts
    render_map(release.store(), target / "map.html", base=site.base, link_root="../", list_dir="map-data")
    graphs.append({"name": "map", "zh": "案例地图", "en": "Map of the cases", "path": "graphs/map.html",
                   "desc_zh": "按行政区划统计的案例与申报单位，链接到各资源页。",
                   "desc_en": "Cases and applicant units by region, linking to the resource pages.",
                   "nodes": None, "edges": None, "thumb": None, "limit": MAIN_VIEW_LIMIT})
    site.render("graphs.html", out / "graphs.html", "", title="交互式图谱 Graphs", graphs=graphs, **common)


def _thumbnail(site: Site, graph: Any, target: Path, title: str) -> None:
    """A 160-pixel SVG of the graph's layout for ``graphs.html``."""
    from chuzhi_graph.views.render import group_colour, layout

    pos = layout(graph)
    xs = [x for x, _ in pos.values()] or [0.0]
    ys = [y for _, y in pos.values()] or [0.0]
    x0, y0 = min(xs), min(ys)
    scale = 150 / max(max(xs) - x0, max(ys) - y0, 1e-9)

    def xy(v: Any) -> tuple[float, float]:
        return round(5 + (pos[v][0] - x0) * scale, 1), round(5 + (pos[v][1] - y0) * scale, 1)

    dots = [(*xy(v), group_colour(str(a.get("group") or a.get("kind") or "node"))) for v, a in graph.nodes(data=True)]
    lines = [(*xy(u), *xy(v)) for u, v in graph.edges()]
    site.render("thumb.svg", target, "", dots=dots, lines=lines, title=title)


def write_changes(out: Path, previous: str | Path, release: Release, site: Site, common: dict[str, Any],
                  repo: Path) -> str:
    """changes.html and changes.ttl: the diff against the previous release."""
    from chuzhi_graph.release.diff import diff_graphs, load_release, short, to_turtle

    step("changes")
    old = load_release(previous, base=site.base, repo=repo)
    d = diff_graphs(old, release.graph())
    changes = []
    for c in d.changes:
        link = site.href(c.iri, "")
        changes.append({
            "href": link if c.status != "removed" else None, "label": c.label or site.short(c.iri),
            "status": c.status,
            "removed": [" ".join(short(x, d.prefixes) for x in t) for t in c.removed],
            "added": [" ".join(short(x, d.prefixes) for x in t) for t in c.added],
        })
    site.render("changes.html", out / "changes.html", "", title="变更 Changes", previous=str(previous),
                summary=d.summary(), changes=changes, **common)
    (out / "changes.ttl").write_text(to_turtle(d), encoding="utf-8", newline="\n")
    return d.summary()


# ---------------------------------------------------------------- the whole site


def _check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise OutputError("the site target exists and is not a folder", file=target)
    if target.is_dir() and any(target.iterdir()) and not (target / "dataset" / "manifest.json").is_file():
        raise OutputError("refusing to replace a folder that is not a published site "
                          "(no dataset/manifest.json)", file=target)


def _swap(staging: Path, target: Path) -> None:
    """Put the finished site in place: rename the old one away, rename the new one in.

    The old site is claimed while it sits at ``.NAME.old-PID``: if this run is killed between the
    two renames, the next one (:func:`_restore_old`) puts it back or removes it.
    """
    from chuzhi_graph.core.fileio import claim, release

    if not target.exists():
        os.replace(staging, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    claim(target)
    try:
        os.replace(target, old)
        kill_point("publish-swap")
        try:
            os.replace(staging, target)
        except OSError:
            os.replace(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        release(target)


def _restore_old(target: Path) -> None:
    """The old site a killed run left at ``.NAME.old-PID``: back in place if the site is missing, else removed."""
    from chuzhi_graph.core.fileio import is_abandoned

    for old in sorted(target.parent.glob(f".{target.name}.old-*")):
        if not old.is_dir() or old.is_symlink() or not is_abandoned(old):
            continue
        if not target.exists() and not target.is_symlink():
            log.warning("putting back the site a killed publish left at %s", old)
            os.replace(old, target)
        else:
            shutil.rmtree(old, ignore_errors=True)


def _is_web_url(url: str) -> bool:
    from chuzhi_graph.records.tables import is_web_url

    return is_web_url(url)


def publish(  # long: the checks, the staging folder, the build or the graph, the swap, in their order
    data_dir: str | Path | None = None,
    out_dir: str | Path = "out/site",
    base: str = DEFAULT_BASE,
    *,
    graph: str | Path | None = None,
    previous: str | Path | None = None,
    created: str | None = None,
    ontology_dir_: str | Path | None = None,
    repo: str | Path = ".",
    progress: Callable[[str], None] | None = None,
    private: bool = False,
) -> PublishResult:
    """Write the static site of a release to ``out_dir``; all or nothing.

    From the records (``data_dir``, default ``data``): validate and build them into a temporary
    folder, then publish that build. From ``graph``, a folder ``build`` wrote: publish its current
    build as it is, reading no record; given ``data_dir`` too, only if the build was made from
    exactly those files. Both ways publish a build through the same code, so the same inputs give
    the same site; :func:`check_build` says which builds are refused. ``previous`` (a dump, folder
    or git revision, see :func:`chuzhi_graph.release.diff.load_release`) adds ``changes.html`` and
    ``changes.ttl``. ``progress`` receives one line per finished stage; steps and counts go to the
    reporter of :mod:`chuzhi_graph.core.progress`.
    """
    check_base(base)
    if not base.endswith("/"):
        raise UsageError(f"publishing needs a base IRI ending in '/': {base!r}", field="--base")
    target = Path(out_dir)
    if target.is_symlink():  # the link stays: the folder it points to is replaced
        target = Path(os.path.realpath(target))
    _check_target(target)
    onto_dir, say = ontology_dir(ontology_dir_), progress or (lambda _: None)
    # Staging and work folders are claimed (an flock while this process lives), so the
    # next run can remove those of killed runs; the site is world-readable unless ``private``
    from chuzhi_graph.core.fileio import claim, claimed_tempdir, clean_leftovers, make_readable, release

    _restore_old(target)
    clean_leftovers(target.parent, patterns=(f".{target.name}.*.tmp",))
    # a built graph is checked before the site is begun
    record = None if graph is None else check_build(read_build_record(graph), graph, base, created, onto_dir,
                                                     data_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = claim(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror}", file=target) from None
    try:
        with claimed_tempdir(prefix="chuzhi-publish-") as work:
            if record is None:
                built = build("data" if data_dir is None else data_dir, work, base, ontology_dir=onto_dir,
                              created=created, store=False)
                say(f"validated and built {built.triples} triples")
                record = check_build(read_build_record(work), work, base, created, onto_dir)
            result = _write_site(record, staging, base, previous, onto_dir, Path(repo), say)
            kill_point("publish")  # the site is written, its work folder still there
        make_readable(staging, **({"dirs": 0o700, "files": 0o600} if private else {}))
        _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        release(staging)
    result.site = Path(out_dir)
    return result


def check_build(record: BuildRecord, where: str | Path, base: str, created: str | None, onto_dir: Path,
                data_dir: str | Path | None = None) -> BuildRecord:
    """``record``, if publishing its build gives the site that publishing its records would.

    Refused with :class:`StaleBuildError` (exit 3, build again): a build by another version of
    chuzhi-graph, one made with ``--no-validate``, one whose ontology files differ from
    ``onto_dir``'s, and (given ``data_dir``) one not made from exactly the files in ``data_dir``.
    Refused with :class:`UsageError` (exit 2): another ``base``, or a ``created`` date that is not
    the build's (its dataset description holds the date). ``where`` names the graph in messages.
    """
    def stale(why: str) -> StaleBuildError:
        return StaleBuildError(f"{why}: run `chuzhi-graph build` again", file=where)

    if record.version != __version__:
        raise stale(f"built by chuzhi-graph {record.version}, this is {__version__}")
    if record.validated is None:
        raise stale("built with --no-validate, and only a validated graph is published")
    if record.base != base:
        raise UsageError(f"{where} was built with the base IRI {record.base}, not {base} (give that --base, "
                         "or build again)", field="--base")
    if created is not None and created != record.created:
        raise UsageError(f"{where} was built with --created {record.created or '(none)'}, not {created}: the "
                         "dataset description holds the date (give --created to build)", field="--created")
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DataError("no such folder of record tables (--data)", file=data_dir)
    now = source_hashes(data_dir, onto_dir)
    for prefix, folder in (("ontology/", onto_dir), ("data/", data_dir)):
        if folder is None:
            continue
        was = {k: v for k, v in record.sources.items() if k.startswith(prefix)}
        is_ = {k: v for k, v in now.items() if k.startswith(prefix)}
        for name in sorted(was.keys() | is_.keys()):
            if was.get(name) != is_.get(name):
                what = "changed" if name in was and name in is_ else "was added" if name in is_ else "was removed"
                raise stale(f"stale: {Path(folder) / name[len(prefix):]} {what} since the build")
    return record


def _copy_dumps(record: BuildRecord, ds_dir: Path, parts: Parts) -> dict[str, str]:
    """The build's dumps into the site, each checked against ``build.json``; name -> SHA-256."""
    digests = {}
    for name in parts.dumps:
        if name == "chuzhi.trig":  # the site's own
            continue
        source = record.folder / name
        if name != "void.ttl":  # the site's void.ttl is the build's with more (describe)
            source = Path(shutil.copy2(source, ds_dir / name))
        digest = sha256_file(source)
        if digest != record.files.get(name, {}).get("sha256"):
            raise StaleBuildError(f"{name} is not the file the build wrote (its SHA-256 is not the one in "
                                  "build.json): run `chuzhi-graph build` again", file=record.folder)
        digests[name] = digest
    return digests


def write_manifest(out: Path, ds_dir: Path, record: BuildRecord, base: str, parts: Parts,
                   graphs: dict[str, list[ox.Triple]], digests: dict[str, str],
                   ) -> tuple[dict[str, str], dict[str, Any]]:
    """dataset/SHA256SUMS and dataset/manifest.json; ``(path -> sha256, the manifest)``.

    ``digests``: the SHA-256 of the dumps copied from the build (the others are hashed here).
    """
    files = {f"dataset/{name}": digests[name] if name in digests and name != "void.ttl"
             else sha256_file(ds_dir / name) for name in parts.dumps}
    media = dump_files()
    (ds_dir / "SHA256SUMS").write_text(
        "".join(f"{digest}  {path.removeprefix('dataset/')}\n" for path, digest in files.items()), encoding="utf-8")
    manifest: dict[str, Any] = {
        "name": "chuzhi-graph dataset",
        "version": __version__,
        "date": record.date,
        "tool": f"chuzhi-graph {__version__}",
        "base": base,
        "licence": LICENSE,
        "counts": record.counts,
        "graphs": {name: len(ts) for name, ts in graphs.items()},
        "files": [{"path": path, "sha256": digest, "bytes": (out / path).stat().st_size,
                   "mediaType": media[path.removeprefix("dataset/")]} for path, digest in files.items()],
        "sources": record.sources,
    }
    (ds_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                          encoding="utf-8")
    return files, manifest


def write_home(out: Path, site: Site, record: BuildRecord, summary: str, manifest: dict[str, Any],
               graphs: dict[str, list[ox.Triple]], common: dict[str, Any]) -> None:
    """index.html: the dataset's title, counts, sources, how to cite it, its files and graphs."""
    base, date = site.base, record.date
    step("home page")
    ds = ox.NamedNode(f"{base}dataset")
    title_zh, title_en = site.labels(ds)
    sources = [{"page": site.pages.get(f"{base}source/{s['id']}", "index.html"), "title": s["title"],
                "publisher": s["publisher"], "issued": s["issued"], "url": s["url"] if _is_web_url(s["url"]) else ""}
               for s in record.documents]
    citation = (f"{title_zh}（{title_en}），版本 {__version__}，{date}。{base} ，CC BY 4.0。\n"
                f"{title_en}, version {__version__}, {date}. {base} (CC BY 4.0).")
    bibtex = (f"@misc{{chuzhi-graph-{__version__},\n  title = {{{title_zh} / {title_en}}},\n"
              f"  version = {{{__version__}}},\n  year = {{{date[:4]}}},\n  url = {{{base}}},\n"
              f"  note = {{CC BY 4.0}}\n}}")
    desc = {o.language: o.value for o in site.objects(ds, ox_iri("dct:description")) if isinstance(o, ox.Literal)}
    site.render(
        "index.html", out / "index.html", "", title="首页 Home", description_zh=desc.get("zh", ""),
        description_en=desc.get("en", ""), counts=record.counts, triples=record.counts["triples"], sources=sources,
        citation=citation, bibtex=bibtex, changes=summary,
        files=[{"path": f["path"], "media_type": f["mediaType"], "bytes": f["bytes"], "sha256": f["sha256"]}
               for f in manifest["files"]],
        graphs=[{"iri": name, "page": site.pages.get(name, "index.html"), "triples": len(ts)}
                for name, ts in graphs.items()],
        **common,
    )


def write_search(out: Path, site: Site) -> dict[str, int]:
    """search/: the index of unit names, aliases and case titles that the search box reads."""
    step("search index")
    alt = ox_iri("skos:altLabel")

    def entries(cls: str, kind: str) -> list[tuple[str, str, str, list[str]]]:
        out = []
        for s in site.of_class(cls):
            page = site.pages.get(s.value)
            name = site.labels(s)[0]
            if page and name:
                aliases = sorted({o.value for o in site.objects(s, alt) if isinstance(o, ox.Literal)} - {name})
                out.append((kind, page, name, aliases))
        return out

    started = time.perf_counter()
    counts = write_search_index(out, entries("Unit", "u"), entries("Case", "c"))
    log.info("search index: %d entries, %d shards, %d bytes in %.1f s", counts["entries"], counts["shards"],
             counts["bytes"], time.perf_counter() - started)
    return counts


def _write_site(record: BuildRecord, out: Path, base: str, previous: str | Path | None, onto_dir: Path,
                repo: Path, progress: Callable[[str], None]) -> PublishResult:
    """The site of the build ``record`` into ``out``, reading only the build folder and the ontology."""
    parts = plan_parts(record.folder, previous)
    step("dumps and description")
    ds_dir = out / "dataset"
    ds_dir.mkdir(parents=True)
    digests = _copy_dumps(record, ds_dir, parts)
    prefixes = data_prefixes(base)
    release = Release.open(ds_dir / "chuzhi.nt", base=base, ontology_dir=onto_dir)
    graphs = release.layout()
    write_trig(graphs, ds_dir / "chuzhi.trig", prefixes)
    void = describe(Release.open(record.folder, base=base).description(), base, ds_dir, graphs, parts)
    ox.serialize(void, str(ds_dir / "void.ttl"), ox.RdfFormat.TURTLE, prefixes={**prefixes, "spdx": SPDX})

    files, manifest = write_manifest(out, ds_dir, record, base, parts, graphs, digests)

    step("index the graph")
    remote_ok = {LICENSE} | {s["url"] for s in record.documents if s["url"]}
    site = Site([*release.triples(), *void], base, remote_ok)
    site.index_types()
    common = {"licence": LICENSE, "version": __version__, "date": record.date, "tool_version": __version__,
              "parts": parts}
    resource_pages = ResourcePages(site, out, common)  # in workers, while this process writes the rest
    try:
        write_list_pages(site, out, common)
        write_ontology(out, onto_dir, site, common)
        write_queries(out, release, site, common)
        if parts.graphs:
            write_graphs(out, release, site, common)
        summary = write_changes(out, previous, release, site, common, repo) if previous is not None else ""
        pages = resource_pages.wait()
    finally:
        resource_pages.stop()
    progress(f"wrote {pages} resource pages")
    shutil.copy2(ds_dir / "void.ttl", out / "dataset.ttl")  # over the dataset's own page Turtle
    (out / "static").mkdir()
    for asset in sorted(STATIC.iterdir()):
        shutil.copy2(asset, out / "static" / asset.name)

    write_home(out, site, record, summary, manifest, graphs, common)
    write_search(out, site)
    return PublishResult(out, files, pages, record.counts["triples"], manifest["graphs"], manifest, summary,
                         dict(release.loads))
