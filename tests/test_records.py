"""Reading and checking the record tables: every bad input gets one clear message."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chuzhi_graph.errors import DataError
from chuzhi_graph.records.tables import load_dataset, normalise_name, split_multi

SHIPPED = Path(__file__).resolve().parents[1] / "data"


def rewrite(path: Path, edit) -> None:
    """Apply ``edit(rows)`` to a CSV table (list of dicts) and write it back as UTF-8."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    edit(rows)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _rows(table: str) -> int:
    """The number of records in a shipped table (the series adds to the 2022 records)."""
    return len((SHIPPED / f"{table}.csv").read_text(encoding="utf-8").splitlines()) - 1


def error_of(data_dir: Path) -> DataError:
    with pytest.raises(DataError) as info:
        load_dataset(data_dir)
    return info.value


def test_shipped_data_loads() -> None:
    ds = load_dataset("data")
    # the 2022 big-data edition in full; the series' other editions in part (docs/series.md)
    cases = [c for c in ds.cases if c.edition == "bigdata-2022"]
    assert (len(cases), len(ds.cases)) == (27, 30)
    assert len(ds.applicant_units()) == 32
    assert [c.id for c in ds.categories if c.edition == "bigdata-2022"] == ["gov", "ent", "excellent", "reference"]
    multi = [c for c in ds.cases if len(c.applicants) > 1]
    assert [len(c.applicants) for c in multi] == [2, 2, 3]


def test_applicants_keep_the_listed_order(root: Path) -> None:
    ds = load_dataset(root / "data")
    case = next(c for c in ds.cases if c.id == "bigdata-2022-ent-06")
    assert case.applicants == [
        "hust-cse-cpss-team",
        "hubei-chutian-smart-transport",
        "hubei-chutian-expressway-digital",
    ]


def test_unknown_domain(data_copy: Path) -> None:
    rewrite(data_copy / "cases.csv", lambda rows: rows[2].update(domains="智慧政务|星际航行"))
    err = error_of(data_copy)
    assert str(err) == (
        f"{data_copy / 'cases.csv'}, line 4, field domains: unknown domain '星际航行' "
        "(not in the domain scheme, ontology/domains.ttl)"
    )


def test_unknown_unit_type(data_copy: Path) -> None:
    rewrite(data_copy / "units.csv", lambda rows: rows[0].update(type="外星机构"))
    err = error_of(data_copy)
    assert err.file == str(data_copy / "units.csv") and err.line == 2 and err.field == "type"
    assert err.message == (
        "unknown unit type '外星机构' "
        "(known: 企业, 新闻媒体, 党政机关, 民营企业, 事业单位, 国有企业, 高等院校及科研团队)"
    )


def test_empty_title(data_copy: Path) -> None:
    rewrite(data_copy / "cases.csv", lambda rows: rows[0].update(title_zh="  "))
    assert str(error_of(data_copy)) == f"{data_copy / 'cases.csv'}, line 2, field title_zh: empty value"


def test_duplicate_case(data_copy: Path) -> None:
    rewrite(data_copy / "cases.csv", lambda rows: rows.append(dict(rows[0])))
    err = error_of(data_copy)
    assert str(err) == (
        f"{data_copy / 'cases.csv'}, line {_rows('cases') + 2}, field id: "
        "duplicate case id 'bigdata-2022-gov-01' (first on line 2)"
    )


def test_duplicate_position_with_a_new_id(data_copy: Path) -> None:
    rewrite(
        data_copy / "cases.csv", lambda rows: rows.append({**rows[0], "id": "bigdata-2022-gov-99", "title_zh": "新"})
    )
    err = error_of(data_copy)
    assert err.line == _rows("cases") + 2 and err.field == "position"
    assert err.message == "duplicate list position in this category 'bigdata-2022/gov/1' (first on line 2)"


def test_unit_referenced_but_not_defined(data_copy: Path) -> None:
    rewrite(data_copy / "cases.csv", lambda rows: rows[1].update(applicants="武汉市江汉区委组织部|不存在的单位"))
    assert str(error_of(data_copy)) == (
        f"{data_copy / 'cases.csv'}, line 3, field applicants: unit '不存在的单位' is not defined in units.csv"
    )


def test_applicant_found_by_alias_and_full_width_forms(data_copy: Path) -> None:
    rewrite(data_copy / "cases.csv", lambda rows: rows[0].update(applicants="国网湖北电力"))
    assert load_dataset(data_copy).cases[0].applicants == ["state-grid-hubei"]
    rewrite(
        data_copy / "cases.csv",
        lambda rows: rows[0].update(applicants="华中科技大学网络空间安全学院人机物系统与安全（CPSS）研究团队"),
    )
    assert load_dataset(data_copy).cases[0].applicants == ["hust-cse-cpss-team"]


