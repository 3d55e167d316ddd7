"""A synthetic hrkg dataset of any size, shaped like the Mali data, for the scale benchmarks.

The real dataset holds eleven documents (about two thousand triples); the validation gate
has to be measured against 10k to 10M. This script writes a content folder that
``hrkg.open(folder)`` loads like the real one::

    python benchmarks/generate.py --triples 100000 --out benchmarks/data/100k [--check]

What it copies from the real data, because that is what the validator's cost depends on:

- one named graph per source document, named after the document, describing it (title,
  date, type, publisher, abstract, source file) and everything it reports: cases with
  violation types, one status, dates at the precision a source gives, places, victim
  groups with counts and harms, perpetrators; events, legal actions, persons,
  organizations, indicator observations, office holdings and posts, concerns;
- every typed node labelled ``@en`` and carrying ``prov:wasDerivedFrom`` its document and
  an ``hr:quote`` in that graph;
- *entities described by several sources*: each document restates its publisher, the
  persons and organizations it names and the posts of its country, so that, as with
  ``organization:amnesty-international`` in the real data, some nodes carry one quote per
  document. How many documents share a publisher (``--documents-per-publisher``) sets
  the fan-in of the biggest hubs: the real data has one publisher for all its documents;
- *a country page per country*, an undated document of type ``dt:country-page`` that
  ``dcterms:references`` every document about the country, as the Mali page lists its
  newsroom items (the ``reports`` question starts from it);
- *a changelog*: every tenth document is recorded as added later by ``hrkg add``, with the
  PROV activity ``hrkg.ingest`` writes (the real dataset has none yet; users' will).

Places come from a synthetic gazetteer appended to the copied ``ontology/gazetteer.ttl``,
nested under the real ``place:sub-saharan-africa``. Concept IRIs are read from
``ontology/vocabularies/``, and every ``hr:`` term written is checked against
``ontology/hrkg.ttl`` before anything is written, so a typo here fails loudly instead of
producing data the shapes never look at.

Graphs are written as hand-formatted TriG, many graphs per file (about
``TRIPLES_PER_FILE`` triples each), streamed document by document; the same ``--triples``
and ``--seed`` give the same bytes. ``--check`` validates the result in full with pySHACL
and runs the stored ``-violation`` checks. :func:`batch` gives a new conforming document,
as pyoxigraph quads, for the validation benchmark.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import random
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import pyoxigraph
from pyoxigraph import NamedNode, Quad, RdfFormat
from rdflib.namespace import DCTERMS, GEO, ORG, PROV, RDF, RDFS, SKOS, XSD

from hrkg.content import ContentLayout
from hrkg.namespaces import CONCEPT_SCHEMES, all_prefixes

REPO_ROOT = Path(__file__).resolve().parents[1]
MANIFEST_NAME = "synthetic.json"
#: Triples per document. The real graphs hold 19 to 430 (most are newsroom summaries
#: under 100); synthetic ones are full reports, so that one new document is about the
#: 300-triple batch the validation benchmark adds.
DOCUMENT_TRIPLES = (120, 480)
AVERAGE_DOCUMENT_TRIPLES = sum(DOCUMENT_TRIPLES) // 2
TRIPLES_PER_FILE = 100_000
#: Default fan-in of the publisher hubs (see the module docstring).
DOCUMENTS_PER_PUBLISHER = 500
#: Pooled persons and organizations per document: each is named by a few documents.
PERSONS_PER_DOCUMENT = 1.5
ORGANIZATIONS_PER_DOCUMENT = 0.8

PREFIXES = all_prefixes()


def curie(iri: object) -> str:
    """The prefixed name of a standard term, taken from rdflib's closed namespaces."""
    text = str(iri)
    for prefix, namespace in PREFIXES.items():
        if text.startswith(namespace) and text != namespace:
            return f"{prefix}:{text[len(namespace) :]}"
    raise ValueError(f"no prefix for {text}")


TYPE = "a"
LABEL = curie(RDFS.label)
DERIVED_FROM = curie(PROV.wasDerivedFrom)
EDITORIAL_NOTE = curie(SKOS.editorialNote)
NOTE = curie(SKOS.note)
TITLE = curie(DCTERMS.title)
ABSTRACT = curie(DCTERMS.abstract)
PUBLISHER = curie(DCTERMS.publisher)
DOCUMENT_TYPE = curie(DCTERMS.type)
REFERENCES = curie(DCTERMS.references)
WITHIN = curie(GEO.sfWithin)
MEMBER = curie(ORG.member)
POST_IN = curie(ORG.postIn)
DATATYPES = {
    name: curie(XSD[name]) for name in ("date", "dateTime", "gYear", "gYearMonth", "integer")
}

#: The ``hr:`` terms this generator writes; :func:`check_terms` verifies them.
_HR_TERMS = (
    "Case", "Document", "Event", "HumanRightsConcern", "IndicatorObservation", "LegalAction",
    "OfficeHolding", "Organization", "Person", "Place", "Post", "VictimGroup", "authority",
    "Addition", "caseStatus", "categoryValue", "concernsCase", "count", "countQualifier",
    "date", "eventType", "evidencedBy", "harm", "honorific", "indicator", "inputFile",
    "interim", "legalActionType", "organizationKind", "participant", "perpetrator", "place",
    "placeKind", "post", "postKind", "quote", "rankOutOf", "refArea", "relatedEvent",
    "replaced", "roleDescription", "sex", "sourceFile", "subject", "targetGraph",
    "tripleCount", "unit", "value", "victimCategory", "victimGroup", "violationType",
)  # fmt: skip
HR = {name: f"hr:{name}" for name in _HR_TERMS}

