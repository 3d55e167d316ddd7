"""Serialising the dataset: every RDF format, byte-for-byte deterministic (by default), streamed.

Two deterministic orders live here, and a fast one that is not (store order, last).

*Export order* (:func:`export_dataset`, :func:`serialize_canonical`): graphs by name, then
the triples of each graph (of the merged graph, for the triple formats) in the order of
their N-Triples lines, that is by subject, predicate and object as N-Triples writes them. An
N-Triples export is therefore sorted line by line. That key costs one call per quad on
Oxigraph's terms (``str``), which is what lets a million triples sort in a few seconds;
rdf:type is not moved to the front. From an Oxigraph store the export streams: the triple
formats subject by subject, the quad formats graph by graph, each piece sorted on its own
and written straight into the output, so an export holds little besides the store and the
bytes it returns. A large Turtle or N-Triples export from the in-memory store is written by
two processes, which share the subjects (:mod:`hrkg.forked_export`), with the same bytes.

*Data-file order* (:func:`canonical_quads`, for ``hrkg format`` and the entity pages): graph,
subject, then rdf:type, rdfs:label and dcterms:title before other predicates. Those files
are small and read by people, and their bytes must not change.

An export can also be written straight into a file (:func:`write_dataset`), so that a
large dataset's bytes are never all in memory.

Both are deterministic. Duplicates are merged: the triple formats (Turtle, N-Triples,
RDF/XML) merge the chosen graphs, while the quad formats (TriG, N-Quads, JSON-LD) keep the
provenance graphs. Blank nodes get RDFC-1.0 labels, computed from the quads that mention a
blank node (all that RDFC-1.0 reads), so labels do not depend on the parse and the rest of
the dataset is never copied. Every prefix is declared. JSON-LD is compacted with a context
by rdflib, the one serialiser here that writes one; its node lists are sorted afterwards,
since rdflib orders them by Python's per-process string hashes.

*Store order* (``order="store"``; the export order is ``"canonical"``) is the fast way out
for large datasets: the quads go to pyoxigraph's writer as the store hands them over,
graph by graph, with no sorting and no merging: a million triples in Turtle took 1.29 s
rather than 2.67 s (in two processes, see :mod:`hrkg.forked_export`) in one run of
``benchmarks/run.py``. The quad formats then hold exactly the dataset; the triple formats
hold each graph's triples in turn, so a triple that several source graphs state is written
once per graph (a parser reads the same merged graph). Blank nodes keep the store's
labels, JSON-LD comes out expanded, without a context (pyoxigraph's writer), and the bytes
may change from one load to the next: keep the export order wherever files are compared or
committed.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from itertools import chain
from operator import attrgetter
from typing import BinaryIO

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
from hrkg.forked_export import two_processes_allowed, write_in_two_processes
from hrkg.store import OxigraphStore, Store

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


# --- Data-file order ----------------------------------------------------------------------


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


def _mentions_blank_node(quad: Quad) -> bool:
    return any(isinstance(term, BlankNode) for term in quad)


def _canonical_blank_nodes(quads: set[Quad]) -> set[Quad]:
    """Relabel blank nodes by RDFC-1.0 so that their labels do not depend on the parse.

    A parser names blank nodes afresh on every run; without this, two exports of the
    same files would differ. Only the quads that mention a blank node go through RDFC-1.0:
    the labels depend on nothing else, and the others are left as they are.
    """
    with_blank = {quad for quad in quads if _mentions_blank_node(quad)}
    if not with_blank:
        return quads
    return (quads - with_blank) | _canonicalised(with_blank)


def _canonicalised(quads: Iterable[Quad]) -> set[Quad]:
    """The quads with their blank nodes relabelled ``c14n0``, ``c14n1``… by RDFC-1.0."""
    dataset = pyoxigraph.Dataset(quads)
    dataset.canonicalize(CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


def canonical_quads(quads: Iterable[Quad]) -> list[Quad]:
    """The quads in data-file order, duplicates removed, blank nodes canonically labelled."""
    return sorted(_canonical_blank_nodes(set(quads)), key=quad_sort_key)


def _merged(quads: Iterable[Quad]) -> set[Quad]:
    """The quads moved to the default graph: one per triple, whatever graphs held it."""
    return {Quad(quad.subject, quad.predicate, quad.object) for quad in quads}


def canonical_triples(quads: Iterable[Quad]) -> list[Triple]:
    """The quads' triples, graphs merged, in data-file order: each once, blank nodes
    canonically labelled (an entity page's or a graph's triples, written by pyoxigraph)."""
    return [quad.triple for quad in canonical_quads(_merged(quads))]


# --- Export ---------------------------------------------------------------------------------


#: The orders an export can be written in: ``canonical`` (sorted, merged, deterministic; the
#: default) and ``store`` (as the store holds the quads; fast, see the module's notes).
EXPORT_ORDERS = ("canonical", "store")
#: An export made whole (the bytes of :func:`export_dataset`, or one sent to a pipe) is
#: held in memory up to this size, then in a temporary file read back once. mimalloc
#: copies a buffer each time it grows (glibc moves a large one without a copy): at 1M
#: triples the N-Quads bytes held 444 MB for 214 MB of output that way, 247 MB this way.
SPOOL_BYTES = 32 * 1024 * 1024


def export_format(fmt: str) -> ExportFormat:
    """The format named ``fmt`` (a key of :data:`EXPORT_FORMATS`); anything else is an error."""
    try:
        return EXPORT_FORMATS[fmt]
    except KeyError:
        raise ExportError(
            f"unknown export format {fmt!r}", hint=f"choose one of {', '.join(EXPORT_FORMATS)}"
        ) from None


def export_dataset(
    store: Store,
    fmt: str,
    prefixes: Mapping[str, str],
    graphs: Sequence[NamedNode] | None = None,
    order: str = "canonical",
) -> bytes:
    """The store's dataset (or the chosen graphs) in ``fmt``: deterministic bytes in the
    export order, or the store's order (``order="store"``, fast, not deterministic)."""
    with _made_whole(store, fmt, prefixes, graphs, order) as whole:
        return whole.read()


