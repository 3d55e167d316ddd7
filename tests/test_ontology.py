"""The ontology, the vocabularies and the gazetteer, checked against themselves and the README.

ontology/README.md is the data-model contract: these tests keep the Turtle files and the
contract in step, and run the ontology lint (ontology/shapes/ontology-lint.ttl) that
makes every term labelled in English and French and defined.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyshacl
import pytest
import rdflib
from rdflib.namespace import OWL, RDF, SH, SKOS

from hrkg.content import ContentLayout

#: Read at collection time, to parametrize over the files; the tests use the layout fixture.
REPO_ROOT = Path(__file__).resolve().parents[1]
HR = rdflib.Namespace("https://w3id.org/hrkg/def/")
VOCAB = "https://w3id.org/hrkg/vocab/"
TURTLE_FILES = sorted((REPO_ROOT / "ontology").rglob("*.ttl"))
SHAPE_FIXTURES = sorted((Path(__file__).parent / "shapes").glob("*.trig"))
README = (REPO_ROOT / "ontology" / "README.md").read_text(encoding="utf-8")

_TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


def _readme_section(title: str) -> str:
    """The text of one ``## title`` section of the README."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"ontology/README.md has no '## {title}' section"
    return match.group(1)


def _readme_notations() -> dict[str, set[str]]:
    """Scheme -> notations, from the bullet list of the README's "Concept notations".

    Each bullet reads ``- `scheme` (`prefix:`): `notation`, `notation` (remark), …``;
    parenthesised text (the prefix, remarks such as "broader `report`") is not a notation.
    """
    bullets = re.findall(
        r"^- (.*?)(?=^- |^\S|\Z)", _readme_section("Concept notations"), re.M | re.S
    )
    schemes: dict[str, set[str]] = {}
    for bullet in bullets:
        names = re.findall(r"`([^`]+)`", re.sub(r"\([^)]*\)", "", bullet))
        schemes[names[0]] = set(names[1:])
    return schemes


def _declared_terms(ontology: rdflib.Graph) -> set[rdflib.URIRef]:
    return {
        term
        for term_type in _TERM_TYPES
        for term in ontology.subjects(RDF.type, term_type)
        if isinstance(term, rdflib.URIRef)
    }


def _used_hr_terms(graph: rdflib.Graph) -> set[rdflib.URIRef]:
    """Every IRI in the hr: namespace that the graph mentions, except the ontology's own IRIs."""
    return {
        node
        for triple in graph
        for node in triple
        if isinstance(node, rdflib.URIRef)
        and node.startswith(HR)
        and node != rdflib.URIRef(HR)
        and not node.startswith(HR["releases/"])
    }


@pytest.fixture(scope="session")
def ontology_graph(layout: ContentLayout) -> rdflib.Graph:
    return rdflib.Graph().parse(layout.ontology_file, format="turtle")


@pytest.fixture(scope="session")
def lint_shapes(layout: ContentLayout) -> rdflib.Graph:
    return rdflib.Graph().parse(layout.ontology_lint_file, format="turtle")


@pytest.mark.parametrize(
    "path", TURTLE_FILES, ids=[str(p.relative_to(REPO_ROOT)) for p in TURTLE_FILES]
)
def test_turtle_file_parses(path: Path) -> None:
    """A syntax error in any ontology file must fail here, with the file named, not later."""
    assert len(rdflib.Graph().parse(path, format="turtle")) > 0


def test_ontology_and_vocabularies_pass_the_lint(
    layout: ContentLayout, lint_shapes: rdflib.Graph
) -> None:
    """Every term, scheme and concept is labelled in English and French and defined."""
    data = rdflib.Graph()
    for path in [layout.ontology_file, *layout.vocabulary_files]:
        data.parse(path, format="turtle")
    conforms, _, text = pyshacl.validate(
        data, shacl_graph=lint_shapes, inference="none", advanced=False
    )
    assert conforms, text


_LINT_PREFIXES = """
@prefix hr: <https://w3id.org/hrkg/def/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<https://w3id.org/hrkg/vocab/s> a skos:ConceptScheme ;
    skos:prefLabel "s"@en , "s"@fr ; skos:definition "A scheme."@en .
"""

_BAD_ONTOLOGY = {
    "Term_Property_labelFr": 'hr:Thing a owl:Class ; rdfs:label "thing"@en ; '
    'skos:definition "A thing."@en .',
    "Term_Property_definition": 'hr:Thing a owl:Class ; rdfs:label "thing"@en , "chose"@fr .',
    "Class_Rule_name": '<http://xmlns.com/foaf/0.1/Person> a owl:Class ; rdfs:label "p"@en , '
    '"p"@fr ; skos:definition "A person."@en .',
    "Property_Rule_name": 'hr:HasThing a owl:ObjectProperty ; rdfs:label "t"@en , "t"@fr ; '
    'skos:definition "A relation."@en .',
    "Concept_Property_notation": "<https://w3id.org/hrkg/vocab/s/c> a skos:Concept ; "
    'skos:prefLabel "c"@en , "c"@fr ; skos:definition "A c."@en ; '
    "skos:inScheme <https://w3id.org/hrkg/vocab/s> ; "
    "skos:topConceptOf <https://w3id.org/hrkg/vocab/s> .",
    "Concept_Rule_hierarchy": "<https://w3id.org/hrkg/vocab/s/c> a skos:Concept ; "
    'skos:notation "c" ; skos:prefLabel "c"@en , "c"@fr ; skos:definition "A c."@en ; '
    "skos:inScheme <https://w3id.org/hrkg/vocab/s> .",
}


