"""The 楚治 series: every edition a source names, its completeness, winners named in prose.

Hand-checked against the stored sources in data/sources/ (line numbers of those files).
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from chromium import launched
from click.testing import CliRunner

from chuzhi_graph.cli import cli
from chuzhi_graph.errors import DataError
from chuzhi_graph.extract.announcement import extract, merge_extraction
from chuzhi_graph.records.tables import load_dataset
from chuzhi_graph.release.reader import Release
from chuzhi_graph.sparql.query import format_result, run_query

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
EXPECTED = Path(__file__).parent / "expected" / "series"
ECHENG = DATA / "sources" / "2023-02-20_social-governance-2022_results_echeng.txt"
MINQUAN = DATA / "sources" / "2024-03-28_social-governance-2023_minquan.txt"
EDITIONS = ["poverty-alleviation-2020", "social-governance-2020", "bigdata-2022", "social-governance-2022",
            "social-governance-2023"]
PARTIAL = ["poverty-alleviation-2020", "social-governance-2020", "social-governance-2022", "social-governance-2023"]
PREFIXES = """PREFIX chz: <https://w3id.org/chuzhi/def#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


@pytest.fixture(scope="module")
def store(built) -> ox.Store:
    return Release.open(built.out_dir).store()


def select(store: ox.Store, text: str) -> list[tuple[str, ...]]:
    return [tuple(t.value if t is not None else "" for t in row) for row in store.query(PREFIXES + text)]


def normalised_tsv(result) -> str:
    """The answer as TSV, cell by cell (no shipped question lists members in one cell any more)."""
    assert not any(v.endswith("Ids") for v in result.variables)
    return format_result(result, "tsv")


# ---------------------------------------------------------------- editions and completeness


def test_the_graph_holds_every_edition_a_source_names(store) -> None:
    rows = select(store, """
        SELECT ?id ?track ?year ?complete WHERE {
          ?e a chz:Edition ; dct:identifier ?id ; chz:track/skos:notation ?track ; chz:year ?year ;
             chz:completeList ?complete .
        } ORDER BY ?year ?id""")
    assert rows == [
        ("poverty-alleviation-2020", "poverty-alleviation", "2020", "false"),
        ("social-governance-2020", "social-governance", "2020", "false"),
        ("bigdata-2022", "bigdata", "2022", "true"),
        ("social-governance-2022", "social-governance", "2022", "false"),
        ("social-governance-2023", "social-governance", "2023", "false"),
    ]


def test_no_edition_claims_a_full_list_where_the_source_gives_a_part(store) -> None:
    # complete: the source states the count and the graph holds exactly that many cases
    rows = select(store, """
        SELECT ?id ?stated (COUNT(DISTINCT ?case) AS ?cases) WHERE {
          ?e chz:completeList true ; dct:identifier ?id .
          OPTIONAL { ?e chz:awardedCount ?stated }
          OPTIONAL { ?case chz:edition ?e }
        } GROUP BY ?id ?stated""")
    assert rows == [("bigdata-2022", "27", "27")]
    # partial editions state no count of their own and no category count
    assert select(store, """
        SELECT ?id WHERE {
          ?e chz:completeList false ; dct:identifier ?id .
          { ?e chz:awardedCount ?n } UNION { ?c chz:categoryEdition ?e ; chz:statedCaseCount ?n }
        }""") == []


def test_editions_query_states_completeness(store) -> None:
    assert normalised_tsv(run_query(store, "editions")) == (EXPECTED / "editions.tsv").read_text(encoding="utf-8")


