"""Winners named in prose: the second shape in which 楚治 results are published.

Many reports name a winner in a sentence instead of a list::

    鄂城区委组织部《“54321”解锁城市基层治理密码》,荣获楚治——2022“荆楚杯”党建引领创新案例

that is *unit* (co-applicants joined by ``、``), ``《title》``, a verb (荣获, 获评, ...) and
a 楚治 award phrase ``楚治——YEAR“荆楚杯”AWARD``. The same reports name the edition
(``“楚治——2022‘荆楚杯’社会治理创新十佳案例、单项奖案例”``) and, sometimes, the event at
which the results were announced. This module reads those sentences into the records
:mod:`chuzhi_graph.extract.announcement` writes, with the same review report, suggestions and source
lines. A report in prose never states how many cases were awarded, so nothing here
claims a count or a complete list: the edition's ``complete`` is ``no`` and its
``awarded`` stays empty.

>>> [(w.applicants, w.title, w.award) for w in find_winners(
...     ["此外,鄂城区委组织部《“54321”解锁城市基层治理密码》,荣获楚治——2022“荆楚杯”党建引领创新案例;"])]
[(['鄂城区委组织部'], '“54321”解锁城市基层治理密码', '党建引领创新案例')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from chuzhi_graph.errors import SourceError
from chuzhi_graph.extract.shared import (
    Extraction,
    Facts,
    SourceText,
    UnitResolver,
    bare,
    known_categories,
    known_track,
    new_source_row,
    split_outside_brackets,
)
from chuzhi_graph.records.suggest import Suggester
from chuzhi_graph.records.tables import SEPARATOR, Dataset

#: the marker lines of a stored copy (``data/sources/2023-...txt``): text between them
TEXT_START = "----- TEXT"
TEXT_END = "----- END"

_Q_OPEN = "“‘\"'「『"
_Q_CLOSE = "”’\"'」』"
# 楚治——2022“荆楚杯”<award>: the dash may be one or two of several kinds, the cup in any quotes
_PHRASE = (
    r"楚治\s*[—–\-－]{1,2}\s*(?P<year>\d{4})\s*年?\s*[" + _Q_OPEN + r"]?\s*荆楚杯\s*[" + _Q_CLOSE
    + r"]?\s*(?P<label>[^" + _Q_OPEN + _Q_CLOSE + r"《》、,，;；。:：!！?？\s]+)"
)
_VERBS = r"(?:荣获|获评|获得|荣膺|获|入选|被评为)"
_RE_WINNER = re.compile(
    r"《(?P<title>[^《》]+)》\s*(?:案例)?\s*[,，]?\s*" + _VERBS + r"\s*[" + _Q_OPEN + r"]?\s*" + _PHRASE
)
# clause boundaries: the unit starts after the last one before 《
_BOUNDARY = re.compile(r"[。；;，,：:！!？?\n]")
_LEAD_WORDS = re.compile(r"^(?:此外|其中|另外|同时|并且|而且|以及|还有|另有|而)\s*")
_TRAIL_WORDS = re.compile(r"(?:(?:报送|选送|申报|推荐|参评|打造|实施)的)?(?:案例|项目)?$")
_RE_TIME = re.compile(r"(\d{4})\s*年\s*(底|末|初|年初|年底|上半年|下半年|(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?)")
_RE_EVENT = re.compile(
    r"(?P<m>\d{1,2})月(?P<d>\d{1,2})日(?:上午|下午|晚上?|晚间)?\s*[,，]?\s*"
    r"(?P<name>[^,，。；;“”《》\s]{2,30}?(?P<head>峰会|大会|论坛|颁奖典礼|颁奖会|颁奖仪式|发布会|年会))"
    r"在(?P<place>[^,，。；;\s]{1,8}?)(?:举行|举办|召开|开幕)"
)
_RE_PAGE_DATE = re.compile(r"(20\d\d)\s*(?:-|/|年)\s*(\d{1,2})\s*(?:-|/|月)\s*(\d{1,2})")
# “...十佳案例”及单项奖案例揭晓: award kinds named right after the quoted edition
_RE_MORE = re.compile(r"^[" + _Q_CLOSE + r"]?\s*(?:及|和|、|与)\s*([^,，。;；“”]+?)(?:揭晓|发布|公布|出炉|$)")
_RE_TEN = re.compile(r"(十佳|十大)(案例|责任企业)?$")
_ANNOUNCE_VERBS = ("揭晓", "发布", "公布", "颁奖", "颁发")


@dataclass
class ProseWinner:
    """One winner named in a sentence."""

    applicants: list[str]
    title: str
    award: str  # the award label as written after the cup: 党建引领创新案例
    year: int
    line: int


@dataclass
class EditionMention:
    """The edition named in the prose: ``楚治——2022‘荆楚杯’社会治理创新十佳案例``."""

    title: str
    year: int
    track_label: str
    categories: list[str]  # award categories named with it: 十佳案例, 单项奖案例
    line: int
    sentence: str
    when: str = ""  # a time phrase in the same sentence, as written: 2023年底


@dataclass
class Event:
    """A dated event in the prose: ``2月16日,湖北第三届大数据内容峰会在汉举行``."""

    name: str
    head: str
    month: int
    day: int
    place_text: str
    line: int


@dataclass
class ProseReport:
    """What the prose says: winners, edition mentions, events, the page date."""

    winners: list[ProseWinner] = field(default_factory=list)
    mentions: list[EditionMention] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    page_date: tuple[int, int, int] | None = None
    problems: list[str] = field(default_factory=list)


def text_range(lines: list[str]) -> tuple[int, int]:
    """Indexes ``[start, end)`` of the verbatim text: a stored copy's header and end mark are skipped."""
    start = next((i + 1 for i, line in enumerate(lines) if line.startswith(TEXT_START)), 0)
    end = next((i for i in range(start, len(lines)) if lines[i].startswith(TEXT_END)), len(lines))
    return start, end


