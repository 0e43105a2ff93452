"""What a command prints to a pipe besides its progress: the phases' lines taken out of stderr."""

from __future__ import annotations

import re

#: a finished phase's line when stderr is not a terminal: ``map cases: 4.57 s, 10000/10000 cases, ...``
PROGRESS_LINE = re.compile(r"^[^:\n]+: \d+\.\d\d s(, [^\n]*)?\n", re.MULTILINE)


def without_progress(stderr: str) -> str:
    """stderr without the phases' lines: what the command said besides its progress.

    >>> without_progress("map cases: 4.57 s, 10/10 cases, 2188 cases/s\\nWARNING: x\\npush: 0.27 s\\n")
    'WARNING: x\\n'
    """
    return PROGRESS_LINE.sub("", stderr)
