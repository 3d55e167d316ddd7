"""Answers already computed, kept for the next reader who asks the same, within a budget.

At a million triples a stored question such as ``cases`` takes seconds in a query worker,
and a server has only a few workers. Yet readers ask the same questions again and again:
the browser interface's examples, a dashboard that refreshes, a link shared in a report.
So the answers are kept by key (the server's: the query, its dataset, its row cap and the
version of the data it read), least recently used out first once the kept answers pass
a budget in bytes.

Identical queries that arrive while the first is still running wait for it rather than
taking workers of their own (a "single flight"): ten readers opening the same page then
cost one query, not ten queued behind each other. An error (a timeout, a busy server) is
handed to the callers waiting at that moment, and never kept: the next call tries again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Served(Enum):
    """Where an answer came from."""

    #: Kept from an earlier call.
    HIT = "hit"
    #: Computed for this call.
    MISS = "miss"
    #: Computed for another call running at the same time, which this one waited for.
    COLLAPSED = "collapsed"


@dataclass(eq=False)
class _Flight(Generic[V]):
    """One computation in progress, and what the calls waiting for it will get."""

    done: threading.Event = field(default_factory=threading.Event)
    #: Calls waiting for this computation beside the one running it.
    followers: int = 0
    value: V | None = None
    error: BaseException | None = None


class AnswerCache(Generic[K, V]):
    """Thread-safe: values by key, at most ``max_bytes`` in all (0 keeps nothing).

    The size of a value is what ``compute`` says it is; a value larger than the whole
    budget is handed back but not kept. Concurrent calls for one key share one
    computation whatever the budget.
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("the cache budget cannot be negative")
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._kept: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._flights: dict[K, _Flight[V]] = {}
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: K, compute: Callable[[], tuple[V, int]]) -> tuple[V, Served]:
        """The value for ``key``: kept, computed by a call already running, or computed now
        by ``compute`` (which returns the value and its size in bytes)."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                self.hits += 1
                return kept[0], Served.HIT
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
                self.misses += 1
            else:
                flight.followers += 1
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.value, Served.COLLAPSED  # type: ignore[return-value]
        try:
            value, size = compute()
        except BaseException as error:
            flight.error = error
            raise
        else:
            flight.value = value
            self._keep(key, value, size)
            return value, Served.MISS
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    def _keep(self, key: K, value: V, size: int) -> None:
        if size > self.max_bytes:
            return
        with self._lock:  # no other call computes this key, so it is not kept yet
            self._kept[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, evicted) = self._kept.popitem(last=False)
                self._bytes -= evicted

    def clear(self) -> None:
        """Forget every kept value (calls in flight still finish and share their value)."""
        with self._lock:
            self._kept.clear()
            self._bytes = 0

    def waiting(self) -> int:
        """Calls now waiting for a computation that another call is running."""
        with self._lock:
            return sum(flight.followers for flight in self._flights.values())

    @property
    def size_bytes(self) -> int:
        """The bytes the kept values take, as their sizes were given."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._kept)
