"""The build: golden dump, byte stability, independent parsing, SHACL, counts, failures."""

from __future__ import annotations

import csv
import hashlib
import json
from importlib.metadata import version as installed_version
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from phases import without_progress
from rdflib import Graph
from rdflib.compare import isomorphic

from chuzhi_graph.build import BuildResult, build
from chuzhi_graph.cli import cli
from chuzhi_graph.graph.validate import shapes_graph, validate

EXPECTED = Path(__file__).parent / "expected"
PREFIX = """PREFIX chz: <https://w3id.org/chuzhi/def#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
"""

#: the line of each finished phase that the CLI writes to stderr when it is not a terminal
def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def store(built: BuildResult) -> ox.Store:
    s = ox.Store()
    s.bulk_load(path=str(built.files["nt"]), format=ox.RdfFormat.N_TRIPLES)
    return s


def count(store: ox.Store, body: str) -> int:
    rows = list(store.query(PREFIX + f"SELECT (COUNT(*) AS ?n) WHERE {{ {body} }}"))
    return int(rows[0]["n"].value)


def test_golden_turtle_byte_for_byte(built: BuildResult) -> None:
    assert built.files["ttl"].read_bytes() == (EXPECTED / "chuzhi.ttl").read_bytes()


def test_golden_turtle_as_graph(built: BuildResult) -> None:
    assert isomorphic(Graph().parse(built.files["ttl"]), Graph().parse(EXPECTED / "chuzhi.ttl"))


def test_building_twice_gives_identical_bytes(tmp_path: Path, built: BuildResult) -> None:
    again = build("data", tmp_path / "again", validate="compiled")  # validation writes nothing (test_scale)
    assert digest(again.out_dir) == digest(built.out_dir) | {"build.json": digest(again.out_dir)["build.json"]}
    # the build record says which validator ran, and only that differs
    record, session = (json.loads((out / "build.json").read_text("utf-8")) for out in (again.out_dir, built.out_dir))
    assert (record.pop("validated"), session.pop("validated")) == ("compiled", "shacl")
    assert record == session


def test_every_dump_parses_with_an_independent_parser(built: BuildResult) -> None:
    formats = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD}
    for key, fmt in formats.items():
        triples = list(ox.parse(path=str(built.files[key]), format=fmt))
        assert len(triples) == built.triples, key
    assert len(list(ox.parse(path=str(built.files["void"]), format=ox.RdfFormat.TURTLE))) > 10
    # rdflib reads what pyoxigraph wrote, and the two agree
    assert isomorphic(Graph().parse(built.files["ttl"]), Graph().parse(built.files["nt"]))
    assert isomorphic(Graph().parse(built.files["ttl"]), Graph().parse(built.files["jsonld"]))


def test_ntriples_lines_are_sorted(built: BuildResult) -> None:
    lines = built.files["nt"].read_bytes().splitlines()
    assert lines == sorted(lines)


def test_shacl_report_conforms(built: BuildResult) -> None:
    report = validate(Graph().parse(built.files["ttl"]), shapes_graph())
    assert report.conforms, report.text


def test_counts_from_the_issue(store: ox.Store) -> None:
    # the 2022 big-data edition in full, and 3 winners of the series' other editions (docs/series.md)
    assert count(store, "?c a chz:Case ; chz:edition <https://w3id.org/chuzhi/edition/bigdata-2022>") == 27
    assert count(store, "?c a chz:Case") == 30
    assert count(store, "SELECT DISTINCT ?u WHERE { ?c chz:applicant ?u ; "
                        "chz:edition <https://w3id.org/chuzhi/edition/bigdata-2022> }") == 29
    assert count(store, "SELECT DISTINCT ?u WHERE { ?c chz:applicant ?u }") == 32
    assert count(store, "SELECT DISTINCT ?c WHERE { ?c chz:applicant ?a, ?b FILTER(?a != ?b) }") == 3
    assert count(store, "?a chz:coApplicant ?b FILTER(STR(?a) < STR(?b))") == 5
    # materialised symmetric: every pair in both directions
    assert count(store, "?a chz:coApplicant ?b FILTER NOT EXISTS { ?b chz:coApplicant ?a }") == 0


