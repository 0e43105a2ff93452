"""Case records: the curated tables in ``data/`` and how they are read and checked.

The record files are what a researcher edits in a spreadsheet. Each table is
``DIR/<name>.csv`` (UTF-8; a UTF-8 BOM, Excel's habit, and GB18030/GBK are accepted)
or, instead, ``DIR/<name>.xlsx`` (first sheet, header in row 1). Multi-valued fields
use ``|`` as the one separator. Tables and columns are documented in ``docs/records.md``.

Every problem is reported as a :class:`~chuzhi_graph.errors.DataError` naming the file,
the line (the spreadsheet row) and the field.

>>> ds = load_dataset("data")
>>> len(ds.cases), len(ds.applicant_units())
(30, 32)
"""

from __future__ import annotations

import csv
import functools
import logging
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from chuzhi_graph.core.namespace import BASIS_BY_NOTATION
from chuzhi_graph.core.progress import advance, counted, step
from chuzhi_graph.core.vocabulary import Vocabulary, load_vocabulary
from chuzhi_graph.errors import DataError, printable
from chuzhi_graph.records.headers import column_of, nearest, resolve_header, spelled
from chuzhi_graph.records.xlsx import CELL_LIMIT, column_letter, read_rows

log = logging.getLogger(__name__)

SEPARATOR = "|"

#: table name -> (required columns, optional columns)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sources": (
        ("id", "file", "title", "publisher", "issued"),
        ("author", "url", "captured_from", "reliability"),
    ),
    "regions": (("code", "name_zh", "level"), ("name_en", "parent")),
    "units": (
        ("id", "name_zh", "type"),
        ("name_en", "type_basis", "region", "region_basis", "parent", "aliases", "note",
         "parent_basis", "alias_basis", "source", "source_line", "name_basis"),
    ),
    "editions": (
        ("id", "track", "year", "title_zh"),
        (
            "title_en",
            "launched",
            "meeting_date",
            "meeting_place",
            "announced",
            "organisers",
            "co_organisers",
            "submissions",
            "online_vote",
            "awarded",
            "source",
            "source_line",
            # the series (docs/series.md)
            "event",
            "announced_text",
            "complete",
            "run_by",
            "call_source",
            "call_source_line",
            "note",
            # the line of each fact, where it is not source_line (docs/series.md)
            "result_title",
            "launched_line",
            "announced_line",
        ),
    ),
    "categories": (
        ("id", "edition", "position", "label_zh"),
        ("label_en", "stated_count", "source_line"),
    ),
    "cases": (
        ("id", "edition", "category", "position", "title_zh", "applicants", "domains"),
        ("title_en", "domain_basis", "source", "source_line"),
    ),
}

#: ids as documented: lower-case ASCII letters and digits, single '-' between them (every
#: such id makes an IRI that gets its own page on the published site)
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", re.ASCII)
_LEVELS = ("province", "prefecture", "county")
#: ``sources.reliability``: the publisher's own page, a page of an organiser of the edition
#: that republishes the text, or a third-party mirror (original address unknown)
RELIABILITIES = ("publisher", "organiser", "mirror")
#: ``editions.complete``: the graph holds the whole list (yes), a part (no), or unknown ("")
COMPLETENESS = ("yes", "no")


def normalise_name(text: str) -> str:
    """Fold full-width/half-width forms and drop white space, for matching names.

    >>> normalise_name("中国电信（武汉） 分公司")
    '中国电信(武汉)分公司'
    """
    # NFKC can both remove and introduce spaces (e.g. U+00A8 -> " \u0308"), and dropping a
    # space can let marks compose: repeat until nothing changes (a few rounds at most).
    for _ in range(4):
        folded = unicodedata.normalize("NFKC", "".join(unicodedata.normalize("NFKC", text).split()))
        if folded == text:
            break
        text = folded
    return text


#: line breaks and tabs in a cell (Excel's Alt+Enter) are folded to one space, with a warning
_FOLD = re.compile("[\t\n\x0b\x0c\r\x85\u2028\u2029]+")
#: refused in any cell: other C0/C1 control characters (they break XML output and reach
#: terminals as escape sequences), bidirectional controls (they reorder what a reader sees),
#: surrogates and the Unicode noncharacters (U+FFFE, U+FFFF, ...: RDF tools stop at them)
_REFUSED = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17))
    + "]"
)
GBT2260 = Path(__file__).parents[1] / "reference" / "gbt2260.csv"


