"""The output formats, one registry per kind.

The library's writers accept exactly these names and the command line offers exactly
these choices (``click.Choice(formats.PICTURE)``), so a format is named in one place.
Only the names live here, the writers stay with their concept; the module imports
nothing, so the command line reads it without loading an engine. The dump formats
(suffix, pyoxigraph format, media type) are a registry of their own beside the dump finder,
in :mod:`chuzhi_graph.core.dump`.

>>> "csv" in RESULT and "csv" in STATS
True
>>> [name for name in PICTURE if name not in MAP]
['graphml', 'gexf']
"""

from __future__ import annotations

#: ``query --format`` for SELECT/ASK: a text table or a W3C SPARQL results format.
RESULT_TABLE: tuple[str, ...] = ("table", "csv", "tsv", "json", "xml")
#: ``query --format`` for CONSTRUCT/DESCRIBE: a graph.
RESULT_GRAPH: tuple[str, ...] = ("turtle", "nt")
#: Every ``query --format``.
RESULT: tuple[str, ...] = RESULT_TABLE + RESULT_GRAPH
#: ``render --format``: the interactive page, pictures, Gephi exports.
PICTURE: tuple[str, ...] = ("html", "png", "svg", "graphml", "gexf")
#: ``render map --format``: the map has no network to export.
MAP: tuple[str, ...] = ("html", "png", "svg")
#: ``stats --format``.
STATS: tuple[str, ...] = ("table", "csv", "json")
#: ``diff --format``: the text report, JSON, or a Turtle changeset.
DIFF: tuple[str, ...] = ("text", "json", "turtle")

__all__ = ["DIFF", "MAP", "PICTURE", "RESULT", "RESULT_GRAPH", "RESULT_TABLE", "STATS"]
