"""The ``hrkg`` command: a thin layer over :class:`hrkg.KnowledgeGraph`.

Exit codes: 0 success; 1 a check found problems (validation, ``-violation`` checks);
2 bad usage or bad input (unknown query, bad parameter, malformed SPARQL, unreadable file).
Errors print what is wrong, where, and how to fix it, without a traceback.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.table import Table as RichTable
from typer.core import TyperGroup

from hrkg import __version__
from hrkg.allocator import active_allocator
from hrkg.errors import HrkgError
from hrkg.export import EXPORT_FORMATS, EXPORT_ORDERS
from hrkg.knowledge_graph import KnowledgeGraph, open_knowledge_graph
from hrkg.progress import showing_bytes_written
from hrkg.remote_store import Endpoint
from hrkg.results import FORMATS, Table, display, render

stdout = Console(soft_wrap=False)
stderr = Console(stderr=True, soft_wrap=True)


class ErrorReportingGroup(TyperGroup):
    """Turns hrkg's own errors into a message on stderr and exit code 2, without a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except HrkgError as error:
            stderr.print(f"error: {error.message}", markup=False, highlight=False)
            ctx.exit(2)


app = typer.Typer(
    cls=ErrorReportingGroup,
    help="Query, export and check the hrkg human-rights knowledge graph.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
query_app = typer.Typer(help="The stored questions: list, show, run.", no_args_is_help=True)
app.add_typer(query_app, name="query")


class Options:
    """The global options, kept until a command opens the graph (only then is it loaded)."""

    def __init__(
        self,
        data_dir: Path | None,
        store: Path | None,
        base_iri: str | None,
        endpoint: Endpoint | None = None,
        push_target: Endpoint | None = None,
    ) -> None:
        self.data_dir, self.store, self.base_iri = data_dir, store, base_iri
        #: The server queries go to (--endpoint); None for the embedded store.
        self.endpoint = endpoint
        #: The server `hrkg push` writes to (--graph-store or --update-endpoint).
        self.push_target = push_target
        #: Seconds a query may run (--timeout); None for no limit.
        self.query_timeout: float | None = None
        self._graph: KnowledgeGraph | None = None

    @property
    def graph(self) -> KnowledgeGraph:
        """The knowledge graph: on the remote endpoint when one is given, else embedded."""
        if self._graph is None:
            self._graph = open_knowledge_graph(
                self.data_dir,
                store=self.store,
                base_iri=self.base_iri,
                show_progress=stderr.is_terminal,
                endpoint=self.endpoint,
                query_timeout=self.query_timeout,
            )
        return self._graph

    def graph_to_add_to(self) -> KnowledgeGraph:
        """The graph ``hrkg add`` validates against and writes to: the embedded one, or the
        server of --endpoint. A write URL without --endpoint would validate against one
        dataset and write into another, so it is refused."""
        if self.endpoint is None and self.push_target is not None:
            raise typer.BadParameter(
                "`hrkg add` writes to a server only with --endpoint URL as well "
                "(the server's data is what the addition is validated against)"
            )
        return self.graph


def _version(value: bool) -> None:
    if value:
        name, path = active_allocator()
        lines = [
            f"hrkg {__version__}",
            f"pyoxigraph {package_version('pyoxigraph')}, malloc: {name}"
            + (f" ({path})" if path else ""),
        ]
        options = sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith("MIMALLOC_"))
        if name == "mimalloc" and options:
            # What a Python session needs besides LD_PRELOAD to run as fast (hrkg.allocator).
            lines.append("mimalloc options: " + " ".join(options))
        for line in lines:
            stdout.print(line, markup=False, soft_wrap=True, highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Content folder with ontology/, queries/ and data/.",
            envvar="HRKG_DATA_DIR",
        ),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store", help="Folder of a persistent Oxigraph store (loaded once, reopened fast)."
        ),
    ] = None,
    base_iri: Annotated[
        str | None,
        typer.Option("--base-iri", help="Base IRI of all project terms.", envvar="HRKG_BASE_IRI"),
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            help="Run against a SPARQL 1.1 server (its default graph must be the union).",
            envvar="HRKG_ENDPOINT",
        ),
    ] = None,
    update_endpoint: Annotated[
        str | None,
        typer.Option(
            "--update-endpoint",
            help="The server's SPARQL Update URL (for push, add, serve --allow-update).",
        ),
    ] = None,
    graph_store: Annotated[
        str | None,
        typer.Option("--graph-store", help="The server's Graph Store Protocol URL (for push)."),
    ] = None,
    endpoint_user: Annotated[
        str | None, typer.Option("--endpoint-user", help="User name on the server.")
    ] = None,
    endpoint_password: Annotated[
        str | None,
        typer.Option(
            "--endpoint-password", help="Password on the server.", envvar="HRKG_ENDPOINT_PASSWORD"
        ),
    ] = None,
    endpoint_auth: Annotated[
        str,
        typer.Option("--endpoint-auth", help="HTTP authentication: basic or digest (Virtuoso)."),
    ] = "basic",
    endpoint_timeout: Annotated[
        float, typer.Option("--endpoint-timeout", help="Seconds to wait for the server.")
    ] = 60.0,
    query_timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            help="Stop any query running longer than this many seconds (queries then run in "
            "killable worker processes; with --endpoint, hrkg stops waiting for the server).",
            envvar="HRKG_QUERY_TIMEOUT",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    remote = None
    if endpoint or update_endpoint or graph_store:
        if endpoint_auth not in ("basic", "digest"):
            raise typer.BadParameter("--endpoint-auth is basic or digest")
        remote = Endpoint(
            query_url=endpoint or "",
            update_url=update_endpoint,
            graph_store_url=graph_store,
            user=endpoint_user,
            password=endpoint_password,
            auth=endpoint_auth,
            timeout=endpoint_timeout,
        )
    ctx.obj = Options(data_dir, store, base_iri, remote if endpoint else None, remote)
    ctx.obj.query_timeout = query_timeout