def header_fields(lines: list[str]) -> dict[str, str]:
    """The ``KEY: value`` lines of a stored copy's header (``ADDRESS``, ``TITLE`` ...), if any."""
    start, _ = text_range(lines)
    fields = {}
    for line in lines[: max(start - 1, 0)]:
        if m := re.match(r"^([A-Z]+):\s*(.*)$", line):
            fields[m.group(1)] = m.group(2).strip()
    return fields


def find_winners(lines: list[str], problems: list[str] | None = None) -> list[ProseWinner]:
    """Every ``unit《title》,荣获楚治——YEAR“荆楚杯”AWARD`` in ``lines`` (1-based line numbers).

    A title followed by a 楚治 award but with no unit before it is reported in ``problems``.
    """
    start, end = text_range(lines)
    out: list[ProseWinner] = []
    for index in range(start, end):
        line = lines[index]
        for m in _RE_WINNER.finditer(line):
            before = line[: m.start()]
            unit_text = _BOUNDARY.split(before)[-1].strip()
            unit_text = _LEAD_WORDS.sub("", unit_text).strip()
            unit_text = _TRAIL_WORDS.sub("", unit_text).strip()
            applicants = [u for u in split_outside_brackets(unit_text, "、") if u]
            if not applicants:
                if problems is not None:
                    problems.append(f"line {index + 1}: a winner without a unit: 《{m.group('title')}》")
                continue
            out.append(ProseWinner(applicants, m.group("title").strip(), _label(m.group("label")),
                                   int(m.group("year")), index + 1))
    return out


def _label(text: str) -> str:
    return text.strip().rstrip("".join(_Q_CLOSE))


