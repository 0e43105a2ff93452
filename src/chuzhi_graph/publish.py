"""Publish a release: a static dataset site with dumps, checksums, manifest and docs.

>>> result = publish("data", "out/site")                     # doctest: +SKIP
>>> (result.site / "index.html").is_file(), result.pages > 100   # doctest: +SKIP
(True, True)

The site (layout in ``docs/publish.md``) is built in a temporary folder beside the target
and swapped in only when complete, so a failed run leaves the previous site intact. The
graph is validated first (:func:`chuzhi_graph.build.build` refuses a graph that breaks the
shapes). Every IRI under the base gets ``<path>.html`` and ``<path>.ttl``: served at the
base with an extension rewrite, every IRI of the dataset resolves.

Named graphs of the TriG dump:

- ``{base}graph/edition/{id}``: an edition, its award categories, its cases (with their
  applicant lists);
- ``{base}graph/vocabulary``: the ontology and the SKOS schemes of ``ontology/*.ttl``;
- ``{base}graph/shared``: everything used across editions (units, regions, sources).
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import posixpath
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from jinja2 import Environment, FileSystemLoader, select_autoescape
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from chuzhi_graph import __version__
from chuzhi_graph.build import LICENSE, build, check_base, data_prefixes, release_date
from chuzhi_graph.errors import DataError, OutputError
from chuzhi_graph.namespace import CHZ, CHZ_IRI, DEFAULT_BASE, ONTOLOGY_IRI, PREFIXES
from chuzhi_graph.ontodoc import SHAPES_IRI, ontology_doc, ontology_turtle
from chuzhi_graph.vocabulary import VOCABULARY_FILES, ontology_dir, vocabulary_triples

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates" / "site"
STATIC = HERE / "static" / "site"
SPDX = "http://spdx.org/rdf/terms#"
DUMPS = {  # file -> media type
    "chuzhi.ttl": "text/turtle",
    "chuzhi.nt": "application/n-triples",
    "chuzhi.jsonld": "application/ld+json",
    "chuzhi.context.jsonld": "application/ld+json",
    "chuzhi.trig": "application/trig",
    "void.ttl": "text/turtle",
}
_LABEL_PREDICATES = tuple(URIRef(PREFIXES[p] + n) for p, n in
                          (("skos", "prefLabel"), ("rdfs", "label"), ("dct", "title")))
_KINDS = {  # class -> (zh, en, list page)
    CHZ.Case: ("案例", "Case", "cases.html"),
    CHZ.Unit: ("单位", "Unit", "units.html"),
    CHZ.Domain: ("治理领域", "Governance domain", "domains.html"),
    CHZ.Edition: ("届次", "Edition", "editions.html"),
}


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


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------- named graphs


def split_graphs(triples: list[ox.Triple], base: str, vocabulary: set[ox.Triple]) -> dict[str, list[ox.Triple]]:
    """Assign every triple to one named graph (see the module docstring).

    Blank nodes go to the graph of the IRI that reaches them.
    """
    rdf_type = ox.NamedNode(str(RDF.type))
    edition_of: dict[ox.NamedNode | ox.BlankNode, str] = {}
    for t in triples:
        if t.predicate.value in (str(CHZ.edition), str(CHZ.categoryEdition)):
            edition_of[t.subject] = t.object.value  # type: ignore[union-attr]
        elif t.predicate == rdf_type and t.object.value == str(CHZ.Edition):
            edition_of[t.subject] = t.subject.value
    for t in triples:  # applicant lists: follow blank-node objects from their owner
        if isinstance(t.object, ox.BlankNode) and t.subject in edition_of:
            edition_of[t.object] = edition_of[t.subject]
    changed = True
    while changed:  # rdf:rest chains
        changed = False
        for t in triples:
            if isinstance(t.object, ox.BlankNode) and t.subject in edition_of and t.object not in edition_of:
                edition_of[t.object] = edition_of[t.subject]
                changed = True
    graphs: dict[str, list[ox.Triple]] = defaultdict(list)
    for t in triples:
        if t in vocabulary:
            name = f"{base}graph/vocabulary"
        elif t.subject in edition_of:
            name = f"{base}graph/edition/" + edition_of[t.subject].rsplit("/", 1)[-1]
        else:
            name = f"{base}graph/shared"
        graphs[name].append(t)
    return dict(sorted(graphs.items()))


def write_trig(graphs: dict[str, list[ox.Triple]], path: Path, prefixes: dict[str, str]) -> None:
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g))
             for g, triples in graphs.items() for t in triples]
    ox.serialize(quads, str(path), ox.RdfFormat.TRIG, prefixes=prefixes)


# ---------------------------------------------------------------- dataset description


def describe(void_ttl: Path, base: str, dataset_dir: Path, graphs: dict[str, list[ox.Triple]]) -> list[ox.Triple]:
    """The build's VoID/DCAT description plus TriG, byte sizes, checksums and graph subsets."""
    nn, lit = ox.NamedNode, ox.Literal
    xsd = PREFIXES["xsd"]
    triples = [q.triple for q in ox.parse(path=str(void_ttl), format=ox.RdfFormat.TURTLE)]
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
        ox.Triple(trig, p("dcat:mediaType"), nn("https://www.iana.org/assignments/media-types/application/trig")),
        ox.Triple(trig, p("dcat:downloadURL"), trig),
        ox.Triple(ds, p("dcat:landingPage"), nn(base)),
    ]
    for name in ("chuzhi.ttl", "chuzhi.nt", "chuzhi.jsonld", "chuzhi.trig"):
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


