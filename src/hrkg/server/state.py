"""What the running server answers from: the knowledge graph, and how updates reach it.

Two kinds, behind one interface the routes use (``kg``, ``config``, ``run_in_thread``,
``export_to``, ``apply_update``, ``close``):

- :class:`EmbeddedState` (:meth:`ServerState.open`): the dataset loaded into a local
  Oxigraph store, queries run in killable workers;
- :class:`RemoteState` (:meth:`ServerState.over_endpoint`): every read and update goes to
  a SPARQL server (``hrkg --endpoint URL serve``), which runs, times and limits its
  queries itself; hrkg adds its pages, REST API and row cap in front.
"""

from __future__ import annotations

import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, TypeVar

from starlette.concurrency import run_in_threadpool

from hrkg.errors import HrkgError, QuerySyntaxError, UpstreamError
from hrkg.knowledge_graph import KnowledgeGraph, open_knowledge_graph
from hrkg.push import PushError, send_update
from hrkg.query_runner import IsolatedQueryRunner, IsolatedStore
from hrkg.remote_store import Endpoint, RemoteStore
from hrkg.server.config import ServerConfig
from hrkg.server.warming import AnswerWarmer
from hrkg.store import OxigraphStore

T = TypeVar("T")


class ServerState(ABC):
    """The served graph, the config, and the lock that keeps exports and updates apart."""

    def __init__(self, kg: KnowledgeGraph, config: ServerConfig) -> None:
        self.kg = kg
        self.config = config
        self._write_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        config: ServerConfig,
        *,
        data_dir: Path | None = None,
        store: Path | None = None,
        base_iri: str | None = None,
    ) -> EmbeddedState:
        """Serve the dataset from the embedded store (see :class:`EmbeddedState`)."""
        return EmbeddedState.load(config, data_dir=data_dir, store=store, base_iri=base_iri)

    @classmethod
    def over_endpoint(
        cls,
        config: ServerConfig,
        endpoint: Endpoint,
        *,
        data_dir: Path | None = None,
        base_iri: str | None = None,
    ) -> RemoteState:
        """Serve the dataset a SPARQL server holds (see :class:`RemoteState`)."""
        return RemoteState.connect(config, endpoint, data_dir=data_dir, base_iri=base_iri)

    async def run_in_thread(self, function: Callable[..., T], *args, **kwargs) -> T:
        """Blocking work (a query waiting on its worker or its server) off the event loop."""
        return await run_in_threadpool(function, *args, **kwargs)

    def export_to(
        self, output: BinaryIO, fmt: str, graphs: Sequence[str] | None, order: str = "canonical"
    ) -> None:
        """Export the store (or some graphs) into ``output``, with updates held off
        meanwhile: the export reads the store many times over, and must read one version
        of it. Whole exports take turns too, so that only one at a time streams the store."""
        with self._write_lock:
            self.kg.export_to(output, fmt, graphs=graphs, order=order)

    @abstractmethod
    def apply_update(self, update: str) -> None:
        """Run a SPARQL update (the endpoint allows it only with --allow-update)."""

    @abstractmethod
    def close(self) -> None:
        """Stop what serving started (workers, the HTTP client), remove what it made."""