# -- words ------------------------------------------------------------------------------
# Invented syllables, so that no synthetic name is a real person's or place's.
_SYLLABLES = (
    "ka", "lo", "mi", "se", "ta", "ne", "ru", "vo", "da", "ri", "so", "ba", "ke", "lu",
    "ma", "ti", "go", "fe", "na", "zo", "pe", "ha", "du", "wi",
)  # fmt: skip
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_ROLES = (
    "former Chief of Staff", "commander of the regional garrison", "spokesperson",
    "prosecutor", "mayor", "leader of the armed group", "minister of justice",
    "police commissioner", "journalist", "human rights defender",
)  # fmt: skip
_HONORIFICS = ("General", "Colonel", "Captain", "Judge", "Minister")
_KIND_LABELS = {
    "government": "Government",
    "security-force": "Security forces",
    "police": "Police",
    "armed-group": "Armed group",
    "court": "Court",
    "intergovernmental-organization": "Intergovernmental mission",
    "ngo": "Association",
    "humanitarian-organization": "Relief agency",
    "military-junta": "Military council",
}
#: How the synthetic gazetteer nests: kind, children per parent, the kind of its children.
_PLACE_LEVELS = (("country", 3, "region"), ("region", 2, "city"), ("city", 2, "village"))
#: Indicators: notation, unit, value range in tenths (numbers) or None (categorical).
_INDICATORS = (
    ("population", "people", (10_000_000, 400_000_000, 100_000)),
    ("life-expectancy", "years", (400, 750, 1)),
    ("under-five-mortality", "per 1,000 live births", (400, 2200, 10)),
    ("human-development-index-rank", "rank", (1000, 1900, 10)),
    ("death-penalty-status", None, None),
)
_DOCUMENT_TYPES = ("report", "press-release", "annual-report")


def invented_name(number: int, parts: int) -> str:
    """A pronounceable capitalised name, one per number (bijective base-24 syllables)."""
    syllables = []
    for _ in range(parts):
        number, digit = divmod(number, len(_SYLLABLES))
        syllables.append(_SYLLABLES[digit])
    return "".join(syllables).capitalize()


# -- RDF text ---------------------------------------------------------------------------


def string(text: str) -> str:
    """A Turtle string literal, escaped (backslash, quote, line breaks)."""
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def sentence_case(text: str) -> str:
    """The first letter capitalised, the rest kept (``str.capitalize`` lowers acronyms)."""
    return text[:1].upper() + text[1:]


def english(text: str) -> str:
    """An English literal: every label and quote of the real data is tagged ``@en``."""
    return f"{string(text)}@en"


def typed(lexical: str, datatype: str) -> str:
    """A typed literal; ``datatype`` is a key of :data:`DATATYPES`, so a typo fails."""
    return f"{string(lexical)}^^{DATATYPES[datatype]}"


def block(subject: str, pairs: list[tuple[str, str]]) -> str:
    """One subject block of a graph, in the layout pyoxigraph writes."""
    body = " ;\n\t\t".join(f"{predicate} {obj}" for predicate, obj in pairs)
    return f"\t{subject} {body} .\n"


def prefix_header() -> str:
    """Every project and standard prefix, as the real data files declare them."""
    return "".join(f"@prefix {prefix}: <{iri}> .\n" for prefix, iri in sorted(PREFIXES.items()))


# -- the reference data the generator draws on ------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """The concepts of each scheme, as prefixed names, sorted so that picks are reproducible."""

    concepts: dict[str, tuple[str, ...]]

    def all(self, scheme: str) -> tuple[str, ...]:
        return self.concepts[scheme]

    def concept(self, scheme: str, notation: str) -> str:
        """One named concept; an unknown notation is an error, never a new IRI."""
        name = f"{_scheme_prefix(scheme)}:{notation}"
        if name not in self.concepts.get(scheme, ()):
            raise ValueError(f"{notation!r} is not a concept of the {scheme} scheme")
        return name


def _scheme_prefix(scheme: str) -> str:
    return next(prefix for prefix, name in CONCEPT_SCHEMES.items() if name == scheme)


def read_vocabulary(layout: ContentLayout) -> Vocabulary:
    """Every concept of ``ontology/vocabularies/``, by scheme (``skos:inScheme``)."""
    in_scheme = NamedNode(str(SKOS.inScheme))
    found: dict[str, set[str]] = {}
    for path in layout.vocabulary_files:
        for triple in pyoxigraph.parse(path=str(path), format=RdfFormat.TURTLE):
            if triple.predicate != in_scheme:
                continue
            scheme = triple.object.value.rsplit("/", 1)[-1]
            notation = triple.subject.value.rsplit("/", 1)[-1]
            found.setdefault(scheme, set()).add(f"{_scheme_prefix(scheme)}:{notation}")
    return Vocabulary({scheme: tuple(sorted(names)) for scheme, names in found.items()})


def check_terms(layout: ContentLayout) -> None:
    """Fail before writing if a ``hr:`` term of the generator is not in the ontology."""
    rdf_type = NamedNode(str(RDF.type))
    namespace = PREFIXES["hr"]
    defined = {
        triple.subject.value
        for triple in pyoxigraph.parse(path=str(layout.ontology_file), format=RdfFormat.TURTLE)
        if triple.predicate == rdf_type
    }
    missing = sorted(name for name in _HR_TERMS if namespace + name not in defined)
    if missing:
        raise SystemExit(f"terms missing from {layout.ontology_file}: {', '.join(missing)}")


# -- the world: places, pooled persons and organizations --------------------------------