def _graph(ctx: typer.Context) -> KnowledgeGraph:
    return ctx.ensure_object(Options).graph


def _print_table(table: Table, fmt: str, graph: KnowledgeGraph) -> None:
    if fmt != "table":
        sys.stdout.write(render(table, fmt, graph.prefixes))
        return
    rich_table = RichTable(show_lines=False, header_style="bold")
    for variable in table.variables:
        rich_table.add_column(variable, overflow="fold")
    for row in table.rows:
        rich_table.add_row(*(display(term, graph.prefixes) for term in row))
    stdout.print(rich_table)
    note = f"{len(table)} row{'s' if len(table) != 1 else ''}"
    if table.truncated:
        note += " (cut at the row limit)"
    stderr.print(note, style="dim")


def _parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{pair!r} is not name=value", param_hint="--param")
        params[name.strip()] = value
    return params


FormatOption = Annotated[
    str,
    typer.Option("--format", "-F", help=f"Result format: {', '.join(FORMATS)}."),
]


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise typer.BadParameter(
            f"{fmt!r} is not one of {', '.join(FORMATS)}", param_hint="--format"
        )
    return fmt


@query_app.command("list")
def query_list(ctx: typer.Context) -> None:
    """List the stored questions and checks."""
    catalog = _graph_catalog(ctx)
    rich_table = RichTable(header_style="bold")
    rich_table.add_column("name", no_wrap=True)
    rich_table.add_column("summary")
    rich_table.add_column("parameters")
    for stored in catalog:
        rich_table.add_row(stored.name, stored.summary, ", ".join(stored.parameters))
    stdout.print(rich_table)


def _graph_catalog(ctx: typer.Context):
    """The catalogue alone: listing and showing queries need no data loaded."""
    from hrkg.catalog import Catalog
    from hrkg.content import ContentLayout
    from hrkg.settings import Settings

    options = ctx.ensure_object(Options)
    settings = Settings(content_root=options.data_dir) if options.data_dir else Settings()
    return Catalog.from_folder(ContentLayout(settings.content_root).queries_dir)


