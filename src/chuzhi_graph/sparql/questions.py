"""The shipped research questions (``queries/*.rq``) and their declared parameters.

>>> q = shipped_query("unit-profile")
>>> [(p.name, p.kind, p.required, p.example) for p in q.param_specs]
[('unit', 'unit', True, '华中科技大学')]

Each ``.rq`` starts with a comment header::

    # zh: 某一单位的全部信息……
    # en: Everything about one unit……
    # param: unit (unit, required, e.g. 华中科技大学) 单位：名称、别名、标识或 IRI / unit: name, alias, …

A parameter has a name (the variable it binds), a kind (``unit``, ``domain``, ``edition``,
``region``, ``unit-type``, ``award-category``, ``track``, ``case``: a class of the ontology; or
``text``: a plain string), ``required`` or ``optional``, an example and a help text. The CLI,
the ``serve`` page and ``publish`` read the same declarations: a required parameter left out is a
usage error naming it with its example; a value that is not an IRI is looked up among the labels,
aliases, identifiers and notations of its kind, with the nearest names suggested when none fits.

Values are bound as RDF terms through pyoxigraph's substitutions (SEP-0007), never pasted into the
query text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rapidfuzz import fuzz, process

from chuzhi_graph.errors import QueryError, QueryUsageError
from chuzhi_graph.sparql.results import SparqlTarget, Term, query_prefixes

#: Kinds of parameter that name a resource, and the class their values belong to.
KINDS: dict[str, str] = {
    "unit": "chz:Unit",
    "domain": "chz:Domain",
    "edition": "chz:Edition",
    "region": "chz:Region",
    "unit-type": "chz:UnitType",
    "award-category": "chz:AwardCategory",
    "track": "chz:Track",
    "case": "chz:Case",
}
#: Kinds bound as a plain literal.
LITERAL_KINDS = ("text",)


@dataclass(frozen=True)
class ParamSpec:
    """A parameter a shipped query declares (``# param:`` line of its header)."""

    name: str
    kind: str
    required: bool = False
    example: str = ""
    help: str = ""

    @property
    def cls(self) -> str | None:
        """The class (prefixed name) the values are looked up in; None for a literal."""
        return KINDS.get(self.kind)

    def usage(self) -> str:
        """``--param unit=…`` with the example, as the errors and ``--list`` show it."""
        return f"--param {self.name}={self.example or '…'}"

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "required": self.required,
                "example": self.example, "help": self.help}


@dataclass(frozen=True)
class ShippedQuery:
    """A research question shipped as ``queries/NAME.rq`` (or any ``.rq`` with the same header)."""

    name: str
    question_zh: str
    question_en: str
    text: str
    param_specs: tuple[ParamSpec, ...] = ()

    @property
    def params(self) -> tuple[str, ...]:
        """The variables ``--param`` may bind."""
        return tuple(p.name for p in self.param_specs)

    def example_params(self) -> dict[str, str]:
        """The declared example of every parameter that has one."""
        return {p.name: p.example for p in self.param_specs if p.example}

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "question_zh": self.question_zh, "question_en": self.question_en,
                "text": self.text, "params": [p.as_json() for p in self.param_specs]}


_HEADER = re.compile(r"^#\s*(zh|en|param):\s*(.*?)\s*$")
_PARAM = re.compile(r"^[?$]?(?P<name>\w+)\s*\((?P<attrs>[^)]*)\)\s*(?P<help>.*)$")
_CLASS_KIND = {cls: kind for kind, cls in KINDS.items()}


