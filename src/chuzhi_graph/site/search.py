"""The site's search index: unit names, aliases and case titles, read from disk by the pages.

The published folder is opened from disk (``file://``), offline, so the index is a set of
small scripts, not JSON: browsers refuse ``fetch()`` of ``file://`` URLs and the site's
Content-Security-Policy allows only its own scripts. Pagefind (npm) needs ``fetch()`` and
WebAssembly over HTTP, so it does not serve a site opened from disk.

- ``search/meta.js``: how many entries and shards there are;
- ``search/e{k}.js``: entries ``k * CHUNK`` to ``(k + 1) * CHUNK - 1``, each
  ``[kind, page, name, [aliases]]`` (kind ``u`` unit, ``c`` case); units first, by name;
- ``search/g{h}.js``: for every bigram (two characters, lower case) whose hash is ``h``, the
  numbers of the entries that contain it, as increasing numbers coded as base-36 gaps.

A query's bigrams name the few shards to load; the entries found in all of them are the
candidates, checked against their whole text (``static/site.js``). A query of one character
asks for a second one.

>>> bigrams("华中科大")
['华中', '中科', '科大']
>>> shard_of("华中", 64) == shard_of("华中", 64) < 64
True
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

#: Entries per entry file.
CHUNK = 500
#: About this many postings per shard file (some tens of kilobytes).
POSTINGS_PER_SHARD = 20_000
#: Between the names of one entry: no bigram spans two names.
SEPARATOR = "\u0001"


def bigrams(text: str) -> list[str]:
    """The distinct bigrams of ``text`` (lower case) in order; none span :data:`SEPARATOR`."""
    out: dict[str, None] = {}
    for part in text.lower().split(SEPARATOR):
        for i in range(len(part) - 1):
            out[part[i:i + 2]] = None
    return list(out)


def shard_of(gram: str, shards: int) -> int:
    """The shard of a bigram: the same arithmetic as the page's ``shardOf`` (code points)."""
    h = 0
    for ch in gram:
        h = (h * 31 + ord(ch)) % 1_000_003
    return h % shards


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


Entry = tuple[str, str, str, list[str]]


def write_search_index(out: Path, units: Iterable[Entry], cases: Iterable[Entry]) -> dict[str, int]:
    """Write ``out/search/``: the entries (units first, then cases, each by name) and the
    bigram shards; returns the counts and bytes written.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_search_index(folder, [("u", "unit/hust.html", "华中科技大学", ["华中科大"])], [])["entries"]
    1
    """
    entries = sorted(units, key=lambda e: (e[2], e[1])) + sorted(cases, key=lambda e: (e[2], e[1]))
    postings: dict[str, list[int]] = defaultdict(list)
    for number, (_kind, _page, name, aliases) in enumerate(entries):
        for gram in bigrams(SEPARATOR.join([name, *aliases])):
            postings[gram].append(number)
    total = sum(len(p) for p in postings.values())
    shards = max(1, min(4096, total // POSTINGS_PER_SHARD))
    folder = out / "search"
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    by_shard: dict[int, dict[str, str]] = defaultdict(dict)
    for gram in sorted(postings):
        numbers, last, coded = postings[gram], 0, []
        for n in numbers:
            coded.append(_base36(n - last))
            last = n
        by_shard[shard_of(gram, shards)][gram] = ",".join(coded)
    for h in range(shards):
        written += _write(folder / f"g{h}.js", f"chuzhiSearch.grams({h},{_json(by_shard.get(h, {}))});\n")
    for k in range(0, len(entries), CHUNK):
        rows = [list(e) for e in entries[k:k + CHUNK]]
        written += _write(folder / f"e{k // CHUNK}.js", f"chuzhiSearch.entries({k // CHUNK},{_json(rows)});\n")
    meta = {"entries": len(entries), "chunk": CHUNK, "shards": shards}
    written += _write(folder / "meta.js", f"chuzhiSearch.meta({_json(meta)});\n")
    return {**meta, "postings": total, "bytes": written}


def _json(value: object) -> str:
    # "</" never closes a script element here (these are files), but "<" is escaped anyway
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _write(path: Path, text: str) -> int:
    data = text.encode("utf-8")
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return len(data)