@dataclass(frozen=True)
class Place:
    slug: str
    label: str
    kind: str
    parent: str


@dataclass(frozen=True)
class World:
    """What the documents of one dataset share, derived from the seed and the planned size."""

    seed: int
    planned_documents: int
    vocabulary: Vocabulary
    countries: tuple[Place, ...]
    places_in: dict[str, tuple[Place, ...]]
    persons: int
    organizations: int
    publishers: int

    @property
    def places(self) -> Iterator[Place]:
        for country in self.countries:
            yield country
            yield from self.places_in[country.slug]


def plan_world(
    seed: int, planned_documents: int, documents_per_publisher: int, vocabulary: Vocabulary
) -> World:
    """Countries (one per 100 documents, at least three), pools sized to the documents."""
    country_count = 3 + planned_documents // 100
    countries = []
    places_in: dict[str, tuple[Place, ...]] = {}
    for number in range(country_count):
        slug = f"synthetic-country-{number:04d}"
        country = Place(slug, invented_name(number + 600, 3), "country", "sub-saharan-africa")
        countries.append(country)
        places_in[slug] = tuple(_places_below(country, number))
    return World(
        seed=seed,
        planned_documents=planned_documents,
        vocabulary=vocabulary,
        countries=tuple(countries),
        places_in=places_in,
        persons=max(10, int(planned_documents * PERSONS_PER_DOCUMENT)),
        organizations=max(10, int(planned_documents * ORGANIZATIONS_PER_DOCUMENT)),
        publishers=max(1, math.ceil(planned_documents / documents_per_publisher)),
    )


def _places_below(country: Place, country_number: int) -> Iterator[Place]:
    """Regions, cities and villages of a country, breadth first."""
    parents = [country]
    serial = 0
    for kind, children, child_kind in _PLACE_LEVELS:
        level = []
        for parent in parents:
            assert parent.kind == kind
            for _ in range(children):
                serial += 1
                name = invented_name(country_number * 97 + serial * 13 + 1000, 2 + serial % 2)
                slug = f"{country.slug}-{child_kind}-{serial:03d}"
                level.append(Place(slug, name, child_kind, parent.slug))
        yield from level
        parents = level


def gazetteer_text(world: World) -> tuple[str, int]:
    """The synthetic places as Turtle to append to the gazetteer, and their triple count."""
    kinds = world.vocabulary
    lines = ["\n# Synthetic places written by benchmarks/generate.py (not from any source).\n\n"]
    triples = 0
    for place in world.places:
        pairs = [
            (TYPE, HR["Place"]),
            (LABEL, english(place.label)),
            (LABEL, f"{string(place.label)}@fr"),
            (HR["placeKind"], kinds.concept("place-kind", place.kind)),
            (WITHIN, f"place:{place.parent}"),
        ]
        body = " ;\n    ".join(f"{predicate} {obj}" for predicate, obj in pairs)
        lines.append(f"place:{place.slug} {body} .\n\n")
        triples += len(pairs)
    return "".join(lines), triples


# -- one document's graph ---------------------------------------------------------------


@dataclass
class DocumentGraph:
    """A source document's named graph as it is written: blocks, triples, what it describes."""

    iri: str
    blocks: list[str] = field(default_factory=list)
    triples: int = 0
    described: set[str] = field(default_factory=set)
    #: The slug of the country the document is about (its country page lists it).
    country: str = ""

    def add(self, subject: str, pairs: list[tuple[str, str]]) -> None:
        self.blocks.append(block(subject, pairs))
        self.triples += len(pairs)
        self.described.add(subject)

    def entity(
        self, subject: str, cls: str, label: str, quote: str, pairs: list[tuple[str, str]]
    ) -> None:
        """A typed node with what every entity of a source graph carries (label, provenance)."""
        head = [(TYPE, HR[cls]), (LABEL, english(label)), (DERIVED_FROM, self.iri)]
        self.add(subject, [*head, (HR["quote"], english(quote)), *pairs])

    def text(self) -> str:
        return f"{self.iri} {{\n" + "\n".join(self.blocks) + "}\n\n"


