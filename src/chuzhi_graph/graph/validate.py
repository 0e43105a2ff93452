"""Validation of a mapped graph against the SHACL shapes in ``ontology/shapes.ttl``.

>>> from rdflib import Graph
>>> report = validate(Graph())
>>> report.conforms
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, Graph, Literal
from rdflib.namespace import SH
from rdflib.term import Node, _toPythonMapping

from chuzhi_graph.core.progress import counted
from chuzhi_graph.core.vocabulary import SHAPES_FILE, ontology_dir
from chuzhi_graph.errors import ValidationError


@dataclass
class Violation:
    """One SHACL result, reduced to what a curator needs to find the problem."""

    focus: str
    path: str
    message: str
    shape: str

    def __str__(self) -> str:
        path = f" {self.path}" if self.path else ""
        return f"<{self.focus}>{path}: {self.message}"


@dataclass
class Report:
    conforms: bool
    violations: list[Violation] = field(default_factory=list)
    text: str = ""


def shapes_graph(directory: str | Path | None = None) -> Graph:
    """The SHACL shapes as an rdflib graph."""
    return Graph().parse(ontology_dir(directory) / SHAPES_FILE, format="turtle")


#: pySHACL inference modes the build runs: as stated, and as an RDFS-reasoning store sees it


@contextmanager
def preserved_literal_conversions() -> Iterator[None]:
    """Undo what owlrl does to rdflib's global lexical-to-value table.

    owlrl (which pySHACL runs for RDFS inference) installs its own converters for XSD types
    and restores only rdflib's own keys afterwards: from then on rdflib checks the lexical form
    of xsd:gYear and others, in the whole process. A validation must not change how later
    code reads literals.
    """
    saved = dict(_toPythonMapping)
    try:
        yield
    finally:
        _toPythonMapping.clear()
        _toPythonMapping.update(saved)


def validate(graph: Graph, shapes: Graph | None = None, inference: str = "none") -> Report:
    """Run pySHACL. ``inference="none"`` checks the dump as stated (it states its types
    explicitly); ``"rdfs"`` checks it as a store with RDFS reasoning sees it (the dump holds
    the ontology, so domains and ranges add types: an ill-fitting domain shows up here)."""
    from pyshacl import validate as shacl_validate

    shapes = shapes if shapes is not None else shapes_graph()
    with preserved_literal_conversions():
        conforms, results, text = shacl_validate(
            graph, shacl_graph=shapes, inference=inference, advanced=False, allow_warnings=False
        )
    violations = []
    for result in sorted(results.subjects(SH.focusNode, None), key=str):
        msgs = [m for m in results.objects(result, SH.resultMessage) if isinstance(m, Literal)]
        en = [str(m) for m in msgs if m.language == "en"] or [str(m) for m in msgs]
        violations.append(
            Violation(
                focus=str(results.value(result, SH.focusNode)),
                path=_short(results.value(result, SH.resultPath)),
                message=sorted(en)[0] if en else "constraint violated",
                shape=str(results.value(result, SH.sourceShape)),
            )
        )
    violations.sort(key=lambda v: (v.focus, v.path, v.message))
    return Report(bool(conforms), violations, str(text))


def _short(term: object) -> str:
    if term is None:
        return ""
    text = str(term)
    for sep in ("#", "/"):
        if sep in text:
            return text.rsplit(sep, 1)[1]
    return text


def check(graph: Graph, shapes: Graph | None = None, inference: tuple[str, ...] = ("none",)) -> Report:
    """Validate (once per inference mode) and raise :class:`ValidationError` naming the first violations."""
    report = Report(True)
    for mode in inference:
        report = raise_unless_conforms(validate(graph, shapes, mode), mode)
    return report


def raise_unless_conforms(report: Report, inference: str = "none") -> Report:
    """Return ``report`` if it conforms, else raise :class:`ValidationError` naming the first five."""
    if not report.conforms:
        shown = "; ".join(str(v) for v in report.violations[:5])
        more = len(report.violations) - 5
        tail = f" (and {more} more)" if more > 0 else ""
        mode = " under RDFS inference" if inference == "rdfs" else ""
        raise ValidationError(f"the graph does not conform to the SHACL shapes{mode}: {shown}{tail}",
                              report=report.text)
    return report


# ---------------------------------------------------------------- compiled shapes (decision 0002)
#
# pySHACL over an rdflib copy takes minutes at 100,000 cases. The shapes file stays the one
# source of the rules: :func:`compile_shapes` reads it and refuses any construct it does not
# implement, and :func:`validate_triples` checks the compiled rules in one pass over the
# pyoxigraph triples. ``tests/test_scale.py`` checks that both engines reject the
# same bad inputs (same focus nodes and paths).

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE_IRI = RDF_NS + "type"
RDFS_SUBCLASS_IRI = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
LANG_STRING = RDF_NS + "langString"
XSD_NS = "http://www.w3.org/2001/XMLSchema#"

#: lexical forms pySHACL accepts for the datatypes the shapes use (ill-formed values fail)
_LEXICAL = {
    XSD_NS + "positiveInteger": re.compile(r"[+]?0*[1-9][0-9]*"),
    XSD_NS + "nonNegativeInteger": re.compile(r"[+]?[0-9]+|-0+"),
    XSD_NS + "integer": re.compile(r"[+-]?[0-9]+"),
    XSD_NS + "gYear": re.compile(r"-?[0-9]{4,}(Z|[+-][0-9]{2}:[0-9]{2})?"),
    XSD_NS + "gYearMonth": re.compile(r"-?[0-9]{4,}-(0[1-9]|1[0-2])(Z|[+-][0-9]{2}:[0-9]{2})?"),
    XSD_NS + "date": re.compile(r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?"),
}
#: the SHACL terms :func:`compile_shapes` implements; any other sh: term is refused
_SUPPORTED = {
    "NodeShape", "property", "path", "targetClass", "targetObjectsOf", "minCount", "maxCount",
    "class", "datatype", "pattern", "flags", "in", "hasValue", "languageIn", "uniqueLang", "message",
    "name", "description",
}


@dataclass(frozen=True)
class PropertyRule:
    """One property shape of ``shapes.ttl``, with the node shape's targets, ready to check."""

    shape: str
    target_class: tuple[str, ...]
    target_objects_of: tuple[str, ...]
    path: str
    min_count: int | None = None
    max_count: int | None = None
    classes: tuple[str, ...] = ()
    datatype: str | None = None
    pattern: re.Pattern[str] | None = None
    in_values: frozenset[str] | None = None  # N-Triples form of each allowed term
    has_value: str | None = None  # N-Triples form
    language_in: tuple[str, ...] | None = None
    unique_lang: bool = False
    message: str = ""


