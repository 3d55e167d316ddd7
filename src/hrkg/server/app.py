"""The ASGI application: routes, CORS and static files over one :class:`ServerState`."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hrkg.query_runner import ASKER
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


class TurnsByClient:
    """Tags each request with its client's address (:data:`~hrkg.query_runner.ASKER`).

    Queries waiting for a worker then take turns by client rather than by arrival, so a
    client with many slow queries does not hold up one with a quick question. Behind a
    reverse proxy the address is the proxy's unless it sends ``X-Forwarded-For`` and is
    trusted (uvicorn trusts 127.0.0.1; ``FORWARDED_ALLOW_IPS`` sets others).
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        client = scope.get("client")
        token = ASKER.set(client[0] if client else "")
        try:
            await self.app(scope, receive, send)
        finally:
            ASKER.reset(token)


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
        Middleware(TurnsByClient),
        Middleware(
            CORSMiddleware,
            allow_origins=list(state.config.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Accept", "Content-Type", "Authorization"],
            expose_headers=["HRKG-Results-Truncated"],
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.hrkg = state
    return app