@dataclass
class Writer:
    """Writes one document: its random choices, its country, and the nodes it names."""

    world: World
    rng: random.Random
    graph: DocumentGraph
    slug: str
    title: str
    year: int
    country: Place
    cases: list[str] = field(default_factory=list)
    counter: int = 0

    def next_slug(self, what: str) -> str:
        self.counter += 1
        return f"{self.slug}-{what}-{self.counter:03d}"

    def concepts(self, scheme: str, low: int, high: int) -> list[str]:
        pool = self.world.vocabulary.all(scheme)
        return self.rng.sample(pool, self.rng.randint(low, min(high, len(pool))))

    def place(self) -> tuple[str, str]:
        """A place of the document's country (or the country itself): prefixed name, label."""
        places = self.world.places_in[self.country.slug]
        chosen = self.country if self.rng.random() < 0.3 else self.rng.choice(places)
        return f"place:{chosen.slug}", chosen.label

    def date(self, latest_year: int) -> str:
        """A date at the precision a source might give: year, month or day."""
        year = self.rng.randint(latest_year - 6, latest_year)
        month = self.rng.randint(1, 12)
        precision = self.rng.random()
        if precision < 0.4:
            return typed(str(year), "gYear")
        if precision < 0.75:
            return typed(f"{year}-{month:02d}", "gYearMonth")
        return typed(f"{year}-{month:02d}-{self.rng.randint(1, 28):02d}", "date")

    def maybe_note(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        if self.rng.random() < 0.2:
            pairs.append((EDITORIAL_NOTE, english(f"Encoding judgement recorded for {self.slug}.")))
        return pairs

    # -- pooled entities, restated in every document that names them --------------------

    def person(self) -> tuple[str, str]:
        """A pooled person (prefixed name, name), described here unless already described."""
        number = self.rng.randrange(self.world.persons)
        subject = f"person:synthetic-person-{number:06d}"
        name = f"{invented_name(number, 2)} {invented_name(number * 7 + 11, 3)}"
        if subject not in self.graph.described:
            role = _ROLES[number % len(_ROLES)]
            pairs = [(HR["roleDescription"], english(role))]
            honorific = _HONORIFICS[number % len(_HONORIFICS)] if number % 4 == 0 else None
            if honorific:
                pairs.append((HR["honorific"], english(honorific)))
            shown = f"{honorific} {name}" if honorific else name
            quote = f"{shown}, {role}, was named in the {self.title}."
            self.graph.entity(subject, "Person", name, quote, pairs)
        return subject, name

    def organization(self, kind: str | None = None) -> tuple[str, str]:
        """A pooled organization, of ``kind`` when given; its kind never varies across graphs."""
        kinds = self.world.vocabulary.all("organization-kind")
        number = self.rng.randrange(self.world.organizations)
        if kind is not None:
            # Organization n has kind n mod len(kinds): move to the same block's one of that kind.
            wanted = kinds.index(self.world.vocabulary.concept("organization-kind", kind))
            number = number - number % len(kinds) + wanted
        concept = kinds[number % len(kinds)]
        subject = f"organization:synthetic-organization-{number:06d}"
        label = f"{_KIND_LABELS.get(concept.split(':')[1], 'Organization')} "
        label += invented_name(number + 5000, 3)
        if subject not in self.graph.described:
            quote = f"The {label} was cited in the {self.title}."
            self.graph.entity(
                subject, "Organization", label, quote, [(HR["organizationKind"], concept)]
            )
        return subject, label

    def publisher(self, number: int) -> str:
        """A publisher, restated in each of its documents: the hubs of the dataset."""
        subject = f"organization:synthetic-publisher-{number:04d}"
        label = f"{invented_name(number + 9000, 3)} Human Rights Watchers"
        quote = f"{label} said today in the {self.title}."
        ngo = self.world.vocabulary.concept("organization-kind", "ngo")
        self.graph.entity(subject, "Organization", label, quote, [(HR["organizationKind"], ngo)])
        return subject

    def government(self) -> str:
        """The government of the document's country, which its posts belong to."""
        subject = f"organization:synthetic-government-of-{self.country.slug}"
        if subject not in self.graph.described:
            label = f"Government of {self.country.label}"
            kind = self.world.vocabulary.concept("organization-kind", "government")
            quote = f"the government of {self.country.label}"
            self.graph.entity(
                subject, "Organization", label, quote, [(HR["organizationKind"], kind)]
            )
        return subject

    def perpetrator(self) -> str:
        if self.rng.random() < 0.25:
            return self.person()[0]
        kind = self.rng.choice(("security-force", "armed-group", "police", "military-junta"))
        return self.organization(kind)[0]


# -- sections of a document: what a source reports --------------------------------------


def write_document_node(writer: Writer, rng: random.Random, index: int, publisher: str) -> None:
    """The document described in its own graph, and the country it is about restated."""
    vocabulary = writer.world.vocabulary
    kind = vocabulary.concept("document-type", rng.choice(_DOCUMENT_TYPES))
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    abstract = (
        f"{writer.title}: findings on violations in {writer.country.label}, "
        f"published on {_MONTHS[month - 1]} {day}, {writer.year}."
    )
    pairs = [
        (TITLE, english(writer.title)),
        (ABSTRACT, english(abstract)),
        (PUBLISHER, publisher),
        (DOCUMENT_TYPE, kind),
        (HR["date"], typed(f"{writer.year}-{month:02d}-{day:02d}", "date")),
        (HR["sourceFile"], string(f"{writer.slug}.txt")),
    ]
    if index > 0 and rng.random() < 0.15:
        for earlier in sorted(rng.sample(range(index), min(index, rng.randint(1, 3)))):
            pairs.append((REFERENCES, f"document:{document_slug(earlier)}"))
    quote = f"{_MONTHS[month - 1]} {day}, {writer.year}\n\n{writer.title}\n\n{abstract}"
    writer.graph.entity(writer.graph.iri, "Document", writer.title, quote, pairs)
    writer.graph.add(
        f"place:{writer.country.slug}",
        [(DERIVED_FROM, writer.graph.iri), (HR["quote"], english(writer.title))],
    )


def write_case(writer: Writer) -> None:
    """A case with its victim groups, and sometimes a related event and legal actions."""
    rng = writer.rng
    vocabulary = writer.world.vocabulary
    case = f"case:{writer.next_slug('case')}"
    violations = writer.concepts("violation-type", 1, 3)
    place, place_label = writer.place()
    what = violations[0].split(":")[1].replace("-", " ")
    quote = (
        f"Witnesses described {what} in {place_label}, which the authorities have not explained."
    )
    pairs = [(HR["violationType"], concept) for concept in violations]
    pairs.append((HR["caseStatus"], rng.choice(vocabulary.all("case-status"))))
    if rng.random() < 0.75:
        pairs.append((HR["date"], writer.date(writer.year)))
    if rng.random() < 0.9:
        pairs.append((HR["place"], place))
    for _ in range(rng.randint(1, 2)):
        pairs.append((HR["victimGroup"], write_victim_group(writer, what, place_label)))
    if rng.random() < 0.6:
        pairs.append((HR["perpetrator"], writer.perpetrator()))
    if rng.random() < 0.3:
        pairs.append((HR["relatedEvent"], write_event(writer)))
    writer.graph.entity(case, "Case", f"{sentence_case(what)} in {place_label}", quote, pairs)
    writer.cases.append(case)
    if rng.random() < 0.35:
        for _ in range(rng.randint(1, 2)):
            write_legal_action(writer, case, what)


def write_victim_group(writer: Writer, what: str, place_label: str) -> str:
    """A victim group: a count (sometimes qualified) where the source gives one, harms."""
    rng = writer.rng
    vocabulary = writer.world.vocabulary
    group = f"group:{writer.next_slug('group')}"
    category = rng.choice(vocabulary.all("victim-category"))
    people = category.split(":")[1].replace("-", " ")
    pairs = [(HR["victimCategory"], category)]
    shown = people
    if rng.random() < 0.7:
        count = rng.randint(1, 300)
        pairs.append((HR["count"], typed(str(count), "integer")))
        shown = f"{count} {people}"
        if rng.random() < 0.4:
            qualifier = rng.choice(vocabulary.all("count-qualifier"))
            pairs.append((HR["countQualifier"], qualifier))
            shown = f"{qualifier.split(':')[1].replace('-', ' ')} {shown}"
    pairs += [(HR["harm"], harm) for harm in writer.concepts("harm", 0, 2)]
    quote = f"{sentence_case(shown)} were affected by {what} in {place_label}."
    writer.graph.entity(
        group, "VictimGroup", f"{sentence_case(shown)} in {place_label}", quote, pairs
    )
    return group


def write_event(writer: Writer) -> str:
    """An event related to a case: one event type, a place, usually a date, participants."""
    rng = writer.rng
    event = f"event:{writer.next_slug('event')}"
    event_type = rng.choice(writer.world.vocabulary.all("event-type"))
    place, place_label = writer.place()
    what = event_type.split(":")[1].replace("-", " ")
    pairs = [(HR["eventType"], event_type), (HR["place"], place)]
    if rng.random() < 0.8:
        pairs.append((HR["date"], writer.date(writer.year)))
    for _ in range(rng.randint(0, 2)):
        participant = writer.person()[0] if rng.random() < 0.3 else writer.organization()[0]
        if (HR["participant"], participant) not in pairs:
            pairs.append((HR["participant"], participant))
    quote = f"A {what} took place in {place_label}."
    writer.graph.entity(event, "Event", f"{sentence_case(what)} in {place_label}", quote, pairs)
    return event


def write_legal_action(writer: Writer, case: str, what: str) -> None:
    """A step of justice on a case: one type, the persons it targets, how many, by whom."""
    rng = writer.rng
    vocabulary = writer.world.vocabulary
    action = f"action:{writer.next_slug('action')}"
    action_type = rng.choice(vocabulary.all("legal-action-type"))
    step = action_type.split(":")[1].replace("-", " ")
    pairs = [(HR["legalActionType"], action_type), (HR["concernsCase"], case)]
    names = []
    for _ in range(rng.randint(0, 2)):
        subject, name = writer.person()
        if (HR["subject"], subject) not in pairs:
            pairs.append((HR["subject"], subject))
            names.append(name)
    if rng.random() < 0.5:
        pairs.append((HR["count"], typed(str(rng.randint(1, 40)), "integer")))
        if rng.random() < 0.3:
            pairs.append((HR["countQualifier"], rng.choice(vocabulary.all("count-qualifier"))))
    if rng.random() < 0.5:
        pairs.append((HR["authority"], writer.organization("court")[0]))
    if rng.random() < 0.6:
        pairs.append((HR["date"], writer.date(writer.year)))
    who = ", ".join(names) or "several people"
    quote = f"The {step} of {who} in connection with the {what} was announced."
    writer.graph.entity(
        action, "LegalAction", f"{sentence_case(step)}: {what}", quote, writer.maybe_note(pairs)
    )


def write_concern(writer: Writer) -> None:
    """A general concern, evidenced by cases of the same document where the source ties them."""
    rng = writer.rng
    concern = f"concern:{writer.next_slug('concern')}"
    violations = writer.concepts("violation-type", 0, 2)
    place, place_label = writer.place()
    what = violations[0].split(":")[1].replace("-", " ") if violations else "human rights"
    pairs = [(HR["violationType"], concept) for concept in violations]
    pairs.append((HR["place"], place))
    if rng.random() < 0.4:
        pairs.append((HR["perpetrator"], writer.perpetrator()))
    if writer.cases and rng.random() < 0.6:
        for case in rng.sample(writer.cases, min(len(writer.cases), rng.randint(1, 2))):
            pairs.append((HR["evidencedBy"], case))
    sentence = f"Concerns about {what} in {place_label} remain."
    pairs.append((NOTE, english(sentence)))
    writer.graph.entity(
        concern, "HumanRightsConcern", f"{sentence_case(what)} in {place_label}", sentence, pairs
    )


def write_observations(writer: Writer) -> None:
    """Indicator observations for the document's country, each indicator once."""
    rng = writer.rng
    vocabulary = writer.world.vocabulary
    country = writer.country
    for notation, unit, values in rng.sample(_INDICATORS, rng.randint(2, len(_INDICATORS))):
        indicator = vocabulary.concept("indicator", notation)
        sexes = (
            ("male", "female")
            if notation == "under-five-mortality" and rng.random() < 0.4
            else (None,)
        )
        for sex in sexes:
            slug = f"{writer.slug}-{notation}" + (f"-{sex}" if sex else "")
            pairs = [(HR["indicator"], indicator), (HR["refArea"], f"place:{country.slug}")]
            if values is None:
                status = rng.choice(vocabulary.all("death-penalty-status"))
                pairs.append((HR["categoryValue"], status))
                shown = status.split(":")[1].replace("-", " ")
            else:
                low, high, step = values
                value = rng.randrange(low, high, step) / 10
                pairs += [(HR["value"], f"{value:.1f}"), (HR["unit"], string(unit))]
                shown = f"{value:.1f} {unit}"
                if notation == "human-development-index-rank":
                    pairs.append((HR["rankOutOf"], typed("191", "integer")))
                elif rng.random() < 0.3:
                    pairs.append(
                        (HR["countQualifier"], rng.choice(vocabulary.all("count-qualifier")))
                    )
            if sex:
                pairs.append((HR["sex"], string(sex)))
            if rng.random() < 0.4:
                pairs.append((HR["date"], typed(str(writer.year - 1), "gYear")))
            name = notation.replace("-", " ")
            label = f"{sentence_case(name)} of {country.label}: {shown}"
            quote = f"{sentence_case(name)} {shown}"
            writer.graph.entity(f"observation:{slug}", "IndicatorObservation", label, quote, pairs)


def write_office_holding(writer: Writer, post_kind: str) -> None:
    """Who holds the head-of-state or head-of-government post of the country."""
    rng = writer.rng
    country = writer.country
    post = f"post:synthetic-{post_kind}-of-{country.slug}"
    office = post_kind.replace("-", " ")
    member, name = writer.person()
    if post not in writer.graph.described:
        pairs = [(POST_IN, writer.government()), (HR["postKind"], string(post_kind))]
        quote = f"{sentence_case(office)} {name}"
        writer.graph.entity(
            post, "Post", f"{sentence_case(office)} of {country.label}", quote, pairs
        )
    interim = rng.random() < 0.2
    pairs = [(MEMBER, member), (HR["post"], post), (HR["interim"], "true" if interim else "false")]
    quote = f"{'Interim ' if interim else ''}{office} {name}"
    if rng.random() < 0.3:
        replaced, predecessor = writer.person()
        if replaced != member:
            pairs.append((HR["replaced"], replaced))
            quote += f" (replaced {predecessor})"
    if rng.random() < 0.5:
        pairs.append((HR["date"], typed(str(writer.year), "gYear")))
    holding = f"holding:{writer.slug}-{post_kind}"
    writer.graph.entity(
        holding, "OfficeHolding", f"{name}, {office} of {country.label}", quote, pairs
    )


def document_slug(index: int) -> str:
    return f"synthetic-{index:07d}"


def write_document(world: World, index: int, budget: int, rng: random.Random) -> DocumentGraph:
    """One source document's graph, grown section by section until it holds ``budget`` triples."""
    slug = document_slug(index)
    country = world.countries[rng.randrange(len(world.countries))]
    graph = DocumentGraph(f"document:{slug}", country=country.slug)
    year = rng.randint(2005, 2024)
    title = f"{country.label}: report {index} on human rights, {year}"
    writer = Writer(world, rng, graph, slug, title, year, country)
    publisher = writer.publisher(index % world.publishers)
    write_document_node(writer, rng, index, publisher)
    sections_left = {"observations": 1, "head-of-state": 1, "head-of-government": 1}
    while graph.triples < budget:
        roll = rng.random()
        if roll < 0.1 and sections_left["observations"]:
            sections_left["observations"] = 0
            write_observations(writer)
        elif roll < 0.2:
            post_kind = "head-of-state" if roll < 0.15 else "head-of-government"
            if sections_left[post_kind]:
                sections_left[post_kind] = 0
                write_office_holding(writer, post_kind)
        elif roll < 0.4:
            write_concern(writer)
        else:
            write_case(writer)
    return graph


def write_country_page(world: World, country: Place, documents: list[str]) -> DocumentGraph:
    """The country's page, listing every document about it as the real Mali page lists its
    newsroom items (``dcterms:references``): what the ``reports`` question reads. Undated,
    like the real page."""
    slug = f"synthetic-page-{country.slug}"
    graph = DocumentGraph(f"document:{slug}", country=country.slug)
    title = f"{country.label} Human Rights"
    writer = Writer(world, random.Random(slug), graph, slug, title, 0, country)
    pairs = [
        (TITLE, english(title)),
        (PUBLISHER, writer.publisher(0)),
        (DOCUMENT_TYPE, world.vocabulary.concept("document-type", "country-page")),
        (HR["sourceFile"], string(f"{slug}.txt")),
        *((REFERENCES, document) for document in documents),
    ]
    graph.entity(graph.iri, "Document", title, title, pairs)
    return graph


def listing_triples(world: World) -> int:
    """About how many triples the country pages and the changelog will hold, kept out of the
    documents' share so that the dataset comes out at the size asked for: per document, a
    reference and a tenth of an addition; per country page, its own description."""
    per_page = 4 + 4 + 5  # the page's own triples, its publisher restated
    documents = world.planned_documents
    return documents + documents * 8 // ADDED_EVERY + per_page * len(world.countries) + 2


#: Every this many documents, one is recorded as added later with ``hrkg add``.
ADDED_EVERY = 10
ADDING_AGENT = "agent:synthetic-analyst"


@dataclass(frozen=True)
class AddedDocument:
    """A document recorded as added with ``hrkg add``: its graph and how many triples."""

    iri: str
    triples: int


def changelog_text(added: list[AddedDocument]) -> tuple[str, int]:
    """The changelog graph ``hrkg add`` would have written for ``added``: one PROV activity
    per addition (as ``hrkg.ingest`` records it), an hour apart from 1 January 2025; and
    its triple count."""
    blocks = [block(ADDING_AGENT, [(TYPE, curie(PROV.Agent)), (LABEL, string("analyst"))])]
    first = dt.datetime(2025, 1, 1)
    for number, graph in enumerate(added):
        file_name = f"{graph.iri.removeprefix('document:')}.trig"
        ended = f"{first + dt.timedelta(hours=number):%Y-%m-%dT%H:%M:%S}Z"
        blocks.append(
            block(
                f"activity:synthetic-{number:07d}",
                [
                    (TYPE, curie(PROV.Activity)),
                    (TYPE, HR["Addition"]),
                    (LABEL, english(f"addition of {graph.triples} triples from {file_name}")),
                    (curie(PROV.endedAtTime), typed(ended, "dateTime")),
                    (curie(PROV.wasAssociatedWith), ADDING_AGENT),
                    (HR["inputFile"], string(file_name)),
                    (HR["targetGraph"], graph.iri),
                    (HR["tripleCount"], typed(str(graph.triples), "integer")),
                ],
            )
        )
    text = prefix_header() + "\ngraph:changelog {\n" + "\n".join(blocks) + "}\n"
    return text, 2 + 8 * len(added)


# -- the content folder -----------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """What a generated folder holds; a folder is reused only when all of it matches."""

    generator: str
    seed: int
    requested_triples: int
    triples: int
    graph_triples: int
    gazetteer_triples: int
    documents: int
    planned_documents: int
    documents_per_publisher: int
    files: int

    @classmethod
    def read(cls, folder: Path) -> Manifest | None:
        path = folder / MANIFEST_NAME
        if not path.is_file():
            return None
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (TypeError, ValueError):
            return None  # another generator's manifest: the folder is regenerated

    def write(self, folder: Path) -> None:
        text = json.dumps(self.__dict__, indent=1, sort_keys=True) + "\n"
        (folder / MANIFEST_NAME).write_text(text, encoding="utf-8")


def prepare_folder(out: Path) -> ContentLayout:
    """An empty content folder with the repository's ontology and queries copied in.

    Refuses a non-empty folder it did not generate, so that a wrong --out deletes nothing.
    """
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST_NAME).exists():
        raise SystemExit(f"{out} is not empty and was not written by this script: choose another")
    for part in ("ontology", "queries", "data"):
        shutil.rmtree(out / part, ignore_errors=True)
    (out / MANIFEST_NAME).unlink(missing_ok=True)
    shutil.copytree(REPO_ROOT / "ontology", out / "ontology")
    copy_queries(out)
    (out / "data" / "graphs").mkdir(parents=True)
    return ContentLayout(out)


