"""Kill points for the tests: the process kills itself (SIGKILL) at a named step.

Writers call :func:`kill_point` between the steps of a commit (``build``'s swap of the
``current`` link, ``push``'s graphs). With ``CHUZHI_GRAPH_KILL_AT=NAME:K`` in the environment
the K-th call of ``kill_point(NAME)`` kills the process, as a power cut or ``kill -9`` would:
a test can stop a run at every step, in milliseconds instead of racing a timer. Unset (always,
outside the tests) it costs one dictionary look-up.

>>> kill_point("commit")  # no CHUZHI_GRAPH_KILL_AT: nothing happens
"""

from __future__ import annotations

import os
import signal

KILL_ENV = "CHUZHI_GRAPH_KILL_AT"

_seen: dict[str, int] = {}


def kill_point(name: str) -> None:
    """Count a pass through the step ``name``; SIGKILL this process at the pass the environment asks for."""
    wanted = os.environ.get(KILL_ENV)
    if not wanted:
        return
    point, _, number = wanted.rpartition(":")
    if point != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if str(_seen[name]) == number:
        os.kill(os.getpid(), signal.SIGKILL)