def source_hashes(data_dir: Path, onto_dir: Path) -> dict[str, str]:
    """SHA-256 of every record file and source document, and of the ontology files."""
    out = {}
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
        out["data/" + path.relative_to(data_dir).as_posix()] = sha256_file(path)
    for name in (*VOCABULARY_FILES, "shapes.ttl"):
        if (onto_dir / name).is_file():
            out["ontology/" + name] = sha256_file(onto_dir / name)
    return out


# ---------------------------------------------------------------- pages


class Site:
    """The rendering context: the graph, page paths, labels and link rules."""

    def __init__(self, graph: Graph, base: str, remote_ok: set[str]) -> None:
        self.g = graph
        self.base = base
        self.remote_ok = remote_ok
        self.prefixes = {**data_prefixes(base), "spdx": SPDX}
        self.pages: dict[str, str] = {}  # IRI -> site path of its page
        for s in sorted({s for s in graph.subjects() if isinstance(s, URIRef)}, key=str):
            local = self.local(str(s))
            if local is not None:
                self.pages[str(s)] = local + ".html"
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(),
                               keep_trailing_newline=True)

    def local(self, iri: str) -> str | None:
        """The site path (without extension) of a dataset IRI that gets its own page."""
        if not iri.startswith(self.base) or iri.startswith((CHZ_IRI, SHAPES_IRI)) or iri == ONTOLOGY_IRI:
            return None
        local = iri[len(self.base):]
        if not local or "#" in local or "?" in local or local.rsplit("/", 1)[-1].count(".") or local.endswith("/"):
            return None
        return local

    def labels(self, node: Node) -> tuple[str, str]:
        zh = en = other = ""
        for p in _LABEL_PREDICATES:
            for o in self.g.objects(node, p):
                if isinstance(o, Literal):
                    if o.language == "zh" and not zh:
                        zh = str(o)
                    elif o.language == "en" and not en:
                        en = str(o)
                    elif not other:
                        other = str(o)
        return zh or other, en

    def short(self, iri: str) -> str:
        for prefix, ns in sorted(self.prefixes.items(), key=lambda kv: -len(kv[1])):
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{prefix}:{iri[len(ns):]}"
        return iri

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
        if iri.startswith(self.base + "dataset/") and iri[len(self.base):] in _dump_paths():
            return root + iri[len(self.base):]
        if iri == self.base:
            return root + "index.html"
        if iri in self.remote_ok and _is_web_url(iri):  # never javascript:, data:, ...
            return iri
        return None

    def node_html(self, node: Node, root: str) -> str:
        """One value of a table cell."""
        if isinstance(node, URIRef):
            iri = str(node)
            zh, en = self.labels(node)
            text = html.escape(zh or self.short(iri))
            if en and zh:
                text += f' <span lang="en">{html.escape(en)}</span>'
            link = self.href(iri, root)
            code = f' <code class="lang">{html.escape(self.short(iri))}</code>' if zh else ""
            if link is None:
                return f'<code title="{html.escape(iri)}">{html.escape(self.short(iri))}</code>'
            return f'<a href="{html.escape(link)}">{text}</a>{code}'
        if isinstance(node, BNode):
            if (node, RDF.first, None) in self.g:
                items = "".join(f"<li>{self.node_html(x, root)}</li>" for x in Collection(self.g, node))
                return f"<ol>{items}</ol>"
            return html.escape(node.n3())
        if isinstance(node, Literal):
            text = html.escape(str(node))
            if node.language:
                return f'<span lang="{node.language}">{text}</span><span class="lang">@{node.language}</span>'
            if node.datatype:
                return f'{text}<span class="lang">{html.escape(self.short(str(node.datatype)))}</span>'
            return text
        return html.escape(str(node))

    def prop_html(self, p: Node, root: str) -> str:
        zh, en = self.labels(p)
        link = self.href(str(p), root)
        short = html.escape(self.short(str(p)))
        label = f'{html.escape(zh)} <span lang="en">{html.escape(en)}</span>' if zh else short
        body = f'<a href="{html.escape(link)}">{label}</a>' if link else label
        return f'{body} <code class="lang">{short}</code>' if zh else body

    def rows(self, pairs: list[tuple[Node, Node]], root: str) -> list[dict[str, Any]]:
        grouped: dict[Node, list[Node]] = defaultdict(list)
        for p, o in pairs:
            grouped[p].append(o)
        order = sorted(grouped, key=lambda p: (p != RDF.type, self.short(str(p))))
        return [{"prop": self.prop_html(p, root),
                 "vals": [self.node_html(o, root) for o in sorted(grouped[p], key=_value_key)]}
                for p in order]

    def cbd(self, s: URIRef) -> Graph:
        """The resource's triples and those of the blank nodes it reaches."""
        out = Graph()
        for prefix, ns in self.prefixes.items():
            out.bind(prefix, ns)
        todo: list[Node] = [s]
        seen: set[Node] = set()
        while todo:
            cur = todo.pop()
            if cur in seen:
                continue
            seen.add(cur)
            for p, o in self.g.predicate_objects(cur):
                out.add((cur, p, o))
                if isinstance(o, BNode):
                    todo.append(o)
        return out

    def render(self, template: str, target: Path, root: str, **ctx: Any) -> None:
        text = self.env.get_template(template).render(root=root, **ctx)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")

    def kind(self, s: Node) -> tuple[str, str]:
        for cls in sorted(self.g.objects(s, RDF.type), key=str):
            if str(cls).startswith(CHZ_IRI):
                zh, en = self.labels(cls)
                return zh, en
        for cls in self.g.objects(s, RDF.type):
            return self.short(str(cls)), ""
        return "", ""


