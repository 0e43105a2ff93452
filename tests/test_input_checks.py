"""Hostile or broken inputs: each one is refused with one line naming file, line and field
(exit 3), never a traceback, and nothing reaches a terminal raw."""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from chuzhi_graph.cli import cli
from chuzhi_graph.records.tables import _ID_RE, gbt2260_codes, is_web_url
from chuzhi_graph.site.publish import Site

Rows = list[dict[str, str]]


def rewrite(path: Path, edit: Callable[[Rows], object], extra: tuple[str, ...] = ()) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = [*reader.fieldnames, *extra] if reader.fieldnames else list(extra)
        rows = list(reader)
    edit(rows)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def build_error(data: Path, tmp_path: Path, *extra: str) -> tuple[int, str]:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", "--data", str(data), "--out", str(out), "--no-views", *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    # stderr is not a terminal here: the line of each finished phase comes before the error; the error alone
    return result.exit_code, re.sub(r"^[^:\n]+: \d+\.\d\d s(, [^\n]*)?\n", "", result.stderr, flags=re.M)


# ---------------------------------------------------------------- URLs


@pytest.mark.parametrize("url", [
    "https://isg.hust.edu.cn/info 1121/3152.htm",  # a space
    "https://isg.hust.edu.cn/<script>",
    "isg.hust.edu.cn/info/1121/3152.htm",  # no scheme
    "data:text/html,<h1>x</h1>",
    "javascript:alert(document.cookie)",
    "ftp://isg.hust.edu.cn/x",
    "https://",
    "http://[::1",
    "http://isg.hust.edu.cn:99999/",
])
def test_malformed_or_non_web_url_is_refused(data_copy: Path, tmp_path: Path, url: str) -> None:
    rewrite(data_copy / "sources.csv", lambda rows: rows[0].update(url=url))
    code, err = build_error(data_copy, tmp_path)
    assert code == 3
    assert err == (f"Error: {data_copy / 'sources.csv'}, line 2, field url: not a web address: {url!r} "
                   "(give an absolute http:// or https:// URL)\n")


def test_web_urls_are_accepted() -> None:
    assert is_web_url("https://isg.hust.edu.cn/info/1121/3152.htm")
    assert is_web_url("http://news.cnhubei.com/content/2022-11/21/content_15251714.html")
    assert is_web_url("https://例子.中国/路径?q=楚治")


# ---------------------------------------------------------------- regions


def test_region_code_not_in_gbt2260(data_copy: Path, tmp_path: Path) -> None:
    rewrite(data_copy / "regions.csv", lambda rows: rows.append(
        {"code": "999999", "name_zh": "不存在县", "name_en": "", "level": "county", "parent": "420100"}))
    code, err = build_error(data_copy, tmp_path)
    assert code == 3
    assert err == (f"Error: {data_copy / 'regions.csv'}, line 23, field code: "
                   "999999 is not a GB/T 2260 division code (province, prefecture or county)\n")


def test_region_under_the_wrong_parent(data_copy: Path, tmp_path: Path) -> None:
    rewrite(data_copy / "regions.csv", lambda rows: rows.append(
        {"code": "110101", "name_zh": "东城区", "name_en": "", "level": "county", "parent": "420100"}))
    code, err = build_error(data_copy, tmp_path)
    assert code == 3
    assert err == (f"Error: {data_copy / 'regions.csv'}, line 23, field parent: "
                   "110101 (东城区) lies within 110000 (北京市), not 420100 (武汉市)\n")


def test_region_skipping_its_prefecture(data_copy: Path, tmp_path: Path) -> None:
    rewrite(data_copy / "regions.csv", lambda rows: next(r for r in rows if r["code"] == "420106").update(
        parent="420000"))
    code, err = build_error(data_copy, tmp_path)
    assert code == 3
    assert err.endswith("field parent: 420106 (武昌区) lies within 420100 (武汉市), not 420000 (湖北省)\n")


def test_full_width_digits_in_a_region_code(data_copy: Path, tmp_path: Path) -> None:
    rewrite(data_copy / "regions.csv", lambda rows: next(r for r in rows if r["code"] == "420106").update(
        code="４２０１０６"))
    code, err = build_error(data_copy, tmp_path)
    assert code == 3
    assert err == (f"Error: {data_copy / 'regions.csv'}, line 9, field code: "
                   "not a six-digit GB/T 2260 code (ASCII digits): '４２０１０６'\n")


