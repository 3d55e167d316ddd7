"""Hostile parameter values against every typed parameter of every stored question.

For each parameter of each question in the catalogue, hypothesis draws values of the
declared type, values of the other types, and text built to break out of a query (quotes,
braces, ``#``, newlines, NUL, unicode, ``x" } UNION { ?s ?p ?o } #``, huge and negative
numbers…), and sends them through the three ways in: the Python API (``kg.query``), the
command line (``hrkg query run NAME -p name=value --format json``, by typer's runner) and
the REST API (``/api/queries/NAME?name=value``, in process). Three properties:

1. **Clean.** The answer is a result or a parameter error: :class:`ParameterError` in
   Python, exit code 2 with ``error:`` and no traceback on the command line, HTTP 400 with
   a text reason on REST. Never another exception, never a hang (the hypothesis deadline).
2. **Not changed.** An accepted value filters the question's intended answer and nothing
   else. An oracle per question, written from the data's quads in Python rather than in
   SPARQL, says what the rows must be: for ``reports``, ``indicators`` and ``timeline`` the
   unfiltered answer filtered in Python (so a widened query shows as rows outside it);
   for ``entity`` and ``sources-of``, rows that are real stored statements about the one
   entity named, or about the entities whose label contains the text.
3. **The same everywhere.** The command line and the REST API give what the Python API gives.

Values marked valid (an in-range year, a real date, an allowed value, a known IRI) must
also be accepted, so a check that refuses everything would not pass either.

The bugs these tests found in ``src/`` are data (:data:`FOUND_BUGS`), each kept as a
regression test; while one is open, its test is an ``xfail(strict=True)`` and the property
tests set aside the inputs it names. A fixed corpus of hostile texts also goes through
every way in, every run.

Deterministic in the normal suite (the "quick" hypothesis profile: few examples,
derandomized); ``HRKG_LONG_TESTS=1`` loads the "long" profile, with random examples and
many more of them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import keyword
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import pytest
from hypothesis import currently_in_test_context, event, given, note, settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Store
from rdflib import namespace
from starlette.testclient import TestClient
from typer.testing import CliRunner

import hrkg
from hrkg.catalog import MAX_PARAMETER_CHARS, Catalog, Parameter, StoredQuery
from hrkg.cli import app
from hrkg.errors import ParameterError
from hrkg.namespaces import project_prefixes
from hrkg.results import term_to_json, to_json
from hrkg.server import ServerConfig, create_app
from hrkg.server.state import ServerState
from hypothesis_profiles import PROFILE


def record(text: str, *, kind: str = "note") -> None:
    """A hypothesis note or event; nothing in the plain regression tests, which have none."""
    if currently_in_test_context():
        (event if kind == "event" else note)(text)


def examples(share: float) -> settings:
    """The profile with a share of its examples (the command line is slower per example)."""
    return settings(PROFILE, max_examples=max(1, round(PROFILE.max_examples * share)))


# Plain strings, not rdflib's closed namespace objects: pytest probes module attributes by
# name, and a closed namespace warns on every unknown one.
RDF_TYPE = str(namespace.RDF.type)
RDFS_LABEL = str(namespace.RDFS.label)
SKOS_PREF_LABEL = str(namespace.SKOS.prefLabel)
SKOS_NOTATION = str(namespace.SKOS.notation)
SKOS_BROADER = str(namespace.SKOS.broader)
DCTERMS_TYPE = str(namespace.DCTERMS.type)
XSD_STRING = str(namespace.XSD.string)
HR = project_prefixes()["hr"]

#: Text written to escape from a string literal, an IRI or the VALUES block.
HOSTILE = (
    'x" } UNION { ?s ?p ?o } #',
    "<https://x> } ; DROP ALL #",
    '"""',
    "'''",
    "\\u0022",
    "\\U00000022",
    "\\",
    '\\"',
    "}",
    "{",
    "#",
    "\n",
    "\r\n",
    "\x00",
    "\x1b[31m",
    ") } } SELECT * WHERE { ?s ?p ?o } #",
    '") } UNION { ?s ?p ?o } #',
    '") ("',
    'Sanogo") ("Mali',
    "2013) (2014",
    'report") ("press-release',
    '" . ?s ?p ?o . FILTER("1',
    '") || true || ("',
    "2013 || true",
    "2013) || (1 = 1",
    "2013 } UNION { ?s ?p ?o }",
    '1"^^<http://www.w3.org/2001/XMLSchema#integer>',
    "^^xsd:integer",
    "@en",
    "Tombouctou@fr",
    'x"@en } #',
    "?s ?p ?o",
    "$label",
    "*",
    ".*",
    "%00",
    "%22",
    "&year=2013",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\u202e",
    "\U0001f600",
    "İ",
    "ΑΣ",
    "ß",
    "'; DROP TABLE cases; --",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "https://x.org/a> <b> <c",
    "person:x> } UNION { ?s ?p ?o } #",
    "person:amadou-sanogo> ?p ?o } #",
    "SERVICE <http://127.0.0.1:9/> { ?s ?p ?o }",
    "-0",
    "9" * 40,
    "-" + "9" * 40,
    "1e308",
    "NaN",
    "  ",
)
#: The texts with a character that ends a term or a group in SPARQL, or starts a comment.
BREAKOUT = tuple(text for text in HOSTILE if any(char in text for char in "\"'\\{}<>()#\n\r\x00"))
#: A valid value of each type, to put in front of a hostile text.
EXAMPLE_VALUES = {
    "iri": "person:amadou-sanogo",
    "string": "Sanogo",
    "langstring": "Tombouctou@fr",
    "date": "2013",
    "integer": "2013",
}
#: Characters SPARQL and Turtle give a meaning to, for short random strings of them.
SYNTAX = "\"'{}#<>\\?$.;,()|*^`@:=&% \n\r\t\x00"