def compile_shapes(shapes: Graph | None = None) -> list[PropertyRule]:
    """The shapes as :class:`PropertyRule` objects; refuses SHACL it cannot check exactly.

    >>> rules = compile_shapes()
    >>> any(r.path.endswith("#applicant") and r.min_count == 1 for r in rules)
    True
    """
    from rdflib import BNode, URIRef
    from rdflib.collection import Collection

    shapes = shapes if shapes is not None else shapes_graph()
    sh = str(SH)
    for p in set(shapes.predicates()) | set(shapes.objects(None, RDF.type)):
        text = str(p)
        if text.startswith(sh) and text[len(sh):] not in _SUPPORTED:
            raise ValidationError(f"shapes.ttl uses {text}, which the compiled validator does not implement")
    rules: list[PropertyRule] = []
    for node in sorted(set(shapes.subjects(RDF.type, SH.NodeShape)), key=str):
        classes = tuple(sorted(str(c) for c in shapes.objects(node, SH.targetClass)))
        objects_of = tuple(sorted(str(c) for c in shapes.objects(node, SH.targetObjectsOf)))
        for prop in shapes.objects(node, SH.property):
            path = shapes.value(prop, SH.path)
            if not isinstance(path, URIRef):
                raise ValidationError(f"shape {node}: only predicate paths are compiled, not {path!r}")

            def one(term: URIRef, prop: Node = prop) -> Node | None:
                return shapes.value(prop, term)

            def listed(term: URIRef, prop: Node = prop) -> list[Node] | None:
                head = shapes.value(prop, term)
                return None if head is None else list(Collection(shapes, head)) if isinstance(head, BNode) else [head]

            pattern = one(SH.pattern)
            flags = str(one(SH.flags) or "")
            in_values = listed(SH["in"])
            has_value = one(SH.hasValue)
            languages = listed(SH.languageIn)
            msgs = [m for m in shapes.objects(prop, SH.message) if isinstance(m, Literal)]
            en = sorted(str(m) for m in msgs if m.language == "en") or sorted(str(m) for m in msgs)
            rules.append(PropertyRule(
                shape=str(node), target_class=classes, target_objects_of=objects_of, path=str(path),
                min_count=_int(one(SH.minCount)), max_count=_int(one(SH.maxCount)),
                classes=tuple(sorted(str(c) for c in shapes.objects(prop, SH["class"]))),
                datatype=str(one(SH.datatype)) if one(SH.datatype) is not None else None,
                pattern=re.compile(str(pattern), re.IGNORECASE if "i" in flags else 0) if pattern is not None else None,
                in_values=frozenset(t.n3() for t in in_values) if in_values is not None else None,
                has_value=has_value.n3() if has_value is not None else None,
                language_in=tuple(str(x).lower() for x in languages) if languages is not None else None,
                unique_lang=bool(one(SH.uniqueLang) and one(SH.uniqueLang).toPython()),  # type: ignore[union-attr]
                message=en[0] if en else "",
            ))
    return rules


