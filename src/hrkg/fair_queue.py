"""Handing a few shared things (the server's query workers) to waiting callers, fairly.

A first-come-first-served queue lets one client that sends twenty slow queries make every
other client wait for all twenty. Here the callers waiting are grouped by who asks (the
server keys them by client address), and each thing freed goes to the waiting asker that
holds the fewest at the moment, the one whose turn is next among equals (round robin),
and to that asker's oldest call. So a client with a quick question waits for one freed
worker, not for the queue of a client that already has queries running; a client alone
is served first come, first served. The wait may be bounded, so that an overloaded server
says so (:class:`Busy`) rather than holding connections open.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class Busy(Exception):
    """Nothing came free within the wait allowed."""


@dataclass(eq=False)
class _Ticket(Generic[T]):
    """One waiting call: ``item`` is set when it is served, and only this call is woken
    (waking every waiting thread at each hand-over costs throughput under load)."""

    asker: str
    ahead: bool
    wakeup: threading.Condition
    item: T | None = None
    served: bool = False


class FairQueue(Generic[T]):
    """Idle things, and the calls waiting for one, served by asker as described above.

    Thread-safe. :meth:`get` takes a thing (waiting if none is idle); :meth:`put` gives
    one back, saying which asker had it, so that the queue knows who holds how many.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: deque[T] = deque()
        #: The askers with calls waiting, in turn order (a dict keeps insertion order),
        #: each with its calls oldest first.
        self._waiting: dict[str, deque[_Ticket[T]]] = {}
        #: Calls served before any asker's turn (taking the workers back to stop them).
        self._ahead: deque[_Ticket[T]] = deque()
        #: How many things each asker holds.
        self._held: Counter[str] = Counter()

    def put(self, item: T, returned_by: str | None = None) -> None:
        """Give ``item`` back (``returned_by``: the asker that had it; None for a new one).

        It goes to the first call waiting ahead, else to the waiting asker holding the
        fewest (the next in turn among equals), else it stays idle.
        """
        with self._lock:
            if returned_by is not None:
                self._held[returned_by] -= 1
                if self._held[returned_by] <= 0:
                    del self._held[returned_by]
            if self._ahead:
                self._serve(self._ahead.popleft(), item)
            elif self._waiting:
                asker = min(self._waiting, key=self._held.__getitem__)
                tickets = self._waiting.pop(asker)
                self._serve(tickets.popleft(), item)
                if tickets:
                    self._waiting[asker] = tickets  # to the back of the round
            else:
                self._idle.append(item)

    def _serve(self, ticket: _Ticket[T], item: T) -> None:
        if not ticket.ahead:
            self._held[ticket.asker] += 1
        ticket.item, ticket.served = item, True
        ticket.wakeup.notify()

    def get(self, asker: str = "", timeout: float | None = None, *, ahead: bool = False) -> T:
        """An idle thing, or the next one freed when this call's turn comes.

        Waits at most ``timeout`` seconds (None: as long as it takes), then raises
        :class:`Busy`; a call that gives up leaves the queue as if it had never come. An
        ``ahead`` call goes before every asker's turn and is not counted as held (it is
        for taking things out of service, never to be put back under that asker).
        """
        with self._lock:
            if self._idle:  # nothing idle is ever left while calls wait (see put)
                if not ahead:
                    self._held[asker] += 1
                return self._idle.popleft()
            ticket: _Ticket[T] = _Ticket(asker, ahead, threading.Condition(self._lock))
            if ahead:
                self._ahead.append(ticket)
            else:
                self._waiting.setdefault(asker, deque()).append(ticket)
            deadline = None if timeout is None else time.monotonic() + timeout
            while not ticket.served:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    self._withdraw(ticket)
                    raise Busy(f"nothing came free within {timeout:g} s")
                ticket.wakeup.wait(remaining)
            return ticket.item  # type: ignore[return-value]

    def _withdraw(self, ticket: _Ticket[T]) -> None:
        if ticket.ahead:
            self._ahead.remove(ticket)
            return
        tickets = self._waiting[ticket.asker]
        tickets.remove(ticket)
        if not tickets:
            del self._waiting[ticket.asker]

    def idle(self) -> int:
        """How many things are idle (none while any call waits)."""
        with self._lock:
            return len(self._idle)

    def held(self) -> dict[str, int]:
        """How many things each asker holds now."""
        with self._lock:
            return dict(self._held)

    def waiting(self) -> dict[str, int]:
        """How many calls each asker has waiting, in the order they will be considered:
        the askers of calls ahead, then the others in turn order."""
        with self._lock:
            counts = Counter(ticket.asker for ticket in self._ahead)
            for asker, tickets in self._waiting.items():
                counts[asker] += len(tickets)
            return dict(counts)
