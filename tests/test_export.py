"""Export: every format is deterministic, declares its prefixes and parses back unchanged."""

from __future__ import annotations

import json

import pyoxigraph
import pytest
import rdflib
from pyoxigraph import Quad, RdfFormat

import hrkg
from hrkg.errors import ExportError
from hrkg.export import EXPORT_FORMATS

COUNTRY_PAGE = "https://w3id.org/hrkg/id/document/amnesty-mali-country-page"


def _store_quads(kg: hrkg.KnowledgeGraph, graph: str | None = None) -> set[Quad]:
    name = pyoxigraph.NamedNode(graph) if graph else None
    return set(kg.store.quads(name))


def _canonical(quads) -> set[Quad]:
    """Blank nodes relabelled by RDFC-1.0: equal sets then mean isomorphic datasets."""
    dataset = pyoxigraph.Dataset(quads)
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


def _parse_back(data: bytes, fmt: str) -> set[Quad]:
    """Parse an export with pyoxigraph (rdflib for JSON-LD, the format it wrote)."""
    if fmt == "jsonld":
        dataset = rdflib.Dataset()
        dataset.parse(data=data.decode("utf-8"), format="json-ld")
        nquads = dataset.serialize(format="nquads")
        data, fmt = nquads.encode("utf-8"), "nquads"
    return set(pyoxigraph.parse(data, format=EXPORT_FORMATS[fmt].rdf_format))


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_export_is_deterministic(kg: hrkg.KnowledgeGraph, repo_root, fmt: str) -> None:
    """Identical bytes twice, and from a second, independent load (fresh blank nodes)."""
    assert kg.export(fmt) == kg.export(fmt) == hrkg.open(repo_root).export(fmt)


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_export_parses_back_to_the_same_data(kg: hrkg.KnowledgeGraph, fmt: str) -> None:
    """Quad formats keep every graph; triple formats hold the union of the graphs.

    Both sides are canonicalised, so set equality is dataset isomorphism.
    """
    parsed = _parse_back(kg.export(fmt), fmt)
    stored = _store_quads(kg)
    if not EXPORT_FORMATS[fmt].keeps_graphs:
        stored = {Quad(quad.subject, quad.predicate, quad.object) for quad in stored}
    assert _canonical(parsed) == _canonical(stored)


@pytest.mark.parametrize("fmt", ["turtle", "trig"])
def test_text_exports_declare_prefixes(kg: hrkg.KnowledgeGraph, fmt: str) -> None:
    text = kg.export(fmt).decode("utf-8")
    for prefix in ("hr", "prov", "skos", "dcterms", "person", "case", "vt"):
        assert f"@prefix {prefix}: <" in text
    assert "person:amadou-sanogo" in text, "IRIs are written as prefixed names"


def test_jsonld_has_a_context_and_named_graphs(kg: hrkg.KnowledgeGraph) -> None:
    document = json.loads(kg.export("jsonld"))
    assert document["@context"]["hr"] == "https://w3id.org/hrkg/def/"
    graph_ids = {node.get("@id") for node in document["@graph"]}
    assert "document:amnesty-mali-country-page" in graph_ids or COUNTRY_PAGE in graph_ids


@pytest.mark.parametrize("fmt", ["trig", "turtle"])
def test_export_of_one_graph_holds_only_that_graph(kg: hrkg.KnowledgeGraph, fmt: str) -> None:
    parsed = _parse_back(kg.export(fmt, graphs=[COUNTRY_PAGE]), fmt)
    expected = _store_quads(kg, COUNTRY_PAGE)
    assert expected, "the country page graph is not empty"
    assert {quad.triple for quad in parsed} == {quad.triple for quad in expected}


def test_export_of_an_unknown_graph_is_an_error(kg: hrkg.KnowledgeGraph) -> None:
    with pytest.raises(ExportError, match="no graph named"):
        kg.export("trig", graphs=["https://w3id.org/hrkg/id/document/no-such-document"])


def test_export_of_an_unknown_format_is_an_error(kg: hrkg.KnowledgeGraph) -> None:
    with pytest.raises(ExportError, match="choose one of"):
        kg.export("yaml")


def test_turtle_export_sorts_subjects(kg: hrkg.KnowledgeGraph) -> None:
    """Canonical order: a reader (and a diff) finds subjects in IRI order."""
    triples = list(pyoxigraph.parse(kg.export("turtle"), format=RdfFormat.TURTLE))
    subjects = [str(triple.subject) for triple in triples]
    assert subjects == sorted(subjects)