def test_malformed_csv_row(data_copy: Path) -> None:
    path = data_copy / "cases.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[5] = lines[5].rstrip("\n") + ",extra,cells\n"
    path.write_text("".join(lines), encoding="utf-8")
    assert str(error_of(data_copy)) == f"{path}, line 6: malformed row: 13 fields where the header has 11"


def test_unterminated_quote(data_copy: Path) -> None:
    path = data_copy / "units.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("武汉市江岸区大数据中心,", '"武汉市江岸区大数据中心,', 1), encoding="utf-8")
    err = error_of(data_copy)
    assert str(err) == f"{path}, line 4: malformed CSV: a quoted field opened on this line is never closed"


def test_utf8_bom_is_accepted(data_copy: Path) -> None:
    path = data_copy / "cases.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_dataset(data_copy).cases == load_dataset("data").cases


def test_gb18030_is_accepted_with_a_warning(data_copy: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = data_copy / "units.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    ds = load_dataset(data_copy)
    assert [u.name_zh for u in ds.units] == [u.name_zh for u in load_dataset("data").units]
    assert f"{path}: read as GB18030 (not UTF-8); consider saving it as 'CSV UTF-8'" in caplog.text


def test_undecodable_bytes(data_copy: Path) -> None:
    path = data_copy / "regions.csv"
    path.write_bytes(path.read_bytes() + b"\xff\xff\xff\n")
    err = error_of(data_copy)
    assert err.file == str(path) and err.line == _rows("regions") + 2
    assert err.message.startswith("not UTF-8 and not GB18030 text; save the file as 'CSV UTF-8'")


def test_missing_data_folder(tmp_path: Path) -> None:
    assert str(error_of(tmp_path / "nope")) == f"{tmp_path / 'nope'}: data folder does not exist"


def test_missing_table(data_copy: Path) -> None:
    (data_copy / "regions.csv").unlink()
    assert str(error_of(data_copy)) == f"{data_copy}: missing table 'regions': expected regions.csv or regions.xlsx"


def test_missing_column(data_copy: Path) -> None:
    rewrite(data_copy / "cases.csv", lambda rows: None)
    path = data_copy / "cases.csv"
    text = path.read_text(encoding="utf-8").replace("title_zh", "titel", 1)
    path.write_text(text, encoding="utf-8")
    assert str(error_of(data_copy)) == (
        f"{path}, line 1, field titel: unknown column (did you mean title_zh (标题, 案例名称)? columns found: id, "
        "edition, category, position, titel, title_en, applicants, domains, domain_basis, source, source_line; "
        "expected some of: id, edition, category, position, title_zh, applicants, domains, title_en, domain_basis, "
        "source, source_line)")


def test_bad_id_for_an_iri(data_copy: Path) -> None:
    rewrite(data_copy / "units.csv", lambda rows: rows[0].update(id="Wuchang Zhengfawei"))
    err = error_of(data_copy)
    assert err.field == "id" and err.line == 2
    assert "invalid id 'Wuchang Zhengfawei'" in err.message


def test_parent_cycle(data_copy: Path) -> None:
    def edit(rows: list[dict[str, str]]) -> None:
        hust = next(r for r in rows if r["id"] == "hust")
        hust["parent"] = "华中科技大学计算机学院"

    rewrite(data_copy / "units.csv", edit)
    err = error_of(data_copy)
    assert err.field == "parent" and err.message == "parent organisations form a cycle"


def test_xlsx_tables_are_read_like_csv(data_copy: Path) -> None:
    from openpyxl import Workbook

    for name in ("cases", "units"):
        path = data_copy / f"{name}.csv"
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        book = Workbook()
        sheet = book.active
        for row in rows:
            sheet.append([int(v) if v.isdigit() and len(v) < 6 else v for v in row])
        book.save(data_copy / f"{name}.xlsx")
        path.unlink()
    assert load_dataset(data_copy).cases == load_dataset("data").cases


def test_xlsx_error_names_the_row(data_copy: Path) -> None:
    from openpyxl import Workbook

    path = data_copy / "cases.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[3][4] = ""  # title_zh of the third case, spreadsheet row 4
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(data_copy / "cases.xlsx")
    path.unlink()
    assert str(error_of(data_copy)) == f"{data_copy / 'cases.xlsx'}, line 4, field title_zh: empty value"


@given(st.text(min_size=1, max_size=40))
def test_normalise_name_is_idempotent(text: str) -> None:
    once = normalise_name(text)
    assert normalise_name(once) == once
    assert not any(ch.isspace() for ch in once)


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="|"), min_size=1, max_size=10), max_size=5))
def test_split_multi_round_trips_clean_values(values: list[str]) -> None:
    clean = [v.strip() for v in values if v.strip()]
    assert split_multi(" | ".join(values)) == clean
