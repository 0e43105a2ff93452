"""Tests of chuzhi_graph.release.diff: release differences grouped by resource."""

from __future__ import annotations

import csv
import functools
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic, to_canonical_graph

from chuzhi_graph.cli import cli
from chuzhi_graph.core.namespace import CHZ, DEFAULT_BASE
from chuzhi_graph.errors import DataError, UsageError
from chuzhi_graph.release.diff import CS, diff_graphs, diff_releases, format_diff, load_release

DCT_TITLE = URIRef("http://purl.org/dc/terms/title")
RDFS_LABEL = URIRef("http://www.w3.org/2000/01/rdf-schema#label")
NEW_TITLE = "武昌区“平安指数”赋能基层治理（修订）"


@functools.cache
def _release(path: str) -> Graph:
    return load_release(path)


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        writer.writerows(rows)


def _edit(data: Path) -> tuple[dict[str, str], str, str]:
    """Change the first single-applicant case's title and add a co-applicant to it.

    The co-applicant is the first applicant unit of another case that has never applied
    together with the case's lead unit. Returns (old case row, lead unit name, added unit name).
    """
    fields, cases = _rows(data / "cases.csv")
    case = next(c for c in cases if "|" not in c["applicants"])
    lead = case["applicants"]
    partners = {u for c in cases if lead in c["applicants"].split("|") for u in c["applicants"].split("|")}
    added = next(c["applicants"].split("|")[0] for c in cases if c["applicants"].split("|")[0] not in partners)
    old = dict(case)
    case["title_zh"] = NEW_TITLE
    case["applicants"] = f"{lead}|{added}"
    _write(data / "cases.csv", fields, cases)
    return old, lead, added


def _unit_iri(data: Path, name: str) -> URIRef:
    _, units = _rows(data / "units.csv")
    unit = next(u for u in units if u["name_zh"] == name)
    return URIRef(f"{DEFAULT_BASE}unit/{unit['id']}")


def _has_bnode(t: tuple) -> bool:
    return any(isinstance(x, BNode) for x in t)


def test_title_change_and_co_applicant_show_exactly_those_triples(built, data_copy: Path) -> None:
    old_row, lead_name, added_name = _edit(data_copy)
    case = URIRef(f"{DEFAULT_BASE}case/{old_row['id']}")
    lead, added = _unit_iri(data_copy, lead_name), _unit_iri(data_copy, added_name)
    old = load_release(built.files["nt"])
    new = load_release(data_copy)

    d = diff_graphs(old, new)

    old_title = Literal(old_row["title_zh"], lang="zh")
    new_title = Literal(NEW_TITLE, lang="zh")
    # the build's summaries (chuzhi_graph.graph.summary) follow the new applicant: its region (江汉区, where
    # the case had no applicant yet; the lead is in 武汉市 already) has one more case
    _, units = _rows(data_copy / "units.csv")
    region = URIRef(f"{DEFAULT_BASE}region/" + next(u["region"] for u in units if u["name_zh"] == added_name))
    counts = {CHZ.winningCaseCount, CHZ.directCaseCount}
    before = {p: int(o) for s, p, o in d.removed if p in counts and s == region}
    assert {(s, p) for s, p, _ in d.removed if p in counts} == {(region, p) for p in counts}
    assert {t for t in d.added if t[1] in counts} == {
        (region, p, Literal(str(n + 1), datatype=XSD.positiveInteger)) for p, n in before.items()}
    assert {t for t in d.removed if not _has_bnode(t) and t[1] not in counts} == {
        (case, DCT_TITLE, old_title), (case, RDFS_LABEL, old_title)}
    assert {t for t in d.added if not _has_bnode(t) and t[1] not in counts} == {
        (case, DCT_TITLE, new_title), (case, RDFS_LABEL, new_title),
        (case, CHZ.applicant, added),
        # chz:coApplicant is materialised in both directions
        (lead, CHZ.coApplicant, added), (added, CHZ.coApplicant, lead),
    }
    # The applicant list is blank nodes: the diff is a patch of the case's list that turns
    # the old list (lead) into the new one (lead, added).
    # the case's blank-node triples: its applicant list, as the diff compares them
    old_case_list = Graph()
    stack: list = [case]
    while stack:
        for t in old.triples((stack.pop(), None, None)):
            if _has_bnode(t):
                old_case_list.add(t)
                stack.append(t[2])
    patched = Graph() + to_canonical_graph(old_case_list)  # the labels graph_diff reports
    for t in d.removed:
        if _has_bnode(t):
            assert t in patched
            patched.remove(t)
    for t in d.added:
        if _has_bnode(t):
            patched.add(t)
    expected = Graph()
    head = BNode()
    expected.add((case, CHZ.applicantList, head))
    Collection(expected, head, [lead, added])
    assert isomorphic(patched, expected)
    assert list(Collection(new, new.value(case, CHZ.applicantList))) == [lead, added]

    # grouped by resource, with Chinese labels, and the summary line
    assert {(c.iri, c.status) for c in d.changes} == {(str(case), "changed"), (str(lead), "changed"),
                                                      (str(added), "changed"), (str(region), "changed")}
    by_iri = {c.iri: c for c in d.changes}
    assert by_iri[str(case)].label == NEW_TITLE
    assert by_iri[str(lead)].label == lead_name
    assert all(_has_bnode(t) or t[0] == case for c in [by_iri[str(case)]] for t in c.added + c.removed)
    n_add, n_rem = len(d.added), len(d.removed)
    assert d.summary() == (f"cases: 0 added, 0 removed, 1 changed; units: 0 added, 0 removed, 2 changed; "
                           f"triples: +{n_add} -{n_rem}")