def write_dataset(
    store: Store,
    fmt: str,
    prefixes: Mapping[str, str],
    output: BinaryIO,
    graphs: Sequence[NamedNode] | None = None,
    order: str = "canonical",
) -> None:
    """Write the store's dataset (or the chosen graphs) in ``fmt`` into ``output``: the
    same bytes as :func:`export_dataset`. In store order (``order="store"``) the quads
    are written as the store hands them over, whatever the store and the output.

    An Oxigraph store is streamed in export order, each piece written as it is made, so
    that the export holds little besides the store. Any other store (a remote endpoint)
    hands over its quads, which are sorted in memory to the same order and bytes. A
    stream that cannot seek (a pipe) gets the export made whole first (see
    :func:`_made_whole`): the rare export that must start again (see
    :func:`_stream_triples`) could not take back what it wrote.
    """
    quads = select_quads(store, graphs)  # checks the graph names, whichever path follows
    chosen = export_format(fmt)
    if _export_order(order) == "store":
        _write_in_store_order(quads, chosen, prefixes, output)
        return
    oxigraph = getattr(store, "oxigraph", None)
    if not isinstance(oxigraph, pyoxigraph.Store) or _has_blank_graph_name(oxigraph):
        _write_canonical(quads, chosen, prefixes, output)
        return
    if not output.seekable():
        with _made_whole(store, fmt, prefixes, graphs, order) as whole:
            shutil.copyfileobj(whole, output)
        return
    source = _Source.of(oxigraph, graphs)
    if fmt == "jsonld":
        _stream_quads(source, partial(_jsonld, prefixes=prefixes, output=output))
        return
    if chosen.keeps_graphs:
        _stream_quads(source, partial(_serialize, chosen=chosen, prefixes=prefixes, output=output))
    else:
        in_memory = isinstance(store, OxigraphStore) and store.path is None
        writer = _TripleWriter(chosen, prefixes, may_fork=in_memory)
        _stream_triples(source, writer, output)


class _Spool(tempfile.SpooledTemporaryFile):
    """Bytes in memory up to :data:`SPOOL_BYTES`, then in a temporary file (``TMPDIR``)."""

    def seekable(self) -> bool:
        return True  # both of its homes are; Python 3.10's class lacks the method

    def write(self, data: bytes) -> int:
        try:
            return super().write(data)
        except OSError as error:  # the folder is missing, full, or not writable
            raise ExportError(
                f"cannot hold the export in a temporary file: {error.strerror}",
                where=tempfile.gettempdir(),
                hint="set TMPDIR to a folder with room for the export, or write it to a "
                "file (hrkg export -o FILE, KnowledgeGraph.export_to)",
            ) from None


@contextmanager
def _made_whole(
    store: Store,
    fmt: str,
    prefixes: Mapping[str, str],
    graphs: Sequence[NamedNode] | None,
    order: str,
) -> Iterator[BinaryIO]:
    """The export written whole, rewound for reading, and deleted when the block ends."""
    with _Spool(max_size=SPOOL_BYTES) as spool:
        write_dataset(store, fmt, prefixes, spool, graphs, order)
        spool.seek(0)
        yield spool


