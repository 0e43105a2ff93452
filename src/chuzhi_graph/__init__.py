"""chuzhi-graph: a knowledge graph of the 楚治 award cases.

The package API (no Click here): :func:`chuzhi_graph.build.build` turns the record
files into validated, byte-stable RDF dumps; :func:`open` opens a built graph for
notebooks (a :class:`chuzhi_graph.release.reader.Release`, see ``docs/api.md``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chuzhi_graph.release.reader import Release

try:  # pyproject.toml's version, as installed (an editable install is refreshed by `pip install -e .`)
    __version__ = version("chuzhi-graph")
except PackageNotFoundError:  # the source tree on sys.path without an install
    __version__ = "0+unknown"
__all__ = ["__version__", "open"]


def open(path: str | Path = "out", *, base: str | None = None) -> Release:
    """The built graph at ``path`` (a build folder, a dump file or a published site).

    >>> release = open("out")                  # chuzhi_graph.open("out") from outside
    >>> release.query("units-with-several-cases").variables
    ['unit', 'unitLabel', 'directCases', 'allCases']
    """
    from chuzhi_graph.release.reader import Release  # here: every module imports the package, the CLI stays light

    return Release.open(path) if base is None else Release.open(path, base=base)