def refused_character(value: str) -> str | None:
    """Why ``value`` cannot be a record value (a control, bidi or noncharacter), else None.

    >>> refused_character("标题\x1b[31m")
    'control character U+001B at character 3'
    >>> refused_character("正常") is None
    True
    """
    bad = _REFUSED.search(value)
    if bad is None:
        return None
    ch = bad.group()
    code = ord(ch)
    if code < 0xA0:
        kind = "control character"
    elif 0xD800 <= code <= 0xDFFF:
        kind = "surrogate"
    elif 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
        kind = "noncharacter"
    else:
        kind = "bidirectional control"
    return f"{kind} U+{code:04X} at character {bad.start() + 1}"


def is_web_url(value: str) -> bool:
    """An absolute ``http``/``https`` URL with a host that is also a valid IRI.

    >>> is_web_url("https://isg.hust.edu.cn/info/1121/3152.htm"), is_web_url("javascript:alert(1)")
    (True, False)
    """
    import pyoxigraph as ox

    try:
        parts = urlsplit(value)
        _ = parts.port
        ox.NamedNode(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and refused_character(value) is None


@functools.cache
def gbt2260_codes() -> dict[str, str]:
    """The GB/T 2260 division codes (province, prefecture and county level) and their names."""
    with GBT2260.open(encoding="utf-8", newline="") as fh:
        return {row["code"]: row["name"] for row in csv.DictReader(fh)}


def _level_of(code: str) -> str:
    return "province" if code.endswith("0000") else "prefecture" if code.endswith("00") else "county"


def _parents_of(code: str) -> list[str]:
    """The codes a region may name as its parent: the division above it in GB/T 2260.

    A county's parent is its prefecture; where there is none (Beijing's districts) or only a
    placeholder (湖北省直辖县级行政区划: 仙桃, 潜江, ...) it is the province.
    """
    table = gbt2260_codes()
    province, prefecture = code[:2] + "0000", code[:4] + "00"
    if _level_of(code) == "province":
        return []
    if _level_of(code) == "prefecture" or prefecture not in table or "直辖" in table[prefecture]:
        return [province]
    return [prefecture]


def split_multi(value: str) -> list[str]:
    """Split a multi-valued cell on ``|``, dropping empty parts.

    >>> split_multi("国网湖北电力 | 国网")
    ['国网湖北电力', '国网']
    """
    return [part.strip() for part in value.split(SEPARATOR) if part.strip()]


# ---------------------------------------------------------------- records


@dataclass(slots=True)
class Source:
    id: str
    file: str
    title: str
    publisher: str
    issued: str
    author: str = ""
    url: str = ""
    captured_from: str = ""
    reliability: str = ""
    line: int = 0
    path: Path | None = None


@dataclass(slots=True)
class Region:
    code: str
    name_zh: str
    level: str
    name_en: str = ""
    parent: str = ""
    line: int = 0


@dataclass(slots=True)
class Unit:
    id: str
    name_zh: str
    type: str  # unit-type notation, resolved
    name_en: str = ""
    type_basis: str = "curator"
    region: str = ""
    region_basis: str = ""
    parent: str = ""  # unit id, resolved
    aliases: list[str] = field(default_factory=list)
    note: str = ""
    line: int = 0
    parent_basis: str = ""
    alias_basis: list[str] = field(default_factory=list)  # one basis notation per alias
    source: str = ""  # the source document that names the unit, and its line
    source_line: int | None = None
    name_basis: str = ""  # what the name rests on when no source line names the unit


@dataclass(slots=True)
class Edition:
    id: str
    track: str
    year: int
    title_zh: str
    title_en: str = ""
    launched: str = ""
    meeting_date: str = ""
    meeting_place: str = ""
    announced: str = ""
    organisers: list[str] = field(default_factory=list)  # unit ids
    co_organisers: list[str] = field(default_factory=list)  # unit ids
    submissions: int | None = None
    online_vote: int | None = None
    awarded: int | None = None
    source: str = ""
    source_line: int | None = None
    event: str = ""  # the event at which the results were announced, as written
    announced_text: str = ""  # when the results were announced, as written ("2023年底")
    complete: str = ""  # "yes", "no" or "" (see COMPLETENESS)
    run_by: list[str] = field(default_factory=list)  # unit ids (承办)
    call_source: str = ""  # the source reporting the call for entries (title, organisers, run_by)
    call_source_line: int | None = None
    result_title: str = ""  # the edition's name as the result announcement (source_line) writes it
    launched_line: int | None = None  # the line of source that says when it was launched
    announced_line: int | None = None  # the line of source that gives the announcement's date
    note: str = ""
    line: int = 0


@dataclass(slots=True)
class Category:
    id: str
    edition: str
    position: int
    label_zh: str
    label_en: str = ""
    stated_count: int | None = None
    source_line: int | None = None
    line: int = 0


@dataclass(slots=True)
class Case:
    id: str
    edition: str
    category: str
    position: int
    title_zh: str
    applicants: list[str]  # unit ids, in the listed order
    domains: list[str]  # domain notations
    title_en: str = ""
    domain_basis: str = "curator"
    source: str = ""
    source_line: int | None = None
    line: int = 0


@dataclass
class Dataset:
    """All records of one data folder, checked and cross-referenced."""

    data_dir: Path
    vocabulary: Vocabulary
    sources: list[Source]
    regions: list[Region]
    units: list[Unit]
    editions: list[Edition]
    categories: list[Category]
    cases: list[Case]
    files: dict[str, Path] = field(default_factory=dict)

    def unit_by_id(self) -> dict[str, Unit]:
        return {u.id: u for u in self.units}

    def applicant_units(self) -> list[Unit]:
        """Units that applied for at least one case, in record order."""
        used = {uid for case in self.cases for uid in case.applicants}
        return [u for u in self.units if u.id in used]


# ---------------------------------------------------------------- reading tables


def decode_bytes(raw: bytes, file: Path) -> str:
    """Decode a record file: UTF-8 (with or without BOM), else GB18030/GBK.

    >>> decode_bytes("名称".encode("gb18030"), Path("x.csv"))
    '名称'
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        line = raw[: utf8_error.start].count(b"\n") + 1
        raise DataError(
            f"not UTF-8 and not GB18030 text; save the file as 'CSV UTF-8' (byte {utf8_error.start} cannot be decoded)",
            file=file,
            line=line,
        ) from None
    log.warning("%s: read as GB18030 (not UTF-8); consider saving it as 'CSV UTF-8'", file)
    return text


Row = tuple[int, dict[str, str]]
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _lines(text: str, offset: int = 0) -> Iterator[str]:
    """The lines of ``text`` from ``offset``, with their line breaks (one string each, not a copy of all)."""
    for match in _LINES.finditer(text, offset):
        yield match.group()


def _read_csv(path: Path) -> tuple[list[str], list[Row]]:
    text = decode_bytes(path.read_bytes(), path)
    csv.field_size_limit(CELL_LIMIT)
    reader = csv.reader(_lines(text), strict=True)
    rows: list[Row] = []
    header: list[str] | None = None
    start = 1
    try:
        for record in reader:
            line = start
            start = reader.line_num + 1
            if header is None:
                header = [h.strip() for h in record]
                continue
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise DataError(
                    f"malformed row: {len(record)} fields where the header has {len(header)}",
                    file=path,
                    line=line,
                )
            rows.append((line, dict(zip(header, record, strict=True))))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise _oversize_csv_cell(path, text, start, header or []) from None
        if "unexpected end of data" in str(exc):
            # the reader ran to the end of the file looking for a closing quote
            raise DataError(
                "malformed CSV: a quoted field opened on this line is never closed", file=path, line=start
            ) from None
        raise DataError(f"malformed CSV: {exc}", file=path, line=reader.line_num) from None
    if header is None:
        raise DataError("empty file: no header row", file=path, line=1)
    return header, rows


def _oversize_csv_cell(path: Path, text: str, line: int, header: list[str]) -> DataError:
    """The error for the record starting on ``line`` that holds a cell over the limit: which column, how long."""
    offset = 0
    for _ in range(line - 1):
        offset = text.find("\n", offset) + 1
    csv.field_size_limit(sys.maxsize)
    try:
        record = next(csv.reader(_lines(text, offset)), [])
    except csv.Error:
        record = []
    finally:
        csv.field_size_limit(CELL_LIMIT)
    index, length = next(((i, len(cell)) for i, cell in enumerate(record) if len(cell) > CELL_LIMIT), (0, 0))
    name = header[index] if index < len(header) and header[index] else column_letter(index + 1)
    size = f"cell of {length:,} characters" if length else "cell"
    return DataError(f"{size}, over the limit of {CELL_LIMIT:,}", file=path, line=line, field=name)


def _read_xlsx(path: Path) -> tuple[list[str], list[Row]]:
    header: list[str] | None = None
    rows: list[Row] = []
    for number, cells in read_rows(path):
        if header is None:
            header = [c.strip() for c in cells]
            while header and not header[-1]:
                header.pop()
            continue
        if not any(c.strip() for c in cells):
            continue
        extra = [c for c in cells[len(header) :] if c.strip()]
        if extra:
            raise DataError(
                f"malformed row: values beyond the {len(header)} header columns",
                file=path,
                line=number,
            )
        cells = (cells + [""] * len(header))[: len(header)]
        rows.append((number, dict(zip(header, cells, strict=True))))
    if header is None:
        raise DataError("empty workbook: no header row", file=path, line=1)
    return header, rows


def table_file(data_dir: Path, name: str) -> Path:
    """The file of table ``name``: ``name.csv`` or ``name.xlsx``; both, or neither, is a :class:`DataError`."""
    csv_path, xlsx_path = data_dir / f"{name}.csv", data_dir / f"{name}.xlsx"
    if csv_path.is_file() and xlsx_path.is_file():
        raise DataError(f"two tables for the same records: {csv_path.name} and {xlsx_path.name}; "
                        "keep one of them (move the other out of the folder)", file=data_dir)
    if csv_path.is_file():
        return csv_path
    if xlsx_path.is_file():
        return xlsx_path
    raise DataError(f"missing table '{name}': expected {name}.csv or {name}.xlsx", file=data_dir)


def read_table(data_dir: Path, name: str) -> tuple[Path, list[Row]]:
    """Read table ``name`` from ``data_dir`` (CSV or XLSX) and check its columns.

    Chinese column names (:mod:`chuzhi_graph.records.headers`) are read as the English ones.
    """
    path = table_file(data_dir, name)
    found, rows = _read_csv(path) if path.suffix == ".csv" else _read_xlsx(path)
    header = resolve_header(name, found)
    if header != found:
        renamed = dict(zip(found, header, strict=True))
        rows = [(line, {renamed[k]: v for k, v in row.items()}) for line, row in rows]
    _check_columns(path, name, found, header)
    return path, rows


def _check_columns(path: Path, name: str, found: list[str], header: list[str]) -> None:
    """Refuse a duplicate, unknown or missing column, with the columns found and the nearest known name."""
    required, optional = TABLES[name]
    listed = f"columns found: {', '.join(printable(h) for h in found if h)}"
    seen: dict[str, int] = {}
    for number, column in enumerate(header, start=1):
        if column and column in seen:
            raise DataError(f"duplicate column (columns {seen[column]} and {number}): which one holds the values?",
                            file=path, line=1, field=column)
        seen[column] = number
        why = refused_character(found[number - 1])
        if why:
            raise DataError(f"{why} in the column name; remove it", file=path, line=1)
    known = set(required) | set(optional)
    for given, column in zip(found, header, strict=True):
        if column and column not in known:
            near = nearest(name, given)
            hint = f"did you mean {spelled(name, column_of(name, near) or near)}? " if near else ""
            raise DataError(f"unknown column ({hint}{listed}; expected some of: {', '.join(required + optional)})",
                            file=path, line=1, field=given)
    for column in required:
        if column not in header:
            raise DataError(f"missing column {spelled(name, column)} ({listed})", file=path, line=1, field=column)


# ---------------------------------------------------------------- field parsers


class _Cells:
    """Typed access to one row's cells, raising DataError with file/line/field."""

    def __init__(self, path: Path, line: int, row: dict[str, str]) -> None:
        self.path, self.line, self.row = path, line, row

    def error(self, field_name: str, message: str) -> DataError:
        return DataError(message, file=self.path, line=self.line, field=field_name)

    def text(self, name: str, *, required: bool = False) -> str:
        value = unicodedata.normalize("NFC", self.row.get(name, "") or "").strip()
        why = refused_character(value)
        if why:
            raise self.error(name, f"{why}; remove it (it breaks RDF/XML output and terminals)")
        if _FOLD.search(value):
            log.warning("%s, line %d, field %s: line break or tab folded to a space", self.path, self.line, name)
            value = _FOLD.sub(" ", value)
        if required and not value:
            raise self.error(name, "empty value")
        return value

    def ident(self, name: str) -> str:
        value = self.text(name, required=True)
        if not _ID_RE.match(value):
            raise self.error(
                name,
                f"invalid id {value!r}: use lower-case ASCII letters, digits and '-' (it becomes part of an IRI)",
            )
        return value

    def integer(self, name: str, *, required: bool = False, minimum: int = 0) -> int | None:
        value = self.text(name, required=required)
        if not value:
            return None
        try:
            number = int(value)
        except ValueError:
            raise self.error(name, f"not a whole number: {value!r}") from None
        if number < minimum:
            raise self.error(name, f"must be at least {minimum}: {number}")
        return number

    def iso_date(self, name: str, *, month_ok: bool = False) -> str:
        value = self.text(name)
        if not value:
            return ""
        if month_ok and re.fullmatch(r"\d{4}-\d{2}", value):
            return value
        try:
            date.fromisoformat(value)
        except ValueError:
            form = "YYYY-MM-DD or YYYY-MM" if month_ok else "YYYY-MM-DD"
            raise self.error(name, f"not a date ({form}): {value!r}") from None
        return value

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name)
        if value and value not in allowed:
            raise self.error(name, f"unknown value {value!r} (expected one of: {', '.join(allowed)}, or empty)")
        return value

    def cited_line(self, what: str, *, source: bool = True) -> int:
        """``source_line``, which must be given: the statements of ``what`` have no basis column.

        ``source``: the row has its own ``source`` column, which the line needs too.
        """
        number = self.integer("source_line", minimum=1)
        if number is None:
            raise self.error("source_line", f"{what} cites no source line and has no basis: give the line "
                             "of the source document that states it (docs/judgements.md)")
        if source and not self.text("source"):
            raise self.error("source", f"source line {number} of no source document: give source")
        return number

    def basis(self, name: str, default: str) -> str:
        value = self.text(name) or default
        if value not in BASIS_BY_NOTATION:
            raise self.error(name, f"unknown basis {value!r} (expected one of: {', '.join(BASIS_BY_NOTATION)})")
        return value


