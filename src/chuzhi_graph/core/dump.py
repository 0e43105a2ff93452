"""The dump files of a built graph: their names, their formats, and the one finder.

The dump formats are the ``dump`` kind of the format registry (:mod:`chuzhi_graph.formats`: suffixes,
media type, pyoxigraph format); :func:`format_of` reads a file's format from its suffix and
:func:`find_dump` is the one way to find the dump of a build folder, of a published site or a dump
file itself. Everything that reads a built graph (:class:`chuzhi_graph.release.reader.Release`,
the persistent store) asks these; the module sits low in the pipeline so both can.
:func:`read_build_record` reads what a build says about itself (``build.json``, :class:`BuildRecord`).

>>> format_of("out/chuzhi.ttl").media_type
'text/turtle'
>>> [f.name for f in formats.of("dump") if f.quads]
['trig', 'nq']
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pyoxigraph as ox

from chuzhi_graph import formats
from chuzhi_graph.core.fileio import BUILDS_DIR, CURRENT, current_build
from chuzhi_graph.errors import DataError, NotBuiltError, StaleBuildError

if TYPE_CHECKING:
    from rdflib import Graph


def formats_by_suffix() -> dict[str, formats.Format]:
    """Every suffix a dump may have -> its format (from the registry, when asked)."""
    return {suffix: f for f in formats.of("dump") for suffix in f.suffixes}


def rdf_format(fmt: formats.Format) -> ox.RdfFormat:
    """pyoxigraph's format for a dump format of the registry.

    >>> rdf_format(format_of("chuzhi.nt"))
    <RdfFormat N-Triples>
    """
    return cast("ox.RdfFormat", getattr(ox.RdfFormat, fmt.engine))


DUMP_NAME = "chuzhi"
#: Dump files a folder may hold, preferred first (N-Triples parses fastest).
DUMP_FILES = tuple(f"{DUMP_NAME}{s}" for s in (".nt", ".ttl", ".trig", ".jsonld"))
#: The dataset description (VoID/DCAT) beside the dump.
DESCRIPTION_FILE = "void.ttl"
#: What a build says about itself beside the dump (docs/publish.md, "The build record").
BUILD_FILE = "build.json"
#: The layout of ``build.json``; a reader refuses another (the build is made again).
BUILD_RECORD_FORMAT = 1


def format_of(path: str | Path) -> formats.Format:
    """The format of a dump by its suffix; :class:`DataError` for an unknown one."""
    known = formats_by_suffix()
    fmt = known.get(Path(path).suffix.lower())
    if fmt is None:
        raise DataError(f"unknown RDF format {Path(path).suffix!r} (known: {', '.join(known)})", file=Path(path))
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


@dataclass(frozen=True)
class BuildRecord:
    """``build.json``: what a build read and wrote, for what publishes it without the records.

    ``folder`` is the build folder (``out/builds/NNNNNN``, ``out/current`` resolved once);
    ``files``: dump name -> ``{"sha256", "bytes"}``; ``sources``: ``data/…`` and ``ontology/…``
    path -> SHA-256 of every input file; ``documents``: the source documents as the records list them.
    """

    folder: Path
    version: str
    base: str
    created: str | None  # the dataset description's dct:created (--created or $SOURCE_DATE_EPOCH), if any
    date: str  # the release date: created, else the newest source document's date
    validated: str | None  # "shacl" or "compiled"; None: built with --no-validate
    counts: dict[str, int]  # cases, units, applicants, editions, domains, regions, triples
    files: dict[str, dict[str, Any]]
    sources: dict[str, str]
    documents: list[dict[str, str]]


def read_build_record(path: str | Path) -> BuildRecord:
    """The record of the build at ``path`` (a graph folder, a build folder or its dump).

    :class:`NotBuiltError` without a dump; :class:`StaleBuildError` (exit 3, build again) when
    the build wrote no record of the current layout (an older version made it).

    >>> record = read_build_record("out")
    >>> record.folder.parent.name, record.counts["cases"], record.base
    ('builds', 30, 'https://w3id.org/chuzhi/')
    >>> sorted(record.files), len(record.sources["data/cases.csv"])
    (['chuzhi.context.jsonld', 'chuzhi.jsonld', 'chuzhi.nt', 'chuzhi.ttl', 'void.ttl'], 64)
    """
    folder = find_dump(path).parent
    try:
        data = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8"))
        if data.get("format") != BUILD_RECORD_FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        return BuildRecord(folder, data["version"], data["base"], data["created"], data["date"], data["validated"],
                           data["counts"], data["files"], data["sources"], data["documents"])
    except FileNotFoundError:
        raise StaleBuildError(f"no {BUILD_FILE} beside the dump: not made by `chuzhi-graph build` of this "
                              "version (run it again)", file=path) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StaleBuildError(f"{BUILD_FILE} of another layout or damaged ({exc}): run `chuzhi-graph build` "
                              "again", file=path) from None
