"""Stage 1, the records: the tables in ``data/`` read and cross-checked, the series' facts, provenance,
suggestions from the SKOS schemes, and synthetic corpora in the same format."""