def _completeness(value: object) -> str:
    """The series (docs/series.md): whether the graph holds an edition's whole list, said plainly."""
    if value is None:
        return '未知 <span lang="en">not known</span>'
    if str(value) == "true":
        return '完整 <span lang="en">complete</span>'
    return '<strong>不完整：仅含来源提及的案例</strong> <span lang="en">partial: only the cases a source names</span>'


def _h(zh: str, en: str) -> str:
    """A bilingual table header."""
    return f'{zh} <span lang="en">{en}</span>'


def _value_key(o: Node) -> tuple[int, str]:
    if isinstance(o, Literal):
        return (0 if o.language == "zh" else 1 if o.language == "en" else 2, str(o))
    return (3, str(o))


def _dump_paths() -> set[str]:
    return {f"dataset/{name}" for name in DUMPS}


def _root_of(path: str) -> str:
    return "../" * path.count("/")


def write_resource_pages(site: Site, out: Path, common: dict[str, Any]) -> int:
    """One ``.html`` and one ``.ttl`` per IRI of the dataset."""
    inverse: dict[Node, list[tuple[Node, Node]]] = defaultdict(list)
    for s, p, o in site.g:
        if isinstance(o, URIRef) and isinstance(s, URIRef) and p != RDF.type and str(o) in site.pages:
            inverse[o].append((p, s))
    for iri, page in site.pages.items():
        s = URIRef(iri)
        root = _root_of(page)
        cbd = site.cbd(s)
        turtle = cbd.serialize(format="turtle")
        ttl_path = out / (page[: -len(".html")] + ".ttl")
        ttl_path.parent.mkdir(parents=True, exist_ok=True)
        ttl_path.write_text(turtle, encoding="utf-8", newline="\n")
        zh, en = site.labels(s)
        kind_zh, kind_en = site.kind(s)
        site.render(
            "resource.html", out / page, root, title=zh or iri, label_zh=zh or site.short(iri), label_en=en,
            iri=iri, ttl=posixpath.basename(str(ttl_path)), kind_zh=kind_zh, kind_en=kind_en,
            rows=site.rows(list(site.g.predicate_objects(s)), root),
            inverse=site.rows(inverse.get(s, []), root), turtle=turtle, **common,
        )
    return len(site.pages)


