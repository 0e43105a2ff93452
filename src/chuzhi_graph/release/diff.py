"""Differences between two releases of the graph, grouped by resource.

A release is given as a dump (``.ttl``, ``.nt``, ``.jsonld``, ``.trig``), a folder holding
one (a build's ``out/`` or a published site), a data folder (``cases.csv`` ...), or a git
revision of the repository (``HEAD~1``, ``v0.1.0``; its ``data/`` and ``ontology/`` are
mapped as they were at that revision).

Blank nodes (the ordered applicant lists) are compared with :mod:`rdflib.compare`:
both graphs are canonicalised, so a list that did not change is not reported, and a list
that changed is reported as the old list removed and the new list added.

>>> d = diff_releases("out/chuzhi.nt", "data")    # the build against its data folder mapped again
>>> d.summary()
'cases: 0 added, 0 removed, 0 changed; units: 0 added, 0 removed, 0 changed; triples: +0 -0'
"""

from __future__ import annotations

import json
import logging
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import graph_diff, isomorphic
from rdflib.term import Node

from chuzhi_graph import formats
from chuzhi_graph.core.namespace import CHZ, DEFAULT_BASE, PREFIXES
from chuzhi_graph.errors import DataError, NotBuiltError, UsageError
from chuzhi_graph.release.reader import Release

if TYPE_CHECKING:
    from chuzhi_graph.sparql.query import QueryResult

log = logging.getLogger(__name__)

#: The Talis changeset vocabulary, used for the Turtle form of a diff.
CS = Namespace("http://purl.org/vocab/changeset/schema#")
_LABELS = (URIRef(PREFIXES["skos"] + "prefLabel"), URIRef(PREFIXES["rdfs"] + "label"),
           URIRef(PREFIXES["dct"] + "title"))

Triple = tuple[Node, Node, Node]


# ---------------------------------------------------------------- loading releases


def load_release(spec: str | Path, *, base: str = DEFAULT_BASE, repo: str | Path = ".") -> Graph:
    """The graph of one release: a dump file, a folder with a dump (a build folder or a published
    site, through :class:`~chuzhi_graph.release.reader.Release`), a data folder or a git revision.

    >>> g = load_release("out/chuzhi.nt")
    >>> len(load_release("out")) == len(g)           # a folder holding the dump
    True
    >>> g = load_release("HEAD~1")                   # doctest: +SKIP
    """
    path = Path(spec)
    if not path.exists():
        return _from_git(str(spec), base, Path(repo))
    try:
        release = Release.open(path, base=base)
    except NotBuiltError:  # a folder without a dump: the record tables, mapped
        if (path / "cases.csv").is_file() or (path / "cases.xlsx").is_file():
            return _map_folder(path, base)
        raise DataError("no dump (chuzhi.nt) and no record tables (cases.csv) in this folder", file=path) from None
    return release.graph()


def _map_folder(data_dir: Path, base: str, ontology_dir: Path | None = None) -> Graph:
    from chuzhi_graph.core.dump import to_rdflib
    from chuzhi_graph.graph.mapping import map_dataset  # the one write-side use: record tables to compare
    from chuzhi_graph.records.tables import load_dataset

    return to_rdflib(map_dataset(load_dataset(data_dir, ontology_dir=ontology_dir), base))


def _from_git(rev: str, base: str, repo: Path) -> Graph:
    """Map ``data/`` (with ``ontology/``) as it was at git revision ``rev``."""
    def git(*args: str) -> bytes:
        proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
        if proc.returncode != 0:
            raise DataError(f"not a file, folder or git revision: {rev!r}", field="release")
        return proc.stdout

    git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    prefix = git("rev-parse", "--show-prefix").decode().strip()
    paths = [p for p in ("data", "ontology")
             if git("ls-tree", "--name-only", rev, f"{prefix}{p}").strip()]
    if "data" not in paths:
        raise DataError(f"git revision {rev!r} has no data/ folder", field="release")
    archive = git("archive", "--format=tar", rev, *(f"{prefix}{p}" for p in paths))
    with tempfile.TemporaryDirectory(prefix="chuzhi-diff-") as tmp:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, filter="data")
            else:  # Python < 3.10.12: the archive comes from our own repository
                tar.extractall(tmp)
        root = Path(tmp) / prefix
        onto = root / "ontology" if "ontology" in paths else None
        return _map_folder(root / "data", base, onto)


