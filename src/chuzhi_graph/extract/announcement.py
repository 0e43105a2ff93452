"""Case records from a published award announcement (``chuzhi-graph extract``).

An announcement (plain text or a saved HTML page; UTF-8, UTF-8 with BOM or GB18030/GBK;
any line endings) holds the result list: group headings ``（一）…`` with numbered items
``1. 单位、单位：标题``, and prose that states the edition facts and counts. ``extract``
reads both, cross-checks the number of cases per group against the stated counts,
resolves applicants against the unit registry of a data folder, suggests domains (and,
for unknown units, type, region and nearest known names) and returns records in the
format :mod:`chuzhi_graph.records.tables` reads.

>>> result = extract("data/sources/000_451b57e0ba31c9df.txt", "data")
>>> len(result.cases), result.edition["id"]
(27, 'bigdata-2022')
>>> write_extraction(result, "extracted")[0]
PosixPath('extracted/sources.csv')
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chuzhi_graph.core.fileio import AtomicFiles
from chuzhi_graph.core.vocabulary import Vocabulary
from chuzhi_graph.errors import ChuzhiError, DataError, OutputError, SourceError
from chuzhi_graph.extract.prose import extract_prose, format_prose_report, track_labels
from chuzhi_graph.extract.prose import signature as prose_signature
from chuzhi_graph.extract.shared import (
    Extraction,
    Facts,
    Group,
    Item,
    SourceText,
    UnitIndex,
    UnitResolver,
    bare,
    known_categories,
    known_track,
    new_source_row,
    split_outside_brackets,
)
from chuzhi_graph.records.suggest import Suggester
from chuzhi_graph.records.tables import (
    SEPARATOR,
    TABLES,
    Dataset,
    decode_bytes,
    load_dataset,
    normalise_name,
)

log = logging.getLogger(__name__)

#: The tables ``extract`` writes, in this order; ``units-review.csv`` comes beside them.
OUTPUT_TABLES = ("sources", "regions", "units", "editions", "categories", "cases")
REVIEW_FILE = "units-review.csv"
REVIEW_COLUMNS = (
    "name_zh", "suggested_id", "suggested_type", "suggested_region", "region_name",
    "nearest_known", "cases", "source_line",
)

_NUMERALS = "〇一二三四五六七八九十"
_HEADING = re.compile(r"^[(（]\s*([一二三四五六七八九十]+)\s*[)）]\s*(\S.*)$")
_ITEM = re.compile(r"^(?:(\d{1,3})\s*[.、．]|[(（]\s*(\d{1,3})\s*[)）])\s*(\S.*)$")
#: the largest source ``extract`` reads: press releases are well under 1 MiB, even saved as HTML
MAX_SOURCE_BYTES = 8 * 2**20
_HTML_SNIFF = re.compile(r"<\s*(?:!doctype\s+html|html|body|head|p|div|article)\b", re.I)
_HTML_DROP = (
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe",
    "template", "button", "svg", "select", "input",
)
_HTML_JUNK = re.compile(
    r"(?:^|[-_\s])(?:nav|navbar|menu|breadcrumbs?|crumbs?|footer|foot|sidebar|share|"
    r"copyright|comments?|related|toolbar|topbar|header)(?:$|[-_\s])",
    re.I,
)
_HTML_BLOCKS = {
    "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "section",
    "article", "main", "blockquote", "pre", "dd", "dt", "ul", "ol", "table", "body", "center",
    "figcaption", "figure", "caption",
}


# ---------------------------------------------------------------- reading the source


def decode_source(raw: bytes, path: Path) -> tuple[str, str]:
    """Decode a document: UTF-8 (with or without BOM), else what charset-normalizer detects.

    >>> decode_source("楚治案例评选结果".encode("gb18030") * 20, Path("x.txt"))[1]
    'gb18030'
    """
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise SourceError("cannot tell the text encoding (not UTF-8, not GB18030/GBK)", file=path)
    encoding = best.encoding
    if encoding in ("gbk", "gb2312", "hz"):
        encoding = "gb18030"  # GB18030 is the superset; it decodes GBK/GB2312 files as they are
    try:
        return raw.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError):
        return str(best), best.encoding


def read_source(path: str | Path, *, max_bytes: int = MAX_SOURCE_BYTES) -> SourceText:
    """Read a plain-text or HTML announcement as lines of text.

    HTML is parsed with BeautifulSoup (lxml); scripts, styles, navigation, headers, footers
    and side bars are dropped, and each block element becomes one line. Reading takes time
    linear in the size (about 0.1 ms per element, whatever the nesting); a file larger than
    ``max_bytes`` is refused.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(
                f"{size / 2**20:.1f} MiB is more than an announcement holds (the limit is "
                f"{max_bytes / 2**20:.0f} MiB): is this the saved press release?", file=path)
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", file=path) from None
    text, encoding = decode_source(raw, path)
    text = text.lstrip("\ufeff")
    if path.suffix.lower() in (".html", ".htm", ".xhtml") or _HTML_SNIFF.search(text[:2000]):
        title, lines = html_lines(text)
        return SourceText(path, lines, encoding, html=True, title=title)
    return SourceText(path, text.splitlines(), encoding)