def _subjects(site: Site, cls: URIRef) -> list[URIRef]:
    return sorted((s for s in site.g.subjects(RDF.type, cls) if isinstance(s, URIRef)), key=str)


def write_list_pages(site: Site, out: Path, common: dict[str, Any]) -> None:
    """cases.html, units.html, domains.html, editions.html and resources.html."""
    g, link = site.g, (lambda n: site.node_html(n, ""))
    applicants_of: dict[Node, list[Node]] = defaultdict(list)
    for c, u in g.subject_objects(CHZ.applicant):
        applicants_of[u].append(c)
    cases_of_domain: dict[Node, list[Node]] = defaultdict(list)
    for c, d in g.subject_objects(CHZ.domain):
        cases_of_domain[d].append(c)

    def position(c: Node) -> tuple[str, int]:
        cat = g.value(c, CHZ.awardCategory)
        cat_pos = g.value(cat, CHZ.listPosition) if cat is not None else None
        pos = g.value(c, CHZ.listPosition)
        return (str(g.value(c, CHZ.edition)), int(cat_pos or 0) * 1000 + int(pos or 0))

    rows = []
    for c in sorted(_subjects(site, CHZ.Case), key=position):
        lst = g.value(c, CHZ.applicantList)
        apps = list(Collection(g, lst)) if lst is not None else sorted(g.objects(c, CHZ.applicant), key=str)
        rows.append([link(g.value(c, CHZ.awardCategory)), str(g.value(c, CHZ.listPosition)), link(c),
                     "<br>".join(link(u) for u in apps),
                     "<br>".join(link(d) for d in sorted(g.objects(c, CHZ.domain), key=str))])
    site.render("list.html", out / "cases.html", "", title="案例 Cases", heading_zh="案例", heading_en="Cases",
                sections=[{"header": [_h("奖项类别", "category"), _h("序号", "no."),
                                      _h("案例", "case"), _h("申报单位", "applicants"),
                                      _h("治理领域", "domains")], "rows": rows}],
                note="名单“排名不分先后”，序号不表示名次。<span lang=\"en\">The lists are unranked.</span>",
                **common)

    rows = [[link(u), link(g.value(u, CHZ.unitType)) if g.value(u, CHZ.unitType) else "",
             link(g.value(u, CHZ.region)) if g.value(u, CHZ.region) else "",
             "<br>".join(link(c) for c in sorted(applicants_of.get(u, []), key=str))]
            for u in _subjects(site, CHZ.Unit)]
    site.render("list.html", out / "units.html", "", title="单位 Units", heading_zh="单位", heading_en="Units",
                sections=[{"header": [_h("单位", "unit"), _h("类型", "type"),
                                      _h("行政区划", "region"),
                                      _h("申报案例", "cases applied for")], "rows": rows}], **common)

    rows = [[link(d), "<br>".join(link(b) for b in g.objects(d, URIRef(PREFIXES["skos"] + "broader"))),
             str(len(cases_of_domain.get(d, []))),
             "<br>".join(link(c) for c in sorted(cases_of_domain.get(d, []), key=str))]
            for d in _subjects(site, CHZ.Domain)]
    site.render("list.html", out / "domains.html", "", title="治理领域 Domains", heading_zh="治理领域",
                heading_en="Governance domains",
                sections=[{"header": [_h("领域", "domain"), _h("上位", "broader"),
                                      _h("案例数", "cases"), _h("案例", "cases")],
                           "rows": rows}], **common)

    rows = [[link(e), str(g.value(e, CHZ.year) or ""), link(g.value(e, CHZ.track)) if g.value(e, CHZ.track) else "",
             str(len(list(g.subjects(CHZ.edition, e)))), str(g.value(e, CHZ.awardedCount) or "—"),
             _completeness(g.value(e, CHZ.completeList))] for e in _subjects(site, CHZ.Edition)]
    site.render("list.html", out / "editions.html", "", title="届次 Editions", heading_zh="届次", heading_en="Editions",
                sections=[{"header": [_h("届次", "edition"), _h("年份", "year"),
                                      _h("赛道", "track"), _h("图中案例数", "cases in the graph"),
                                      _h("来源所称获奖数", "awarded (stated)"), _h("名单", "list")],
                           "rows": rows}], **common)

    by_kind: dict[tuple[str, str], list[str]] = defaultdict(list)
    for iri in site.pages:
        by_kind[site.kind(URIRef(iri))].append(iri)
    sections = [{"title": f"{zh} {en}".strip(), "id": f"kind-{i}", "header": [_h("资源", "resource")],
                 "rows": [[link(URIRef(iri))] for iri in sorted(iris)]}
                for i, ((zh, en), iris) in enumerate(sorted(by_kind.items()))]
    site.render("list.html", out / "resources.html", "", title="全部资源 All resources", heading_zh="全部资源",
                heading_en="All resources", sections=sections, **common)


