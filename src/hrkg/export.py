"""Serialising the dataset: every RDF format, byte-for-byte deterministic.

Quads are sorted (graph, subject, then ``rdf:type`` before other predicates, object) and
written by pyoxigraph's serialisers with every prefix declared, so two exports of the same
data are identical and a change to the data shows as a small diff. The quad formats (TriG,
N-Quads, JSON-LD) keep the provenance graphs; the triple formats (Turtle, N-Triples,
RDF/XML) merge the chosen graphs. JSON-LD is compacted with a context by rdflib, which is
the one serialiser here that writes one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph
from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    DefaultGraph,
    NamedNode,
    Quad,
    RdfFormat,
    Triple,
)

from hrkg.errors import ExportError
from hrkg.store import Store

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@dataclass(frozen=True)
class ExportFormat:
    name: str
    rdf_format: RdfFormat
    keeps_graphs: bool
    suffix: str


EXPORT_FORMATS: dict[str, ExportFormat] = {
    "turtle": ExportFormat("turtle", RdfFormat.TURTLE, False, ".ttl"),
    "ntriples": ExportFormat("ntriples", RdfFormat.N_TRIPLES, False, ".nt"),
    "xml": ExportFormat("xml", RdfFormat.RDF_XML, False, ".rdf"),
    "trig": ExportFormat("trig", RdfFormat.TRIG, True, ".trig"),
    "nquads": ExportFormat("nquads", RdfFormat.N_QUADS, True, ".nq"),
    "jsonld": ExportFormat("jsonld", RdfFormat.JSON_LD, True, ".jsonld"),
}


def _term_key(term) -> str:
    return str(term)


#: Predicates a reader looks for first, in this order; the others follow by IRI.
LEADING_PREDICATES = {
    RDF_TYPE: 0,
    "http://www.w3.org/2000/01/rdf-schema#label": 1,
    "http://purl.org/dc/terms/title": 2,
}


def quad_sort_key(quad: Quad) -> tuple:
    """Graph, subject, then type, label and title before other predicates, then object."""
    predicate = quad.predicate.value
    return (
        _term_key(quad.graph_name),
        _term_key(quad.subject),
        LEADING_PREDICATES.get(predicate, len(LEADING_PREDICATES)),
        predicate,
        _term_key(quad.object),
    )


def _canonical_blank_nodes(quads: set[Quad]) -> set[Quad]:
    """Relabel blank nodes by RDFC-1.0 so that their labels do not depend on the parse.

    A parser names blank nodes afresh on every run; without this, two exports of the
    same files would differ. Skipped when there is no blank node (the data has none).
    """
    if not any(isinstance(term, BlankNode) for quad in quads for term in quad):
        return quads
    dataset = pyoxigraph.Dataset(quads)
    dataset.canonicalize(CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


def canonical_quads(quads: Iterable[Quad]) -> list[Quad]:
    """The quads in canonical order, duplicates removed, blank nodes canonically labelled."""
    return sorted(_canonical_blank_nodes(set(quads)), key=quad_sort_key)


def canonical_triples(quads: Iterable[Quad]) -> list[Triple]:
    """The triples of the quads (graphs merged) in canonical order, duplicates removed."""
    merged = {Quad(quad.subject, quad.predicate, quad.object) for quad in quads}
    return [quad.triple for quad in canonical_quads(merged)]


def serialize_canonical(quads: Iterable[Quad], fmt: str, prefixes: Mapping[str, str]) -> bytes:
    """The quads in ``fmt`` (a key of :data:`EXPORT_FORMATS`), deterministic bytes."""
    try:
        export_format = EXPORT_FORMATS[fmt]
    except KeyError:
        raise ExportError(
            f"unknown export format {fmt!r}", hint=f"choose one of {', '.join(EXPORT_FORMATS)}"
        ) from None
    if fmt == "jsonld":
        return _jsonld(canonical_quads(quads), prefixes)
    if export_format.keeps_graphs:
        ordered: list = canonical_quads(quads)
    else:
        ordered = canonical_triples(quads)
    output = pyoxigraph.serialize(ordered, format=export_format.rdf_format, prefixes=dict(prefixes))
    return output or b""


def _jsonld(quads: list[Quad], prefixes: Mapping[str, str]) -> bytes:
    """JSON-LD with a context, named graphs kept, via rdflib (pyoxigraph writes no context).

    The rdflib dataset is built term by term, in canonical order and with the canonical
    blank node labels, so its output is as deterministic as the other formats.
    """
    import rdflib

    dataset = rdflib.Dataset()
    for quad in quads:
        graph = dataset.graph(_to_rdflib(quad.graph_name))
        graph.add((_to_rdflib(quad.subject), _to_rdflib(quad.predicate), _to_rdflib(quad.object)))
    text = dataset.serialize(format="json-ld", context=dict(sorted(prefixes.items())), indent=1)
    return text.encode("utf-8") if isinstance(text, str) else text


def _to_rdflib(term):
    import rdflib

    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, DefaultGraph):
        return rdflib.graph.DATASET_DEFAULT_GRAPH_ID
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def select_quads(store: Store, graphs: Sequence[NamedNode] | None) -> Iterable[Quad]:
    """The quads of the chosen graphs (all graphs when None); an unknown graph is an error."""
    if not graphs:
        return store.quads()
    known = {name.value for name in store.graph_names()}
    for graph in graphs:
        if graph.value not in known:
            raise ExportError(
                f"no graph named <{graph.value}>",
                hint="`hrkg stats` lists the graphs; `hrkg query run reports` the source documents",
            )
    return (quad for graph in graphs for quad in store.quads(graph))
