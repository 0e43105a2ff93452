"""Validation of a mapped graph against the SHACL shapes in ``ontology/shapes.ttl``.

>>> from rdflib import Graph
>>> report = validate(Graph())
>>> report.conforms
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal
from rdflib.namespace import SH

from chuzhi_graph.errors import ValidationError
from chuzhi_graph.vocabulary import SHAPES_FILE, ontology_dir


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


def validate(graph: Graph, shapes: Graph | None = None) -> Report:
    """Run pySHACL (no inference: the dump states its types explicitly)."""
    from pyshacl import validate as shacl_validate

    shapes = shapes if shapes is not None else shapes_graph()
    conforms, results, text = shacl_validate(
        graph, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=False
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


def check(graph: Graph, shapes: Graph | None = None) -> Report:
    """Validate and raise :class:`ValidationError` naming the first violations."""
    report = validate(graph, shapes)
    if not report.conforms:
        shown = "; ".join(str(v) for v in report.violations[:5])
        more = len(report.violations) - 5
        tail = f" (and {more} more)" if more > 0 else ""
        raise ValidationError(f"the graph does not conform to the SHACL shapes: {shown}{tail}", report=report.text)
    return report
