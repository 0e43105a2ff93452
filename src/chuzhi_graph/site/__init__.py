"""Stage 5, the site: the ontology's documentation pages and the static dataset site."""
