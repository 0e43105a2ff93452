"""Shipped queries against hand-checked answers, result formats, parameters, errors, the CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chuzhi_graph.cli import cli
from chuzhi_graph.errors import QueryError
from chuzhi_graph.release.reader import Release
from chuzhi_graph.sparql import worker as worker_module
from chuzhi_graph.sparql.query import (
    WORKERS,
    WorkerPool,
    display_width,
    format_result,
    parse_header,
    query_prefixes,
    run_query,
    shipped_queries,
)
from chuzhi_graph.sparql.store import open_store
from chuzhi_graph.sparql.worker import private_memory

EXPECTED = Path(__file__).parent / "expected" / "queries"
#: Parameters of the golden runs: a unit with cases and a parent, a domain with narrower domains.
PARAMS = {"unit-profile": {"unit": "国网湖北省电力有限公司"}, "domain-cases": {"domain": "城市治理"}}
REQUIRED = {
    "cases-per-domain", "cases-per-category-unit-type", "units-with-several-cases", "co-applicant-pairs",
    "cross-sector-collaborations", "cases-per-prefecture", "domain-co-occurrence", "unit-profile", "domain-cases",
}
UNIT = "https://w3id.org/chuzhi/unit/"
CASE = "https://w3id.org/chuzhi/case/"
#: cases in the shipped data: the 2022 big-data edition (27) and 3 winners of the series (docs/series.md)
CASES = 30


@pytest.fixture(scope="module")
def store(built) -> ox.Store:
    return Release.open(built.out_dir).store()


def labels(result, var: str) -> list[str]:
    i = result.variables.index(var)
    return [row[i].value for row in result.rows]


def column(result, var: str) -> list[object]:
    i = result.variables.index(var)
    return [row[i] for row in result.rows]


def test_every_required_question_is_shipped_with_both_questions():
    queries = {q.name: q for q in shipped_queries()}
    assert REQUIRED <= set(queries)
    for q in queries.values():
        assert q.question_zh and q.question_en, q.name
    assert queries["unit-profile"].params == ("unit",)
    assert queries["domain-cases"].params == ("domain",)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_shipped_query_matches_expected_file(store, name):
    result = run_query(store, name, PARAMS.get(name))
    expected = (EXPECTED / f"{name}.tsv").read_text(encoding="utf-8")
    assert format_result(result, "tsv") == expected


def test_unit_profile_rolls_up_the_cases_of_sub_units(store):
    """华中科技大学 applied for nothing itself; its two cases came through its schools."""
    result = run_query(store, "unit-profile", {"unit": "华中科技大学"})
    assert format_result(result, "tsv") == (EXPECTED / "unit-profile-hust.tsv").read_text(encoding="utf-8")
    i, v, t = (result.variables.index(x) for x in ("relation", "value", "through"))
    cases = {(row[v].value, row[t].value) for row in result.rows if row[i].value.endswith("#applicant")}
    assert cases == {(f"{CASE}bigdata-2022-ent-06", f"{UNIT}hust-cse-cpss-team"),
                     (f"{CASE}bigdata-2022-excellent-03", f"{UNIT}hust-computer-school")}
    own = run_query(store, "unit-profile", {"unit": "国网湖北省电力有限公司"})
    t = own.variables.index("through")
    assert all(row[t] is None for row in own.rows)  # its own cases: no sub-unit named


# Hand-checked against data/sources/000_451b57e0ba31c9df.txt (line numbers of the source).


def test_units_with_several_cases_hand_checked(store):
    result = run_query(store, "units-with-several-cases")
    counts = {row[1].value: (int(row[2].value), int(row[3].value)) for row in result.rows}
    assert counts["国网湖北省电力有限公司"] == (2, 2)  # lines 62 and 86
    assert counts["湖北省数字产业发展集团有限公司"] == (2, 2)  # lines 70 and 90
    assert counts["华中科技大学"] == (0, 2)  # CPSS team (72) and 计算机学院 (88), through sub-units
    assert counts["中国电信股份有限公司"] == (0, 2)  # 鹤峰分公司 (64) and 武汉分公司 (92)
    assert len(counts) == 5


def test_co_applicant_pairs_hand_checked(store):
    result = run_query(store, "co-applicant-pairs")
    assert len(result.rows) == 5  # one row per pair and joint case; each pair has one joint case here
    assert set(labels(result, "caseId")) == {"bigdata-2022-gov-07", "bigdata-2022-ent-02", "bigdata-2022-ent-06"}
    pairs = {frozenset((a.value, b.value)) for a, b in zip(column(result, "unitALabel"),
                                                            column(result, "unitBLabel"), strict=True)}
    assert frozenset(("中国电信股份有限公司鹤峰分公司", "鹤峰县委政法委")) in pairs  # line 64


def test_domain_cases_include_narrower_domains(store):
    result = run_query(store, "domain-cases", {"domain": "domain:urban-governance"})
    tagged = set(labels(result, "taggedDomainLabel"))
    assert tagged == {"智慧城市", "城市交通"}
    assert len(result.rows) == 6


def test_unit_by_alias_and_by_iri_give_the_same_answer(store):
    by_alias = run_query(store, "unit-profile", {"unit": "华中科大"})
    by_iri = run_query(store, "unit-profile", {"unit": f"<{UNIT}hust>"})
    by_prefixed = run_query(store, "unit-profile", {"unit": "unit:hust"})
    assert by_alias.rows == by_iri.rows == by_prefixed.rows
    assert ox.NamedNode(f"{UNIT}hust-cse") in column(by_alias, "value")


def test_unknown_unit_and_unknown_variable_are_clear_errors(store):
    with pytest.raises(QueryError) as err:
        run_query(store, "unit-profile", {"unit": "不存在的单位"})
    assert str(err.value) == ("field --param unit: no chz:Unit is called '不存在的单位' "
                              "(give a name, alias, identifier or IRI)")
    with pytest.raises(QueryError) as err:
        run_query(store, "cases-per-domain", {"unit": "华中科技大学"})
    assert str(err.value) == "field --param unit: the query has no variable ?unit to bind (its parameters: none)"


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=0, max_size=40))
def test_free_text_params_are_bound_as_terms_never_pasted(store, text):
    assume(not (text.startswith("<") and text.endswith(">")))
    result = run_query(store, "SELECT ?v (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?v", {"v": text})
    assert result.rows[0][0] == ox.Literal(text)
    assert int(result.rows[0][1].value) == len(store)


def test_formats_agree_with_pyoxigraph_writers(store):
    text = next(q for q in shipped_queries() if q.name == "co-applicant-pairs").text
    result = run_query(store, text)
    for fmt, native in (("csv", ox.QueryResultsFormat.CSV), ("tsv", ox.QueryResultsFormat.TSV),
                        ("xml", ox.QueryResultsFormat.XML)):
        expected = store.query(text).serialize(format=native).decode("utf-8")
        assert format_result(result, fmt).rstrip("\r\n") == expected.rstrip("\r\n"), fmt
    mine = json.loads(format_result(result, "json"))
    theirs = json.loads(store.query(text).serialize(format=ox.QueryResultsFormat.JSON))
    assert mine == theirs


def test_ask_and_construct(store):
    ask = run_query(store, "ASK { ?c a chz:Case }")
    assert ask.kind == "ask" and ask.boolean is True
    assert json.loads(format_result(ask, "json")) == {"head": {}, "boolean": True}
    graph = run_query(store, "CONSTRUCT { ?c chz:domain ?d } WHERE { ?c chz:domain ?d }")
    turtle = format_result(graph, "table")
    parsed = list(ox.parse(turtle.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    assert {q.triple for q in parsed} == set(graph.triples)
    assert len(graph.triples) == CASES + 6  # 30 cases, 6 of them with two domains (data/cases.csv)
    with pytest.raises(QueryError):
        format_result(graph, "csv")


def test_table_aligns_chinese_text(store):
    table = format_result(run_query(store, "cases-per-prefecture"), "table")
    lines = table.splitlines()
    assert lines[-1] == "(9 rows)"
    # the last column starts at the same display column on every line
    starts = {display_width(line[: line.rindex(" ") + 1]) for line in lines[2:-1]}
    assert len(starts) == 1
    assert "恩施土家族苗族自治州" in table


def test_syntax_error_gives_line_column_and_text(store):
    with pytest.raises(QueryError) as err:
        run_query(store, "SELECT ?x WHERE {\n  ?x a chz:Case ;\n     chz:domain ) }")
    message = str(err.value)
    assert message.startswith("inline query, line 3: column 17: SPARQL syntax error near ') }': expected")
    assert message.endswith("\n         chz:domain ) }\n                    ^")
    assert err.value.line == 3


def test_service_is_refused(store):
    with pytest.raises(QueryError, match="SERVICE is refused"):
        run_query(store, "SELECT * WHERE {\n SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    # the word in a string, an IRI or a comment is no SERVICE clause
    run_query(store, "SELECT * WHERE { BIND('SERVICE' AS ?x) } # SERVICE")


def test_long_query_is_stopped_at_the_timeout(store):
    with pytest.raises(QueryError) as err:
        # about 1 s of work on the 2022 data (finite, so the abandoned thread ends soon)
        run_query(store, "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }", timeout=0.2)
    assert str(err.value) == ("the query ran longer than the timeout of 0.2 s and was stopped "
                              "(raise it with --timeout)")


def test_header_parsing():
    q = parse_header("x", "# zh: 问\n# en: Q\n# param: unit chz:Unit 单位\n# param: n\nSELECT * {}")
    assert (q.question_zh, q.question_en, q.params) == ("问", "Q", ("unit", "n"))
    assert q.param_specs[0].cls == "chz:Unit" and q.param_specs[1].cls is None


# ---------------------------------------------------------------- CLI


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_list_shows_the_declared_parameters():
    result = invoke("query", "--list")
    assert result.exit_code == 0
    assert "unit-profile --param unit=华中科技大学\n    某一单位的全部信息" in result.output
    assert ("    · unit: unit, required; 单位：名称、别名、标识或 IRI / unit: name, alias, identifier or IRI\n"
            in result.output)
    assert "domain-cases --param domain=城市治理\n" in result.output
    params = sum(len(q.param_specs) for q in shipped_queries())
    assert result.output.count("\n    ") == 2 * len(shipped_queries()) + params


def test_cli_csv_has_bom_and_crlf(built):
    result = invoke("query", "co-applicant-pairs", "--format", "csv", "--out", str(built.out_dir))
    assert result.exit_code == 0
    raw = result.stdout_bytes.decode("utf-8")  # .stdout folds CRLF
    assert raw.startswith("\ufeffunitA,unitALabel,unitB,unitBLabel,cases,caseId\r\n")
    assert "鹤峰县委政法委" in raw
    plain = invoke("query", "co-applicant-pairs", "--format", "csv", "--no-bom", "--out", str(built.out_dir))
    assert plain.stdout_bytes.decode("utf-8") == raw[1:]


def test_cli_param_and_json(built):
    result = invoke("query", "unit-profile", "--param", "unit=华中科技大学", "--format", "json",
                    "--out", str(built.out_dir))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["head"]["vars"] == ["unit", "relation", "value", "valueLabel", "through", "throughLabel"]
    assert all(b["unit"]["value"] == UNIT + "hust" for b in data["results"]["bindings"])


def test_cli_rq_file(built, tmp_path):
    rq = tmp_path / "mine.rq"
    rq.write_text("SELECT (COUNT(?c) AS ?n) WHERE { ?c a chz:Case }\n", encoding="utf-8")
    result = invoke("query", str(rq), "--format", "tsv", "--out", str(built.out_dir))
    assert result.stdout == f'?n\n{CASES}\n'


def test_cli_errors_and_their_exit_codes(built, tmp_path):
    result = invoke("query", "nope", "--out", str(built.out_dir))
    assert result.exit_code == 2  # a usage error: the name is wrong
    assert result.stderr.startswith("Error: unknown query 'nope' (shipped queries: cases-per-category-unit-type,")
    result = invoke("query", "SELECT ?x WHERE { ?x ?y ) }", "--out", str(built.out_dir))
    assert result.exit_code == 5
    assert "inline query, line 1: column" in result.stderr
    result = invoke("query", "cases-per-domain", "--out", str(tmp_path))
    assert result.exit_code == 3  # not built: the same code as render, stats, serve, push
    assert result.stderr == (f"Error: {tmp_path}: no built graph here: run `chuzhi-graph build` first (looked for "
                             "chuzhi.nt, chuzhi.ttl, chuzhi.trig or chuzhi.jsonld in the folder and in its dataset/)\n")
    result = invoke("query", "--out", str(built.out_dir))
    assert result.exit_code == 2


# ---------------------------------------------------------------- timeout: the worker is killed

#: Hours of work on the 2022 data (1755³ solutions to count inside one aggregate step).
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
#: Millions of rows on the 2022 data (every pair of triples).
HUGE = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"


def children() -> dict[int, tuple[str, int]]:
    """Live child processes of this process: pid -> (state, CPU ticks used)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            found[int(stat.parent.name)] = (fields[0], int(fields[11]) + int(fields[12]))
    return found


