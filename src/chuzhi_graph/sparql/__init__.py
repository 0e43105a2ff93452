"""Stage 3 (read side), SPARQL: the embedded store, the safety walls, workers and lanes, the shipped
questions, ``run_query`` and the read-only endpoint."""
