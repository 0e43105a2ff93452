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
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from chuzhi_graph import __version__, formats
from chuzhi_graph.core.prefixes import DEFAULT_BASE
from chuzhi_graph.errors import EXIT_CODES, ChuzhiError, Interrupted, printable
from chuzhi_graph.sparql.limits import DEFAULT_MAX_MEMORY_MB, DEFAULT_TIMEOUT

F = TypeVar("F", bound=Callable[..., Any])


class ChuzhiClickError(click.ClickException):
    """A library error shown by Click, keeping the library's exit code."""

    def __init__(self, error: ChuzhiError) -> None:
        super().__init__(printable(str(error)))
        # an instance attribute on purpose (Click >= 8.5 declares exit_code a ClassVar)
        setattr(self, "exit_code", error.exit_code)  # noqa: B010


def handle_errors(func: F) -> F:
    """Turn :class:`ChuzhiError` into a Click error with the documented exit code; Ctrl-C exits 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ChuzhiError as exc:
            raise ChuzhiClickError(exc) from None
        except KeyboardInterrupt:
            raise ChuzhiClickError(Interrupted("interrupted (Ctrl-C)")) from None

    return wrapper  # type: ignore[return-value]


def echo_err(message: str) -> None:
    """A message for people on stderr; none under ``-q`` (only errors)."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and (ctx.find_root().obj or {}).get("quiet"):
        return
    click.echo(message, err=True)


#: The end of ``chuzhi-graph --help`` (``\b``: Click keeps the lines as they are).
EXIT_HELP = "\b\nExit codes (README, \"Exit codes\"):\n" + "\n".join(f"  {c}  {m}" for c, m in EXIT_CODES.items())


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_HELP)
@click.version_option(__version__, prog_name="chuzhi-graph")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Build, query and draw the knowledge graph of the 楚治 award cases."""
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr, force=True)
    ctx.obj = {"quiet": quiet, "verbose": verbose}


def progress() -> Any:
    """Progress of the command on stderr: a bar on a terminal, step times with -v, nothing with -q."""
    from chuzhi_graph.core.progress import reporter_for, reporting

    opts = click.get_current_context().find_root().obj or {}
    return reporting(reporter_for(sys.stderr, quiet=opts.get("quiet", False), verbose=opts.get("verbose", 0)))


# ---------------------------------------------------------------- the shared options
# One name per thing in every command (docs/decisions/0001-option-names.md): -g/--graph for the
# built graph, -o/--output for a file written, --output-dir for a folder written, --data for the
# record tables, --format with the choices of the library's registry (chuzhi_graph.formats).
# The 0.1 spellings are hidden aliases for one release (removed in 0.3).


def renamed(dest: str, new: str, *old: str, required: bool = False, **attrs: Any) -> Callable[[F], F]:
    """Accept the ``old`` spellings of option ``new`` (parameter ``dest``), hidden from ``--help``.

    Giving both spellings is a usage error; an old one alone works as before and raises a
    :class:`DeprecationWarning` (shown by ``python -W default`` and by pytest, not to every user).
    """
    alias = f"{dest}_0_1"

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            value = kwargs.pop(alias)
            if value is not None:
                ctx = click.get_current_context()
                if ctx.get_parameter_source(dest) is ParameterSource.COMMANDLINE:
                    raise click.UsageError(f"{'/'.join(old)} is the old spelling of {new}: give only {new}", ctx)
                warnings.warn(f"{'/'.join(old)} is deprecated, use {new} (removed in 0.3)", DeprecationWarning,
                              stacklevel=2)
                kwargs[dest] = value
            if required and kwargs[dest] is None:
                raise click.MissingParameter(ctx=click.get_current_context(), param_type="option",
                                             param_hint=f"'{new}'")
            return func(*args, **kwargs)

        return click.option(*old, alias, hidden=True, default=None, **attrs)(wrapper)  # type: ignore[return-value]

    return decorator


def compose(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Several option decorators as one, applied in the listed (``--help``) order."""

    def decorator(func: F) -> F:
        for option in reversed(decorators):
            func = option(func)
        return func

    return decorator


def graph_option(dest: str = "graph_path", *, dump: bool = False, old: tuple[str, ...] = ("--out",),
                 default: Path | None = Path("out"), help: str | None = None) -> Callable[[F], F]:
    """``-g/--graph``: the built graph, the folder ``build`` writes and every other command reads."""
    what = "Graph dump (.nt/.ttl) or the folder holding it" if dump else "Folder of the built graph"
    path = click.Path(path_type=Path)
    option = click.option("-g", "--graph", dest, type=path, default=default, show_default=default is not None,
                          help=help or f"{what} (written by build, read by the other commands).")
    return compose(option, renamed(dest, "--graph", *old, type=path)) if old else option


