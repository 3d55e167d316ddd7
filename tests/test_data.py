"""The Mali dataset: every file parses, every graph is a described source, every quote is
exact, every fact-bearing node has its source and passage, and the data conforms.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pyshacl
import pytest
import rdflib
from rdflib.namespace import DCTERMS, PROV, RDF, SH

from hrkg.content import ContentLayout
from hrkg.data_files import canonical_trig, read_trig
from hrkg.shapes import load_reference_graph, load_shapes_graph

HR = rdflib.Namespace("https://w3id.org/hrkg/def/")
ROOT = Path(__file__).resolve().parents[1]
DATA_FILES = ContentLayout(ROOT).source_graph_files


def _graph_of(path: Path) -> rdflib.Graph:
    dataset = rdflib.Dataset()
    dataset.parse(path, format="trig")
    graphs = [
        graph
        for graph in dataset.graphs()
        if len(graph) and graph.identifier != rdflib.graph.DATASET_DEFAULT_GRAPH_ID
    ]
    assert len(graphs) == 1, f"{path.name} must hold exactly one named graph"
    assert not len(dataset.default_graph), f"{path.name} has triples outside its named graph"
    return graphs[0]


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda path: path.name)
def test_file_holds_one_graph_named_after_its_described_document(path: Path) -> None:
    graph = _graph_of(path)
    document = graph.identifier
    assert str(document).endswith(f"/id/document/{path.stem}"), "file and graph names agree"
    assert (document, RDF.type, HR.Document) in graph
    assert graph.value(document, DCTERMS.title), "the source has a title"
    assert graph.value(document, DCTERMS.type), "the source has a type"
    assert graph.value(document, DCTERMS.publisher), "the source has a publisher"
    source_file = graph.value(document, HR.sourceFile)
    assert source_file and (ContentLayout(ROOT).sources_dir / str(source_file)).is_file()


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda path: path.name)
def test_every_quote_is_an_exact_passage_of_the_source(path: Path) -> None:
    graph = _graph_of(path)
    document = graph.identifier
    source_text = (
        ContentLayout(ROOT).sources_dir / str(graph.value(document, HR.sourceFile))
    ).read_text(encoding="utf-8")
    quotes = list(graph.objects(None, HR.quote))
    assert quotes
    for quote in quotes:
        assert str(quote) in source_text, f"not in the source: {quote[:80]!r}"


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda path: path.name)
def test_every_fact_bearing_node_has_its_source_and_passage(path: Path) -> None:
    graph = _graph_of(path)
    document = graph.identifier
    typed = {
        node for node, kind in graph.subject_objects(RDF.type) if str(kind).startswith(str(HR))
    }
    assert typed
    for node in typed:
        assert (node, PROV.wasDerivedFrom, document) in graph, f"{node}: no prov:wasDerivedFrom"
        assert graph.value(node, HR.quote) is not None, f"{node}: no hr:quote"


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda path: path.name)
def test_data_file_is_canonical(path: Path) -> None:
    """Written by `hrkg format`, so that a change shows as a small diff."""
    assert path.read_bytes() == canonical_trig(read_trig(path)), f"run: hrkg format {path}"


def test_no_blank_nodes_in_the_data() -> None:
    """Every node has an IRI, so a report or a citation can name it."""
    for path in DATA_FILES:
        for quad in pyoxigraph.parse(path=str(path)):
            assert not any(isinstance(term, pyoxigraph.BlankNode) for term in quad), path.name


def test_the_data_conforms_to_the_shapes() -> None:
    """All source graphs together, with the reference graph, have zero violations."""
    layout = ContentLayout(ROOT)
    data = load_reference_graph(layout)
    for path in DATA_FILES:
        data += _graph_of(path)
    conforms, report, text = pyshacl.validate(
        data, shacl_graph=load_shapes_graph(layout), inference="none", allow_warnings=True
    )
    violations = list(report.subjects(SH.resultSeverity, SH.Violation))
    assert conforms and not violations, text


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda path: path.name)
def test_the_store_gives_back_exactly_what_the_file_says(kg, path: Path) -> None:
    """Datatypes and lexical forms survive loading: a store must not rewrite the data.

    (Oxigraph stores every integer subtype as xsd:integer, so counts are typed xsd:integer.)
    """
    written = set(read_trig(path))
    [graph] = {quad.graph_name for quad in written}
    assert set(kg.store.quads(graph)) == written
