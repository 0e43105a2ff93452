"""Shared fixtures: the repository paths and one build of the shipped data per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from chuzhi_graph.build import BuildResult, build

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


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The shipped data built once into a temporary folder (do not modify it)."""
    return build(DATA, tmp_path_factory.mktemp("out"))


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

    folder = tmp_path_factory.mktemp("synth5k")
    generate(folder / "data", cases=5000, editions=5, seed=1)
    build(folder / "data", folder / "out")
    return folder