def next_budget(rng: random.Random, remaining: int) -> int:
    """A document's triple budget; the last document takes what remains."""
    low, high = DOCUMENT_TRIPLES
    budget = rng.randint(low, high)
    return remaining if remaining - budget < low else budget


class GraphFiles:
    """Document graphs streamed into numbered TriG files of about ``TRIPLES_PER_FILE`` each.

    Many graphs per file keep the file count sane at 10M triples; the loader keeps every
    graph a file names, so this is the same dataset as one file per document.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self.handle: TextIO | None = None
        self.in_file = 0

    def __enter__(self) -> GraphFiles:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.handle is not None:
            self.handle.close()

    def write(self, graph: DocumentGraph) -> None:
        if self.handle is None or self.in_file >= TRIPLES_PER_FILE:
            if self.handle is not None:
                self.handle.close()
            self.count += 1
            path = self.folder / f"synthetic-{self.count:04d}.trig"
            self.handle = path.open("w", encoding="utf-8")
            self.handle.write(prefix_header() + "\n")
            self.in_file = 0
        self.handle.write(graph.text())
        self.in_file += graph.triples


def generate(
    triples: int, seed: int, out: Path, documents_per_publisher: int = DOCUMENTS_PER_PUBLISHER
) -> Manifest:
    """Write a content folder of about ``triples`` triples; returns its manifest."""
    layout = prepare_folder(out)
    check_terms(layout)
    vocabulary = read_vocabulary(layout)
    planned = max(1, triples // AVERAGE_DOCUMENT_TRIPLES)
    world = plan_world(seed, planned, documents_per_publisher, vocabulary)
    places, gazetteer_triples = gazetteer_text(world)
    with layout.gazetteer_file.open("a", encoding="utf-8") as gazetteer:
        gazetteer.write(places)
    budgets = random.Random(f"{seed}/budgets")
    target = max(1, triples - gazetteer_triples - listing_triples(world))
    written = documents = 0
    listed: dict[str, list[str]] = {country.slug: [] for country in world.countries}
    added: list[AddedDocument] = []
    with GraphFiles(layout.root / "data" / "graphs") as files:
        while written < target:
            budget = next_budget(budgets, target - written)
            graph = write_document(world, documents, budget, document_rng(seed, documents))
            files.write(graph)
            written += graph.triples
            listed[graph.country].append(graph.iri)
            if documents % ADDED_EVERY == ADDED_EVERY - 1:
                added.append(AddedDocument(graph.iri, graph.triples))
            documents += 1
        for country in world.countries:
            if listed[country.slug]:
                page = write_country_page(world, country, listed[country.slug])
                files.write(page)
                written += page.triples
    changelog, changelog_triples = changelog_text(added)
    layout.changelog_file.write_text(changelog, encoding="utf-8")
    written += changelog_triples
    manifest = Manifest(
        generator=generator_fingerprint(),
        seed=seed,
        requested_triples=triples,
        triples=written + gazetteer_triples,
        graph_triples=written,
        gazetteer_triples=gazetteer_triples,
        documents=documents,
        planned_documents=world.planned_documents,
        documents_per_publisher=documents_per_publisher,
        files=files.count,
    )
    manifest.write(out)
    return manifest


def generator_fingerprint() -> str:
    """A digest of this script and of the repository's ontology, which the data is written
    from (its terms, vocabularies and gazetteer) and copied with: a folder written by other
    code, or from another ontology, is regenerated, not reused."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted((REPO_ROOT / "ontology").rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(REPO_ROOT).as_posix().encode("utf-8"))
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def document_rng(seed: int, index: int) -> random.Random:
    """Each document draws from its own generator, so any one can be made without the rest."""
    return random.Random(f"{seed}/document/{index}")