@query_app.command("show")
def query_show(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The query name.")]
) -> None:
    """Show a stored question: its documentation, parameters and SPARQL text."""
    stored = _graph_catalog(ctx).get(name)
    stdout.print(f"[bold]{stored.name}[/bold]: {stored.summary}\n")
    stdout.print(stored.description + "\n")
    if stored.parameters:
        rich_table = RichTable(
            "parameter", "type", "default", "allowed", "description", header_style="bold"
        )
        for parameter in stored.parameters.values():
            rich_table.add_row(
                parameter.name + (" (required)" if parameter.required else ""),
                parameter.type,
                "" if parameter.default is None else str(parameter.default),
                ", ".join(parameter.allowed),
                parameter.description,
            )
        stdout.print(rich_table)
    stdout.print(f"file: {stored.path}\n")
    stdout.print(stored.text, markup=False, highlight=False)


@query_app.command("run")
def query_run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The query name (see `hrkg query list`).")],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="A parameter as name=value (repeatable)."),
    ] = None,
    fmt: FormatOption = "table",
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most this many rows (a page).")
    ] = None,
    offset: Annotated[
        int | None, typer.Option("--offset", help="Skip this many rows first.")
    ] = None,
) -> None:
    """Run a stored question and print its table (or one page of it)."""
    from hrkg.catalog import Page

    _check_format(fmt)
    params = _parse_params(param or [])
    page = Page.parse(limit, offset)
    graph = _graph(ctx)
    stored = graph.catalog.get(name)
    table = graph.run(stored, params, page)
    _print_table(table, fmt, graph)
    if stored.is_check and len(table):
        stderr.print(f"check {name} found {len(table)} problem(s)", style="red")
        raise typer.Exit(1)