@pytest.fixture()
def started(monkeypatch) -> list:
    """The worker processes started during a test (after closing the warm ones)."""
    WORKERS.close()
    processes: list = []
    original = WorkerPool._start

    def spy(self, *args):
        worker = original(self, *args)
        processes.append(worker.process)
        return worker

    monkeypatch.setattr(WorkerPool, "_start", spy)
    return processes


def assert_cpu_free(processes: list) -> None:
    assert processes
    for process in processes:
        assert process.exitcode == -signal.SIGKILL
        assert not Path(f"/proc/{process.pid}").exists()
    before, cpu = children(), time.process_time()
    time.sleep(0.5)
    assert time.process_time() - cpu < 0.1  # nothing runs on in a thread of this process
    after = children()
    assert set(after) <= set(before)
    assert sum(after[p][1] for p in after) - sum(before[p][1] for p in after) <= 2  # ticks of 10 ms


def test_timed_out_query_in_memory_is_killed(store, started):
    t0 = time.perf_counter()
    with pytest.raises(QueryError) as err:
        run_query(store, SLOW, timeout=0.3)
    assert time.perf_counter() - t0 < 2
    assert str(err.value) == ("the query ran longer than the timeout of 0.3 s and was stopped "
                              "(raise it with --timeout)")
    assert_cpu_free(started)