def _int(term: object) -> int | None:
    return None if term is None else int(str(term))


def validate_triples(triples: Iterable[ox.Triple], rules: list[PropertyRule] | None = None) -> Report:
    """Check pyoxigraph triples against the compiled shapes: the fast path for large graphs.

    >>> validate_triples([]).conforms
    True
    """
    return validate_ntriples(_ntriples(triples), rules)


def validate_ntriples(lines: Iterable[bytes], rules: list[PropertyRule] | None = None) -> Report:  # noqa: C901 (the compiled validator's hot loop, one frame for speed: decision 0002)
    """Check N-Triples lines (as pyoxigraph writes them) against the compiled shapes.

    The build already has these lines (it sorts them for ``chuzhi.nt``); indexing plain
    bytes is several times faster than touching a Python object per RDF term.

    >>> validate_ntriples([b'<http://x/a> <http://x/p> "v" .']).conforms
    True
    """
    rules = rules if rules is not None else compile_shapes()
    wanted = {f"<{r.path}>".encode() for r in rules} | {f"<{p}>".encode() for r in rules for p in r.target_objects_of}
    wanted |= {f"<{RDF_TYPE_IRI}>".encode(), f"<{RDFS_SUBCLASS_IRI}>".encode()}
    by_pred: dict[bytes, dict[bytes, list[bytes]]] = {p: {} for p in wanted}
    for line in counted(lines, 50_000):  # N/M on a terminal: the build's step counts the triples
        s, p, o = line.split(b" ", 2)
        index = by_pred.get(p)
        if index is not None:
            o = o[:-2] if o.endswith(b" .") else o.rstrip()[:-2]
            values = index.get(s)
            if values is None:
                index[s] = [o]
            else:
                values.append(o)
    types = {node: frozenset(cs) for node, cs in by_pred[f"<{RDF_TYPE_IRI}>".encode()].items()}
    supers: dict[bytes, set[bytes]] = {}
    for sub, objs in by_pred[f"<{RDFS_SUBCLASS_IRI}>".encode()].items():
        supers.setdefault(sub, set()).update(objs)

    @cache
    def accepted(classes: tuple[str, ...]) -> frozenset[bytes]:
        """The classes and every class declared a subclass of one of them (transitively)."""
        out, changed = {f"<{c}>".encode() for c in classes}, True
        while changed:
            changed = False
            for sub, sups in supers.items():
                if sub not in out and not sups.isdisjoint(out):
                    out.add(sub)
                    changed = True
        return frozenset(out)

    def instance_of(node: bytes, classes: tuple[str, ...]) -> bool:
        cs = types.get(node)
        return cs is not None and not cs.isdisjoint(accepted(classes))

    @cache
    def focus_nodes(target_class: tuple[str, ...], objects_of: tuple[str, ...]) -> list[bytes]:
        focus: set[bytes] = set()
        if target_class:
            wanted_classes = accepted(target_class)
            focus.update(s for s, cs in types.items() if not cs.isdisjoint(wanted_classes))
        for p in objects_of:
            focus.update(o for objs in by_pred[f"<{p}>".encode()].values() for o in objs)
        return sorted(focus)

    violations: list[Violation] = []
    empty: list[bytes] = []
    for rule in rules:
        index = by_pred[f"<{rule.path}>".encode()]
        quick = _quick_check(rule, types, accepted)
        for node in focus_nodes(rule.target_class, rule.target_objects_of):
            values = index.get(node, empty)
            if not quick(values):
                for message in _check(rule, values, instance_of):
                    text = rule.message or message
                    violations.append(Violation(_node_text(node), _short(rule.path), text, rule.shape))
    violations.sort(key=lambda v: (v.focus, v.path, v.message))
    text = "\n".join(str(v) for v in violations)
    return Report(not violations, violations, text)


