"""One exit-code table, kept: the error classes, the README's table and the mistakes a new user makes.

Read-only folders are real: a read-only bind mount (``mount --bind`` then ``remount,ro``), which
stops root too (root ignores permission bits); the tests that need one skip where mounting is not
allowed.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import chuzhi_graph
from chuzhi_graph import errors
from chuzhi_graph.build import BuildResult
from chuzhi_graph.cli import cli

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "chuzhi_graph"]


def all_error_classes() -> set[type[errors.ChuzhiError]]:
    """Every subclass of ChuzhiError in the package (every module imported first)."""
    for info in pkgutil.walk_packages(chuzhi_graph.__path__, "chuzhi_graph."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    found, todo = set(), [errors.ChuzhiError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def readme_table() -> dict[int, set[str]]:
    """The README's "Exit codes" table: code -> the class names its last column lists."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    table: dict[int, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].isdigit():
            table[int(cells[0])] = set(re.findall(r"`([A-Z]\w+)`", cells[2]))
    return table


def test_every_error_class_has_its_documented_code() -> None:
    table = readme_table()
    assert sorted(table) == [0, 1, 2, 3, 4, 5, 6, 7, 130]
    documented = {name: code for code, names in table.items() for name in names}
    classes = {cls.__name__: cls for cls in all_error_classes()}
    assert sorted(classes) == sorted(documented), "a class missing from the README's table, or one gone"
    for name, cls in classes.items():
        assert cls.exit_code == documented[name], f"{name}: code {cls.exit_code}, README says {documented[name]}"
    # the table in errors.py's docstring names the same codes
    doc = errors.__doc__ or ""
    for code, names in table.items():
        for name in names:
            assert re.search(rf"^{code}\s.*{name}", doc, re.M) or name in ("ChuzhiError", "WorkerFailed"), name


def test_a_wrong_code_fails_the_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk above can fail: a class whose code moves is caught."""
    monkeypatch.setattr(errors.OutputError, "exit_code", 3)
    with pytest.raises(AssertionError, match="OutputError: code 3, README says 6"):
        test_every_error_class_has_its_documented_code()


# ---------------------------------------------------------------- the mistakes, one line each


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_render_map_in_a_format_it_has_not(built: BuildResult) -> None:
    assert run("render", "map", "-g", str(built.out_dir), "--format", "gexf") == (
        2, "", "Error: field --format: unknown format 'gexf' for the map (known: html, png, svg)\n")


def test_an_unknown_edition_is_a_usage_error_in_render_stats_and_map(built: BuildResult) -> None:
    known = ("known: 2022, 2023, bigdata-2022, social-governance-2022, social-governance-2023, "
             "楚治——2022‘荆楚杯’社会治理创新十大案例, 楚治——2022“荆楚杯”大数据驱动地方治理现代化创新应用十佳案例, "
             "楚治——2023‘荆楚杯’社会治理创新十佳案例")
    for command in (["render", "institutions"], ["stats", "institutions"], ["render", "map"]):
        code, out, err = run(*command, "-g", str(built.out_dir), "--edition", "2099", "-o", "/nonexistent/x")
        assert (code, out, err) == (2, "", f"Error: field --edition: unknown edition '2099' ({known})\n"), command


def test_other_view_mistakes_are_usage_errors(built: BuildResult) -> None:
    graph = ["-g", str(built.out_dir)]
    assert run("render", "map", *graph, "--region", "999999")[0] == 2
    assert run("stats", "cases", *graph, "--unit-type", "外星机构")[0] == 2
    assert run("render", "domains", *graph, "--domain", "星际航行")[0] == 2
    assert run("query", "SELECT * { ?s ?p ?o } LIMIT 1", *graph, "--format", "turtle")[0] == 2


@pytest.mark.parametrize("command", [
    ["build", "--data", "{synth}", "--no-views", "--validate", "shacl"],
    ["publish", "--data", str(ROOT / "data")],
])
def test_ctrl_c_exits_130_with_one_line(tmp_path: Path, command: list[str]) -> None:
    """SIGINT to the whole process group, as a terminal sends it on Ctrl-C, once the work is under way
    (the build reads 3,000 synthetic cases: its validation takes seconds after the mapping)."""
    if "{synth}" in command:
        subprocess.run([*CLI, "synth", "--cases", "3000", "--seed", "1", "--output-dir", str(tmp_path / "synth")],
                       check=True, capture_output=True, cwd=ROOT)
        command = [str(tmp_path / "synth") if a == "{synth}" else a for a in command]
    out = tmp_path / "out"
    flag = "--output-dir" if command[0] == "publish" else "-g"
    proc = subprocess.Popen([*CLI, *command, flag, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, cwd=ROOT)
    assert proc.stderr is not None and proc.stdout is not None
    # a pipe gets a line per finished phase: the signal goes once the cases are mapped (validation and
    # writing still to come), however slowly a loaded machine got there
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("map cases:"):
            break
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=120)
    stdout, stderr = proc.stdout.read(), "".join(seen) + proc.stderr.read()
    # a pipe gets a line per finished phase before the error (a terminal's bars are erased): the error is last
    phases = re.sub(r"^[^:\n]+: \d+\.\d\d s(, [^\n]*)?\n", "", stderr, flags=re.MULTILINE)
    assert (proc.returncode, stdout, phases) == (130, "", "Error: interrupted (Ctrl-C)\n")
    assert not out.exists()  # nothing written: the staged folder is gone with the build


@pytest.fixture()
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A folder that cannot be written, even by root: ``tmp_path/ro`` bind-mounted read-only."""
    folder = tmp_path / "ro"
    folder.mkdir()
    yield folder
    subprocess.run(["umount", str(folder)], capture_output=True, check=False)


