"""The docstring and documentation examples run as doctests (in the style of oxigraph's test_doc.py).

``docs/api.md`` and the modules below run on a fresh build of the shipped data, from a folder
where ``out`` is that build.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Modules whose docstring examples run (examples that need files outside a build are marked +SKIP).
MODULES = ("chuzhi_graph.release", "chuzhi_graph.progress", "chuzhi_graph.publish", "chuzhi_graph.ontodoc")
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.fixture()
def in_build(built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "out").symlink_to(built.out_dir, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.usefixtures("in_build")
def test_api_docs_examples() -> None:
    result = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False, optionflags=FLAGS)
    assert result.attempted > 20
    assert result.failed == 0


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.usefixtures("in_build")
def test_module_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=FLAGS)
    assert result.failed == 0
