"""Queries with a real time limit: each runs in a worker process that can be killed.

Oxigraph cannot interrupt a query once started (an aggregate over a cartesian product
blocks inside ``Store.query`` until done). So a service that must answer "timed out"
without burning a core forever runs queries in worker processes that open a frozen copy
of the on-disk store read-only (see :class:`ReaderCopy` for why not the store itself); a
query past its deadline gets its worker killed (SIGKILL) and replaced. Each worker can
also be given a memory ceiling (``RLIMIT_AS``), so one hostile query cannot exhaust the
machine. Answers travel back as pickled tables of RDF terms, capped at a row limit.

With ``in_memory`` each worker first reads that copy into an in-memory store, which
answers most questions two to three times as fast (``benchmarks/server_workers.py``), at
the cost of a copy of the data in every worker and a reload each time a worker is
replaced. A worker says when it is ready; a query waits for that before its own deadline
starts, so a slow load is never reported as a slow query.

When every worker is busy, queries wait their turn in a :class:`~hrkg.fair_queue.FairQueue`
keyed by :data:`ASKER` (the server sets it to the client's address per request): a freed
worker goes to the waiting client with the fewest queries running, so one client's pile
of slow queries does not hold up everyone else's. A query that waits past
``queue_timeout`` is refused as :class:`~hrkg.errors.QueryBusy` without being run.

Answers are kept in an :class:`~hrkg.answer_cache.AnswerCache` (``cache_bytes``) until the
workers move to a fresh copy of the data: the same query asked again takes no worker, and
identical queries asked at the same time take one between them.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import resource
import shutil
import tempfile
import threading
import weakref
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path

from pyoxigraph import NamedNode

from hrkg.answer_cache import AnswerCache, Served
from hrkg.errors import QueryBusy, QueryError, QueryResourceLimit, QueryTimeout
from hrkg.fair_queue import Busy, FairQueue
from hrkg.knowledge_graph import KnowledgeGraph
from hrkg.results import Table
from hrkg.store import OxigraphStore, QueryOutcome


@dataclass(frozen=True)
class Job:
    text: str
    default_graphs: tuple[str, ...] | None
    named_graphs: tuple[str, ...] | None
    row_limit: int | None


#: Who is asking, for taking turns at the workers: the server sets the client's address for
#: each request; queries from one program all share the empty name.
ASKER: ContextVar[str] = ContextVar("hrkg_asker", default="")
#: Where the answers of the current request came from (the server sets a fresh list per
#: request, for its ``Cache-Status`` header); None: nobody is listening.
CACHE_REPORT: ContextVar[list[Served] | None] = ContextVar("hrkg_cache_report", default=None)
#: An answer takes about this many times its pickled size once unpickled here (measured:
#: 2.1 for ``indicators``, 3.1 for ``cases``, in the resident memory of 40 copies).
UNPICKLED_SIZE_FACTOR = 3
#: The asker :meth:`IsolatedQueryRunner.close` takes the workers back as, ahead of queries.
_CLOSING = "(closing)"

#: What a worker sends once it has opened (or loaded) the store and takes jobs.
READY = "ready"
#: How long a worker may take to load the data into memory before it counts as failed.
LOAD_TIMEOUT_SECONDS = 600.0


def _worker(
    store_path: str,
    max_query_chars: int,
    memory_bytes: int | None,
    in_memory: bool,
    connection: Connection,
) -> None:
    """Serve jobs from one pipe until it closes: open the store read-only (or copy it into
    memory), say so, then answer each job."""
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    import pyoxigraph

    store = OxigraphStore(max_query_chars=max_query_chars)
    reader = pyoxigraph.Store.read_only(store_path)
    if in_memory:
        store.oxigraph.bulk_extend(reader.quads_for_pattern(None, None, None, None))
        del reader
    else:
        store.oxigraph = reader
    connection.send(READY)
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


class ReaderCopy:
    """A frozen copy of a persistent store for the workers to open read-only.

    Why not the store folder itself: a read-only RocksDB instance reads the list of files
    once, when it opens, but opens at most 16 of them then; it opens the others when a
    query first needs them. Meanwhile the read-write instance in the parent compacts when
    RocksDB decides to, and deletes the files it compacted: after a load, and also after a
    mere read (every Oxigraph read takes a RocksDB snapshot, and releasing it can start a
    compaction of the bottommost files), so that flushing and optimizing first does not
    help. A worker that then opens one of those files gets "IO error: No such file or
    directory ... .sst", and Oxigraph may spin on that error instead of raising it, until
    the deadline kills the worker. A store loaded one transaction per file had about one
    file per column family, all opened at once, which hid the race; a bulk-loaded store
    has dozens.

    A checkpoint (``Store.backup``) does not move: nothing ever writes to it, and on the
    same file system its files are hard links to the store's, so it costs no copying and
    the store deleting its own names for them does not touch the checkpoint's. It is made
    next to the store (the same file system, as a rule); :meth:`remove` deletes it.
    """

    def __init__(self, primary: OxigraphStore) -> None:
        if primary.path is None:
            raise ValueError("queries can only be isolated over a persistent Oxigraph store")
        store_path = Path(primary.path)
        try:
            self._folder = Path(
                tempfile.mkdtemp(prefix=f"{store_path.name}-readers-", dir=store_path.parent)
            )
        except PermissionError:  # a read-only parent: the temporary folder (maybe a real copy)
            self._folder = Path(tempfile.mkdtemp(prefix="hrkg-readers-"))
        self._remove = weakref.finalize(self, shutil.rmtree, self._folder, ignore_errors=True)
        #: The copy, for ``pyoxigraph.Store.read_only``.
        self.path = self._folder / "store"
        # Compacted first: a bulk-loaded store is dozens of overlapping files, and a reader of
        # such a copy answers about half as fast (1M triples: `cases` 10.8 s against 5.5 s).
        primary.oxigraph.optimize()
        primary.oxigraph.backup(self.path)  # flushes the store's memory buffer first

    def remove(self) -> None:
        self._remove()


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(
        self,
        context,
        store_path: Path,
        max_query_chars: int,
        memory_bytes: int | None,
        in_memory: bool,
    ) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_worker,
            args=(str(store_path), max_query_chars, memory_bytes, in_memory, child),
            daemon=True,
        )
        self.process.start()
        child.close()
        self.in_memory = in_memory
        self.ready = False

    def wait_until_ready(self) -> None:
        """Block until the worker has its store; raise if it cannot get it.

        Raises :class:`QueryResourceLimit` when the worker dies first (a load over the
        memory ceiling ends it) or takes longer than :data:`LOAD_TIMEOUT_SECONDS`.
        """
        if self.ready:
            return
        try:
            arrived = self.connection.poll(LOAD_TIMEOUT_SECONDS)
            ready = arrived and self.connection.recv() == READY
        except (EOFError, OSError):
            arrived, ready = True, False
        if not ready:
            self.kill()
            what = "load the data into memory" if self.in_memory else "open the store"
            why = f"exit code {self.process.exitcode}" if arrived else "it took too long"
            raise QueryResourceLimit(
                f"a query worker could not {what} ({why})",
                hint="raise the worker memory limit (HRKG_WORKER_MEMORY)"
                + (", or serve from disk (without --in-memory)" if self.in_memory else ""),
            )
        self.ready = True

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class IsolatedQueryRunner:
    """A pool of worker processes over one on-disk store; every query has a deadline.

    The workers read a :class:`ReaderCopy` of ``primary`` taken when the pool starts: they
    do not see later writes to ``primary`` until :meth:`restart` (after :meth:`close`)
    takes a fresh copy. Thread-safe: each call borrows an idle worker, or waits for one
    in its asker's turn (:data:`ASKER`) for at most ``queue_timeout`` seconds (None: as
    long as it takes).
    """

    def __init__(
        self,
        primary: OxigraphStore,
        *,
        workers: int = 2,
        timeout: float = 10.0,
        max_query_chars: int = 100_000,
        memory_bytes: int | None = None,
        in_memory: bool = False,
        queue_timeout: float | None = None,
        cache_bytes: int = 0,
    ) -> None:
        self.primary = primary
        self.timeout = timeout
        self.queue_timeout = queue_timeout
        self._settings = (max_query_chars, memory_bytes, in_memory)
        self._context = multiprocessing.get_context("spawn")
        self._idle: FairQueue[_Worker] = FairQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._workers = workers
        self._copy = ReaderCopy(primary)
        #: Answers by (generation, job); the generation counts the copies taken, so an
        #: answer from an older copy, even one stored after the copy changed, is never used.
        self._cache: AnswerCache[tuple[int, Job], QueryOutcome] = AnswerCache(cache_bytes)
        self._generation = 0
        for _ in range(workers):
            self._idle.put(self._spawn())

    @property
    def store_path(self) -> Path:
        """The folder the workers open: the current copy of the store, not the store."""
        return self._copy.path

    def _spawn(self) -> _Worker:
        # Few malloc arenas keep the workers' address space close to what they use, so
        # that the RLIMIT_AS ceiling bounds real memory rather than reserved ranges.
        os.environ.setdefault("MALLOC_ARENA_MAX", "2")
        return _Worker(self._context, self._copy.path, *self._settings)

    def query(
        self,
        text: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        row_limit: int | None = None,
        timeout: float | None = None,
    ) -> QueryOutcome:
        """Run a read-only query in a worker; :class:`QueryTimeout` past the deadline.

        An answer kept from an identical query on the same copy of the data is handed back
        without a worker, and an identical query already running is waited for (see
        :mod:`hrkg.answer_cache`); :data:`CACHE_REPORT` hears which.
        """
        job = Job(
            text,
            tuple(default_graphs) if default_graphs is not None else None,
            tuple(named_graphs) if named_graphs is not None else None,
            row_limit,
        )
        limit = self.timeout if timeout is None else timeout
        answer, served = self._cache.get(
            (self._generation, job), lambda: self._run_in_worker(job, limit)
        )
        report = CACHE_REPORT.get()
        if report is not None:
            report.append(served)
        return _own_copy(answer)

    def _run_in_worker(self, job: Job, limit: float) -> tuple[QueryOutcome, int]:
        """The answer to ``job`` from a worker, and about the memory it takes here."""
        asker = ASKER.get()
        worker = self._borrow(asker)
        if not worker.process.is_alive() and worker.ready:  # it died idle: replace it first
            worker.kill()
            worker = self._spawn()
        try:
            try:
                worker.wait_until_ready()  # before the deadline starts: loading is not querying
            except QueryResourceLimit:
                worker = self._spawn()
                raise
            worker.connection.send(job)
            if not worker.connection.poll(limit):
                worker.kill()
                worker = self._spawn()
                raise QueryTimeout(
                    f"the query ran for more than {limit:g} s and was stopped",
                    hint="narrow it (LIMIT, more specific patterns) or raise the time limit "
                    "(--timeout, HRKG_QUERY_TIMEOUT)",
                )
            sent = worker.connection.recv_bytes()
        except (EOFError, OSError, BrokenPipeError):
            worker.kill()
            code = worker.process.exitcode
            worker = self._spawn()
            raise QueryResourceLimit(
                f"the query worker stopped unexpectedly (exit code {code})",
                hint="a query over the worker memory limit (HRKG_WORKER_MEMORY) ends this way",
            ) from None
        finally:
            self._idle.put(worker, returned_by=asker)
        answer = pickle.loads(sent)
        if isinstance(answer, QueryError):
            raise answer
        return answer, len(sent) * UNPICKLED_SIZE_FACTOR

    def _borrow(self, asker: str) -> _Worker:
        """An idle worker, or the next one freed in this asker's turn; QueryBusy if none
        comes free within ``queue_timeout``."""
        try:
            return self._idle.get(asker, self.queue_timeout)
        except Busy:
            raise QueryBusy(
                f"every query worker ({self._workers}) stayed busy for "
                f"{self.queue_timeout:g} s, so the query was not run",
                hint="try again shortly; whoever runs the server can add workers "
                "(HRKG_QUERY_WORKERS) or let queries wait longer (HRKG_QUEUE_TIMEOUT)",
                retry_after=max(1, math.ceil(self.timeout)),
            ) from None

    @property
    def keeps_answers(self) -> bool:
        return self._cache.max_bytes > 0

    @property
    def worker_count(self) -> int:
        """How many worker processes the pool keeps."""
        return self._workers

    def idle_workers(self) -> int:
        """How many workers are free for a query now."""
        return self._idle.idle()

    def waiting(self) -> dict[str, int]:
        """The queries waiting for a worker, counted by asker, in turn order."""
        return self._idle.waiting()

    def waiting_for_identical(self) -> int:
        """The queries waiting for the answer of an identical query, running or queued."""
        return self._cache.waiting()

    def close(self) -> None:
        """Stop every worker, waiting for busy ones to come back first; remove the copy."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for _ in range(self._workers):
                self._idle.get(_CLOSING, ahead=True).kill()
            self._copy.remove()
            self._cache.clear()

    def restart(self) -> None:
        """After :meth:`close`, start fresh workers over a fresh copy of the store."""
        with self._lock:
            self._copy = ReaderCopy(self.primary)
            self._generation += 1
            self._closed = False
            for _ in range(self._workers):
                self._idle.put(self._spawn())


