"""Stage 4, the views: networkx graphs built by SPARQL, their figures, offline HTML/pictures and the map."""