def write_ontology(out: Path, onto_dir: Path, site: Site, common: dict[str, Any]) -> None:
    doc = ontology_doc(onto_dir)

    def link(value: str) -> str:
        iri = value
        for prefix, ns in PREFIXES.items():
            if value.startswith(prefix + ":"):
                iri = ns + value[len(prefix) + 1:]
        target = site.href(iri, "")
        text = html.escape(site.short(iri))
        return f'<a href="{html.escape(target)}">{text}</a>' if target else f"<code>{text}</code>"

    site.render("ontology.html", out / "def.html", "", title=doc.title_zh or "本体", doc=doc, link=link, **common)
    (out / "def.ttl").write_text(ontology_turtle(onto_dir), encoding="utf-8", newline="\n")
    (out / "shapes.ttl").write_text(ontology_turtle(onto_dir, shapes=True), encoding="utf-8", newline="\n")


def write_queries(out: Path, triples: list[ox.Triple], site: Site, common: dict[str, Any]) -> None:
    """queries.html: every shipped query with its current result."""
    from chuzhi_graph.query import run_query, shipped_queries
    from chuzhi_graph.questions import example_params

    items: list[dict[str, Any]] = []
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    (out / "queries").mkdir(parents=True, exist_ok=True)
    for q in shipped_queries():
        item: dict[str, Any] = {"name": q.name, "question_zh": q.question_zh, "question_en": q.question_en,
                                "text": q.text, "variables": [], "rows": [], "error": ""}
        (out / "queries" / f"{q.name}.rq").write_text(q.text, encoding="utf-8", newline="\n")
        # a parameterised question is shown for its declared example, never unbound
        params = example_params(store, q)
        item["params"] = [{"name": p.name, "kind": p.kind, "help": p.help, "value": params.get(p.name, "")}
                          for p in q.param_specs]
        result = run_query(store, q, params, timeout=60)  # a broken shipped query stops the release
        item["variables"] = [str(v).lstrip("?") for v in result.variables]
        item["rows"] = [[_cell(site, c) for c in row] for row in result.rows]
        items.append(item)
    site.render("queries.html", out / "queries.html", "", title="SPARQL 查询", queries=items, **common)


