"""The examples in the package's docstrings and in ``docs/api.md`` run and print what they show.

In the manner of oxigraph's python/tests/test_doc.py: each module's doctests, and the
examples of the notebook API page, run in a folder laid out like a clone after the main job
(``data/`` with the shipped tables, ``out/`` with the built graph), so that
``build("data", "out")`` or ``chuzhi_graph.open("out")`` in an example works as a reader would
type it. This is the one doctest runner (``.ci/run`` runs it with the rest of the suite).
"""

from __future__ import annotations

import doctest
import importlib
import io
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "chuzhi_graph"
DATA = ROOT / "data"
MODULES = sorted(".".join(p.relative_to(PACKAGE).with_suffix("").parts) for p in PACKAGE.rglob("*.py")
                 if p.stem != "__main__" and (p.parent == PACKAGE or p.stem != "__init__"))  # __main__ runs the CLI
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, built) -> Path:
    """``data/`` (a copy of the shipped tables) and ``out/`` (their build) in a fresh folder."""
    work = tmp_path_factory.mktemp("doctests")
    shutil.copytree(DATA, work / "data")
    shutil.copytree(built.out_dir, work / "out", symlinks=True)  # builds/, current and the links
    return work


def examples(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(f"chuzhi_graph.{name}")
    return [t for t in doctest.DocTestFinder().find(module, module.__name__) if t.examples]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = io.StringIO()
    for test in examples(name):
        runner.run(test, out=report.write)
    assert runner.failures == 0, report.getvalue()


def test_api_docs_examples(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    result = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False, optionflags=FLAGS)
    assert result.attempted > 20
    assert result.failed == 0


def test_the_package_has_examples() -> None:
    ran = sum(len(t.examples) for name in MODULES for t in examples(name))
    assert ran > 60


#: Modules whose examples may skip, and why; any other ``+SKIP`` fails the test below.
MAY_SKIP = {
    "release.remote": "needs a SPARQL store to push to",
    "sparql.serve": "serve_forever() blocks",
    "release.diff": "load_release('HEAD~1') needs a git clone",
    "site.publish": "writes a whole site (tests/test_publish.py builds one)",
    "sparql.query": "the run_query examples of 0.1; questions.py and results.py run theirs",
    "views.render": "draws whole views (tests/test_render.py)",
}


def test_only_examples_that_cannot_run_here_skip() -> None:
    skipping = sorted({name for name in MODULES for t in examples(name) for e in t.examples
                       if e.options.get(doctest.SKIP)})
    assert [name for name in skipping if name not in MAY_SKIP] == []