def ensure_dataset(
    triples: int, seed: int, out: Path, documents_per_publisher: int = DOCUMENTS_PER_PUBLISHER
) -> Manifest:
    """The folder's manifest, generating the folder first unless it already matches.

    A folder kept from an earlier run gets the repository's stored questions afresh: the
    data does not depend on them, and the benchmark must time the questions as they are.
    """
    manifest = Manifest.read(out)
    wanted = (generator_fingerprint(), seed, triples, documents_per_publisher)
    if manifest and wanted == (
        manifest.generator,
        manifest.seed,
        manifest.requested_triples,
        manifest.documents_per_publisher,
    ):
        copy_queries(out)
        return manifest
    return generate(triples, seed, out, documents_per_publisher)


def copy_queries(out: Path) -> None:
    """The repository's ``queries/`` into the folder, replacing what it held."""
    shutil.rmtree(out / "queries", ignore_errors=True)
    shutil.copytree(REPO_ROOT / "queries", out / "queries")


def batch(n_triples: int, seed: int, existing_folder: Path) -> list[Quad]:
    """A conforming addition of about ``n_triples``: one new document graph for the folder.

    The document is the next one the folder's generator would have written (same world,
    same pooled persons, organizations, publishers and places), so it restates entities
    that are already stored, as a real new source does.
    """
    manifest = Manifest.read(existing_folder)
    if manifest is None:
        raise ValueError(f"{existing_folder} was not written by benchmarks/generate.py")
    layout = ContentLayout(existing_folder)
    world = plan_world(
        manifest.seed,
        manifest.planned_documents,
        manifest.documents_per_publisher,
        read_vocabulary(layout),
    )
    rng = random.Random(f"{manifest.seed}/batch/{seed}")
    graph = write_document(world, manifest.documents, n_triples, rng)
    text = prefix_header() + graph.text()
    return list(pyoxigraph.parse(text.encode("utf-8"), format=RdfFormat.TRIG))


