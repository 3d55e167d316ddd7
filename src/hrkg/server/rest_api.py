"""The stored questions as a REST API, described by OpenAPI.

``GET /api/queries`` lists them with their parameters; ``GET /api/queries/{name}?p=v``
runs one and answers SPARQL JSON (default) or CSV (``Accept: text/csv`` or ``?format=csv``).
``limit`` and ``offset`` choose a page of the answer; when more rows may follow (a full page,
or an answer cut at the server's row cap) a ``Link: <…>; rel="next"`` header gives the URL
of the next page. A bad parameter gets 400 with the reason; an unknown question 404.
"""

from __future__ import annotations

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from hrkg import __version__
from hrkg.catalog import MAX_PAGE_NUMBER, RESERVED_PARAMETERS, Page, StoredQuery
from hrkg.errors import ParameterError, QueryError, UnknownQueryError
from hrkg.results import render
from hrkg.server.negotiation import choose
from hrkg.server.sparql_protocol import error_response
from hrkg.server.state import ServerState

API_MEDIA = {
    "json": "application/sparql-results+json",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
OPENAPI_TYPES = {
    "iri": {"type": "string", "format": "uri"},
    "string": {"type": "string"},
    "langstring": {"type": "string", "pattern": ".*@[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$"},
    "date": {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"},
    "integer": {"type": "integer"},
}


#: The headers an answer may carry, for OpenAPI.
ANSWER_HEADERS = {
    name: {"description": description, "schema": {"type": kind}}
    for name, kind, description in [
        ("Link", "string", 'rel="next": the next page, when more rows may follow'),
        (
            "ETag",
            "string",
            "A hash of the answer's bytes: send it back in If-None-Match to get 304 while "
            "the answer is unchanged",
        ),
        (
            "Cache-Status",
            "string",
            "hrkg; hit: kept from an earlier identical request; hrkg; fwd=miss: run for this "
            "one (collapsed: shared with an identical request running at the same time)",
        ),
        (
            "HRKG-Results-Truncated",
            "integer",
            "The answer was cut at the server's row cap after this many rows",
        ),
    ]
}


def describe(stored: StoredQuery) -> dict:
    return {
        "name": stored.name,
        "summary": stored.summary,
        "description": stored.description,
        "tags": list(stored.tags),
        "check": stored.is_check,
        "parameters": [
            {
                "name": parameter.name,
                "type": parameter.type,
                "description": parameter.description,
                "required": parameter.required,
                "default": parameter.default,
                "allowed": list(parameter.allowed),
            }
            for parameter in stored.parameters.values()
        ],
        "requiresOneOf": list(stored.requires_one_of),
        "example": dict(stored.example),
    }


async def list_queries(request: Request) -> Response:
    state: ServerState = request.app.state.hrkg
    return JSONResponse([describe(stored) for stored in state.kg.catalog])


async def run_query(request: Request) -> Response:
    state: ServerState = request.app.state.hrkg
    name = request.path_params["name"]
    params = {
        key: value
        for key, value in request.query_params.multi_items()
        if key not in RESERVED_PARAMETERS
    }
    try:
        stored = state.kg.catalog.get(name)
    except UnknownQueryError as error:
        return PlainTextResponse(error.message + "\n", status_code=404)
    fmt = choose(request.headers.get("accept"), API_MEDIA, request.query_params.get("format"))
    if fmt is None:
        return PlainTextResponse("this API answers JSON, CSV or TSV\n", status_code=406)
    query = request.query_params
    try:
        page = Page.parse(query.get("limit"), query.get("offset"))
        table = await state.run_in_thread(state.kg.run, stored, params, page)
    except ParameterError as error:
        return PlainTextResponse(error.message + "\n", status_code=400)
    except QueryError as error:
        return error_response(error)
    headers = {"HRKG-Results-Truncated": str(len(table))} if table.truncated else {}
    following = next_page(request.url, page, len(table), table.truncated)
    if following is not None:
        headers["Link"] = f'<{following}>; rel="next"'
    return Response(render(table, fmt, {}), media_type=API_MEDIA[fmt], headers=headers)


def next_page(url: URL, page: Page, rows: int, truncated: bool) -> str | None:
    """Where the page after this one is, if more rows may follow: this page is full, or
    the server cut the answer at its row cap (then pages are as long as the cap). The
    reference is relative, so that it holds behind a proxy too."""
    full = page.limit is not None and rows == page.limit
    if rows == 0 or not (full or truncated):
        return None
    following = url.include_query_params(offset=page.offset + rows, limit=page.limit or rows)
    return f"{following.path}?{following.query}"


def openapi_document(state: ServerState) -> dict:
    """An OpenAPI 3.1 description of the REST API, made from the catalogue."""
    paths: dict[str, dict] = {
        "/api/queries": {
            "get": {
                "summary": "List the stored questions with their parameters",
                "operationId": "listQueries",
                "responses": {
                    "200": {"description": "The catalogue", "content": {"application/json": {}}}
                },
            }
        }
    }
    for stored in state.kg.catalog:
        parameters = [
            {
                "name": parameter.name,
                "in": "query",
                "required": parameter.required,
                "description": parameter.description,
                "schema": {
                    **OPENAPI_TYPES[parameter.type],
                    **({"enum": list(parameter.allowed)} if parameter.allowed else {}),
                    **({"minimum": parameter.minimum} if parameter.minimum is not None else {}),
                    **({"maximum": parameter.maximum} if parameter.maximum is not None else {}),
                },
            }
            for parameter in stored.parameters.values()
        ]
        parameters += [
            {
                "name": "format",
                "in": "query",
                "required": False,
                "description": "The answer's format (instead of an Accept header)",
                "schema": {"enum": list(API_MEDIA)},
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": "At most this many rows: a page of the answer, in its order",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_NUMBER},
            },
            {
                "name": "offset",
                "in": "query",
                "required": False,
                "description": "Skip this many rows of the answer first",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_PAGE_NUMBER},
            },
        ]
        paths[f"/api/queries/{stored.name}"] = {
            "get": {
                "summary": stored.summary,
                "description": stored.description,
                "operationId": "run_" + stored.name.replace("/", "_").replace("-", "_"),
                "tags": list(stored.tags),
                "parameters": parameters,
                "responses": {
                    "200": {
                        "description": "The answer, as SPARQL 1.1 results",
                        "content": {media: {} for media in API_MEDIA.values()},
                        "headers": ANSWER_HEADERS,
                    },
                    "304": {"description": "The answer is the one If-None-Match names"},
                    "400": {"description": "A parameter is missing, unknown or invalid"},
                    "429": {
                        "description": "This client has too many requests in flight "
                        "(Retry-After says when to retry)"
                    },
                    "503": {
                        "description": "The query ran past the time limit, or was not run "
                        "because every worker stayed busy (then Retry-After says when to retry)"
                    },
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hrkg stored questions",
            "version": __version__,
            "description": "Canned questions over the hrkg human-rights knowledge graph.",
        },
        "paths": paths,
    }


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(request.app.state.hrkg))