class EmbeddedState(ServerState):
    """The dataset in a local Oxigraph store; queries run in killable workers over it."""

    def __init__(
        self,
        kg: KnowledgeGraph,
        config: ServerConfig,
        primary: OxigraphStore,
        runner: IsolatedQueryRunner,
        temporary: tempfile.TemporaryDirectory | None = None,
    ) -> None:
        super().__init__(kg, config)
        self.primary = primary
        self.runner = runner
        self._temporary = temporary
        #: Answers the stored questions ahead of their readers (``--warm``); None when off.
        self.warmer: AnswerWarmer | None = AnswerWarmer(kg, runner) if config.warm else None

    @classmethod
    def load(
        cls,
        config: ServerConfig,
        *,
        data_dir: Path | None = None,
        store: Path | None = None,
        base_iri: str | None = None,
    ) -> EmbeddedState:
        """Load the dataset into an on-disk store (temporary unless ``store``); start workers."""
        temporary = None
        if store is None:
            temporary = tempfile.TemporaryDirectory(prefix="hrkg-serve-")
            store = Path(temporary.name) / "store"
        loaded = open_knowledge_graph(data_dir, store=store, base_iri=base_iri)
        primary = loaded.store
        assert isinstance(primary, OxigraphStore)
        runner = IsolatedQueryRunner(
            primary,
            workers=config.workers,
            timeout=config.timeout,
            max_query_chars=loaded.settings.max_query_chars,
            memory_bytes=config.worker_memory_bytes or None,
            in_memory=config.in_memory,
            queue_timeout=config.worker_wait,
            cache_bytes=config.cache_bytes,
        )
        served = KnowledgeGraph(
            IsolatedStore(primary, runner, config.max_rows), loaded.catalog, loaded.settings
        )
        state = cls(served, config, primary, runner, temporary)
        try:
            runner.query("ASK { ?s ?p ?o }")  # warm the workers before the first request
        except BaseException:
            state.close()  # a worker that cannot get the store: refuse to start, leave nothing
            raise
        if state.warmer is not None:
            state.warmer.rewarm()
        return state

    def apply_update(self, update: str) -> None:
        """Run a SPARQL update on the primary store, with the readers stopped meanwhile.

        Readers query a frozen copy of the store (see :class:`~hrkg.query_runner.ReaderCopy`),
        so the runner is restarted around the update: it then copies the updated store.
        Updates change the store only, not the files in data/.
        """
        with self._write_lock:
            self.runner.close()
            try:
                self.primary.oxigraph.update(update)
                self.primary.flush()
            except SyntaxError as error:
                raise QuerySyntaxError(f"the update does not parse: {error}") from None
            finally:
                self.runner.restart()
                if self.warmer is not None:
                    self.warmer.rewarm()

    def close(self) -> None:
        if self.warmer is not None:
            self.warmer.stop()
        self.runner.close()
        if self._temporary is not None:
            self._temporary.cleanup()


class RemoteState(ServerState):
    """The dataset on a SPARQL server: hrkg's pages and API in front of someone else's store.

    The server runs the queries, so there are no workers and no answer cache here; a
    query's deadline is the HTTP timeout (the smaller of ``--timeout`` and
    ``--endpoint-timeout``), and answers stop at ``max_rows`` as on the embedded store.
    Updates go to the server's SPARQL Update URL, which must then be given.
    """

    def __init__(self, kg: KnowledgeGraph, config: ServerConfig, store: RemoteStore) -> None:
        super().__init__(kg, config)
        self.remote = store

    @classmethod
    def connect(
        cls,
        config: ServerConfig,
        endpoint: Endpoint,
        *,
        data_dir: Path | None = None,
        base_iri: str | None = None,
    ) -> RemoteState:
        """Open the graph on ``endpoint`` and ask it one question: a server that cannot be
        reached, or answers wrongly, stops ``hrkg serve`` before it listens."""
        if config.allow_update and not endpoint.update_url:
            raise HrkgError(
                "--allow-update in front of a SPARQL server needs its SPARQL Update URL",
                hint="give --update-endpoint URL as well, or drop --allow-update",
            )
        if config.warm:
            raise HrkgError(
                "--warm fills hrkg's answer cache, which is not used in front of a SPARQL server",
                hint="drop --warm (HRKG_WARM_ANSWERS); the server keeps its own answers, if any",
            )
        opened = open_knowledge_graph(
            data_dir, endpoint=endpoint, base_iri=base_iri, query_timeout=config.timeout
        )
        store = opened.store
        assert isinstance(store, RemoteStore)
        store.max_rows = config.max_rows
        state = cls(opened, config, store)
        try:
            store.query("ASK { ?s ?p ?o }")
        except BaseException:
            state.close()
            raise
        return state

    def apply_update(self, update: str) -> None:
        """Send the update to the server's SPARQL Update URL, as it was given."""
        with self._write_lock:
            try:
                send_update(self.remote.endpoint, update)
            except PushError as error:
                kind = QuerySyntaxError if error.status == 400 else UpstreamError
                raise kind(error.what, hint=error.hint) from None

    def close(self) -> None:
        self.remote.close()