def test_cases_per_award_category(store: ox.Store) -> None:
    rows = store.query(
        PREFIX
        + """
        SELECT ?label (COUNT(?c) AS ?n) WHERE {
          ?c chz:awardCategory ?cat . ?cat skos:prefLabel ?label ; chz:listPosition ?pos ;
            chz:categoryEdition <https://w3id.org/chuzhi/edition/bigdata-2022> .
          FILTER(LANG(?label) = "zh") } GROUP BY ?label ?pos ORDER BY ?pos"""
    )
    assert [(r["label"].value, int(r["n"].value)) for r in rows] == [
        ("十佳案例(政务服务组)", 10),
        ("十佳案例(企业及高校组)", 10),
        ("优秀案例", 5),
        ("“他山之玉”参考案例", 2),
    ]


def test_units_with_two_cases(store: ox.Store) -> None:
    rows = store.query(
        PREFIX
        + """
        SELECT ?name (COUNT(?c) AS ?n) WHERE { ?c chz:applicant ?u . ?u skos:prefLabel ?name }
        GROUP BY ?name HAVING (COUNT(?c) > 1) ORDER BY ?name"""
    )
    assert [(r["name"].value, int(r["n"].value)) for r in rows] == [
        ("国网湖北省电力有限公司", 2),
        ("湖北省数字产业发展集团有限公司", 2),
    ]


def test_hust_reaches_two_cases_through_sub_units(store: ox.Store) -> None:
    rows = store.query(
        PREFIX
        + """
        SELECT DISTINCT ?c WHERE { ?hust skos:prefLabel "华中科技大学"@zh .
          ?c chz:applicant/org:subOrganizationOf+ ?hust }"""
    )
    assert len(list(rows)) == 2


def test_lead_applicant_is_the_first_listed(store: ox.Store) -> None:
    rows = list(
        store.query(
            PREFIX
            + """
        SELECT ?lead WHERE { <https://w3id.org/chuzhi/case/bigdata-2022-ent-06> chz:leadApplicant ?lead ;
          chz:applicantList ?l . ?l rdf:first ?first . FILTER(?first = ?lead) }"""
        )
    )
    assert [r["lead"].value for r in rows] == ["https://w3id.org/chuzhi/unit/hust-cse-cpss-team"]


def test_every_case_carries_its_provenance(store: ox.Store) -> None:
    assert (
        count(
            store,
            """?c a chz:Case ; <http://www.w3.org/ns/prov#wasDerivedFrom> ?s ; chz:sourceLine ?line .
                           ?s chz:sha256 ?h""",
        )
        == count(store, "?c a chz:Case")
        == 30
    )
    from chuzhi_graph.records.tables import load_dataset

    files = {s.id: s.path for s in load_dataset("data").sources}
    rows = store.query(
        PREFIX + "SELECT ?t ?line ?sid WHERE { ?c a chz:Case ; <http://purl.org/dc/terms/title> ?t ; "
        "chz:sourceLine ?line ; <http://www.w3.org/ns/prov#wasDerivedFrom>/<http://purl.org/dc/terms/identifier> ?sid }"
    )
    for r in rows:
        source = files[r["sid"].value].read_text(encoding="utf-8").split("\n")  # type: ignore[union-attr]
        assert r["t"].value in source[int(r["line"].value) - 1]


def test_region_hierarchy_reaches_the_province(store: ox.Store) -> None:
    rows = list(
        store.query(
            PREFIX
            + """
        SELECT ?p WHERE { <https://w3id.org/chuzhi/unit/wuhan-wuchang-zhengfawei> chz:region ?r .
          ?r skos:notation "420106" ; skos:broader+ ?p . ?p chz:adminLevel "province" }"""
        )
    )
    assert [r["p"].value for r in rows] == ["https://w3id.org/chuzhi/region/420000"]


