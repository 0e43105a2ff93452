"""Ontology documentation: one HTML page for ``ontology/*.ttl``, Chinese first.

Every class, property and concept scheme of the chz: ontology with its @zh and @en
labels and definitions, its place in the hierarchy, domain and range, and the SHACL
shapes that constrain it. Each term has an anchor named after its local name, so that
``https://w3id.org/chuzhi/def#Case`` resolves to ``def.html#Case`` on the published site.

>>> doc = ontology_doc()
>>> [c.local for c in doc.classes][:2]
['AwardCategory', 'Basis']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import OWL, RDF, RDFS, SKOS, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

from chuzhi_graph.core.namespace import CHZ_IRI, ONTOLOGY_IRI, PREFIXES
from chuzhi_graph.core.vocabulary import SHAPES_FILE, ontology_dir, ontology_graph

SHAPES_IRI = "https://w3id.org/chuzhi/shapes#"


@dataclass
class Term:
    """One documented term: a class, a property or a concept scheme."""

    iri: str
    local: str
    kind: str
    label_zh: str = ""
    label_en: str = ""
    definition_zh: str = ""
    definition_en: str = ""
    facts: list[tuple[tuple[str, str], list[str]]] = field(default_factory=list)  # ((zh, en), prefixed values)
    shapes: list[str] = field(default_factory=list)  # one line per constraint
    members: list[tuple[str, str, str, str]] = field(default_factory=list)  # (iri, zh, en, anchor)
    tree: list[dict] = field(default_factory=list)  # concept scheme: {iri, zh, en, anchor, children}


@dataclass
class OntologyDoc:
    """What the documentation page shows."""

    iri: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    version: str
    classes: list[Term]
    properties: list[Term]
    schemes: list[Term]
    shapes: list[tuple[str, str, list[str]]]  # (local name, label, constraints)
    metadata: list[tuple[tuple[str, str], list[str]]] = field(default_factory=list)
    namespaces: list[tuple[str, str]] = field(default_factory=list)
    diagram: dict | None = None  # boxes and arrows of the class diagram (see class_diagram)


def _lang(graph: Graph, s: Node, p: URIRef, lang: str) -> str:
    values = sorted(str(o) for o in graph.objects(s, p) if isinstance(o, Literal) and o.language == lang)
    return values[0] if values else ""


def prefixed(node: Node) -> str:
    """An IRI as a prefixed name where one of :data:`PREFIXES` fits.

    >>> prefixed(URIRef("http://www.w3.org/2004/02/skos/core#Concept"))
    'skos:Concept'
    """
    text = str(node)
    for prefix, ns in sorted({**PREFIXES, "sh": str(SH)}.items(), key=lambda kv: -len(kv[1])):
        if text.startswith(ns) and len(text) > len(ns):
            return f"{prefix}:{text[len(ns):]}"
    if text.startswith(SHAPES_IRI):
        return "chzsh:" + text[len(SHAPES_IRI):]
    return text if isinstance(node, URIRef) else node.n3()


def _constraint(shapes: Graph, node: Node) -> str:
    """A property shape as one readable line: ``path: minCount 1, class chz:Unit``."""
    parts = []
    for p, o in sorted(shapes.predicate_objects(node), key=lambda po: str(po[0])):
        if p in (SH.path, SH.message, RDF.type):
            continue
        name = prefixed(p).removeprefix("sh:")
        if isinstance(o, BNode) and (o, RDF.first, None) in shapes:
            value = "(" + " ".join(prefixed(x) if isinstance(x, URIRef) else str(x)
                                   for x in Collection(shapes, o)) + ")"
        elif isinstance(o, URIRef):
            value = prefixed(o)
        else:
            value = str(o)
        parts.append(f"{name} {value}")
    path = shapes.value(node, SH.path)
    messages = [str(m) for m in shapes.objects(node, SH.message) if isinstance(m, Literal) and m.language == "zh"]
    line = f"{prefixed(path) if path is not None else '?'}: {', '.join(parts)}"
    return line + (f" — {messages[0]}" if messages else "")


Constraints = dict[Node, list[str]]


def _shapes(shapes: Graph) -> tuple[list[tuple[str, str, list[str]]], Constraints, Constraints]:
    """Each node shape as ``(local name, label, lines)``, and its lines by target class and by path."""
    by_class: Constraints = {}
    by_path: Constraints = {}
    shape_list = []
    for shape in sorted(set(shapes.subjects(RDF.type, SH.NodeShape)), key=str):
        lines = [_constraint(shapes, ps) for ps in shapes.objects(shape, SH.property)]
        lines.sort()
        local = str(shape).removeprefix(SHAPES_IRI)
        label = _lang(shapes, shape, RDFS.label, "zh") or local
        targets = [f"targetClass {prefixed(c)}" for c in shapes.objects(shape, SH.targetClass)]
        targets += [f"targetObjectsOf {prefixed(c)}" for c in shapes.objects(shape, SH.targetObjectsOf)]
        shape_list.append((local, label, targets + lines))
        for c in shapes.objects(shape, SH.targetClass):
            by_class.setdefault(c, []).extend(f"{local}: {line}" for line in lines)
        for ps in shapes.objects(shape, SH.property):
            path = shapes.value(ps, SH.path)
            if path is not None:
                by_path.setdefault(path, []).append(f"{local}: {_constraint(shapes, ps)}")
    return shape_list, by_class, by_path


def _term(g: Graph, s: URIRef, kind: str, by_class: Constraints, by_path: Constraints) -> Term:
    """One term: labels, definitions, its facts both ways and the shapes that constrain it."""
    t = Term(str(s), str(s)[len(CHZ_IRI):], kind,
             _lang(g, s, RDFS.label, "zh"), _lang(g, s, RDFS.label, "en"),
             _lang(g, s, SKOS.definition, "zh"), _lang(g, s, SKOS.definition, "en"))
    for name, p in ((("上位类", "subClassOf"), RDFS.subClassOf),
                    (("上位属性", "subPropertyOf"), RDFS.subPropertyOf),
                    (("定义域", "domain"), RDFS.domain), (("值域", "range"), RDFS.range),
                    (("类型", "type"), RDF.type)):
        values = sorted(prefixed(o) for o in g.objects(s, p))
        if values:
            t.facts.append((name, values))
    for name, p in ((("下位类", "superclass of"), RDFS.subClassOf),
                    (("作为定义域", "in domain of"), RDFS.domain), (("作为值域", "in range of"), RDFS.range)):
        values = sorted(prefixed(x) for x in g.subjects(p, s) if isinstance(x, URIRef))
        if values:
            t.facts.append((name, values))
    t.shapes = sorted(by_class.get(s, []) + by_path.get(s, []))
    return t


def _metadata(g: Graph, onto: URIRef) -> list[tuple[tuple[str, str], list[str]]]:
    """The ontology's Dublin Core and OWL header, as (zh, en) name and values."""
    metadata = []
    for name, p in ((("标题", "title"), URIRef(PREFIXES["dct"] + "title")),
                    (("许可", "licence"), URIRef(PREFIXES["dct"] + "license")),
                    (("创建者", "creator"), URIRef(PREFIXES["dct"] + "creator")),
                    (("发布者", "publisher"), URIRef(PREFIXES["dct"] + "publisher")),
                    (("创建日期", "created"), URIRef(PREFIXES["dct"] + "created")),
                    (("修改日期", "modified"), URIRef(PREFIXES["dct"] + "modified")),
                    (("版本 IRI", "version IRI"), OWL.versionIRI), (("导入", "imports"), OWL.imports)):
        values = sorted(str(o) for o in g.objects(onto, p))
        if values:
            metadata.append((name, values))
    return metadata