def parse_param(value: str, source: str = "") -> ParamSpec:
    """One ``# param:`` line: ``NAME (KIND, required|optional, e.g. EXAMPLE) help``.

    >>> parse_param("unit (unit, required, e.g. 华中科大) 单位")
    ParamSpec(name='unit', kind='unit', required=True, example='华中科大', help='单位')

    The older form ``NAME CLASS help`` (``unit chz:Unit 单位``) is read as an optional parameter.
    """
    match = _PARAM.match(value)
    if match is None:
        parts = value.split(None, 2)
        cls = parts[1] if len(parts) > 1 and ":" in parts[1] else None
        help_text = parts[-1] if len(parts) > (2 if cls else 1) else ""
        kind = _CLASS_KIND.get(cls or "", "text")
        return ParamSpec(parts[0].lstrip("?$"), kind, False, "", help_text)
    attrs = [a.strip() for a in match.group("attrs").split(",") if a.strip()]
    kind, required, example = (attrs[0] if attrs else "text"), False, ""
    for attr in attrs[1:]:
        if attr in ("required", "optional"):
            required = attr == "required"
        elif attr.startswith("e.g."):
            example = attr[4:].strip()
        else:
            raise QueryError(f"unknown attribute {attr!r} of parameter {match.group('name')} "
                             "(known: required, optional, e.g. VALUE)", file=source or None)
    if kind not in KINDS and kind not in LITERAL_KINDS:
        raise QueryError(f"unknown parameter kind {kind!r} (known: {', '.join([*KINDS, *LITERAL_KINDS])})",
                         file=source or None)
    return ParamSpec(match.group("name"), kind, required, example, match.group("help"))


def parse_header(name: str, text: str, source: str = "") -> ShippedQuery:
    """Read the comment header (``# zh:``, ``# en:``, ``# param:``) of a ``.rq`` text.

    >>> q = parse_header("x", "# zh: 问题\\n# en: Question\\n# param: unit (unit) 单位\\nSELECT * {}")
    >>> q.question_en, q.params
    ('Question', ('unit',))
    """
    fields: dict[str, str] = {}
    specs: list[ParamSpec] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key == "param":
            specs.append(parse_param(value, source))
        else:
            fields[key] = value
    return ShippedQuery(name, fields.get("zh", ""), fields.get("en", ""), text, tuple(specs))


@cache
def shipped_queries() -> list[ShippedQuery]:
    """The research questions shipped with the package, sorted by name.

    >>> "cases-per-domain" in [q.name for q in shipped_queries()]
    True
    """
    folder = resources.files("chuzhi_graph") / "queries"
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".rq") and item.is_file():
            found.append(parse_header(item.name[:-3], item.read_text(encoding="utf-8"), f"queries/{item.name}"))
    return sorted(found, key=lambda q: q.name)


def shipped_query(name: str) -> ShippedQuery | None:
    """The shipped query called ``name``, or None."""
    return next((q for q in shipped_queries() if q.name == name), None)


def did_you_mean(value: str, choices: Iterable[str], limit: int = 3, cutoff: float = 60.0,
                 scorer: Any = fuzz.ratio) -> list[str]:
    """The nearest ``choices`` to a misspelt ``value`` (rapidfuzz), best first.

    Names of queries and parameters are compared whole (``fuzz.ratio``); names of units and
    domains also by their parts (``fuzz.WRatio``: 华中科技大 finds 华中科技大学).

    >>> did_you_mean("units-with-several-case", [q.name for q in shipped_queries()])
    ['units-with-several-cases']
    """
    unique = list(dict.fromkeys(choices))
    found = process.extract(value, unique, scorer=scorer, limit=limit * 3, score_cutoff=cutoff)
    if not found:
        return []
    best = found[0][1]
    return [choice for choice, score, _ in found if score >= best - 10][:limit]


def _suggestion(options: list[str]) -> str:
    if not options:
        return ""
    listed = options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"
    return f"; did you mean {listed}?"


def unknown_query(name: str) -> QueryUsageError:
    """The error of a query name that is not shipped, with the nearest names."""
    names = [q.name for q in shipped_queries()]
    near = did_you_mean(name, names)
    if near:
        return QueryUsageError(f"unknown query {name!r}{_suggestion(near)} (see --list)")
    return QueryUsageError(f"unknown query {name!r} (shipped queries: {', '.join(names)}; see --list)")