def test_region_level_must_match_the_code(data_copy: Path, tmp_path: Path) -> None:
    rewrite(data_copy / "regions.csv", lambda rows: next(r for r in rows if r["code"] == "420100").update(
        level="county"))
    code, err = build_error(data_copy, tmp_path)
    assert code == 3
    assert err.endswith("line 6, field level: 420100 (武汉市) is a prefecture-level code, not county\n")


def test_province_direct_cities_and_municipal_districts_take_the_province() -> None:
    from chuzhi_graph.records.tables import _parents_of

    assert _parents_of("429004") == ["420000"]  # 仙桃市: no prefecture above it
    assert _parents_of("110101") == ["110000"]  # 东城区 of Beijing
    assert _parents_of("420106") == ["420100"]
    assert _parents_of("420100") == ["420000"] and _parents_of("420000") == []
    assert gbt2260_codes()["421088"] == "监利市"  # a division of 2020: the table is recent


# ---------------------------------------------------------------- ids


@pytest.mark.parametrize("bad", ["wuhan.wuchang", "wuhan_wuchang", "Wuhan", "wuhan--x", "-x", "武昌"])
def test_ids_follow_the_documented_pattern(data_copy: Path, tmp_path: Path, bad: str) -> None:
    rewrite(data_copy / "units.csv", lambda rows: rows[0].update(id=bad))
    code, err = build_error(data_copy, tmp_path)
    assert code == 3
    assert err == (f"Error: {data_copy / 'units.csv'}, line 2, field id: invalid id {bad!r}: use lower-case "
                   "ASCII letters, digits and '-' (it becomes part of an IRI)\n")


@functools.cache
def empty_site() -> Site:
    from rdflib import Graph

    return Site(Graph(), "https://w3id.org/chuzhi/", set())


@settings(deadline=None)
@given(st.from_regex(_ID_RE, fullmatch=True), st.sampled_from(["case", "unit", "edition", "source"]))
def test_every_valid_id_gets_a_site_page(ident: str, kind: str) -> None:
    assert empty_site().local(f"https://w3id.org/chuzhi/{kind}/{ident}") == f"{kind}/{ident}"


# ---------------------------------------------------------------- characters


@pytest.mark.parametrize(("char", "what"), [
    ("\x00", "control character U+0000"),
    ("\x01", "control character U+0001"),
    ("\x1b", "control character U+001B"),
    ("\x9b", "control character U+009B"),
    ("\ufffe", "noncharacter U+FFFE"),
    ("\uffff", "noncharacter U+FFFF"),
    ("\U0010ffff", "noncharacter U+10FFFF"),
    ("\u202e", "bidirectional control U+202E"),
    ("\u2066", "bidirectional control U+2066"),
])
def test_control_noncharacter_and_bidi_characters_are_refused(data_copy: Path, tmp_path: Path, char: str,
                                                              what: str) -> None:
    rewrite(data_copy / "cases.csv", lambda rows: rows[2].update(title_zh=f"智慧{char}[2J城市"))
    code, err = build_error(data_copy, tmp_path)
    assert code == 3
    assert err == (f"Error: {data_copy / 'cases.csv'}, line 4, field title_zh: {what} at character 3; "
                   "remove it (it breaks RDF/XML output and terminals)\n")
    assert err.isprintable() or err[:-1].isprintable()


def test_line_breaks_in_a_cell_are_folded_with_a_warning(data_copy: Path, tmp_path: Path) -> None:
    rewrite(data_copy / "cases.csv", lambda rows: rows[2].update(title_zh="第一行\r\n第二行\t尾"))
    result = CliRunner().invoke(cli, ["build", "--data", str(data_copy), "--out", str(tmp_path / "o"), "--no-views"])
    assert result.exit_code == 0
    assert f"WARNING: {data_copy / 'cases.csv'}, line 4, field title_zh: line break or tab folded to a space" \
        in result.stderr
    assert '"第一行 第二行 尾"@zh' in (tmp_path / "o" / "chuzhi.ttl").read_text(encoding="utf-8")


