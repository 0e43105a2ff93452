"""chuzhi-graph: a knowledge graph of the 楚治 award cases.

The package API (no Click here): :func:`chuzhi_graph.build.build` turns the record
files into validated, byte-stable RDF dumps.
"""

__version__ = "0.1.0"
