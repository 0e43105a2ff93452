"""What we hand out cannot attack its reader: CSV/TSV for spreadsheets escape formulas; XML/JSON
results stay well-formed whatever strings a query builds."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from chuzhi_graph.build import BuildResult, build
from chuzhi_graph.cli import cli
from chuzhi_graph.core.spreadsheet import escape_formula

FORMULA = '=HYPERLINK("http://x","y")'
OLD_NAME = "武汉市武昌区委政法委"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The shipped data with one unit renamed to a spreadsheet formula, as a hostile contributor would."""
    import shutil

    data = tmp_path_factory.mktemp("hostile") / "data"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data", data)
    for name in ("units.csv", "cases.csv"):
        path = data / name
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        rows = [[FORMULA if cell == OLD_NAME else cell for cell in row] for row in rows]
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
    return build(data, data.parent / "out")


NAMES = "SELECT ?name WHERE { ?u a chz:Unit ; skos:prefLabel ?name } ORDER BY ?name LIMIT 3"


def query(*args: str) -> str:
    result = CliRunner().invoke(cli, ["query", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_query_csv_escapes_a_formula_by_default(hostile: BuildResult) -> None:
    text = query(NAMES, "-g", str(hostile.out_dir), "--format", "csv")
    assert text.startswith("\ufeffname\n")  # CliRunner shows CRLF as LF
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1] == ["'" + FORMULA]
    assert text.splitlines()[1] == '"\'=HYPERLINK(""http://x"",""y"")"'


def test_query_csv_and_tsv_raw_with_no_escape(hostile: BuildResult) -> None:
    text = query(NAMES, "-g", str(hostile.out_dir), "--format", "csv", "--no-escape")
    assert list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1] == [FORMULA]
    tsv = query(NAMES, "-g", str(hostile.out_dir), "--format", "tsv")
    assert tsv.splitlines()[1] == '"\'=HYPERLINK(\\"http://x\\",\\"y\\")"@zh'
    raw = query(NAMES, "-g", str(hostile.out_dir), "--format", "tsv", "--no-escape")
    assert raw.splitlines()[1] == '"=HYPERLINK(\\"http://x\\",\\"y\\")"@zh'


def test_json_and_table_are_not_escaped(hostile: BuildResult) -> None:
    data = json.loads(query(NAMES, "-g", str(hostile.out_dir), "--format", "json"))
    assert data["results"]["bindings"][0]["name"]["value"] == FORMULA


def test_stats_csv_escapes_names(hostile: BuildResult) -> None:
    def label_of(*extra: str) -> str:
        result = CliRunner().invoke(cli, ["stats", "institutions", "-g", str(hostile.out_dir), "--format", "csv",
                                          *extra])
        assert result.exit_code == 0, result.output
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        return next(r["label"] for r in rows if "HYPERLINK" in r["label"])

    assert label_of() == "'" + FORMULA
    assert label_of("--no-escape") == FORMULA


@pytest.mark.parametrize(("text", "expected"), [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("-12", "-12"), ("+1.5e3", "+1.5e3"), ("a=b", "a=b"), ("楚治", "楚治"), ("", ""),
])
def test_owasp_rule(text: str, expected: str) -> None:
    assert escape_formula(text) == expected


@pytest.mark.parametrize("char", ["\u0001", "\u0008", "\u000b", "\u001f", "\ufffe", "\uffff"])
def test_xml_results_are_well_formed_whatever_the_query_builds(built: BuildResult, char: str) -> None:
    sparql = f'SELECT ("a\\u{ord(char):04X}b" AS ?x) ("c" AS ?y) {{}}'
    xml = query(sparql, "-g", str(built.out_dir), "--format", "xml")
    root = etree.fromstring(xml.encode("utf-8"))  # raises on a character XML 1.0 cannot hold
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    assert root.xpath("//r:binding[@name='x']/r:literal/text()", namespaces=ns) == ["a\ufffdb"]
    data = json.loads(query(sparql, "-g", str(built.out_dir), "--format", "json"))
    assert data["results"]["bindings"][0]["x"]["value"] == f"a{char}b"  # JSON carries it exactly


def test_xml_keeps_what_xml_can_hold(built: BuildResult) -> None:
    xml = query('SELECT ("a\\tb\\nc\\u007F\\u0085 楚" AS ?x) {}', "-g", str(built.out_dir), "--format", "xml")
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    root = etree.fromstring(xml.encode("utf-8"))
    assert root.xpath("//r:literal/text()", namespaces=ns) == ["a\tb\nc\x7f\x85 楚"]