def find_mentions(lines: list[str], track_labels: dict[str, str]) -> list[EditionMention]:
    """The 楚治 phrases that name an edition: the award label starts with a track's label.

    ``track_labels`` maps a folded label (:func:`chuzhi_graph.extract.shared.bare`) to a track
    notation.
    """
    start, end = text_range(lines)
    out: list[EditionMention] = []
    for index in range(start, end):
        line = lines[index]
        winner_spans = [m.span() for m in _RE_WINNER.finditer(line)]
        for m in re.finditer(_PHRASE + r"(?P<more>(?:、[^" + _Q_CLOSE + r",，。;；]+)*)", line):
            if any(a <= m.start() < b for a, b in winner_spans):
                continue
            label = _label(m.group("label"))
            track = next((t for k, t in track_labels.items() if bare(label).startswith(k)), None)
            if track is None:
                continue
            categories = []
            if ten := _RE_TEN.search(bare(label)):
                categories.append(ten.group(1) + (ten.group(2) or "案例"))
            categories += [c for c in split_outside_brackets(m.group("more"), "、") if c]
            after = line[m.end():]
            if more := _RE_MORE.match(after):
                categories += [c for c in split_outside_brackets(more.group(1), "、") if c]
            sentence = _sentence(line, m.start())
            when = ""
            lead = sentence[: sentence.find("楚治")]
            if t := _RE_TIME.search(lead):
                when = t.group(0)
            title = line[m.start(): m.start("label")] + label
            out.append(EditionMention(title, int(m.group("year")), label, categories, index + 1,
                                      sentence, when))
    return out


def _sentence(line: str, pos: int) -> str:
    start = max(line.rfind(c, 0, pos) for c in "。!！?？") + 1
    ends = [i for i in (line.find(c, pos) for c in "。!！?？") if i >= 0]
    return line[start : min(ends) + 1 if ends else len(line)]


def find_events(lines: list[str]) -> list[Event]:
    """Dated events: ``M月D日, NAME(峰会|大会|...)在PLACE举行``."""
    start, end = text_range(lines)
    return [
        Event(m.group("name"), m.group("head"), int(m.group("m")), int(m.group("d")), m.group("place"), i + 1)
        for i in range(start, end)
        for m in _RE_EVENT.finditer(lines[i])
    ]


def page_date(lines: list[str]) -> tuple[int, int, int] | None:
    """The first full date of the verbatim text (the page's date), if any."""
    start, end = text_range(lines)
    for i in range(start, end):
        if m := _RE_PAGE_DATE.search(lines[i]):
            y, mo, d = (int(g) for g in m.groups())
            if 1 <= mo <= 12 and 1 <= d <= 31:
                return y, mo, d
    return None


def read_prose(lines: list[str], track_labels: dict[str, str]) -> ProseReport:
    """Winners, edition mentions, events and the page date of a report.

    A report in traditional characters (a mirror's rendering) is read simplified, line by line,
    so that its names match the registry and its line numbers stay.
    """
    from chuzhi_graph.records.series import readable, traditional_share

    if traditional_share("\n".join(lines)) > 0.05:
        lines = [readable(line) for line in lines]
    report = ProseReport()
    report.winners = find_winners(lines, report.problems)
    report.mentions = find_mentions(lines, track_labels)
    report.events = find_events(lines)
    report.page_date = page_date(lines)
    return report


def announcement_event(mention: EditionMention, events: list[Event]) -> Event | None:
    """The event at which the mentioned results were announced, when the prose says so.

    The sentence naming the edition must say the results were announced (揭晓, 发布,
    颁奖 ...) without a time of its own, and name the event by its kind (``峰会``) as an
    earlier sentence dates it: ``2月16日,湖北第三届大数据内容峰会在汉举行。...峰会...揭晓了“楚治——...”``.
    """
    if mention.when or not any(v in mention.sentence for v in _ANNOUNCE_VERBS):
        return None
    earlier = [e for e in events if e.line <= mention.line and e.head in mention.sentence]
    return earlier[-1] if earlier else None


