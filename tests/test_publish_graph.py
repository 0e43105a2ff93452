"""`publish -g OUT`: the site of a built graph, without the records; refused when the build is not
what publishing its records would publish (docs/publish.md, "Publishing a build")."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from chuzhi_graph.build import build
from chuzhi_graph.cli import cli
from chuzhi_graph.core.dump import read_build_record
from chuzhi_graph.core.fileio import current_build
from chuzhi_graph.errors import StaleBuildError
from chuzhi_graph.site.publish import PublishResult, publish

ROOT = Path(__file__).resolve().parents[1]


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes); folders alone do not count."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_built_graph_publishes_the_same_site_as_its_records_with_the_records_gone(
        tmp_path: Path, data_copy: Path, published: PublishResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no data/ here either: nothing can fall back to ./data
    from_data = published  # publish(data/) of the shipped records: the run's shared one (conftest)
    build(data_copy, tmp_path / "out")
    shutil.rmtree(data_copy)
    assert not data_copy.exists() and not (tmp_path / "data").exists()

    from_graph = publish(out_dir=tmp_path / "from-graph", graph=tmp_path / "out")

    by_data, by_graph = tree(from_data.site), tree(from_graph.site)
    assert len(by_data) > 200
    assert sorted(by_graph) == sorted(by_data)
    assert [name for name in by_data if by_data[name] != by_graph[name]] == []  # byte for byte, no exception
    assert from_graph.triples == from_data.triples and from_graph.pages == from_data.pages
    assert from_graph.loads == {"parse": 1, "layout": 1, "store": 1}
    # the manifest's sources are the record files the build read, hashed when it read them
    record = read_build_record(tmp_path / "out")
    assert json.loads(by_graph["dataset/manifest.json"])["sources"] == record.sources
    assert record.sources["data/cases.csv"] == hashlib.sha256((ROOT / "data" / "cases.csv").read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped data built once (compiled shapes: quick); tests copy it before changing it."""
    folder = tmp_path_factory.mktemp("graph")
    shutil.copytree(ROOT / "data", folder / "data")
    build(folder / "data", folder / "out", validate="compiled", store=False)
    return folder


def copy_of(out: Path, tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(out / "data", tmp_path / "data")
    shutil.copytree(out / "out", tmp_path / "out", symlinks=True)
    return tmp_path / "data", tmp_path / "out"


def refused(tmp_path: Path, *args: str) -> tuple[int, str, Path]:
    """Run ``publish ARGS --output-dir SITE`` over an earlier site; the exit code, stderr, the site."""
    site = tmp_path / "site"
    (site / "dataset").mkdir(parents=True, exist_ok=True)
    (site / "dataset" / "manifest.json").write_text("{}\n", encoding="utf-8")  # an earlier site, to be kept
    result = CliRunner().invoke(cli, ["publish", *args, "--output-dir", str(site)])
    assert tree(site) == {"dataset/manifest.json": b"{}\n"}, "the earlier site is untouched"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [], "no staging left"
    return result.exit_code, result.stderr, site


def test_a_missing_graph_is_refused_naming_the_folder(tmp_path: Path) -> None:
    code, stderr, _ = refused(tmp_path, "-g", str(tmp_path / "nothing"))
    assert (code, stderr) == (3, f"Error: {tmp_path / 'nothing'}: no built graph here: the path does not exist "
                                 "(run `chuzhi-graph build` first)\n")


def test_a_build_of_other_records_is_refused_when_the_records_are_given(out: Path, tmp_path: Path) -> None:
    data, graph = copy_of(out, tmp_path)
    cases = data / "cases.csv"
    cases.write_text(cases.read_text(encoding="utf-8").replace("武昌区打造", "武昌区"), encoding="utf-8")
    code, stderr, _ = refused(tmp_path, "--data", str(data), "-g", str(graph))
    assert (code, stderr) == (3, f"Error: {graph}: stale: {data / 'cases.csv'} changed since the build: "
                                 "run `chuzhi-graph build` again\n")
    (data / "sources" / "README.md").unlink()
    cases.write_bytes((out / "data" / "cases.csv").read_bytes())
    code, stderr, _ = refused(tmp_path, "--data", str(data), "-g", str(graph))
    assert (code, stderr) == (3, f"Error: {graph}: stale: {data / 'sources' / 'README.md'} was removed since the "
                                 "build: run `chuzhi-graph build` again\n")


def test_builds_that_are_not_a_release_are_refused(out: Path, tmp_path: Path) -> None:
    data, graph = copy_of(out, tmp_path)
    folder = current_build(graph)
    assert folder is not None
    nt = folder / "chuzhi.nt"
    nt.write_bytes(nt.read_bytes().replace("武昌区".encode(), "汉阳区".encode()))  # the dump changed after the build
    code, stderr, _ = refused(tmp_path, "-g", str(graph))
    assert (code, stderr) == (3, f"Error: {folder}: chuzhi.nt is not the file the build wrote (its SHA-256 is not "
                                 "the one in build.json): run `chuzhi-graph build` again\n")
    (folder / "build.json").unlink()  # a build by an earlier version
    code, stderr, _ = refused(tmp_path, "-g", str(graph))
    assert (code, stderr) == (3, f"Error: {graph}: no build.json beside the dump: not made by `chuzhi-graph build` "
                                 "of this version (run it again)\n")
    build(data, graph, validate=False, store=False)
    code, stderr, _ = refused(tmp_path, "-g", str(graph))
    assert (code, stderr) == (3, f"Error: {graph}: built with --no-validate, and only a validated graph is "
                                 "published: run `chuzhi-graph build` again\n")


def test_another_base_or_date_than_the_builds_is_a_usage_error(out: Path, tmp_path: Path) -> None:
    graph = out / "out"
    code, stderr, _ = refused(tmp_path, "-g", str(graph), "--base", "https://example.org/chuzhi/")
    assert (code, stderr) == (2, f"Error: field --base: {graph} was built with the base IRI https://w3id.org/chuzhi/, "
                                 "not https://example.org/chuzhi/ (give that --base, or build again)\n")
    code, stderr, _ = refused(tmp_path, "-g", str(graph), "--created", "2024-01-01")
    assert (code, stderr) == (2, f"Error: field --created: {graph} was built with --created (none), not 2024-01-01: "
                                 "the dataset description holds the date (give --created to build)\n")


def test_a_changed_ontology_makes_the_build_stale(out: Path, tmp_path: Path) -> None:
    onto = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", onto)
    (onto / "tracks.ttl").write_text((onto / "tracks.ttl").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(StaleBuildError) as caught:
        publish(out_dir=tmp_path / "site", graph=out / "out", ontology_dir_=onto)
    assert str(caught.value) == (f"{out / 'out'}: stale: {onto / 'tracks.ttl'} changed since the build: "
                                 "run `chuzhi-graph build` again")
    assert not (tmp_path / "site").exists()
