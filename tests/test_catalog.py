"""The query catalogue: headers fail loudly, parameters are typed and bound as RDF terms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode

import hrkg
from hrkg.catalog import Catalog, Parameter, load_query
from hrkg.errors import ParameterError, QueryDefinitionError, UnknownQueryError
from hrkg.settings import DEFAULT_BASE_IRI as BASE

BAD_QUERIES = sorted((Path(__file__).parent / "bad_queries").glob("*.rq"))
XSD = "http://www.w3.org/2001/XMLSchema#"
INJECTION = 'x" } UNION { ?s ?p ?o } #'


@pytest.mark.parametrize("path", BAD_QUERIES, ids=lambda path: path.stem)
def test_malformed_query_file_fails_loudly(path: Path) -> None:
    """Each fixture names the error it must raise in an ``# expect-error:`` line."""
    expected = re.search(r"^# expect-error: (.+)$", path.read_text(encoding="utf-8"), re.M)
    assert expected, f"{path.name} lacks an '# expect-error:' line"
    with pytest.raises(QueryDefinitionError) as raised:
        load_query(path, path.stem)
    assert expected.group(1) in raised.value.message
    assert str(path) in raised.value.message, "the error must name the file"


def test_every_stored_query_has_a_documented_header(kg: hrkg.KnowledgeGraph) -> None:
    for stored in kg.catalog:
        assert stored.summary and stored.description, stored.name
        for parameter in stored.parameters.values():
            assert parameter.description, f"{stored.name}: {parameter.name}"


def test_the_catalogue_holds_the_named_questions(kg: hrkg.KnowledgeGraph) -> None:
    required = {
        "summary", "cases", "impunity", "people-charged", "timeline", "reports", "indicators",
        "office-holders", "killings", "concerns", "entity", "sources-of", "changelog",
    }  # fmt: skip
    assert required <= {stored.name for stored in kg.catalog.questions}


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("iri", "https://w3id.org/hrkg/id/person/amadou-sanogo", NamedNode("https://w3id.org/hrkg/id/person/amadou-sanogo")),
        ("iri", "person:amadou-sanogo", NamedNode("https://w3id.org/hrkg/id/person/amadou-sanogo")),
        ("string", INJECTION, Literal(INJECTION)),
        ("langstring", "Tombouctou@fr", Literal("Tombouctou", language="fr")),
        ("date", "2012", Literal("2012", datatype=NamedNode(XSD + "gYear"))),
        ("date", "2012-04", Literal("2012-04", datatype=NamedNode(XSD + "gYearMonth"))),
        ("date", "2013-02-01", Literal("2013-02-01", datatype=NamedNode(XSD + "date"))),
        ("integer", "2013", Literal("2013", datatype=NamedNode(XSD + "integer"))),
        ("integer", 28, Literal("28", datatype=NamedNode(XSD + "integer"))),
    ],
)  # fmt: skip
def test_parameter_values_become_typed_terms(kind: str, raw: object, expected: object) -> None:
    assert Parameter("p", kind, "a test parameter").to_term(raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        ("iri", "not an iri", "not an absolute IRI"),
        ("iri", "<https://x.org/a> } UNION {", "not an absolute IRI"),
        ("iri", "persn:amadou-sanogo", "unknown prefix 'persn'"),
        ("date", "2013-13-45", "not a date"),
        ("date", "twenty", "not a date"),
        ("date", "2013-02-30", "not a date"),
        ("integer", "twenty", "not a whole number"),
        ("integer", "1e3", "not a whole number"),
        ("integer", True, "a integer value is needed"),
        ("langstring", "no tag here", "no language tag"),
        ("string", "x" * 1001, "longer than the limit"),
    ],
)
def test_bad_parameter_values_get_a_clear_error(kind: str, raw: object, message: str) -> None:
    with pytest.raises(ParameterError) as raised:
        Parameter("p", kind, "a test parameter").to_term(raw)
    assert message in raised.value.message
    assert "parameter 'p'" in raised.value.message


def test_allowed_values_are_enforced(kg: hrkg.KnowledgeGraph) -> None:
    with pytest.raises(ParameterError, match="not one of the allowed values"):
        kg.query("reports", type=INJECTION)