@app.command("sparql")
def sparql(
    ctx: typer.Context,
    query: Annotated[str | None, typer.Argument(help="The SPARQL text.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the query from a .rq file.")
    ] = None,
    fmt: FormatOption = "table",
) -> None:
    """Run an ad-hoc read-only SPARQL query (updates and SERVICE are refused)."""
    _check_format(fmt)
    if (query is None) == (file is None):
        raise typer.BadParameter("give either a QUERY argument or --file FILE.rq")
    if file is not None:
        try:
            query = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise typer.BadParameter(f"cannot read {file}: {error}", param_hint="--file") from None
    graph = _graph(ctx)
    answer = graph.sparql(query or "")
    if isinstance(answer, Table):
        _print_table(answer, fmt, graph)
    elif isinstance(answer, bool):
        stdout.print("true" if answer else "false")
    else:
        from pyoxigraph import Quad

        _write_turtle([Quad(t.subject, t.predicate, t.object) for t in answer], graph)


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[
        str, typer.Option("--format", "-F", help=f"One of {', '.join(EXPORT_FORMATS)}.")
    ] = "turtle",
    graph_names: Annotated[
        list[str] | None,
        typer.Option("--graph", "-g", help="Export only this graph IRI (repeatable)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
    order: Annotated[
        str,
        typer.Option(
            "--order",
            help="canonical: sorted, each triple once, the same bytes every time. store: as"
            " the store holds them, several times faster on large data; triple formats"
            " repeat a triple once per graph that states it.",
        ),
    ] = "canonical",
) -> None:
    """Export the dataset (deterministic bytes unless --order store; quad formats keep the
    provenance graphs)."""
    if fmt not in EXPORT_FORMATS:
        raise typer.BadParameter(
            f"{fmt!r} is not one of {', '.join(EXPORT_FORMATS)}", param_hint="--format"
        )
    if order not in EXPORT_ORDERS:
        raise typer.BadParameter(
            f"{order!r} is not one of {', '.join(EXPORT_ORDERS)}", param_hint="--order"
        )
    graph = _graph(ctx)
    description = f"exporting {fmt}"
    if output is None:
        # Counted on the terminal only when the export goes elsewhere (> FILE, a pipe).
        show = stderr.is_terminal and not sys.stdout.isatty()
        with showing_bytes_written(sys.stdout.buffer, description, show) as counted:
            graph.export_to(counted, fmt, graphs=graph_names, order=order)
        sys.stdout.flush()
        return
    from hrkg.data_files import replacing

    try:
        with (
            replacing(output) as handle,  # written as it is made: never whole in memory
            showing_bytes_written(handle, description, stderr.is_terminal) as counted,
        ):
            graph.export_to(counted, fmt, graphs=graph_names, order=order)
            written = handle.tell()
    except OSError as error:
        raise typer.BadParameter(
            f"cannot write {output}: {error.strerror}", param_hint="--output"
        ) from None
    stderr.print(f"wrote {written:,} bytes of {fmt} to {output}")


@app.command("stats")
def stats(ctx: typer.Context) -> None:
    """Count quads per graph, and the stored questions."""
    graph = _graph(ctx)
    result = graph.stats()
    rich_table = RichTable("graph", "triples", header_style="bold")
    for item in result.graphs:
        rich_table.add_row(display_iri(item.name, graph), f"{item.triples:,}")
    stdout.print(rich_table)
    stdout.print(
        f"{result.quads:,} quads in {len(result.graphs)} graphs; "
        f"{result.queries} stored questions, {result.checks} checks"
    )


@app.command("format")
def format_data(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None, typer.Argument(help="TriG files (default: every data/graphs file).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if a file is not canonical.")
    ] = False,
) -> None:
    """Write data files in canonical order (sorted, used prefixes only), atomically."""
    from hrkg.content import ContentLayout
    from hrkg.data_files import format_file, is_canonical
    from hrkg.settings import Settings

    options = ctx.ensure_object(Options)
    root = options.data_dir or Settings().content_root
    targets = files or ContentLayout(root).source_graph_files
    if check:
        off = [path for path in targets if not is_canonical(path)]
        for path in off:
            stderr.print(f"not canonical: {path} (run `hrkg format {path}`)")
        if off:
            raise typer.Exit(1)
        return
    for path in targets:
        if format_file(path):
            stderr.print(f"formatted {path}")


InputFormatOption = Annotated[
    str | None,
    typer.Option(
        "--input-format",
        "-I",
        help="Input syntax when the file suffix does not tell: "
        "turtle, ntriples, trig, nquads, jsonld, xml.",
    ),
]


@app.command("validate")
def validate(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="RDF files of new triples.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-F", help="Report format: table, json or turtle (sh:ValidationReport)."
        ),
    ] = "table",
    input_format: InputFormatOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
) -> None:
    """Validate new triples against the shapes, in the context of the stored data.

    Exit codes: 0 conforms, 1 violations (or warnings with --strict), 2 error.
    Nothing is written. With --endpoint, the stored data is the server's.
    """
    if fmt not in REPORT_FORMATS:
        raise typer.BadParameter(
            f"{fmt!r} is not one of {', '.join(REPORT_FORMATS)}", param_hint="--format"
        )
    graph = ctx.ensure_object(Options).graph
    report = graph.validate(*files, input_format=input_format)
    _print_report(report, fmt, graph)
    raise typer.Exit(report.exit_code(strict=strict))


