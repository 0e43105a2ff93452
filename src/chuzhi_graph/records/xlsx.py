"""Workbooks (``.xlsx``) read whole, with a cell size limit, before openpyxl sees them.

openpyxl's read-only mode trusts the sheet's ``<dimension ref="A1:K5">`` element, which some
exporters write too small (it then stops at row 5 without a word), and it holds every shared
string in memory at once (one 900 MB cell takes 1.9 GB). :func:`read_rows` therefore first
streams the shared strings and the first sheet through expat, keeping nothing but lengths, and
refuses a cell longer than :data:`CELL_LIMIT` characters with its row and column; then it reads
the values with openpyxl to the sheet's real last row, whatever the dimension says.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO
from xml.etree import ElementTree
from xml.parsers import expat

from chuzhi_graph.errors import DataError

#: The largest cell, in characters, of a record table: the CSV reader's field limit (Python's
#: ``csv.field_size_limit()`` default, 128 Ki characters), which is also four times what Excel
#: itself lets a cell hold (32,767 characters).
CELL_LIMIT = 131_072

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]+)([0-9]+)")


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 1-based column.

    >>> column_letter(1), column_letter(27)
    ('A', 'AA')
    """
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index


def _parts(archive: zipfile.ZipFile) -> tuple[str, str | None]:
    """The zip paths of the first sheet and of the shared strings (None without any)."""
    def rels_of(part: str) -> dict[str, tuple[str, str]]:
        folder, name = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", name + ".rels")
        root = ElementTree.fromstring(archive.read(rels))
        return {r.get("Id", ""): (r.get("Type", ""), posixpath.normpath(posixpath.join(folder, r.get("Target", ""))))
                for r in root.iter(f"{_PKG_REL}Relationship")}

    workbook = next((t for _, t in rels_of("").values() if t.endswith("workbook.xml")), "xl/workbook.xml")
    workbook = workbook.lstrip("/")
    rels = rels_of(workbook)
    first = ElementTree.fromstring(archive.read(workbook)).find(f"{_MAIN}sheets/{_MAIN}sheet")
    if first is None:
        raise KeyError("no sheet")
    sheet = rels[first.get(f"{_REL}id", "")][1].lstrip("/")
    strings = next((t.lstrip("/") for kind, t in rels.values() if kind.endswith("/sharedStrings")), None)
    return sheet, strings


def _string_lengths(stream: IO[bytes], wanted: set[int] | None = None) -> tuple[dict[int, int], dict[int, str]]:
    """Stream the shared strings: {index: length} of those over the limit, and the texts of ``wanted``."""
    parser = expat.ParserCreate()
    state = {"index": -1, "length": 0, "depth_t": 0}
    too_long: dict[int, int] = {}
    texts: dict[int, str] = {}
    parts: list[str] = []

    def start(name: str, _attrs: dict[str, str]) -> None:
        if name == "si":
            state["index"] += 1
            state["length"] = 0
            parts.clear()
        elif name == "t":
            state["depth_t"] += 1

    def end(name: str) -> None:
        if name == "t":
            state["depth_t"] -= 1
        elif name == "si":
            if state["length"] > CELL_LIMIT:
                too_long[state["index"]] = state["length"]
            if wanted is not None and state["index"] in wanted:
                texts[state["index"]] = "".join(parts)

    def chars(data: str) -> None:
        if state["depth_t"]:
            state["length"] += len(data)
            if wanted is not None and state["index"] in wanted and state["length"] <= CELL_LIMIT:
                parts.append(data)

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, chars
    parser.ParseFile(stream)
    return too_long, texts


class _SheetScan:
    """Stream a sheet: the header row's cells, and the first cell over the limit (row, column, length)."""

    def __init__(self, too_long: dict[int, int]) -> None:
        self.too_long = too_long
        self.header: dict[int, tuple[str, str]] = {}  # column -> (cell type, value or string index)
        self.found: tuple[int, int, int] | None = None
        self.row = 0
        self.col = 0
        self.kind = ""
        self.length = 0
        self.text: list[str] = []
        self.in_value = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "row":
            self.row = int(attrs.get("r", self.row + 1))
            self.col = 0
        elif name == "c":
            match = _CELL_REF.fullmatch(attrs.get("r", ""))
            self.col = _column_index(match.group(1)) if match else self.col + 1
            if match:
                self.row = int(match.group(2))
            self.kind, self.length = attrs.get("t", "n"), 0
            self.text.clear()
        elif name in ("v", "t"):
            self.in_value += 1

    def end(self, name: str) -> None:
        if name in ("v", "t"):
            self.in_value -= 1
        elif name == "c" and self.found is None:
            value = "".join(self.text)
            if self.kind == "s" and value.strip().isdigit() and int(value) in self.too_long:
                self.found = (self.row, self.col, self.too_long[int(value)])
            elif self.length > CELL_LIMIT:
                self.found = (self.row, self.col, self.length)
            elif self.row == 1:
                self.header[self.col] = (self.kind, value)

    def chars(self, data: str) -> None:
        if self.in_value:
            self.length += len(data)
            if self.length <= CELL_LIMIT:
                self.text.append(data)


def check_cells(path: Path) -> None:
    """Refuse a workbook with a cell longer than :data:`CELL_LIMIT` characters, reading it as a stream.

    Raises :class:`DataError` naming the row and the column (its header, else its letter).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            sheet, strings = _parts(archive)
            too_long: dict[int, int] = {}
            if strings is not None and strings in archive.namelist():
                with archive.open(strings) as stream:
                    too_long, _ = _string_lengths(stream)
            scan = _SheetScan(too_long)
            parser = expat.ParserCreate()
            parser.StartElementHandler, parser.EndElementHandler = scan.start, scan.end
            parser.CharacterDataHandler = scan.chars
            with archive.open(sheet) as stream:
                parser.ParseFile(stream)
            if scan.found is None:
                return
            row, col, length = scan.found
            name = column_letter(col)
            kind, value = scan.header.get(col, ("", ""))
            if kind == "s" and strings is not None and value.strip().isdigit():
                with archive.open(strings) as stream:
                    value = _string_lengths(stream, {int(value)})[1].get(int(value), "")
            if value.strip():
                name = f"{value.strip()} (column {name})"
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, expat.ExpatError, OSError, ValueError) as exc:
        raise DataError(f"cannot read workbook: {exc}", file=path) from None
    raise DataError(f"cell of {length:,} characters, over the limit of {CELL_LIMIT:,}",
                    file=path, line=row, field=name)


def cell_text(value: object) -> str:
    """A cell value as the text a CSV cell would hold (whole numbers without ``.0``, dates ISO)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value)


def read_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """``(row number, cell texts)`` of every row of the first sheet, to its real last row.

    The cells are checked first (:func:`check_cells`); the sheet's ``<dimension>`` is ignored.
    """
    from openpyxl import load_workbook

    check_cells(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise DataError(f"cannot read workbook: {exc}", file=path) from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # read-only sheets: trust no <dimension>
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, ["" if v is None else cell_text(v) for v in values]
    finally:
        workbook.close()