# -- bugs these tests found in src/: each stays a regression test ---------------------------


@dataclass(frozen=True)
class FoundBug:
    """An input that broke a property, and what it did (file and line at the time).

    An open bug also says which inputs it covers (``open``): the property tests set those
    aside, counted as a hypothesis event, and its regression test is marked
    ``xfail(strict=True)``, so that it fails the suite as XPASS once fixed; then drop
    ``open``, and the property tests cover those inputs again.
    """

    name: str
    query: str
    parameter: str
    value: object
    was: str
    open: Callable[[Parameter, object], bool] | None = None


FOUND_BUGS = (
    FoundBug(
        "huge-int",
        "reports",
        "year",
        10**5000,
        "Parameter.to_term turned the int into text with str(): ValueError 'Exceeds the limit "
        "(4300 digits) for integer string conversion', not a ParameterError",
    ),
    FoundBug(
        "surrogate-in-a-string",
        "entity",
        "label",
        "\udcff",
        "pyoxigraph.Literal refused a lone surrogate with ValueError; an argument with invalid "
        "UTF-8 on the command line decodes to one (surrogateescape): a traceback",
    ),
    FoundBug(
        "non-ascii-date-digits",
        "timeline",
        "to",
        "１９９９",
        "the date patterns used \\d, so full-width digits made the ill-formed literal "
        '"１９９９"^^xsd:gYear, compared as text: to=１９９９ returned every item',
    ),
    FoundBug(
        "integer-with-a-separator-control",
        "reports",
        "year",
        "\x1c2013",
        "src/hrkg/catalog.py:145-147 _integer_term checks the pattern on value.strip(), which "
        "strips \\x1c-\\x1f (str.isspace), then calls int(value), which does not: ValueError "
        "'invalid literal for int()' in Python, a traceback (exit 1) from `hrkg query run "
        "reports -p year=$'\\x1c2013'`, and a 500 from GET /api/queries/reports?year=%1C2013",
    ),
)


def _set_aside(kg: hrkg.KnowledgeGraph, name: str, params: Mapping[str, object]) -> bool:
    """True (and counted) when an open bug of :data:`FOUND_BUGS` covers one of the values."""
    for key, raw in params.items():
        parameter = kg.catalog.get(name).parameters.get(key)
        for bug in FOUND_BUGS:
            if parameter is not None and bug.open is not None and bug.open(parameter, raw):
                record(f"set aside: open bug {bug.name}", kind="event")
                return True
    return False


# -- what the data says, read from the store's quads (not through SPARQL) -----------------

TermKey = tuple[str, str, str | None, str | None]
Row = dict[str, dict[str, str]]


def term_key(term: Mapping[str, str]) -> TermKey:
    """A term in SPARQL JSON form as a hashable key (xsd:string written out or not).

    Blank nodes are all one key: their labels differ from store to store (the server's
    store is another copy of the data), and none is a parameter or an entity here.
    """
    if term["type"] == "bnode":
        return ("bnode", "", None, None)
    datatype = term.get("datatype")
    if term["type"] == "literal" and not term.get("xml:lang") and not datatype:
        datatype = XSD_STRING
    return (term["type"], term["value"], term.get("xml:lang"), datatype)


def _key(term) -> TermKey:
    return term_key(term_to_json(term))