def test_cli_timeout_kills_the_worker(built, started):
    t0 = time.perf_counter()
    result = invoke("query", SLOW, "--timeout", "0.5", "--out", str(built.out_dir))
    assert time.perf_counter() - t0 < 3
    assert result.exit_code == 5
    assert result.stderr == ("Error: the query ran longer than the timeout of 0.5 s and was stopped "
                             "(raise it with --timeout)\n")
    assert result.stdout == ""
    assert_cpu_free(started)
    # the next query gets a new worker and the right answer
    again = invoke("query", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "--format", "tsv",
                   "--out", str(built.out_dir))
    assert again.stdout == f"?n\n{built.triples}\n"


def sorted_concat(result) -> list[tuple]:
    """The rows, cell by cell (no shipped question lists members in one cell)."""
    return list(result.rows)


def test_worker_answers_equal_the_fast_path(built, store):
    disk = open_store(built.out_dir)
    for q in shipped_queries():
        params = PARAMS.get(q.name, q.example_params())
        fast = run_query(store, q, params)
        for target in (store, disk):
            slow = run_query(target, q, params, timeout=30)
            assert (slow.kind, slow.variables) == (fast.kind, fast.variables), q.name
            assert sorted_concat(slow) == sorted_concat(fast), q.name
    graph = "CONSTRUCT { ?c chz:domain ?d } WHERE { ?c chz:domain ?d }"
    assert set(run_query(disk, graph, timeout=30).triples) == set(run_query(store, graph).triples)
    assert run_query(disk, "ASK { ?c a chz:Case }", timeout=30).boolean is True
    with pytest.raises(QueryError, match=r"^inline query, line 1: column 27: SPARQL syntax error"):
        run_query(disk, "SELECT ?x WHERE { ?x ?y ) }", timeout=30)


