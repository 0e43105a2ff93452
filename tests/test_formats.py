"""The format registry (chuzhi_graph.formats) is the one list: a format added there is a choice of the
command line, a format ``serve`` negotiates, and what the library writes; views likewise."""

from __future__ import annotations

import ast
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from servers import serving

from chuzhi_graph import formats
from chuzhi_graph.cli import cli
from chuzhi_graph.sparql.protocol import choose
from chuzhi_graph.sparql.results import QueryResult, format_result
from chuzhi_graph.sparql.serve import ServeConfig

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "chuzhi_graph"


def markdown(result: QueryResult, fmt: formats.Format, base: str, *,  # noqa: ARG001 (a registry writer)
             escape: bool = False) -> str:  # noqa: ARG001
    """A writer of a new format: a Markdown table."""
    rows = ["| " + " | ".join(result.variables) + " |", "|" + "---|" * len(result.variables)]
    rows += ["| " + " | ".join("" if t is None else t.value for t in row) + " |" for row in result.rows]  # type: ignore[union-attr]
    return "\n".join(rows) + "\n"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> list[formats.Format]:
    """A temporary copy of the registry, which the test may extend."""
    copy = list(formats.REGISTRY)
    monkeypatch.setattr(formats, "REGISTRY", copy)
    return copy


@pytest.fixture
def with_markdown(registry: list[formats.Format]) -> formats.Format:  # noqa: ARG001 (its copy is extended)
    return formats.register(formats.Format("result", "md", (".md",), "text/markdown", markdown, negotiable=True))


@pytest.mark.usefixtures("with_markdown")
def test_a_new_result_format_is_a_choice_a_writer_and_negotiated() -> None:
    help_text = CliRunner().invoke(cli, ["query", "--help"]).stdout
    assert "table|csv|tsv|json|xml|md|turtle|nt|rdfxml|jsonld|n3" in help_text.replace("\n", "").replace(" ", "")
    assert choose("text/markdown, application/json;q=0.5", "select") == "md"
    assert choose("", "select", ["md"]) == "md"
    assert choose("text/markdown", "graph") is None  # a format of SELECT results, not of graphs: 406
    result = QueryResult("select", ["n"], [(ox.Literal("楚治"),)])
    assert format_result(result, "md") == "| n |\n|---|\n| 楚治 |\n"


def test_without_the_entry_it_is_none_of_these(registry: list[formats.Format]) -> None:
    """The check above can fail: the same questions without the entry."""
    assert registry == formats.REGISTRY
    assert "md" not in CliRunner().invoke(cli, ["query", "--help"]).stdout
    assert choose("text/markdown, application/json;q=0.5", "select") == "json"
    assert choose("text/markdown", "select") is None
    result = CliRunner().invoke(cli, ["query", "--format", "md", "ask {}"])
    assert result.exit_code == 2 and "'md' is not one of" in result.stderr


@pytest.mark.usefixtures("with_markdown")
def test_query_and_serve_write_the_new_format(built) -> None:
    answer = CliRunner().invoke(cli, ["query", "units-with-several-cases", "--format", "md", "-g", str(built.out_dir)])
    assert answer.exit_code == 0, answer.stderr
    assert answer.stdout.startswith("| unit | unitLabel | directCases | allCases |\n|---|---|---|---|\n")
    with serving(built.out_dir, ServeConfig(timeout=5.0)) as server:
        query = urllib.parse.urlencode({"query": "SELECT ?n WHERE { VALUES ?n { '楚治' } }"})
        for url, headers in ((f"/sparql?{query}", {"Accept": "text/markdown"}), (f"/sparql?{query}&format=md", {})):
            request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}{url}", headers=headers)
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
                assert response.read().decode("utf-8") == "| n |\n|---|\n| 楚治 |\n"


def test_a_dump_format_with_a_writer_is_built_and_described(
        registry: list[formats.Format], tmp_path: Path) -> None:  # noqa: ARG001 (its copy is extended)
    from chuzhi_graph.build import build

    rdf = formats.lookup("dump", "rdf")
    assert rdf is not None and rdf.writer is None  # read only, until a writer is registered
    formats.register(formats.Format("dump", "rdf", rdf.suffixes, rdf.media_type, rdf_xml, engine=rdf.engine))
    result = build("data", tmp_path, validate=False, store=False)
    assert sorted(result.files) == ["context", "jsonld", "nt", "rdf", "record", "ttl", "void"]
    written = ox.parse(path=str(tmp_path / "chuzhi.rdf"), format=ox.RdfFormat.RDF_XML)
    assert sum(1 for _ in written) == result.triples
    void = (tmp_path / "void.ttl").read_text(encoding="utf-8")
    assert "media-types/application/rdf+xml" in void


def rdf_xml(writing, path: Path) -> None:
    ox.serialize(writing.mapped.triples, str(path), ox.RdfFormat.RDF_XML)


def test_a_new_view_is_a_choice_of_render_and_stats(monkeypatch: pytest.MonkeyPatch) -> None:
    from chuzhi_graph.views import graphs

    monkeypatch.setitem(graphs.VIEW_BUILDERS, "regions", graphs.VIEW_BUILDERS["domains"])
    for command in ("render", "stats"):
        usage = CliRunner().invoke(cli, [command, "--help"]).stdout.splitlines()[0]
        assert "|regions" in usage, usage
    assert "|regions|map}" in CliRunner().invoke(cli, ["render", "--help"]).stdout


def lists_of_formats(source: str) -> list[str]:
    """Assignments in ``source`` whose value names three media types of the registry, or three names of
    query-result formats (keys, values and nested tuples alike: a table such as ``{"json": ("application/
    sparql-results+json", ...), ...}`` counts as one list)."""
    media = {m for f in formats.REGISTRY for m in (f.media_type, *f.accept)}
    results = set(formats.names("result", "result-graph"))
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        strings = {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
        hits = sorted(strings & media) if len(strings & media) >= 3 else sorted(strings & results)
        if len(hits) >= 3:
            found.append(f"{node.lineno} {hits}")
    return found


def test_each_list_of_formats_is_defined_once() -> None:
    """No module but formats.py assigns a table of format names or media types."""
    found = [f"{path.relative_to(PACKAGE)}:{hit}" for path in sorted(PACKAGE.rglob("*.py")) if path.name != "formats.py"
             for hit in lists_of_formats(path.read_text(encoding="utf-8"))]
    assert found == []


def test_the_check_finds_a_second_table() -> None:
    """The check above can fail: the negotiation table main had before it read the registry is found."""
    old = '''MEDIA = {"json": ("application/sparql-results+json", ("select", "ask")),
         "csv": ("text/csv", ("select", "ask")), "turtle": ("text/turtle", ("graph",))}
PARAM_VALUES = {"select": {"json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv"}}
FORMATS = ("table", "csv", "tsv", "json", "xml")
STATIC = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
'''
    assert [hit.split()[0] for hit in lists_of_formats(old)] == ["1", "3", "4"]
