"""The SPARQL 1.1 Protocol at ``/sparql`` (https://www.w3.org/TR/sparql11-protocol/).

Queries arrive by GET (``?query=``), by POST form (``query=``) or by POST with
``application/sparql-query``; ``default-graph-uri`` and ``named-graph-uri`` choose the
dataset. Answers are negotiated by ``Accept``. Status codes: 400 malformed, 403 refused
(update without permission, SERVICE), 406 no acceptable format, 413 too large, 503 timed
out (never a truncated 200) or not run because every worker stayed busy (with
``Retry-After``). A capped answer carries ``HRKG-Results-Truncated``. With no
query, the endpoint describes itself (SPARQL 1.1 Service Description).
"""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

import pyoxigraph
from pyoxigraph import NamedNode, RdfFormat
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from hrkg.errors import (
    QueryBusy,
    QueryError,
    QueryRefused,
    QueryResourceLimit,
    QuerySyntaxError,
    QueryTimeout,
    QueryTooLarge,
    UpstreamError,
)
from hrkg.results import Table, boolean_document, render
from hrkg.server.negotiation import GRAPH_MEDIA, RESULT_MEDIA, choose
from hrkg.server.state import ServerState
from hrkg.sparql_text import is_update, keywords

GRAPH_FORMATS = {
    "turtle": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "jsonld": RdfFormat.JSON_LD,
    "xml": RdfFormat.RDF_XML,
}
#: W3C format IRIs (https://www.w3.org/ns/formats/) of what this endpoint writes.
FORMAT_NAMES = (
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "JSON-LD",
    "RDF_XML",
)
STATUS = {
    QuerySyntaxError: 400,
    QueryRefused: 403,
    QueryTooLarge: 413,
    QueryTimeout: 503,
    QueryResourceLimit: 503,
    QueryBusy: 503,
    UpstreamError: 502,
}


def error_response(error: QueryError) -> Response:
    status = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, QueryBusy) else None
    return PlainTextResponse(error.message + "\n", status_code=status, headers=headers)


async def _read_request(
    request: Request, state: ServerState
) -> tuple[str | None, str | None, dict]:
    """(query, update, params) from GET or POST, within the body size limit."""
    params = parse_qs(request.url.query, keep_blank_values=True)
    query = update = None
    if request.method == "POST":
        body = await _body(request, state.config.max_body_bytes)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        text = body.decode("utf-8", errors="strict")
        if media == "application/sparql-query":
            query = text
        elif media == "application/sparql-update":
            update = text
        elif media == "application/x-www-form-urlencoded":
            form = parse_qs(text, keep_blank_values=True)
            params = {**params, **form}
            update = form.get("update", [None])[0]
        else:
            raise QuerySyntaxError(
                f"unsupported content type {media or '(none)'}",
                hint="POST application/sparql-query, application/sparql-update or a form",
            )
    query = query or params.get("query", [None])[0]
    return query, update, params


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise QueryTooLarge(f"the request body is over the limit of {limit:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise QueryTooLarge(f"the request body is over the limit of {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def sparql_endpoint(request: Request) -> Response:
    state: ServerState = request.app.state.hrkg
    try:
        query, update, params = await _read_request(request, state)
    except UnicodeDecodeError:
        return PlainTextResponse("the request body is not UTF-8\n", status_code=400)
    except QueryError as error:
        return error_response(error)
    if update is not None:
        return await _update(request, state, update)
    if query is None:
        return service_description(request, state)
    if is_update(query):
        return error_response(QueryRefused("updates go to POST with application/sparql-update"))
    default_graphs = params.get("default-graph-uri") or None
    named_graphs = params.get("named-graph-uri") or None
    try:
        answer = await state.run_in_thread(
            state.kg.store.query,
            query,
            default_graphs=[NamedNode(g) for g in default_graphs] if default_graphs else None,
            named_graphs=[NamedNode(g) for g in named_graphs] if named_graphs else None,
        )
    except ValueError as error:
        return PlainTextResponse(f"a graph IRI is invalid: {error}\n", status_code=400)
    except QueryError as error:
        return error_response(error)
    explicit = params.get("format", [None])[0]
    if isinstance(answer, Table | bool):
        fmt = choose(request.headers.get("accept"), RESULT_MEDIA, explicit)
        if fmt is None:
            return _not_acceptable(RESULT_MEDIA)
        if isinstance(answer, bool):
            fmt = fmt if fmt in ("json", "xml") else "json"
            return Response(boolean_document(answer, fmt), media_type=RESULT_MEDIA[fmt])
        headers = {"HRKG-Results-Truncated": str(len(answer))} if answer.truncated else {}
        return Response(render(answer, fmt, {}), media_type=RESULT_MEDIA[fmt], headers=headers)
    fmt = choose(request.headers.get("accept"), GRAPH_MEDIA, explicit)
    if fmt is None:
        return _not_acceptable(GRAPH_MEDIA)
    data = (
        pyoxigraph.serialize(answer, format=GRAPH_FORMATS[fmt], prefixes=state.kg.prefixes) or b""
    )
    return Response(data, media_type=GRAPH_MEDIA[fmt])


def _not_acceptable(offered: dict[str, str]) -> Response:
    return PlainTextResponse(
        "no acceptable format; this endpoint offers " + ", ".join(offered.values()) + "\n",
        status_code=406,
    )


async def _update(request: Request, state: ServerState, update: str) -> Response:
    """Updates exist only with --allow-update, and only with the bearer token."""
    if not state.config.allow_update:
        return error_response(QueryRefused("updates are disabled on this server (read-only)"))
    presented = request.headers.get("authorization", "")
    expected = f"Bearer {state.config.update_token}"
    if not hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8")):
        return PlainTextResponse(
            "an update needs the header 'Authorization: Bearer <token>'\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="hrkg"'},
        )
    words = keywords(update)
    if {"SERVICE", "LOAD"} & words:
        return error_response(QueryRefused("LOAD and SERVICE are refused: hrkg never fetches URLs"))
    try:
        await state.run_in_thread(state.apply_update, update)
    except QueryError as error:
        return error_response(error)
    return Response(status_code=204)


def service_description(request: Request, state: ServerState) -> Response:
    """A SPARQL 1.1 Service Description of this endpoint, in Turtle."""
    endpoint = str(request.url.replace(query=""))
    graphs = "\n".join(
        f"      [ a sd:NamedGraph ; sd:name <{name.value}> ] ,"
        for name in state.kg.store.graph_names()
    ).rstrip(",")
    formats = " , ".join(f"<http://www.w3.org/ns/formats/{name}>" for name in FORMAT_NAMES)
    languages = "sd:SPARQL11Query" + (" , sd:SPARQL11Update" if state.config.allow_update else "")
    text = f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .

<{endpoint}> a sd:Service ;
  sd:endpoint <{endpoint}> ;
  sd:supportedLanguage {languages} ;
  sd:feature sd:UnionDefaultGraph ;
  sd:resultFormat {formats} ;
  sd:defaultDataset [
    a sd:Dataset ;
    sd:defaultGraph [ a sd:Graph ; void:triples {len(state.kg.store)} ] ;
    sd:namedGraph
{graphs} ] .
"""
    return Response(text, media_type="text/turtle")