@pytest.mark.parametrize("timeout", [None, 30])
def test_max_rows_stops_reading(built, store, timeout):
    disk = open_store(built.out_dir)
    for target in (store, disk):
        t0 = time.perf_counter()
        result = run_query(target, HUGE, timeout=timeout, max_rows=500)
        assert len(result.rows) == 501  # one past the limit: the caller sees it is too large
        assert time.perf_counter() - t0 < 2  # the whole result (3 million rows) takes far longer
        graph = run_query(target, "CONSTRUCT { ?a ?b ?f } WHERE { ?a ?b ?c . ?d ?e ?f }",
                          timeout=timeout, max_rows=10)
        assert len(graph.triples) == 11
    assert len(run_query(store, "SELECT * { ?s a chz:Case }", timeout=timeout, max_rows=500).rows) == CASES


# ---------------------------------------------------------------- CLI: every way to give a query


ELAPSED = re.compile(r"^(\d+) result\(s\) in \d+\.\d ms\n$")


def cli_query(built, *args: str):
    result = invoke("query", *args, "--out", str(built.out_dir))
    assert result.exit_code == 0, result.stderr
    return result


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_cli_shipped_name_gives_the_library_table(built, store, name):
    params = [f"--param={k}={v}" for k, v in PARAMS.get(name, {}).items()]
    result = cli_query(built, name, *params)
    expected = run_query(store, name, PARAMS.get(name))
    assert result.stdout == format_result(expected, "table")
    assert result.stdout.splitlines()[-1] == f"({len(expected.rows)} row{'s' if len(expected.rows) != 1 else ''})"
    assert ELAPSED.match(result.stderr).group(1) == str(len(expected.rows))