def _export_order(order: str) -> str:
    if order not in EXPORT_ORDERS:
        raise ExportError(
            f"unknown export order {order!r}",
            hint="choose canonical (sorted, deterministic) or store (fast, as stored)",
        )
    return order


def _write_in_store_order(
    quads: Iterable[Quad], chosen: ExportFormat, prefixes: Mapping[str, str], output: BinaryIO
) -> None:
    """The quads (their triples, for a triple format) through pyoxigraph's writer, as they
    come: nothing is sorted, merged or held, which is what makes this order fast."""
    items = quads if chosen.keeps_graphs else map(_TRIPLE, quads)
    _serialize(items, chosen, prefixes, output)


def serialize_canonical(quads: Iterable[Quad], fmt: str, prefixes: Mapping[str, str]) -> bytes:
    """Any quads in ``fmt`` (a key of :data:`EXPORT_FORMATS`), in export order, in memory."""
    output = io.BytesIO()
    _write_canonical(quads, export_format(fmt), prefixes, output)
    return output.getvalue()


def _write_canonical(
    quads: Iterable[Quad], chosen: ExportFormat, prefixes: Mapping[str, str], output: BinaryIO
) -> None:
    if chosen.name == "jsonld":
        _jsonld(_ordered_quads(quads), prefixes, output)
    elif chosen.keeps_graphs:
        _serialize(_ordered_quads(quads), chosen, prefixes, output)
    else:
        _serialize(_ordered_triples(quads), chosen, prefixes, output)


def _ordered_quads(quads: Iterable[Quad]) -> list[Quad]:
    """The quads in export order: by graph name, then N-Quads line; each once."""
    return sorted(_canonical_blank_nodes(set(quads)), key=_graph_then_line)


def _graph_then_line(quad: Quad) -> tuple[str, str]:
    return str(quad.graph_name), str(quad)


def _ordered_triples(quads: Iterable[Quad]) -> list[Triple]:
    """The triples of the quads (graphs merged) in export order, by N-Triples line; each once."""
    triples = [quad.triple for quad in _canonical_blank_nodes(_merged(quads))]
    return sorted(triples, key=str)


def _serialize(
    items: Iterable[Triple] | Iterable[Quad],
    chosen: ExportFormat,
    prefixes: Mapping[str, str],
    output: BinaryIO,
) -> None:
    pyoxigraph.serialize(items, output, chosen.rdf_format, prefixes=dict(prefixes))


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


# --- Streaming from an Oxigraph store -------------------------------------------------------

Subject = NamedNode | BlankNode
GraphName = NamedNode | BlankNode | DefaultGraph
#: The statements fetched, sorted and written together: a subject's triples, a graph's quads.
Block = Iterable[Triple] | Iterable[Quad]

_TRIPLE = attrgetter("triple")
_OBJECT = attrgetter("object")


@dataclass(frozen=True)
class _Source:
    """The quads to export: an Oxigraph store, all of it (``graphs`` None) or some graphs."""

    oxigraph: pyoxigraph.Store
    graphs: frozenset[NamedNode] | None
    #: Whether the default graph is exported too: the whole store is, and it holds quads.
    with_default_graph: bool

    @classmethod
    def of(cls, oxigraph: pyoxigraph.Store, graphs: Sequence[NamedNode] | None) -> _Source:
        if graphs:
            return cls(oxigraph, frozenset(graphs), False)
        default = oxigraph.quads_for_pattern(None, None, None, DefaultGraph())
        return cls(oxigraph, None, next(iter(default), None) is not None)

    def quads(
        self,
        subject: Subject | None = None,
        object_: Subject | None = None,
        graph: GraphName | None = None,
    ) -> Iterable[Quad]:
        """The quads matching the pattern, from the exported graphs only."""
        quads = self.oxigraph.quads_for_pattern(subject, None, object_, graph)
        if self.graphs is None or graph is not None:
            return quads
        return (quad for quad in quads if quad.graph_name in self.graphs)

    def select(self, projection: str, pattern: str) -> pyoxigraph.QuerySolutions:
        """``SELECT projection`` of ``pattern`` matched in each exported graph: ``?g`` is
        bound to a named graph's name, and unbound in the default graph."""
        named = f"GRAPH ?g {{ {pattern} }}"
        if self.with_default_graph:
            named = f"{{ {pattern} }} UNION {{ {named} }}"
        text = f"SELECT {projection} WHERE {{ {named} }}"
        if self.graphs is None:
            return self.oxigraph.query(text)
        return self.oxigraph.query(text, named_graphs=sorted(self.graphs, key=str))


