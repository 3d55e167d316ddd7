"""One read interface for triple patterns, over rdflib graphs and Oxigraph stores alike.

Incremental validation only ever asks "which triples match this pattern?", a few thousand
times per change. Keeping that question behind a small protocol lets the same walk read a
large Oxigraph store or a remote SPARQL server (where the data lives) and a small rdflib
graph (the added batch, or a test fixture), and lets the two be combined without copying
either. Terms go in and come
out as rdflib terms, because pySHACL, which gets the extracted context, works on rdflib.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import pyoxigraph
import rdflib
from rdflib.namespace import XSD
from rdflib.term import BNode, Literal, Node, URIRef

__all__ = [
    "GraphAccess",
    "QuadPatterns",
    "RdflibAccess",
    "StoreAccess",
    "Triple",
    "UnionAccess",
    "to_oxigraph",
    "to_rdflib",
]

Triple = tuple[Node, Node, Node]


class GraphAccess(Protocol):
    """Read access to a set of triples; ``None`` in a position matches any term."""

    def triples(
        self, subject: Node | None, predicate: Node | None, obj: Node | None
    ) -> Iterator[Triple]: ...


class RdflibAccess:
    """An rdflib graph (for a Dataset, pass one with ``default_union=True``)."""

    def __init__(self, graph: rdflib.Graph) -> None:
        self.graph = graph

    def triples(
        self, subject: Node | None, predicate: Node | None, obj: Node | None
    ) -> Iterator[Triple]:
        yield from self.graph.triples((subject, predicate, obj))  # type: ignore[arg-type]


class QuadPatterns(Protocol):
    """A quad store read by pattern: a pyoxigraph store, or any of hrkg's stores (embedded,
    or a remote server, see :class:`hrkg.store.Store`)."""

    def quads_for_pattern(
        self, subject: Any, predicate: Any, object: Any, graph_name: Any = None
    ) -> Iterator[pyoxigraph.Quad]: ...


class StoreAccess:
    """Every graph of a quad store, named and default, read as one set of triples.

    The same triple may sit in several named graphs (one per source document); SHACL sees
    a set, so each pattern answers it once.
    """

    def __init__(self, store: QuadPatterns) -> None:
        self.store = store

    def triples(
        self, subject: Node | None, predicate: Node | None, obj: Node | None
    ) -> Iterator[Triple]:
        # A literal is never a subject and only an IRI is a predicate: answer without asking.
        if isinstance(subject, Literal):
            return
        if predicate is not None and not isinstance(predicate, URIRef):
            return
        pattern = (
            None if subject is None else to_oxigraph(subject),
            None if predicate is None else to_oxigraph(predicate),
            None if obj is None else to_oxigraph(obj),
        )
        seen: set[tuple[object, object, object]] = set()
        for quad in self.store.quads_for_pattern(*pattern, None):
            key = (quad.subject, quad.predicate, quad.object)
            if key in seen:
                continue
            seen.add(key)
            yield (
                subject if subject is not None else to_rdflib(quad.subject),
                predicate if predicate is not None else to_rdflib(quad.predicate),
                obj if obj is not None else to_rdflib(quad.object),
            )


class UnionAccess:
    """Two sources read as their set union: the existing graph and the added triples."""

    def __init__(self, first: GraphAccess, second: GraphAccess) -> None:
        self.first = first
        self.second = second

    def triples(
        self, subject: Node | None, predicate: Node | None, obj: Node | None
    ) -> Iterator[Triple]:
        seen: set[Triple] = set()
        for triple in self.first.triples(subject, predicate, obj):
            seen.add(triple)
            yield triple
        for triple in self.second.triples(subject, predicate, obj):
            if triple not in seen:
                yield triple


def to_oxigraph(term: Node) -> pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal:
    """The pyoxigraph term for an rdflib term; blank nodes keep their identifier."""
    if isinstance(term, URIRef):
        return pyoxigraph.NamedNode(str(term))
    if isinstance(term, BNode):
        return pyoxigraph.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return pyoxigraph.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return pyoxigraph.Literal(str(term), datatype=pyoxigraph.NamedNode(str(term.datatype)))
        return pyoxigraph.Literal(str(term))
    raise TypeError(f"cannot convert {term!r} to an Oxigraph term: not an IRI, blank node, literal")


_XSD_STRING = str(XSD.string)


def to_rdflib(term: object) -> Node:
    """The rdflib term for a pyoxigraph term.

    A plain literal comes back without a datatype, as rdflib's parsers produce it from
    ``"text"``: rdflib tells ``"text"`` and ``"text"^^xsd:string`` apart, Oxigraph does not.
    """
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    if isinstance(term, pyoxigraph.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise TypeError(f"cannot convert {term!r} to an rdflib term (RDF 1.2 triple terms are not)")
