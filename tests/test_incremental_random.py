"""Property tests: incremental validation agrees with full validation on hrkg's own data.

Two graphs: the Mali dataset with the project's shapes (validated as reference ∪ data, read
through rdflib), and a generated graph of the same shape (cases, victim groups, events,
documents, organizations with quotes and provenance) read from an Oxigraph store spread
over named graphs. Each example takes the graph, maybe breaks it in a way the shapes catch
(a label dropped, a negative count, a reference to nothing, a second value of a
single-valued property), and splits it into an existing part E and an added batch A. Then,
as in the W3C differential test:

(a) ``validate_change`` reports exactly the full results on E ∪ A of the affected nodes;
(b) full results on E ∪ A of unaffected nodes are already results on E.

Deterministic (hypothesis derandomized, no example database); ``HRKG_LONG_TESTS=1`` runs
many more examples.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS
from rdflib.term import Literal, Node, URIRef

from hrkg.content import ContentLayout
from hrkg.namespaces import project_prefixes
from hrkg.settings import DEFAULT_BASE_IRI
from hrkg.shapes import load_reference_graph, load_shapes_graph
from hrkg.validation.graph_access import GraphAccess, RdflibAccess, StoreAccess, to_oxigraph
from hrkg.validation.incremental import result_keys, validate_change, validate_full
from hrkg.validation.shape_analysis import ShapeAnalysis, analyse_shapes

LONG = os.environ.get("HRKG_LONG_TESTS") == "1"
EXAMPLES = settings(
    max_examples=300 if LONG else 25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ROOT = Path(__file__).resolve().parents[1]
HR = rdflib.Namespace(project_prefixes()["hr"])
ID = rdflib.Namespace(f"{DEFAULT_BASE_IRI}id/")
VOCAB = f"{DEFAULT_BASE_IRI}vocab/"
# Bound as terms, not as the XSD namespace object: pytest probes module attributes by name,
# and a closed rdflib namespace warns on every unknown one.
DATE, GYEAR = rdflib.namespace.XSD.date, rdflib.namespace.XSD.gYear

Triple = tuple[Node, Node, Node]


@dataclass(frozen=True, repr=False)
class Problem:
    """A graph to validate: reference triples that stay put, data triples to play with."""

    shapes: rdflib.Graph
    analysis: ShapeAnalysis
    reference: frozenset[Triple]
    data: tuple[Triple, ...]

    def __repr__(self) -> str:  # hypothesis prints it with every failing example
        return f"Problem({len(self.reference)} reference triples, {len(self.data)} data triples)"


def _problem(reference: rdflib.Graph, data: rdflib.Graph) -> Problem:
    shapes = load_shapes_graph(ContentLayout(ROOT))
    return Problem(
        shapes=shapes,
        analysis=analyse_shapes(shapes),
        reference=frozenset(reference),
        data=tuple(sorted(set(data) - set(reference), key=lambda t: tuple(x.n3() for x in t))),
    )


@pytest.fixture(scope="module")
def mali() -> Problem:
    layout = ContentLayout(ROOT)
    dataset = rdflib.Dataset()
    for path in layout.source_graph_files:
        dataset.parse(path, format="trig")
    data = rdflib.Graph()
    for subject, predicate, obj, _ in dataset.quads((None, None, None, None)):
        data.add((subject, predicate, obj))
    return _problem(load_reference_graph(layout), data)


@pytest.fixture(scope="module")
def synthetic() -> Problem:
    reference = load_reference_graph(ContentLayout(ROOT))
    return _problem(reference, synthetic_graph(reference, documents=6, cases_per_document=3))


# -- a generated graph of the Mali data's shape --------------------------------------------


def _concepts(reference: rdflib.Graph, scheme: str) -> list[Node]:
    found = sorted(reference.subjects(SKOS.inScheme, URIRef(VOCAB + scheme)), key=str)
    assert found, f"the vocabulary {scheme} has no concepts in the reference graph"
    return found


def synthetic_graph(
    reference: rdflib.Graph, *, documents: int, cases_per_document: int, seed: int = 0
) -> rdflib.Graph:
    """Documents, each describing cases with a victim group, an event and a perpetrator.

    Every value the shapes check is valid (concepts of the right scheme, places of the
    gazetteer), so violations come from the mutations; about 45 triples a case.
    """
    rng = random.Random(seed)
    places = sorted(reference.subjects(RDF.type, HR.Place), key=str)
    kinds = {
        name: _concepts(reference, name)
        for name in (
            "case-status",
            "count-qualifier",
            "document-type",
            "event-type",
            "harm",
            "organization-kind",
            "victim-category",
            "violation-type",
        )
    }
    graph = rdflib.Graph()

    def entity(node: URIRef, kind: URIRef, label: str, source: URIRef) -> None:
        graph.add((node, RDF.type, kind))
        graph.add((node, RDFS.label, Literal(label, lang="en")))
        graph.add((node, PROV.wasDerivedFrom, source))
        graph.add((node, HR.quote, Literal(f"the source on {label}", lang="en")))

    for d in range(documents):
        document = ID[f"document/synthetic-{d}"]
        publisher = ID[f"organization/synthetic-publisher-{d}"]
        entity(document, HR.Document, f"Report {d}", document)
        graph.add((document, DCTERMS.title, Literal(f"Report {d}", lang="en")))
        graph.add((document, DCTERMS.type, rng.choice(kinds["document-type"])))
        graph.add((document, DCTERMS.publisher, publisher))
        day = f"{2000 + d % 20}-0{1 + d % 9}-1{d % 10}"
        graph.add((document, HR.date, Literal(day, datatype=DATE)))
        graph.add((document, HR.sourceFile, Literal(f"synthetic-{d}.txt")))
        entity(publisher, HR.Organization, f"Publisher {d}", document)
        graph.add((publisher, HR.organizationKind, rng.choice(kinds["organization-kind"])))
        for c in range(cases_per_document):
            key = f"{d}-{c}"
            case, group = ID[f"case/synthetic-{key}"], ID[f"group/synthetic-{key}"]
            event, perpetrator = ID[f"event/synthetic-{key}"], ID[f"organization/synthetic-{key}"]
            entity(case, HR.Case, f"Case {key}", document)
            graph.add((case, HR.caseStatus, rng.choice(kinds["case-status"])))
            for violation in rng.sample(kinds["violation-type"], 2):
                graph.add((case, HR.violationType, violation))
            graph.add((case, HR.victimGroup, group))
            graph.add((case, HR.relatedEvent, event))
            graph.add((case, HR.perpetrator, perpetrator))
            graph.add((case, HR.place, rng.choice(places)))
            graph.add((case, HR.date, Literal(f"{2000 + c % 20}", datatype=GYEAR)))
            entity(group, HR.VictimGroup, f"Victims of case {key}", document)
            graph.add((group, HR.victimCategory, rng.choice(kinds["victim-category"])))
            graph.add((group, HR["count"], Literal(rng.randint(1, 300))))
            graph.add((group, HR.countQualifier, rng.choice(kinds["count-qualifier"])))
            graph.add((group, HR.harm, rng.choice(kinds["harm"])))
            entity(event, HR.Event, f"Event of case {key}", document)
            graph.add((event, HR.eventType, rng.choice(kinds["event-type"])))
            graph.add((event, HR.place, rng.choice(places)))
            graph.add((event, HR.participant, perpetrator))
            entity(perpetrator, HR.Organization, f"Armed group {key}", document)
            graph.add((perpetrator, HR.organizationKind, rng.choice(kinds["organization-kind"])))
    return graph


# -- mutations that the shapes catch ---------------------------------------------------------

#: A mutation takes the data triples and a random source and answers the new data triples
#: and the triples that must be in the added batch (the change that matters).
Mutation = Callable[[set[Triple], random.Random], tuple[set[Triple], list[Triple]]]


def _pick(triples: set[Triple], rng: random.Random, predicate: Node) -> Triple | None:
    candidates = sorted((t for t in triples if t[1] == predicate), key=lambda t: str(t))
    return rng.choice(candidates) if candidates else None


def no_mutation(data: set[Triple], rng: random.Random) -> tuple[set[Triple], list[Triple]]:
    return data, []


def drop_label(data: set[Triple], rng: random.Random) -> tuple[set[Triple], list[Triple]]:
    label = _pick(data, rng, RDFS.label)
    if label is None:
        return data, []
    # The batch re-adds another triple of the node, so that the node is part of the change.
    kept = data - {label}
    others = sorted((t for t in kept if t[0] == label[0]), key=str)
    return kept, others[:1]


def negative_count(data: set[Triple], rng: random.Random) -> tuple[set[Triple], list[Triple]]:
    count = _pick(data, rng, HR["count"])
    if count is None:
        return data, []
    negative = (count[0], HR["count"], Literal(-3))
    return (data - {count}) | {negative}, [negative]


def dangling_reference(data: set[Triple], rng: random.Random) -> tuple[set[Triple], list[Triple]]:
    predicate = rng.choice([HR.victimGroup, HR.relatedEvent, PROV.wasDerivedFrom, HR.perpetrator])
    existing = _pick(data, rng, predicate)
    if existing is None:
        return data, []
    dangling = (existing[0], predicate, ID[f"nothing/missing-{rng.randrange(1000)}"])
    return data | {dangling}, [dangling]


def second_value(data: set[Triple], rng: random.Random) -> tuple[set[Triple], list[Triple]]:
    predicate, extra = rng.choice(
        [
            (DCTERMS.title, Literal("Another title", lang="en")),
            (HR.date, Literal("1999", datatype=GYEAR)),
            (HR["count"], Literal(7)),
        ]
    )
    existing = _pick(data, rng, predicate)
    if existing is None:
        return data, []
    second = (existing[0], predicate, extra)
    return data | {second}, [second]


MUTATIONS: dict[str, Mutation] = {
    "none": no_mutation,
    "drop a label": drop_label,
    "negative count": negative_count,
    "dangling reference": dangling_reference,
    "second value": second_value,
}


def split(
    problem: Problem, mutation: str, seed: int, batch_size: int
) -> tuple[list[Triple], list[Triple]]:
    """(existing, added) for one example: the mutated graph, a random batch taken out."""
    rng = random.Random(seed)
    data, must_add = MUTATIONS[mutation](set(problem.data), rng)
    everything = sorted(set(data) | problem.reference, key=lambda t: tuple(x.n3() for x in t))
    batch = set(rng.sample(everything, min(batch_size, len(everything)))) | set(must_add)
    existing = [t for t in everything if t not in batch]
    return existing, sorted(batch, key=lambda t: tuple(x.n3() for x in t))


def _graph(triples: list[Triple]) -> rdflib.Graph:
    graph = rdflib.Graph()
    for triple in triples:
        graph.add(triple)
    return graph


def check(
    problem: Problem, existing: list[Triple], access: GraphAccess, added: list[Triple]
) -> None:
    """Assert properties (a) and (b) for one split, the existing part read through ``access``."""
    existing_graph, added_graph = _graph(existing), _graph(added)
    result = validate_change(problem.shapes, access, added_graph, analysis=problem.analysis)
    full_union = result_keys(validate_full(problem.shapes, existing_graph + added_graph)[1])
    got = result_keys(result.report_graph)
    if result.fell_back_to_full:  # shapes that use SPARQL are validated in full
        assert got == full_union, result.fallback_reason
        return
    affected = result.focus_nodes
    assert got == {key for key in full_union if key[0] in affected}
    unaffected = {key for key in full_union if key[0] not in affected}
    if unaffected:
        before = result_keys(validate_full(problem.shapes, existing_graph)[1])
        assert unaffected <= before, f"caused by the change but missed: {unaffected - before}"


mutations = st.sampled_from(sorted(MUTATIONS))
seeds = st.integers(min_value=0, max_value=2**32 - 1)
batch_sizes = st.integers(min_value=1, max_value=40)


@EXAMPLES
@given(mutation=mutations, seed=seeds, batch_size=batch_sizes)
def test_mali_data(mali: Problem, mutation: str, seed: int, batch_size: int) -> None:
    existing, added = split(mali, mutation, seed, batch_size)
    check(mali, existing, RdflibAccess(_graph(existing)), added)


def oxigraph_store(triples: list[Triple], seed: int) -> pyoxigraph.Store:
    """The triples spread over a few named graphs and the default graph, some twice."""
    rng = random.Random(seed)
    graphs = [pyoxigraph.DefaultGraph()] + [
        pyoxigraph.NamedNode(f"{ID}graph/{index}") for index in range(3)
    ]
    store = pyoxigraph.Store()
    quads = []
    for subject, predicate, obj in triples:
        terms = (to_oxigraph(subject), to_oxigraph(predicate), to_oxigraph(obj))
        for graph in rng.sample(graphs, rng.choice([1, 1, 1, 2])):
            quads.append(pyoxigraph.Quad(*terms, graph))
    store.extend(quads)
    return store


@EXAMPLES
@given(mutation=mutations, seed=seeds, batch_size=batch_sizes)
def test_synthetic_data_in_oxigraph(
    synthetic: Problem, mutation: str, seed: int, batch_size: int
) -> None:
    existing, added = split(synthetic, mutation, seed, batch_size)
    access = StoreAccess(oxigraph_store(existing, seed))
    # Full validation sees what the store holds: Oxigraph stores some literals normalised
    # ("+28"^^xsd:int comes back as "28"^^xsd:integer), so the triples are read back
    # rather than taken from the generator.
    check(synthetic, list(access.triples(None, None, None)), access, added)


def test_synthetic_graph_uses_only_defined_terms(synthetic: Problem) -> None:
    """A typo in the generator would mint a new property the shapes never check."""
    used = {t[1] for t in synthetic.data} | {t[2] for t in synthetic.data if t[1] == RDF.type}
    undefined = {
        term
        for term in used
        if str(term).startswith(str(HR))
        and not any(t[0] == term and t[1] == RDF.type for t in synthetic.reference)
    }
    assert not undefined


@pytest.mark.parametrize("mutation", sorted(set(MUTATIONS) - {"none"}))
def test_each_mutation_is_caught(synthetic: Problem, mutation: str) -> None:
    """The mutations do break the shapes, so the properties above are not vacuous."""
    existing, added = split(synthetic, mutation, seed=1, batch_size=5)
    store = oxigraph_store(existing, seed=1)
    result = validate_change(
        synthetic.shapes, StoreAccess(store), _graph(added), analysis=synthetic.analysis
    )
    assert not result.conforms, result.results_text