@dataclass
class Reference:
    """The stored data as plain Python collections, for the oracles."""

    quads: set[tuple[TermKey, TermKey, TermKey, str]] = field(default_factory=set)
    labels: dict[str, list[str]] = field(default_factory=dict)
    pref_labels_en: dict[str, set[str]] = field(default_factory=dict)
    notations: dict[str, set[TermKey]] = field(default_factory=dict)
    broader: dict[str, set[str]] = field(default_factory=dict)
    doc_types: dict[str, set[str]] = field(default_factory=dict)
    indicator_of: dict[str, set[str]] = field(default_factory=dict)
    documents: set[str] = field(default_factory=set)
    subjects_by_graph: dict[str, set[str]] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)
    #: SPARQL JSON rows of the questions run without any parameter.
    unfiltered: dict[str, list[Row]] = field(default_factory=dict)

    def __repr__(self) -> str:  # hypothesis prints the arguments of every failing example
        return f"Reference({len(self.quads)} quads)"

    @classmethod
    def read(cls, kg: hrkg.KnowledgeGraph) -> Reference:
        ref = cls()
        for quad in kg.store.quads():
            s, p, o = quad.subject, quad.predicate.value, quad.object
            graph = quad.graph_name.value if isinstance(quad.graph_name, NamedNode) else ""
            ref.quads.add((_key(s), _key(quad.predicate), _key(o), graph))
            ref.subjects_by_graph.setdefault(graph, set()).add(s.value)
            ref.touched.add(s.value)
            if isinstance(o, NamedNode):
                ref.touched.add(o.value)
            if p == RDFS_LABEL:
                ref.labels.setdefault(s.value, []).append(o.value)
            elif p == SKOS_PREF_LABEL and isinstance(o, Literal) and o.language == "en":
                ref.pref_labels_en.setdefault(s.value, set()).add(o.value)
            elif p == SKOS_NOTATION:
                ref.notations.setdefault(s.value, set()).add(_key(o))
            elif p == SKOS_BROADER:
                ref.broader.setdefault(s.value, set()).add(o.value)
            elif p == DCTERMS_TYPE:
                ref.doc_types.setdefault(s.value, set()).add(o.value)
            elif p == HR + "indicator":
                ref.indicator_of.setdefault(s.value, set()).add(o.value)
            elif p == RDF_TYPE and o.value == HR + "Document":
                ref.documents.add(s.value)
        for stored in kg.catalog.questions:
            if not any(p.required for p in stored.parameters.values()) and not (
                stored.requires_one_of
            ):
                ref.unfiltered[stored.name] = rows_of(kg.run(stored, {}))
        return ref

    def ancestors_or_self(self, concept: str) -> set[str]:
        seen, todo = set(), [concept]
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo += self.broader.get(node, ())
        return seen


def rows_of(table) -> list[Row]:
    return json.loads(to_json(table))["results"]["bindings"]


def value(row: Row, variable: str) -> str | None:
    return row[variable]["value"] if variable in row else None


def multiset(rows: list[Row]) -> Counter:
    """Rows as a multiset, blank node labels left out (see :func:`term_key`)."""
    return Counter(
        json.dumps({var: term_key(term) for var, term in row.items()}, sort_keys=True)
        for row in rows
    )


# -- what a raw value means, decided here and not by the code under test ------------------


