"""The public core: a knowledge graph opened from a content folder, and what it can do.

The command line and the HTTP server are thin layers over :class:`KnowledgeGraph`; they
never reach into the store themselves, so the three ways in give the same answers.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pyoxigraph import NamedNode

from hrkg.catalog import Catalog, Page, StoredQuery
from hrkg.content import ContentLayout
from hrkg.errors import QueryError
from hrkg.export import export_dataset, write_dataset
from hrkg.loading import open_store
from hrkg.namespaces import all_prefixes
from hrkg.results import Table
from hrkg.settings import Settings
from hrkg.store import QueryOutcome, Store

if TYPE_CHECKING:
    from hrkg.ingest import Addition
    from hrkg.remote_store import Endpoint
    from hrkg.validation.gate import Validator
    from hrkg.validation.report import Report


@dataclass(frozen=True)
class GraphStats:
    """Size of one named graph."""

    name: str
    triples: int


@dataclass(frozen=True)
class Stats:
    """What ``hrkg stats`` reports."""

    quads: int
    graphs: list[GraphStats]
    queries: int
    checks: int


#: The most rows of a stored question's answer fetched whole to cut pages from, where the
#: store keeps answers: at a million triples the longest answer (``cases``) has about 20,000.
#: A page past them is a query of its own.
ROWS_KEPT_FOR_PAGES = 50_000


class KnowledgeGraph:
    """A dataset in a store, with its stored questions. Open one with :func:`hrkg.open`."""

    def __init__(self, store: Store, catalog: Catalog, settings: Settings) -> None:
        self.store = store
        self.catalog = catalog
        self.settings = settings
        self.layout = ContentLayout(settings.content_root)
        self.prefixes = all_prefixes(settings.base_iri)
        #: Resources that live as long as the graph (a temporary store folder).
        self.owned: list[object] = []

    @property
    def endpoint(self) -> Endpoint | None:
        """The SPARQL server the graph is on (``hrkg.open(endpoint=...)``); None when embedded."""
        return getattr(self.store, "endpoint", None)

    def close(self) -> None:
        """Stop query workers and remove temporary folders (also done at interpreter exit)."""
        closer = getattr(self.store, "close", None)
        if callable(closer):
            closer()
        for resource in self.owned:
            cleanup = getattr(resource, "cleanup", None)
            if callable(cleanup):
                cleanup()

    def query(
        self,
        name: str,
        /,
        *,
        limit: int | None = None,
        offset: int | None = None,
        **params: object,
    ) -> Table:
        """Run the stored question ``name`` with typed parameters; returns its table, or
        the page of it that ``limit`` and ``offset`` choose (in the question's order).

        A parameter whose name is a Python keyword takes a trailing underscore:
        ``kg.query("timeline", from_="2012")``.
        """
        stored = self.catalog.get(name)
        named = {
            key[:-1] if key.endswith("_") and key[:-1] in stored.parameters else key: value
            for key, value in params.items()
        }
        return self.run(stored, named, Page.parse(limit, offset))

    def run(
        self, stored: StoredQuery, params: Mapping[str, object], page: Page | None = None
    ) -> Table:
        """Run a stored query (one page of its answer, if ``page`` is given); the bound
        parameters' columns are left out of the answer.

        Where the store keeps answers, a page is cut from the whole answer (up to
        :data:`ROWS_KEPT_FOR_PAGES` rows): the query costs the same either way, since its
        ORDER BY reads every row, and the pages that follow are then found kept.
        """
        base_iri = self.settings.base_iri
        bindings = stored.bind(params, base_iri)
        text = stored.sparql(bindings, base_iri, page)  # refuses a question that cannot page
        if page is not None and not page.is_whole and self.store.keeps_answers:
            whole = self._table(stored, stored.sparql(bindings, base_iri), ROWS_KEPT_FOR_PAGES)
            cut = page.cut_from(whole)
            if cut is not None:
                return cut.without(stored.parameters)
        return self._table(stored, text, self.settings.max_result_rows).without(stored.parameters)

    def _table(self, stored: StoredQuery, text: str, row_limit: int) -> Table:
        answer = self.store.query(text, row_limit=min(row_limit, self.settings.max_result_rows))
        if not isinstance(answer, Table):
            raise QueryError(
                f"stored query {stored.name!r} is not a SELECT query", where=str(stored.path)
            )
        return answer

    def sparql(self, text: str) -> QueryOutcome:
        """An ad-hoc read-only query (SELECT, ASK, CONSTRUCT, DESCRIBE); updates are refused."""
        return self.store.query(text, row_limit=self.settings.max_result_rows)

    def export(
        self,
        fmt: str = "turtle",
        *,
        graphs: Sequence[str] | None = None,
        order: str = "canonical",
    ) -> bytes:
        """The dataset (or some graphs of it) in an RDF format: deterministic bytes, or
        with ``order="store"`` the store's own order, several times faster on large data
        (see :mod:`hrkg.export`)."""
        chosen = [NamedNode(graph) for graph in graphs] if graphs else None
        return export_dataset(self.store, fmt, self.prefixes, chosen, order)

    def export_to(
        self,
        output: BinaryIO,
        fmt: str = "turtle",
        *,
        graphs: Sequence[str] | None = None,
        order: str = "canonical",
    ) -> None:
        """Write the same bytes as :meth:`export` into ``output`` (a binary file) as they
        are made, so that a large export is never whole in memory."""
        chosen = [NamedNode(graph) for graph in graphs] if graphs else None
        write_dataset(self.store, fmt, self.prefixes, output, chosen, order)

    @cached_property
    def validator(self) -> Validator:
        """The shapes, analysed once per knowledge graph (loaded on first validation)."""
        from hrkg.validation.gate import Validator

        return Validator(self)

    def validate(self, *paths: str | Path, input_format: str | None = None) -> Report:
        """Validate files of new triples against the shapes and the stored data (the
        server's, for a graph on a server); writes nothing."""
        from hrkg.validation.gate import validate_files

        return validate_files(self, [Path(path) for path in paths], input_format)

    def add(
        self,
        path: str | Path,
        source: str,
        *,
        agent: str | None = None,
        dry_run: bool = False,
        input_format: str | None = None,
    ) -> Addition:
        """Validate a file, then write its triples into the graph of ``source`` (atomically):
        into its data file, or on the server the graph is on (which needs its Update URL).

        Raises :class:`hrkg.ingest.AdditionRefused` (with its report) when the file does
        not validate; nothing is written then, nor on any other error.
        """
        from hrkg.ingest import add

        return add(
            self, Path(path), source, agent=agent, dry_run=dry_run, declared_format=input_format
        )

    def stats(self) -> Stats:
        """Quads in all, triples per graph, stored queries."""
        graphs = [
            GraphStats(name.value, sum(1 for _ in self.store.quads(name)))
            for name in self.store.graph_names()
        ]
        return Stats(len(self.store), graphs, len(self.catalog.questions), len(self.catalog.checks))


def _recover_interrupted_addition(layout: ContentLayout) -> None:
    """Complete or undo an addition a crash cut short, before anything reads the files."""
    from hrkg.data_files import JOURNAL_NAME, dataset_lock, recover

    data_dir = layout.root / "data"
    if not (data_dir / JOURNAL_NAME).exists() and not any(data_dir.glob("**/.*.tmp")):
        return
    with dataset_lock(data_dir):
        recover(data_dir)


def open_knowledge_graph(
    data_dir: str | Path | None = None,
    *,
    store: str | Path | None = None,
    base_iri: str | None = None,
    show_progress: bool = False,
    endpoint: Endpoint | str | None = None,
    query_timeout: float | None = None,
) -> KnowledgeGraph:
    """Open the dataset of ``data_dir`` (default: the checkout or the installed content).

    ``store`` names a folder for a persistent Oxigraph store, loaded on first use and
    reopened without reloading while the files are unchanged; by default the store is in
    memory. ``endpoint`` (a URL or an :class:`~hrkg.remote_store.Endpoint`) queries a
    remote SPARQL server instead, which must hold the dataset (see ``hrkg push``); the
    stored questions still come from ``data_dir``. ``query_timeout`` (seconds; default
    ``HRKG_QUERY_TIMEOUT``, none) stops any query that runs longer; on a server, hrkg stops
    waiting for its answer then, if the endpoint's own timeout is not shorter.
    """
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["content_root"] = Path(data_dir)
    if base_iri is not None:
        overrides["base_iri"] = base_iri
    if query_timeout is not None:
        overrides["query_timeout"] = query_timeout
    settings = Settings(**overrides)  # type: ignore[arg-type]
    layout = ContentLayout(settings.content_root)
    catalog = (
        Catalog.from_folder(layout.queries_dir) if layout.queries_dir.is_dir() else Catalog({})
    )
    if endpoint is not None:
        import dataclasses

        from hrkg.remote_store import Endpoint, RemoteStore

        target = Endpoint(endpoint) if isinstance(endpoint, str) else endpoint
        if settings.query_timeout and settings.query_timeout < target.timeout:
            # The server's query cannot be killed from here: hrkg stops waiting for it.
            target = dataclasses.replace(target, timeout=settings.query_timeout)
        remote = RemoteStore(
            target, base_iri=settings.base_iri, max_query_chars=settings.max_query_chars
        )
        return KnowledgeGraph(remote, catalog, settings)
    _recover_interrupted_addition(layout)
    temporary = None
    if settings.query_timeout and store is None:
        # Killable workers need an on-disk store; a temporary one lives as long as the graph.
        temporary = tempfile.TemporaryDirectory(prefix="hrkg-store-")
        store = Path(temporary.name) / "store"
    oxigraph_store = open_store(
        layout,
        settings.base_iri,
        store_dir=Path(store) if store else None,
        show_progress=show_progress,
        max_query_chars=settings.max_query_chars,
    )
    kg = KnowledgeGraph(oxigraph_store, catalog, settings)
    if settings.query_timeout:
        from hrkg.query_runner import isolate

        kg = isolate(
            kg, Path(store), timeout=settings.query_timeout, max_rows=settings.max_result_rows
        )
        if "temporary" in locals():
            kg._temporary = temporary  # removed with the graph
    return kg
