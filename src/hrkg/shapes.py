"""The graphs that SHACL validation needs, read from a content folder.

Validation checks the data against the shapes of ``ontology/shapes/`` with the reference
graph (ontology, vocabularies, gazetteer) mixed into the data graph and no inference: the
``rdfs:subClassOf`` triples of the ontology are what let ``sh:targetClass hr:Event`` reach
an ``hr:LegalAction``, and the vocabularies and gazetteer are what ``sh:class`` and the
scheme-membership shapes look values up in. Files are read as written, with the default
base IRI.
"""

from __future__ import annotations

from pathlib import Path

import rdflib

from hrkg.content import ContentLayout

__all__ = ["load_reference_graph", "load_shapes_graph"]


def _parse_turtle(paths: list[Path]) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph


def load_shapes_graph(layout: ContentLayout) -> rdflib.Graph:
    """The data shapes (core, recommended, vocabulary) in one graph, without the ontology lint."""
    return _parse_turtle(layout.shape_files)


def load_reference_graph(layout: ContentLayout) -> rdflib.Graph:
    """The ontology, every vocabulary and the gazetteer (when present) in one graph."""
    paths = [layout.ontology_file, *layout.vocabulary_files]
    if layout.gazetteer_file.exists():
        paths.append(layout.gazetteer_file)
    return _parse_turtle(paths)
