"""An extraction: the records ``extract`` assembles from an announcement, and the pieces both
of its readers share (the list reader :mod:`chuzhi_graph.extract.announcement`, the prose reader
:mod:`chuzhi_graph.extract.prose`): the source text, the result groups, the edition facts,
the one unit resolver, the registry's categories and tracks, the new source row.

>>> bare("（一）智慧 城市") == "(一)智慧城市"
True
>>> split_outside_brackets("武汉市公安局、华中科技大学（武汉、光谷）", "、")
['武汉市公安局', '华中科技大学（武汉、光谷）']
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chuzhi_graph.errors import SourceError
from chuzhi_graph.records.suggest import Suggester
from chuzhi_graph.records.tables import Dataset, Unit, normalise_name

_OPEN = "(（[【《“‘〔"


_CLOSE = ")）]】》”’〕"


@dataclass
class SourceText:
    """A source document as lines of text (1-based: ``lines[0]`` is line 1)."""

    path: Path
    lines: list[str]
    encoding: str
    html: bool = False
    title: str = ""  # the page title (<h1>/<title>) of an HTML page

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass
class Item:
    """One numbered line of the result list."""

    number: int
    applicants: list[str]
    title: str
    line: int


@dataclass
class Group:
    """One group heading of the result list and its items."""

    numeral: str
    heading: str
    line: int
    items: list[Item] = field(default_factory=list)
    stated: int | None = None
    stated_line: int | None = None
    label: str = ""
    category: str = ""
    known_category: bool = True

    @property
    def name(self) -> str:
        return f"({self.numeral}){self.heading}"


def split_outside_brackets(text: str, separators: str) -> list[str]:
    """Split ``text`` on any of ``separators`` that is not inside brackets or quotes.

    >>> split_outside_brackets("华中科大(CPSS、甲)团队、湖北楚天", "、")
    ['华中科大(CPSS、甲)团队', '湖北楚天']
    """
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch in separators and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


@dataclass
class Facts:
    """What the prose says about the edition, with the line of each statement."""

    caption: str = ""
    caption_line: int | None = None
    article_title: str = ""
    publisher: str = ""
    author: str = ""
    announced: str = ""
    launched_month: int | None = None
    launched_year: int | None = None
    meeting_month_day: tuple[int, int] | None = None
    meeting_line: int | None = None
    place_text: str = ""
    organisers: list[str] = field(default_factory=list)
    co_organisers: list[str] = field(default_factory=list)
    submissions: int | None = None
    online_vote: int | None = None
    awarded: int | None = None
    first_fact_line: int | None = None


def bare(text: str) -> str:
    """A name or label for comparison: full-width folded, quotes dropped."""
    return re.sub(r"[“”‘’\"'「」『』]", "", normalise_name(text))


@dataclass
class UnitReview:
    """An applicant or organiser not in the unit registry, with suggestions."""

    name: str
    id: str
    type: str  # unit-type label, or "" when none can be suggested
    region: str
    region_name: str
    nearest: list[tuple[str, int]]
    cases: list[str]
    line: int | None


@dataclass
class Extraction:
    """The records read from one announcement, ready to write or merge."""

    source: SourceText
    given: Path
    source_row: dict[str, str]
    source_is_new: bool
    edition: dict[str, str]
    categories: list[dict[str, str]]
    cases: list[dict[str, str]]
    new_units: list[dict[str, str]]
    new_regions: list[dict[str, str]]
    review: list[UnitReview]
    groups: list[Group]
    warnings: list[str]
    registry: Dataset
    suggested_domains: dict[str, list[str]]
    accepted: bool = False
    shape: str = "list"  # "list", or "prose": winners named in sentences (extract_prose)
    awards: list[Any] = field(default_factory=list)  # prose: extract_prose.AwardGroup


class UnitResolver:
    """Names as written -> registry names; unknown names collected for review with suggestions."""

    def __init__(self, registry: Dataset, suggester: Suggester) -> None:
        self.units = UnitIndex(registry.units)
        self.suggester = suggester
        self.review: dict[str, UnitReview] = {}
        self.new_regions: list[dict[str, str]] = []

    def resolve(self, name: str, case_id: str | None, line: int | None) -> str:
        """The registry name of ``name``, or ``name`` itself, noted for review, when unknown."""
        unit = self.units.get(name)
        if unit is not None:
            return unit.name_zh
        entry = self.review.get(normalise_name(name))
        if entry is None:
            suggester = self.suggester
            type_notation = suggester.unit_type(name)
            region = suggester.region(name)
            if region is not None:
                for row in region.new_rows:
                    if all(r["code"] != row["code"] for r in self.new_regions):
                        self.new_regions.append(row)
            entry = UnitReview(
                name=name, id=_unit_id(name), type=suggester.unit_type_label(type_notation),
                region=region.code if region else "", region_name=region.name_zh if region else "",
                nearest=suggester.nearest(name), cases=[], line=line,
            )
            self.review[normalise_name(name)] = entry
        if case_id and case_id not in entry.cases:
            entry.cases.append(case_id)
        return name

    def new_unit_rows(self, source: str) -> list[dict[str, str]]:
        """``units.csv`` rows for the unknown units, with suggested type and region.

        The name cites the line of ``source`` (a source id) it was read from.
        """
        return [
            {
                "id": r.id, "name_zh": r.name, "name_en": "", "type": r.type,
                "type_basis": "suggested" if r.type else "", "region": r.region,
                "region_basis": "suggested" if r.region else "", "parent": "", "aliases": "",
                "source": source if r.line else "", "source_line": str(r.line or ""),
                "name_basis": "" if r.line else "suggested",
                "note": "added by chuzhi-graph extract: check type and region"
                + (f"; nearest known: {', '.join(n for n, _ in r.nearest)}" if r.nearest else ""),
            }
            for r in self.review.values()
        ]


class UnitIndex:
    def __init__(self, units: list[Unit]) -> None:
        self.by_key: dict[str, Unit | None] = {}
        for u in units:
            self.by_key[normalise_name(u.name_zh)] = u
        for u in units:
            for alias in u.aliases:
                key = normalise_name(alias)
                if key in self.by_key and self.by_key[key] is not u:
                    other = self.by_key[key]
                    if normalise_name(other.name_zh if other else "") != key:
                        self.by_key[key] = None  # an alias of two units: ambiguous, not resolved
                else:
                    self.by_key[key] = u

    def get(self, name: str) -> Unit | None:
        return self.by_key.get(normalise_name(name))


def known_categories(registry: Dataset, edition_id: str) -> dict[str, tuple[str, str]]:
    """Normalised category label -> (id, English label); this edition's categories first."""
    out: dict[str, tuple[str, str]] = {}
    ordered = sorted(registry.categories, key=lambda c: (c.edition != edition_id, c.edition, c.position))
    for cat in ordered:
        out.setdefault(bare(cat.label_zh), (cat.id, cat.label_en))
    return out


