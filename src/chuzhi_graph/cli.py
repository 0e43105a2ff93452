"""The ``chuzhi-graph`` command line: thin wrappers over the package API.

Each command parses its options, calls one library function and writes the result:
data to stdout, logs and progress to stderr. Library errors (:class:`ChuzhiError`)
become one ``Error: ...`` line on stderr and the exit code documented in
:mod:`chuzhi_graph.errors`.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from chuzhi_graph import __version__
from chuzhi_graph.errors import ChuzhiError
from chuzhi_graph.namespace import DEFAULT_BASE

F = TypeVar("F", bound=Callable[..., Any])


class ChuzhiClickError(click.ClickException):
    """A library error shown by Click, keeping the library's exit code."""

    def __init__(self, error: ChuzhiError) -> None:
        super().__init__(str(error))
        self.exit_code = error.exit_code


def handle_errors(func: F) -> F:
    """Turn :class:`ChuzhiError` into a Click error with the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ChuzhiError as exc:
            raise ChuzhiClickError(exc) from None

    return wrapper  # type: ignore[return-value]


def echo_err(message: str) -> None:
    click.echo(message, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chuzhi-graph")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
def cli(verbose: int, quiet: bool) -> None:
    """Build, query and draw the knowledge graph of the 楚治 award cases."""
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr, force=True)


data_option = click.option(
    "--data", "data_dir", type=click.Path(path_type=Path), default=Path("data"), show_default=True,
    help="Folder of the record tables (CSV or XLSX).",
)
out_option = click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), default=Path("out"), show_default=True,
    help="Folder for the generated files.",
)
base_option = click.option("--base", default=DEFAULT_BASE, show_default=True, help="Base IRI of the data.")


# ---------------------------------------------------------------- build


@cli.command()
@data_option
@out_option
@base_option
@click.option("--no-validate", is_flag=True, help="Skip SHACL validation (not for releases).")
@click.option("--views/--no-views", default=True, show_default=True,
              help="Also render the institutions, cases and domains graphs as HTML.")
@click.option("--created", help="Date for the dataset description (default: newest source date).")
@handle_errors
def build(data_dir: Path, out_dir: Path, base: str, no_validate: bool, views: bool, created: str | None) -> None:
    """Build the graph: read records, map, validate, write the dumps to OUT.

    This is the main job: `chuzhi-graph build` on the shipped data writes
    out/chuzhi.ttl, .nt, .jsonld, void.ttl and the HTML graphs.
    """
    from chuzhi_graph.build import build as run_build

    result = run_build(data_dir, out_dir, base, validate=not no_validate, created=created)
    echo_err(
        f"built {result.triples} triples: {result.counts['cases']} cases, "
        f"{result.counts['applicants']} applicant units, {result.counts['editions']} edition(s)"
    )
    for path in result.files.values():
        click.echo(str(path))
    if views:
        render_main_views = _main_views_hook()
        if render_main_views is not None:
            for path in render_main_views(out_dir, base):
                click.echo(str(path))


def _main_views_hook() -> Callable[[Path, str], list[Path]] | None:
    """The renderer of the main job's HTML views, once the render module exists."""
    try:
        from chuzhi_graph.render import render_main_views
    except ImportError:
        return None
    return render_main_views


# ---------------------------------------------------------------- other commands
# Commands of the other concepts (extract, query, serve, push, render, stats, publish,
# diff, synth) are registered below, one section each.


# ---------------------------------------------------------------- synth (issue 6)


@cli.command()
@click.option("--cases", type=click.IntRange(min=1), default=1000, show_default=True, help="Number of cases.")
@click.option("--editions", type=click.IntRange(min=1), default=5, show_default=True, help="Number of editions.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same bytes).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder for the synthetic record tables (a data/-like folder).")
@handle_errors
def synth(cases: int, editions: int, seed: int, out_dir: Path) -> None:
    """Write a deterministic synthetic corpus in the format of data/ (for scale tests)."""
    from chuzhi_graph.synth import generate

    summary = generate(out_dir, cases=cases, editions=editions, seed=seed)
    echo_err(f"wrote {summary.cases} cases, {summary.units} units "
             f"({summary.applicant_units} applicants), {summary.editions} edition(s)")
    for path in summary.files.values():
        click.echo(str(path))


def main() -> None:
    """Entry point of the ``chuzhi-graph`` console script."""
    cli(prog_name="chuzhi-graph")


if __name__ == "__main__":
    main()
