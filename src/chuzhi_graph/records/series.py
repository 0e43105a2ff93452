"""The series' facts in RDF: completeness, run-by units, announcements as written, call reports, reliability.

The 楚治 series is known from sources of unequal weight and coverage (docs/series.md). These
triples say how much of an edition the graph holds (``chz:completeList``; the count the source
states stays ``chz:awardedCount``), who ran it (``chz:runBy``), when and where its results were
announced in the source's own words (``chz:announcementEvent``, ``chz:announcedAs``), which
source reported its call for entries (``chz:callDocument``, ``chz:callSourceLine``) and how far
each source can be trusted (``chz:reliability``).

>>> from chuzhi_graph.records.tables import Edition
>>> from chuzhi_graph.graph.mapping import Iris
>>> ed = Edition("e", "bigdata", 2022, "t", complete="no")
>>> [t.predicate.value.rsplit("#")[-1] for t in edition_triples(ed, Iris())]
['completeList']
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from chuzhi_graph.core.namespace import OX, RELIABILITY_BY_NOTATION
from chuzhi_graph.records.tables import Edition, Source

if TYPE_CHECKING:  # the mapping (a later stage) calls these with its IRI maker
    from chuzhi_graph.graph.mapping import Iris

_BOOLEAN = ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
_POSITIVE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#positiveInteger")
_NOTE = ox.NamedNode("http://www.w3.org/2004/02/skos/core#editorialNote")


def edition_triples(ed: Edition, iris: Iris) -> list[ox.Triple]:
    """The edition's completeness, run-by units, call report and note."""
    s = iris.edition(ed.id)
    t = [ox.Triple(s, OX.runBy, iris.unit(u)) for u in ed.run_by]
    if ed.complete:
        t.append(ox.Triple(s, OX.completeList, ox.Literal("true" if ed.complete == "yes" else "false",
                                                            datatype=_BOOLEAN)))
    if ed.call_source:
        t.append(ox.Triple(s, OX.callDocument, iris.source(ed.call_source)))
        if ed.call_source_line:
            t.append(ox.Triple(s, OX.callSourceLine, ox.Literal(str(ed.call_source_line), datatype=_POSITIVE)))
    if ed.launched_line:
        t.append(ox.Triple(s, OX.launchedSourceLine, ox.Literal(str(ed.launched_line), datatype=_POSITIVE)))
    if ed.note:
        t.append(ox.Triple(s, _NOTE, ox.Literal(ed.note)))
    return t


def announcement_triples(ed: Edition, subject: ox.NamedNode) -> list[ox.Triple]:
    """When and where the results were announced, as the source writes it."""
    t = []
    if ed.event:
        t.append(ox.Triple(subject, OX.announcementEvent, ox.Literal(ed.event, language="zh")))
    if ed.announced_text:
        t.append(ox.Triple(subject, OX.announcedAs, ox.Literal(ed.announced_text, language="zh")))
    if ed.announced_line:
        t.append(ox.Triple(subject, OX.issuedSourceLine, ox.Literal(str(ed.announced_line), datatype=_POSITIVE)))
    return t


def source_triples(src: Source, iris: Iris) -> list[ox.Triple]:
    """The source document's reliability."""
    if not src.reliability:
        return []
    concept = ox.NamedNode(str(RELIABILITY_BY_NOTATION[src.reliability]))
    return [ox.Triple(iris.source(src.id), OX.reliability, concept)]


# a mirror's encoding damage: pinyin glosses after characters, 網(wǎng)
_PINYIN_GLOSS = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")


@cache
def _t2s() -> Any:  # an opencc.OpenCC (untyped)
    import opencc

    return opencc.OpenCC("t2s")


def readable(text: str) -> str:
    """A source line as the records write it: pinyin glosses dropped, traditional characters simplified.

    >>> readable("荊楚網(wǎng)(湖北日報(bào)網(wǎng))在2020年7月順勢推出")
    '荆楚网(湖北日报网)在2020年7月顺势推出'
    """
    text = _PINYIN_GLOSS.sub("", text)
    if not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return text
    return _t2s().convert(text)


def traditional_share(text: str) -> float:
    """The share of Chinese characters that OpenCC's t2s would change (about 0 for simplified text)."""
    han = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    if not han:
        return 0.0
    converted = _t2s().convert(text)
    changed = sum(1 for a, b in zip(text, converted, strict=False) if a != b and "\u4e00" <= a <= "\u9fff")
    return changed / len(han)