def signature(lines: list[str], track_labels: dict[str, str]) -> tuple[object, ...] | None:
    """The winners and edition mentions of a report, without line numbers (None if no winner)."""
    report = read_prose(lines, track_labels)
    if not report.winners:
        return None
    return (
        tuple((tuple(map(bare, w.applicants)), bare(w.title), bare(w.award), w.year) for w in report.winners),
        tuple((bare(m.title), tuple(map(bare, m.categories))) for m in report.mentions),
    )


def track_labels(registry: Dataset) -> dict[str, str]:
    """Folded label -> track notation, for every label of the track scheme."""
    out = {}
    for concept in registry.vocabulary.tracks.values():
        for label in (concept.pref_zh, *concept.alt):
            out[bare(label)] = concept.notation
            # the theme without "十佳案例"/"十大案例": sources write either for the same track
            if theme := _RE_TEN.sub("", bare(label)):
                out.setdefault(theme, concept.notation)
    return out


# ---------------------------------------------------------------- records


def extract_prose(
    text: SourceText, given: Path, registry: Dataset, src_row: dict[str, str] | None,
    year: int | None, track: str | None, lenient: bool, accept: bool,
) -> Extraction:
    """The :class:`~chuzhi_graph.extract.shared.Extraction` of a report that names winners in prose.

    Raises :class:`SourceError` when no winner is named, when the winners belong to several
    editions, or when the track cannot be told (give ``track``).
    """
    labels = track_labels(registry)
    prose = read_prose(text.lines, labels)  # parsing: winners, edition mentions, events
    warnings: list[str] = []
    year, winners = _prose_winners(prose, year, lenient, given, warnings)  # cross-checking
    mention = next((m for m in prose.mentions if m.year == year), None)
    track_id = _prose_track(labels, mention, track, year, registry, given)
    edition_id = f"{track_id}-{year}"
    suggester = Suggester.from_dataset(registry)
    resolver = UnitResolver(registry, suggester)
    edition = _prose_edition_row(prose, mention, winners, edition_id, track_id, year, registry, suggester, warnings)
    row = src_row or _prose_source_row(text, prose, edition_id, year)
    edition["source"] = row["id"]
    categories, groups = _prose_categories(mention, winners, known_categories(registry, edition_id), edition_id,
                                           warnings)
    cases, suggested = _prose_cases(winners, groups, edition_id, row["id"], resolver, suggester, accept, warnings)
    return Extraction(
        source=text, given=given, source_row=row, source_is_new=src_row is None,
        edition=edition, categories=categories, cases=cases, new_units=resolver.new_unit_rows(row["id"]),
        new_regions=resolver.new_regions, review=list(resolver.review.values()), groups=[],
        warnings=warnings, registry=registry, suggested_domains=suggested, accepted=accept,
        shape="prose", awards=groups,
    )


def _prose_winners(prose: ProseReport, year: int | None, lenient: bool, given: Path,
                   warnings: list[str]) -> tuple[int, list[ProseWinner]]:
    """The edition's year and its winners: one edition per run, problems refused unless lenient."""
    if not prose.winners:
        raise SourceError(_NOTHING_FOUND, file=given)
    if prose.problems and not lenient:
        raise SourceError("cannot read the winners: " + "; ".join(prose.problems), file=given)
    warnings += prose.problems
    years = sorted({w.year for w in prose.winners})
    if year is None and len(years) > 1:
        raise SourceError(
            f"winners of several editions ({', '.join(map(str, years))}); give the year with --edition",
            file=given,
        )
    year = year or years[0]
    winners = [w for w in prose.winners if w.year == year]
    if len(winners) < len(prose.winners):
        warnings.append(f"{len(prose.winners) - len(winners)} winner(s) of other years left out")
    return year, winners