def test_organisers_and_units_that_ran_the_2022_social_governance_edition(store) -> None:
    rows = select(store, """
        SELECT ?role ?name WHERE {
          <https://w3id.org/chuzhi/edition/social-governance-2022> ?p ?u .
          VALUES (?p ?role) { (chz:organiser "organiser") (chz:runBy "run by") }
          ?u skos:prefLabel ?name . FILTER(LANG(?name) = "zh")
        } ORDER BY ?role ?name""")
    # the call of 2022-11-21, line 16:
    # 由湖北日报传媒集团主办,荆楚网(湖北日报网)、华中科技大学国家治理研究院和楚天舆情数据研究院承办
    assert rows == [("organiser", "湖北日报传媒集团"), ("run by", "华中科技大学国家治理研究院"),
                    ("run by", "楚天舆情数据研究院"), ("run by", "荆楚网(湖北日报网)")]
    (call,) = select(store, """
        SELECT ?doc ?line ?rel WHERE {
          <https://w3id.org/chuzhi/edition/social-governance-2022> chz:callDocument ?doc ; chz:callSourceLine ?line .
          ?doc chz:reliability/skos:notation ?rel }""")
    assert call == ("https://w3id.org/chuzhi/source/jingchu-2022-11-21", "16", "publisher")
    assert "由湖北日报传媒集团主办" in ECHENG.with_name("2022-11-21_social-governance-2022_call.txt").read_text(
        encoding="utf-8").splitlines()[15]


def test_award_categories_per_edition_as_the_sources_name_them(store) -> None:
    rows = select(store, """
        SELECT ?edition ?label ?line WHERE {
          ?c chz:categoryEdition/dct:identifier ?edition ; skos:prefLabel ?label ; chz:listPosition ?pos .
          FILTER(LANG(?label) = "zh") FILTER(?edition != "bigdata-2022")
          OPTIONAL { ?c chz:sourceLine ?line }
        } ORDER BY ?edition ?pos""")
    assert rows == [
        ("poverty-alleviation-2020", "十佳案例", "13"), ("poverty-alleviation-2020", "责任企业", "13"),
        ("social-governance-2020", "十佳案例", "13"),
        ("social-governance-2022", "十佳案例", "20"), ("social-governance-2022", "单项奖案例", "20"),
        ("social-governance-2022", "党建引领创新案例", "30"), ("social-governance-2022", "社区治理创新案例", "30"),
        ("social-governance-2023", "十佳案例", "8"), ("social-governance-2023", "单项奖案例", "8"),
        ("social-governance-2023", "社区治理类单项奖", "9"),
    ]


# ---------------------------------------------------------------- the winners named in prose


def test_prose_winners_are_cases_with_units_categories_lines_and_reliability(store) -> None:
    rows = select(store, """
        SELECT ?case ?title ?unit ?category ?source ?line ?rel WHERE {
          ?c a chz:Case ; dct:identifier ?case ; dct:title ?title ; chz:applicant/skos:prefLabel ?unit ;
             chz:awardCategory/skos:prefLabel ?category ; prov:wasDerivedFrom ?s ; chz:sourceLine ?line .
          ?s dct:identifier ?source ; chz:reliability/skos:notation ?rel .
          FILTER(LANG(?unit) = "zh" && LANG(?category) = "zh") FILTER(!STRSTARTS(?case, "bigdata"))
        } ORDER BY ?case""")
    assert rows == [
        ("social-governance-2022-community-01", "鄂城区“网络驿站”筑牢区域风险防范防线", "鄂城区委政法委",
         "社区治理创新案例", "jingchu-2023-02-20-echeng", "30", "mirror"),
        ("social-governance-2022-party-building-01", "“54321”解锁城市基层治理密码", "鄂城区委组织部",
         "党建引领创新案例", "jingchu-2023-02-20-echeng", "30", "mirror"),
        ("social-governance-2023-community-single-01", "党建引领老里巷变身网红打卡地", "江汉区民权街道",
         "社区治理类单项奖", "jingchu-2024-03-28-minquan", "9", "mirror"),
    ]
    lines = ECHENG.read_text(encoding="utf-8").splitlines()
    assert "鄂城区委组织部《“54321”解锁城市基层治理密码》,荣获楚治——2022“荆楚杯”党建引领创新案例" in lines[29]
    assert "江汉区民权街道《党建引领老里巷变身网红打卡地》" in MINQUAN.read_text(encoding="utf-8").splitlines()[8]