# -- the check --------------------------------------------------------------------------


def check_folder(folder: Path) -> bool:
    """Full pySHACL validation of reference graph + all data, and the stored checks.

    The same shapes and options as the validation gate, so "conforms" here means the gate
    would accept every document of the folder.
    """
    from rdflib.namespace import SH

    import hrkg
    from hrkg.shapes import load_reference_graph, load_shapes_graph
    from hrkg.validation.graph_access import to_rdflib
    from hrkg.validation.incremental import validate_full

    layout = ContentLayout(folder)
    graph = load_reference_graph(layout)
    for path in layout.source_graph_files:
        for quad in pyoxigraph.parse(path=str(path), format=RdfFormat.TRIG):
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    started = time.perf_counter()
    _, report, _ = validate_full(load_shapes_graph(layout), graph)
    severities = list(report.objects(None, SH.resultSeverity))
    violations = severities.count(SH.Violation)
    print(
        f"pySHACL: {len(graph)} triples, {violations} violations, "
        f"{severities.count(SH.Warning)} warnings ({time.perf_counter() - started:.1f} s)"
    )
    kg = hrkg.open(folder)
    failed = 0
    for check in kg.catalog.checks:
        rows = len(kg.run(check, {}).rows)
        failed += rows > 0
        print(f"check {check.name}: {rows} rows")
    return violations == 0 and failed == 0