def resolve_query(query: str | Path) -> tuple[str, ShippedQuery]:
    """``(source, query)`` for a shipped name, a ``.rq`` path or inline text."""
    if isinstance(query, str):
        shipped = shipped_query(query)
        if shipped is not None:
            return f"query {shipped.name}", shipped
    path = Path(query)
    looks_like_path = isinstance(query, Path) or (
        "\n" not in str(query) and len(str(query)) < 1000 and str(query).endswith(".rq")
    )
    if looks_like_path:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            near = did_you_mean(path.stem, [q.name for q in shipped_queries()])
            hint = _suggestion(near) if near else f" (shipped queries: {', '.join(q.name for q in shipped_queries())})"
            raise QueryUsageError(f"no such query file{hint}", file=path) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise QueryError(f"cannot read the query: {exc}", file=path) from None
        return str(path), parse_header(path.stem, text, str(path))
    text = str(query)
    if re.fullmatch(r"[\w-]+", text.strip()):
        raise unknown_query(text.strip())
    return "inline query", parse_header("inline", text)


# ---------------------------------------------------------------- parameters


def parse_params(pairs: Iterable[str]) -> dict[str, str]:
    """``["unit=华中科技大学"]`` -> ``{"unit": "华中科技大学"}``.

    >>> parse_params(["unit=华中科技大学", "x=a=b"])
    {'unit': '华中科技大学', 'x': 'a=b'}
    """
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise QueryUsageError(f"--param needs NAME=VALUE, got {pair!r}", field="--param")
        out[name.strip().lstrip("?$")] = value
    return out


def missing_param(shipped: ShippedQuery, spec: ParamSpec) -> QueryUsageError:
    """The error of a required parameter left out: names it, says what it takes, shows the example."""
    what = f" ({spec.help})" if spec.help else ""
    example = f", e.g. {spec.usage()}" if spec.example else ""
    article = "an" if spec.kind in ("edition", "award-category") else "a"
    need = f"query {shipped.name} needs the parameter {spec.name}, {article} {spec.kind}"
    return QueryUsageError(f"{need}{what}{example}",
                           field=f"--param {spec.name}")


def bind_params(
    store: ox.Store | SparqlTarget, shipped: ShippedQuery, params: Mapping[str, str | Term] | None,
    require: bool = True,
) -> dict[ox.Variable, Term]:
    """Turn ``--param`` values into RDF terms (IRIs, or names looked up in the declared kind).

    ``require``: a required parameter left out is an error (a question asked by name).
    """
    params = {name.lstrip("?$"): value for name, value in (params or {}).items()}
    specs = {p.name: p for p in shipped.param_specs}
    present = set(re.findall(r"[?$](\w+)", shipped.text))
    for name in params:
        if name not in specs and name not in present:
            known = ", ".join(shipped.params) or "none"
            near = did_you_mean(name, shipped.params)
            raise QueryUsageError(f"the query has no variable ?{name} to bind (its parameters: {known})"
                                  + _suggestion(near), field=f"--param {name}")
    for spec in shipped.param_specs:
        value = params.get(spec.name)
        if require and spec.required and (value is None or (isinstance(value, str) and not value.strip())):
            raise missing_param(shipped, spec)
    bound: dict[ox.Variable, Term] = {}
    for name, value in params.items():
        declared = specs.get(name)
        if isinstance(value, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple):
            bound[ox.Variable(name)] = value
            continue
        if declared is None or not declared.cls:
            # an undeclared or text parameter: <IRI> or a plain string literal
            wrapped = value.startswith("<") and value.endswith(">")
            bound[ox.Variable(name)] = _as_iri(value) if wrapped else ox.Literal(value)  # type: ignore[assignment]
            continue
        iri = _as_iri(value)
        bound[ox.Variable(name)] = iri if iri is not None else lookup_by_label(store, declared.cls, value, name)
    return bound


def _as_iri(value: str) -> ox.NamedNode | None:
    value = value.strip()
    try:
        if value.startswith("<") and value.endswith(">"):
            return ox.NamedNode(value[1:-1])
        if re.match(r"^https?://", value):
            return ox.NamedNode(value)
        prefix, sep, local = value.partition(":")
        if sep and prefix in query_prefixes() and re.fullmatch(r"[\w.-]+", local):
            return ox.NamedNode(query_prefixes()[prefix] + local)
    except ValueError:
        raise QueryUsageError(f"not a valid IRI: {value!r}") from None
    return None


