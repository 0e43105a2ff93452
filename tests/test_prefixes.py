"""The rdflib-free strings of the vocabulary (prefixes.py): a query command never loads rdflib."""

from __future__ import annotations

import subprocess
import sys

from chuzhi_graph.core import namespace, prefixes

RUN_AND_REPORT = """
import sys
from chuzhi_graph.cli import main
sys.argv = ["chuzhi-graph", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
print("rdflib" if any(m == "rdflib" or m.startswith("rdflib.") for m in sys.modules) else "no rdflib", code,
      file=sys.stderr)
"""


def test_namespace_re_exports_the_same_objects():
    for name in ("CHZ_IRI", "ONTOLOGY_IRI", "DEFAULT_BASE", "PREFIXES", "data_prefixes", "ox_iri"):
        assert getattr(namespace, name) is getattr(prefixes, name)
    assert str(namespace.CHZ.Case).startswith(prefixes.CHZ_IRI)


def test_a_shipped_query_command_does_not_import_rdflib(built):
    done = subprocess.run([sys.executable, "-c", RUN_AND_REPORT, "query", "cases-per-domain",
                           "-g", str(built.out_dir), "--format", "csv"],
                          capture_output=True, text=True, timeout=120)
    assert done.stderr.strip().splitlines()[-1] == "no rdflib 0", done.stderr
    assert done.stdout.splitlines()[0].lstrip("\ufeff").startswith("domain")


def test_an_inline_query_still_gets_the_parsed_service_check(built):
    # any text other than the package's own is parsed by rdflib (the SERVICE wall, decision 0003), in
    # the query's worker process (its own deadline, no lock in the command): the command never loads it
    done = subprocess.run([sys.executable, "-c", RUN_AND_REPORT, "query", "SELECT * WHERE { ?s ?p ?o } LIMIT 1",
                           "-g", str(built.out_dir), "--format", "csv"],
                          capture_output=True, text=True, timeout=120)
    assert done.stderr.strip().splitlines()[-1] == "no rdflib 0", done.stderr
    refused = subprocess.run([sys.executable, "-c", RUN_AND_REPORT, "query",
                              "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
                              "-g", str(built.out_dir)], capture_output=True, text=True, timeout=120)
    assert "SERVICE" in refused.stderr and refused.stderr.strip().splitlines()[-1] == "no rdflib 5", refused.stderr