def plain(raw: object) -> str | None:
    """The text a value stands for, or None when it is no text (bytes, float, list…)."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, NamedNode | Literal):
        return raw.value
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, int):
        return str(raw)
    return raw if isinstance(raw, str) else None


def present(raw: object) -> bool:
    return raw is not None and raw != ""


def period(text: str) -> tuple[dt.date, dt.date]:
    """The days a YYYY, YYYY-MM or YYYY-MM-DD text covers."""
    parts = [int(part) for part in text.split("-")]
    if len(parts) == 1:
        return dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31)
    if len(parts) == 2:
        last = calendar.monthrange(parts[0], parts[1])[1]
        return dt.date(parts[0], parts[1], 1), dt.date(parts[0], parts[1], last)
    day = dt.date(*parts)
    return day, day


def expand(kg: hrkg.KnowledgeGraph, text: str) -> str:
    """The IRI a prefixed name stands for (a full IRI stays as it is)."""
    prefix, _, local = text.partition(":")
    namespace = kg.prefixes.get(prefix)
    return namespace + local if namespace else text


def check_entity_rows(ref: Reference, rows: list[Row], allowed: set[str]) -> None:
    """Every row is a stored statement from or to one of the ``allowed`` entities."""
    for row in rows:
        entity, direction = value(row, "entity"), value(row, "direction")
        assert entity in allowed, f"row about {entity!r}, outside the asked entities: {row}"
        ends = (
            (row["entity"], row["value"]) if direction == "out" else (row["value"], row["entity"])
        )
        assert direction in ("out", "in"), row
        quad = (
            term_key(ends[0]),
            term_key(row["property"]),
            term_key(ends[1]),
            value(row, "graph"),
        )
        assert quad in ref.quads, f"row states something not stored: {row}"


# -- the oracles: one per question with parameters ----------------------------------------

Oracle = Callable[[hrkg.KnowledgeGraph, Reference, Mapping[str, object], list[Row]], None]


def _filtered(ref: Reference, name: str, rows: list[Row], keep: Callable[[Row], bool]) -> None:
    everything = ref.unfiltered[name]
    widened = multiset(rows) - multiset(everything)
    assert not widened, f"rows the unfiltered {name} never gives (the query changed): {widened}"
    expected = [row for row in everything if keep(row)]
    assert multiset(rows) == multiset(expected), (
        f"{name}: got {len(rows)} rows, the filter in Python keeps {len(expected)}"
    )


def reports_oracle(kg, ref: Reference, params, rows: list[Row]) -> None:
    year = int(plain(params["year"])) if present(params.get("year")) else None
    kind = plain(params["type"]) if present(params.get("type")) else None

    def keep(row: Row) -> bool:
        if year is not None and int(value(row, "date")[:4]) != year:
            return False
        if kind is None:
            return True
        concepts = [
            concept
            for concept in ref.doc_types.get(value(row, "document"), ())
            if value(row, "documentType") in ref.pref_labels_en.get(concept, ())
        ]
        wanted = ("literal", kind, None, XSD_STRING)
        return any(
            wanted in ref.notations.get(ancestor, ())
            for concept in concepts
            for ancestor in ref.ancestors_or_self(concept)
        )

    _filtered(ref, "reports", rows, keep)


def indicators_oracle(kg, ref: Reference, params, rows: list[Row]) -> None:
    wanted = ("literal", plain(params["indicator"]), None, XSD_STRING)

    def keep(row: Row) -> bool:
        return any(
            wanted in ref.notations.get(concept, ())
            for concept in ref.indicator_of.get(value(row, "observation"), ())
        )

    _filtered(ref, "indicators", rows, keep if present(params.get("indicator")) else bool)


def timeline_oracle(kg, ref: Reference, params, rows: list[Row]) -> None:
    start = period(plain(params["from"]))[0] if present(params.get("from")) else None
    end = period(plain(params["to"]))[1] if present(params.get("to")) else None

    def keep(row: Row) -> bool:
        first, last = period(value(row, "date"))
        return (start is None or last >= start) and (end is None or first <= end)

    _filtered(ref, "timeline", rows, keep)


def entity_oracle(kg, ref: Reference, params, rows: list[Row]) -> None:
    if present(params.get("iri")):
        iri = expand(kg, plain(params["iri"]))
        check_entity_rows(ref, rows, {iri})
        # An entity has a label; an IRI without one (dcterms:date) may find nothing.
        assert rows or iri not in ref.labels, f"nothing found about the stored entity {iri}"
        return
    text = plain(params["label"]).lower()
    matching = {
        entity
        for entity, labels in ref.labels.items()
        if any(text in lab.lower() for lab in labels)
    }
    check_entity_rows(ref, rows, matching)
    assert {value(row, "entity") for row in rows} == matching, "not every matching entity"


def sources_of_oracle(kg, ref: Reference, params, rows: list[Row]) -> None:
    iri = expand(kg, plain(params["iri"]))
    subject = ("uri", iri, None, None)
    for row in rows:
        quad = (subject, term_key(row["property"]), term_key(row["value"]), value(row, "document"))
        assert quad in ref.quads, f"row states something not stored about {iri}: {row}"
        assert value(row, "document") in ref.documents, row
        assert value(row, "property") != HR + "quote", row
    in_documents = any(iri in ref.subjects_by_graph.get(doc, ()) for doc in ref.documents)
    assert bool(rows) == in_documents, f"{len(rows)} rows about {iri}"


def search_oracle(kg, ref: Reference, params, rows: list[Row]) -> None:
    """Each entity with a label (any language) containing the text, once, with its least
    English label and its types; those without an English label or a type are left out."""
    text = plain(params["text"]).lower()
    label, rdf_type = ("uri", RDFS_LABEL, None, None), ("uri", RDF_TYPE, None, None)
    english: dict[str, list[str]] = {}
    types: dict[str, set[str]] = {}
    for subject, predicate, obj, _ in ref.quads:
        tag = (obj[2] or "").lower() if obj[0] == "literal" else ""
        if predicate == label and (tag == "en" or tag.startswith("en-")):  # LANGMATCHES
            english.setdefault(subject[1], []).append(obj[1])
        elif predicate == rdf_type:
            types.setdefault(subject[1], set()).add(obj[1])
    expected = {
        (entity, min(english[entity]), tuple(sorted(types[entity])))
        for entity, labels in ref.labels.items()
        if any(text in name.lower() for name in labels) and entity in english and entity in types
    }
    found = [
        (value(row, "entity"), value(row, "label"), tuple(sorted(value(row, "types").split("; "))))
        for row in rows
    ]
    assert len(found) == len(set(found)), "an entity listed twice"
    assert set(found) == expected, f"search {text!r}: {len(found)} rows, expected {len(expected)}"


ORACLES: dict[str, Oracle] = {
    "search": search_oracle,
    "reports": reports_oracle,
    "indicators": indicators_oracle,
    "timeline": timeline_oracle,
    "entity": entity_oracle,
    "sources-of": sources_of_oracle,
}


# -- the values hypothesis draws ----------------------------------------------------------


@dataclass(frozen=True)
class Drawn:
    """A value and whether it is a valid value of its parameter (then it must be accepted)."""

    value: object
    valid: bool = False


def hostile_text(*, surrogates: bool = False) -> st.SearchStrategy[str]:
    pieces = st.one_of(
        st.sampled_from(HOSTILE),
        st.text(max_size=30),
        st.text(alphabet=SYNTAX, max_size=12),
    )
    strategies = [
        pieces,
        st.lists(pieces, min_size=2, max_size=4).map("".join),
        st.integers(MAX_PARAMETER_CHARS - 3, MAX_PARAMETER_CHARS + 3).map(lambda n: "}" * n),
    ]
    if surrogates:
        # What a command-line argument with invalid UTF-8 bytes becomes (surrogateescape).
        strategies.append(st.binary(min_size=1, max_size=12).map(os.fsdecode))
        strategies.append(st.characters(categories=["Cs"]).map(lambda c: "x" + c))
    return st.one_of(*strategies)


def with_hostile_suffix(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda head, tail: head + tail, valid, st.sampled_from(HOSTILE))


def date_texts() -> st.SearchStrategy[str]:
    return st.builds(
        lambda day, precision: day.isoformat()[: (4, 7, 10)[precision]],
        st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
        st.integers(0, 2),
    )


def near_dates() -> st.SearchStrategy[str]:
    """Date-like text that is no date: impossible days, other separators, other digits."""
    return st.one_of(
        st.sampled_from(
            [
                "2013-13",
                "2013-02-30",
                "0000",
                "10000",
                "2013-1-1",
                "2013/01/01",
                "2013-02-01T00:00",
                "2013-02-01Z",
                "-2013",
                "+2013",
                " 2013",
                "2013 ",
                "2013\n",
                "20130",
                "13",
                "٢٠١٣",
                "１９９９",
                "2013-٠٢",
                "२०१३-०२-०१",
                "2013-02-01\x00",
            ]
        ),
        st.from_regex(r"\A[0-9]{1,5}(-[0-9]{1,3}){0,3}\Z"),
    )


def integer_texts() -> st.SearchStrategy[str]:
    """Numbers out of range, and number-like text that is no whole number."""
    return st.one_of(
        st.integers().map(str),
        st.integers(-(10**40), 10**40).map(str),
        st.sampled_from(["0x7dd", "1e3", "2013.0", "2_013", "٢٠١٣", "１９９９", "+2013", " 2013 "]),
        st.builds(
            lambda n, pad: f"{pad}{n}{pad}",
            st.integers(1900, 2100),
            st.sampled_from(" \t\n\x0b\x1c\x1f\x85\xa0\u2028\u3000"),
        ),
    )


def stored_iris(kg: hrkg.KnowledgeGraph, ref: Reference) -> st.SearchStrategy[str]:
    """IRIs the data holds, in full or as prefixed names."""
    stored = sorted(iri for iri in ref.touched if iri.startswith("http"))
    curies = sorted(
        f"{prefix}:{iri[len(ns) :]}"
        for iri in stored
        for prefix, ns in kg.prefixes.items()
        if iri.startswith(ns) and re.fullmatch(r"[A-Za-z0-9._-]+", iri[len(ns) :])
    )
    return st.one_of(st.sampled_from(stored), st.sampled_from(curies))


def iri_texts(kg: hrkg.KnowledgeGraph) -> st.SearchStrategy[str]:
    """IRI-like text: known prefixes with hostile local names, odd schemes, broken IRIs."""
    return st.one_of(
        st.builds(lambda p, t: f"{p}:{t}", st.sampled_from(sorted(kg.prefixes)), hostile_text()),
        hostile_text().map(lambda t: f"https://x.org/{t}"),
        st.sampled_from(
            [
                "persn:amadou-sanogo",
                "javascript:alert(1)",
                "file:///etc/passwd",
                "person:",
                "https://",
                "urn:",
                "https://x.org/a#b?c=d'",
                "https://x.org/é",
                "mailto:a@b",
                "https://x.org/\u202e",
                "https://x.org/a%20b",
                "//x.org/a",
                "http:x",
            ]
        ),
    )


def values_for(
    kg: hrkg.KnowledgeGraph,
    ref: Reference,
    parameter: Parameter,
    *,
    way: str,
    valid_only: bool = False,
) -> st.SearchStrategy[Drawn]:
    """Valid values of the parameter's type, or else those and wrong and hostile values too.

    ``way`` is python, cli or rest: Python takes any object, and the command line may get
    text with lone surrogates (an argument with invalid UTF-8, decoded by surrogateescape).
    """
    valid: list[st.SearchStrategy[str]] = []
    wrong: list[st.SearchStrategy[str]] = []
    if parameter.allowed:
        allowed = st.sampled_from(parameter.allowed)
        valid.append(allowed)
        wrong += [allowed.map(str.upper), with_hostile_suffix(allowed)]
    elif parameter.type == "string":
        labels = sorted({label for labels in ref.labels.values() for label in labels})
        pieces = st.builds(
            lambda label, i, j: label[min(i, j) : max(i, j)],
            st.sampled_from(labels),
            st.integers(0, 60),
            st.integers(0, 60),
        )
        valid += [pieces, pieces.map(str.swapcase), with_hostile_suffix(pieces)]
        valid.append(hostile_text().filter(lambda t: len(t) <= MAX_PARAMETER_CHARS))
    elif parameter.type == "langstring":
        tags = st.sampled_from(["en", "fr", "bm", "fr-ML"])
        text = hostile_text().filter(lambda t: len(t) < MAX_PARAMETER_CHARS - 10)
        valid.append(st.builds(lambda t, tag: f"{t}@{tag}", text, tags))
        wrong.append(hostile_text().map(lambda t: t + "@"))
    elif parameter.type == "date":
        valid += [date_texts(), st.integers(2009, 2021).map(str)]
        wrong.append(near_dates())
    elif parameter.type == "integer":
        low = parameter.minimum if parameter.minimum is not None else -(10**17)
        high = parameter.maximum if parameter.maximum is not None else 10**17
        # The years the data holds, so that accepted values also select some rows.
        valid += [
            st.integers(low, high).map(str),
            st.integers(max(low, 2009), min(high, 2021)).map(str),
        ]
        wrong.append(integer_texts())
    elif parameter.type == "iri":
        valid.append(stored_iris(kg, ref))
        wrong.append(iri_texts(kg))
    good = st.one_of(*valid).map(lambda text: Drawn(text, True))
    if valid_only:
        return good
    wrong += [
        date_texts(),
        near_dates(),
        st.integers(-(10**40), 10**40).map(str),
        hostile_text(surrogates=way in ("python", "cli")),
    ]
    anything = [good, st.one_of(*wrong).map(Drawn)]
    if way == "python":
        anything.append(
            st.one_of(
                st.integers(-(10**30), 10**30),
                st.sampled_from([10**5000, -(10**5000), 2**63, True, False, None, b"2013"]),
                st.floats(allow_nan=True, allow_infinity=True),
                st.decimals(allow_nan=False, allow_infinity=False).map(Decimal),
                st.dates(),
                st.datetimes(),
                st.lists(st.integers(), max_size=2),
                st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
                hostile_text().map(Literal),
            ).map(Drawn)
        )
    return st.one_of(*anything)


CASES = [
    (stored.name, name)
    for stored in Catalog.from_folder(Path(__file__).resolve().parents[1] / "queries")
    for name in stored.parameters
]


@st.composite
def parameter_sets(
    draw, kg: hrkg.KnowledgeGraph, ref: Reference, stored: StoredQuery, focus: str, way: str
) -> tuple[dict[str, object], bool]:
    """The focus parameter (any value) always, the others (valid values) maybe; and whether
    all must be accepted."""
    params: dict[str, object] = {}
    valid = True
    for name, parameter in stored.parameters.items():
        if name != focus and not draw(st.booleans()):
            continue
        # Half the focus parameter's values are valid ones, so that answers get checked too.
        valid_only = name != focus or draw(st.booleans(), label="valid value")
        strategy = values_for(kg, ref, parameter, way=way, valid_only=valid_only)
        drawn = draw(strategy, label=name)
        params[name] = drawn.value
        valid &= drawn.valid
    given_names = {name for name, raw in params.items() if present(raw)}
    valid &= all(p.name in given_names for p in stored.parameters.values() if p.required)
    valid &= not stored.requires_one_of or bool(set(stored.requires_one_of) & given_names)
    return params, valid


# -- outcomes of the three ways in --------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Rows (SPARQL JSON bindings) or a parameter error's text."""

    rows: list[Row] | None = None
    error: str | None = None