def _unit_id(name: str) -> str:
    return "unit-" + hashlib.sha1(normalise_name(name).encode("utf-8")).hexdigest()[:8]


def known_track(vocab: Any, track_id: str, given: Path) -> str:
    """The track's id in the vocabulary (a name or id given), or a :class:`SourceError`."""
    found = vocab.track(track_id)
    if found is None:
        raise SourceError(f"unknown track {track_id!r} (known: {', '.join(vocab.tracks)})", file=given)
    return found


def new_source_row(text: SourceText, facts: Facts, edition_id: str, year: int) -> dict[str, str]:  # noqa: ARG001 (year unused; callers in two modules pass it)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", text.path.stem).strip("-.") or edition_id
    return {
        "id": f"source-{facts.announced}" if facts.announced else f"source-{edition_id}",
        "file": f"sources/{stem}.txt",
        "title": text.title or facts.article_title or facts.caption,
        "publisher": facts.publisher or "unknown",
        "author": facts.author, "issued": facts.announced, "url": "",
        "captured_from": f"text of {text.path.name}" + (" (HTML page)" if text.html else ""),
    }


def edition_of(text: str, registry: Dataset) -> tuple[int, str | None]:
    """``--edition`` as every command takes it (id, year or label) -> (year, track or None).

    A year leaves the track to the article; an edition of the registry is found by its id or
    its title; an id not yet registered is read as ``<track>-<year>`` with a known track.

    >>> from chuzhi_graph.records.tables import load_dataset
    >>> ds = load_dataset("data")
    >>> edition_of("2022", ds), edition_of("social-governance-2023", ds)
    ((2022, None), (2023, 'social-governance'))
    >>> edition_of("楚治——2022“荆楚杯”大数据驱动地方治理现代化创新应用十佳案例", ds)
    (2022, 'bigdata')
    """
    given = text.strip()
    if re.fullmatch(r"\d{4}", given):
        return int(given), None
    wanted = normalise_name(given)
    for ed in registry.editions:
        if given == ed.id or wanted in (normalise_name(ed.title_zh), normalise_name(ed.result_title or ed.title_zh)):
            return ed.year, ed.track
    match = re.fullmatch(r"([a-z0-9-]+)-(\d{4})", given)
    if match and match.group(1) in registry.vocabulary.tracks:
        return int(match.group(2)), match.group(1)
    known = ", ".join(e.id for e in registry.editions)
    raise SourceError(f"unknown edition {text!r}: give a year, an edition id ({known}, or a new "
                      f"<track>-<year>) or an edition's title", field="--edition")
