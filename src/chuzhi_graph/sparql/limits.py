"""The one default of each limit on a query, for `query`, `serve` and `publish` alike.

A module of constants only, so that the CLI's ``--help`` can show them without importing the
query engine.
"""

from __future__ import annotations

#: Seconds a query may run (``--timeout``).
DEFAULT_TIMEOUT = 60.0
#: Megabytes of address space a query worker may take beyond what it inherits (``--max-memory``).
DEFAULT_MAX_MEMORY_MB = 2048