def html_lines(html: str) -> tuple[str, list[str]]:
    """The title and the text lines of an HTML page, without navigation and footers.

    >>> html_lines("<html><body><nav>首页</nav><h1>题</h1><p>1. <b>甲</b>：乙</p></body></html>")
    ('题', ['题', '1. 甲：乙'])
    """
    from bs4 import BeautifulSoup, NavigableString, PageElement, Tag

    soup = BeautifulSoup(html, "lxml")
    h1 = soup.find("h1")
    title_tag = soup.find("title")
    title = _clean(h1.get_text(" ") if h1 else title_tag.get_text(" ") if title_tag else "")
    _prune(soup)
    root = soup.find("article") or soup.find("main") or soup.body or soup
    lines: list[str] = []
    current: list[str] = []
    block: Tag | None = None

    def flush() -> None:
        for part in "".join(current).splitlines():
            if _clean(part):
                lines.append(_clean(part))
        current.clear()

    # One walk in document order that carries each node's nearest block ancestor: asking
    # every text node for its ancestors (or bs4 for ``tag.decomposed``, which searches the
    # subtree) is quadratic in the nesting depth.
    outer = next((p for p in (root, *root.parents) if p.name in _HTML_BLOCKS), None)
    stack: list[tuple[PageElement, Tag | None]] = [(child, outer) for child in reversed(root.contents)]
    while stack:
        node, inside = stack.pop()
        if isinstance(node, Tag):
            if node.name == "br":
                flush()
            inner = node if node.name in _HTML_BLOCKS else inside
            stack.extend((child, inner) for child in reversed(node.contents))
            continue
        if type(node) is not NavigableString:  # comments, doctype, CDATA
            continue
        if inside is not block:
            flush()
            block = inside
        current.append(str(node))
    flush()
    if h1 is not None and title and title not in lines:
        lines.insert(0, title)
    return title, lines


def _prune(soup: Any) -> None:
    """Drop scripts, navigation, footers and the like; removed subtrees are not walked."""
    from bs4 import Tag

    stack = [soup]
    while stack:
        for child in list(stack.pop().contents):
            if not isinstance(child, Tag):
                continue
            if child.name in _HTML_DROP:
                child.decompose()
                continue
            if child.name not in ("html", "body", "h1"):
                marks = " ".join([*(child.get("class") or []), str(child.get("id") or ""),
                                  str(child.get("role") or "")])
                if marks.strip() and _HTML_JUNK.search(marks):
                    child.decompose()
                    continue
            stack.append(child)