def _cell(site: Site, term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return site.node_html(URIRef(term.value), "")
    if isinstance(term, ox.Literal):
        return html.escape(term.value)
    return html.escape(str(term))


def write_graphs(out: Path, work: Path, base: str, site: Site, common: dict[str, Any]) -> None:
    """graphs.html and the interactive graphs (institutions, cases, domains)."""
    from chuzhi_graph.render import render_main_views

    graphs: list[dict[str, str]] = []
    views = work / "views"
    views.mkdir(exist_ok=True)
    for name in ("chuzhi.nt", "chuzhi.ttl", "chuzhi.jsonld", "chuzhi.context.jsonld", "void.ttl"):
        if (work / name).is_file():
            shutil.copy2(work / name, views / name)
    paths = render_main_views(views, base)
    target = out / "graphs"
    for path in paths:
        path = Path(path)
        rel = path.relative_to(views) if path.is_relative_to(views) else Path(path.name)
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / rel)
        graphs.append({"path": f"graphs/{rel.as_posix()}", "title": rel.stem})
    from chuzhi_graph.mapview import render_map  # issue 15: the map, linking to the resource pages

    render_map(views, target / "map.html", base=base, link_root="../")
    graphs.append({"path": "graphs/map.html", "title": "map"})
    for extra in sorted(views.iterdir()):  # assets the views share (scripts, styles)
        if extra.is_dir() and extra.name != "store":
            shutil.copytree(extra, target / extra.name, dirs_exist_ok=True)
    site.render("graphs.html", out / "graphs.html", "", title="交互式图谱 Graphs", graphs=graphs, **common)