def through_python(kg: hrkg.KnowledgeGraph, name: str, params: Mapping[str, object]) -> Outcome:
    stored = kg.catalog.get(name)
    # Keyword-named parameters go in with a trailing underscore, as the API documents.
    keywords = {
        (key + "_" if keyword.iskeyword(key) and key in stored.parameters else key): raw
        for key, raw in params.items()
    }
    try:
        table = kg.query(name, **keywords)
    except ParameterError as error:
        return Outcome(error=error.message)
    return Outcome(rows=rows_of(table))


def through_cli(name: str, params: Mapping[str, str]) -> Outcome:
    args = ["query", "run", name]
    for key, raw in params.items():
        args += ["-p", f"{key}={raw}"]
    result = CliRunner().invoke(app, [*args, "--format", "json"], env={"COLUMNS": "200"})
    record(f"exit {result.exit_code}; stderr {result.stderr!r}")
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"the command line raised {result.exception!r}"
    )
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        return Outcome(rows=json.loads(result.stdout)["results"]["bindings"])
    assert result.exit_code == 2, f"exit code {result.exit_code}: {result.output}"
    assert result.stderr.lower().startswith("error:") and result.stdout == ""
    return Outcome(error=result.stderr)


def through_rest(client: TestClient, name: str, params: Mapping[str, str | bytes]) -> Outcome:
    query = "&".join(f"{quote(key, safe='')}={quote(raw, safe='')}" for key, raw in params.items())
    response = client.get(f"/api/queries/{name}?{query}")
    record(f"HTTP {response.status_code}: {response.text[:300]!r}")
    if response.status_code == 200:
        return Outcome(rows=response.json()["results"]["bindings"])
    assert response.status_code == 400, f"HTTP {response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.strip() and "Traceback" not in response.text
    return Outcome(error=response.text)