def test_error_messages_reach_the_terminal_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "x\x1b]0;pwned\x07\x1b[2J"
    result = CliRunner().invoke(cli, ["build", "--data", str(folder), "--out", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert result.stderr == f"Error: {tmp_path}/x\\x1b]0;pwned\\x07\\x1b[2J: data folder does not exist\n"


# ---------------------------------------------------------------- tables


def test_duplicate_column_header_is_refused(data_copy: Path, tmp_path: Path) -> None:
    path = data_copy / "cases.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = lines[0].replace("title_en", "title_zh", 1)
    path.write_text("".join(lines), encoding="utf-8")
    code, err = build_error(data_copy, tmp_path)
    assert code == 3
    assert err == (f"Error: {path}, line 1, field title_zh: duplicate column (columns 5 and 6): "
                   "which one holds the values?\n")


def test_header_only_corpus_is_refused_unless_asked_for(data_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert CliRunner().invoke(cli, ["build", "--out", str(out), "--no-views"]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    path = data_copy / "cases.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    code, err = build_error(data_copy, tmp_path)
    assert code == 3
    assert err == (f"Error: {path}: no cases: the table has no rows "
                   "(to build an empty graph anyway, give --allow-empty)\n")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before  # out/ not overwritten
    code, err = build_error(data_copy, tmp_path, "--allow-empty")
    assert code == 0 and "built 2197 triples: 0 cases, 0 applicant units, 5 edition(s)" in err


@pytest.mark.parametrize("file", ["/etc/passwd", "../../../../../../etc/passwd", "sources/../../elsewhere.txt"])
def test_source_file_must_stay_inside_the_data_folder(data_copy: Path, tmp_path: Path, file: str) -> None:
    (tmp_path / "elsewhere.txt").write_text("x", encoding="utf-8")
    rewrite(data_copy / "sources.csv", lambda rows: rows[0].update(file=file))
    code, err = build_error(data_copy, tmp_path)
    assert code == 3
    assert err == (f"Error: {data_copy / 'sources.csv'}, line 2, field file: source document outside the data "
                   f"folder: {file!r} (keep it under {data_copy})\n")


def test_source_file_through_a_symlink_out_of_the_data_folder(data_copy: Path, tmp_path: Path) -> None:
    (data_copy / "sources" / "link.txt").symlink_to("/etc/hostname")
    rewrite(data_copy / "sources.csv", lambda rows: rows[0].update(file="sources/link.txt"))
    code, err = build_error(data_copy, tmp_path)
    assert code == 3 and "field file: source document outside the data folder: 'sources/link.txt'" in err


# ---------------------------------------------------------------- no fact without a source or a basis


def test_a_unit_name_with_neither_a_source_line_nor_a_basis_is_refused(data_copy: Path, tmp_path: Path) -> None:
    """The guard of docs/judgements.md: one line naming units.csv, the row and the field; exit 3;
    the old build untouched."""
    out = tmp_path / "out"
    assert CliRunner().invoke(cli, ["build", "--data", str(data_copy), "-g", str(out), "--no-views"]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    path = data_copy / "units.csv"

    def strip(rows: Rows) -> None:
        for row in rows:
            if row["id"] == "ezhou-audit-bureau":
                row.update({k: "" for k in row if k in ("source", "source_line") or k.endswith("_basis")})

    rewrite(path, strip)
    line = 1 + next(i for i, r in enumerate(csv.DictReader(path.open(encoding="utf-8")), 1)
                    if r["id"] == "ezhou-audit-bureau")
    code, err = build_error(data_copy, tmp_path)
    assert code == 3
    assert err == (f"Error: {path}, line {line}, field name_basis: the name 鄂州市审计局 has no source line: "
                   "give source and source_line (the line that names the unit), or name_basis (name, curator "
                   "or suggested) with the reason in note (docs/judgements.md)\n")
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before  # out/ untouched


@pytest.mark.parametrize(("table", "field", "what"), [
    ("cases", "source_line", "the case (title, applicants, group) cites no source line"),
    ("editions", "source_line", "the result announcement cites no source line"),
    ("categories", "source_line", "the award category cites no source line"),
    ("cases", "source", "source line 40 of no source document"),
])
def test_every_record_cites_a_line_or_has_a_basis(data_copy: Path, tmp_path: Path, table: str, field: str,
                                                  what: str) -> None:
    path = data_copy / f"{table}.csv"
    rewrite(path, lambda rows: rows[0].update({field: ""}))
    code, err = build_error(data_copy, tmp_path)
    assert code == 3
    assert err.startswith(f"Error: {path}, line 2, field {field}: {what}"), err
    assert err.count("\n") == 1


def test_a_name_marked_with_a_basis_is_accepted_and_counted(data_copy: Path) -> None:
    from chuzhi_graph.graph.summary import summarise
    from chuzhi_graph.records.tables import load_dataset

    counts = summarise(load_dataset(data_copy)).provenance
    assert counts["unit", "curator"] == 1 and ("unit", "") not in counts  # 国家电网有限公司