@pytest.mark.parametrize("rule", sorted(_BAD_ONTOLOGY))
def test_the_lint_catches_a_badly_documented_term(rule: str, lint_shapes: rdflib.Graph) -> None:
    """A lint that never fails tests nothing: each snippet breaks exactly the named rule."""
    data = rdflib.Graph().parse(data=_LINT_PREFIXES + _BAD_ONTOLOGY[rule], format="turtle")
    _, report, text = pyshacl.validate(
        data, shacl_graph=lint_shapes, inference="none", advanced=False
    )
    shapes = {report.value(result, SH.sourceShape) for result in report.objects(None, SH.result)}
    assert shapes == {rdflib.URIRef(f"https://w3id.org/hrkg/shapes/{rule}")}, text


def test_every_hr_term_in_use_is_declared(
    layout: ContentLayout, ontology_graph: rdflib.Graph
) -> None:
    """A misspelt hr: term in a shape, the gazetteer or a fixture must not become a new term."""
    declared = _declared_terms(ontology_graph)
    undeclared: dict[str, list[str]] = {}
    for path in [
        layout.ontology_file,
        layout.gazetteer_file,
        *layout.vocabulary_files,
        *layout.shape_files,
        layout.ontology_lint_file,
    ]:
        used = _used_hr_terms(rdflib.Graph().parse(path, format="turtle"))
        if unknown := sorted(str(term) for term in used - declared):
            undeclared[str(path.relative_to(layout.root))] = unknown
    for path in SHAPE_FIXTURES:
        used = _used_hr_terms(rdflib.Dataset().parse(path, format="trig"))
        if unknown := sorted(str(term) for term in used - declared):
            undeclared[str(path.relative_to(layout.root))] = unknown
    assert undeclared == {}


def test_the_classes_are_those_of_the_readme(ontology_graph: rdflib.Graph) -> None:
    """The class table of the README and the ontology list the same classes."""
    readme = set(re.findall(r"^\| `([A-Z]\w+)` \(", README, re.M)) | set(
        re.findall(r"^\| `([A-Z]\w+)` \|", README, re.M)
    )
    declared = {str(c).removeprefix(str(HR)) for c in ontology_graph.subjects(RDF.type, OWL.Class)}
    assert declared == readme


def test_the_properties_are_those_of_the_readme(ontology_graph: rdflib.Graph) -> None:
    """Every hr: property of the README's class table is declared, and none is declared unnamed."""
    rows = "\n".join(line for line in README.splitlines() if line.startswith("| `"))
    in_table = set(re.findall(r"\bhr:([a-z]\w*)", rows))
    declared = {
        str(term).removeprefix(str(HR))
        for term in _declared_terms(ontology_graph)
        if (term, RDF.type, OWL.Class) not in ontology_graph
    }
    assert sorted(in_table - declared) == [], "named in the README but not declared"
    mentioned = set(re.findall(r"`hr:([a-z]\w*)", README))
    assert sorted(declared - mentioned) == [], "declared but not in the README"


def test_vocabulary_files_are_the_schemes_of_the_readme(layout: ContentLayout) -> None:
    """One file per scheme listed in the README, named after it."""
    assert {path.stem for path in layout.vocabulary_files} == set(_readme_notations())


@pytest.mark.parametrize("scheme", sorted(_readme_notations()))
def test_scheme_holds_exactly_the_readme_notations(layout: ContentLayout, scheme: str) -> None:
    """No concept missing, none added without the README; IRI = scheme IRI / notation."""
    path = layout.root / "ontology" / "vocabularies" / f"{scheme}.ttl"
    graph = rdflib.Graph().parse(path, format="turtle")
    scheme_iri = rdflib.URIRef(VOCAB + scheme)
    assert (scheme_iri, RDF.type, SKOS.ConceptScheme) in graph
    concepts = set(graph.subjects(RDF.type, SKOS.Concept))
    notations = {str(graph.value(concept, SKOS.notation)) for concept in concepts}
    assert notations == _readme_notations()[scheme]
    for concept in concepts:
        assert concept == rdflib.URIRef(f"{scheme_iri}/{graph.value(concept, SKOS.notation)}")
        assert set(graph.objects(concept, SKOS.inScheme)) == {scheme_iri}


def test_reference_graph_conforms_to_the_data_shapes(
    reference_graph: rdflib.Graph, shapes_graph: rdflib.Graph
) -> None:
    """The gazetteer is data too: its places must pass the shapes they are looked up with."""
    conforms, _, text = pyshacl.validate(
        reference_graph, shacl_graph=shapes_graph, inference="none", advanced=False
    )
    assert conforms, text


def test_gazetteer_places_nest_up_to_a_root(reference_graph: rdflib.Graph) -> None:
    """geo:sfWithin has no cycle, so queries following geo:sfWithin+ terminate sensibly."""
    within = rdflib.URIRef("http://www.opengis.net/ont/geosparql#sfWithin")
    for place in reference_graph.subjects(RDF.type, HR.Place):
        seen = {place}
        frontier = {place}
        while frontier:
            frontier = {p for node in frontier for p in reference_graph.objects(node, within)}
            assert not frontier & seen, f"{place} lies within itself"
            seen |= frontier
