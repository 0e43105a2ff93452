"""Shared fixtures: the repository paths and one build of the shipped data per test run."""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest
from chromium import launched
from hypothesis import settings

from chuzhi_graph.build import BuildResult, build

if TYPE_CHECKING:
    from chuzhi_graph.site.publish import PublishResult

# CI runs a fixed, reproducible set of examples (a red CI must be reproducible); locally
# hypothesis explores new examples on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
EXPECTED = Path(__file__).resolve().parent / "expected"
ARTEFACTS = Path(__file__).resolve().parent / "artefacts"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


T = TypeVar("T")


def made_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], T]) -> T:
    """``make(folder)`` run once per test run, not once per xdist worker: the first worker to ask
    makes it under a lock in the run's shared temporary folder; the others wait and reuse it (the
    result is pickled beside it). A session fixture alone is made again in every worker."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # pytest-of-user/pytest-N/: the workers' temp folders are its children
    folder, result = base / f"shared-{name}", base / f"shared-{name}.pickle"
    with (base / f"shared-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if result.exists():
            return pickle.loads(result.read_bytes())  # written by this run's own workers
        if folder.exists():
            shutil.rmtree(folder)  # a worker that failed half-way
        value = make(folder)
        result.write_bytes(pickle.dumps(value))
        return value


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The shipped data built once into a temporary folder (do not modify it)."""
    return made_once(tmp_path_factory, "built", lambda folder: build(DATA, folder / "out"))


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> PublishResult:
    """The shipped data published once per test run (test_publish, test_viewers, test_series read it; do
    not modify it: copy it with shutil.copytree)."""
    from chuzhi_graph.site.publish import publish

    return made_once(tmp_path_factory, "published", lambda folder: publish(DATA, folder / "site"))


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    """A private copy of data/ that a test may break."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(exist_ok=True)
    return ARTEFACTS


@pytest.fixture(scope="session")
def synth5k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`chuzhi-graph synth --cases 5000 --editions 5 --seed 1`, built once into ``out/`` (do not modify)."""
    from chuzhi_graph.records.synth import generate

    def make(folder: Path) -> Path:
        generate(folder / "data", cases=5000, editions=5, seed=1)
        build(folder / "data", folder / "out")
        return folder

    return made_once(tmp_path_factory, "synth5k", make)


#: the modules that take longest in a CI run (pytest --durations), started first: a worker is then
#: never left alone at the end with one of them while the other idles (longest-first scheduling)
SLOW_FIRST = ("test_publish", "test_same_answer_stores", "test_build_transaction", "test_push_exact", "test_map",
              "test_same_answer", "test_render", "test_site_hardening", "test_progress", "test_query",
              "test_publish_scale", "test_publish_leftovers", "test_docs", "test_ontology", "test_notebook")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: each module stays in order


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's, tests/chromium.py), one per test module."""
    with launched() as b:
        yield b
