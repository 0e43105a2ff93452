"""The command line's one vocabulary of options (docs/decisions/0001-option-names.md).

-g/--graph names the built graph in every command, -o/--output a file written,
--output-dir a folder written, --format offers the library's registry; the 0.1
spellings still work for one release, hidden from --help.
"""

from __future__ import annotations

import filecmp
import warnings
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from chuzhi_graph import formats
from chuzhi_graph.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "sources" / "000_451b57e0ba31c9df.txt"

#: Commands that read or write the built graph, with the arguments they need besides it.
GRAPH_COMMANDS = {
    "build": [],
    "query": ["units-with-several-cases"],
    "serve": [],
    "push": ["--endpoint", "http://127.0.0.1:9/store"],
    "render": ["institutions"],
    "stats": ["institutions"],
    "publish": ["--output-dir", "/nonexistent/site"],  # refused before anything is written
}
#: Old spelling -> new spelling, per command (hidden aliases for one release).
RENAMED = {
    "build": {"--out": "--graph"},
    "query": {"--out": "--graph"},
    "serve": {"--out": "--graph"},
    "push": {"--out": "--graph"},
    "synth": {"--out": "--output-dir"},
    "publish": {"--out": "--output-dir"},
    "extract": {"--out": "--output-dir", "--report": "--output"},
}


def invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args))


def option(command: str, name: str) -> click.Option:
    found = [p for p in cli.commands[command].params if isinstance(p, click.Option) and name in p.opts]
    assert len(found) == 1, (command, name)
    return found[0]


@pytest.mark.parametrize("command", sorted(GRAPH_COMMANDS))
def test_the_graph_is_dash_g_graph_everywhere(command: str) -> None:
    help_text = invoke(command, "--help").stdout
    assert "-g, --graph PATH" in help_text
    assert "--out " not in help_text and "--out," not in help_text


@pytest.mark.parametrize("command", sorted(RENAMED))
def test_old_spellings_are_hidden_from_help(command: str) -> None:
    help_text = invoke(command, "--help").stdout
    for old, new in RENAMED[command].items():
        assert new in help_text
        for line in help_text.splitlines():
            assert not line.lstrip().startswith((f"{old} ", f"{old},")), line


def test_dash_o_is_always_a_file() -> None:
    """Hidden or not: no command takes -o for a folder (0.1's publish -o and extract -o did)."""
    for name, command in cli.commands.items():
        for param in command.params:
            if isinstance(param, click.Option) and "-o" in param.opts:
                assert param.opts == ["-o", "--output"] and not param.hidden, name
                assert isinstance(param.type, click.Path) and not param.type.dir_okay, name
            if isinstance(param, click.Option) and isinstance(param.type, click.Path) and not param.type.file_okay:
                assert "-o" not in param.opts, name


def test_extract_dash_o_writes_the_report_file(tmp_path: Path) -> None:
    result = invoke("extract", str(SOURCE), "-o", str(tmp_path / "review.md"))
    assert (result.exit_code, result.stdout) == (0, ""), result.stderr
    assert (tmp_path / "review.md").is_file()
    assert (tmp_path / "review.md").read_text(encoding="utf-8").startswith("# extract: 000_451b57e0ba31c9df.txt")


@pytest.mark.parametrize("edition", ["2022", "bigdata-2022",
                                     "楚治——2022“荆楚杯”大数据驱动地方治理现代化创新应用十佳案例"])
def test_extract_edition_takes_an_id_a_year_or_a_label(edition: str) -> None:
    result = invoke("extract", str(SOURCE), "--edition", edition)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# extract: 000_451b57e0ba31c9df.txt -> edition bigdata-2022\n")


def test_extract_edition_unknown_or_of_another_track_is_a_usage_error() -> None:
    unknown = invoke("extract", str(SOURCE), "--edition", "no-such-thing")
    assert unknown.exit_code == 2
    assert "Invalid value for '--edition': unknown edition 'no-such-thing'" in unknown.stderr
    other = invoke("extract", str(SOURCE), "--edition", "bigdata-2022", "--track", "social-governance")
    assert other.exit_code == 2 and "is of track 'bigdata', not 'social-governance'" in other.stderr