def _has_blank_graph_name(oxigraph: pyoxigraph.Store) -> bool:
    """A graph named by a blank node would need its canonical label before the graphs are
    ordered; such a dataset (never hrkg's) takes the in-memory path."""
    return any(isinstance(name, BlankNode) for name in oxigraph.named_graphs())


def _blank_quads(source: _Source) -> list[Quad]:
    """Every quad with a blank subject or object, found by one scan inside Oxigraph."""
    rows = source.select("*", "?s ?p ?o FILTER(isBlank(?s) || isBlank(?o))")
    return [Quad(row["s"], row["p"], row["o"], row["g"] or DefaultGraph()) for row in rows]


def _grouped(items: Iterable, key: Callable) -> dict:
    """The items in lists by ``key``: the canonical statements by the block they go to."""
    groups: dict = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


# Quad formats: graph by graph.


def _stream_quads(source: _Source, write: Callable[[Iterator[Quad]], None]) -> None:
    """Every quad in export order, one graph at a time, handed to ``write``."""
    blank = _grouped(_canonicalised(_blank_quads(source)), attrgetter("graph_name"))
    write(_in_order(_graph_blocks(source, blank)))


def _graph_blocks(source: _Source, blank: dict[GraphName, list[Quad]]) -> Iterator[Block]:
    """Each graph's quads in turn, graphs by name; blank nodes swapped for canonical ones."""
    for graph in _graph_names(source):
        quads = source.quads(graph=graph)
        canonical = blank.get(graph)
        if canonical is not None:
            quads = [quad for quad in quads if not _mentions_blank_node(quad)] + canonical
        yield quads


def _graph_names(source: _Source) -> list[GraphName]:
    """The graphs to write, by name; the default graph, if exported, is last (``DEFAULT``)."""
    if source.graphs is not None:
        return sorted(source.graphs, key=str)
    names: list[GraphName] = list(source.oxigraph.named_graphs())
    if source.with_default_graph:
        names.append(DefaultGraph())
    return sorted(names, key=str)


# Triple formats: subject by subject.


class _UnlabelledBlankNode(Exception):
    """A blank node that is never a subject turned up: the export restarts after a full scan."""


#: What starts the header lines each piece of a triple format repeats; the formats absent
#: (RDF/XML, whose document also closes) are never written in two pieces.
_REPEATED_HEADER: dict[str, bytes | None] = {"turtle": b"@prefix ", "ntriples": None}


@dataclass(frozen=True)
class _TripleWriter:
    """Writes triples in a triple format; ``may_fork``: the store allows a forked helper
    (it is in memory, see :mod:`hrkg.forked_export`)."""

    chosen: ExportFormat
    prefixes: Mapping[str, str]
    may_fork: bool

    def write(self, triples: Iterator[Triple], output: BinaryIO) -> None:
        _serialize(triples, self.chosen, self.prefixes, output)

    def splits(self, subjects: int) -> bool:
        """Whether the subjects' triples are to be written in two processes."""
        return (
            self.may_fork
            and self.chosen.name in _REPEATED_HEADER
            and two_processes_allowed(subjects)
        )


def _stream_triples(source: _Source, writer: _TripleWriter, output: BinaryIO) -> None:
    """Every merged triple in export order, one subject at a time, written by ``writer``
    into ``output`` (a stream that can seek); in two processes, each writing runs of the
    subjects, where that is allowed (see :mod:`hrkg.forked_export`).

    Blank nodes are first looked for around the blank subjects, which the list of subjects
    gives for free: in RDF lists, OWL class expressions and shapes every blank node is a
    subject. One that never is (``ex:a ex:b [] .``) is met in the stream; the export then
    starts again, over what it wrote, with the blank nodes of a full scan: slower but exact.
    """
    subjects = _subjects(source)
    start = output.tell()
    try:
        blank = _blank_triples(_quads_around_blank_subjects(source, subjects))
        ordered = _in_export_order(subjects, blank)

        def write_part(runs: Iterable[range], into: BinaryIO) -> None:
            subjects = (ordered[index] for run in runs for index in run)
            writer.write(_in_order(_subject_blocks(source, subjects, blank, strict=True)), into)

        if writer.splits(len(ordered)):
            header = _REPEATED_HEADER[writer.chosen.name]
            if write_in_two_processes(write_part, len(ordered), output, header):
                return
            output.seek(start)  # the helper failed: all of it here, as if it never ran
            output.truncate()
        write_part([range(len(ordered))], output)
    except _UnlabelledBlankNode:
        output.seek(start)
        output.truncate()
        blank = _blank_triples(_blank_quads(source))
        ordered = _in_export_order(subjects, blank)
        writer.write(_in_order(_subject_blocks(source, ordered, blank, strict=False)), output)