def ontology_doc(directory: str | Path | None = None) -> OntologyDoc:
    """Collect the terms of the ontology and the shapes that constrain them."""
    g = ontology_graph(directory)
    shapes = Graph().parse(ontology_dir(directory) / SHAPES_FILE, format="turtle")
    onto = URIRef(ONTOLOGY_IRI)
    shape_list, by_class, by_path = _shapes(shapes)

    def term(s: URIRef, kind: str) -> Term:
        return _term(g, s, kind, by_class, by_path)

    def chz_subjects(cls: URIRef) -> list[URIRef]:
        return sorted((s for s in set(g.subjects(RDF.type, cls))
                       if isinstance(s, URIRef) and str(s).startswith(CHZ_IRI)), key=str)

    classes = [term(s, "class") for s in chz_subjects(OWL.Class)]
    props = [term(s, "object property" if (s, RDF.type, OWL.ObjectProperty) in g else "datatype property")
             for s in sorted(set(chz_subjects(OWL.ObjectProperty)) | set(chz_subjects(OWL.DatatypeProperty)),
                             key=str)]
    schemes = []
    for s in chz_subjects(SKOS.ConceptScheme):
        t = term(s, "concept scheme")
        members = sorted(set(g.subjects(SKOS.inScheme, s)), key=str)
        t.members = [(str(m), _lang(g, m, SKOS.prefLabel, "zh"), _lang(g, m, SKOS.prefLabel, "en"),
                      str(m)[len(CHZ_IRI):] if str(m).startswith(CHZ_IRI) else "")
                     for m in members]
        t.tree = _tree(g, members)
        schemes.append(t)
    metadata = _metadata(g, onto)
    counts = (("类 / 属性 / 概念体系 / 约束", "classes / properties / concept schemes / shapes"),
              [f"{len(classes)} / {len(props)} / {len(schemes)} / {len(shape_list)}"])
    metadata.append(counts)
    namespaces = sorted({**PREFIXES, "sh": str(SH), "chzsh": SHAPES_IRI}.items())
    doc = OntologyDoc(
        ONTOLOGY_IRI, _lang(g, onto, RDFS.label, "zh"), _lang(g, onto, RDFS.label, "en"),
        _lang(g, onto, URIRef(PREFIXES["dct"] + "description"), "zh"),
        _lang(g, onto, URIRef(PREFIXES["dct"] + "description"), "en"),
        str(g.value(onto, OWL.versionInfo) or ""), classes, props, schemes, shape_list, metadata, namespaces,
    )
    doc.diagram = class_diagram(g, classes)
    return doc