def test_first_hand_sources_only(store) -> None:
    # a researcher keeping to first-hand sources (the publisher's page or an organiser's) sees the 27
    rows = select(store, """
        SELECT ?edition (COUNT(?c) AS ?n) WHERE {
          ?c a chz:Case ; chz:edition/dct:identifier ?edition ; prov:wasDerivedFrom/chz:reliability ?r .
          FILTER(?r != chz:ThirdPartyMirror)
        } GROUP BY ?edition""")
    assert rows == [("bigdata-2022", "27")]


def test_extract_on_the_echeng_report_gives_the_curated_cases() -> None:
    ex = extract(ECHENG, DATA)
    curated = {c.id: c for c in load_dataset(DATA).cases}
    assert ex.source_row["id"] == "jingchu-2023-02-20-echeng"  # the registered copy: same lines
    assert [c["id"] for c in ex.cases] == ["social-governance-2022-party-building-01",
                                           "social-governance-2022-community-01"]
    for case in ex.cases:
        mine = curated[case["id"]]
        assert (case["title_zh"], case["category"], int(case["source_line"])) == (
            mine.title_zh, mine.category, mine.source_line)
    assert ex.review == []  # both units are known


def test_merging_the_echeng_report_again_changes_nothing_and_keeps_the_call_title(data_copy: Path) -> None:
    before = {p.name: p.read_bytes() for p in data_copy.glob("*.csv")}
    result = merge_extraction(extract(ECHENG, data_copy), data_copy)
    assert result.added == {}
    # the results report writes 十佳案例, the first-hand call 十大案例: the curated title stays
    assert "editions social-governance-2022: curated title_zh" in " ".join(result.kept)
    assert {p.name: p.read_bytes() for p in data_copy.glob("*.csv")} == before


# ---------------------------------------------------------------- across editions


def test_units_keep_one_iri_and_regions_roll_up(store) -> None:
    rows = select(store, """
        SELECT ?unit ?county ?prefecture WHERE {
          ?u dct:identifier ?unit ; chz:region ?r .
          ?r skos:prefLabel ?county . FILTER(LANG(?county) = "zh")
          ?r skos:broader/skos:prefLabel ?prefecture . FILTER(LANG(?prefecture) = "zh")
          FILTER(?unit IN ("wuhan-jianghan-zuzhibu", "wuhan-jianghan-minquan", "ezhou-echeng-zuzhibu",
                           "ezhou-echeng-zhengfawei"))
        } ORDER BY ?unit""")
    assert rows == [("ezhou-echeng-zhengfawei", "鄂城区", "鄂州市"), ("ezhou-echeng-zuzhibu", "鄂城区", "鄂州市"),
                    ("wuhan-jianghan-minquan", "江汉区", "武汉市"), ("wuhan-jianghan-zuzhibu", "江汉区", "武汉市")]


def test_regions_with_winners_in_more_than_one_edition(store) -> None:
    result = run_query(store, "regions-in-several-editions")
    assert normalised_tsv(result) == (EXPECTED / "regions-in-several-editions.tsv").read_text(encoding="utf-8")
    by_label: dict[str, tuple[str, set[str]]] = {}
    for row in result.rows:  # one row per region and edition
        by_label.setdefault(row[1].value, (row[4].value, set()))[1].add(row[5].value)
    # 鄂州市: ezhou-audit-bureau (2022), ezhou-echeng-zuzhibu and ezhou-echeng-zhengfawei (社会治理 2022)
    assert by_label["鄂州市"] == ("3", {"bigdata-2022", "social-governance-2022"})
    # 江汉区: wuhan-jianghan-zuzhibu (2022), wuhan-jianghan-minquan (社会治理 2023)
    assert by_label["江汉区"] == ("2", {"bigdata-2022", "social-governance-2023"})