def check(
    kg: hrkg.KnowledgeGraph,
    ref: Reference,
    name: str,
    params: Mapping[str, object],
    must_accept: bool,
    outcome: Outcome,
) -> None:
    """Properties 1 and 2 for one answer: accepted as it should be, and not widened."""
    if outcome.error is not None:
        assert not must_accept, f"a valid value was refused: {outcome.error}"
        record("parameter error", kind="event")
        return
    record("answered", kind="event")
    for key, raw in params.items():
        parameter = kg.catalog.get(name).parameters[key]
        text = plain(raw)
        assert not present(raw) or text is not None, f"{key}={raw!r} was accepted"
        assert len(text or "") <= MAX_PARAMETER_CHARS
        if parameter.allowed and present(raw):
            assert text in parameter.allowed, f"{key}={text!r} is not an allowed value"
    ORACLES[name](kg, ref, params, outcome.rows or [])


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ref(kg: hrkg.KnowledgeGraph) -> Reference:
    return Reference.read(kg)


@pytest.fixture(scope="module")
def cli_on_kg(kg: hrkg.KnowledgeGraph) -> Iterator[None]:
    """The command line reads the session's graph, not a fresh load per invocation."""
    with mock.patch("hrkg.cli.open_knowledge_graph", lambda *args, **kwargs: kg):
        yield


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    state = ServerState.open(ServerConfig(timeout=5.0, max_rows=100_000, workers=2))
    with TestClient(create_app(state)) as test_client:
        yield test_client
    state.close()