def _tree(g: Graph, members: list[Node]) -> list[dict]:
    """The concepts of a scheme as a tree along ``skos:broader`` (top concepts first)."""
    inside = set(members)
    children: dict[Node, list[Node]] = {}
    tops = []
    for m in members:
        parents = [b for b in g.objects(m, SKOS.broader) if b in inside]
        if parents:
            for b in parents:
                children.setdefault(b, []).append(m)
        else:
            tops.append(m)

    def node(m: Node, seen: frozenset[Node]) -> dict:
        kids = [node(k, seen | {m}) for k in sorted(children.get(m, []), key=str) if k not in seen]
        return {"iri": str(m), "zh": _lang(g, m, SKOS.prefLabel, "zh"), "en": _lang(g, m, SKOS.prefLabel, "en"),
                "anchor": str(m)[len(CHZ_IRI):] if str(m).startswith(CHZ_IRI) else "", "children": kids}

    return [node(m, frozenset()) for m in sorted(tops, key=str)]


def _clip(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """Where the line from box ``a``'s centre to ``b`` leaves box ``b`` (140 x 32)."""
    dx, dy = a[0] - b[0], a[1] - b[1]
    if not dx and not dy:
        return b
    t = min(72 / abs(dx) if dx else 1e9, 18 / abs(dy) if dy else 1e9)
    return round(b[0] + dx * t, 1), round(b[1] + dy * t, 1)


def class_diagram(g: Graph, classes: list[Term], width: int = 900, height: int = 620) -> dict:
    """Boxes (classes, on an ellipse) and arrows (object properties from domain to range)."""
    import math

    locals_ = [c.local for c in classes]
    pos = {}
    for i, local in enumerate(locals_):
        angle = 2 * math.pi * i / max(len(locals_), 1) - math.pi / 2
        pos[local] = (round(width / 2 + (width / 2 - 90) * math.cos(angle), 1),
                      round(height / 2 + (height / 2 - 40) * math.sin(angle), 1))
    boxes = [{"x": pos[c.local][0], "y": pos[c.local][1], "zh": c.label_zh, "en": c.label_en, "local": c.local}
             for c in classes]
    pairs: dict[tuple[str, str], list[str]] = {}  # (domain, range) -> properties: one arrow each
    for p in sorted(set(g.subjects(RDF.type, OWL.ObjectProperty)), key=str):
        if not str(p).startswith(CHZ_IRI):
            continue
        for d in g.objects(p, RDFS.domain):
            for r in g.objects(p, RDFS.range):
                dl, rl = str(d)[len(CHZ_IRI):], str(r)[len(CHZ_IRI):]
                if dl in pos and rl in pos:
                    pairs.setdefault((dl, rl), []).append(prefixed(p))
    arrows = []
    for (dl, rl), names in sorted(pairs.items()):
        (x1, y1), (x2, y2) = _clip(pos[rl], pos[dl]), _clip(pos[dl], pos[rl])
        arrows.append({"x1": x1, "y1": y1, "x2": x2, "y2": y2, "self": dl == rl, "label": " / ".join(names),
                       "mx": round((x1 + x2) / 2, 1), "my": round((y1 + y2) / 2, 1)})
    return {"width": width, "height": height, "boxes": boxes, "arrows": arrows}


def ontology_turtle(directory: str | Path | None = None, *, shapes: bool = False) -> str:
    """The ontology and vocabularies (or the shapes) as one Turtle document."""
    if shapes:
        g = Graph().parse(ontology_dir(directory) / SHAPES_FILE, format="turtle")
    else:
        g = ontology_graph(directory)
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    g.bind("chzsh", SHAPES_IRI)
    return g.serialize(format="turtle")