def output_option(help: str = "Write to this file instead of stdout.") -> Callable[[F], F]:
    """``-o/--output FILE``: a file written (always a file; a folder is ``--output-dir``)."""
    return click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help=help)


def output_dir_option(dest: str, help: str, *old: str, default: Path | None = None,
                      required: bool = False) -> Callable[[F], F]:
    """``--output-dir DIR``: a folder written, with the 0.1 spellings ``old`` as hidden aliases."""
    path = click.Path(path_type=Path, file_okay=False)
    option = click.option("--output-dir", dest, type=path, default=default, show_default=default is not None,
                          help=help + (" [required]" if required else ""))
    return compose(option, renamed(dest, "--output-dir", *old, required=required, type=path))


class RegistryChoice(click.Choice[str]):
    """A choice whose values are read from a registry each time they are needed (``--help``, checking a
    value), not when the command is defined: what a module registers later is a choice too."""

    def __init__(self, read: Callable[[], Sequence[str]]) -> None:
        self.read = read
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self.read())

    @choices.setter
    def choices(self, value: object) -> None:
        """Set by ``click.Choice.__init__``; the registry is the value."""


def format_option(kinds: tuple[formats.Kind, ...], default: str, help: str | None = None) -> Callable[[F], F]:
    """``--format`` with the names of ``kinds`` in the format registry (:mod:`chuzhi_graph.formats`)."""
    return click.option("--format", "fmt", type=RegistryChoice(lambda: formats.names(*kinds)), default=default,
                        show_default=True, help=help)


def write_output(text: str, output: Path | None) -> None:
    """Data to ``output`` (atomically) or to stdout."""
    if output is None:
        click.echo(text, nl=False)
        return
    from chuzhi_graph.core.fileio import write_text_atomic

    write_text_atomic(output, text)
    echo_err(f"wrote {output}")


escape_option = click.option(
    "--escape/--no-escape", default=True, show_default=True,
    help="CSV/TSV for spreadsheets: write a value starting with = + - @ tab or CR (a formula to Excel) "
         "with a leading ' (OWASP); --no-escape writes values as they are, for programs.",
)
data_option = click.option(
    "--data", "data_dir", type=click.Path(path_type=Path), default=Path("data"), show_default=True,
    help="Folder of the record tables (CSV or XLSX).",
)
#: The built graph as the folder ``out_dir`` (build, query, serve, push).
out_option = graph_option("out_dir")
base_option = click.option("--base", default=DEFAULT_BASE, show_default=True, help="Base IRI of the data.")
#: every command that writes CSV (query, stats)
bom_option = click.option("--bom/--no-bom", default=True, show_default=True,
                          help="Start CSV output with a UTF-8 byte-order mark (Excel then shows Chinese text).")


# ---------------------------------------------------------------- build


@cli.command()
@data_option
@out_option
@base_option
@click.option("--no-validate", is_flag=True, help="Skip SHACL validation (not for releases).")
@click.option(
    "--validate", "validator", type=click.Choice(["auto", "shacl", "compiled"]), default="auto", show_default=True,
    help="SHACL engine: pySHACL, the shapes compiled to a fast checker, or by size (auto).",
)
@click.option("--cache", "cache_dir", type=click.Path(path_type=Path),
              help="Keep each edition's mapped triples here; unchanged editions are not re-mapped.")
@click.option("--views/--no-views", default=True, show_default=True,
              help="Also render the institutions, cases and domains graphs as HTML.")
@click.option("--created", help="Date for the dataset description (default: newest source date).")
@click.option("--wait", type=click.FloatRange(min=0), default=0, show_default=True,
              help="Seconds to wait for another build into the --graph folder to end (then exit 6).")
@click.option("--allow-empty", is_flag=True, help="Build even when cases.csv has no rows (an empty graph).")
@click.option("--max-memory", type=click.IntRange(min=16), metavar="MB",
              help="Refuse a corpus whose build would need more memory than this (MB; default: the "
                   "process's limits and the memory available).")
