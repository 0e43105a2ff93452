"""Stage 2, the graph: records mapped to triples (IRIs, blocks per subject), summaries, SHACL validation."""
