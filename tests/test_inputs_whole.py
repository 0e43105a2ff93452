"""Inputs read whole or refused: XLSX to the real last row, cell size limits, one table per records,
Chinese column names, suggestions for unknown ones, and the memory budget.

The workbooks are made by openpyxl (as a curator's spreadsheet program would write them), then
edited in the zip where an exporter writes what openpyxl will not (a short ``<dimension>``, a cell
over Excel's 32,767 characters, shared strings).
"""

from __future__ import annotations

import csv
import re
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from chuzhi_graph.cli import cli
from chuzhi_graph.errors import DataError, MemoryBudgetError
from chuzhi_graph.records import budget
from chuzhi_graph.records.headers import ALIASES
from chuzhi_graph.records.tables import TABLES, load_dataset

SHEET = "xl/worksheets/sheet1.xml"
#: the column names a Chinese spreadsheet would carry (docs/records.md, "Chinese column names")
CHINESE = {"id": "编号", "edition": "届次", "category": "类别", "position": "序号", "title_zh": "标题",
           "title_en": "英文标题", "applicants": "申报单位", "domains": "领域", "domain_basis": "领域依据",
           "source": "来源", "source_line": "来源行"}


def to_xlsx(data: Path, name: str = "cases", header: dict[str, str] | None = None) -> Path:
    """Replace ``name.csv`` by a workbook made with openpyxl (header renamed by ``header``)."""
    with (data / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if header:
        rows[0] = [header.get(h, h) for h in rows[0]]
    book = Workbook()
    for row in rows:
        book.active.append(row)
    path = data / f"{name}.xlsx"
    book.save(path)
    (data / f"{name}.csv").unlink()
    return path


def edit_zip(path: Path, edit, extra: dict[str, str] | None = None) -> None:
    """Rewrite the parts of a workbook: ``edit(name, bytes) -> bytes``, plus ``extra`` new parts."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, edit(item.filename, zin.read(item.filename)))
        for name, text in (extra or {}).items():
            zout.writestr(name, text)
    tmp.replace(path)


def short_dimension(name: str, data: bytes) -> bytes:
    if name != SHEET:
        return data
    data, n = re.subn(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:K5"', data)
    assert n == 1
    return data


def test_xlsx_with_a_short_dimension_is_read_to_its_last_row(data_copy: Path, tmp_path: Path) -> None:
    path = to_xlsx(data_copy)
    edit_zip(path, short_dimension)
    from openpyxl import load_workbook

    assert load_workbook(path, read_only=True).worksheets[0].max_row == 5  # what openpyxl would trust
    result = CliRunner().invoke(cli, ["build", "--data", str(data_copy), "-g", str(tmp_path / "out"), "--no-views"])
    assert result.exit_code == 0, result.output
    last = result.stderr.splitlines()[-1]  # after the phases' lines a pipe gets
    assert last.startswith("built ") and ": 30 cases, 32 applicant units" in last
    assert load_dataset(data_copy).cases == load_dataset("data").cases


def long_title(data: Path, length: int, shared: bool) -> Path:
    """cases.xlsx whose 5th row's title (E6... the 5th case is on row 6) holds ``length`` characters."""
    path = to_xlsx(data)

    def edit(name: str, part: bytes) -> bytes:
        if name == SHEET:
            cell = (b'<c r="E6" t="s"><v>0</v></c>' if shared
                    else b'<c r="E6" t="inlineStr"><is><t>' + ("长" * length).encode() + b"</t></is></c>")
            part, n = re.subn(rb'<c r="E6" t="inlineStr"><is><t>[^<]*</t></is></c>', cell, part)
            assert n == 1
        if shared and name == "xl/_rels/workbook.xml.rels":
            part = part.replace(b"</Relationships>", b'<Relationship Id="rIdS" Target="sharedStrings.xml" Type="'
                                b'http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"'
                                b"/></Relationships>")
        if shared and name == "[Content_Types].xml":
            part = part.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        return part

    strings = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
               f"<si><t>{'长' * length}</t></si></sst>")
    edit_zip(path, edit, {"xl/sharedStrings.xml": strings} if shared else None)
    return path


@pytest.mark.parametrize("shared", [False, True], ids=["inline string", "shared string"])
def test_xlsx_cell_over_the_limit_is_refused_naming_row_and_column(data_copy: Path, shared: bool) -> None:
    path = long_title(data_copy, 131_073, shared)
    with pytest.raises(DataError) as info:
        load_dataset(data_copy)
    assert str(info.value) == (f"{path}, line 6, field title_zh (column E): cell of 131,073 characters, "
                               "over the limit of 131,072")


def test_xlsx_cell_at_the_limit_is_read(data_copy: Path) -> None:
    long_title(data_copy, 131_072, shared=True)
    cases = load_dataset(data_copy).cases
    assert len(cases) == 30 and cases[4].title_zh == "长" * 131_072


def test_csv_cell_over_the_limit_names_the_column(data_copy: Path) -> None:
    path = data_copy / "cases.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[5][rows[0].index("applicants")] = "单" * 200_000
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    with pytest.raises(DataError) as info:
        load_dataset(data_copy)
    assert str(info.value) == f"{path}, line 6, field applicants: cell of 200,000 characters, over the limit of 131,072"


def test_two_tables_for_the_same_records_are_refused(data_copy: Path, tmp_path: Path) -> None:
    to_xlsx(data_copy)
    (data_copy / "cases.csv").write_text((Path("data") / "cases.csv").read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "--data", str(data_copy), "-g", str(tmp_path / "out")])
    assert (result.exit_code, result.stderr) == (3, f"Error: {data_copy}: two tables for the same records: "
                                                    "cases.csv and cases.xlsx; keep one of them (move the other "
                                                    "out of the folder)\n")