# ---------------------------------------------------------------- loading


def load_dataset(data_dir: str | Path, *, ontology_dir: str | Path | None = None,
                 allow_empty: bool = True) -> Dataset:
    """Read and cross-check every table of ``data_dir``.

    Raises :class:`DataError` for the first problem found, naming file, line and field;
    with ``allow_empty=False`` also when there is no case.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError("data folder does not exist", file=data_dir)
    vocab = load_vocabulary(ontology_dir)
    files: dict[str, Path] = {}
    tables: dict[str, list[Row]] = {}
    step("read record tables", total=len(TABLES), unit="tables")
    for name in TABLES:
        files[name], tables[name] = read_table(data_dir, name)
        advance()
    step("check records", total=sum(len(rows) for rows in tables.values()), unit="rows")
    rows = {name: counted(table) for name, table in tables.items()}  # checked once each, in this order

    sources = _load_sources(data_dir, files["sources"], rows["sources"])
    regions = _load_regions(files["regions"], rows["regions"])
    units = _load_units(files["units"], rows["units"], vocab, {r.code for r in regions}, {s.id for s in sources})
    names = _UnitNames(units, files["units"])
    editions = _load_editions(
        files["editions"],
        rows["editions"],
        vocab,
        names,
        {r.code for r in regions},
        {s.id for s in sources},
    )
    categories = _load_categories(files["categories"], rows["categories"], {e.id for e in editions})
    cases = _load_cases(files["cases"], rows["cases"], vocab, names, categories, {s.id for s in sources})
    if not cases and not allow_empty:
        raise DataError("no cases: the table has no rows (to build an empty graph anyway, give --allow-empty)",
                        file=files["cases"])
    return Dataset(data_dir, vocab, sources, regions, units, editions, categories, cases, files)


def _unique(seen: dict[str, int], key: str, cells: _Cells, field_name: str, what: str) -> None:
    if key in seen:
        raise cells.error(field_name, f"duplicate {what} {key!r} (first on line {seen[key]})")
    seen[key] = cells.line


def _load_sources(data_dir: Path, path: Path, rows: Iterable[Row]) -> list[Source]:
    out, seen = [], dict[str, int]()  # seen: key -> its first line
    for line, row in rows:
        c = _Cells(path, line, row)
        src = Source(
            id=c.ident("id"),
            file=c.text("file", required=True),
            title=c.text("title", required=True),
            publisher=c.text("publisher", required=True),
            issued=c.iso_date("issued"),
            author=c.text("author"),
            url=c.text("url"),
            captured_from=c.text("captured_from"),
            reliability=c.choice("reliability", RELIABILITIES),
            line=line,
        )
        _unique(seen, src.id, c, "id", "source id")
        if src.url and not is_web_url(src.url):
            raise c.error("url", f"not a web address: {src.url!r} (give an absolute http:// or https:// URL)")
        src.path = data_dir / src.file
        if not src.path.resolve().is_relative_to(data_dir.resolve()):
            raise c.error("file", f"source document outside the data folder: {src.file!r} (keep it under {data_dir})")
        if not src.path.is_file():
            raise c.error("file", f"source document not found: {src.path}")
        out.append(src)
    return out


def _load_regions(path: Path, rows: Iterable[Row]) -> list[Region]:
    out, seen = [], dict[str, int]()  # seen: key -> its first line
    table = gbt2260_codes()
    for line, row in rows:
        c = _Cells(path, line, row)
        code = c.text("code", required=True)
        if not re.fullmatch(r"[0-9]{6}", code):
            raise c.error("code", f"not a six-digit GB/T 2260 code (ASCII digits): {code!r}")
        if code not in table:
            raise c.error("code", f"{code} is not a GB/T 2260 division code (province, prefecture or county)")
        level = c.text("level", required=True)
        if level not in _LEVELS:
            raise c.error("level", f"unknown level {level!r} (expected one of: {', '.join(_LEVELS)})")
        if level != _level_of(code):
            raise c.error("level", f"{code} ({table[code]}) is a {_level_of(code)}-level code, not {level}")
        _unique(seen, code, c, "code", "region code")
        region = Region(code, c.text("name_zh", required=True), level, c.text("name_en"), c.text("parent"), line)
        if normalise_name(region.name_zh) != normalise_name(table[code]):
            log.warning("%s, line %d, field name_zh: %s is %s in GB/T 2260, not %s",
                        path, line, code, table[code], region.name_zh)
        out.append(region)
    codes = {r.code for r in out}
    for r in out:
        if r.parent and r.parent not in codes:
            raise DataError(f"unknown parent region {r.parent!r}", file=path, line=r.line, field="parent")
        allowed = _parents_of(r.code)
        if r.parent and r.parent not in allowed:
            within = " or ".join(f"{p} ({table[p]})" for p in allowed) or "nothing (a province)"
            raise DataError(f"{r.code} ({table[r.code]}) lies within {within}, not {r.parent} "
                            f"({table.get(r.parent, '?')})", file=path, line=r.line, field="parent")
    return out


def _load_units(
    path: Path, rows: Iterable[Row], vocab: Vocabulary, region_codes: set[str], source_ids: set[str] | None = None
) -> list[Unit]:
    out, seen_id, seen_name = [], dict[str, int](), dict[str, int]()
    for line, row in rows:
        c = _Cells(path, line, row)
        type_text = c.text("type", required=True)
        unit_type = vocab.unit_type(type_text)
        if unit_type is None:
            raise c.error("type", f"unknown unit type {type_text!r} (known: {', '.join(vocab.unit_type_labels())})")
        region = c.text("region")
        if region and region not in region_codes:
            raise c.error("region", f"unknown region code {region!r} (add it to regions.csv)")
        unit = Unit(
            id=c.ident("id"),
            name_zh=c.text("name_zh", required=True),
            type=unit_type,
            name_en=c.text("name_en"),
            type_basis=c.basis("type_basis", "curator"),
            region=region,
            region_basis=c.basis("region_basis", "curator") if region else "",
            parent=c.text("parent"),
            aliases=split_multi(c.text("aliases")),
            note=c.text("note"),
            line=line,
            parent_basis=c.basis("parent_basis", "curator") if c.text("parent") else "",
            source=c.text("source"),
            source_line=c.integer("source_line", minimum=1),
        )
        unit.name_basis = _name_basis(c, unit)
        unit.alias_basis = _alias_bases(c, len(unit.aliases))
        if unit.source and source_ids is not None and unit.source not in source_ids:
            raise c.error("source", f"unknown source {unit.source!r} (not in sources.csv)")
        _unique(seen_id, unit.id, c, "id", "unit id")
        _unique(seen_name, normalise_name(unit.name_zh), c, "name_zh", "unit name")
        out.append(unit)
    names = _UnitNames(out, path)
    for unit in out:
        if unit.parent:
            unit.parent = names.resolve(unit.parent, _Cells(path, unit.line, {}), "parent")
            if unit.parent == unit.id:
                raise DataError("a unit cannot be its own parent", file=path, line=unit.line, field="parent")
    _check_parent_cycles(out, path)
    return out


def _name_basis(c: _Cells, unit: Unit) -> str:
    """The basis of a unit's name: ``source`` where a source line names the unit, else ``name_basis``.

    A name with neither is refused: no fact without a source line or a basis (docs/judgements.md).
    """
    given = c.text("name_basis")
    if given and given not in BASIS_BY_NOTATION:
        raise c.error("name_basis", f"unknown basis {given!r} (expected one of: {', '.join(BASIS_BY_NOTATION)})")
    if unit.source_line is not None:
        if not unit.source:
            raise c.error("source", f"source line {unit.source_line} of no source document: give source")
        if given not in ("", "source"):
            raise c.error("name_basis", f"basis {given!r} with a source line: the line states the name "
                          "(leave name_basis empty or 'source', or remove source_line)")
        return "source"
    if given in ("", "source"):
        why = "no source line" if not given else "basis 'source' without the line"
        raise c.error("name_basis", f"the name {unit.name_zh} has {why}: give source and source_line "
                      "(the line that names the unit), or name_basis (name, curator or suggested) "
                      "with the reason in note (docs/judgements.md)")
    return given


def _alias_bases(c: _Cells, n_aliases: int) -> list[str]:
    """One basis per alias: ``alias_basis`` holds one notation for all, or one per alias in order."""
    given = split_multi(c.text("alias_basis"))
    for value in given:
        if value not in BASIS_BY_NOTATION:
            raise c.error("alias_basis", f"unknown basis {value!r} (expected one of: {', '.join(BASIS_BY_NOTATION)})")
    if not given:
        return ["curator"] * n_aliases
    if len(given) == 1:
        return given * n_aliases
    if len(given) != n_aliases:
        raise c.error("alias_basis", f"{len(given)} bases for {n_aliases} aliases: give one for all, or one per alias")
    return given


def _check_parent_cycles(units: list[Unit], path: Path) -> None:
    parent = {u.id: u.parent for u in units}
    for unit in units:
        seen, cur = {unit.id}, parent[unit.id]
        while cur:
            if cur in seen:
                raise DataError("parent organisations form a cycle", file=path, line=unit.line, field="parent")
            seen.add(cur)
            cur = parent.get(cur, "")


class _UnitNames:
    """Resolve a unit given by id, Chinese name or alias (full-/half-width folded)."""

    def __init__(self, units: list[Unit], path: Path) -> None:
        self.by_key: dict[str, str] = {}
        self.ambiguous: dict[str, set[str]] = {}
        for u in units:
            self.by_key[u.id] = u.id
            self.by_key[normalise_name(u.name_zh)] = u.id
        for u in units:
            for alias in u.aliases:
                key = normalise_name(alias)
                if key in self.by_key and self.by_key[key] != u.id:
                    self.ambiguous.setdefault(key, {self.by_key[key]}).add(u.id)
                else:
                    self.by_key.setdefault(key, u.id)
        self.path = path

    def resolve(self, name: str, cells: _Cells, field_name: str) -> str:
        key = name if name in self.by_key else normalise_name(name)
        if key in self.ambiguous:
            raise cells.error(field_name, f"ambiguous unit {name!r}: alias of {', '.join(sorted(self.ambiguous[key]))}")
        if key not in self.by_key:
            raise cells.error(field_name, f"unit {name!r} is not defined in {self.path.name}")
        return self.by_key[key]


def _load_editions(
    path: Path,
    rows: Iterable[Row],
    vocab: Vocabulary,
    names: _UnitNames,
    region_codes: set[str],
    source_ids: set[str],
) -> list[Edition]:
    out, seen, seen_pair = [], dict[str, int](), dict[str, int]()
    for line, row in rows:
        c = _Cells(path, line, row)
        track = c.text("track", required=True)
        if vocab.track(track) is None:
            raise c.error("track", f"unknown track {track!r} (known: {', '.join(vocab.tracks)})")
        year = c.integer("year", required=True, minimum=2000)
        assert year is not None
        place = c.text("meeting_place")
        if place and place not in region_codes:
            raise c.error("meeting_place", f"unknown region code {place!r}")
        source = c.text("source")
        if source and source not in source_ids:
            raise c.error("source", f"unknown source {source!r} (not in sources.csv)")
        ed = Edition(
            id=c.ident("id"),
            track=track,
            year=year,
            title_zh=c.text("title_zh", required=True),
            title_en=c.text("title_en"),
            launched=c.iso_date("launched", month_ok=True),
            meeting_date=c.iso_date("meeting_date"),
            meeting_place=place,
            announced=c.iso_date("announced"),
            organisers=[names.resolve(n, c, "organisers") for n in split_multi(c.text("organisers"))],
            co_organisers=[names.resolve(n, c, "co_organisers") for n in split_multi(c.text("co_organisers"))],
            submissions=c.integer("submissions"),
            online_vote=c.integer("online_vote"),
            awarded=c.integer("awarded"),
            source=source,
            source_line=c.cited_line("the result announcement"),
            event=c.text("event"),
            announced_text=c.text("announced_text"),
            complete=c.choice("complete", COMPLETENESS),
            run_by=[names.resolve(n, c, "run_by") for n in split_multi(c.text("run_by"))],
            call_source=c.text("call_source"),
            call_source_line=c.integer("call_source_line", minimum=1),
            note=c.text("note"),
            result_title=c.text("result_title"),
            launched_line=c.integer("launched_line", minimum=1),
            announced_line=c.integer("announced_line", minimum=1),
            line=line,
        )
        _check_edition_lines(c, ed)
        if ed.call_source and ed.call_source not in source_ids:
            raise c.error("call_source", f"unknown source {ed.call_source!r} (not in sources.csv)")
        if ed.complete == "yes" and ed.awarded is None:
            raise c.error("complete", "a complete list needs the awarded count the source states (awarded)")
        _unique(seen, ed.id, c, "id", "edition id")
        _unique(seen_pair, f"{track} {year}", c, "year", "edition (track, year)")
        out.append(ed)
    return out


def _check_edition_lines(c: _Cells, ed: Edition) -> None:
    """A line of a fact the row does not give is a mistake (docs/series.md)."""
    if ed.launched_line and not ed.launched:
        raise c.error("launched_line", "a line for a launch date that is not given (launched)")
    if ed.announced_line and not (ed.announced or ed.meeting_date or ed.event):
        raise c.error("announced_line", "a line for an announcement date, place or event that is not given")


def _load_categories(path: Path, rows: Iterable[Row], edition_ids: set[str]) -> list[Category]:
    out, seen = [], dict[str, int]()  # seen: key -> its first line
    for line, row in rows:
        c = _Cells(path, line, row)
        edition = c.text("edition", required=True)
        if edition not in edition_ids:
            raise c.error("edition", f"unknown edition {edition!r} (not in editions.csv)")
        position = c.integer("position", required=True, minimum=1)
        assert position is not None
        cat = Category(
            id=c.ident("id"),
            edition=edition,
            position=position,
            label_zh=c.text("label_zh", required=True),
            label_en=c.text("label_en"),
            stated_count=c.integer("stated_count"),
            source_line=c.cited_line("the award category", source=False),
            line=line,
        )
        _unique(seen, f"{edition}/{cat.id}", c, "id", "category")
        out.append(cat)
    return out


def _load_cases(  # long: one check per column of cases.csv, in column order
    path: Path,
    rows: Iterable[Row],
    vocab: Vocabulary,
    names: _UnitNames,
    categories: list[Category],
    source_ids: set[str],
) -> list[Case]:
    cats = {(cat.edition, cat.id) for cat in categories}
    out: list[Case] = []
    seen_id: dict[str, int] = {}
    seen_pos: dict[str, int] = {}
    seen_title: dict[str, int] = {}
    for line, row in rows:
        c = _Cells(path, line, row)
        edition = c.text("edition", required=True)
        category = c.text("category", required=True)
        if (edition, category) not in cats:
            raise c.error(
                "category", f"unknown award category {category!r} for edition {edition!r} (not in categories.csv)"
            )
        position = c.integer("position", required=True, minimum=1)
        assert position is not None
        applicants = split_multi(c.text("applicants", required=True))
        if not applicants:
            raise c.error("applicants", "no applicant unit")
        unit_ids = [names.resolve(a, c, "applicants") for a in applicants]
        if len(set(unit_ids)) != len(unit_ids):
            raise c.error("applicants", "the same unit is listed twice")
        domain_texts = split_multi(c.text("domains", required=True))
        if not domain_texts:
            raise c.error("domains", "no domain")
        domains = []
        for text in domain_texts:
            notation = vocab.domain(text)
            if notation is None:
                raise c.error("domains", f"unknown domain {text!r} (not in the domain scheme, ontology/domains.ttl)")
            if notation not in domains:
                domains.append(notation)
        source = c.text("source")
        if source and source not in source_ids:
            raise c.error("source", f"unknown source {source!r} (not in sources.csv)")
        case = Case(
            id=c.ident("id"),
            edition=edition,
            category=category,
            position=position,
            title_zh=c.text("title_zh", required=True),
            applicants=unit_ids,
            domains=domains,
            title_en=c.text("title_en"),
            domain_basis=c.basis("domain_basis", "curator"),
            source=source,
            source_line=c.cited_line("the case (title, applicants, group)"),
            line=line,
        )
        _unique(seen_id, case.id, c, "id", "case id")
        _unique(seen_pos, f"{edition}/{category}/{position}", c, "position", "list position in this category")
        _unique(seen_title, f"{edition}/{normalise_name(case.title_zh)}", c, "title_zh", "case title in this edition")
        out.append(case)
    return out


def iter_rows(data_dir: Path, name: str) -> Iterator[Row]:
    """Yield ``(line, row)`` of one table, unchecked (for tools that rewrite tables)."""
    yield from read_table(data_dir, name)[1]