def _prose_track(labels: dict[str, str], mention: EditionMention | None, track: str | None, year: int,
                 registry: Dataset, given: Path) -> str:
    """The track: as given, else the one whose label starts the award the edition is named by."""
    vocab = registry.vocabulary
    track_id = track or (labels.get(bare(mention.track_label)) if mention else None)
    if track_id is None and mention is not None:
        track_id = next((t for k, t in sorted(labels.items(), key=lambda kv: -len(kv[0]))
                         if bare(mention.track_label).startswith(k)), None)
    if track_id is None:
        raise SourceError(
            f"the winners' award names no track and no edition of {year} is named; give it with --track "
            f"(one of: {', '.join(vocab.tracks)})",
            file=given,
        )
    return known_track(vocab, track_id, given)


def _prose_edition_row(prose: ProseReport, mention: EditionMention | None, winners: list[ProseWinner],
                       edition_id: str, track_id: str, year: int, registry: Dataset, suggester: Suggester,
                       warnings: list[str]) -> dict[str, str]:
    """The ``editions.csv`` row: only what the prose states (never complete, no count)."""
    if mention is not None:
        title = mention.title
    else:
        title = f"楚治——{year}“荆楚杯”{registry.vocabulary.tracks[track_id].pref_zh}"
        warnings.append(f"edition {edition_id}: the prose names no edition title; made from the track label: check")
    event = announcement_event(mention, prose.events) if mention else None
    meeting, place_code = "", ""
    if event is not None:
        place = suggester.place(event.place_text)
        if place is None:
            warnings.append(f"event place {event.place_text!r} is not in regions.csv; left empty")
        place_code = place.code if place else ""
        if prose.page_date is not None:
            py, pm, pd = prose.page_date
            # the page reports an event of its own year, or of the year before when the
            # event's month and day come after the page's
            ey = py if (event.month, event.day) <= (pm, pd) else py - 1
            meeting = f"{ey:04d}-{event.month:02d}-{event.day:02d}"
        else:
            warnings.append(
                f"event {event.name!r}: the text gives no year for {event.month}月{event.day}日; left empty"
            )
    warnings.append(
        f"edition {edition_id}: {len(winners)} winner(s) named in prose; the source gives no list "
        "and no count, so the edition is marked incomplete (complete=no, awarded left empty)"
    )
    return {
        "id": edition_id, "track": track_id, "year": str(year), "title_zh": title, "title_en": "",
        "launched": "", "meeting_date": meeting, "meeting_place": place_code,
        "announced": meeting, "organisers": "", "co_organisers": "",
        "submissions": "", "online_vote": "", "awarded": "",
        "source": "", "source_line": str(mention.line if mention else winners[0].line),
        "event": event.name if event else "", "announced_text": mention.when if mention else "",
        "complete": "no",
        # the event's date and place are on a line of their own (docs/series.md)
        "announced_line": str(event.line) if event is not None and mention and event.line != mention.line else "",
    }


def _prose_source_row(text: SourceText, prose: ProseReport, edition_id: str, year: int) -> dict[str, str]:
    """A ``sources.csv`` row for a report not registered yet, from its stored copy's header."""
    header = header_fields(text.lines)
    start, end = text_range(text.lines)
    first = next((line.strip() for line in text.lines[start:end] if line.strip()), "")
    facts = Facts(announced=_iso(prose.page_date), publisher=_wire(text.lines) or header.get("PUBLISHER", ""),
                  article_title=header.get("TITLE", "") if not header.get("TITLE", "").startswith("(") else "",
                  caption=re.split(r"[。!！?？]", first)[0][:60],
                  author=(m.group(1) if (m := re.search(r"记者\s*([\u4e00-\u9fff]{2,4})", first)) else ""))
    row = new_source_row(text, facts, edition_id, year)
    row["url"] = header.get("ADDRESS", "")
    return row


