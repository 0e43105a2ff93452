"""Publishing at scale: the resource pages written by forked workers while the parent writes
the rest of the site give the same bytes as one process, and a failing worker fails the
publish with a one-line error that leaves the previous site in place."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import chuzhi_graph.build as build_mod
import chuzhi_graph.site.publish as publish_mod
from chuzhi_graph.cli import cli
from chuzhi_graph.records.synth import generate
from chuzhi_graph.site.publish import publish


def _digest(site: Path) -> dict[str, str]:
    return {p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module", autouse=True)
def compiled_validation() -> Iterator[None]:
    """The pages are this module's subject: its builds validate with the compiled shapes, not pySHACL with
    RDFS inference on 8,500 triples per publish (tests/test_scale.py: both write the same bytes)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(build_mod, "SHACL_MAX_TRIPLES", 0)
        yield


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scale") / "data"
    generate(folder, cases=300, editions=3, seed=1)
    return folder


@pytest.fixture(scope="module")
def one(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site written in one process (300 cases: about 900 pages, under PARALLEL_PAGES)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1767225600")
        site = tmp_path_factory.mktemp("one") / "site"
        assert publish(corpus, site).pages > 800
    return site


def test_parallel_pages_give_the_same_bytes_as_one_process(corpus: Path, one: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    monkeypatch.setattr(publish_mod, "PARALLEL_PAGES", 10)  # so forked workers write the pages
    monkeypatch.setattr(publish_mod.os, "cpu_count", lambda: 2)
    many = publish(corpus, tmp_path / "many")
    a, b = _digest(one), _digest(tmp_path / "many")
    assert len(a) > 2 * many.pages
    assert a == b
    # the dataset's page Turtle is the description, not the resource page's (written after the workers)
    assert (tmp_path / "many" / "dataset.ttl").read_bytes() == (tmp_path / "many" / "dataset" / "void.ttl").read_bytes()


def test_a_failing_page_worker_fails_the_publish_and_keeps_the_old_site(corpus: Path, one: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "site"
    shutil.copytree(one, target)
    before = _digest(target)
    real = publish_mod._write_pages

    def broken(site, out, common, iris):  # the signature of _write_pages
        if any("/unit/" in iri for iri in iris):
            raise OSError(28, "No space left on device")
        return real(site, out, common, iris)

    monkeypatch.setattr(publish_mod, "PARALLEL_PAGES", 10)
    monkeypatch.setattr(publish_mod.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(publish_mod, "_write_pages", broken)
    result = CliRunner().invoke(cli, ["publish", "--data", str(corpus), "--output-dir", str(target)])
    assert result.exit_code == 6, result.output
    # one error line, the last; before it only the finished phases' lines (stderr is not a terminal)
    assert [line for line in result.output.splitlines() if not re.fullmatch(r"[^:]+: \d+\.\d\d s(, .*)?", line)] == [
        result.output.splitlines()[-1]], result.output
    assert "writing the resource pages failed: OSError: [Errno 28] No space left on device" in result.output
    assert _digest(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no staging folder left


def test_over_budget_queries_and_views_are_listed_not_run_and_the_release_goes_on(corpus: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from bs4 import BeautifulSoup

    import chuzhi_graph.views.graphs
    import chuzhi_graph.views.render

    monkeypatch.setattr(publish_mod, "QUERY_BUDGET", 0.001)  # every query is stopped at once
    # a cases view over the limit (it has every case) is neither drawn nor built
    monkeypatch.setattr(chuzhi_graph.views.render, "MAIN_VIEW_LIMIT", 299)
    built, real_build = [], chuzhi_graph.views.graphs.build_view
    monkeypatch.setattr(chuzhi_graph.views.graphs, "build_view",
                        lambda store, view, **kw: built.append(view) or real_build(store, view, **kw))
    site = publish(corpus, tmp_path / "site").site
    assert built == ["institutions", "domains"]
    cards = BeautifulSoup((site / "graphs.html").read_text(encoding="utf-8"), "html.parser")
    assert cards.select_one("#cases .more .i18n-en").get_text() == (
        "More than 299 nodes: not drawn; draw it filtered with chuzhi-graph render --edition.")
    assert not (site / "graphs" / "cases.html").exists() and (site / "graphs" / "domains.html").is_file()
    page = BeautifulSoup((site / "queries" / "edition-diff.html").read_text(encoding="utf-8"), "html.parser")
    note = page.select_one("p.more .i18n-en").get_text()
    assert note == ("This query did not finish within 0.001 s while the site was published, so its result is "
                    "not in the site. Run it on the command line:")
    command = page.select("pre")[-1].get_text()
    assert command.startswith("chuzhi-graph query edition-diff --param old=") and " --param new=" in command
    assert not (site / "queries" / "edition-diff.csv").exists()
    assert (site / "queries" / "edition-diff.rq").is_file()
    index = BeautifulSoup((site / "queries.html").read_text(encoding="utf-8"), "html.parser")
    assert "not run: over 0.001 s while publishing" in index.select_one("#cases-per-domain").get_text()