def write_changes(out: Path, previous: str | Path, site: Site, common: dict[str, Any], repo: Path) -> str:
    """changes.html and changes.ttl: the diff against the previous release."""
    from chuzhi_graph.diff import diff_graphs, load_release, short, to_turtle

    old = load_release(previous, base=site.base, repo=repo)
    new = Graph().parse(out / "dataset" / "chuzhi.nt", format="nt")
    d = diff_graphs(old, new)
    changes = []
    for c in d.changes:
        link = site.href(c.iri, "")
        label = html.escape(f"{c.label or site.short(c.iri)}")
        changes.append({
            "link": f'<a href="{html.escape(link)}">{label}</a>' if link and c.status != "removed" else label,
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
    """Put the finished site in place: rename the old one away, rename the new one in."""
    if not target.exists():
        os.replace(staging, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(target, old)
    try:
        os.replace(staging, target)
    except OSError:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _is_web_url(url: str) -> bool:
    from chuzhi_graph.records import is_web_url

    return is_web_url(url)


def publish(
    data_dir: str | Path = "data",
    out_dir: str | Path = "out/site",
    base: str = DEFAULT_BASE,
    *,
    previous: str | Path | None = None,
    created: str | None = None,
    ontology_dir_: str | Path | None = None,
    repo: str | Path = ".",
    progress: Callable[[str], None] | None = None,
    private: bool = False,
) -> PublishResult:
    """Validate, build and write the static site to ``out_dir``; all or nothing.

    ``previous`` (a dump, folder or git revision, see :func:`chuzhi_graph.diff.load_release`)
    adds ``changes.html`` and ``changes.ttl``.
    """
    check_base(base)
    if not base.endswith("/"):
        raise DataError(f"publishing needs a base IRI ending in '/': {base!r}", field="--base")
    target = Path(out_dir)
    _check_target(target)
    # issue 17: staging and work folders are claimed (an flock while this process lives), so the
    # next run can remove those of killed runs; the site is world-readable unless ``private``
    from chuzhi_graph.fileio import claim, claimed_tempdir, clean_leftovers, make_readable, release

    clean_leftovers(target.parent, patterns=(f".{target.name}.*.tmp",))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = claim(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror}", file=target) from None
    try:
        with claimed_tempdir(prefix="chuzhi-publish-") as work:
            result = _write_site(Path(data_dir), staging, Path(work), base, previous, created,
                                 ontology_dir(ontology_dir_), Path(repo), progress or (lambda _: None))
        make_readable(staging, **({"dirs": 0o700, "files": 0o600} if private else {}))
        _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        release(staging)
    result.site = target
    return result


def _write_site(data_dir: Path, out: Path, work: Path, base: str, previous: str | Path | None,
                created: str | None, onto_dir: Path, repo: Path, progress: Callable[[str], None]) -> PublishResult:
    from chuzhi_graph.records import load_dataset

    built = build(data_dir, work, base, ontology_dir=onto_dir, created=created)
    progress(f"validated and built {built.triples} triples")
    dataset = load_dataset(data_dir, ontology_dir=onto_dir)
    ds_dir = out / "dataset"
    ds_dir.mkdir(parents=True)
    for name in ("chuzhi.ttl", "chuzhi.nt", "chuzhi.jsonld", "chuzhi.context.jsonld"):
        shutil.copy2(work / name, ds_dir / name)
    prefixes = data_prefixes(base)
    triples = [q.triple for q in ox.parse(path=str(work / "chuzhi.nt"), format=ox.RdfFormat.N_TRIPLES)]
    graphs = split_graphs(triples, base, set(vocabulary_triples(onto_dir, base)))
    write_trig(graphs, ds_dir / "chuzhi.trig", prefixes)
    void = describe(work / "void.ttl", base, ds_dir, graphs)
    void_prefixes = {**prefixes, "spdx": SPDX}
    ox.serialize(void, str(ds_dir / "void.ttl"), ox.RdfFormat.TURTLE, prefixes=void_prefixes)

    files = {f"dataset/{name}": sha256_file(ds_dir / name) for name in DUMPS}
    (ds_dir / "SHA256SUMS").write_text(
        "".join(f"{digest}  {path.removeprefix('dataset/')}\n" for path, digest in files.items()), encoding="utf-8")
    date = release_date(dataset, created)
    manifest: dict[str, Any] = {
        "name": "chuzhi-graph dataset",
        "version": __version__,
        "date": date,
        "tool": f"chuzhi-graph {__version__}",
        "base": base,
        "licence": LICENSE,
        "counts": {**built.counts, "triples": built.triples},
        "graphs": {name: len(ts) for name, ts in graphs.items()},
        "files": [{"path": path, "sha256": digest, "bytes": (out / path).stat().st_size,
                   "mediaType": DUMPS[path.removeprefix("dataset/")]} for path, digest in files.items()],
        "sources": source_hashes(data_dir, onto_dir),
    }
    (ds_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                                          encoding="utf-8")

    graph = Graph().parse(ds_dir / "chuzhi.nt", format="nt")
    graph.parse(ds_dir / "void.ttl", format="turtle")
    remote_ok = {LICENSE} | {s.url for s in dataset.sources if s.url}
    site = Site(graph, base, remote_ok)
    # the dataset IRI's Turtle is its whole description
    common = {"licence": LICENSE, "version": __version__, "date": date, "tool_version": __version__}
    pages = write_resource_pages(site, out, common)
    shutil.copy2(ds_dir / "void.ttl", out / "dataset.ttl")
    write_list_pages(site, out, common)
    write_ontology(out, onto_dir, site, common)
    write_queries(out, triples, site, common)
    write_graphs(out, work, base, site, common)
    summary = write_changes(out, previous, site, common, repo) if previous is not None else ""
    (out / "static").mkdir()
    shutil.copy2(STATIC / "site.css", out / "static" / "site.css")

    ds = URIRef(f"{base}dataset")
    title_zh, title_en = site.labels(ds)
    sources = [{"page": site.pages.get(f"{base}source/{s.id}", "index.html"), "title": s.title,
                "publisher": s.publisher, "issued": s.issued, "url": s.url if _is_web_url(s.url) else ""}
               for s in dataset.sources]
    citation = (f"{title_zh}（{title_en}），版本 {__version__}，{date}。{base} ，CC BY 4.0。\n"
                f"{title_en}, version {__version__}, {date}. {base} (CC BY 4.0).")
    bibtex = (f"@misc{{chuzhi-graph-{__version__},\n  title = {{{title_zh} / {title_en}}},\n"
              f"  version = {{{__version__}}},\n  year = {{{date[:4]}}},\n  url = {{{base}}},\n"
              f"  note = {{CC BY 4.0}}\n}}")
    desc = {str(o.language): str(o) for o in graph.objects(ds, URIRef(PREFIXES["dct"] + "description"))
            if isinstance(o, Literal)}
    site.render(
        "index.html", out / "index.html", "", title="首页 Home", description_zh=desc.get("zh", ""),
        description_en=desc.get("en", ""), counts=built.counts, triples=built.triples, sources=sources,
        citation=citation, bibtex=bibtex, changes=summary,
        files=[{"path": f["path"], "media_type": f["mediaType"], "bytes": f["bytes"], "sha256": f["sha256"]}
               for f in manifest["files"]],
        graphs=[{"iri": name, "page": site.pages.get(name, "index.html"), "triples": len(ts)}
                for name, ts in graphs.items()],
        **common,
    )
    progress(f"wrote {pages} resource pages")
    return PublishResult(out, files, pages, built.triples, manifest["graphs"], manifest, summary)
