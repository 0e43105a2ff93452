"""One version, from pyproject.toml: the package, --version, the ontology (its page), the changelog.

``__version__`` is read from the installed metadata (importlib.metadata), which an editable
install refreshes only when reinstalled (``pip install -e .``); so these checks read
pyproject.toml itself and compare the rest with it.
"""

from __future__ import annotations

import re
from importlib.metadata import version as installed_version
from pathlib import Path

import click
from rdflib import OWL, Graph, URIRef

import chuzhi_graph
from chuzhi_graph.cli import cli
from chuzhi_graph.site.ontodoc import ontology_doc

ROOT = Path(__file__).resolve().parents[1]


def pyproject_version() -> str:
    match = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    assert match, "no version in pyproject.toml"
    return match.group(1)


def changelog_sections() -> dict[str, str]:
    """Version -> its section of CHANGELOG.md (Keep a Changelog: ``## [0.2.0] - date``)."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    parts = re.split(r"^## \[([^\]]+)\].*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_version_is_0_2_0_in_pyproject_and_the_package_reads_the_installed_metadata() -> None:
    assert pyproject_version() == "0.2.0"
    assert chuzhi_graph.__version__ == installed_version("chuzhi-graph")
    init = (ROOT / "src/chuzhi_graph/__init__.py").read_text(encoding="utf-8")
    assert not re.search(r'__version__ = "\d+\.\d+', init)  # not written twice


def test_the_ontology_and_its_page_carry_the_same_version() -> None:
    g = Graph().parse(ROOT / "ontology/chuzhi.ttl")
    assert str(g.value(URIRef("https://w3id.org/chuzhi/def"), OWL.versionInfo)) == pyproject_version()
    assert ontology_doc().version == pyproject_version()


def test_the_changelog_has_0_1_and_the_current_version_first() -> None:
    sections = changelog_sections()
    assert list(sections)[:1] == [pyproject_version()] and "0.1.0" in sections


def test_every_deprecated_spelling_is_in_the_changelog_with_its_removal() -> None:
    """Each hidden 0.1 alias of cli.py is listed under Deprecated, with the version that removes it."""
    deprecated = changelog_sections()[pyproject_version()].split("### Deprecated", 1)[1].split("\n### ", 1)[0]
    assert "removed in 0.3" in deprecated
    found = []
    for name, command in sorted(cli.commands.items()):
        for param in command.params:
            if isinstance(param, click.Option) and param.hidden and param.name and param.name.endswith("_0_1"):
                for spelling in param.opts:
                    found.append((name, spelling))
                    assert f"`{name} {spelling}" in deprecated, (name, spelling)
    assert len(found) >= 5
