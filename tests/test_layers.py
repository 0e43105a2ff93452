"""The package's import graph follows the pipeline (docs/architecture.md, "Layers").

Each module may import only modules listed before it in :data:`PIPELINE`, and no
module imports another's private (``_x``) names. Imports inside functions count too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "chuzhi_graph"

#: The modules from the bottom (imported by everything) to the top (the command line), as paths in the
#: package: the top-level foundations, then one subpackage per stage of the pipeline (records -> graph ->
#: sparql -> release -> views -> site), then the two jobs and the command line. A module imports only
#: modules before it here (so a package only packages before it); imports under ``if TYPE_CHECKING:``
#: are for types only and do not count.
PIPELINE = (
    "__init__", "errors", "formats",
    "core.prefixes", "core.namespace", "core.faults", "core.fileio", "core.dump", "core.assets", "core.progress",
    "core.vocabulary", "core.spreadsheet",
    "records.xlsx", "records.headers", "records.budget",
    "records.tables", "records.series", "records.provenance", "records.suggest", "records.synth",
    "extract.shared", "extract.prose", "extract.announcement",
    "graph.summary", "graph.mapping", "graph.validate",
    "sparql.limits", "sparql.store", "sparql.safety", "sparql.results", "sparql.protocol", "sparql.description",
    "sparql.worker", "sparql.lanes", "sparql.questions",
    "sparql.query", "sparql.serve",
    "release.reader", "release.remote", "release.diff",
    "views.graphs", "views.stats", "views.render", "views.geo", "views.mapcounts", "views.mapview",
    "build",
    "site.ontodoc", "site.search", "site.publish",
    "cli", "__main__",
)

#: The write side: what reads the record tables and maps them. The read side (``sparql``, ``release``,
#: ``views``) meets it only through the dump files (``core.dump``).
WRITE_SIDE = ("records", "extract", "graph")
READ_SIDE = ("sparql", "release", "views")

#: Violations that exist today, each to be removed from here when it is fixed (the tests fail on a
#: new violation and on a listed one that is gone): module -> what it breaks.
KNOWN: dict[str, set[str]] = {
    # chuzhi_graph.open(): every module imports the package (for __version__), so the package may not load
    # the read side at import time; the import is inside the function, for notebooks only
    "__init__": {"imports release.reader"},
    # Release.view(): the notebook shortcut for graphs.build_view(release.store(), ...); graphs reads the
    # dump through Release, so the shortcut imports graphs inside the method, never at import time
    # Release.page()/draw(): the same for the interactive page and the matplotlib picture in a notebook
    "release.reader": {"imports views.graphs", "imports views.mapview", "imports views.render"},
    # diff OLD NEW compares data folders and git revisions too: their record tables are mapped (inside
    # the function that reads a folder without a dump); dumps and folders with one are read as such
    "release.diff": {"write side graph.mapping", "write side records.tables"},
}


def check(module: str, kind: str, found: list[str]) -> None:
    """``found`` (e.g. ``imports build``) holds exactly the known violations of this kind."""
    known = {v for v in KNOWN.get(module, set()) if v.startswith(kind)}
    assert sorted(set(found) - known) == [], "new"
    assert sorted(known - set(found)) == [], "fixed: remove from KNOWN"


def path_of(module: str) -> Path:
    return PACKAGE / (module.replace(".", "/") + ".py")


def modules() -> list[str]:
    """Every module of the package as a dotted path inside it (``sparql.query``); a subpackage's
    ``__init__`` holds only its docstring (checked below) and is not listed."""
    return sorted(".".join(p.relative_to(PACKAGE).with_suffix("").parts) for p in PACKAGE.rglob("*.py")
                  if p.parent == PACKAGE or p.name != "__init__.py")


def subpackages() -> list[Path]:
    return sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())


def is_module(dotted: str) -> bool:
    return path_of(dotted).is_file()


def type_checking_lines(tree: ast.AST) -> set[int]:
    """The lines of the ``if TYPE_CHECKING:`` blocks (imports for annotations only)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for inner in node.body:
                lines |= set(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def imports(module: str) -> list[tuple[int, str, list[str]]]:
    """``(line, imported module, imported names)`` for every run-time import of the package in ``module``."""
    tree = ast.parse(path_of(module).read_text(encoding="utf-8"))
    typing_only = type_checking_lines(tree)
    found: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("chuzhi_graph"):
            inner = ".".join(node.module.split(".")[1:]) if node.module else ""
            if inner and is_module(inner):
                found.append((node.lineno, inner, [a.name for a in node.names]))
                continue
            for alias in node.names:  # from chuzhi_graph[.package] import x: a module or a name of __init__
                name = f"{inner}.{alias.name}" if inner else alias.name
                target = name if is_module(name) else (f"{inner}.__init__" if inner else "__init__")
                found.append((node.lineno, target, [] if target == name else [alias.name]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, ".".join(a.name.split(".")[1:]), []) for a in node.names
                      if a.name.startswith("chuzhi_graph.")]
    return found


def private_attributes(module: str) -> list[tuple[int, str]]:
    """``module._x`` uses where ``module`` is a package module imported under that name."""
    tree = ast.parse(path_of(module).read_text(encoding="utf-8"))
    aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chuzhi_graph"):
            inner = ".".join((node.module or "").split(".")[1:])
            aliases |= {a.asname or a.name for a in node.names
                        if is_module(f"{inner}.{a.name}" if inner else a.name)}
        elif isinstance(node, ast.Import):
            aliases |= {a.asname for a in node.names if a.name.startswith("chuzhi_graph.") and a.asname}
    return [(node.lineno, f"{node.value.id}.{node.attr}") for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
            and node.attr.startswith("_") and not node.attr.startswith("__")]


def test_every_module_has_a_place_in_the_pipeline() -> None:
    assert [m for m in modules() if m not in PIPELINE] == []
    assert [m for m in PIPELINE if m not in modules()] == []


def test_each_package_is_one_stretch_of_the_pipeline() -> None:
    """A package's modules sit together, so the order between modules is an order between packages."""
    packages = [m.split(".")[0] for m in PIPELINE if "." in m]
    runs = [p for i, p in enumerate(packages) if i == 0 or packages[i - 1] != p]
    assert len(runs) == len(set(runs)), runs


def test_the_top_level_holds_a_handful_of_modules() -> None:
    top = [m for m in modules() if "." not in m]
    assert top == ["__init__", "__main__", "build", "cli", "errors", "formats"]


@pytest.mark.parametrize("package", subpackages(), ids=lambda p: p.name)
def test_a_subpackage_init_is_only_its_docstring(package: Path) -> None:
    tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    assert len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr)