@app.command("add")
def add(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="An RDF file of new triples.")],
    source: Annotated[
        str,
        typer.Option(
            "--source", "-s", help="The source document IRI (or document:slug) they come from."
        ),
    ],
    agent: Annotated[
        str | None, typer.Option("--agent", help="Who adds them (default: your user name).")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Validate and show what would be added; write nothing."),
    ] = False,
    input_format: InputFormatOption = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Warnings refuse the addition too.")
    ] = False,
) -> None:
    """Validate a file, then write its triples into the named graph of their source.

    The write is atomic and serialised by a lock; on any error nothing changes. Each
    addition is recorded as a PROV activity in the changelog graph (`hrkg query run changelog`).
    With --endpoint and --update-endpoint, it is validated against and written to the server,
    unless another addition reached the server in between (then run it again).
    """
    from hrkg.ingest import AdditionRefused
    from hrkg.ingest import add as add_file

    graph = ctx.ensure_object(Options).graph_to_add_to()
    try:
        addition = add_file(
            graph,
            file,
            source,
            agent=agent,
            dry_run=dry_run,
            declared_format=input_format,
            strict=strict,
        )
    except AdditionRefused as refused:
        _print_report(refused.report, "table", graph)
        stderr.print(f"error: {refused.what}; nothing was written", markup=False, highlight=False)
        raise typer.Exit(1) from None
    if addition.report.findings:
        _print_report(addition.report, "table", graph)
    counts = (
        ", ".join(f"{count} {name}" for name, count in addition.counts_by_class.items())
        or "no new entities"
    )
    target = display_iri(addition.source, graph)
    stdout.print(
        f"{len(addition.new_quads)} new triples for {target} ({counts}); "
        f"{addition.already_present} already present"
    )
    if dry_run:
        from pyoxigraph import Quad

        triples = [Quad(q.subject, q.predicate, q.object) for q in addition.new_quads]
        _write_turtle(triples, graph)
        stdout.print("dry run: nothing was written")
    elif addition.written:
        activity = display_iri(addition.activity or "", graph)
        where = addition.target_file or f"the server at {graph.endpoint.update_url}"
        stdout.print(f"written to {where}; recorded as {activity}")
    else:
        stdout.print("nothing new to write")


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds a query may run (default 10).")
    ] = None,
    queue_timeout: Annotated[
        float | None,
        typer.Option(
            "--queue-timeout",
            help="Seconds a query may wait for a free worker before a 503 "
            "(default: three times the --timeout).",
        ),
    ] = None,
    max_rows: Annotated[
        int | None, typer.Option("--max-rows", help="Rows an answer may hold (default 10 000).")
    ] = None,
    allow_update: Annotated[
        bool,
        typer.Option("--allow-update", help="Accept SPARQL updates carrying HRKG_UPDATE_TOKEN."),
    ] = False,
    in_memory: Annotated[
        bool,
        typer.Option(
            "--in-memory",
            help="Query workers answer from an in-memory copy: 2-4x faster, "
            "a copy of the data per worker.",
        ),
    ] = False,
    warm: Annotated[
        bool,
        typer.Option(
            "--warm",
            help="Answer the questions that need no parameters in the background, at start "
            "and after each update, so that their first readers get kept answers.",
        ),
    ] = False,
) -> None:
    """Serve the SPARQL endpoint, the REST API, entity pages and the browser interface.

    With --endpoint, they answer from that SPARQL server (updates, with --allow-update, go
    to its --update-endpoint); the stored questions still come from the local queries/.
    """
    import uvicorn

    from hrkg.server import ServerConfig, create_app
    from hrkg.server.state import ServerState

    options = ctx.ensure_object(Options)
    if options.endpoint is not None and (in_memory or queue_timeout is not None or warm):
        raise typer.BadParameter(
            "--in-memory, --queue-timeout and --warm set hrkg's own query workers and answer "
            "cache; with --endpoint the SPARQL server runs the queries: drop them"
        )
    overrides: dict[str, object] = {"allow_update": allow_update}
    if in_memory:
        overrides["in_memory"] = True
    if warm:
        overrides["warm"] = True
    if timeout is not None:
        overrides["timeout"] = timeout
    if queue_timeout is not None:
        overrides["queue_timeout"] = queue_timeout
    if max_rows is not None:
        overrides["max_rows"] = max_rows
    try:
        config = ServerConfig(**overrides)  # type: ignore[arg-type]
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if config.warm:
        _print_server_log()
    if options.endpoint is None:
        state: ServerState = ServerState.open(
            config, data_dir=options.data_dir, store=options.store, base_iri=options.base_iri
        )
        origin = f"{len(state.kg.store):,} quads"
    else:
        state = ServerState.over_endpoint(
            config, options.endpoint, data_dir=options.data_dir, base_iri=options.base_iri
        )
        origin = f"the SPARQL server at {options.endpoint.query_url}"
    stderr.print(f"hrkg serving {origin} at http://{host}:{port}/ (Ctrl-C stops)")
    try:
        uvicorn.run(
            create_app(state),
            host=host,
            port=port,
            log_level="warning",
            server_header=False,
            http="h11",
            # The whole header block h11 buffers before parsing; more is refused, not stored.
            h11_max_incomplete_event_size=64 * 1024,
        )
    finally:
        state.close()


