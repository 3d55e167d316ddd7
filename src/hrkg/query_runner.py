"""Queries with a real time limit: each runs in a worker process that can be killed.

Oxigraph cannot interrupt a query once started (an aggregate over a cartesian product
blocks inside ``Store.query`` until done). So a service that must answer "timed out"
without burning a core forever runs queries in worker processes that open the on-disk
store read-only; a query past its deadline gets its worker killed (SIGKILL) and replaced.
Each worker can also be given a memory ceiling (``RLIMIT_AS``), so one hostile query
cannot exhaust the machine. Answers travel back as pickled tables of RDF terms, capped
at a row limit.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import resource
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from pyoxigraph import NamedNode

from hrkg.errors import QueryError, QueryResourceLimit, QueryTimeout
from hrkg.knowledge_graph import KnowledgeGraph
from hrkg.store import OxigraphStore, QueryOutcome


@dataclass(frozen=True)
class Job:
    text: str
    default_graphs: tuple[str, ...] | None
    named_graphs: tuple[str, ...] | None
    row_limit: int | None


def _worker(
    store_path: str, max_query_chars: int, memory_bytes: int | None, connection: Connection
) -> None:
    """Serve jobs from one pipe until it closes: open the store read-only, answer each job."""
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    import pyoxigraph

    store = OxigraphStore(max_query_chars=max_query_chars)
    store.oxigraph = pyoxigraph.Store.read_only(store_path)
    while True:
        try:
            job: Job = connection.recv()
        except EOFError:
            return
        try:
            answer: object = store.query(
                job.text,
                default_graphs=[NamedNode(g) for g in job.default_graphs]
                if job.default_graphs is not None
                else None,
                named_graphs=[NamedNode(g) for g in job.named_graphs]
                if job.named_graphs is not None
                else None,
                row_limit=job.row_limit,
            )
        except QueryError as error:
            answer = error
        except MemoryError:
            answer = QueryResourceLimit(
                "the query needed more memory than a query may use", hint="narrow it down"
            )
        connection.send(answer)


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(
        self, context, store_path: Path, max_query_chars: int, memory_bytes: int | None
    ) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_worker,
            args=(str(store_path), max_query_chars, memory_bytes, child),
            daemon=True,
        )
        self.process.start()
        child.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class IsolatedQueryRunner:
    """A pool of worker processes over one on-disk store; every query has a deadline.

    Thread-safe: each call borrows an idle worker (waiting for one when all are busy).
    """

    def __init__(
        self,
        store_path: Path,
        *,
        workers: int = 2,
        timeout: float = 10.0,
        max_query_chars: int = 100_000,
        memory_bytes: int | None = None,
    ) -> None:
        self.store_path = store_path
        self.timeout = timeout
        self._settings = (max_query_chars, memory_bytes)
        self._context = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self._workers = workers
        for _ in range(workers):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        # Few malloc arenas keep the workers' address space close to what they use, so
        # that the RLIMIT_AS ceiling bounds real memory rather than reserved ranges.
        os.environ.setdefault("MALLOC_ARENA_MAX", "2")
        return _Worker(self._context, self.store_path, *self._settings)

    def query(
        self,
        text: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        row_limit: int | None = None,
        timeout: float | None = None,
    ) -> QueryOutcome:
        """Run a read-only query in a worker; :class:`QueryTimeout` past the deadline."""
        limit = self.timeout if timeout is None else timeout
        job = Job(
            text,
            tuple(default_graphs) if default_graphs is not None else None,
            tuple(named_graphs) if named_graphs is not None else None,
            row_limit,
        )
        worker = self._idle.get()
        if not worker.process.is_alive():  # it died idle (e.g. at start): replace it first
            worker.kill()
            worker = self._spawn()
        try:
            worker.connection.send(job)
            if not worker.connection.poll(limit):
                worker.kill()
                worker = self._spawn()
                raise QueryTimeout(
                    f"the query ran for more than {limit:g} s and was stopped",
                    hint="narrow it (LIMIT, more specific patterns) or raise the time limit "
                    "(--timeout, HRKG_QUERY_TIMEOUT)",
                )
            answer = worker.connection.recv()
        except (EOFError, OSError, BrokenPipeError):
            worker.kill()
            code = worker.process.exitcode
            worker = self._spawn()
            raise QueryResourceLimit(
                f"the query worker stopped unexpectedly (exit code {code})",
                hint="a query over the worker memory limit (HRKG_WORKER_MEMORY) ends this way",
            ) from None
        finally:
            self._idle.put(worker)
        if isinstance(answer, QueryError):
            raise answer
        return answer

    def close(self) -> None:
        """Stop every worker, waiting for busy ones to come back first."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for _ in range(self._workers):
                self._idle.get().kill()

    def restart(self) -> None:
        """Start a fresh set of workers after :meth:`close` (they reopen the store)."""
        with self._lock:
            self._closed = False
            for _ in range(self._workers):
                self._idle.put(self._spawn())


class IsolatedStore:
    """A :class:`~hrkg.store.Store` whose queries run in killable workers.

    Reads of whole graphs (export, stats) go to the primary store directly; every query
    goes through the runner, with its deadline and a row cap, so the catalogue, the REST
    API and the entity pages all get the same protection.
    """

    def __init__(self, primary: OxigraphStore, runner: IsolatedQueryRunner, max_rows: int) -> None:
        self.primary = primary
        self.runner = runner
        self.max_rows = max_rows

    def query(
        self,
        text: str,
        *,
        default_graphs: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        row_limit: int | None = None,
    ) -> QueryOutcome:
        return self.runner.query(
            text,
            default_graphs=[g.value for g in default_graphs]
            if default_graphs is not None
            else None,
            named_graphs=[g.value for g in named_graphs] if named_graphs is not None else None,
            row_limit=min(row_limit or self.max_rows, self.max_rows),
        )

    @property
    def oxigraph(self):
        """The primary store, for direct pattern reads (validation context, entity checks)."""
        return self.primary.oxigraph

    def quads(self, graph: NamedNode | None = None):
        return self.primary.quads(graph)

    def graph_names(self) -> list[NamedNode]:
        return self.primary.graph_names()

    def __len__(self) -> int:
        return len(self.primary)

    def close(self) -> None:
        self.runner.close()


def isolate(kg: KnowledgeGraph, store_path: Path, *, timeout: float, max_rows: int,
            workers: int = 2, memory_bytes: int | None = None) -> KnowledgeGraph:  # fmt: skip
    """The same knowledge graph, its queries now run by killable workers over ``store_path``.

    ``kg`` must have been opened on that persistent store (``hrkg.open(..., store=path)``).
    """
    primary = kg.store
    if not isinstance(primary, OxigraphStore) or primary.path is None:
        raise ValueError("queries can only be isolated over a persistent Oxigraph store")
    # Finish writing and compacting before any reader opens the store read-only: a worker
    # opening it mid-compaction can find a file already deleted ("Corruption ... .sst").
    primary.oxigraph.flush()
    primary.oxigraph.optimize()
    runner = IsolatedQueryRunner(
        store_path,
        workers=workers,
        timeout=timeout,
        max_query_chars=kg.settings.max_query_chars,
        memory_bytes=memory_bytes,
    )
    runner.query("ASK { ?s ?p ?o }")  # start the workers before the first real query
    return KnowledgeGraph(IsolatedStore(primary, runner, max_rows), kg.catalog, kg.settings)