def test_region_units_lists_the_units_the_regions_question_counts(store) -> None:
    """The drill-down of each row of regions-in-several-editions: as many units, the same editions."""
    regions: dict[str, tuple[int, set[str]]] = {}
    for row in run_query(store, "regions-in-several-editions").rows:  # one row per region and edition
        regions.setdefault(row[0].value, (int(row[4].value), set()))[1].add(row[5].value)
    for region, (units, editions) in regions.items():
        listed = run_query(store, "region-units", {"region": region})  # one row per unit and edition
        assert len({r[1] for r in listed.rows}) == units
        assert {r[6].value for r in listed.rows} == editions
    ezhou = run_query(store, "region-units", {"region": "鄂州市"})
    assert [(r[2].value, r[4].value, r[6].value) for r in ezhou.rows] == [
        ("ezhou-audit-bureau", "鄂州市", "bigdata-2022"),
        ("ezhou-echeng-zhengfawei", "鄂城区", "social-governance-2022"),
        ("ezhou-echeng-zuzhibu", "鄂城区", "social-governance-2022"),
    ]


def test_regions_and_units_in_several_tracks(store) -> None:
    result = run_query(store, "several-tracks")
    assert normalised_tsv(result) == (EXPECTED / "several-tracks.tsv").read_text(encoding="utf-8")
    assert {row[0].value for row in result.rows} == {"region"}  # no unit has won in two tracks (yet)


def test_series_timeline(store) -> None:
    result = run_query(store, "series-timeline")
    assert normalised_tsv(result) == (EXPECTED / "series-timeline.tsv").read_text(encoding="utf-8")


def test_edition_diff_query(store) -> None:
    result = run_query(store, "edition-diff", {"old": "social-governance-2022", "new": "social-governance-2023"})
    assert normalised_tsv(result) == (EXPECTED / "edition-diff.tsv").read_text(encoding="utf-8")


