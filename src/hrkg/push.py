"""Uploading the dataset, graph by graph, to a SPARQL server.

Two ways, since servers differ: the Graph Store Protocol (one ``PUT ?graph=IRI`` per
graph, replacing it; Oxigraph server, Fuseki, GraphDB) or SPARQL Update (``DROP SILENT
GRAPH`` then ``INSERT DATA`` in chunks; Virtuoso's ``/sparql-auth``, Neptune). Either way
each graph is replaced whole, so pushing twice leaves the same data, and every call has
a timeout and its status checked.

Blank nodes need care with SPARQL Update. Each request's blank nodes are new nodes
(SPARQL 1.1 Update, section 3.1.1), so triples that share a blank node must travel in the
same chunk, or one node would arrive as two; and Virtuoso refuses blank nodes in
``INSERT DATA`` altogether (error SP031, "not allowed in a constant clause"), so a chunk
that has any goes as ``INSERT { … } WHERE {}``, which means the same thing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import httpx
import pyoxigraph
from pyoxigraph import BlankNode, NamedNode, Quad, RdfFormat, Triple

from hrkg.errors import HrkgError
from hrkg.remote_store import Endpoint, url_params

#: Triples per INSERT DATA request: small enough for any server's request limits.
UPDATE_CHUNK = 2000


class PushError(HrkgError):
    """The server refused or failed a write; ``status`` is its HTTP status when it answered."""

    def __init__(self, what: str, *, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(what, hint=hint)
        self.status = status


@dataclass(frozen=True)
class PushReport:
    graphs: int
    triples: int
    method: str


def _graphs(quads: Iterable[Quad]) -> dict[NamedNode, list[Quad]]:
    by_graph: dict[NamedNode, list[Quad]] = defaultdict(list)
    for quad in quads:
        if isinstance(quad.graph_name, NamedNode):
            by_graph[quad.graph_name].append(quad)
    return dict(sorted(by_graph.items(), key=lambda item: item[0].value))


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code >= 300:
        raise PushError(
            f"{what}: the server answered {response.status_code} {response.text.strip()[:300]}",
            hint="check the URL, the credentials (--endpoint-user/--endpoint-password) and "
            "that the server accepts writes",
            status=response.status_code,
        )


def push(
    quads: Iterable[Quad],
    endpoint: Endpoint,
    *,
    progress: Callable[[str, int], None] | None = None,
) -> PushReport:
    """Replace every named graph of ``quads`` on the server; GSP when configured, else Update."""
    graphs = _graphs(quads)
    method = "graph-store" if endpoint.graph_store_url else "update"
    if method == "update" and not endpoint.update_url:
        raise PushError(
            "no way to write to the server",
            hint="give --graph-store URL (Graph Store Protocol) or --update-endpoint URL",
        )
    total = 0
    with endpoint.client() as client:
        for graph, graph_quads in graphs.items():
            triples = [quad.triple for quad in graph_quads]
            try:
                if method == "graph-store":
                    _put_graph(client, endpoint, graph, triples)
                else:
                    _update_graph(client, endpoint, graph, triples)
            except httpx.HTTPError as error:
                raise PushError(f"uploading <{graph.value}> failed: {error}") from None
            total += len(triples)
            if progress:
                progress(graph.value, len(triples))
    return PushReport(len(graphs), total, method)


def _put_graph(client: httpx.Client, endpoint: Endpoint, graph: NamedNode, triples: list) -> None:
    body = pyoxigraph.serialize(triples, format=RdfFormat.N_TRIPLES) or b""
    response = client.put(
        endpoint.graph_store_url or "",
        params=[*url_params(endpoint.graph_store_url or ""), ("graph", graph.value)],
        content=body,
        headers={"Content-Type": "application/n-triples"},
    )
    _check(response, f"PUT <{graph.value}>")


def _update_graph(
    client: httpx.Client, endpoint: Endpoint, graph: NamedNode, triples: list
) -> None:
    url = endpoint.update_url or ""
    _check(client.post(url, data={"update": f"DROP SILENT GRAPH {graph}"}), f"DROP <{graph.value}>")
    for chunk in update_chunks(triples):
        update = insert_request({graph: chunk})
        _check(client.post(url, data={"update": update}), f"INSERT into <{graph.value}>")


def insert_quads(endpoint: Endpoint, quads: Iterable[Quad], *, where: str | None = None) -> None:
    """Add the quads to the server's named graphs in one SPARQL Update request: the server
    runs it as one operation, so a refusal leaves none of them written (``hrkg add``).
    With ``where`` (a group graph pattern's body), they are added only if it matches."""
    by_graph = {
        graph: [quad.triple for quad in graph_quads]
        for graph, graph_quads in _graphs(quads).items()
    }
    send_update(endpoint, insert_request(by_graph, where=where), what="INSERT")


def send_update(endpoint: Endpoint, update: str, *, what: str = "the update") -> None:
    """One SPARQL Update request to the server's Update URL (by form POST, as every server
    takes it); a refusal or a failure to reach it is a :class:`PushError`."""
    if not endpoint.update_url:
        raise PushError(
            "no way to write to the server: writing needs its SPARQL Update URL",
            hint="give --update-endpoint URL (Oxigraph server: …/update; Virtuoso: "
            "…/sparql-auth with --endpoint-auth digest)",
        )
    with endpoint.client() as client:
        try:
            response = client.post(endpoint.update_url, data={"update": update})
        except httpx.HTTPError as error:
            raise PushError(f"writing to {endpoint.update_url} failed: {error}") from None
    _check(response, what)


def insert_request(
    triples_by_graph: Mapping[NamedNode, Sequence[Triple]], *, where: str | None = None
) -> str:
    """A SPARQL Update adding each graph's triples. ``INSERT DATA``, or, when blank nodes
    are among them (Virtuoso refuses those in ``INSERT DATA``), ``INSERT { … } WHERE {}``,
    which means the same: a blank node written twice in it is one new node. A ``where``
    makes it ``INSERT { … } WHERE { where }``: ``where`` must match once, or not at all."""
    blocks = []
    for graph, triples in triples_by_graph.items():
        body = (pyoxigraph.serialize(triples, format=RdfFormat.N_TRIPLES) or b"").decode("utf-8")
        blocks.append(f"GRAPH {graph} {{\n{body}}}")
    template = "\n".join(blocks)
    if where is not None:
        return f"INSERT {{ {template} }}\nWHERE {{ {where} }}"
    if any(_blank_nodes(triple) for triples in triples_by_graph.values() for triple in triples):
        return f"INSERT {{ {template} }} WHERE {{}}"
    return f"INSERT DATA {{ {template} }}"


def _blank_nodes(triple: Triple) -> list[BlankNode]:
    return [term for term in (triple.subject, triple.object) if isinstance(term, BlankNode)]


def update_chunks(triples: list[Triple], size: int = UPDATE_CHUNK) -> list[list[Triple]]:
    """Chunks of about ``size`` triples in which no blank node is split between chunks.

    Triples linked through blank nodes form one group (a union-find over the nodes) and a
    group is never cut; a group larger than ``size`` makes one larger chunk.
    """
    parent: dict[BlankNode, BlankNode] = {}

    def root(node: BlankNode) -> BlankNode:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for triple in triples:
        nodes = _blank_nodes(triple)
        for other in nodes[1:]:
            parent[root(other)] = root(nodes[0])
    groups: dict[object, list[Triple]] = defaultdict(list)
    for index, triple in enumerate(triples):
        nodes = _blank_nodes(triple)
        groups[root(nodes[0]) if nodes else index].append(triple)
    chunks: list[list[Triple]] = []
    current: list[Triple] = []
    for group in groups.values():
        if current and len(current) + len(group) > size:
            chunks.append(current)
            current = []
        current.extend(group)
    if current:
        chunks.append(current)
    return chunks
