"""Suggestions for a curator: domains of a case, type and region of an unknown unit.

Everything here is data-driven: domains from the labels and keywords (``skos:hiddenLabel``)
of the domain scheme, unit types from the name endings in the unit-type scheme, regions
from the region table, nearest known names with rapidfuzz. Suggestions are marked as such
in the records (basis ``suggested``); a curator confirms them.

>>> from chuzhi_graph.records.tables import load_dataset
>>> s = Suggester.from_dataset(load_dataset("data"))
>>> s.domains("孝南区构建“大数据+线上线下”调解新格局")
['public-safety-law']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from chuzhi_graph.core.vocabulary import Concept, Vocabulary
from chuzhi_graph.records.tables import Dataset, Region, Unit, normalise_name

_LEVEL_RANK = {"county": 3, "prefecture": 2, "province": 1}
#: Endings dropped to get the short form of a region name (湖北省 -> 湖北, 恩施...自治州 -> 恩施).
_REGION_SUFFIXES = ("土家族苗族自治州", "自治州", "自治县", "自治区", "特别行政区", "省", "市", "区", "县")


@dataclass(frozen=True)
class RegionGuess:
    """A region suggested for a name, and the words of the name that gave it.

    ``new_rows`` are ``regions.csv`` rows (the region and its parents) that the region
    table lacks; they come from cpca, which knows every administrative division.
    """

    code: str
    name_zh: str
    matched: str
    new_rows: tuple[dict[str, str], ...] = ()


class Suggester:
    """Suggest domains, unit types, regions and nearest known unit names.

    >>> from chuzhi_graph.core.vocabulary import load_vocabulary
    >>> s = Suggester(load_vocabulary(), [], [])
    >>> s.unit_type("孝感市孝南区司法局")
    'party-government'
    >>> s.domains("鄂州市审计局离任审计大数据平台提升效能")
    ['supervision-audit']
    """

    def __init__(self, vocab: Vocabulary, units: list[Unit], regions: list[Region]) -> None:
        self.vocab = vocab
        self.regions = regions
        self._known: dict[str, str] = {}  # normalised name or alias -> display name
        for unit in units:
            for name in (unit.name_zh, *unit.aliases):
                self._known.setdefault(normalise_name(name), name)
        self._region_forms: list[tuple[str, Region]] = []
        for region in regions:
            for form in _region_forms(region.name_zh):
                self._region_forms.append((form, region))

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> Suggester:
        return cls(dataset.vocabulary, dataset.units, dataset.regions)

    # ------------------------------------------------------------ domains

    def domains(self, *texts: str) -> list[str]:
        """Domain notations whose labels or keywords occur in ``texts``, most specific first.

        Each concept scores the summed length of its labels found in the text; a concept
        is dropped when a narrower one also matched (the narrower says more).
        """
        text = normalise_name(" ".join(texts))
        scores: dict[str, tuple[int, int]] = {}
        for concept in self.vocab.domains.values():
            score, first = 0, len(text)
            for label in _concept_labels(concept):
                pos = text.find(normalise_name(label))
                if pos >= 0:
                    score += len(label)
                    first = min(first, pos)
            if score:
                scores[concept.notation] = (score, first)
        broader_hit = {
            b for n in scores for b in self._ancestors(n)
        }
        kept = [n for n in scores if n not in broader_hit]
        return sorted(kept, key=lambda n: (-scores[n][0], scores[n][1], n))

    def _ancestors(self, notation: str) -> set[str]:
        out: set[str] = set()
        todo = list(self.vocab.domains[notation].broader)
        while todo:
            cur = todo.pop()
            if cur not in out and cur in self.vocab.domains:
                out.add(cur)
                todo.extend(self.vocab.domains[cur].broader)
        return out

    # ------------------------------------------------------------ unit types

    def unit_type(self, name: str) -> str | None:
        """The unit type whose name ending (hidden label) ends ``name``; the longest wins.

        A narrower type (e.g. 国有企业 under 企业) is chosen when one of its hidden labels
        occurs anywhere in the name.
        """
        text = normalise_name(name)
        best: tuple[int, str] | None = None
        for concept in self.vocab.unit_types.values():
            for label in concept.hidden:
                if text.endswith(normalise_name(label)) and (best is None or len(label) > best[0]):
                    best = (len(label), concept.notation)
        if best is None:
            return None
        chosen = best[1]
        for concept in self.vocab.unit_types.values():
            if chosen in concept.broader and any(normalise_name(h) in text for h in concept.hidden):
                return concept.notation
        return chosen

    def unit_type_label(self, notation: str | None) -> str:
        return self.vocab.unit_types[notation].pref_zh if notation else ""

    # ------------------------------------------------------------ regions

    def region(self, name: str) -> RegionGuess | None:
        """The most specific region of the region table named in ``name``.

        >>> from chuzhi_graph.core.vocabulary import load_vocabulary
        >>> r = Region("420100", "武汉市", "prefecture")
        >>> Suggester(load_vocabulary(), [], [r]).region("中国电信武汉分公司").code
        '420100'
        """
        text = normalise_name(name)
        guess = self._cpca_region(text)
        if guess is not None:
            return guess
        hits = [(form, region) for form, region in self._region_forms if form in text]
        if not hits:
            return None
        form, region = max(hits, key=lambda h: (_LEVEL_RANK.get(h[1].level, 0), len(h[0])))
        return RegionGuess(region.code, region.name_zh, form)

    def _cpca_region(self, text: str) -> RegionGuess | None:
        """The division cpca finds in ``text`` (GB/T 2260 code), if cpca is installed."""
        try:
            import cpca
        except ImportError:  # optional: the region table's names are the fallback
            return None
        row = cpca.transform([text]).iloc[0]
        code = row["adcode"]
        if not isinstance(code, str) or not re.fullmatch(r"\d{6}", code):
            return None
        chain = [
            (row[column], level, prefix)
            for column, level, prefix in (
                ("省", "province", code[:2] + "0000"), ("市", "prefecture", code[:4] + "00"),
                ("区", "county", code),
            )
            if isinstance(row[column], str) and row[column] and not row[column].startswith("省直辖")
        ]
        if not chain:
            return None
        known = {r.code for r in self.regions}
        rows, parent = [], ""
        for index, (name_zh, level, chain_code) in enumerate(chain):
            if index == len(chain) - 1:
                chain_code = code
            if chain_code not in known:
                rows.append({"code": chain_code, "name_zh": name_zh, "name_en": "", "level": level,
                             "parent": parent})
            parent = chain_code
        matched = chain[-1][0]
        return RegionGuess(code, matched, matched, tuple(rows))

    def place(self, text: str) -> RegionGuess | None:
        """A region for a place as written in prose (``汉`` is the usual short name of 武汉)."""
        text = normalise_name(text)
        text = _SHORT_PLACE_NAMES.get(text, text)
        hits = [(form, r) for form, r in self._region_forms if form == text or r.name_zh == text]
        if not hits:
            return None
        form, region = max(hits, key=lambda h: _LEVEL_RANK.get(h[1].level, 0))
        return RegionGuess(region.code, region.name_zh, form)

    # ------------------------------------------------------------ names

    def nearest(self, name: str, limit: int = 3, cutoff: float = 40.0) -> list[tuple[str, int]]:
        """Known unit names (or aliases) closest to ``name``, with a 0-100 similarity."""
        found = process.extract(
            normalise_name(name), list(self._known), scorer=fuzz.ratio, limit=limit,
            score_cutoff=cutoff,
        )
        return [(self._known[key], round(score)) for key, score, _ in found]


#: One-character short names of cities as the press writes them (在汉举行 = held in Wuhan).
_SHORT_PLACE_NAMES = {"汉": "武汉", "武汉": "武汉"}


def _concept_labels(concept: Concept) -> list[str]:
    return sorted({concept.pref_zh, *concept.alt, *concept.hidden})


def _region_forms(name: str) -> list[str]:
    forms = [normalise_name(name)]
    for suffix in _REGION_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            forms.append(normalise_name(name[: -len(suffix)]))
            break
    return forms