def _quick_check(  # noqa: C901 (its branches are the kinds of constraint a rule can carry)
    rule: PropertyRule, types: dict[bytes, frozenset[bytes]], accepted: Callable[[tuple[str, ...]], frozenset[bytes]]
) -> Callable[[list[bytes]], bool]:
    """A fast test that is True only when ``values`` surely meet ``rule``; :func:`_check` explains failures.

    Most focus nodes conform, and one generic call per node and rule dominated the time.
    """
    low = rule.min_count or 0
    high = rule.max_count if rule.max_count is not None else 1 << 62
    classes = accepted(rule.classes) if rule.classes else None
    suffix = f'"^^<{rule.datatype}>'.encode() if rule.datatype and rule.datatype != LANG_STRING else None
    lexical = _LEXICAL.get(rule.datatype or "")
    lexical_bytes = None
    if lexical is not None and rule.datatype != XSD_NS + "date":
        lexical_bytes = re.compile(lexical.pattern.encode())
    wants_lang = rule.datatype == LANG_STRING or rule.language_in is not None or rule.unique_lang
    languages = tuple(x.encode() for x in rule.language_in) if rule.language_in is not None else None
    generic = (
        rule.has_value is not None or rule.pattern is not None or rule.in_values is not None
        or (suffix is not None and lexical is not None and lexical_bytes is None)
    )
    if generic:
        return lambda _values: False
    no_types: frozenset[bytes] = frozenset()

    def quick(values: list[bytes]) -> bool:
        if not low <= len(values) <= high:
            return False
        seen: set[bytes] = set()
        for v in values:
            if classes is not None and types.get(v, no_types).isdisjoint(classes):
                return False
            if suffix is not None:
                if not v.endswith(suffix):
                    return False
                if lexical_bytes is not None and not lexical_bytes.fullmatch(v, 1, len(v) - len(suffix)):
                    return False
            if wants_lang:
                head, sep, lang = v.rpartition(b'"@')
                if not sep or not head.startswith(b'"'):
                    if rule.datatype == LANG_STRING or languages is not None:
                        return False
                    continue
                lang = lang.lower()
                if languages is not None and lang not in languages:
                    return False  # a sub-tag such as zh-Hans goes to the exact check
                if rule.unique_lang:
                    if lang in seen:
                        return False
                    seen.add(lang)
        return True

    return quick


def _node_text(term: bytes) -> str:
    text = term.decode()
    if text.startswith("<"):
        return text[1:-1]
    return text[2:] if text.startswith("_:") else text


_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_SIMPLE = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m[1] or m[2], 16)) if (m[1] or m[2]) else _SIMPLE.get(m[3], m[3]), text)