def _subjects(source: _Source) -> list[Subject]:
    """Every subject once (blank ones with their store labels), found inside Oxigraph."""
    return [row[0] for row in source.select("DISTINCT ?s", "?s ?p ?o")]


def _quads_around_blank_subjects(source: _Source, subjects: list[Subject]) -> set[Quad]:
    """The quads from and to each blank subject; a blank object that is no subject stops."""
    blank_subjects = {subject for subject in subjects if isinstance(subject, BlankNode)}
    quads: set[Quad] = set()
    for node in blank_subjects:
        quads.update(source.quads(subject=node))
        quads.update(source.quads(object_=node))
    blank_objects = {quad.object for quad in quads if isinstance(quad.object, BlankNode)}
    if not blank_objects <= blank_subjects:
        raise _UnlabelledBlankNode
    return quads


def _blank_triples(quads: Iterable[Quad]) -> dict[Subject, list[Triple]]:
    """The merged triples that mention a blank node, canonically labelled, by subject."""
    triples = (quad.triple for quad in _canonicalised(_merged(quads)))
    return _grouped(triples, attrgetter("subject"))


def _in_export_order(subjects: list[Subject], blank: dict[Subject, list[Triple]]) -> list[Subject]:
    """The named subjects and the canonically labelled blank ones, by N-Triples form."""
    named = (subject for subject in subjects if not isinstance(subject, BlankNode))
    return sorted({*named, *blank}, key=str)


def _subject_blocks(
    source: _Source, ordered: Iterable[Subject], blank: dict[Subject, list[Triple]], strict: bool
) -> Iterator[Block]:
    """Each subject's distinct triples in turn, for the subjects ``ordered``
    (:func:`_in_export_order`).

    Blank subjects come with canonical labels, and so do the blank objects of the others.
    ``strict`` means the blank nodes were looked for around the blank subjects only: a
    blank object met anywhere else was missed, and the export must start again.
    """
    for subject in ordered:
        canonical = blank.get(subject)
        if isinstance(subject, BlankNode):
            yield canonical
            continue
        triples = dict.fromkeys(map(_TRIPLE, source.quads(subject=subject)))
        if canonical is not None:
            kept = (triple for triple in triples if not isinstance(triple.object, BlankNode))
            yield dict.fromkeys([*kept, *canonical])
        elif strict and BlankNode in map(type, map(_OBJECT, triples)):
            raise _UnlabelledBlankNode
        else:
            yield triples


#: A block's statements in export order: by N-Triples (N-Quads) line.
_by_line = partial(sorted, key=str)


def _in_order(blocks: Iterable[Block]) -> Iterator:
    """The blocks, each sorted by line, one after the other."""
    return chain.from_iterable(map(_by_line, blocks))


# --- JSON-LD --------------------------------------------------------------------------------


def _jsonld(quads: Iterable[Quad], prefixes: Mapping[str, str], output: BinaryIO) -> None:
    """JSON-LD with a context, named graphs kept, via rdflib (pyoxigraph writes no context).

    The rdflib dataset is built term by term, in export order and with the canonical blank
    node labels; rdflib then lists nodes and graphs in hash order, which Python salts per
    process, so the node lists are sorted by ``@id`` before the text is written.
    """
    import rdflib

    dataset = rdflib.Dataset()
    for quad in quads:
        graph = dataset.graph(_to_rdflib(quad.graph_name))
        graph.add((_to_rdflib(quad.subject), _to_rdflib(quad.predicate), _to_rdflib(quad.object)))
    text = dataset.serialize(format="json-ld", context=dict(sorted(prefixes.items())), indent=1)
    document = _sorted_node_lists(json.loads(text))
    text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False)
    output.write(text.encode("utf-8"))


def _sorted_node_lists(value: object) -> object:
    """Every ``@graph`` list sorted by node ``@id``; ``@list`` and value orders are kept."""
    if isinstance(value, list):
        return [_sorted_node_lists(item) for item in value]
    if not isinstance(value, dict):
        return value
    document = {key: _sorted_node_lists(item) for key, item in value.items()}
    nodes = document.get("@graph")
    if isinstance(nodes, list):
        document["@graph"] = sorted(nodes, key=_node_key)
    return document


def _node_key(node: object) -> str:
    """A node's ``@id``; the rare node without one (a default graph) by its own text."""
    node_id = node.get("@id") if isinstance(node, dict) else None
    return str(node_id) if node_id is not None else json.dumps(node, sort_keys=True)


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
