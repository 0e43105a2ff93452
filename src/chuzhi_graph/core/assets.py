"""What every offline page embeds: packaged files, JSON safe inside ``<script>``, CSP hashes, compact counts.

The graph pages (:mod:`chuzhi_graph.views.render`) and the map (:mod:`chuzhi_graph.views.mapview`) inline
their scripts and data and allow only those scripts by hash, so a page works from
``file://`` with the network off and runs nothing else.

>>> json_for_script({"name": "</script><b>"})
'{"name":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
>>> csp_hash("alert(1)")
"'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from importlib import resources


@cache
def asset(name: str) -> str:
    """The text of a file packaged with chuzhi_graph, e.g. ``static/vis/chuzhi-view.js``."""
    return resources.files("chuzhi_graph").joinpath(name).read_text("utf-8")


def json_for_script(value: object) -> str:
    """JSON that cannot end its ``<script>`` element or open markup."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def csp_hash(text: str) -> str:
    """The Content-Security-Policy source that allows the inline script ``text``."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def zero_runs(values: list[int]) -> list[int]:
    """Counts for a page with the zeros as runs (``-k`` for ``k`` zeros), trailing zeros dropped.

    >>> zero_runs([0, 0, 3, 0, 1, 0, 0])
    [-2, 3, -1, 1]
    """
    out: list[int] = []
    zeros = 0
    for v in values:
        if v:
            if zeros:
                out.append(-zeros)
                zeros = 0
            out.append(v)
        else:
            zeros += 1
    return out