# ---------------------------------------------------------------- the diff


@dataclass
class ResourceChange:
    """The triples added and removed for one resource (blank nodes belong to their owner)."""

    iri: str
    label: str
    kind: str  # "case", "unit", ... or "" for other resources
    status: str  # "added", "removed" or "changed"
    added: list[Triple] = field(default_factory=list)
    removed: list[Triple] = field(default_factory=list)


@dataclass
class Diff:
    """The difference between two releases."""

    changes: list[ResourceChange]
    added: list[Triple]
    removed: list[Triple]
    unchanged: int
    prefixes: dict[str, str]

    def counts(self, kind: str) -> dict[str, int]:
        out = {"added": 0, "removed": 0, "changed": 0}
        for c in self.changes:
            if c.kind == kind:
                out[c.status] += 1
        return out

    def summary(self) -> str:
        """One line: cases and units added, removed, changed, and the triple counts."""
        parts = []
        for kind, plural in (("case", "cases"), ("unit", "units")):
            c = self.counts(kind)
            parts.append(f"{plural}: {c['added']} added, {c['removed']} removed, {c['changed']} changed")
        parts.append(f"triples: +{len(self.added)} -{len(self.removed)}")
        return "; ".join(parts)


def _kind(graph: Graph, node: Node) -> str:
    for cls, kind in ((CHZ.Case, "case"), (CHZ.Unit, "unit"), (CHZ.Edition, "edition"),
                      (CHZ.Domain, "domain")):
        if (node, RDF.type, cls) in graph:
            return kind
    return ""


def zh_label(graph: Graph, node: Node) -> str:
    """The Chinese label of a node (else any label, else empty)."""
    fallback = ""
    for p in _LABELS:
        for o in graph.objects(node, p):
            if isinstance(o, Literal):
                if o.language == "zh":
                    return str(o)
                fallback = fallback or str(o)
    return fallback


def _owners(graph: Graph) -> dict[Node, Node]:
    """Blank node -> the IRI subject that reaches it (through other blank nodes)."""
    owners: dict[Node, Node] = {}
    for s in sorted((s for s in set(graph.subjects()) if isinstance(s, URIRef)), key=str):
        stack: list[Node] = [s]
        while stack:
            cur = stack.pop()
            for o in graph.objects(cur, None):
                if isinstance(o, BNode) and o not in owners:
                    owners[o] = s
                    stack.append(o)
    return owners


_ORPHANS = URIRef("urn:chuzhi:orphan-blank-nodes")


def _split(graph: Graph) -> tuple[set[Triple], dict[Node, Graph]]:
    """Triples without blank nodes, and the blank-node triples of each owning resource."""
    owners = _owners(graph)
    named: set[Triple] = set()
    parts: dict[Node, Graph] = {}
    for t in graph:
        s, _, o = t
        if isinstance(s, BNode) or isinstance(o, BNode):
            owner = owners.get(s, _ORPHANS) if isinstance(s, BNode) else s
            parts.setdefault(owner, Graph()).add(t)
        else:
            named.add(t)
    return named, parts


