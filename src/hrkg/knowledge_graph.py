"""The public core: a knowledge graph opened from a content folder, and what it can do.

The command line and the HTTP server are thin layers over :class:`KnowledgeGraph`; they
never reach into the store themselves, so the three ways in give the same answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import NamedNode

from hrkg.catalog import Catalog, StoredQuery
from hrkg.content import ContentLayout
from hrkg.errors import QueryError
from hrkg.export import select_quads, serialize_canonical
from hrkg.loading import open_store
from hrkg.namespaces import all_prefixes
from hrkg.results import Table
from hrkg.settings import Settings
from hrkg.store import QueryOutcome, Store


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


class KnowledgeGraph:
    """A dataset in a store, with its stored questions. Open one with :func:`hrkg.open`."""

    def __init__(self, store: Store, catalog: Catalog, settings: Settings) -> None:
        self.store = store
        self.catalog = catalog
        self.settings = settings
        self.layout = ContentLayout(settings.content_root)
        self.prefixes = all_prefixes(settings.base_iri)

    def query(self, name: str, /, **params: object) -> Table:
        """Run the stored question ``name`` with typed parameters; returns its table.

        A parameter whose name is a Python keyword takes a trailing underscore:
        ``kg.query("timeline", from_="2012")``.
        """
        stored = self.catalog.get(name)
        named = {
            key[:-1] if key.endswith("_") and key[:-1] in stored.parameters else key: value
            for key, value in params.items()
        }
        return self.run(stored, named)

    def run(self, stored: StoredQuery, params: Mapping[str, object]) -> Table:
        """Run a stored query; the bound parameters' columns are left out of the answer."""
        bindings = stored.bind(params, self.settings.base_iri)
        answer = self.store.query(stored.sparql(bindings, self.settings.base_iri))
        if not isinstance(answer, Table):
            raise QueryError(
                f"stored query {stored.name!r} is not a SELECT query", where=str(stored.path)
            )
        return answer.without(stored.parameters)

    def sparql(self, text: str) -> QueryOutcome:
        """An ad-hoc read-only query (SELECT, ASK, CONSTRUCT, DESCRIBE); updates are refused."""
        return self.store.query(text)

    def export(self, fmt: str = "turtle", *, graphs: Sequence[str] | None = None) -> bytes:
        """The dataset (or some graphs of it) in an RDF format, deterministic bytes."""
        chosen = [NamedNode(graph) for graph in graphs] if graphs else None
        return serialize_canonical(select_quads(self.store, chosen), fmt, self.prefixes)

    def stats(self) -> Stats:
        """Quads in all, triples per graph, stored queries."""
        graphs = [
            GraphStats(name.value, sum(1 for _ in self.store.quads(name)))
            for name in self.store.graph_names()
        ]
        return Stats(len(self.store), graphs, len(self.catalog.questions), len(self.catalog.checks))


def open_knowledge_graph(
    data_dir: str | Path | None = None,
    *,
    store: str | Path | None = None,
    base_iri: str | None = None,
    show_progress: bool = False,
) -> KnowledgeGraph:
    """Open the dataset of ``data_dir`` (default: the checkout or the installed content).

    ``store`` names a folder for a persistent Oxigraph store, loaded on first use and
    reopened without reloading while the files are unchanged; by default the store is in
    memory.
    """
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["content_root"] = Path(data_dir)
    if base_iri is not None:
        overrides["base_iri"] = base_iri
    settings = Settings(**overrides)  # type: ignore[arg-type]
    layout = ContentLayout(settings.content_root)
    catalog = (
        Catalog.from_folder(layout.queries_dir) if layout.queries_dir.is_dir() else Catalog({})
    )
    oxigraph_store = open_store(
        layout,
        settings.base_iri,
        store_dir=Path(store) if store else None,
        show_progress=show_progress,
        max_query_chars=settings.max_query_chars,
    )
    return KnowledgeGraph(oxigraph_store, catalog, settings)