@handle_errors
def build(
    data_dir: Path, out_dir: Path, base: str, no_validate: bool, validator: str, cache_dir: Path | None,
    views: bool, created: str | None, wait: float, allow_empty: bool, max_memory: int | None,
) -> None:
    """Build the graph: read records, map, validate, write the dumps to the --graph folder.

    This is the main job: `chuzhi-graph build` on the shipped data writes
    out/chuzhi.ttl, .nt, .jsonld, void.ttl and the HTML graphs.
    """
    from chuzhi_graph.build import build as run_build

    validate: bool | str = False if no_validate else validator
    with progress():
        result = run_build(data_dir, out_dir, base, validate=validate, created=created, cache=cache_dir,
                           views=views, wait=wait, allow_empty=allow_empty,
                           max_memory=None if max_memory is None else max_memory * 2**20)
    echo_err(
        f"built {result.triples} triples: {result.counts['cases']} cases, "
        f"{result.counts['applicants']} applicant units, {result.counts['editions']} edition(s)"
    )
    for path in result.files.values():
        click.echo(str(path))


# ---------------------------------------------------------------- other commands
# Commands of the other concepts (extract, query, serve, push, render, stats, publish,
# diff, synth) are registered below, one section each.


# ---------------------------------------------------------------- synth


@cli.command()
@click.option("--cases", type=click.IntRange(min=1), default=1000, show_default=True, help="Number of cases.")
@click.option("--editions", type=click.IntRange(min=1), default=5, show_default=True, help="Number of editions.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same bytes).")
@output_dir_option("out_dir", "Folder for the synthetic record tables (a data/-like folder).", "--out", required=True)
@handle_errors
def synth(cases: int, editions: int, seed: int, out_dir: Path) -> None:
    """Write a deterministic synthetic corpus in the format of data/ (for scale tests)."""
    from chuzhi_graph.records.synth import generate

    summary = generate(out_dir, cases=cases, editions=editions, seed=seed)
    echo_err(f"wrote {summary.cases} cases, {summary.units} units "
             f"({summary.applicant_units} applicants), {summary.editions} edition(s)")
    for path in summary.files.values():
        click.echo(str(path))


# ---------------------------------------------------------------- query, serve, push


@cli.command("query")
@click.argument("query_arg", metavar="QUERY", required=False)
@click.option("--list", "list_queries", is_flag=True, help="List the shipped queries and the questions they answer.")
@format_option(("result", "result-graph"), "table",
               "Results format: a table or W3C SPARQL csv/tsv/json/xml for SELECT/ASK, RDF for CONSTRUCT/DESCRIBE.")
@output_option()
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Bind a query variable to a value (a unit or domain by name, alias or IRI).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TIMEOUT,
              show_default=True, help="Stop the query after this many seconds.")
@click.option("--max-memory", type=click.IntRange(min=16), default=DEFAULT_MAX_MEMORY_MB, show_default=True,
              metavar="MB",
              help="Stop the query when its worker needs more memory than this (MB).")
@click.option("--endpoint", help="Run the query on this remote SPARQL endpoint instead of the embedded store.")
@click.option("--user", help="User name for the remote endpoint (password from $CHUZHI_GRAPH_PASSWORD).")
@bom_option
@escape_option
@out_option
@handle_errors
def query_command(query_arg: str | None, list_queries: bool, fmt: str, params: tuple[str, ...], timeout: float,
                  max_memory: int, endpoint: str | None, user: str | None, bom: bool, escape: bool, out_dir: Path,
                  output: Path | None) -> None:
    """Ask the graph a SPARQL question: a shipped query's name, a .rq file or inline text.

    Example: chuzhi-graph query unit-profile --param unit=华中科技大学
    """
    from chuzhi_graph.sparql import query as q

    if list_queries:
        click.echo(q.list_queries(), nl=False)
        return
    if not query_arg:
        raise click.UsageError("give a QUERY (a shipped name, a .rq file or SPARQL text) or --list")
    import time

    started = time.monotonic()
    if endpoint:
        from chuzhi_graph.release.remote import RemoteEndpoint

        target: Any = RemoteEndpoint(endpoint, user=user, timeout=timeout)
    else:
        from chuzhi_graph.release.reader import Release

        target = Release.open(out_dir).store(persistent=True, timeout=timeout)  # the timeout covers the command
    result = q.run_query(target, query_arg, q.parse_params(params), timeout=timeout, memory=max_memory * 2**20,
                         since=None if endpoint else started)
    text = q.format_result(result, fmt, escape=escape)
    write_output(q.csv_for_excel(text) if fmt == "csv" and bom else text, output)
    size = len(result.rows) if result.kind == "select" else len(result.triples)
    echo_err(f"{size if result.kind != 'ask' else 1} result(s) in {result.seconds * 1000:.1f} ms")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=7070, show_default=True, help="Port (0: any free port).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TIMEOUT,
              show_default=True, help="Stop each query after this many seconds.")