def make_read_only(folder: Path) -> None:
    for step in (["mount", "--bind", str(folder), str(folder)], ["mount", "-o", "remount,bind,ro", str(folder)]):
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode:
            subprocess.run(["umount", str(folder)], capture_output=True, check=False)
            pytest.skip(f"cannot make a read-only mount here: {done.stderr.strip()}")
    with pytest.raises(OSError, match="Read-only file system"):
        (folder / "probe").write_text("x")


def test_query_on_a_read_only_graph_folder_fails_at_once(built: BuildResult, read_only: Path) -> None:
    graph = read_only / "out"
    shutil.copytree(built.out_dir, graph, ignore=shutil.ignore_patterns("store", ".*"))  # never queried
    make_read_only(read_only)
    started = time.monotonic()
    code, out, err = run("query", "editions", "-g", str(graph))
    assert time.monotonic() - started < 10  # not the 60 s timeout
    assert (code, out, err) == (6, "", f"Error: {graph}: the graph folder is read-only (Read-only file system): "
                                       "a query writes its store in store/ there; query a writable copy\n")


def test_a_read_only_graph_folder_with_its_store_loaded_still_answers(built: BuildResult, read_only: Path) -> None:
    graph = read_only / "out"
    shutil.copytree(built.out_dir, graph, ignore=shutil.ignore_patterns(".*"))
    assert run("query", "editions", "-g", str(graph))[0] == 0  # loads the store and its snapshot
    make_read_only(read_only)
    code, out, _ = run("query", "editions", "-g", str(graph))
    assert code == 0 and "edition:bigdata-2022" in out


def test_synth_into_a_read_only_folder(read_only: Path) -> None:
    make_read_only(read_only)
    for target, where in ((read_only, read_only / "sources"), (read_only / "new", read_only / "new")):
        code, out, err = run("synth", "--cases", "10", "--output-dir", str(target))
        assert (code, out, err) == (6, "", f"Error: {where}: cannot make the folder: Read-only file system\n")