def diff_graphs(old: Graph, new: Graph) -> Diff:
    """Triples only in ``old`` (removed) and only in ``new`` (added), grouped by resource.

    Triples without blank nodes are compared as they are. The blank-node triples of each
    resource (its applicant list) are compared as a small graph with
    :func:`rdflib.compare.isomorphic`; when they differ, :func:`rdflib.compare.graph_diff`
    on the canonical forms gives the removed and added triples. (Canonicalising the whole
    graph at once would relabel unrelated lists whose structure ties.)

    >>> a = Graph(); b = Graph()
    >>> _ = b.add((URIRef("http://x/a"), RDF.type, CHZ.Case))
    >>> diff_graphs(a, b).summary()
    'cases: 1 added, 0 removed, 0 changed; units: 0 added, 0 removed, 0 changed; triples: +1 -0'
    """
    named_old, parts_old = _split(old)
    named_new, parts_new = _split(new)
    removed: list[Triple] = list(named_old - named_new)
    added: list[Triple] = list(named_new - named_old)
    by_owner: dict[Node, tuple[list[Triple], list[Triple]]] = {}
    for t in removed:
        by_owner.setdefault(t[0], ([], []))[0].append(t)
    for t in added:
        by_owner.setdefault(t[0], ([], []))[1].append(t)
    unchanged = len(named_old & named_new)
    for owner in sorted(set(parts_old) | set(parts_new), key=str):
        g_old, g_new = parts_old.get(owner, Graph()), parts_new.get(owner, Graph())
        if isomorphic(g_old, g_new):
            unchanged += len(g_old)
            continue
        both, only_old, only_new = graph_diff(g_old, g_new)  # canonical blank-node labels
        unchanged += len(both)
        rem, add = by_owner.setdefault(owner, ([], []))
        rem += list(only_old)
        add += list(only_new)
        removed += list(only_old)
        added += list(only_new)
    changes = []
    for owner, (rem, add) in by_owner.items():
        in_old, in_new = (owner, None, None) in old, (owner, None, None) in new
        changes.append(ResourceChange(
            str(owner), zh_label(new, owner) or zh_label(old, owner),
            _kind(new, owner) or _kind(old, owner),
            "changed" if in_old and in_new else "added" if in_new else "removed",
            sorted(add, key=_sort_key), sorted(rem, key=_sort_key),
        ))
    changes.sort(key=lambda c: (c.kind == "", c.kind, c.iri))
    prefixes = {**_data_prefixes(), **PREFIXES}
    return Diff(changes, sorted(added, key=_sort_key), sorted(removed, key=_sort_key), unchanged, prefixes)


def diff_releases(old: str | Path, new: str | Path, *, base: str = DEFAULT_BASE,
                  repo: str | Path = ".") -> Diff:
    """Load two releases (see :func:`load_release`) and diff them."""
    return diff_graphs(load_release(old, base=base, repo=repo), load_release(new, base=base, repo=repo))


def _sort_key(t: Triple) -> tuple[str, str, str]:
    return (t[0].n3(), t[1].n3(), t[2].n3())


def _data_prefixes(base: str = DEFAULT_BASE) -> dict[str, str]:
    from chuzhi_graph.core.namespace import data_prefixes

    return data_prefixes(base)


# ---------------------------------------------------------------- output


def short(node: Node, prefixes: dict[str, str]) -> str:
    """A node in Turtle syntax, IRIs as prefixed names where a prefix fits.

    >>> short(URIRef("https://w3id.org/chuzhi/def#Case"), PREFIXES)
    'chz:Case'
    """
    if isinstance(node, URIRef):
        text = str(node)
        best = ""
        for prefix, ns in prefixes.items():
            local = text[len(ns):]
            if text.startswith(ns) and len(ns) > len(prefixes.get(best, "")) and _local_ok(local):
                best = prefix
        if best:
            return f"{best}:{text[len(prefixes[best]):]}"
    if isinstance(node, BNode):
        return f"_:{str(node)[:12]}"
    return node.n3()


def _local_ok(local: str) -> bool:
    return bool(local) and all(ch.isalnum() or ch in "-_" for ch in local) and not local.startswith("-")


def to_text(d: Diff) -> str:
    """Human-readable diff: one block per resource, ``-`` removed and ``+`` added triples."""
    lines = []
    for c in d.changes:
        head = f"{short(URIRef(c.iri), d.prefixes)}"
        if c.label:
            head += f"  {c.label}"
        lines.append(f"{head}  ({c.status})")
        for t in c.removed:
            lines.append("  - " + " ".join(short(x, d.prefixes) for x in t))
        for t in c.added:
            lines.append("  + " + " ".join(short(x, d.prefixes) for x in t))
    lines.append(d.summary())
    return "\n".join(lines) + "\n"