def test_one_default_per_limit() -> None:
    from chuzhi_graph.sparql.limits import DEFAULT_MAX_MEMORY_MB, DEFAULT_TIMEOUT
    from chuzhi_graph.sparql.serve import ServeConfig
    from chuzhi_graph.sparql.worker import DEFAULT_MEMORY

    for command in ("query", "serve"):
        assert option(command, "--max-memory").default == DEFAULT_MAX_MEMORY_MB, command
        assert option(command, "--timeout").default == DEFAULT_TIMEOUT, command
    assert ServeConfig().max_memory == DEFAULT_MEMORY == DEFAULT_MAX_MEMORY_MB * 2**20


def test_every_command_writing_csv_has_bom() -> None:
    for name, command in cli.commands.items():
        formats_ = next((p for p in command.params if isinstance(p, click.Option) and "--format" in p.opts), None)
        if formats_ is not None and "csv" in getattr(formats_.type, "choices", ()):
            assert option(name, "--bom").default is True, name


def test_stats_csv_starts_with_a_bom_unless_asked(built) -> None:
    args = ["stats", "institutions", "-g", str(built.out_dir), "--format", "csv"]
    assert invoke(*args).stdout_bytes.startswith(b"\xef\xbb\xbf")
    assert not invoke(*args, "--no-bom").stdout_bytes.startswith(b"\xef\xbb\xbf")


def test_help_names_only_options_that_exist() -> None:
    assert "OUT" not in option("build", "--wait").help
    import inspect

    from chuzhi_graph import build as build_module
    assert "--format" not in inspect.getsource(build_module).split("JSON-LD left out", 1)[1].split(")", 1)[0]


def test_format_choices_come_from_the_registries() -> None:
    assert list(option("query", "--format").type.choices) == list(formats.names("result", "result-graph"))
    assert list(option("render", "--format").type.choices) == list(formats.names("picture", "map"))
    assert list(option("stats", "--format").type.choices) == list(formats.names("stats"))
    assert list(option("diff", "--format").type.choices) == list(formats.names("diff"))


def test_old_and_new_graph_spellings_give_the_same_answer(built) -> None:
    new = invoke("query", "units-with-several-cases", "-g", str(built.out_dir))
    assert new.exit_code == 0, new.stderr
    with pytest.warns(DeprecationWarning, match=r"--out is deprecated, use --graph \(removed in 0.3\)"):
        old = invoke("query", "units-with-several-cases", "--out", str(built.out_dir))
    assert (old.exit_code, old.stdout) == (0, new.stdout)
    assert invoke("query", "units-with-several-cases", "--graph", str(built.out_dir)).stdout == new.stdout


def test_both_spellings_at_once_is_a_usage_error(built) -> None:
    result = invoke("query", "units-with-several-cases", "--out", str(built.out_dir), "-g", str(built.out_dir))
    assert result.exit_code == 2
    assert result.stderr.endswith("Error: --out is the old spelling of --graph: give only --graph\n")


def test_build_with_the_old_out(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result = invoke("build", "--out", str(tmp_path / "old"), "--no-views", "--no-validate")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "old" / "chuzhi.nt").is_file()


def test_synth_output_dir_and_its_old_spelling(tmp_path: Path) -> None:
    assert invoke("synth", "--cases", "5", "--output-dir", str(tmp_path / "new")).exit_code == 0
    with pytest.warns(DeprecationWarning):
        assert invoke("synth", "--cases", "5", "--out", str(tmp_path / "old")).exit_code == 0
    comparison = filecmp.dircmp(tmp_path / "new", tmp_path / "old")
    assert comparison.left_list == comparison.right_list and not comparison.diff_files
    missing = invoke("synth", "--cases", "5")
    assert missing.exit_code == 2
    assert missing.stderr.endswith("Error: Missing option '--output-dir'.\n")


