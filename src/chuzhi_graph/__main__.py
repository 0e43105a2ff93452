"""``python -m chuzhi_graph`` runs the CLI."""

from chuzhi_graph.cli import main

main()
