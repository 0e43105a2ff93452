"""Tests of chuzhi_graph.release.reader: one object for a built graph, each part loaded once."""

from __future__ import annotations

import os
import shutil
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

import chuzhi_graph
from chuzhi_graph import formats
from chuzhi_graph.core.namespace import DEFAULT_BASE
from chuzhi_graph.errors import DataError, NotBuiltError
from chuzhi_graph.release.reader import Release, find_dump, format_of, graph_iri


def test_one_suffix_registry_covers_every_dump_the_tools_write(built) -> None:
    suffixes = [s for f in formats.of("dump") for s in f.suffixes]
    assert len(set(suffixes)) == len(suffixes)
    for path in built.files.values():
        assert format_of(path).media_type.startswith(("text/", "application/"))
    with pytest.raises(DataError, match=r"unknown RDF format '\.xyz'"):
        format_of("graph.xyz")


def test_opens_a_build_folder_a_dump_and_a_published_site(built, tmp_path: Path) -> None:
    folder = built.out_dir
    assert find_dump(folder) == Path(os.path.realpath(folder / "current")) / "chuzhi.nt"  # current, resolved once
    assert Release.open(folder / "chuzhi.ttl").format.name == "ttl"
    site = tmp_path / "site"
    (site / "dataset").mkdir(parents=True)
    shutil.copy2(folder / "chuzhi.nt", site / "dataset" / "chuzhi.nt")
    assert Release.open(site).dump == site / "dataset" / "chuzhi.nt"
    with pytest.raises(NotBuiltError) as err:
        Release.open(tmp_path / "missing")
    assert str(err.value) == (f"{tmp_path / 'missing'}: no built graph here: the path does not exist "
                              "(run `chuzhi-graph build` first)")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotBuiltError) as err:
        Release.open(tmp_path / "empty")
    assert str(err.value) == (f"{tmp_path / 'empty'}: no built graph here: run `chuzhi-graph build` first "
                              "(looked for chuzhi.nt, chuzhi.ttl, chuzhi.trig or chuzhi.jsonld in the folder "
                              "and in its dataset/)")


def test_every_part_is_loaded_once(built) -> None:
    release = chuzhi_graph.open(built.out_dir)
    assert release.loads == {}
    triples = release.triples()
    assert len(triples) == built.triples
    for _ in range(2):
        graph = release.graph()
        store = release.store()
        layout = release.layout()
        release.description()
    assert len(graph) == built.triples and len(store) == built.triples
    assert sum(len(ts) for ts in layout.values()) == built.triples
    assert release.loads == {"parse": 1, "rdflib": 1, "store": 1, "layout": 1, "description": 1}
    assert isomorphic(graph, Graph().parse(built.files["ttl"], format="turtle"))


def test_trig_and_push_use_the_same_named_graphs(built, tmp_path: Path) -> None:
    """The TriG dump of publish and what push sends (its HTTP PUTs, captured) are one layout."""
    from chuzhi_graph.release import remote
    from chuzhi_graph.site.publish import write_trig

    release = Release.open(built.out_dir)
    trig = tmp_path / "chuzhi.trig"
    write_trig(release.layout(), trig, {})
    ds = Dataset()
    ds.parse(trig, format="trig")
    in_trig = {str(g.identifier): len(g) for g in ds.graphs() if len(g)}
    editions = ("bigdata-2022", "poverty-alleviation-2020", "social-governance-2020", "social-governance-2022",
                "social-governance-2023")
    names = ("shared", "vocabulary", *(f"edition/{e}" for e in editions))
    assert set(in_trig) == {graph_iri(DEFAULT_BASE, p) for p in names}

    sent: dict[str, int] = {}

    class GraphStore(BaseHTTPRequestHandler):  # the store's side of the Graph Store Protocol: PUT, GET (none)
        def do_GET(self) -> None:  # the manifest of earlier pushes: an empty store has none
            self.send_response(404)
            self.end_headers()

        def do_PUT(self) -> None:
            graph = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["graph"][0]
            body = self.rfile.read(int(self.headers["Content-Length"]))
            sent[graph] = len(list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), GraphStore)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        pushed = remote.push(built.out_dir, f"http://127.0.0.1:{server.server_port}/store", check=False)
    finally:
        server.shutdown()
        server.server_close()
    assert sent.pop(graph_iri(DEFAULT_BASE, "manifest")) == 1 + 2 * len(in_trig)  # status, graphs, counts
    assert sent == in_trig
    assert {p.graph: p.triples for p in pushed} == in_trig
    assert sum(in_trig.values()) == built.triples


def test_notebook_api_rows_dataframe_and_views(built) -> None:
    release = chuzhi_graph.open(built.out_dir)
    table = release.query("units-with-several-cases")
    assert table.variables == ["unit", "unitLabel", "directCases", "allCases"]
    rows = list(table)
    hust = next(r for r in rows if r["unitLabel"] == "华中科技大学")
    assert hust == {"unit": f"{DEFAULT_BASE}unit/hust", "unitLabel": "华中科技大学", "directCases": 0, "allCases": 2}
    profile = release.query("unit-profile", unit="华中科技大学")
    assert len(profile) > 3
    inline = release.query("SELECT (COUNT(*) AS ?n) WHERE { ?c a chz:Case }")
    assert inline[0] == {"n": 30}  # 27 of 2022 big data and 3 winners named in prose
    frame = table.to_pandas()
    assert list(frame.columns) == table.variables and len(frame) == len(table)
    assert int(frame.loc[frame.unitLabel == "国网湖北省电力有限公司", "directCases"].iloc[0]) == 2
    view = release.view("institutions", edition="2022")
    assert view.nodes[f"{DEFAULT_BASE}unit/state-grid-hubei"]["label"] == "国网湖北省电力有限公司"
    assert release.loads == {"store": 1}  # the store straight from the file, once; no Python triples


def test_a_broken_dump_is_a_one_line_error(tmp_path: Path) -> None:
    dump = tmp_path / "chuzhi.nt"
    dump.write_text("<a> <b> .\n", encoding="utf-8")
    with pytest.raises(DataError, match="cannot parse the graph dump"):
        Release.open(dump).triples()