def test_iris_are_stable_and_readable(built: BuildResult) -> None:
    text = built.files["nt"].read_text(encoding="utf-8")
    assert "<https://w3id.org/chuzhi/unit/state-grid-hubei>" in text
    assert "<https://w3id.org/chuzhi/case/bigdata-2022-gov-01>" in text
    assert "<https://w3id.org/chuzhi/award-category/bigdata-2022-gov>" in text


def test_configurable_base(tmp_path: Path) -> None:
    result = build("data", tmp_path, "http://example.org/kg/", formats=("nt",), validate="compiled")
    text = result.files["nt"].read_text(encoding="utf-8")
    assert "<http://example.org/kg/unit/state-grid-hubei>" in text
    assert "<http://example.org/kg/domain/smart-power>" in text
    assert "https://w3id.org/chuzhi/unit/" not in text
    assert "<https://w3id.org/chuzhi/def#Case>" in text  # ontology terms do not move


# ---------------------------------------------------------------- failures keep out/ intact


def break_cases(data_dir: Path) -> None:
    path = data_dir / "cases.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    rows[0]["domains"] = "不存在"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def test_bad_input_leaves_earlier_output_untouched(data_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(data_copy, out, validate="compiled")
    before = digest(out)
    break_cases(data_copy)
    result = CliRunner().invoke(cli, ["build", "--data", str(data_copy), "--out", str(out), "--no-views"])
    assert result.exit_code == 3
    assert without_progress(result.stderr) == (
        f"Error: {data_copy / 'cases.csv'}, line 2, field domains: unknown domain '不存在' "
        "(not in the domain scheme, ontology/domains.ttl)\n"
    )
    assert digest(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_invalid_graph_is_refused_and_nothing_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import chuzhi_graph.build as build_module

    original = build_module.map_dataset

    def drop_domains(*args, **kwargs):  # a mapping bug: cases lose their domains
        dom = "https://w3id.org/chuzhi/def#domain"
        return [t for t in original(*args, **kwargs) if t.predicate.value != dom]

    monkeypatch.setattr(build_module, "map_dataset", drop_domains)
    result = CliRunner().invoke(cli, ["build", "--out", str(tmp_path / "o"), "--no-views"])
    assert result.exit_code == 4
    assert without_progress(result.stderr).startswith(
        "Error: the graph does not conform to the SHACL shapes: "
        "<https://w3id.org/chuzhi/case/bigdata-2022-ent-01> domain: A case needs at least one governance domain"
    )
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_missing_data_folder_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["build", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert result.stderr == f"Error: {tmp_path / 'nope'}: data folder does not exist\n"


def test_bad_base_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["build", "--base", "not an iri", "--out", str(tmp_path), "--no-views"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: field --base: invalid base IRI 'not an iri'")


def test_cli_build_prints_the_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["build", "--out", str(tmp_path), "--no-views"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == str(tmp_path / "chuzhi.ttl")
    assert without_progress(result.stderr).startswith("built ")
    assert "30 cases, 32 applicant units, 5 edition(s)" in result.stderr


def test_python_dash_m_runs_the_cli() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "chuzhi_graph", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == f"chuzhi-graph, version {installed_version('chuzhi-graph')}"


def test_cli_validator_choice_and_cache(tmp_path: Path, built: BuildResult) -> None:
    runner = CliRunner()
    for engine in ("shacl", "compiled"):
        out = tmp_path / engine
        result = runner.invoke(cli, ["build", "--out", str(out), "--no-views", "--validate", engine,
                                     "--cache", str(tmp_path / "cache")])
        assert result.exit_code == 0, result.output
        assert (out / "chuzhi.ttl").read_bytes() == built.files["ttl"].read_bytes()
    assert any((tmp_path / "cache").iterdir())
    bad = runner.invoke(cli, ["build", "--out", str(tmp_path / "x"), "--validate", "magic"])
    assert bad.exit_code == 2
    assert "Invalid value for '--validate': 'magic' is not one of 'auto', 'shacl', 'compiled'." in bad.stderr