def to_json(d: Diff) -> str:
    """The diff as JSON: summary counts and, per resource, triples in N-Triples syntax."""
    def nt(triples: Iterable[Triple]) -> list[list[str]]:
        return [[x.n3() for x in t] for t in triples]

    doc = {
        "summary": d.summary(),
        "counts": {"cases": d.counts("case"), "units": d.counts("unit"),
                   "triples": {"added": len(d.added), "removed": len(d.removed), "unchanged": d.unchanged}},
        "resources": [
            {"iri": c.iri, "label": c.label, "kind": c.kind, "status": c.status,
             "removed": nt(c.removed), "added": nt(c.added)}
            for c in d.changes
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def to_changeset(d: Diff, iri: str = "urn:chuzhi:changes") -> Graph:
    """The diff as RDF: one ``cs:ChangeSet`` per resource, statements reified.

    Uses the changeset vocabulary (http://purl.org/vocab/changeset/schema#): each changed
    resource is a ``cs:subjectOfChange``; each triple a ``cs:addition`` or ``cs:removal``.
    """
    g = Graph()
    for prefix, ns in d.prefixes.items():
        g.bind(prefix, ns)
    g.bind("cs", CS)
    for i, c in enumerate(d.changes, 1):
        cs = URIRef(f"{iri}#{i}")
        g.add((cs, RDF.type, CS.ChangeSet))
        g.add((cs, CS.subjectOfChange, URIRef(c.iri)))
        g.add((cs, CS.changeReason, Literal(c.status)))
        for prop, triples in ((CS.removal, c.removed), (CS.addition, c.added)):
            for s, p, o in triples:
                st = BNode()
                g.add((cs, prop, st))
                g.add((st, RDF.type, RDF.Statement))
                g.add((st, RDF.subject, s))
                g.add((st, RDF.predicate, p))
                g.add((st, RDF.object, o))
    return g


def to_turtle(d: Diff) -> str:
    return to_changeset(d).serialize(format="turtle")


def format_diff(d: Diff, fmt: str = "text") -> str:
    """The diff in one of the ``diff`` formats of the registry (:mod:`chuzhi_graph.formats`)."""
    entry = formats.lookup("diff", fmt)
    if entry is None:
        raise UsageError(f"unknown diff format {fmt!r} (known: {', '.join(formats.names('diff'))})", field="--format")
    return str(entry.write(d))


# ---------------------------------------------------------------- two editions of the series


@dataclass
class EditionFacts:
    """One edition as the ``editions`` query gives it."""

    iri: str
    id: str
    track: str
    year: str
    title: str
    cases: int
    stated: int | None
    complete: bool | None

    def describe(self) -> str:
        listed = {True: "complete list", False: "partial: the sources name only these", None: "completeness unknown"}
        stated = f", {self.stated} awarded (stated)" if self.stated is not None else ""
        return f"{self.id} ({self.title}; {self.cases} case(s) in the graph{stated}; {listed[self.complete]})"


@dataclass
class EditionDiff:
    """Winning units of two editions: recurring, new (only in ``new``), gone (only in ``old``)."""

    old: EditionFacts
    new: EditionFacts
    units: list[dict[str, object]]  # status, unit, label, prefecture, old_cases, new_cases

    def of(self, status: str) -> list[dict[str, object]]:
        return [u for u in self.units if u["status"] == status]

    def prefectures(self, status: str) -> list[str]:
        """Prefectures with winners in both editions (recurring), only in the new, only in the old."""
        def prefs(side: str) -> set[str]:
            return {str(u["prefecture"]) for u in self.units if u["prefecture"] and int(u[side]) > 0}  # type: ignore[call-overload]

        old, new = prefs("old_cases"), prefs("new_cases")
        chosen = {"recurring": old & new, "new": new - old, "gone": old - new}[status]
        return sorted(chosen)

    def notes(self) -> list[str]:
        out = []
        if self.old.track != self.new.track:
            out.append(f"the editions are of different tracks ({self.old.track}, {self.new.track})")
        partial = [e.id for e in (self.old, self.new) if e.complete is not True]
        if partial:
            out.append(f"{' and '.join(partial)} {'is' if len(partial) == 1 else 'are'} not complete in the graph: "
                       "a unit shown as new or gone may have won in the other edition too")
        return out

    def summary(self) -> str:
        return (f"units: {len(self.of('recurring'))} recurring, {len(self.of('new'))} new, "
                f"{len(self.of('gone'))} gone")


_STATUS_ORDER = {"recurring": 0, "new": 1, "gone": 2}


def diff_editions(out_dir: str | Path, old: str, new: str, *, timeout: float | None = 60.0) -> EditionDiff:
    """Compare the winning units of two editions in the built graph at ``out_dir``.

    ``old`` and ``new`` are edition identifiers (``social-governance-2022``), titles or IRIs.

    >>> d = diff_editions("out", "social-governance-2022", "social-governance-2023")
    >>> d.summary()
    'units: 0 recurring, 1 new, 2 gone'
    """
    from chuzhi_graph.sparql.query import run_query

    store = Release.open(out_dir).store(persistent=True)
    editions = {}
    for row in _dicts(run_query(store, "editions", timeout=timeout)):
        iri = row["edition"]
        complete = row.get("completeList")
        editions[iri] = EditionFacts(
            iri=iri, id=iri.rsplit("/", 1)[-1], track=row["track"], year=row["year"], title=row["title"],
            cases=int(row["casesInGraph"]), stated=int(row["statedAwarded"]) if row.get("statedAwarded") else None,
            complete=None if not complete else complete == "true",
        )
    old_iri, new_iri = _bound_edition(store, old, "OLD"), _bound_edition(store, new, "NEW")
    params = {"old": f"<{old_iri}>", "new": f"<{new_iri}>"}
    rows = _dicts(run_query(store, "edition-diff", params, timeout=timeout))
    units = sorted(
        ({"status": r["status"], "unit": r["unit"], "label": r["unitLabel"], "prefecture": r.get("prefectureLabel", ""),
          "old_cases": int(r["oldCases"]), "new_cases": int(r["newCases"])} for r in rows),
        key=lambda u: (_STATUS_ORDER[str(u["status"])], str(u["label"])),
    )
    return EditionDiff(editions[old_iri], editions[new_iri], units)


def _dicts(result: QueryResult) -> list[dict[str, str]]:
    """Rows as ``variable -> lexical value`` ("" where unbound)."""
    names = result.variables
    return [{n: (t.value if t is not None and not isinstance(t, ox.Triple) else "")
             for n, t in zip(names, row, strict=True)} for row in result.rows]


def _bound_edition(store: ox.Store, value: str, name: str) -> str:
    """The IRI of the edition called ``value`` (identifier, title or IRI)."""
    from chuzhi_graph.errors import QueryError
    from chuzhi_graph.sparql.query import bind_params, shipped_query

    shipped = shipped_query("edition-diff")
    assert shipped is not None
    try:
        # both parameters are required: bind the one value to both, keep one
        term = bind_params(store, shipped, {"old": value, "new": value})[ox.Variable("old")]
    except QueryError as exc:
        # the same class (a usage error for an unknown name, exit 2, as in `query --param`)
        raise type(exc)(exc.message.replace("chz:Edition", "edition"), field=name) from None
    return term.value  # type: ignore[union-attr]


def format_edition_diff(d: EditionDiff, fmt: str = "text") -> str:
    """The edition diff as text (for people) or JSON."""
    if fmt == "json":
        return json.dumps({
            "old": d.old.__dict__, "new": d.new.__dict__, "notes": d.notes(), "units": d.units,
            "prefectures": {s: d.prefectures(s) for s in _STATUS_ORDER},
        }, ensure_ascii=False, indent=2) + "\n"
    lines = [f"old: {d.old.describe()}", f"new: {d.new.describe()}"]
    lines += [f"note: {n}" for n in d.notes()]
    for status in _STATUS_ORDER:
        units = d.of(status)
        lines.append(f"{status} units ({len(units)}):")
        for u in units:
            lines.append(f"  {u['label']}  [{u['prefecture'] or '-'}]  cases: {u['old_cases']} -> {u['new_cases']}")
    for status in _STATUS_ORDER:
        lines.append(f"{status} prefectures: {'、'.join(d.prefectures(status)) or '-'}")
    lines.append(d.summary())
    return "\n".join(lines) + "\n"