def add_dataset_options(parser: argparse.ArgumentParser) -> None:
    """``--seed``, ``--data-dir`` and ``--results``, as the benchmarks over generated data
    take them (the dataset for a scale is ``<data-dir>/<scale>``)."""
    benchmarks = Path(__file__).resolve().parent
    parser.add_argument("--seed", type=int, default=1, help="generator seed (1)")
    parser.add_argument("--data-dir", type=Path, default=benchmarks / "data")
    parser.add_argument("--results", type=Path, default=benchmarks / "results")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--triples", type=int, required=True, help="about how many triples")
    parser.add_argument("--out", type=Path, required=True, help="the content folder to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--documents-per-publisher",
        type=int,
        default=DOCUMENTS_PER_PUBLISHER,
        help="fan-in of the publisher hubs (default %(default)s)",
    )
    parser.add_argument(
        "--check", action="store_true", help="validate the result in full (slow beyond 100k)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    manifest = generate(args.triples, args.seed, args.out, args.documents_per_publisher)
    elapsed = time.perf_counter() - started
    print(
        f"{args.out}: {manifest.triples} triples ({manifest.documents} documents, "
        f"{manifest.files} files, {manifest.gazetteer_triples} gazetteer) in {elapsed:.1f} s"
    )
    if args.check:
        return 0 if check_folder(args.out) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