@pytest.mark.parametrize("fmt", ["table", "csv", "tsv", "json", "xml"])
def test_cli_each_format(built, store, fmt):
    result = cli_query(built, "cases-per-prefecture", "--format", fmt)
    expected = format_result(run_query(store, "cases-per-prefecture"), fmt)
    raw = result.stdout_bytes.decode("utf-8")
    assert raw == ("\ufeff" + expected if fmt == "csv" else expected)


@pytest.mark.parametrize("fmt", ["turtle", "nt"])
def test_cli_graph_formats(built, store, fmt):
    text = "CONSTRUCT { ?c chz:domain ?d } WHERE { ?c chz:domain ?d }"
    result = cli_query(built, text, "--format", fmt)
    parsed = ox.parse(result.stdout_bytes, format=ox.RdfFormat.TURTLE if fmt == "turtle" else ox.RdfFormat.N_TRIPLES)
    assert {q.triple for q in parsed} == set(run_query(store, text).triples)
    assert result.stderr == f"{CASES + 6} result(s) in " + result.stderr.split(" in ")[1]


def test_cli_inline_and_file_agree(built, tmp_path):
    text = "SELECT ?case WHERE { ?case a chz:Case } ORDER BY ?case"
    rq = tmp_path / "cases.rq"
    rq.write_text(text + "\n", encoding="utf-8")
    inline = cli_query(built, text, "--format", "tsv")
    from_file = cli_query(built, str(rq), "--format", "tsv")
    assert inline.stdout == from_file.stdout
    assert len(inline.stdout.splitlines()) == 1 + CASES
    assert ELAPSED.match(inline.stderr).group(1) == str(CASES)


