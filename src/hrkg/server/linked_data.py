"""Every project IRI dereferences on this server, and whole graphs can be fetched.

IRI to path: ``{base}id/{kind}/{slug}`` is served at ``/id/{kind}/{slug}``, and likewise
``/vocab/{scheme}/{notation}``, ``/vocab/{scheme}`` and ``/def/{Term}``: the path is the
IRI minus the base. A browser gets an HTML page (label, types, every statement with
links, and the sources and quoted passages behind them); tools get Turtle, N-Triples,
JSON-LD or RDF/XML of the entity's statements, or TriG / N-Quads keeping their source
graphs. ``/graph-store?graph=IRI`` (or ``?default``) is the Graph Store Protocol's read
access.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyoxigraph
from pyoxigraph import NamedNode, Quad, RdfFormat
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.templating import Jinja2Templates

from hrkg.errors import QueryError
from hrkg.export import EXPORT_ORDERS, canonical_quads, canonical_triples
from hrkg.results import Table, compact
from hrkg.server.negotiation import GRAPH_MEDIA, choose, wants_html
from hrkg.server.sparql_protocol import GRAPH_FORMATS, error_response
from hrkg.server.state import ServerState

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]*$")
ENTITY_MEDIA = {**GRAPH_MEDIA, "trig": "application/trig", "nquads": "application/n-quads"}
QUAD_FORMATS = {"trig": RdfFormat.TRIG, "nquads": RdfFormat.N_QUADS}
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def iri_of(request: Request, state: ServerState) -> str | None:
    """The IRI a request path names, or None when a segment is not a plain name."""
    segments = request.url.path.strip("/").split("/")
    if not segments or not all(
        _SEGMENT.match(segment) and segment not in (".", "..") for segment in segments
    ):
        return None
    return state.kg.settings.base_iri + "/".join(segments)


def _statements(state: ServerState, iri: NamedNode) -> Table:
    text = f"""SELECT ?graph ?property ?value WHERE {{ GRAPH ?graph {{ {iri} ?property ?value }} }}
               ORDER BY ?graph ?property ?value"""
    answer = state.kg.store.query(text)
    assert isinstance(answer, Table)
    return answer


def _labels(state: ServerState, nodes: set[str]) -> dict[str, str]:
    if not nodes:
        return {}
    values = " ".join(str(NamedNode(node)) for node in sorted(nodes))
    text = f"""SELECT ?node (SAMPLE(?label) AS ?name) WHERE {{
        VALUES ?node {{ {values} }}
        {{ ?node <http://www.w3.org/2000/01/rdf-schema#label> ?label }}
        UNION {{ ?node <http://www.w3.org/2004/02/skos/core#prefLabel> ?label }}
        UNION {{ ?node <http://purl.org/dc/terms/title> ?label }}
        FILTER(LANG(?label) = "en" || LANG(?label) = "")
    }} GROUP BY ?node"""
    answer = state.kg.store.query(text)
    assert isinstance(answer, Table)
    return {row["node"]: row["name"] for row in answer.values()}


def _incoming(state: ServerState, iri: NamedNode) -> Table:
    text = (
        f"SELECT DISTINCT ?subject ?property WHERE {{ ?subject ?property {iri} }} "
        "ORDER BY ?subject LIMIT 500"
    )
    answer = state.kg.store.query(text)
    assert isinstance(answer, Table)
    return answer


async def entity(request: Request) -> Response:
    state: ServerState = request.app.state.hrkg
    iri = iri_of(request, state)
    if iri is None:
        return PlainTextResponse("not a valid entity path\n", status_code=404)
    node = NamedNode(iri)
    try:
        statements = await state.run_in_thread(_statements, state, node)
    except QueryError as error:
        return error_response(error)
    if not statements.rows:
        return PlainTextResponse(f"nothing is known about <{iri}>\n", status_code=404)
    accept = request.headers.get("accept")
    explicit = request.query_params.get("format")
    if explicit is None and (wants_html(accept) or not accept):
        return await _page(request, state, node, statements)
    fmt = choose(accept, ENTITY_MEDIA, explicit)
    if fmt is None:
        return PlainTextResponse(
            "offered: text/html, " + ", ".join(ENTITY_MEDIA.values()) + "\n", status_code=406
        )
    quads = [Quad(node, row[1], row[2], row[0]) for row in statements.rows]
    if fmt in QUAD_FORMATS:
        data = pyoxigraph.serialize(
            canonical_quads(quads), format=QUAD_FORMATS[fmt], prefixes=state.kg.prefixes
        )
    else:
        data = pyoxigraph.serialize(
            canonical_triples(quads), format=GRAPH_FORMATS[fmt], prefixes=state.kg.prefixes
        )
    return Response(data or b"", media_type=ENTITY_MEDIA[fmt], headers={"Vary": "Accept"})


async def _page(
    request: Request, state: ServerState, node: NamedNode, statements: Table
) -> Response:
    incoming = await state.run_in_thread(_incoming, state, node)
    quote = f"{state.kg.settings.base_iri}def/quote"
    iris = {term.value for row in statements.rows for term in row if isinstance(term, NamedNode)}
    iris |= {term.value for row in incoming.rows for term in row if isinstance(term, NamedNode)}
    labels = await state.run_in_thread(_labels, state, iris | {node.value})
    base = state.kg.settings.base_iri

    def link(term) -> dict:
        if isinstance(term, NamedNode):
            local = term.value[len(base) - 1 :] if term.value.startswith(base) else None
            return {
                "href": local or term.value,
                "text": labels.get(term.value) or compact(term.value, state.kg.prefixes),
                "iri": term.value,
            }
        return {
            "href": None,
            "text": term.value,
            "iri": None,
            "lang": getattr(term, "language", None),
        }

    sources: dict[str, dict] = {}
    rows = []
    for graph, prop, value in statements.rows:
        source = sources.setdefault(graph.value, {"source": link(graph), "quotes": []})
        if prop.value == quote:
            source["quotes"].append(value.value)
            continue
        rows.append({"property": link(prop), "value": link(value), "source": link(graph)})
    context = {
        "request": request,
        "iri": node.value,
        "label": labels.get(node.value) or compact(node.value, state.kg.prefixes),
        "types": [
            row["value"]
            for row in rows
            if row["property"]["iri"] and row["property"]["iri"].endswith("#type")
        ],
        "rows": rows,
        "sources": list(sources.values()),
        "incoming": [{"subject": link(row[0]), "property": link(row[1])} for row in incoming.rows],
        "formats": ENTITY_MEDIA,
    }
    return templates.TemplateResponse(request, "entity.html", context, headers={"Vary": "Accept"})


async def graph_store(request: Request) -> Response:
    """Graph Store Protocol, read access: ``?graph=IRI`` or ``?default`` (the union).

    The graph (or the whole dataset) is written as ``hrkg export`` writes it, the same
    bytes, by a thread into a temporary file, then streamed from there: a large dataset is
    never whole in memory, and the event loop goes on serving other requests meanwhile.
    JSON-LD is the one exception: the export's JSON-LD goes through rdflib, too slow for a
    whole dataset, so the merged triples are written by pyoxigraph instead (no context).
    ``?order=store`` gives ``hrkg export --order store``'s bytes: unsorted, much faster
    on a large dataset (JSON-LD then keeps the graphs, as the other quad formats do).
    """
    state: ServerState = request.app.state.hrkg
    params = request.query_params
    if ("graph" in params) == ("default" in params):
        return PlainTextResponse("give exactly one of ?graph=IRI or ?default\n", status_code=400)
    order = params.get("order", "canonical")
    if order not in EXPORT_ORDERS:
        return PlainTextResponse(
            f"?order={order} is not one of {', '.join(EXPORT_ORDERS)}\n", status_code=400
        )
    fmt = choose(request.headers.get("accept"), ENTITY_MEDIA, params.get("format"))
    if fmt is None:
        return PlainTextResponse(
            "offered: " + ", ".join(ENTITY_MEDIA.values()) + "\n", status_code=406
        )
    graphs = None
    if "graph" in params:
        try:
            graph = NamedNode(params["graph"])
        except ValueError:
            return PlainTextResponse("the graph IRI is invalid\n", status_code=400)
        if graph not in state.kg.store.graph_names():
            return PlainTextResponse(f"no graph <{graph.value}>\n", status_code=404)
        graphs = [graph.value]
    # No name: gone once closed. It outlives this function (the response reads it), so
    # it is closed by _pieces, or here on an error.
    spool = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        if fmt == "jsonld" and order == "canonical":
            await state.run_in_thread(_write_jsonld_triples, state, graphs, spool)
        else:
            await state.run_in_thread(state.export_to, spool, fmt, graphs, order)
        size = spool.tell()
        spool.seek(0)
    except QueryError as error:  # from the SPARQL server behind hrkg (serve --endpoint)
        spool.close()
        return error_response(error)
    except BaseException:
        spool.close()
        raise
    return StreamingResponse(
        _pieces(spool), media_type=ENTITY_MEDIA[fmt], headers={"Content-Length": str(size)}
    )


def _write_jsonld_triples(state: ServerState, graphs: list[str] | None, output: BinaryIO) -> None:
    names = [NamedNode(graph) for graph in graphs] if graphs else [None]
    quads = [quad for name in names for quad in state.kg.store.quads(name)]
    pyoxigraph.serialize(
        canonical_triples(quads), output, RdfFormat.JSON_LD, prefixes=state.kg.prefixes
    )


def _pieces(spool: BinaryIO, size: int = 1 << 20) -> Iterator[bytes]:
    """The file's bytes a piece at a time; the file is closed (and so removed) at the end,
    or when the client goes away before it."""
    with spool:
        while piece := spool.read(size):
            yield piece