_LOOKUP = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT DISTINCT ?x ?label ?cls ?value WHERE {
  ?x a ?cls ; ?p ?name .
  VALUES ?p { rdfs:label skos:prefLabel skos:altLabel dct:identifier skos:notation }
  FILTER(STR(?name) = ?value)
  OPTIONAL { ?x rdfs:label ?label FILTER(LANG(?label) = "zh") }
} ORDER BY STR(?x)
"""

#: The same look-up by the literal itself: an index look-up instead of a scan of every name (the
#: names are plain, Chinese or English literals; other forms, such as typed notations, fall back to
#: _LOOKUP). The value goes in as literals written by pyoxigraph (N-Triples syntax, escaped), so it
#: cannot change the query: pyoxigraph pushes constants down, not values bound from outside.
_LOOKUP_EXACT = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT DISTINCT ?x ?label ?cls WHERE {
  VALUES ?name { NAMES }
  ?x ?p ?name .
  VALUES ?p { rdfs:label skos:prefLabel skos:altLabel dct:identifier skos:notation }
  ?x a ?cls .
  OPTIONAL { ?x rdfs:label ?label FILTER(LANG(?label) = "zh") }
} ORDER BY STR(?x)
"""


def _exact_lookup(value: str) -> str:
    names = [ox.Literal(value), ox.Literal(value, language="zh"), ox.Literal(value, language="en")]
    return _LOOKUP_EXACT.replace("NAMES", " ".join(str(n) for n in names))