def _clean(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


# ---------------------------------------------------------------- the result list


def parse_item(text: str) -> tuple[list[str], str] | None:
    """Applicants and title of an item's text, or None if it has no ``:``/``：``.

    >>> parse_item("湖北省公安交通管理局、湖北交投集团：湖北交警“云哨”护航")
    (['湖北省公安交通管理局', '湖北交投集团'], '湖北交警“云哨”护航')
    """
    parts = split_outside_brackets(text, ":：")
    if len(parts) < 2 or not parts[0]:
        return None
    colon = text.index(parts[0]) + len(parts[0])
    # the title keeps any later colon as written
    units_text, title = text[:colon].strip(), text[colon + 1 :].strip()
    applicants = split_outside_brackets(units_text, "、")
    if not title or not all(applicants):
        return None
    return applicants, title


@dataclass
class ResultList:
    groups: list[Group]
    start: int  # line of the first heading
    problems: list[str]


def find_result_list(lines: list[str], file: Path | None = None) -> ResultList:
    """Find the group headings and numbered items; report lines that fit neither.

    Raises :class:`SourceError` when there is no heading followed by a numbered item.
    """
    start = None
    for i, line in enumerate(lines):
        if _HEADING.match(line.strip()):
            nxt = next((s.strip() for s in lines[i + 1 :] if s.strip()), "")
            if _ITEM.match(nxt):
                start = i
                break
    if start is None:
        raise SourceError(
            "no result list found: expected group headings such as '（一）政务服务组' "
            "followed by numbered items such as '1. 单位：案例标题'",
            file=file,
        )
    groups: list[Group] = []
    problems: list[str] = []
    pending: list[tuple[int, str]] = []  # non-list lines, a problem only if the list goes on
    for i in range(start, len(lines)):
        text = lines[i].strip()
        number = i + 1
        if not text:
            continue
        heading = _HEADING.match(text)
        item = _ITEM.match(text)
        if heading or item:
            problems.extend(f"line {n}: not a heading nor a numbered item: {t!r}" for n, t in pending)
            pending.clear()
        if heading:
            groups.append(Group(heading.group(1), heading.group(2).strip(), number))
        elif item:
            parsed = parse_item(item.group(3))
            if parsed is None:
                problems.append(f"line {number}: item without ':' between unit and title: {text!r}")
                continue
            groups[-1].items.append(
                Item(int(item.group(1) or item.group(2)), parsed[0], parsed[1], number)
            )
        else:
            pending.append((number, text))
    for group in groups:
        numbers = [it.number for it in group.items]
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(
                f"group {group.name}: items numbered {', '.join(map(str, numbers)) or 'none'} "
                f"(expected 1 to {len(numbers)})"
            )
    if [_numeral_value(g.numeral) for g in groups] != list(range(1, len(groups) + 1)):
        problems.append(
            f"group headings numbered {'、'.join(g.numeral for g in groups)} (expected 一 onwards)"
        )
    return ResultList(groups, start + 1, problems)


# ---------------------------------------------------------------- edition facts


_RE_ANNOUNCED = re.compile(
    r"(?:时间|日期|发布于|发布时间)\s*[:：]\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})"
)
_RE_MEETING = re.compile(r"(\d{1,2})月(\d{1,2})日[^。]*?(?:颁奖|大会|揭晓|发布会)")
_RE_PLACE = re.compile(r"在(\S{1,8}?)(?:举行|举办|召开)")
_RE_LAUNCHED = re.compile(r"(?:(\d{4})年|今年)?(\d{1,2})月(?!\d{1,2}日)[^。]*?(?:启动|开始征集|正式发布)")
_RE_ORGANISERS = re.compile(r"由([^。]+?)(?:联合)?主办(?:\s*[,，;；、]\s*([^。]+?)协办)?")
_RE_AWARDED = re.compile(r"(\d+)\s*个(?:获奖案例|案例获奖)")
_RE_SUBMISSIONS = re.compile(r"(?:收到|征集到?)\D{0,4}?(\d+)\s*(?:个|件|项)|(\d+)\s*个申报案例")
_RE_VOTE = re.compile(r"(\d+)\s*个(?:案例|作品)?进入(?:网络|网上)?投票")
_RE_COUNT_CLAUSE = re.compile(r"^(.*?)(各|共计|共|计)?\s*(\d+)\s*个$")
_RE_SOURCE = re.compile(r"来源\s*[:：][ \t]*([^\s:：]+)(?=\s|$)")
_RE_WIRE = re.compile(r"^\s*(\S{2,30}?)讯")
_RE_AUTHOR = re.compile(r"记者\s*([\u4e00-\u9fff]{2,4})")


def read_facts(lines: list[str], list_start: int) -> Facts:  # noqa: C901 (one branch per fact the prose may state)
    """Read the edition facts from the prose before the result list (line ``list_start``)."""
    facts = Facts()
    prose = [(i + 1, lines[i].strip()) for i in range(list_start - 1)]
    fact_lines: list[int] = []

    def first(regex: re.Pattern[str]) -> tuple[int, re.Match[str]] | None:
        for number, text in prose:
            m = regex.search(text)
            if m:
                fact_lines.append(number)
                return number, m
        return None

    caption = next(((n, t) for n, t in reversed(prose) if t), None)
    if caption:
        facts.caption_line, facts.caption = caption
    if hit := first(_RE_ANNOUNCED):
        y, mo, d = (int(g) for g in hit[1].groups())
        facts.announced = f"{y:04d}-{mo:02d}-{d:02d}"
        previous = next((t for n, t in reversed(prose[: hit[0] - 1]) if t), "")
        facts.article_title = previous
    if hit := first(_RE_MEETING):
        facts.meeting_line = hit[0]
        facts.meeting_month_day = (int(hit[1].group(1)), int(hit[1].group(2)))
        sentence = _sentence_at(hit[1].string, hit[1].start())
        if place := _RE_PLACE.search(sentence):
            facts.place_text = place.group(1)
    if hit := first(_RE_LAUNCHED):
        facts.launched_month = int(hit[1].group(2))
        facts.launched_year = int(hit[1].group(1)) if hit[1].group(1) else None
    if hit := first(_RE_ORGANISERS):
        facts.organisers = [u for u in split_outside_brackets(hit[1].group(1), "、") if u]
        if hit[1].group(2):
            facts.co_organisers = [u for u in split_outside_brackets(hit[1].group(2), "、") if u]
    for regex, name in ((_RE_AWARDED, "awarded"), (_RE_SUBMISSIONS, "submissions"), (_RE_VOTE, "online_vote")):
        if hit := first(regex):
            setattr(facts, name, int(next(g for g in hit[1].groups() if g)))
    if hit := first(_RE_SOURCE):
        facts.publisher = hit[1].group(1)
    elif hit := first(_RE_WIRE):
        facts.publisher = hit[1].group(1)
    if hit := first(_RE_AUTHOR):
        facts.author = hit[1].group(1)
    facts.first_fact_line = min(fact_lines) if fact_lines else None
    return facts


def _sentence_at(text: str, pos: int) -> str:
    start = max(text.rfind("。", 0, pos), text.rfind("，", 0, pos), text.rfind(",", 0, pos)) + 1
    end = text.find("。", pos)
    return text[start : end if end >= 0 else len(text)]


@dataclass
class StatedCount:
    names: list[str]
    count: int
    each: bool
    line: int


def stated_counts(lines: list[str], list_start: int) -> list[StatedCount]:
    """Clauses of the prose that state a number of cases for named groups.

    >>> [(c.names, c.count, c.each) for c in stated_counts(["其中,甲组、乙组案例各10个,优秀案例共计5个。"], 2)]
    [(['甲组', '乙组案例'], 10, True), (['优秀案例'], 5, False)]
    """
    out: list[StatedCount] = []
    for i in range(list_start - 1):
        for clause in re.split(r"[,，;；。:：]", lines[i]):
            clause = re.sub(r"^\s*其中\s*", "", clause.strip())
            m = _RE_COUNT_CLAUSE.match(clause)
            if not m or not m.group(1).strip():
                continue
            names = [n for n in split_outside_brackets(m.group(1).strip(), "、") if n]
            out.append(StatedCount(names, int(m.group(3)), m.group(2) == "各", i + 1))
    return out


def match_stated_counts(groups: list[Group], counts: list[StatedCount]) -> None:
    """Give each group its stated count and its category label (``十佳案例(政务服务组)``)."""
    for group in groups:
        head = bare(group.heading)
        group.label = group.heading
        for stated in counts:
            names = [bare(n) for n in stated.names]
            hit = next((n for n in names if n == head or n.startswith(head)), None)
            if hit is None and not stated.each:
                joined = "".join(names)
                hit = joined if head and (head in joined or joined in head) and len(joined) >= 2 else None
            if hit is None:
                continue
            group.stated, group.stated_line = stated.count, stated.line
            if stated.each and len(names) > 1:
                last = names[-1]
                # "甲组、乙组十佳案例各10个": the words after the last group name apply to all
                last_head = next(
                    (bare(g.heading) for g in groups if last.startswith(bare(g.heading))), ""
                )
                suffix = last[len(last_head) :] if last_head else ""
                if suffix:
                    group.label = f"{suffix}({group.heading})"
            break


# ---------------------------------------------------------------- the extraction


def extract(
    source: str | Path,
    data_dir: str | Path = "data",
    *,
    year: int | None = None,
    track: str | None = None,
    lenient: bool = False,
    accept_suggestions: bool = False,
) -> Extraction:
    """Read an announcement and return its records, cross-checked against the stated counts.

    ``data_dir`` is the registry (units, regions, categories, sources) that names are
    resolved against. Raises :class:`SourceError` when there is no result list or the
    cross-check fails (with ``lenient``, count and list problems become warnings).
    """
    registry = load_dataset(data_dir)
    text = read_source(source)
    registered = _registered_source(text, registry)
    src_row, doc = registered if registered is not None else (None, text)
    if not has_result_list(doc.lines):
        return extract_prose(doc, text.path, registry, src_row, year, track, lenient, accept_suggestions)
    return _extract(doc, text.path, registry, src_row, year, track, lenient, accept_suggestions)


def has_result_list(lines: list[str]) -> bool:
    """Whether ``lines`` hold a result list (a group heading followed by a numbered item)."""
    try:
        find_result_list(lines)
    except SourceError:
        return False
    return True


def _signature(lines: list[str]) -> tuple[object, ...] | None:
    """The result list and the edition facts of a document, without line numbers."""
    try:
        result = find_result_list(lines)
    except SourceError:
        return None
    f = read_facts(lines, result.start)
    facts = (
        bare(f.caption), f.announced, f.meeting_month_day, f.place_text, f.launched_month,
        tuple(map(bare, f.organisers)), tuple(map(bare, f.co_organisers)), f.awarded,
        f.submissions, f.online_vote,
    )
    return facts, tuple(
        (bare(g.heading), tuple((tuple(bare(a) for a in it.applicants), bare(it.title)) for it in g.items))
        for g in result.groups
    )


def _registered_source(text: SourceText, registry: Dataset) -> tuple[dict[str, str], SourceText] | None:
    """The registry's source document with the same result list and edition facts, if any.

    Line numbers are then those of the registered document, whatever form (HTML, another
    encoding, full-width punctuation) the given file has.
    """
    labels = track_labels(registry)

    def signature(lines: list[str]) -> tuple[object, ...] | None:
        return _signature(lines) if has_result_list(lines) else prose_signature(lines, labels)

    wanted = signature(text.lines)
    if wanted is None:
        return None
    for src in registry.sources:
        if src.path is None:
            continue
        doc_text = decode_bytes(src.path.read_bytes(), src.path)
        lines = doc_text.splitlines()
        if signature(lines) == wanted:
            row = {
                "id": src.id, "file": src.file, "title": src.title, "publisher": src.publisher,
                "author": src.author, "issued": src.issued, "url": src.url,
                "captured_from": src.captured_from,
            }
            return row, SourceText(src.path, lines, "utf-8")
    return None


def _extract(
    text: SourceText, given: Path, registry: Dataset, src_row: dict[str, str] | None,
    year: int | None, track: str | None, lenient: bool, accept: bool,
) -> Extraction:
    """Read the list, cross-check it, then assemble the edition, its categories and cases."""
    suggester = Suggester.from_dataset(registry)
    result = find_result_list(text.lines, given)  # parsing: the list and the facts around it
    facts = read_facts(text.lines, result.start)
    match_stated_counts(result.groups, stated_counts(text.lines, result.start))
    warnings: list[str] = []
    problems = _cross_check(result, facts, warnings)
    if problems:
        message = "cross-check failed: " + "; ".join(problems)
        if not lenient:
            raise SourceError(message, file=given)
        warnings.extend(problems)
    caption = facts.caption or text.title
    year, track_id = _list_edition(text, result, facts, caption, registry, year, track, given)
    edition_id = f"{track_id}-{year}"
    row = src_row or new_source_row(text, facts, edition_id, year)
    resolver = UnitResolver(registry, suggester)
    edition = _list_edition_row(facts, caption, edition_id, track_id, year, row["id"], resolver, suggester,
                                complete=facts.awarded is not None and not problems, warnings=warnings)
    categories = _list_categories(result.groups, known_categories(registry, edition_id), edition_id, warnings)
    cases, suggested = _list_cases(result.groups, edition_id, row["id"], resolver, suggester, accept, warnings)
    return Extraction(
        source=text, given=given, source_row=row, source_is_new=src_row is None, edition=edition,
        categories=categories, cases=cases, new_units=resolver.new_unit_rows(row["id"]),
        new_regions=resolver.new_regions, review=list(resolver.review.values()),
        groups=result.groups, warnings=warnings, registry=registry, suggested_domains=suggested,
        accepted=accept,
    )


def _cross_check(result: ResultList, facts: Facts, warnings: list[str]) -> list[str]:
    """The cases found per group and in all against the counts the article states: the problems."""
    problems = list(result.problems)
    for group in result.groups:
        if group.stated is None:
            warnings.append(f"group {group.name}: the article states no count; not cross-checked")
        elif group.stated != len(group.items):
            problems.insert(
                0,
                f"group {group.name}: {len(group.items)} cases found in the list, "
                f"the article states {group.stated} (line {group.stated_line})",
            )
    found = sum(len(g.items) for g in result.groups)
    if facts.awarded is not None and facts.awarded != found:
        problems.append(f"{found} cases found in the list, the article states {facts.awarded} awarded")
    return problems


def _list_edition(text: SourceText, result: ResultList, facts: Facts, caption: str, registry: Dataset,
                  year: int | None, track: str | None, given: Path) -> tuple[int, str]:
    """(year, track) of the list: as given, else from the caption, the dates or the title."""
    vocab = registry.vocabulary
    year = year or _year(caption) or _year(facts.announced) or _year(text.title)
    if year is None:
        raise SourceError("cannot tell the edition year; give it with --edition (a year, id or title)", file=given)
    track_id = track or track_in(vocab, caption, text.title, *text.lines[: result.start])
    if track_id is None:
        raise SourceError(
            f"cannot tell the track from {caption!r}; give it with --track "
            f"(one of: {', '.join(vocab.tracks)})",
            file=given,
        )
    return year, known_track(vocab, track_id, given)


def _list_edition_row(facts: Facts, caption: str, edition_id: str, track_id: str, year: int, source_id: str,
                      resolver: UnitResolver, suggester: Suggester, *, complete: bool,
                      warnings: list[str]) -> dict[str, str]:
    """The ``editions.csv`` row of the facts around the list."""
    resolve = resolver.resolve
    place = suggester.place(facts.place_text) if facts.place_text else None
    if facts.place_text and place is None:
        warnings.append(f"meeting place {facts.place_text!r} is not in regions.csv; left empty")
    meeting = ""
    if facts.meeting_month_day:
        meeting = f"{year:04d}-{facts.meeting_month_day[0]:02d}-{facts.meeting_month_day[1]:02d}"
    launched = ""
    if facts.launched_month:
        launched = f"{facts.launched_year or year:04d}-{facts.launched_month:02d}"
    edition = {
        "id": edition_id, "track": track_id, "year": str(year),
        "title_zh": _edition_title(caption) or caption, "title_en": "",
        "launched": launched, "meeting_date": meeting,
        # the results are announced at the award meeting; the page date (facts.announced) is the source's
        "meeting_place": place.code if place else "", "announced": meeting or facts.announced,
        "organisers": SEPARATOR.join(resolve(n, None, facts.first_fact_line) for n in facts.organisers),
        "co_organisers": SEPARATOR.join(resolve(n, None, facts.first_fact_line) for n in facts.co_organisers),
        "submissions": _num(facts.submissions), "online_vote": _num(facts.online_vote),
        "awarded": _num(facts.awarded), "source": source_id,
        "source_line": _num(facts.meeting_line or facts.first_fact_line),
        # complete only when the list's count matches the count the article states
        "complete": "yes" if complete else "",
    }
    for key in ("meeting_date", "announced", "organisers", "awarded"):
        if not edition[key]:
            warnings.append(f"edition {edition_id}: {key} not found in the article")
    return edition


def _list_categories(groups: list[Group], known: dict[str, tuple[str, str]], edition_id: str,
                     warnings: list[str]) -> list[dict[str, str]]:
    """One ``categories.csv`` row per group, with the registry's id where its heading matches one."""
    categories = []
    used_ids: set[str] = set()
    for position, group in enumerate(groups, start=1):
        cat_id, label_en = known.get(bare(group.label)) or known.get(bare(group.heading)) or ("", "")
        if not cat_id:
            cat_id = next(
                (cid for key, (cid, _) in known.items() if bare(group.heading) in key and cid not in used_ids),
                "",
            )
            label_en = next((en for key, (cid, en) in known.items() if cid == cat_id), "")
        if not cat_id or cat_id in used_ids:
            cat_id, label_en = f"group-{position}", ""
            group.known_category = False
            warnings.append(
                f"group {group.name}: heading matches no category in categories.csv; "
                f"given the id {cat_id!r}: rename it"
            )
        used_ids.add(cat_id)
        group.category = cat_id
        categories.append({
            "id": cat_id, "edition": edition_id, "position": str(position),
            "label_zh": group.label, "label_en": label_en, "stated_count": _num(group.stated),
            "source_line": str(group.line),
        })
    return categories


def _list_cases(groups: list[Group], edition_id: str, source_id: str, resolver: UnitResolver,
                suggester: Suggester, accept: bool,
                warnings: list[str]) -> tuple[list[dict[str, str]], dict[str, list[str]]]:
    """The ``cases.csv`` rows of the groups (their categories assigned), and each case's suggested domains."""
    cases, suggested = [], {}
    for group in groups:
        for pos, item in enumerate(group.items, start=1):
            case_id = f"{edition_id}-{group.category}-{pos:02d}"
            applicants = [resolver.resolve(a, case_id, item.line) for a in item.applicants]
            domains = suggester.domains(item.title)
            if not domains:  # weaker context: the applicants' names and the group heading
                domains = suggester.domains(*item.applicants, group.heading)
                if domains:
                    warnings.append(
                        f"case {case_id}: domain suggested from applicants and group heading, "
                        "not the title"
                    )
            suggested[case_id] = domains
            if not domains:
                warnings.append(f"case {case_id}: no domain suggested; pick one (line {item.line})")
            cases.append({
                "id": case_id, "edition": edition_id, "category": group.category, "position": str(pos),
                "title_zh": item.title, "title_en": "", "applicants": SEPARATOR.join(applicants),
                "domains": SEPARATOR.join(domains),
                "domain_basis": "curator" if accept else "suggested",
                "source": source_id, "source_line": str(item.line),
            })
    return cases, suggested


def _num(value: int | None) -> str:
    return "" if value is None else str(value)


def _year(text: str) -> int | None:
    m = re.search(r"(?<!\d)(20\d\d)(?!\d)", text or "")
    return int(m.group(1)) if m else None


def track_in(vocab: Vocabulary, *texts: str) -> str | None:
    """The notation of the first track whose label occurs in one of ``texts``."""
    for text in texts:
        folded = bare(text)
        for concept in vocab.tracks.values():
            if any(bare(label) in folded for label in (concept.pref_zh, *concept.alt)):
                return concept.notation
    return None


def _edition_title(caption: str) -> str:
    title = re.sub(r"^附(?:件|录)?\s*\d*\s*[:：]\s*", "", caption.strip())
    title = re.sub(r"\s*[(（][^()（）]*[)）]\s*$", "", title)
    title = re.sub(r"(?:征集)?(?:评选)?(?:结果|名单)(?:公布|公示)?$", "", title)
    return title.strip()


# ---------------------------------------------------------------- writing


def _csv_text(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _columns(name: str) -> tuple[str, ...]:
    required, optional = TABLES[name]
    return required + optional


def _registry_rows(registry: Dataset, name: str) -> tuple[list[str], list[dict[str, str]]]:
    """The registry table's header and rows as written in its file (CSV or XLSX)."""
    from chuzhi_graph.records.tables import read_table

    _, rows = read_table(registry.data_dir, name)
    header = [h for h in rows[0][1] if h] if rows else list(_columns(name))
    return header, [row for _, row in rows]


def extraction_tables(extraction: Extraction) -> dict[str, tuple[tuple[str, ...], list[dict[str, str]]]]:
    """The complete data folder the extraction makes: registry units/regions plus new ones."""
    reg = extraction.registry
    headers, registry_rows = {}, {}
    for name in OUTPUT_TABLES:  # the registry's column order, so that diffs stay small
        header, rows = _registry_rows(reg, name)
        headers[name] = tuple(dict.fromkeys([*header, *_columns(name)]))
        registry_rows[name] = rows
    # the registry's sources that its units cite come along, so that the folder loads
    cited = {u.source for u in reg.units if getattr(u, "source", "")} - {extraction.source_row["id"]}
    return {
        "sources": (headers["sources"],
                    [extraction.source_row] + [r for r in registry_rows["sources"] if r.get("id") in cited]),
        "regions": (headers["regions"], registry_rows["regions"] + extraction.new_regions),
        "units": (headers["units"], registry_rows["units"] + extraction.new_units),
        "editions": (headers["editions"], [extraction.edition]),
        "categories": (headers["categories"], extraction.categories),
        "cases": (headers["cases"], extraction.cases),
    }


def review_rows(extraction: Extraction) -> list[dict[str, str]]:
    return [
        {
            "name_zh": r.name, "suggested_id": r.id, "suggested_type": r.type,
            "suggested_region": r.region, "region_name": r.region_name,
            "nearest_known": SEPARATOR.join(f"{n} ({s})" for n, s in r.nearest),
            "cases": SEPARATOR.join(r.cases), "source_line": _num(r.line),
        }
        for r in extraction.review
    ]


def write_extraction(extraction: Extraction, out_dir: str | Path) -> list[Path]:
    """Write the extraction as a data folder that ``build`` reads, atomically.

    ``out_dir`` gets ``sources.csv`` (and the source text under ``sources/``),
    ``regions.csv``, ``units.csv`` (registry units plus new ones), ``editions.csv``,
    ``categories.csv``, ``cases.csv`` and ``units-review.csv``.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError("not a folder (extract -o writes a data folder)", file=out_dir)
    written: list[Path] = []
    with AtomicFiles() as files:
        for name, (columns, rows) in extraction_tables(extraction).items():
            target = out_dir / f"{name}.csv"
            files.path(target).write_text(_csv_text(columns, rows), encoding="utf-8", newline="")
            written.append(target)
        target = out_dir / REVIEW_FILE
        files.path(target).write_text(
            _csv_text(REVIEW_COLUMNS, review_rows(extraction)), encoding="utf-8", newline=""
        )
        written.append(target)
        target = out_dir / extraction.source_row["file"]
        files.path(target).write_text(extraction.source.text, encoding="utf-8", newline="")
        written.append(target)
        for row in extraction_tables(extraction)["sources"][1][1:]:  # cited registry sources, as they are
            target = out_dir / row["file"]
            files.path(target).write_bytes((extraction.registry.data_dir / row["file"]).read_bytes())
            written.append(target)
    return written


# ---------------------------------------------------------------- merging


@dataclass
class MergeResult:
    """What ``merge`` added to a data folder (``table -> ids``) and what it left as curated."""

    added: dict[str, list[str]]
    kept: list[str]
    files: list[Path]


_KEYS = {
    "sources": ("id",), "regions": ("code",), "units": ("name_zh",), "editions": ("id",),
    "categories": ("edition", "id"), "cases": ("id",),
}


def merge_extraction(extraction: Extraction, data_dir: str | Path) -> MergeResult:
    """Append the extraction's new records to the tables of ``data_dir``.

    Rows already there (same id; units by name or alias) are kept exactly as curated;
    differences are listed in ``kept``. The merged folder is loaded and checked before
    anything is written; on any problem nothing is written.
    """
    data_dir = Path(data_dir)
    added: dict[str, list[str]] = {}
    kept: list[str] = []
    new_text: dict[str, str] = {}
    index = UnitIndex(load_dataset(data_dir).units)
    for name, (_, rows) in extraction_tables(extraction).items():
        csv_path = data_dir / f"{name}.csv"
        if not csv_path.is_file():
            raise DataError(f"--merge needs {name}.csv (an XLSX table cannot be appended to)", file=data_dir)
        header, existing = _registry_rows_at(data_dir, name)
        keys = {_key(name, row) for row in existing}
        extra = []
        for row in rows:
            key = _key(name, row)
            if key in keys or (name == "units" and index.get(row["name_zh"]) is not None):
                current = next((r for r in existing if _key(name, r) == key), None)
                if current is not None:
                    diffs = [
                        c for c in header
                        if c in row and row[c] and (current.get(c) or "") != row[c]
                        and not (name == "cases" and c in ("domains", "domain_basis"))
                    ]
                    if diffs:
                        kept.append(f"{name} {'/'.join(key)}: curated {', '.join(diffs)} kept")
                continue
            missing = [c for c in row if row[c] and c not in header]
            if missing:
                raise DataError(f"cannot merge: the table has no column {missing[0]!r}", file=csv_path)
            extra.append(row)
        if extra:
            added[name] = ["/".join(_key(name, r)) for r in extra]
            body = csv_path.read_text(encoding="utf-8-sig")
            if body and not body.endswith("\n"):
                body += "\n"
            buf = io.StringIO()
            csv.DictWriter(buf, fieldnames=header, lineterminator="\n", extrasaction="ignore").writerows(extra)
            new_text[name] = body + buf.getvalue()
    copy_source = extraction.source_is_new and not (data_dir / extraction.source_row["file"]).exists()
    if new_text:
        _check_merged(data_dir, new_text, extraction if copy_source else None)
    files: list[Path] = []
    with AtomicFiles() as atomic:
        for name, text in new_text.items():
            target = data_dir / f"{name}.csv"
            atomic.path(target).write_text(text, encoding="utf-8", newline="")
            files.append(target)
        if copy_source and new_text:
            target = data_dir / extraction.source_row["file"]
            atomic.path(target).write_text(extraction.source.text, encoding="utf-8", newline="")
            files.append(target)
    return MergeResult(added, kept, files)


def _registry_rows_at(data_dir: Path, name: str) -> tuple[list[str], list[dict[str, str]]]:
    from chuzhi_graph.records.tables import read_table

    _, rows = read_table(data_dir, name)
    text = (data_dir / f"{name}.csv").read_text(encoding="utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    return [h.strip() for h in header], [row for _, row in rows]


def _key(name: str, row: dict[str, str]) -> tuple[str, ...]:
    if name == "units":
        return (normalise_name(row.get("name_zh", "")),)
    return tuple((row.get(k) or "").strip() for k in _KEYS[name])


def _check_merged(data_dir: Path, new_text: dict[str, str], extraction: Extraction | None) -> None:
    with tempfile.TemporaryDirectory(prefix="chuzhi-merge-") as tmp:
        trial = Path(tmp) / "data"
        shutil.copytree(data_dir, trial)
        for name, text in new_text.items():
            (trial / f"{name}.csv").write_text(text, encoding="utf-8", newline="")
        if extraction is not None:
            target = trial / extraction.source_row["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(extraction.source.text, encoding="utf-8")
        try:
            load_dataset(trial)
        except ChuzhiError as exc:
            where = exc.location().replace(str(trial), str(data_dir))
            raise DataError(
                f"merge refused, the merged data would not load ({where}: {exc.message}); "
                "complete the review (extract -o DIR) first",
                file=data_dir,
            ) from None


# ---------------------------------------------------------------- report


def format_report(extraction: Extraction) -> str:
    """A short review report for the curator (plain text, Markdown-friendly)."""
    ed = extraction.edition
    lines = [
        f"# extract: {extraction.given.name} -> edition {ed['id']}",
        "",
        f"source: {extraction.source_row['id']}"
        + (" (new)" if extraction.source_is_new else " (already in sources.csv; lines refer to it)"),
        f"edition: year {ed['year']}, meeting {ed['meeting_date'] or '?'}, place "
        f"{ed['meeting_place'] or '?'}, announced {ed['announced'] or '?'}, launched "
        f"{ed['launched'] or '?'}",
        f"organisers: {ed['organisers'] or '?'}; co-organisers: {ed['co_organisers'] or '-'}",
        f"stated: {ed['awarded'] or '?'} awarded, {ed['submissions'] or '?'} submissions, "
        f"{ed['online_vote'] or '?'} in the online vote",
    ]
    if extraction.shape == "prose":
        lines[3:3] = [f"title: {ed['title_zh']}; event: {ed.get('event') or '?'}; announced as written: "
                      f"{ed.get('announced_text') or '-'}; complete list: {ed.get('complete') or '?'}"]
    lines += ["", "## groups"] if extraction.shape == "list" else [""]
    for g in extraction.groups:
        stated = "no stated count" if g.stated is None else f"stated {g.stated}"
        status = "ok" if g.stated == len(g.items) else "CHECK"
        flag = "" if g.known_category else " (new category id: rename)"
        lines.append(f"- {g.name} -> {g.category}{flag}: {len(g.items)} found, {stated} [{status}]")
    if extraction.shape == "prose":
        lines += format_prose_report(extraction)
    lines += ["", f"## cases ({len(extraction.cases)}): suggested domains"
              + (" (accepted)" if extraction.accepted else " (confirm: domain_basis=suggested)")]
    for case in extraction.cases:
        lines.append(f"- {case['id']}: {case['title_zh']} -> {case['domains'] or '(none: pick one)'}")
    lines += ["", f"## unknown units ({len(extraction.review)})"]
    if not extraction.review:
        lines.append("none: every applicant and organiser is in units.csv")
    for r in extraction.review:
        near = ", ".join(f"{n} ({s})" for n, s in r.nearest) or "none"
        region = f"{r.region} {r.region_name}" if r.region else "none"
        lines.append(
            f"- {r.name} (line {r.line}): type {r.type or 'none'}, region {region}; "
            f"nearest known: {near}; cases: {', '.join(r.cases) or 'organiser'}"
        )
    if extraction.warnings:
        lines += ["", "## warnings", *(f"- {w}" for w in extraction.warnings)]
    return "\n".join(lines) + "\n"


def _numeral_value(numeral: str) -> int:
    """``一`` -> 1, ``十二`` -> 12 (group headings go up to a few dozen at most)."""
    try:
        if "十" in numeral:
            tens, _, ones = numeral.partition("十")
            return (_NUMERALS.index(tens) if tens else 1) * 10 + (_NUMERALS.index(ones) if ones else 0)
        return _NUMERALS.index(numeral)
    except ValueError:
        return 0


@dataclass
class ExtractRun:
    """One ``chuzhi-graph extract`` run: the extraction, its report, what was written."""

    extraction: Extraction
    report: str
    written: list[Path]
    merge: MergeResult | None


def run_extract(
    source: str | Path,
    data_dir: str | Path = "data",
    *,
    out_dir: str | Path | None = None,
    merge: bool = False,
    year: int | None = None,
    track: str | None = None,
    lenient: bool = False,
    accept_suggestions: bool = False,
) -> ExtractRun:
    """Extract, then write ``out_dir`` and/or merge into ``data_dir``; nothing on error.

    >>> run = run_extract("data/sources/000_451b57e0ba31c9df.txt", out_dir="extracted-run")
    >>> len(run.extraction.cases)
    27
    """
    extraction = extract(
        source, data_dir, year=year, track=track, lenient=lenient,
        accept_suggestions=accept_suggestions,
    )
    written = write_extraction(extraction, out_dir) if out_dir is not None else []
    merged = merge_extraction(extraction, data_dir) if merge else None
    report = format_report(extraction)
    if merged is not None:
        report += f"\n## merge into {data_dir}\n"
        report += "".join(f"- added to {t}: {', '.join(ids)}\n" for t, ids in merged.added.items())
        if not merged.added:
            report += "- nothing new: every record is already there\n"
        report += "".join(f"- {k}\n" for k in merged.kept)
    return ExtractRun(extraction, report, written, merged)
