"""The store behind every command: Oxigraph, in memory or on disk.

One small interface (:class:`Store`) so that the catalogue, export, validation and the
server do not care where the quads live; a remote SPARQL 1.1 store can implement the same
methods. Every query sees the union of all graphs as its default graph (the provenance
graphs stay reachable with ``GRAPH``). Only reading queries run here: updates, and
``SERVICE`` (Oxigraph would fetch the remote endpoint), are refused before execution.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Protocol

import pyoxigraph
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    RdfFormat,
    Triple,
)

from hrkg.errors import QueryError, QueryRefused, QuerySyntaxError, QueryTooLarge
from hrkg.results import Table
from hrkg.sparql_text import dataset_clause_iris, is_update, keywords

QueryOutcome = Table | bool | list[Triple]
Term = NamedNode | BlankNode | Literal
GraphName = NamedNode | BlankNode | DefaultGraph


class Store(Protocol):
    """What hrkg needs of a quad store."""

    #: Whether the store keeps its answers for the next identical query (the server's
    #: workers do). A page of a stored question is then cut from the whole answer, kept
    #: for the pages that follow, instead of costing a query of its own.
    keeps_answers: bool

    def query(
        self,
        text: str,
        *,
        default_graphs: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        row_limit: int | None = None,
    ) -> QueryOutcome: ...

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]: ...

    def quads_for_pattern(
        self,
        subject: Term | None,
        predicate: NamedNode | None,
        object: Term | None,
        graph_name: GraphName | None = None,
    ) -> Iterator[Quad]:
        """The quads matching a pattern (``None`` matches any term, and any graph): the
        lookups validation makes, thousands per change, named as in pyoxigraph."""
        ...

    def graph_names(self) -> list[NamedNode]: ...

    def __len__(self) -> int: ...


def check_dataset_clauses(text: str, known_graph: Callable[[str], bool]) -> None:
    """``FROM <url>`` names a graph to use; for a graph this dataset lacks, some engines
    (rdflib) would fetch the URL. hrkg never fetches, so such a clause is refused."""
    for iri in dataset_clause_iris(text):
        if not known_graph(iri):
            raise QueryRefused(
                f"FROM <{iri}> names a graph this dataset does not hold (hrkg never fetches URLs)",
                hint="name a graph of the dataset (`hrkg stats` lists them) or drop the clause",
            )


def check_read_only(text: str, max_chars: int) -> None:
    """Refuse what a read-only, offline query service must not run, before parsing it."""
    if len(text) > max_chars:
        raise QueryTooLarge(
            f"the query text has {len(text)} characters, over the limit of {max_chars}",
            hint="raise HRKG_MAX_QUERY_CHARS if this query is legitimate",
        )
    if is_update(text):
        raise QueryRefused(
            "SPARQL updates are refused: this is a read-only query service",
            hint="add data with `hrkg add FILE --source IRI`, which validates it first",
        )
    if "SERVICE" in keywords(text):
        raise QueryRefused(
            "SERVICE (federated query) is refused: hrkg never reaches the network on its own",
            hint="load the remote data into a dataset and query it here",
        )


class OxigraphStore:
    """The embedded store: pyoxigraph in memory, or persistent in a folder."""

    keeps_answers = False

    def __init__(self, path: Path | None = None, *, max_query_chars: int = 100_000) -> None:
        self.path = path
        self.max_query_chars = max_query_chars
        self.oxigraph = pyoxigraph.Store(str(path)) if path else pyoxigraph.Store()

    def query(
        self,
        text: str,
        *,
        default_graphs: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        row_limit: int | None = None,
    ) -> QueryOutcome:
        """Run a read-only query; SELECT answers a :class:`Table`, ASK a bool, others triples."""
        check_read_only(text, self.max_query_chars)
        check_dataset_clauses(text, self._holds_graph)
        options: dict[str, object] = {}
        if default_graphs is not None:
            options["default_graph"] = list(default_graphs)
        elif not dataset_clause_iris(text):
            # The union is the default dataset; a query's own FROM clauses take precedence.
            options["use_default_graph_as_union"] = True
        if named_graphs is not None:
            options["named_graphs"] = list(named_graphs)
        try:
            answer = self.oxigraph.query(text, **options)
            return _materialise(answer, row_limit)
        except SyntaxError as error:
            raise QuerySyntaxError(f"the query does not parse: {error}") from None
        except (OSError, RuntimeError, ValueError) as error:
            raise QueryError(f"the query failed: {error}") from None

    def _holds_graph(self, iri: str) -> bool:
        try:
            return self.oxigraph.contains_named_graph(NamedNode(iri))
        except ValueError:
            return False

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        return iter(self.oxigraph.quads_for_pattern(None, None, None, graph))

    def quads_for_pattern(
        self,
        subject: Term | None,
        predicate: NamedNode | None,
        object: Term | None,
        graph_name: GraphName | None = None,
    ) -> Iterator[Quad]:
        return self.oxigraph.quads_for_pattern(subject, predicate, object, graph_name)

    def graph_names(self) -> list[NamedNode]:
        names = [name for name in self.oxigraph.named_graphs() if isinstance(name, NamedNode)]
        return sorted(names, key=lambda name: name.value)

    def extend(self, quads: Iterable[Quad]) -> None:
        self.oxigraph.extend(quads)

    def bulk_load(
        self, source: Path | IO[bytes], format: RdfFormat, to_graph: NamedNode | None
    ) -> None:
        """Load a whole file, fast but not transactionally: when this raises (a syntax error,
        say), part of the file may be in the store already."""
        if isinstance(source, Path):
            self.oxigraph.bulk_load(path=source, format=format, to_graph=to_graph)
        else:
            self.oxigraph.bulk_load(source, format=format, to_graph=to_graph)

    def clear(self) -> None:
        self.oxigraph.clear()

    def flush(self) -> None:
        if self.path:
            self.oxigraph.flush()

    def __len__(self) -> int:
        return len(self.oxigraph)


def _materialise(answer: object, row_limit: int | None) -> QueryOutcome:
    if isinstance(answer, QueryBoolean):
        return bool(answer)
    if isinstance(answer, QuerySolutions):
        variables = [variable.value for variable in answer.variables]
        table = Table(variables)
        for solution in answer:
            if row_limit is not None and len(table.rows) >= row_limit:
                table.truncated = True
                break
            table.rows.append(tuple(solution))
        return table
    triples = []
    for triple in answer:  # type: ignore[attr-defined]
        if row_limit is not None and len(triples) >= row_limit:
            break
        triples.append(triple)
    return triples