# -- the tests -------------------------------------------------------------------------------


def test_every_question_with_parameters_has_an_oracle(kg: hrkg.KnowledgeGraph) -> None:
    with_parameters = {stored.name for stored in kg.catalog if stored.parameters}
    assert with_parameters == set(ORACLES), "write an oracle for each question with parameters"
    assert {name for name, _ in CASES} == with_parameters


@pytest.mark.parametrize(("name", "focus"), CASES)
@given(data=st.data())
@examples(1.0)
def test_python_api(kg: hrkg.KnowledgeGraph, ref: Reference, name: str, focus: str, data) -> None:
    stored = kg.catalog.get(name)
    params, must_accept = data.draw(parameter_sets(kg, ref, stored, focus, "python"))
    if _set_aside(kg, name, params):
        return
    outcome = through_python(kg, name, params)
    check(kg, ref, name, params, must_accept, outcome)
    if outcome.rows is not None:
        # The bound values sit in one VALUES row and read back as exactly the same terms.
        bindings = stored.bind(params, kg.settings.base_iri)
        inserted = _values_block(stored, stored.sparql(bindings, kg.settings.base_iri))
        rows = list(Store().query(f"SELECT * WHERE {{ {inserted} }}"))
        assert len(rows) == 1 and all(rows[0][key] == term for key, term in bindings.items())


def _values_block(stored: StoredQuery, text: str) -> str:
    """The text the catalogue put at the query's binding site (everything else unchanged)."""
    if text == stored.text:
        return ""
    site = stored.binding_site
    assert site is not None
    end = len(text) - (len(stored.text) - site.end)
    assert text[: site.start] == stored.text[: site.start], "the text changed before VALUES"
    assert text[end:] == stored.text[site.end :], "the text changed after VALUES"
    return text[site.start : end]


@pytest.mark.parametrize(("name", "focus"), CASES)
@given(data=st.data())
@examples(0.5)
def test_command_line(
    kg: hrkg.KnowledgeGraph, ref: Reference, cli_on_kg: None, name: str, focus: str, data
) -> None:
    stored = kg.catalog.get(name)
    params, must_accept = data.draw(parameter_sets(kg, ref, stored, focus, "cli"))
    if _set_aside(kg, name, params):
        return
    outcome = through_cli(name, params)
    check(kg, ref, name, params, must_accept, outcome)
    direct = through_python(kg, name, params)
    assert (outcome.rows is None) == (direct.rows is None), (outcome, direct)
    assert outcome.rows == direct.rows


