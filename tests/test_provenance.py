"""No fact without a source: every statement cites a source line or carries a basis.

Checked against ``data/sources/000_451b57e0ba31c9df.txt`` (the 荆楚网 article of 2022-09-20)
and ``docs/judgements.md``, which must list every curator's judgement.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from phases import without_progress
from rdflib import RDF, Graph, Namespace, URIRef

from chuzhi_graph.build import BuildResult
from chuzhi_graph.cli import cli
from chuzhi_graph.core.namespace import CHZ, PREFIXES
from chuzhi_graph.records.provenance import alias_lines, audit, find_alias, source_text_lines
from chuzhi_graph.records.series import readable
from chuzhi_graph.records.tables import load_dataset
from chuzhi_graph.sparql.query import format_result, run_query

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
EXPECTED = Path(__file__).resolve().parent / "expected" / "queries"
JUDGEMENTS = ROOT / "docs" / "judgements.md"
BASE = "https://w3id.org/chuzhi/"
PROV = Namespace(PREFIXES["prov"])
DCT = Namespace(PREFIXES["dct"])
SKOSXL = Namespace(PREFIXES["skosxl"])

#: the line of each finished phase that the CLI writes to stderr when it is not a terminal
@pytest.fixture(scope="module")
def dataset():
    return load_dataset(DATA)


@pytest.fixture(scope="module")
def graph(built: BuildResult) -> Graph:
    return Graph().parse(built.files["ttl"], format="turtle")


# ---------------------------------------------------------------- aliases


def test_every_alias_stands_in_a_source_or_carries_a_basis(dataset) -> None:
    shadows = [u.name_zh for u in dataset.units] + [a for u in dataset.units for a in u.aliases]
    text = "\n".join(line for s in dataset.sources for line in source_text_lines(s))
    judged = JUDGEMENTS.read_text(encoding="utf-8")
    kinds: Counter[str] = Counter()
    for unit in dataset.units:
        assert len(unit.alias_basis) == len(unit.aliases), unit.id
        for alias, basis in zip(unit.aliases, unit.alias_basis, strict=True):
            kinds[basis] += 1
            alone = find_alias(alias, dataset.sources, shadows)
            if basis == "source":
                assert alone is not None, (unit.id, alias)
            elif basis == "name":
                assert alone is None, f"{alias}: stands on its own in a source, mark it 'source'"
                assert alias in text, f"{alias}: not in any name the source gives"
            else:
                assert alone is None and alias in judged, f"{alias}: judgement not listed in docs/judgements.md"
    assert kinds == {"source": 11, "name": 12, "curator": 1}


def test_sourced_aliases_point_at_the_lines_that_use_them(dataset, graph: Graph) -> None:
    found = alias_lines(dataset)
    assert found[("wuhan-jianghan-zuzhibu", "江汉区区委组织部")] == ("jingchu-2022-09-20", 28)
    assert found[("hubei-traffic-police", "湖北交警")] == ("jingchu-2022-09-20", 52)
    assert found[("jingchu-net", "荆楚网")] == ("jingchu-2022-09-20", 12)
    lines = source_text_lines(dataset.sources[0])
    labels = set(graph.subjects(RDF.type, SKOSXL.Label))
    assert len(labels) == 24
    for label in labels:
        form = str(graph.value(label, SKOSXL.literalForm))
        basis = graph.value(label, CHZ.basis)
        line = graph.value(label, CHZ.sourceLine)
        assert basis is not None, form
        if basis == CHZ.StatedInSource:
            assert graph.value(label, DCT.source) == URIRef(BASE + "source/jingchu-2022-09-20")
            assert form in lines[int(line) - 1]
        else:
            assert line is None


def test_an_alias_claimed_from_the_source_that_is_not_there_is_refused(data_copy: Path, tmp_path: Path) -> None:
    path = data_copy / "units.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    for row in rows:
        if row["id"] == "hust":
            row["alias_basis"] = "source"
    line = next(i for i, row in enumerate(rows, start=2) if row["id"] == "hust")
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    result = CliRunner().invoke(cli, ["build", "--data", str(data_copy), "--out", str(tmp_path / "o"), "--no-views"])
    assert result.exit_code == 3
    assert without_progress(result.stderr) == (
        f"Error: {path}, line {line}, field aliases: alias '华中科大' has basis 'source' but jingchu-2022-09-20 "
        "does not use it on its own (only inside a longer name or alias): give its basis (name or curator) "
        "in alias_basis\n"
    )
    assert not (tmp_path / "o").exists()


def test_alias_basis_must_match_the_aliases(data_copy: Path) -> None:
    from chuzhi_graph.errors import DataError

    path = data_copy / "units.csv"
    text = path.read_text(encoding="utf-8").replace(",江汉区区委组织部|江汉区委组织部,source|name,",
                                                    ",江汉区区委组织部|江汉区委组织部,source|name|name,")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_dataset(data_copy)
    assert str(err.value) == (f"{path}, line 3, field alias_basis: 3 bases for 2 aliases: "
                              "give one for all, or one per alias")


# ---------------------------------------------------------------- cited lines


def test_every_cited_line_says_what_it_is_cited_for(dataset) -> None:
    assert audit(dataset) == []


def test_the_audit_finds_a_wrong_line(data_copy: Path) -> None:
    path = data_copy / "cases.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",jingchu-2022-09-20,42\n", ",jingchu-2022-09-20,43\n"),
                    encoding="utf-8")
    findings = [str(f) for f in audit(load_dataset(data_copy))]
    assert findings == [
        f"{path}, line 3, field title_zh: title not on line 43",
        f"{path}, line 3, field applicants: 武汉市江汉区委组织部 not on line 43",
    ]


#: what each edition's result announcement line states (docs/series.md), as the source words it
ANNOUNCED_ON = {
    "bigdata-2022": "颁奖大会",
    "social-governance-2020": "颁奖现场",
    "poverty-alleviation-2020": "推介",
    "social-governance-2022": "揭晓了“楚治——2022‘荆楚杯’社会治理创新十佳案例、单项奖案例”",
    "social-governance-2023": "揭晓",
}


@pytest.mark.parametrize(("edition", "words"), ANNOUNCED_ON.items())
def test_each_result_announcement_cites_a_line_that_states_the_announcement(dataset, edition: str,
                                                                              words: str) -> None:
    ed = next(e for e in dataset.editions if e.id == edition)
    src = next(s for s in dataset.sources if s.id == ed.source)
    said = readable(source_text_lines(src)[ed.source_line - 1])
    assert words in said and readable(ed.result_title or ed.title_zh)[-8:] in said
    assert not (ed.launched and not ed.launched_line and ed.source_line is not None
                and "推出" in said and "揭晓" not in said), "a launch line cited for the results"


@pytest.mark.parametrize(("edition", "field", "value", "finding"), [
    ("social-governance-2022", "announced_line", "20", "2月16日 湖北第三届大数据内容峰会 not on line 20"),
    ("social-governance-2022", "result_title", "楚治——2022‘荆楚杯’社会治理创新十大案例", "not on line 20"),
    ("social-governance-2020", "launched", "2020-12", "2020-12 not on line 13"),
])
def test_the_audit_finds_an_edition_line_that_does_not_state_its_fact(data_copy: Path, edition: str, field: str,
                                                                       value: str, finding: str) -> None:
    path = data_copy / "editions.csv"
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    for row in rows:
        if row["id"] == edition:
            row[field] = value
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields or [], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    assert [f.message for f in audit(load_dataset(data_copy))] == [finding]


def test_units_cases_and_the_edition_cite_a_source_or_carry_a_basis(graph: Graph) -> None:
    source = URIRef(BASE + "source/jingchu-2022-09-20")
    units = set(graph.subjects(RDF.type, CHZ.Unit))
    assert len(units) == 44  # 39 of the 2022 big-data edition, 5 of the series (docs/series.md)
    org = Namespace(PREFIXES["org"])
    for unit in units:
        assert graph.value(unit, CHZ.unitTypeBasis) is not None, unit
        if graph.value(unit, CHZ.region) is not None:
            assert graph.value(unit, CHZ.regionBasis) is not None, unit
        if graph.value(unit, org.subOrganizationOf) is not None:
            assert graph.value(unit, CHZ.parentBasis) is not None, unit
    unsourced = {u for u in units if graph.value(u, CHZ.sourceLine) is None}
    # only a parent no source names, brought in by a curator's judgement on its sub-unit
    assert unsourced == {URIRef(BASE + "unit/state-grid")}
    child = URIRef(BASE + "unit/state-grid-hubei")
    assert (child, org.subOrganizationOf, URIRef(BASE + "unit/state-grid")) in graph
    assert graph.value(child, CHZ.parentBasis) == CHZ.CuratorJudgement
    for case in graph.subjects(RDF.type, CHZ.Case):
        if str(case).startswith(BASE + "case/bigdata-2022-"):
            assert graph.value(case, PROV.wasDerivedFrom) == source
        assert graph.value(case, PROV.wasDerivedFrom) is not None
        assert graph.value(case, CHZ.sourceLine) is not None
    edition = URIRef(BASE + "edition/bigdata-2022")
    announcement = URIRef(BASE + "announcement/bigdata-2022")
    assert list(graph.subjects(PROV.wasGeneratedBy, edition)) == [announcement]
    assert graph.value(announcement, PROV.wasDerivedFrom) == source
    assert str(graph.value(announcement, DCT.issued)) == "2022-09-15"  # line 8: the award meeting
    assert str(graph.value(source, DCT.issued)) == "2022-09-20"  # line 6: the page date
    assert graph.value(edition, PROV.wasDerivedFrom) is None and graph.value(edition, CHZ.sourceLine) is None


def test_every_judgement_in_the_data_is_explained_in_the_docs(dataset) -> None:
    judged = JUDGEMENTS.read_text(encoding="utf-8")
    for unit in dataset.units:
        bases = {unit.type_basis, unit.region_basis, unit.parent_basis, unit.name_basis, *unit.alias_basis}
        if "curator" in bases:
            assert unit.name_zh in judged, unit.name_zh


# ---------------------------------------------------------------- the summary


@pytest.fixture(scope="module")
def query_store(built: BuildResult) -> ox.Store:
    store = ox.Store()
    store.bulk_load(path=str(built.files["nt"]), format=ox.RdfFormat.N_TRIPLES)
    return store


def test_provenance_summary_counts_sourced_facts_and_judgements(query_store: ox.Store) -> None:
    result = run_query(query_store, "provenance-summary")
    assert format_result(result, "tsv") == (EXPECTED / "provenance-summary.tsv").read_text(encoding="utf-8")
    rows = [(r[0].value, r[1].value, int(r[3].value)) for r in result.rows]
    per_basis: Counter[str] = Counter()
    for statement, basis, n in rows:
        if statement != "(all)":
            per_basis[basis] += n
    totals = {basis: n for statement, basis, n in rows if statement == "(all)"}
    assert totals == dict(per_basis)
    assert not [row for row in rows if row[1] == "(none)"], "a statement with neither a source line nor a basis"
    assert totals == {str(CHZ.StatedInSource): 106, str(CHZ.DerivedFromName): 69,
                      str(CHZ.CuratorJudgement): 68}
    judged = JUDGEMENTS.read_text(encoding="utf-8")
    assert "| **all (243)** | **106** | **69** | **68** |" in judged


# ---------------------------------------------------------------- roll-ups leave nothing out


def test_cases_per_prefecture_accounts_for_every_applicant(dataset, query_store: ox.Store) -> None:
    """An independent count from the records: the prefecture of each applicant's region,
    else the region itself, with its scope; nothing is dropped."""
    regions = {r.code: r for r in dataset.regions}

    def climb(code: str, level: str) -> str | None:
        while code:
            if regions[code].level == level:
                return code
            code = regions[code].parent
        return None

    units = dataset.unit_by_id()
    expected: dict[tuple[str, str], set[str]] = {}
    for case in dataset.cases:
        for uid in case.applicants:
            code = units[uid].region
            prefecture, province = climb(code, "prefecture"), climb(code, "province")
            area = prefecture or code
            scope = "out-of-province" if province != "420000" else "prefecture" if prefecture else "province-level"
            expected.setdefault((area, scope), set()).add(case.id)
    result = run_query(query_store, "cases-per-prefecture")
    got = {(r[0].value.rsplit("/", 1)[1], r[3].value): int(r[4].value) for r in result.rows}
    assert got == {k: len(v) for k, v in expected.items()}
    assert set().union(*expected.values()) == {c.id for c in dataset.cases}
    assert got[("420000", "province-level")] == 11  # 湖北省 units: lines 46, 52, 62, 66-76, 86, 90
    assert got[("110000", "out-of-province")] == 1  # 华北电力大学's laboratory, line 98
    assert got[("410100", "out-of-province")] == 1  # 中建七局, line 96