def _own_copy(answer: QueryOutcome) -> QueryOutcome:
    """A kept answer as the caller's own: a table's rows in a list of its own (the rows,
    tuples of immutable terms, are shared), so that no caller can change what others get."""
    if isinstance(answer, Table):
        return replace(answer, rows=list(answer.rows))
    if isinstance(answer, list):
        return list(answer)
    return answer


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
    def keeps_answers(self) -> bool:
        return self.runner.keeps_answers

    @property
    def oxigraph(self):
        """The primary store, for direct pattern reads (validation context, entity checks)."""
        return self.primary.oxigraph

    def quads(self, graph: NamedNode | None = None):
        return self.primary.quads(graph)

    def quads_for_pattern(self, subject, predicate, object, graph_name=None):
        """A pattern read from the primary store (validation's lookups), as ``quads``."""
        return self.primary.quads_for_pattern(subject, predicate, object, graph_name)

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
    if Path(primary.path).resolve() != Path(store_path).resolve():
        raise ValueError(f"the knowledge graph is not open on {store_path}")
    runner = IsolatedQueryRunner(
        primary,
        workers=workers,
        timeout=timeout,
        max_query_chars=kg.settings.max_query_chars,
        memory_bytes=memory_bytes,
    )
    runner.query("ASK { ?s ?p ?o }")  # start the workers before the first real query
    return KnowledgeGraph(IsolatedStore(primary, runner, max_rows), kg.catalog, kg.settings)