def test_cli_param_by_name_alias_and_iri(built, store):
    by_name = cli_query(built, "unit-profile", "--param", "unit=华中科技大学", "--format", "tsv")
    by_alias = cli_query(built, "unit-profile", "--param", "unit=华中科大", "--format", "tsv")
    by_iri = cli_query(built, "unit-profile", "--param", f"unit=<{UNIT}hust>", "--format", "tsv")
    assert by_name.stdout == by_alias.stdout == by_iri.stdout
    assert by_name.stdout == format_result(run_query(store, "unit-profile", {"unit": "unit:hust"}), "tsv")
    missing = invoke("query", "unit-profile", "--param", "unit=不存在的单位", "--out", str(built.out_dir))
    assert missing.exit_code == 2
    assert missing.stderr == ("Error: field --param unit: no chz:Unit is called '不存在的单位' "
                              "(give a name, alias, identifier or IRI)\n")
    bad = invoke("query", "unit-profile", "--param", "unit", "--out", str(built.out_dir))
    assert (bad.exit_code, bad.stderr) == (2, "Error: field --param: --param needs NAME=VALUE, got 'unit'\n")


def test_cli_syntax_error_exact(built, store):
    text = "SELECT ?x WHERE {\n  ?x a chz:Case ;\n     chz:domain ) }"
    result = invoke("query", text, "--out", str(built.out_dir))
    assert result.exit_code == 5
    with pytest.raises(QueryError) as err:
        run_query(store, text)
    assert result.stderr == f"Error: {err.value}\n"
    assert result.stderr.startswith("Error: inline query, line 3: column 17: SPARQL syntax error near ') }': ")
    assert result.stderr.endswith("\n         chz:domain ) }\n                    ^\n")


def test_cli_service_refused(built):
    result = invoke("query", "SELECT * WHERE {\n SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
                    "--out", str(built.out_dir))
    assert (result.exit_code, result.stdout) == (5, "")
    assert result.stderr == ("Error: inline query, line 2: SERVICE is refused: "
                             "queries never reach out to other endpoints\n")


def test_worker_keeps_no_descriptor_of_its_parent(built, started, monkeypatch):
    # the worker must outlive its query to be looked at: no recycling to the idle-memory budget here
    monkeypatch.setattr(WORKERS, "idle_memory", 2**62)
    with socket.socket() as sock:  # like a client connection of `serve`
        sock.bind(("127.0.0.1", 0))
        inode = os.stat(f"/proc/self/fd/{sock.fileno()}").st_ino
        run_query(open_store(built.out_dir), "ASK { ?s ?p ?o }", timeout=30)
        (worker,) = started
        links = [os.readlink(fd) for fd in Path(f"/proc/{worker.pid}/fd").iterdir()]
    assert f"socket:[{inode}]" not in links
    assert len([link for link in links if link.startswith(("socket:", "pipe:"))]) <= 4  # stdio, the pipe
    WORKERS.close()
    assert not worker.is_alive()


# a sort of 490,000 new strings: the worker's heap grows by ~70-100 MB and keeps it after the answer
GROWING = ("SELECT (COUNT(*) AS ?k) WHERE { SELECT ?s WHERE { "
           "{ SELECT ?c WHERE { ?a ?b ?c FILTER isLiteral(?c) } LIMIT 700 } "
           "{ SELECT ?f WHERE { ?d ?e ?f FILTER isLiteral(?f) } LIMIT 700 } "
           "BIND(CONCAT(STR(?c), STR(?f)) AS ?s) } ORDER BY ?s }")


def recycling_journey(out_dir: str) -> dict[str, object]:
    """The pool's recycling, step by step (run in a fresh interpreter: see the test)."""
    store = open_store(Path(out_dir))
    pool = WorkerPool(keep=2, idle_memory=2**62)
    measured: dict[int, int] = {}

    def measuring(pid: int) -> int:  # what the pool saw of each worker when it came back
        measured[pid] = private_memory(pid)
        return measured[pid]

    worker_module.private_memory = measuring  # type: ignore[assignment]

    def idle() -> list[int]:
        return [w.process.pid for w in pool._idle]

    try:
        pool.run(store, "ASK { ?s ?p ?o }", {}, 60, None)
        (first,) = idle()
        budget = measured[first] + 48 * 2**20
        pool.idle_memory = budget
        kept = []
        for _ in range(2):
            assert pool.run(store, "ASK { ?s ?p ?o }", {}, 60, None).boolean is True
            kept.append(idle())
        process = pool._idle[0].process
        grown = pool.run(store, GROWING, {}, 120, None)
        after_grown = {"rows": int(grown.rows[0][0].value), "memory": measured[first], "idle": idle(),
                       "alive": process.is_alive()}
        pool.run(store, "ASK { ?s ?p ?o }", {}, 60, None)
        return {"first": first, "budget": budget, "kept": kept, "grown": after_grown, "next": idle(),
                "held": sum(private_memory(pid) for pid in idle())}
    finally:
        pool.close()