@click.option("--max-rows", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Largest result returned.")
@click.option("--max-memory", type=click.IntRange(min=16), default=DEFAULT_MAX_MEMORY_MB, show_default=True,
              metavar="MB",
              help="Stop a query when its worker needs more memory than this (MB).")
@click.option("--allow-origin", "allow_origins", multiple=True, metavar="ORIGIN",
              help="Let pages from this origin (http://host:port) use the endpoint (CORS); repeatable.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Accept requests naming this Host besides loopback and --host; repeatable.")
@out_option
@handle_errors
def serve(host: str, port: int, timeout: float, max_rows: int, max_memory: int, allow_origins: tuple[str, ...],
          allow_hosts: tuple[str, ...], out_dir: Path) -> None:
    """Serve the built graph as a read-only SPARQL endpoint with a query page."""
    from chuzhi_graph.sparql.serve import ServeConfig, make_server

    config = ServeConfig(timeout=timeout, max_rows=max_rows, max_memory=max_memory * 2**20,
                         allow_origins=allow_origins, allow_hosts=allow_hosts)
    from chuzhi_graph.release.reader import Release

    server = make_server(out_dir, host, port, config, graphs=lambda: Release.open(out_dir).layout())
    echo_err(f"SPARQL endpoint: http://{host}:{server.server_port}/sparql  query page: "
             f"http://{host}:{server.server_port}/  (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.command()
@click.option("--endpoint", required=True, help="Graph Store Protocol URL of the store (e.g. .../store, .../data).")
@click.option("--user", help="User name for the store (password from $CHUZHI_GRAPH_PASSWORD).")
@click.option("--query-endpoint", help="The store's query endpoint, for the check after the upload "
              "(default: beside --endpoint: /store -> /query, /data -> /sparql, /sparql-graph-crud* -> /sparql).")
@click.option("--check/--no-check", default=True, show_default=True,
              help="After the upload, check each graph's triple count and that the store's default graph "
              "shows the data.")
@out_option
@base_option
@handle_errors
def push(endpoint: str, user: str | None, query_endpoint: str | None, check: bool, out_dir: Path, base: str) -> None:
    """Make a SPARQL store hold exactly the build: its named graphs, none an earlier push made that it lacks."""
    from chuzhi_graph.core.progress import step
    from chuzhi_graph.release.remote import push as run_push

    with progress():
        step("push")
        pushed = run_push(out_dir, endpoint, base, user=user, query_endpoint=query_endpoint, check=check)
    for graph in pushed:
        click.echo(f"{graph.graph}\t{graph.triples}")


# ---------------------------------------------------------------- publish, diff


@cli.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path),
              help="Folder of the record tables to validate, build and publish [default: data]; with --graph, "
                   "the records the build must have been made from (checked, not read again).")
@graph_option("graph_path", old=(), default=None,
              help="Publish this built graph (a folder build wrote) as it is, without reading the records.")
@output_dir_option("out_dir", "Folder of the site (replaced as a whole when the new one is complete).", "--out",
                   default=Path("out/site"))
@base_option
@click.option("--previous", help="Previous release (dump, folder or git revision): adds changes.html/.ttl.")
@click.option("--created", help="Release date (default: newest source date; with --graph, the build's).")
@click.option("--private", is_flag=True, help="Site readable by its owner only (default: folders 0755, files 0644).")
@handle_errors
def publish(data_dir: Path | None, graph_path: Path | None, out_dir: Path, base: str, previous: str | None,
            created: str | None, private: bool) -> None:
    """Publish a release: the static dataset site of the records (validated and built first) or of
    the built graph --graph, to --output-dir."""
    from chuzhi_graph.site.publish import publish as run_publish

    with progress():
        result = run_publish(data_dir, out_dir, base, graph=graph_path, previous=previous, created=created,
                             private=private)
    if result.changes:
        echo_err(f"changes: {result.changes}")
    echo_err(f"published {result.triples} triples, {result.pages} resource pages")
    click.echo(str(out_dir / "index.html"))


@cli.command()
@click.argument("old")
@click.argument("new")
@format_option(("diff",), "text", "A text report, JSON, or a Turtle changeset.")
@output_option()
@base_option
@click.option("--editions", is_flag=True,
              help="OLD and NEW are two editions (e.g. social-governance-2022) of the graph in --graph: "
                   "recurring, new and gone winning units.")
