"""The validation gate: every check a change must pass before it is stored.

It reads the files (syntax, size, encoding: :mod:`hrkg.input_files`), runs hrkg's
integrity checks (:mod:`hrkg.validation.integrity`) and validates the new triples against
the shapes in the context of the existing graph, by the fast incremental path
(:mod:`hrkg.validation.incremental`): only the focus nodes the change can affect, with the
context their shapes read. One :class:`~hrkg.validation.report.Report` lists everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import rdflib
from pyoxigraph import NamedNode, Quad

from hrkg.content import system_graph_iri
from hrkg.input_files import read_input
from hrkg.shapes import load_shapes_graph
from hrkg.store import Store
from hrkg.validation.graph_access import StoreAccess, to_rdflib
from hrkg.validation.incremental import validate_change
from hrkg.validation.integrity import (
    dangling_references,
    iris_outside_the_base,
    label_lookup,
    undefined_terms,
)
from hrkg.validation.report import Report, findings_from_shacl
from hrkg.validation.shape_analysis import analyse_shapes

if TYPE_CHECKING:
    from hrkg.knowledge_graph import KnowledgeGraph

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


@dataclass
class Validator:
    """The shapes of one knowledge graph, parsed and analysed once, and the terms it defines."""

    kg: KnowledgeGraph

    @cached_property
    def shapes(self) -> rdflib.Graph:
        return load_shapes_graph(self.kg.layout)

    @cached_property
    def analysis(self):
        return analyse_shapes(self.shapes)

    @cached_property
    def defined_terms(self) -> set[str]:
        """Every IRI the ontology graph gives a type (classes and properties)."""
        ontology = NamedNode(system_graph_iri(self.kg.settings.base_iri, "ontology"))
        return {
            quad.subject.value
            for quad in self.kg.store.quads_for_pattern(None, RDF_TYPE, None, ontology)
        }

    def check(self, quads: Sequence[Quad], files: Sequence[str]) -> Report:
        """Validate new quads against everything stored; nothing is written.

        Triples already stored in any graph are left out first: shapes see the union of
        the graphs, so restating a known triple (a publisher, a person) cannot change any
        result, and would otherwise make every node that refers to it a focus node.
        """
        base = self.kg.settings.base_iri
        store = self.kg.store
        quads = [quad for quad in quads if not _stored(store, quad)]
        label_of = label_lookup(list(quads), store)
        findings = [
            replace(finding, focus_label=label_of(finding.focus_node))
            for finding in (
                *undefined_terms(quads, self.defined_terms, base),
                *iris_outside_the_base(quads, base),
                *dangling_references(list(quads), store, base),
            )
        ]
        added = rdflib.Graph()
        for quad in quads:
            added.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        result = validate_change(self.shapes, StoreAccess(store), added, analysis=self.analysis)
        findings += findings_from_shacl(result.report_graph, label_of)
        return Report(
            findings=findings,
            files=list(files),
            new_triples=len(added),
            focus_nodes=len(result.focus_nodes),
            context_triples=result.context_size,
            fast_path=not result.fell_back_to_full,
        )


def _stored(store: Store, quad: Quad) -> bool:
    pattern = store.quads_for_pattern(quad.subject, quad.predicate, quad.object, None)
    return next(iter(pattern), None) is not None


def validate_quads(kg: KnowledgeGraph, quads: Sequence[Quad], files: Sequence[str] = ()) -> Report:
    return kg.validator.check(quads, files)


def validate_files(
    kg: KnowledgeGraph, paths: Sequence[Path], declared_format: str | None = None
) -> Report:
    """Read every file (an unreadable one raises InputError) and validate them together."""
    quads: list[Quad] = []
    for path in paths:
        quads += read_input(
            path, declared_format=declared_format, max_bytes=kg.settings.max_input_bytes
        ).quads
    return validate_quads(kg, quads, [str(path) for path in paths])