def _prose_categories(mention: EditionMention | None, winners: list[ProseWinner],
                      known: dict[str, tuple[str, str]], edition_id: str,
                      warnings: list[str]) -> tuple[list[dict[str, str]], list[AwardGroup]]:
    """The categories named with the edition, then the winners' awards, as written; one group each."""
    named: list[tuple[str, int]] = [(c, mention.line) for c in mention.categories] if mention else []
    named += [(w.award, w.line) for w in winners]
    categories: list[dict[str, str]] = []
    groups: list[AwardGroup] = []
    for label, line in named:
        if any(bare(g.label) == bare(label) for g in groups):
            continue
        cat_id, label_en = known.get(bare(label), ("", ""))
        if not cat_id or any(g.category == cat_id for g in groups):
            cat_id, label_en = f"award-{len(categories) + 1}", ""
            warnings.append(
                f"award {label!r}: matches no category in categories.csv; given the id {cat_id!r}: rename it"
            )
        categories.append({
            "id": cat_id, "edition": edition_id, "position": str(len(categories) + 1), "label_zh": label,
            "label_en": label_en, "stated_count": "", "source_line": str(line),
        })
        groups.append(AwardGroup(label, cat_id, line, known=bool(known.get(bare(label)))))
    return categories, groups


def _prose_cases(winners: list[ProseWinner], groups: list[AwardGroup], edition_id: str, source_id: str,
                 resolver: UnitResolver, suggester: Suggester, accept: bool,
                 warnings: list[str]) -> tuple[list[dict[str, str]], dict[str, list[str]]]:
    """One ``cases.csv`` row per winner, in its award's group, with suggested domains."""
    cases, suggested = [], {}
    for winner in winners:
        group = next(g for g in groups if bare(g.label) == bare(winner.award))
        group.winners.append(winner)
        case_id = f"{edition_id}-{group.category}-{len(group.winners):02d}"
        applicants = [resolver.resolve(a, case_id, winner.line) for a in winner.applicants]
        domains = suggester.domains(winner.title) or suggester.domains(winner.award)
        if domains and not suggester.domains(winner.title):
            warnings.append(f"case {case_id}: domain suggested from the award's name, not the title")
        if not domains:
            warnings.append(f"case {case_id}: no domain suggested; pick one (line {winner.line})")
        suggested[case_id] = domains
        cases.append({
            "id": case_id, "edition": edition_id, "category": group.category, "position": str(len(group.winners)),
            "title_zh": winner.title, "title_en": "", "applicants": SEPARATOR.join(applicants),
            "domains": SEPARATOR.join(domains), "domain_basis": "curator" if accept else "suggested",
            "source": source_id, "source_line": str(winner.line),
        })
    return cases, suggested


@dataclass
class AwardGroup:
    """An award category named in prose, with the winners named for it."""

    label: str
    category: str
    line: int
    known: bool = True
    winners: list[ProseWinner] = field(default_factory=list)


_NOTHING_FOUND = (
    "no result list and no winner found: expected group headings such as '（一）政务服务组' "
    "followed by numbered items such as '1. 单位：案例标题', or sentences such as "
    "'单位《案例标题》,荣获楚治——2022“荆楚杯”……案例'"
)


def _iso(date: tuple[int, int, int] | None) -> str:
    return f"{date[0]:04d}-{date[1]:02d}-{date[2]:02d}" if date else ""


def _wire(lines: list[str]) -> str:
    start, end = text_range(lines)
    for line in lines[start:end]:
        if m := re.search(r"(\S{2,30}?)讯", line):
            return m.group(1).lstrip("(（")
    return ""


def format_prose_report(extraction: Extraction) -> list[str]:
    """The groups section of the review report for winners named in prose."""
    awards: list[AwardGroup] = extraction.awards
    lines = [f"## awards named in prose ({len(awards)}): no list, no stated count, edition marked incomplete"]
    for g in awards:
        flag = "" if g.known else " (new category id: rename)"
        lines.append(f"- {g.label} -> {g.category}{flag}: {len(g.winners)} winner(s) named (line {g.line})")
    return lines