@pytest.mark.parametrize("module", modules())
def test_no_module_imports_one_above_it(module: str) -> None:
    rank = {name: i for i, name in enumerate(PIPELINE)}
    upward = [f"imports {target}" for _, target, _ in imports(module)
              if target != module and rank.get(target, len(PIPELINE)) > rank.get(module, -1)]
    check(module, "imports", upward)


@pytest.mark.parametrize("module", [m for m in modules() if m.split(".")[0] in READ_SIDE])
def test_the_read_side_imports_nothing_of_the_write_side(module: str) -> None:
    found = sorted({f"write side {target}" for _, target, _ in imports(module) if target.split(".")[0] in WRITE_SIDE})
    check(module, "write side", found)


@pytest.mark.parametrize("module", modules())
def test_no_private_name_crosses_modules(module: str) -> None:
    private = [f"uses {target}.{name}" for _, target, names in imports(module) if target != module
               for name in names if name.startswith("_") and not name.startswith("__")]
    private += [f"uses {name}" for _, name in private_attributes(module)]
    check(module, "uses", private)


def test_the_checks_see_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks above can fail: a module importing upward and a private name is caught; an import
    for types only is not counted."""
    (tmp_path / "errors.py").write_text("from typing import TYPE_CHECKING\n"
                                        "from chuzhi_graph.cli import _x\nfrom chuzhi_graph import cli as c\n"
                                        "if TYPE_CHECKING:\n    from chuzhi_graph.sparql.query import Q\n"
                                        "def f():\n    return c._y\n", encoding="utf-8")
    (tmp_path / "cli.py").write_text("", encoding="utf-8")
    (tmp_path / "sparql").mkdir()
    (tmp_path / "sparql" / "query.py").write_text("from chuzhi_graph.graph.mapping import x\n", encoding="utf-8")
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "mapping.py").write_text("", encoding="utf-8")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path)
    assert imports("errors") == [(2, "cli", ["_x"]), (3, "cli", [])]
    assert private_attributes("errors") == [(7, "c._y")]
    with pytest.raises(AssertionError):
        test_no_module_imports_one_above_it("errors")
    with pytest.raises(AssertionError):
        test_no_private_name_crosses_modules("errors")
    with pytest.raises(AssertionError):
        test_the_read_side_imports_nothing_of_the_write_side("sparql.query")


def test_only_the_command_line_imports_click() -> None:
    users = [m for m in modules() for line in path_of(m).read_text(encoding="utf-8").splitlines()
             if line.strip().startswith(("import click", "from click"))]
    assert sorted(set(users)) == ["cli"]


#: A function longer than this says why in a comment on its ``def`` line: a noqa with the reason in
#: brackets after the codes, or ``long:`` and the reason.
LONG = 60


@pytest.mark.parametrize("module", modules())
def test_long_functions_say_why(module: str) -> None:
    source = path_of(module).read_text(encoding="utf-8")
    lines = source.splitlines()
    silent = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
            length = node.end_lineno - node.lineno + 1
            signature = " ".join(lines[node.lineno - 1:node.body[0].lineno - 1])
            if length > LONG and not re.search(r"#\s*(noqa:[^(#]*\(.+\)|long:\s*\S)", signature):
                silent.append(f"long: {node.name}")
    check(module, "long", silent)


#: No function is longer than this, except those listed here with their reason (a hard limit: past it
#: a comment on the ``def`` line is not enough; the function is split, or listed here and reviewed).
HARD = 80
OVER_HARD: dict[str, str] = {
    "build._build": "the build's steps in their order, each one call",
    "build.dataset_description": "one VoID/DCAT statement per line, read top to bottom",
    "records.synth.generate": "one seeded sequence: splitting it reorders the random draws and the bytes",
    "views.geo.make_boundaries": "one pass per region; run only by tools/make_boundaries.py",
    "views.mapview.map_data": "three query results rolled up to prefecture, county and side groups",
    "views.render.page_data": "the page's data, one block per part it shows",
    "views.render.draw_picture": "a straight sequence of matplotlib calls",
}


def test_no_function_is_over_the_hard_limit_unless_listed_with_its_reason() -> None:
    over = set()
    for module in modules():
        for node in ast.walk(ast.parse(path_of(module).read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                if node.end_lineno - node.lineno + 1 > HARD:
                    over.add(f"{module}.{node.name}")
    assert sorted(over - set(OVER_HARD)) == [], "split it, or list it with its reason"
    assert sorted(set(OVER_HARD) - over) == [], "now short: remove it from OVER_HARD"
    assert not [m for m in modules() if "to be split" in path_of(m).read_text(encoding="utf-8")]


def test_the_architecture_page_lists_every_module_in_pipeline_order() -> None:
    page = (PACKAGE.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = [row.replace("/", ".") for row in re.findall(r"^\| `([a-z_/]+)\.py`", page, re.MULTILINE)]
    assert sorted(listed) == modules()
    assert listed == [m for m in PIPELINE if m in listed]