def test_idle_workers_are_recycled_to_the_memory_budget(built):
    """A warm worker under the budget is kept between queries; one that grew past it with a big query
    is stopped when it comes back idle, and the next query gets a new one: the pool holds less than
    the budget again. In a fresh interpreter: a worker forked from the test session inherits its
    freed heap, in which a big query can grow without its resident memory growing."""
    script = ("import json, sys; sys.path.insert(0, 'tests'); from test_query import recycling_journey; "
              f"print(json.dumps(recycling_journey({str(built.out_dir)!r})))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    first, budget = seen["first"], seen["budget"]
    assert seen["kept"] == [[first], [first]]  # under the budget: the same process answers again
    assert seen["grown"]["rows"] == 700 * 700
    assert seen["grown"]["memory"] > budget  # it grew past the budget ...
    assert seen["grown"]["idle"] == [] and not seen["grown"]["alive"]  # ... and was stopped, not kept idle
    (second,) = seen["next"]
    assert second != first
    assert seen["held"] <= budget


# ---------------------------------------------------------------- declared parameters, did-you-mean, one exit code


def test_every_declared_example_resolves_and_required_params_are_declared(store):
    from chuzhi_graph.sparql.questions import KINDS, LITERAL_KINDS, bind_params

    for q in shipped_queries():
        for spec in q.param_specs:
            assert spec.kind in KINDS or spec.kind in LITERAL_KINDS, (q.name, spec)
            assert spec.example and spec.help, (q.name, spec.name)
            assert f"?{spec.name}" in q.text, (q.name, spec.name)
        bound = bind_params(store, q, q.example_params())
        assert len(bound) == len(q.param_specs), q.name
    assert [p.required for p in shipped_queries()[0].param_specs] == []


def test_cli_required_parameter_missing_is_a_usage_error(built):
    result = invoke("query", "unit-profile", "--out", str(built.out_dir))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("Error: field --param unit: query unit-profile needs the parameter unit, a unit "
                             "(单位：名称、别名、标识或 IRI / unit: name, alias, identifier or IRI), "
                             "e.g. --param unit=华中科技大学\n")
    result = invoke("query", "domain-cases", "--param", "domain=", "--out", str(built.out_dir))
    assert result.exit_code == 2
    assert "needs the parameter domain, a domain" in result.stderr and "e.g. --param domain=城市治理" in result.stderr


def test_cli_alias_resolves_and_misspellings_get_suggestions(built, store):
    alias = cli_query(built, "unit-profile", "--param", "unit=华中科大", "--format", "tsv")
    assert alias.stdout == format_result(run_query(store, "unit-profile", {"unit": "unit:hust"}), "tsv")
    near = invoke("query", "unit-profile", "--param", "unit=华中科技大", "--out", str(built.out_dir))
    assert near.exit_code == 2
    assert near.stderr == ("Error: field --param unit: no chz:Unit is called '华中科技大' (give a name, alias, "
                           "identifier or IRI); did you mean 华中科技大学, 华中科技大学计算机学院 or "
                           "华中科技大学网络空间安全学院?\n")
    domain = invoke("query", "domain-cases", "--param", "domain=城市治", "--out", str(built.out_dir))
    assert domain.stderr.endswith("; did you mean 城市治理?\n")
    name = invoke("query", "units-with-several-case", "--out", str(built.out_dir))
    assert (name.exit_code, name.stderr) == (
        2, "Error: unknown query 'units-with-several-case'; did you mean units-with-several-cases? (see --list)\n")
    var = invoke("query", "unit-profile", "--param", "unti=华中科大", "--out", str(built.out_dir))
    assert var.stderr == ("Error: field --param unti: the query has no variable ?unti to bind "
                          "(its parameters: unit); did you mean unit?\n")


def test_select_star_keeps_the_order_of_the_query(built, store):
    text = "SELECT * WHERE { ?s a chz:Case ; chz:domain ?o . BIND(1 AS ?n) } ORDER BY ?s ?o LIMIT 3"
    result = run_query(store, text)
    assert result.variables == ["s", "o", "n"]
    raw = store.query(text, prefixes=query_prefixes())
    assert [v.value for v in raw.variables] == ["n", "o", "s"]  # what pyoxigraph gives
    assert [row[0].value for row in result.rows] == [s["s"].value for s in store.query(text, prefixes=query_prefixes())]
    worker = run_query(open_store(built.out_dir), text, timeout=30)
    assert (worker.variables, worker.rows) == (result.variables, result.rows)
    assert cli_query(built, text, "--format", "csv", "--no-bom").stdout.splitlines()[0] == "s,o,n"
    distinct = run_query(store, "SELECT DISTINCT * { ?c chz:leadApplicant ?u ; a ?t } LIMIT 1")
    assert distinct.variables == ["c", "u", "t"]


def test_one_default_timeout():
    from chuzhi_graph import cli as cli_module
    from chuzhi_graph.sparql.query import DEFAULT_TIMEOUT
    from chuzhi_graph.sparql.serve import ServeConfig

    assert cli_module.DEFAULT_TIMEOUT == DEFAULT_TIMEOUT == ServeConfig().timeout == 60.0
    for command in ("query", "serve"):
        assert "[default: 60.0; x>0]" in " ".join(invoke(command, "--help").output.split())


@pytest.mark.parametrize("args", [
    ("query", "cases-per-domain", "--out"),
    ("serve", "--port", "0", "--out"),
    ("push", "--endpoint", "http://127.0.0.1:9/store", "--out"),
    ("render", "institutions", "--graph"),
    ("stats", "institutions", "--graph"),
])
def test_not_built_is_exit_3_everywhere(tmp_path, args):
    result = invoke(*args, str(tmp_path))
    assert result.exit_code == 3, result.stderr
    assert result.stderr.startswith(f"Error: {tmp_path}: ") and "run `chuzhi-graph build` first" in result.stderr


def test_completion_over_names_and_aliases(store):
    from chuzhi_graph.sparql.questions import complete, example_params

    found = complete(store, "unit", "华中科大")
    assert found[0] == {"iri": UNIT + "hust", "label": "华中科技大学", "match": "华中科大"}
    prefix = complete(store, "unit", "华中科技大学")
    assert prefix[0]["iri"] == UNIT + "hust"
    assert {f["iri"] for f in prefix} >= {UNIT + "hust-cse", UNIT + "hust-computer-school"}
    city = complete(store, "domain", "城市")
    assert {"iri": "https://w3id.org/chuzhi/domain/urban-governance", "label": "城市治理", "match": "城市治理"} in city
    assert {"iri": "https://w3id.org/chuzhi/domain/urban-transport", "label": "城市交通", "match": "城市交通"} in city
    with pytest.raises(QueryError, match="unknown parameter kind 'nope'"):
        complete(store, "nope", "x")
    q = next(q for q in shipped_queries() if q.name == "unit-profile")
    assert example_params(store, q) == {"unit": "华中科技大学"}
    empty = ox.Store()
    empty.add(ox.Quad(ox.NamedNode(UNIT + "x"), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                      ox.NamedNode("https://w3id.org/chuzhi/def#Unit")))
    empty.add(ox.Quad(ox.NamedNode(UNIT + "x"), ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
                      ox.Literal("某单位", language="zh")))
    assert example_params(empty, q) == {"unit": f"<{UNIT}x>"}  # the example is not in these data