@pytest.mark.parametrize(("name", "focus"), CASES)
@given(data=st.data())
@examples(0.5)
def test_rest_api(
    kg: hrkg.KnowledgeGraph, ref: Reference, client: TestClient, name: str, focus: str, data
) -> None:
    stored = kg.catalog.get(name)
    params, must_accept = data.draw(parameter_sets(kg, ref, stored, focus, "rest"))
    raw_bytes = data.draw(st.booleans())
    if raw_bytes:
        # Any bytes, percent-encoded: invalid UTF-8 reaches the server as such.
        sent = {
            key: data.draw(st.binary(max_size=20)) + raw.encode() for key, raw in params.items()
        }
        params = {key: raw.decode("utf-8", errors="replace") for key, raw in sent.items()}
        must_accept = False
    else:
        sent = dict(params)
    if _set_aside(kg, name, params):
        return
    outcome = through_rest(client, name, sent)
    check(kg, ref, name, params, must_accept, outcome)
    direct = through_python(kg, name, params)
    assert (outcome.rows is None) == (direct.rows is None), (outcome, direct)
    assert multiset(outcome.rows or []) == multiset(direct.rows or [])


def unknown_names(stored: StoredQuery) -> st.SearchStrategy[str]:
    """Parameter names the question does not declare, as each way in would read them."""
    return hostile_text().filter(
        lambda name: (
            "=" not in name
            and name.strip()
            and name.strip() not in stored.parameters
            and name.strip().removesuffix("_") not in stored.parameters
            and name != "format"
        )
    )


@given(data=st.data())
@examples(1.0)
def test_undeclared_parameters_are_refused_everywhere(
    kg: hrkg.KnowledgeGraph, cli_on_kg: None, client: TestClient, data
) -> None:
    stored = data.draw(st.sampled_from(list(kg.catalog)), label="question")
    key = data.draw(unknown_names(stored), label="name")
    raw = data.draw(hostile_text(), label="value")
    for outcome in (
        through_python(kg, stored.name, {key: raw}),
        through_cli(stored.name, {key: raw}),
        through_rest(client, stored.name, {key: raw}),
    ):
        assert outcome.error is not None and "unknown parameter" in outcome.error


@pytest.mark.parametrize(
    "bug",
    [
        pytest.param(
            bug,
            id=bug.name,
            marks=() if bug.open is None else pytest.mark.xfail(strict=True, reason=bug.was),
        )
        for bug in FOUND_BUGS
    ],
)
def test_found_bug(kg: hrkg.KnowledgeGraph, ref: Reference, bug: FoundBug) -> None:
    """Each bug found here, reproduced: a fixed one must stay fixed."""
    params = {bug.parameter: bug.value}
    check(kg, ref, bug.query, params, False, through_python(kg, bug.query, params))


def test_undecodable_argument_on_the_command_line(cli_on_kg: None) -> None:
    """``hrkg query run entity -p label=$'\\xff'``: Python decodes the byte to a surrogate."""
    assert through_cli("entity", {"label": os.fsdecode(b"\xff")}).error


def test_the_readme_examples_are_harmless(kg: hrkg.KnowledgeGraph) -> None:
    """The README's own example of a hostile value: a string, matching nothing."""
    outcome = through_python(kg, "entity", {"label": 'x" } UNION { ?s ?p ?o } #'})
    assert outcome.rows == []
    assert through_python(kg, "reports", {"year": "2013 } UNION { ?s ?p ?o }"}).error
    assert through_python(kg, "sources-of", {"iri": "<https://x> } ; DROP ALL #"}).error


@pytest.mark.parametrize(("name", "focus"), CASES)
def test_every_hostile_text_through_every_way_in(
    kg: hrkg.KnowledgeGraph,
    ref: Reference,
    cli_on_kg: None,
    client: TestClient,
    name: str,
    focus: str,
) -> None:
    """The fixed corpus, every time (hypothesis draws from it too, but a handful of examples
    rarely hits a given text): each text alone and after a valid value. Text and IRI
    parameters get the texts that try to break out of a term (numbers add nothing there,
    and a label search costs a scan of every label); a free-text search is not given the
    valid prefix, which would only search for a longer text."""
    parameter = kg.catalog.get(name).parameters[focus]
    valid = parameter.allowed[0] if parameter.allowed else EXAMPLE_VALUES[parameter.type]
    free_text = parameter.type == "string" and not parameter.allowed
    textual = parameter.type in ("string", "langstring", "iri")
    for text in BREAKOUT if textual else HOSTILE:
        for raw in (text,) if free_text else (text, valid + text):
            params = {focus: raw}
            if _set_aside(kg, name, params):
                continue
            direct = through_python(kg, name, params)
            check(kg, ref, name, params, False, direct)
            for outcome in (through_cli(name, params), through_rest(client, name, params)):
                check(kg, ref, name, params, False, outcome)
                assert multiset(outcome.rows or []) == multiset(direct.rows or [])
                assert (outcome.error is None) == (direct.error is None), (raw, outcome, direct)
