"""What the running server holds: the knowledge graph over isolated query workers."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

from starlette.concurrency import run_in_threadpool

from hrkg.knowledge_graph import KnowledgeGraph, open_knowledge_graph
from hrkg.query_runner import IsolatedQueryRunner, IsolatedStore
from hrkg.server.config import ServerConfig
from hrkg.store import OxigraphStore

T = TypeVar("T")


@dataclass
class ServerState:
    """The served graph (queries in killable workers), the config, and the update lock."""

    kg: KnowledgeGraph
    primary: OxigraphStore
    runner: IsolatedQueryRunner
    config: ServerConfig
    _write_lock: threading.Lock = field(default_factory=threading.Lock)
    _temporary: tempfile.TemporaryDirectory | None = None

    @classmethod
    def open(
        cls,
        config: ServerConfig,
        *,
        data_dir: Path | None = None,
        store: Path | None = None,
        base_iri: str | None = None,
    ) -> ServerState:
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
        state = cls(served, primary, runner, config, _temporary=temporary)
        try:
            runner.query("ASK { ?s ?p ?o }")  # warm the workers before the first request
        except BaseException:
            state.close()  # a worker that cannot get the store: refuse to start, leave nothing
            raise
        return state

    async def run_in_thread(self, function: Callable[..., T], *args, **kwargs) -> T:
        """Blocking work (a query waiting on its worker) off the event loop."""
        return await run_in_threadpool(function, *args, **kwargs)

    def export_to(
        self, output: BinaryIO, fmt: str, graphs: Sequence[str] | None, order: str = "canonical"
    ) -> None:
        """Export the primary store (or some graphs) into ``output``, with updates held off
        meanwhile: the export reads the store many times over, and must read one version
        of it. Whole exports take turns too, so that only one at a time streams the store."""
        with self._write_lock:
            self.kg.export_to(output, fmt, graphs=graphs, order=order)

    def apply_update(self, update: str) -> None:
        """Run a SPARQL update on the primary store, with the readers stopped meanwhile.

        Readers query a frozen copy of the store (see :class:`~hrkg.query_runner.ReaderCopy`),
        so the runner is restarted around the update: it then copies the updated store.
        Updates change the store only, not the files in data/.
        """
        from hrkg.errors import QuerySyntaxError

        with self._write_lock:
            self.runner.close()
            try:
                self.primary.oxigraph.update(update)
                self.primary.flush()
            except SyntaxError as error:
                raise QuerySyntaxError(f"the update does not parse: {error}") from None
            finally:
                self.runner.restart()

    def close(self) -> None:
        self.runner.close()
        if self._temporary is not None:
            self._temporary.cleanup()
