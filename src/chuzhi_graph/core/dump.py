"""The dump files of a built graph: their names, their formats, and the one finder.

:data:`FORMATS` is the one suffix → format registry (pyoxigraph format, media type);
:func:`find_dump` is the one way to find the dump of a build folder, of a published site or a
dump file itself. Everything that reads a built graph (:class:`chuzhi_graph.release.reader.Release`,
the persistent store) asks these two; the module sits low in the pipeline so both can.

>>> format_of("out/chuzhi.ttl").media_type
'text/turtle'
>>> [f.name for f in FORMATS if f.quads]
['trig', 'nq']
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from chuzhi_graph.core.fileio import BUILDS_DIR, CURRENT, current_build
from chuzhi_graph.errors import DataError, NotBuiltError

if TYPE_CHECKING:
    from rdflib import Graph


@dataclass(frozen=True)
class Format:
    """One RDF serialisation: its file suffix, name, pyoxigraph format and media type."""

    suffix: str
    name: str
    ox: ox.RdfFormat
    media_type: str
    quads: bool = False


#: The one suffix → format registry.
FORMATS: tuple[Format, ...] = (
    Format(".nt", "nt", ox.RdfFormat.N_TRIPLES, "application/n-triples"),
    Format(".ttl", "ttl", ox.RdfFormat.TURTLE, "text/turtle"),
    Format(".trig", "trig", ox.RdfFormat.TRIG, "application/trig", quads=True),
    Format(".nq", "nq", ox.RdfFormat.N_QUADS, "application/n-quads", quads=True),
    Format(".jsonld", "jsonld", ox.RdfFormat.JSON_LD, "application/ld+json"),
    Format(".json", "json", ox.RdfFormat.JSON_LD, "application/ld+json"),
    Format(".rdf", "rdf", ox.RdfFormat.RDF_XML, "application/rdf+xml"),
    Format(".owl", "owl", ox.RdfFormat.RDF_XML, "application/rdf+xml"),
)
FORMAT_OF_SUFFIX: dict[str, Format] = {f.suffix: f for f in FORMATS}

DUMP_NAME = "chuzhi"
#: Dump files a folder may hold, preferred first (N-Triples parses fastest).
DUMP_FILES = tuple(f"{DUMP_NAME}{s}" for s in (".nt", ".ttl", ".trig", ".jsonld"))
#: The dataset description (VoID/DCAT) beside the dump.
DESCRIPTION_FILE = "void.ttl"


def format_of(path: str | Path) -> Format:
    """The format of a dump by its suffix; :class:`DataError` for an unknown one."""
    fmt = FORMAT_OF_SUFFIX.get(Path(path).suffix.lower())
    if fmt is None:
        raise DataError(f"unknown RDF format {Path(path).suffix!r} (known: {', '.join(FORMAT_OF_SUFFIX)})",
                        file=Path(path))
    return fmt


def find_dump(path: str | Path) -> Path:
    """The dump of a release: the file itself, or the first of :data:`DUMP_FILES` in a build
    folder or in the ``dataset/`` folder of a published site.

    A graph folder's ``current`` link is resolved here, once: the dump returned is the one in
    ``builds/NNNNNN/``, and its siblings (``void.ttl``, the views) are of the same build whatever
    builds run meanwhile. So is a stable link ``out/chuzhi.nt -> current/chuzhi.nt``.
    :class:`NotBuiltError` (exit code 3, the same for every command) when there is none.
    """
    path = Path(path)
    if path.is_file():
        format_of(path)
        return _through_current(path)
    if path.is_dir():
        current = current_build(path)
        for folder in (current or path, path / "dataset"):
            for name in DUMP_FILES:
                if (folder / name).is_file():
                    return folder / name
        raise NotBuiltError(f"no built graph here: run `chuzhi-graph build` first (looked for "
                            f"{', '.join(DUMP_FILES[:-1])} or {DUMP_FILES[-1]} in the folder and in its dataset/)",
                            file=path)
    raise NotBuiltError("no built graph here: the path does not exist (run `chuzhi-graph build` first)", file=path)


def to_rdflib(triples: list[ox.Triple]) -> Graph:
    """An rdflib graph of the triples (through N-Triples: exact, and fast enough for validation).

    >>> len(to_rdflib([ox.Triple(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal("o"))]))
    1
    """
    from rdflib import Graph  # here: the read side's query commands never load rdflib

    graph = Graph()
    graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return graph


def release_home(dump: str | Path) -> Path:
    """The graph folder a dump belongs to: ``out`` for ``out/builds/NNNNNN/chuzhi.nt``, else its folder.

    What lives beside the builds (the query store ``out/store/``) is found here.

    >>> release_home("/nonexistent/out/chuzhi.nt").name
    'out'
    """
    folder = Path(dump).parent
    if folder.parent.name == BUILDS_DIR and (folder.parent.parent / CURRENT).is_symlink():
        return folder.parent.parent
    return folder


def _through_current(path: Path) -> Path:
    """A stable link ``out/NAME -> current/NAME`` as the file of the current build, read once."""
    try:
        target = os.readlink(path)
    except OSError:
        return path
    if target != f"{CURRENT}/{path.name}":
        return path
    build = current_build(path.parent)
    return build / path.name if build is not None and (build / path.name).is_file() else path
