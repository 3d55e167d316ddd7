"""The ASGI application: routes, CORS and static files over one :class:`ServerState`."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hrkg.answer_cache import Served
from hrkg.query_runner import ASKER, CACHE_REPORT
from hrkg.server.conditional import ConditionalGet
from hrkg.server.linked_data import entity, graph_store
from hrkg.server.rest_api import list_queries, openapi, run_query
from hrkg.server.sparql_protocol import sparql_endpoint
from hrkg.server.state import ServerState

STATIC = Path(__file__).parent / "static"
#: Where `make install` puts YASGUI (from the npm registry; never a CDN, never committed).
YASGUI_BUILD = Path(__file__).parent / "ui" / "node_modules" / "@zazuko" / "yasgui" / "build"


async def home(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


#: Request header limits (RFC 9110 sets none; common servers use 8 KiB a line, ~100 headers).
MAX_HEADER_LINE_BYTES = 8 * 1024
MAX_HEADERS = 100
HTTP_VERSIONS = {"1.0", "1.1", "2"}


class RequestGuard:
    """Refuses malformed HTTP before the app sees it, and marks every answer.

    Over-long header lines or too many headers get 431; an unknown HTTP version 400; a
    request carrying both Content-Length and Transfer-Encoding (a request-smuggling shape)
    400. Every answer gets ``nosniff`` and ``DENY`` framing headers.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            refusal = self._refusal(scope)
            if refusal is not None:
                status, text = refusal
                await PlainTextResponse(text + "\n", status_code=status)(scope, receive, send)
                return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _refusal(scope) -> tuple[int, str] | None:
        if scope.get("http_version", "1.1") not in HTTP_VERSIONS:
            return 400, "unsupported HTTP version (1.0, 1.1 or 2)"
        headers = scope.get("headers", [])
        if len(headers) > MAX_HEADERS:
            return 431, f"too many request headers (over {MAX_HEADERS})"
        if any(len(name) + len(value) > MAX_HEADER_LINE_BYTES for name, value in headers):
            return 431, f"a request header is over {MAX_HEADER_LINE_BYTES} bytes"
        names = {name.lower() for name, _ in headers}
        if b"content-length" in names and b"transfer-encoding" in names:
            return 400, "Content-Length and Transfer-Encoding together are refused"
        return None


#: Threads for blocking work (a query waiting for its worker holds one). anyio's default of
#: 40 would let one client's 40 waiting queries keep every other request from reaching
#: the queue where clients take turns; waiting threads cost little.
REQUEST_THREADS = 256


class TurnsByClient:
    """Tags each request with its client's address (:data:`~hrkg.query_runner.ASKER`),
    and caps the requests one address may have in flight (429 with Retry-After past it).

    Queries waiting for a worker then take turns by client rather than by arrival, so a
    client with many slow queries does not hold up one with a quick question, and one
    client cannot take every thread. Behind a reverse proxy the address is the proxy's
    unless it sends ``X-Forwarded-For`` and is trusted (uvicorn trusts 127.0.0.1;
    ``FORWARDED_ALLOW_IPS`` sets others).
    """

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit
        #: Requests in flight by address (the event loop is one thread: no lock needed).
        self.in_flight: Counter[str] = Counter()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else ""
        if self.in_flight[address] >= self.limit:
            refusal = PlainTextResponse(
                f"too many requests at once from {address} (at most {self.limit} in flight)\n"
                "  hint: wait for answers before sending more; whoever runs the server can "
                "raise HRKG_CLIENT_CONCURRENCY\n",
                status_code=429,
                headers={"Retry-After": "1"},
            )
            await refusal(scope, receive, send)
            return
        self.in_flight[address] += 1
        token = ASKER.set(address)
        try:
            await self.app(scope, receive, send)
        finally:
            ASKER.reset(token)
            self.in_flight[address] -= 1
            if not self.in_flight[address]:
                del self.in_flight[address]


class CacheStatusHeader:
    """Says in a ``Cache-Status`` header (RFC 9211) whether the request's answers were kept
    from earlier identical queries (``hit``), computed for it (``fwd=miss``) or shared with
    identical queries running at the same time (``fwd=miss; collapsed``).

    A request that ran no query (a static file, a refusal) gets no header.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        report: list[Served] = []
        token = CACHE_REPORT.set(report)

        async def send_with_status(message) -> None:
            if message["type"] == "http.response.start" and report:
                headers = [*message.get("headers", []), (b"cache-status", cache_status(report))]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            CACHE_REPORT.reset(token)


def cache_status(report: list[Served]) -> bytes:
    """The ``Cache-Status`` value for a request whose queries were served as ``report``."""
    if all(served is Served.HIT for served in report):
        return b"hrkg; hit"
    if Served.MISS in report:
        return b"hrkg; fwd=miss"
    return b"hrkg; fwd=miss; collapsed"


@asynccontextmanager
async def _enough_threads(app: Starlette) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
    yield


def create_app(state: ServerState) -> Starlette:
    """The application over an opened state (the CLI opens it; tests open their own)."""
    routes = [
        Route("/", home),
        Route("/sparql", sparql_endpoint, methods=["GET", "POST"]),
        Route("/api/queries", list_queries),
        Route("/api/queries/{name:path}", run_query),
        Route("/openapi.json", openapi),
        Route("/graph-store", graph_store),
        Route("/id/{path:path}", entity),
        Route("/vocab/{path:path}", entity),
        Route("/def/{path:path}", entity),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    if YASGUI_BUILD.is_dir():
        routes.insert(
            -1, Mount("/vendor/yasgui", StaticFiles(directory=YASGUI_BUILD), name="yasgui")
        )
    middleware = [
        Middleware(RequestGuard),
        Middleware(
            CORSMiddleware,
            allow_origins=list(state.config.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Accept", "Content-Type", "Authorization"],
            expose_headers=[
                "HRKG-Results-Truncated",
                "Retry-After",
                "Link",
                "Cache-Status",
                "ETag",
            ],
        ),
        Middleware(CacheStatusHeader),
        Middleware(ConditionalGet),
        # Inside CORS, so that a browser on another origin can read a 429 too.
        Middleware(TurnsByClient, limit=state.config.client_concurrency),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=_enough_threads)
    app.state.hrkg = state
    return app