def parse_literal(term: bytes) -> tuple[str, str, str] | None:
    r"""(lexical form, datatype IRI, language) of an N-Triples literal; None for an IRI or blank node.

    >>> parse_literal(b'"1"^^<http://www.w3.org/2001/XMLSchema#gYear>')[1][-5:]
    'gYear'
    >>> parse_literal(b'"\\u6e56\\u5317"@zh')
    ('湖北', 'http://www.w3.org/1999/02/22-rdf-syntax-ns#langString', 'zh')
    """
    if not term.startswith(b'"'):
        return None
    text = term.decode()
    end = text.rindex('"')
    lexical, tail = _unescape(text[1:end]), text[end + 1 :]
    if tail.startswith("@"):
        return lexical, LANG_STRING, tail[1:]
    if tail.startswith("^^<"):
        return lexical, tail[3:-1], ""
    return lexical, XSD_NS + "string", ""


def _check(
    rule: PropertyRule, values: list[bytes], instance_of: Callable[[bytes, tuple[str, ...]], bool]
) -> list[str]:
    """Messages for each constraint of ``rule`` that ``values`` (of one focus node) break."""
    out = []
    if rule.min_count is not None and len(values) < rule.min_count:
        out.append(f"Less than {rule.min_count} values")
    if rule.max_count is not None and len(values) > rule.max_count:
        out.append(f"More than {rule.max_count} values")
    if rule.has_value is not None and rule.has_value.encode() not in values:
        out.append(f"Missing value {rule.has_value}")
    needs_literal = rule.datatype or rule.pattern or rule.language_in is not None or rule.unique_lang
    langs: dict[str, int] = {}
    for v in values:
        if rule.classes and (v.startswith(b'"') or not instance_of(v, rule.classes)):
            out.append(f"Value {v.decode()} is not of class {', '.join(rule.classes)}")
        if rule.in_values is not None and v.decode() not in rule.in_values:
            out.append(f"Value {v.decode()} is not in the allowed list")
        if not needs_literal:
            continue
        literal = parse_literal(v)
        lexical, datatype, language = literal if literal is not None else (_node_text(v), "", "")
        if rule.datatype is not None and (
            literal is None or datatype != rule.datatype or not _well_formed(lexical, datatype)
        ):
            out.append(f"Value {v.decode()} is not a well-formed {rule.datatype}")
        if rule.pattern is not None and (v.startswith(b"_:") or not rule.pattern.search(lexical)):
            out.append(f"Value {v.decode()} does not match {rule.pattern.pattern}")
        lang = language.lower()
        if rule.language_in is not None and not (
            lang and any(lang == x or lang.startswith(x + "-") for x in rule.language_in)
        ):
            out.append(f"Value {v.decode()} has no language among {', '.join(rule.language_in)}")
        if lang:
            langs[lang] = langs.get(lang, 0) + 1
    if rule.unique_lang:
        out += [f"More than one value with language {lang}" for lang, n in sorted(langs.items()) if n > 1]
    return out


def _well_formed(lexical: str, datatype: str) -> bool:
    pattern = _LEXICAL.get(datatype)
    if pattern is None:
        return True
    if not pattern.fullmatch(lexical):
        return False
    if datatype == XSD_NS + "date":
        try:
            date.fromisoformat(lexical.lstrip("-")[:10])
        except ValueError:
            return False
    return True


def check_triples(triples: Iterable[ox.Triple], rules: list[PropertyRule] | None = None) -> Report:
    """:func:`validate_triples`, raising :class:`ValidationError` as :func:`check` does."""
    return check_ntriples(_ntriples(triples), rules)


def _ntriples(triples: Iterable[ox.Triple]) -> list[bytes]:
    data = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES)
    assert data is not None  # without an output file the bytes are returned
    return data.splitlines()


def check_ntriples(lines: Iterable[bytes], rules: list[PropertyRule] | None = None) -> Report:
    """:func:`validate_ntriples`, raising :class:`ValidationError` as :func:`check` does."""
    return raise_unless_conforms(validate_ntriples(lines, rules))
