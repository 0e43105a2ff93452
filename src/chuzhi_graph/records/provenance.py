"""Provenance: which line of which source document a fact comes from, or what basis it has.

Every statement about a case, unit or edition either cites a line of a registered source
document or carries a basis (``chz:StatedInSource``, ``chz:DerivedFromName``,
``chz:CuratorJudgement``, ``chz:AutomaticSuggestion``). This module

- finds the line of each alias whose basis is ``source`` (:func:`alias_lines`; the build
  refuses an alias said to be in a source that is not there);
- audits the cited lines of a data folder against the texts (:func:`audit`): a case's title
  and its applicants on the case's line, a unit's name on the unit's line, an edition's
  organisers in its source. The shipped data passes; synthetic corpora cite no real text,
  so the build does not run the audit, the tests do.

The counts of sourced facts and judgements are a query on the built graph:
``chuzhi-graph query provenance-summary``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from chuzhi_graph.errors import DataError
from chuzhi_graph.records.series import readable
from chuzhi_graph.records.tables import Dataset, Edition, Source


@cache
def _lines(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text(encoding="utf-8").splitlines())


def source_text_lines(src: Source) -> tuple[str, ...]:
    """The lines of a source document (line n is item n - 1)."""
    assert src.path is not None
    return _lines(src.path.resolve())


def find_alias(alias: str, sources: list[Source], shadows: Sequence[str] = ()) -> tuple[str, int] | None:
    """(source id, line) of the first line that uses ``alias`` standing on its own.

    An alias stands on its own where it is not part of a longer name or alias (``shadows``):
    武昌区委政法委 inside 武汉市武昌区委政法委 does not count, nor 电信 inside 武汉电信.
    """
    longer = sorted((s for s in shadows if alias in s and s != alias), key=len, reverse=True)
    for src in sources:
        for number, line in enumerate(source_text_lines(src), start=1):
            for text in longer:
                line = line.replace(text, "\0")
            if alias in line:
                return src.id, number
    return None


def alias_lines(dataset: Dataset) -> dict[tuple[str, str], tuple[str, int]]:
    """(unit id, alias) -> (source id, line) for every alias whose basis is ``source``.

    Raises :class:`DataError` (file, line, field ``aliases``) for an alias said to be in a
    source that does not use it.
    """
    by_id = {s.id: s for s in dataset.sources}
    shadows = [u.name_zh for u in dataset.units] + [a for u in dataset.units for a in u.aliases]
    out: dict[tuple[str, str], tuple[str, int]] = {}
    for unit in dataset.units:
        for alias, basis in zip(unit.aliases, unit.alias_basis, strict=True):
            if basis != "source":
                continue
            sources = [by_id[unit.source]] if unit.source in by_id else list(dataset.sources)
            found = find_alias(alias, sources, shadows)
            if found is None:
                where = unit.source or "any source document"
                raise DataError(
                    f"alias {alias!r} has basis 'source' but {where} does not use it on its own "
                    "(only inside a longer name or alias): give its basis (name or curator) in alias_basis",
                    file=dataset.files.get("units"),
                    line=unit.line,
                    field="aliases",
                )
            out[(unit.id, alias)] = found
    return out


@dataclass(frozen=True)
class Finding:
    """A cited line that does not say what the record says it does."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}, field {self.field}: {self.message}"


def audit(dataset: Dataset) -> list[Finding]:  # noqa: C901 (one branch per kind of cited fact)
    """Check every cited source line against the source text; an empty list when all hold."""
    by_id = {s.id: s for s in dataset.sources}
    units = dataset.unit_by_id()
    files = {k: str(v) for k, v in dataset.files.items()}
    out: list[Finding] = []

    def line_text(source: str, number: int | None) -> str | None:
        src = by_id.get(source)
        if src is None or number is None:
            return None
        lines = source_text_lines(src)
        return lines[number - 1] if 0 < number <= len(lines) else None

    for case in dataset.cases:
        text = line_text(case.source, case.source_line)
        if text is None:
            out.append(Finding(files["cases"], case.line, "source_line", "no source line cited"))
            continue
        if case.title_zh not in text:
            out.append(Finding(files["cases"], case.line, "title_zh", f"title not on line {case.source_line}"))
        for uid in case.applicants:
            unit = units[uid]
            if unit.name_zh not in text and not any(a in text for a in unit.aliases):
                out.append(Finding(files["cases"], case.line, "applicants",
                                   f"{unit.name_zh} not on line {case.source_line}"))
    for unit in dataset.units:
        if unit.source_line is None:
            continue
        text = line_text(unit.source, unit.source_line)
        if text is None or unit.name_zh not in text:
            out.append(Finding(files["units"], unit.line, "source_line",
                               f"{unit.name_zh} not on line {unit.source_line} of {unit.source}"))
    for ed in dataset.editions:
        src = by_id.get(ed.source)
        if src is None:
            out.append(Finding(files["editions"], ed.line, "source", "no source cited"))
            continue
        # the series (docs/series.md): the title and the organising units may come from the
        # report of the call; a mirror in traditional characters is read simplified
        cited = by_id.get(ed.call_source) or src
        whole = readable("\n".join(source_text_lines(cited)))
        for uid in (*ed.organisers, *ed.co_organisers, *ed.run_by):
            if units[uid].name_zh not in whole:
                out.append(Finding(files["editions"], ed.line, "organisers",
                                   f"{units[uid].name_zh} not in {cited.id}"))
        if ed.title_zh not in whole and ed.title_zh not in readable("\n".join(source_text_lines(src))):
            out.append(Finding(files["editions"], ed.line, "title_zh", f"title not in {cited.id}"))
        out += _edition_lines(ed, files["editions"], [readable(t) for t in source_text_lines(src)])
    return out


def _edition_lines(ed: Edition, file: str, lines: list[str]) -> list[Finding]:
    """The lines an edition cites for its result title, launch date and announcement date say so."""
    def text(number: int | None) -> str:
        return lines[number - 1] if number is not None and 0 < number <= len(lines) else ""

    out = []
    if ed.result_title and ed.result_title not in text(ed.source_line):
        out.append(Finding(file, ed.line, "result_title", f"not on line {ed.source_line}"))
    if ed.launched_line:
        year, _, month = ed.launched.partition("-")
        if f"{year}年{int(month)}月" not in text(ed.launched_line):
            out.append(Finding(file, ed.line, "launched_line", f"{ed.launched} not on line {ed.launched_line}"))
    if ed.announced_line:
        said = text(ed.announced_line)
        date = ed.announced or ed.meeting_date
        day = f"{int(date[5:7])}月{int(date[8:10])}日" if len(date) == 10 else ""
        if (day and day not in said) or (ed.event and ed.event not in said):
            out.append(Finding(file, ed.line, "announced_line", f"{day} {ed.event} not on line {ed.announced_line}"))
    return out
