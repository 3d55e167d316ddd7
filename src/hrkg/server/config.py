"""The server's limits and switches, each with its default and its environment variable."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env_number(name: str, kind: type[float] | type[int]) -> float | int | None:
    """The variable's value as a number, None when unset; a bad value names the variable."""
    raw = os.environ.get(name)
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{name}={raw!r} is not {what}") from None


def _env_float(name: str, default: float) -> float:
    value = _env_number(name, float)
    return default if value is None else value


def _env_int(name: str, default: int) -> int:
    value = _env_number(name, int)
    return default if value is None else int(value)


def _env_optional_float(name: str) -> float | None:
    return _env_number(name, float)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class ServerConfig:
    """Everything ``hrkg serve`` can be told; defaults are safe to expose to a team."""

    #: Seconds a query may run before it is stopped with 503 (``HRKG_QUERY_TIMEOUT``, 10).
    timeout: float = field(default_factory=lambda: _env_float("HRKG_QUERY_TIMEOUT", 10.0))
    #: Seconds a query may wait for a free worker before it is refused with 503 and
    #: Retry-After (``HRKG_QUEUE_TIMEOUT``; None: three times the query timeout, time for a
    #: busy worker to finish or be stopped and replaced). Waiting queries take turns by
    #: client address, so one client cannot hold up the others.
    queue_timeout: float | None = field(
        default_factory=lambda: _env_optional_float("HRKG_QUEUE_TIMEOUT")
    )
    #: Requests one client (address) may have in flight; more get 429 with Retry-After
    #: (``HRKG_CLIENT_CONCURRENCY``, 32).
    client_concurrency: int = field(default_factory=lambda: _env_int("HRKG_CLIENT_CONCURRENCY", 32))
    #: Rows an answer may hold; more are cut and a header says so (``HRKG_MAX_ROWS``, 10 000).
    max_rows: int = field(default_factory=lambda: _env_int("HRKG_MAX_ROWS", 10_000))
    #: Largest request body accepted, in bytes (``HRKG_MAX_BODY_BYTES``, 1 MiB).
    max_body_bytes: int = field(
        default_factory=lambda: _env_int("HRKG_MAX_BODY_BYTES", 1024 * 1024)
    )
    #: Query worker processes (``HRKG_QUERY_WORKERS``, 2).
    workers: int = field(default_factory=lambda: _env_int("HRKG_QUERY_WORKERS", 2))
    #: Memory ceiling of each query worker, in bytes; 0 for none (``HRKG_WORKER_MEMORY``, 2 GiB).
    worker_memory_bytes: int = field(
        default_factory=lambda: _env_int("HRKG_WORKER_MEMORY", 2 * 1024**3)
    )
    #: Whether each query worker answers from its own in-memory copy of the data, most
    #: questions two to four times as fast as from disk, for a copy of the data per worker
    #: (``--in-memory``, ``HRKG_WORKERS_IN_MEMORY``; off).
    in_memory: bool = field(default_factory=lambda: _env_flag("HRKG_WORKERS_IN_MEMORY"))
    #: Memory for answers kept for the next identical query, in bytes; 0 keeps none
    #: (``HRKG_CACHE_BYTES``, 256 MiB). Kept answers are dropped when the data changes.
    cache_bytes: int = field(default_factory=lambda: _env_int("HRKG_CACHE_BYTES", 256 * 1024**2))
    #: Whether the stored questions that need no parameter are answered in the background
    #: when the server starts and after each update, so that their first readers get kept
    #: answers (``--warm``, ``HRKG_WARM_ANSWERS``; off). Needs the answer cache.
    warm: bool = field(default_factory=lambda: _env_flag("HRKG_WARM_ANSWERS"))
    #: Whether SPARQL updates are accepted at all (``--allow-update``).
    allow_update: bool = False
    #: The bearer token an update must carry (``HRKG_UPDATE_TOKEN``); required with allow_update.
    update_token: str | None = field(default_factory=lambda: os.environ.get("HRKG_UPDATE_TOKEN"))
    #: Origins allowed by CORS; "*" lets browser tools on any origin query the endpoint.
    cors_origins: tuple[str, ...] = ("*",)

    def __post_init__(self) -> None:
        if self.allow_update and not self.update_token:
            raise ValueError(
                "--allow-update needs an update token: set HRKG_UPDATE_TOKEN (updates must carry "
                "'Authorization: Bearer <token>')"
            )
        if self.timeout <= 0 or self.max_rows <= 0:
            raise ValueError("the query timeout and the row limit must be positive")
        if self.client_concurrency < 1:
            raise ValueError("the requests per client (HRKG_CLIENT_CONCURRENCY) must be 1 or more")
        if self.cache_bytes < 0:
            raise ValueError("the answer cache (HRKG_CACHE_BYTES) cannot be negative (0: none)")
        if self.warm and self.cache_bytes == 0:
            raise ValueError(
                "--warm keeps answers in the answer cache, which HRKG_CACHE_BYTES=0 turns off: "
                "give the cache a size, or drop --warm"
            )
        if self.queue_timeout is not None and self.queue_timeout <= 0:
            raise ValueError("the queue timeout (HRKG_QUEUE_TIMEOUT) must be positive")

    @property
    def worker_wait(self) -> float:
        """Seconds a query may wait for a worker: the queue timeout, else three times the
        query timeout (a worker stopped at the time limit is replaced, and the new one
        opens the store, before it takes the next query)."""
        return 3 * self.timeout if self.queue_timeout is None else self.queue_timeout