def test_blank_node_labels_do_not_matter(built) -> None:
    ttl = load_release(built.files["ttl"])
    nt = load_release(built.files["nt"])
    jsonld = load_release(built.files["jsonld"])
    assert {b for b in ttl.all_nodes() if isinstance(b, BNode)} != {b for b in jsonld.all_nodes()
                                                                    if isinstance(b, BNode)}
    for a, b in ((ttl, nt), (nt, jsonld)):
        d = diff_graphs(a, b)
        assert (d.added, d.removed, d.changes) == ([], [], [])
        assert d.unchanged == built.triples


def test_added_and_removed_cases(built, data_copy: Path) -> None:
    fields, cases = _rows(data_copy / "cases.csv")
    gone = cases.pop()
    _write(data_copy / "cases.csv", fields, cases)
    d = diff_releases(built.files["nt"], data_copy)
    assert d.counts("case") == {"added": 0, "removed": 1, "changed": 0}
    removed = next(c for c in d.changes if c.kind == "case")
    assert removed.iri.endswith(gone["id"]) and removed.label == gone["title_zh"] and not removed.added
    d2 = diff_releases(data_copy, built.files["nt"])
    assert d2.counts("case") == {"added": 1, "removed": 0, "changed": 0}
    assert len(d2.added) == len(d.removed) and len(d2.removed) == len(d.added)


def test_formats(built, data_copy: Path) -> None:
    _edit(data_copy)
    d = diff_releases(built.files["nt"], data_copy)
    text = format_diff(d, "text")
    assert text.splitlines()[-1] == d.summary()
    assert f'dct:title "{NEW_TITLE}"@zh' in text
    doc = json.loads(format_diff(d, "json"))
    assert doc["summary"] == d.summary()
    assert doc["counts"]["triples"]["added"] == len(d.added)
    assert sum(len(r["added"]) for r in doc["resources"]) == len(d.added)
    g = Graph().parse(data=format_diff(d, "turtle"), format="turtle")
    assert len(list(g.subjects(RDF.type, CS.ChangeSet))) == len(d.changes)
    assert len(list(g.objects(None, CS.addition))) == len(d.added)
    assert len(list(g.objects(None, CS.removal))) == len(d.removed)
    with pytest.raises(UsageError, match="unknown diff format 'xml'"):
        format_diff(d, "xml")


def test_git_revisions(tmp_path: Path, root: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copytree(root / "data", repo / "data")
    shutil.copytree(root / "ontology", repo / "ontology")

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                       check=True, capture_output=True)

    git("init", "-q")
    git("add", "data", "ontology")
    git("commit", "-q", "-m", "one")
    _edit(repo / "data")
    git("commit", "-q", "-am", "two")
    d = diff_releases("HEAD~1", "HEAD", repo=repo)
    assert d.counts("case") == {"added": 0, "removed": 0, "changed": 1}
    assert d.counts("unit") == {"added": 0, "removed": 0, "changed": 2}
    same = diff_releases("HEAD", repo / "data", repo=repo)
    assert same.changes == []
    with pytest.raises(DataError, match="not a file, folder or git revision: 'no-such-rev'"):
        load_release("no-such-rev", repo=repo)


def test_cli(built, data_copy: Path) -> None:
    _edit(data_copy)
    runner = CliRunner()
    result = runner.invoke(cli, ["diff", str(built.files["nt"]), str(data_copy)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("cases: 0 added, 0 removed, 1 changed; units: 0 added")
    result = runner.invoke(cli, ["diff", str(built.files["nt"]), str(data_copy), "--format", "json"])
    assert json.loads(result.stdout)["counts"]["cases"]["changed"] == 1
    result = runner.invoke(cli, ["diff", str(built.files["nt"]), "/no/such/release"])
    assert result.exit_code == 3
    assert result.stderr == "Error: field release: not a file, folder or git revision: '/no/such/release'\n"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40))
def test_any_new_title_is_one_literal_change(built, title: str) -> None:
    old = _release(str(built.files["nt"]))  # read once: the examples change only their copy
    case = next(iter(sorted(old.subjects(RDF.type, CHZ.Case))))
    new = Graph()
    new += old
    old_title = old.value(case, DCT_TITLE)
    new.remove((case, DCT_TITLE, None))
    new.add((case, DCT_TITLE, Literal(title, lang="zh")))
    d = diff_graphs(old, new)
    if Literal(title, lang="zh") == old_title:
        assert d.changes == []
    else:
        assert d.removed == [(case, DCT_TITLE, old_title)]
        assert d.added == [(case, DCT_TITLE, Literal(title, lang="zh"))]
        assert [c.iri for c in d.changes] == [str(case)]