def test_extract_output_and_output_dir_with_the_old_spellings(tmp_path: Path) -> None:
    new = invoke("extract", str(SOURCE), "--output-dir", str(tmp_path / "new"), "--output", str(tmp_path / "new.md"))
    assert new.exit_code == 0, new.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = invoke("extract", str(SOURCE), "--out", str(tmp_path / "old"), "--report", str(tmp_path / "old.md"))
    assert old.exit_code == 0, old.stderr
    assert new.stdout == old.stdout == ""  # the report went to the file
    assert (tmp_path / "new.md").read_bytes() == (tmp_path / "old.md").read_bytes()
    comparison = filecmp.dircmp(tmp_path / "new", tmp_path / "old")
    assert comparison.left_list == comparison.right_list and not comparison.diff_files


def test_publish_old_out_still_names_the_site_folder(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep", encoding="utf-8")
    expected = f"Error: {mine}: refusing to replace a folder that is not a published site (no dataset/manifest.json)\n"
    for spelling in ("--output-dir", "--out"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            result = invoke("publish", spelling, str(mine))
        assert (result.exit_code, result.stderr) == (6, expected), spelling
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep"


@pytest.mark.parametrize(("args", "fmt"), [
    (["query", "cases-per-domain"], "csv"),
    (["stats", "institutions"], "json"),
])
def test_dash_o_writes_the_same_bytes_as_stdout(built, tmp_path: Path, args: list[str], fmt: str) -> None:
    graph = ["-g", str(built.out_dir), "--format", fmt]
    shown = CliRunner().invoke(cli, [*args, *graph])
    assert shown.exit_code == 0, shown.stderr
    target = tmp_path / f"result.{fmt}"
    written = CliRunner().invoke(cli, [*args, *graph, "-o", str(target)])
    assert (written.exit_code, written.stdout) == (0, "")
    assert f"wrote {target}\n" in written.stderr
    assert target.read_bytes() == shown.stdout_bytes


def test_diff_dash_o(built, tmp_path: Path) -> None:
    target = tmp_path / "changes.ttl"
    result = invoke("diff", str(built.files["nt"]), str(built.files["ttl"]), "--format", "turtle", "-o", str(target))
    assert (result.exit_code, result.stdout) == (0, ""), result.stderr
    assert target.read_text(encoding="utf-8") == invoke(
        "diff", str(built.files["nt"]), str(built.files["ttl"]), "--format", "turtle").stdout


def test_the_library_writes_every_format_of_its_registry(built, tmp_path: Path) -> None:
    from chuzhi_graph.errors import ChuzhiError
    from chuzhi_graph.release import diff
    from chuzhi_graph.views import graphs, render, stats

    view = graphs.build_view(built.out_dir, "domains")
    figures = stats.compute_stats(view, top=3)
    changes = diff.diff_releases(str(built.files["nt"]), str(built.files["ttl"]))
    for fmt in formats.names("stats"):
        assert stats.format_stats(figures, fmt)
    for fmt in formats.names("diff"):
        assert diff.format_diff(changes, fmt)
    for fmt in formats.names("picture"):
        assert render.render(view, tmp_path / f"domains.{fmt}", fmt).stat().st_size > 0
    for writer in (lambda: stats.format_stats(figures, "xlsx"), lambda: diff.format_diff(changes, "xlsx"),
                   lambda: render.render(view, tmp_path / "x.pdf", "pdf")):
        with pytest.raises(ChuzhiError, match=r"unknown .*format .(xlsx|pdf)"):
            writer()


@pytest.mark.parametrize("command", sorted(GRAPH_COMMANDS.keys() - {"build"}))
def test_no_built_graph_is_the_same_failure_everywhere(command: str, tmp_path: Path) -> None:
    """Every command that reads the built graph says so with exit code 3 (an input error)."""
    result = invoke(command, *GRAPH_COMMANDS[command], "-g", str(tmp_path))
    assert result.exit_code == 3, result.stderr
    assert result.stderr.startswith(f"Error: {tmp_path}: ")
    assert "run `chuzhi-graph build` first" in result.stderr