def test_integer_range_is_enforced(kg: hrkg.KnowledgeGraph) -> None:
    with pytest.raises(ParameterError, match="smaller than the minimum 1900"):
        kg.query("reports", year=13)


def test_undeclared_parameter_is_refused(kg: hrkg.KnowledgeGraph) -> None:
    with pytest.raises(ParameterError, match="unknown parameter 'yaer'") as raised:
        kg.query("reports", yaer=2013)
    assert "year, type" in raised.value.message


def test_required_parameter_is_enforced(kg: hrkg.KnowledgeGraph) -> None:
    with pytest.raises(ParameterError, match="a value is required"):
        kg.query("sources-of")


def test_one_of_several_parameters_is_enforced(kg: hrkg.KnowledgeGraph) -> None:
    with pytest.raises(ParameterError, match="one of iri, label is required"):
        kg.query("entity")


def test_unknown_query_suggests_names(kg: hrkg.KnowledgeGraph) -> None:
    with pytest.raises(UnknownQueryError, match="did you mean cases"):
        kg.query("case")


def test_injection_in_a_string_parameter_returns_no_extra_rows(kg: hrkg.KnowledgeGraph) -> None:
    """The classic break-out string is matched as text: no label contains it, so no rows."""
    assert len(kg.query("entity", label=INJECTION)) == 0
    assert len(kg.query("entity", label="Sanogo")) > 0, "the same query does answer a real label"


def test_injection_in_an_iri_parameter_is_refused(kg: hrkg.KnowledgeGraph) -> None:
    with pytest.raises(ParameterError):
        kg.query("sources-of", iri="https://x.org/a> ?p ?o } UNION { ?s ?p ?o } #")


def test_bound_values_never_reach_the_text_unescaped(kg: hrkg.KnowledgeGraph) -> None:
    """The VALUES block holds the term's N-Triples form: the quote is escaped."""
    stored = kg.catalog.get("entity")
    text = stored.sparql(stored.bind({"label": INJECTION}))
    assert 'VALUES (?iri ?label) { (UNDEF "x\\" } UNION { ?s ?p ?o } #") }' in text


def test_a_query_names_where_its_parameters_are_bound(kg: hrkg.KnowledgeGraph) -> None:
    """``entity`` carries its own all-UNDEF block: the values go there, nowhere else."""
    stored = kg.catalog.get("entity")
    assert "VALUES (?iri ?label) { (UNDEF UNDEF) }" in stored.text
    text = stored.sparql(stored.bind({"iri": "person:amadou-sanogo"}))
    block = f"VALUES (?iri ?label) {{ (<{BASE}id/person/amadou-sanogo> UNDEF) }}"
    assert text.count("VALUES (?iri ?label)") == 1 and block in text
    assert text.index(block) > text.index("SELECT DISTINCT ?entity ?iri ?label"), "in the subquery"
    table = kg.query("entity", label="sanogo")
    assert {str(row[0]) for row in table.rows} == {f"<{BASE}id/person/amadou-sanogo>"}


def test_the_block_takes_the_values_in_its_own_order(tmp_path: Path) -> None:
    path = tmp_path / "ordered.rq"
    path.write_text(
        "#+ summary: s\n#+ description: d\n#+ parameters:\n"
        "#+   a: {type: integer, description: a}\n#+   b: {type: integer, description: b}\n"
        "SELECT ?a ?b WHERE { { SELECT ?a ?b WHERE { VALUES (?b ?a) { (UNDEF UNDEF) } } } }\n",
        encoding="utf-8",
    )
    stored = load_query(path, "ordered")
    text = stored.sparql(stored.bind({"a": "1", "b": "2"}))
    assert 'VALUES (?b ?a) { ("2"^^' in text and "UNDEF" not in text


def test_parameters_are_left_out_of_the_answer(kg: hrkg.KnowledgeGraph) -> None:
    table = kg.query("timeline", from_="2012", to="2013")
    assert "from" not in table.variables and "to" not in table.variables


def test_the_catalogue_can_be_read_from_another_folder(tmp_path: Path) -> None:
    (tmp_path / "mine.rq").write_text(
        "#+ summary: s\n#+ description: d\nSELECT ?s WHERE { ?s ?p ?o }\n", encoding="utf-8"
    )
    assert [stored.name for stored in Catalog.from_folder(tmp_path)] == ["mine"]