def _print_server_log() -> None:
    """The server's own messages (answers warmed ahead, or not) on standard error, as they come."""
    import logging

    server_log = logging.getLogger("hrkg.server")
    server_log.setLevel(logging.INFO)
    if not server_log.handlers:  # once, however many servers this process starts
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        server_log.addHandler(handler)


def _write_turtle(quads: list, graph: KnowledgeGraph) -> None:
    """Triples as canonical Turtle on stdout, declaring only the prefixes they use."""
    from hrkg.data_files import used_prefixes
    from hrkg.export import serialize_canonical

    prefixes = used_prefixes(quads, graph.prefixes)
    sys.stdout.write(serialize_canonical(quads, "turtle", prefixes).decode("utf-8"))


@app.command("push")
def push_dataset(ctx: typer.Context) -> None:
    """Upload the dataset, each named graph replaced whole, to a SPARQL server.

    Give --graph-store URL (Graph Store Protocol: Oxigraph server, Fuseki, GraphDB) or
    --update-endpoint URL (SPARQL Update: Virtuoso's /sparql-auth with --endpoint-auth
    digest, Neptune).
    """
    from hrkg.push import push

    options = ctx.ensure_object(Options)
    target = options.push_target
    if target is None or not (target.graph_store_url or target.update_url):
        raise typer.BadParameter("give --graph-store URL or --update-endpoint URL")
    local = open_knowledge_graph(options.data_dir, store=options.store, base_iri=options.base_iri)
    report = push(local.store.quads(), target)
    stdout.print(f"pushed {report.triples:,} triples in {report.graphs} graphs by {report.method}")


REPORT_FORMATS = ("table", "json", "turtle")


def _print_report(report, fmt: str, graph: KnowledgeGraph) -> None:
    if fmt == "json":
        sys.stdout.write(report.to_json())
        return
    if fmt == "turtle":
        sys.stdout.write(report.to_turtle())
        return
    if report.findings:
        rich_table = RichTable(header_style="bold", show_lines=True)
        for column in ("severity", "focus node", "path", "value", "message"):
            rich_table.add_column(column, overflow="fold")
        for finding in sorted(report.findings, key=lambda finding: finding.sort_key()):
            focus = display_iri(finding.focus_node, graph)
            if finding.focus_label:
                focus += f"\n({finding.focus_label})"
            rich_table.add_row(
                finding.severity,
                focus,
                display_iri(finding.path, graph) if finding.path else "",
                finding.value or "",
                finding.message,
            )
        stdout.print(rich_table)
    verdict = "conforms" if report.conforms() else "does not conform"
    stderr.print(
        f"{verdict}: {len(report.violations)} violation(s), {len(report.warnings)} warning(s) "
        f"in {report.new_triples} new triples ({report.focus_nodes} focus nodes checked "
        f"with {report.context_triples} triples of context)"
    )


def display_iri(iri: str, graph: KnowledgeGraph) -> str:
    from pyoxigraph import NamedNode

    return display(NamedNode(iri), graph.prefixes)


def main() -> None:
    """The command line, in this process (``hrkg.__main__`` first moves it onto mimalloc)."""
    app()