def test_cli_diff_of_two_editions(built) -> None:
    result = CliRunner().invoke(cli, ["diff", "--editions", "social-governance-2022", "social-governance-2023",
                                      "--out", str(built.out_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "old: social-governance-2022 (楚治——2022‘荆楚杯’社会治理创新十大案例; 2 case(s) in the graph; "
        "partial: the sources name only these)\n"
        "new: social-governance-2023 (楚治——2023‘荆楚杯’社会治理创新十佳案例; 1 case(s) in the graph; "
        "partial: the sources name only these)\n"
        "note: social-governance-2022 and social-governance-2023 are not complete in the graph: "
        "a unit shown as new or gone may have won in the other edition too\n"
        "recurring units (0):\n"
        "new units (1):\n"
        "  江汉区民权街道  [武汉市]  cases: 0 -> 1\n"
        "gone units (2):\n"
        "  鄂城区委政法委  [鄂州市]  cases: 1 -> 0\n"
        "  鄂城区委组织部  [鄂州市]  cases: 1 -> 0\n"
        "recurring prefectures: -\n"
        "new prefectures: 武汉市\n"
        "gone prefectures: 鄂州市\n"
        "units: 0 recurring, 1 new, 2 gone\n"
    )


def test_cli_diff_of_editions_across_tracks_shows_recurring_prefectures(built) -> None:
    result = CliRunner().invoke(cli, ["diff", "--editions", "bigdata-2022", "social-governance-2022",
                                      "--out", str(built.out_dir), "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.stdout)
    assert data["prefectures"]["recurring"] == ["鄂州市"]
    assert "the editions are of different tracks (bigdata, social-governance)" in data["notes"]
    assert result.stderr == "units: 0 recurring, 2 new, 29 gone\n"


def test_cli_diff_unknown_edition(built) -> None:
    result = CliRunner().invoke(cli, ["diff", "--editions", "bigdata-2022", "bigdata-2099",
                                      "--out", str(built.out_dir)])
    assert result.exit_code == 2
    assert result.stderr == ("Error: field NEW: no edition is called 'bigdata-2099' "
                             "(give a name, alias, identifier or IRI); did you mean bigdata-2022?\n")


# ---------------------------------------------------------------- records and docs


@pytest.mark.parametrize(
    ("table", "old", "new", "message"),
    [
        ("sources", ",mirror\n", ",copy\n",
         "field reliability: unknown value 'copy' (expected one of: publisher, organiser, mirror, or empty)"),
        ("editions", "2023年底,no,", "2023年底,yes,",
         "field complete: a complete list needs the awarded count the source states (awarded)"),
        ("editions", "2023年底,no,", "2023年底,maybe,",
         "field complete: unknown value 'maybe' (expected one of: yes, no, or empty)"),
    ],
)
def test_series_columns_are_checked(data_copy: Path, table: str, old: str, new: str, message: str) -> None:
    path = data_copy / f"{table}.csv"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_dataset(data_copy)
    assert str(info.value).endswith(message)


def test_readme_and_docs_say_which_editions_are_partial() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    docs = (ROOT / "docs" / "series.md").read_text(encoding="utf-8")
    ds = load_dataset(DATA)
    partial = sorted(e.id for e in ds.editions if e.complete != "yes")
    assert partial == sorted(PARTIAL)
    for text in (readme, docs):
        row = r"^\| `([a-z0-9-]+)` \|.*\| (partial|complete)[^|]*\|([^|]*\|)?\s*$"  # a source column may follow
        table = {m.group(1): m.group(2) for m in re.finditer(row, text, re.M)}
        assert table == {e: ("complete" if e == "bigdata-2022" else "partial") for e in EDITIONS}


def test_site_says_which_editions_are_partial(published) -> None:
    """The published editions page, read in headless Chromium: every partial edition says so."""
    site = published.site  # the shipped data's (the run's shared publish: conftest)
    with launched() as browser:
        page = browser.new_page()
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
        page.goto((site / "editions.html").as_uri())
        rows = page.locator("table tbody tr")
        seen = {}
        for i in range(rows.count()):
            cells = [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
            href = rows.nth(i).locator("td a").first.get_attribute("href") or ""
            edition = re.search(r"edition/([a-z0-9-]+)\.html", href).group(1)  # type: ignore[union-attr]
            seen[edition] = (cells[3], cells[4], cells[5])
    assert seen == {
        "bigdata-2022": ("27", "27", "完整 complete"),
        **{e: (n, "—", "不完整：仅含来源提及的案例 partial: only the cases a source names")
           for e, n in (("poverty-alleviation-2020", "0"), ("social-governance-2020", "0"),
                        ("social-governance-2022", "2"), ("social-governance-2023", "1"))},
    }


def test_audit_reads_the_call_report_and_the_mirror_in_traditional_characters(data_copy: Path) -> None:
    from chuzhi_graph.records.provenance import audit
    from chuzhi_graph.records.series import readable

    assert audit(load_dataset(DATA)) == []
    history = (DATA / "sources" / "2021-11-23_series-history.txt").read_text(encoding="utf-8").splitlines()
    assert "荆楚网(湖北日报网)在2020年7月顺势推出“楚治——首届湖北社会治理创新十佳案例”评选" in readable(history[12])
    path = data_copy / "editions.csv"
    text = path.read_text(encoding="utf-8")
    text = text.replace("楚治——首届湖北社会治理创新十佳案例,,2020-07,,,,荆楚网(湖北日报网),",
                        "楚治——首届湖北社会治理创新百佳案例,,2020-07,,,,华中科技大学国家治理研究院,")
    text = text.replace(",湖北日报传媒集团,,,,,jingchu-2023-02-20-echeng,",
                        ",华中科技大学团委,,,,,jingchu-2023-02-20-echeng,")
    path.write_text(text, encoding="utf-8")
    assert [str(f) for f in audit(load_dataset(data_copy))] == [
        f"{path}, line 3, field organisers: 华中科技大学国家治理研究院 not in jingchu-2021-11-23",
        f"{path}, line 3, field title_zh: title not in jingchu-2021-11-23",
        f"{path}, line 5, field organisers: 华中科技大学团委 not in jingchu-2022-11-21",
    ]