@out_option
@handle_errors
def diff(old: str, new: str, fmt: str, output: Path | None, base: str, editions: bool, out_dir: Path) -> None:
    """Triples added and removed between two releases, grouped by resource.

    OLD and NEW are dumps (.ttl, .nt, .jsonld, .trig), folders holding one, data folders,
    or git revisions (their data/ is mapped as it was then). With --editions they are two
    editions of the built graph.
    """
    from chuzhi_graph.release.diff import diff_releases, format_diff

    if editions:
        from chuzhi_graph.release.diff import diff_editions, format_edition_diff

        if fmt == "turtle":
            raise click.UsageError("--editions gives text or json")
        edition_diff = diff_editions(out_dir, old, new)
        write_output(format_edition_diff(edition_diff, fmt), output)
        if fmt != "text":
            echo_err(edition_diff.summary())
        return
    result = diff_releases(old, new, base=base)
    write_output(format_diff(result, fmt), output)
    if fmt != "text":  # the text form ends with the summary line already
        echo_err(result.summary())


# ---------------------------------------------------------------- extract


@cli.command()
@click.argument("source", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@output_dir_option("out_dir", "Write a data folder (tables, units-review.csv, the source text) here.", "--out")
@data_option
@click.option("--edition", help="The edition: id, year or label, as in render and stats (default: from the article).")
@click.option("--track", help="Track notation, e.g. bigdata (default: from the list caption).")
@click.option("--lenient", is_flag=True, help="Cross-check problems become warnings in the report.")
@click.option("--accept-suggestions", is_flag=True,
              help="Write suggested domains with domain_basis=curator (the curator accepts them).")
@click.option("--merge", is_flag=True, help="Append new records to the --data folder; curated rows stay.")
@click.option("-o", "--output", "report_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the review report to this file instead of stdout.")
@renamed("report_file", "--output", "--report", type=click.Path(path_type=Path, dir_okay=False))
@handle_errors
def extract(source: Path, out_dir: Path | None, data_dir: Path, edition: str | None, track: str | None,
            lenient: bool, accept_suggestions: bool, merge: bool, report_file: Path | None) -> None:
    """Extract case records from an award announcement (text or saved HTML page).

    Without --output-dir or --merge this is a dry run: only the review report is written.
    """
    from chuzhi_graph.core.fileio import write_text_atomic
    from chuzhi_graph.extract.announcement import run_extract

    year = None
    if edition is not None:
        from chuzhi_graph.extract.shared import edition_of
        from chuzhi_graph.records.tables import load_dataset

        try:
            year, named_track = edition_of(edition, load_dataset(data_dir))
        except ChuzhiError as exc:
            raise click.BadParameter(exc.message, param_hint="'--edition'") from None
        if track is not None and named_track is not None and track != named_track:
            raise click.BadParameter(f"edition {edition!r} is of track {named_track!r}, not {track!r}",
                                     param_hint="'--edition'")
        track = track or named_track
    run = run_extract(source, data_dir, out_dir=out_dir, merge=merge, year=year, track=track,
                      lenient=lenient, accept_suggestions=accept_suggestions)
    ex = run.extraction
    found = (f"{len(ex.cases)} cases in {len(ex.groups)} groups" if ex.shape == "list"
             else f"{len(ex.cases)} winner(s) named in prose, {len(ex.awards)} award(s)")
    echo_err(f"extracted {found} (edition {ex.edition['id']}); {len(ex.review)} unknown unit(s), "
             f"{len(ex.warnings)} warning(s)")
    for path in run.written:
        echo_err(f"wrote {path}")
    if run.merge is not None:
        added = sum(len(ids) for ids in run.merge.added.values())
        echo_err(f"merged into {data_dir}: {added} new record(s)")
    if report_file is not None:
        write_text_atomic(report_file, run.report)
    else:
        click.echo(run.report, nl=False)


# ---------------------------------------------------------------- render, stats

def view_names() -> tuple[str, ...]:
    """The views of the library's registry (:data:`chuzhi_graph.views.graphs.VIEW_BUILDERS`), read when needed."""
    from chuzhi_graph.views.graphs import VIEW_BUILDERS

    return tuple(VIEW_BUILDERS)


def render_view_names() -> tuple[str, ...]:
    """``render``'s views: the registry's and the map (drawn, not measured)."""
    return (*view_names(), "map")


def view_options(func: F, views: Callable[[], Sequence[str]] = view_names) -> F:
    """The graph source and the view filters shared by `render` and `stats`."""
    options = [
        click.argument("view", type=RegistryChoice(views)),
        graph_option("graph_path", dump=True, old=()),
        click.option("--edition", multiple=True, help="Only this edition (id, year or label); repeatable."),
        click.option("--category", multiple=True,
                     help="Only this award category (notation, id or label); repeatable."),
        click.option("--domain", multiple=True,
                     help="Only cases of this domain or a narrower one (notation or label); repeatable."),
        click.option("--unit-type", multiple=True, help="Only units of this type (notation or label); repeatable."),
        click.option("--parents/--no-parents", default=True, show_default=True,
                     help="Parent-organisation edges in the institutions view."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _view(view: str, graph_path: Path, edition: tuple[str, ...], category: tuple[str, ...],
          domain: tuple[str, ...], unit_type: tuple[str, ...], parents: bool) -> Any:
    from chuzhi_graph.core.progress import step
    from chuzhi_graph.views.graphs import build_view

    step(f"{view} view")
    graph = build_view(graph_path, view, edition=edition, category=category, domain=domain,
                       unit_type=unit_type, parents=parents)
    echo_err(f"{view}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges")
    return graph


@cli.command()
@functools.partial(view_options, views=render_view_names)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Output file (default: VIEW.FORMAT beside the graph dump).")
@format_option(("picture", "map"), "html", "Interactive page, picture, or Gephi export (the map: html, png, svg).")
@click.option("--title", help="Page or picture title (default: the view's).")
@click.option("--size-by", type=click.Choice(["degree", "cases"]),
              help="Node size measure (default: cases for institutions/domains, else degree).")
@click.option("--seed", type=int, default=7, show_default=True, help="Layout seed (same seed, same picture).")
@click.option("--colour-by", type=click.Choice(["cases", "units", "share"]), default="cases", show_default=True,
              help="map: colour regions by number of cases, of applicant units, or share of the cases.")
@click.option("--region", help="map: open (html) or draw (png/svg) this prefecture's counties, e.g. 420100.")
@handle_errors
def render(view: str, graph_path: Path, edition: tuple[str, ...], category: tuple[str, ...],
           domain: tuple[str, ...], unit_type: tuple[str, ...], parents: bool, output: Path | None,
           fmt: str, title: str | None, size_by: str | None, seed: int, colour_by: str,
           region: str | None) -> None:
    """Draw VIEW (institutions, cases, domains, full, map) as offline HTML, png/svg or graphml/gexf."""
    from chuzhi_graph.core.progress import step
    from chuzhi_graph.views.render import render as run_render

    if view == "map":
        from chuzhi_graph.views.mapview import render_map

        folder = graph_path if graph_path.is_dir() else graph_path.parent
        click.echo(str(render_map(graph_path, output or folder / f"map.{fmt}", fmt, title, colour_by=colour_by,
                                  region=region, edition=edition, category=category, domain=domain,
                                  unit_type=unit_type)))
        return
    with progress():
        graph = _view(view, graph_path, edition, category, domain, unit_type, parents)
        if output is None:
            folder = graph_path if graph_path.is_dir() else graph_path.parent
            output = folder / f"{view}.{fmt}"
        step(f"draw {fmt}")
        written = run_render(graph, output, fmt, title, size_by=size_by, seed=seed)
    click.echo(str(written))


@cli.command()
@view_options
@format_option(("stats",), "table", "A text table, CSV or JSON.")
@output_option()
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many nodes to list per measure.")
@bom_option
@escape_option
@handle_errors
def stats(view: str, graph_path: Path, edition: tuple[str, ...], category: tuple[str, ...],
          domain: tuple[str, ...], unit_type: tuple[str, ...], parents: bool, fmt: str, output: Path | None,
          top: int, bom: bool, escape: bool) -> None:
    """Network figures of VIEW: size, components, degree, betweenness, communities."""
    from chuzhi_graph.core.progress import step
    from chuzhi_graph.views.stats import compute_stats, format_stats

    with progress():
        graph = _view(view, graph_path, edition, category, domain, unit_type, parents)
        step("measures")
        figures = compute_stats(graph, top=top)
    from chuzhi_graph.core.fileio import csv_for_excel

    text = format_stats(figures, fmt, escape=escape)
    write_output(csv_for_excel(text) if fmt == "csv" and bom else text, output)


def main() -> None:
    """Entry point of the ``chuzhi-graph`` console script."""
    cli(prog_name="chuzhi-graph")


if __name__ == "__main__":
    main()