def test_excel_workbook_with_chinese_headers_builds(data_copy: Path, tmp_path: Path) -> None:
    to_xlsx(data_copy, header=CHINESE)
    to_xlsx(data_copy, "units", header={col: names[0] for col, names in ALIASES["units"].items()})
    assert load_dataset(data_copy).cases == load_dataset("data").cases
    assert load_dataset(data_copy).units == load_dataset("data").units
    result = CliRunner().invoke(cli, ["build", "--data", str(data_copy), "-g", str(tmp_path / "out"), "--no-views"])
    assert result.exit_code == 0 and ": 30 cases, 32 applicant units" in result.stderr, result.output


def test_every_column_has_a_documented_chinese_name() -> None:
    doc = Path("docs/records.md").read_text(encoding="utf-8")
    for table, (required, optional) in TABLES.items():
        assert sorted(ALIASES[table]) == sorted(required + optional), table
        for column, names in ALIASES[table].items():
            assert f"| `{table}` | `{column}` | {', '.join(names)} |" in doc, (table, column)


def test_a_typo_in_a_header_gets_a_suggestion(data_copy: Path) -> None:
    path = to_xlsx(data_copy, header={"title_zh": "titel_zh"})
    with pytest.raises(DataError) as info:
        load_dataset(data_copy)
    assert str(info.value) == (
        f"{path}, line 1, field titel_zh: unknown column (did you mean title_zh (标题, 案例名称)? columns found: "
        "id, edition, category, position, titel_zh, title_en, applicants, domains, domain_basis, source, "
        "source_line; expected some of: id, edition, category, position, title_zh, applicants, domains, "
        "title_en, domain_basis, source, source_line)")


def test_an_unknown_chinese_header_gets_the_nearest_chinese_name(data_copy: Path) -> None:
    to_xlsx(data_copy, header={**CHINESE, "id": "案例编号"})
    with pytest.raises(DataError) as info:
        load_dataset(data_copy)
    assert info.value.field == "案例编号"
    assert info.value.message.startswith(
        "unknown column (did you mean id (编号)? columns found: 案例编号, 届次, 类别, ")


def test_a_missing_column_shows_the_columns_found(data_copy: Path) -> None:
    path = data_copy / "cases.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    keep = [i for i, h in enumerate(header) if h != "domains"]
    rows = list(csv.reader(lines))
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([[r[i] for i in keep] for r in rows])
    with pytest.raises(DataError) as info:
        load_dataset(data_copy)
    assert str(info.value) == (f"{path}, line 1, field domains: missing column domains (领域) (columns found: id, "
                               "edition, category, position, title_zh, title_en, applicants, domain_basis, source, "
                               "source_line)")


# ---------------------------------------------------------------- the memory budget


def test_a_corpus_over_max_memory_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from chuzhi_graph.records.synth import generate

    generate(tmp_path / "data", cases=2000, editions=2, seed=1)
    size = budget.tables_size(tmp_path / "data", list(TABLES))
    need = budget.estimate(size).resident
    assert need > 260 * 2**20
    result = CliRunner().invoke(cli, ["build", "--data", str(tmp_path / "data"), "-g", str(tmp_path / "out"),
                                      "--max-memory", "260"])
    assert result.exit_code == 7
    assert result.stderr == (
        f"Error: {tmp_path / 'data'}: the record tables ({size / 2**10:.0f} KiB) need about {need / 2**20:.0f} MiB "
        "of memory to build, over --max-memory of 260 MiB (docs/scale.md, \"Memory budget\"); build a smaller "
        "corpus or give it more memory\n")
    assert not (tmp_path / "out").exists()
    ok = CliRunner().invoke(cli, ["build", "--data", str(tmp_path / "data"), "-g", str(tmp_path / "out"),
                                  "--max-memory", str(need // 2**20 + 1), "--no-views", "--validate", "compiled"])
    assert ok.exit_code == 0, ok.output


def test_the_address_space_limit_is_read(tmp_path: Path) -> None:
    """Under ``prlimit --as`` (RLIMIT_AS) the build refuses at once with one line, not a Rust abort (rc 134)."""
    from chuzhi_graph.records.synth import generate

    generate(tmp_path / "data", cases=3000, editions=2, seed=1)
    need = budget.estimate(budget.tables_size(tmp_path / "data", list(TABLES))).address
    limit = need - 2**20
    args = ["build", "--data", str(tmp_path / "data"), "-g", str(tmp_path / "out")]
    code = (f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit})); "
            f"from chuzhi_graph.cli import main; sys.argv[1:] = {args!r}; main()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 7, done.stderr
    assert done.stderr.startswith(f"Error: {tmp_path / 'data'}: the record tables (")
    assert "of address space to build, over the address-space limit (ulimit -v, prlimit --as) of " in done.stderr
    assert done.stderr.count("\n") == 1


def test_budget_limits_name_what_binds() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    names = [what for what, _, _ in budget.limits(123 * 2**20)]
    assert names[0] == "--max-memory"
    assert any("MemAvailable" in n for n in names)
    with pytest.raises(MemoryBudgetError, match="over --max-memory of 16 MiB"):
        budget.check_budget("data", list(TABLES), 16 * 2**20)
    assert resource.getrlimit(resource.RLIMIT_AS) == (soft, hard)