_NAMES = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?x ?name ?label ?cls WHERE {
  ?x a ?cls ; ?p ?name .
  VALUES ?p { rdfs:label skos:prefLabel skos:altLabel dct:identifier skos:notation }
  OPTIONAL { ?x rdfs:label|skos:prefLabel ?label . FILTER(LANG(?label) = "zh") }
} ORDER BY STR(?x)
"""


def lookup_by_label(store: ox.Store | SparqlTarget, cls: str, value: str, name: str) -> ox.NamedNode:
    """The one instance of ``cls`` whose label, alias, identifier or notation is ``value``."""
    cls_iri = _as_iri(cls)
    assert cls_iri is not None, cls
    subs: dict[ox.Variable, Term] = {ox.Variable("cls"): cls_iri, ox.Variable("value"): ox.Literal(value.strip())}
    rows = [tuple(s) for s in execute(store, _exact_lookup(value.strip()), {ox.Variable("cls"): cls_iri})]
    if not rows:
        rows = [tuple(s) for s in execute(store, _LOOKUP, subs)]
    if len(rows) == 1:
        return rows[0][0]
    if not rows:
        near = did_you_mean(value.strip(), (n for _, n in names_of(store, cls)), scorer=fuzz.WRatio)
        raise QueryUsageError(f"no {cls} is called {value!r} (give a name, alias, identifier or IRI)"
                              + _suggestion(near), field=f"--param {name}")
    options = "; ".join(f"{r[0].value} ({r[1].value if r[1] else ''})" for r in rows)
    raise QueryUsageError(f"{value!r} names several {cls}: {options}; give the IRI", field=f"--param {name}")


def names_of(store: ox.Store | SparqlTarget, cls: str) -> list[tuple[str, str]]:
    """``(IRI, name)`` for every label, alias, identifier and notation of the instances of ``cls``."""
    return [(iri, name) for iri, name, _ in _names(store, cls)]


_NAMES_CACHE: dict[tuple[int, str], tuple[Any, list[tuple[str, str, str]]]] = {}


def _names(store: ox.Store | SparqlTarget, cls: str) -> list[tuple[str, str, str]]:
    # kept per store object: the form's completion asks at every keystroke (a scan of every name)
    cached = _NAMES_CACHE.get((id(store), cls))
    if cached is not None and cached[0] is store:
        return cached[1]
    cls_iri = _as_iri(cls)
    assert cls_iri is not None, cls
    rows = execute(store, _NAMES, {ox.Variable("cls"): cls_iri})
    names = [(row[0].value, row[1].value, row[2].value if row[2] is not None else "") for row in rows]
    if len(_NAMES_CACHE) >= 16:
        _NAMES_CACHE.clear()
    _NAMES_CACHE[(id(store), cls)] = (store, names)
    return names


def complete(store: ox.Store | SparqlTarget, kind: str, text: str, limit: int = 20) -> list[dict[str, str]]:
    """Instances of a kind whose names start with, contain or resemble ``text``: the form's completion.

    Each item: ``{"iri", "label", "match"}`` (``match`` is the name that matched: an alias, say).
    """
    cls = KINDS.get(kind)
    if cls is None:
        raise QueryUsageError(f"unknown parameter kind {kind!r} (known: {', '.join(KINDS)})")
    rows = _names(store, cls)
    names = [(iri, name) for iri, name, _ in rows]
    label: dict[str, str] = {}
    for iri, name, zh in rows:
        if zh or iri not in label:
            label[iri] = zh or name
    text = text.strip()
    ranked: dict[str, tuple[float, str]] = {}
    for iri, name in names:
        if not text:
            score = 0.0
        elif name == text:
            score = 300.0
        elif name.startswith(text):
            score = 200.0 - len(name) / 100
        elif text in name:
            score = 100.0 - len(name) / 100
        else:
            continue
        if name == label[iri]:
            score += 0.5  # the label before an alias that matches as well
        if iri not in ranked or ranked[iri][0] < score:
            ranked[iri] = (score, name)
    if text and len(ranked) < limit:
        for name, score, index in process.extract(text, [n for _, n in names], scorer=fuzz.WRatio,
                                                   limit=limit, score_cutoff=60):
            iri = names[index][0]
            if iri not in ranked:
                ranked[iri] = (score - 100, name)
    best = sorted(ranked.items(), key=lambda kv: (-kv[1][0], label[kv[0]], kv[0]))[:limit]
    return [{"iri": iri, "label": label[iri], "match": name} for iri, (_, name) in best]


def example_params(store: ox.Store | SparqlTarget, shipped: ShippedQuery) -> dict[str, str]:
    """Values for every required parameter: the declared example, or else the first instance of its kind.

    ``publish`` runs the parameterised questions with these, so none is shown unbound; on other data
    (a synthetic corpus) the example may not exist, and the first instance by IRI stands in.
    """
    values: dict[str, str] = {}
    for spec in shipped.param_specs:
        if not spec.required and not spec.example:
            continue
        value = spec.example
        if spec.cls:
            try:
                lookup_by_label(store, spec.cls, value, spec.name) if value else None
            except QueryError:
                value = ""
            if not value:
                names = names_of(store, spec.cls)
                if names:
                    value = f"<{names[0][0]}>"
        if value:
            values[spec.name] = value
    return values


def execute(store: ox.Store | SparqlTarget, text: str, subs: dict[ox.Variable, Term]) -> Any:
    if isinstance(store, ox.Store):
        return store.query(text, prefixes=query_prefixes(), substitutions=subs or None)
    return store.sparql(text, subs)


def list_queries() -> str:
    """The shipped queries with their questions and parameters, for ``query --list``."""
    lines = []
    for q in shipped_queries():
        usage = "".join(f" {p.usage()}" if p.required else f" [{p.usage()}]" for p in q.param_specs)
        lines.append(f"{q.name}{usage}\n    {q.question_zh}\n    {q.question_en}")
        for p in q.param_specs:
            need = "required" if p.required else "optional"
            lines.append(f"    · {p.name}: {p.kind}, {need}" + (f"; {p.help}" if p.help else ""))
    return "\n".join(lines) + "\n"


def queries_json() -> list[dict[str, Any]]:
    """The shipped queries with their parameter declarations (``serve``'s ``/queries.json``)."""
    return [q.as_json() for q in shipped_queries()]
